/**
 * Day two on the lab: a node renamed in the config, and a node moved to
 * another address of its host, each applied in the engine's order (see
 * harness.ts), on worker1 and worker2 with the lab's control plane.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { LabNode } from "../../scripts/labstack";
import { appliedByMocks, createDynamic, deleteDynamic, updateDynamic } from "../support/dynamic";
import { checkFiles, readiness } from "./checks";
import { Cmd, GATE, LIFECYCLE, LabRun, RELEASE, RENEWAL, commandsOf, diffLines, dynamicsOf, kubectl, snapshot } from "./harness";
import { nodeExec, sshRun } from "./lab";
import { withOwner } from "../../components/node/owner";
import { parsePreflight, preflightError } from "../../components/system/preflight";

/** A second address of worker1's host, on the lab's bridge network. */
const SECOND_ADDRESS = "10.240.0.121";
/** What a running kubelet changes by itself, and its client certificate (issued anew when it bootstraps again). */
const KUBELET_OWN = "/var/lib/kubelet /etc/kubernetes/pki/kubelet-client-* /etc/kubernetes/kubelet.kubeconfig";
/** Each phase's manifest records the time of its run (README "Drift"): a run at the new address writes new ones. */
const MANIFESTS = "/var/lib/hardway-workers/owners/*/*/manifest";

