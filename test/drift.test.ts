/**
 * Drift: the node library's manifests and check, run for real in a scratch
 * directory (with a stand-in systemctl); the check's report parser on the
 * reports that run printed; what NodeState keeps of them; NodeState's read
 * against an SSH server (ssh2's) with a pinned host key; and the program's
 * commands, which carry new drift of their own phase only.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { Server, utils } from "ssh2";
import { withRepairMarker } from "../components/node/command";
import { LIBRARY, LIBRARY_PATH, dirStep, fileStep, nodeScript, serviceStep, shq, stdinOf } from "../components/node/scripts";
import { NODE_PHASES } from "../components/node/workerNode";
import { CheckReport, nextDrift, parseCheckReport, repairMarker } from "../providers/driftReport";
import { NODE_LIBRARY, checkCommand, checkNode, nodeStateProvider } from "../providers/nodeState";
import { lazyProvider } from "../providers/lazy";
import { parseHostKey } from "../providers/ssh";
import { ProgramMocks } from "./support/mocks";
import { baseConfig, runProgram, testCa } from "./support/program";

const LIBRARY_FILE = path.resolve(__dirname, "../components/node/scripts/hardway.sh");

/** The script given to bash on fd 3, out of a command's text. */
function innerScript(command: string): string {
    const m = /^bash \/dev\/fd\/3 3<<'(HARDWAY_[0-9a-f]+)'\n([\s\S]*)\n\1\n$/.exec(command);
    assert.ok(m, "a command is `bash /dev/fd/3` with the script as a quoted here-document");
    return m[2];
}

/** A systemctl that keeps each unit's state in files under `dir` (enabled: a file; active state: a file's content). */
function fakeSystemctl(dir: string): string {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(
        path.join(bin, "systemctl"),
        [
            "#!/bin/bash",
            `S=${shq(path.join(dir, "units"))}`,
            'mkdir -p "$S"',
            'args=(); for a in "$@"; do case "$a" in --quiet|--) ;; *) args+=("$a") ;; esac; done',
            'u="${args[-1]}"',
            'case "${args[0]}" in',
            'daemon-reload) ;;',
            'is-enabled) [ -f "$S/$u.enabled" ] ;;',
            'enable) touch "$S/$u.enabled" ;;',
            'is-active) [ "$(cat "$S/$u.state" 2>/dev/null)" = active ] ;;',
            'show) cat "$S/$u.state" 2>/dev/null || echo inactive ;;',
            'restart) echo active >"$S/$u.state"; echo "$u" >>"$S/restarts" ;;',
            '*) echo "fake systemctl: $*" >&2; exit 2 ;;',
            "esac",
            "",
        ].join("\n"),
        { mode: 0o755 },
    );
    return bin;
}

