/**
 * The defaults the validated config takes for unset keys: the static ones
 * straight from the schema's table, and the ones that depend on other
 * values (the Kubernetes version, the CA). Pure: no Pulumi here.
 */
import { Profile, Version, defaultToolVersions } from "../kube/versions";
import { CONFIG_SCHEMA } from "./schema";
import type { CgroupDriver, DownloadConfig, PackageRepos } from "./types";

/** The static defaults, as the table gives them. */
export const DEFAULTS = {
    clusterCidr: CONFIG_SCHEMA.clusterCidr.default,
    clusterDns: CONFIG_SCHEMA.clusterDns.default,
    clusterDomain: CONFIG_SCHEMA.clusterDomain.default,
    kubeProxyMode: CONFIG_SCHEMA.kubeProxyMode.default,
    containerdConfigVersion: CONFIG_SCHEMA.containerdConfigVersion.default,
    sshUser: CONFIG_SCHEMA.sshUser.default,
    bootstrapTokenTtlHours: CONFIG_SCHEMA.bootstrapTokenTtlHours.default,
    certValidityHours: CONFIG_SCHEMA.certValidityHours.default,
    certRenewBeforeHours: CONFIG_SCHEMA.certRenewBeforeHours.default,
    waitForServices: CONFIG_SCHEMA.waitForServices.default,
    nodeReadyTimeoutSeconds: CONFIG_SCHEMA.nodeReadyTimeoutSeconds.default,
    drainTimeoutSeconds: CONFIG_SCHEMA.drainTimeoutSeconds.default,
} as const;

/** cgroupDriver: the guide's cgroupfs on 1.16, systemd from 1.17. */
export function defaultCgroupDriver(profile: Profile): CgroupDriver {
    return profile === "seed" ? "cgroupfs" : "systemd";
}

/** downloads: the official release locations, with the crictl and CNI releases that go with the Kubernetes version. */
export function defaultDownloads(version: Version): DownloadConfig {
    const tools = defaultToolVersions(version);
    return {
        kubernetesBaseUrl: "https://dl.k8s.io/release",
        crictlBaseUrl: "https://github.com/kubernetes-sigs/cri-tools/releases/download",
        cniBaseUrl: "https://github.com/containernetworking/plugins/releases/download",
        crictlVersion: tools.crictl,
        cniVersion: tools.cni,
        arch: "amd64",
        sha256: {},
    };
}

/** packageRepos: the guide's Docker repository for RHEL-family hosts (a fresh copy each call). */
export function defaultPackageRepos(): PackageRepos {
    const { rhel } = CONFIG_SCHEMA.packageRepos.default.json;
    return { rhel: { ...rhel } };
}

/** A node's optional fields: SSH to its `ip` (sshHost) on port 22. */
export const NODE_DEFAULTS = { sshPort: 22 } as const;
