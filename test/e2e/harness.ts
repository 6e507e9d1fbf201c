/**
 * The end-to-end harness: the program's commands and dynamic providers,
 * applied to the lab's nodes and control plane in the engine's order.
 *
 * The Pulumi engine cannot drive the program here: the Go module proxy
 * refuses the command, tls and random provider modules (see the README), so
 * no plugin for them can be built on these machines. The harness therefore
 * takes each remote command exactly as the program registers it (run under
 * mocks whose tls outputs are real certificates signed by the lab CA, and
 * whose facts are the ones the nodes really printed) and runs it over SSH the
 * way the command provider does: the text to the login shell, secrets on
 * stdin, the host key pinned. The dynamic providers run from the text the
 * program serialized, as the engine's dynamic provider host loads them.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as tls from "tls";
import { LabNode, labConfig, readLabCluster } from "../../scripts/labstack";
import { Applied, appliedByMocks, createDynamic, deleteDynamic, previewDynamic } from "../support/dynamic";
import { ProgramMocks, Recorded } from "../support/mocks";
import { ProgramRun, runProgram } from "../support/program";
import { containerdInstallScript } from "../../components/containerd/plan";
import { withOwner } from "../../components/node/owner";
import { JSON_KEYS } from "../../components/config/schema";
import { validateConfig } from "../../components/config/validate";
import { systemPlanFor } from "../../components/system/plan";
import { RunResult, lab, labScript, sshRun } from "./lab";

/** A node's commands in the engine's order: its host binding (nothing on create; deleted last) first. */
export const PHASES = ["host", "system", "binaries", "containerd-install", "containerd-config", "kubelet", "kube-proxy"] as const;

export interface Cmd {
    name: string;
    node: string;
    phase: (typeof PHASES)[number];
    create: string;
    delete: string;
    stdin: string;
    /** The host binding's: a change replaces it (delete on the old address first). */
    triggers?: string[];
}

export function commandsOf(run: ProgramRun, nodes: string[]): Map<string, Cmd> {
    const out = new Map<string, Cmd>();
    for (const r of run.mocks.ofType("command:remote:Command")) {
        const node = nodes.find((n) => PHASES.some((p) => r.name === `${n}-${p}`));
        assert.ok(node, `command ${r.name} belongs to no node`);
        const phase = PHASES.find((p) => r.name === `${node}-${p}`)!;
        out.set(r.name, { name: r.name, node, phase, create: r.inputs.create ?? "", delete: r.inputs.delete ?? "", stdin: r.inputs.stdin ?? "", triggers: r.inputs.triggers });
    }
    return out;
}

export const REGISTRATION = "pulumi-nodejs:dynamic/hardway:TokenRegistration";
export const LIFECYCLE = "pulumi-nodejs:dynamic/hardway:NodeLifecycle";
export const RENEWAL = "pulumi-nodejs:dynamic/hardway:Renewal";
export const NODE_STATE = "pulumi-nodejs:dynamic/hardway:NodeState";
export const GATE = "pulumi-nodejs:dynamic/hardway:RolloutGate";
export const RELEASE = "pulumi-nodejs:dynamic/hardway:RolloutRelease";

