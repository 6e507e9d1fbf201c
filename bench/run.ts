/**
 * `npm run bench`: measures the program on the lab and at scale, and writes
 * bench/results.json and bench/RESULTS.md (both overwritten). It is not a
 * test: slow is a result, never a failure. See bench/README.md for what each
 * figure means.
 *
 * Environment: BENCH_RUNS (default 3), BENCH_SCALE (default "10,100,1000"),
 * BENCH_UP_SCALE (default "25,100"), BENCH_PREVIEW_TIMEOUT_SECONDS (default
 * 900), BENCH_READY_TIMEOUT_SECONDS (baseline's wait for Ready, default 300).
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { ConfigMap } from "@pulumi/pulumi/automation";
import { Lab, LabNode, REPO, labConfig, labEnv, readLab, readLabCluster } from "../scripts/labstack";
import { missingPlugins } from "../scripts/plugins";
import { labScript, nodeExec, sshSessions } from "../test/e2e/lab";
import { descendants } from "../test/engine/engine";
import { ContainerdFacts, prepareBaseline } from "./baseline";
import { loadInventory } from "./inventory";

const BENCH = __dirname;
const TMP = path.join(BENCH, "tmp");
const LOGS = path.join(TMP, "logs");
const RUNS = positiveInt(process.env["BENCH_RUNS"], 3);
const SCALE = nodeCounts(process.env["BENCH_SCALE"] ?? "10,100,1000");
/** Node counts of the floor's `up` on the file backend (floorUp): what its checkpoints cost as a stack grows. */
const UP_SCALE = nodeCounts(process.env["BENCH_UP_SCALE"] ?? "25,100");
const PREVIEW_TIMEOUT = positiveInt(process.env["BENCH_PREVIEW_TIMEOUT_SECONDS"], 900);
const READY_TIMEOUT = positiveInt(process.env["BENCH_READY_TIMEOUT_SECONDS"], 300);
/** The stacks this harness makes (on the lab's file backend). */
const STACK_LAB = "bench";
const STACK_ONE = "bench-1node";
const scaleStack = (n: number) => `bench-scale-${n}`;
const NS = "hardway-workers";
const UNITS = ["kubelet", "containerd", "kube-proxy"] as const;
/** The kubelet setting the restart figure changes (the lab default is 10.96.0.10). */
const KUBELET_CHANGE = { key: "clusterDns", value: "10.96.0.11" };

function positiveInt(text: string | undefined, fallback: number): number {
    const n = Number(text);
    return text !== undefined && text !== "" && Number.isInteger(n) && n > 0 ? n : fallback;
}

/** "10, 100,x,0" → [10, 100]: the positive integers of a comma-separated list. */
function nodeCounts(text: string): number[] {
    return text
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "")
        .map((s) => positiveInt(s, 0))
        .filter((n) => n > 0);
}

function log(msg: string): void {
    process.stderr.write(`bench: ${msg}\n`);
}

// ---------------------------------------------------------------------------
// The Pulumi CLI, spawned directly, with its process tree's memory sampled.
// ---------------------------------------------------------------------------

let cliEnv: NodeJS.ProcessEnv = process.env;

interface CliResult {
    code: number | null;
    signal: NodeJS.Signals | null;
    seconds: number;
    /** Max over time of the RSS summed over the CLI and all its descendants. */
    peakBytes: number;
    /** The same, per role (roleOf): each role's own maximum over time. */
    peakBytesByRole: Record<Role, number>;
    timedOut: boolean;
    stdout: string;
    /** The last part of stdout and stderr, for error messages. */
    tail: string;
}

const PAGE_SIZE = Number(spawnSync("getconf", ["PAGESIZE"], { encoding: "utf8" }).stdout.trim()) || 4096;


function rssBytes(pid: number): number {
    try {
        return Number(fs.readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]) * PAGE_SIZE;
    } catch {
        return 0;
    }
}

/** What a process in the CLI's tree is, from its command line. */
export type Role = "engine" | "program" | "providers" | "languageHost";

export const ROLES: Role[] = ["engine", "program", "providers", "languageHost"];

export function roleOf(isRoot: boolean, argv: string[]): Role {
    if (isRoot) {
        return "engine";
    }
    const exe = path.basename(argv[0] ?? "");
    if (exe.startsWith("pulumi-language-")) {
        return "languageHost";
    }
    if (exe.startsWith("pulumi-resource-") || argv.some((a) => a.includes("dynamic-provider"))) {
        return "providers";
    }
    return "program";
}

function argvOf(pid: number): string[] {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((a) => a !== "");
    } catch {
        return [];
    }
}

function killTree(root: number): void {
    for (const pid of [root, ...descendants(root)]) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            // Already gone.
        }
    }
    try {
        process.kill(-root, "SIGKILL");
    } catch {
        // No such process group.
    }
}

let cliSeq = 0;

interface CliOptions {
    stdin?: string;
    timeoutSeconds?: number;
    label?: string;
    env?: Record<string, string>;
    /** The project's directory (default: this repository's). */
    cwd?: string;
}

