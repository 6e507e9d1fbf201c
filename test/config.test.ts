/** Stack config validation: each bad input fails with a message that names its field. */
import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { KNOWN_KEYS } from "../components/config/schema";
import { RawConfig } from "../components/config/types";
import { ConfigError, validateConfig } from "../components/config/validate";
import { makeCa, makeCsr, rsaKeyPem, signCsr } from "./support/pki";
import { GUIDE_NODES, baseConfig, testCa } from "./support/program";

function problems(raw: RawConfig): string[] {
    try {
        validateConfig(raw);
    } catch (e) {
        if (e instanceof ConfigError) {
            return e.problems;
        }
        throw e;
    }
    return [];
}

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
            "hardway-workers:nodes[0].address: is not a known node key (known: name, fqdn, ip, role, sshHost, sshPort, hostKey, labels, taints)",
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
            assert.deepEqual(problems(raw), [message]);
        });
    }

    it("takes admin credentials as a pair, the key as a secret, with default timeouts", () => {
        const c = validateConfig(baseConfig({ apiAdminCertPem: adminCert, apiAdminKeyPem: adminKey }));
        assert.equal(c.apiAdmin!.certPem, adminCert.trim() + "\n");
        assert.ok(pulumi.Output.isInstance(c.apiAdmin!.keyPem));
        assert.equal(c.nodeReadyTimeoutSeconds, 300);
        assert.equal(c.drainTimeoutSeconds, 120);
        assert.equal(validateConfig(baseConfig()).apiAdmin, undefined);
    });

    it("reports every bad field at once", () => {
        const found = problems(baseConfig({ clusterCidr: "nope", kubeProxyMode: "x", nodes: [{ name: "A", fqdn: "a", ip: "1", role: "boss" }] }));
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
        assert.deepEqual(problems(baseConfig({ caCertPem: certPem, caKeyPem: testCa().keyPem })), [
            "hardway-workers:caKeyPem: does not match caCertPem: the certificate was not made from this key",
        ]);
    });
});
