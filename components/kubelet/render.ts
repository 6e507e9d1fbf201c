/**
 * The kubelet's files: kubelet.service and kubelet-config.yaml.
 *
 * The seed profile (1.16) renders the guide's unit exactly. Newer versions
 * drop each flag the version removed, and move settings into the config file
 * where the version reads them there (see kube/versions.ts for the gates).
 */
import * as YAML from "yaml";
import type { CgroupDriver } from "../config/types";
import { PATHS } from "../kube/paths";
import { Taint, formatTaint } from "../kube/taints";
import { Profile, Version, kubeletGates } from "../kube/versions";
import { UnitSection, renderUnit } from "../kube/systemd";

export interface KubeletInput {
    version: Version;
    profile: Profile;
    nodeName: string;
    nodeIp: string;
    labels: Record<string, string>;
    taints: Taint[];
    clusterDns: string[];
    clusterDomain: string;
    cgroupDriver: CgroupDriver;
    /** The kubelet's failCgroupV1 (1.31+), when the config sets it. */
    failCgroupV1?: boolean;
}

/** The kubelet's command-line flags, in the guide's order. */
export function kubeletFlags(k: KubeletInput): string[] {
    const gates = kubeletGates(k.version);
    const flags = [`--config=${PATHS.kubeletConfig}`, `--cert-dir=${PATHS.pkiDir}`];
    if (gates.containerRuntimeFlag) {
        flags.push("--container-runtime=remote");
    }
    if (gates.containerRuntimeEndpointFlag) {
        flags.push(`--container-runtime-endpoint=unix://${PATHS.containerdSocket}`);
    }
    if (gates.dockershimFlags) {
        flags.push("--image-pull-progress-deadline=2m");
    }
    flags.push(`--kubeconfig=${PATHS.kubeletKubeconfig}`, `--bootstrap-kubeconfig=${PATHS.bootstrapKubeconfig}`);
    if (gates.dockershimFlags) {
        flags.push("--network-plugin=cni", `--cni-conf-dir=${PATHS.cniConfDir}`);
    }
    flags.push("--register-node=true");
    if (k.profile !== "seed") {
        // The guide: "You may need to add --node-ip=<ip address> if your node has
        // multiple NICs". Always setting it, and the node name, makes the Node
        // object match the config whatever the host's own name and routes are.
        flags.push(`--node-ip=${k.nodeIp}`, `--hostname-override=${k.nodeName}`);
    }
    if (!gates.registerWithTaintsInConfig && k.taints.length > 0) {
        flags.push(`--register-with-taints=${k.taints.map(formatTaint).join(",")}`);
    }
    const labels = Object.entries(k.labels);
    if (labels.length > 0) {
        flags.push(`--node-labels=${labels.map(([key, v]) => `${key}=${v}`).join(",")}`);
    }
    flags.push("--v=2");
    return flags;
}

export function renderKubeletUnit(k: KubeletInput): string {
    const sections: UnitSection[] = [
        {
            name: "Unit",
            entries: [
                { key: "Description", value: "Kubernetes Kubelet" },
                { key: "Documentation", value: "https://github.com/kubernetes/kubernetes" },
                { key: "After", value: "containerd.service" },
                { key: "Requires", value: "containerd.service" },
            ],
        },
        {
            name: "Service",
            entries: [
                { comment: "User=kubernetes" },
                { key: "ExecStart", value: { command: PATHS.kubelet, args: kubeletFlags(k), indent: "    " } },
                { key: "Restart", value: "on-failure" },
                { key: "RestartSec", value: 5 },
            ],
        },
        { name: "Install", entries: [{ key: "WantedBy", value: "multi-user.target" }] },
    ];
    return renderUnit(sections);
}

/**
 * A complete KubeletConfiguration (kubelet.config.k8s.io/v1beta1); the guide
 * points at this file but never shows it.
 */
export function kubeletConfigObject(k: KubeletInput): Record<string, unknown> {
    const gates = kubeletGates(k.version);
    const config: Record<string, unknown> = {
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        kind: "KubeletConfiguration",
        authentication: {
            anonymous: { enabled: false },
            webhook: { enabled: true },
            x509: { clientCAFile: PATHS.caBundle },
        },
        authorization: { mode: "Webhook" },
        clusterDomain: k.clusterDomain,
        clusterDNS: k.clusterDns,
        tlsCertFile: PATHS.kubeletCert,
        tlsPrivateKeyFile: PATHS.kubeletKey,
        rotateCertificates: true,
        cgroupDriver: k.cgroupDriver,
    };
    if (!gates.containerRuntimeEndpointFlag) {
        config.containerRuntimeEndpoint = `unix://${PATHS.containerdSocket}`;
    }
    if (k.failCgroupV1 !== undefined) {
        config.failCgroupV1 = k.failCgroupV1;
    }
    if (gates.registerWithTaintsInConfig && k.taints.length > 0) {
        config.registerWithTaints = k.taints.map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect }));
    }
    return config;
}

export function renderKubeletConfig(k: KubeletInput): string {
    return YAML.stringify(kubeletConfigObject(k), { indentSeq: false, lineWidth: 0 });
}
