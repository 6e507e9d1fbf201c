/**
 * The body of each node script, one per component. Pure: plain values in,
 * script text out (see test/scripts.test.ts and the e2e suite).
 */
import { PATHS } from "../paths";
import { FileStep, fileStep, nodeScript, shq, undoScript } from "./index";

/** System setup: the kubernetes user and group, the guide's directories, firewalld gone. */
export function systemScript(): string {
    return nodeScript("system", [
        "HW_FAMILY=$(hw_family)",
        "if ! getent group kubernetes >/dev/null; then",
        "\tgroupadd --system kubernetes",
        "\thw_rec group kubernetes",
        "fi",
        "if ! getent passwd kubernetes >/dev/null; then",
        "\tnologin=$(command -v nologin || printf '/sbin/nologin')",
        `\tuseradd -d ${shq(PATHS.kubernetesDir)} -s "$nologin" -g kubernetes -r -M kubernetes`,
        "\thw_rec user kubernetes",
        "fi",
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
        "if hw_pkg_installed firewalld; then",
        "\tsystemctl disable --now --quiet firewalld.service 2>/dev/null || true",
        '\thw_say "removing firewalld"',
        "\thw_pkg_remove firewalld",
        "\thw_rec removed-pkg firewalld",
        "fi",
        'hw_fact gid "$(getent group kubernetes | cut -d : -f 3)"',
        'hw_fact family "$HW_FAMILY"',
        "hw_print_facts",
    ]);
}

export function systemUndoScript(): string {
    return undoScript("system");
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

/** containerd from the host's packages (containerd.io on RHEL, as the guide; containerd on Debian), unless present. */
export function containerdInstallScript(): string {
    return nodeScript("containerd-install", [
        "if ! command -v containerd >/dev/null 2>&1; then",
        '\tcase "$(hw_family)" in',
        "\tdebian) hw_pkg containerd ;;",
        "\trhel) hw_pkg containerd.io ;;",
        '\t*) hw_die "containerd is missing and /etc/os-release names neither a Debian nor a RHEL family system" ;;',
        "\tesac",
        "fi",
        "command -v runc >/dev/null 2>&1 || hw_die 'containerd is installed but runc is not on PATH'",
        "hw_fact containerdVersion \"$(containerd --version | awk '{ print $3 }')\"",
        'hw_fact runc "$(command -v runc)"',
        "hw_print_facts",
    ]);
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
        `sock=${shq(PATHS.containerdSocket)}`,
        'for ((i = 0; i < 30; i++)); do [ -S "$sock" ] && break; sleep 1; done',
        `[ "$(stat -c %g -- "$sock" 2>/dev/null)" = ${shq(c.gid)} ] || hw_die "$sock does not belong to gid ${c.gid}"`,
    ]);
}

export function containerdConfigUndoScript(): string {
    return undoScript("containerd");
}

export interface ServiceFiles {
    unit: string;
    files: FileStep[];
    secrets: number;
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
        k.secrets,
    );
}

export function kubeletUndoScript(): string {
    return undoScript("kubelet", [
        "systemctl stop kubelet.service 2>/dev/null || true",
        `if [ -x ${PATHS.crictl} ] && [ -S ${PATHS.containerdSocket} ]; then`,
        `\t${PATHS.crictl} --runtime-endpoint unix://${PATHS.containerdSocket} rmp -af >/dev/null 2>&1 || true`,
        "fi",
        `awk '$2 ~ "^${PATHS.kubeletRootDir}/" { print $2 }' /proc/self/mounts | sort -r | while IFS= read -r m; do umount -- "$m" || true; done`,
    ]);
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
        k.secrets,
    );
}

export function kubeProxyUndoScript(): string {
    return undoScript("kube-proxy", [
        "systemctl stop kube-proxy.service 2>/dev/null || true",
        `if [ -x ${PATHS.kubeProxy} ]; then ${PATHS.kubeProxy} --cleanup >/dev/null 2>&1 || true; fi`,
    ]);
}
