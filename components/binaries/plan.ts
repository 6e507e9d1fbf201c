/**
 * The binaries, planned: kubelet, kube-proxy and crictl to /usr/local/sbin,
 * the CNI plugins to /opt/cni/bin; each download verified by its sha256 and
 * skipped when what is there already matches.
 */
import type { WorkerConfig } from "../config/types";
import { PATHS } from "../kube/paths";
import { PhasePlan } from "../node/plan";
import { nodeScript, shq, undoScript } from "../node/scripts";
import { BinariesInput, downloadPlan } from "./downloads";

/** One download: a binary to a path, or a tarball unpacked into a directory. */
export type FetchStep =
    | { kind: "file"; url: string; sha256: string; dest: string; mode: "0755" }
    | { kind: "tar"; url: string; sha256: string; dir: string };

export interface BinariesPlan extends PhasePlan {
    fetches: FetchStep[];
}

export function fetchesOf(b: BinariesInput): FetchStep[] {
    return [
        { kind: "file", ...b.kubelet, dest: PATHS.kubelet, mode: "0755" },
        { kind: "file", ...b.kubeProxy, dest: PATHS.kubeProxy, mode: "0755" },
        { kind: "tar", ...b.crictl, dir: PATHS.sbinDir },
        { kind: "tar", ...b.cni, dir: PATHS.cniBinDir },
    ];
}

function fetchStep(f: FetchStep): string {
    return f.kind === "file"
        ? `hw_fetch ${shq(f.url)} ${shq(f.sha256)} ${shq(f.dest)} ${f.mode}`
        : `hw_fetch_tar ${shq(f.url)} ${shq(f.sha256)} ${shq(f.dir)}`;
}

export function binariesPlan(cluster: Pick<WorkerConfig, "kubernetesVersion" | "downloads">): BinariesPlan {
    const downloads = downloadPlan(cluster.kubernetesVersion, cluster.downloads);
    return {
        component: "binaries",
        files: [],
        secrets: [],
        services: [],
        fetches: fetchesOf(downloads),
        create: binariesScript(downloads),
        delete: binariesUndoScript(),
    };
}

/** The binaries phase's command text, for given downloads. */
export function binariesScript(b: BinariesInput): string {
    return nodeScript("binaries", fetchesOf(b).map(fetchStep));
}

export function binariesUndoScript(): string {
    return undoScript("binaries");
}
