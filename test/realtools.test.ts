/**
 * Rendered files checked by the real tools that read them: systemd-analyze
 * verify on the units, `containerd config dump` on every config version the
 * installed containerd reads, and openssl verify on issued certificates.
 * .ci/run installs these tools from Debian's packages; a missing tool fails.
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

    for (const version of ["1.16.2", "1.24.0", "1.37.2"]) {
        it(`systemd-analyze verify accepts kubelet.service and kube-proxy.service for ${version}`, () => {
            tool("systemd-analyze");
            const v = parseVersion(version)!;
            // A root with the binaries and containerd.service the units refer to.
            const root = path.join(dir, `root-${version}`);
            const units = path.join(root, "etc", "systemd", "system");
            fs.mkdirSync(units, { recursive: true });
            fs.mkdirSync(path.join(root, "usr", "local", "sbin"), { recursive: true });
            for (const bin of ["kubelet", "kube-proxy"]) {
                fs.writeFileSync(path.join(root, "usr", "local", "sbin", bin), "#!/bin/sh\n", { mode: 0o755 });
            }
            fs.writeFileSync(path.join(units, "containerd.service"), "[Service]\nExecStart=/bin/true\n");
            // systemd's own targets (multi-user.target, sysinit.target, …) from the host.
            fs.mkdirSync(path.join(root, "usr", "lib", "systemd"), { recursive: true });
            fs.cpSync("/usr/lib/systemd/system", path.join(root, "usr", "lib", "systemd", "system"), { recursive: true, verbatimSymlinks: true });
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
        const root = path.join(dir, "root-1.37.2");
        const units = path.join(root, "etc", "systemd", "system");
        fs.writeFileSync(path.join(units, "broken.service"), "[Service]\nExecStart=/usr/local/sbin/missing-binary\nRestart=sometimes\n");
        const r = spawnSync("systemd-analyze", ["verify", `--root=${root}`, "broken.service"]);
        const out = r.stdout.toString() + r.stderr.toString();
        assert.match(out, /broken\.service/);
    });

    const versions: [ContainerdConfigVersion, string][] = [
        [1, "1.6.20"],
        [2, "1.6.20"],
        [3, "2.1.4"],
    ];
    for (const [configVersion, renderedFor] of versions) {
        it(`containerd config dump reads config version ${configVersion} when the installed containerd can`, function () {
            tool("containerd");
            const installed = parseVersion(execFileSync("containerd", ["--version"]).toString().split(/\s+/)[2])!;
            if (!containerdReads(installed, configVersion)) {
                // Debian 12 ships containerd 1.6, which cannot read version 3; the
                // renderer's version-3 output is covered by its golden file and parse-back test.
                this.skip();
            }
            const file = path.join(dir, `config-v${configVersion}.toml`);
            fs.writeFileSync(
                file,
                renderContainerdConfig({
                    configVersion,
                    containerdVersion: parseVersion(renderedFor)!,
                    gid: 4242,
                    runcPath: "/usr/sbin/runc",
                    cgroupDriver: "systemd",
                }),
            );
            const dump = TOML.parse(execFileSync("containerd", ["--config", file, "config", "dump"]).toString()) as any;
            assert.equal(dump.grpc.gid, 4242);
            assert.equal(dump.grpc.address, "/var/run/containerd/containerd.sock");
            const cri = dump.plugins["io.containerd.grpc.v1.cri"];
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
