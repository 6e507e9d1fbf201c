/**
 * A phase's real script, run against stub tools: stub package managers,
 * account tools and systemctl on PATH record each call that changes the host
 * and keep their state (accounts, installed packages) in a scratch directory.
 * The library's steps that touch absolute paths (files, directories,
 * downloads, the library itself) are replaced by recorders, so nothing
 * outside the scratch directory is written; everything else is the library
 * as it runs on a node.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { LIBRARY_PATH, shq } from "../../components/node/scripts";

const LIBRARY_FILE = path.resolve(__dirname, "../../components/node/scripts/hardway.sh");

/** The tools the stubs replace; the real ones are hidden from the script. */
const STUBBED = [
    "apt-get", "dpkg-query", "rpm", "dnf", "yum",
    "getent", "groupadd", "groupdel", "useradd", "userdel", "nologin",
    "systemctl", "journalctl", "containerd", "runc", "crictl", "kube-proxy", "ipvsadm",
];

const LOG = 'printf "%s\\n" "$(basename "$0")${*:+ $*}" >>"$STUB_LOG"';
/** The last argument: the package or account name (after `--`). */
const NAME = 'name="${!#}"';

const STUBS: Record<string, string> = {
    getent: '[ -e "$STUB_STATE/$1/$2" ] || exit 2; printf "%s:x:%s:\\n" "$2" "$(cat "$STUB_STATE/$1/$2")"',
    groupadd: `${LOG}; ${NAME}; mkdir -p "$STUB_STATE/group"; echo 998 >"$STUB_STATE/group/$name"`,
    groupdel: `${LOG}; ${NAME}; rm -f "$STUB_STATE/group/$name"`,
    useradd: `${LOG}; ${NAME}; mkdir -p "$STUB_STATE/passwd"; echo 998 >"$STUB_STATE/passwd/$name"`,
    userdel: `${LOG}; ${NAME}; rm -f "$STUB_STATE/passwd/$name"`,
    nologin: "exit 1",
    "dpkg-query": `${NAME}; [ -e "$STUB_STATE/pkg/$name" ] && printf "install ok installed"`,
    rpm: `${NAME}; [ -e "$STUB_STATE/pkg/$name" ]`,
    "apt-get": pkgManager("install", "purge"),
    dnf: pkgManager("install", "remove"),
    yum: pkgManager("install", "remove"),
    // Units: enabled and active by marker files; a (re)start makes a unit active and it stays so.
    systemctl: [
        'case "$1" in is-enabled | is-active | show) ;; *) ' + LOG + " ;; esac",
        'unit="${!#}"; mkdir -p "$STUB_STATE/enabled" "$STUB_STATE/active"',
        'case "$1" in',
        'is-enabled) [ -e "$STUB_STATE/enabled/$unit" ] ;;',
        'is-active) [ -e "$STUB_STATE/active/$unit" ] ;;',
        'enable) : >"$STUB_STATE/enabled/$unit" ;;',
        'disable) rm -f "$STUB_STATE/enabled/$unit" ;;',
        'restart | start) : >"$STUB_STATE/active/$unit" ;;',
        'stop) rm -f "$STUB_STATE/active/$unit" ;;',
        'show) if [ "$3" = NRestarts ]; then echo 0; elif [ -e "$STUB_STATE/active/$unit" ]; then echo active; else echo inactive; fi ;;',
        "esac",
    ].join("\n"),
    journalctl: LOG,
    runc: "exit 0",
};

/** A package manager: `install` and `remove` mark the package (containerd's packages bring the containerd binary). */
function pkgManager(install: string, remove: string): string {
    return [
        LOG,
        NAME,
        'case "$1" in',
        `${install}) mkdir -p "$STUB_STATE/pkg"; : >"$STUB_STATE/pkg/$name"`,
        '  case "$name" in containerd | containerd.io) printf \'#!/bin/sh\\necho "containerd containerd.example 1.6.20~ds1 0"\\n\' >"$STUB_INSTALLED/containerd"; chmod 0755 "$STUB_INSTALLED/containerd" ;; esac ;;',
        `${remove}) rm -f "$STUB_STATE/pkg/$name" "$STUB_INSTALLED/containerd" ;;`,
        "esac",
    ].join("\n");
}

