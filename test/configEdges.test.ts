/**
 * The stack config at its edges, where the config tests stop: the node list,
 * rollout and the small checkers of validate.ts, the control plane merge and
 * the runtime reader. What each accepted value becomes, and the whole list of
 * problems for each refused one.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { checkStackName, mergeControlPlane } from "../components/config/controlPlane";
import { loadConfig, readRawConfig } from "../components/config/read";
import { RawConfig, WorkerConfig } from "../components/config/types";
import { checkCaPair, checkCertKeyPair, parseOldHost, parseTaint, validateConfig } from "../components/config/validate";
import { configProblems } from "./support/config";
import { GUIDE_NODES, baseConfig, testCa } from "./support/program";

function withNode(i: number, patch: Record<string, unknown>): RawConfig {
    return baseConfig({ nodes: GUIDE_NODES.map((n, j) => (j === i ? { ...n, ...patch } : n)) });
}

const WORKER = { name: "w1", fqdn: "w1.example.com", ip: "10.0.0.21", role: "worker" };
/** A name of 253 characters, the most RFC 1123 allows. */
const LONGEST = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`;

describe("config nodes: accepted, and what they become", () => {
    // Labels a kubelet may set on its own Node: the config keeps each as it is.
    const KUBELET_LABELS = {
        "node.kubernetes.io/pool": "gpu",
        "example.com/rack": "r1",
        "kubernetes.io/os": "linux",
        "kubelet.kubernetes.io/x": "",
        "a.node.kubernetes.io/y": "z",
        "notkubernetes.io/zone": "a",
        plain: "v",
    };
    const cases: [string, RawConfig, (c: WorkerConfig) => unknown, unknown][] = [
        ["sshPort 1", withNode(2, { sshPort: 1 }), (c) => c.nodes[2].sshPort, 1],
        ["sshPort 65535", withNode(2, { sshPort: 65535 }), (c) => c.nodes[2].sshPort, 65535],
        ['sshHost "" (the node\'s ip)', withNode(2, { sshHost: "" }), (c) => c.nodes[2].sshHost, "192.168.50.21"],
        ["sshHost null (the node's ip)", withNode(2, { sshHost: null }), (c) => c.nodes[2].sshHost, "192.168.50.21"],
        ["labels a kubelet may set, each kept", withNode(2, { labels: { ...KUBELET_LABELS } }), (c) => c.nodes[2].labels, KUBELET_LABELS],
        ["no labels: an empty object", withNode(2, {}), (c) => c.nodes[2].labels, {}],
        [
            'a taint "key=:Effect": no value',
            withNode(2, { taints: ["gpu=:NoExecute"] }),
            (c) => c.nodes[2].taints,
            [{ key: "gpu", effect: "NoExecute" }],
        ],
        [
            "a worker's taints as given, no control-plane taint added",
            withNode(2, { taints: ["example.com/x:PreferNoSchedule"] }),
            (c) => c.nodes[2].taints,
            [{ key: "example.com/x", effect: "PreferNoSchedule" }],
        ],
        ["forgetOldHost as host: the node's port", withNode(2, { sshPort: 2222, forgetOldHost: "10.0.0.99" }), (c) => c.nodes[2].forgetOldHost, "10.0.0.99:2222"],
        ["forgetOldHost as host:port", withNode(2, { forgetOldHost: "old.example.com:22" }), (c) => c.nodes[2].forgetOldHost, "old.example.com:22"],
        ["no forgetOldHost: not in the node", withNode(2, {}), (c) => "forgetOldHost" in c.nodes[2], false],
        ['forgetOldHost "": not in the node', withNode(2, { forgetOldHost: "" }), (c) => "forgetOldHost" in c.nodes[2], false],
        ["the old address on another port than the current one", withNode(2, { forgetOldHost: "192.168.50.21:2222" }), (c) => c.nodes[2].forgetOldHost, "192.168.50.21:2222"],
        ["rollout null (the default)", baseConfig({ rollout: null }), (c) => c.rollout, { maxUnavailable: 1 }],
        ['rollout "" (the default)', baseConfig({ rollout: "" }), (c) => c.rollout, { maxUnavailable: 1 }],
        ["rollout {} (the default)", baseConfig({ rollout: {} }), (c) => c.rollout, { maxUnavailable: 1 }],
        ["rollout {maxUnavailable: 1}", baseConfig({ rollout: { maxUnavailable: 1 } }), (c) => c.rollout, { maxUnavailable: 1 }],
        ['rollout {maxUnavailable: "1%"}', baseConfig({ rollout: { maxUnavailable: "1%" } }), (c) => c.rollout, { maxUnavailable: "1%" }],
        ['rollout {maxUnavailable: "100%"}', baseConfig({ rollout: { maxUnavailable: "100%" } }), (c) => c.rollout, { maxUnavailable: "100%" }],
        ["an IPv6 cluster CIDR", baseConfig({ clusterCidr: "fd00:10:244::/56" }), (c) => c.clusterCidr, "fd00:10:244::/56"],
        ["one-character labels", withNode(2, { name: "w", fqdn: "w.example.c" }), (c) => [c.nodes[2].name, c.nodes[2].fqdn], ["w", "w.example.c"]],
        [
            "label keys without a prefix, and prefixes that only contain kubernetes.io or k8s.io",
            withNode(2, { labels: { Rack: "r1", "kubernetes.io.example.com/x": "a", "k8s.io.example.com/y": "b" } }),
            (c) => c.nodes[2].labels,
            { Rack: "r1", "kubernetes.io.example.com/x": "a", "k8s.io.example.com/y": "b" },
        ],
        ["a taint key without a prefix, in capitals", withNode(2, { taints: ["Gpu:NoSchedule"] }), (c) => c.nodes[2].taints, [{ key: "Gpu", effect: "NoSchedule" }]],
        ["a name and an FQDN of 253 characters", withNode(2, { name: LONGEST, fqdn: LONGEST }), (c) => [c.nodes[2].name, c.nodes[2].fqdn], [LONGEST, LONGEST]],
        ["an FQDN of 253 characters and its root dot", withNode(2, { fqdn: `${LONGEST}.` }), (c) => c.nodes[2].fqdn, `${LONGEST}.`],
    ];
    for (const [title, raw, pick, expected] of cases) {
        it(title, () => {
            assert.deepEqual(pick(validateConfig(raw)), expected);
        });
    }

    it("SSH private keys in each PEM form: no problem", () => {
        for (const kind of ["", "RSA ", "EC ", "OPENSSH "]) {
            const pem = `-----BEGIN ${kind}PRIVATE KEY-----\nMHc=\n-----END ${kind}PRIVATE KEY-----\n`;
            assert.deepEqual(configProblems(baseConfig({ sshPrivateKey: pem })), [], kind);
        }
    });
});

describe("config nodes: refused, with the whole list of problems", () => {
    const cases: [string, RawConfig, string[]][] = [
        ["nodes null", baseConfig({ nodes: null }), ["hardway-workers:nodes: is required: a JSON list of {name, fqdn, ip, role}"]],
        ['nodes ""', baseConfig({ nodes: "" }), ["hardway-workers:nodes: is required: a JSON list of {name, fqdn, ip, role}"]],
        [
            "a node whose fields are null or empty",
            baseConfig({ nodes: [{ name: null, fqdn: "", ip: null, role: "" }] }),
            ["hardway-workers:nodes[0].name: is required", "hardway-workers:nodes[0].fqdn: is required", "hardway-workers:nodes[0].ip: is required", "hardway-workers:nodes[0].role: is required"],
        ],
        [
            "two nodes without a name: each is required, neither is a duplicate",
            baseConfig({ nodes: [{ ...WORKER, name: undefined }, { ...WORKER, name: undefined, fqdn: "w2.example.com", ip: "10.0.0.22" }] }),
            ["hardway-workers:nodes[0].name: is required", "hardway-workers:nodes[1].name: is required"],
        ],
        [
            "a node whose ip is bad and has no sshHost: one problem, on ip",
            baseConfig({ nodes: [{ ...WORKER, ip: "Bad" }] }),
            ['hardway-workers:nodes[0].ip: "Bad" is not a valid IPv4 or IPv6 address'],
        ],
        ["SSH port 65536", withNode(0, { sshPort: 65536 }), ["hardway-workers:nodes[0].sshPort: 65536 is not a TCP port (1-65535)"]],
        ['SSH port "ssh"', withNode(0, { sshPort: "ssh" }), ['hardway-workers:nodes[0].sshPort: "ssh" is not a TCP port (1-65535)']],
        [
            "a taint object whose key is not a string",
            withNode(2, { taints: [{ key: 1, effect: "NoSchedule" }] }),
            ['hardway-workers:nodes[2].taints[0]: must be "key[=value]:Effect" or {key, value, effect}'],
        ],
        [
            "a taint object whose effect is not a string",
            withNode(2, { taints: [{ key: "gpu", effect: 1 }] }),
            ['hardway-workers:nodes[2].taints[0]: must be "key[=value]:Effect" or {key, value, effect}'],
        ],
        ["a taint that is a number", withNode(2, { taints: [7] }), ['hardway-workers:nodes[2].taints[0]: must be "key[=value]:Effect" or {key, value, effect}']],
        ["a taint with a space in it", withNode(2, { taints: ["gpu =x:NoSchedule"] }), ['hardway-workers:nodes[2].taints[0]: taint "gpu =x:NoSchedule" is not of the form key[=value]:Effect']],
        ["a taint with text after its effect", withNode(2, { taints: ["gpu:NoSchedule x"] }), ['hardway-workers:nodes[2].taints[0]: taint "gpu:NoSchedule x" is not of the form key[=value]:Effect']],
        ["a taint with text before its key", withNode(2, { taints: [" gpu:NoSchedule"] }), ['hardway-workers:nodes[2].taints[0]: taint " gpu:NoSchedule" is not of the form key[=value]:Effect']],
        ["a taint with a bad value in text", withNode(2, { taints: ["gpu=-x:NoSchedule"] }), ['hardway-workers:nodes[2].taints[0]: taint "gpu" has an invalid value "-x"']],
        [
            "the current address as forgetOldHost",
            withNode(2, { forgetOldHost: "192.168.50.21:22" }),
            [`hardway-workers:nodes[2].forgetOldHost: "192.168.50.21:22" is the node's current address; name the old one`],
        ],
        [
            "forgetOldHost that is not an address",
            withNode(2, { forgetOldHost: "old host" }),
            [`hardway-workers:nodes[2].forgetOldHost: "old host" is not an address: expected host or host:port, the node's old sshHost and sshPort`],
        ],
        ["forgetOldHost that is not a string", withNode(2, { forgetOldHost: 5 }), ["hardway-workers:nodes[2].forgetOldHost: must be a string, got 5"]],
        [
            "a label key with a bad prefix and a good name",
            withNode(2, { labels: { "-bad.example/rack": "r1" } }),
            ['hardway-workers:nodes[2].labels: label key "-bad.example/rack" is not a valid label key'],
        ],
        [
            "a kubernetes.io label under a subdomain",
            withNode(2, { labels: { "x.kubernetes.io/y": "z" } }),
            [
                'hardway-workers:nodes[2].labels: label "x.kubernetes.io/y" is in the kubernetes.io/k8s.io namespace, which a kubelet may not set on itself (use e.g. "node.kubernetes.io/…" or a domain of your own)',
            ],
        ],
        [
            "a label the kubelet may not set, next to good ones",
            withNode(2, { labels: { "example.com/a": "1", "kubernetes.io/role": "x", "example.com/b": "2" } }),
            [
                'hardway-workers:nodes[2].labels: label "kubernetes.io/role" is in the kubernetes.io/k8s.io namespace, which a kubelet may not set on itself (use e.g. "node.kubernetes.io/…" or a domain of your own)',
            ],
        ],
        ["a label value with a space at its end", withNode(2, { labels: { rack: "r1 " } }), ['hardway-workers:nodes[2].labels: label "rack" has an invalid value "r1 "']],
        ["a one-label FQDN", withNode(2, { fqdn: "worker1" }), ['hardway-workers:nodes[2].fqdn: "worker1" is not a fully qualified domain name (lower-case RFC 1123 labels joined by dots, e.g. "worker1.example.com")']],
        [
            "an FQDN of 254 characters",
            withNode(2, { fqdn: `${LONGEST}e` }),
            [`hardway-workers:nodes[2].fqdn: "${LONGEST}e" is not a fully qualified domain name (lower-case RFC 1123 labels joined by dots, e.g. "worker1.example.com")`],
        ],
        [
            "a node name of 254 characters",
            withNode(2, { name: `${LONGEST}e` }),
            [`hardway-workers:nodes[2].name: "${LONGEST}e" is not a valid node name (lower-case letters, digits, '-' and '.')`],
        ],
        ["an IPv4 address of three parts", withNode(2, { ip: "192.168.50" }), ['hardway-workers:nodes[2].ip: "192.168.50" is not a valid IPv4 or IPv6 address']],
        [
            "an IPv6 cluster CIDR with host bits",
            baseConfig({ clusterCidr: "fd00:10:244::1/56" }),
            ['hardway-workers:clusterCidr: "fd00:10:244::1/56" has host bits set; did you mean "fd00:10:244::/56"?'],
        ],
        ["a cluster CIDR in short form", baseConfig({ clusterCidr: "10.244/16" }), ['hardway-workers:clusterCidr: "10.244/16" is not a valid CIDR (expected e.g. "10.244.0.0/16")']],
        ["a checksum in upper case", baseConfig({ downloads: { sha256: { cni: "A".repeat(64) } } }), [`hardway-workers:downloads.sha256.cni: "${"A".repeat(64)}" is not a lower-case hex sha256`]],
        ["a checksum one character too long", baseConfig({ downloads: { sha256: { cni: "a".repeat(65) } } }), [`hardway-workers:downloads.sha256.cni: "${"a".repeat(65)}" is not a lower-case hex sha256`]],
        ["rollout {maxUnavailable: 1.5}", baseConfig({ rollout: { maxUnavailable: 1.5 } }), ['hardway-workers:rollout.maxUnavailable: 1.5 is neither a whole number of nodes (1 or more) nor a percentage ("1%" to "100%")']],
        ['rollout {maxUnavailable: "101%"}', baseConfig({ rollout: { maxUnavailable: "101%" } }), ['hardway-workers:rollout.maxUnavailable: "101%" is neither a whole number of nodes (1 or more) nor a percentage ("1%" to "100%")']],
        ['rollout {maxUnavailable: "2"}', baseConfig({ rollout: { maxUnavailable: "2" } }), ['hardway-workers:rollout.maxUnavailable: "2" is neither a whole number of nodes (1 or more) nor a percentage ("1%" to "100%")']],
        ['rollout {maxUnavailable: "x5%"}', baseConfig({ rollout: { maxUnavailable: "x5%" } }), ['hardway-workers:rollout.maxUnavailable: "x5%" is neither a whole number of nodes (1 or more) nor a percentage ("1%" to "100%")']],
        ['rollout {maxUnavailable: " 5%"}', baseConfig({ rollout: { maxUnavailable: " 5%" } }), ['hardway-workers:rollout.maxUnavailable: " 5%" is neither a whole number of nodes (1 or more) nor a percentage ("1%" to "100%")']],
        ['rollout {maxUnavailable: "5%x"}', baseConfig({ rollout: { maxUnavailable: "5%x" } }), ['hardway-workers:rollout.maxUnavailable: "5%x" is neither a whole number of nodes (1 or more) nor a percentage ("1%" to "100%")']],
        [
            "rollout with an unknown key next to maxUnavailable",
            baseConfig({ rollout: { maxUnavailable: 2, maxSurge: 1 } }),
            ["hardway-workers:rollout.maxSurge: is not a known rollout key (known: maxUnavailable)"],
        ],
        ["rollout as text", baseConfig({ rollout: "2" }), ['hardway-workers:rollout: must be an object {maxUnavailable: N | "P%"}']],
        ["a node name that starts with a dash", withNode(2, { name: "-w1" }), [`hardway-workers:nodes[2].name: "-w1" is not a valid node name (lower-case letters, digits, '-' and '.')`]],
        ["a node name that ends with a dash", withNode(2, { name: "w1-" }), [`hardway-workers:nodes[2].name: "w1-" is not a valid node name (lower-case letters, digits, '-' and '.')`]],
        ["a label key with an empty prefix", withNode(2, { labels: { "/rack": "r1" } }), ['hardway-workers:nodes[2].labels: label key "/rack" is not a valid label key']],
        ["a taint key with an empty prefix", withNode(2, { taints: ["/gpu:NoSchedule"] }), ['hardway-workers:nodes[2].taints[0]: taint key "/gpu" is not a valid key']],
        ["a label value that starts with a dash", withNode(2, { labels: { rack: "-r1" } }), ['hardway-workers:nodes[2].labels: label "rack" has an invalid value "-r1"']],
        ["a label value that ends with a dash", withNode(2, { labels: { rack: "r1-" } }), ['hardway-workers:nodes[2].labels: label "rack" has an invalid value "r1-"']],
        ...["kubelet.kubernetes.io.k8s.io/x", "node.kubernetes.io.k8s.io/x"].map((key): [string, RawConfig, string[]] => [
            `a label under ${key.split("/")[0]}`,
            withNode(2, { labels: { [key]: "y" } }),
            [
                `hardway-workers:nodes[2].labels: label "${key}" is in the kubernetes.io/k8s.io namespace, which a kubelet may not set on itself (use e.g. "node.kubernetes.io/…" or a domain of your own)`,
            ],
        ]),
        ...["xabcdef.0123456789abcdef", "abcdef.0123456789abcdefx"].map((token): [string, RawConfig, string[]] => [
            `a token with a character too many: ${token}`,
            baseConfig({ bootstrapToken: token }),
            ['hardway-workers:bootstrapToken: is not a bootstrap token: expected 6 then 16 characters of [a-z0-9] joined by a dot, like "abcdef.0123456789abcdef"'],
        ]),
    ];
    for (const [title, raw, expected] of cases) {
        it(title, () => {
            assert.deepEqual(configProblems(raw), expected);
        });
    }
});

