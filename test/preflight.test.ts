/**
 * Preflight (components/system/preflight.ts, preflight.sh): the plan of
 * checks by version and mode, the report parser, the system phase's text,
 * and the checks' shell functions run for real on this machine.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import { validateConfig } from "../components/config/validate";
import { renderKubeletConfig } from "../components/kubelet/render";
import { kubeletInput } from "../components/kubelet/plan";
import { parseVersion } from "../components/kube/versions";
import { LIBRARY_DIGEST } from "../components/node/scripts";
import { PREFLIGHT_LIBRARY, kernelFiles, needsCgroupV2, parsePreflight, preflightChecks, preflightError } from "../components/system/preflight";
import { preflightInputOf, systemPlan, systemPlanFor } from "../components/system/plan";
import { baseConfig } from "./support/program";

const v = (text: string) => parseVersion(text)!;

describe("preflight: the plan", () => {
    it("checks swap, the mode's modules, the two sysctls, both ports, disk and the cgroup version, in that order", () => {
        const names = (mode: "ipvs" | "iptables" | "nftables") =>
            preflightChecks({ node: "w", kubernetesVersion: v("1.34.4"), kubeProxyMode: mode }).map((c) => [c.check, ...c.args].join(" "));
        assert.deepEqual(names("iptables"), [
            "swap",
            "module overlay",
            "module br_netfilter",
            "sysctl net.ipv4.ip_forward",
            "sysctl net.bridge.bridge-nf-call-iptables",
            "port 10250 kubelet.service",
            "port 10256 kube-proxy.service",
            "disk /var/lib 2048",
            "disk /usr/local 512",
            "cgroup any",
        ]);
        assert.deepEqual(names("nftables"), names("iptables"));
        assert.deepEqual(
            names("ipvs").filter((n) => n.startsWith("module")),
            ["module overlay", "module br_netfilter", "module ip_vs", "module ip_vs_rr", "module ip_vs_wrr", "module ip_vs_sh"],
        );
    });

    it("cgroup v2 is required from 1.35, unless failCgroupV1 is false", () => {
        const table: [string, boolean | undefined, boolean][] = [
            ["1.16.2", undefined, false],
            ["1.34.4", undefined, false],
            ["1.34.4", true, false],
            ["1.35.0", undefined, true],
            ["1.35.0", true, true],
            ["1.35.0", false, false],
            ["1.37.2", undefined, true],
            ["1.37.2", false, false],
        ];
        for (const [version, fail, want] of table) {
            assert.equal(needsCgroupV2(v(version), fail), want, `${version} failCgroupV1=${fail}`);
        }
    });

    it("the system phase runs the preflight before it lays down anything, and a version change changes its text", () => {
        const cluster = validateConfig(baseConfig({ kubernetesVersion: "1.34.4", kubeProxyMode: "iptables" }));
        const plan = systemPlanFor({ name: "worker1" }, cluster);
        const text = plan.create;
        const preflightAt = text.indexOf("hw_pf_swap\n");
        assert.ok(preflightAt > 0);
        assert.ok(preflightAt < text.indexOf(`hw_lib_dir=`), "before the library is unpacked");
        assert.ok(text.indexOf("hw_pf_end worker1\n") < text.indexOf(`hw_lib_dir=`));
        assert.ok(text.includes("# Preflight for Kubernetes 1.34.4, kube-proxy iptables"));
        const newer = systemPlanFor({ name: "worker1" }, validateConfig(baseConfig({ kubernetesVersion: "1.35.1", kubeProxyMode: "iptables" })));
        assert.notEqual(newer.create, text, "a version change runs the system phase, and so the preflight, again");
        assert.ok(newer.create.includes("hw_pf_cgroup v2\n"));
        assert.deepEqual(preflightInputOf({ name: "worker1" }, cluster), { node: "worker1", kubernetesVersion: v("1.34.4"), kubeProxyMode: "iptables", failCgroupV1: undefined });
        // The kernel setup: modules at boot and sysctls, in files the phase owns (undo removes them).
        assert.deepEqual(
            plan.files.map((f) => f.path),
            ["/etc/tmpfiles.d/hardway-kubernetes.conf", "/etc/modules-load.d/hardway-kubernetes.conf", "/etc/sysctl.d/99-hardway-kubernetes.conf"],
        );
        assert.equal(kernelFiles("iptables")[1].content, "# hardway-workers: what Kubernetes networking needs.\nnet.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\n");
        assert.ok(text.includes("\nhw_sysctl net.ipv4.ip_forward 1\nhw_sysctl net.bridge.bridge-nf-call-iptables 1\n"));
        // Without a preflight the phase is the node-independent one it was.
        assert.ok(!systemPlan().create.includes("hw_pf_"));
        assert.ok(systemPlan().create.includes(LIBRARY_DIGEST));
    });

    it("failCgroupV1: in the kubelet's config only when set; refused before 1.31", () => {
        const cluster = (extra: Record<string, unknown>) => validateConfig(baseConfig({ kubernetesVersion: "1.35.1", ...extra }));
        const node = { name: "w", ip: "10.0.0.1", labels: {}, taints: [] };
        assert.doesNotMatch(renderKubeletConfig(kubeletInput(node, cluster({}))), /failCgroupV1/);
        assert.match(renderKubeletConfig(kubeletInput(node, cluster({ failCgroupV1: "false" }))), /^failCgroupV1: false$/m);
        assert.throws(
            () => validateConfig(baseConfig({ kubernetesVersion: "1.30.14", failCgroupV1: "false" })),
            (e: Error) => e.message.includes("hardway-workers:failCgroupV1: needs Kubernetes 1.31 or newer: the kubelet of 1.30.14 has no such setting"),
        );
    });
});

describe("preflight: the report", () => {
    it("parses the report lines, in order, and ignores other output", () => {
        const table: [string, ReturnType<typeof parsePreflight>][] = [
            ["", []],
            ["HW_FACTS {}\n", []],
            ["HW_PREFLIGHT\tswap\tok\tno swap\n", [{ check: "swap", ok: true, detail: "no swap" }]],
            [
                "noise\nHW_PREFLIGHT\tport 10250\tfail\tport 10250 is in use by nc (pid 7), not by kubelet.service\nHW_PREFLIGHT\tcgroup\tok\tcgroup v2\n",
                [
                    { check: "port 10250", ok: false, detail: "port 10250 is in use by nc (pid 7), not by kubelet.service" },
                    { check: "cgroup", ok: true, detail: "cgroup v2" },
                ],
            ],
            ["HW_PREFLIGHT\tdisk /var/lib\tok\ta\tb\n", [{ check: "disk /var/lib", ok: true, detail: "a\tb" }]],
        ];
        for (const [text, want] of table) {
            assert.deepEqual(parsePreflight(text), want, JSON.stringify(text));
        }
        assert.throws(() => parsePreflight("HW_PREFLIGHT\tswap\tmaybe\tx\n"), (e: Error) => e.message === 'a preflight line has no status ok or fail: "HW_PREFLIGHT\\tswap\\tmaybe\\tx"');
    });

    it("the error names the node and each failed check", () => {
        assert.equal(
            preflightError("worker1", [
                { check: "swap", ok: false, detail: "swap is on (/swapfile): turn it off (swapoff -a, and in /etc/fstab)" },
                { check: "port 10256", ok: false, detail: "port 10256 is in use by x (pid 1), not by kube-proxy.service" },
            ]),
            "hardway: error: node worker1: preflight swap: swap is on (/swapfile): turn it off (swapoff -a, and in /etc/fstab)\n" +
                "hardway: error: node worker1: preflight port 10256: port 10256 is in use by x (pid 1), not by kube-proxy.service\n",
        );
    });
});

/** Runs preflight checks with the real functions on this machine; returns the report, the stderr and the status. */
function runChecks(lines: string[]): { results: ReturnType<typeof parsePreflight>; stderr: string; status: number } {
    const r = spawnSync("bash", ["-c", [PREFLIGHT_LIBRARY, ...lines].join("\n")], { encoding: "utf8" });
    return { results: parsePreflight(r.stdout), stderr: r.stderr, status: r.status ?? -1 };
}

