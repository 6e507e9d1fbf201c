/**
 * Preflight, planned: what a host must offer before the system phase writes
 * anything, for this Kubernetes version and kube-proxy mode. The checks run
 * first in the system phase's command (before the node library is laid
 * down), and the version is part of that command's text: the system phase,
 * and so the preflight, runs before a node's first change and again on
 * every Kubernetes version change, before the other phases are updated.
 *
 * The kernel setup the checks vouch for (modules to load at boot, the two
 * sysctls) is laid down by the system phase itself, in files it owns and
 * its undo removes (KERNEL_FILES).
 *
 * Pure: plain values in, plain data and text out.
 */
import * as fs from "fs";
import * as path from "path";
import type { ProxyMode, Version } from "../kube/versions";
import { atLeast, formatVersion } from "../kube/versions";
import type { FileStep } from "../node/scripts";
import { shq } from "../node/scripts";

/** The checks' shell functions (plain bash: they run before the library is installed). */
export const PREFLIGHT_LIBRARY = fs.readFileSync(path.join(__dirname, "preflight.sh"), "utf8");

export interface PreflightInput {
    /** The node's name, for the messages. */
    node: string;
    kubernetesVersion: Version;
    kubeProxyMode: ProxyMode;
    /** The stack's failCgroupV1 (unset: the kubelet's default). */
    failCgroupV1?: boolean;
}

/** One check: its function in preflight.sh and its arguments. */
export interface PreflightCheck {
    check: "swap" | "module" | "sysctl" | "port" | "disk" | "cgroup";
    args: string[];
}

/** Free space wanted under /var/lib (images, the kubelet's and containerd's state) and /usr/local (the binaries), MiB. */
export const MIN_FREE_MIB = { "/var/lib": 2048, "/usr/local": 512 } as const;

/** The sysctls Kubernetes networking needs, set through KERNEL_FILES. */
export const SYSCTLS = ["net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables"] as const;

/** The kernel modules the mode needs. */
export function modulesFor(mode: ProxyMode): string[] {
    return ["overlay", "br_netfilter", ...(mode === "ipvs" ? ["ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh"] : [])];
}

/** Whether the kubelet of this version refuses a cgroup v1 host (from 1.35, unless failCgroupV1 is false). */
export function needsCgroupV2(version: Version, failCgroupV1: boolean | undefined): boolean {
    return atLeast(version, 1, 35) && failCgroupV1 !== false;
}

/** The checks, in the order they run. */
export function preflightChecks(input: PreflightInput): PreflightCheck[] {
    return [
        { check: "swap", args: [] },
        ...modulesFor(input.kubeProxyMode).map((m): PreflightCheck => ({ check: "module", args: [m] })),
        ...SYSCTLS.map((s): PreflightCheck => ({ check: "sysctl", args: [s] })),
        { check: "port", args: ["10250", "kubelet.service"] },
        { check: "port", args: ["10256", "kube-proxy.service"] },
        ...Object.entries(MIN_FREE_MIB).map(([p, mib]): PreflightCheck => ({ check: "disk", args: [p, String(mib)] })),
        { check: "cgroup", args: [needsCgroupV2(input.kubernetesVersion, input.failCgroupV1) ? "v2" : "any"] },
    ];
}

/** The preflight's lines: the checks' functions, each check, and the stop when one failed. */
export function preflightScript(input: PreflightInput): string[] {
    return [
        `# Preflight for Kubernetes ${formatVersion(input.kubernetesVersion)}, kube-proxy ${input.kubeProxyMode} (components/system/preflight.sh).`,
        PREFLIGHT_LIBRARY.trimEnd(),
        ...preflightChecks(input).map((c) => [`hw_pf_${c.check}`, ...c.args].map(shq).join(" ")),
        `hw_pf_end ${shq(input.node)}`,
    ];
}

/** What the kernel setup lays down: modules to load at boot, and the sysctls. */
export function kernelFiles(mode: ProxyMode): FileStep[] {
    return [
        {
            path: "/etc/modules-load.d/hardway-kubernetes.conf",
            mode: "0644",
            owner: "root",
            group: "root",
            effect: "none",
            content: `# hardway-workers: the kernel modules Kubernetes needs, loaded at boot.\n${modulesFor(mode).join("\n")}\n`,
        },
        {
            path: "/etc/sysctl.d/99-hardway-kubernetes.conf",
            mode: "0644",
            owner: "root",
            group: "root",
            effect: "none",
            content: `# hardway-workers: what Kubernetes networking needs.\n${SYSCTLS.map((s) => `${s} = 1`).join("\n")}\n`,
        },
    ];
}

export interface PreflightResult {
    check: string;
    ok: boolean;
    detail: string;
}

/** The report lines a preflight printed (HW_PREFLIGHT, tab-separated), in order. */
export function parsePreflight(stdout: string): PreflightResult[] {
    const out: PreflightResult[] = [];
    for (const line of stdout.split("\n")) {
        if (!line.startsWith("HW_PREFLIGHT\t")) {
            continue;
        }
        const [, check, status, ...detail] = line.split("\t");
        if (status !== "ok" && status !== "fail") {
            throw new Error(`a preflight line has no status ok or fail: ${JSON.stringify(line)}`);
        }
        out.push({ check, ok: status === "ok", detail: detail.join("\t") });
    }
    return out;
}

/** The error a failed preflight stops with, as the node prints it. */
export function preflightError(node: string, failed: PreflightResult[]): string {
    return failed.map((r) => `hardway: error: node ${node}: preflight ${r.check}: ${r.detail}\n`).join("");
}
