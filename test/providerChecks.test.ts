/**
 * The dynamic providers' checks, diffs, creates and error paths, as tables:
 * node lifecycle and token registration against a scripted API server, the
 * Renewal on a fake clock (HARDWAY_NOW).
 */
import { strict as assert } from "assert";
import { ApiAccess } from "../providers/kubeApi";
import { nodeLifecycleProvider, removeNode, waitForReady } from "../providers/nodeLifecycle";
import { RENEWAL_PROVIDER_VERSION, RenewalOutputs, renewalProvider } from "../providers/renewal";
import { sharedInUse, tokenRegistrationProvider } from "../providers/tokenRegistration";
import { ownerSuffix } from "../components/kube/bootstrapToken";
import { Handler, fakeApi } from "./support/fakeApi";
import { at } from "./support/clock";

const TOKEN = "abcdef.0123456789abcdef";
const OWNER = "hardway-workers/prod";
const SUFFIX = ownerSuffix(OWNER);
const readyNode = (status: string) => ({ metadata: { name: "worker1", uid: "u-1" }, status: { conditions: [{ type: "Ready", status, reason: "KubeletNotReady", message: "network not ready" }], nodeInfo: { kubeletVersion: "v1.34.4" } } });
const pod = (name: string, extra: any = {}) => ({ metadata: { name, namespace: "default", ...extra } });

describe("providers: token registration, each field", () => {
    const access: ApiAccess = { server: "https://api:6443", caPem: "ca", certPem: "cert", keyPem: "key" };
    const olds = { access, token: TOKEN, owner: OWNER, version: "1", tokenId: "abcdef", objects: [] as string[] };

    it("check: the token's form and each access field, with their reasons; values not known yet pass", async () => {
        const U = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        const full = { server: "https://x", caPem: "ca", certPem: "cert", keyPem: "key" };
        const table: [Record<string, unknown>, { property: string; reason: string }[]][] = [
            [{ token: TOKEN, owner: OWNER, access: full }, []],
            [{ token: TOKEN, owner: "", access: full }, [{ property: "owner", reason: "owner (the stack, <project>/<stack>) is required" }]],
            [{ token: TOKEN, access: full }, [{ property: "owner", reason: "owner (the stack, <project>/<stack>) is required" }]],
            [{ token: U, owner: U, access: { server: U, caPem: U, certPem: U, keyPem: U } }, []],
            [{ token: 12, owner: OWNER, access: { ...full, caPem: "" } }, [
                { property: "token", reason: "token must be <6 chars>.<16 chars> of [a-z0-9]" },
                { property: "access.caPem", reason: "access.caPem is required" },
            ]],
            [{ token: "ABCDEF.0123456789abcdef", owner: OWNER }, [
                { property: "token", reason: "token must be <6 chars>.<16 chars> of [a-z0-9]" },
                { property: "access.server", reason: "access.server is required" },
                { property: "access.caPem", reason: "access.caPem is required" },
                { property: "access.certPem", reason: "access.certPem is required" },
                { property: "access.keyPem", reason: "access.keyPem is required" },
            ]],
            [{ token: `x${TOKEN}`, owner: OWNER, access: { ...full, keyPem: 5 } }, [
                { property: "token", reason: "token must be <6 chars>.<16 chars> of [a-z0-9]" },
                { property: "access.keyPem", reason: "access.keyPem is required" },
            ]],
            [{ token: `${TOKEN}x`, owner: OWNER, access: full }, [{ property: "token", reason: "token must be <6 chars>.<16 chars> of [a-z0-9]" }]],
        ];
        for (const [news, failures] of table) {
            assert.deepEqual(await tokenRegistrationProvider.check!({}, news), { inputs: news, failures }, JSON.stringify(news));
        }
    });

    it("diff: the token, its owner, its expiry, its description, the version and the credentials each update", async () => {
        for (const change of [{ description: "for worker9" }, { version: "2" }, { owner: "hardway-workers/prod-b" }, { access: { ...access, server: "https://other:6443" } }]) {
            assert.deepEqual(await tokenRegistrationProvider.diff!("id", olds, { access, token: TOKEN, owner: OWNER, version: "1", ...change }), { changes: true, replaces: [], deleteBeforeReplace: false }, JSON.stringify(change));
        }
        assert.deepEqual(await tokenRegistrationProvider.diff!("id", olds, { access, token: TOKEN, owner: OWNER, version: "1" }), { changes: false, replaces: [], deleteBeforeReplace: false });
    });

    it("create records the token id and each object written; an update that keeps the token id deletes nothing; delete goes in reverse order", async () => {
        const api = await fakeApi(() => ({ status: 200 }));
        try {
            const inputs = { access: api.access, token: TOKEN, owner: OWNER, description: "for worker1", version: "1" };
            const created = await tokenRegistrationProvider.create(inputs);
            assert.deepEqual(created.outs, {
                ...inputs,
                tokenId: "abcdef",
                objects: [
                    "Secret kube-system/bootstrap-token-abcdef",
                    `ClusterRoleBinding hardway-kubelet-bootstrap-${SUFFIX}`,
                    `ClusterRoleBinding hardway-node-autoapprove-bootstrap-${SUFFIX}`,
                    `ClusterRoleBinding hardway-node-autoapprove-certificate-rotation-${SUFFIX}`,
                ],
                missing: [],
            });
            const paths = api.seen.map((s) => s.path.split("?")[0]);
            api.seen.length = 0;
            const updated = await tokenRegistrationProvider.update!(created.id, created.outs, { ...inputs, description: "renewed" });
            assert.deepEqual(updated.outs, { ...created.outs, description: "renewed" });
            assert.deepEqual(api.seen.map((s) => s.method), ["PATCH", "PATCH", "PATCH", "PATCH"]);
            api.seen.length = 0;
            // A state written before the token id was recorded: nothing to delete either.
            const { tokenId, ...untracked } = created.outs;
            void tokenId;
            await tokenRegistrationProvider.update!(created.id, untracked, { ...inputs, token: "ghijkl.0123456789abcdef" });
            assert.deepEqual(api.seen.map((s) => s.method), ["PATCH", "PATCH", "PATCH", "PATCH"]);
            api.seen.length = 0;
            await tokenRegistrationProvider.delete!(created.id, created.outs);
            assert.deepEqual(api.seen.map((s) => `${s.method} ${s.path}`), [...paths].reverse().map((p) => `DELETE ${p}`));
        } finally {
            await api.close();
        }
    });

});

