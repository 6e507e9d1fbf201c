/**
 * Builders for the scripts that run on nodes. Pure functions: plain values
 * in, script text out. Every script is the shared library in prelude.sh
 * plus a body; values are single-quoted; secrets never appear in the text,
 * only as `hw_secret N`, the N-th base64 line on the command's stdin.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

const PRELUDE = fs.readFileSync(path.join(__dirname, "prelude.sh"), "utf8");

/** Quotes a value for bash: safe for any content, including quotes and newlines. */
export function shq(value: string | number): string {
    const s = String(value);
    if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) {
        return s;
    }
    return `'${s.replace(/'/g, `'\\''`)}'`;
}

export type Effect = "restart" | "reload" | "none";

/** One file to lay down: public content inline, or a secret by its stdin index. */
export interface FileStep {
    path: string;
    mode: "0644" | "0600" | "0755";
    owner: string;
    group: string;
    effect: Effect;
    content: string | { secret: number };
}

export function fileStep(f: FileStep): string {
    const head = ["hw_file", f.path, f.mode, f.owner, f.group, f.effect].map(shq).join(" ");
    if (typeof f.content === "string") {
        return `${head} < <(printf '%s' ${shq(f.content)})`;
    }
    return `${head} < <(hw_secret ${f.content.secret})`;
}

/**
 * The command text: the outer login shell hands the script to bash on fd 3,
 * so the script reads verbatim in a diff and stdin stays free for secrets.
 */
export function nodeScript(component: string, body: string[], secrets = 0): string {
    const script = [
        `HW_COMPONENT=${shq(component)}`,
        PRELUDE.trimEnd(),
        "",
        `# ---- ${component} ----`,
        ...(secrets > 0 ? [`hw_read_secrets ${secrets}`] : []),
        ...body,
    ].join("\n");
    const delimiter = `HARDWAY_${crypto.createHash("sha256").update(script).digest("hex").slice(0, 16)}`;
    return `bash /dev/fd/3 3<<'${delimiter}'\n${script}\n${delimiter}\n`;
}

/** The delete script: stop what must stop first, then undo the journal. */
export function undoScript(component: string, before: string[] = []): string {
    return nodeScript(component, [...before, "hw_undo"]);
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
