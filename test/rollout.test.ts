/**
 * The rollout slots (providers/rolloutSlot.ts) against an in-memory Lease
 * API with the API server's conflict rules: slot limits, expiry, a holder
 * that crashes midway, and concurrent holders racing for the same slots.
 */
import { strict as assert } from "assert";
import { ApiResponse } from "../providers/kubeApi";
import { Request, releaseSlots, slotCount, slotHeld, slotHolders, takeSlot, tryTakeSlot } from "../providers/rolloutSlot";

const LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";

/** Leases in memory: create refuses an existing name, update and delete refuse a stale resourceVersion (409), as the API server does. */
class FakeLeases {
    readonly leases = new Map<string, any>();
    private rv = 1;
    calls = 0;
    /** Called on each request (a clock that moves, a race); the fake yields between requests, so concurrent callers interleave. */
    onRequest: () => void = () => undefined;

    request: Request = async (method, path, body) => {
        this.calls++;
        this.onRequest();
        await new Promise((r) => setImmediate(r));
        const name = path.startsWith(`${LEASES}/`) ? path.slice(LEASES.length + 1) : undefined;
        const answer = (status: number, b?: unknown): ApiResponse => ({ status, body: b === undefined ? undefined : JSON.parse(JSON.stringify(b)) });
        const existing = name ? this.leases.get(name) : undefined;
        switch (method) {
            case "GET":
                return existing ? answer(200, existing) : answer(404, { message: "not found" });
            case "POST": {
                const lease = body as any;
                if (this.leases.has(lease.metadata.name)) {
                    return answer(409, { message: "already exists" });
                }
                const stored = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(this.rv++) } };
                this.leases.set(lease.metadata.name, stored);
                return answer(201, stored);
            }
            case "PUT": {
                const lease = body as any;
                if (!existing || existing.metadata.resourceVersion !== lease.metadata.resourceVersion) {
                    return answer(409, { message: "the object has been modified" });
                }
                const stored = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(this.rv++) } };
                this.leases.set(name!, stored);
                return answer(200, stored);
            }
            case "DELETE": {
                if (!existing) {
                    return answer(404, { message: "not found" });
                }
                const want = (body as any)?.preconditions?.resourceVersion;
                if (want && existing.metadata.resourceVersion !== want) {
                    return answer(409, { message: "precondition failed" });
                }
                this.leases.delete(name!);
                return answer(200, {});
            }
        }
        return answer(405);
    };
}

describe("rollout slots: maxUnavailable as a number of nodes", () => {
    it("N, or P% of the nodes rounded down, at least 1", () => {
        const table: [number | string, number, number][] = [
            [1, 4, 1],
            [2, 4, 2],
            [0, 4, 1],
            ["25%", 4, 1],
            ["50%", 4, 2],
            ["10%", 4, 1],
            ["100%", 4, 4],
            ["30%", 10, 3],
        ];
        for (const [max, nodes, want] of table) {
            assert.equal(slotCount(max, nodes), want, `${max} of ${nodes}`);
        }
        assert.throws(() => slotCount("half", 4), (e: Error) => e.message === 'maxUnavailable "half" is neither a number nor a percentage');
    });

    it("a Lease holds a slot while it has a holder and renewTime + duration is ahead", () => {
        const lease = (holder: string, renew: string, seconds: number) => ({ spec: { holderIdentity: holder, renewTime: renew, leaseDurationSeconds: seconds } });
        const t = Date.parse("2026-01-01T00:00:00Z");
        assert.equal(slotHeld(lease("a", "2026-01-01T00:00:00.000000Z", 60), t + 59_000), true);
        assert.equal(slotHeld(lease("a", "2026-01-01T00:00:00.000000Z", 60), t + 60_000), false);
        assert.equal(slotHeld(lease("", "2026-01-01T00:00:00.000000Z", 60), t), false);
        assert.equal(slotHeld(undefined, t), false);
    });
});

