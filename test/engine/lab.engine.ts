/**
 * The engine suite: the real Pulumi CLI runs this program against the lab's
 * four nodes and its control plane, through the Automation API, on a file
 * backend, as a user runs it. It needs the command, tls and random plugins
 * installed where a normal Pulumi install has them (test/engine/run.sh
 * checks, and skips the suite with one line where they are not).
 *
 * The steps are one stack's life, in order: preview, up, no-op, refresh,
 * changes, rotation, removal, a killed CLI, secrets, destroy. Each step
 * starts from the state the one before left (mocha runs it with bail).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import { Stack } from "@pulumi/pulumi/automation";
import { LabNode, labConfig, readLabCluster } from "../../scripts/labstack";
import {
    checkCertificates,
    checkClusterNodes,
    checkContainerdAndUnits,
    checkFiles,
    checkKubeProxyRules,
    checkKubeletServing,
    checkNothingRejected,
    checkTlsBootstrapping,
    fileMtimes,
    readiness,
    restartedUnits,
    unitStarts,
} from "../e2e/checks";
import { LabRun, diffLines, kubectl, rawLabConfig, snapshot } from "../e2e/harness";
import { lab, nodeExec, sshSessions } from "../e2e/lab";
import { runProgram } from "../support/program";
import { ProgramMocks } from "../support/mocks";
import { EventLog, cmdline, descendants, engineStack, nameOf, removeStack, replaceConfig, runCli, spawnCli, stepList, stepsOf, upSucceeds } from "./engine";

const STACK = "engine";
const HOUR = 3600 * 1000;

describe("engine: the real Pulumi CLI runs the program against the lab", function () {
    this.timeout(30 * 60 * 1000);
    const lr = new LabRun();
    const log = new EventLog();
    let nodes: LabNode[];
    let stack: Stack;
    let version: string;
    /** Private keys seen on the nodes during the run (they rotate): none may reach the state or the events. */
    const nodeKeys = new Set<string>();

    const sessions = () => Object.fromEntries(nodes.map((n) => [n.name, sshSessions(n.name)]));
    /** The stack's whole config: the lab's, with `overrides`; keys set before and not now are removed. */
    const setConfig = (overrides: Record<string, unknown> = {}, only?: LabNode[]) => replaceConfig(stack, labConfig(lab(), overrides, only));
    const collectNodeKeys = (ns: LabNode[]) => {
        for (const n of ns) {
            for (const f of ["kubelet.key", "kube-proxy.key"]) {
                nodeKeys.add(nodeExec(n.name, `cat /etc/kubernetes/pki/${f}`));
            }
        }
    };
    const ups = (s: Stack = stack) => upSucceeds(s, log);

    before(async () => {
        lr.prepare();
        nodes = lr.nodes;
        version = lab().mirror.kubernetesVersion;
        await removeStack(STACK);
        stack = await engineStack(STACK);
        await setConfig();
    });

    it("1. preview on a new stack plans every resource the program registers, and opens no SSH session", async () => {
        const expected = await runProgram(rawLabConfig(), new ProgramMocks(lr.ca));
        const before = sessions();
        const preview = await stack.preview({ onEvent: log.next(), color: "never" });
        // Every resource the program registers, plus the stack itself.
        assert.deepEqual(preview.changeSummary, { create: expected.mocks.resources.length + 1 });
        const planned = stepsOf(log.current).map((s) => `${s.type} ${s.name}`);
        for (const r of expected.mocks.resources) {
            assert.ok(planned.includes(`${r.type} ${r.name}`), `${r.type} ${r.name} is planned`);
        }
        assert.deepEqual(sessions(), before, "preview connected to no node");
    });

    it("2. up brings all four nodes Ready, with the emulated suite's node checks", async () => {
        const before = sessions();
        const result = await ups();
        assert.equal(result.summary.resourceChanges?.create, stepsOf(log.current).length);
        const opened = Object.fromEntries(nodes.map((n) => [n.name, sessions()[n.name] - before[n.name]]));
        // One SSH session per remote command: system, binaries, containerd install and config, kubelet, kube-proxy.
        assert.deepEqual(opened, Object.fromEntries(nodes.map((n) => [n.name, 6])), "SSH sessions per node during the first up");
        for (const n of nodes) {
            checkFiles(n.name);
        }
        checkCertificates(nodes);
        checkContainerdAndUnits(nodes);
        checkClusterNodes(nodes, version);
        const outputs = await stack.outputs();
        checkTlsBootstrapping(nodes, outputs["bootstrapTokenId"].value);
        await checkKubeletServing(nodes);
        checkKubeProxyRules(nodes);
        checkNothingRejected(nodes);
        collectNodeKeys(nodes);
    });

    it("3. a second up and `preview --expect-no-changes` change nothing and open no SSH session", async () => {
        const before = sessions();
        const mtimes = nodes.map((n) => fileMtimes(n.name));
        const result = await ups();
        assert.deepEqual(stepList(log.current), [], "the second up took no step");
        assert.deepEqual(Object.keys(result.summary.resourceChanges ?? {}), ["same"]);
        await stack.preview({ expectNoChanges: true, onEvent: log.next(), color: "never" });
        assert.deepEqual(sessions(), before, "no SSH session");
        assert.deepEqual(nodes.map((n) => fileMtimes(n.name)), mtimes, "no file was rewritten");
    });

    it("4. refresh, then `preview --expect-no-changes`: no spurious diff", async () => {
        const refreshed = await stack.refresh({ onEvent: log.next(), color: "never" });
        assert.equal(refreshed.summary.result, "succeeded");
        assert.deepEqual(stepList(log.current, ["update", "delete", "create", "replace"]), []);
        await stack.preview({ expectNoChanges: true, onEvent: log.next(), color: "never" });
    });

    /** The outputs of one resource in the stack's state, by name. */
    const outputsOf = async (name: string) => {
        const state = await stack.exportStack();
        const r = (state.deployment.resources ?? []).find((x: any) => nameOf(x.urn) === name);
        assert.ok(r, `${name} is in the state`);
        return r.outputs;
    };

    /**
     * A drift case with the real CLI: `breakIt` on a node (or the cluster);
     * a preview without --refresh sees nothing and opens no SSH session;
     * `pulumi refresh` records exactly `expected` in `resource`'s output
     * `field`; `pulumi up --refresh` updates exactly `steps` and restarts
     * exactly `restarts` on worker1; then `preview --refresh
     * --expect-no-changes` passes.
     */
    async function driftCase(breakIt: () => void, resource: string, field: (outs: any) => unknown, expected: RegExp | unknown, steps: string[], restarts: string[]) {
        const starts = unitStarts(nodes);
        const before = await outputsOf(resource);
        breakIt();
        const quiet = sessions();
        await stack.preview({ expectNoChanges: true, onEvent: log.next(), color: "never" });
        assert.deepEqual(sessions(), quiet, "without --refresh: no change, no SSH session");
        await stack.refresh({ onEvent: log.next(), color: "never" });
        const seen = field(await outputsOf(resource));
        if (expected instanceof RegExp) {
            assert.match(String(seen), expected);
        } else {
            assert.deepEqual(seen, expected);
        }
        assert.notDeepEqual(await outputsOf(resource), before, "the refresh changed its outputs");
        const result = await stack.up({ refresh: true, onEvent: log.next(), color: "never" });
        assert.equal(result.summary.result, "succeeded");
        assert.deepEqual(stepList(log.current, ["update", "create", "delete", "replace"]), steps.map((x) => `update ${x}`).sort());
        assert.deepEqual(restartedUnits(starts, unitStarts(nodes)), Object.fromEntries(nodes.map((n) => [n.name, n.name === "worker1" ? restarts : []])));
        await stack.preview({ refresh: true, expectNoChanges: true, onEvent: log.next(), color: "never" });
    }

    it("drift 1. kubelet-config.yaml edited: refresh shows it, up --refresh runs the kubelet phase and restarts the kubelet only", async () => {
        await driftCase(
            () => nodeExec("worker1", "printf '# edited by hand\\n' >>/etc/kubernetes/kubelet-config.yaml"),
            "worker1-state",
            (o) => o.drift.kubelet,
            /^run \S+: \/etc\/kubernetes\/kubelet-config\.yaml: content$/,
            ["worker1-kubelet", "worker1-membership"],
            ["kubelet"],
        );
    });

    it("drift 2. kube-proxy.kubeconfig deleted: up --refresh runs the kube-proxy phase and restarts kube-proxy only", async () => {
        await driftCase(
            () => nodeExec("worker1", "rm /etc/kubernetes/kube-proxy.kubeconfig"),
            "worker1-state",
            (o) => o.drift["kube-proxy"],
            /^run \S+: \/etc\/kubernetes\/kube-proxy\.kubeconfig: missing$/,
            ["worker1-kube-proxy", "worker1-membership"],
            ["kube-proxy"],
        );
    });

    it("drift 3. a private key chmod 644: up --refresh puts it back to 0600 and restarts the kubelet only", async () => {
        await driftCase(
            () => nodeExec("worker1", "chmod 644 /etc/kubernetes/pki/kubelet.key"),
            "worker1-state",
            (o) => o.drift.kubelet,
            /^run \S+: \/etc\/kubernetes\/pki\/kubelet\.key: mode$/,
            ["worker1-kubelet", "worker1-membership"],
            ["kubelet"],
        );
        assert.equal(nodeExec("worker1", "stat -c %a /etc/kubernetes/pki/kubelet.key").trim(), "600");
    });

    it("drift 4. kubelet stopped: up --refresh starts it", async () => {
        await driftCase(
            () => nodeExec("worker1", "systemctl stop kubelet"),
            "worker1-state",
            (o) => o.drift.kubelet,
            /^run \S+: kubelet\.service: inactive$/,
            ["worker1-kubelet", "worker1-membership"],
            ["kubelet"],
        );
    });

    it("drift 5. kube-proxy disabled: up --refresh enables it and restarts nothing", async () => {
        await driftCase(
            () => nodeExec("worker1", "systemctl disable --quiet kube-proxy"),
            "worker1-state",
            (o) => o.drift["kube-proxy"],
            /^run \S+: kube-proxy\.service: disabled$/,
            ["worker1-kube-proxy", "worker1-membership"],
            [],
        );
        assert.equal(nodeExec("worker1", "systemctl is-enabled kube-proxy").trim(), "enabled");
    });

    it("drift 6. the gid in config.toml changed: up --refresh rewrites it and restarts containerd (and, by its Requires=, the kubelet) only", async () => {
        await driftCase(
            () => nodeExec("worker1", "sed -i -E 's/^([[:space:]]*gid = )[0-9]+/\\10/' /etc/containerd/config.toml"),
            "worker1-state",
            (o) => o.drift.containerd,
            /^run \S+: \/etc\/containerd\/config\.toml: content$/,
            ["worker1-containerd-config"],
            ["containerd", "kubelet"],
        );
    });

    it("drift 7. the bootstrap-token Secret deleted: up --refresh registers it again", async () => {
        const tokenId = (await stack.outputs())["bootstrapTokenId"].value;
        await driftCase(
            () => kubectl("-n", "kube-system", "delete", "secret", `bootstrap-token-${tokenId}`),
            "bootstrap-registration",
            (o) => o.missing,
            [`Secret kube-system/bootstrap-token-${tokenId}`],
            ["bootstrap-registration"],
            [],
        );
        assert.equal(kubectl("-n", "kube-system", "get", "secret", `bootstrap-token-${tokenId}`, "-o", "name").trim(), `secret/bootstrap-token-${tokenId}`);
    });

    it("5. a clusterCidr change updates only the kube-proxy commands and the memberships, and restarts only kube-proxy", async () => {
        await setConfig({ clusterCidr: "10.200.0.0/16" });
        const starts = unitStarts(nodes);
        await ups();
        assert.deepEqual(
            stepList(log.current),
            nodes.flatMap((n) => [`update ${n.name}-kube-proxy`, `update ${n.name}-membership`]).sort(),
        );
        assert.deepEqual(restartedUnits(starts, unitStarts(nodes)), Object.fromEntries(nodes.map((n) => [n.name, ["kube-proxy"]])));
        for (const n of nodes) {
            assert.match(nodeExec(n.name, "cat /etc/kubernetes/kubeproxy-config.yaml"), /clusterCIDR: "?10\.200\.0\.0\/16"?/);
        }
    });

    it("6. a kubelet setting (clusterDns) restarts only the kubelet, and the nodes are Ready again before up returns", async () => {
        await setConfig({ clusterCidr: "10.200.0.0/16", clusterDns: "10.96.0.53" });
        const starts = unitStarts(nodes);
        await ups();
        assert.deepEqual(readiness(), nodes.map((n): [string, string] => [n.name, "True"]).sort(), "Ready when up returned");
        assert.deepEqual(
            stepList(log.current),
            nodes.flatMap((n) => [`update ${n.name}-kubelet`, `update ${n.name}-membership`]).sort(),
        );
        assert.deepEqual(restartedUnits(starts, unitStarts(nodes)), Object.fromEntries(nodes.map((n) => [n.name, ["kubelet"]])));
        for (const n of nodes) {
            assert.match(nodeExec(n.name, "cat /etc/kubernetes/kubelet-config.yaml"), /- 10\.96\.0\.53/);
        }
    });

    it("7. rotation: inside the renewal window, up re-issues the expiring certificates, restarts only their services, and the nodes stay Ready", async () => {
        const config = { clusterCidr: "10.200.0.0/16", clusterDns: "10.96.0.53" };
        // Every node certificate has the default 8760 h validity and renews 720 h before: 8050 h on, all are in their window.
        const later = new Date(Date.now() + 8050 * HOUR).toISOString();
        const rotating = await engineStack(STACK, { HARDWAY_NOW: later });
        const oldSerials = nodes.map((n) => nodeExec(n.name, "openssl x509 -noout -serial -in /etc/kubernetes/pki/kubelet.crt"));
        const starts = unitStarts(nodes);
        await ups(rotating);
        const certs = nodes.flatMap((n) => [`${n.name}-kubelet-serving`, `${n.name}-kube-proxy-client`]);
        // Each certificate's renewal, key, request and certificate are replaced; the nodes' kubelet and kube-proxy commands roll them out.
        const replaced = certs.flatMap((c) => [`${c}-renewal`, `${c}-key`, `${c}-csr`, `${c}-cert`]);
        assert.deepEqual(stepList(log.current, ["replace"]), replaced.map((r) => `replace ${r}`).sort());
        assert.deepEqual(
            stepList(log.current, ["update"]),
            nodes.flatMap((n) => [`update ${n.name}-kubelet`, `update ${n.name}-kube-proxy`, `update ${n.name}-membership`]).sort(),
        );
        assert.deepEqual(restartedUnits(starts, unitStarts(nodes)), Object.fromEntries(nodes.map((n) => [n.name, ["kubelet", "kube-proxy"]])));
        assert.deepEqual(readiness(), nodes.map((n): [string, string] => [n.name, "True"]).sort());
        const newSerials = nodes.map((n) => nodeExec(n.name, "openssl x509 -noout -serial -in /etc/kubernetes/pki/kubelet.crt"));
        nodes.forEach((n, i) => assert.notEqual(newSerials[i], oldSerials[i], `${n.name} serves a new certificate`));
        checkCertificates(nodes);
        collectNodeKeys(nodes);
        // The new certificates are not in their window: at the same time, nothing more rotates.
        const again = await rotating.preview({ onEvent: log.next(), color: "never" });
        assert.deepEqual(again.changeSummary, { same: again.changeSummary.same }, "nothing is due a second time");
        await setConfig(config);
    });

    it("8. removing worker2 drains and deletes it, cleans its host back to its snapshot, and leaves the other nodes untouched", async () => {
        const remaining = nodes.filter((n) => n.name !== "worker2");
        const otherBefore = remaining.map((n) => snapshot(n.name, "/var/lib/kubelet"));
        // A pod bound to worker2, which the drain must evict (no scheduler in the lab: bound by name).
        kubectl("-n", "default", "run", "drain-me", "--image=registry.invalid/pause:none", "--restart=Never", "--overrides", JSON.stringify({ spec: { nodeName: "worker2" } }));
        await setConfig({ clusterCidr: "10.200.0.0/16", clusterDns: "10.96.0.53" }, remaining);
        await ups();
        const steps = stepsOf(log.current);
        assert.deepEqual([...new Set(steps.map((s) => s.op))], ["delete"], "only deletes");
        assert.ok(steps.every((s) => s.name === "worker2" || s.name.startsWith("worker2-")), `only worker2's resources: ${steps.map((s) => s.name).join(", ")}`);
        // The engine deleted the membership (cordon, drain, delete the Node) before the commands that clean the host.
        const order = steps.map((s) => s.name);
        assert.ok(order.indexOf("worker2-membership") < order.indexOf("worker2-kubelet"), order.join(", "));
        assert.equal(kubectl("get", "nodes", "-o", "name").split("\n").filter((l) => l === "node/worker2").length, 0, "the Node object is gone");
        assert.equal(kubectl("-n", "default", "get", "pods", "--ignore-not-found", "-o", "name").trim(), "", "the drain evicted the pod");
        assert.deepEqual(diffLines(lr.pristine.get("worker2")!, snapshot("worker2")), [], "worker2 is as it was before the first run");
        assert.deepEqual(remaining.map((n) => snapshot(n.name, "/var/lib/kubelet")), otherBefore, "the other nodes are untouched");
        assert.deepEqual(readiness(), remaining.map((n): [string, string] => [n.name, "True"]).sort());
        nodes = remaining;
    });

    it("9. the CLI killed (SIGKILL) in the middle of an update: `pulumi cancel`, then `up`, converges; no process of ours is left over", async () => {
        await setConfig({ clusterCidr: "10.200.0.0/16" }, nodes); // clusterDns back to the default: the kubelets update
        const cli = spawnCli(["up", "--yes", "--skip-preview", "--non-interactive", "--color", "never", "--stack", STACK]);
        let output = "";
        let below: number[] = [];
        await new Promise<void>((resolve, reject) => {
            const onData = (d: Buffer) => {
                output += d;
                // Kill while the kubelet commands are being updated on the nodes.
                if (/-kubelet\s+updating/.test(output) && below.length === 0) {
                    below = descendants(cli.pid!);
                    cli.kill("SIGKILL");
                }
            };
            cli.stdout!.on("data", onData);
            cli.stderr!.on("data", onData);
            cli.on("close", () => resolve());
            cli.on("error", reject);
        });
        assert.ok(below.length > 0, `the CLI was killed mid-update:\n${output}`);
        // The README's recovery: `pulumi cancel` (the killed CLI left its lock), then `pulumi up`.
        const cancel = await runCli(["cancel", "--yes", "--stack", STACK]);
        assert.equal(cancel.status, 0, cancel.output);
        await ups();
        await stack.preview({ expectNoChanges: true, onEvent: log.next(), color: "never" });
        for (const n of nodes) {
            assert.match(nodeExec(n.name, "cat /etc/kubernetes/kubelet-config.yaml"), /- 10\.96\.0\.10/);
        }
        assert.deepEqual(readiness(), nodes.map((n): [string, string] => [n.name, "True"]).sort());
        // Every process of ours that the killed CLI had started goes within a minute: the language host,
        // the program, and the dynamic provider host that runs our providers (providers/engineWatch.ts).
        const ours = /pulumi-language-nodejs|dynamic-provider|pulumi-resource-pulumi-nodejs|cmd\/run/;
        // (a zombie, already exited, has an empty command line)
        const alive = () => below.map((p) => [p, cmdline(p)] as const).filter(([, c]) => c !== undefined && c !== "") as [number, string][];
        const deadline = Date.now() + 60_000;
        while (alive().some(([, c]) => ours.test(c)) && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 2000));
        }
        assert.deepEqual(alive().filter(([, c]) => ours.test(c)), [], "our processes of the killed CLI still running");
        // The command and tls plugins do not watch the engine and outlive it (upstream behaviour; random's
        // does, every 5 minutes): the README's recovery ends them, and so does this test.
        for (const [pid, c] of alive()) {
            process.stdout.write(`      (ending a plugin the killed CLI left: ${c})\n`);
            process.kill(pid, "SIGTERM");
        }
    });

    it("10. neither `pulumi stack export` nor the engine's events hold a private key, the CA key, the SSH key or the token", async () => {
        // `pulumi stack export` as a user runs it (the Automation API's exportStack shows secrets).
        const exported = await runCli(["stack", "export", "--stack", STACK]);
        assert.equal(exported.status, 0, exported.output);
        const state = exported.output;
        assert.match(state, /"ciphertext"/, "the state holds encrypted secrets");
        const outputs = await stack.outputs();
        const token: string = outputs["bootstrapToken"].value;
        assert.match(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
        const pems = [
            fs.readFileSync(lab().caKeyFile, "utf8"),
            fs.readFileSync(lab().sshPrivateKeyFile, "utf8"),
            fs.readFileSync(readLabCluster()!.adminKeyFile, "utf8"),
            ...nodeKeys,
        ];
        assert.ok(nodeKeys.size >= 16, "the node keys of the first issue and of the rotation");
        const needles = [token.split(".")[1], ...pems.map((s) => s.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "").slice(0, 48))];
        const events = JSON.stringify(log.all);
        for (const [where, text] of [["the exported state", state], ["the engine's events", events]] as const) {
            const flat = text.replace(/\\n|\s+/g, "");
            needles.forEach((needle, i) => assert.ok(!flat.includes(needle), `secret #${i} appears in ${where}`));
        }
        assert.ok(state.includes("bootstrap-registration") && log.all.length > 100, "the state and the events were read");
    });

    it("11. destroy leaves every node equal to its pre-run snapshot, and no Node, token Secret or binding", async () => {
        const result = await stack.destroy({ onEvent: log.next(), color: "never" });
        assert.equal(result.summary.result, "succeeded");
        assert.equal(kubectl("get", "nodes", "-o", "name").trim(), "", "no Node is left");
        assert.equal(kubectl("-n", "kube-system", "get", "secrets", "--field-selector", "type=bootstrap.kubernetes.io/token", "-o", "name").trim(), "");
        assert.equal(kubectl("get", "clusterrolebindings", "-o", "name").split("\n").filter((l) => l.includes("hardway-")).length, 0);
        for (const n of lr.nodes) {
            assert.deepEqual(diffLines(lr.pristine.get(n.name)!, snapshot(n.name)), [], `${n.name} differs from its snapshot`);
        }
        await removeStack(STACK);
    });
});