describe("drift: the node library's manifests and check, run for real in a scratch directory", function () {
    if (process.getuid?.() !== 0) {
        it("needs root to chown (skipped: not root)", function () {
            this.skip();
        });
        return;
    }
    let root: string;
    let bin: string;
    const run = (script: string, stdin = "", readonly = false) => {
        const r = spawnSync("bash", ["-c", script], {
            input: stdin,
            env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, HW_ROOT: path.join(root, "state"), ...(readonly ? { HW_READONLY: "1" } : {}) },
        });
        return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
    };
    const phase = (command: string, stdin = "") => run(innerScript(command).replace(`. ${LIBRARY_PATH}`, () => `. ${shq(LIBRARY_FILE)}`), stdin);
    /** The same, as an owner runs it (withOwner: HW_OWNER set for the script). */
    const phaseOf = (owner: string, command: string, stdin = "") =>
        run(`HW_OWNER=${shq(owner)}\n` + innerScript(command).replace(`. ${LIBRARY_PATH}`, () => `. ${shq(LIBRARY_FILE)}`), stdin);
    /** The check as NodeState runs it, on the scratch root (of one owner, or of the older layout). */
    const check = (owner?: string) => {
        const r = run(`${owner ? `HW_OWNER=${shq(owner)}; ` : ""}HW_COMPONENT=check; . ${shq(LIBRARY_FILE)} && hw_check`, "", true);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, "");
        return r.stdout;
    };
    const p = (...parts: string[]) => path.join(root, ...parts);
    const KEY = "-----BEGIN TEST KEY-----\nsecret-material\n";
    let create: string;

    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "hw-drift-"));
        bin = fakeSystemctl(root);
        create = nodeScript(
            "demo",
            [
                dirStep({ path: p("etc", "pki"), mode: "0700", owner: "root", group: "root", onUndo: "purge" }),
                fileStep({ path: p("etc", "app.yaml"), mode: "0644", owner: "root", group: "root", effect: "restart", content: "a: 1\n" }),
                fileStep({ path: p("etc", "app.kubeconfig"), mode: "0600", owner: "root", group: "root", effect: "restart", content: "k: v\n" }),
                fileStep({ path: p("etc", "pki", "app.key"), mode: "0600", owner: "root", group: "root", effect: "restart", content: { secret: "key" } }),
                fileStep({ path: p("etc", "notes"), mode: "0644", owner: "root", group: "root", effect: "none", content: "n\n" }),
                serviceStep({ unit: "app.service", wait: false }),
            ],
            ["key"],
        );
        const first = phase(create, stdinOf({ key: KEY }));
        assert.equal(first.status, 0, first.stderr);
        fs.rmSync(p("units", "restarts"));
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it("a run records every file, directory and unit it manages, digests only; the check of a converged node reports nothing", () => {
        const manifest = fs.readFileSync(p("state", "demo", "manifest"), "utf8").split("\n");
        assert.match(manifest[0], /^run\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.deepEqual(manifest.slice(1).map((l) => l.split("\t").slice(0, 2).join(" ")), [
            `dir ${p("etc", "pki")}`,
            `file ${p("etc", "app.yaml")}`,
            `file ${p("etc", "app.kubeconfig")}`,
            `file ${p("etc", "pki", "app.key")}`,
            `file ${p("etc", "notes")}`,
            "unit app.service",
            "",
        ]);
        assert.ok(!manifest.join("\n").includes("secret-material"), "no content in the manifest");
        const report = parseCheckReport(check());
        assert.deepEqual(report.items, []);
        assert.deepEqual(Object.keys(report.runs), ["demo"]);
    });

    it("the check reports each kind of drift, exactly, and writes nothing; running the phase again repairs exactly that and restarts once", () => {
        fs.appendFileSync(p("etc", "app.yaml"), "b: 2\n");
        fs.rmSync(p("etc", "app.kubeconfig"));
        fs.chmodSync(p("etc", "pki", "app.key"), 0o644);
        fs.chownSync(p("etc", "notes"), 65534, 0);
        fs.chmodSync(p("etc", "pki"), 0o755);
        fs.rmSync(p("units", "app.service.enabled"));
        fs.writeFileSync(p("units", "app.service.state"), "failed\n");
        const listing = () => spawnSync("bash", ["-c", `cd ${shq(root)} && find . -printf '%p %m %T@\\n' | sort`]).stdout.toString();
        const before = listing();
        const stdout = check();
        assert.equal(listing(), before, "the check wrote nothing");
        assert.ok(!stdout.includes("secret-material") && !stdout.includes("a: 1"), "no content in the report");
        const report = parseCheckReport(stdout);
        assert.deepEqual(report.items, [
            { phase: "demo", path: p("etc", "pki"), drift: "mode" },
            { phase: "demo", path: p("etc", "app.yaml"), drift: "content" },
            { phase: "demo", path: p("etc", "app.kubeconfig"), drift: "missing" },
            { phase: "demo", path: p("etc", "pki", "app.key"), drift: "mode" },
            { phase: "demo", path: p("etc", "notes"), drift: "owner" },
            { phase: "demo", unit: "app.service", drift: "failed" },
            { phase: "demo", unit: "app.service", drift: "disabled" },
        ]);

        const repair = phase(create, stdinOf({ key: KEY }));
        assert.equal(repair.status, 0, repair.stderr);
        assert.deepEqual(repair.stderr.match(/writing .*/g), [
            `writing ${p("etc", "app.yaml")}`,
            `writing ${p("etc", "app.kubeconfig")}`,
            `writing ${p("etc", "pki", "app.key")}`,
            `writing ${p("etc", "notes")}`,
        ]);
        assert.equal(fs.readFileSync(p("units", "restarts"), "utf8"), "app.service\n", "restarted once");
        const after = parseCheckReport(check());
        assert.deepEqual(after.items, []);
        assert.notEqual(after.runs.demo, report.runs.demo, "the repair is a new run of the phase");
    });

    it("a stopped unit is inactive; undo removes the manifest with the journal", () => {
        fs.writeFileSync(p("units", "app.service.state"), "inactive\n");
        assert.deepEqual(parseCheckReport(check()).items, [{ phase: "demo", unit: "app.service", drift: "inactive" }]);
        const undo = phase(nodeScript("demo", ["hw_undo"]));
        assert.equal(undo.status, 0, undo.stderr);
        assert.deepEqual(parseCheckReport(check()), { items: [], runs: {} });
    });

    it("a phase that manages nothing has a manifest too (its run's time): no manifest means unrecorded", () => {
        const r = phase(nodeScript("empty", ["true"]));
        assert.equal(r.status, 0, r.stderr);
        assert.match(fs.readFileSync(p("state", "empty", "manifest"), "utf8"), /^run\t\S+\n$/);
        assert.deepEqual(Object.keys(parseCheckReport(check()).runs).sort(), ["demo", "empty"]);
    });

    it("each owner's check reads only its own manifests; an owner's first run takes over the older layout's", () => {
        const a = phaseOf("worker-a", create, stdinOf({ key: KEY }));
        assert.equal(a.status, 0, a.stderr);
        assert.ok(!fs.existsSync(p("state", "demo")), "the older layout's phase moved to its owner");
        assert.ok(fs.existsSync(p("state", "owners", "worker-a", "demo", "manifest")));
        const b = phaseOf("worker-b", nodeScript("empty", ["true"]));
        assert.equal(b.status, 0, b.stderr);
        fs.writeFileSync(p("etc", "app.yaml"), "a: 2\n");
        const ofA = parseCheckReport(check("worker-a"));
        assert.deepEqual(ofA.items, [{ phase: "demo", path: p("etc", "app.yaml"), drift: "content" }]);
        assert.deepEqual(Object.keys(ofA.runs), ["demo"]);
        const ofB = parseCheckReport(check("worker-b"));
        assert.deepEqual(ofB.items, [], "the file worker-a manages is not worker-b's drift");
        assert.deepEqual(Object.keys(ofB.runs), ["empty"]);
        assert.deepEqual(parseCheckReport(check()), { items: [], runs: {} }, "nothing is left in the older layout");
    });

    it("a failed run keeps the manifest of the last good one", () => {
        const good = fs.readFileSync(p("state", "demo", "manifest"), "utf8");
        const failing = nodeScript("demo", [fileStep({ path: p("etc", "other"), mode: "0644", owner: "root", group: "root", effect: "none", content: "x" }), "false"]);
        assert.equal(phase(failing).status, 1);
        assert.equal(fs.readFileSync(p("state", "demo", "manifest"), "utf8"), good);
    });
});

