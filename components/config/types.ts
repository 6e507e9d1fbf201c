/**
 * The validated stack config, as the program uses it (validate.ts makes it
 * from the raw values; schema.ts lists the keys).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Taint } from "../kube/taints";
import type { ContainerdConfigVersion, Profile, ProxyMode, Version } from "../kube/versions";

export type Role = "control-plane" | "worker";
export type CgroupDriver = "systemd" | "cgroupfs";

export interface NodeConfig {
    /** Node name, as the cluster will know it. */
    name: string;
    fqdn: string;
    ip: string;
    role: Role;
    sshHost: string;
    sshPort: number;
    /** authorized_keys-style host key line; pinned on every connection when set. */
    hostKey?: string;
    labels: Record<string, string>;
    /** Taints to register with; control-plane nodes always carry CONTROL_PLANE_TAINT. */
    taints: Taint[];
    /**
     * The node's old address (`host:port`), which cannot be reached to be
     * cleaned: moving to the new address forgets it instead (owner.ts).
     */
    forgetOldHost?: string;
}

/** Checksums of the downloads, by artifact. Missing ones are read from `<url>.sha256` on the node. */
export interface Checksums {
    kubelet?: string;
    "kube-proxy"?: string;
    crictl?: string;
    cni?: string;
}

export interface DownloadConfig {
    /** Base of `<base>/v<version>/bin/linux/<arch>/kubelet`; default https://dl.k8s.io/release. */
    kubernetesBaseUrl: string;
    /** Base of `<base>/v<crictl>/crictl-v<crictl>-linux-<arch>.tar.gz`. */
    crictlBaseUrl: string;
    /** Base of `<base>/v<cni>/cni-plugins-linux-<arch>-v<cni>.tgz`. */
    cniBaseUrl: string;
    crictlVersion: string;
    cniVersion: string;
    arch: "amd64" | "arm64";
    sha256: Checksums;
}

/** A yum/dnf repository, as a `.repo` file under /etc/yum.repos.d names it. */
export interface RpmRepo {
    /** The section name, and the file's: /etc/yum.repos.d/<id>.repo. */
    id: string;
    name: string;
    /** May hold yum's own variables ($releasever, $basearch), written as they are. */
    baseUrl: string;
    /** The signing key's URL; packages are checked against it (gpgcheck=1). */
    gpgKey: string;
}

/** Where each OS family's packages come from, beyond the host's own repositories. */
export interface PackageRepos {
    /** containerd.io on RHEL-family hosts (the guide: "from the official Docker repository"); null: the host's own repositories. */
    rhel: RpmRepo | null;
}

export interface WorkerConfig {
    kubernetesVersion: Version;
    profile: Profile;
    apiServer: string;
    clusterName: string;
    clusterCidr: string;
    clusterDns: string[];
    clusterDomain: string;
    kubeProxyMode: ProxyMode;
    cgroupDriver: CgroupDriver;
    /** "auto" picks the version the installed containerd reads natively. */
    containerdConfigVersion: ContainerdConfigVersion | "auto";
    caCertPem: string;
    caBundlePem: string;
    caKeyPem: pulumi.Output<string>;
    sshUser: string;
    sshPrivateKey: pulumi.Output<string>;
    /** A bootstrap token given by the operator, instead of a generated one. */
    bootstrapToken?: pulumi.Output<string>;
    /** Lifetime of the bootstrap token; 0 means it never expires. */
    bootstrapTokenTtlHours: number;
    certValidityHours: number;
    certRenewBeforeHours: number;
    /** Disruptive updates go to at most this many nodes at once (N, or "P%" of the nodes); see providers/rollout.ts. */
    rollout: { maxUnavailable: number | string };
    /** Wait for kubelet and kube-proxy to be active after a restart. */
    waitForServices: boolean;
    /** The kubelet's failCgroupV1 (1.31+); unset: the kubelet's default (true from 1.35). Preflight checks the host against it. */
    failCgroupV1?: boolean;
    /**
     * Administrator credentials for the API server (a client certificate and
     * its key). When given, the program registers the bootstrap token through
     * the API and tracks each node's membership (Ready on up; cordon, drain
     * and delete on removal). Without them it only exports the manifests.
     */
    apiAdmin?: { certPem: string; keyPem: pulumi.Output<string> };
    /** How long `pulumi up` waits for a node to become Ready (with apiAdmin). */
    nodeReadyTimeoutSeconds: number;
    /** How long a removed node's drain may take before the update fails (with apiAdmin). */
    drainTimeoutSeconds: number;
    downloads: DownloadConfig;
    packageRepos: PackageRepos;
    nodes: NodeConfig[];
}

/** Raw values by key, as strings or already-parsed JSON. */
export type RawConfig = Record<string, unknown>;
