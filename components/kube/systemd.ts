/**
 * A small systemd unit serializer: sections of ordered entries in, unit text
 * out. systemd has no library for this in the npm world, so the format rules
 * live here, with tests: one key per line, repeated keys repeated (never
 * joined with commas), `%` escaped, and arguments quoted when they need it.
 */

export interface ExecLine {
    /** The program, an absolute path. */
    command: string;
    args: string[];
    /** Indent of each continuation line; the guide uses four spaces for the kubelet and none for kube-proxy. */
    indent: string;
}

export type UnitValue = string | number | ExecLine;

export type UnitEntry = { key: string; value: UnitValue } | { comment: string };

export interface UnitSection {
    name: "Unit" | "Service" | "Install";
    entries: UnitEntry[];
}

/** Quotes one ExecStart word as systemd reads it (systemd.service "Command lines"). */
export function quoteExecArg(arg: string): string {
    const escaped = arg.replace(/%/g, "%%");
    if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) {
        return escaped;
    }
    return `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function renderValue(v: UnitValue): string {
    if (typeof v === "number") {
        return String(v);
    }
    if (typeof v === "string") {
        if (/[\n\r]/.test(v)) {
            throw new Error(`a unit value may not span lines: ${JSON.stringify(v)}`);
        }
        return v.replace(/%/g, "%%");
    }
    if (!v.command.startsWith("/")) {
        throw new Error(`ExecStart needs an absolute path, got ${JSON.stringify(v.command)}`);
    }
    return [quoteExecArg(v.command), ...v.args.map((a) => `${v.indent}${quoteExecArg(a)}`)].join(" \\\n");
}

export function renderUnit(sections: UnitSection[]): string {
    return (
        sections
            .map((s) => {
                const lines = s.entries.map((e) => ("comment" in e ? `# ${e.comment}` : `${e.key}=${renderValue(e.value)}`));
                return [`[${s.name}]`, ...lines].join("\n");
            })
            .join("\n\n") + "\n"
    );
}
