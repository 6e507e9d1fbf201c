/**
 * The node scripts: every generated script passes `bash -n` and shellcheck,
 * and the shared library really converges and really undoes, run in a
 * scratch directory (the e2e suite runs the same scripts on real nodes).
 */
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { LIBRARY, LIBRARY_DIGEST, LIBRARY_PATH, LIBRARY_ROOT, fileStep, libraryBlob, libraryInstall, nodeScript, parseFacts, shq, stdinOf } from "../components/node/scripts";
import { checkSecrets } from "../components/node/command";
import { binariesScript, binariesUndoScript } from "../components/binaries/plan";
import { containerdConfigScript, containerdConfigUndoScript, containerdInstallScript, containerdInstallUndoScript } from "../components/containerd/plan";
import { kubeProxyScript, kubeProxyUndoScript } from "../components/kube-proxy/plan";
import { kubeletScript, kubeletUndoScript } from "../components/kubelet/plan";
import { systemPlanFor, systemScript, systemUndoScript } from "../components/system/plan";
import { validateConfig } from "../components/config/validate";
import { hostCleanupScript } from "../components/node/owner";
import { baseConfig } from "./support/program";

const LIBRARY_FILE = path.resolve(__dirname, "../components/node/scripts/hardway.sh");

/** The script given to bash on fd 3, out of a command's text. */
function innerScript(command: string): string {
    const m = /^bash \/dev\/fd\/3 3<<'(HARDWAY_[0-9a-f]{16})'\n([\s\S]*)\n\1\n$/.exec(command);
    assert.ok(m, "a command is `bash /dev/fd/3` with the script as a quoted here-document");
    return m[2];
}

const download = (name: string) => ({ url: `https://mirror.example/${name}`, sha256: "" });
const file = { mode: "0644" as const, owner: "root", group: "root", effect: "restart" as const };
const ALL: [string, () => string][] = [
    ["system", () => systemScript()],
    ["system undo", () => systemUndoScript()],
    ["system with its preflight (ipvs)", () => systemPlanFor({ name: "worker1" }, validateConfig(baseConfig({ kubeProxyMode: "ipvs" }))).create],
    ["host binding's delete", () => hostCleanupScript("worker1").replace(/^HW_OWNER=worker1 /, "")],
    ["binaries", () => binariesScript({ kubelet: download("kubelet"), kubeProxy: download("kube-proxy"), crictl: download("c.tgz"), cni: download("n.tgz") })],
    ["binaries undo", () => binariesUndoScript()],
    ["containerd install", () => containerdInstallScript()],
    ["containerd install undo", () => containerdInstallUndoScript()],
    ["containerd config", () => containerdConfigScript({ configToml: "version = 2\n", gid: 998 })],
    ["containerd config undo", () => containerdConfigUndoScript()],
    [
        "kubelet",
        () =>
            kubeletScript({
                unit: "kubelet.service",
                files: [{ ...file, path: "/etc/x", content: "it's 'quoted' $HOME `x`\n" }, { ...file, path: "/etc/k", content: { secret: "key" } }],
                binary: "/usr/local/sbin/kubelet",
                wait: true,
            }),
    ],
    ["kubelet undo", () => kubeletUndoScript()],
    ["kube-proxy", () => kubeProxyScript({ unit: "kube-proxy.service", files: [], binary: "/usr/local/sbin/kube-proxy", wait: false, ipvs: true })],
    ["kube-proxy undo", () => kubeProxyUndoScript()],
];