describe("providers: token registrations of several stacks in one cluster", () => {
    const BINDINGS = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings";
    const SHARED = ["hardway-kubelet-bootstrap", "hardway-node-autoapprove-bootstrap", "hardway-node-autoapprove-certificate-rotation"];

    /** A cluster's ClusterRoleBindings and Secrets in memory: apply, delete, get and list by the managed-by label. */
    function cluster(initial: Record<string, any> = {}): { objects: Map<string, any>; handler: Handler } {
        const objects = new Map<string, any>(Object.entries(initial));
        const handler: Handler = (s) => {
            const [p, query] = s.path.split("?");
            if (s.method === "PATCH") {
                objects.set(p, s.body);
                return { status: 200 };
            }
            if (s.method === "DELETE") {
                return objects.delete(p) ? { status: 200 } : { status: 404, body: { message: "not found" } };
            }
            if (s.method === "GET" && p === BINDINGS) {
                assert.equal(decodeURIComponent(query), "labelSelector=app.kubernetes.io/managed-by=hardway-workers");
                const items = [...objects].filter(([k, o]) => k.startsWith(`${BINDINGS}/`) && o.metadata?.labels?.["app.kubernetes.io/managed-by"] === "hardway-workers").map(([, o]) => o);
                return { status: 200, body: { items } };
            }
            return objects.has(p) ? { status: 200, body: objects.get(p) } : { status: 404, body: { message: "not found" } };
        };
        return { objects, handler };
    }
    const names = (objects: Map<string, any>) => [...objects.keys()].map((k) => k.split("/").pop()).sort();
    /** A stack's own three binding names. */
    const own = (owner: string) => SHARED.map((n) => `${n}-${ownerSuffix(owner)}`);
    const shared = () => Object.fromEntries(SHARED.map((n) => [`${BINDINGS}/${n}`, { metadata: { name: n } }]));

    it("two stacks have their own bindings; destroying one leaves the other's token and bindings", async () => {
        const c = cluster();
        const api = await fakeApi(c.handler);
        try {
            const a = await tokenRegistrationProvider.create({ access: api.access, token: TOKEN, owner: "hardway-workers/pool-a", version: "4" });
            const b = await tokenRegistrationProvider.create({ access: api.access, token: "ghijkl.0123456789abcdef", owner: "hardway-workers/pool-b", version: "4" });
            const [sa, sb] = [ownerSuffix("hardway-workers/pool-a"), ownerSuffix("hardway-workers/pool-b")];
            assert.notEqual(sa, sb);
            assert.equal(c.objects.size, 8);
            await tokenRegistrationProvider.delete!(a.id, a.outs);
            assert.deepEqual(names(c.objects), [
                "bootstrap-token-ghijkl",
                ...own("hardway-workers/pool-b"),
            ]);
            await tokenRegistrationProvider.delete!(b.id, b.outs);
            assert.deepEqual(names(c.objects), []);
        } finally {
            await api.close();
        }
    });

    it("a registration of an older version moves to its own bindings, keeps the shared ones while another stack has bindings, and removes them with the last", async () => {
        const c = cluster(shared());
        const api = await fakeApi(c.handler);
        try {
            const legacyObjects = ["Secret kube-system/bootstrap-token-abcdef", ...SHARED.map((n) => `ClusterRoleBinding ${n}`)];
            const old = { access: api.access, token: TOKEN, version: "3", tokenId: "abcdef", objects: legacyObjects, missing: [] };
            const news = { access: api.access, token: TOKEN, owner: OWNER, version: "4" };
            assert.equal((await tokenRegistrationProvider.diff!("id", old, news)).changes, true);
            const updated = await tokenRegistrationProvider.update!("id", old, news);
            assert.deepEqual(updated.outs.shared, SHARED, "the shared bindings are recorded, not deleted");
            assert.deepEqual(names(c.objects), [
                "bootstrap-token-abcdef",
                ...SHARED,
                ...own(OWNER),
            ].sort());
            // The next update carries the record on.
            const again = await tokenRegistrationProvider.update!("id", updated.outs, { ...news, description: "renewed" });
            assert.deepEqual(again.outs.shared, SHARED);
            // Another stack of the cluster, already on per-stack bindings.
            const other = await tokenRegistrationProvider.create({ access: api.access, token: "ghijkl.0123456789abcdef", owner: "hardway-workers/pool-b", version: "4" });
            await tokenRegistrationProvider.delete!("id", again.outs);
            assert.deepEqual(names(c.objects), [
                "bootstrap-token-ghijkl",
                ...SHARED,
                ...own("hardway-workers/pool-b"),
            ].sort(), "the other stack may still use the shared bindings");
            await tokenRegistrationProvider.delete!(other.id, other.outs);
            assert.deepEqual(names(c.objects), [...SHARED], "a stack that never wrote them leaves them");
            await tokenRegistrationProvider.delete!("id", again.outs);
            assert.deepEqual(names(c.objects), [], "the last stack that wrote them removes them");
        } finally {
            await api.close();
        }
    });

    it("a registration of an older version that is destroyed removes the shared bindings only when no stack has bindings of its own", async () => {
        for (const [what, others, left] of [
            ["alone", false, []],
            ["beside a stack with its own bindings", true, SHARED],
        ] as const) {
            const c = cluster(shared());
            const api = await fakeApi(c.handler);
            try {
                const other = others ? await tokenRegistrationProvider.create({ access: api.access, token: "ghijkl.0123456789abcdef", owner: "hardway-workers/pool-b", version: "4" }) : undefined;
                const legacyObjects = ["Secret kube-system/bootstrap-token-abcdef", ...SHARED.map((n) => `ClusterRoleBinding ${n}`)];
                c.objects.set("/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef", {});
                await tokenRegistrationProvider.delete!("id", { access: api.access, token: TOKEN, version: "3", tokenId: "abcdef", objects: legacyObjects });
                assert.deepEqual(names(c.objects).filter((n) => SHARED.includes(n!)), [...left], what);
                assert.ok(!c.objects.has("/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef"), `${what}: its token is gone`);
                if (other) {
                    assert.equal(names(c.objects).filter((n) => n!.endsWith(ownerSuffix("hardway-workers/pool-b"))).length, 3, `${what}: the other stack's bindings stay`);
                }
            } finally {
                await api.close();
            }
        }
    });

    it("sharedInUse: only another stack's own bindings keep the shared ones in use", async () => {
        // [the stacks whose own bindings are in the cluster, in use for OWNER]
        const ROWS: [string[], boolean][] = [
            [[], false],
            [[OWNER], false],
            [["hardway-workers/pool-b"], true],
            [[OWNER, "hardway-workers/pool-b"], true],
        ];
        for (const [owners, inUse] of ROWS) {
            const c = cluster();
            const api = await fakeApi(c.handler);
            try {
                for (const [i, owner] of owners.entries()) {
                    await tokenRegistrationProvider.create({ access: api.access, token: `abcde${i}.0123456789abcdef`, owner, version: "4" });
                }
                assert.equal(await sharedInUse(api.access, OWNER), inUse, owners.join(", ") || "none");
            } finally {
                await api.close();
            }
        }
    });

    it("a renamed stack: the update deletes its bindings under the old name", async () => {
        const c = cluster();
        const api = await fakeApi(c.handler);
        try {
            const created = await tokenRegistrationProvider.create({ access: api.access, token: TOKEN, owner: OWNER, version: "4" });
            const renamed = await tokenRegistrationProvider.update!(created.id, created.outs, { access: api.access, token: TOKEN, owner: "hardway-workers/production", version: "4" });
            assert.deepEqual(names(c.objects), ["bootstrap-token-abcdef", ...own("hardway-workers/production")]);
            assert.equal(renamed.outs.shared, undefined);
        } finally {
            await api.close();
        }
    });
});

