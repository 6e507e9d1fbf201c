/**
 * The policy pack (policy/), offline: each rule as a table, then each
 * policy's validation called directly with the arguments the engine would
 * send (crafted resources), and the whole program's resources under mocks.
 */
import { strict as assert } from "assert";
import type { PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import {
    BOOTSTRAP_TOKEN,
    POLICIES,
    REMOTE_COMMAND,
    RENEWAL,
    ROOT_STACK,
    hostKeyPinned,
    ipvsDeprecated,
    kubeletNotNewer,
    prodTokenExpires,
} from "../policy/policies";
import { hostKeyProblem, ipvsProblem, isProdStack, stackOfUrn, tokenExpiryProblems, versionSkewProblem } from "../policy/rules";
import { GUIDE_NODES, baseConfig, runProgram } from "./support/program";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheNode";
const NO_HOST_KEY = "the remote command does not pin the node's SSH host key (set hostKey on the node in hardway-workers:nodes)";

describe("policy rules", () => {
    const hostKeys: [string, unknown, string | undefined][] = [
        ["a pinned key", { host: "10.0.0.1", hostKey: HOST_KEY }, undefined],
        ["no hostKey", { host: "10.0.0.1" }, NO_HOST_KEY],
        ["an empty hostKey", { host: "10.0.0.1", hostKey: "  " }, NO_HOST_KEY],
        ["no connection at all", undefined, NO_HOST_KEY],
    ];
    for (const [title, connection, expected] of hostKeys) {
        it(`host key: ${title}`, () => assert.equal(hostKeyProblem(connection), expected));
    }

    const stacks: [string, boolean][] = [
        ["prod", true],
        ["prod-eu", true],
        ["acme/hardway-workers/prod", true],
        ["production", false],
        ["staging", false],
        ["dev", false],
        ["preprod", false],
    ];
    for (const [stack, prod] of stacks) {
        it(`${JSON.stringify(stack)} is ${prod ? "" : "not "}a production stack`, () => assert.equal(isProdStack(stack), prod));
    }

    it("reads the stack's name from a URN", () => {
        assert.equal(stackOfUrn("urn:pulumi:prod::hardway-workers::pulumi:pulumi:Stack::hardway-workers-prod"), "prod");
        assert.equal(stackOfUrn("not a urn"), "");
    });

    const TOKEN = "urn:pulumi:prod::hardway-workers::hardway:cluster:BootstrapToken::bootstrap";
    const NEVER = (stack: string) => [{ urn: TOKEN, message: `the bootstrap token of production stack "${stack}" never expires; set hardway-workers:bootstrapTokenTtlHours (e.g. 24)` }];
    const tokens: [string, string, { parent?: string; validityHours?: unknown }[], { urn: string; message: string }[]][] = [
        ["prod, a token with a 24 h renewal", "prod", [{ parent: TOKEN, validityHours: 24 }], []],
        ["prod, a token whose renewal's lifetime is not known yet", "prod", [{ parent: TOKEN, validityHours: undefined }], []],
        ["prod, a token without renewal", "prod", [], NEVER("prod")],
        ["prod, only a certificate's renewal", "prod", [{ parent: "urn:pulumi:prod::hardway-workers::hardway:node:KubeletService::w1", validityHours: 8760 }], NEVER("prod")],
        ["prod-eu, a token without renewal", "prod-eu", [], NEVER("prod-eu")],
        ["staging, a token without renewal", "staging", [], []],
    ];
    for (const [title, stack, renewals, expected] of tokens) {
        it(`token expiry: ${title}`, () => assert.deepEqual(tokenExpiryProblems(stack, { tokens: [TOKEN], renewals }), expected));
    }

    const skews: [unknown, unknown, string | undefined][] = [
        ["1.34.4", "1.34.4", undefined],
        ["1.33.9", "1.34.0", undefined],
        ["1.34.5", "1.34.4", "the kubelet (1.34.5) would be newer than the API server (1.34.4); upgrade the control plane first"],
        ["1.35.0", "v1.34.4", "the kubelet (1.35.0) would be newer than the API server (1.34.4); upgrade the control plane first"],
        ["1.37.2", undefined, undefined],
        ["1.37.2", "unknown", undefined],
    ];
    for (const [kubelet, apiServer, expected] of skews) {
        it(`version skew: kubelet ${kubelet}, API server ${apiServer}`, () => assert.equal(versionSkewProblem(kubelet, apiServer), expected));
    }

    const modes: [unknown, unknown, string | undefined][] = [
        ["ipvs", "1.34.4", undefined],
        ["ipvs", "1.35.0", "kube-proxy's ipvs mode is deprecated from Kubernetes 1.35 (KEP-5495; this stack: 1.35.0); consider hardway-workers:kubeProxyMode nftables"],
        ["ipvs", "1.37.2", "kube-proxy's ipvs mode is deprecated from Kubernetes 1.35 (KEP-5495; this stack: 1.37.2); consider hardway-workers:kubeProxyMode nftables"],
        ["nftables", "1.37.2", undefined],
        ["iptables", "1.36.1", undefined],
    ];
    for (const [mode, version, expected] of modes) {
        it(`ipvs: ${mode} on ${version}`, () => assert.equal(ipvsProblem(mode, version), expected));
    }
});

/** A resource as the engine describes it to a pack. */
function resource(stack: string, type: string, name: string, props: Record<string, unknown>, parent?: PolicyResource): PolicyResource {
    return {
        type,
        name,
        urn: `urn:pulumi:${stack}::hardway-workers::${type}::${name}`,
        props,
        opts: {} as PolicyResource["opts"],
        parent,
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
    } as PolicyResource;
}

async function runStackPolicy(policy: { validateStack?: unknown }, resources: PolicyResource[]): Promise<{ message: string; urn?: string }[]> {
    const found: { message: string; urn?: string }[] = [];
    const args = { resources, getConfig: () => ({}), notApplicable: () => undefined as never } as unknown as StackValidationArgs;
    await (policy.validateStack as (a: StackValidationArgs, r: (m: string, u?: string) => void) => Promise<void> | void)(args, (message, urn) =>
        found.push(urn === undefined ? { message } : { message, urn }),
    );
    return found;
}

async function runResourcePolicy(r: PolicyResource): Promise<string[]> {
    const found: string[] = [];
    const args = { ...r, stackTags: new Map(), getConfig: () => ({}), notApplicable: () => undefined as never } as unknown as ResourceValidationArgs;
    await (hostKeyPinned.validateResource as (a: ResourceValidationArgs, r: (m: string) => void) => Promise<void> | void)(args, (m) => found.push(m));
    return found;
}

function stackOf(stack: string, outputs: Record<string, unknown>, ttl: boolean): PolicyResource[] {
    const root = resource(stack, ROOT_STACK, `hardway-workers-${stack}`, outputs);
    const token = resource(stack, BOOTSTRAP_TOKEN, "bootstrap", {}, root);
    const out = [root, token];
    if (ttl) {
        out.push(resource(stack, RENEWAL, "bootstrap-renewal", { validityHours: 24, renewBeforeHours: 6 }, token));
    }
    return out;
}

describe("policy pack: each validation with the arguments the engine sends", () => {
    it("has four policies with distinct names, the ipvs one advisory and the others mandatory", () => {
        assert.deepEqual(
            POLICIES.map((p) => [p.name, p.enforcementLevel]),
            [
                ["remote-command-pins-host-key", "mandatory"],
                ["prod-bootstrap-token-expires", "mandatory"],
                ["kubelet-not-newer-than-api-server", "mandatory"],
                ["kube-proxy-ipvs-deprecated", "advisory"],
            ],
        );
    });

    it("remote-command-pins-host-key: a command without hostKey is reported, one with it and other types are not", async () => {
        assert.deepEqual(await runResourcePolicy(resource("dev", REMOTE_COMMAND, "worker1-kubelet", { connection: { host: "10.0.0.1" } })), [NO_HOST_KEY]);
        assert.deepEqual(await runResourcePolicy(resource("dev", REMOTE_COMMAND, "worker1-kubelet", { connection: { host: "10.0.0.1", hostKey: HOST_KEY } })), []);
        assert.deepEqual(await runResourcePolicy(resource("dev", "tls:index/privateKey:PrivateKey", "worker1-key", {})), []);
    });

    const outputs = { kubernetesVersion: "1.34.4", kubeProxyMode: "nftables" };
    const table: [string, { validateStack?: unknown }, PolicyResource[], number][] = [
        ["prod-bootstrap-token-expires: prod without a ttl", prodTokenExpires, stackOf("prod", outputs, false), 1],
        ["prod-bootstrap-token-expires: prod with a ttl", prodTokenExpires, stackOf("prod", outputs, true), 0],
        ["prod-bootstrap-token-expires: staging without a ttl", prodTokenExpires, stackOf("staging", outputs, false), 0],
        ["kubelet-not-newer-than-api-server: newer", kubeletNotNewer, stackOf("prod", { ...outputs, controlPlaneVersion: "1.33.2" }, true), 1],
        ["kubelet-not-newer-than-api-server: equal", kubeletNotNewer, stackOf("prod", { ...outputs, controlPlaneVersion: "1.34.4" }, true), 0],
        ["kubelet-not-newer-than-api-server: control plane unknown", kubeletNotNewer, stackOf("prod", outputs, true), 0],
        ["kube-proxy-ipvs-deprecated: ipvs on 1.35.1", ipvsDeprecated, stackOf("dev", { kubernetesVersion: "1.35.1", kubeProxyMode: "ipvs" }, false), 1],
        ["kube-proxy-ipvs-deprecated: ipvs on 1.34.4", ipvsDeprecated, stackOf("dev", { kubernetesVersion: "1.34.4", kubeProxyMode: "ipvs" }, false), 0],
    ];
    for (const [title, policy, resources, count] of table) {
        it(`${title}: ${count} violation(s)`, async () => {
            assert.equal((await runStackPolicy(policy, resources)).length, count);
        });
    }

    it("prod-bootstrap-token-expires names the token's URN", async () => {
        assert.deepEqual(await runStackPolicy(prodTokenExpires, stackOf("prod", outputs, false)), [
            {
                message: 'the bootstrap token of production stack "prod" never expires; set hardway-workers:bootstrapTokenTtlHours (e.g. 24)',
                urn: "urn:pulumi:prod::hardway-workers::hardway:cluster:BootstrapToken::bootstrap",
            },
        ]);
    });
});

describe("policy pack: on the program's own resources (under mocks)", () => {
    it("finds every command of a node without hostKey, and none once every node pins one", async () => {
        // One node each (the program's time is mostly per node): its seven commands (six phases and the host binding).
        const unpinned = await runProgram(baseConfig({ nodes: [GUIDE_NODES[2]] }));
        const pinned = await runProgram(baseConfig({ nodes: [{ ...GUIDE_NODES[2], hostKey: HOST_KEY }] }));
        const violations = async (run: typeof unpinned) => {
            const commands = run.mocks.ofType(REMOTE_COMMAND);
            assert.equal(commands.length, 7);
            const found = await Promise.all(commands.map((c) => runResourcePolicy(resource("dev", c.type, c.name, c.inputs))));
            return found.flat().length;
        };
        assert.equal(await violations(unpinned), 7);
        assert.equal(await violations(pinned), 0);
    });

    it("sees the program's token renewal and its stack outputs: a prod stack without a ttl fails, with one passes", async () => {
        const asEngineSends = async (ttl: number) => {
            const run = await runProgram(baseConfig({ bootstrapTokenTtlHours: ttl, kubernetesVersion: "1.36.0", nodes: [GUIDE_NODES[2]] }));
            const root = resource("prod", ROOT_STACK, "hardway-workers-prod", {
                kubernetesVersion: run.outputs.kubernetesVersion,
                kubeProxyMode: run.outputs.kubeProxyMode,
                controlPlaneVersion: "1.35.2",
            });
            const byName = new Map<string, PolicyResource>();
            const tokenRec = run.mocks.ofType(BOOTSTRAP_TOKEN)[0];
            const token = resource("prod", BOOTSTRAP_TOKEN, tokenRec.name, {}, root);
            byName.set(tokenRec.name, token);
            const renewals = run.mocks
                .ofType(RENEWAL)
                .filter((r) => r.name.startsWith(`${tokenRec.name}-`))
                .map((r) => resource("prod", RENEWAL, r.name, r.inputs, token));
            return [root, token, ...renewals];
        };
        const without = await asEngineSends(0);
        const withTtl = await asEngineSends(24);
        assert.equal((await runStackPolicy(prodTokenExpires, without)).length, 1);
        assert.equal((await runStackPolicy(prodTokenExpires, withTtl)).length, 0);
        assert.deepEqual(await runStackPolicy(kubeletNotNewer, withTtl), [
            { message: "the kubelet (1.36.0) would be newer than the API server (1.35.2); upgrade the control plane first" },
        ]);
        assert.deepEqual(await runStackPolicy(ipvsDeprecated, withTtl), [
            {
                message:
                    "kube-proxy's ipvs mode is deprecated from Kubernetes 1.35 (KEP-5495; this stack: 1.36.0); consider hardway-workers:kubeProxyMode nftables",
            },
        ]);
    });
});
