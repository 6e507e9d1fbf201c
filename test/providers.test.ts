/**
 * The API-facing dynamic providers: their pure parts as tables, and their
 * calls against a scripted API server over real TLS with client certificates
 * (the e2e suite runs them against the lab's real kube-apiserver).
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as net from "net";
import * as crypto from "crypto";
import * as path from "path";
import { engineAddressOf } from "../providers/engineWatch";
import { ApiAccess, objectPath } from "../providers/kubeApi";
import { evictablePods, nodeLifecycleProvider, readyCondition, removeNode, waitForReady } from "../providers/nodeLifecycle";
import { registrationObjects, tokenRegistrationProvider } from "../providers/tokenRegistration";
import { fakeApi } from "./support/fakeApi";

const TOKEN = "abcdef.0123456789abcdef";

const readyNode = (status: string) => ({ metadata: { name: "worker1", uid: "u-1" }, status: { conditions: [{ type: "Ready", status, reason: "KubeletNotReady", message: "network not ready" }], nodeInfo: { kubeletVersion: "v1.34.4" } } });

describe("providers: Kubernetes API paths and objects", () => {
    for (const [obj, path] of [
        [{ apiVersion: "v1", kind: "Secret", metadata: { name: "bootstrap-token-abcdef", namespace: "kube-system" } }, "/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef"],
        [{ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "hardway-kubelet-bootstrap" } }, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/hardway-kubelet-bootstrap"],
        [{ apiVersion: "v1", kind: "Node", metadata: { name: "worker1" } }, "/api/v1/nodes/worker1"],
    ] as const) {
        it(`${obj.kind} ${obj.metadata.name} -> ${path}`, () => assert.equal(objectPath(obj), path));
    }

    it("refuses a kind it has no REST path for", () => {
        assert.throws(() => objectPath({ apiVersion: "v1", kind: "Gateway", metadata: { name: "x" } }), { message: "no REST path known for kind Gateway" });
    });

    it("registration objects: the token Secret with base64 data (no stringData), then the stack's three bindings", () => {
        const objs = registrationObjects({ access: {} as ApiAccess, token: TOKEN, owner: "hardway-workers/prod", expiration: "2030-01-01T00:00:00Z", version: "1" });
        const suffix = crypto.createHash("sha256").update("hardway-workers/prod").digest("hex").slice(0, 10);
        assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`), [
            "Secret/bootstrap-token-abcdef",
            `ClusterRoleBinding/hardway-kubelet-bootstrap-${suffix}`,
            `ClusterRoleBinding/hardway-node-autoapprove-bootstrap-${suffix}`,
            `ClusterRoleBinding/hardway-node-autoapprove-certificate-rotation-${suffix}`,
        ]);
        for (const b of objs.slice(1)) {
            assert.deepEqual(b.metadata.labels, { "app.kubernetes.io/managed-by": "hardway-workers" });
            assert.deepEqual(b.metadata.annotations, { "hardway-workers/stack": "hardway-workers/prod" });
        }
        // A registration written before the bindings were per stack (version 3) names the shared ones.
        assert.deepEqual(registrationObjects({ access: {} as ApiAccess, token: TOKEN, version: "3" }).slice(1).map((o) => [o.metadata.name, o.metadata.labels]), [
            ["hardway-kubelet-bootstrap", undefined],
            ["hardway-node-autoapprove-bootstrap", undefined],
            ["hardway-node-autoapprove-certificate-rotation", undefined],
        ]);
        const data = objs[0].data;
        assert.equal(objs[0].stringData, undefined);
        assert.equal(Buffer.from(data["token-id"], "base64").toString(), "abcdef");
        assert.equal(Buffer.from(data["token-secret"], "base64").toString(), "0123456789abcdef");
        assert.equal(Buffer.from(data.expiration, "base64").toString(), "2030-01-01T00:00:00Z");
        assert.throws(() => registrationObjects({ access: {} as ApiAccess, token: "nope", version: "1" }), { message: "token is not of the form <6 chars>.<16 chars> of [a-z0-9]" });
    });
});

describe("providers: token registration", () => {
    const access: ApiAccess = { server: "https://api:6443", caPem: "ca", certPem: "cert", keyPem: "key" };
    const owner = "hardway-workers/prod";
    const olds = { access, token: TOKEN, owner, version: "1", tokenId: "abcdef", objects: [] as string[] };

    for (const [what, news, changes] of [
        ["nothing changed", { access, token: TOKEN, owner, version: "1" }, false],
        ["a new token", { access, token: "zzzzzz.0123456789abcdef", owner, version: "1" }, true],
        ["a new expiry", { access, token: TOKEN, owner, expiration: "2030-01-01T00:00:00Z", version: "1" }, true],
        ["new credentials", { access: { ...access, keyPem: "other" }, token: TOKEN, owner, version: "1" }, true],
    ] as const) {
        it(`diff: ${what} -> ${changes ? "update" : "no change"}, never a replacement`, async () => {
            const d = await tokenRegistrationProvider.diff!("id", olds, news);
            assert.equal(d.changes, changes);
            assert.deepEqual(d.replaces, []);
        });
    }

    it("check names each missing field", async () => {
        const r = await tokenRegistrationProvider.check!({}, { token: "bad", access: { server: "https://x" } });
        assert.deepEqual(r.failures!.map((f) => f.property).sort(), ["access.caPem", "access.certPem", "access.keyPem", "owner", "token"]);
    });

    it("create applies every object server-side as the program's field manager; update of the token id deletes the old Secret; delete removes all", async () => {
        const api = await fakeApi((s) => ({ status: s.method === "DELETE" && s.path.includes("gone") ? 404 : 200 }));
        try {
            const created = await tokenRegistrationProvider.create({ access: api.access, token: TOKEN, owner, version: "1" });
            assert.equal(created.id, "bootstrap-token-abcdef");
            assert.ok(api.seen.every((s) => s.method === "PATCH" && s.contentType === "application/apply-patch+yaml" && /fieldManager=hardway-workers&force=true$/.test(s.path)));
            assert.equal(api.seen.length, 4);
            assert.equal(api.seen[0].clientCn, "admin", "authenticated with the client certificate");
            api.seen.length = 0;
            await tokenRegistrationProvider.update!(created.id, created.outs, { access: api.access, token: "ghijkl.0123456789abcdef", owner, version: "1" });
            assert.deepEqual(api.seen.map((s) => `${s.method} ${s.path.split("?")[0]}`).slice(-1), ["DELETE /api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef"]);
            api.seen.length = 0;
            await tokenRegistrationProvider.delete!(created.id, created.outs);
            assert.deepEqual(api.seen.map((s) => s.method), ["DELETE", "DELETE", "DELETE", "DELETE"]);
        } finally {
            await api.close();
        }
    });

    it("create fails with the server's reason", async () => {
        const api = await fakeApi(() => ({ status: 403, body: { message: 'secrets "x" is forbidden: User "bob" cannot patch' } }));
        try {
            await assert.rejects(tokenRegistrationProvider.create({ access: api.access, token: TOKEN, owner, version: "1" }), {
                message: 'PATCH /api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef?fieldManager=hardway-workers&force=true: HTTP 403: secrets "x" is forbidden: User "bob" cannot patch',
            });
        } finally {
            await api.close();
        }
    });
});

describe("providers: node lifecycle", () => {
    it("readyCondition finds the Ready condition, or nothing", () => {
        assert.equal(readyCondition(readyNode("True"))!.status, "True");
        assert.equal(readyCondition({ status: {} }), undefined);
    });

    const pod = (name: string, extra: any = {}) => ({ metadata: { name, namespace: "default", ...extra } });
    for (const [what, p, evicted] of [
        ["a plain pod", pod("web"), true],
        ["a terminating pod (waited for)", pod("old", { deletionTimestamp: "2026-01-01T00:00:00Z" }), true],
        ["a mirror pod", pod("static", { annotations: { "kubernetes.io/config.mirror": "abc" } }), false],
        ["a DaemonSet pod", pod("ds", { ownerReferences: [{ kind: "DaemonSet", controller: true }] }), false],
        ["a ReplicaSet pod", pod("rs", { ownerReferences: [{ kind: "ReplicaSet", controller: true }] }), true],
    ] as const) {
        it(`drain ${evicted ? "evicts" : "leaves"} ${what}`, () => assert.equal(evictablePods([p]).length, evicted ? 1 : 0));
    }

    it("diff: a new node name replaces; a new rollout updates (waits again); nothing changed is no change", async () => {
        const base = { access: { server: "s", caPem: "c", certPem: "c", keyPem: "k" }, nodeName: "worker1", readyTimeoutSeconds: 300, drainTimeoutSeconds: 120, rollout: "a", version: "1" };
        const olds = { ...base, uid: "u", kubeletVersion: "v1.34.4" };
        assert.deepEqual(await nodeLifecycleProvider.diff!("worker1", olds, base), { changes: false, replaces: [], deleteBeforeReplace: false });
        assert.deepEqual((await nodeLifecycleProvider.diff!("worker1", olds, { ...base, rollout: "b" })).changes, true);
        assert.deepEqual((await nodeLifecycleProvider.diff!("worker1", olds, { ...base, nodeName: "worker9" })).replaces, ["nodeName"]);
    });

    it("check: timeouts must be positive integers", async () => {
        const r = await nodeLifecycleProvider.check!({}, { nodeName: "w", readyTimeoutSeconds: 0, drainTimeoutSeconds: 1.5 });
        assert.deepEqual(r.failures!.map((f) => f.property), ["readyTimeoutSeconds", "drainTimeoutSeconds"]);
    });

    it("waits through not-registered and NotReady until Ready", async () => {
        const answers = [{ status: 404 }, { status: 200, body: readyNode("False") }, { status: 200, body: readyNode("True") }];
        const api = await fakeApi(() => answers.shift() ?? { status: 500 });
        try {
            const node = await waitForReady(api.access, "worker1", 10, 10);
            assert.equal(node.metadata.uid, "u-1");
            assert.equal(api.seen.length, 3);
        } finally {
            await api.close();
        }
    });

    it("gives up after the timeout, naming the node and its last state", async () => {
        const api = await fakeApi(() => ({ status: 200, body: readyNode("False") }));
        try {
            await assert.rejects(waitForReady(api.access, "worker1", 1, 100), { message: "node worker1 did not become Ready within 1s: Ready=False (KubeletNotReady: network not ready)" });
        } finally {
            await api.close();
        }
    });

    it("removal: cordons, evicts (retrying a refused eviction), waits for the pod to go, deletes the Node", async () => {
        let evictions = 0;
        let podGone = false;
        const api = await fakeApi((s) => {
            if (s.method === "GET") {
                return { status: 200, body: { items: podGone ? [] : [pod("web")] } };
            }
            if (s.path.endsWith("/eviction")) {
                evictions++;
                if (evictions === 1) {
                    return { status: 429, body: { message: "Cannot evict pod as it would violate the pod's disruption budget." } };
                }
                podGone = true;
                return { status: 201 };
            }
            return { status: 200 };
        });
        try {
            await removeNode(api.access, "worker1", 10, 10);
            const calls = api.seen.map((s) => `${s.method} ${decodeURIComponent(s.path)}`);
            assert.equal(calls[0], "PATCH /api/v1/nodes/worker1");
            assert.deepEqual(api.seen[0].body, { spec: { unschedulable: true } });
            assert.equal(evictions, 2);
            assert.equal(calls[calls.length - 1], "DELETE /api/v1/nodes/worker1");
            assert.ok(calls.includes("GET /api/v1/pods?fieldSelector=spec.nodeName=worker1"));
        } finally {
            await api.close();
        }
    });

    it("removal fails after the drain timeout, naming the pods left", async () => {
        const api = await fakeApi((s) =>
            s.method === "GET" ? { status: 200, body: { items: [pod("db")] } } : s.path.endsWith("/eviction") ? { status: 429, body: { message: "budget" } } : { status: 200 },
        );
        try {
            await assert.rejects(removeNode(api.access, "worker1", 1, 100), { message: "drain of node worker1 did not finish within 1s; pods left: default/db (eviction refused: budget)" });
            assert.ok(!api.seen.some((s) => s.method === "DELETE"), "the Node is not deleted when the drain did not finish");
        } finally {
            await api.close();
        }
    });

    it("removal of a node that is already gone succeeds without further calls", async () => {
        const api = await fakeApi(() => ({ status: 404 }));
        try {
            await removeNode(api.access, "worker1", 1, 10);
            assert.equal(api.seen.length, 1);
        } finally {
            await api.close();
        }
    });
});

describe("providers: leaving with the engine", () => {
    it("knows when it runs in the engine's dynamic provider host, and the engine's address", () => {
        const cases: [string[], { host: string; port: number } | undefined][] = [
            [["node", "/x/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js", "127.0.0.1:34539"], { host: "127.0.0.1", port: 34539 }],
            [["node", "/x/node_modules/@pulumi/pulumi/cmd/run", "--monitor", "127.0.0.1:1"], undefined],
            [["node", "/x/node_modules/.bin/mocha"], undefined],
            [["node", "/x/dynamic-provider/index.js"], undefined],
        ];
        for (const [argv, want] of cases) {
            assert.deepEqual(engineAddressOf(argv), want, argv.join(" "));
        }
    });

    it("the dynamic provider host exits once the engine stops answering", async () => {
        const server = net.createServer();
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const port = (server.address() as net.AddressInfo).port;
        const code = `require(${JSON.stringify(path.resolve(__dirname, "../providers/engineWatch.ts"))}).watchEngine(["node", "/p/dynamic-provider/index.js", "127.0.0.1:${port}"], 100); setTimeout(() => {}, 20000);`;
        const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", code], { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal(child.exitCode, null, "it runs while the engine answers");
        server.close();
        const exit = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
        assert.equal(exit, 1);
        assert.equal(stderr, `hardway-workers: the engine at 127.0.0.1:${port} is gone; the dynamic provider host exits\n`);
    });
});

describe("providers: drift in the cluster (read, on refresh)", () => {
    const TOKEN_SECRET = "/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef";

    it("token registration: read lists the objects gone from the cluster; diff then updates; the update applies them again and clears the list", async () => {
        const binding = `hardway-kubelet-bootstrap-${crypto.createHash("sha256").update("hardway-workers/prod").digest("hex").slice(0, 10)}`;
        const gone = new Set([TOKEN_SECRET, `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${binding}`]);
        const api = await fakeApi((s) => {
            const p = s.path.split("?")[0];
            if (s.method === "GET") {
                return { status: gone.has(p) ? 404 : 200, body: {} };
            }
            gone.delete(p);
            return { status: 200 };
        });
        try {
            const inputs = { access: api.access, token: TOKEN, owner: "hardway-workers/prod", version: "4" };
            const created = await tokenRegistrationProvider.create(inputs);
            gone.add(TOKEN_SECRET);
            gone.add(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${binding}`);
            const read = await tokenRegistrationProvider.read!(created.id, created.outs);
            assert.deepEqual(read.props.missing, ["Secret kube-system/bootstrap-token-abcdef", `ClusterRoleBinding ${binding}`]);
            assert.equal((await tokenRegistrationProvider.diff!(created.id, read.props, inputs)).changes, true);
            const updated = await tokenRegistrationProvider.update!(created.id, read.props, inputs);
            assert.deepEqual(updated.outs.missing, []);
            const again = await tokenRegistrationProvider.read!(created.id, updated.outs);
            assert.deepEqual(again.props, updated.outs, "after the repair a refresh changes nothing");
            assert.equal((await tokenRegistrationProvider.diff!(created.id, again.props, inputs)).changes, false);
        } finally {
            await api.close();
        }
    });

    it("token registration: read fails on an answer other than found or not found", async () => {
        const api = await fakeApi(() => ({ status: 403, body: { message: "forbidden" } }));
        try {
            const outs = { access: api.access, token: TOKEN, version: "3", tokenId: "abcdef", objects: [] };
            await assert.rejects(tokenRegistrationProvider.read!("bootstrap-token-abcdef", outs), { message: `GET ${TOKEN_SECRET}: HTTP 403: forbidden` });
        } finally {
            await api.close();
        }
    });

    it("node lifecycle: read records a NotReady or deleted node; diff then waits again; a Ready node is no drift", async () => {
        const answers: { status: number; body?: unknown }[] = [{ status: 200, body: readyNode("False") }, { status: 404 }, { status: 200, body: readyNode("True") }];
        const api = await fakeApi(() => answers.shift() ?? { status: 500 });
        try {
            const base = { access: api.access, nodeName: "worker1", readyTimeoutSeconds: 300, drainTimeoutSeconds: 120, rollout: "a", version: "3" };
            const outs = { ...base, uid: "u-1", kubeletVersion: "v1.34.4", notReady: "" };
            const notReady = await nodeLifecycleProvider.read!("worker1", outs);
            assert.equal(notReady.props.notReady, "Ready=False (KubeletNotReady: network not ready)");
            assert.equal((await nodeLifecycleProvider.diff!("worker1", notReady.props, base)).changes, true);
            assert.equal((await nodeLifecycleProvider.read!("worker1", outs)).props.notReady, "the Node object is gone");
            const ready = await nodeLifecycleProvider.read!("worker1", outs);
            assert.deepEqual(ready.props, outs);
            assert.equal((await nodeLifecycleProvider.diff!("worker1", ready.props, base)).changes, false);
        } finally {
            await api.close();
        }
    });
});
