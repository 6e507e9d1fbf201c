/**
 * Each phase's plan as a table: plain values in (the node, the cluster
 * config, the facts the node printed, a certificate PEM), plain data out
 * (files, units, secret names, packages, downloads). No Pulumi: the plans
 * are pure, and load no Pulumi package (checked below in a fresh process).
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as path from "path";
import * as YAML from "yaml";
import { binariesPlan } from "../components/binaries/plan";
import { bootstrapManifestsOf, bootstrapTokenPlan } from "../components/bootstrap-token/plan";
import type { WorkerConfig } from "../components/config/types";
import { defaultPackageRepos } from "../components/config/defaults";
import { containerdConfigPlan, containerdInstallPlan, installedContainerd } from "../components/containerd/plan";
import { kubeProxyCertificate, kubeProxyPlan } from "../components/kube-proxy/plan";
import { kubeletCertificate, kubeletPlan } from "../components/kubelet/plan";
import { CONTROL_PLANE_TAINT, Taint } from "../components/kube/taints";
import { parseVersion, profileFor } from "../components/kube/versions";
import { PhasePlan } from "../components/node/plan";
import { FileStep, LIBRARY_PATH } from "../components/node/scripts";
import { kubernetesGidOf, systemPlan } from "../components/system/plan";

const REPO = path.resolve(__dirname, "..");

/** A cluster config as plain values: what the plans read of a validated config (no secrets, no Outputs). */
type PlainCluster = Omit<WorkerConfig, "caKeyPem" | "sshPrivateKey" | "bootstrapToken" | "apiAdmin" | "nodes">;

function cluster(version: string, patch: Partial<PlainCluster> = {}): PlainCluster {
    const v = parseVersion(version)!;
    const profile = profileFor(v);
    return {
        kubernetesVersion: v,
        profile,
        apiServer: "https://front.vagrant:6443",
        clusterName: "vagtestcluster",
        clusterCidr: "10.244.0.0/16",
        clusterDns: ["10.96.0.10"],
        clusterDomain: "cluster.local",
        kubeProxyMode: "ipvs",
        cgroupDriver: profile === "seed" ? "cgroupfs" : "systemd",
        containerdConfigVersion: "auto",
        caCertPem: "CA\n",
        caBundlePem: "CA BUNDLE\n",
        sshUser: "root",
        bootstrapTokenTtlHours: 0,
        certValidityHours: 8760,
        certRenewBeforeHours: 720,
        waitForServices: true,
        rollout: { maxUnavailable: 1 },
        nodeReadyTimeoutSeconds: 300,
        drainTimeoutSeconds: 120,
        downloads: {
            kubernetesBaseUrl: "https://dl.example/release",
            crictlBaseUrl: "https://crictl.example",
            cniBaseUrl: "https://cni.example",
            crictlVersion: "1.37.0",
            cniVersion: "1.6.2",
            arch: "amd64",
            sha256: {},
        },
        packageRepos: defaultPackageRepos(),
        ...patch,
    };
}

const worker = { name: "worker1", fqdn: "worker1.vagrant", ip: "192.168.50.21", labels: {}, taints: [] as Taint[] };
const controlPlane = { name: "cp1", fqdn: "cp1.vagrant", ip: "192.168.50.11", labels: { "node.kubernetes.io/pool": "a" }, taints: [CONTROL_PLANE_TAINT] };

/** A file as a table row: path, mode, effect, and `secret:<name>` or `text`. */
function row(f: FileStep): string {
    return `${f.path} ${f.mode} ${f.owner}:${f.group} ${f.effect} ${typeof f.content === "string" ? "text" : `secret:${f.content.secret}`}`;
}

