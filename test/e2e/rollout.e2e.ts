/**
 * A rolling upgrade on the lab: the four nodes provisioned at 1.30.14, then
 * the config moved to 1.34.4 with rollout.maxUnavailable 1, applied in the
 * engine's order with every node's chain running at once (gate, commands,
 * membership, release). A watch on the Nodes records every change: at no
 * moment are two nodes cordoned, each node was cordoned once, and every node
 * ends Ready on the new version with no slot left taken.
 */
import { strict as assert } from "assert";
import { updateDynamic } from "../support/dynamic";
import { CordonWatch, checkClusterNodes } from "./checks";
import { Cmd, GATE, LIFECYCLE, LabRun, PHASES, RELEASE, commandsOf, diffLines, dynamicsOf, kubectl, snapshot } from "./harness";

const OLD = "1.30.14";
const NEW = "1.34.4";

describe(`e2e: a rolling upgrade ${OLD} -> ${NEW} on the four nodes, maxUnavailable 1`, function () {
    this.timeout(40 * 60 * 1000);
    const lr = new LabRun();
    let applied: Map<string, Cmd>;

    before(async () => {
        await lr.start();
        applied = await lr.provision(await lr.program({ kubernetesVersion: OLD }), { kubernetesVersion: OLD });
        checkClusterNodes(lr.nodes, OLD);
    });

    it("one node at a time is cordoned, drained, upgraded, Ready again and uncordoned", async () => {
        const overrides = { kubernetesVersion: NEW, rollout: { maxUnavailable: 1 } };
        const run = await lr.program(overrides);
        const cmds = commandsOf(run, lr.nodes.map((n) => n.name));
        const changed = [...cmds.values()].filter((c) => c.create !== applied.get(c.name)!.create || c.stdin !== applied.get(c.name)!.stdin);
        const phases = new Set(changed.map((c) => c.phase));
        for (const p of ["system", "binaries", "kubelet", "kube-proxy"] as const) {
            assert.ok(phases.has(p), `${p} changes: the preflight (system), the binaries, and the two services that run them`);
        }
        // Every change of every Node, from a watch.
        const watch = new CordonWatch();
        await new Promise((r) => setTimeout(r, 2000));
        try {
            await Promise.all(
                lr.nodes.map(async (n) => {
                    const mine = (phase: string) => changed.filter((x) => x.node === n.name && x.phase === phase);
                    await lr.apply(mine("system"));
                    const gate = dynamicsOf(run, GATE).get(`${n.name}-rollout-gate`)!;
                    assert.equal(await updateDynamic(lr.dynamics.get(gate.name)!, gate), true, `${n.name}: the gate takes a slot and drains`);
                    await lr.apply(PHASES.filter((p) => p !== "system").flatMap(mine));
                    const membership = dynamicsOf(run, LIFECYCLE).get(`${n.name}-membership`)!;
                    assert.equal(await updateDynamic(lr.dynamics.get(membership.name)!, membership), true, `${n.name}: waits for Ready`);
                    const release = dynamicsOf(run, RELEASE).get(`${n.name}-rollout-release`)!;
                    assert.equal(await updateDynamic(lr.dynamics.get(release.name)!, release), true, `${n.name}: uncordons and releases`);
                }),
            );
            await new Promise((r) => setTimeout(r, 2000));
        } finally {
            watch.stop();
        }
        for (const x of changed) {
            applied.set(x.name, x);
        }
        assert.equal(watch.most, 1, "never two nodes cordoned at once");
        assert.deepEqual([...watch.seen].sort(), lr.nodes.map((n) => n.name).sort(), "each node was cordoned for its upgrade");
        assert.deepEqual([...watch.cordoned.entries()].filter(([, v]) => v), [], "and uncordoned after it");
        checkClusterNodes(lr.nodes, NEW);
        const leases = kubectl("-n", "kube-system", "get", "leases", "-o", "jsonpath={range .items[*]}{.metadata.name} {.spec.holderIdentity}{\"\\n\"}{end}");
        assert.deepEqual(leases.split("\n").filter((l) => l.startsWith("hardway-rollout-")), [], "no slot is left taken");
    });

    it("destroy leaves every node as it was", async () => {
        await lr.teardown(applied.values());
        for (const n of lr.nodes) {
            assert.deepEqual(diffLines(lr.pristine.get(n.name)!, snapshot(n.name)), [], `${n.name} differs from its snapshot`);
        }
    });
});
