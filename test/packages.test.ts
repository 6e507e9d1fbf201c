/**
 * Packages on both OS families the guide names: the `packageRepos` config,
 * and every install and undo of the node library run for real against stand-in
 * hosts: an os-release file, and stub apt-get/dpkg-query (Debian) or
 * dnf/yum/rpm (RHEL family) executables on PATH that keep a package database in
 * a scratch directory and record every call. No real RHEL-family host can be
 * reached from these machines; these stubs are what runs the RHEL branches.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { defaultPackageRepos } from "../components/config/defaults";
import type { RpmRepo } from "../components/config/types";
import { validateConfig } from "../components/config/validate";
import { containerdInstallScript, containerdInstallUndoScript } from "../components/containerd/plan";
import { renderRpmRepo } from "../components/containerd/render";
import { kubeProxyScript, kubeProxyUndoScript } from "../components/kube-proxy/plan";
import { LIBRARY_PATH, nodeScript, parseFacts, shq } from "../components/node/scripts";
import { systemScript, systemUndoScript } from "../components/system/plan";
import { baseConfig } from "./support/program";
import { configProblems } from "./support/config";

const LIBRARY_FILE = path.resolve(__dirname, "../components/node/scripts/hardway.sh");


const DOCKER: RpmRepo = {
    id: "docker-ce-stable",
    name: "Docker CE Stable - $basearch",
    baseUrl: "https://download.docker.com/linux/centos/$releasever/$basearch/stable",
    gpgKey: "https://download.docker.com/linux/centos/gpg",
};

describe("config: packageRepos", () => {
    const accepted: [string, unknown, { rhel: RpmRepo | null }][] = [
        ["unset: the guide's Docker repository", undefined, { rhel: DOCKER }],
        ["empty: the same", {}, { rhel: DOCKER }],
        [
            "a mirror's base URL: the other fields stay Docker's",
            { rhel: { baseUrl: "https://mirror.corp.example/docker-ce/$releasever/$basearch/stable" } },
            { rhel: { ...DOCKER, baseUrl: "https://mirror.corp.example/docker-ce/$releasever/$basearch/stable" } },
        ],
        [
            "a whole mirror, with a local key file",
            { rhel: { id: "corp.docker_ce-1", name: "Docker (corp)", baseUrl: "http://10.0.0.5/docker", gpgKey: "file:///etc/pki/rpm-gpg/RPM-GPG-KEY-docker" } },
            { rhel: { id: "corp.docker_ce-1", name: "Docker (corp)", baseUrl: "http://10.0.0.5/docker", gpgKey: "file:///etc/pki/rpm-gpg/RPM-GPG-KEY-docker" } },
        ],
        ["rhel: null, the host's own repositories", { rhel: null }, { rhel: null }],
    ];
    for (const [name, value, expected] of accepted) {
        it(`accepts ${name}`, () => {
            const c = validateConfig(baseConfig(value === undefined ? {} : { packageRepos: value }));
            assert.deepEqual(c.packageRepos, expected);
        });
    }

    it("gives each config its own copy of the default", () => {
        const a = validateConfig(baseConfig());
        a.packageRepos.rhel!.baseUrl = "https://changed.example/";
        assert.deepEqual(validateConfig(baseConfig()).packageRepos, { rhel: DOCKER });
        assert.deepEqual(defaultPackageRepos(), { rhel: DOCKER });
    });

    const refused: [string, unknown, string[]][] = [
        ["a list", ["rhel"], ["hardway-workers:packageRepos: must be an object {rhel}"]],
        ["an unknown family", { debian: {} }, ["hardway-workers:packageRepos.debian: is not a known key (known: rhel)"]],
        [
            "rhel as a string",
            { rhel: "docker" },
            ["hardway-workers:packageRepos.rhel: must be an object {id, name, baseUrl, gpgKey}, or null for the host's own repositories"],
        ],
        ["an unknown repository key", { rhel: { gpgcheck: 0 } }, ["hardway-workers:packageRepos.rhel.gpgcheck: is not a known key (known: id, name, baseUrl, gpgKey)"]],
        ["an id that is no file name", { rhel: { id: "../docker" } }, [`hardway-workers:packageRepos.rhel.id: "../docker" is not a repository id (letters, digits, '.', '_' and '-')`]],
        [
            "a name that would add a line to the file",
            { rhel: { name: "Docker\ngpgcheck=0" } },
            [`hardway-workers:packageRepos.rhel.name: "Docker\\ngpgcheck=0" must be one line of text, not empty`],
        ],
        ["an empty name", { rhel: { name: "" } }, [`hardway-workers:packageRepos.rhel.name: "" must be one line of text, not empty`]],
        ["a base URL over ftp", { rhel: { baseUrl: "ftp://mirror.example/docker" } }, [`hardway-workers:packageRepos.rhel.baseUrl: "ftp://mirror.example/docker" must use http or https`]],
        ["a base URL with a space", { rhel: { baseUrl: "https://mirror.example/a b" } }, [`hardway-workers:packageRepos.rhel.baseUrl: "https://mirror.example/a b" is not a URL`]],
        ["a base URL that is no URL", { rhel: { baseUrl: "mirror/docker" } }, [`hardway-workers:packageRepos.rhel.baseUrl: "mirror/docker" is not a URL`]],
        ["a key given as a number", { rhel: { gpgKey: 42 } }, ["hardway-workers:packageRepos.rhel.gpgKey: must be a string, got 42"]],
        ["a key over ftp", { rhel: { gpgKey: "ftp://mirror.example/gpg" } }, [`hardway-workers:packageRepos.rhel.gpgKey: "ftp://mirror.example/gpg" must use http or https`]],
    ];
    for (const [name, value, expected] of refused) {
        it(`refuses ${name}, naming the field`, () => {
            assert.deepEqual(configProblems(baseConfig({ packageRepos: value })), expected);
        });
    }

    it("renders Docker's repository file as Docker publishes it, signatures checked", () => {
        assert.equal(
            renderRpmRepo(DOCKER),
            [
                "[docker-ce-stable]",
                "name=Docker CE Stable - $basearch",
                "baseurl=https://download.docker.com/linux/centos/$releasever/$basearch/stable",
                "enabled=1",
                "gpgcheck=1",
                "gpgkey=https://download.docker.com/linux/centos/gpg",
                "",
            ].join("\n"),
        );
        assert.throws(() => renderRpmRepo({ ...DOCKER, name: "a\nb" }), { message: 'packageRepos.rhel.name: "a\\nb" spans lines' });
    });
});

/**
 * A stand-in host: an os-release file and stub package tools on PATH, in
 * front of the machine's own tools, from which every package tool (and
 * containerd, runc, ipvsadm, systemctl) is left out.
 */