/** What holds for every plan: its script reads the secrets it names, sources the library, and undoes its own journal. */
function checkPlan(plan: PhasePlan): void {
    assert.match(plan.create, new RegExp(`^HW_COMPONENT=${plan.component}$`, "m"));
    assert.ok(plan.create.includes(`\nHW_SECRETS=(${plan.secrets.join(" ")})\n`), "HW_SECRETS lists the plan's secrets");
    assert.ok(plan.create.includes(`\n. ${LIBRARY_PATH}\n`));
    assert.match(plan.delete, new RegExp(`^HW_COMPONENT=${plan.component}$`, "m"));
    assert.match(plan.delete, /^hw_undo$/m);
    for (const s of plan.services) {
        assert.match(plan.create, new RegExp(`^hw_service ${s.unit.replace(".", "\\.")} ${s.wait ? "wait" : "nowait"}$`, "m"));
    }
    for (const f of plan.files) {
        assert.ok(plan.create.includes(f.path), `the script writes ${f.path}`);
    }
}

describe("plans: system", () => {
    it("makes the kubernetes group and user, the guide's directories, the tmpfiles.d entry; removes firewalld; reports gid and family", () => {
        const plan = systemPlan();
        checkPlan(plan);
        assert.equal(plan.group, "kubernetes");
        assert.deepEqual(plan.user, { name: "kubernetes", home: "/etc/kubernetes", group: "kubernetes" });
        assert.deepEqual(
            plan.dirs.map((d) => `${d.path} ${d.mode} ${d.owner}:${d.group} ${d.onUndo}`),
            [
                "/etc/kubernetes 0755 kubernetes:kubernetes purge",
                "/etc/kubernetes/pki 0700 kubernetes:kubernetes purge",
                "/var/run/kubernetes 0755 kubernetes:kubernetes purge",
                "/etc/cni/net.d 0755 root:root keep",
                "/opt/cni/bin 0755 root:root keep",
                "/etc/tmpfiles.d 0755 root:root keep",
            ],
        );
        assert.deepEqual(plan.files.map(row), ["/etc/tmpfiles.d/hardway-kubernetes.conf 0644 root:root none text"]);
        // /run is a tmpfs: systemd-tmpfiles makes the kubelet's run directory again at boot.
        assert.deepEqual(
            (plan.files[0].content as string).split("\n").filter((l) => l !== "" && !l.startsWith("#")),
            ["d /run/kubernetes 0755 kubernetes kubernetes -"],
        );
        assert.deepEqual(plan.secrets, []);
        assert.deepEqual(plan.services, []);
        assert.deepEqual(plan.removePackages.map((p) => p.name), ["firewalld"]);
        assert.deepEqual(plan.facts.map((f) => f.name), ["gid", "family"]);
        assert.match(plan.create, /^hw_lib_dir=/m, "it installs the node library first");
        assert.match(plan.delete, /^hw_remove_library$/m, "and removes it last");
    });

    const gids: [Record<string, string>, number | string][] = [
        [{ gid: "998" }, 998],
        [{ gid: "0" }, 0],
        [{ gid: "abc" }, 'node n1: the kubernetes group has no numeric gid ("abc")'],
        [{ gid: "-1" }, 'node n1: the kubernetes group has no numeric gid ("-1")'],
        [{ gid: "1.5" }, 'node n1: the kubernetes group has no numeric gid ("1.5")'],
        [{}, "node n1: the kubernetes group has no numeric gid (undefined)"],
    ];
    for (const [facts, expected] of gids) {
        it(`reads the kubernetes gid from ${JSON.stringify(facts)}: ${expected}`, () => {
            if (typeof expected === "number") {
                assert.equal(kubernetesGidOf("n1", facts), expected);
            } else {
                assert.throws(() => kubernetesGidOf("n1", facts), { message: expected });
            }
        });
    }
});

