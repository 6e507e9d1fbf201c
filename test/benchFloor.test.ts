/**
 * The bench's floor (bench/floor) stands for the program in the figures set
 * beside it: per node, the same resources by type and by their parent's
 * type ("program"), or the fewest the design allows ("minimum").
 */
import { strict as assert } from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ProgramMocks, Registration } from "./support/mocks";
import { GUIDE_NODES, registrationsDone, runProgram, startMocks, testCa, withAccess } from "./support/program";

const FLOOR = path.resolve(__dirname, "../bench/floor/index.js");

async function runFloor(shape: string, nodes: number, extra: Record<string, string> = {}): Promise<ProgramMocks> {
    const mocks = new ProgramMocks(testCa());
    startMocks(mocks, "hardway-bench-floor");
    pulumi.runtime.setAllConfig(
        {
            ...extra,
            "hardway-bench-floor:nodes": String(nodes),
            "hardway-bench-floor:shape": shape,
            "hardway-bench-floor:caCertPem": testCa().certPem,
            "hardway-bench-floor:caKeyPem": testCa().keyPem,
        },
        ["hardway-bench-floor:caKeyPem"],
    );
    delete require.cache[FLOOR];
    // The floor turns stack traces off, as the program does; the tests keep theirs.
    const stackTraceLimit = Error.stackTraceLimit;
    try {
        require(FLOOR);
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
    }
    await registrationsDone();
    return mocks;
}

/** One node's resources, counted by `type < parent's type` ("stack": at the root). */
function shapeOf(mocks: ProgramMocks, node: string): Record<string, number> {
    const typeOf = new Map(mocks.registrations.map((r) => [r.urn, r.type]));
    const mine = mocks.registrations.filter((r: Registration) => r.name === node || r.name.startsWith(`${node}-`));
    const counts: Record<string, number> = {};
    for (const r of mine) {
        const key = `${r.type} < ${typeOf.get(r.parent) ?? "stack"}`;
        counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
}

/** The resources that belong to no node (the stack's own), counted as shapeOf counts them. */
function stackShapeOf(mocks: ProgramMocks, nodes: string[]): Record<string, number> {
    const typeOf = new Map(mocks.registrations.map((r) => [r.urn, r.type]));
    const counts: Record<string, number> = {};
    for (const r of mocks.registrations) {
        if (r.type === "pulumi:pulumi:Stack" || nodes.some((n) => r.name === n || r.name.startsWith(`${n}-`))) {
            continue;
        }
        const key = `${r.type} < ${typeOf.get(r.parent) ?? "stack"}`;
        counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

describe("bench floor (bench/floor)", () => {
    it("shape program: each node has the program's resources (with API credentials), by type and parent type", async () => {
        const program = await runProgram(withAccess());
        const want = shapeOf(program.mocks, GUIDE_NODES[2].name);
        assert.equal(total(want), 27);
        const floor = await runFloor("program", 2);
        for (const node of ["node0000", "node0001"]) {
            assert.deepEqual(shapeOf(floor, node), want, node);
        }
        assert.equal(floor.registrations.filter((r) => r.type !== "pulumi:pulumi:Stack").length, 58);
    });

    it("shape program: the stack's own resources are the program's (the bootstrap token, its @pulumi/random pair, its registration)", async () => {
        const program = await runProgram(withAccess());
        const want = stackShapeOf(
            program.mocks,
            GUIDE_NODES.map((n) => n.name),
        );
        assert.deepEqual(want, {
            "hardway:cluster:BootstrapToken < stack": 1,
            "random:index/randomString:RandomString < hardway:cluster:BootstrapToken": 1,
            "random:index/randomPassword:RandomPassword < hardway:cluster:BootstrapToken": 1,
            "pulumi-nodejs:dynamic/hardway:TokenRegistration < hardway:cluster:BootstrapToken": 1,
        });
        const floor = await runFloor("program", 2);
        assert.deepEqual(stackShapeOf(floor, ["node0000", "node0001"]), want);
    });

    it("commands local: the same resources, with local commands in place of remote ones", async () => {
        const remote = await runFloor("program", 1);
        const local = await runFloor("program", 1, { "hardway-bench-floor:commands": "local" });
        const swap = (counts: Record<string, number>) =>
            Object.fromEntries(Object.entries(counts).map(([k, v]) => [k.replace("command:remote:Command", "command:local:Command"), v]));
        assert.deepEqual(shapeOf(local, "node0000"), swap(shapeOf(remote, "node0000")));
        assert.equal(shapeOf(local, "node0000")["command:local:Command < hardway:node:WorkerNode"], 1);
        const commands = local.resources.filter((r) => r.type === "command:local:Command");
        assert.equal(commands.length, 7);
        for (const r of commands) {
            assert.equal(r.inputs.create, "true", r.name);
            assert.equal(r.inputs.connection, undefined, r.name);
        }
    });

    it("shape minimum: the four components the design names, two certificates through @pulumi/tls, one command", async () => {
        const floor = await runFloor("minimum", 1);
        const tls = (kind: string, parent: string) => [`tls:index/${kind} < hardway:node:${parent}`, 1];
        assert.deepEqual(
            shapeOf(floor, "node0000"),
            Object.fromEntries([
                ["hardway:node:WorkerNode < stack", 1],
                ["hardway:node:ContainerdRuntime < hardway:node:WorkerNode", 1],
                ["hardway:node:KubeletService < hardway:node:WorkerNode", 1],
                ["hardway:node:KubeProxyService < hardway:node:WorkerNode", 1],
                ...["KubeletService", "KubeProxyService"].flatMap((p) => [tls("privateKey:PrivateKey", p), tls("certRequest:CertRequest", p), tls("locallySignedCert:LocallySignedCert", p)]),
                ["command:remote:Command < hardway:node:WorkerNode", 1],
            ]),
        );
    });

    it("refuses an unknown shape, naming the key", async () => {
        await assert.rejects(runFloor("tiny", 1), { message: "hardway-bench-floor:shape: must be program or minimum, got tiny" });
    });

    it("refuses an unknown kind of command, naming the key", async () => {
        await assert.rejects(runFloor("program", 1, { "hardway-bench-floor:commands": "ssh" }), {
            message: "hardway-bench-floor:commands: must be remote or local, got ssh",
        });
    });
});
