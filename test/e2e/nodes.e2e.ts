/**
 * End to end on the lab's four real systemd nodes (real sshd, containerd,
 * systemd), with the program's own commands.
 *
 * The engine cannot run here (see harness.ts): the program's own commands and
 * dynamic providers are applied in the engine's order, on real nodes, with
 * real Kubernetes binaries and the lab's control plane.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import { LabNode, readLabCluster } from "../../scripts/labstack";
import { deleteDynamic, updateDynamic } from "../support/dynamic";
import { ProgramRun } from "../support/program";
import { checkCertificates, checkClusterNodes, checkContainerdAndUnits, checkContainerdPaths, checkFiles, checkKubeProxyRules, checkKubeletServing, checkNothingRejected, checkTlsBootstrapping, fileMtimes } from "./checks";
import { Cmd, LIFECYCLE, LabRun, REGISTRATION, allDynamicsOf, commandsOf, diffLines, dynamicsOf, kubectl, kubectlJson, snapshot } from "./harness";
import { lab, nodeExec } from "./lab";

describe("e2e: the program's commands on the lab's real nodes", function () {
    this.timeout(20 * 60 * 1000);
    const lr = new LabRun();
    let nodes: LabNode[];
    let first: ProgramRun;
    /** What is applied on the lab now: the commands, and the config overrides they were made with. */
    let applied = new Map<string, Cmd>();
    let overrides: Record<string, unknown> = {};

    /** The first `pulumi up` of the default config on all four nodes (after a preview of the new stack). */
    async function provision(): Promise<void> {
        // `pulumi preview` of a new stack comes first, as a user runs it: nothing is known yet.
        const planned = await lr.preview();
        assert.deepEqual([...planned.values()].every((c) => c), true);
        first = await lr.program();
        applied = await lr.provision(first);
        overrides = {};
    }

    /** `pulumi destroy` of whatever is applied: the nodes are clean again. */
    async function clean(): Promise<void> {
        if (applied.size > 0 || lr.dynamics.size > 0) {
            await lr.teardown(applied.values());
            applied.clear();
            overrides = {};
        }
    }

    /**
     * Each case that needs the default config on all four nodes starts from
     * it: a case before it may have changed the config, removed a node or
     * destroyed everything; then the lab is destroyed and provisioned again.
     */
    async function atBaseline(): Promise<void> {
        const all = nodes.every((n) => applied.has(`${n.name}-kubelet`));
        if (all && Object.keys(overrides).length === 0) {
            return;
        }
        await clean();
        // The system phase's undo removed what the facts came from: they are gathered again, as on a first run.
        await lr.gatherFacts();
        await provision();
    }

    before(async () => {
        await lr.start();
        nodes = lr.nodes;
        await provision();
    });

    it("1. files: every file and directory from the guide, with its owner, group and mode", () => {
        for (const n of nodes) {
            checkFiles(n.name);
        }
    });

    it("2. certificates: the guide's CN, O and SANs, verified against the lab CA with openssl", () => {
        checkCertificates(nodes);
    });

    it("3. containerd carries the real kubernetes gid and runs; units verify and are enabled", () => {
        checkContainerdAndUnits(nodes);
    });

    it("4. cluster: all four nodes registered and Ready on the real kubelet; control-plane nodes carry the NoSchedule taint", () => {
        const objects = checkClusterNodes(nodes, lab().mirror.kubernetesVersion);
        for (const n of nodes) {
            // What the lifecycle resource recorded is the node it waited for.
            assert.equal(lr.dynamics.get(`${n.name}-membership`)!.outs.uid, objects.get(n.name).metadata.uid);
        }
    });

    it("4b. containerd: one node on containerd 2.x with config version 3, the others on Debian's 1.6 with version 2, all Ready", () => {
        const containerd2 = lab().containerd2;
        assert.ok(containerd2, "the lab runs one node on containerd 2.x (lab/up-cluster.sh)");
        checkContainerdPaths(nodes, first.outputs.nodes, containerd2);
    });

    it("5. TLS bootstrapping: each kubelet's client certificate came from a CSR of system:bootstrap:<token id>, approved and signed", () => {
        checkTlsBootstrapping(nodes, first.outputs.bootstrapTokenId);
    });

    it("6. the API server reaches each kubelet through its serving certificate (IP and FQDN SANs)", async () => {
        await checkKubeletServing(nodes);
    });

    it("7. kube-proxy runs and programs its rules (iptables mode: the lab kernel has no ip_vs)", () => {
        checkKubeProxyRules(nodes);
    });

    it("8. the real kubelet and kube-proxy accept every rendered flag and config field", () => {
        checkNothingRejected(nodes);
    });

    it("9. re-run: the program registers identical commands, and running them again changes nothing", async () => {
        await atBaseline();
        const planned = await lr.preview();
        assert.deepEqual([...planned].filter(([, changes]) => changes), [], "a preview plans no dynamic resource change");
        const rerun = await lr.program();
        const again = commandsOf(rerun, nodes.map((n) => n.name));
        // The dynamic resources see no change either (their diff says so; nothing is called).
        for (const r of [...dynamicsOf(rerun, REGISTRATION).values(), ...dynamicsOf(rerun, LIFECYCLE).values()]) {
            assert.equal(await updateDynamic(lr.dynamics.get(r.name)!, r), false, `${r.name} would change on a re-run`);
        }
        for (const [name, c] of applied) {
            const d = again.get(name)!;
            assert.equal(d.create, c.create, `${name}: create text changed on a re-run`);
            assert.equal(d.stdin, c.stdin, `${name}: stdin changed on a re-run`);
        }
        const mtimesBefore = nodes.map((n) => fileMtimes(n.name));
        const results = await lr.apply(again.values());
        for (const [name, r] of results) {
            assert.doesNotMatch(r.stdout, /HW_RESTARTED/, `${name} restarted something on a no-op run`);
            assert.doesNotMatch(r.stderr, /writing|downloading|installing/, `${name} changed something on a no-op run:\n${r.stderr}`);
        }
        assert.deepEqual(nodes.map((n) => fileMtimes(n.name)), mtimesBefore, "no file was rewritten");
    });

    it("10. change: a new clusterCidr rewrites only kubeproxy-config.yaml and restarts only kube-proxy", async () => {
        await atBaseline();
        const planned = await lr.preview({ clusterCidr: "10.200.0.0/16" });
        assert.deepEqual(
            [...planned].filter(([, changes]) => changes).map(([name]) => name).sort(),
            nodes.map((n) => `${n.name}-membership`).sort(),
            "a preview plans the memberships' wait for Ready, and nothing else dynamic",
        );
        const changedRun = await lr.program({ clusterCidr: "10.200.0.0/16" });
        const changed = commandsOf(changedRun, nodes.map((n) => n.name));
        const differ = [...changed.values()].filter((c) => c.create !== applied.get(c.name)!.create || c.stdin !== applied.get(c.name)!.stdin);
        assert.deepEqual(differ.map((c) => c.name).sort(), nodes.map((n) => `${n.name}-kube-proxy`).sort());
        const containerdStart = () => nodes.map((n) => nodeExec(n.name, "systemctl show -p ExecMainStartTimestampMonotonic containerd"));
        const startBefore = containerdStart();
        const results = await lr.apply(differ);
        for (const c of differ) {
            const r = results.get(c.name)!;
            assert.deepEqual(r.stdout.match(/HW_RESTARTED .*/g), ["HW_RESTARTED kube-proxy.service"]);
            assert.deepEqual(r.stderr.match(/writing .*/g), ["writing /etc/kubernetes/kubeproxy-config.yaml"]);
            assert.match(nodeExec(c.node, "cat /etc/kubernetes/kubeproxy-config.yaml"), /clusterCIDR: "10\.200\.0\.0\/16"/);
        }
        assert.deepEqual(containerdStart(), startBefore, "containerd was not restarted");
        for (const c of differ) {
            applied.set(c.name, c);
        }
        overrides = { clusterCidr: "10.200.0.0/16" };
        // Each node's lifecycle waits for Ready again after its kube-proxy restart; the token stays.
        const regs = [...dynamicsOf(changedRun, REGISTRATION).values()];
        assert.equal(await updateDynamic(lr.dynamics.get(regs[0].name)!, regs[0]), false, "the token registration is unchanged");
        const updated = await Promise.all([...dynamicsOf(changedRun, LIFECYCLE).values()].map((r) => updateDynamic(lr.dynamics.get(r.name)!, r)));
        assert.deepEqual(updated, nodes.map(() => true));
    });

    it("11. removal: dropping worker2 drains it and deletes its Node, then cleans worker2 and touches no other node", async () => {
        // From all four nodes, with whatever config they have.
        if (!nodes.every((n) => applied.has(`${n.name}-kubelet`))) {
            await atBaseline();
        }
        const remaining = nodes.filter((n) => n.name !== "worker2");
        // The other nodes' kubelets keep running: their own state dir may change.
        const otherBefore = remaining.map((n) => snapshot(n.name, "/var/lib/kubelet"));
        const withoutRun = await lr.program(overrides, remaining);
        const without = commandsOf(withoutRun, remaining.map((n) => n.name));
        const gone = [...applied.values()].filter((c) => !without.has(c.name));
        assert.deepEqual([...new Set(gone.map((c) => c.node))], ["worker2"]);
        for (const [name, c] of without) {
            assert.equal(c.create, applied.get(name)!.create, `${name} would run again`);
        }
        const present = allDynamicsOf(withoutRun);
        const goneDynamics = [...lr.dynamics.keys()].filter((k) => !present.has(k)).sort();
        assert.deepEqual(goneDynamics, [
            "worker2-kube-proxy-client-renewal",
            "worker2-kubelet-serving-renewal",
            "worker2-membership",
            "worker2-rollout-gate",
            "worker2-rollout-release",
            "worker2-state",
        ]);
        // A pod bound to worker2, which the drain must evict (no scheduler in the lab: bound by name).
        kubectl("-n", "default", "run", "drain-me", "--image=registry.invalid/pause:none", "--restart=Never", "--overrides", JSON.stringify({ spec: { nodeName: "worker2" } }));
        // As the engine orders a removal: the rollout release and the dependent lifecycle first (cordon, drain, delete the Node), then the commands.
        for (const name of ["worker2-rollout-release", "worker2-membership"]) {
            await deleteDynamic(lr.dynamics.get(name)!);
            lr.dynamics.delete(name);
        }
        assert.equal(kubectl("get", "nodes", "-o", "name").split("\n").filter((l) => l === "node/worker2").length, 0, "the Node object is gone");
        assert.equal(kubectl("-n", "default", "get", "pods", "--ignore-not-found", "-o", "name").trim(), "", "the drain evicted the pod");
        await lr.destroy(gone);
        // Then what the commands depended on: worker2's certificate renewals, its rollout gate and its NodeState.
        for (const name of goneDynamics.filter((k) => k.endsWith("-renewal") || k.endsWith("-rollout-gate") || k.endsWith("-state"))) {
            await deleteDynamic(lr.dynamics.get(name)!);
            lr.dynamics.delete(name);
        }
        assert.deepEqual(diffLines(lr.pristine.get("worker2")!, snapshot("worker2")), [], "worker2 is as it was before the first run");
        assert.equal(nodeExec("worker2", "systemctl list-unit-files kubelet.service kube-proxy.service --no-legend | wc -l").trim(), "0");
        assert.deepEqual(remaining.map((n) => snapshot(n.name, "/var/lib/kubelet")), otherBefore, "the other nodes are untouched");
        const stillReady = kubectlJson("get", "nodes").items.map((n: any) => [n.metadata.name, n.status.conditions.find((c: any) => c.type === "Ready").status]);
        assert.deepEqual(stillReady.sort(), remaining.map((n) => [n.name, "True"]).sort());
        for (const c of gone) {
            applied.delete(c.name);
        }
    });

    it("12. destroy: the cluster lets go of every node and the token; every node is left as it was before the first run", async () => {
        if (applied.size === 0) {
            await atBaseline();
        }
        await lr.teardown(applied.values());
        assert.equal(kubectl("get", "nodes", "-o", "name").trim(), "", "no Node is left");
        assert.equal(kubectl("-n", "kube-system", "get", "secrets", "--field-selector", "type=bootstrap.kubernetes.io/token", "-o", "name").trim(), "");
        assert.equal(kubectl("get", "clusterrolebindings", "-o", "name").split("\n").filter((l) => l.includes("hardway-")).length, 0);
        for (const n of nodes) {
            assert.deepEqual(diffLines(lr.pristine.get(n.name)!, snapshot(n.name)), [], `${n.name} differs from its snapshot`);
        }
        applied.clear();
        overrides = {};
    });

    it("13. interrupted run: killed midway, run again, it converges like an uninterrupted run", async () => {
        // From clean nodes.
        await clean();
        const worker1 = [...commandsOf(first, nodes.map((n) => n.name)).values()].filter((c) => c.node === "worker1");
        await lr.mustRun(worker1.find((c) => c.phase === "system")!, "create");
        await lr.mustRun(worker1.find((c) => c.phase === "containerd-install")!, "create");
        const killed = await lr.run(worker1.find((c) => c.phase === "binaries")!, "create", { killAfterStderr: /downloading/ });
        assert.notEqual(killed.status, 0, "the run was cut off");
        await lr.apply(worker1);
        checkFiles("worker1");
        await lr.destroy(worker1);
        assert.deepEqual(diffLines(lr.pristine.get("worker1")!, snapshot("worker1")), []);
    });

    it("14. secrets: no private key or token in any command text, command output, node journal or shell history", () => {
        const secrets: string[] = [lr.ca.keyPem, fs.readFileSync(lab().sshPrivateKeyFile, "utf8"), fs.readFileSync(readLabCluster()!.adminKeyFile, "utf8")];
        for (const r of first.mocks.ofType("tls:index/privateKey:PrivateKey")) {
            secrets.push(r.state.privateKeyPem);
        }
        const token: string = first.outputs.bootstrapToken;
        assert.match(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
        const needles = [
            token,
            token.split(".")[1],
            ...secrets.map((s) => s.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "").slice(0, 48)),
            ...secrets.map((s) => Buffer.from(s).toString("base64").slice(0, 48)),
        ];
        const haystacks: [string, string][] = [];
        for (const c of commandsOf(first, nodes.map((n) => n.name)).values()) {
            haystacks.push([`${c.name} create`, c.create], [`${c.name} delete`, c.delete]);
        }
        lr.outputs.forEach((o, i) => haystacks.push([`command output #${i}`, o.stdout + o.stderr]));
        for (const n of nodes) {
            haystacks.push([`${n.name} journal`, nodeExec(n.name, "journalctl --no-pager -o cat 2>/dev/null || true")]);
            haystacks.push([`${n.name} shell history`, nodeExec(n.name, "cat /root/.bash_history 2>/dev/null || true")]);
        }
        const found = (text: string) => needles.filter((needle) => text.replace(/\s+/g, "").includes(needle.replace(/\s+/g, "")));
        for (const [where, text] of haystacks) {
            assert.deepEqual(found(text), [], `a secret appears in ${where}`);
        }
        // The search finds them where they do travel: each node's kubelet and kube-proxy stdin carries its keys
        // (base64), and the kubelet's its bootstrap kubeconfig with the token.
        for (const c of commandsOf(first, nodes.map((n) => n.name)).values()) {
            if (c.phase === "kubelet" || c.phase === "kube-proxy") {
                assert.ok(found(c.stdin).length > 0, `the search finds the secrets in ${c.name}'s stdin`);
            }
        }
        // And the places it searched hold what the runs left there: every node's journal has its units' lines,
        // and the command outputs hold every node's runs.
        for (const n of nodes) {
            const journal = haystacks.find(([where]) => where === `${n.name} journal`)![1];
            assert.match(journal, /kubelet\.service/, `${n.name}'s journal was read`);
        }
        const systemRuns = lr.outputs.filter((o) => /^HW_FACTS \{"gid":"\d+","family":"debian"\}$/m.test(o.stdout));
        assert.ok(systemRuns.length >= nodes.length, `the outputs searched include every node's system run (${systemRuns.length})`);
    });
});
