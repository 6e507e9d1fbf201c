/**
 * What a provisioned node must look like, checked on the lab's real nodes
 * and cluster. The emulated suite (nodes.e2e.ts) and the engine suite
 * (test/engine) run the same checks.
 */
import { strict as assert } from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as TOML from "smol-toml";
import { formatVersion, parseVersion } from "../../components/kube/versions";
import { LabNode, readLabCluster } from "../../scripts/labstack";
import { kubectl, kubectlJson, tlsPeer } from "./harness";
import { lab, nodeExec } from "./lab";

/** Every file and directory from the guide: path, type, mode, owner, group. */
export const EXPECTED_FILES: [string, string, string, string, string][] = [
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

export function checkFiles(node: string): void {
    const out = nodeExec(node, `stat -c '%n|%F|%a|%U|%G' ${EXPECTED_FILES.map((e) => e[0]).join(" ")}`);
    assert.deepEqual(
        out.trim().split("\n").map((l) => l.split("|")),
        EXPECTED_FILES,
    );
    const stray = nodeExec(node, "find /etc/kubernetes /etc/cni /opt/cni /usr/local/sbin /etc/containerd /etc/systemd/system -name '*.hw-tmp' -print");
    assert.equal(stray, "", "no temp file is left behind");
}

/** Modification times of every guide file on a node (a no-op run rewrites none). */
export function fileMtimes(node: string): string {
    return nodeExec(node, `stat -c '%n %Y' ${EXPECTED_FILES.map((e) => e[0]).join(" ")}`);
}

/** The guide's CN, O and SANs, verified against the lab CA with openssl; the key on the node is the certificate's. */
export function checkCertificates(nodes: LabNode[]): void {
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
            for (const base of ["kubelet", "kube-proxy"]) {
                const keyPub = nodeExec(n.name, `openssl pkey -in /etc/kubernetes/pki/${base}.key -pubout`);
                const certPub = nodeExec(n.name, `openssl x509 -in /etc/kubernetes/pki/${base}.crt -noout -pubkey`);
                assert.equal(keyPub, certPub, `${n.name}: ${base}.key is the key of ${base}.crt`);
            }
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** containerd carries the real kubernetes gid and runs; the units verify and are enabled. */
export function checkContainerdAndUnits(nodes: LabNode[]): void {
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
}

/** Every node registered and Ready on `version`, at its own IP; the control-plane taint on control-plane nodes only. Returns the Node objects by name. */
export function checkClusterNodes(nodes: LabNode[], version: string): Map<string, any> {
    const list = kubectlJson("get", "nodes").items;
    assert.deepEqual(list.map((n: any) => n.metadata.name).sort(), nodes.map((n) => n.name).sort());
    for (const n of nodes) {
        const obj = list.find((x: any) => x.metadata.name === n.name);
        assert.equal(obj.status.conditions.find((c: any) => c.type === "Ready").status, "True", `${n.name} is Ready`);
        assert.equal(obj.status.nodeInfo.kubeletVersion, `v${version}`);
        assert.deepEqual(
            obj.status.addresses.filter((a: any) => a.type === "InternalIP").map((a: any) => a.address),
            [n.ip],
        );
        // (node.kubernetes.io/* taints come and go with the node lifecycle controller)
        const taints = (obj.spec.taints ?? []).map((t: any) => `${t.key}:${t.effect}`).filter((t: string) => !t.startsWith("node.kubernetes.io/"));
        assert.deepEqual(taints, n.role === "control-plane" ? ["node-role.kubernetes.io/control-plane:NoSchedule"] : [], `${n.name} taints`);
    }
    return new Map(list.map((x: any) => [x.metadata.name, x]));
}

/** Which nodes are Ready, as [name, status] pairs sorted by name. */
export function readiness(): [string, string][] {
    return kubectlJson("get", "nodes")
        .items.map((n: any): [string, string] => [n.metadata.name, n.status.conditions.find((c: any) => c.type === "Ready")?.status ?? "Unknown"])
        .sort();
}

/** Each kubelet's client certificate came from exactly one approved CSR of system:bootstrap:<tokenId>, signed by the lab CA. */
export function checkTlsBootstrapping(nodes: LabNode[], tokenId: string): void {
    const secret = kubectlJson("-n", "kube-system", "get", "secret", `bootstrap-token-${tokenId}`);
    assert.equal(secret.type, "bootstrap.kubernetes.io/token");
    const csrs = kubectlJson("get", "csr").items;
    for (const n of nodes) {
        const current = nodeExec(n.name, "openssl x509 -in /etc/kubernetes/pki/kubelet-client-current.pem");
        const subject = nodeExec(n.name, "openssl x509 -in /etc/kubernetes/pki/kubelet-client-current.pem -noout -subject").trim();
        assert.equal(subject, `subject=O = system:nodes, CN = system:node:${n.name}`);
        const issued = csrs.filter(
            (c: any) => c.status?.certificate && Buffer.from(c.status.certificate, "base64").toString("utf8").trim() === current.trim(),
        );
        assert.equal(issued.length, 1, `${n.name}: exactly one CSR issued its client certificate`);
        const csr = issued[0];
        assert.equal(csr.spec.username, `system:bootstrap:${tokenId}`);
        assert.ok(csr.spec.groups.includes("system:bootstrappers"));
        assert.equal(csr.spec.signerName, "kubernetes.io/kube-apiserver-client-kubelet");
        assert.ok(csr.status.conditions.some((c: any) => c.type === "Approved" && c.status === "True"), `${n.name}: CSR approved`);
        execFileSync("bash", ["-c", 'openssl verify -CAfile "$1" <(printf "%s" "$2")', "_", lab().caCertFile, current]);
    }
}

/** The API server reaches each kubelet through its serving certificate, which verifies for the node's IP and FQDN. */
export async function checkKubeletServing(nodes: LabNode[]): Promise<void> {
    for (const n of nodes) {
        // kube-apiserver runs with --kubelet-certificate-authority: it verifies the kubelet's certificate.
        assert.equal(kubectl("get", "--raw", `/api/v1/nodes/${n.name}/proxy/healthz`).trim(), "ok");
        const configz = JSON.parse(kubectl("get", "--raw", `/api/v1/nodes/${n.name}/proxy/configz`));
        assert.equal(configz.kubeletconfig.tlsCertFile, "/etc/kubernetes/pki/kubelet.crt");
        for (const host of [n.ip, n.fqdn]) {
            const peer = await tlsPeer(n.ip, 10250, host, fs.readFileSync(lab().caCertFile, "utf8"));
            // (the order of the subject's attributes is the issuer's: @pulumi/tls puts O first)
            assert.deepEqual(peer.subject.split(",").sort(), [`CN=system:node:${n.fqdn}`, "O=system:nodes"], `${n.name} via ${host}`);
        }
    }
}

/** kube-proxy runs and programs the kubernetes Service with its endpoint (iptables mode: the lab kernel has no ip_vs). */
export function checkKubeProxyRules(nodes: LabNode[]): void {
    assert.equal(fs.existsSync("/proc/net/ip_vs"), false, "this lab kernel has no ip_vs; if it gains it, check ipvs here");
    const svcIp = kubectlJson("-n", "default", "get", "service", "kubernetes").spec.clusterIP;
    for (const n of nodes) {
        assert.equal(nodeExec(n.name, "systemctl is-active kube-proxy").trim(), "active");
        const rules = nodeExec(n.name, "iptables -w -t nat -S KUBE-SERVICES");
        assert.match(rules, new RegExp(`-d ${svcIp.replace(/\./g, "\\.")}/32 .*--dport 443 .*-j KUBE-SVC-`), `${n.name}: the kubernetes service is programmed`);
        const svcChain = /-j (KUBE-SVC-\S+)/.exec(rules.split("\n").find((l) => l.includes(`-d ${svcIp}/32`))!)![1];
        assert.match(nodeExec(n.name, `iptables -w -t nat -S ${svcChain}`), /-j KUBE-SEP-/, `${n.name}: with its endpoint`);
    }
}

/** The real kubelet and kube-proxy accepted every rendered flag and field; the only deprecated flag is the seed's --register-node. */
export function checkNothingRejected(nodes: LabNode[]): void {
    for (const n of nodes) {
        const kubelet = nodeExec(n.name, "journalctl -u kubelet --no-pager -o cat");
        const proxy = nodeExec(n.name, "journalctl -u kube-proxy --no-pager -o cat");
        for (const [unit, log] of [["kubelet", kubelet], ["kube-proxy", proxy]]) {
            assert.doesNotMatch(log, /unknown flag|strict decoding error|unknown field|lenient decoding/i, `${n.name} ${unit} rejected something`);
        }
        const deprecated = [...new Set(kubelet.match(/Flag --[a-z-]+ has been deprecated/g) ?? [])];
        assert.deepEqual(deprecated, ["Flag --register-node has been deprecated"], `${n.name}: deprecated kubelet flags`);
    }
}

/** When each unit's current main process started, per node ("unit=monotonic µs"): a restart changes it. */
export function unitStarts(nodes: LabNode[], units = ["containerd", "kubelet", "kube-proxy"]): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const n of nodes) {
        out[n.name] = {};
        for (const u of units) {
            out[n.name][u] = nodeExec(n.name, `systemctl show -p ExecMainStartTimestampMonotonic --value ${u}`).trim();
        }
    }
    return out;
}