describe("providers: node lifecycle, each field and each refusal", () => {
    it("check: each failure named with its reason; values not known yet (a preview) are not checked", async () => {
        const U = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        const table: [Record<string, unknown>, { property: string; reason: string }[]][] = [
            [{ nodeName: "w", readyTimeoutSeconds: 1, drainTimeoutSeconds: 1 }, []],
            [{ nodeName: U, readyTimeoutSeconds: U, drainTimeoutSeconds: U }, []],
            [
                { nodeName: "", readyTimeoutSeconds: 0, drainTimeoutSeconds: "5" },
                [
                    { property: "readyTimeoutSeconds", reason: "readyTimeoutSeconds must be a positive integer, got 0" },
                    { property: "drainTimeoutSeconds", reason: 'drainTimeoutSeconds must be a positive integer, got "5"' },
                    { property: "nodeName", reason: "nodeName is required" },
                ],
            ],
            [{ nodeName: 7, readyTimeoutSeconds: -1, drainTimeoutSeconds: 2 }, [
                { property: "readyTimeoutSeconds", reason: "readyTimeoutSeconds must be a positive integer, got -1" },
                { property: "nodeName", reason: "nodeName is required" },
            ]],
        ];
        for (const [news, failures] of table) {
            const r = await nodeLifecycleProvider.check!({}, news);
            assert.deepEqual(r, { inputs: news, failures }, JSON.stringify(news));
        }
    });

    it("diff: every input but the node name updates; the node name replaces", async () => {
        const base = { access: { server: "s", caPem: "c", certPem: "c", keyPem: "k" }, nodeName: "worker1", readyTimeoutSeconds: 300, drainTimeoutSeconds: 120, rollout: "a", version: "1" };
        const olds = { ...base, uid: "u", kubeletVersion: "v1.34.4" };
        const table: [Record<string, unknown>, boolean, string[]][] = [
            [{}, false, []],
            [{ readyTimeoutSeconds: 301 }, true, []],
            [{ drainTimeoutSeconds: 121 }, true, []],
            [{ rollout: "b" }, true, []],
            [{ version: "2" }, true, []],
            [{ access: { ...base.access, server: "t" } }, true, []],
            [{ nodeName: "worker2" }, true, ["nodeName"]],
        ];
        for (const [change, changes, replaces] of table) {
            assert.deepEqual(await nodeLifecycleProvider.diff!("worker1", olds, { ...base, ...change }), { changes, replaces, deleteBeforeReplace: false }, JSON.stringify(change));
        }
    });

    it("a timeout names the last state seen: not registered, no Ready condition, an HTTP error, no answer", async () => {
        const table: [string, ReturnType<Handler>, string][] = [
            ["not registered", { status: 404 }, "it has not registered"],
            ["no conditions", { status: 200, body: { metadata: { name: "worker1" }, status: {} } }, "it has no Ready condition yet"],
            ["Ready without reason", { status: 200, body: { status: { conditions: [{ type: "Ready", status: "Unknown" }] } } }, "Ready=Unknown (: )"],
            ["an HTTP error", { status: 403, body: { message: "nodes is forbidden" } }, "GET node: HTTP 403: nodes is forbidden"],
        ];
        for (const [what, answer, last] of table) {
            const api = await fakeApi(() => answer);
            try {
                await assert.rejects(waitForReady(api.access, "worker1", 0, 1), { message: `node worker1 did not become Ready within 0s: ${last}` }, what);
                assert.deepEqual(api.seen.map((s) => `${s.method} ${s.path}`), ["GET /api/v1/nodes/worker1"], what);
            } finally {
                await api.close();
            }
        }
        const gone: ApiAccess = { server: "https://127.0.0.1:1", caPem: "", certPem: "", keyPem: "" };
        await assert.rejects(waitForReady(gone, "worker1", 0, 1), {
            message: "node worker1 did not become Ready within 0s: the API server did not answer (GET https://127.0.0.1:1/api/v1/nodes/worker1: connect ECONNREFUSED 127.0.0.1:1)",
        });
    });

    it("create waits for Ready and records the Node's uid and kubelet version; update waits again", async () => {
        const api = await fakeApi(() => ({ status: 200, body: readyNode("True") }));
        const inputs = { access: api.access, nodeName: "worker1", readyTimeoutSeconds: 5, drainTimeoutSeconds: 5, rollout: "a", version: "2" };
        try {
            assert.deepEqual(await nodeLifecycleProvider.create(inputs), { id: "worker1", outs: { ...inputs, uid: "u-1", kubeletVersion: "v1.34.4", notReady: "" } });
            const updated = await nodeLifecycleProvider.update!("worker1", { ...inputs, uid: "u-0", kubeletVersion: "v1.33.0" }, { ...inputs, rollout: "b" });
            assert.deepEqual(updated, { outs: { ...inputs, rollout: "b", uid: "u-1", kubeletVersion: "v1.34.4", notReady: "" } });
            assert.equal(api.seen.length, 2);
        } finally {
            await api.close();
        }
        const bare = await fakeApi(() => ({ status: 200, body: { metadata: { uid: "u-2" }, status: { conditions: [{ type: "Ready", status: "True" }] } } }));
        try {
            const created = await nodeLifecycleProvider.create({ ...inputs, access: bare.access });
            assert.equal(created.outs.kubeletVersion, "");
        } finally {
            await bare.close();
        }
    });

    it("delete drains and deletes the Node named in the state", async () => {
        const api = await fakeApi((s) => (s.method === "GET" ? { status: 200, body: { items: [] } } : { status: 200 }));
        try {
            await nodeLifecycleProvider.delete!("worker7", { access: api.access, nodeName: "worker7", readyTimeoutSeconds: 5, drainTimeoutSeconds: 5, rollout: "a", version: "2", uid: "u", kubeletVersion: "v" });
            assert.deepEqual(
                api.seen.map((s) => `${s.method} ${decodeURIComponent(s.path)} ${s.contentType ?? "-"}`),
                ["PATCH /api/v1/nodes/worker7 application/merge-patch+json", "GET /api/v1/pods?fieldSelector=spec.nodeName=worker7 -", "DELETE /api/v1/nodes/worker7 -"],
            );
        } finally {
            await api.close();
        }
    });

    it("removal: a refused cordon or eviction fails naming the call; an eviction of a pod already gone counts; terminating pods are waited for", async () => {
        const refused = await fakeApi(() => ({ status: 403, body: { message: "nodes is forbidden" } }));
        try {
            await assert.rejects(removeNode(refused.access, "worker1", 1, 10), { message: "PATCH /api/v1/nodes/worker1: HTTP 403: nodes is forbidden" });
        } finally {
            await refused.close();
        }
        const broken = await fakeApi((s) =>
            s.method === "GET" ? { status: 200, body: { items: [pod("web")] } } : s.path.endsWith("/eviction") ? { status: 500, body: { message: "etcd down" } } : { status: 200 },
        );
        try {
            await assert.rejects(removeNode(broken.access, "worker1", 1, 10), { message: "POST /api/v1/namespaces/default/pods/web/eviction: HTTP 500: etcd down" });
        } finally {
            await broken.close();
        }
        const pods = [pod("gone"), pod("old", { deletionTimestamp: "2026-01-01T00:00:00Z" })];
        const slow = await fakeApi((s) => (s.method === "GET" ? { status: 200, body: { items: pods } } : s.path.endsWith("/eviction") ? { status: 404 } : { status: 200 }));
        try {
            await assert.rejects(removeNode(slow.access, "worker1", 0, 10), { message: "drain of node worker1 did not finish within 0s; pods left: default/gone (evicted, terminating), default/old (terminating)" });
            assert.deepEqual(
                slow.seen.filter((s) => s.method === "POST").map((s) => [s.path, s.contentType, s.body]),
                [["/api/v1/namespaces/default/pods/gone/eviction", "application/json", { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "gone", namespace: "default" } }]],
            );
        } finally {
            await slow.close();
        }
    });

});

