/**
 * Builders for the scripts that run on nodes. Pure functions: plain values
 * in, script text out.
 *
 * The node library (hardway.sh) is installed once per node, by the system
 * phase, at `/usr/local/lib/hardway/<digest>/hardway.sh`, content-addressed;
 * `/usr/local/lib/hardway/v<ABI>` points at the current one. Every other
 * phase's command sources it by that stable path and carries only its data:
 * files, units, restarts, and the names of the secrets it reads on stdin.
 *
 * A library change therefore updates only each node's system phase (which
 * lays down the new library and moves the pointer); the other phases take
 * it the next time they run, and a no-op `up` stays a no-op. A change that
 * older phase scripts cannot run with bumps LIBRARY_ABI, which changes every
 * phase's text, so every phase runs again on the new library.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";

/** The node library's text. */
export const LIBRARY = fs.readFileSync(path.join(__dirname, "hardway.sh"), "utf8");
/** Its content address: the first 16 hex digits of its sha256. */
export const LIBRARY_DIGEST = crypto.createHash("sha256").update(LIBRARY).digest("hex").slice(0, 16);
/** Bump when phase scripts written for the old library cannot run on the new one. */
export const LIBRARY_ABI = 1;
export const LIBRARY_ROOT = "/usr/local/lib/hardway";
/** The path every phase sources. */
export const LIBRARY_PATH = `${LIBRARY_ROOT}/v${LIBRARY_ABI}/hardway.sh`;

