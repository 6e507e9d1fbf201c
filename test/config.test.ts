/** Stack config validation: each bad input fails with a message that names its field. */
import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { KNOWN_KEYS } from "../components/config/schema";
import { RawConfig } from "../components/config/types";
import { validateConfig } from "../components/config/validate";
import { makeCa, makeCsr, rsaKeyPem, signCsr } from "./support/pki";
import { GUIDE_NODES, baseConfig, testCa } from "./support/program";
import { configProblems } from "./support/config";


function errorOf(f: () => unknown): string {
    try {
        f();
    } catch (e) {
        return (e as Error).message;
    }
    throw new Error("expected an error");
}

function withNode(i: number, patch: Record<string, unknown>): RawConfig {
    return baseConfig({ nodes: GUIDE_NODES.map((n, j) => (j === i ? { ...n, ...patch } : n)) });
}

describe("config validation", () => {
    it("accepts the guide's four nodes and fills in the defaults", () => {
        const c = validateConfig(baseConfig({ kubernetesVersion: "1.16.2" }));
        assert.equal(c.profile, "seed");
        assert.equal(c.clusterCidr, "10.244.0.0/16");
        assert.equal(c.kubeProxyMode, "ipvs");
        assert.equal(c.sshUser, "root");
        assert.equal(c.cgroupDriver, "cgroupfs");
        assert.deepEqual(c.clusterDns, ["10.96.0.10"]);
        assert.equal(c.caBundlePem, testCa().certPem.trim() + "\n");
        assert.equal(c.downloads.crictlVersion, "1.15.0");
        assert.equal(c.downloads.cniVersion, "0.8.2");
        assert.deepEqual(
            c.nodes.map((n) => [n.name, n.sshHost, n.sshPort, n.taints.map((t) => t.key)]),
            [
                ["cp1", "192.168.50.11", 22, ["node-role.kubernetes.io/control-plane"]],
                ["cp2", "192.168.50.12", 22, ["node-role.kubernetes.io/control-plane"]],
                ["worker1", "192.168.50.21", 22, []],
                ["worker2", "192.168.50.22", 22, []],
            ],
        );
    });

    const otherCa = makeCa("another-ca");
    const notCa = makeCa("leaf", undefined, { isCa: false });
    const expiredCa = makeCa("old-ca", undefined, { notAfter: new Date(Date.now() - 1000) });
    const adminKey = rsaKeyPem();
    const adminCert = signCsr(makeCsr({ privateKeyPem: adminKey, commonName: "admin", organization: "system:masters" }), testCa(), ["client_auth"], 24);

    const cases: [string, RawConfig, string][] = [
        ["an invalid node IP", withNode(2, { ip: "10.0.0.256" }), 'hardway-workers:nodes[2].ip: "10.0.0.256" is not a valid IPv4 or IPv6 address'],
        ["a short-form IP", withNode(0, { ip: "10.1" }), 'hardway-workers:nodes[0].ip: "10.1" is not a valid IPv4 or IPv6 address'],
        [
            "an invalid FQDN",
            withNode(1, { fqdn: "cp2_vagrant" }),
            'hardway-workers:nodes[1].fqdn: "cp2_vagrant" is not a fully qualified domain name (lower-case RFC 1123 labels joined by dots, e.g. "worker1.example.com")',
        ],
        ["an invalid CIDR", baseConfig({ clusterCidr: "10.244.0.0/33" }), 'hardway-workers:clusterCidr: "10.244.0.0/33" is not a valid CIDR (expected e.g. "10.244.0.0/16")'],
        [
            "a CIDR with host bits",
            baseConfig({ clusterCidr: "10.244.1.0/16" }),
            'hardway-workers:clusterCidr: "10.244.1.0/16" has host bits set; did you mean "10.244.0.0/16"?',
        ],
        [
            "duplicate node names",
            withNode(3, { name: "worker1" }),
            'hardway-workers:nodes[3].name: "worker1" is also used by nodes[2]; each node needs its own name',
        ],
        [
            "duplicate node IPs",
            withNode(3, { ip: "192.168.50.21" }),
            'hardway-workers:nodes[3].ip: "192.168.50.21" is also used by nodes[2]; each node needs its own ip',
        ],
        [
            "an unknown role",
            withNode(2, { role: "master" }),
            'hardway-workers:nodes[2].role: "master" is not a role: expected "control-plane" or "worker"',
        ],
        ["an unsupported old version", baseConfig({ kubernetesVersion: "1.15.3" }), "hardway-workers:kubernetesVersion: 1.15.3 is not supported (supported: 1.16.x to 1.37.x)"],
        ["an unsupported new version", baseConfig({ kubernetesVersion: "1.38.0" }), "hardway-workers:kubernetesVersion: 1.38.0 is not supported (supported: 1.16.x to 1.37.x)"],
        ["a version that is not one", baseConfig({ kubernetesVersion: "latest" }), 'hardway-workers:kubernetesVersion: "latest" is not a release version like "1.16.2"'],
        [
            "a CA cert that does not match its key",
            baseConfig({ caKeyPem: otherCa.keyPem }),
            "hardway-workers:caKeyPem: does not match caCertPem: the certificate was not made from this key",
        ],
        [
            "a CA cert that is not a CA",
            baseConfig({ caCertPem: notCa.certPem, caKeyPem: notCa.keyPem }),
            "hardway-workers:caCertPem: is not a CA certificate (basicConstraints CA:TRUE is missing): CN=leaf",
        ],
        [
            "an expired CA",
            baseConfig({ caCertPem: expiredCa.certPem, caKeyPem: expiredCa.keyPem }),
            `hardway-workers:caCertPem: expired on ${new Date(new crypto.X509Certificate(expiredCa.certPem).validTo).toISOString()}`,
        ],
        [
            "a malformed token",
            baseConfig({ bootstrapToken: "002439.25F718816C0C9343" }),
            'hardway-workers:bootstrapToken: is not a bootstrap token: expected 6 then 16 characters of [a-z0-9] joined by a dot, like "abcdef.0123456789abcdef"',
        ],
        [
            "a token with a short id",
            baseConfig({ bootstrapToken: "02439.25f718816c0c9343" }),
            'hardway-workers:bootstrapToken: is not a bootstrap token: expected 6 then 16 characters of [a-z0-9] joined by a dot, like "abcdef.0123456789abcdef"',
        ],
        ["a missing API server", baseConfig({ apiServer: undefined }), "hardway-workers:apiServer: is required"],
        ["a plain-http API server", baseConfig({ apiServer: "http://front.vagrant:6443" }), 'hardway-workers:apiServer: "http://front.vagrant:6443" must use https'],
        ["an unknown proxy mode", baseConfig({ kubeProxyMode: "userspace" }), 'hardway-workers:kubeProxyMode: "userspace" is not one of ipvs, iptables, nftables'],
        [
            "nftables on an old version",
            baseConfig({ kubernetesVersion: "1.28.3", kubeProxyMode: "nftables" }),
            "hardway-workers:kubeProxyMode: nftables needs Kubernetes 1.31 or newer (got 1.28.3)",
        ],
        ["a bad host key", withNode(0, { hostKey: "not a key" }), 'hardway-workers:nodes[0].hostKey: is not an SSH public host key line (expected e.g. "ssh-ed25519 AAAAC3Nza…")'],
        ["a bad ssh port", withNode(0, { sshPort: 70000 }), "hardway-workers:nodes[0].sshPort: 70000 is not a TCP port (1-65535)"],
        [
            "a label the kubelet may not set",
            withNode(2, { labels: { "node-role.kubernetes.io/worker": "" } }),
            'hardway-workers:nodes[2].labels: label "node-role.kubernetes.io/worker" is in the kubernetes.io/k8s.io namespace, which a kubelet may not set on itself (use e.g. "node.kubernetes.io/…" or a domain of your own)',
        ],
        [
            "a taint with a bad effect",
            withNode(2, { taints: ["dedicated=gpu:NoWay"] }),
            'hardway-workers:nodes[2].taints[0]: taint "dedicated" has effect "NoWay"; expected NoSchedule, PreferNoSchedule or NoExecute',
        ],
        ["a misspelt key", baseConfig({ clusterCIDR: "10.244.0.0/16" }), `hardway-workers:clusterCIDR: is not a known key (known keys: ${KNOWN_KEYS.join(", ")})`],
        [
            "a misspelt node key",
            withNode(0, { address: "1.2.3.4" }),
            "hardway-workers:nodes[0].address: is not a known node key (known: name, fqdn, ip, role, sshHost, sshPort, hostKey, labels, taints, forgetOldHost)",
        ],
        ["no nodes", baseConfig({ nodes: [] }), "hardway-workers:nodes: is empty: list at least one node"],
        ["a bad checksum", baseConfig({ downloads: { sha256: { kubelet: "abc" } } }), 'hardway-workers:downloads.sha256.kubelet: "abc" is not a lower-case hex sha256'],
        ["a bad mirror URL", baseConfig({ downloads: { kubernetesBaseUrl: "ftp://mirror/k8s" } }), 'hardway-workers:downloads.kubernetesBaseUrl: "ftp://mirror/k8s" must use http or https'],
        [
            "a renewal window longer than the validity",
            baseConfig({ certValidityHours: 24, certRenewBeforeHours: 48 }),
            "hardway-workers:certRenewBeforeHours: must be less than certValidityHours (48 >= 24), or certificates would renew on every run",
        ],
        [
            "a CA bundle without the CA",
            baseConfig({ caBundlePem: otherCa.certPem }),
            "hardway-workers:caBundlePem: does not contain caCertPem; the bundle must hold the main CA plus its intermediates",
        ],
        ["a missing SSH key", baseConfig({ sshPrivateKey: undefined }), "hardway-workers:sshPrivateKey: is required"],
        ["an admin certificate without its key", baseConfig({ apiAdminCertPem: adminCert }), "hardway-workers:apiAdminKeyPem: is required when apiAdminCertPem is set"],
        ["an admin key without its certificate", baseConfig({ apiAdminKeyPem: adminKey }), "hardway-workers:apiAdminCertPem: is required when apiAdminKeyPem is set"],
        [
            "an admin key that is not the certificate's",
            baseConfig({ apiAdminCertPem: adminCert, apiAdminKeyPem: rsaKeyPem() }),
            "hardway-workers:apiAdminKeyPem: does not match apiAdminCertPem: the certificate was not made from this key",
        ],
        [
            "an admin certificate that is not PEM",
            baseConfig({ apiAdminCertPem: "admin", apiAdminKeyPem: adminKey }),
            // With the reason Node's crypto gives for such a text.
            `hardway-workers:apiAdminCertPem: is not a PEM certificate (${errorOf(() => new crypto.X509Certificate("admin"))})`,
        ],
        ["a zero node-ready timeout", baseConfig({ nodeReadyTimeoutSeconds: 0 }), "hardway-workers:nodeReadyTimeoutSeconds: must be an integer >= 1, got 0"],
        ["a fractional drain timeout", baseConfig({ drainTimeoutSeconds: "1.5" }), 'hardway-workers:drainTimeoutSeconds: must be an integer >= 1, got "1.5"'],
    ];

    for (const [what, raw, message] of cases) {
        it(`rejects ${what}`, () => {
            assert.deepEqual(configProblems(raw), [message]);
        });
    }

    const more: [string, RawConfig, string[]][] = [
        ["a version with a suffix", baseConfig({ kubernetesVersion: "1.30.1-rc.0" }), ['hardway-workers:kubernetesVersion: "1.30.1-rc.0" is not a release version like "1.16.2"']],
        ["a version that is not 1.x", baseConfig({ kubernetesVersion: "2.16.0" }), ["hardway-workers:kubernetesVersion: 2.16.0 is not supported (supported: 1.16.x to 1.37.x)"]],
        ["a version that is not a string", baseConfig({ kubernetesVersion: 1.3 }), ["hardway-workers:kubernetesVersion: must be a string, got 1.3"]],
        ["an API server URL that is not one", baseConfig({ apiServer: "//front:6443" }), ['hardway-workers:apiServer: "//front:6443" is not a URL']],
        ["an API server URL without a host", baseConfig({ apiServer: "https://" }), ['hardway-workers:apiServer: "https://" is not a URL']],
        ["a missing cluster name", baseConfig({ clusterName: "" }), ["hardway-workers:clusterName: is required"]],
        ["a cluster name with capitals", baseConfig({ clusterName: "Lab" }), [`hardway-workers:clusterName: "Lab" must be lower-case letters, digits, '-' and '.'`]],
        ["a bad cluster DNS address in a list", baseConfig({ clusterDns: ["10.96.0.10", "10.96.0"] }), ['hardway-workers:clusterDns[1]: "10.96.0" is not a valid IPv4 or IPv6 address']],
        ["a bad cluster DNS address in a string", baseConfig({ clusterDns: "10.96.0.10, x" }), ['hardway-workers:clusterDns[1]: "x" is not a valid IPv4 or IPv6 address']],
        ["a cluster domain that is not one", baseConfig({ clusterDomain: "cluster_local" }), ['hardway-workers:clusterDomain: "cluster_local" is not a DNS domain']],
        ["an unknown cgroup driver", baseConfig({ cgroupDriver: "cgroupv2" }), ['hardway-workers:cgroupDriver: "cgroupv2" is not one of systemd, cgroupfs']],
        ["an unknown containerd config version", baseConfig({ containerdConfigVersion: 4 }), ["hardway-workers:containerdConfigVersion: 4 is not one of auto, 1, 2, 3"]],
        ["a CA bundle without a certificate", baseConfig({ caBundlePem: "nothing" }), ["hardway-workers:caBundlePem: holds no PEM certificate"]],
        ["a CA key that is not PEM", baseConfig({ caKeyPem: "key" }), [`hardway-workers:caKeyPem: is not a readable PEM private key (${errorOf(() => crypto.createPrivateKey("key"))})`]],
        ["an SSH user that is not a user name", baseConfig({ sshUser: "Root User" }), ['hardway-workers:sshUser: "Root User" is not a user name']],
        ["an SSH key that is not a private key", baseConfig({ sshPrivateKey: "ssh-ed25519 AAAA" }), ["hardway-workers:sshPrivateKey: is not a PEM private key"]],
        ["a token TTL that is negative", baseConfig({ bootstrapTokenTtlHours: -1 }), ["hardway-workers:bootstrapTokenTtlHours: must be an integer >= 0, got -1"]],
        ["a certificate validity that is not a number", baseConfig({ certValidityHours: "a year" }), ['hardway-workers:certValidityHours: must be an integer >= 2, got "a year"']],
        ["a waitForServices that is not a boolean", baseConfig({ waitForServices: "yes" }), ['hardway-workers:waitForServices: must be true or false, got "yes"']],
        ["downloads that are not an object", baseConfig({ downloads: "mirror" }), ["hardway-workers:downloads: must be an object"]],
        [
            "an unknown downloads key",
            baseConfig({ downloads: { mirror: "x" } }),
            ["hardway-workers:downloads.mirror: is not a known key (known: kubernetesBaseUrl, crictlBaseUrl, cniBaseUrl, crictlVersion, cniVersion, arch, sha256)"],
        ],
        ["a mirror URL that is not a string", baseConfig({ downloads: { cniBaseUrl: 1 } }), ["hardway-workers:downloads.cniBaseUrl: must be a string"]],
        ["a crictl version that is not one", baseConfig({ downloads: { crictlVersion: "1.2" } }), ['hardway-workers:downloads.crictlVersion: "1.2" is not a version like "1.2.3"']],
        ["a CNI version that is not a string", baseConfig({ downloads: { cniVersion: 1 } }), ['hardway-workers:downloads.cniVersion: 1 is not a version like "1.2.3"']],
        ["an unknown architecture", baseConfig({ downloads: { arch: "x86_64" } }), ['hardway-workers:downloads.arch: "x86_64" is not one of amd64, arm64']],
        ["checksums that are not an object", baseConfig({ downloads: { sha256: "abc" } }), ["hardway-workers:downloads.sha256: must be an object of artifact name to sha256"]],
        ["a checksum of an unknown artifact", baseConfig({ downloads: { sha256: { kubectl: "a".repeat(64) } } }), ["hardway-workers:downloads.sha256.kubectl: is not an artifact (known: kubelet, kube-proxy, crictl, cni)"]],
        ["a checksum that is not a string", baseConfig({ downloads: { sha256: { cni: 1 } } }), ["hardway-workers:downloads.sha256.cni: must be a string"]],
        ["nodes that are not a list", baseConfig({ nodes: { name: "a" } }), ["hardway-workers:nodes: must be a JSON list of {name, fqdn, ip, role}"]],
        ["no nodes key", baseConfig({ nodes: undefined }), ["hardway-workers:nodes: is required: a JSON list of {name, fqdn, ip, role}"]],
        ["a node that is not an object", baseConfig({ nodes: ["worker1"] }), ["hardway-workers:nodes[0]: must be an object {name, fqdn, ip, role}"]],
        [
            "a node without its fields",
            baseConfig({ nodes: [{ name: 1 }] }),
            ["hardway-workers:nodes[0].name: must be a string, got 1", "hardway-workers:nodes[0].fqdn: is required", "hardway-workers:nodes[0].ip: is required", "hardway-workers:nodes[0].role: is required"],
        ],
        ["duplicate FQDNs", withNode(3, { fqdn: "worker1.vagrant" }), ['hardway-workers:nodes[3].fqdn: "worker1.vagrant" is also used by nodes[2]; each node needs its own fqdn']],
        ["an SSH host that is neither an IP nor a name", withNode(0, { sshHost: "bad host" }), ['hardway-workers:nodes[0].sshHost: "bad host" is neither an IP address nor a host name']],
        ["SSH port 0", withNode(0, { sshPort: 0 }), ["hardway-workers:nodes[0].sshPort: 0 is not a TCP port (1-65535)"]],
        ["a fractional SSH port", withNode(0, { sshPort: 22.5 }), ["hardway-workers:nodes[0].sshPort: 22.5 is not a TCP port (1-65535)"]],
        ["labels that are not an object", withNode(2, { labels: ["a=b"] }), ["hardway-workers:nodes[2].labels: must be an object of label key to value"]],
        ["a label with a non-string value", withNode(2, { labels: { "example.com/rack": 1 } }), ['hardway-workers:nodes[2].labels: label "example.com/rack" must have a string value']],
        ["a label key that is not one", withNode(2, { labels: { "Bad_Prefix/rack": "r1" } }), ['hardway-workers:nodes[2].labels: label key "Bad_Prefix/rack" is not a valid label key']],
        ["a label name that is not one", withNode(2, { labels: { "example.com/-rack": "r1" } }), ['hardway-workers:nodes[2].labels: label key "example.com/-rack" is not a valid label key']],
        ["a label with a bad value", withNode(2, { labels: { "example.com/rack": "r 1" } }), ['hardway-workers:nodes[2].labels: label "example.com/rack" has an invalid value "r 1"']],
        ["a k8s.io label", withNode(2, { labels: { "k8s.io/x": "y" } }), [
            'hardway-workers:nodes[2].labels: label "k8s.io/x" is in the kubernetes.io/k8s.io namespace, which a kubelet may not set on itself (use e.g. "node.kubernetes.io/…" or a domain of your own)',
        ]],
        ["taints that are not a list", withNode(2, { taints: "a:NoSchedule" }), ['hardway-workers:nodes[2].taints: must be a list of "key[=value]:Effect" or {key, value, effect}']],
        ["a taint that does not parse", withNode(2, { taints: ["gpu"] }), ['hardway-workers:nodes[2].taints[0]: taint "gpu" is not of the form key[=value]:Effect']],
        ["a taint object without an effect", withNode(2, { taints: [{ key: "gpu" }] }), ['hardway-workers:nodes[2].taints[0]: must be "key[=value]:Effect" or {key, value, effect}']],
        ["a taint object with a bad key", withNode(2, { taints: [{ key: "-gpu", effect: "NoSchedule" }] }), ['hardway-workers:nodes[2].taints[0]: taint key "-gpu" is not a valid key']],
        ["a taint with a bad prefix", withNode(2, { taints: ["Bad_Prefix/gpu:NoSchedule"] }), ['hardway-workers:nodes[2].taints[0]: taint key "Bad_Prefix/gpu" is not a valid key']],
        ["a taint with a bad value", withNode(2, { taints: [{ key: "gpu", value: "a b", effect: "NoSchedule" }] }), ['hardway-workers:nodes[2].taints[0]: taint "gpu" has an invalid value "a b"']],
    ];
    for (const [what, raw, messages] of more) {
        it(`rejects ${what}`, () => {
            assert.deepEqual(configProblems(raw), messages);
        });
    }

    it("reads values in the forms a stack config gives them, and normalizes them", () => {
        const c = validateConfig(
            baseConfig({
                kubernetesVersion: "v1.34.4",
                clusterDns: "10.96.0.10, 10.96.0.11",
                cgroupDriver: "cgroupfs",
                containerdConfigVersion: "2",
                bootstrapTokenTtlHours: "0",
                certValidityHours: "48",
                certRenewBeforeHours: 12,
                waitForServices: "false",
                bootstrapToken: "abcdef.0123456789abcdef",
                downloads: {
                    kubernetesBaseUrl: "https://mirror.example/k8s//",
                    crictlBaseUrl: "http://mirror.example/crictl",
                    cniVersion: "v1.6.2",
                    crictlVersion: "1.34.0",
                    arch: "arm64",
                    sha256: { kubelet: "a".repeat(64) },
                },
                nodes: [
                    { name: "w1", fqdn: "w1.example.com.", ip: "fd00::21", role: "worker", sshHost: "jump.example.com", sshPort: "2222", hostKey: " ssh-ed25519 AAAAC3Nza host\n" },
                    { name: "cp1", fqdn: "cp1.example.com", ip: "10.0.0.11", role: "control-plane", taints: [{ key: "example.com/x", value: "", effect: "NoExecute" }] },
                ],
            }),
        );
        assert.deepEqual(
            [c.kubernetesVersion, c.profile, c.clusterDns, c.cgroupDriver, c.containerdConfigVersion, c.bootstrapTokenTtlHours, c.certValidityHours, c.certRenewBeforeHours, c.waitForServices],
            [{ major: 1, minor: 34, patch: 4 }, "current", ["10.96.0.10", "10.96.0.11"], "cgroupfs", 2, 0, 48, 12, false],
        );
        assert.ok(pulumi.Output.isInstance(c.bootstrapToken));
        assert.deepEqual(c.downloads, {
            kubernetesBaseUrl: "https://mirror.example/k8s",
            crictlBaseUrl: "http://mirror.example/crictl",
            cniBaseUrl: "https://github.com/containernetworking/plugins/releases/download",
            crictlVersion: "1.34.0",
            cniVersion: "1.6.2",
            arch: "arm64",
            sha256: { kubelet: "a".repeat(64) },
        });
        assert.deepEqual(c.nodes, [
            { name: "w1", fqdn: "w1.example.com.", ip: "fd00::21", role: "worker", sshHost: "jump.example.com", sshPort: 2222, hostKey: "ssh-ed25519 AAAAC3Nza host", labels: {}, taints: [] },
            {
                name: "cp1",
                fqdn: "cp1.example.com",
                ip: "10.0.0.11",
                role: "control-plane",
                sshHost: "10.0.0.11",
                sshPort: 22,
                hostKey: undefined,
                labels: {},
                taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }, { key: "example.com/x", effect: "NoExecute" }],
            },
        ]);
    });

    it("a control-plane node that lists the control-plane taint itself gets it once", () => {
        const c = validateConfig(withNode(0, { taints: ["node-role.kubernetes.io/control-plane:NoExecute"] }));
        assert.deepEqual(c.nodes[0].taints, [{ key: "node-role.kubernetes.io/control-plane", effect: "NoExecute" }]);
    });

    it("takes admin credentials as a pair, the key as a secret, with default timeouts", () => {
        const c = validateConfig(baseConfig({ apiAdminCertPem: adminCert, apiAdminKeyPem: adminKey }));
        assert.equal(c.apiAdmin!.certPem, adminCert.trim() + "\n");
        assert.ok(pulumi.Output.isInstance(c.apiAdmin!.keyPem));
        assert.equal(c.nodeReadyTimeoutSeconds, 300);
        assert.equal(c.drainTimeoutSeconds, 120);
        assert.equal(validateConfig(baseConfig()).apiAdmin, undefined);
    });

    it("reports every bad field at once", () => {
        const found = configProblems(baseConfig({ clusterCidr: "nope", kubeProxyMode: "x", nodes: [{ name: "A", fqdn: "a", ip: "1", role: "boss" }] }));
        assert.deepEqual(found, [
            'hardway-workers:clusterCidr: "nope" is not a valid CIDR (expected e.g. "10.244.0.0/16")',
            'hardway-workers:kubeProxyMode: "x" is not one of ipvs, iptables, nftables',
            `hardway-workers:nodes[0].name: "A" is not a valid node name (lower-case letters, digits, '-' and '.')`,
            'hardway-workers:nodes[0].fqdn: "a" is not a fully qualified domain name (lower-case RFC 1123 labels joined by dots, e.g. "worker1.example.com")',
            'hardway-workers:nodes[0].ip: "1" is not a valid IPv4 or IPv6 address',
            'hardway-workers:nodes[0].role: "boss" is not a role: expected "control-plane" or "worker"',
        ]);
    });

    it("accepts a CA bundle with intermediates and keeps every certificate", () => {
        const c = validateConfig(baseConfig({ caBundlePem: testCa().certPem + otherCa.certPem }));
        assert.equal((c.caBundlePem.match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
    });

    it("accepts taints as strings or objects, and labels a kubelet may set", () => {
        const c = validateConfig(
            withNode(2, {
                taints: ["dedicated=gpu:NoSchedule", { key: "example.com/spot", effect: "PreferNoSchedule" }],
                labels: { "node.kubernetes.io/pool": "gpu", "example.com/rack": "r1" },
            }),
        );
        assert.deepEqual(c.nodes[2].taints, [
            { key: "dedicated", value: "gpu", effect: "NoSchedule" },
            { key: "example.com/spot", effect: "PreferNoSchedule" },
        ]);
    });

    it("accepts an EC CA (compared through Node's crypto, since node-forge has no EC)", () => {
        const { execFileSync } = require("child_process") as typeof import("child_process");
        const fs = require("fs") as typeof import("fs");
        const os = require("os") as typeof import("os");
        const path = require("path") as typeof import("path");
        const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
        const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hw-ec-"));
        fs.writeFileSync(path.join(dir, "ca.key"), keyPem, { mode: 0o600 });
        const certPem = execFileSync("openssl", [
            "req", "-x509", "-new", "-key", path.join(dir, "ca.key"), "-subj", "/CN=ec-ca", "-days", "2",
            "-addext", "basicConstraints=critical,CA:TRUE",
        ]).toString();
        fs.rmSync(dir, { recursive: true });
        assert.doesNotThrow(() => validateConfig(baseConfig({ caCertPem: certPem, caKeyPem: keyPem })));
        assert.deepEqual(configProblems(baseConfig({ caCertPem: certPem, caKeyPem: testCa().keyPem })), [
            "hardway-workers:caKeyPem: does not match caCertPem: the certificate was not made from this key",
        ]);
    });
});
