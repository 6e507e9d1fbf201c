/**
 * Rendered files checked by the real tools that read them: systemd-analyze
 * verify on the units, `containerd config dump` on every config version, by
 * Debian's containerd 1.6 and by a containerd 2.x built from its Go module,
 * and openssl verify on issued certificates. .ci/run installs these tools
 * (scripts/setup.sh: Debian's packages, and the containerd 2.x build); a
 * missing tool fails.
 */
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as TOML from "smol-toml";
import { renderContainerdConfig } from "../components/containerd/render";
import { renderKubeletUnit } from "../components/kubelet/render";
import { renderKubeProxyUnit } from "../components/kube-proxy/render";
import { ContainerdConfigVersion, containerdReads, parseVersion, profileFor } from "../components/kube/versions";
import { CONTROL_PLANE_TAINT } from "../components/kube/taints";
import { makeCsr, rsaKeyPem, signCsr } from "./support/pki";
import { testCa } from "./support/program";

const REPO = path.resolve(__dirname, "..");

function tool(name: string): string {
    const r = spawnSync("sh", ["-c", `command -v ${name}`]);
    assert.equal(r.status, 0, `${name} is not installed: .ci/run installs it (see .ci/packages)`);
    return r.stdout.toString().trim();
}

describe("real tools read what the program renders", function () {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hw-tools-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** A root with the binaries and containerd.service the units refer to, and systemd's own units from the host. */
    function unitRoot(name: string): string {
        const root = path.join(dir, name);
        const units = path.join(root, "etc", "systemd", "system");
        fs.mkdirSync(units, { recursive: true });
        fs.mkdirSync(path.join(root, "usr", "local", "sbin"), { recursive: true });
        for (const bin of ["kubelet", "kube-proxy"]) {
            fs.writeFileSync(path.join(root, "usr", "local", "sbin", bin), "#!/bin/sh\n", { mode: 0o755 });
        }
        fs.writeFileSync(path.join(units, "containerd.service"), "[Service]\nExecStart=/bin/true\n");
        // systemd's own targets (multi-user.target, sysinit.target, …).
        fs.mkdirSync(path.join(root, "usr", "lib", "systemd"), { recursive: true });
        fs.cpSync("/usr/lib/systemd/system", path.join(root, "usr", "lib", "systemd", "system"), { recursive: true, verbatimSymlinks: true });
        return root;
    }

    for (const version of ["1.16.2", "1.24.0", "1.37.2"]) {
        it(`systemd-analyze verify accepts kubelet.service and kube-proxy.service for ${version}`, () => {
            tool("systemd-analyze");
            const v = parseVersion(version)!;
            const root = unitRoot(`root-${version}`);
            const units = path.join(root, "etc", "systemd", "system");
            fs.writeFileSync(
                path.join(units, "kubelet.service"),
                renderKubeletUnit({
                    version: v,
                    profile: profileFor(v),
                    nodeName: "cp1",
                    nodeIp: "10.240.0.11",
                    labels: { "node.kubernetes.io/pool": "system" },
                    taints: [CONTROL_PLANE_TAINT],
                    clusterDns: ["10.96.0.10"],
                    clusterDomain: "cluster.local",
                    cgroupDriver: "systemd",
                }),
            );
            fs.writeFileSync(path.join(units, "kube-proxy.service"), renderKubeProxyUnit());
            const r = spawnSync("systemd-analyze", ["verify", `--root=${root}`, "kubelet.service", "kube-proxy.service"], {
                env: { ...process.env, SYSTEMD_LOG_LEVEL: "warning" },
            });
            const out = r.stdout.toString() + r.stderr.toString();
            const ours = out.split("\n").filter((l) => /kubelet\.service|kube-proxy\.service/.test(l));
            assert.equal(r.status, 0, out);
            assert.deepEqual(ours, [], out);
        });
    }

    it("systemd-analyze verify does fail on a broken unit (the check can fail)", () => {
        tool("systemd-analyze");
        const root = unitRoot("root-broken");
        const unit = path.join(root, "etc", "systemd", "system", "broken.service");
        fs.writeFileSync(unit, "[Service]\nExecStart=/usr/local/sbin/missing-binary\nRestart=sometimes\n");
        const r = spawnSync("systemd-analyze", ["verify", `--root=${root}`, "broken.service"], { encoding: "utf8" });
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assert.deepEqual(r.stderr.trim().split("\n").sort(), [
            `${unit}:3: Failed to parse service restart specifier, ignoring: sometimes`,
            "broken.service: Command /usr/local/sbin/missing-binary is not executable: No such file or directory",
        ]);
    });

    /** The containerd 2.x that scripts/setup.sh builds from its Go module (lab/k8s-build.sh containerd); never built here. */
    function containerd2(): string {
        const r = spawnSync("bash", [path.join(REPO, "lab", "k8s-build.sh"), "containerd"], {
            env: { ...process.env, K8S_BUILD_CACHED_ONLY: "1" },
            encoding: "utf8",
        });
        assert.equal(r.status, 0, `containerd 2.x is not built: scripts/setup.sh builds it\n${r.stderr}`);
        return path.join(r.stdout.trim().split("\n").pop()!, "containerd");
    }

    /** Renders a config for the containerd at `binary` (or a version given), and has that containerd read it back. */
    function dump(binary: string, configVersion: ContainerdConfigVersion, renderedFor?: string): { installed: string; config: any; stderr: string } {
        const installed = execFileSync(binary, ["--version"]).toString().split(/\s+/)[2];
        const file = path.join(dir, `config-v${configVersion}-${renderedFor ?? installed}.toml`);
        fs.writeFileSync(
            file,
            renderContainerdConfig({
                configVersion,
                containerdVersion: parseVersion(renderedFor ?? installed)!,
                gid: 4242,
                runcPath: "/usr/sbin/runc",
                cgroupDriver: "systemd",
            }),
        );
        const r = spawnSync(binary, ["--config", file, "config", "dump"], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        return { installed, config: TOML.parse(r.stdout) as any, stderr: r.stderr };
    }

    const reads: [ContainerdConfigVersion, "Debian's" | "2.x"][] = [
        [1, "Debian's"],
        [2, "Debian's"],
        [2, "2.x"],
        [3, "2.x"],
    ];
    for (const [configVersion, which] of reads) {
        it(`containerd config dump: ${which} containerd reads config version ${configVersion}, every key in its place`, () => {
            const binary = which === "Debian's" ? tool("containerd") : containerd2();
            const { installed, config, stderr } = dump(binary, configVersion);
            const v = parseVersion(installed)!;
            assert.equal(v.major >= 2, which === "2.x", `${binary} is containerd ${installed}`);
            assert.ok(containerdReads(v, configVersion));
            // A key under a wrong name is dropped with only a warning (containerd#10132): none may be.
            assert.doesNotMatch(stderr, /unknown key|level=error/i, stderr);
            // (2.x dumps its own newest config version; in version 4, 2.4.2's, [grpc] is a plugin's)
            const grpc = config.version >= 4 ? config.plugins["io.containerd.server.v1.grpc"] : config.grpc;
            assert.deepEqual([grpc.address, grpc.gid], ["/var/run/containerd/containerd.sock", 4242]);
            if (v.major >= 2) {
                // Whatever version it was written in, containerd 2 holds it in the CRI plugins of version 3.
                const images = config.plugins["io.containerd.cri.v1.images"];
                const runtime = config.plugins["io.containerd.cri.v1.runtime"];
                assert.equal(images.snapshotter, "overlayfs");
                assert.equal(images.image_pull_progress_timeout, "2m0s");
                assert.equal(runtime.containerd.default_runtime_name, "runc");
                assert.deepEqual(runtime.containerd.runtimes.runc.runtime_type, "io.containerd.runc.v2");
                assert.deepEqual(
                    [runtime.containerd.runtimes.runc.options.BinaryName, runtime.containerd.runtimes.runc.options.SystemdCgroup],
                    ["/usr/sbin/runc", true],
                );
                assert.deepEqual([runtime.cni.bin_dirs, runtime.cni.conf_dir], [["/opt/cni/bin"], "/etc/cni/net.d"]);
                return;
            }
            const cri = config.plugins["io.containerd.grpc.v1.cri"];
            if (configVersion === 1) {
                // Migrated from the guide's layout: the keys were read, not dropped.
                assert.equal(cri.containerd.snapshotter, "overlayfs");
                assert.equal(cri.containerd.default_runtime.runtime_type, "io.containerd.runtime.v1.linux");
                assert.equal(cri.containerd.default_runtime.runtime_engine, "/usr/sbin/runc");
            } else {
                assert.equal(cri.containerd.default_runtime_name, "runc");
                assert.equal(cri.containerd.runtimes.runc.runtime_type, "io.containerd.runc.v2");
                assert.equal(cri.containerd.runtimes.runc.options.SystemdCgroup, true);
                assert.equal(cri.cni.conf_dir, "/etc/cni/net.d");
            }
        });
    }

    it("containerd 2.x reports a key it does not read (the check above can fail): version 3 as 2.0 wrote its CNI dir", () => {
        const { stderr, config } = dump(containerd2(), 3, "2.0.0");
        const ignored = stderr.split("\n").filter((l) => /Ignoring unknown key/.test(l));
        assert.equal(ignored.length, 1, stderr);
        assert.match(ignored[0], /key="cni bin_dir" plugin=io\.containerd\.cri\.v1\.runtime/);
        assert.deepEqual(config.plugins["io.containerd.cri.v1.runtime"].cni.bin_dirs, ["/opt/cni/bin"], "the default, not the value given");
    });

    it("openssl verify accepts a node certificate against the CA, and names its usage", () => {
        tool("openssl");
        const ca = testCa();
        const cert = signCsr(
            makeCsr({ privateKeyPem: rsaKeyPem(), commonName: "system:node:worker1.vagrant", organization: "system:nodes", dnsNames: ["worker1.vagrant"], ipAddresses: ["192.168.50.21"] }),
            ca,
            ["digital_signature", "key_encipherment", "server_auth"],
            24,
        );
        fs.writeFileSync(path.join(dir, "ca.crt"), ca.certPem);
        fs.writeFileSync(path.join(dir, "node.crt"), cert);
        const ok = spawnSync("openssl", ["verify", "-CAfile", path.join(dir, "ca.crt"), "-purpose", "sslserver", path.join(dir, "node.crt")]);
        assert.equal(ok.status, 0, ok.stdout.toString() + ok.stderr.toString());
        const asClient = spawnSync("openssl", ["verify", "-CAfile", path.join(dir, "ca.crt"), "-purpose", "sslclient", path.join(dir, "node.crt")]);
        assert.notEqual(asClient.status, 0, "a server-auth certificate is not a client certificate");
        const text = execFileSync("openssl", ["x509", "-in", path.join(dir, "node.crt"), "-noout", "-text"]).toString();
        assert.match(text, /IP Address:192\.168\.50\.21/);
        assert.match(text, /DNS:worker1\.vagrant/);
    });
});
