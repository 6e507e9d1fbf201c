/**
 * The engine suite's tools: the real Pulumi CLI (through the Automation API,
 * or spawned directly where a test must kill it) on the lab's file backend,
 * and what the engine reported.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import { strict as assert } from "assert";
import { ConfigMap, EngineEvent, LocalWorkspace, OpType, Stack, UpResult } from "@pulumi/pulumi/automation";
import { REPO, labEnv } from "../../scripts/labstack";

/** A stack of this program on the lab's file backend; `env` adds variables for the CLI and the plugins it starts. */
export async function engineStack(stackName: string, env: Record<string, string> = {}): Promise<Stack> {
    return LocalWorkspace.createOrSelectStack({ stackName, workDir: REPO }, { envVars: { ...labEnv(), ...env } });
}

/** Removes a stack left by an earlier run, resources and all (the lab is reset separately). */
export async function removeStack(stackName: string): Promise<void> {
    const ws = await LocalWorkspace.create({ workDir: REPO, envVars: labEnv() });
    const stacks = await ws.listStacks();
    if (stacks.some((s) => s.name === stackName)) {
        await ws.removeStack(stackName, { force: true });
    }
    fs.rmSync(`${REPO}/Pulumi.${stackName}.yaml`, { force: true });
}

export interface Step {
    op: OpType;
    type: string;
    name: string;
}

/** The resource's name, the last part of its URN. */
export function nameOf(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

/** Every step the engine took or planned on the program's resources (but "same"; the default providers are the engine's), in order. */
export function stepsOf(events: EngineEvent[]): Step[] {
    return events
        .filter((e) => e.resourcePreEvent && e.resourcePreEvent.metadata.op !== "same" && !e.resourcePreEvent.metadata.type.startsWith("pulumi:providers:"))
        .map((e) => {
            const m = e.resourcePreEvent!.metadata;
            return { op: m.op, type: m.type, name: nameOf(m.urn) };
        });
}

/** `op name` of every step, sorted, for exact comparison. */
export function stepList(events: EngineEvent[], ops?: OpType[]): string[] {
    return stepsOf(events)
        .filter((s) => !ops || ops.includes(s.op))
        .map((s) => `${s.op} ${s.name}`)
        .sort();
}

/** Collects the engine's events of every operation, for the secrets check. */
export class EventLog {
    readonly all: EngineEvent[] = [];
    current: EngineEvent[] = [];
    /** Starts a new operation's list; pass the returned callback as `onEvent`. */
    next(): (e: EngineEvent) => void {
        this.current = [];
        return (e) => {
            this.all.push(e);
            this.current.push(e);
        };
    }
}

/** Every process below `root` (children, their children, ...), read from /proc. */
export function descendants(root: number): number[] {
    const children = new Map<number, number[]>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) {
            continue;
        }
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
        } catch {
            // gone meanwhile
        }
    }
    const out: number[] = [];
    const queue = [root];
    while (queue.length > 0) {
        for (const child of children.get(queue.shift()!) ?? []) {
            out.push(child);
            queue.push(child);
        }
    }
    return out;
}

/** The command line of a process, or undefined once it is gone. */
export function cmdline(pid: number): string | undefined {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
    } catch {
        return undefined;
    }
}

/** The CLI itself, spawned with the lab's backend: for a test that must kill it. */
export function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcess {
    return spawn("pulumi", args, { cwd: REPO, env: { ...process.env, ...labEnv(), ...env }, stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs the CLI to its end; resolves with its exit status and output. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; output: string }> {
    return new Promise((resolve, reject) => {
        const child = spawnCli(args, env);
        let output = "";
        child.stdout!.on("data", (d) => (output += d));
        child.stderr!.on("data", (d) => (output += d));
        child.on("error", reject);
        child.on("close", (status) => resolve({ status, output }));
    });
}

/** Makes `config` the stack's whole config: keys set before and not in it are removed. */
export async function replaceConfig(stack: Stack, config: ConfigMap): Promise<void> {
    const stale = Object.keys(await stack.getAllConfig()).filter((k) => !(k in config));
    if (stale.length > 0) {
        await stack.removeAllConfig(stale);
    }
    await stack.setAllConfig(config);
}

/** `pulumi up`, which must succeed; its events are `log`'s new current list. */
export async function upSucceeds(stack: Stack, log: EventLog): Promise<UpResult> {
    const result = await stack.up({ onEvent: log.next(), color: "never" });
    assert.equal(result.summary.result, "succeeded");
    return result;
}
