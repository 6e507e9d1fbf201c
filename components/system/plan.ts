/**
 * System setup, planned: the node library first; then the `kubernetes` group
 * and user, the guide's directories (plus a tmpfiles.d entry for the one
 * under /var/run), and firewalld removed. The node reports the group's real
 * gid (containerd's socket takes it) and its OS family.
 */
import type { NodeConfig, WorkerConfig } from "../config/types";
import { PATHS } from "../kube/paths";
import { PhasePlan } from "../node/plan";
import { DirStep, FileStep, dirStep, fileStep, libraryInstall, nodeScript, shq, undoScript } from "../node/scripts";
import { PreflightInput, SYSCTLS, kernelFiles, modulesFor, preflightScript } from "./preflight";

export interface SystemPlan extends PhasePlan {
    group: string;
    user: { name: string; home: string; group: string };
    dirs: DirStep[];
    /** Packages removed, each with the reason (a comment in the script). */
    removePackages: { name: string; why: string }[];
    /** What the node reports (HW_FACTS), each as the shell expression that finds it. */
    facts: { name: string; shell: string }[];
}

const KUBERNETES = "kubernetes";

const DIRS: DirStep[] = [
    { path: PATHS.kubernetesDir, mode: "0755", owner: KUBERNETES, group: KUBERNETES, onUndo: "purge" },
    { path: PATHS.pkiDir, mode: "0700", owner: KUBERNETES, group: KUBERNETES, onUndo: "purge" },
    { path: PATHS.runDir, mode: "0755", owner: KUBERNETES, group: KUBERNETES, onUndo: "purge" },
    { path: PATHS.cniConfDir, mode: "0755", owner: "root", group: "root", onUndo: "keep" },
    { path: PATHS.cniBinDir, mode: "0755", owner: "root", group: "root", onUndo: "keep" },
    { path: "/etc/tmpfiles.d", mode: "0755", owner: "root", group: "root", onUndo: "keep" },
];

const TMPFILES: FileStep = {
    path: PATHS.tmpfilesConf,
    mode: "0644",
    owner: "root",
    group: "root",
    effect: "none",
    content: "# /run is a tmpfs: recreate the kubelet's run directory at boot.\nd /run/kubernetes 0755 kubernetes kubernetes -\n",
};

/** The preflight of a node with this config. */
export function preflightInputOf(node: Pick<NodeConfig, "name">, cluster: Pick<WorkerConfig, "kubernetesVersion" | "kubeProxyMode" | "failCgroupV1">): PreflightInput {
    return { node: node.name, kubernetesVersion: cluster.kubernetesVersion, kubeProxyMode: cluster.kubeProxyMode, failCgroupV1: cluster.failCgroupV1 };
}

/** The system phase of a node with this config: its preflight first (preflight.ts), then the setup. */
export function systemPlanFor(node: Pick<NodeConfig, "name">, cluster: Pick<WorkerConfig, "kubernetesVersion" | "kubeProxyMode" | "failCgroupV1">): SystemPlan {
    return systemPlan(preflightInputOf(node, cluster));
}

/**
 * The system phase. With a preflight: the host is checked before anything
 * is written, and the kernel setup the checks vouch for (modules at boot,
 * sysctls) is laid down in files the phase owns. Without: the same on every node.
 */
export function systemPlan(preflight?: PreflightInput): SystemPlan {
    const kernel = preflight ? kernelFiles(preflight.kubeProxyMode) : [];
    const kernelDirs: DirStep[] = preflight
        ? ["/etc/modules-load.d", "/etc/sysctl.d"].map((p): DirStep => ({ path: p, mode: "0755", owner: "root", group: "root", onUndo: "keep" }))
        : [];
    const kernelSteps = preflight
        ? [...modulesFor(preflight.kubeProxyMode).map((m) => `hw_module ${shq(m)}`), ...SYSCTLS.map((s) => `hw_sysctl ${shq(s)} 1`)]
        : [];
    const plan: Omit<SystemPlan, "create" | "delete"> = {
        component: "system",
        group: KUBERNETES,
        user: { name: KUBERNETES, home: PATHS.kubernetesDir, group: KUBERNETES },
        dirs: [...DIRS, ...kernelDirs],
        files: [TMPFILES, ...kernel],
        secrets: [],
        services: [],
        removePackages: [{ name: "firewalld", why: "The guide: remove firewalld; kube-proxy's rules and firewalld's do not mix well." }],
        facts: [
            { name: "gid", shell: "$(getent group kubernetes | cut -d : -f 3)" },
            { name: "family", shell: "$(hw_family)" },
        ],
    };
    return {
        ...plan,
        create: nodeScript(
            plan.component,
            [
                `hw_group ${shq(plan.group)}`,
                `hw_user ${shq(plan.user.name)} ${shq(plan.user.home)} ${shq(plan.user.group)}`,
                ...plan.dirs.map(dirStep),
                ...plan.files.map(fileStep),
                ...kernelSteps,
                ...plan.removePackages.flatMap((p) => [`# ${p.why}`, `hw_remove_pkg ${shq(p.name)}`]),
                ...plan.facts.map((f) => `hw_fact ${f.name} "${f.shell}"`),
                "hw_print_facts",
            ],
            plan.secrets,
            [...(preflight ? preflightScript(preflight) : []), ...libraryInstall()],
        ),
        // Then the node library goes: every other phase is gone by then (they depend on this one).
        delete: undoScript(plan.component, ["hw_remove_library"]),
    };
}

/** The system phase's command text. */
export function systemScript(): string {
    return systemPlan().create;
}

/** Undoes the system phase, then removes the node library. */
export function systemUndoScript(): string {
    return systemPlan().delete;
}

/** The real gid of the `kubernetes` group, from the facts the system phase printed. */
export function kubernetesGidOf(nodeName: string, facts: Record<string, string>): number {
    const gid = Number(facts.gid);
    if (!Number.isInteger(gid) || gid < 0) {
        throw new Error(`node ${nodeName}: the kubernetes group has no numeric gid (${JSON.stringify(facts.gid)})`);
    }
    return gid;
}

/** `debian` or `rhel`, from /etc/os-release. */
export function osFamilyOf(facts: Record<string, string>): string {
    return facts.family;
}
