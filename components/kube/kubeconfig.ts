/**
 * Kubeconfigs by composition: one base (cluster and context) plus either
 * token auth or client-certificate auth, as kubeadm builds them
 * (cmd/kubeadm/app/util/kubeconfig/kubeconfig.go).
 */
import * as YAML from "yaml";

export interface ClusterRef {
    clusterName: string;
    server: string;
    /** PEM of every CA to trust, concatenated; embedded as certificate-authority-data. */
    caBundlePem: string;
}

export type UserAuth = { token: string } | { clientCertificate: string; clientKey: string };

export function kubeconfigObject(cluster: ClusterRef, userName: string, auth: UserAuth): Record<string, unknown> {
    const user =
        "token" in auth
            ? { token: auth.token }
            : { "client-certificate": auth.clientCertificate, "client-key": auth.clientKey };
    return {
        apiVersion: "v1",
        clusters: [
            {
                cluster: {
                    "certificate-authority-data": Buffer.from(cluster.caBundlePem).toString("base64"),
                    server: cluster.server,
                },
                name: cluster.clusterName,
            },
        ],
        contexts: [{ context: { cluster: cluster.clusterName, user: userName }, name: "default" }],
        "current-context": "default",
        kind: "Config",
        preferences: {},
        users: [{ name: userName, user }],
    };
}

/** YAML as kubectl writes it: sequences not indented under their key. */
export function toKubeYaml(value: unknown): string {
    return YAML.stringify(value, { indentSeq: false, lineWidth: 0 });
}

/** The kubelet's bootstrap kubeconfig, as the guide shows it. */
export function renderBootstrapKubeconfig(cluster: ClusterRef, token: string): string {
    return toKubeYaml(kubeconfigObject(cluster, "kubelet-bootstrap", { token }));
}

/** kube-proxy's kubeconfig, pointing at its certificate files (so a rotation rewrites only the pki files). */
export function renderCertKubeconfig(cluster: ClusterRef, userName: string, certFile: string, keyFile: string): string {
    return toKubeYaml(kubeconfigObject(cluster, userName, { clientCertificate: certFile, clientKey: keyFile }));
}