describe("rollout slots against a fake Lease API", () => {
    let api: FakeLeases;
    let clock: number;
    const now = () => clock;
    const opts = (holder: string, extra: Partial<Parameters<typeof takeSlot>[1]> = {}) => ({ holder, slots: 2, leaseSeconds: 30, waitSeconds: 60, pollMs: 1, now, ...extra });
    beforeEach(() => {
        api = new FakeLeases();
        clock = Date.parse("2026-01-01T00:00:00Z");
    });

    it("limits: two slots, a third holder waits until one is released", async () => {
        assert.deepEqual(await tryTakeSlot(api.request, opts("worker1@a")), { slot: 0 });
        assert.deepEqual(await tryTakeSlot(api.request, opts("worker2@a")), { slot: 1 });
        assert.deepEqual(await tryTakeSlot(api.request, opts("worker3@a")), { holders: ["hardway-rollout-0: worker1@a", "hardway-rollout-1: worker2@a"] });
        assert.deepEqual(await releaseSlots(api.request, "worker1@a", 2), [0]);
        assert.deepEqual(await tryTakeSlot(api.request, opts("worker3@a")), { slot: 0 });
        assert.deepEqual(await slotHolders(api.request, 2, clock), { "hardway-rollout-0": "worker3@a", "hardway-rollout-1": "worker2@a" });
        const lease = api.leases.get("hardway-rollout-0");
        assert.equal(lease.spec.leaseDurationSeconds, 30);
        assert.equal(lease.spec.renewTime, "2026-01-01T00:00:00.000000Z");
    });

    it("a holder that takes its slot again (a repeated run) keeps the same slot", async () => {
        assert.deepEqual(await tryTakeSlot(api.request, opts("worker1@a")), { slot: 0 });
        assert.deepEqual(await tryTakeSlot(api.request, opts("worker1@a")), { slot: 0 });
        assert.equal(api.leases.size, 1);
    });

    it("expiry: a slot not released within its duration is free for the next holder", async () => {
        await takeSlot(api.request, opts("worker1@a", { slots: 1 }));
        clock += 29_000;
        assert.deepEqual(await tryTakeSlot(api.request, opts("worker2@b", { slots: 1 })), { holders: ["hardway-rollout-0: worker1@a"] });
        clock += 2_000;
        assert.deepEqual(await tryTakeSlot(api.request, opts("worker2@b", { slots: 1 })), { slot: 0 });
        // The crashed holder's late release leaves the new holder's slot alone.
        assert.deepEqual(await releaseSlots(api.request, "worker1@a", 1), []);
        assert.deepEqual(await slotHolders(api.request, 1, clock), { "hardway-rollout-0": "worker2@b" });
    });

    it("a crash midway: the next holder waits, then takes the slot once it expires", async () => {
        await takeSlot(api.request, opts("worker1@a", { slots: 1 }));
        // worker1's run dies here: no release. Time passes with every request of the waiting holder.
        api.onRequest = () => (clock += 1_000);
        const slot = await takeSlot(api.request, opts("worker2@a", { slots: 1 }));
        assert.equal(slot, 0);
        assert.ok(clock - Date.parse("2026-01-01T00:00:00Z") >= 30_000, "not before the crashed holder's lease ran out");
        assert.deepEqual(await slotHolders(api.request, 1, clock), { "hardway-rollout-0": "worker2@a" });
    });

    it("no slot within the wait: the error names the holders", async () => {
        await takeSlot(api.request, opts("worker1@a"));
        await takeSlot(api.request, opts("worker2@a"));
        api.onRequest = () => (clock += 1_000);
        await assert.rejects(
            takeSlot(api.request, opts("worker3@a", { leaseSeconds: 30, waitSeconds: 5 })),
            (e: Error) => e.message === "worker3@a: no rollout slot of 2 came free within 5s (hardway-rollout-0: worker1@a, hardway-rollout-1: worker2@a)",
        );
    });

    it("concurrent holders racing for two slots: exactly two win, on different slots", async () => {
        const results = await Promise.all(["a", "b", "c", "d", "e", "f"].map((h) => tryTakeSlot(api.request, opts(`${h}@x`))));
        const won = results.filter((r): r is { slot: number } => "slot" in r);
        assert.equal(won.length, 2);
        assert.deepEqual(won.map((r) => r.slot).sort(), [0, 1]);
        assert.equal(Object.keys(await slotHolders(api.request, 2, clock)).length, 2);
    });

    it("four nodes, one slot, each taking, working and releasing concurrently: never two at once, all done", async () => {
        let inside = 0;
        let most = 0;
        const done: string[] = [];
        await Promise.all(
            ["worker1", "worker2", "cp1", "cp2"].map(async (node) => {
                const holder = `${node}@stack`;
                await takeSlot(api.request, opts(holder, { slots: 1 }));
                inside++;
                most = Math.max(most, inside);
                await new Promise((r) => setTimeout(r, 5));
                inside--;
                done.push(node);
                await releaseSlots(api.request, holder, 1);
            }),
        );
        assert.equal(most, 1);
        assert.deepEqual(done.sort(), ["cp1", "cp2", "worker1", "worker2"]);
        assert.equal(api.leases.size, 0, "every slot was released");
    });

    it("two stacks of the same cluster share the slots", async () => {
        assert.deepEqual(await tryTakeSlot(api.request, opts("worker1@stack-a", { slots: 1 })), { slot: 0 });
        assert.deepEqual(await tryTakeSlot(api.request, opts("worker9@stack-b", { slots: 1 })), { holders: ["hardway-rollout-0: worker1@stack-a"] });
    });
});

