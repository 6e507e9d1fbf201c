/**
 * containerd, planned in two commands. The install: containerd from the
 * host's packages unless present; the node reports its version and runc's
 * path. The config: config.toml in the layout that version reads, socket
 * group = the `kubernetes` group's real gid, containerd restarted when the
 * file changed.
 */
import { defaultPackageRepos } from "../config/defaults";
import type { CgroupDriver, RpmRepo, WorkerConfig } from "../config/types";
import { PATHS } from "../kube/paths";
import { ContainerdConfigVersion, Version, containerdConfigVersionFor, containerdReads, formatVersion, parseVersion } from "../kube/versions";
import { PhasePlan, ROOT_FILE } from "../node/plan";
import { DirStep, FileStep, RuntimeStep, dirStep, fileStep, nodeScript, runtimeStep, serviceStep, shq, undoScript } from "../node/scripts";
import { renderContainerdConfig, renderRpmRepo, rpmRepoPath } from "./render";

/** The package that brings containerd, by OS family: Debian's own, and on RHEL the guide's `containerd.io` from Docker's repository. */
export const CONTAINERD_PACKAGES = { debian: "containerd", rhel: "containerd.io" } as const;

export interface ContainerdInstallPlan extends PhasePlan {
    packages: typeof CONTAINERD_PACKAGES;
    /** On a RHEL-family host that lacks containerd: the repository file written before the install (none: the host's own repositories). */
    rhelRepoFile: { path: string; content: string } | null;
}

/** The repository file for a RHEL-family install, or null for the host's own repositories. */
export function rhelRepoFile(repo: RpmRepo | null): { path: string; content: string } | null {
    return repo ? { path: rpmRepoPath(repo), content: renderRpmRepo(repo) } : null;
}

/** `rhelRepo`: the validated packageRepos.rhel (default: the guide's Docker repository). */
export function containerdInstallPlan(rhelRepo: RpmRepo | null = defaultPackageRepos().rhel): ContainerdInstallPlan {
    return {
        component: "containerd-install",
        files: [],
        secrets: [],
        services: [],
        packages: CONTAINERD_PACKAGES,
        rhelRepoFile: rhelRepoFile(rhelRepo),
        create: containerdInstallScript(rhelRepo),
        delete: containerdInstallUndoScript(),
    };
}

/**
 * containerd from the host's packages, unless present (on a RHEL-family host
 * from the given repository, whose file it writes first); prints its version
 * and runc's path.
 */
export function containerdInstallScript(rhelRepo: RpmRepo | null = defaultPackageRepos().rhel): string {
    const repo = rhelRepoFile(rhelRepo);
    const args = [CONTAINERD_PACKAGES.debian, CONTAINERD_PACKAGES.rhel, ...(repo ? [repo.path, repo.content] : [])];
    return nodeScript("containerd-install", [`hw_ensure_containerd ${args.map(shq).join(" ")}`, "hw_print_facts"]);
}

export function containerdInstallUndoScript(): string {
    return undoScript("containerd-install");
}

/** What the install found on the node, and the config version to write for it. */
export interface InstalledContainerd {
    version: Version;
    configVersion: ContainerdConfigVersion;
    runcPath: string;
}

/** Reads the install's facts; the config version is the configured one, or with `auto` the one that containerd reads natively. */
export function installedContainerd(
    nodeName: string,
    facts: Record<string, string>,
    cluster: Pick<WorkerConfig, "containerdConfigVersion" | "profile">,
): InstalledContainerd {
    const version = parseVersion(facts.containerdVersion ?? "");
    if (!version) {
        throw new Error(`node ${nodeName}: cannot read containerd's version from ${JSON.stringify(facts.containerdVersion)}`);
    }
    const configVersion =
        cluster.containerdConfigVersion === "auto" ? containerdConfigVersionFor(version, cluster.profile) : cluster.containerdConfigVersion;
    if (!containerdReads(version, configVersion)) {
        throw new Error(
            `node ${nodeName}: hardway-workers:containerdConfigVersion ${configVersion} cannot be read by the installed containerd ${formatVersion(version)}`,
        );
    }
    return { version, configVersion, runcPath: facts.runc };
}

export interface ContainerdConfigPlan extends PhasePlan {
    dirs: DirStep[];
    runtime: RuntimeStep[];
    /** containerd's socket, and the group it must belong to. */
    socket: { path: string; gid: number };
}

export interface ContainerdConfigPlanInput {
    installed: InstalledContainerd;
    /** The real gid of the `kubernetes` group on the node. */
    gid: number;
    cgroupDriver: CgroupDriver;
}

const CONTAINERD_DIR: DirStep = { path: "/etc/containerd", mode: "0755", owner: "root", group: "root", onUndo: "keep" };
/** containerd makes its "opt" plugin's directory at start unless a config moves it (Debian's does). */
const CONTAINERD_RUNTIME: RuntimeStep[] = [{ path: "/opt/containerd", kind: "dir" }];

function configFile(configToml: string): FileStep {
    return { path: PATHS.containerdConfig, mode: "0644", ...ROOT_FILE, effect: "restart", content: configToml };
}

export function containerdConfigPlan(c: ContainerdConfigPlanInput): ContainerdConfigPlan {
    const configToml = renderContainerdConfig({
        configVersion: c.installed.configVersion,
        containerdVersion: c.installed.version,
        gid: c.gid,
        runcPath: c.installed.runcPath,
        cgroupDriver: c.cgroupDriver,
    });
    return {
        component: "containerd",
        dirs: [CONTAINERD_DIR],
        files: [configFile(configToml)],
        secrets: [],
        runtime: CONTAINERD_RUNTIME,
        services: [{ unit: "containerd.service", wait: true }],
        socket: { path: PATHS.containerdSocket, gid: c.gid },
        create: containerdConfigScript({ configToml, gid: c.gid }),
        delete: containerdConfigUndoScript(),
    };
}

export interface ContainerdConfigInput {
    configToml: string;
    gid: number;
}

/** /etc/containerd/config.toml, then enable, restart when it changed, and check the socket's group. */
export function containerdConfigScript(c: ContainerdConfigInput): string {
    return nodeScript("containerd", [
        dirStep(CONTAINERD_DIR),
        fileStep(configFile(c.configToml)),
        ...CONTAINERD_RUNTIME.map(runtimeStep),
        serviceStep({ unit: "containerd.service", wait: true }),
        `hw_socket_gid ${shq(PATHS.containerdSocket)} ${shq(c.gid)}`,
    ]);
}

export function containerdConfigUndoScript(): string {
    return undoScript("containerd");
}