class StandIn {
    readonly dir: string;
    readonly repoDir: string;
    readonly log: string;
    constructor(
        readonly family: "debian" | "rhel-dnf" | "rhel-yum",
        sysbin: string,
    ) {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `hw-${family}-`));
        this.repoDir = path.join(this.dir, "etc", "yum.repos.d");
        this.log = path.join(this.dir, "calls.log");
        for (const d of ["stubs", "installed", "db/pkgs", "db/keys", "etc"]) {
            fs.mkdirSync(path.join(this.dir, d), { recursive: true });
        }
        fs.writeFileSync(path.join(this.dir, "etc", "os-release"), OS_RELEASE[family]);
        fs.writeFileSync(this.log, "");
        const tools = family === "debian" ? ["apt-get", "dpkg-query"] : family === "rhel-dnf" ? ["dnf", "rpm"] : ["yum", "rpm"];
        for (const tool of [...tools, "systemctl"]) {
            fs.writeFileSync(path.join(this.dir, "stubs", tool), STUBS[tool], { mode: 0o755 });
        }
        this.sysbin = sysbin;
    }
    private readonly sysbin: string;

    /** Packages the stub database holds. */
    installed(): string[] {
        return fs.readdirSync(path.join(this.dir, "db/pkgs")).sort();
    }
    keys(): string[] {
        return fs.readdirSync(path.join(this.dir, "db/keys")).sort();
    }
    /** Puts a package in the stub database, as if the host came with it. */
    preinstall(pkg: string): void {
        fs.writeFileSync(path.join(this.dir, "db/pkgs", pkg), "");
    }
    /** The calls recorded since the last take, one line each: tool and arguments. */
    take(): string[] {
        const lines = fs.readFileSync(this.log, "utf8").split("\n").filter(Boolean);
        fs.writeFileSync(this.log, "");
        return lines;
    }

    /** Runs a phase's command text with the library from the source tree, its state and /etc/yum.repos.d moved under the scratch dir. */
    run(command: string): { status: number; stdout: string; stderr: string } {
        const m = /^bash \/dev\/fd\/3 3<<'(HARDWAY_[0-9a-f]+)'\n([\s\S]*)\n\1\n$/.exec(command);
        assert.ok(m, "a command is `bash /dev/fd/3` with the script as a quoted here-document");
        assert.ok(m[2].includes(`\n. ${LIBRARY_PATH}\n`), "it sources the installed library");
        const script = m[2].replace(`\n. ${LIBRARY_PATH}\n`, () => `\n. ${shq(LIBRARY_FILE)}\n`).split("/etc/yum.repos.d/").join(`${this.repoDir}/`);
        const r = spawnSync("bash", ["-c", script], {
            env: {
                PATH: [path.join(this.dir, "stubs"), path.join(this.dir, "installed"), this.sysbin].join(":"),
                HOME: this.dir,
                LANG: "C.UTF-8",
                HW_ROOT: path.join(this.dir, "state"),
                HW_OS_RELEASE: path.join(this.dir, "etc", "os-release"),
                STUB_DIR: this.dir,
            },
        });
        return { status: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
    }
    mustRun(command: string): { stdout: string; stderr: string } {
        const r = this.run(command);
        assert.equal(r.status, 0, r.stderr);
        return r;
    }
}

