/**
 * /etc/containerd/config.toml in the layout the installed containerd reads
 * natively (containerd RELEASES.md, docs/containerd-2.0.md). A key under a
 * wrong plugin name is silently ignored (containerd#10132), so each version
 * has its own object, not one object with renamed keys.
 */
import * as TOML from "smol-toml";
import type { CgroupDriver, RpmRepo } from "../config/types";
import { PATHS } from "../kube/paths";
import { ContainerdConfigVersion, Version, atLeast } from "../kube/versions";

export interface ContainerdInput {
    configVersion: ContainerdConfigVersion;
    containerdVersion: Version;
    /** The real gid of the `kubernetes` group on this host. */
    gid: number;
    /** Where the host's runc lives (the guide's RHEL hosts: /bin/runc). */
    runcPath: string;
    cgroupDriver: CgroupDriver;
}

function grpc(c: ContainerdInput) {
    return { address: PATHS.containerdSocket, uid: 0, gid: c.gid };
}

export function containerdConfigObject(c: ContainerdInput): Record<string, unknown> {
    const systemdCgroup = c.cgroupDriver === "systemd";
    switch (c.configVersion) {
        case 1:
            // The guide's exact layout.
            return {
                grpc: grpc(c),
                plugins: {
                    cri: {
                        containerd: {
                            snapshotter: "overlayfs",
                            default_runtime: {
                                runtime_type: "io.containerd.runtime.v1.linux",
                                runtime_engine: c.runcPath,
                                runtime_root: "",
                            },
                        },
                    },
                },
            };
        case 2: {
            const cri: Record<string, unknown> = {
                containerd: {
                    snapshotter: "overlayfs",
                    default_runtime_name: "runc",
                    runtimes: {
                        runc: {
                            runtime_type: "io.containerd.runc.v2",
                            options: { BinaryName: c.runcPath, SystemdCgroup: systemdCgroup },
                        },
                    },
                },
                // With the kubelet's --cni-* flags gone (1.24), the CNI dirs belong here.
                cni: { bin_dir: PATHS.cniBinDir, conf_dir: PATHS.cniConfDir },
            };
            if (atLeast(c.containerdVersion, 1, 7)) {
                // Replaces the kubelet's --image-pull-progress-deadline=2m.
                cri.image_pull_progress_timeout = "2m0s";
            }
            return { version: 2, grpc: grpc(c), plugins: { "io.containerd.grpc.v1.cri": cri } };
        }
        case 3: {
            const cni: Record<string, unknown> = atLeast(c.containerdVersion, 2, 1)
                ? { bin_dirs: [PATHS.cniBinDir], conf_dir: PATHS.cniConfDir }
                : { bin_dir: PATHS.cniBinDir, conf_dir: PATHS.cniConfDir };
            return {
                version: 3,
                grpc: grpc(c),
                plugins: {
                    "io.containerd.cri.v1.images": {
                        snapshotter: "overlayfs",
                        image_pull_progress_timeout: "2m0s",
                    },
                    "io.containerd.cri.v1.runtime": {
                        containerd: {
                            default_runtime_name: "runc",
                            runtimes: {
                                runc: {
                                    runtime_type: "io.containerd.runc.v2",
                                    options: { BinaryName: c.runcPath, SystemdCgroup: systemdCgroup },
                                },
                            },
                        },
                        cni,
                    },
                },
            };
        }
        default: {
            const never: never = c.configVersion;
            throw new Error(`unknown containerd config version ${String(never)}`);
        }
    }
}

export function renderContainerdConfig(c: ContainerdInput): string {
    return TOML.stringify(containerdConfigObject(c)).trimEnd() + "\n";
}

/** Where yum and dnf read repository files. */
export const YUM_REPOS_DIR = "/etc/yum.repos.d";

/** The `.repo` file of a yum/dnf repository, in the layout of Docker's own docker-ce.repo; signatures are checked. */
export function renderRpmRepo(r: RpmRepo): string {
    // validate.ts keeps each value to one line; a newline here would add keys of its own.
    for (const [key, value] of Object.entries(r)) {
        if (/[\r\n]/.test(value)) {
            throw new Error(`packageRepos.rhel.${key}: ${JSON.stringify(value)} spans lines`);
        }
    }
    return [`[${r.id}]`, `name=${r.name}`, `baseurl=${r.baseUrl}`, "enabled=1", "gpgcheck=1", `gpgkey=${r.gpgKey}`, ""].join("\n");
}

/** Where a repository's file goes. */
export function rpmRepoPath(r: RpmRepo): string {
    return `${YUM_REPOS_DIR}/${r.id}.repo`;
}