describe("plans: binaries", () => {
    const cases: [string, PlainCluster, string[]][] = [
        [
            "1.37.2, the default layout",
            cluster("1.37.2"),
            [
                "file https://dl.example/release/v1.37.2/bin/linux/amd64/kubelet - /usr/local/sbin/kubelet",
                "file https://dl.example/release/v1.37.2/bin/linux/amd64/kube-proxy - /usr/local/sbin/kube-proxy",
                "tar https://crictl.example/v1.37.0/crictl-v1.37.0-linux-amd64.tar.gz - /usr/local/sbin",
                "tar https://cni.example/v1.6.2/cni-plugins-linux-amd64-v1.6.2.tgz - /opt/cni/bin",
            ],
        ],
        [
            "1.16.2 on arm64, the kubelet's sha256 given",
            cluster("1.16.2", {
                downloads: {
                    ...cluster("1.16.2").downloads,
                    crictlVersion: "1.15.0",
                    cniVersion: "0.8.2",
                    arch: "arm64",
                    sha256: { kubelet: "a".repeat(64) },
                },
            }),
            [
                `file https://dl.example/release/v1.16.2/bin/linux/arm64/kubelet ${"a".repeat(64)} /usr/local/sbin/kubelet`,
                "file https://dl.example/release/v1.16.2/bin/linux/arm64/kube-proxy - /usr/local/sbin/kube-proxy",
                "tar https://crictl.example/v1.15.0/crictl-v1.15.0-linux-arm64.tar.gz - /usr/local/sbin",
                "tar https://cni.example/v0.8.2/cni-plugins-linux-arm64-v0.8.2.tgz - /opt/cni/bin",
            ],
        ],
    ];
    for (const [name, c, fetches] of cases) {
        it(`${name}: downloads each binary to its place`, () => {
            const plan = binariesPlan(c);
            checkPlan(plan);
            assert.deepEqual(
                plan.fetches.map((f) => `${f.kind} ${f.url} ${f.sha256 || "-"} ${f.kind === "file" ? f.dest : f.dir}`),
                fetches,
            );
            assert.deepEqual([plan.files, plan.secrets, plan.services], [[], [], []]);
        });
    }
});

