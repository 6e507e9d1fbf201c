/**
 * Which updates of a node are disruptive, and the rollout's timing. Pure.
 *
 * Disruptive (taken one slot at a time, with cordon and drain; see
 * providers/rollout.ts): a new kubelet or kube-proxy or crictl or CNI
 * binary (the binaries phase's text: the Kubernetes version, the download
 * URLs and checksums), and a change of containerd's config that restarts
 * containerd (the cgroup driver, the config version asked for).
 * Not disruptive (to every node at once): a kubelet config change, a new
 * certificate or token, a kube-proxy config change; each restarts one
 * service, which the membership then waits for.
 */
import * as crypto from "crypto";
import type { WorkerConfig } from "../config/types";
import { binariesPlan } from "../binaries/plan";

export type DisruptionInput = Pick<WorkerConfig, "kubernetesVersion" | "downloads" | "profile" | "cgroupDriver" | "containerdConfigVersion">;

/** The digest of what makes an update of a node disruptive. */
export function disruptionOf(cluster: DisruptionInput): string {
    const parts = [binariesPlan(cluster).create, cluster.profile, cluster.cgroupDriver, String(cluster.containerdConfigVersion)];
    return crypto.createHash("sha256").update(parts.join("\0")).digest("hex");
}

/** How long a slot stays taken without a release: the drain, the update itself (up to 15 minutes) and the wait for Ready. */
export function leaseSecondsOf(cluster: Pick<WorkerConfig, "drainTimeoutSeconds" | "nodeReadyTimeoutSeconds">): number {
    return cluster.drainTimeoutSeconds + 900 + cluster.nodeReadyTimeoutSeconds;
}

/** How long a node waits for a slot: every batch before it taking its whole lease. */
export function slotWaitSecondsOf(leaseSeconds: number, nodes: number, slots: number): number {
    return leaseSeconds * Math.ceil(nodes / slots);
}
