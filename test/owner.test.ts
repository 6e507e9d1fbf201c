/**
 * Journals keyed by owner (components/node/owner.ts and the library's
 * hw_adopt / hw_claimant): the keys, table by table, and the library run for
 * real in a scratch directory as two owners of one host (a rename), the
 * older layout taken over, and an owner's whole undo (a move).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseOldHost } from "../components/config/validate";
import { JOURNAL_ROOT, addressOf, hostCleanupScript, hostTriggers, journalPath, ownerOf, withOwner } from "../components/node/owner";
import { LIBRARY, LIBRARY_PATH, fileStep, nodeScript, shq } from "../components/node/scripts";
import { systemUndoScript } from "../components/system/plan";
import { binariesUndoScript } from "../components/binaries/plan";
import { containerdConfigUndoScript, containerdInstallUndoScript } from "../components/containerd/plan";
import { kubeletUndoScript } from "../components/kubelet/plan";
import { kubeProxyUndoScript } from "../components/kube-proxy/plan";

const LIBRARY_FILE = path.resolve(__dirname, "../components/node/scripts/hardway.sh");

describe("journal keys: one journal per owner and phase", () => {
    it("the owner of a node's journals is its name in the config", () => {
        const table: [string, string][] = [
            ["worker2", "worker2"],
            ["worker3", "worker3"],
            ["cp1.example", "cp1.example"],
        ];
        for (const [name, owner] of table) {
            assert.equal(ownerOf({ name }), owner);
        }
    });

    it("journal paths: per owner and phase; without an owner, the older per-phase layout", () => {
        const table: [string | undefined, string, string][] = [
            ["worker2", "kubelet", `${JOURNAL_ROOT}/owners/worker2/kubelet/journal`],
            ["worker3", "kubelet", `${JOURNAL_ROOT}/owners/worker3/kubelet/journal`],
            ["worker2", "containerd-config", `${JOURNAL_ROOT}/owners/worker2/containerd-config/journal`],
            [undefined, "kubelet", `${JOURNAL_ROOT}/kubelet/journal`],
        ];
        for (const [owner, component, want] of table) {
            assert.equal(journalPath(owner, component), want, `${owner} ${component}`);
        }
        // A renamed node's journals never share a path with the old name's.
        assert.notEqual(journalPath("worker2", "system"), journalPath("worker3", "system"));
    });

    it("a command runs as its owner: HW_OWNER in the environment of the script", () => {
        assert.equal(withOwner("worker2", "bash /dev/fd/3 3<<'X'\ntrue\nX\n"), "HW_OWNER=worker2 bash /dev/fd/3 3<<'X'\ntrue\nX\n");
        assert.equal(withOwner("odd name", "true"), "HW_OWNER='odd name' true");
    });

    it("the host binding's triggers: the address, or the forgotten old address", () => {
        const table: [{ sshHost: string; sshPort: number; forgetOldHost?: string }, string[]][] = [
            [{ sshHost: "10.0.0.21", sshPort: 22 }, ["10.0.0.21:22"]],
            [{ sshHost: "10.0.0.21", sshPort: 2222 }, ["10.0.0.21:2222"]],
            [{ sshHost: "10.0.0.99", sshPort: 22, forgetOldHost: "10.0.0.21:22" }, ["10.0.0.21:22"]],
        ];
        for (const [node, want] of table) {
            assert.deepEqual(hostTriggers(node), want);
        }
        assert.equal(addressOf({ sshHost: "h.example", sshPort: 22 }), "h.example:22");
    });

    it("forgetOldHost: host or host:port, the port defaulting to the node's", () => {
        const table: [string, number, string | { error: string }][] = [
            ["10.0.0.21", 22, "10.0.0.21:22"],
            ["10.0.0.21:2222", 22, "10.0.0.21:2222"],
            ["old.example.com", 2200, "old.example.com:2200"],
            ["[fd00::21]:22", 22, "fd00::21:22"],
            ["[fd00::21]", 2222, "fd00::21:2222"],
            ["10.0.0.21:0", 22, { error: '"10.0.0.21:0" has no valid TCP port (1-65535)' }],
            ["a b", 22, { error: '"a b" is not an address: expected host or host:port, the node\'s old sshHost and sshPort' }],
        ];
        for (const [value, port, want] of table) {
            assert.deepEqual(parseOldHost(value, port), want, value);
        }
    });

    it("the library's phase order (an owner's whole undo goes backwards) names each phase's journal as its script does", () => {
        const component = (undo: string) => /^HW_COMPONENT=(\S+)$/m.exec(undo)![1];
        const phases = [systemUndoScript(), binariesUndoScript(), containerdInstallUndoScript(), containerdConfigUndoScript(), kubeletUndoScript(), kubeProxyUndoScript()].map(component);
        assert.deepEqual(phases, ["system", "binaries", "containerd-install", "containerd", "kubelet", "kube-proxy"]);
        assert.equal(/^HW_PHASES=\((.*)\)$/m.exec(LIBRARY)![1], phases.join(" "));
    });

    it("the host binding's delete undoes the owner's phases, and does nothing on a host without the library", () => {
        const text = hostCleanupScript("worker2");
        assert.ok(text.startsWith("HW_OWNER=worker2 bash /dev/fd/3 3<<'HARDWAY_"));
        assert.ok(text.includes(`\n[ -f ${LIBRARY_PATH} ] || exit 0\n. ${LIBRARY_PATH}\nhw_undo_owner\n`));
    });
});

/** Runs a node script as `owner` (or in the older layout) in a scratch root, with the library from the source tree. */
function run(root: string, owner: string | undefined, command: string): { status: number; stdout: string; stderr: string } {
    const m = /^bash \/dev\/fd\/3 3<<'(HARDWAY_[0-9a-f]+)'\n([\s\S]*)\n\1\n$/.exec(command);
    assert.ok(m);
    const script = m[2].replace(`. ${LIBRARY_PATH}`, () => `. ${shq(LIBRARY_FILE)}`);
    const env: Record<string, string> = { ...(process.env as Record<string, string>), HW_ROOT: path.join(root, "state") };
    delete env["HW_OWNER"];
    if (owner !== undefined) {
        env["HW_OWNER"] = owner;
    }
    const r = spawnSync("bash", ["-c", script], { env });
    return { status: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function mustRun(root: string, owner: string | undefined, command: string): string {
    const r = run(root, owner, command);
    assert.equal(r.status, 0, r.stderr);
    return r.stderr;
}

describe("journals keyed by owner, run for real in a scratch directory", function () {
    if (process.getuid?.() !== 0) {
        it("needs root to chown (skipped: not root)", function () {
            this.skip();
        });
        return;
    }
    let root: string;
    let etc: string;
    let theirs: string;
    let mine: string;
    let shared: string;
    let runtimeDir: string;
    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "hw-owner-"));
        etc = path.join(root, "etc");
        fs.mkdirSync(etc);
        theirs = path.join(etc, "theirs.conf");
        fs.writeFileSync(theirs, "before the program\n");
        mine = path.join(root, "new", "mine.conf");
        shared = path.join(root, "new", "shared.conf");
        runtimeDir = path.join(root, "var-lib-app");
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    const file = { mode: "0644" as const, owner: "root", group: "root", effect: "restart" as const };
    /** One phase's create, as a node named `name` writes it: some content names the node, some does not. */
    const create = (name: string) =>
        nodeScript("kubelet", [
            `hw_dir ${shq(path.join(root, "new"))} 0755 root root purge`,
            `hw_dir ${shq(path.join(root, "made", "bin"))} 0755 root root keep`,
            fileStep({ ...file, path: theirs, content: `written for ${name}\n` }),
            fileStep({ ...file, path: mine, content: `node ${name}\n` }),
            fileStep({ ...file, path: shared, content: "the same for every name\n" }),
            `hw_runtime ${shq(runtimeDir)} dir`,
            `hw_runtime_glob ${shq(path.join(etc, "client-*"))}`,
            'printf "restart=%s\\n" "$hw_restart"',
        ]);
    const undo = nodeScript("kubelet", ["hw_undo"]);
    const journal = (owner: string) => fs.readFileSync(journalPath(owner, "kubelet", path.join(root, "state")), "utf8");

    it("a rename: the old name's undo, after the new name's create, leaves everything the new name holds", () => {
        mustRun(root, "worker2", create("worker2"));
        fs.mkdirSync(runtimeDir);
        fs.writeFileSync(path.join(etc, "client-current.pem"), "cert of worker2\n");
        assert.equal(fs.readFileSync(theirs, "utf8"), "written for worker2\n");

        // The engine creates the new name first, then deletes the old one.
        const taking = mustRun(root, "worker3", create("worker3"));
        assert.doesNotMatch(taking, /error/);
        // worker3 took over worker2's records, the backup of the file that was there before included.
        for (const record of [`file\t${theirs}\tbackup`, `file\t${mine}\tcreated`, `file\t${shared}\tcreated`, `dir\t${runtimeDir}\tcreated\tpurge`]) {
            assert.ok(journal("worker3").includes(`${record}\n`), `worker3's journal holds ${record}`);
        }
        const left = mustRun(root, "worker2", undo);
        assert.match(left, new RegExp(`left file ${mine.replace(/[.]/g, "\\.")}: worker3 holds it`));
        assert.equal(fs.readFileSync(theirs, "utf8"), "written for worker3\n");
        assert.equal(fs.readFileSync(mine, "utf8"), "node worker3\n");
        assert.equal(fs.readFileSync(shared, "utf8"), "the same for every name\n");
        assert.ok(fs.existsSync(runtimeDir), "the running service's directory stays");
        assert.ok(fs.existsSync(path.join(etc, "client-current.pem")), "files by the glob worker3 also holds stay");
        assert.deepEqual(fs.readdirSync(path.join(root, "state", "owners")), ["worker3"], "worker2's journals are gone");

        // And worker3's undo restores the host as it was before the program.
        mustRun(root, "worker3", undo);
        assert.equal(fs.readFileSync(theirs, "utf8"), "before the program\n");
        assert.equal(fs.existsSync(path.join(root, "new")), false);
        assert.equal(fs.existsSync(path.join(root, "made")), false, "a parent the first owner made goes too");
        assert.equal(fs.existsSync(runtimeDir), false);
        assert.deepEqual(fs.readdirSync(etc), ["theirs.conf"]);
        assert.equal(fs.existsSync(path.join(root, "state")), false, "no journal is left");
    });

    it("without owners (the older layout) the same sequence destroys the new name's files: what the keys prevent", () => {
        mustRun(root, undefined, create("worker2"));
        mustRun(root, undefined, create("worker3"));
        mustRun(root, undefined, undo);
        assert.equal(fs.existsSync(mine), false);
        assert.equal(fs.readFileSync(theirs, "utf8"), "before the program\n");
    });

    it("an owner's first run takes over the older journal of its phase", () => {
        mustRun(root, undefined, create("worker2"));
        const older = fs.readFileSync(journalPath(undefined, "kubelet", path.join(root, "state")), "utf8");
        const again = run(root, "worker2", create("worker2"));
        assert.equal(again.status, 0, again.stderr);
        assert.match(again.stdout, /restart=0/, "nothing changed");
        assert.equal(journal("worker2"), older, "the journal moved, unchanged");
        assert.equal(fs.existsSync(path.join(root, "state", "kubelet")), false);
        mustRun(root, "worker2", undo);
        assert.equal(fs.readFileSync(theirs, "utf8"), "before the program\n");
        assert.equal(fs.existsSync(mine), false);
    });

    it("a move: the owner's whole undo reverses every phase, last first, and keeps the library while another owner remains", () => {
        const phase = (component: string, p: string) => nodeScript(component, [fileStep({ ...file, path: p, content: `${component}\n` })]);
        const sys = path.join(root, "sys.conf");
        const kubelet = path.join(root, "kubelet.conf");
        mustRun(root, "worker1", phase("system", sys));
        mustRun(root, "worker1", phase("kubelet", kubelet));
        mustRun(root, "other", phase("kube-proxy", path.join(root, "proxy.conf")));
        // The library's removal is replaced by a marker: the scratch run must not touch the real /usr/local/lib/hardway.
        const whole = (owner: string) =>
            run(root, owner, nodeScript("host", ['hw_remove_library() { [ -d "$HW_ROOT" ] && echo kept-library || echo removed-library; }', "hw_undo_owner"]));
        const r = whole("worker1");
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.stderr.match(/undoing \S+ of worker1/g), ["undoing kubelet of worker1", "undoing system of worker1"]);
        assert.equal(r.stdout, "kept-library\n");
        assert.equal(fs.existsSync(sys), false);
        assert.equal(fs.existsSync(kubelet), false);
        assert.deepEqual(fs.readdirSync(path.join(root, "state", "owners")), ["other"]);
        const last = whole("other");
        assert.equal(last.stdout, "removed-library\n");
        assert.equal(fs.existsSync(path.join(root, "state")), false);
    });
});

