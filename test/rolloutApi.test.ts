/**
 * The rollout's API calls against a scripted API server: what each call
 * sends, and how each refusal is reported (providers/rolloutSlot.ts,
 * providers/rollout.ts).
 */
import { strict as assert } from "assert";
import { ApiResponse } from "../providers/kubeApi";
import { Request, releaseSlots, slotHeld, slotHolders, tryTakeSlot } from "../providers/rolloutSlot";

const LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";


/** A scripted API: answers by "METHOD path" (the first that is a prefix), records each call with its body and content type. */
function scripted(answers: [string, ApiResponse][]) {
    const calls: { call: string; body: unknown; contentType?: string }[] = [];
    const request: Request = async (method, path, body, contentType) => {
        const call = `${method} ${path}`;
        calls.push({ call, body, contentType });
        const hit = answers.find(([prefix]) => call.startsWith(prefix));
        return hit ? hit[1] : { status: 599, body: { message: `unscripted ${call}` } };
    };
    return { request, calls };
}

describe("rollout slots: what the API server refuses", () => {
    const LEASE0 = `${LEASES}/hardway-rollout-0`;
    const held = (holder: string) => ({ status: 200, body: { metadata: { resourceVersion: "7" }, spec: { holderIdentity: holder, renewTime: "2026-01-01T00:00:00.000000Z", leaseDurationSeconds: 60 } } });
    const o = { holder: "w1@s", slots: 1, leaseSeconds: 30, waitSeconds: 0, pollMs: 1, now: () => Date.parse("2026-01-01T00:00:10.123Z") };

    it("a new slot's Lease: holder, duration, MicroTime acquire and renew times, the program's label", async () => {
        const api = scripted([[`GET ${LEASE0}`, { status: 404, body: {} }], [`POST ${LEASES}`, { status: 201, body: {} }]]);
        assert.deepEqual(await tryTakeSlot(api.request, o), { slot: 0 });
        assert.deepEqual(api.calls[1], {
            call: `POST ${LEASES}`,
            contentType: undefined,
            body: {
                apiVersion: "coordination.k8s.io/v1",
                kind: "Lease",
                metadata: { name: "hardway-rollout-0", namespace: "kube-system", labels: { "app.kubernetes.io/managed-by": "hardway-workers" } },
                spec: { holderIdentity: "w1@s", leaseDurationSeconds: 30, acquireTime: "2026-01-01T00:00:10.123000Z", renewTime: "2026-01-01T00:00:10.123000Z" },
            },
        });
        const again = scripted([[`GET ${LEASE0}`, { status: 404, body: {} }], [`POST ${LEASES}`, { status: 200, body: {} }]]);
        assert.deepEqual(await tryTakeSlot(again.request, o), { slot: 0 });
    });

    it("an expired slot is taken over with the Lease's resourceVersion", async () => {
        const api = scripted([[`GET ${LEASE0}`, held("w9@s")], [`PUT ${LEASE0}`, { status: 200, body: {} }]]);
        assert.deepEqual(await tryTakeSlot(api.request, { ...o, now: () => Date.parse("2026-01-01T00:01:00Z") }), { slot: 0 });
        assert.deepEqual((api.calls[1].body as any).metadata, { name: "hardway-rollout-0", namespace: "kube-system", resourceVersion: "7", labels: { "app.kubernetes.io/managed-by": "hardway-workers" } });
    });

    it("taking: a 409 means taken meanwhile; any other refusal fails naming the call", async () => {
        const table: [[string, ApiResponse][], { slot: number } | { holders: string[] } | string][] = [
            [[[`GET ${LEASE0}`, { status: 404, body: {} }], [`POST ${LEASES}`, { status: 409, body: {} }]], { holders: ["hardway-rollout-0: taken meanwhile"] }],
            [[[`GET ${LEASE0}`, { status: 404, body: {} }], [`POST ${LEASES}`, { status: 403, body: { message: "leases is forbidden" } }]], `POST ${LEASES}: HTTP 403: leases is forbidden`],
            [[[`GET ${LEASE0}`, { status: 500, body: { message: "etcd down" } }]], `GET ${LEASE0}: HTTP 500: etcd down`],
            [[[`GET ${LEASE0}`, held("w1@s")], [`PUT ${LEASE0}`, { status: 409, body: {} }]], { holders: ["hardway-rollout-0: taken meanwhile"] }],
            [[[`GET ${LEASE0}`, held("w1@s")], [`PUT ${LEASE0}`, { status: 422, body: { message: "invalid" } }]], `PUT ${LEASE0}: HTTP 422: invalid`],
        ];
        for (const [answers, want] of table) {
            const api = scripted(answers);
            if (typeof want === "string") {
                await assert.rejects(tryTakeSlot(api.request, o), (e: Error) => e.message === want, want);
            } else {
                assert.deepEqual(await tryTakeSlot(api.request, o), want);
            }
        }
    });

    it("a Lease without renewTime counts from its acquireTime; one without a duration has expired", () => {
        const t = Date.parse("2026-01-01T00:00:00Z");
        assert.equal(slotHeld({ spec: { holderIdentity: "a", acquireTime: "2026-01-01T00:00:00.000000Z", leaseDurationSeconds: 60 } }, t + 59_000), true);
        assert.equal(slotHeld({ spec: { holderIdentity: "a", renewTime: "2026-01-01T00:00:00.000000Z" } }, t - 1), true);
        assert.equal(slotHeld({ spec: { holderIdentity: "a", renewTime: "2026-01-01T00:00:00.000000Z" } }, t), false);
        assert.equal(slotHeld({ spec: { holderIdentity: "a", leaseDurationSeconds: 60 } }, t), false);
        assert.equal(slotHeld({ spec: { renewTime: "2026-01-01T00:00:00.000000Z", leaseDurationSeconds: 60 } }, t), false);
    });

    it("releasing: only the holder's slots, with a precondition; a 404 counts as released, a 409 is left alone, other refusals fail", async () => {
        const LEASE1 = `${LEASES}/hardway-rollout-1`;
        const LEASE2 = `${LEASES}/hardway-rollout-2`;
        const LEASE3 = `${LEASES}/hardway-rollout-3`;
        const api = scripted([
            [`GET ${LEASE0}`, held("w1@s")],
            [`DELETE ${LEASE0}`, { status: 404, body: {} }],
            [`GET ${LEASE1}`, held("w1@s")],
            [`DELETE ${LEASE1}`, { status: 409, body: {} }],
            [`GET ${LEASE2}`, held("other@s")],
            [`GET ${LEASE3}`, { status: 404, body: {} }],
        ]);
        assert.deepEqual(await releaseSlots(api.request, "w1@s", 4), [0]);
        assert.deepEqual(api.calls.find((c) => c.call === `DELETE ${LEASE0}`)!.body, { kind: "DeleteOptions", apiVersion: "v1", preconditions: { resourceVersion: "7" } });
        assert.ok(!api.calls.some((c) => c.call === `DELETE ${LEASE2}`), "another holder's slot is left alone");
        const refused = scripted([[`GET ${LEASE0}`, held("w1@s")], [`DELETE ${LEASE0}`, { status: 403, body: { message: "forbidden" } }]]);
        await assert.rejects(releaseSlots(refused.request, "w1@s", 1), (e: Error) => e.message === `DELETE ${LEASE0}: HTTP 403: forbidden`);
        const broken = scripted([[`GET ${LEASE0}`, { status: 500, body: { message: "etcd down" } }]]);
        await assert.rejects(releaseSlots(broken.request, "w1@s", 1), (e: Error) => e.message === `GET ${LEASE0}: HTTP 500: etcd down`);
    });

    it("slotHolders: only the slots held now", async () => {
        const api = scripted([[`GET ${LEASE0}`, held("w1@s")], [`GET ${LEASES}/hardway-rollout-1`, { status: 500, body: {} }]]);
        assert.deepEqual(await slotHolders(api.request, 3, Date.parse("2026-01-01T00:00:59Z")), { "hardway-rollout-0": "w1@s" });
        assert.deepEqual(await slotHolders(api.request, 1, Date.parse("2026-01-01T00:01:00Z")), {});
    });
});