describe("config checkers: an old address, a CA's dates", () => {
    it("forgetOldHost: brackets only around an address, ports 1 to 65535", () => {
        const table: [string, number, string | { error: string }][] = [
            ["[1.2.3]", 22, { error: `"[1.2.3]" is not an address: expected host or host:port, the node's old sshHost and sshPort` }],
            ["[old.example.com]", 22, { error: `"[old.example.com]" is not an address: expected host or host:port, the node's old sshHost and sshPort` }],
            ["[fd00::21]:2222", 22, "fd00::21:2222"],
            ["[fd00::21]x", 22, { error: `"[fd00::21]x" is not an address: expected host or host:port, the node's old sshHost and sshPort` }],
            ["x[fd00::21]", 22, { error: `"x[fd00::21]" is not an address: expected host or host:port, the node's old sshHost and sshPort` }],
            ["fd00::21", 2222, "fd00::21:2222"],
            ["10.0.0.21:65535", 22, "10.0.0.21:65535"],
            ["10.0.0.21:1", 22, "10.0.0.21:1"],
            ["10.0.0.21:65536", 22, { error: '"10.0.0.21:65536" has no valid TCP port (1-65535)' }],
            ["10.0.0.21:22x", 22, { error: `"10.0.0.21:22x" is not an address: expected host or host:port, the node's old sshHost and sshPort` }],
            ["10.0.0.21", 0, { error: '"10.0.0.21" has no valid TCP port (1-65535)' }],
        ];
        for (const [value, port, want] of table) {
            assert.deepEqual(parseOldHost(value, port), want, value);
        }
    });

    it("a CA expires at its notAfter: in date a millisecond before, expired at it", () => {
        const ca = testCa();
        const notAfter = new Date(new crypto.X509Certificate(ca.certPem).validTo);
        assert.deepEqual(checkCaPair(ca.certPem, ca.keyPem, new Date(notAfter.getTime() - 1)), {});
        assert.deepEqual(checkCaPair(ca.certPem, ca.keyPem, notAfter), { cert: `expired on ${notAfter.toISOString()}` });
    });
});