describe("plans: containerd", () => {
    const DOCKER_REPO =
        "[docker-ce-stable]\nname=Docker CE Stable - $basearch\nbaseurl=https://download.docker.com/linux/centos/$releasever/$basearch/stable\nenabled=1\ngpgcheck=1\ngpgkey=https://download.docker.com/linux/centos/gpg\n";
    const MIRROR = { id: "corp-docker", name: "Docker CE (corp mirror)", baseUrl: "https://mirror.corp.example/docker/$releasever/$basearch/stable", gpgKey: "file:///etc/pki/rpm-gpg/docker.gpg" };
    const repoCases: [string, Parameters<typeof containerdInstallPlan>, { path: string; content: string } | null, string][] = [
        [
            "the default: the guide's Docker repository",
            [],
            { path: "/etc/yum.repos.d/docker-ce-stable.repo", content: DOCKER_REPO },
            `hw_ensure_containerd containerd containerd.io /etc/yum.repos.d/docker-ce-stable.repo '${DOCKER_REPO}'`,
        ],
        [
            "a mirror",
            [MIRROR],
            {
                path: "/etc/yum.repos.d/corp-docker.repo",
                content:
                    "[corp-docker]\nname=Docker CE (corp mirror)\nbaseurl=https://mirror.corp.example/docker/$releasever/$basearch/stable\nenabled=1\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/docker.gpg\n",
            },
            `hw_ensure_containerd containerd containerd.io /etc/yum.repos.d/corp-docker.repo '[corp-docker]\nname=Docker CE (corp mirror)\nbaseurl=https://mirror.corp.example/docker/$releasever/$basearch/stable\nenabled=1\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/docker.gpg\n'`,
        ],
        ["null: the host's own repositories", [null], null, "hw_ensure_containerd containerd containerd.io"],
    ];
    for (const [name, args, repoFile, line] of repoCases) {
        it(`install: the host's package, by OS family, with ${name}; nothing on stdin`, () => {
            const plan = containerdInstallPlan(...args);
            checkPlan(plan);
            assert.deepEqual(plan.packages, { debian: "containerd", rhel: "containerd.io" });
            assert.deepEqual(plan.rhelRepoFile, repoFile);
            const body = plan.create.split("\n").slice(plan.create.split("\n").indexOf(`. ${LIBRARY_PATH}`) + 1, -2).join("\n");
            assert.equal(body, `${line}\nhw_print_facts`);
        });
    }

    const installs: [string, string, PlainCluster["containerdConfigVersion"], "seed" | "current", number | string][] = [
        ["Debian's 1.6", "1.6.20~ds1", "auto", "current", 2],
        ["Debian's 1.6, the guide's profile", "1.6.20~ds1", "auto", "seed", 1],
        ["1.2, before version 2 existed", "1.2.13", "auto", "current", 1],
        ["2.1", "2.1.3", "auto", "seed", 3],
        ["2.1, version 3 asked for", "2.1.3", 3, "current", 3],
        ["2.1, version 2 asked for (it migrates it)", "2.1.3", 2, "current", 2],
        ["1.2, version 2 asked for", "1.2.13", 2, "current", "node n1: hardway-workers:containerdConfigVersion 2 cannot be read by the installed containerd 1.2.13"],
        ["1.6, version 3 asked for", "1.6.20", 3, "current", "node n1: hardway-workers:containerdConfigVersion 3 cannot be read by the installed containerd 1.6.20"],
        ["an unreadable version", "unknown", "auto", "current", 'node n1: cannot read containerd\'s version from "unknown"'],
    ];
    for (const [name, version, configured, profile, expected] of installs) {
        it(`install facts: ${name} (${version}, ${configured}): ${expected}`, () => {
            const facts = { containerdVersion: version, runc: "/usr/sbin/runc" };
            const run = () => installedContainerd("n1", facts, { containerdConfigVersion: configured, profile });
            if (typeof expected === "number") {
                const i = run();
                assert.equal(i.configVersion, expected);
                assert.equal(i.runcPath, "/usr/sbin/runc");
            } else {
                assert.throws(run, { message: expected });
            }
        });
    }

    const configs: [string, string, number, "systemd" | "cgroupfs", RegExp[]][] = [
        ["1.6.20, systemd cgroups", "1.6.20", 998, "systemd", [/^version = 2$/m, /^gid = 998$/m, /SystemdCgroup = true/]],
        ["1.6.20, cgroupfs", "1.6.20", 1001, "cgroupfs", [/^gid = 1001$/m, /SystemdCgroup = false/]],
        ["2.1.3", "2.1.3", 998, "systemd", [/^version = 3$/m, /io\.containerd\.cri\.v1\.runtime/, /bin_dirs = \[ "\/opt\/cni\/bin" \]/]],
    ];
    for (const [name, version, gid, cgroupDriver, toml] of configs) {
        it(`config: ${name}: config.toml restarts containerd, which is waited for; the socket's group is checked`, () => {
            const installed = installedContainerd("n1", { containerdVersion: version, runc: "/usr/sbin/runc" }, { containerdConfigVersion: "auto", profile: "current" });
            const plan = containerdConfigPlan({ installed, gid, cgroupDriver });
            checkPlan(plan);
            assert.deepEqual(plan.files.map(row), ["/etc/containerd/config.toml 0644 root:root restart text"]);
            assert.deepEqual(plan.services, [{ unit: "containerd.service", wait: true }]);
            assert.deepEqual(plan.secrets, []);
            assert.deepEqual(plan.socket, { path: "/var/run/containerd/containerd.sock", gid });
            assert.deepEqual(plan.dirs.map((d) => `${d.path} ${d.mode} ${d.owner}:${d.group} ${d.onUndo}`), ["/etc/containerd 0755 root:root keep"]);
            assert.deepEqual(plan.runtime, [{ path: "/opt/containerd", kind: "dir" }]);
            for (const re of toml) {
                assert.match(plan.files[0].content as string, re);
            }
            assert.match(plan.create, new RegExp(`^hw_socket_gid /var/run/containerd/containerd\\.sock ${gid}$`, "m"));
        });
    }
});

