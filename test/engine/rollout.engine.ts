/**
 * The engine suite, day two: a rolling upgrade under the real CLI. A stack
 * of the lab's four nodes comes up on the oldest Kubernetes version the lab
 * builds (LAB_K8S_OLDEST, 1.30.14), then one `pulumi up` moves it to the
 * lab's version with rollout.maxUnavailable 1: the engine runs every node's
 * chain (gate, commands, membership, release) as it schedules them. A watch
 * on the Nodes records every change: never two nodes cordoned at once, each
 * node cordoned once, all Ready on the new version when `up` returns, and no
 * slot Lease left. Then a no-op preview and destroy.
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn } from "child_process";
import { Stack } from "@pulumi/pulumi/automation";
import { LabNode, labConfig, readLabCluster } from "../../scripts/labstack";
import { checkClusterNodes, readiness } from "../e2e/checks";
import { LabRun, diffLines, kubectl, snapshot } from "../e2e/harness";
import { lab } from "../e2e/lab";
import { EventLog, engineStack, removeStack, stepList } from "./engine";

const STACK = "rollout-engine";
const OLD = process.env["LAB_K8S_OLDEST"] ?? "1.30.14";

/** Watches every Node's spec.unschedulable; `most` is the largest number cordoned at one moment. */
class CordonWatch {
    readonly cordoned = new Map<string, boolean>();
    readonly seen = new Set<string>();
    most = 0;
    private readonly proc: ChildProcess;
    private buffered = "";

    constructor() {
        const c = readLabCluster()!;
        this.proc = spawn(c.kubectl, [
            "--kubeconfig",
            c.kubeconfig,
            "get",
            "nodes",
            "--watch",
            "--output-watch-events",
            "-o",
            `jsonpath={.object.metadata.name} {.object.spec.unschedulable}{"\\n"}`,
        ]);
        this.proc.stdout!.on("data", (d: Buffer) => {
            this.buffered += d.toString();
            const lines = this.buffered.split("\n");
            this.buffered = lines.pop()!;
            for (const line of lines) {
                const [name, unschedulable] = line.trim().split(" ");
                if (!name) {
                    continue;
                }
                this.cordoned.set(name, unschedulable === "true");
                if (unschedulable === "true") {
                    this.seen.add(name);
                }
                this.most = Math.max(this.most, [...this.cordoned.values()].filter(Boolean).length);
            }
        });
    }

    stop(): void {
        this.proc.kill();
    }
}

const settle = () => new Promise((r) => setTimeout(r, 2000));

describe(`engine: a rolling upgrade ${OLD} -> the lab's version under the real CLI, maxUnavailable 1`, function () {
    this.timeout(30 * 60 * 1000);
    const lr = new LabRun();
    const log = new EventLog();
    let nodes: LabNode[];
    let stack: Stack;
    let version: string;

    const setConfig = async (overrides: Record<string, unknown>) => {
        const config = labConfig(lab(), overrides);
        const stale = Object.keys(await stack.getAllConfig()).filter((k) => !(k in config));
        if (stale.length > 0) {
            await stack.removeAllConfig(stale);
        }
        await stack.setAllConfig(config);
    };
    const ups = async () => {
        const result = await stack.up({ onEvent: log.next(), color: "never" });
        assert.equal(result.summary.result, "succeeded");
        return result;
    };

    before(async () => {
        lr.prepare();
        nodes = lr.nodes;
        version = lab().mirror.kubernetesVersion;
        assert.notEqual(version, OLD, "the lab's version is newer than the oldest it builds");
        await removeStack(STACK);
        stack = await engineStack(STACK);
    });

    it(`1. up on ${OLD}: all four nodes Ready on it`, async () => {
        await setConfig({ kubernetesVersion: OLD });
        await ups();
        checkClusterNodes(nodes, OLD);
    });

    it("2. one up to the lab's version: one node at a time is cordoned, drained, upgraded, Ready again and uncordoned", async () => {
        await setConfig({ kubernetesVersion: version, rollout: { maxUnavailable: 1 } });
        const watch = new CordonWatch();
        await settle();
        try {
            await ups();
            await settle();
        } finally {
            watch.stop();
        }
        // Every node's gate and release ran; nothing was created, replaced or deleted.
        const steps = stepList(log.current);
        for (const n of nodes) {
            for (const r of ["rollout-gate", "rollout-release", "binaries", "kubelet", "kube-proxy", "membership"]) {
                assert.ok(steps.includes(`update ${n.name}-${r}`), `update ${n.name}-${r}: ${steps.join(", ")}`);
            }
        }
        assert.deepEqual(
            steps.filter((s) => !s.startsWith("update ")),
            [],
            "an upgrade only updates",
        );
        assert.equal(watch.most, 1, "never two nodes cordoned at once");
        assert.deepEqual([...watch.seen].sort(), nodes.map((n) => n.name).sort(), "each node was cordoned for its upgrade");
        assert.deepEqual([...watch.cordoned.entries()].filter(([, v]) => v), [], "and uncordoned after it");
        assert.deepEqual(readiness(), nodes.map((n): [string, string] => [n.name, "True"]).sort(), "Ready when up returned");
        checkClusterNodes(nodes, version);
        const leases = kubectl("-n", "kube-system", "get", "leases", "-o", 'jsonpath={range .items[*]}{.metadata.name} {.spec.holderIdentity}{"\\n"}{end}');
        assert.deepEqual(
            leases.split("\n").filter((l) => l.startsWith("hardway-rollout-")),
            [],
            "no slot is left taken",
        );
    });

    it("3. then `preview --expect-no-changes` passes", async () => {
        await stack.preview({ expectNoChanges: true, onEvent: log.next(), color: "never" });
        assert.deepEqual(stepList(log.current), []);
    });

    it("4. destroy leaves every node as it was", async () => {
        const result = await stack.destroy({ onEvent: log.next(), color: "never" });
        assert.equal(result.summary.result, "succeeded");
        assert.equal(kubectl("get", "nodes", "-o", "name").trim(), "", "no Node is left");
        for (const n of nodes) {
            assert.deepEqual(diffLines(lr.pristine.get(n.name)!, snapshot(n.name)), [], `${n.name} differs from its snapshot`);
        }
        await removeStack(STACK);
    });
});
