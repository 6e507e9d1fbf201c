/**
 * Kubernetes and containerd version gates.
 *
 * Everything that depends on a version is decided here, from plain values, so
 * that the gates can be tested as a table (see test/versions.test.ts).
 */

/** A parsed `major.minor.patch` version. */
export interface Version {
    major: number;
    minor: number;
    patch: number;
}

/** The oldest and newest Kubernetes minor releases this program renders for. */
export const MIN_KUBERNETES: Version = { major: 1, minor: 16, patch: 0 };
export const MAX_KUBERNETES_MINOR = 37;

const VERSION_RE = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+~].*)?$/;

/** Parses `1.16.2`, `v1.37.0` or `1.6.20~ds1`; returns undefined when it is not a version. */
export function parseVersion(text: string): Version | undefined {
    const m = VERSION_RE.exec(text.trim());
    if (!m) {
        return undefined;
    }
    return { major: Number(m[1]), minor: Number(m[2]), patch: m[3] === undefined ? 0 : Number(m[3]) };
}

/** Compares two versions: negative, zero or positive. */
export function compareVersions(a: Version, b: Version): number {
    return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** True when `v` is at least `major.minor`. */
export function atLeast(v: Version, major: number, minor: number): boolean {
    return compareVersions(v, { major, minor, patch: 0 }) >= 0;
}

export function formatVersion(v: Version): string {
    return `${v.major}.${v.minor}.${v.patch}`;
}

/**
 * The rendering profile. `seed` is the guide's own Kubernetes 1.16 setup,
 * rendered exactly as the guide shows it; `current` is everything newer.
 */
export type Profile = "seed" | "current";

export function profileFor(k8s: Version): Profile {
    return k8s.major === 1 && k8s.minor < 17 ? "seed" : "current";
}

/** Kubelet settings that moved between flags and the config file, by version. */
export interface KubeletGates {
    /** `--container-runtime=remote`: deprecated in 1.24, removed in 1.27 (kubernetes#114017). */
    containerRuntimeFlag: boolean;
    /** `--container-runtime-endpoint` as a flag; from 1.27 it is `containerRuntimeEndpoint` in the config file (kubernetes#112136). */
    containerRuntimeEndpointFlag: boolean;
    /** `--image-pull-progress-deadline`, `--network-plugin`, `--cni-conf-dir`: removed with dockershim in 1.24 (kubernetes#106907). */
    dockershimFlags: boolean;
    /** `registerWithTaints` in KubeletConfiguration (1.23+); older releases take `--register-with-taints`. */
    registerWithTaintsInConfig: boolean;
}

export function kubeletGates(k8s: Version): KubeletGates {
    return {
        containerRuntimeFlag: !atLeast(k8s, 1, 27),
        containerRuntimeEndpointFlag: !atLeast(k8s, 1, 27),
        dockershimFlags: !atLeast(k8s, 1, 24),
        registerWithTaintsInConfig: atLeast(k8s, 1, 23),
    };
}

/** kube-proxy modes; nftables is beta and on by default from 1.31 (KEP-3866). */
export type ProxyMode = "ipvs" | "iptables" | "nftables";

export function proxyModeSupported(mode: ProxyMode, k8s: Version): boolean {
    switch (mode) {
        case "ipvs":
        case "iptables":
            return true;
        case "nftables":
            return atLeast(k8s, 1, 31);
        default: {
            const never: never = mode;
            throw new Error(`unknown proxy mode ${String(never)}`);
        }
    }
}

/** ipvs mode is deprecated from 1.35 (KEP-5495). */
export function proxyModeDeprecated(mode: ProxyMode, k8s: Version): boolean {
    return mode === "ipvs" && atLeast(k8s, 1, 35);
}

/** containerd config file versions (containerd RELEASES.md). */
export type ContainerdConfigVersion = 1 | 2 | 3;

/**
 * The config version the installed containerd reads natively: 3 for 2.x, 2 for
 * 1.3 to 1.7, 1 before 1.3. The seed profile keeps the guide's version-1 layout
 * wherever containerd still reads it (any 1.x).
 */
export function containerdConfigVersionFor(containerd: Version, profile: Profile): ContainerdConfigVersion {
    if (containerd.major >= 2) {
        return 3;
    }
    if (!atLeast(containerd, 1, 3)) {
        return 1;
    }
    return profile === "seed" ? 1 : 2;
}

/** Whether a containerd release can read a given config version. */
export function containerdReads(containerd: Version, configVersion: ContainerdConfigVersion): boolean {
    switch (configVersion) {
        case 1:
            return containerd.major < 2;
        case 2:
            return atLeast(containerd, 1, 3);
        case 3:
            return containerd.major >= 2;
        default: {
            const never: never = configVersion;
            throw new Error(`unknown containerd config version ${String(never)}`);
        }
    }
}

/** Release versions of the tools that ship beside each Kubernetes minor. */
export interface ToolVersions {
    crictl: string;
    cni: string;
}

/**
 * Defaults for crictl and the CNI plugins. 1.16 is the guide's own pair; newer
 * releases take the cri-tools release of the same minor.
 */
export function defaultToolVersions(k8s: Version): ToolVersions {
    if (profileFor(k8s) === "seed") {
        return { crictl: "1.15.0", cni: "0.8.2" };
    }
    return {
        crictl: `${k8s.major}.${k8s.minor}.0`,
        cni: atLeast(k8s, 1, 31) ? "1.6.2" : "1.3.0",
    };
}
