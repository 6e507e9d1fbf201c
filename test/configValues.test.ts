/** Stack config values at their edges: what each accepted value becomes, and the whole list of problems for each refused one. */
import { strict as assert } from "assert";
import { CONFIG_SCHEMA } from "../components/config/schema";
import { RawConfig, WorkerConfig } from "../components/config/types";
import { validateConfig } from "../components/config/validate";
import { makeCa } from "./support/pki";
import { configProblems } from "./support/config";
import { baseConfig, testCa } from "./support/program";

function without(...keys: string[]): RawConfig {
    const raw = baseConfig();
    for (const key of keys) {
        delete raw[key];
    }
    return raw;
}

describe("config values: accepted, and what they become", () => {
    const readyDefault = CONFIG_SCHEMA.nodeReadyTimeoutSeconds.default;
    const cases: [string, RawConfig, (c: WorkerConfig) => unknown, unknown][] = [
        ["waitForServices true", baseConfig({ waitForServices: true }), (c) => c.waitForServices, true],
        ['waitForServices "true"', baseConfig({ waitForServices: "true" }), (c) => c.waitForServices, true],
        ["waitForServices false", baseConfig({ waitForServices: false }), (c) => c.waitForServices, false],
        ['waitForServices "false"', baseConfig({ waitForServices: "false" }), (c) => c.waitForServices, false],
        ["waitForServices null (its default)", baseConfig({ waitForServices: null }), (c) => c.waitForServices, true],
        ['waitForServices "" (its default)', baseConfig({ waitForServices: "" }), (c) => c.waitForServices, true],
        ["nodeReadyTimeoutSeconds null (its default)", baseConfig({ nodeReadyTimeoutSeconds: null }), (c) => c.nodeReadyTimeoutSeconds, readyDefault],
        ['nodeReadyTimeoutSeconds "" (its default)', baseConfig({ nodeReadyTimeoutSeconds: "" }), (c) => c.nodeReadyTimeoutSeconds, readyDefault],
        ['nodeReadyTimeoutSeconds "48"', baseConfig({ nodeReadyTimeoutSeconds: "48" }), (c) => c.nodeReadyTimeoutSeconds, 48],
        [
            "the oldest supported release, 1.16.0",
            baseConfig({ kubernetesVersion: "1.16.0", kubeProxyMode: "iptables" }),
            (c) => [c.kubernetesVersion, c.profile],
            [{ major: 1, minor: 16, patch: 0 }, "seed"],
        ],
        ["a two-digit patch, 1.31.10", baseConfig({ kubernetesVersion: "1.31.10" }), (c) => c.kubernetesVersion, { major: 1, minor: 31, patch: 10 }],
        ['clusterDns "" (its default)', baseConfig({ clusterDns: "" }), (c) => c.clusterDns, ["10.96.0.10"]],
        ['clusterDns "10.96.0.10, 10.96.0.11"', baseConfig({ clusterDns: "10.96.0.10, 10.96.0.11" }), (c) => c.clusterDns, ["10.96.0.10", "10.96.0.11"]],
        ['a user name ending in "$"', baseConfig({ sshUser: "deploy$" }), (c) => c.sshUser, "deploy$"],
        ["rollout {maxUnavailable: 2}", baseConfig({ rollout: { maxUnavailable: 2 } }), (c) => c.rollout, { maxUnavailable: 2 }],
        ["packageRepos {rhel: null}", baseConfig({ packageRepos: { rhel: null } }), (c) => c.packageRepos.rhel, null],
        ["failCgroupV1 unset: not in the config", baseConfig(), (c) => "failCgroupV1" in c, false],
        ["failCgroupV1 false", baseConfig({ failCgroupV1: false }), (c) => c.failCgroupV1, false],
        ['failCgroupV1 "true"', baseConfig({ failCgroupV1: "true" }), (c) => c.failCgroupV1, true],
        ["no API administrator credentials", baseConfig(), (c) => c.apiAdmin, undefined],
        ["no bootstrap token: one is generated later", baseConfig(), (c) => c.bootstrapToken, undefined],
    ];
    for (const [title, raw, pick, expected] of cases) {
        it(title, () => {
            assert.deepEqual(pick(validateConfig(raw)), expected);
        });
    }

    it("a CA bundle of two certificates: each once, in order, one newline after each", () => {
        const ca = testCa();
        const intermediate = makeCa("hardway-intermediate");
        const c = validateConfig(baseConfig({ caBundlePem: `\n${ca.certPem}\n\n${intermediate.certPem}\n` }));
        assert.equal(c.caBundlePem, `${ca.certPem.trim()}\n${intermediate.certPem.trim()}\n`);
    });
});