describe("node scripts: static checks", () => {
    for (const [name, command] of ALL) {
        it(`${name}: bash -n and shellcheck pass, with the library it sources`, () => {
            const script = innerScript(command());
            assert.ok(script.includes(`\n. ${LIBRARY_PATH}\n`), "it sources the installed library");
            const syntax = spawnSync("bash", ["-n"], { input: script });
            assert.equal(syntax.status, 0, syntax.stderr.toString());
            const whole = script.replace(`\n. ${LIBRARY_PATH}\n`, () => `\n${fs.readFileSync(LIBRARY_FILE, "utf8")}\n`);
            const lint = spawnSync("shellcheck", ["-s", "bash", "-S", "warning", "-"], { input: whole });
            assert.equal(lint.status, 0, lint.stdout.toString());
        });
    }

    it("quotes values so that the shell reads them back unchanged", () => {
        for (const value of ["plain", "with space", "it's", "$HOME", "`id`", "a\nb", "", "--flag=1", "*"]) {
            const out = execFileSync("bash", ["-c", `printf '%s' ${shq(value)}`]).toString();
            assert.equal(out, value);
        }
    });

    it("phases source the library at /usr/local/lib/hardway/v1/hardway.sh", () => {
        assert.equal(LIBRARY_PATH, "/usr/local/lib/hardway/v1/hardway.sh");
        assert.match(nodeScript("demo", ["true"]), /\n\. \/usr\/local\/lib\/hardway\/v1\/hardway\.sh\ntrue\n/);
    });

    const badNames: [string, string][] = [
        ["1key", 'secret name "1key" is not a word of letters, digits and \'_\''],
        ["key-a", 'secret name "key-a" is not a word of letters, digits and \'_\''],
        ["a key", 'secret name "a key" is not a word of letters, digits and \'_\''],
        ["", 'secret name "" is not a word of letters, digits and \'_\''],
    ];
    for (const [name, message] of badNames) {
        it(`refuses the secret name ${JSON.stringify(name)} (it must read plainly on stdin and in HW_SECRETS)`, () => {
            assert.throws(() => nodeScript("demo", [], ["ok_Name1", name]), { message });
        });
    }

    it("a phase's command sends exactly the secrets its script reads, or the program stops", () => {
        checkSecrets("n-kubelet", ["bootstrapKubeconfig", "kubeletKey"], { kubeletKey: 1, bootstrapKubeconfig: 2 });
        assert.throws(
            () => checkSecrets("n-kubelet", ["bootstrapKubeconfig", "kubeletKey"], { kubeletKey: 1 }),
            { message: "n-kubelet: its script reads the secrets [bootstrapKubeconfig, kubeletKey] but the command sends [kubeletKey]" },
        );
    });

    it("the system phase lays the library down at its content address, points v1 at it, and removes older ones", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "hw-lib-"));
        try {
            fs.mkdirSync(path.join(root, "0123456789abcdef"));
            const prologue = libraryInstall().join("\n").split(LIBRARY_ROOT).join(root);
            // As under a strict umask: the modes come from the prologue, not from the umask.
            const run = () => spawnSync("bash", ["-c", `umask 077\n${prologue}`], { encoding: "utf8" });
            fs.chmodSync(root, 0o700);
            const first = run();
            assert.equal(first.status, 0, first.stderr);
            assert.equal(first.stderr, "", "a first install says nothing");
            assert.equal(fs.readFileSync(path.join(root, LIBRARY_DIGEST, "hardway.sh"), "utf8"), LIBRARY);
            assert.equal(fs.readlinkSync(path.join(root, "v1")), LIBRARY_DIGEST);
            assert.deepEqual(fs.readdirSync(root).sort(), [LIBRARY_DIGEST, "v1"].sort());
            assert.equal(modeOf(path.join(root, LIBRARY_DIGEST, "hardway.sh")), "644");
            assert.equal(modeOf(path.join(root, LIBRARY_DIGEST)), "755");
            assert.equal(modeOf(root), "755");
            const mtime = fs.statSync(path.join(root, LIBRARY_DIGEST, "hardway.sh")).mtimeMs;
            assert.equal(run().status, 0);
            assert.equal(fs.statSync(path.join(root, LIBRARY_DIGEST, "hardway.sh")).mtimeMs, mtime, "a second run leaves it alone");
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("the library's blob is made once per run and unpacks to the library", () => {
        assert.equal(zlib.gunzipSync(Buffer.from(libraryBlob(), "base64")).toString("utf8"), LIBRARY);
        assert.equal(libraryBlob(), libraryBlob());
        assert.ok(libraryInstall().some((line) => line.includes(libraryBlob())));
    });

    it("reads facts from the last HW_FACTS line", () => {
        assert.deepEqual(parseFacts('noise\nHW_FACTS {"gid":"1"}\nHW_FACTS {"gid":"998"}\n'), { gid: "998" });
        assert.throws(() => parseFacts("nothing"), { message: "the node script printed no facts; its output was:\nnothing" });
    });
});

/**
 * Runs a node script in a scratch root: the same library, with its state
 * directory moved under the scratch directory.
 */
