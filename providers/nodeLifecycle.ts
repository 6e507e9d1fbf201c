/**
 * A dynamic provider for a node's membership in the cluster.
 *
 * - create / update: waits, within `readyTimeoutSeconds`, until the Node has
 *   registered and its Ready condition is True; fails with the node's last
 *   known state otherwise. `rollout` changes whenever the node's kubelet or
 *   kube-proxy command changes, so a `pulumi up` that restarts them waits
 *   for the node again.
 * - delete: cordons the node, evicts its pods (DaemonSet and mirror pods
 *   stay, as with `kubectl drain --ignore-daemonsets`) within
 *   `drainTimeoutSeconds`, and deletes the Node object. It is registered
 *   after the node's commands, so the engine deletes it before them: the
 *   host is cleaned once the cluster has let go of the node.
 * - read (`pulumi refresh`): a Node that is gone or not Ready is recorded
 *   in `notReady`, which makes the next `pulumi up` wait for it again
 *   (after the node's commands, which repair what NodeState found).
 */
import * as pulumi from "@pulumi/pulumi";
import { watchEngine } from "./engineWatch";
import { lazyProvider } from "./lazy";
import { ApiAccess, ApiError, apiCall, apiRequest, reasonOf, sleep } from "./kubeApi";
import { hasUnknown } from "./unknown";

// Loaded by the engine's dynamic provider host: leave with the engine.
watchEngine();

/** Bump when the provider's behaviour changes; dynamic provider code changes cause no diff by themselves. */
export const NODE_LIFECYCLE_VERSION = "3";

export interface NodeLifecycleInputs {
    access: ApiAccess;
    nodeName: string;
    readyTimeoutSeconds: number;
    drainTimeoutSeconds: number;
    /** Anything whose change should make `pulumi up` wait for the node again. */
    rollout: string;
    version: string;
}

export interface NodeLifecycleOutputs extends NodeLifecycleInputs {
    uid: string;
    kubeletVersion: string;
    /** What the last refresh found wrong with the Node ("" when Ready); `pulumi up` waits for it again. */
    notReady?: string;
}

/** "" for a Ready node; otherwise why it is not (gone, no Ready condition, Ready=False with reason and message). */
export async function notReadyReason(access: ApiAccess, name: string): Promise<string> {
    const r = await apiRequest(access, "GET", nodePath(name));
    if (r.status === 404) {
        return "the Node object is gone";
    }
    if (r.status !== 200) {
        throw new ApiError(r.status, "GET", nodePath(name), reasonOf(r));
    }
    const ready = readyCondition(r.body);
    if (ready?.status === "True") {
        return "";
    }
    return ready ? `Ready=${ready.status} (${ready.reason ?? ""}: ${ready.message ?? ""})` : "it has no Ready condition";
}

/** The Ready condition of a Node object, or undefined. */
export function readyCondition(node: any): { status: string; reason?: string; message?: string } | undefined {
    return (node?.status?.conditions ?? []).find((c: any) => c.type === "Ready");
}

/** Pods a drain evicts (and waits for): all but mirror pods and DaemonSet pods. */
export function evictablePods(pods: any[]): any[] {
    return pods.filter((p) => {
        const annotations = p.metadata?.annotations ?? {};
        if (annotations["kubernetes.io/config.mirror"]) {
            return false;
        }
        if ((p.metadata?.ownerReferences ?? []).some((o: any) => o.kind === "DaemonSet" && o.controller)) {
            return false;
        }
        return true;
    });
}

const nodePath = (name: string) => `/api/v1/nodes/${encodeURIComponent(name)}`;

/** Polls until the node is Ready; throws a clear error after the timeout. */
export async function waitForReady(access: ApiAccess, name: string, timeoutSeconds: number, pollMs = 2000): Promise<any> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    let last = "it has not registered";
    for (;;) {
        let r;
        try {
            r = await apiRequest(access, "GET", nodePath(name));
        } catch (e) {
            r = undefined;
            last = `the API server did not answer (${(e as Error).message})`;
        }
        if (r && r.status === 200) {
            const ready = readyCondition(r.body);
            if (ready?.status === "True") {
                return r.body;
            }
            last = ready ? `Ready=${ready.status} (${ready.reason ?? ""}: ${ready.message ?? ""})` : "it has no Ready condition yet";
        } else if (r && r.status !== 404) {
            last = `GET node: HTTP ${r.status}: ${reasonOf(r)}`;
        }
        if (Date.now() >= deadline) {
            throw new Error(`node ${name} did not become Ready within ${timeoutSeconds}s: ${last}`);
        }
        await sleep(pollMs);
    }
}