describe("drift: the check's report", () => {
    const runs = '{"kubelet":"2026-11-26T17:02:03.123Z","kube-proxy":"2026-11-26T17:02:04.000Z"}';
    it("reads drift lines and the closing HW_CHECKED line", () => {
        const r = parseCheckReport(
            [
                'HW_DRIFT {"phase":"kubelet","path":"/etc/kubernetes/kubelet-config.yaml","drift":"content"}',
                'HW_DRIFT {"phase":"kube-proxy","unit":"kube-proxy.service","drift":"disabled"}',
                `HW_CHECKED ${runs}`,
                "",
            ].join("\n"),
        );
        assert.deepEqual(r, {
            items: [
                { phase: "kubelet", path: "/etc/kubernetes/kubelet-config.yaml", drift: "content" },
                { phase: "kube-proxy", unit: "kube-proxy.service", drift: "disabled" },
            ],
            runs: { kubelet: "2026-11-26T17:02:03.123Z", "kube-proxy": "2026-11-26T17:02:04.000Z" },
        });
    });
    const bad: [string, string, string][] = [
        ["no closing line", 'HW_DRIFT {"phase":"kubelet","unit":"kubelet.service","drift":"inactive"}\n', "the drift check's report is incomplete: it has no HW_CHECKED line"],
        ["a line after the closing one", `HW_CHECKED ${runs}\nHW_CHECKED {}\n`, `unexpected line in the drift check's report: "HW_CHECKED {}"`],
        ["noise", "bash: warning: something\nHW_CHECKED {}\n", `unexpected line in the drift check's report: "bash: warning: something"`],
        ["a path with a unit's drift", 'HW_DRIFT {"phase":"p","path":"/x","drift":"inactive"}\nHW_CHECKED {}\n', `unexpected line in the drift check's report: "HW_DRIFT {\\"phase\\":\\"p\\",\\"path\\":\\"/x\\",\\"drift\\":\\"inactive\\"}"`],
        ["a unit with a path's drift", 'HW_DRIFT {"phase":"p","unit":"u","drift":"content"}\nHW_CHECKED {}\n', `unexpected line in the drift check's report: "HW_DRIFT {\\"phase\\":\\"p\\",\\"unit\\":\\"u\\",\\"drift\\":\\"content\\"}"`],
    ];
    for (const [name, text, message] of bad) {
        it(`refuses ${name}`, () => assert.throws(() => parseCheckReport(text), { message }));
    }
});