function cli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
    const logFile = path.join(LOGS, `${String(++cliSeq).padStart(3, "0")}-${(opts.label ?? args.slice(0, 2).join("-")).replace(/[^A-Za-z0-9._-]+/g, "_")}.log`);
    const logFd = fs.openSync(logFile, "w");
    const shown = args.includes("--secret") ? args.map((a, i) => (args[i - 1] === "--" ? "[secret]" : a)) : args;
    fs.writeSync(logFd, `$ pulumi ${shown.join(" ")}\n`);
    return new Promise((resolve, reject) => {
        const started = process.hrtime.bigint();
        const child = spawn("pulumi", args, { cwd: opts.cwd ?? REPO, env: { ...cliEnv, ...opts.env }, detached: true, stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let tail = "";
        let peak = 0;
        const peakByRole = Object.fromEntries(ROLES.map((r) => [r, 0])) as Record<Role, number>;
        let timedOut = false;
        const keep = (d: Buffer, isOut: boolean) => {
            fs.writeSync(logFd, d);
            if (isOut) {
                stdout += d.toString();
            }
            tail = (tail + d.toString()).slice(-20000);
        };
        child.stdout.on("data", (d: Buffer) => keep(d, true));
        child.stderr.on("data", (d: Buffer) => keep(d, false));
        const sample = () => {
            if (child.pid === undefined) {
                return;
            }
            const now = Object.fromEntries(ROLES.map((r) => [r, 0])) as Record<Role, number>;
            let total = 0;
            for (const pid of [child.pid, ...descendants(child.pid)]) {
                const rss = rssBytes(pid);
                total += rss;
                now[roleOf(pid === child.pid, argvOf(pid))] += rss;
            }
            peak = Math.max(peak, total);
            for (const r of ROLES) {
                peakByRole[r] = Math.max(peakByRole[r], now[r]);
            }
        };
        const sampler = setInterval(sample, 200);
        const timer =
            opts.timeoutSeconds !== undefined
                ? setTimeout(() => {
                      timedOut = true;
                      if (child.pid !== undefined) {
                          killTree(child.pid);
                      }
                  }, opts.timeoutSeconds * 1000)
                : undefined;
        child.on("error", (e) => {
            clearInterval(sampler);
            clearTimeout(timer);
            fs.closeSync(logFd);
            reject(e);
        });
        child.on("close", (code, signal) => {
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            clearInterval(sampler);
            clearTimeout(timer);
            fs.writeSync(logFd, `\n# exit ${code ?? signal} after ${seconds.toFixed(1)} s\n`);
            fs.closeSync(logFd);
            resolve({ code, signal, seconds, peakBytes: peak, peakBytesByRole: peakByRole, timedOut, stdout, tail });
        });
        child.stdin.on("error", () => undefined);
        child.stdin.end(opts.stdin ?? "");
    });
}

/** The CLI's "Diagnostics:" section when there is one, else its last lines; at most 15 lines. */
function diagnostics(output: string): string {
    const at = output.lastIndexOf("Diagnostics:");
    const text = at >= 0 ? output.slice(at).split(/\n(?:Outputs|Resources):/)[0] : output;
    return text.trim().split("\n").slice(at >= 0 ? 0 : -15).slice(0, 15).join("\n");
}

async function mustCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
    const r = await cli(args, opts);
    if (r.code !== 0) {
        throw new Error(`pulumi ${args.slice(0, 3).join(" ")} failed (${r.code ?? r.signal}):\n${diagnostics(r.tail)}`);
    }
    return r;
}

// ---------------------------------------------------------------------------
// Stacks: a stack config file per stack in bench/tmp (passed with --config-file).
// ---------------------------------------------------------------------------

const configFile = (stack: string) => path.join(TMP, "stacks", `Pulumi.${stack}.yaml`);

/** Removes a stack (and whatever it holds) from the lab's file backend; no error when it is not there. */
async function stackRm(stack: string, cwd = REPO): Promise<void> {
    const r = await cli(["stack", "rm", stack, "--force", "--yes", "--non-interactive"], { label: `stack-rm-${stack}`, cwd });
    if (r.code !== 0 && !/no stack named|not found|does not exist/i.test(r.tail)) {
        throw new Error(`pulumi stack rm ${stack} failed:\n${r.tail.trim()}`);
    }
    fs.rmSync(configFile(stack), { force: true });
    // The CLI may leave the project's per-stack settings file beside Pulumi.yaml.
    fs.rmSync(path.join(cwd, `Pulumi.${stack}.yaml`), { force: true });
}

/**
 * A new stack whose config is `plain` (written into its config file) and
 * `secrets` (set with `pulumi config set --secret`).
 */
async function newStack(stack: string, plain: Record<string, unknown>, secrets: Record<string, string>, cwd = REPO): Promise<string> {
    await stackRm(stack, cwd);
    const file = configFile(stack);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, YAML.stringify({ config: plain }, { lineWidth: 0 }));
    await mustCli(["stack", "init", stack, "--non-interactive", "--secrets-provider", "passphrase"], { label: `stack-init-${stack}`, cwd });
    // stack init may write the passphrase's salt into Pulumi.<stack>.yaml beside Pulumi.yaml: keep it in our file instead.
    const beside = path.join(cwd, `Pulumi.${stack}.yaml`);
    if (fs.existsSync(beside)) {
        const settings = YAML.parse(fs.readFileSync(beside, "utf8")) ?? {};
        const ours = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
        fs.writeFileSync(file, YAML.stringify({ ...settings, ...ours, config: { ...(settings.config ?? {}), ...ours.config } }, { lineWidth: 0 }));
        fs.rmSync(beside, { force: true });
    }
    for (const [key, value] of Object.entries(secrets)) {
        // On the command line, as the automation API passes it (stdin would lose the PEM's last newline).
        await mustCli(["config", "set", "--secret", "--config-file", file, "--stack", stack, "--non-interactive", key, "--", value], {
            label: `config-set-${stack}`,
            cwd,
        });
    }
    return file;
}