/** Cordons, drains within the timeout, and deletes the Node object. A node that is already gone is fine. */
export async function removeNode(access: ApiAccess, name: string, drainTimeoutSeconds: number, pollMs = 2000): Promise<void> {
    const cordon = await apiRequest(access, "PATCH", nodePath(name), { spec: { unschedulable: true } }, "application/merge-patch+json");
    if (cordon.status === 404) {
        return;
    }
    if (cordon.status !== 200) {
        throw new ApiError(cordon.status, "PATCH", nodePath(name), reasonOf(cordon));
    }
    const deadline = Date.now() + drainTimeoutSeconds * 1000;
    const podsPath = `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${name}`)}`;
    for (;;) {
        const pods = evictablePods((await apiCall(access, "GET", podsPath)).body.items ?? []);
        if (pods.length === 0) {
            break;
        }
        const blocked: string[] = [];
        for (const p of pods) {
            if (p.metadata.deletionTimestamp) {
                blocked.push(`${p.metadata.namespace}/${p.metadata.name} (terminating)`);
                continue;
            }
            const path = `/api/v1/namespaces/${encodeURIComponent(p.metadata.namespace)}/pods/${encodeURIComponent(p.metadata.name)}/eviction`;
            const r = await apiRequest(access, "POST", path, {
                apiVersion: "policy/v1",
                kind: "Eviction",
                metadata: { name: p.metadata.name, namespace: p.metadata.namespace },
            });
            if (r.status === 429) {
                blocked.push(`${p.metadata.namespace}/${p.metadata.name} (eviction refused: ${reasonOf(r)})`);
            } else if (r.status !== 404 && (r.status < 200 || r.status > 299)) {
                throw new ApiError(r.status, "POST", path, reasonOf(r));
            } else {
                blocked.push(`${p.metadata.namespace}/${p.metadata.name} (evicted, terminating)`);
            }
        }
        if (Date.now() >= deadline) {
            throw new Error(`drain of node ${name} did not finish within ${drainTimeoutSeconds}s; pods left: ${blocked.join(", ")}`);
        }
        await sleep(pollMs);
    }
    await apiCall(access, "DELETE", nodePath(name), undefined, undefined, [404]);
}

/** Waits for the node to be Ready; the outputs record which Node object that was. */
async function readyOutputs(inputs: NodeLifecycleInputs): Promise<NodeLifecycleOutputs> {
    const node = await waitForReady(inputs.access, inputs.nodeName, inputs.readyTimeoutSeconds);
    return { ...inputs, uid: node.metadata.uid, kubeletVersion: node.status?.nodeInfo?.kubeletVersion ?? "", notReady: "" };
}

export const nodeLifecycleProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: any, news: any): Promise<pulumi.dynamic.CheckResult> {
        const failures: pulumi.dynamic.CheckFailure[] = [];
        for (const key of ["readyTimeoutSeconds", "drainTimeoutSeconds"]) {
            if (!hasUnknown(news[key]) && (!Number.isInteger(news[key]) || news[key] < 1)) {
                failures.push({ property: key, reason: `${key} must be a positive integer, got ${JSON.stringify(news[key])}` });
            }
        }
        if (!hasUnknown(news.nodeName) && (typeof news.nodeName !== "string" || news.nodeName === "")) {
            failures.push({ property: "nodeName", reason: "nodeName is required" });
        }
        return { inputs: news, failures };
    },

    async diff(_id: string, olds: NodeLifecycleOutputs, news: NodeLifecycleInputs): Promise<pulumi.dynamic.DiffResult> {
        const keys = ["readyTimeoutSeconds", "drainTimeoutSeconds", "rollout", "version"] as const;
        const changed =
            keys.some((k) => olds[k] !== news[k]) ||
            JSON.stringify(olds.access) !== JSON.stringify(news.access) ||
            // Drift a refresh found: wait for the node again.
            !!olds.notReady;
        const replaces = olds.nodeName !== news.nodeName ? ["nodeName"] : [];
        return { changes: changed || replaces.length > 0, replaces, deleteBeforeReplace: false };
    },

    async create(inputs: NodeLifecycleInputs): Promise<pulumi.dynamic.CreateResult> {
        return { id: inputs.nodeName, outs: await readyOutputs(inputs) };
    },

    async update(_id: string, _olds: NodeLifecycleOutputs, news: NodeLifecycleInputs): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: await readyOutputs(news) };
    },

    async delete(_id: string, olds: NodeLifecycleOutputs): Promise<void> {
        await removeNode(olds.access, olds.nodeName, olds.drainTimeoutSeconds);
    },

    async read(id: string, props: NodeLifecycleOutputs): Promise<pulumi.dynamic.ReadResult> {
        return { id, props: { ...props, notReady: await notReadyReason(props.access, props.nodeName) } };
    },
};

/** What the resource stores: a loader of nodeLifecycleProvider, not its code (see lazy.ts). */
const nodeLifecycleProviderLazy = lazyProvider("nodeLifecycle", "nodeLifecycleProvider");

export interface NodeLifecycleArgs {
    access: pulumi.Input<ApiAccess>;
    nodeName: string;
    readyTimeoutSeconds: number;
    drainTimeoutSeconds: number;
    rollout: pulumi.Input<string>;
}

/** A node's membership in the cluster: Ready after `pulumi up`, drained and deleted when it leaves the config. */
export class NodeLifecycle extends pulumi.dynamic.Resource {
    public readonly uid!: pulumi.Output<string>;
    public readonly kubeletVersion!: pulumi.Output<string>;
    public readonly notReady!: pulumi.Output<string>;

    constructor(name: string, args: NodeLifecycleArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            nodeLifecycleProviderLazy,
            name,
            { ...args, version: NODE_LIFECYCLE_VERSION, uid: undefined, kubeletVersion: undefined, notReady: undefined },
            { ...opts, additionalSecretOutputs: ["access"] },
            "hardway",
            "NodeLifecycle",
        );
    }
}
