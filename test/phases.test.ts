/**
 * Each phase's real script against stub tools (test/support/stubs.ts): the
 * accounts, packages and services it changes on the host, in order, and what
 * its undo changes back. Directories and files are recorded, not written.
 */
import { strict as assert } from "assert";
import { binariesPlan } from "../components/binaries/plan";
import { containerdConfigPlan, containerdInstallPlan } from "../components/containerd/plan";
import { kubeletPlan } from "../components/kubelet/plan";
import { parseVersion } from "../components/kube/versions";
import { kubeProxyPlan } from "../components/kube-proxy/plan";
import { parseFacts, stdinOf } from "../components/node/scripts";
import { systemPlan } from "../components/system/plan";
import { StubHost, stubHost } from "./support/stubs";

describe("phases against stub tools: what each changes on the host, and what its undo changes back", () => {
    let host: StubHost;
    beforeEach(() => {
        host = stubHost();
    });
    afterEach(() => host.cleanup());

    const SYSTEM_DIRS = [
        "hw_dir /etc/kubernetes 0755 kubernetes kubernetes purge",
        "hw_dir /etc/kubernetes/pki 0700 kubernetes kubernetes purge",
        "hw_dir /var/run/kubernetes 0755 kubernetes kubernetes purge",
        "hw_dir /etc/cni/net.d 0755 root root keep",
        "hw_dir /opt/cni/bin 0755 root root keep",
        "hw_dir /etc/tmpfiles.d 0755 root root keep",
        "hw_file /etc/tmpfiles.d/hardway-kubernetes.conf 0644 root root none",
    ];
    const systems: [string, string, { group?: boolean; user?: boolean; firewalld?: boolean; noDnf?: boolean }, string[], string[]][] = [
        [
            "a Debian host with firewalld and no kubernetes account",
            "debian",
            { firewalld: true },
            [
                "groupadd --system -- kubernetes",
                "useradd -d /etc/kubernetes -s NOLOGIN -g kubernetes -r -M -- kubernetes",
                ...SYSTEM_DIRS,
                "systemctl disable --now --quiet firewalld.service",
                "apt-get purge -y -q -- firewalld",
            ],
            ["apt-get install -y -q -- firewalld", "userdel -- kubernetes", "groupdel -- kubernetes", "hw_remove_library"],
        ],
        [
            "a Debian host that has the account and no firewalld",
            "debian",
            { group: true, user: true },
            SYSTEM_DIRS,
            ["hw_remove_library"],
        ],
        [
            "a RHEL host with the group, firewalld and dnf",
            "rhel",
            { group: true, firewalld: true },
            [
                "useradd -d /etc/kubernetes -s NOLOGIN -g kubernetes -r -M -- kubernetes",
                ...SYSTEM_DIRS,
                "systemctl disable --now --quiet firewalld.service",
                "dnf remove -y -q -- firewalld",
            ],
            ["dnf install -y -q -- firewalld", "userdel -- kubernetes", "hw_remove_library"],
        ],
        [
            "a RHEL host with firewalld and only yum",
            "rhel",
            { group: true, user: true, firewalld: true, noDnf: true },
            [...SYSTEM_DIRS, "systemctl disable --now --quiet firewalld.service", "yum remove -y -q -- firewalld"],
            ["yum install -y -q -- firewalld", "hw_remove_library"],
        ],
    ];
    for (const [name, family, has, created, undone] of systems) {
        it(`system on ${name}`, () => {
            if (has.group) host.has("group", "kubernetes");
            if (has.user) host.has("passwd", "kubernetes");
            if (has.firewalld) host.has("pkg", "firewalld");
            if (has.noDnf) host.remove("dnf");
            const plan = systemPlan();
            const create = host.run(plan.create, family);
            assert.equal(create.status, 0, create.stderr);
            assert.deepEqual(create.calls, created.map((c) => c.replace("NOLOGIN", host.nologin)));
            assert.deepEqual(parseFacts(create.stdout), { gid: "998", family });
            const again = host.run(plan.create, family);
            assert.equal(again.status, 0, again.stderr);
            assert.deepEqual(again.calls, SYSTEM_DIRS, "a second run changes no account or package");
            const undo = host.run(plan.delete, family);
            assert.equal(undo.status, 0, undo.stderr);
            assert.deepEqual(undo.calls, undone);
        });
    }

    /** The repository file the RHEL install writes first (the guide's Docker repository, by default). */
    const DOCKER_REPO = ["hw_dir /etc/yum.repos.d 0755 root root keep", "hw_file /etc/yum.repos.d/docker-ce-stable.repo 0644 root root none"];
    const installs: [string, string, { containerd?: boolean; noDnf?: boolean }, string[], string[]][] = [
        ["Debian without containerd: Debian's package", "debian", {}, ["apt-get install -y -q -- containerd"], ["apt-get purge -y -q -- containerd"]],
        ["RHEL without containerd: the guide's containerd.io from its repository, with dnf", "rhel", {}, [...DOCKER_REPO, "dnf install -y -q -- containerd.io"], ["dnf remove -y -q -- containerd.io"]],
        ["RHEL without containerd or dnf: containerd.io with yum", "rhel", { noDnf: true }, [...DOCKER_REPO, "yum install -y -q -- containerd.io"], ["yum remove -y -q -- containerd.io"]],
        ["a host that has containerd: nothing installed, nothing removed", "debian", { containerd: true }, [], []],
    ];
    for (const [name, family, has, created, undone] of installs) {
        it(`containerd install on ${name}`, () => {
            if (has.noDnf) host.remove("dnf");
            if (has.containerd) host.hasContainerd();
            const plan = containerdInstallPlan();
            const create = host.run(plan.create, family);
            assert.equal(create.status, 0, create.stderr);
            assert.deepEqual(create.calls, created);
            assert.deepEqual(parseFacts(create.stdout), { containerdVersion: "1.6.20~ds1", runc: `${host.dir}/stubs/runc` });
            const undo = host.run(plan.delete, family);
            assert.equal(undo.status, 0, undo.stderr);
            assert.deepEqual(undo.calls, undone);
        });
    }

    it("containerd config: the directory, config.toml, what containerd makes at run time, the restart, the socket's group; undo", () => {
        const plan = containerdConfigPlan({
            installed: { version: parseVersion("1.6.20")!, configVersion: 2, runcPath: "/usr/sbin/runc" },
            gid: 998,
            cgroupDriver: "systemd",
        });
        const create = host.run(plan.create);
        assert.equal(create.status, 0, create.stderr);
        assert.deepEqual(create.calls, [
            "hw_dir /etc/containerd 0755 root root keep",
            "hw_file /etc/containerd/config.toml 0644 root root restart",
            "hw_runtime /opt/containerd dir",
            "systemctl enable --quiet -- containerd.service",
            "systemctl restart -- containerd.service",
            "hw_socket_gid /var/run/containerd/containerd.sock 998",
        ]);
        assert.equal(create.stdout, "HW_RESTARTED containerd.service\n");
        const undo = host.run(plan.delete);
        assert.equal(undo.status, 0, undo.stderr);
        assert.deepEqual(undo.calls, ["systemctl stop -- containerd.service", "systemctl disable --quiet -- containerd.service"]);
    });

    it("containerd install on a host of neither family fails, naming the reason", () => {
        const r = host.run(containerdInstallPlan().create, "unknown");
        assert.equal(r.status, 1);
        assert.equal(r.stderr, "hardway: error: containerd is missing and /etc/os-release names neither a Debian nor a RHEL family system\n");
        assert.deepEqual(r.calls, []);
    });

    it("binaries: each download verified to its place, the tarballs unpacked; undo", () => {
        const plan = binariesPlan({
            kubernetesVersion: parseVersion("1.37.2")!,
            downloads: {
                kubernetesBaseUrl: "https://dl.example/release",
                crictlBaseUrl: "https://crictl.example",
                cniBaseUrl: "https://cni.example",
                crictlVersion: "1.37.0",
                cniVersion: "1.6.2",
                arch: "amd64",
                sha256: { kubelet: "a".repeat(64) },
            },
        });
        const create = host.run(plan.create);
        assert.equal(create.status, 0, create.stderr);
        assert.deepEqual(create.calls, [
            `hw_fetch https://dl.example/release/v1.37.2/bin/linux/amd64/kubelet ${"a".repeat(64)} /usr/local/sbin/kubelet 0755`,
            "hw_fetch https://dl.example/release/v1.37.2/bin/linux/amd64/kube-proxy  /usr/local/sbin/kube-proxy 0755",
            "hw_fetch_tar https://crictl.example/v1.37.0/crictl-v1.37.0-linux-amd64.tar.gz  /usr/local/sbin",
            "hw_fetch_tar https://cni.example/v1.6.2/cni-plugins-linux-amd64-v1.6.2.tgz  /opt/cni/bin",
        ]);
        const undo = host.run(plan.delete);
        assert.equal(undo.status, 0, undo.stderr);
        assert.deepEqual(undo.calls, []);
    });

    it("kubelet: its files, the key and bootstrap kubeconfig from stdin, what it makes at run time, its binary watched, the restart; undo", () => {
        const plan = kubeletPlan({
            node: { name: "worker1", ip: "192.168.50.21", labels: {}, taints: [] },
            cluster: {
                kubernetesVersion: parseVersion("1.37.2")!,
                profile: "current",
                caBundlePem: "CA\n",
                clusterDns: ["10.96.0.10"],
                clusterDomain: "cluster.local",
                cgroupDriver: "systemd",
                waitForServices: false,
            },
            certPem: "CERT\n",
        });
        const create = host.run(plan.create, "debian", stdinOf({ bootstrapKubeconfig: "KUBECONFIG", kubeletKey: "KEY" }));
        assert.equal(create.status, 0, create.stderr);
        assert.deepEqual(create.calls, [
            "hw_file /etc/cni/net.d/99-loopback.conf 0644 root root none",
            "hw_file /etc/kubernetes/pki/ca.crt 0644 root root restart",
            "hw_file /etc/kubernetes/pki/kubelet.crt 0644 root root restart",
            "hw_secret_file kubeletKey /etc/kubernetes/pki/kubelet.key 0600 root root restart",
            "hw_secret_file bootstrapKubeconfig /etc/kubernetes/bootstrap.kubeconfig 0600 root root none",
            "hw_file /etc/kubernetes/kubelet-config.yaml 0644 root root restart",
            "hw_file /etc/systemd/system/kubelet.service 0644 root root reload",
            "hw_runtime /etc/kubernetes/kubelet.kubeconfig file",
            "hw_runtime /var/lib/kubelet dir",
            "hw_runtime /var/log/pods dir",
            "hw_runtime /var/log/containers dir",
            "hw_runtime /usr/libexec/kubernetes dir",
            "hw_runtime_glob /etc/kubernetes/pki/kubelet-client-*",
            "hw_watch /usr/local/sbin/kubelet",
            "systemctl daemon-reload",
            "systemctl enable --quiet -- kubelet.service",
            "systemctl restart -- kubelet.service",
        ]);
        const undo = host.run(plan.delete);
        assert.equal(undo.status, 0, undo.stderr);
        assert.deepEqual(undo.calls, ["hw_before_undo_kubelet", "systemctl stop -- kubelet.service", "systemctl disable --quiet -- kubelet.service"]);
    });

    const proxies: [string, "ipvs" | "iptables" | "nftables", string, string[], string[]][] = [
        ["ipvs on Debian: ipvsadm installed, and removed by undo", "ipvs", "debian", ["apt-get install -y -q -- ipvsadm"], ["apt-get purge -y -q -- ipvsadm"]],
        ["ipvs on RHEL: ipvsadm with dnf", "ipvs", "rhel", ["dnf install -y -q -- ipvsadm"], ["dnf remove -y -q -- ipvsadm"]],
        ["iptables: no ipvsadm", "iptables", "debian", [], []],
        ["nftables: no ipvsadm", "nftables", "debian", [], []],
    ];
    for (const [name, mode, family, pkgs, undonePkgs] of proxies) {
        it(`kube-proxy, ${name}`, () => {
            const plan = kubeProxyPlan({
                node: { name: "worker1" },
                cluster: {
                    profile: "current",
                    kubeProxyMode: mode,
                    clusterCidr: "10.244.0.0/16",
                    clusterName: "c",
                    apiServer: "https://front.vagrant:6443",
                    caBundlePem: "CA\n",
                    waitForServices: false,
                },
                certPem: "CERT\n",
            });
            const create = host.run(plan.create, family, stdinOf({ kubeProxyKey: "KEY" }));
            assert.equal(create.status, 0, create.stderr);
            assert.deepEqual(create.calls, [
                ...pkgs,
                "hw_file /etc/kubernetes/pki/kube-proxy.crt 0644 root root restart",
                "hw_secret_file kubeProxyKey /etc/kubernetes/pki/kube-proxy.key 0600 root root restart",
                "hw_file /etc/kubernetes/kube-proxy.kubeconfig 0600 root root restart",
                "hw_file /etc/kubernetes/kubeproxy-config.yaml 0644 root root restart",
                "hw_file /etc/systemd/system/kube-proxy.service 0644 root root reload",
                "hw_watch /usr/local/sbin/kube-proxy",
                "systemctl daemon-reload",
                "systemctl enable --quiet -- kube-proxy.service",
                "systemctl restart -- kube-proxy.service",
            ]);
            assert.equal(create.stdout, "HW_RESTARTED kube-proxy.service\n");
            const undo = host.run(plan.delete, family);
            assert.equal(undo.status, 0, undo.stderr);
            assert.deepEqual(undo.calls, [
                "hw_before_undo_kube_proxy",
                "systemctl stop -- kube-proxy.service",
                "systemctl disable --quiet -- kube-proxy.service",
                ...undonePkgs,
            ]);
        });
    }
});