/** Quotes a value for bash: safe for any content, including quotes and newlines. */
export function shq(value: string | number): string {
    const s = String(value);
    if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) {
        return s;
    }
    return `'${s.replace(/'/g, `'\\''`)}'`;
}

export type Effect = "restart" | "reload" | "none";

/** One file to lay down: public content inline, or a named secret read from stdin. */
export interface FileStep {
    path: string;
    mode: "0644" | "0600" | "0755";
    owner: string;
    group: string;
    effect: Effect;
    content: string | { secret: string };
}

export function fileStep(f: FileStep): string {
    const head = [f.path, f.mode, f.owner, f.group, f.effect].map(shq).join(" ");
    if (typeof f.content === "string") {
        return `hw_file ${head} ${shq(f.content)}`;
    }
    return `hw_secret_file ${shq(f.content.secret)} ${head}`;
}

/** A directory to make: on undo, `purge` removes it with its content, `keep` leaves it (shared with the host). */
export interface DirStep {
    path: string;
    mode: "0755" | "0700";
    owner: string;
    group: string;
    onUndo: "purge" | "keep";
}

export function dirStep(d: DirStep): string {
    return `hw_dir ${[d.path, d.mode, d.owner, d.group].map(shq).join(" ")} ${d.onUndo}`;
}

/** Something a running service makes on the node (a file, a directory, or files by a glob), removed on undo. */
export interface RuntimeStep {
    path: string;
    kind: "file" | "dir" | "glob";
}

export function runtimeStep(r: RuntimeStep): string {
    return r.kind === "glob" ? `hw_runtime_glob ${shq(r.path)}` : `hw_runtime ${shq(r.path)} ${r.kind}`;
}

/** A unit to enable and start, restarted when something it reads changed; `wait`: until it is active and stays up. */
export interface ServiceStep {
    unit: string;
    wait: boolean;
}

export function serviceStep(s: ServiceStep): string {
    return `hw_service ${shq(s.unit)} ${s.wait ? "wait" : "nowait"}`;
}

/** The secrets a list of files reads, by name, sorted: the order they come in on stdin (see stdinOf). */
export function secretNames(files: FileStep[]): string[] {
    return [...new Set(files.flatMap((f) => (typeof f.content === "string" ? [] : [f.content.secret])))].sort();
}

/** A phase's stdin: one line per secret, `<name> <base64>`, sorted by name as secretNames sorts them. */
export function stdinOf(secrets: Record<string, string>): string {
    return Object.keys(secrets)
        .sort()
        .map((name) => `${name} ${Buffer.from(secrets[name]).toString("base64")}\n`)
        .join("");
}

/** The secret names a phase may use: shell words, so they read plainly on stdin and in HW_SECRETS. */
const SECRET_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * The command text: the outer login shell hands the script to bash on fd 3,
 * so the script reads verbatim in a diff and stdin stays free for secrets.
 * `prologue` runs before the library is sourced (only the system phase,
 * which installs it, has one).
 */
export function nodeScript(component: string, body: string[], secrets: string[] = [], prologue: string[] = []): string {
    for (const name of secrets) {
        if (!SECRET_NAME.test(name)) {
            throw new Error(`secret name ${JSON.stringify(name)} is not a word of letters, digits and '_'`);
        }
    }
    const script = [
        `HW_COMPONENT=${shq(component)}`,
        `HW_SECRETS=(${secrets.join(" ")})`,
        ...prologue,
        `. ${LIBRARY_PATH}`,
        ...body,
    ].join("\n");
    const delimiter = `HARDWAY_${crypto.createHash("sha256").update(script).digest("hex").slice(0, 16)}`;
    return `bash /dev/fd/3 3<<'${delimiter}'\n${script}\n${delimiter}\n`;
}

/** The delete script: the library's undo of this phase's journal (with the phase's own stop steps, see hw_before_undo_*). */
export function undoScript(component: string, after: string[] = []): string {
    return nodeScript(component, ["hw_undo", ...after]);
}

let blobCache: string | undefined;

/** The library gzip'd and base64'd, made once per program run: a gzip per node took 0.7 s of CPU in a 1,000-node preview. */
export function libraryBlob(): string {
    blobCache ??= zlib.gzipSync(Buffer.from(LIBRARY, "utf8"), { level: 9 }).toString("base64");
    return blobCache;
}

/**
 * The system phase's prologue: lays down the library, gzip'd and base64'd
 * in the command text, at its content address, and points v<ABI> at it;
 * older versions go. It runs before the library exists, so it is plain bash.
 */
export function libraryInstall(): string[] {
    const blob = libraryBlob();
    const dir = `${LIBRARY_ROOT}/${LIBRARY_DIGEST}`;
    return [
        `# The node library ${LIBRARY_DIGEST} (components/node/scripts/hardway.sh), gzip, base64.`,
        "set -euo pipefail",
        `hw_lib_dir=${dir}`,
        `if ! { [ -f "$hw_lib_dir/hardway.sh" ] && [ "$(sha256sum <"$hw_lib_dir/hardway.sh" | cut -c 1-16)" = ${LIBRARY_DIGEST} ]; }; then`,
        `\tmkdir -p ${LIBRARY_ROOT} && chmod 0755 ${LIBRARY_ROOT}`,
        `\trm -rf -- ${LIBRARY_ROOT}/.new.hw-tmp && mkdir -m 0755 ${LIBRARY_ROOT}/.new.hw-tmp`,
        `\tbase64 -d <<<${shq(blob)} | gzip -dc >${LIBRARY_ROOT}/.new.hw-tmp/hardway.sh`,
        `\t[ "$(sha256sum <${LIBRARY_ROOT}/.new.hw-tmp/hardway.sh | cut -c 1-16)" = ${LIBRARY_DIGEST} ] || { echo "hardway: error: the node library did not unpack" >&2; exit 1; }`,
        `\tchmod 0644 ${LIBRARY_ROOT}/.new.hw-tmp/hardway.sh`,
        `\trm -rf -- "$hw_lib_dir" && mv -T ${LIBRARY_ROOT}/.new.hw-tmp "$hw_lib_dir"`,
        "fi",
        `if [ "$(readlink ${LIBRARY_ROOT}/v${LIBRARY_ABI} 2>/dev/null)" != ${LIBRARY_DIGEST} ]; then`,
        `\tln -sfn ${LIBRARY_DIGEST} ${LIBRARY_ROOT}/.v${LIBRARY_ABI}.hw-tmp && mv -T ${LIBRARY_ROOT}/.v${LIBRARY_ABI}.hw-tmp ${LIBRARY_ROOT}/v${LIBRARY_ABI}`,
        "fi",
        `find ${LIBRARY_ROOT} -mindepth 1 -maxdepth 1 -type d ! -name ${LIBRARY_DIGEST} -exec rm -rf -- {} +`,
    ];
}

/** Parses the `HW_FACTS {...}` line a script printed. */
export function parseFacts(stdout: string): Record<string, string> {
    const line = stdout
        .split("\n")
        .reverse()
        .find((l) => l.startsWith("HW_FACTS "));
    if (!line) {
        throw new Error(`the node script printed no facts; its output was:\n${stdout}`);
    }
    return JSON.parse(line.slice("HW_FACTS ".length)) as Record<string, string>;
}