describe("config checkers: taints as text, EC and multi-name certificates", () => {
    it("parseTaint: a value only when one is given", () => {
        const table: [string, unknown][] = [
            ["gpu:NoSchedule", { key: "gpu", effect: "NoSchedule" }],
            ["gpu=:NoSchedule", { key: "gpu", effect: "NoSchedule" }],
            ["gpu=a100:NoExecute", { key: "gpu", value: "a100", effect: "NoExecute" }],
        ];
        for (const [text, want] of table) {
            assert.deepStrictEqual(parseTaint(text), want, text);
        }
    });

    /** A self-signed EC certificate made by openssl, with its key. */
    function opensslCert(subject: string, ca: boolean): { certPem: string; keyPem: string } {
        const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
        const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hw-cert-"));
        try {
            fs.writeFileSync(path.join(dir, "key.pem"), keyPem, { mode: 0o600 });
            const certPem = execFileSync("openssl", [
                "req", "-x509", "-new", "-key", path.join(dir, "key.pem"), "-subj", subject, "-days", "2",
                "-addext", `basicConstraints=critical,CA:${ca ? "TRUE" : "FALSE"}`,
            ]).toString();
            return { certPem, keyPem };
        } finally {
            fs.rmSync(dir, { recursive: true });
        }
    }

    it("an EC certificate and another EC key do not match", () => {
        const a = opensslCert("/CN=ec-a", true);
        const b = opensslCert("/CN=ec-b", true);
        assert.deepEqual(checkCaPair(a.certPem, a.keyPem), {});
        assert.deepEqual(checkCaPair(a.certPem, b.keyPem), { key: "does not match caCertPem: the certificate was not made from this key" });
    });

    it("a certificate that is not a CA is named by its whole subject", () => {
        const leaf = opensslCert("/O=lab/OU=nodes/CN=leaf", false);
        assert.deepEqual(checkCaPair(leaf.certPem, leaf.keyPem), { cert: "is not a CA certificate (basicConstraints CA:TRUE is missing): O=lab, OU=nodes, CN=leaf" });
        assert.deepEqual(checkCertKeyPair(leaf.certPem, leaf.keyPem, { ca: false, certField: "apiAdminCertPem" }), {});
    });
});