describe("drift: what NodeState keeps per phase", () => {
    const report = (items: CheckReport["items"], runs: Record<string, string>): CheckReport => ({ items, runs });
    const PHASES = ["kubelet", "kube-proxy"];
    const R1 = { kubelet: "t1", "kube-proxy": "t1" };
    const cases: [string, Record<string, string>, CheckReport, Record<string, string>][] = [
        ["nothing, nothing before", {}, report([], R1), {}],
        [
            "new drift, sorted, with the phase's run",
            {},
            report([{ phase: "kubelet", unit: "kubelet.service", drift: "inactive" }, { phase: "kubelet", path: "/a", drift: "mode" }], R1),
            { kubelet: "run t1: /a: mode; kubelet.service: inactive" },
        ],
        ["the same drift again: the same value", { kubelet: "run t1: /a: mode" }, report([{ phase: "kubelet", path: "/a", drift: "mode" }], R1), { kubelet: "run t1: /a: mode" }],
        ["repaired: the last value stays", { kubelet: "run t1: /a: mode" }, report([], { ...R1, kubelet: "t2" }), { kubelet: "run t1: /a: mode" }],
        [
            "the same drift after a repair: a new value",
            { kubelet: "run t1: /a: mode" },
            report([{ phase: "kubelet", path: "/a", drift: "mode" }], { ...R1, kubelet: "t2" }),
            { kubelet: "run t2: /a: mode" },
        ],
        ["a phase with no manifest", {}, report([], { kubelet: "t1" }), { "kube-proxy": "run none: unrecorded: the node has no manifest of this phase" }],
        ["a phase the program does not run is ignored", {}, report([{ phase: "old", path: "/x", drift: "missing" }], { ...R1, old: "t0" }), {}],
    ];
    for (const [name, previous, r, expected] of cases) {
        it(name, () => assert.deepEqual(nextDrift(previous, r, PHASES), expected));
    }

    it("a command carries its own phase's drift as a comment after the script, and only then", () => {
        const create = nodeScript("kubelet", ["true"]);
        assert.equal(withRepairMarker(create, undefined), create);
        assert.equal(withRepairMarker(create, { "kube-proxy": "run t1: /a: mode" }), create);
        const marked = withRepairMarker(create, { kubelet: "run t1: /a: mode" });
        assert.equal(marked, create + repairMarker("run t1: /a: mode"));
        assert.match(repairMarker("run t1: /a: mode"), /^# hardway: repairs drift [0-9a-f]{16}\n$/);
        assert.notEqual(repairMarker("run t2: /a: mode"), repairMarker("run t1: /a: mode"));
        const r = spawnSync("bash", ["-c", marked.replace("bash /dev/fd/3", "cat /dev/fd/3 >/dev/null")]);
        assert.equal(r.status, 0, "the marked text still runs");
    });
});

describe("drift: the program", () => {
    it("checks the phases the node library undoes, in the library's order (HW_PHASES)", () => {
        const m = /^HW_PHASES=\(([^)]*)\)$/m.exec(LIBRARY);
        assert.ok(m, "the library names its phases");
        assert.deepEqual(m[1].split(" "), NODE_PHASES);
    });

    it("gives each node a NodeState over the commands' connection, checking each of the node's phases", async () => {
        const run = await runProgram(baseConfig());
        const states = run.mocks.ofType("pulumi-nodejs:dynamic/hardway:NodeState");
        assert.deepEqual(states.map((s) => s.name).sort(), ["cp1-state", "cp2-state", "worker1-state", "worker2-state"]);
        for (const s of states) {
            const node = s.name.replace(/-state$/, "");
            const c = run.mocks.named(`${node}-system`).inputs.connection;
            assert.deepEqual(s.inputs.connection, { host: c.host, port: c.port, user: c.user, privateKey: c.privateKey });
            assert.deepEqual(s.inputs.phases, NODE_PHASES);
            assert.equal(s.inputs.owner, node, "the owner whose journals the node's commands keep");
        }
        // The host binding has no create: it runs nothing to check.
        const creating = run.mocks.ofType("command:remote:Command").filter((c) => c.inputs.create !== undefined);
        assert.deepEqual(
            run.mocks.ofType("command:remote:Command").filter((c) => c.inputs.create === undefined).map((c) => c.name).sort(),
            ["cp1-host", "cp2-host", "worker1-host", "worker2-host"],
        );
        const components = creating.map((c) => /^HW_COMPONENT=(\S+)$/m.exec(c.inputs.create)?.[1]);
        assert.deepEqual([...new Set(components)].sort(), [...NODE_PHASES].sort(), "NodeState checks exactly the phases the commands run");
    });

    it("new drift on worker1's kubelet changes worker1's kubelet command only, by the marker", async () => {
        // Shared outputs (keys, certificates, the token), as the state keeps them from one run to the next.
        const memory = new Map<string, Record<string, any>>();
        const clean = await runProgram(baseConfig(), new ProgramMocks(testCa(), memory));
        const mocks = new ProgramMocks(testCa(), memory);
        mocks.driftByName = { "worker1-state": { kubelet: "run t1: kubelet.service: inactive" } };
        const drifted = await runProgram(baseConfig(), mocks);
        const creates = (r: typeof clean) => new Map(r.mocks.ofType("command:remote:Command").map((c) => [c.name, c.inputs.create as string]));
        const a = creates(clean);
        const b = creates(drifted);
        const changed = [...b].filter(([name, text]) => a.get(name) !== text).map(([name]) => name);
        assert.deepEqual(changed, ["worker1-kubelet"]);
        assert.equal(b.get("worker1-kubelet"), a.get("worker1-kubelet") + repairMarker("run t1: kubelet.service: inactive"));
    });
});

