/**
 * The node library's drift check (`hw_check` in components/node/scripts/
 * hardway.sh), read: its report, and what NodeState keeps of it.
 *
 * The report is one `HW_DRIFT {json}` line per difference and a last
 * `HW_CHECKED {phase: run, ...}` line naming every phase that has a
 * manifest and the time of its last run. A report without that last line is
 * incomplete and is refused.
 */
import * as crypto from "crypto";

/** One difference: a path (content, mode, owner, missing) or a unit (inactive, failed, disabled). */
export interface DriftItem {
    phase: string;
    path?: string;
    unit?: string;
    drift: string;
}

export interface CheckReport {
    items: DriftItem[];
    /** Each phase with a manifest on the node, and the time of its last run. */
    runs: Record<string, string>;
}

const PATH_DRIFT = ["content", "mode", "owner", "missing"];
const UNIT_DRIFT = ["inactive", "failed", "disabled"];

/** Parses the check's stdout; throws, quoting the offending line, on anything else. */
export function parseCheckReport(stdout: string): CheckReport {
    const items: DriftItem[] = [];
    let runs: Record<string, string> | undefined;
    for (const line of stdout.split("\n")) {
        if (line === "") {
            continue;
        }
        const m = /^(HW_DRIFT|HW_CHECKED) (\{.*\})$/.exec(line);
        if (!m || runs) {
            throw new Error(`unexpected line in the drift check's report: ${JSON.stringify(line.slice(0, 200))}`);
        }
        const v = JSON.parse(m[2]);
        if (m[1] === "HW_CHECKED") {
            runs = v;
            continue;
        }
        const ok =
            typeof v.phase === "string" &&
            ((typeof v.path === "string" && v.unit === undefined && PATH_DRIFT.includes(v.drift)) ||
                (typeof v.unit === "string" && v.path === undefined && UNIT_DRIFT.includes(v.drift)));
        if (!ok) {
            throw new Error(`unexpected line in the drift check's report: ${JSON.stringify(line.slice(0, 200))}`);
        }
        items.push(v);
    }
    if (!runs) {
        throw new Error("the drift check's report is incomplete: it has no HW_CHECKED line");
    }
    return { items, runs };
}

/** `path /etc/kubernetes/kubelet-config.yaml: content`, `unit kubelet.service: inactive`. */
export function describeItem(i: DriftItem): string {
    return i.path !== undefined ? `${i.path}: ${i.drift}` : `${i.unit}: ${i.drift}`;
}

/**
 * What NodeState keeps, per phase: the drift last seen in it, as
 * `run <time of the phase's last run>: <item>; <item>`. A phase with no
 * drift now keeps what it had, so a repaired node's state settles: the value
 * changes only when new drift appears (after a repair, the phase's run time
 * is new, so even the same drift again is a new value). A phase the node has
 * no manifest of is drift too (`unrecorded`).
 */
export function nextDrift(previous: Record<string, string>, report: CheckReport, phases: string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const phase of phases) {
        const run = report.runs[phase];
        const items =
            run === undefined
                ? ["unrecorded: the node has no manifest of this phase"]
                : report.items.filter((i) => i.phase === phase).map(describeItem).sort();
        if (items.length > 0) {
            out[phase] = `run ${run ?? "none"}: ${items.join("; ")}`;
        } else if (previous[phase] !== undefined) {
            out[phase] = previous[phase];
        }
    }
    return out;
}

/** The drift of a phase as the remote command's text carries it: a comment, changed only by new drift (empty: none). */
export function repairMarker(driftOfPhase: string | undefined): string {
    if (!driftOfPhase) {
        return "";
    }
    const tag = crypto.createHash("sha256").update(driftOfPhase).digest("hex").slice(0, 16);
    return `# hardway: repairs drift ${tag}\n`;
}
