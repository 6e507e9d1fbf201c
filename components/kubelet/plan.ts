/**
 * The kubelet, planned: the CNI loopback config, the CA bundle, its serving
 * certificate and key, the bootstrap kubeconfig (token), kubelet-config.yaml
 * and kubelet.service; then daemon-reload, enable, and a restart only when
 * something it reads changed. The key and the bootstrap kubeconfig are
 * secrets: they reach the node on stdin, by name.
 */
import type { NodeConfig, WorkerConfig } from "../config/types";
import { renderBootstrapKubeconfig } from "../kube/kubeconfig";
import { PATHS } from "../kube/paths";
import { formatVersion } from "../kube/versions";
import { CertificateSpec, PhasePlan, ROOT_FILE, clusterRefOf, nodeCertificate } from "../node/plan";
import { FileStep, RuntimeStep, ServiceStep, fileStep, nodeScript, runtimeStep, secretNames, serviceStep, shq, undoScript } from "../node/scripts";
import { renderLoopbackConf } from "./cni";
import { KubeletInput, renderKubeletConfig, renderKubeletUnit } from "./render";

export type KubeletNode = Pick<NodeConfig, "name" | "ip" | "labels" | "taints">;
export type KubeletCluster = Pick<
    WorkerConfig,
    "kubernetesVersion" | "profile" | "clusterDns" | "clusterDomain" | "cgroupDriver" | "caBundlePem" | "waitForServices"
> &
    Partial<Pick<WorkerConfig, "failCgroupV1">>;

export interface KubeletPlanInput {
    node: KubeletNode;
    cluster: KubeletCluster;
    /** The serving certificate, PEM. */
    certPem: string;
}

export interface KubeletPlan extends PhasePlan {
    /** The binary whose change restarts the kubelet (the binaries phase writes it). */
    binary: string;
    /** What the running kubelet makes; undo removes it. */
    runtime: RuntimeStep[];
}

/** The kubelet's serving certificate: CN system:node:<fqdn>, O system:nodes, the node's FQDN and IP. */
export function kubeletCertificate(
    node: Pick<NodeConfig, "fqdn" | "ip">,
    cluster: Pick<WorkerConfig, "certValidityHours" | "certRenewBeforeHours">,
): CertificateSpec {
    return nodeCertificate(node, cluster, { commonName: `system:node:${node.fqdn}`, organization: "system:nodes", usage: "server_auth" });
}

/** What the kubelet's renderers take. */
export function kubeletInput(node: KubeletNode, cluster: KubeletCluster): KubeletInput {
    return {
        version: cluster.kubernetesVersion,
        profile: cluster.profile,
        nodeName: node.name,
        nodeIp: node.ip,
        labels: node.labels,
        taints: node.taints,
        clusterDns: cluster.clusterDns,
        clusterDomain: cluster.clusterDomain,
        cgroupDriver: cluster.cgroupDriver,
        ...(cluster.failCgroupV1 === undefined ? {} : { failCgroupV1: cluster.failCgroupV1 }),
    };
}

/** The secret `bootstrapKubeconfig`: the token and the CA bundle, as the guide shows it. */
export function bootstrapKubeconfigOf(cluster: Pick<WorkerConfig, "clusterName" | "apiServer" | "caBundlePem">, token: string): string {
    return renderBootstrapKubeconfig(clusterRefOf(cluster), token);
}

/** Files the kubelet itself writes, once bootstrapped. */
export const KUBELET_RUNTIME: RuntimeStep[] = [
    { path: PATHS.kubeletKubeconfig, kind: "file" },
    { path: PATHS.kubeletRootDir, kind: "dir" },
    { path: PATHS.podLogDir, kind: "dir" },
    { path: PATHS.containerLogDir, kind: "dir" },
    { path: PATHS.volumePluginRoot, kind: "dir" },
    { path: `${PATHS.pkiDir}/kubelet-client-*`, kind: "glob" },
];

export function kubeletFiles(k: KubeletPlanInput): FileStep[] {
    const input = kubeletInput(k.node, k.cluster);
    return [
        {
            path: PATHS.loopbackConf,
            mode: "0644",
            ...ROOT_FILE,
            // Before 1.24 the kubelet reads the CNI config; after, containerd watches the directory.
            effect: k.cluster.profile === "seed" ? "restart" : "none",
            content: renderLoopbackConf(),
        },
        { path: PATHS.caBundle, mode: "0644", ...ROOT_FILE, effect: "restart", content: k.cluster.caBundlePem },
        { path: PATHS.kubeletCert, mode: "0644", ...ROOT_FILE, effect: "restart", content: k.certPem },
        { path: PATHS.kubeletKey, mode: "0600", ...ROOT_FILE, effect: "restart", content: { secret: "kubeletKey" } },
        // Read only until the kubelet holds its own client certificate: a new token needs no restart.
        { path: PATHS.bootstrapKubeconfig, mode: "0600", ...ROOT_FILE, effect: "none", content: { secret: "bootstrapKubeconfig" } },
        { path: PATHS.kubeletConfig, mode: "0644", ...ROOT_FILE, effect: "restart", content: renderKubeletConfig(input) },
        { path: PATHS.kubeletUnit, mode: "0644", ...ROOT_FILE, effect: "reload", content: renderKubeletUnit(input) },
    ];
}

export function kubeletPlan(k: KubeletPlanInput): KubeletPlan {
    const files = kubeletFiles(k);
    const service: ServiceStep = { unit: "kubelet.service", wait: k.cluster.waitForServices };
    return {
        component: "kubelet",
        files,
        secrets: secretNames(files),
        services: [service],
        binary: PATHS.kubelet,
        runtime: KUBELET_RUNTIME,
        create: kubeletScript({ ...service, files, binary: PATHS.kubelet, nodeName: k.node.name, version: formatVersion(k.cluster.kubernetesVersion) }),
        delete: kubeletUndoScript(),
    };
}

export interface KubeletScriptInput {
    unit: string;
    files: FileStep[];
    /** The service's binary, written by the binaries phase. */
    binary: string;
    wait: boolean;
    /** The node's name: a client certificate of another name (a rename) goes, and the kubelet bootstraps again. */
    nodeName?: string;
    /** The Kubernetes version: a new one runs the phase again, whose hw_watch restarts the kubelet on its new binary. */
    version?: string;
}

/** The kubelet's files, then daemon-reload, enable, and a restart only when something it reads changed. */
export function kubeletScript(k: KubeletScriptInput): string {
    const identity = k.nodeName === undefined ? [] : [`hw_kubelet_identity ${shq(k.nodeName)} ${shq(`${PATHS.pkiDir}/kubelet-client-*`)} ${shq(PATHS.kubeletKubeconfig)}`];
    const version = k.version === undefined ? [] : [`# kubelet ${k.version}: a new binary restarts the service (hw_watch).`];
    return nodeScript(
        "kubelet",
        [...version, ...identity, ...k.files.map(fileStep), ...KUBELET_RUNTIME.map(runtimeStep), `hw_watch ${shq(k.binary)}`, serviceStep({ unit: k.unit, wait: k.wait })],
        secretNames(k.files),
    );
}

/** Stops the kubelet and its pods (the library's hw_before_undo_kubelet), then undoes its journal. */
export function kubeletUndoScript(): string {
    return undoScript("kubelet");
}