describe("plans: kubelet", () => {
    const files = (loopbackEffect: string) => [
        `/etc/cni/net.d/99-loopback.conf 0644 root:root ${loopbackEffect} text`,
        "/etc/kubernetes/pki/ca.crt 0644 root:root restart text",
        "/etc/kubernetes/pki/kubelet.crt 0644 root:root restart text",
        "/etc/kubernetes/pki/kubelet.key 0600 root:root restart secret:kubeletKey",
        "/etc/kubernetes/bootstrap.kubeconfig 0600 root:root none secret:bootstrapKubeconfig",
        "/etc/kubernetes/kubelet-config.yaml 0644 root:root restart text",
        "/etc/systemd/system/kubelet.service 0644 root:root reload text",
    ];
    const cases: [string, typeof worker, PlainCluster, { loopback: string; wait: boolean; unit: RegExp[]; config: RegExp[] }][] = [
        [
            "a worker on 1.37.2",
            worker,
            cluster("1.37.2"),
            { loopback: "none", wait: true, unit: [/--node-ip=192\.168\.50\.21/, /--hostname-override=worker1/], config: [/containerRuntimeEndpoint: unix:\/\/\/var\/run\/containerd\/containerd\.sock/] },
        ],
        [
            "a control-plane node on 1.37.2, no waiting",
            controlPlane,
            cluster("1.37.2", { waitForServices: false }),
            { loopback: "none", wait: false, unit: [/--node-labels=node\.kubernetes\.io\/pool=a/], config: [/registerWithTaints:\n- key: node-role\.kubernetes\.io\/control-plane\n  effect: NoSchedule/] },
        ],
        [
            "a worker on 1.16.2 (the guide): the kubelet reads the CNI config",
            worker,
            cluster("1.16.2"),
            { loopback: "restart", wait: true, unit: [/--network-plugin=cni/, /--container-runtime=remote/], config: [/cgroupDriver: cgroupfs/] },
        ],
        [
            "a control-plane node on 1.22.0: taints as a flag",
            controlPlane,
            cluster("1.22.0"),
            { loopback: "none", wait: true, unit: [/--register-with-taints=node-role\.kubernetes\.io\/control-plane:NoSchedule/], config: [/clusterDomain: cluster\.local/] },
        ],
    ];
    for (const [name, node, c, want] of cases) {
        it(`${name}: its files, the key and bootstrap kubeconfig on stdin, kubelet.service`, () => {
            const plan = kubeletPlan({ node, cluster: c, certPem: "CERT PEM\n" });
            checkPlan(plan);
            assert.deepEqual(plan.files.map(row), files(want.loopback));
            assert.deepEqual(plan.secrets, ["bootstrapKubeconfig", "kubeletKey"]);
            assert.deepEqual(plan.services, [{ unit: "kubelet.service", wait: want.wait }]);
            assert.equal(plan.binary, "/usr/local/sbin/kubelet");
            assert.deepEqual(
                plan.runtime.map((r) => `${r.kind} ${r.path}`),
                [
                    "file /etc/kubernetes/kubelet.kubeconfig",
                    "dir /var/lib/kubelet",
                    "dir /var/log/pods",
                    "dir /var/log/containers",
                    "dir /usr/libexec/kubernetes",
                    "glob /etc/kubernetes/pki/kubelet-client-*",
                ],
            );
            const content = (p: string) => plan.files.find((f) => f.path === p)!.content as string;
            assert.equal(content("/etc/kubernetes/pki/kubelet.crt"), "CERT PEM\n");
            assert.equal(content("/etc/kubernetes/pki/ca.crt"), "CA BUNDLE\n");
            for (const re of want.unit) {
                assert.match(content("/etc/systemd/system/kubelet.service"), re);
            }
            for (const re of want.config) {
                assert.match(content("/etc/kubernetes/kubelet-config.yaml"), re);
            }
        });
    }

    it("its serving certificate: CN system:node:<fqdn>, O system:nodes, the node's FQDN and IP, server auth", () => {
        assert.deepEqual(kubeletCertificate(worker, cluster("1.37.2", { certValidityHours: 100, certRenewBeforeHours: 10 })), {
            commonName: "system:node:worker1.vagrant",
            organization: "system:nodes",
            usage: "server_auth",
            dnsNames: ["worker1.vagrant"],
            ipAddresses: ["192.168.50.21"],
            validityHours: 100,
            renewBeforeHours: 10,
        });
    });
});