describe("config values: refused, with the whole list of problems", () => {
    const ca = testCa();
    const otherCa = makeCa("another-ca");
    const leaf = makeCa("leaf", undefined, { isCa: false });
    const cases: [string, () => RawConfig, string[]][] = [
        ["kubernetesVersion null", () => baseConfig({ kubernetesVersion: null }), ["hardway-workers:kubernetesVersion: is required"]],
        [
            "a major version of two digits",
            () => baseConfig({ kubernetesVersion: "11.0.0" }),
            ["hardway-workers:kubernetesVersion: 11.0.0 is not supported (supported: 1.16.x to 1.37.x)"],
        ],
        [
            "a pre-release whose suffix ends like a version",
            () => baseConfig({ kubernetesVersion: "1.31.0-rc.0.1.2" }),
            ['hardway-workers:kubernetesVersion: "1.31.0-rc.0.1.2" is not a release version like "1.16.2"'],
        ],
        ['waitForServices "yes"', () => baseConfig({ waitForServices: "yes" }), ['hardway-workers:waitForServices: must be true or false, got "yes"']],
        [
            "clusterDns as a number",
            () => baseConfig({ clusterDns: 5 }),
            ['hardway-workers:clusterDns[0]: "5" is not a valid IPv4 or IPv6 address'],
        ],
        ["a node that is null", () => baseConfig({ nodes: [null] }), ["hardway-workers:nodes[0]: must be an object {name, fqdn, ip, role}"]],
        ["rollout as a list", () => baseConfig({ rollout: [] }), ['hardway-workers:rollout: must be an object {maxUnavailable: N | "P%"}']],
        ["caCertPem unset", () => without("caCertPem"), ["hardway-workers:caCertPem: is required"]],
        ["caKeyPem unset", () => without("caKeyPem"), ["hardway-workers:caKeyPem: is required"]],
        [
            "a CA key that is not the CA certificate's",
            () => baseConfig({ caKeyPem: otherCa.keyPem }),
            ["hardway-workers:caKeyPem: does not match caCertPem: the certificate was not made from this key"],
        ],
        [
            "a CA certificate that is not a CA",
            () => baseConfig({ caCertPem: leaf.certPem, caKeyPem: leaf.keyPem }),
            ["hardway-workers:caCertPem: is not a CA certificate (basicConstraints CA:TRUE is missing): CN=leaf"],
        ],
        ['a user name with a "!"', () => baseConfig({ sshUser: "admin!" }), ['hardway-workers:sshUser: "admin!" is not a user name']],
        [
            "certRenewBeforeHours equal to certValidityHours",
            () => baseConfig({ certValidityHours: 100, certRenewBeforeHours: 100 }),
            [
                "hardway-workers:certRenewBeforeHours: must be less than certValidityHours (100 >= 100), or certificates would renew on every run",
            ],
        ],
        [
            "failCgroupV1 on Kubernetes 1.30",
            () => baseConfig({ kubernetesVersion: "1.30.0", failCgroupV1: true }),
            ["hardway-workers:failCgroupV1: needs Kubernetes 1.31 or newer: the kubelet of 1.30.0 has no such setting"],
        ],
        ['failCgroupV1 "no"', () => baseConfig({ failCgroupV1: "no" }), ['hardway-workers:failCgroupV1: must be true or false, got "no"']],
    ];
    for (const [title, raw, expected] of cases) {
        it(title, () => {
            assert.deepEqual(configProblems(raw()), expected);
        });
    }
    it("uses the test CA as a CA (the cases above change one thing each)", () => {
        assert.deepEqual(configProblems(baseConfig({ caCertPem: ca.certPem, caKeyPem: ca.keyPem })), []);
    });
});