describe("preflight: the checks, run for real on this machine", () => {
    it("a port: free, or in use by a process that is not the unit, named with its pid", async () => {
        const server = net.createServer();
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const port = (server.address() as net.AddressInfo).port;
        try {
            const taken = runChecks([`hw_pf_port ${port} kubelet.service`, "hw_pf_end testnode"]);
            assert.equal(taken.status, 1);
            const comm = fs.readFileSync(`/proc/${process.pid}/comm`, "utf8").trim();
            const detail = `port ${port} is in use by ${comm} (pid ${process.pid}), not by kubelet.service`;
            assert.deepEqual(taken.results, [{ check: `port ${port}`, ok: false, detail }]);
            assert.equal(taken.stderr, `hardway: error: node testnode: preflight port ${port}: ${detail}\n`);
        } finally {
            await new Promise((resolve) => server.close(resolve));
        }
        const free = runChecks([`hw_pf_port ${port} kubelet.service`, "hw_pf_end testnode"]);
        assert.deepEqual([free.status, free.results], [0, [{ check: `port ${port}`, ok: true, detail: "free" }]]);
    });

    it("disk, cgroup, sysctl and module: the failures say what is wrong", () => {
        const v2 = fs.existsSync("/sys/fs/cgroup/cgroup.controllers");
        const r = runChecks([
            "hw_pf_disk /var/lib 999999999",
            "hw_pf_cgroup v2",
            "hw_pf_cgroup any",
            "hw_pf_sysctl net.no.such_key",
            "hw_pf_module hw_no_such_module",
            "hw_pf_module overlay",
            "hw_pf_end testnode",
        ]);
        assert.equal(r.status, 1);
        assert.deepEqual(
            r.results.map((x) => [x.check, x.ok]),
            [["disk /var/lib", false], ["cgroup", v2], ["cgroup", true], ["sysctl net.no.such_key", false], ["module hw_no_such_module", false], ["module overlay", true]],
        );
        assert.match(r.results[0].detail, /^only \d+ MiB free under \/var\/lib, at least 999999999 MiB needed$/);
        assert.equal(r.results[2].detail, v2 ? "cgroup v2" : "cgroup v1");
        if (!v2) {
            assert.equal(
                r.results[1].detail,
                "the host runs cgroup v1, which the kubelet refuses from 1.35: move the host to cgroup v2, or set hardway-workers:failCgroupV1 false (cgroup v1 support is deprecated)",
            );
        }
        assert.equal(r.results[3].detail, "net.no.such_key does not exist on this kernel (/proc/sys/net/no/such_key)");
        assert.equal(r.results[4].detail, "kernel module hw_no_such_module is neither in the running kernel nor loadable (modprobe -n hw_no_such_module)");
        assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("hardway: error: node testnode: preflight ")).length, v2 ? 3 : 4);
    });

    it("nothing else runs after a failed preflight", () => {
        const r = spawnSync("bash", ["-c", [PREFLIGHT_LIBRARY, "hw_pf_sysctl net.no.such_key", "hw_pf_end n", "echo wrote-something"].join("\n")], { encoding: "utf8" });
        assert.equal(r.status, 1);
        assert.doesNotMatch(r.stdout, /wrote-something/);
    });
});
