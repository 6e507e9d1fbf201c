/**
 * Drift, end to end on the lab: something is changed on a node or in the
 * cluster behind the program's back; `pulumi refresh` (every dynamic
 * resource's read, as the engine calls it) reports exactly that; `pulumi up
 * --refresh` runs exactly the commands of the phase that owns it, which
 * restart only the service that reads what was repaired; the next refresh
 * changes nothing and the node's check reports nothing.
 *
 * The stack is provisioned once; each case starts by converging worker1
 * (all its commands, as they are now) and refreshing, so that it owes
 * nothing to the case before it.
 */
import { strict as assert } from "assert";
import { LabNode } from "../../scripts/labstack";
import { checkNode } from "../../providers/nodeState";
import { updateDynamic } from "../support/dynamic";
import { restartedUnits, unitStarts } from "./checks";
import { Cmd, LIFECYCLE, LabRun, REGISTRATION, commandsOf, dynamicsOf, kubectl } from "./harness";
import { RunResult, nodeExec } from "./lab";

describe("e2e: drift on the lab's nodes and cluster, seen by refresh and repaired by up --refresh", function () {
    this.timeout(20 * 60 * 1000);
    const lr = new LabRun();
    let nodes: LabNode[];
    let worker1: LabNode;
    let applied: Map<string, Cmd>;
    let tokenId: string;

    before(async () => {
        await lr.start();
        nodes = lr.nodes;
        worker1 = nodes.find((n) => n.name === "worker1")!;
        const first = await lr.program();
        tokenId = first.outputs.bootstrapTokenId;
        applied = await lr.provision(first);
    });

    after(async () => {
        if (applied) {
            await lr.teardown(applied.values());
        }
    });

    /** `pulumi refresh`: the names of the dynamic resources whose outputs changed. */
    const refreshChanged = async () =>
        [...(await lr.refresh())].filter(([, r]) => JSON.stringify(r.before) !== JSON.stringify(r.after)).map(([name]) => name).sort();

    beforeEach(async () => {
        // Converged: worker1's commands as they are now, then a refresh that finds nothing new.
        await lr.apply([...applied.values()].filter((c) => c.node === "worker1"));
        await lr.refresh();
        assert.deepEqual((await checkNode(lr.dynamics.get("worker1-state")!.outs)).items, [], "worker1 starts converged");
    });

    /**
     * `pulumi up --refresh` after the refresh: the program reads the refreshed
     * drift; the commands whose text changed run; the token registration and
     * the memberships update where their diff says so. Returns what ran.
     */
    async function upAfterRefresh(): Promise<{ ran: Map<string, RunResult>; updated: string[] }> {
        const run = await lr.program();
        const now = commandsOf(run, nodes.map((n) => n.name));
        const differ = [...now.values()].filter((c) => c.create !== applied.get(c.name)!.create || c.stdin !== applied.get(c.name)!.stdin);
        const ran = await lr.apply(differ);
        for (const c of differ) {
            applied.set(c.name, c);
        }
        const updated: string[] = [];
        for (const r of [...dynamicsOf(run, REGISTRATION).values(), ...dynamicsOf(run, LIFECYCLE).values()]) {
            if (await updateDynamic(lr.dynamics.get(r.name)!, r)) {
                updated.push(r.name);
            }
        }
        return { ran, updated: updated.sort() };
    }

    /** What worker1's NodeState now says of `phase`. */
    const driftOf = (phase: string) => lr.dynamics.get("worker1-state")!.outs.drift[phase] as string;

    /**
     * One node-side case: `breakIt` on worker1; the refresh changes exactly
     * worker1's NodeState, whose `phase` now names exactly `item`; up runs
     * exactly worker1's `command`, which writes `writes` and restarts
     * `restarts`; systemd restarts `propagated` with them (units that
     * require a restarted one); the next refresh changes nothing.
     */
    async function nodeCase(breakIt: string, phase: string, item: string, command: string, writes: string[], restarts: string[], propagated: string[] = []) {
        const starts = unitStarts(nodes);
        nodeExec("worker1", breakIt);
        const changed = await refreshChanged();
        // A stopped kubelet may also have made the Node NotReady by now: then its membership waits for it again.
        assert.deepEqual(changed.filter((n) => n !== "worker1-membership"), ["worker1-state"], "the refresh changed worker1's NodeState only");
        assert.match(driftOf(phase), new RegExp(`^run \\S+: ${item.replace(/[.]/g, "\\.")}$`), `worker1's ${phase} drift`);
        const { ran, updated } = await upAfterRefresh();
        assert.deepEqual([...ran.keys()], [command], "exactly the phase that owns the drift ran");
        const r = ran.get(command)!;
        assert.deepEqual(r.stderr.match(/writing .*/g) ?? [], writes.map((w) => `writing ${w}`));
        assert.deepEqual(r.stdout.match(/HW_RESTARTED .*/g) ?? [], restarts.map((u) => `HW_RESTARTED ${u}.service`));
        const restarted = ["containerd", "kubelet", "kube-proxy"].filter((u) => restarts.includes(u) || propagated.includes(u));
        assert.deepEqual(restartedUnits(starts, unitStarts(nodes)), Object.fromEntries(nodes.map((n) => [n.name, n.name === "worker1" ? restarted : []])));
        // A repaired kubelet or kube-proxy command waits for the node again; nothing else updates.
        assert.deepEqual(updated, command === "worker1-kubelet" || command === "worker1-kube-proxy" ? ["worker1-membership"] : []);
        assert.deepEqual(await refreshChanged(), [], "the next refresh changes nothing");
        assert.deepEqual((await checkNode(lr.dynamics.get("worker1-state")!.outs)).items, [], "and the node's check reports nothing");
    }

    it("1. kubelet-config.yaml edited: the kubelet phase rewrites it and restarts the kubelet only", async () => {
        await nodeCase(
            "printf '# edited by hand\\n' >>/etc/kubernetes/kubelet-config.yaml",
            "kubelet",
            "/etc/kubernetes/kubelet-config.yaml: content",
            "worker1-kubelet",
            ["/etc/kubernetes/kubelet-config.yaml"],
            ["kubelet"],
        );
    });

    it("2. kube-proxy.kubeconfig deleted: the kube-proxy phase writes it and restarts kube-proxy only", async () => {
        await nodeCase(
            "rm /etc/kubernetes/kube-proxy.kubeconfig",
            "kube-proxy",
            "/etc/kubernetes/kube-proxy.kubeconfig: missing",
            "worker1-kube-proxy",
            ["/etc/kubernetes/kube-proxy.kubeconfig"],
            ["kube-proxy"],
        );
    });

    it("3. the kubelet's private key made world-readable (chmod 644): the kubelet phase puts it back to 0600 and restarts the kubelet only", async () => {
        await nodeCase(
            "chmod 644 /etc/kubernetes/pki/kubelet.key",
            "kubelet",
            "/etc/kubernetes/pki/kubelet.key: mode",
            "worker1-kubelet",
            ["/etc/kubernetes/pki/kubelet.key"],
            ["kubelet"],
        );
        assert.equal(nodeExec("worker1", "stat -c %a /etc/kubernetes/pki/kubelet.key").trim(), "600");
    });

    it("4. kubelet stopped: the kubelet phase starts it, writing nothing", async () => {
        await nodeCase("systemctl stop kubelet", "kubelet", "kubelet.service: inactive", "worker1-kubelet", [], ["kubelet"]);
        assert.equal(nodeExec("worker1", "systemctl is-active kubelet").trim(), "active");
    });

    it("5. kube-proxy disabled: the kube-proxy phase enables it, writing and restarting nothing", async () => {
        await nodeCase("systemctl disable --quiet kube-proxy", "kube-proxy", "kube-proxy.service: disabled", "worker1-kube-proxy", [], []);
        assert.equal(nodeExec("worker1", "systemctl is-enabled kube-proxy").trim(), "enabled");
    });

    it("6. the gid in config.toml changed: the containerd phase rewrites it and restarts containerd only (systemd restarts the kubelet with it: Requires=containerd.service)", async () => {
        await nodeCase(
            "sed -i -E 's/^([[:space:]]*gid = )[0-9]+/\\10/' /etc/containerd/config.toml && grep -q 'gid = 0' /etc/containerd/config.toml",
            "containerd",
            "/etc/containerd/config.toml: content",
            "worker1-containerd-config",
            ["/etc/containerd/config.toml"],
            ["containerd"],
            ["kubelet"],
        );
    });

    it("7. the bootstrap-token Secret deleted: the token registration applies it again; no node command runs", async () => {
        kubectl("-n", "kube-system", "delete", "secret", `bootstrap-token-${tokenId}`);
        assert.deepEqual(await refreshChanged(), ["bootstrap-registration"], "the refresh changed the token registration only");
        assert.deepEqual(lr.dynamics.get("bootstrap-registration")!.outs.missing, [`Secret kube-system/bootstrap-token-${tokenId}`]);
        const { ran, updated } = await upAfterRefresh();
        assert.deepEqual([...ran.keys()], []);
        assert.deepEqual(updated, ["bootstrap-registration"]);
        assert.equal(kubectl("-n", "kube-system", "get", "secret", `bootstrap-token-${tokenId}`, "-o", "name").trim(), `secret/bootstrap-token-${tokenId}`);
        assert.deepEqual(await refreshChanged(), [], "the next refresh changes nothing");
    });

    it("8. a node that does not answer: the refresh fails within the connect timeout, naming the node and its address", async () => {
        const state = lr.dynamics.get("worker1-state")!;
        // An address on the lab's bridge that no node has.
        const gone = { ...state.outs, connection: { ...state.outs.connection, host: "10.240.0.250" } };
        const started = Date.now();
        await assert.rejects(state.provider.read!(state.id, gone), (e: Error) => {
            assert.match(e.message, /^node worker1 \(root@10\.240\.0\.250:22\): the drift check could not run: .*; its last known state is kept, and this refresh fails rather than report no drift$/);
            return true;
        });
        // The connect timeout is 15 s; a generous bound that still tells a hang from a timeout.
        assert.ok(Date.now() - started < 120_000, "it gave up within two minutes");
    });
});