const OS_RELEASE = {
    debian: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
    "rhel-dnf": 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n',
    "rhel-yum": 'NAME="CentOS Linux"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\n',
};

/** The stub tools. Each records its call, then acts on the package database under $STUB_DIR/db. */
const RECORD = 'printf \'%s\\n\' "$(basename "$0") $*" >>"$STUB_DIR/calls.log"\n';
const PACKAGE_FILES = `
# What a package puts on PATH: containerd and runc come with containerd (Debian) or containerd.io (Docker's RHEL package).
files_of() {
	case "$1" in
	containerd) echo containerd runc ;;
	containerd.io) echo containerd runc ;;
	ipvsadm) echo ipvsadm ;;
	esac
}
version_of() {
	case "$1" in
	containerd) echo 'containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1' ;;
	containerd.io) echo 'containerd containerd.io 1.7.27 05044ec0a9a75232cad458027ca83437aae3f4da' ;;
	esac
}
add() {
	local f
	: >"$STUB_DIR/db/pkgs/$1"
	for f in $(files_of "$1"); do
		if [ "$f" = containerd ]; then
			printf '#!/bin/sh\\necho %s\\n' "'$(version_of "$1")'" >"$STUB_DIR/installed/$f"
		else
			printf '#!/bin/sh\\nexit 0\\n' >"$STUB_DIR/installed/$f"
		fi
		chmod 0755 "$STUB_DIR/installed/$f"
	done
}
del() {
	local f
	rm -f "$STUB_DIR/db/pkgs/$1"
	for f in $(files_of "$1"); do rm -f "$STUB_DIR/installed/$f"; done
}
`;
const RPM_TOOL = `#!/bin/bash
${RECORD}${PACKAGE_FILES}
# dnf and yum: install and remove. containerd.io is only in Docker's repository:
# it installs only when a .repo file under /etc/yum.repos.d has a baseurl, and
# importing that repository's gpgkey adds Docker's key to the rpm database.
[ "$2" = -y ] && [ "$3" = -q ] && [ "$4" = -- ] || { echo "stub: unexpected arguments: $*" >&2; exit 2; }
case "$1" in
install)
	if [ "$5" = containerd.io ]; then
		repo=$(grep -l '^baseurl=' "$STUB_DIR"/etc/yum.repos.d/*.repo 2>/dev/null | head -n 1)
		[ -n "$repo" ] || { echo "Error: Unable to find a match: containerd.io" >&2; exit 1; }
		printf 'stub: installed from %s\\n' "$(grep '^baseurl=' "$repo")" >>"$STUB_DIR/calls.log"
		if grep -q '^gpgkey=https://download.docker.com/' "$repo"; then : >"$STUB_DIR/db/keys/gpg-pubkey-621e9f35-58adea78"; fi
	fi
	add "$5"
	;;
remove) [ -e "$STUB_DIR/db/pkgs/$5" ] || { echo "No match for argument: $5" >&2; exit 1; }; del "$5" ;;
*) echo "stub: unexpected command $1" >&2; exit 2 ;;
esac
`;
const STUBS: Record<string, string> = {
    "apt-get": `#!/bin/bash
${RECORD}${PACKAGE_FILES}
case "$1" in
update) : >"$STUB_DIR/db/apt-updated" ;;
install)
	# A package the host's lists do not know yet fails until apt-get update ran (a fresh image has no lists).
	if [ -e "$STUB_DIR/db/needs-update" ] && [ ! -e "$STUB_DIR/db/apt-updated" ]; then echo "E: Unable to locate package $5" >&2; exit 100; fi
	add "$5"
	;;
purge) del "$5" ;;
*) echo "stub: unexpected command $1" >&2; exit 2 ;;
esac
`,
    "dpkg-query": `#!/bin/bash
${RECORD}[ "$1" = -W ] && [ "$2" = -f ] && [ "$4" = -- ] || { echo "stub: unexpected arguments: $*" >&2; exit 2; }
if [ -e "$STUB_DIR/db/pkgs/$5" ]; then printf 'install ok installed'; else echo "dpkg-query: no packages found matching $5" >&2; exit 1; fi
`,
    dnf: RPM_TOOL,
    yum: RPM_TOOL,
    rpm: `#!/bin/bash
${RECORD}
case "$1 $2" in
"-q --") [ -e "$STUB_DIR/db/pkgs/$3" ] || [ -e "$STUB_DIR/db/keys/$3" ] || { echo "package $3 is not installed"; exit 1; } ;;
"-q gpg-pubkey")
	keys=$(ls "$STUB_DIR/db/keys")
	[ -n "$keys" ] || { echo "package gpg-pubkey is not installed"; exit 1; }
	printf '%s\\n' $keys
	;;
"-e --") rm -f "$STUB_DIR/db/keys/$3" "$STUB_DIR/db/pkgs/$3" ;;
*) echo "stub: unexpected arguments: $*" >&2; exit 2 ;;
esac
`,
    systemctl: `#!/bin/bash
${RECORD}exit 0
`,
};