describe("rollout: which updates are disruptive, and the config", () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { validateConfig } = require("../components/config/validate") as typeof import("../components/config/validate");
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { disruptionOf, leaseSecondsOf, slotWaitSecondsOf } = require("../components/node/rollout") as typeof import("../components/node/rollout");
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { baseConfig } = require("./support/program") as typeof import("./support/program");

    it("a new binary or a containerd restart is disruptive; config-only changes are not", () => {
        const base = disruptionOf(validateConfig(baseConfig({ kubernetesVersion: "1.30.14" })));
        const table: [Record<string, unknown>, boolean][] = [
            [{}, false],
            [{ clusterCidr: "10.200.0.0/16" }, false],
            [{ clusterDns: ["10.96.0.11"] }, false],
            [{ kubeProxyMode: "iptables" }, false],
            [{ certValidityHours: 1000 }, false],
            [{ kubernetesVersion: "1.34.4" }, true],
            [{ kubernetesVersion: "1.30.13" }, true],
            [{ cgroupDriver: "cgroupfs" }, true],
            [{ containerdConfigVersion: "2" }, true],
            [{ downloads: { kubernetesBaseUrl: "http://mirror.example/release" } }, true],
        ];
        for (const [change, disruptive] of table) {
            const d = disruptionOf(validateConfig(baseConfig({ kubernetesVersion: "1.30.14", ...change })));
            assert.equal(d !== base, disruptive, JSON.stringify(change));
        }
    });

    it("rollout.maxUnavailable: a whole number or a percentage, default 1", () => {
        assert.deepEqual(validateConfig(baseConfig()).rollout, { maxUnavailable: 1 });
        assert.deepEqual(validateConfig(baseConfig({ rollout: { maxUnavailable: 2 } })).rollout, { maxUnavailable: 2 });
        assert.deepEqual(validateConfig(baseConfig({ rollout: { maxUnavailable: "25%" } })).rollout, { maxUnavailable: "25%" });
        const bad: [unknown, string][] = [
            [{ maxUnavailable: 0 }, 'hardway-workers:rollout.maxUnavailable: 0 is neither a whole number of nodes (1 or more) nor a percentage ("1%" to "100%")'],
            [{ maxUnavailable: "0%" }, 'hardway-workers:rollout.maxUnavailable: "0%" is neither a whole number of nodes (1 or more) nor a percentage ("1%" to "100%")'],
            [{ maxUnavailable: "150%" }, 'hardway-workers:rollout.maxUnavailable: "150%" is neither a whole number of nodes (1 or more) nor a percentage ("1%" to "100%")'],
            [{ maxSurge: 1 }, "hardway-workers:rollout.maxSurge: is not a known rollout key (known: maxUnavailable)"],
            [[1], 'hardway-workers:rollout: must be an object {maxUnavailable: N | "P%"}'],
        ];
        for (const [value, message] of bad) {
            assert.throws(() => validateConfig(baseConfig({ rollout: value })), (e: Error) => e.message.split("\n").includes(`  - ${message}`), JSON.stringify(value));
        }
    });

    it("a slot's lease covers the drain, the update and the wait for Ready; a node waits for every batch before it", () => {
        assert.equal(leaseSecondsOf({ drainTimeoutSeconds: 120, nodeReadyTimeoutSeconds: 300 }), 1320);
        assert.equal(slotWaitSecondsOf(1320, 4, 1), 5280);
        assert.equal(slotWaitSecondsOf(1320, 4, 2), 2640);
    });
});

