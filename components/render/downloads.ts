/** Download URLs in the official release layouts, from the configured base URLs. */
import { DownloadConfig } from "../config/types";
import { BinariesInput } from "../scripts/node";
import { Version, formatVersion } from "../kube/versions";

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
