/**
 * End to end on the lab's four real systemd nodes (real sshd, containerd,
 * systemd), with the program's own commands.
 *
 * The Pulumi engine cannot drive these commands here: the Go module proxy
 * refuses the command, tls and random provider modules (see the README), so
 * no plugin for them can be built on these machines. This suite therefore
 * takes each remote command exactly as the program registers it (run under
 * mocks whose tls outputs are real certificates signed by the lab CA, and
 * whose facts are the ones the nodes really printed) and runs it over SSH the
 * way the command provider does: the text to the login shell, secrets on
 * stdin, the host key pinned. It applies them in the program's dependency
 * order, and deletes them in reverse, as the engine would.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LabNode, labConfig } from "../../scripts/labstack";
import { ProgramMocks } from "../support/mocks";
import { ProgramRun, runProgram } from "../support/program";
import { containerdInstallScript, systemScript } from "../../components/scripts/node";
import { RunResult, lab, labScript, nodeExec, sshRun } from "./lab";

const PHASES = ["system", "binaries", "containerd-install", "containerd-config", "kubelet", "kube-proxy"] as const;

interface Cmd {
    name: string;
    node: string;
    phase: (typeof PHASES)[number];
    create: string;
    delete: string;
    stdin: string;
}

function commandsOf(run: ProgramRun, nodes: string[]): Map<string, Cmd> {
    const out = new Map<string, Cmd>();
    for (const r of run.mocks.ofType("command:remote:Command")) {
        const node = nodes.find((n) => PHASES.some((p) => r.name === `${n}-${p}`));
        assert.ok(node, `command ${r.name} belongs to no node`);
        const phase = PHASES.find((p) => r.name === `${node}-${p}`)!;
        out.set(r.name, { name: r.name, node, phase, create: r.inputs.create, delete: r.inputs.delete, stdin: r.inputs.stdin ?? "" });
    }
    return out;
}

/** Raw stack config values for the lab (the `lab` stack's own config). */
function rawLabConfig(overrides: Record<string, unknown> = {}, nodes?: LabNode[]): Record<string, unknown> {
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

function snapshot(node: string): string {
    process.env["SNAPSHOT_EXCLUDE"] = SNAPSHOT_EXCLUDE;
    return labScript("snapshot.sh", node);
}

function diffLines(before: string, after: string): string[] {
    const a = new Set(before.split("\n"));
    const b = new Set(after.split("\n"));
    return [...[...a].filter((l) => !b.has(l)).map((l) => `- ${l}`), ...[...b].filter((l) => !a.has(l)).map((l) => `+ ${l}`)];
}

describe("e2e: the program's commands on the lab's real nodes", function () {
    this.timeout(20 * 60 * 1000);
    const memory = new Map<string, Record<string, any>>();
    let nodes: LabNode[];
    let ca: { certPem: string; keyPem: string };
    const pristine = new Map<string, string>();
    const facts: Record<string, string> = {};
    let first: ProgramRun;
    let applied: Map<string, Cmd>;
    const outputs: RunResult[] = [];

    async function run(cmd: Cmd, which: "create" | "delete", opts = {}): Promise<RunResult> {
        const node = nodes.find((n) => n.name === cmd.node)!;
        const r = await sshRun(node, which === "create" ? cmd.create : cmd.delete, which === "create" ? cmd.stdin : "", opts);
        outputs.push(r);
        return r;
    }

    async function mustRun(cmd: Cmd, which: "create" | "delete"): Promise<RunResult> {
        const r = await run(cmd, which);
        assert.equal(r.status, 0, `${cmd.name} ${which} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
        return r;
    }

    /** Applies commands per node in the program's order (nodes in parallel); returns results by name. */
    async function apply(cmds: Iterable<Cmd>): Promise<Map<string, RunResult>> {
        const results = new Map<string, RunResult>();
        const byNode = new Map<string, Cmd[]>();
        for (const c of cmds) {
            byNode.set(c.node, [...(byNode.get(c.node) ?? []), c]);
        }
        await Promise.all(
            [...byNode.values()].map(async (list) => {
                for (const phase of PHASES) {
                    for (const c of list.filter((x) => x.phase === phase)) {
                        results.set(c.name, await mustRun(c, "create"));
                    }
                }
            }),
        );
        return results;
    }

    async function destroy(cmds: Iterable<Cmd>): Promise<void> {
        const byNode = new Map<string, Cmd[]>();
        for (const c of cmds) {
            byNode.set(c.node, [...(byNode.get(c.node) ?? []), c]);
        }
        await Promise.all(
            [...byNode.values()].map(async (list) => {
                for (const phase of [...PHASES].reverse()) {
                    for (const c of list.filter((x) => x.phase === phase)) {
                        await mustRun(c, "delete");
                    }
                }
            }),
        );
    }

    async function program(overrides: Record<string, unknown> = {}, only?: LabNode[]): Promise<ProgramRun> {
        const mocks = new ProgramMocks(ca, memory);
        mocks.stdoutByName = facts;
        return runProgram(rawLabConfig(overrides, only), mocks);
    }

    before(async () => {
        // up.sh is idempotent: it builds or starts whatever of the lab is missing (image, mirror, nodes).
        labScript("up.sh");
        labScript("reset.sh");
        const l = lab();
        nodes = l.nodes;
        ca = { certPem: fs.readFileSync(l.caCertFile, "utf8"), keyPem: fs.readFileSync(l.caKeyFile, "utf8") };
        for (const n of nodes) {
            pristine.set(n.name, snapshot(n.name));
        }
        // The commands whose output the program reads (facts) run first, as the engine runs them first.
        await Promise.all(
            nodes.map(async (n) => {
                for (const [phase, text] of [
                    ["system", systemScript()],
                    ["containerd-install", containerdInstallScript()],
                ] as const) {
                    const r = await sshRun(n, text);
                    assert.equal(r.status, 0, `${n.name}-${phase}: ${r.stderr}`);
                    outputs.push(r);
                    facts[`${n.name}-${phase}`] = r.stdout;
                }
            }),
        );
        first = await program();
        applied = commandsOf(first, nodes.map((n) => n.name));
        for (const n of nodes) {
            assert.equal(applied.get(`${n.name}-system`)!.create, systemScript(), "the program's system command is the one that ran");
        }
        await apply([...applied.values()].filter((c) => c.phase !== "system" && c.phase !== "containerd-install"));
    });

    const EXPECTED: [string, string, string, string, string][] = [
        ["/etc/kubernetes", "directory", "755", "kubernetes", "kubernetes"],
        ["/etc/kubernetes/pki", "directory", "700", "kubernetes", "kubernetes"],
        ["/var/run/kubernetes", "directory", "755", "kubernetes", "kubernetes"],
        ["/etc/cni/net.d", "directory", "755", "root", "root"],
        ["/opt/cni/bin", "directory", "755", "root", "root"],
        ["/usr/local/sbin/kubelet", "regular file", "755", "root", "root"],
        ["/usr/local/sbin/kube-proxy", "regular file", "755", "root", "root"],
        ["/usr/local/sbin/crictl", "regular file", "755", "root", "root"],
        ["/opt/cni/bin/loopback", "regular file", "755", "root", "root"],
        ["/opt/cni/bin/bridge", "regular file", "755", "root", "root"],
        ["/etc/containerd/config.toml", "regular file", "644", "root", "root"],
        ["/etc/cni/net.d/99-loopback.conf", "regular file", "644", "root", "root"],
        ["/etc/kubernetes/bootstrap.kubeconfig", "regular file", "600", "root", "root"],
        ["/etc/kubernetes/kubelet-config.yaml", "regular file", "644", "root", "root"],
        ["/etc/kubernetes/pki/ca.crt", "regular file", "644", "root", "root"],
        ["/etc/kubernetes/pki/kubelet.crt", "regular file", "644", "root", "root"],
        ["/etc/kubernetes/pki/kubelet.key", "regular file", "600", "root", "root"],
        ["/etc/kubernetes/pki/kube-proxy.crt", "regular file", "644", "root", "root"],
        ["/etc/kubernetes/pki/kube-proxy.key", "regular file", "600", "root", "root"],
        ["/etc/kubernetes/kube-proxy.kubeconfig", "regular file", "600", "root", "root"],
        ["/etc/kubernetes/kubeproxy-config.yaml", "regular file", "644", "root", "root"],
        ["/etc/systemd/system/kubelet.service", "regular file", "644", "root", "root"],
        ["/etc/systemd/system/kube-proxy.service", "regular file", "644", "root", "root"],
        ["/etc/tmpfiles.d/hardway-kubernetes.conf", "regular file", "644", "root", "root"],
    ];

    function checkFiles(node: string): void {
        const out = nodeExec(node, `stat -c '%n|%F|%a|%U|%G' ${EXPECTED.map((e) => e[0]).join(" ")}`);
        assert.deepEqual(
            out.trim().split("\n").map((l) => l.split("|")),
            EXPECTED,
        );
        const stray = nodeExec(node, "find /etc/kubernetes /etc/cni /opt/cni /usr/local/sbin /etc/containerd /etc/systemd/system -name '*.hw-tmp' -print");
        assert.equal(stray, "", "no temp file is left behind");
    }

    it("1. files: every file and directory from the guide, with its owner, group and mode", () => {
        for (const n of nodes) {
            checkFiles(n.name);
        }
    });

    it("2. certificates: the guide's CN, O and SANs, verified against the lab CA with openssl", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hw-e2e-"));
        try {
            for (const n of nodes) {
                for (const [file, subject, purpose] of [
                    ["kubelet.crt", `CN = system:node:${n.fqdn}`, "sslserver"],
                    ["kube-proxy.crt", "CN = system:kube-proxy", "sslclient"],
                ]) {
                    const local = path.join(dir, `${n.name}-${file}`);
                    fs.writeFileSync(local, nodeExec(n.name, `cat /etc/kubernetes/pki/${file}`));
                    const text = execFileSync("openssl", ["x509", "-in", local, "-noout", "-subject", "-ext", "subjectAltName"]).toString();
                    assert.match(text, new RegExp(subject.replace(/[.]/g, "\\.")));
                    assert.match(text, file === "kubelet.crt" ? /O = system:nodes/ : /O = system:node-proxier/);
                    assert.match(text, new RegExp(`DNS:${n.fqdn.replace(/\./g, "\\.")}`));
                    assert.match(text, new RegExp(`IP Address:${n.ip.replace(/\./g, "\\.")}`));
                    execFileSync("openssl", ["verify", "-CAfile", lab().caCertFile, "-purpose", purpose, local]);
                }
                // The key on the node is the certificate's key.
                const keyMod = nodeExec(n.name, "openssl pkey -in /etc/kubernetes/pki/kubelet.key -pubout");
                const certMod = nodeExec(n.name, "openssl x509 -in /etc/kubernetes/pki/kubelet.crt -noout -pubkey");
                assert.equal(keyMod, certMod);
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("3. containerd carries the real kubernetes gid and runs; units verify and are enabled", () => {
        for (const n of nodes) {
            const gid = nodeExec(n.name, "getent group kubernetes | cut -d: -f3").trim();
            assert.match(gid, /^\d+$/);
            assert.match(nodeExec(n.name, "cat /etc/containerd/config.toml"), new RegExp(`^gid = ${gid}$`, "m"));
            assert.equal(nodeExec(n.name, "systemctl is-active containerd").trim(), "active");
            assert.equal(nodeExec(n.name, "stat -c %g /var/run/containerd/containerd.sock").trim(), gid);
            const verify = nodeExec(
                n.name,
                "systemd-analyze verify /etc/systemd/system/kubelet.service /etc/systemd/system/kube-proxy.service 2>&1; echo rc=$?",
            );
            assert.match(verify, /rc=0$/m, verify);
            assert.deepEqual(verify.split("\n").filter((l) => /kubelet\.service|kube-proxy\.service/.test(l)), [], verify);
            assert.equal(nodeExec(n.name, "systemctl is-enabled kubelet kube-proxy").trim(), "enabled\nenabled");
        }
    });

    it("4. re-run: the program registers identical commands, and running them again changes nothing", async () => {
        const again = commandsOf(await program(), nodes.map((n) => n.name));
        for (const [name, c] of applied) {
            const d = again.get(name)!;
            assert.equal(d.create, c.create, `${name}: create text changed on a re-run`);
            assert.equal(d.stdin, c.stdin, `${name}: stdin changed on a re-run`);
        }
        const mtimes = (n: string) => nodeExec(n, `stat -c '%n %Y' ${EXPECTED.map((e) => e[0]).join(" ")}`);
        const mtimesBefore = nodes.map((n) => mtimes(n.name));
        const results = await apply(again.values());
        for (const [name, r] of results) {
            assert.doesNotMatch(r.stdout, /HW_RESTARTED/, `${name} restarted something on a no-op run`);
            assert.doesNotMatch(r.stderr, /writing|downloading|installing/, `${name} changed something on a no-op run:\n${r.stderr}`);
        }
        assert.deepEqual(nodes.map((n) => mtimes(n.name)), mtimesBefore, "no file was rewritten");
    });

    it("5. change: a new clusterCidr rewrites only kubeproxy-config.yaml and restarts only kube-proxy", async () => {
        const changed = commandsOf(await program({ clusterCidr: "10.200.0.0/16" }), nodes.map((n) => n.name));
        const differ = [...changed.values()].filter((c) => c.create !== applied.get(c.name)!.create || c.stdin !== applied.get(c.name)!.stdin);
        assert.deepEqual(differ.map((c) => c.name).sort(), nodes.map((n) => `${n.name}-kube-proxy`).sort());
        const containerdStart = () => nodes.map((n) => nodeExec(n.name, "systemctl show -p ExecMainStartTimestampMonotonic containerd"));
        const startBefore = containerdStart();
        const results = await apply(differ);
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
    });

    it("6. removal: dropping worker2 from the config cleans worker2 and touches no other node", async () => {
        const remaining = nodes.filter((n) => n.name !== "worker2");
        const otherBefore = remaining.map((n) => snapshot(n.name));
        const without = commandsOf(await program({ clusterCidr: "10.200.0.0/16" }, remaining), remaining.map((n) => n.name));
        const gone = [...applied.values()].filter((c) => !without.has(c.name));
        assert.deepEqual([...new Set(gone.map((c) => c.node))], ["worker2"]);
        for (const [name, c] of without) {
            assert.equal(c.create, applied.get(name)!.create, `${name} would run again`);
        }
        await destroy(gone);
        assert.deepEqual(diffLines(pristine.get("worker2")!, snapshot("worker2")), [], "worker2 is as it was before the first run");
        assert.equal(nodeExec("worker2", "systemctl list-unit-files kubelet.service kube-proxy.service --no-legend | wc -l").trim(), "0");
        assert.deepEqual(remaining.map((n) => snapshot(n.name)), otherBefore, "the other nodes are untouched");
        for (const c of gone) {
            applied.delete(c.name);
        }
    });

    it("7. destroy: every node is left as it was before the first run", async () => {
        await destroy(applied.values());
        for (const n of nodes) {
            assert.deepEqual(diffLines(pristine.get(n.name)!, snapshot(n.name)), [], `${n.name} differs from its snapshot`);
        }
        applied.clear();
    });

    it("8. interrupted run: killed midway, run again, it converges like an uninterrupted run", async () => {
        const worker1 = [...commandsOf(first, nodes.map((n) => n.name)).values()].filter((c) => c.node === "worker1");
        await mustRun(worker1.find((c) => c.phase === "system")!, "create");
        await mustRun(worker1.find((c) => c.phase === "containerd-install")!, "create");
        const killed = await run(worker1.find((c) => c.phase === "binaries")!, "create", { killAfterStderr: /downloading/ });
        assert.notEqual(killed.status, 0, "the run was cut off");
        await apply(worker1);
        checkFiles("worker1");
        await destroy(worker1);
        assert.deepEqual(diffLines(pristine.get("worker1")!, snapshot("worker1")), []);
    });

    it("9. secrets: no private key or token in any command text, command output, node journal or shell history", () => {
        const secrets: string[] = [ca.keyPem, fs.readFileSync(lab().sshPrivateKeyFile, "utf8")];
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
        outputs.forEach((o, i) => haystacks.push([`command output #${i}`, o.stdout + o.stderr]));
        for (const n of nodes) {
            haystacks.push([`${n.name} journal`, nodeExec(n.name, "journalctl --no-pager -o cat 2>/dev/null || true")]);
            haystacks.push([`${n.name} shell history`, nodeExec(n.name, "cat /root/.bash_history 2>/dev/null || true")]);
        }
        for (const [where, text] of haystacks) {
            const flat = text.replace(/\s+/g, "");
            for (const needle of needles) {
                assert.ok(!flat.includes(needle.replace(/\s+/g, "")), `a secret appears in ${where}`);
            }
        }
        // Commands (create and delete) of every node, every command output, and each node's journal and history.
        assert.ok(haystacks.length >= nodes.length * 14, "the search covered every place");
    });
});
