/**
 * kube-proxy, planned: its client certificate and key, its kubeconfig
 * (pointing at those files), kubeproxy-config.yaml and kube-proxy.service;
 * ipvsadm in ipvs mode. The key is a secret: it reaches the node on stdin.
 */
import type { NodeConfig, WorkerConfig } from "../config/types";
import { renderCertKubeconfig } from "../kube/kubeconfig";
import { PATHS } from "../kube/paths";
import { formatVersion } from "../kube/versions";
import { CertificateSpec, PhasePlan, ROOT_FILE, clusterRefOf, nodeCertificate } from "../node/plan";
import { FileStep, ServiceStep, fileStep, nodeScript, secretNames, serviceStep, shq, undoScript } from "../node/scripts";
import { renderKubeProxyConfig, renderKubeProxyUnit } from "./render";

export type KubeProxyNode = Pick<NodeConfig, "name">;
export type KubeProxyCluster = Pick<
    WorkerConfig,
    "profile" | "kubeProxyMode" | "clusterCidr" | "clusterName" | "apiServer" | "caBundlePem" | "waitForServices"
> &
    Partial<Pick<WorkerConfig, "kubernetesVersion">>;

export interface KubeProxyPlanInput {
    node: KubeProxyNode;
    cluster: KubeProxyCluster;
    /** The client certificate, PEM. */
    certPem: string;
}

export interface KubeProxyPlan extends PhasePlan {
    /** Packages installed when missing. */
    packages: string[];
    /** The binary whose change restarts kube-proxy (the binaries phase writes it). */
    binary: string;
}

/** kube-proxy's client certificate: CN system:kube-proxy, O system:node-proxier, the node's FQDN and IP. */
export function kubeProxyCertificate(
    node: Pick<NodeConfig, "fqdn" | "ip">,
    cluster: Pick<WorkerConfig, "certValidityHours" | "certRenewBeforeHours">,
): CertificateSpec {
    return nodeCertificate(node, cluster, { commonName: "system:kube-proxy", organization: "system:node-proxier", usage: "client_auth" });
}

export function kubeProxyFiles(k: KubeProxyPlanInput): FileStep[] {
    const { cluster } = k;
    return [
        { path: PATHS.kubeProxyCert, mode: "0644", ...ROOT_FILE, effect: "restart", content: k.certPem },
        { path: PATHS.kubeProxyKey, mode: "0600", ...ROOT_FILE, effect: "restart", content: { secret: "kubeProxyKey" } },
        {
            path: PATHS.kubeProxyKubeconfig,
            mode: "0600",
            ...ROOT_FILE,
            effect: "restart",
            content: renderCertKubeconfig(clusterRefOf(cluster), "system:kube-proxy", PATHS.kubeProxyCert, PATHS.kubeProxyKey),
        },
        {
            path: PATHS.kubeProxyConfig,
            mode: "0644",
            ...ROOT_FILE,
            effect: "restart",
            content: renderKubeProxyConfig({
                profile: cluster.profile,
                nodeName: k.node.name,
                mode: cluster.kubeProxyMode,
                clusterCidr: cluster.clusterCidr,
            }),
        },
        { path: PATHS.kubeProxyUnit, mode: "0644", ...ROOT_FILE, effect: "reload", content: renderKubeProxyUnit() },
    ];
}

export function kubeProxyPlan(k: KubeProxyPlanInput): KubeProxyPlan {
    const files = kubeProxyFiles(k);
    const service: ServiceStep = { unit: "kube-proxy.service", wait: k.cluster.waitForServices };
    const ipvs = k.cluster.kubeProxyMode === "ipvs";
    return {
        component: "kube-proxy",
        files,
        secrets: secretNames(files),
        services: [service],
        packages: ipvs ? ["ipvsadm"] : [],
        binary: PATHS.kubeProxy,
        create: kubeProxyScript({ ...service, files, binary: PATHS.kubeProxy, ipvs, version: k.cluster.kubernetesVersion && formatVersion(k.cluster.kubernetesVersion) }),
        delete: kubeProxyUndoScript(),
    };
}

export interface KubeProxyScriptInput {
    unit: string;
    files: FileStep[];
    /** The service's binary, written by the binaries phase. */
    binary: string;
    wait: boolean;
    ipvs: boolean;
    /** The Kubernetes version: a new one runs the phase again, whose hw_watch restarts the service on its new binary. */
    version?: string;
}

export function kubeProxyScript(k: KubeProxyScriptInput): string {
    return nodeScript(
        "kube-proxy",
        [
            ...(k.version === undefined ? [] : [`# kube-proxy ${k.version}: a new binary restarts the service (hw_watch).`]),
            ...(k.ipvs ? ["command -v ipvsadm >/dev/null 2>&1 || hw_pkg ipvsadm"] : []),
            ...k.files.map(fileStep),
            `hw_watch ${shq(k.binary)}`,
            serviceStep({ unit: k.unit, wait: k.wait }),
        ],
        secretNames(k.files),
    );
}

/** Stops kube-proxy and clears its rules (hw_before_undo_kube_proxy), then undoes its journal. */
export function kubeProxyUndoScript(): string {
    return undoScript("kube-proxy");
}
