/**
 * Rolling changes: two dynamic providers around a node's disruptive update
 * (a new kubelet or containerd binary, or a change that restarts containerd;
 * `disruption` is the digest of what decides it).
 *
 * - RolloutGate, before the node's commands: when `disruption` changes, it
 *   takes a rollout slot (rolloutSlot.ts: at most `slots` nodes of the
 *   cluster at once), then cordons the node (marking the Node with
 *   ROLLOUT_CORDON, unless it was cordoned already) and evicts its pods
 *   within `drainTimeoutSeconds`. Its create does nothing: a new node has
 *   nothing to drain, and first creation stays fully parallel.
 * - RolloutRelease, after the node's membership (which waits for Ready):
 *   when `disruption` changes, it uncordons the node if the gate cordoned it
 *   and releases the slot. Its create does nothing.
 *
 * A run that dies between the two leaves the slot taken until its Lease's
 * duration (`leaseSeconds`) runs out, and the node cordoned until the next
 * run's release.
 */
import * as pulumi from "@pulumi/pulumi";
import { watchEngine } from "./engineWatch";
import { lazyProvider } from "./lazy";
import { ApiAccess, ApiError, reasonOf, sleep } from "./kubeApi";
import { evictablePods } from "./nodeLifecycle";
import { Request, releaseSlots, requestOf, takeSlot } from "./rolloutSlot";

// Loaded by the engine's dynamic provider host: leave with the engine.
watchEngine();

export const ROLLOUT_VERSION = "1";
/** The annotation that marks a Node the rollout cordoned (its value: the holder). */
export const ROLLOUT_CORDON = "hardway-workers/rollout-cordon";

export interface RolloutInputs {
    access: ApiAccess;
    nodeName: string;
    /** `<node>@<project>/<stack>`: who holds the slot. */
    holder: string;
    slots: number;
    leaseSeconds: number;
    waitSeconds: number;
    drainTimeoutSeconds: number;
    /** What makes an update disruptive; a change takes a slot. */
    disruption: string;
    /** The kubelet version the node must report (`v1.34.4`), Ready, before the release uncordons it. */
    kubeletVersion: string;
    readyTimeoutSeconds: number;
    version: string;
}

const nodePath = (name: string) => `/api/v1/nodes/${encodeURIComponent(name)}`;