describe("config: the control plane's outputs and the runtime's values at their edges", () => {
    const STACK = "organization/cp/dev";
    const URL = "https://cp.example:6443";

    it("checkStackName: three Pulumi names", () => {
        const bad = (v: string) => `${JSON.stringify(v)} is not a fully qualified stack name "org/project/stack" (on a file backend the org is "organization")`;
        const table: [string, string | undefined][] = [
            [STACK, undefined],
            ["org/my_project/dev.1-a", undefined],
            ["org/cp/dev x", bad("org/cp/dev x")],
            ["org/cp/-dev", bad("org/cp/-dev")],
            ["org/cp", bad("org/cp")],
        ];
        for (const [value, want] of table) {
            assert.equal(checkStackName(value), want, value);
        }
    });

    it("a direct value that is null or not a string meets an output", () => {
        const out = { apiServer: { value: URL, secret: false } };
        assert.deepEqual(mergeControlPlane({ apiServer: null }, STACK, out), { raw: { apiServer: URL }, problems: [], controlPlaneVersion: undefined });
        assert.deepEqual(mergeControlPlane({ apiServer: 6443 }, STACK, { apiServer: { value: "6443", secret: false } }).problems, [
            `hardway-workers:apiServer: is set in this stack's config and differs from output apiServer of controlPlaneStack "${STACK}"; unset one of them (or make them equal)`,
        ]);
    });

    it("the control plane's version: a release, with or without its v", () => {
        const refused = (v: string) => [`hardway-workers:controlPlaneStack: output kubernetesVersion of "${STACK}" is ${JSON.stringify(v)}, not a release version like "1.34.4"`];
        const table: [string, string | undefined, string[]][] = [
            ["1.34.10", "1.34.10", []],
            ["v1.34.4", "1.34.4", []],
            ["10.1.2", "10.1.2", []],
            ["x1.34.4", undefined, refused("x1.34.4")],
            ["1.34.4x", undefined, refused("1.34.4x")],
        ];
        for (const [value, version, problems] of table) {
            const m = mergeControlPlane({}, STACK, { kubernetesVersion: { value, secret: false } });
            assert.deepEqual([m.controlPlaneVersion, m.problems], [version, problems], value);
        }
    });

    describe("the runtime's values", () => {
        afterEach(() => pulumi.runtime.setAllConfig({}, []));
        const asRuntime = (raw: RawConfig): Record<string, string> =>
            Object.fromEntries(Object.entries(raw).map(([k, v]) => [`hardway-workers:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));

        it("a list key given as JSON text is parsed", () => {
            pulumi.runtime.setAllConfig({ "hardway-workers:clusterDns": '["10.96.0.10","10.96.0.11"]' }, []);
            assert.deepEqual(readRawConfig(), { clusterDns: ["10.96.0.10", "10.96.0.11"] });
        });

        it("loadConfig with a controlPlaneStack not read first and the rest valid: that one problem", () => {
            pulumi.runtime.setAllConfig({ ...asRuntime(baseConfig()), "hardway-workers:controlPlaneStack": STACK }, [
                "hardway-workers:caKeyPem",
                "hardway-workers:sshPrivateKey",
            ]);
            assert.throws(() => loadConfig(), {
                message: "invalid stack config:\n  - hardway-workers:controlPlaneStack: was not read: the program (index.ts) reads it with readControlPlane before loadConfig",
            });
        });
    });
});