/** The package tools, services and what the packages bring: never the real ones in a stand-in host. */
const LEFT_OUT = /^(apt|apt-get|apt-cache|apt-mark|dpkg|dpkg-query|dnf|yum|rpm|systemctl|containerd.*|ctr|runc|ipvsadm|firewalld|firewall-cmd)$/;

describe("packages on Debian and RHEL-family hosts, with stub package tools", function () {
    if (process.getuid?.() !== 0) {
        // The library chowns what it writes to root.
        it("needs root to chown (skipped: not root)", function () {
            this.skip();
        });
        return;
    }
    let sysbin: string;
    let hosts: StandIn[] = [];
    before(() => {
        // The machine's own tools, less the package tools and what the packages bring (this machine has a real containerd).
        sysbin = fs.mkdtempSync(path.join(os.tmpdir(), "hw-sysbin-"));
        for (const dir of ["/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]) {
            if (!fs.existsSync(dir)) {
                continue;
            }
            for (const name of fs.readdirSync(dir)) {
                if (!LEFT_OUT.test(name) && !fs.existsSync(path.join(sysbin, name))) {
                    fs.symlinkSync(path.join(dir, name), path.join(sysbin, name));
                }
            }
        }
    });
    after(() => fs.rmSync(sysbin, { recursive: true, force: true }));
    afterEach(() => {
        for (const h of hosts) {
            fs.rmSync(h.dir, { recursive: true, force: true });
        }
        hosts = [];
    });
    const host = (family: StandIn["family"]) => {
        const h = new StandIn(family, sysbin);
        hosts.push(h);
        return h;
    };
    const DOCKER_KEY = "gpg-pubkey-621e9f35-58adea78";

    it("a stand-in host has no containerd, runc or package tool but its stubs", () => {
        const h = host("rhel-dnf");
        const r = h.run(nodeScript("probe", ["for t in containerd runc apt-get dpkg-query yum dnf rpm systemctl ipvsadm; do printf '%s=%s\\n' \"$t\" \"$(command -v \"$t\" || echo none)\"; done", "hw_family"]));
        assert.equal(r.status, 0, r.stderr);
        const stubs = path.join(h.dir, "stubs");
        assert.equal(
            r.stdout,
            `containerd=none\nrunc=none\napt-get=none\ndpkg-query=none\nyum=none\ndnf=${stubs}/dnf\nrpm=${stubs}/rpm\nsystemctl=${stubs}/systemctl\nipvsadm=none\nrhel`,
        );
    });

    it("containerd install on Debian: apt-get installs containerd (after apt-get update when the lists lack it); undo purges it", () => {
        const h = host("debian");
        fs.writeFileSync(path.join(h.dir, "db", "needs-update"), "");
        const create = containerdInstallScript();
        const r = h.mustRun(create);
        assert.deepEqual(h.take(), [
            "dpkg-query -W -f ${Status} -- containerd",
            "apt-get install -y -q -- containerd",
            "apt-get update -q",
            "apt-get install -y -q -- containerd",
        ]);
        assert.deepEqual(parseFacts(r.stdout), { containerdVersion: "1.6.20~ds1", runc: path.join(h.dir, "installed", "runc") });
        assert.deepEqual(h.installed(), ["containerd"]);
        assert.equal(fs.existsSync(h.repoDir), false, "no yum repository on Debian");

        h.mustRun(create);
        assert.deepEqual(h.take(), [], "containerd is there: no package tool runs");

        h.mustRun(containerdInstallUndoScript());
        assert.deepEqual(h.take(), ["dpkg-query -W -f ${Status} -- containerd", "apt-get purge -y -q -- containerd"]);
        assert.deepEqual(h.installed(), []);
    });

    for (const family of ["rhel-dnf", "rhel-yum"] as const) {
        const tool = family === "rhel-dnf" ? "dnf" : "yum";
        it(`containerd install on RHEL with ${tool}: Docker's repository file first, then containerd.io from it; undo removes the key, the package and the file`, () => {
            const h = host(family);
            const create = containerdInstallScript();
            const r = h.mustRun(create);
            assert.deepEqual(h.take(), [
                "rpm -q gpg-pubkey --qf %{NAME}-%{VERSION}-%{RELEASE}\\n",
                "rpm -q -- containerd.io",
                `${tool} install -y -q -- containerd.io`,
                "stub: installed from baseurl=https://download.docker.com/linux/centos/$releasever/$basearch/stable",
                "rpm -q gpg-pubkey --qf %{NAME}-%{VERSION}-%{RELEASE}\\n",
            ]);
            assert.deepEqual(parseFacts(r.stdout), { containerdVersion: "1.7.27", runc: path.join(h.dir, "installed", "runc") });
            const repoFile = path.join(h.repoDir, "docker-ce-stable.repo");
            assert.equal(fs.readFileSync(repoFile, "utf8"), renderRpmRepo(DOCKER));
            assert.equal((fs.statSync(repoFile).mode & 0o777).toString(8), "644");
            assert.deepEqual(fs.readdirSync(h.repoDir), ["docker-ce-stable.repo"], "no temp file is left");
            assert.deepEqual([h.installed(), h.keys()], [["containerd.io"], [DOCKER_KEY]]);

            h.mustRun(create);
            assert.deepEqual(h.take(), [], "containerd is there: no package tool runs");

            h.mustRun(containerdInstallUndoScript());
            assert.deepEqual(h.take(), [
                `rpm -q -- ${DOCKER_KEY}`,
                `rpm -e -- ${DOCKER_KEY}`,
                "rpm -q -- containerd.io",
                `${tool} remove -y -q -- containerd.io`,
            ]);
            assert.deepEqual([h.installed(), h.keys()], [[], []]);
            assert.equal(fs.existsSync(h.repoDir), false, "the repository file goes, and the directory the install made");
        });
    }

    it("containerd install on RHEL, from a mirror: its file replaces one the host had, and undo puts that back; a key the host had stays", () => {
        const h = host("rhel-dnf");
        fs.mkdirSync(h.repoDir, { recursive: true });
        const theirs = path.join(h.repoDir, "corp.repo");
        fs.writeFileSync(theirs, "[corp]\nbaseurl=https://old.corp.example/\n", { mode: 0o600 });
        fs.chmodSync(theirs, 0o600);
        fs.writeFileSync(path.join(h.dir, "db", "keys", DOCKER_KEY), "");
        const mirror: RpmRepo = { id: "corp", name: "Docker (corp)", baseUrl: "https://mirror.corp.example/docker/$releasever/$basearch/stable", gpgKey: "https://mirror.corp.example/docker/gpg" };
        h.mustRun(containerdInstallScript(mirror));
        assert.deepEqual(h.take().filter((l) => l.startsWith("stub:") || l.startsWith("dnf")), [
            "dnf install -y -q -- containerd.io",
            "stub: installed from baseurl=https://mirror.corp.example/docker/$releasever/$basearch/stable",
        ]);
        assert.equal(fs.readFileSync(theirs, "utf8"), renderRpmRepo(mirror));
        h.mustRun(containerdInstallUndoScript());
        assert.deepEqual(h.take(), ["rpm -q -- containerd.io", "dnf remove -y -q -- containerd.io"], "no key was imported, none is removed");
        assert.equal(fs.readFileSync(theirs, "utf8"), "[corp]\nbaseurl=https://old.corp.example/\n");
        assert.equal((fs.statSync(theirs).mode & 0o777).toString(8), "600");
        assert.deepEqual(h.keys(), [DOCKER_KEY]);
    });

    it("containerd install on RHEL with packageRepos.rhel null: no repository file, and a host without one fails at the install, naming it", () => {
        const h = host("rhel-dnf");
        const r = h.run(containerdInstallScript(null));
        assert.equal(r.status, 1);
        assert.equal(
            r.stderr,
            "hardway: installing package containerd.io\nError: Unable to find a match: containerd.io\n" +
                `hardway: error: containerd-install: line ${libraryLine('\tdnf) dnf install -y -q -- "$1" >&2 ;;')}: dnf install -y -q -- "$1" 1>&2 (exit 1)\n`,
        );
        assert.equal(fs.existsSync(h.repoDir), false);
        assert.deepEqual(h.installed(), []);
    });

    it("containerd install on an unknown system: stops, naming the reason", () => {
        const h = host("debian");
        fs.writeFileSync(path.join(h.dir, "etc", "os-release"), "ID=alpine\n");
        const r = h.run(containerdInstallScript());
        assert.equal(r.status, 1);
        assert.equal(r.stderr, "hardway: error: containerd is missing and /etc/os-release names neither a Debian nor a RHEL family system\n");
        assert.deepEqual(h.take(), []);
    });

    it("a package on an unknown system: stops before the journal records it, naming the reason", () => {
        const h = host("debian");
        fs.writeFileSync(path.join(h.dir, "etc", "os-release"), "ID=alpine\n");
        const script = kubeProxyScript({ unit: "kube-proxy.service", files: [], binary: "/usr/local/sbin/kube-proxy", wait: false, ipvs: true });
        const r = h.run(nodeScript("kube-proxy", linesOf(script, /ipvsadm/)));
        assert.equal(r.status, 1);
        assert.equal(
            r.stderr,
            "hardway: installing package ipvsadm\n" +
                "hardway: error: cannot install packages: /etc/os-release names neither a Debian nor a RHEL family system\n" +
                `hardway: error: kube-proxy: line ${libraryLine("\tm=$(hw_pkg_manager)", 0)}: m=$(hw_pkg_manager) (exit 1)\n`,
        );
        assert.equal(fs.existsSync(path.join(h.dir, "state", "kube-proxy", "journal")), false, "nothing was journaled");
    });

    const families = ["debian", "rhel-dnf", "rhel-yum"] as const;
    const remove = { debian: "apt-get purge -y -q --", "rhel-dnf": "dnf remove -y -q --", "rhel-yum": "yum remove -y -q --" };
    const install = { debian: "apt-get install -y -q --", "rhel-dnf": "dnf install -y -q --", "rhel-yum": "yum install -y -q --" };
    const query = (f: (typeof families)[number], pkg: string) => (f === "debian" ? `dpkg-query -W -f \${Status} -- ${pkg}` : `rpm -q -- ${pkg}`);

    /** The lines of a phase's script that handle `what`, with the library call they make. */
    function linesOf(command: string, what: RegExp): string[] {
        const lines = command.split("\n").filter((l) => what.test(l));
        assert.ok(lines.length > 0, `the script has a line for ${what}`);
        return lines;
    }

    for (const f of families) {
        it(`system phase on ${f}: firewalld is removed with its service stopped; undo installs it again`, () => {
            const h = host(f);
            h.preinstall("firewalld");
            // The system phase's own firewalld line (its full script also installs the library under /usr/local/lib).
            const create = nodeScript("system", linesOf(systemScript(), /firewalld/));
            h.mustRun(create);
            assert.deepEqual(h.take(), [query(f, "firewalld"), "systemctl disable --now --quiet firewalld.service", `${remove[f]} firewalld`]);
            assert.deepEqual(h.installed(), []);
            h.mustRun(create);
            assert.deepEqual(h.take(), [query(f, "firewalld")], "gone already: nothing to do");
            h.mustRun(nodeScript("system", linesOf(systemUndoScript(), /^hw_undo$/)));
            assert.deepEqual(h.take(), [query(f, "firewalld"), `${install[f]} firewalld`]);
            assert.deepEqual(h.installed(), ["firewalld"]);
        });

        it(`system phase on ${f}: a host without firewalld is left as it is, and so is its undo`, () => {
            const h = host(f);
            const create = nodeScript("system", linesOf(systemScript(), /firewalld/));
            h.mustRun(create);
            h.mustRun(nodeScript("system", ["hw_undo"]));
            assert.deepEqual(h.take(), [query(f, "firewalld")]);
            assert.deepEqual(h.installed(), []);
        });

        it(`kube-proxy phase in ipvs mode on ${f}: ipvsadm installed when missing; undo removes it`, () => {
            const h = host(f);
            const script = kubeProxyScript({ unit: "kube-proxy.service", files: [], binary: "/usr/local/sbin/kube-proxy", wait: false, ipvs: true });
            const create = nodeScript("kube-proxy", linesOf(script, /ipvsadm/));
            h.mustRun(create);
            assert.deepEqual(h.take(), [query(f, "ipvsadm"), `${install[f]} ipvsadm`]);
            assert.deepEqual(h.installed(), ["ipvsadm"]);
            h.mustRun(create);
            assert.deepEqual(h.take(), [], "ipvsadm is on PATH: nothing to do");
            h.mustRun(nodeScript("kube-proxy", linesOf(kubeProxyUndoScript(), /^hw_undo$/)));
            // (the phase's undo stops kube-proxy first)
            assert.deepEqual(h.take(), ["systemctl stop kube-proxy.service", query(f, "ipvsadm"), `${remove[f]} ipvsadm`]);
            assert.deepEqual(h.installed(), []);
        });

        it(`kube-proxy phase in ipvs mode on ${f}: an ipvsadm the host had stays on undo`, () => {
            const h = host(f);
            h.preinstall("ipvsadm");
            const script = kubeProxyScript({ unit: "kube-proxy.service", files: [], binary: "/usr/local/sbin/kube-proxy", wait: false, ipvs: true });
            h.mustRun(nodeScript("kube-proxy", [...linesOf(script, /ipvsadm/).map((l) => l.replace("command -v ipvsadm >/dev/null 2>&1 || ", ""))]));
            h.mustRun(nodeScript("kube-proxy", ["hw_undo"]));
            assert.deepEqual(h.take(), [query(f, "ipvsadm"), "systemctl stop kube-proxy.service"]);
            assert.deepEqual(h.installed(), ["ipvsadm"]);
        });
    }

    it("kube-proxy phase in iptables mode installs no package", () => {
        const script = kubeProxyScript({ unit: "kube-proxy.service", files: [], binary: "/usr/local/sbin/kube-proxy", wait: false, ipvs: false });
        assert.doesNotMatch(script, /ipvsadm|hw_pkg/);
    });
});

/** The number of the line of the library that reads `text` (the `nth` such line, from 0). */
function libraryLine(text: string, nth?: number): number {
    const lines = fs.readFileSync(LIBRARY_FILE, "utf8").split("\n");
    const at = lines.flatMap((l, i) => (l === text ? [i + 1] : []));
    if (nth === undefined) {
        assert.equal(at.length, 1, `the library has one line ${JSON.stringify(text)}`);
        return at[0];
    }
    assert.ok(at.length > nth, `the library has a line ${JSON.stringify(text)}`);
    return at[nth];
}