describe("plans: kube-proxy", () => {
    const files = [
        "/etc/kubernetes/pki/kube-proxy.crt 0644 root:root restart text",
        "/etc/kubernetes/pki/kube-proxy.key 0600 root:root restart secret:kubeProxyKey",
        "/etc/kubernetes/kube-proxy.kubeconfig 0600 root:root restart text",
        "/etc/kubernetes/kubeproxy-config.yaml 0644 root:root restart text",
        "/etc/systemd/system/kube-proxy.service 0644 root:root reload text",
    ];
    const cases: [string, PlainCluster, { packages: string[]; wait: boolean; config: RegExp[] }][] = [
        ["ipvs on 1.37.2", cluster("1.37.2"), { packages: ["ipvsadm"], wait: true, config: [/^mode: "ipvs"$/m, /^hostnameOverride: "worker1"$/m] }],
        [
            "iptables on 1.34.4, another pod network, no waiting",
            cluster("1.34.4", { kubeProxyMode: "iptables", clusterCidr: "10.200.0.0/16", waitForServices: false }),
            { packages: [], wait: false, config: [/^mode: "iptables"$/m, /^clusterCIDR: "10\.200\.0\.0\/16"$/m] },
        ],
        ["nftables on 1.33.0", cluster("1.33.0", { kubeProxyMode: "nftables" }), { packages: [], wait: true, config: [/^mode: "nftables"$/m] }],
        ["ipvs on 1.16.2 (the guide): no hostname override", cluster("1.16.2"), { packages: ["ipvsadm"], wait: true, config: [/^mode: "ipvs"$/m, /^(?![\s\S]*hostnameOverride)/] }],
    ];
    for (const [name, c, want] of cases) {
        it(`${name}: its files, the key on stdin, kube-proxy.service`, () => {
            const plan = kubeProxyPlan({ node: worker, cluster: c, certPem: "CERT PEM\n" });
            checkPlan(plan);
            assert.deepEqual(plan.files.map(row), files);
            assert.deepEqual(plan.secrets, ["kubeProxyKey"]);
            assert.deepEqual(plan.services, [{ unit: "kube-proxy.service", wait: want.wait }]);
            assert.deepEqual(plan.packages, want.packages);
            assert.equal(plan.create.includes("hw_pkg ipvsadm"), want.packages.includes("ipvsadm"));
            assert.equal(plan.binary, "/usr/local/sbin/kube-proxy");
            const content = (p: string) => plan.files.find((f) => f.path === p)!.content as string;
            const kubeconfig = YAML.parse(content("/etc/kubernetes/kube-proxy.kubeconfig"));
            assert.deepEqual(kubeconfig.users[0], {
                name: "system:kube-proxy",
                user: { "client-certificate": "/etc/kubernetes/pki/kube-proxy.crt", "client-key": "/etc/kubernetes/pki/kube-proxy.key" },
            });
            assert.equal(kubeconfig.clusters[0].cluster.server, "https://front.vagrant:6443");
            for (const re of want.config) {
                assert.match(content("/etc/kubernetes/kubeproxy-config.yaml"), re);
            }
        });
    }

    it("its client certificate: CN system:kube-proxy, O system:node-proxier, the node's FQDN and IP, client auth", () => {
        const spec = kubeProxyCertificate(worker, cluster("1.37.2"));
        assert.deepEqual([spec.commonName, spec.organization, spec.usage], ["system:kube-proxy", "system:node-proxier", "client_auth"]);
        assert.deepEqual([spec.dnsNames, spec.ipAddresses], [["worker1.vagrant"], ["192.168.50.21"]]);
        assert.deepEqual([spec.validityHours, spec.renewBeforeHours], [8760, 720]);
    });
});