describe("rollout: the gate and the release against a scripted API", () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const r = require("../providers/rollout") as typeof import("../providers/rollout");
    const NODE = "/api/v1/nodes/worker1";
    const PODS = "/api/v1/pods?fieldSelector=spec.nodeName%3Dworker1";

    it("cordon and drain: each refusal fails naming the call; evictions refused, gone or started are waited for", async () => {
        const table: [[string, ApiResponse][], string][] = [
            [[[`GET ${NODE}`, { status: 500, body: { message: "etcd down" } }]], `GET ${NODE}: HTTP 500: etcd down`],
            [[[`GET ${NODE}`, { status: 200, body: { spec: {} } }], [`PATCH ${NODE}`, { status: 403, body: { message: "forbidden" } }]], `PATCH ${NODE}: HTTP 403: forbidden`],
            [[[`GET ${NODE}`, { status: 200, body: { spec: { unschedulable: true } } }], [`GET ${PODS}`, { status: 500, body: { message: "etcd down" } }]], `GET ${PODS}: HTTP 500: etcd down`],
            [
                [[`GET ${NODE}`, { status: 200, body: { spec: { unschedulable: true } } }], [`GET ${PODS}`, { status: 200, body: { items: [{ metadata: { name: "web", namespace: "default" } }] } }], ["POST", { status: 500, body: { message: "boom" } }]],
                "POST /api/v1/namespaces/default/pods/web/eviction: HTTP 500: boom",
            ],
            [
                [
                    [`GET ${NODE}`, { status: 200, body: { spec: { unschedulable: true } } }],
                    [`GET ${PODS}`, { status: 200, body: { items: [{ metadata: { name: "a", namespace: "default" } }, { metadata: { name: "b", namespace: "default", deletionTimestamp: "t" } }] } }],
                    ["POST /api/v1/namespaces/default/pods/a/eviction", { status: 429, body: { message: "budget" } }],
                ],
                "drain of node worker1 for its update did not finish within 0s; pods left: default/a (eviction refused: budget), default/b (terminating)",
            ],
            [
                [[`GET ${NODE}`, { status: 200, body: { spec: { unschedulable: true } } }], [`GET ${PODS}`, { status: 200, body: { items: [{ metadata: { name: "a", namespace: "default" } }] } }], ["POST", { status: 404, body: {} }]],
                "drain of node worker1 for its update did not finish within 0s; pods left: default/a (evicted, terminating)",
            ],
        ];
        for (const [answers, message] of table) {
            await assert.rejects(r.cordonAndDrain(scripted(answers).request, "worker1", "worker1@p/s", 0, 1), (e: Error) => e.message === message, message);
        }
        const api = scripted([[`GET ${NODE}`, { status: 200, body: { spec: {} } }], [`PATCH ${NODE}`, { status: 200, body: {} }], [`GET ${PODS}`, { status: 200, body: {} }]]);
        assert.equal(await r.cordonAndDrain(api.request, "worker1", "worker1@p/s", 0, 1), true);
        assert.deepEqual(api.calls[1], { call: `PATCH ${NODE}`, contentType: "application/merge-patch+json", body: { metadata: { annotations: { [r.ROLLOUT_CORDON]: "worker1@p/s" } }, spec: { unschedulable: true } } });
        assert.equal(r.ROLLOUT_CORDON, "hardway-workers/rollout-cordon");
    });

    it("waiting for the new kubelet: an HTTP error or a node without status is named in the timeout", async () => {
        const table: [ApiResponse, string][] = [
            [{ status: 500, body: { message: "etcd down" } }, "GET node: HTTP 500: etcd down"],
            [{ status: 200, body: {} }, "kubelet unknown, Ready=unknown"],
            [{ status: 200, body: { status: { nodeInfo: { kubeletVersion: "v1.34.4" }, conditions: [{ type: "MemoryPressure", status: "True" }] } } }, "kubelet v1.34.4, Ready=unknown"],
        ];
        for (const [answer, last] of table) {
            await assert.rejects(r.waitForVersion(async () => answer, "worker1", "v1.34.4", 0, 1), (e: Error) => e.message === `node worker1 was not Ready on kubelet v1.34.4 within 0s after its update: ${last}`, last);
        }
    });

    it("uncordon: only a node the rollout marked, with a merge patch that drops the mark; refusals fail naming the call", async () => {
        const marked = { status: 200, body: { metadata: { annotations: { [r.ROLLOUT_CORDON]: "h" } } } };
        const api = scripted([[`GET ${NODE}`, marked], [`PATCH ${NODE}`, { status: 200, body: {} }]]);
        assert.equal(await r.uncordonIfOurs(api.request, "worker1"), true);
        assert.deepEqual(api.calls[1], { call: `PATCH ${NODE}`, contentType: "application/merge-patch+json", body: { metadata: { annotations: { [r.ROLLOUT_CORDON]: null } }, spec: { unschedulable: false } } });
        assert.equal(await r.uncordonIfOurs(scripted([[`GET ${NODE}`, { status: 404, body: {} }]]).request, "worker1"), false);
        assert.equal(await r.uncordonIfOurs(scripted([[`GET ${NODE}`, { status: 200, body: {} }]]).request, "worker1"), false);
        await assert.rejects(r.uncordonIfOurs(scripted([[`GET ${NODE}`, { status: 500, body: { message: "etcd down" } }]]).request, "worker1"), (e: Error) => e.message === `GET ${NODE}: HTTP 500: etcd down`);
        await assert.rejects(r.uncordonIfOurs(scripted([[`GET ${NODE}`, marked], [`PATCH ${NODE}`, { status: 409, body: { message: "conflict" } }]]).request, "worker1"), (e: Error) => e.message === `PATCH ${NODE}: HTTP 409: conflict`);
    });

    const inputs = {
        access: { server: "https://127.0.0.1:1", caPem: "", certPem: "", keyPem: "" },
        nodeName: "worker1",
        holder: "worker1@p/s",
        slots: 1,
        leaseSeconds: 60,
        waitSeconds: 0,
        drainTimeoutSeconds: 0,
        disruption: "d1",
        kubeletVersion: "v1.34.4",
        readyTimeoutSeconds: 0,
        version: "1",
    };

    it("diff: every input updates, the node name replaces; check accepts anything", async () => {
        for (const provider of [r.rolloutGateProvider, r.rolloutReleaseProvider]) {
            assert.deepEqual(await provider.check!({}, inputs), { inputs, failures: [] });
            assert.deepEqual(await provider.diff!("worker1", inputs, inputs), { changes: false, replaces: [], deleteBeforeReplace: false });
            const changes: Record<string, unknown>[] = [
                { holder: "x" }, { leaseSeconds: 61 }, { drainTimeoutSeconds: 1 }, { disruption: "d2" },
                { kubeletVersion: "v1.35.0" }, { readyTimeoutSeconds: 1 }, { version: "2" }, { access: { ...inputs.access, server: "https://x" } },
            ];
            for (const change of changes) {
                assert.deepEqual(await provider.diff!("worker1", inputs, { ...inputs, ...change }), { changes: true, replaces: [], deleteBeforeReplace: false }, JSON.stringify(change));
            }
            assert.deepEqual(await provider.diff!("worker1", inputs, { ...inputs, nodeName: "worker2" }), { changes: true, replaces: ["nodeName"], deleteBeforeReplace: false });
            // The slot count and the wait follow the node count: a node added elsewhere changes no node's gate or release.
            assert.deepEqual(await provider.diff!("worker1", inputs, { ...inputs, slots: 2, waitSeconds: 1 }), { changes: false, replaces: [], deleteBeforeReplace: false });
        }
    });

    it("create does nothing but record; an update that is not disruptive keeps the gate's slot and calls nothing", async () => {
        assert.deepEqual(await r.rolloutGateProvider.create(inputs), { id: "worker1", outs: { ...inputs, slot: -1 } });
        assert.deepEqual(await r.rolloutReleaseProvider.create(inputs), { id: "worker1", outs: inputs });
        // The API server in `inputs` cannot be reached: any call would fail.
        assert.deepEqual(await r.rolloutGateProvider.update!("worker1", { ...inputs, slot: 3 } as any, { ...inputs, holder: "new" }), { outs: { ...inputs, holder: "new", slot: 3 } });
        assert.deepEqual(await r.rolloutGateProvider.update!("worker1", inputs, inputs), { outs: { ...inputs, slot: -1 } });
        assert.deepEqual(await r.rolloutReleaseProvider.update!("worker1", inputs, { ...inputs, holder: "new" }), { outs: { ...inputs, holder: "new" } });
        await r.rolloutGateProvider.delete!("worker1", inputs);
    });

    it("a disruptive update reaches the API server: the gate takes a slot, the release waits for the node; delete releases", async () => {
        const news = { ...inputs, disruption: "d2" };
        await assert.rejects(r.rolloutGateProvider.update!("worker1", inputs, news), (e: Error) => e.message === `GET https://127.0.0.1:1${LEASES}/hardway-rollout-0: connect ECONNREFUSED 127.0.0.1:1`);
        await assert.rejects(r.rolloutReleaseProvider.update!("worker1", inputs, news), (e: Error) => e.message === "GET https://127.0.0.1:1/api/v1/nodes/worker1: connect ECONNREFUSED 127.0.0.1:1");
        await assert.rejects(r.rolloutReleaseProvider.delete!("worker1", inputs), (e: Error) => e.message === `GET https://127.0.0.1:1${LEASES}/hardway-rollout-0: connect ECONNREFUSED 127.0.0.1:1`);
    });
});