describe("program: each node's commands run as its owner, behind its host binding", function () {
    this.timeout(120_000);
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { GUIDE_NODES, baseConfig, runProgram } = require("./support/program") as typeof import("./support/program");

    it("every command of a node carries HW_OWNER=<its name>; the binding runs nothing on create and cleans the owner on delete", async () => {
        const run = await runProgram(baseConfig());
        for (const n of GUIDE_NODES) {
            const cmds = run.mocks.ofType("command:remote:Command").filter((r) => r.name.startsWith(`${n.name}-`) && r.name !== `${n.name}-host`);
            assert.equal(cmds.length, 6);
            for (const c of cmds) {
                assert.ok(c.inputs.create.startsWith(`HW_OWNER=${n.name} bash /dev/fd/3`), `${c.name} create`);
                assert.ok(c.inputs.delete.startsWith(`HW_OWNER=${n.name} bash /dev/fd/3`), `${c.name} delete`);
            }
            const host = run.mocks.named(`${n.name}-host`);
            assert.equal(host.inputs.create, undefined, "no SSH session on create");
            assert.equal(host.inputs.delete, hostCleanupScript(n.name));
            assert.deepEqual(host.inputs.triggers, [`${n.ip}:22`]);
            assert.equal(host.inputs.connection.host, n.ip);
        }
    });

    it("forgetOldHost: the binding keeps the old address as its trigger and has nothing to clean", async () => {
        const nodes = GUIDE_NODES.map((n) => (n.name === "worker2" ? { ...n, sshHost: "192.168.50.99", forgetOldHost: n.ip } : n));
        const run = await runProgram(baseConfig({ nodes }));
        const host = run.mocks.named("worker2-host");
        assert.deepEqual(host.inputs.triggers, ["192.168.50.22:22"]);
        assert.equal(host.inputs.delete, undefined);
        assert.equal(host.inputs.connection.host, "192.168.50.99");
    });

    it("forgetOldHost naming the current address is refused, naming the field", async () => {
        const nodes = GUIDE_NODES.map((n) => (n.name === "worker2" ? { ...n, forgetOldHost: n.ip } : n));
        await assert.rejects(runProgram(baseConfig({ nodes })), (e: Error) =>
            e.message.includes(`hardway-workers:nodes[3].forgetOldHost: "192.168.50.22" is the node's current address; name the old one`),
        );
    });
});