describe("rollout: cordon, drain and uncordon against a fake API", () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { cordonAndDrain, uncordonIfOurs, ROLLOUT_CORDON } = require("../providers/rollout") as typeof import("../providers/rollout");

    /** One Node and its pods; merge-patches of the Node, evictions that delete the pod. */
    function fakeCluster(node: any | undefined, pods: any[]) {
        const calls: string[] = [];
        const request: Request = async (method, path, body) => {
            calls.push(`${method} ${path.split("?")[0]}`);
            if (path.startsWith("/api/v1/nodes/")) {
                if (!node) {
                    return { status: 404, body: { message: "not found" } };
                }
                if (method === "PATCH") {
                    const b = body as any;
                    node.spec = { ...node.spec, ...b.spec };
                    const annotations = { ...(node.metadata.annotations ?? {}), ...(b.metadata?.annotations ?? {}) };
                    for (const [k, v] of Object.entries(annotations)) {
                        if (v === null) {
                            delete annotations[k];
                        }
                    }
                    node.metadata.annotations = annotations;
                }
                return { status: 200, body: JSON.parse(JSON.stringify(node)) };
            }
            if (path.startsWith("/api/v1/pods")) {
                return { status: 200, body: { items: pods } };
            }
            if (path.endsWith("/eviction")) {
                const name = (body as any).metadata.name;
                pods.splice(pods.findIndex((p) => p.metadata.name === name), 1);
                return { status: 201, body: {} };
            }
            return { status: 405, body: undefined };
        };
        return { request, calls };
    }
    const pod = (name: string, daemonSet = false) => ({
        metadata: { name, namespace: "default", ...(daemonSet ? { ownerReferences: [{ kind: "DaemonSet", controller: true }] } : {}) },
    });

    it("cordons with its mark, evicts all but DaemonSet pods, and the release uncordons", async () => {
        const node = { metadata: { name: "worker1" }, spec: {} as any };
        const pods = [pod("app"), pod("ds", true)];
        const c = fakeCluster(node, pods);
        assert.equal(await cordonAndDrain(c.request, "worker1", "worker1@p/s", 10, 1), true);
        assert.equal(node.spec.unschedulable, true);
        assert.equal((node.metadata as any).annotations[ROLLOUT_CORDON], "worker1@p/s");
        assert.deepEqual(pods.map((p) => p.metadata.name), ["ds"]);
        assert.equal(await uncordonIfOurs(c.request, "worker1"), true);
        assert.equal(node.spec.unschedulable, false);
        assert.deepEqual((node.metadata as any).annotations, {});
    });

    it("a node cordoned before stays cordoned; a node not in the cluster is skipped", async () => {
        const node = { metadata: { name: "worker1" }, spec: { unschedulable: true } as any };
        const c = fakeCluster(node, []);
        assert.equal(await cordonAndDrain(c.request, "worker1", "h", 10, 1), false);
        assert.equal(await uncordonIfOurs(c.request, "worker1"), false);
        assert.equal(node.spec.unschedulable, true);
        assert.deepEqual(c.calls.filter((x) => x.startsWith("PATCH")), []);
        const gone = fakeCluster(undefined, []);
        assert.equal(await cordonAndDrain(gone.request, "worker9", "h", 10, 1), false);
        assert.deepEqual(gone.calls, ["GET /api/v1/nodes/worker9"]);
    });
});