function runInSandbox(root: string, command: string, stdin = ""): { status: number; stdout: string; stderr: string } {
    const script = innerScript(command).replace(`. ${LIBRARY_PATH}`, () => `. ${shq(LIBRARY_FILE)}`);
    // chown to root needs root: as another user, the script runs as root of its own user namespace.
    const [cmd, args] = process.getuid?.() === 0 ? ["bash", ["-c", script]] : ["unshare", ["--map-root-user", "bash", "-c", script]];
    const r = spawnSync(cmd, args, { input: stdin, env: { ...process.env, HW_ROOT: path.join(root, "state") } });
    return { status: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const b64 = (s: string) => Buffer.from(s).toString("base64");
const modeOf = (p: string) => (fs.statSync(p).mode & 0o7777).toString(8);

describe("node script library, run for real in a scratch directory", function () {
    let root: string;
    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "hw-script-"));
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    function converge(component: string, body: string[], secrets: string[] = []): string {
        return nodeScript(component, [...body, 'printf "restart=%s reload=%s\\n" "$hw_restart" "$hw_reload"'], secrets);
    }

    it("writes files atomically, converges once, and undo restores exactly what was there", () => {
        const existing = path.join(root, "etc", "app.conf");
        const oldDir = path.join(root, "etc");
        fs.mkdirSync(oldDir, { mode: 0o750 });
        fs.chmodSync(oldDir, 0o750);
        fs.writeFileSync(existing, "old\n", { mode: 0o640 });
        fs.chmodSync(existing, 0o640);
        const secretFile = path.join(root, "new", "pki", "key.pem");
        const create = converge(
            "demo",
            [
                `hw_dir ${shq(oldDir)} 0755 root root keep`,
                `hw_dir ${shq(path.join(root, "new", "pki"))} 0700 root root purge`,
                fileStep({ path: existing, mode: "0644", owner: "root", group: "root", effect: "restart", content: "new 'content'\n" }),
                fileStep({ path: secretFile, mode: "0600", owner: "root", group: "root", effect: "none", content: { secret: "key" } }),
            ],
            ["key"],
        );
        const stdin = stdinOf({ key: "-----BEGIN TEST SECRET-----\nsecret\n" });

        const first = runInSandbox(root, create, stdin);
        assert.equal(first.status, 0, first.stderr);
        assert.match(first.stdout, /restart=1/);
        assert.equal(fs.readFileSync(existing, "utf8"), "new 'content'\n");
        assert.equal(modeOf(existing), "644");
        assert.equal(modeOf(oldDir), "755");
        assert.equal(fs.readFileSync(secretFile, "utf8"), "-----BEGIN TEST SECRET-----\nsecret\n");
        assert.equal(modeOf(secretFile), "600");
        assert.equal(modeOf(path.dirname(secretFile)), "700");
        assert.deepEqual(fs.readdirSync(path.dirname(secretFile)), ["key.pem"], "no temp file left behind");

        const mtime = fs.statSync(existing).mtimeMs;
        const second = runInSandbox(root, create, stdin);
        assert.equal(second.status, 0, second.stderr);
        assert.match(second.stdout, /restart=0 reload=0/, "nothing changed, nothing to restart");
        assert.equal(fs.statSync(existing).mtimeMs, mtime, "an unchanged file is not rewritten");

        const undo = runInSandbox(root, nodeScript("demo", ["hw_undo"]));
        assert.equal(undo.status, 0, undo.stderr);
        assert.equal(fs.readFileSync(existing, "utf8"), "old\n");
        assert.equal(modeOf(existing), "640");
        assert.equal(modeOf(oldDir), "750");
        assert.equal(fs.existsSync(path.join(root, "new")), false, "directories it made are gone, parents included");
        assert.equal(fs.existsSync(path.join(root, "state")), false, "and so is its journal");
    });

    it("fails before writing anything when a secret is missing, misnamed or empty, naming it", () => {
        const target = path.join(root, "etc", "key.pem");
        const create = converge("demo", [fileStep({ path: target, mode: "0600", owner: "root", group: "root", effect: "none", content: { secret: "tokenB" } })], ["keyA", "tokenB"]);
        const cases: [string, string][] = [
            [stdinOf({ keyA: "one" }), "hardway: error: secret tokenB is missing: stdin ended before it\n"],
            ["", "hardway: error: secret keyA is missing: stdin ended before it\n"],
            [stdinOf({ keyA: "one", other: "two" }), "hardway: error: secret tokenB is missing: stdin has other in its place\n"],
            [`keyA ${b64("one")}\ntokenB \n`, "hardway: error: secret tokenB is empty\n"],
        ];
        for (const [stdin, message] of cases) {
            const r = runInSandbox(root, create, stdin);
            assert.equal(r.status, 1, r.stderr);
            assert.equal(r.stderr, message);
            assert.equal(fs.existsSync(target), false, "nothing was written");
        }
    });

    it("stops at a failing command, naming the phase, the line and the command", () => {
        const r = runInSandbox(root, nodeScript("demo", ["true", "false", "echo never"]));
        assert.equal(r.status, 1);
        assert.equal(r.stderr, "hardway: error: demo: line 5: false (exit 1)\n");
        assert.equal(r.stdout, "");
    });

    it("escapes its facts as JSON", () => {
        const r = runInSandbox(root, nodeScript("demo", [`hw_fact ${shq('a"b')} ${shq('back\\slash\nnew\tline')}`, "hw_print_facts"]));
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(parseFacts(r.stdout), { 'a"b': "back\\slash\nnew\tline" });
    });

    it("downloads with checksum verification, skips a file already in place, and refuses a bad checksum", () => {
        const mirror = path.join(root, "mirror");
        fs.mkdirSync(mirror);
        const payload = crypto.randomBytes(4096);
        fs.writeFileSync(path.join(mirror, "kubelet"), payload);
        const sum = crypto.createHash("sha256").update(payload).digest("hex");
        fs.writeFileSync(path.join(mirror, "kubelet.sha256"), `${sum}  kubelet\n`);
        const bin = path.join(root, "sbin");
        fs.mkdirSync(bin);
        const dest = path.join(bin, "kubelet");
        const fetch = (want: string) => nodeScript("bin", [`hw_fetch ${shq(`file://${mirror}/kubelet`)} ${shq(want)} ${shq(dest)} 0755`]);

        const first = runInSandbox(root, fetch(""));
        assert.equal(first.status, 0, first.stderr);
        assert.match(first.stderr, /downloading/);
        assert.ok(fs.readFileSync(dest).equals(payload));
        assert.equal(modeOf(dest), "755");

        const again = runInSandbox(root, fetch(sum));
        assert.equal(again.status, 0, again.stderr);
        assert.doesNotMatch(again.stderr, /downloading/, "already there with the right hash");

        fs.rmSync(dest);
        const bad = runInSandbox(root, fetch("0".repeat(64)));
        assert.notEqual(bad.status, 0);
        assert.match(bad.stderr, new RegExp(`sha256 mismatch for file://.*: got ${sum}, want 0{64}`));
        assert.equal(fs.existsSync(dest), false, "a bad download never lands");
        assert.deepEqual(fs.readdirSync(bin), [], "nor does its temp file stay");
    });

    it("unpacks a verified tarball file by file, and undo removes exactly those files", () => {
        const src = path.join(root, "src");
        fs.mkdirSync(src);
        fs.writeFileSync(path.join(src, "bridge"), "#!/bin/sh\n");
        fs.writeFileSync(path.join(src, "loopback"), "#!/bin/sh\n");
        const tgz = path.join(root, "cni.tgz");
        execFileSync("tar", ["-czf", tgz, "-C", src, "./bridge", "./loopback"]);
        const sum = crypto.createHash("sha256").update(fs.readFileSync(tgz)).digest("hex");
        const dest = path.join(root, "opt-cni-bin");
        fs.mkdirSync(dest);
        fs.writeFileSync(path.join(dest, "theirs"), "not ours");
        const create = nodeScript("bin", [`hw_fetch_tar ${shq(`file://${tgz}`)} ${sum} ${shq(dest)}`]);
        const r = runInSandbox(root, create);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(fs.readdirSync(dest).sort(), ["bridge", "loopback", "theirs"]);
        assert.equal(modeOf(path.join(dest, "bridge")), "755");
        const again = runInSandbox(root, create);
        assert.doesNotMatch(again.stderr, /downloading/);
        const undo = runInSandbox(root, nodeScript("bin", ["hw_undo"]));
        assert.equal(undo.status, 0, undo.stderr);
        assert.deepEqual(fs.readdirSync(dest), ["theirs"]);
    });
});
