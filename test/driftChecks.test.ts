/**
 * Drift, as tables: the lines the check's report parser refuses and
 * accepts, the pinned host key and address of the SSH client, and
 * NodeState's check, diff and registration.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { parseCheckReport } from "../providers/driftReport";
import { nodeStateProvider } from "../providers/nodeState";
import { addressOf, hostKeyAlgorithms, parseHostKey } from "../providers/ssh";
import { UNKNOWN } from "../providers/unknown";

const CHECKED = 'HW_CHECKED {"kubelet":"t1"}';
const refused = (line: string) => `unexpected line in the drift check's report: ${JSON.stringify(line.slice(0, 200))}`;

describe("drift: what the report parser accepts and refuses", () => {
    it("accepts each kind of path and unit drift", () => {
        const lines = [
            ...["content", "mode", "owner", "missing"].map((d) => ({ phase: "kubelet", path: "/etc/a", drift: d })),
            ...["inactive", "failed", "disabled"].map((d) => ({ phase: "kubelet", unit: "kubelet.service", drift: d })),
        ];
        const r = parseCheckReport([...lines.map((l) => `HW_DRIFT ${JSON.stringify(l)}`), CHECKED].join("\n"));
        assert.deepEqual(r, { items: lines, runs: { kubelet: "t1" } });
    });

    it("refuses, quoting the line (its first 200 characters), anything else", () => {
        const long = `HW_DRIFT {"phase":"kubelet","path":"/${"x".repeat(300)}","drift":"inactive"}`;
        const table = [
            'HW_DRIFT {"phase":"kubelet","path":"/etc/a","drift":"inactive"}',
            'HW_DRIFT {"phase":"kubelet","unit":"kubelet.service","drift":"content"}',
            'HW_DRIFT {"phase":"kubelet","path":"/etc/a","unit":"kubelet.service","drift":"content"}',
            'HW_DRIFT {"phase":"kubelet","unit":"kubelet.service","path":"/etc/a","drift":"inactive"}',
            'HW_DRIFT {"phase":1,"path":"/etc/a","drift":"content"}',
            'HW_DRIFT {"path":"/etc/a","drift":"content"}',
            'HW_DRIFT {"phase":"kubelet","path":1,"drift":"content"}',
            'HW_DRIFT {"phase":"kubelet","unit":1,"drift":"failed"}',
            'HW_DRIFT {"phase":"kubelet","path":"/etc/a","drift":""}',
            'x HW_DRIFT {"phase":"kubelet","path":"/etc/a","drift":"content"}',
            'HW_DRIFT {"phase":"kubelet","path":"/etc/a","drift":"content"} x',
            "HW_DRIFT",
            long,
        ];
        for (const line of table) {
            assert.throws(() => parseCheckReport(`${line}\n${CHECKED}\n`), { message: refused(line) }, line);
        }
    });
});

describe("drift: the SSH client's pinned host key and address", () => {
    it("offers the pinned key's own algorithm, and for RSA its SHA-2 signatures first", () => {
        const table: [string, string[]][] = [
            ["ssh-rsa", ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]],
            ["ssh-ed25519", ["ssh-ed25519"]],
            ["ecdsa-sha2-nistp256", ["ecdsa-sha2-nistp256"]],
        ];
        for (const [type, want] of table) {
            assert.deepEqual(hostKeyAlgorithms(type), want, type);
        }
    });

    it("reads `<type> <base64> [comment]` with any whitespace, and refuses anything else, quoting its first 40 characters", () => {
        const ok: [string, string, string][] = [
            ["ssh-ed25519 AAAAC3Nz", "ssh-ed25519", "AAAAC3Nz"],
            ["  ssh-ed25519\tAAAA+/8=  root@node ", "ssh-ed25519", "AAAA+/8="],
            ["ssh-rsa AAAAB3NzaC1yc2E= a comment with spaces", "ssh-rsa", "AAAAB3NzaC1yc2E="],
        ];
        for (const [line, type, b64] of ok) {
            assert.deepEqual(parseHostKey(line), { type, blob: Buffer.from(b64, "base64") }, line);
        }
        const bad = ["", "ssh-ed25519", "ssh-ed25519 AAAA*", "ssh-ed25519 AAAA=x", "ssh-ed25519 -AAAA", `ssh-ed25519 ${"A".repeat(60)}!`];
        for (const line of bad) {
            assert.throws(() => parseHostKey(line), { message: `the pinned host key is not "<type> <base64>": ${JSON.stringify(line.slice(0, 40))}` }, line);
        }
    });

    it("names a node's address as user@host:port, root and 22 by default", () => {
        assert.equal(addressOf({ host: "10.0.0.5", privateKey: "k" }), "root@10.0.0.5:22");
        assert.equal(addressOf({ host: "node.example", port: 2222, user: "admin", privateKey: "k" }), "admin@node.example:2222");
    });
});

describe("drift: NodeState's check, diff and registration", () => {
    const news = (extra: Record<string, unknown> = {}) => ({
        connection: { host: "10.0.0.5", port: 22, user: "root", privateKey: "key" },
        nodeName: "worker1",
        owner: "worker1",
        phases: ["system", "kubelet"],
        version: "1",
        ...extra,
    });

    it("check names each missing or empty connection field and the owner; an unknown value is checked later", async () => {
        const table: [Record<string, unknown>, { property: string; reason: string }[]][] = [
            [{}, []],
            [{ connection: { port: 22, privateKey: "key" } }, [{ property: "connection.host", reason: "connection.host is required" }]],
            [{ connection: { host: "", privateKey: "key" } }, [{ property: "connection.host", reason: "connection.host is required" }]],
            [{ connection: { host: "h", privateKey: "" } }, [{ property: "connection.privateKey", reason: "connection.privateKey is required" }]],
            [{ connection: { host: 7, privateKey: "key" } }, [{ property: "connection.host", reason: "connection.host is required" }]],
            [
                { connection: {} },
                [
                    { property: "connection.host", reason: "connection.host is required" },
                    { property: "connection.privateKey", reason: "connection.privateKey is required" },
                ],
            ],
            [{ connection: { host: UNKNOWN, privateKey: UNKNOWN } }, []],
            [{ owner: "" }, [{ property: "owner", reason: "owner is required" }]],
            [{ owner: undefined }, [{ property: "owner", reason: "owner is required" }]],
            [{ owner: UNKNOWN }, []],
        ];
        for (const [change, failures] of table) {
            const r = await nodeStateProvider.check!(undefined as any, news(change));
            assert.deepEqual(r.failures, failures, JSON.stringify(change));
            assert.deepEqual(r.inputs, { ...news(change), drift: {} }, "a new NodeState starts with no drift");
        }
    });

    it("diff: a new address, key, name, owner, version or phase list is a change; the drift alone is not", async () => {
        const olds = { ...news(), drift: { kubelet: "run t1: /a: mode" } } as any;
        const table: [Record<string, unknown>, boolean][] = [
            [{}, false],
            [{ drift: {} }, false],
            [{ connection: { ...olds.connection, host: "10.0.0.6" } }, true],
            [{ connection: { ...olds.connection, port: 2222 } }, true],
            [{ connection: { ...olds.connection, privateKey: "key2" } }, true],
            [{ connection: { ...olds.connection, hostKey: "ssh-ed25519 AAAA" } }, true],
            [{ nodeName: "worker3" }, true],
            [{ owner: "worker3" }, true],
            [{ version: "2" }, true],
            [{ phases: ["system"] }, true],
            [{ phases: ["kubelet", "system"] }, true],
        ];
        for (const [change, changes] of table) {
            assert.deepEqual(await nodeStateProvider.diff!("worker1", olds, { ...olds, ...change }), { changes, replaces: [], deleteBeforeReplace: false }, JSON.stringify(change));
        }
    });

    it("is registered with its connection (the SSH key) as a secret output", () => {
        pulumi.runtime.setMocks({ newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs }, "p", "s", false);
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const { NodeState, NODE_STATE_VERSION } = require("../providers/nodeState") as typeof import("../providers/nodeState");
        const seen: [string, unknown, string[] | undefined][] = [];
        new NodeState(
            "w1-state",
            { connection: { host: "h", privateKey: "k" }, nodeName: "w1", owner: "w1", phases: ["system"] },
            {
                transformations: [
                    (a) => {
                        seen.push([a.type, a.props.version, (a.opts as pulumi.CustomResourceOptions).additionalSecretOutputs]);
                        return undefined;
                    },
                ],
            },
        );
        assert.equal(NODE_STATE_VERSION, "1");
        assert.deepEqual(seen, [["pulumi-nodejs:dynamic/hardway:NodeState", "1", ["connection"]]]);
    });
});