describe("rollout: the release waits for the new kubelet", () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { waitForVersion } = require("../providers/rollout") as typeof import("../providers/rollout");

    it("until the node reports the version and Ready; a timeout names what it last saw", async () => {
        const states = [
            { kubeletVersion: "v1.30.14", ready: "True" },
            { kubeletVersion: "v1.34.4", ready: "False" },
            { kubeletVersion: "v1.34.4", ready: "True" },
        ];
        let i = 0;
        const request: Request = async () => {
            const s = states[Math.min(i++, states.length - 1)];
            return { status: 200, body: { status: { nodeInfo: { kubeletVersion: s.kubeletVersion }, conditions: [{ type: "Ready", status: s.ready }] } } };
        };
        await waitForVersion(request, "worker1", "v1.34.4", 30, 1);
        assert.equal(i, 3);
        i = 0;
        await assert.rejects(
            waitForVersion(async () => ({ status: 200, body: { status: { nodeInfo: { kubeletVersion: "v1.30.14" }, conditions: [{ type: "Ready", status: "True" }] } } }), "worker1", "v1.34.4", 0, 1),
            (e: Error) => e.message === "node worker1 was not Ready on kubelet v1.34.4 within 0s after its update: kubelet v1.30.14, Ready=True",
        );
        await waitForVersion(async () => ({ status: 404, body: {} }), "gone", "v1.34.4", 0, 1);
    });
});

describe("rollout: what changes a gate or a release", () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { diffOf, rolloutGateProvider, rolloutReleaseProvider } = require("../providers/rollout") as typeof import("../providers/rollout");
    const base = {
        access: { server: "https://10.0.0.1:6443", caPem: "ca", certPem: "cert", keyPem: "key" },
        nodeName: "worker1",
        holder: "worker1@hardway-workers/dev",
        slots: 1,
        leaseSeconds: 1320,
        waitSeconds: 5280,
        drainTimeoutSeconds: 120,
        disruption: "d1",
        kubeletVersion: "v1.34.4",
        readyTimeoutSeconds: 300,
        version: "1",
    } as any;

    it("a node added or removed (slots and waitSeconds follow the node count) changes no other node's gate or release", async () => {
        const table: [Record<string, unknown>, boolean, string[]][] = [
            [{}, false, []],
            [{ waitSeconds: 3960 }, false, []],
            [{ slots: 2, waitSeconds: 2640 }, false, []],
            [{ disruption: "d2" }, true, []],
            [{ kubeletVersion: "v1.35.0" }, true, []],
            [{ leaseSeconds: 1500 }, true, []],
            [{ drainTimeoutSeconds: 60 }, true, []],
            [{ readyTimeoutSeconds: 600 }, true, []],
            [{ holder: "worker1@hardway-workers/prod" }, true, []],
            [{ access: { ...base.access, certPem: "cert2" } }, true, []],
            [{ version: "2" }, true, []],
            [{ nodeName: "worker3" }, true, ["nodeName"]],
        ];
        for (const [change, changes, replaces] of table) {
            const want = { changes, replaces, deleteBeforeReplace: false };
            assert.deepEqual(diffOf(base, { ...base, ...change }), want, JSON.stringify(change));
            assert.deepEqual(await rolloutGateProvider.diff!("worker1", base, { ...base, ...change }), want, `gate ${JSON.stringify(change)}`);
            assert.deepEqual(await rolloutReleaseProvider.diff!("worker1", base, { ...base, ...change }), want, `release ${JSON.stringify(change)}`);
        }
    });
});
