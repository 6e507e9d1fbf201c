/**
 * A dynamic provider for what is on a node: its `read` (`pulumi refresh`,
 * `pulumi up --refresh`, `pulumi preview --refresh`) runs the node
 * library's drift check over SSH and records, per phase, the drift it found
 * (providers/driftReport.ts). Each phase's remote command carries its
 * phase's value as a comment (repairMarker), so new drift changes exactly
 * the commands of the phases that own it, and `pulumi up` runs them again:
 * their create converges the node and restarts only what reads a repaired
 * file.
 *
 * create and update open no SSH session (a first `up` and a no-op `up`
 * stay as they were); only read does. An unreachable node makes the refresh
 * fail, naming the node and its address: it is never reported as "no drift".
 */
import * as pulumi from "@pulumi/pulumi";
import { CheckReport, nextDrift, parseCheckReport } from "./driftReport";
import { watchEngine } from "./engineWatch";
import { lazyProvider } from "./lazy";
import { SshTarget, addressOf, shellQuote, sshExec } from "./ssh";
import { hasUnknown } from "./unknown";

// Loaded by the engine's dynamic provider host: leave with the engine.
watchEngine();

/** Bump when the provider's behaviour changes; dynamic provider code changes cause no diff by themselves. */
export const NODE_STATE_VERSION = "1";

/** Where the system phase installs the node library (components/node/scripts LIBRARY_PATH). */
export const NODE_LIBRARY = "/usr/local/lib/hardway/v1/hardway.sh";

/**
 * The check of one owner's phases (the node's name: components/node/owner.ts),
 * as the login shell runs it: read-only, no lock, no secret. A host without
 * the library (reinstalled, or wiped behind the program's back) has no
 * manifest: an empty report, so every phase is `unrecorded` and runs again.
 */
export function checkCommand(owner: string, library = NODE_LIBRARY): string {
    const script = `if [ -f ${shellQuote(library)} ]; then . ${shellQuote(library)} && hw_check; else echo "HW_CHECKED {}"; fi`;
    return `HW_OWNER=${shellQuote(owner)} HW_COMPONENT=check HW_READONLY=1 bash -c ${shellQuote(script)}`;
}

export interface NodeStateInputs {
    connection: SshTarget;
    nodeName: string;
    /** Whose journals and manifests on the host are this node's (HW_OWNER). */
    owner: string;
    /** The phases (HW_COMPONENT) the program runs on this node. */
    phases: string[];
    version: string;
    /** Per phase, the drift last seen (carried from the last state by check; see nextDrift). */
    drift: Record<string, string>;
}

/** How long a refresh waits for a node: to connect and log in, and for the check. */
export const TIMEOUTS = { connectMs: 15_000, checkMs: 120_000 };

/** Runs the check on the node; any failure names the node and its address. */
export async function checkNode(inputs: Pick<NodeStateInputs, "connection" | "nodeName" | "owner">, timeouts = TIMEOUTS): Promise<CheckReport> {
    const where = `node ${inputs.nodeName} (${addressOf(inputs.connection)})`;
    let r;
    try {
        r = await sshExec(inputs.connection, checkCommand(inputs.owner), timeouts.connectMs, timeouts.checkMs);
    } catch (e) {
        throw new Error(`${where}: the drift check could not run: ${(e as Error).message}; its last known state is kept, and this refresh fails rather than report no drift`);
    }
    if (r.code !== 0) {
        throw new Error(`${where}: the drift check failed (exit ${r.code}): ${r.stderr.trim().slice(0, 500)}`);
    }
    try {
        return parseCheckReport(r.stdout);
    } catch (e) {
        throw new Error(`${where}: ${(e as Error).message}`);
    }
}

function sameTarget(a: SshTarget | undefined, b: SshTarget | undefined): boolean {
    return JSON.stringify(a ?? {}) === JSON.stringify(b ?? {});
}

export const nodeStateProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds: any, news: any): Promise<pulumi.dynamic.CheckResult> {
        const failures: pulumi.dynamic.CheckFailure[] = [];
        const c = news.connection ?? {};
        for (const k of ["host", "privateKey"]) {
            if (!hasUnknown(c[k]) && (typeof c[k] !== "string" || c[k] === "")) {
                failures.push({ property: `connection.${k}`, reason: `connection.${k} is required` });
            }
        }
        if (!hasUnknown(news.owner) && (typeof news.owner !== "string" || news.owner === "")) {
            failures.push({ property: "owner", reason: "owner is required" });
        }
        // The drift is not the program's to set: it comes from the last read.
        return { inputs: { ...news, drift: olds?.drift ?? {} }, failures };
    },

    async diff(_id: string, olds: NodeStateInputs, news: NodeStateInputs): Promise<pulumi.dynamic.DiffResult> {
        const changed =
            !sameTarget(olds.connection, news.connection) ||
            olds.nodeName !== news.nodeName ||
            olds.owner !== news.owner ||
            olds.version !== news.version ||
            JSON.stringify(olds.phases) !== JSON.stringify(news.phases);
        return { changes: changed, replaces: [], deleteBeforeReplace: false };
    },

    async create(inputs: NodeStateInputs): Promise<pulumi.dynamic.CreateResult> {
        return { id: inputs.nodeName, outs: { ...inputs, drift: {} } };
    },

    async update(_id: string, olds: NodeStateInputs, news: NodeStateInputs): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: { ...news, drift: olds.drift ?? {} } };
    },

    // Nothing to undo: the node's commands clean it.
    async delete(): Promise<void> {},

    async read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
        const report = await checkNode(props);
        const drift = nextDrift(props.drift ?? {}, report, props.phases ?? []);
        const next = { ...props, drift };
        // The new drift is also an input, so that the next check carries it (and diff sees no change).
        return { id, props: next, inputs: next };
    },
};

/** What the resource stores: a loader of nodeStateProvider, not its code (see lazy.ts). */
const nodeStateProviderLazy = lazyProvider("nodeState", "nodeStateProvider");

export interface NodeStateArgs {
    connection: pulumi.Input<SshTarget>;
    nodeName: string;
    owner: string;
    phases: string[];
}

/** What `pulumi refresh` sees on a node: per phase, the drift last seen. */
export class NodeState extends pulumi.dynamic.Resource {
    public readonly drift!: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: NodeStateArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            nodeStateProviderLazy,
            name,
            { ...args, version: NODE_STATE_VERSION, drift: undefined },
            { ...opts, additionalSecretOutputs: ["connection"] },
            "hardway",
            "NodeState",
        );
    }
}
