/**
 * The body of each node script, one per phase: only the phase's data, as
 * calls into the node library (hardway.sh). Pure: plain values in, script
 * text out (see test/scripts.test.ts and the e2e suite).
 */
import { PATHS } from "../kube/paths";
import { FileStep, fileStep, libraryInstall, nodeScript, secretNames, shq, undoScript } from "../node/scripts/index";

/** System setup: the node library first; then the kubernetes user and group, the guide's directories, firewalld gone. */
export function systemScript(): string {
    return nodeScript(
        "system",
        [
            "hw_group kubernetes",
            `hw_user kubernetes ${shq(PATHS.kubernetesDir)} kubernetes`,
            `hw_dir ${PATHS.kubernetesDir} 0755 kubernetes kubernetes purge`,
            `hw_dir ${PATHS.pkiDir} 0700 kubernetes kubernetes purge`,
            `hw_dir ${PATHS.runDir} 0755 kubernetes kubernetes purge`,
            `hw_dir ${PATHS.cniConfDir} 0755 root root keep`,
            `hw_dir ${PATHS.cniBinDir} 0755 root root keep`,
            "hw_dir /etc/tmpfiles.d 0755 root root keep",
            fileStep({
                path: PATHS.tmpfilesConf,
                mode: "0644",
                owner: "root",
                group: "root",
                effect: "none",
                content: "# /run is a tmpfs: recreate the kubelet's run directory at boot.\nd /run/kubernetes 0755 kubernetes kubernetes -\n",
            }),
            "# The guide: remove firewalld; kube-proxy's rules and firewalld's do not mix well.",
            "hw_remove_pkg firewalld",
            'hw_fact gid "$(getent group kubernetes | cut -d : -f 3)"',
            'hw_fact family "$(hw_family)"',
            "hw_print_facts",
        ],
        [],
        libraryInstall(),
    );
}

/** Undoes the system phase, then removes the node library: every other phase is gone by then (they depend on this one). */
export function systemUndoScript(): string {
    return undoScript("system", ["hw_remove_library"]);
}

export interface Download {
    url: string;
    /** The sha256 to verify against; empty to use the one published at `<url>.sha256`. */
    sha256: string;
}

export interface BinariesInput {
    kubelet: Download;
    kubeProxy: Download;
    crictl: Download;
    cni: Download;
}

/** The binaries: kubelet, kube-proxy and crictl to /usr/local/sbin, the CNI plugins to /opt/cni/bin. */
export function binariesScript(b: BinariesInput): string {
    return nodeScript("binaries", [
        `hw_fetch ${shq(b.kubelet.url)} ${shq(b.kubelet.sha256)} ${PATHS.kubelet} 0755`,
        `hw_fetch ${shq(b.kubeProxy.url)} ${shq(b.kubeProxy.sha256)} ${PATHS.kubeProxy} 0755`,
        `hw_fetch_tar ${shq(b.crictl.url)} ${shq(b.crictl.sha256)} ${PATHS.sbinDir}`,
        `hw_fetch_tar ${shq(b.cni.url)} ${shq(b.cni.sha256)} ${PATHS.cniBinDir}`,
    ]);
}

export function binariesUndoScript(): string {
    return undoScript("binaries");
}

/** The package that brings containerd, by OS family: Debian's own, and on RHEL the guide's `containerd.io` from Docker's repository. */
export const CONTAINERD_PACKAGES = { debian: "containerd", rhel: "containerd.io" } as const;

/** containerd from the host's packages, unless present; prints its version and runc's path. */
export function containerdInstallScript(): string {
    return nodeScript("containerd-install", [`hw_ensure_containerd ${CONTAINERD_PACKAGES.debian} ${CONTAINERD_PACKAGES.rhel}`, "hw_print_facts"]);
}

export function containerdInstallUndoScript(): string {
    return undoScript("containerd-install");
}

export interface ContainerdConfigInput {
    configToml: string;
    gid: number;
}

/** /etc/containerd/config.toml, then enable, restart when it changed, and check the socket's group. */
export function containerdConfigScript(c: ContainerdConfigInput): string {
    return nodeScript("containerd", [
        "hw_dir /etc/containerd 0755 root root keep",
        fileStep({ path: PATHS.containerdConfig, mode: "0644", owner: "root", group: "root", effect: "restart", content: c.configToml }),
        // containerd makes its "opt" plugin's directory at start unless a config moves it (Debian's does).
        "hw_runtime /opt/containerd dir",
        "hw_service containerd.service wait",
        `hw_socket_gid ${shq(PATHS.containerdSocket)} ${shq(c.gid)}`,
    ]);
}

export function containerdConfigUndoScript(): string {
    return undoScript("containerd");
}

export interface ServiceFiles {
    unit: string;
    files: FileStep[];
    /** The service's binary, written by the binaries component. */
    binary: string;
    wait: boolean;
}

export interface KubeletScriptInput extends ServiceFiles {}

/** The kubelet's files, then daemon-reload, enable, and a restart only when something it reads changed. */
export function kubeletScript(k: KubeletScriptInput): string {
    return nodeScript(
        "kubelet",
        [
            ...k.files.map(fileStep),
            // Files the kubelet itself writes, once bootstrapped; undo removes them.
            `hw_runtime ${PATHS.kubeletKubeconfig} file`,
            `hw_runtime ${PATHS.kubeletRootDir} dir`,
            `hw_runtime ${PATHS.podLogDir} dir`,
            `hw_runtime ${PATHS.containerLogDir} dir`,
            `hw_runtime ${PATHS.volumePluginRoot} dir`,
            `hw_runtime_glob ${shq(`${PATHS.pkiDir}/kubelet-client-*`)}`,
            `hw_watch ${shq(k.binary)}`,
            `hw_service ${shq(k.unit)} ${k.wait ? "wait" : "nowait"}`,
        ],
        secretNames(k.files),
    );
}

/** Stops the kubelet and its pods (the library's hw_before_undo_kubelet), then undoes its journal. */
export function kubeletUndoScript(): string {
    return undoScript("kubelet");
}

export interface KubeProxyScriptInput extends ServiceFiles {
    ipvs: boolean;
}

export function kubeProxyScript(k: KubeProxyScriptInput): string {
    return nodeScript(
        "kube-proxy",
        [
            ...(k.ipvs ? ["command -v ipvsadm >/dev/null 2>&1 || hw_pkg ipvsadm"] : []),
            ...k.files.map(fileStep),
            `hw_watch ${shq(k.binary)}`,
            `hw_service ${shq(k.unit)} ${k.wait ? "wait" : "nowait"}`,
        ],
        secretNames(k.files),
    );
}

/** Stops kube-proxy and clears its rules (hw_before_undo_kube_proxy), then undoes its journal. */
export function kubeProxyUndoScript(): string {
    return undoScript("kube-proxy");
}