/** Splits a lab ConfigMap into plain values and secrets. */
function splitConfig(config: ConfigMap): { plain: Record<string, unknown>; secrets: Record<string, string> } {
    const plain: Record<string, unknown> = {};
    const secrets: Record<string, string> = {};
    for (const [k, v] of Object.entries(config)) {
        if (v.secret) {
            secrets[k] = v.value;
        } else {
            plain[k] = v.value;
        }
    }
    return { plain, secrets };
}

function stackArgs(stack: string): string[] {
    return ["--stack", stack, "--config-file", configFile(stack), "--non-interactive"];
}

// ---------------------------------------------------------------------------
// The lab.
// ---------------------------------------------------------------------------

/** Clean nodes, a fresh control plane, and no bench stack on the lab's backend. */
async function freshLab(): Promise<Lab> {
    labScript("reset.sh");
    labScript("cluster.sh", "down");
    labScript("cluster.sh", "up");
    for (const stack of [STACK_LAB, STACK_ONE]) {
        await stackRm(stack);
    }
    return readLab();
}

function sessionsNow(nodes: LabNode[]): Map<string, number> {
    return new Map(nodes.map((n) => [n.name, sshSessions(n.name)]));
}

function sessionsSince(before: Map<string, number>, nodes: LabNode[]): number {
    return nodes.reduce((sum, n) => sum + sshSessions(n.name) - (before.get(n.name) ?? 0), 0);
}

/** ExecMainStartTimestampMonotonic of each unit, by node. */
function unitStarts(nodes: LabNode[]): Map<string, Record<string, string>> {
    const script = UNITS.map((u) => `printf '%s %s\\n' ${u} "$(systemctl show -p ExecMainStartTimestampMonotonic --value ${u}.service)"`).join("; ");
    return new Map(
        nodes.map((n) => [n.name, Object.fromEntries(nodeExec(n.name, script).trim().split("\n").map((l) => l.split(" ") as [string, string]))]),
    );
}

let containerdFacts: ContainerdFacts | undefined;

/** What containerd the clean nodes have (the program reads it on the node; the baseline is told). */
function readContainerdFacts(node: string): ContainerdFacts {
    const [version, runc] = nodeExec(node, "containerd --version | awk '{ print $3 }'; command -v runc").trim().split("\n");
    return { containerdVersion: version, runc };
}

