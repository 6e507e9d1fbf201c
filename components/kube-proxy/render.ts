/** kube-proxy's files: kubeproxy-config.yaml and kube-proxy.service. */
import * as YAML from "yaml";
import { PATHS } from "../kube/paths";
import { Profile, ProxyMode } from "../kube/versions";
import { renderUnit } from "../kube/systemd";

export interface KubeProxyInput {
    profile: Profile;
    nodeName: string;
    mode: ProxyMode;
    clusterCidr: string;
}

export function kubeProxyConfigObject(k: KubeProxyInput): Record<string, unknown> {
    const config: Record<string, unknown> = {
        kind: "KubeProxyConfiguration",
        apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
        clientConnection: { kubeconfig: PATHS.kubeProxyKubeconfig },
        mode: k.mode,
        clusterCIDR: k.clusterCidr,
    };
    if (k.profile !== "seed") {
        // Matches the kubelet's --hostname-override, so kube-proxy finds its Node.
        config.hostnameOverride = k.nodeName;
    }
    return config;
}

/** The guide's style: string values double-quoted, the type fields plain. */
export function renderKubeProxyConfig(k: KubeProxyInput): string {
    const doc = new YAML.Document(kubeProxyConfigObject(k));
    YAML.visit(doc, {
        Pair(_, pair) {
            const key = YAML.isScalar(pair.key) ? String(pair.key.value) : "";
            if (YAML.isScalar(pair.value) && typeof pair.value.value === "string" && key !== "kind" && key !== "apiVersion") {
                pair.value.type = "QUOTE_DOUBLE";
            }
        },
    });
    return doc.toString({ lineWidth: 0 });
}

export function renderKubeProxyUnit(): string {
    return renderUnit([
        {
            name: "Unit",
            entries: [
                { key: "Description", value: "Kubernetes Kube Proxy" },
                { key: "Documentation", value: "https://github.com/kubernetes/kubernetes" },
            ],
        },
        {
            name: "Service",
            entries: [
                { key: "ExecStart", value: { command: PATHS.kubeProxy, args: [`--config=${PATHS.kubeProxyConfig}`], indent: "" } },
                { key: "Restart", value: "on-failure" },
                { key: "RestartSec", value: 5 },
            ],
        },
        { name: "Install", entries: [{ key: "WantedBy", value: "multi-user.target" }] },
    ]);
}