describe("config values: downloads and packageRepos at their edges", () => {
    const defaults = validateConfig(baseConfig());
    const accepted: [string, RawConfig, (c: WorkerConfig) => unknown, unknown][] = [
        ["downloads null (the defaults)", baseConfig({ downloads: null }), (c) => c.downloads, defaults.downloads],
        ['downloads "" (the defaults)', baseConfig({ downloads: "" }), (c) => c.downloads, defaults.downloads],
        ['crictlVersion "v1.30.0", without its "v"', baseConfig({ downloads: { crictlVersion: "v1.30.0" } }), (c) => c.downloads.crictlVersion, "1.30.0"],
        ["cniVersion 1.10.12", baseConfig({ downloads: { cniVersion: "1.10.12" } }), (c) => c.downloads.cniVersion, "1.10.12"],
        ["cniVersion 10.0.0", baseConfig({ downloads: { cniVersion: "10.0.0" } }), (c) => c.downloads.cniVersion, "10.0.0"],
        ["packageRepos null (the default)", baseConfig({ packageRepos: null }), (c) => c.packageRepos, defaults.packageRepos],
        ['packageRepos "" (the default)', baseConfig({ packageRepos: "" }), (c) => c.packageRepos, defaults.packageRepos],
        [
            "a key file on the node",
            baseConfig({ packageRepos: { rhel: { gpgKey: "file:///etc/pki/rpm-gpg/docker.gpg" } } }),
            (c) => c.packageRepos.rhel?.gpgKey,
            "file:///etc/pki/rpm-gpg/docker.gpg",
        ],
    ];
    for (const [title, raw, pick, expected] of accepted) {
        it(`accepts ${title}`, () => {
            assert.deepEqual(pick(validateConfig(raw)), expected);
        });
    }

    const refused: [string, RawConfig, string[]][] = [
        [
            "a crictl version of four parts",
            baseConfig({ downloads: { crictlVersion: "1.30.0.1" } }),
            ['hardway-workers:downloads.crictlVersion: "1.30.0.1" is not a version like "1.2.3"'],
        ],
        [
            "a cni version with a prefix",
            baseConfig({ downloads: { cniVersion: "rel-1.5.1" } }),
            ['hardway-workers:downloads.cniVersion: "rel-1.5.1" is not a version like "1.2.3"'],
        ],
        [
            'a crictl version with a "v" inside',
            baseConfig({ downloads: { crictlVersion: "1v.30.0" } }),
            ['hardway-workers:downloads.crictlVersion: "1v.30.0" is not a version like "1.2.3"'],
        ],
        [
            "a repository id with a slash at its end",
            baseConfig({ packageRepos: { rhel: { id: "docker/" } } }),
            [`hardway-workers:packageRepos.rhel.id: "docker/" is not a repository id (letters, digits, '.', '_' and '-')`],
        ],
        [
            "a base URL that is a file on the node",
            baseConfig({ packageRepos: { rhel: { baseUrl: "file:///srv/docker" } } }),
            ['hardway-workers:packageRepos.rhel.baseUrl: "file:///srv/docker" must use http or https'],
        ],
        [
            "a key file path with a space",
            baseConfig({ packageRepos: { rhel: { gpgKey: "file:///etc/pki/docker key.gpg" } } }),
            ['hardway-workers:packageRepos.rhel.gpgKey: "file:///etc/pki/docker key.gpg" is not a URL'],
        ],
        [
            "a key that only ends in a file URL",
            baseConfig({ packageRepos: { rhel: { gpgKey: "xfile:///etc/docker.gpg" } } }),
            ['hardway-workers:packageRepos.rhel.gpgKey: "xfile:///etc/docker.gpg" must use http or https'],
        ],
    ];
    for (const [title, raw, expected] of refused) {
        it(`refuses ${title}`, () => {
            assert.deepEqual(configProblems(raw), expected);
        });
    }
});