/** Cordons the node (marking it, unless it was cordoned before) and evicts its pods. A node not in the cluster is fine. Returns whether it cordoned it. */
export async function cordonAndDrain(request: Request, name: string, holder: string, drainTimeoutSeconds: number, pollMs = 2000): Promise<boolean> {
    const got = await request("GET", nodePath(name));
    if (got.status === 404) {
        return false;
    }
    if (got.status !== 200) {
        throw new ApiError(got.status, "GET", nodePath(name), reasonOf(got));
    }
    let cordoned = false;
    if (!got.body?.spec?.unschedulable) {
        const r = await request("PATCH", nodePath(name), { metadata: { annotations: { [ROLLOUT_CORDON]: holder } }, spec: { unschedulable: true } }, "application/merge-patch+json");
        if (r.status !== 200) {
            throw new ApiError(r.status, "PATCH", nodePath(name), reasonOf(r));
        }
        cordoned = true;
    }
    const deadline = Date.now() + drainTimeoutSeconds * 1000;
    const podsPath = `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${name}`)}`;
    for (;;) {
        const list = await request("GET", podsPath);
        if (list.status !== 200) {
            throw new ApiError(list.status, "GET", podsPath, reasonOf(list));
        }
        const pods = evictablePods(list.body?.items ?? []);
        if (pods.length === 0) {
            return cordoned;
        }
        const left: string[] = [];
        for (const p of pods) {
            const id = `${p.metadata.namespace}/${p.metadata.name}`;
            if (p.metadata.deletionTimestamp) {
                left.push(`${id} (terminating)`);
                continue;
            }
            const path = `/api/v1/namespaces/${encodeURIComponent(p.metadata.namespace)}/pods/${encodeURIComponent(p.metadata.name)}/eviction`;
            const r = await request("POST", path, { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: p.metadata.name, namespace: p.metadata.namespace } });
            if (r.status === 429) {
                left.push(`${id} (eviction refused: ${reasonOf(r)})`);
            } else if (r.status !== 404 && (r.status < 200 || r.status > 299)) {
                throw new ApiError(r.status, "POST", path, reasonOf(r));
            } else {
                left.push(`${id} (evicted, terminating)`);
            }
        }
        if (Date.now() >= deadline) {
            throw new Error(`drain of node ${name} for its update did not finish within ${drainTimeoutSeconds}s; pods left: ${left.join(", ")}`);
        }
        await sleep(pollMs);
    }
}

/** Waits until the node reports the kubelet version and is Ready (a node not in the cluster is fine); throws after the timeout with what it last saw. */
export async function waitForVersion(request: Request, name: string, kubeletVersion: string, timeoutSeconds: number, pollMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    let last = "";
    for (;;) {
        const got = await request("GET", nodePath(name));
        if (got.status === 404) {
            return;
        }
        if (got.status === 200) {
            const ready = (got.body?.status?.conditions ?? []).find((c: any) => c.type === "Ready")?.status;
            const version = got.body?.status?.nodeInfo?.kubeletVersion;
            if (ready === "True" && version === kubeletVersion) {
                return;
            }
            last = `kubelet ${version ?? "unknown"}, Ready=${ready ?? "unknown"}`;
        } else {
            last = `GET node: HTTP ${got.status}: ${reasonOf(got)}`;
        }
        if (Date.now() >= deadline) {
            throw new Error(`node ${name} was not Ready on kubelet ${kubeletVersion} within ${timeoutSeconds}s after its update: ${last}`);
        }
        await sleep(pollMs);
    }
}

/** Uncordons the node when the rollout cordoned it (its mark is there); a node cordoned by someone else stays cordoned. */
export async function uncordonIfOurs(request: Request, name: string): Promise<boolean> {
    const got = await request("GET", nodePath(name));
    if (got.status === 404) {
        return false;
    }
    if (got.status !== 200) {
        throw new ApiError(got.status, "GET", nodePath(name), reasonOf(got));
    }
    if (got.body?.metadata?.annotations?.[ROLLOUT_CORDON] === undefined) {
        return false;
    }
    const r = await request("PATCH", nodePath(name), { metadata: { annotations: { [ROLLOUT_CORDON]: null } }, spec: { unschedulable: false } }, "application/merge-patch+json");
    if (r.status !== 200) {
        throw new ApiError(r.status, "PATCH", nodePath(name), reasonOf(r));
    }
    return true;
}

/**
 * What makes a gate or release change. Not `slots` and `waitSeconds`: they
 * follow the number of nodes, and a node added or removed must not update
 * every other node's gate and release. A disruptive update reads them from
 * the new inputs, so they are current when they matter.
 */
const DIFF_KEYS = ["nodeName", "holder", "leaseSeconds", "drainTimeoutSeconds", "disruption", "kubeletVersion", "readyTimeoutSeconds", "version"] as const;

export function diffOf(olds: RolloutInputs, news: RolloutInputs): pulumi.dynamic.DiffResult {
    const changed = DIFF_KEYS.some((k) => olds[k] !== news[k]) || JSON.stringify(olds.access) !== JSON.stringify(news.access);
    return { changes: changed, replaces: olds.nodeName !== news.nodeName ? ["nodeName"] : [], deleteBeforeReplace: false };
}

export const rolloutGateProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: any, news: any) {
        return { inputs: news, failures: [] };
    },
    async diff(_id: string, olds: RolloutInputs, news: RolloutInputs) {
        return diffOf(olds, news);
    },
    async create(inputs: RolloutInputs) {
        return { id: inputs.nodeName, outs: { ...inputs, slot: -1 } };
    },
    async update(_id: string, olds: RolloutInputs, news: RolloutInputs) {
        if (olds.disruption === news.disruption) {
            return { outs: { ...news, slot: (olds as any).slot ?? -1 } };
        }
        const request = requestOf(news.access);
        const slot = await takeSlot(request, { holder: news.holder, slots: news.slots, leaseSeconds: news.leaseSeconds, waitSeconds: news.waitSeconds });
        await cordonAndDrain(request, news.nodeName, news.holder, news.drainTimeoutSeconds);
        return { outs: { ...news, slot } };
    },
    async delete() {
        // The release (or the Lease's duration) frees the slot.
    },
};

export const rolloutReleaseProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: any, news: any) {
        return { inputs: news, failures: [] };
    },
    async diff(_id: string, olds: RolloutInputs, news: RolloutInputs) {
        return diffOf(olds, news);
    },
    async create(inputs: RolloutInputs) {
        return { id: inputs.nodeName, outs: inputs };
    },
    async update(_id: string, olds: RolloutInputs, news: RolloutInputs) {
        if (olds.disruption !== news.disruption) {
            const request = requestOf(news.access);
            await waitForVersion(request, news.nodeName, news.kubeletVersion, news.readyTimeoutSeconds);
            await uncordonIfOurs(request, news.nodeName);
            await releaseSlots(request, news.holder, news.slots);
        }
        return { outs: news };
    },
    async delete(_id: string, olds: RolloutInputs) {
        await releaseSlots(requestOf(olds.access), olds.holder, olds.slots);
    },
};

/** Who holds a node's slot: the node and the stack (two stacks of one cluster share the slots). */
export function holderOf(nodeName: string): string {
    return `${nodeName}@${pulumi.getProject()}/${pulumi.getStack()}`;
}

export type RolloutArgs = { [K in keyof Omit<RolloutInputs, "version" | "access">]: pulumi.Input<RolloutInputs[K]> } & { access: pulumi.Input<ApiAccess> };

/**
 * What the resources store: loaders of the two providers, not their code (see
 * lazy.ts). One object each for the whole program, so that the SDK serializes
 * each once (it caches by provider object), not once per node.
 */
const rolloutGateProviderLazy = lazyProvider("rollout", "rolloutGateProvider");
const rolloutReleaseProviderLazy = lazyProvider("rollout", "rolloutReleaseProvider");

/** Before a node's commands: takes a slot and drains the node when its update is disruptive. */
export class RolloutGate extends pulumi.dynamic.Resource {
    constructor(name: string, args: RolloutArgs, opts?: pulumi.CustomResourceOptions) {
        super(rolloutGateProviderLazy, name, { ...args, version: ROLLOUT_VERSION, slot: undefined }, { ...opts, additionalSecretOutputs: ["access"] }, "hardway", "RolloutGate");
    }
}

/** After a node's membership is Ready again: uncordons the node and releases its slot. */
export class RolloutRelease extends pulumi.dynamic.Resource {
    constructor(name: string, args: RolloutArgs, opts?: pulumi.CustomResourceOptions) {
        super(rolloutReleaseProviderLazy, name, { ...args, version: ROLLOUT_VERSION }, { ...opts, additionalSecretOutputs: ["access"] }, "hardway", "RolloutRelease");
    }
}
