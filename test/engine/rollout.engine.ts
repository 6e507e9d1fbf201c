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
import { Stack } from "@pulumi/pulumi/automation";
import { LabNode, labConfig } from "../../scripts/labstack";
import { CordonWatch, checkClusterNodes, readiness } from "../e2e/checks";
import { LabRun, diffLines, kubectl, snapshot } from "../e2e/harness";
import { lab } from "../e2e/lab";
import { EventLog, engineStack, removeStack, replaceConfig, stepList, upSucceeds } from "./engine";

const STACK = "rollout-engine";
const OLD = process.env["LAB_K8S_OLDEST"] ?? "1.30.14";

const settle = () => new Promise((r) => setTimeout(r, 2000));

describe(`engine: a rolling upgrade ${OLD} -> the lab's version under the real CLI, maxUnavailable 1`, function () {
    this.timeout(30 * 60 * 1000);
    const lr = new LabRun();
    const log = new EventLog();
    let nodes: LabNode[];
    let stack: Stack;
    let version: string;

    const setConfig = (overrides: Record<string, unknown>) => replaceConfig(stack, labConfig(lab(), overrides));
    const ups = () => upSucceeds(stack, log);

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