describe("Renewal provider: checks, diffs and windows (fake clock)", () => {
    const inputs = { validityHours: 8760, renewBeforeHours: 720, version: RENEWAL_PROVIDER_VERSION };
    let issued: RenewalOutputs;

    before(async () => {
        const created = await at("2026-01-01T00:00:00.000Z", () => renewalProvider.create!(inputs));
        issued = created.outs as RenewalOutputs;
    });

    it("check: each bad field with its reason; values not known yet (a preview) are not checked", async () => {
        const U = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        const table: [Record<string, unknown>, { property: string; reason: string }[]][] = [
            [{ validityHours: 2, renewBeforeHours: 1 }, []],
            [{ validityHours: U, renewBeforeHours: 9999 }, []],
            [{ validityHours: 1, renewBeforeHours: U }, []],
            [{ validityHours: 0, renewBeforeHours: 1.5 }, [
                { property: "validityHours", reason: "validityHours must be a positive integer, got 0" },
                { property: "renewBeforeHours", reason: "renewBeforeHours must be a positive integer, got 1.5" },
            ]],
            [{ validityHours: "24", renewBeforeHours: 1 }, [{ property: "validityHours", reason: 'validityHours must be a positive integer, got "24"' }]],
            [{ validityHours: 1, renewBeforeHours: 1 }, [{ property: "renewBeforeHours", reason: "renewBeforeHours must be less than validityHours" }]],
            [{ validityHours: 1, renewBeforeHours: 2 }, [{ property: "renewBeforeHours", reason: "renewBeforeHours must be less than validityHours" }]],
        ];
        for (const [news, failures] of table) {
            assert.deepEqual(await renewalProvider.check!({}, news), { inputs: news, failures }, JSON.stringify(news));
        }
    });

    it("diff: a new validity or renewal window replaces, both named; outside the window nothing else changes", async () => {
        const diff = await at("2026-01-02T00:00:00.000Z", () => renewalProvider.diff!("id", issued, { ...inputs, validityHours: 100, renewBeforeHours: 10 }));
        assert.deepEqual(diff, { changes: true, replaces: ["validityHours", "renewBeforeHours"], deleteBeforeReplace: false });
        const same = await at("2026-01-02T00:00:00.000Z", () => renewalProvider.diff!("id", issued, inputs));
        assert.deepEqual(same, { changes: false, replaces: [], deleteBeforeReplace: false });
    });

    it("create names the resource after its issue time; an update keeps the issue time and moves the window", async () => {
        const created = await at("2026-03-01T12:00:00.000Z", () => renewalProvider.create!({ ...inputs, validityHours: 48, renewBeforeHours: 12 }));
        assert.deepEqual(created, {
            id: "renewal-2026-03-01T12:00:00.000Z",
            outs: { ...inputs, validityHours: 48, renewBeforeHours: 12, issuedAt: "2026-03-01T12:00:00.000Z", renewAt: "2026-03-03T00:00:00.000Z", expiresAt: "2026-03-03T12:00:00.000Z" },
        });
        const updated = await at("2026-03-02T00:00:00.000Z", () => renewalProvider.update!(created.id, created.outs, { ...inputs, validityHours: 24, renewBeforeHours: 6, version: "next" }));
        assert.deepEqual(updated, {
            outs: { validityHours: 24, renewBeforeHours: 6, version: "next", issuedAt: "2026-03-01T12:00:00.000Z", renewAt: "2026-03-02T06:00:00.000Z", expiresAt: "2026-03-02T12:00:00.000Z" },
        });
    });

    it("without HARDWAY_NOW, the clock is the real one", async () => {
        const before = process.env["HARDWAY_NOW"];
        delete process.env["HARDWAY_NOW"];
        try {
            const from = Date.now();
            const created = await renewalProvider.create!(inputs);
            const t = Date.parse((created.outs as RenewalOutputs).issuedAt);
            assert.ok(t >= from && t <= Date.now(), (created.outs as RenewalOutputs).issuedAt);
        } finally {
            if (before !== undefined) {
                process.env["HARDWAY_NOW"] = before;
            }
        }
    });

});

