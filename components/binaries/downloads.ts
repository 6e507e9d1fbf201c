/** Download URLs in the official release layouts, from the configured base URLs. */
import type { DownloadConfig } from "../config/types";
import { Version, formatVersion } from "../kube/versions";

export interface Download {
    url: string;
    /** The sha256 to verify against; empty to use the one published at `<url>.sha256`. */
    sha256: string;
}

export interface BinariesInput {
    kubelet: Download;
    kubeProxy: Download;
    crictl: Download;
    cni: Download;
}

export function downloadPlan(k8s: Version, d: DownloadConfig): BinariesInput {
    const v = `v${formatVersion(k8s)}`;
    return {
        kubelet: { url: `${d.kubernetesBaseUrl}/${v}/bin/linux/${d.arch}/kubelet`, sha256: d.sha256.kubelet ?? "" },
        kubeProxy: { url: `${d.kubernetesBaseUrl}/${v}/bin/linux/${d.arch}/kube-proxy`, sha256: d.sha256["kube-proxy"] ?? "" },
        crictl: {
            url: `${d.crictlBaseUrl}/v${d.crictlVersion}/crictl-v${d.crictlVersion}-linux-${d.arch}.tar.gz`,
            sha256: d.sha256.crictl ?? "",
        },
        cni: {
            url: `${d.cniBaseUrl}/v${d.cniVersion}/cni-plugins-linux-${d.arch}-v${d.cniVersion}.tgz`,
            sha256: d.sha256.cni ?? "",
        },
    };
}