/** An SSH server (ssh2's) that accepts one client key and answers exec with `answer`. */
async function fakeSsh(answer: (command: string) => { code: number; stdout: string; stderr?: string }) {
    const host = utils.generateKeyPairSync("ed25519");
    const client = utils.generateKeyPairSync("ed25519");
    const allowed = utils.parseKey(client.public) as any;
    const seen = { connections: 0, commands: [] as string[] };
    const server = new Server({ hostKeys: [host.private] }, (conn) => {
        seen.connections++;
        conn.on("authentication", (ctx: any) => {
            const ok =
                ctx.method === "publickey" &&
                ctx.username === "root" &&
                ctx.key.algo === allowed.type &&
                ctx.key.data.equals(allowed.getPublicSSH()) &&
                (!ctx.signature || allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true);
            return ok ? ctx.accept() : ctx.reject(["publickey"]);
        });
        conn.on("ready", () => {
            conn.on("session", (accept: any) => {
                accept().once("exec", (acceptExec: any, _reject: any, info: any) => {
                    seen.commands.push(info.command);
                    const stream = acceptExec();
                    const a = answer(info.command);
                    stream.write(a.stdout);
                    if (a.stderr) {
                        stream.stderr.write(a.stderr);
                    }
                    stream.exit(a.code);
                    stream.end();
                });
            });
        });
        conn.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    return {
        port,
        seen,
        hostKey: host.public.trim(),
        otherHostKey: utils.generateKeyPairSync("ed25519").public.trim(),
        privateKey: client.private,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

describe("drift: NodeState against an SSH server", function () {
    this.timeout(30_000);
    const REPORT = [
        'HW_DRIFT {"phase":"kubelet","path":"/etc/kubernetes/kubelet-config.yaml","drift":"content"}',
        'HW_DRIFT {"phase":"kube-proxy","unit":"kube-proxy.service","drift":"disabled"}',
        'HW_CHECKED {"system":"t0","binaries":"t0","containerd-install":"t0","containerd":"t0","kubelet":"t1","kube-proxy":"t1"}',
        "",
    ].join("\n");
    let ssh: Awaited<ReturnType<typeof fakeSsh>>;
    let answer = { code: 0, stdout: REPORT, stderr: "" };
    before(async () => {
        ssh = await fakeSsh(() => answer);
    });
    after(() => ssh.close());
    beforeEach(() => {
        answer = { code: 0, stdout: REPORT, stderr: "" };
    });
    const props = (extra: Record<string, unknown> = {}) => ({
        connection: { host: "127.0.0.1", port: ssh.port, user: "root", privateKey: ssh.privateKey, hostKey: ssh.hostKey },
        nodeName: "worker1",
        owner: "worker1",
        phases: NODE_PHASES,
        version: "1",
        drift: {},
        ...extra,
    });

    it("read runs the check, with the host key pinned, and records each phase's drift as output and input", async () => {
        const p = props({ drift: { system: "run t-1: /etc/tmpfiles.d/hardway-kubernetes.conf: missing" } });
        const r = await nodeStateProvider.read!("worker1", p);
        const drift = {
            system: "run t-1: /etc/tmpfiles.d/hardway-kubernetes.conf: missing",
            kubelet: "run t1: /etc/kubernetes/kubelet-config.yaml: content",
            "kube-proxy": "run t1: kube-proxy.service: disabled",
        };
        assert.deepEqual(r, { id: "worker1", props: { ...p, drift }, inputs: { ...p, drift } });
        assert.equal(ssh.seen.commands.at(-1), checkCommand("worker1"));
    });

    it("check carries the drift of the last read; diff sees no change from it", async () => {
        const olds = props({ drift: { kubelet: "run t1: x" } });
        const checked = await nodeStateProvider.check!(olds, { ...props(), drift: undefined });
        assert.deepEqual(checked, { inputs: olds, failures: [] });
        assert.deepEqual(await nodeStateProvider.diff!("worker1", olds, checked.inputs), { changes: false, replaces: [], deleteBeforeReplace: false });
        const moved = { ...olds, connection: { ...olds.connection, port: 2222 } };
        assert.equal((await nodeStateProvider.diff!("worker1", olds, moved)).changes, true);
    });

    it("create and update open no SSH session", async () => {
        const before = ssh.seen.connections;
        assert.deepEqual(await nodeStateProvider.create(props()), { id: "worker1", outs: props() });
        assert.deepEqual(await nodeStateProvider.update!("worker1", props({ drift: { kubelet: "run t1: x" } }), props()), { outs: props({ drift: { kubelet: "run t1: x" } }) });
        assert.equal(ssh.seen.connections, before);
    });

    it("a host key other than the pinned one: the read fails, naming the node and its address", async () => {
        await assert.rejects(nodeStateProvider.read!("worker1", props({ connection: { ...props().connection, hostKey: ssh.otherHostKey } })), {
            message: `node worker1 (root@127.0.0.1:${ssh.port}): the drift check could not run: Host denied (verification failed); its last known state is kept, and this refresh fails rather than report no drift`,
        });
    });

    it("a check that fails: the read fails with its message", async () => {
        answer = { code: 1, stdout: "", stderr: "bash: /usr/local/lib/hardway/v1/hardway.sh: No such file or directory\n" };
        await assert.rejects(nodeStateProvider.read!("worker1", props()), {
            message: `node worker1 (root@127.0.0.1:${ssh.port}): the drift check failed (exit 1): bash: /usr/local/lib/hardway/v1/hardway.sh: No such file or directory`,
        });
    });

    it("an incomplete report: the read fails", async () => {
        answer = { code: 0, stdout: REPORT.split("\n")[0] + "\n", stderr: "" };
        await assert.rejects(nodeStateProvider.read!("worker1", props()), {
            message: `node worker1 (root@127.0.0.1:${ssh.port}): the drift check's report is incomplete: it has no HW_CHECKED line`,
        });
    });

    it("a node that accepts the connection but never answers: the read fails after the connect timeout", async () => {
        const silent = net.createServer(() => undefined);
        await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
        const port = (silent.address() as net.AddressInfo).port;
        try {
            await assert.rejects(checkNode({ nodeName: "worker1", owner: "worker1", connection: { ...props().connection, port } }, { connectMs: 1000, checkMs: 5000 }), {
                message: `node worker1 (root@127.0.0.1:${port}): the drift check could not run: Timed out while waiting for handshake; its last known state is kept, and this refresh fails rather than report no drift`,
            });
        } finally {
            silent.close();
        }
    });

    it("what a resource stores of its provider forwards read, and keeps the state of a provider without one", async () => {
        assert.deepEqual(await lazyProvider("renewal", "renewalProvider").read!("r-1", { issuedAt: "x" }), { id: "r-1", props: { issuedAt: "x" } });
        const state = props();
        const r = await lazyProvider("nodeState", "nodeStateProvider").read!("worker1", state);
        assert.equal(r.props.drift.kubelet, "run t1: /etc/kubernetes/kubelet-config.yaml: content");
    });

    it("runs the check of one owner through the library's installed path, the owner quoted", () => {
        assert.equal(NODE_LIBRARY, LIBRARY_PATH);
        assert.equal(checkCommand("worker1"), checkCommand("worker1", LIBRARY_PATH));
        // A stand-in library that reports the owner and phase it was run as.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hw-check-"));
        try {
            const lib = path.join(dir, "lib dir", "hardway.sh");
            fs.mkdirSync(path.dirname(lib));
            fs.writeFileSync(lib, 'hw_check() { printf \'HW_CHECKED {"owner":"%s","phase":"%s","readonly":"%s"}\\n\' "$HW_OWNER" "$HW_COMPONENT" "$HW_READONLY"; }\n');
            for (const owner of ["worker1", "it's", "a b;$(x)"]) {
                const r = spawnSync("sh", ["-c", checkCommand(owner, lib)]);
                assert.equal(r.status, 0, r.stderr.toString());
                assert.deepEqual(parseCheckReport(r.stdout.toString()), { items: [], runs: { owner, phase: "check", readonly: "1" } }, owner);
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("a host without the library (reinstalled, or wiped) reports no manifest: every phase is unrecorded, so every phase runs again", () => {
        const r = spawnSync("sh", ["-c", checkCommand("worker1", "/nonexistent/hardway.sh")]);
        assert.equal(r.status, 0, r.stderr.toString());
        assert.equal(r.stdout.toString(), "HW_CHECKED {}\n");
        const drift = nextDrift({}, parseCheckReport(r.stdout.toString()), NODE_PHASES);
        assert.deepEqual(drift, Object.fromEntries(NODE_PHASES.map((p) => [p, "run none: unrecorded: the node has no manifest of this phase"])));
    });

    it("check refuses a NodeState without an owner, naming the field", async () => {
        assert.deepEqual((await nodeStateProvider.check!({}, { ...props(), owner: "" })).failures, [{ property: "owner", reason: "owner is required" }]);
    });

    it("reads a pinned host key as the config gives it", () => {
        const k = parseHostKey(`${ssh.hostKey} root@node`);
        assert.equal(k.type, "ssh-ed25519");
        assert.throws(() => parseHostKey("ssh-ed25519"), { message: 'the pinned host key is not "<type> <base64>": "ssh-ed25519"' });
    });
});