/** The units that restarted between two `unitStarts`, per node. */
export function restartedUnits(before: Record<string, Record<string, string>>, after: Record<string, Record<string, string>>): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [node, units] of Object.entries(before)) {
        out[node] = Object.keys(units).filter((u) => after[node]?.[u] !== units[u]);
    }
    return out;
}

/** What the program reported of one node's containerd (the stack output `nodes`). */
export interface ReportedContainerd {
    name: string;
    containerdVersion: string;
    containerdConfigVersion: number;
}

/**
 * Both containerd paths in one cluster: the lab's containerd 2.x node runs
 * 2.x from /usr/local/bin with the version-3 config the program picked for
 * it, every other node Debian's 1.6 with version 2; as the program reported
 * it, as the node runs it and as the kubelet reports it; the running
 * containerd ignored no key of its config; and each node is Ready.
 */
export function checkContainerdPaths(nodes: LabNode[], reported: ReportedContainerd[], containerd2: { node: string; version: string }): void {
    assert.ok(nodes.some((n) => n.name === containerd2.node), `the containerd 2.x node ${containerd2.node} is one of the nodes`);
    assert.ok(nodes.some((n) => n.name !== containerd2.node), "and some node runs Debian's containerd");
    const objects = kubectlJson("get", "nodes").items;
    const rows = nodes.map((n) => {
        const pid = nodeExec(n.name, "systemctl show -p MainPID --value containerd").trim();
        const version = nodeExec(n.name, "containerd --version").trim().split(/\s+/)[2];
        const config = TOML.parse(nodeExec(n.name, "cat /etc/containerd/config.toml")) as { version?: number };
        const obj = objects.find((o: any) => o.metadata.name === n.name);
        const r = reported.find((x) => x.name === n.name)!;
        // Only the running process's messages: the node's first start read Debian's default config.
        const ignored = nodeExec(n.name, `journalctl _SYSTEMD_UNIT=containerd.service _PID=${pid} --no-pager -o cat`)
            .split("\n")
            .filter((l) => /unknown key/i.test(l));
        return {
            node: n.name,
            binary: nodeExec(n.name, `readlink /proc/${pid}/exe`).trim(),
            major: parseVersion(version)!.major,
            reported: [r.containerdVersion, r.containerdConfigVersion],
            file: config.version,
            runtime: obj.status.nodeInfo.containerRuntimeVersion,
            ready: obj.status.conditions.find((c: any) => c.type === "Ready").status,
            ignored,
            _version: version,
        };
    });
    assert.deepEqual(
        rows.map(({ _version, ...row }) => row),
        rows.map((row) => {
            const two = row.node === containerd2.node;
            return {
                node: row.node,
                binary: two ? "/usr/local/bin/containerd" : "/usr/bin/containerd",
                major: two ? 2 : 1,
                reported: [formatVersion(parseVersion(row._version)!), two ? 3 : 2],
                file: two ? 3 : 2,
                // (the kubelet reports the runtime's version as semver: 1.6.20~ds1 as 1.6.20, v2.4.2 as 2.4.2)
                runtime: `containerd://${formatVersion(parseVersion(row._version)!)}`,
                ready: "True",
                ignored: [],
            };
        }),
    );
    assert.equal(rows.find((r) => r.node === containerd2.node)!._version, containerd2.version, "the node runs the lab's containerd 2.x build");
}

/** Watches every Node's spec.unschedulable; `most` is the largest number cordoned at one moment. */
export class CordonWatch {
    readonly cordoned = new Map<string, boolean>();
    readonly seen = new Set<string>();
    most = 0;
    private readonly proc: ChildProcess;
    private buffered = "";

    constructor() {
        const c = readLabCluster()!;
        this.proc = spawn(c.kubectl, [
            "--kubeconfig",
            c.kubeconfig,
            "get",
            "nodes",
            "--watch",
            "--output-watch-events",
            "-o",
            `jsonpath={.object.metadata.name} {.object.spec.unschedulable}{"\\n"}`,
        ]);
        this.proc.stdout!.on("data", (d: Buffer) => {
            this.buffered += d.toString();
            const lines = this.buffered.split("\n");
            this.buffered = lines.pop()!;
            for (const line of lines) {
                const [name, unschedulable] = line.trim().split(" ");
                if (!name) {
                    continue;
                }
                this.cordoned.set(name, unschedulable === "true");
                if (unschedulable === "true") {
                    this.seen.add(name);
                }
                this.most = Math.max(this.most, [...this.cordoned.values()].filter(Boolean).length);
            }
        });
    }

    stop(): void {
        this.proc.kill();
    }
}