describe("rollout: the drain's eviction, its deadline, and the holder", () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const r = require("../providers/rollout") as typeof import("../providers/rollout");
    const NODE = "/api/v1/nodes/worker1";
    const PODS = "/api/v1/pods?fieldSelector=spec.nodeName%3Dworker1";

    it("evicts with a policy/v1 Eviction naming the pod, and polls until the drain timeout", async () => {
        let lists = 0;
        const calls: { call: string; body: unknown }[] = [];
        const request: Request = async (method, path, body) => {
            calls.push({ call: `${method} ${path}`, body });
            if (method === "GET" && path === NODE) {
                return { status: 200, body: { spec: { unschedulable: true } } };
            }
            if (method === "GET" && path === PODS) {
                lists++;
                return { status: 200, body: { items: lists < 3 ? [{ metadata: { name: "web", namespace: "shop" } }] : [] } };
            }
            return { status: 429, body: { message: "budget" } };
        };
        assert.equal(await r.cordonAndDrain(request, "worker1", "h", 5, 1), false);
        assert.equal(lists, 3, "polled again within the 5 s drain timeout");
        assert.deepEqual(calls.find((c) => c.call.startsWith("POST"))!, {
            call: "POST /api/v1/namespaces/shop/pods/web/eviction",
            body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "web", namespace: "shop" } },
        });
    });

    it("slotHolders asks for each slot once", async () => {
        const asked: string[] = [];
        await slotHolders(async (_m, path) => {
            asked.push(path);
            return { status: 404, body: {} };
        }, 2);
        assert.deepEqual(asked, [`${LEASES}/hardway-rollout-0`, `${LEASES}/hardway-rollout-1`]);
    });
});