describe("e2e: day two — renames and moves on the lab's nodes", function () {
    this.timeout(20 * 60 * 1000);
    const lr = new LabRun();
    let w1: LabNode;
    let w2: LabNode;
    /** The config's nodes now, and the commands applied for them, by name. */
    let current: LabNode[];
    let applied: Map<string, Cmd>;

    before(() => {
        lr.prepare();
        w1 = lr.nodes.find((n) => n.name === "worker1")!;
        w2 = lr.nodes.find((n) => n.name === "worker2")!;
        current = [w1, w2];
        lr.nodes = current;
    });

    it("preflight: with port 10256 taken, worker1's first command fails naming the node and the check, and writes nothing", async () => {
        // A listener on kube-proxy's health port, in a unit of its own on the node.
        nodeExec("worker1", "systemd-run --quiet --unit=hw-squatter /usr/bin/systemd-socket-activate -l 10256 /bin/sleep infinity && for i in $(seq 50); do ss -H -ltn 'sport = :10256' | grep -q . && break; sleep 0.2; done");
        try {
            const r = await sshRun(w1, withOwner("worker1", lr.systemText(w1)));
            assert.equal(r.status, 1, r.stderr);
            const failed = parsePreflight(r.stdout).filter((x) => !x.ok);
            assert.deepEqual(failed.map((x) => x.check), ["port 10256"]);
            assert.match(failed[0].detail, /^port 10256 is in use by systemd-socket- \(pid \d+\), not by kube-proxy\.service$/);
            assert.equal(r.stderr, preflightError("worker1", failed));
            assert.deepEqual(diffLines(lr.pristine.get("worker1")!, snapshot("worker1")), [], "nothing was written");
        } finally {
            nodeExec("worker1", "systemctl stop hw-squatter.service");
        }
    });

    it("provisions worker1 and worker2: their preflights pass", async () => {
        await lr.gatherFacts();
        for (const n of current) {
            const report = parsePreflight(lr.facts[`${n.name}-system`]);
            assert.deepEqual(report.filter((x) => !x.ok), [], `${n.name}'s preflight`);
            assert.equal(report.length, 10);
        }
        applied = await lr.provision(await lr.program({}, current));
        assert.deepEqual(readiness(), [["worker1", "True"], ["worker2", "True"]]);
    });

    after(() => {
        // The second address, when the move got that far.
        if (w1 && execFileSync("ip", ["-n", w1.netns, "-4", "-o", "addr", "show", "dev", "eth0"], { encoding: "utf8" }).includes(` ${SECOND_ADDRESS}/`)) {
            execFileSync("ip", ["-n", w1.netns, "addr", "del", `${SECOND_ADDRESS}/24`, "dev", "eth0"]);
        }
    });

    it("rename worker2 -> worker3 (same host): the host keeps working, Node worker2 is gone, worker3 is Ready", async () => {
        const w3: LabNode = { ...w2, name: "worker3" };
        for (const phase of ["system", "containerd-install"]) {
            lr.facts[`worker3-${phase}`] = lr.facts[`worker2-${phase}`];
        }
        const renamed = await lr.program({}, [w1, w3]);
        const cmds = commandsOf(renamed, ["worker1", "worker3"]);
        for (const c of [...cmds.values()].filter((x) => x.node === "worker1")) {
            assert.equal(c.create, applied.get(c.name)!.create, `${c.name} is unchanged`);
        }
        lr.nodes = [w1, w2, w3];
        // The engine's order: the new name's resources first ...
        const gate = await createDynamic(dynamicsOf(renamed, GATE).get("worker3-rollout-gate")!);
        lr.dynamics.set(gate.name, gate);
        const created = [...cmds.values()].filter((c) => c.node === "worker3");
        const results = await lr.apply(created);
        assert.match(results.get("worker3-kubelet")!.stderr, /the kubelet's client certificate is for worker2: it bootstraps again as worker3/);
        for (const r of dynamicsOf(renamed, RENEWAL).values()) {
            if (r.name.startsWith("worker3-")) {
                lr.dynamics.set(r.name, appliedByMocks(r, `renewal-${r.state.issuedAt}`));
            }
        }
        const membership = await createDynamic(dynamicsOf(renamed, LIFECYCLE).get("worker3-membership")!);
        lr.dynamics.set(membership.name, membership);
        const release = await createDynamic(dynamicsOf(renamed, RELEASE).get("worker3-rollout-release")!);
        lr.dynamics.set(release.name, release);
        // ... then the old name's, the release and the membership (drain, delete the Node) before the commands.
        for (const name of ["worker2-rollout-release", "worker2-membership"]) {
            await deleteDynamic(lr.dynamics.get(name)!);
            lr.dynamics.delete(name);
        }
        const old = [...applied.values()].filter((c) => c.node === "worker2");
        await lr.destroy(old);
        for (const name of [...lr.dynamics.keys()].filter((k) => k.startsWith("worker2-"))) {
            await deleteDynamic(lr.dynamics.get(name)!);
            lr.dynamics.delete(name);
        }
        for (const c of old) {
            applied.delete(c.name);
        }
        for (const c of created) {
            applied.set(c.name, c);
        }
        current = [w1, w3];
        lr.nodes = current;

        assert.deepEqual(readiness(), [["worker1", "True"], ["worker3", "True"]], "Node worker2 is gone, worker3 is Ready");
        checkFiles("worker2");
        assert.equal(nodeExec("worker2", "systemctl is-active kubelet kube-proxy containerd").trim(), "active\nactive\nactive");
        assert.equal(
            nodeExec("worker2", "openssl x509 -in /etc/kubernetes/pki/kubelet-client-current.pem -noout -subject").trim(),
            "subject=O = system:nodes, CN = system:node:worker3",
        );
        assert.equal(nodeExec("worker2", "ls /var/lib/hardway-workers/owners").trim(), "worker3", "only worker3's journals are on the host");
        assert.equal(nodeExec("worker2", "test -f /usr/local/lib/hardway/v1/hardway.sh && echo library").trim(), "library");
    });

    it("move worker1 to a second address of its host: the old binding is cleaned first, then set up anew, with nothing of the old left", async () => {
        execFileSync("ip", ["-n", w1.netns, "addr", "add", `${SECOND_ADDRESS}/24`, "dev", "eth0"]);
        const before = snapshot("worker1", `${KUBELET_OWN} ${MANIFESTS}`);
        const moved: LabNode & { hostKeyAlias: string } = { ...w1, sshHost: SECOND_ADDRESS, hostKeyAlias: w1.sshHost };
        const w3 = current.find((n) => n.name === "worker3")!;
        const movedRun = await lr.program({}, [moved, w3]);
        const cmds = commandsOf(movedRun, ["worker1", "worker3"]);
        const binding = cmds.get("worker1-host")!;
        const oldBinding = applied.get("worker1-host")!;
        assert.deepEqual(oldBinding.triggers, [`${w1.sshHost}:22`]);
        assert.deepEqual(binding.triggers, [`${SECOND_ADDRESS}:22`], "a new address replaces the binding");
        for (const c of [...cmds.values()].filter((x) => x.node === "worker3")) {
            assert.equal(c.create, applied.get(c.name)!.create, `${c.name} is unchanged`);
        }
        // deleteBeforeReplace: the old binding's delete runs first, at the old address.
        const cleaned = await lr.run(oldBinding, "delete", {}, w1);
        assert.equal(cleaned.status, 0, cleaned.stderr);
        assert.deepEqual(cleaned.stderr.match(/undoing \S+ of worker1/g), [
            "undoing kube-proxy of worker1",
            "undoing kubelet of worker1",
            "undoing containerd of worker1",
            "undoing containerd-install of worker1",
            "undoing binaries of worker1",
            "undoing system of worker1",
        ]);
        assert.equal(nodeExec("worker1", "ls -A /var/lib/hardway-workers /usr/local/lib/hardway 2>/dev/null | wc -l").trim(), "0", "nothing of the program is left");
        // Then each command, whose connection changed, runs its create at the new address.
        lr.nodes = [moved, w3];
        const rerun = [...cmds.values()].filter((c) => c.node === "worker1");
        await lr.apply(rerun);
        // The membership's rollout digest holds the address: it waits for Ready again.
        assert.equal(await updateDynamic(lr.dynamics.get("worker1-membership")!, dynamicsOf(movedRun, LIFECYCLE).get("worker1-membership")!), true);
        for (const c of rerun) {
            applied.set(c.name, c);
        }
        current = [moved, w3];

        assert.deepEqual(readiness(), [["worker1", "True"], ["worker3", "True"]]);
        checkFiles("worker1");
        assert.equal(
            nodeExec("worker1", "ls /var/lib/hardway-workers/owners/worker1 | tr '\\n' ' '").trim(),
            "binaries containerd containerd-install kube-proxy kubelet system",
            "one journal per phase, the host binding's run left none",
        );
        assert.deepEqual(diffLines(before, snapshot("worker1", `${KUBELET_OWN} ${MANIFESTS}`)), [], "the node is as it was at its old address: no leftover unit, file or journal");
    });

    it("destroy after the rename and the move leaves both hosts as they were before the first run", async () => {
        await lr.teardown(applied.values());
        assert.equal(kubectl("get", "nodes", "-o", "name").trim(), "");
        for (const host of ["worker1", "worker2"]) {
            assert.deepEqual(diffLines(lr.pristine.get(host)!, snapshot(host)), [], `${host} differs from its snapshot`);
        }
    });
});
