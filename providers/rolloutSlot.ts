/**
 * Rolling changes: a semaphore of `maxUnavailable` slots, each a
 * coordination.k8s.io Lease in kube-system (`hardway-rollout-<i>`), so that
 * at most that many nodes of the cluster are being disrupted at once, even
 * across two stacks' concurrent `pulumi up`s. A slot is a Lease whose
 * holder is set and whose renewTime + leaseDurationSeconds is in the
 * future; a holder that crashed frees its slot when that time passes.
 * Taking a slot is a create (the Lease did not exist) or an update with the
 * Lease's resourceVersion (it was free or expired): the API server refuses
 * the loser of a race with 409, and the loser tries the next slot.
 *
 * Everything here talks to the API through a `request` function, so that
 * the fast suite runs it against an in-memory fake (test/rollout.test.ts).
 */
import { ApiAccess, ApiError, ApiResponse, apiRequest, reasonOf, sleep } from "./kubeApi";

export type Request = (method: string, path: string, body?: unknown, contentType?: string) => Promise<ApiResponse>;

/** The request function of the real API server. */
export function requestOf(access: ApiAccess): Request {
    return (method, path, body, contentType) => apiRequest(access, method, path, body, contentType);
}

export const SLOT_NAMESPACE = "kube-system";
export const SLOT_PREFIX = "hardway-rollout-";
const LEASES = `/apis/coordination.k8s.io/v1/namespaces/${SLOT_NAMESPACE}/leases`;

export const slotName = (i: number) => `${SLOT_PREFIX}${i}`;
const slotPath = (i: number) => `${LEASES}/${slotName(i)}`;

/** `maxUnavailable` as a number of nodes: N, or P% of the nodes rounded down, at least 1. */
export function slotCount(maxUnavailable: number | string, nodes: number): number {
    if (typeof maxUnavailable === "number") {
        return Math.max(1, Math.floor(maxUnavailable));
    }
    const m = /^(\d+)%$/.exec(maxUnavailable);
    if (!m) {
        throw new Error(`maxUnavailable ${JSON.stringify(maxUnavailable)} is neither a number nor a percentage`);
    }
    return Math.max(1, Math.floor((Number(m[1]) * nodes) / 100));
}

/** MicroTime as the API server writes it. */
function microTime(ms: number): string {
    return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** Whether a Lease holds a slot at `now`: a holder, and a renewTime + duration still ahead. */
export function slotHeld(lease: any, now: number): boolean {
    const holder = lease?.spec?.holderIdentity;
    const renewed = Date.parse(lease?.spec?.renewTime ?? lease?.spec?.acquireTime ?? "");
    const seconds = Number(lease?.spec?.leaseDurationSeconds ?? 0);
    return Boolean(holder) && Number.isFinite(renewed) && renewed + seconds * 1000 > now;
}

export interface SlotOptions {
    /** Who takes the slot: the node and the run (`<node>@<stack>`); taking it again is fine. */
    holder: string;
    slots: number;
    /** How long the slot stays taken without a release (a crashed run's slot frees itself after this). */
    leaseSeconds: number;
    /** How long to wait for a free slot. */
    waitSeconds: number;
    pollMs?: number;
    now?: () => number;
}

function leaseOf(i: number, holder: string, leaseSeconds: number, now: number, resourceVersion?: string): any {
    return {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: slotName(i), namespace: SLOT_NAMESPACE, ...(resourceVersion ? { resourceVersion } : {}), labels: { "app.kubernetes.io/managed-by": "hardway-workers" } },
        spec: { holderIdentity: holder, leaseDurationSeconds: leaseSeconds, acquireTime: microTime(now), renewTime: microTime(now) },
    };
}

/** One pass over the slots: the index taken, or the holders seen. */
export async function tryTakeSlot(request: Request, o: SlotOptions): Promise<{ slot: number } | { holders: string[] }> {
    const now = (o.now ?? Date.now)();
    const holders: string[] = [];
    for (let i = 0; i < o.slots; i++) {
        const got = await request("GET", slotPath(i));
        if (got.status === 404) {
            const created = await request("POST", LEASES, leaseOf(i, o.holder, o.leaseSeconds, now));
            if (created.status === 201 || created.status === 200) {
                return { slot: i };
            }
            if (created.status !== 409) {
                throw new ApiError(created.status, "POST", LEASES, reasonOf(created));
            }
            holders.push(`${slotName(i)}: taken meanwhile`);
            continue;
        }
        if (got.status !== 200) {
            throw new ApiError(got.status, "GET", slotPath(i), reasonOf(got));
        }
        const lease = got.body;
        if (slotHeld(lease, now) && lease.spec.holderIdentity !== o.holder) {
            holders.push(`${slotName(i)}: ${lease.spec.holderIdentity}`);
            continue;
        }
        const put = await request("PUT", slotPath(i), leaseOf(i, o.holder, o.leaseSeconds, now, lease.metadata?.resourceVersion));
        if (put.status === 200) {
            return { slot: i };
        }
        if (put.status !== 409) {
            throw new ApiError(put.status, "PUT", slotPath(i), reasonOf(put));
        }
        holders.push(`${slotName(i)}: taken meanwhile`);
    }
    return { holders };
}

/** Takes a slot, waiting for one to be released or to expire; fails after waitSeconds naming the holders. */
export async function takeSlot(request: Request, o: SlotOptions): Promise<number> {
    const now = o.now ?? Date.now;
    const deadline = now() + o.waitSeconds * 1000;
    for (;;) {
        const r = await tryTakeSlot(request, o);
        if ("slot" in r) {
            return r.slot;
        }
        if (now() >= deadline) {
            throw new Error(`${o.holder}: no rollout slot of ${o.slots} came free within ${o.waitSeconds}s (${r.holders.join(", ")})`);
        }
        await sleep(o.pollMs ?? 2000);
    }
}

/** Releases every slot this holder has (there is one, unless a run was repeated); a slot taken over since is left alone. */
export async function releaseSlots(request: Request, holder: string, slots: number): Promise<number[]> {
    const released: number[] = [];
    for (let i = 0; i < slots; i++) {
        const got = await request("GET", slotPath(i));
        if (got.status === 404) {
            continue;
        }
        if (got.status !== 200) {
            throw new ApiError(got.status, "GET", slotPath(i), reasonOf(got));
        }
        if (got.body?.spec?.holderIdentity !== holder) {
            continue;
        }
        const r = await request("DELETE", slotPath(i), { kind: "DeleteOptions", apiVersion: "v1", preconditions: { resourceVersion: got.body.metadata?.resourceVersion } });
        if (r.status === 200 || r.status === 404) {
            released.push(i);
        } else if (r.status !== 409) {
            throw new ApiError(r.status, "DELETE", slotPath(i), reasonOf(r));
        }
    }
    return released;
}

/** The holders of the slots now, by slot name (for messages and tests). */
export async function slotHolders(request: Request, slots: number, now = Date.now()): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (let i = 0; i < slots; i++) {
        const got = await request("GET", slotPath(i));
        if (got.status === 200 && slotHeld(got.body, now)) {
            out[slotName(i)] = got.body.spec.holderIdentity;
        }
    }
    return out;
}