describe("plans: bootstrap token", () => {
    const ttls: [number, { validityHours: number; renewBeforeHours: number } | undefined][] = [
        [0, undefined],
        [2, { validityHours: 2, renewBeforeHours: 1 }],
        [48, { validityHours: 48, renewBeforeHours: 12 }],
        [8760, { validityHours: 8760, renewBeforeHours: 2190 }],
    ];
    for (const [ttl, renewal] of ttls) {
        it(`a lifetime of ${ttl} hours: ${renewal ? `made anew ${renewal.renewBeforeHours} hours before expiry` : "never expires"}`, () => {
            const plan = bootstrapTokenPlan(ttl);
            assert.deepEqual(plan.renewal, renewal);
            assert.deepEqual(plan.id, { length: 6, upper: false, special: false, lower: true, numeric: true });
            assert.deepEqual(plan.secret, { length: 16, upper: false, special: false, lower: true, numeric: true });
        });
    }

    const manifests: [string | undefined, string | undefined][] = [
        [undefined, undefined],
        ["2030-01-01T00:00:00Z", "for prod"],
    ];
    for (const [expiration, description] of manifests) {
        it(`its manifests${expiration ? ", with an expiry and a description" : ""}: the token's Secret and the three bindings`, () => {
            const docs = YAML.parseAllDocuments(bootstrapManifestsOf("abcdef.0123456789abcdef", "hardway-workers/prod", expiration, description)).map((d) => d.toJS());
            const suffix = crypto.createHash("sha256").update("hardway-workers/prod").digest("hex").slice(0, 10);
            assert.deepEqual(
                docs.map((d) => `${d.kind} ${d.metadata.name} ${d.metadata.annotations?.["hardway-workers/stack"] ?? "-"}`),
                [
                    "Secret bootstrap-token-abcdef -",
                    `ClusterRoleBinding hardway-kubelet-bootstrap-${suffix} hardway-workers/prod`,
                    `ClusterRoleBinding hardway-node-autoapprove-bootstrap-${suffix} hardway-workers/prod`,
                    `ClusterRoleBinding hardway-node-autoapprove-certificate-rotation-${suffix} hardway-workers/prod`,
                ],
            );
            assert.equal(docs[0].stringData["token-id"], "abcdef");
            assert.equal(docs[0].stringData["token-secret"], "0123456789abcdef");
            assert.equal(docs[0].stringData.expiration, expiration);
            assert.equal(docs[0].stringData.description, description);
        });
    }
});

describe("plans are pure", () => {
    it("loading every plan, renderer and components/kube module loads no Pulumi package", () => {
        const modules = [
            "components/system/plan",
            "components/binaries/plan",
            "components/containerd/plan",
            "components/kubelet/plan",
            "components/kube-proxy/plan",
            "components/bootstrap-token/plan",
            "components/config/schema",
            "components/config/defaults",
            "components/kube/versions",
            "components/kube/bootstrapToken",
        ];
        const script = `
            for (const m of ${JSON.stringify(modules)}) require(require("path").join(process.cwd(), m));
            const loaded = Object.keys(require.cache).filter((k) => k.includes("@pulumi"));
            process.stdout.write(JSON.stringify(loaded));`;
        const out = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: REPO, encoding: "utf8" });
        assert.deepEqual(JSON.parse(out), []);
    });
});