async function baselineRun(): Promise<{ seconds: number; prepSeconds: number }> {
    const lab = await freshLab();
    containerdFacts ??= readContainerdFacts(lab.nodes[0].name);
    const cluster = readLabCluster();
    if (!cluster) {
        throw new Error("the lab's control plane is not up (lab/cluster.sh up)");
    }
    const dir = path.join(TMP, "baseline");
    const started = process.hrtime.bigint();
    await prepareBaseline(lab, dir, containerdFacts);
    const prepSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const r = spawnSync("bash", [path.join(BENCH, "baseline.sh"), dir], {
        encoding: "utf8",
        env: {
            ...process.env,
            BASELINE_SSH_KEY: lab.sshPrivateKeyFile,
            BASELINE_KNOWN_HOSTS: lab.knownHostsFile,
            BASELINE_KUBECTL: cluster.kubectl,
            BASELINE_KUBECONFIG: cluster.kubeconfig,
            BASELINE_READY_TIMEOUT: String(READY_TIMEOUT),
        },
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    fs.writeFileSync(path.join(LOGS, `baseline-${Date.now()}.log`), `${r.stdout}\n${r.stderr}`);
    fs.rmSync(dir, { recursive: true, force: true });
    if (r.status !== 0) {
        throw new Error(`bench/baseline.sh failed (${r.status ?? r.signal}):\n${r.stderr.trim()}`);
    }
    return { seconds, prepSeconds };
}

/** A fresh lab and a new stack of `nodes`; the first `pulumi up`. */
async function firstRun(stack: string, nodes?: LabNode[]): Promise<{ lab: Lab; seconds: number; sessions: number }> {
    const lab = await freshLab();
    const chosen = nodes ? lab.nodes.filter((n) => nodes.some((m) => m.name === n.name)) : lab.nodes;
    const { plain, secrets } = splitConfig(labConfig(lab, {}, chosen));
    await newStack(stack, plain, secrets);
    const before = sessionsNow(lab.nodes);
    const r = await mustCli(["up", "--yes", "--skip-preview", ...stackArgs(stack)], { label: `up-first-${stack}` });
    return { lab, seconds: r.seconds, sessions: sessionsSince(before, lab.nodes) };
}

// ---------------------------------------------------------------------------
// Preview at scale.
// ---------------------------------------------------------------------------

interface ScaleSample {
    seconds: number | null;
    peakMiB: number;
    peakMiBByRole: Record<Role, number>;
    note?: string;
}

/**
 * `skipCheckpoints`: with PULUMI_SKIP_CHECKPOINTS=true, as the README advises
 * for previews of large stacks (the engine otherwise serializes the whole
 * snapshot after every step, even in a preview, which discards it).
 */
export async function scalePreview(n: number, lab: Lab, skipCheckpoints = false): Promise<ScaleSample> {
    const stack = scaleStack(n);
    // With API credentials, as a stack that rolls its upgrades out has: each
    // node then also has its membership, rollout gate and release.
    const cluster = readLabCluster();
    if (!cluster) {
        throw new Error("the lab's control plane is not up (lab/up-cluster.sh): its admin credentials are needed for the scale stacks");
    }
    const plain: Record<string, unknown> = {
        [`${NS}:kubernetesVersion`]: lab.mirror.kubernetesVersion,
        [`${NS}:apiServer`]: "https://api.scale.hardway.test:6443",
        [`${NS}:clusterName`]: "hardway-scale",
        [`${NS}:caCertPem`]: fs.readFileSync(lab.caCertFile, "utf8"),
        [`${NS}:nodes`]: loadInventory(n),
        [`${NS}:apiAdminCertPem`]: fs.readFileSync(cluster.adminCertFile, "utf8"),
    };
    const secrets = {
        [`${NS}:caKeyPem`]: fs.readFileSync(lab.caKeyFile, "utf8"),
        [`${NS}:sshPrivateKey`]: fs.readFileSync(lab.sshPrivateKeyFile, "utf8"),
        [`${NS}:apiAdminKeyPem`]: fs.readFileSync(cluster.adminKeyFile, "utf8"),
    };
    await newStack(stack, plain, secrets);
    try {
        const r = await cli(["preview", ...stackArgs(stack)], {
            timeoutSeconds: PREVIEW_TIMEOUT,
            label: `preview-${stack}${skipCheckpoints ? "-skip-checkpoints" : ""}`,
            env: skipCheckpoints ? { PULUMI_SKIP_CHECKPOINTS: "true" } : {},
        });
        return sampleOf(r);
    } finally {
        await stackRm(stack);
    }
}

/** A preview's figures, or why it has none. */
function sampleOf(r: CliResult): ScaleSample {
    const peakMiB = r.peakBytes / 2 ** 20;
    const peakMiBByRole = Object.fromEntries(ROLES.map((k) => [k, Math.round(r.peakBytesByRole[k] / 2 ** 20)])) as Record<Role, number>;
    if (r.timedOut) {
        return { seconds: null, peakMiB, peakMiBByRole, note: `did not finish within ${PREVIEW_TIMEOUT} s (peak so far ${peakMiB.toFixed(0)} MiB)` };
    }
    const oom = /heap out of memory|Reached heap limit|out of memory|Cannot allocate memory|ENOMEM/i.test(r.tail);
    if (r.code !== 0) {
        const why = oom ? "ran out of memory" : r.signal === "SIGKILL" ? "was killed (SIGKILL: likely the kernel's OOM killer)" : `failed (${r.code ?? r.signal})`;
        return { seconds: null, peakMiB, peakMiBByRole, note: `${why}: ${r.tail.trim().split("\n").slice(-3).join(" / ")}` };
    }
    return { seconds: r.seconds, peakMiB, peakMiBByRole };
}

/** The floor's project (bench/floor): the program's resources by type, with trivial inputs. */
const FLOOR = path.join(BENCH, "floor");
const FLOOR_NS = "hardway-bench-floor";
/** "program": as many resources a node as the program has, of the same types; "minimum": the fewest the design allows. */
export const FLOOR_SHAPES = ["program", "minimum"] as const;
export type FloorShape = (typeof FLOOR_SHAPES)[number];
const floorStack = (n: number, shape: FloorShape) => `bench-floor-${shape}-${n}`;
/** The floor's figures' prefix: `preview<n>Floor` (shape program), `preview<n>FloorMinimum`. */
const floorKey = (n: number, shape: FloorShape) => `preview${n}Floor${shape === "program" ? "" : "Minimum"}`;

/** A new stack of the floor's project: n nodes of `shape`, its commands remote (previews) or local (`up`), signed by the lab CA. */
async function newFloorStack(stack: string, n: number, shape: FloorShape, lab: Lab, commands: "remote" | "local" = "remote"): Promise<void> {
    const plain = {
        [`${FLOOR_NS}:nodes`]: n,
        [`${FLOOR_NS}:shape`]: shape,
        [`${FLOOR_NS}:commands`]: commands,
        [`${FLOOR_NS}:caCertPem`]: fs.readFileSync(lab.caCertFile, "utf8"),
    };
    await newStack(stack, plain, { [`${FLOOR_NS}:caKeyPem`]: fs.readFileSync(lab.caKeyFile, "utf8") }, FLOOR);
}

/**
 * A preview of the floor for n nodes (PULUMI_SKIP_CHECKPOINTS=true, as the
 * program's figure it is set beside): what the SDK and the engine cost for
 * that many resources of those types, whatever a program does.
 */
export async function floorPreview(n: number, shape: FloorShape, lab: Lab): Promise<ScaleSample> {
    const stack = floorStack(n, shape);
    await newFloorStack(stack, n, shape, lab);
    try {
        const r = await cli(["preview", ...stackArgs(stack)], {
            timeoutSeconds: PREVIEW_TIMEOUT,
            label: `preview-${stack}`,
            env: { PULUMI_SKIP_CHECKPOINTS: "true" },
            cwd: FLOOR,
        });
        return sampleOf(r);
    } finally {
        await stackRm(stack, FLOOR);
    }
}

/** The floor's stacks that floorUp made, for the cleanup should a run stop before it removes them. */
const floorUpStacks = new Set<string>();

/**
 * The floor's first `up` of n nodes on a new stack of the lab's file backend,
 * then a no-op `up` (shape program, local commands that run `true`): what the
 * engine, the SDK and the plugins cost for the program's resources, whatever
 * the program does. With `skipCheckpoints`, the first `up` runs with
 * PULUMI_SKIP_CHECKPOINTS=true (a measurement only: what the checkpoints
 * cost) and there is no no-op. The stack is removed after.
 */
export async function floorUp(
    n: number,
    lab: Lab,
    skipCheckpoints = false,
): Promise<{ firstSeconds: number; firstEnginePeakMiB: number; noopSeconds: number | null }> {
    const stack = `bench-floor-up-${n}${skipCheckpoints ? "-skip-checkpoints" : ""}`;
    floorUpStacks.add(stack);
    await newFloorStack(stack, n, "program", lab, "local");
    try {
        const args = ["up", "--yes", "--skip-preview", ...stackArgs(stack)];
        const env: Record<string, string> = skipCheckpoints ? { PULUMI_SKIP_CHECKPOINTS: "true" } : {};
        const first = await mustCli(args, { label: `up-${stack}`, cwd: FLOOR, env });
        const noop = skipCheckpoints ? null : await mustCli(args, { label: `up-noop-${stack}`, cwd: FLOOR });
        return { firstSeconds: first.seconds, firstEnginePeakMiB: first.peakBytesByRole.engine / 2 ** 20, noopSeconds: noop?.seconds ?? null };
    } finally {
        await stackRm(stack, FLOOR);
    }
}

// ---------------------------------------------------------------------------
// Figures.
// ---------------------------------------------------------------------------

type Sample = number | null;

/** The median; a missing sample (a run that did not finish) counts as slower than any other. */
function median(samples: Sample[]): number | null {
    if (samples.length === 0) {
        return null;
    }
    const sorted = samples.map((s) => (s === null ? Infinity : s)).sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    const m = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    return Number.isFinite(m) ? m : null;
}

/** Per key, the median over the samples that have one, in the first sample's key order; null without samples. */
export function medianByKey(samples: (Record<string, number> | null)[]): Record<string, number> | null {
    const present = samples.filter((x): x is Record<string, number> => x !== null);
    if (present.length === 0) {
        return null;
    }
    const keys = [...new Set(present.flatMap((x) => Object.keys(x)))];
    return Object.fromEntries(keys.map((k) => [k, median(present.filter((x) => k in x).map((x) => x[k]))!]));
}

const ratio = (a: Sample | undefined, b: Sample | undefined): Sample => (a != null && b != null && b > 0 ? a / b : null);

/** Properties beyond the largest this many are summed as `other` in stateShares' byProperty. */
const STATE_PROPERTIES_SHOWN = 10;

/**
 * Where a stack's state goes (`pulumi stack export`): per node, the bytes of
 * its resources as compact JSON, by resource type and by property (`inputs.X`,
 * `outputs.X`, or a resource's own field such as `urn`); the largest
 * STATE_PROPERTIES_SHOWN properties, the rest as `other`. The export's own
 * indentation is left out, so the shares sum to less than stateBytesPerNode.
 */
export function stateShares(exported: string, nodes: number): { byType: Record<string, number>; byProperty: Record<string, number> } {
    const deployment = JSON.parse(exported) as { deployment?: { resources?: Record<string, unknown>[] } };
    const byType: Record<string, number> = {};
    const byProperty: Record<string, number> = {};
    const add = (to: Record<string, number>, key: string, value: unknown) => {
        to[key] = (to[key] ?? 0) + Buffer.byteLength(JSON.stringify(value));
    };
    for (const r of deployment.deployment?.resources ?? []) {
        add(byType, String(r["type"]), r);
        for (const [field, value] of Object.entries(r)) {
            if ((field === "inputs" || field === "outputs") && value !== null && typeof value === "object") {
                for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
                    add(byProperty, `${field}.${k}`, v);
                }
            } else {
                add(byProperty, field, value);
            }
        }
    }
    const perNode = (entries: [string, number][]) => Object.fromEntries(entries.map(([k, v]) => [k, Math.round(v / nodes)]));
    const sorted = (o: Record<string, number>) => Object.entries(o).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const properties = sorted(byProperty);
    const other = properties.slice(STATE_PROPERTIES_SHOWN).reduce((sum, [, v]) => sum + v, 0);
    return {
        byType: perNode(sorted(byType)),
        byProperty: perNode([...properties.slice(0, STATE_PROPERTIES_SHOWN), ...(other > 0 ? [["other", other] as [string, number]] : [])]),
    };
}

function gitCommit(): string {
    const head = spawnSync("git", ["rev-parse", "HEAD"], { cwd: REPO, encoding: "utf8" }).stdout.trim();
    const dirty = spawnSync("git", ["status", "--porcelain"], { cwd: REPO, encoding: "utf8" }).stdout.trim() !== "";
    return head ? `${head}${dirty ? " (with uncommitted changes)" : ""}` : "unknown";
}

function machine(): Record<string, unknown> {
    return {
        nproc: os.cpus().length,
        memTotalMiB: Math.round(os.totalmem() / 2 ** 20),
        cpu: os.cpus()[0]?.model ?? "unknown",
        kernel: os.release(),
        node: process.version,
        pulumi: spawnSync("pulumi", ["version"], { env: cliEnv, encoding: "utf8" }).stdout.trim(),
    };
}

function fmt(key: string, v: unknown): string {
    if (v === null || v === undefined) {
        return "n/a";
    }
    if (typeof v === "object") {
        return Object.entries(v as Record<string, unknown>)
            .map(([k, x]) => `${k}: ${fmt(k, x)}`)
            .join(", ");
    }
    if (typeof v !== "number") {
        return String(v);
    }
    if (/Ratio$/.test(key)) {
        return v.toFixed(2);
    }
    if (/Seconds$/.test(key)) {
        return v.toFixed(1);
    }
    if (/MiB$/.test(key)) {
        return v.toFixed(0);
    }
    return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/** The Pulumi CLI from PATH, else from scripts/toolchain.sh; the lab's file backend and passphrase. */
export function setupCli(): void {
    let pathPrefix = "";
    if (spawnSync("sh", ["-c", "command -v pulumi"]).status !== 0) {
        const tc = spawnSync("bash", [path.join(REPO, "scripts", "toolchain.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
        const dir = tc.stdout.trim().split("\n").pop() ?? "";
        if (tc.status !== 0 || !dir) {
            throw new Error("scripts/toolchain.sh did not provide the Pulumi CLI");
        }
        pathPrefix = dir + path.delimiter;
    }
    cliEnv = {
        ...process.env,
        ...labEnv(),
        PATH: pathPrefix + (process.env["PATH"] ?? ""),
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    };
}

async function main(): Promise<number> {
    const missing = missingPlugins();
    if (missing.length > 0) {
        process.stdout.write(`bench: not measured: the resource plugins ${missing.join(", ")} are not installed (scripts/plugins.ts)\n`);
        return 0;
    }
    fs.rmSync(TMP, { recursive: true, force: true });
    fs.mkdirSync(LOGS, { recursive: true });
    // The program runs compiled (Pulumi.yaml's main is bin/index.js): measure the sources as they are now.
    log("npm run build");
    const build = spawnSync("npm", ["run", "--silent", "build"], { cwd: REPO, encoding: "utf8" });
    if (build.status !== 0) {
        throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
    }

    setupCli();

    const samples: Record<string, unknown[]> = {};
    const add = (key: string, v: unknown) => (samples[key] ??= []).push(v);
    const notes: string[] = [];
    let errors = 0;
    const attempt = async <T>(what: string, f: () => Promise<T>): Promise<T | undefined> => {
        try {
            return await f();
        } catch (e) {
            errors++;
            const msg = `${what}: ${e instanceof Error ? e.message : String(e)}`;
            notes.push(msg);
            log(msg);
            return undefined;
        }
    };
    const skippedScale = new Set<string>();

    try {
        for (let run = 1; run <= RUNS; run++) {
            log(`run ${run}/${RUNS}: baseline`);
            const base = await attempt(`run ${run}: baseline`, baselineRun);
            add("baselineSeconds", base?.seconds ?? null);
            add("baselinePrepSeconds", base?.prepSeconds ?? null);

            log(`run ${run}/${RUNS}: first run, 1 node`);
            const one = await attempt(`run ${run}: first run of 1 node`, async () => {
                const lab = readLab();
                return firstRun(STACK_ONE, lab.nodes.filter((n) => n.name === "worker1"));
            });
            add("firstRun1NodeSeconds", one?.seconds ?? null);

            log(`run ${run}/${RUNS}: first run, 4 nodes`);
            const first = await attempt(`run ${run}: first run of 4 nodes`, () => firstRun(STACK_LAB));
            add("firstRunSeconds", first?.seconds ?? null);
            add("firstRunRatio", ratio(first?.seconds, base?.seconds));
            add("parallelRatio", ratio(first?.seconds, one?.seconds));
            add("sshSessionsPerNode", first ? first.sessions / first.lab.nodes.length : null);
            if (!first) {
                for (const k of ["noopSeconds", "noopRatio", "noopRemoteCommands", "firstRunFloorSeconds", "noopFloorSeconds", "noopFloorRatio", "noopAtFloorRatio", "previewNoopSeconds", "stateBytesPerNode", "stateBytesPerNodeByType", "stateBytesPerNodeByProperty"]) {
                    add(k, null);
                }
                add("restartsOnKubeletChange", null);
                continue;
            }
            const nodes = first.lab.nodes;

            log(`run ${run}/${RUNS}: no-op up`);
            const noop = await attempt(`run ${run}: no-op up`, async () => {
                const before = sessionsNow(nodes);
                const r = await mustCli(["up", "--yes", "--skip-preview", ...stackArgs(STACK_LAB)], { label: "up-noop" });
                return { seconds: r.seconds, sessions: sessionsSince(before, nodes) };
            });
            add("noopSeconds", noop?.seconds ?? null);
            add("noopRatio", ratio(noop?.seconds, first.seconds));
            add("noopRemoteCommands", noop?.sessions ?? null);

            log(`run ${run}/${RUNS}: the floor's up and no-op up, ${nodes.length} nodes`);
            const floor = await attempt(`run ${run}: the floor's no-op up`, () => floorUp(nodes.length, first.lab));
            add("firstRunFloorSeconds", floor?.firstSeconds ?? null);
            add("noopFloorSeconds", floor?.noopSeconds ?? null);
            add("noopFloorRatio", ratio(noop?.seconds, floor?.noopSeconds));
            add("noopAtFloorRatio", ratio(floor?.noopSeconds, first.seconds));

            log(`run ${run}/${RUNS}: preview of the provisioned lab`);
            const pv = await attempt(`run ${run}: preview of the provisioned lab`, () => mustCli(["preview", ...stackArgs(STACK_LAB)], { label: "preview-noop" }));
            add("previewNoopSeconds", pv?.seconds ?? null);

            const exported = await attempt(`run ${run}: stack export`, () =>
                mustCli(["stack", "export", "--stack", STACK_LAB, "--non-interactive"], { label: "stack-export" }),
            );
            add("stateBytesPerNode", exported ? Buffer.byteLength(exported.stdout) / nodes.length : null);
            const shares = exported ? stateShares(exported.stdout, nodes.length) : null;
            add("stateBytesPerNodeByType", shares?.byType ?? null);
            add("stateBytesPerNodeByProperty", shares?.byProperty ?? null);

            log(`run ${run}/${RUNS}: one kubelet setting changed (${KUBELET_CHANGE.key} ${KUBELET_CHANGE.value})`);
            const restarts = await attempt(`run ${run}: kubelet setting change`, async () => {
                const before = unitStarts(nodes);
                await mustCli(["config", "set", ...stackArgs(STACK_LAB), `${NS}:${KUBELET_CHANGE.key}`, KUBELET_CHANGE.value], { label: "config-set-change" });
                await mustCli(["up", "--yes", "--skip-preview", ...stackArgs(STACK_LAB)], { label: "up-kubelet-change" });
                const after = unitStarts(nodes);
                return Object.fromEntries(UNITS.map((u) => [u, nodes.filter((n) => before.get(n.name)![u] !== after.get(n.name)![u]).length]));
            });
            add("restartsOnKubeletChange", restarts ?? null);
        }

        const lab = readLab();
        /**
         * One preview of a run, under `key`: its seconds and peaks (null when a
         * run before did not finish it); one that does not finish is noted and
         * not tried again in later runs, so the cap is not spent on it twice.
         */
        const previewFigures = async (run: number, key: string, what: string, measure: () => Promise<ScaleSample>): Promise<ScaleSample | undefined> => {
            if (skippedScale.has(key)) {
                add(`${key}Seconds`, null);
                return undefined;
            }
            log(`run ${run}/${RUNS}: ${what}`);
            const s = await attempt(`run ${run}: ${what}`, measure);
            add(`${key}Seconds`, s?.seconds ?? null);
            add(`${key}PeakMiB`, s ? s.peakMiB : null);
            add(`${key}PeakMiBByRole`, s ? s.peakMiBByRole : null);
            if (s?.note) {
                notes.push(`run ${run}: ${what} ${s.note}`);
                log(`${what} ${s.note}`);
                skippedScale.add(key);
                if (run < RUNS) {
                    notes.push(`${what}: not tried again in later runs`);
                }
            }
            return s;
        };
        for (let run = 1; run <= RUNS; run++) {
            for (const n of SCALE) {
                let program: ScaleSample | undefined;
                for (const skip of [false, true]) {
                    const what = `preview of ${n} nodes${skip ? " (PULUMI_SKIP_CHECKPOINTS=true)" : ""}`;
                    const s = await previewFigures(run, `preview${n}${skip ? "SkipCheckpoints" : ""}`, what, () => scalePreview(n, lab, skip));
                    if (skip) {
                        program = s;
                    }
                }
                for (const shape of FLOOR_SHAPES) {
                    const what = `preview of the ${n}-node floor, shape ${shape} (PULUMI_SKIP_CHECKPOINTS=true)`;
                    const tried = !skippedScale.has(floorKey(n, shape));
                    const f = await previewFigures(run, floorKey(n, shape), what, () => floorPreview(n, shape, lab));
                    if (shape === "program" && tried) {
                        add(`preview${n}FloorRatio`, ratio(program?.seconds, f?.seconds));
                        add(`preview${n}FloorPeakRatio`, program?.seconds && f?.seconds ? ratio(program.peakMiB, f.peakMiB) : null);
                    }
                }
            }
        }
        for (let run = 1; run <= RUNS; run++) {
            for (const n of UP_SCALE) {
                for (const skip of [false, true]) {
                    const key = `up${n}Floor${skip ? "SkipCheckpoints" : ""}`;
                    log(`run ${run}/${RUNS}: the ${n}-node floor's first up${skip ? " (PULUMI_SKIP_CHECKPOINTS=true)" : ", then a no-op up"}`);
                    const u = await attempt(`run ${run}: the ${n}-node floor's up${skip ? " (PULUMI_SKIP_CHECKPOINTS=true)" : ""}`, () => floorUp(n, lab, skip));
                    add(`${key}Seconds`, u?.firstSeconds ?? null);
                    add(`${key}EnginePeakMiB`, u?.firstEnginePeakMiB ?? null);
                    if (!skip) {
                        add(`${key}NoopSeconds`, u?.noopSeconds ?? null);
                    }
                }
            }
        }
    } finally {
        await attempt("cleanup", async () => {
            log("cleanup: destroy and remove the bench stacks, reset the lab");
            if (fs.existsSync(configFile(STACK_LAB))) {
                const d = await cli(["destroy", "--yes", "--skip-preview", ...stackArgs(STACK_LAB)], { label: "destroy" });
                if (d.code !== 0) {
                    notes.push(`cleanup: pulumi destroy of ${STACK_LAB} failed; the stack was removed with --force`);
                }
            }
            for (const stack of [STACK_LAB, STACK_ONE, ...SCALE.map(scaleStack)]) {
                await stackRm(stack);
            }
            for (const n of SCALE) {
                for (const shape of FLOOR_SHAPES) {
                    await stackRm(floorStack(n, shape), FLOOR);
                }
            }
            for (const stack of floorUpStacks) {
                await stackRm(stack, FLOOR);
            }
            labScript("reset.sh");
            labScript("cluster.sh", "down");
            labScript("cluster.sh", "up");
        });
    }

    const numeric = (k: string) => median((samples[k] ?? []) as Sample[]);
    const figures: Record<string, unknown> = {
        firstRunSeconds: numeric("firstRunSeconds"),
        baselineSeconds: numeric("baselineSeconds"),
        firstRunRatio: numeric("firstRunRatio"),
        noopSeconds: numeric("noopSeconds"),
        noopRatio: numeric("noopRatio"),
        noopRemoteCommands: numeric("noopRemoteCommands"),
        firstRunFloorSeconds: numeric("firstRunFloorSeconds"),
        noopFloorSeconds: numeric("noopFloorSeconds"),
        noopFloorRatio: numeric("noopFloorRatio"),
        noopAtFloorRatio: numeric("noopAtFloorRatio"),
        previewNoopSeconds: numeric("previewNoopSeconds"),
        sshSessionsPerNode: numeric("sshSessionsPerNode"),
    };
    for (const mode of ["", "SkipCheckpoints", "Floor", "FloorMinimum"]) {
        for (const n of SCALE) {
            figures[`preview${n}${mode}Seconds`] = numeric(`preview${n}${mode}Seconds`);
        }
        for (const n of SCALE) {
            const peaks = ((samples[`preview${n}${mode}PeakMiB`] ?? []) as Sample[]).filter((x): x is number => x !== null);
            figures[`preview${n}${mode}PeakMiB`] = peaks.length > 0 ? median(peaks) : null;
            figures[`preview${n}${mode}PeakMiBByRole`] = medianByKey((samples[`preview${n}${mode}PeakMiBByRole`] ?? []) as (Record<Role, number> | null)[]);
        }
    }
    for (const n of SCALE) {
        figures[`preview${n}FloorRatio`] = numeric(`preview${n}FloorRatio`);
        figures[`preview${n}FloorPeakRatio`] = numeric(`preview${n}FloorPeakRatio`);
    }
    for (const n of UP_SCALE) {
        for (const k of [`up${n}FloorSeconds`, `up${n}FloorEnginePeakMiB`, `up${n}FloorNoopSeconds`, `up${n}FloorSkipCheckpointsSeconds`, `up${n}FloorSkipCheckpointsEnginePeakMiB`]) {
            figures[k] = numeric(k);
        }
    }
    figures.stateBytesPerNode = numeric("stateBytesPerNode");
    for (const k of ["stateBytesPerNodeByType", "stateBytesPerNodeByProperty"]) {
        figures[k] = medianByKey((samples[k] ?? []) as (Record<string, number> | null)[]);
    }
    figures.parallelRatio = numeric("parallelRatio");
    figures.restartsOnKubeletChange = medianByKey((samples["restartsOnKubeletChange"] ?? []) as (Record<string, number> | null)[]);

    const results = {
        ...figures,
        date: new Date().toISOString(),
        machine: machine(),
        gitCommit: gitCommit(),
        runs: RUNS,
        scale: SCALE,
        upScale: UP_SCALE,
        previewTimeoutSeconds: PREVIEW_TIMEOUT,
        samples,
        notes,
    };
    fs.writeFileSync(path.join(BENCH, "results.json"), JSON.stringify(results, null, 2) + "\n");

    const rows = Object.entries(figures).map(([k, v]) => `| ${k} | ${fmt(k, v)} |`);
    const table = ["| figure | value |", "|---|---|", ...rows].join("\n");
    const sampleRows = Object.entries(samples).map(
        ([k, list]) => `| ${k} | ${list.map((v) => (v !== null && typeof v === "object" ? `{${fmt(k, v)}}` : fmt(k, v))).join("; ")} |`,
    );
    const m = results.machine as Record<string, unknown>;
    const md = [
        "# Benchmark results",
        "",
        `${results.date}, commit ${results.gitCommit}, ${m.nproc} CPUs, ${m.memTotalMiB} MiB, ${m.pulumi ? `pulumi ${m.pulumi}, ` : ""}median of ${RUNS} run(s). What each figure means: README.md.`,
        "",
        table,
        "",
        "## Raw samples (one per run)",
        "",
        "| figure | samples |",
        "|---|---|",
        ...sampleRows,
        ...(notes.length > 0 ? ["", "## Notes", "", ...notes.map((n) => `- ${n.replace(/\n/g, " ")}`)] : []),
        "",
    ].join("\n");
    fs.writeFileSync(path.join(BENCH, "RESULTS.md"), md);
    process.stdout.write(`\n${table}\n`);
    if (notes.length > 0) {
        process.stdout.write(`\nnotes:\n${notes.map((n) => `- ${n}`).join("\n")}\n`);
    }
    return errors > 0 ? 1 : 0;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (e: unknown) => {
            process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
            process.exit(1);
        },
    );
}