/** Library steps that write absolute paths: each records its call (a file without its content) and, for a file, its effect. */
const RECORDERS = [
    'hw_dir() { printf "hw_dir %s\\n" "$*" >>"$STUB_LOG"; }',
    'hw_file() { printf "hw_file %s\\n" "${*:1:5}" >>"$STUB_LOG"; hw_effect "$5"; }',
    'hw_secret_file() { printf "hw_secret_file %s\\n" "${*:1:6}" >>"$STUB_LOG"; hw_effect "$6"; }',
    'hw_fetch() { printf "hw_fetch %s\\n" "$*" >>"$STUB_LOG"; }',
    'hw_fetch_tar() { printf "hw_fetch_tar %s\\n" "$*" >>"$STUB_LOG"; }',
    'hw_runtime() { printf "hw_runtime %s\\n" "$*" >>"$STUB_LOG"; }',
    'hw_runtime_glob() { printf "hw_runtime_glob %s\\n" "$*" >>"$STUB_LOG"; }',
    'hw_watch() { printf "hw_watch %s\\n" "$*" >>"$STUB_LOG"; }',
    'hw_socket_gid() { printf "hw_socket_gid %s\\n" "$*" >>"$STUB_LOG"; }',
    'hw_remove_library() { printf "hw_remove_library\\n" >>"$STUB_LOG"; }',
    'hw_before_undo_kubelet() { printf "hw_before_undo_kubelet\\n" >>"$STUB_LOG"; }',
    'hw_before_undo_kube_proxy() { printf "hw_before_undo_kube_proxy\\n" >>"$STUB_LOG"; }',
    'hw_family() { printf "%s" "$STUB_FAMILY"; }',
];

export interface StubHost {
    dir: string;
    /** The path `command -v nologin` finds. */
    nologin: string;
    /** Marks an account or a package as already there. */
    has(kind: "group" | "passwd" | "pkg", name: string): void;
    /** Puts a containerd binary on PATH, as if the host had one before the program. */
    hasContainerd(): void;
    /** Takes a tool away (e.g. dnf, so that yum is used). */
    remove(tool: string): void;
    /** Runs a command text (a phase's create or delete); returns its output and the calls it made, one line each. */
    run(command: string, family?: string, stdin?: string): { status: number; stdout: string; stderr: string; calls: string[] };
    cleanup(): void;
}

/** The script inside a command's here-document, with its prologue (the library install) left out. */
function innerScript(command: string): string {
    const m = /^bash \/dev\/fd\/3 3<<'(HARDWAY_[0-9a-f]+)'\n([\s\S]*)\n\1\n$/.exec(command);
    if (!m) {
        throw new Error("not a node command: `bash /dev/fd/3` with the script as a quoted here-document");
    }
    const lines = m[2].split("\n");
    const source = lines.indexOf(`. ${LIBRARY_PATH}`);
    if (source < 0) {
        throw new Error("the script does not source the library");
    }
    // HW_COMPONENT and HW_SECRETS come first; a prologue may sit between them and the library.
    return [...lines.slice(0, 2), ...lines.slice(source)].join("\n");
}

export function stubHost(): StubHost {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hw-stubs-"));
    const stubs = path.join(dir, "stubs");
    const installed = path.join(dir, "installed");
    const system = path.join(dir, "system");
    const state = path.join(dir, "state");
    for (const d of [stubs, installed, system, state]) {
        fs.mkdirSync(d);
    }
    for (const [name, body] of Object.entries(STUBS)) {
        fs.writeFileSync(path.join(stubs, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    }
    // Every other tool of the host, through symlinks, without the ones stubbed.
    for (const from of ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
        for (const name of fs.existsSync(from) ? fs.readdirSync(from) : []) {
            const link = path.join(system, name);
            if (!STUBBED.includes(name) && !fs.existsSync(link)) {
                fs.symlinkSync(path.join(from, name), link);
            }
        }
    }
    const log = path.join(dir, "calls.log");
    return {
        dir,
        nologin: path.join(stubs, "nologin"),
        has(kind, name) {
            fs.mkdirSync(path.join(state, kind), { recursive: true });
            fs.writeFileSync(path.join(state, kind, name), "998\n");
        },
        hasContainerd() {
            fs.writeFileSync(path.join(installed, "containerd"), '#!/bin/sh\necho "containerd containerd.example 1.6.20~ds1 0"\n', { mode: 0o755 });
        },
        remove(tool) {
            fs.rmSync(path.join(stubs, tool));
        },
        run(command, family = "debian", stdin = "") {
            fs.writeFileSync(log, "");
            const script = innerScript(command).replace(`. ${LIBRARY_PATH}`, () => [`. ${shq(LIBRARY_FILE)}`, ...RECORDERS].join("\n"));
            const r = spawnSync("bash", ["-c", script], {
                input: stdin,
                encoding: "utf8",
                env: {
                    PATH: [installed, stubs, system].join(":"),
                    HOME: dir,
                    HW_ROOT: path.join(dir, "journal"),
                    STUB_LOG: log,
                    STUB_STATE: state,
                    STUB_INSTALLED: installed,
                    STUB_FAMILY: family,
                },
            });
            const calls = fs.readFileSync(log, "utf8").split("\n").filter((l) => l !== "");
            return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, calls };
        },
        cleanup() {
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