describe("providers: what is already gone, and conditions in any order", () => {
    it("a delete of objects already gone (404) succeeds; another refusal fails naming the call", async () => {
        const gone = await fakeApi(() => ({ status: 404, body: { message: "not found" } }));
        try {
            await tokenRegistrationProvider.delete!("id", { access: gone.access, token: TOKEN, owner: OWNER, version: "1", tokenId: "abcdef", objects: [] });
            assert.equal(gone.seen.length, 4);
        } finally {
            await gone.close();
        }
        const refused = await fakeApi(() => ({ status: 403, body: { message: "forbidden" } }));
        try {
            await assert.rejects(tokenRegistrationProvider.delete!("id", { access: refused.access, token: TOKEN, owner: OWNER, version: "1", tokenId: "abcdef", objects: [] }), {
                message: `DELETE /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/hardway-node-autoapprove-certificate-rotation-${SUFFIX}: HTTP 403: forbidden`,
            });
        } finally {
            await refused.close();
        }
    });

    it("removal: a Node deleted meanwhile (404 on the DELETE) is done", async () => {
        const api = await fakeApi((s) => (s.method === "GET" ? { status: 200, body: { items: [] } } : s.method === "DELETE" ? { status: 404 } : { status: 200 }));
        try {
            await removeNode(api.access, "worker1", 1, 10);
            assert.deepEqual(api.seen.map((s) => s.method), ["PATCH", "GET", "DELETE"]);
        } finally {
            await api.close();
        }
    });

    it("the Ready condition is found wherever it is in the list", async () => {
        const node = { metadata: { uid: "u-1" }, status: { conditions: [{ type: "MemoryPressure", status: "False" }, { type: "Ready", status: "True" }] } };
        const api = await fakeApi(() => ({ status: 200, body: node }));
        try {
            assert.equal((await waitForReady(api.access, "worker1", 0, 1)).metadata.uid, "u-1");
        } finally {
            await api.close();
        }
        const notReady = await fakeApi(() => ({ status: 200, body: { status: { conditions: [{ type: "MemoryPressure", status: "True" }, { type: "Ready", status: "False", reason: "r", message: "m" }] } } }));
        try {
            await assert.rejects(waitForReady(notReady.access, "worker1", 0, 1), { message: "node worker1 did not become Ready within 0s: Ready=False (r: m)" });
        } finally {
            await notReady.close();
        }
    });
});