/** The program's dynamic resources, of every type, by name. */
export function allDynamicsOf(run: ProgramRun): Map<string, Recorded> {
    return new Map(run.mocks.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/")).map((r) => [r.name, r]));
}

/** The program's dynamic resources of one type, by name. */
export function dynamicsOf(run: ProgramRun, type: string): Map<string, Recorded> {
    return new Map(run.mocks.ofType(type).map((r) => [r.name, r]));
}

/** kubectl against the lab's control plane, as its administrator; parsed JSON when asked with -o json. */
export function kubectl(...args: string[]): string {
    const c = readLabCluster();
    assert.ok(c, "the lab's control plane is up");
    return execFileSync(c.kubectl, ["--kubeconfig", c.kubeconfig, ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
}

export function kubectlJson(...args: string[]): any {
    return JSON.parse(kubectl(...args, "-o", "json"));
}

/** The subject of the certificate a TLS server presents, verified against `ca` for `host` (an IP or a name). */
export function tlsPeer(ip: string, port: number, host: string, ca: string): Promise<{ subject: string }> {
    return new Promise((resolve, reject) => {
        const socket = tls.connect({ host: ip, port, ca, servername: net.isIP(host) ? undefined : host, checkServerIdentity: (_h, cert) => tls.checkServerIdentity(host, cert) }, () => {
            const cert = socket.getPeerCertificate();
            socket.end();
            resolve({ subject: Object.entries(cert.subject).map(([k, v]) => `${k}=${v}`).join(",") });
        });
        socket.on("error", reject);
    });
}

/** Raw stack config values for the lab (the `lab` stack's own config). */
export function rawLabConfig(overrides: Record<string, unknown> = {}, nodes?: LabNode[]): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(labConfig(lab(), overrides, nodes))) {
        raw[k.replace(/^hardway-workers:/, "")] = v.value;
    }
    return raw;
}

const SNAPSHOT_EXCLUDE = [
    // shadow-utils keeps the previous copy of each account file beside it, and a lock file.
    "/etc/passwd-",
    "/etc/group-",
    "/etc/shadow-",
    "/etc/gshadow-",
    "/etc/.pwd.lock",
].join(" ");

/** `extraExclude`: more paths to leave out, e.g. a running kubelet's own state. */
export function snapshot(node: string, extraExclude = ""): string {
    process.env["SNAPSHOT_EXCLUDE"] = `${SNAPSHOT_EXCLUDE} ${extraExclude}`;
    return labScript("snapshot.sh", node);
}

export function diffLines(before: string, after: string): string[] {
    const a = new Set(before.split("\n"));
    const b = new Set(after.split("\n"));
    return [...[...a].filter((l) => !b.has(l)).map((l) => `- ${l}`), ...[...b].filter((l) => !a.has(l)).map((l) => `+ ${l}`)];
}

/**
 * One run of the program against the lab: the program under mocks with the
 * nodes' real facts, and what has been applied to the nodes and the cluster.
 */
export class LabRun {
    readonly memory = new Map<string, Record<string, any>>();
    nodes: LabNode[] = [];
    ca = { certPem: "", keyPem: "" };
    readonly pristine = new Map<string, string>();
    readonly facts: Record<string, string> = {};
    /** Every command's result, for the secrets check. */
    readonly outputs: RunResult[] = [];
    /** Dynamic resources applied so far (certificate renewals, token registration, node lifecycles), by name. */
    readonly dynamics = new Map<string, Applied>();

    /** Clean nodes, a fresh control plane, snapshots of the clean nodes, and the nodes' facts. */
    async start(): Promise<void> {
        this.prepare();
        await this.gatherFacts();
    }

    /** Clean nodes, a fresh control plane, and snapshots of the clean nodes. */
    prepare(): void {
        // up.sh is idempotent: it builds or starts whatever of the lab is missing (image, mirror, nodes).
        labScript("up.sh");
        labScript("reset.sh");
        // A fresh control plane (test scaffolding): no Node, CSR or token from an earlier run.
        labScript("cluster.sh", "down");
        labScript("cluster.sh", "up");
        const l = lab();
        assert.deepEqual(l.mirror.standIns, [], "the lab serves the real kubelet, kube-proxy and crictl (lab/k8s-build.sh)");
        this.nodes = l.nodes;
        this.ca = { certPem: fs.readFileSync(l.caCertFile, "utf8"), keyPem: fs.readFileSync(l.caKeyFile, "utf8") };
        for (const n of this.nodes) {
            this.pristine.set(n.name, snapshot(n.name));
        }
    }

    /** Runs the commands whose output the program reads, and keeps their facts for the mocks. */
    async gatherFacts(): Promise<void> {
        // The commands whose output the program reads (facts) run first, as the engine runs them first.
        await Promise.all(
            this.nodes.map(async (n) => {
                for (const [phase, text] of [
                    ["system", withOwner(n.name, this.systemText(n))],
                    ["containerd-install", withOwner(n.name, containerdInstallScript())],
                ] as const) {
                    const r = await sshRun(n, text);
                    assert.equal(r.status, 0, `${n.name}-${phase}: ${r.stderr}`);
                    this.outputs.push(r);
                    this.facts[`${n.name}-${phase}`] = r.stdout;
                }
            }),
        );
    }

    /** Each node's NodeState drift as the last refresh left it, by resource name (what the program reads). */
    driftByName(): Record<string, Record<string, string>> {
        return Object.fromEntries([...this.dynamics.values()].filter((d) => d.name.endsWith("-state")).map((d) => [d.name, d.outs.drift ?? {}]));
    }

    /**
     * `pulumi refresh`: every applied dynamic resource's read, as the engine
     * calls it (a provider without read keeps its state). Returns, by name,
     * the outputs before and after.
     */
    async refresh(): Promise<Map<string, { before: any; after: any }>> {
        const out = new Map<string, { before: any; after: any }>();
        await Promise.all(
            [...this.dynamics.values()].map(async (d) => {
                const r = await d.provider.read!(d.id, d.outs);
                out.set(d.name, { before: d.outs, after: r.props });
                d.outs = r.props;
            }),
        );
        return out;
    }

    /** A node's system phase (its preflight first) as the program writes it for the lab's config. */
    systemText(n: LabNode, overrides: Record<string, unknown> = {}): string {
        // The JSON keys parsed, as readRawConfig does from the stack's config.
        const raw = rawLabConfig(overrides, this.nodes);
        for (const key of JSON_KEYS) {
            if (typeof raw[key] === "string") {
                try {
                    raw[key] = JSON.parse(raw[key] as string);
                } catch {
                    // a list as comma-separated text
                }
            }
        }
        return systemPlanFor(n, validateConfig(raw)).create;
    }

    program(overrides: Record<string, unknown> = {}, only?: LabNode[]): Promise<ProgramRun> {
        const mocks = new ProgramMocks(this.ca, this.memory);
        mocks.stdoutByName = this.facts;
        mocks.driftByName = this.driftByName();
        return runProgram(rawLabConfig(overrides, only), mocks);
    }

    /**
     * `pulumi preview` of the program with this config against what has been
     * applied: whatever is new or changed has unknown outputs, and every
     * dynamic resource's check and diff run on the unknowns the engine would
     * send. Returns, by name, whether each dynamic resource would change.
     */
    async preview(overrides: Record<string, unknown> = {}, only?: LabNode[]): Promise<Map<string, boolean>> {
        const newStack = this.dynamics.size === 0;
        const mocks = new ProgramMocks(this.ca, newStack ? new Map() : this.memory);
        mocks.preview = true;
        mocks.newStack = newStack;
        mocks.stdoutByName = this.facts;
        mocks.driftByName = this.driftByName();
        const run = await runProgram(rawLabConfig(overrides, only), mocks);
        const out = new Map<string, boolean>();
        for (const r of run.mocks.resources.filter((x) => x.type.startsWith("pulumi-nodejs:dynamic/"))) {
            const d = await previewDynamic(r, this.dynamics.get(r.name));
            assert.deepEqual(d.replaces, [], `${r.name} would be replaced`);
            out.set(r.name, d.changes);
        }
        return out;
    }

    async run(cmd: Cmd, which: "create" | "delete", opts = {}, node = this.nodes.find((n) => n.name === cmd.node)!): Promise<RunResult> {
        const alias = (node as LabNode & { hostKeyAlias?: string }).hostKeyAlias;
        const r = await sshRun(node, which === "create" ? cmd.create : cmd.delete, which === "create" ? cmd.stdin : "", { ...opts, hostKeyAlias: alias });
        this.outputs.push(r);
        return r;
    }

    async mustRun(cmd: Cmd, which: "create" | "delete"): Promise<RunResult> {
        const r = await this.run(cmd, which);
        assert.equal(r.status, 0, `${cmd.name} ${which} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
        return r;
    }

    /** Applies commands per node in the program's order (nodes in parallel); returns results by name. */
    async apply(cmds: Iterable<Cmd>): Promise<Map<string, RunResult>> {
        const results = new Map<string, RunResult>();
        await Promise.all(
            [...byNode(cmds).values()].map(async (list) => {
                for (const phase of PHASES) {
                    // A command without a create (the host binding) opens no session.
                    for (const c of list.filter((x) => x.phase === phase && x.create !== "")) {
                        results.set(c.name, await this.mustRun(c, "create"));
                    }
                }
            }),
        );
        return results;
    }

    async destroy(cmds: Iterable<Cmd>): Promise<void> {
        await Promise.all(
            [...byNode(cmds).values()].map(async (list) => {
                for (const phase of [...PHASES].reverse()) {
                    for (const c of list.filter((x) => x.phase === phase && x.delete !== "")) {
                        await this.mustRun(c, "delete");
                    }
                }
            }),
        );
    }

    /**
     * A first `pulumi up` of `run`, in the engine's order: the token
     * registration beside the commands; each node's lifecycle (wait for Ready)
     * after its commands and the registration. Returns the commands applied.
     */
    async provision(run: ProgramRun, overrides: Record<string, unknown> = {}): Promise<Map<string, Cmd>> {
        const applied = commandsOf(run, this.nodes.map((n) => n.name));
        for (const n of this.nodes) {
            assert.equal(applied.get(`${n.name}-system`)!.create, withOwner(n.name, this.systemText(n, overrides)), "the program's system command is the one that ran");
        }
        // The certificates' renewals: the mocks answered their create, as they answer the certificates'.
        for (const r of dynamicsOf(run, RENEWAL).values()) {
            this.dynamics.set(r.name, appliedByMocks(r, `renewal-${r.state.issuedAt}`));
        }
        // The rollout gates (before the commands) do nothing on create.
        for (const a of await Promise.all([...dynamicsOf(run, GATE).values()].map(createDynamic))) {
            this.dynamics.set(a.name, a);
        }
        const registrations = [...dynamicsOf(run, REGISTRATION).values()];
        assert.equal(registrations.length, 1, "the program registers the bootstrap token (the lab stack gives admin credentials)");
        const [, registered] = await Promise.all([
            this.apply([...applied.values()].filter((c) => c.phase !== "system" && c.phase !== "containerd-install")),
            createDynamic(registrations[0]),
        ]);
        this.dynamics.set(registered.name, registered);
        // Each node's NodeState: its create opens no SSH session.
        for (const a of await Promise.all([...dynamicsOf(run, NODE_STATE).values()].map(createDynamic))) {
            this.dynamics.set(a.name, a);
        }
        const lifecycles = [...dynamicsOf(run, LIFECYCLE).values()];
        assert.deepEqual(lifecycles.map((r) => r.name).sort(), this.nodes.map((n) => `${n.name}-membership`).sort());
        for (const a of await Promise.all(lifecycles.map(createDynamic))) {
            this.dynamics.set(a.name, a);
        }
        // The rollout releases (after the memberships) do nothing on create either.
        for (const a of await Promise.all([...dynamicsOf(run, RELEASE).values()].map(createDynamic))) {
            this.dynamics.set(a.name, a);
        }
        return applied;
    }

    /**
     * `pulumi destroy` in the engine's order: the lifecycles first (they
     * depend on the commands), then the commands, then the token registration.
     */
    async teardown(applied: Iterable<Cmd>): Promise<void> {
        const all = [...this.dynamics.values()];
        await Promise.all(all.filter((d) => d.name.endsWith("-membership")).map(deleteDynamic));
        await this.destroy(applied);
        for (const d of all.filter((x) => !x.name.endsWith("-membership"))) {
            await deleteDynamic(d);
        }
        this.dynamics.clear();
    }
}

function byNode(cmds: Iterable<Cmd>): Map<string, Cmd[]> {
    const out = new Map<string, Cmd[]>();
    for (const c of cmds) {
        out.set(c.node, [...(out.get(c.node) ?? []), c]);
    }
    return out;
}
