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

async function runFloor(shape: string, nodes: number): Promise<ProgramMocks> {
    const mocks = new ProgramMocks(testCa());
    startMocks(mocks, "hardway-bench-floor");
    pulumi.runtime.setAllConfig(
        {
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
        assert.equal(floor.registrations.filter((r) => r.type !== "pulumi:pulumi:Stack").length, 54);
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
});
