/**
 * The whole program under mocks: what the engine is told besides inputs.
 * - Order: each phase waits for what the guide puts before it, through the
 *   dependencies (explicit `dependsOn` and those its inputs carry), which the
 *   engine follows forwards on create and backwards on delete.
 * - Identity: each resource's parent, which is part of its URN; a new parent
 *   is a new URN, and the engine would replace the resource.
 * - Each component's outputs, and what makes a node's update wait for Ready
 *   again (the membership's `rollout` digest).
 */
import { strict as assert } from "assert";
import { ProgramMocks, Registration } from "./support/mocks";
import { GUIDE_NODES, ProgramRun, baseConfig, runProgram, testCa, withAccess } from "./support/program";

const NODE = "hardway:node:WorkerNode";
const COMMAND = "command:remote:Command";

/** Every resource that `name` waits for, directly or through others, by name. */
function waitsFor(run: ProgramRun, name: string, type?: string): Set<string> {
    const byUrn = new Map(run.mocks.registrations.map((r) => [r.urn, r]));
    const seen = new Set<string>();
    const todo = [...run.mocks.registered(name, type).dependencies];
    while (todo.length > 0) {
        const urn = todo.pop()!;
        if (seen.has(urn)) {
            continue;
        }
        seen.add(urn);
        todo.push(...(byUrn.get(urn)?.dependencies ?? []));
    }
    return new Set([...seen].map((urn) => byUrn.get(urn)?.name ?? urn));
}

/** A registration's parent, as `type name`, or "" at the stack's root. */
function parentOf(run: ProgramRun, r: Registration): string {
    if (r.parent === "") {
        return "";
    }
    const parent = run.mocks.registrations.find((p) => p.urn === r.parent);
    assert.ok(parent, `${r.name}'s parent ${r.parent} is registered`);
    return `${parent.type} ${parent.name}`;
}

describe("program under mocks: the order and identity the engine is given (with API credentials)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram(withAccess());
    });

    for (const n of GUIDE_NODES.map((x) => x.name)) {
        // [resource, what it must wait for]: the guide's order, and the rollout around the disruptive phases.
        const AFTER: [string, string[]][] = [
            [`${n}-system`, [`${n}-host`]],
            [`${n}-rollout-gate`, [`${n}-system`]],
            [`${n}-binaries`, [`${n}-system`, `${n}-rollout-gate`]],
            [`${n}-containerd-install`, [`${n}-system`, `${n}-rollout-gate`]],
            [`${n}-containerd-config`, [`${n}-containerd-install`]],
            [`${n}-kubelet`, [`${n}-binaries`, `${n}-containerd-config`, `${n}-kubelet-serving-cert`, "bootstrap-id", "bootstrap-secret"]],
            [`${n}-kube-proxy`, [`${n}-binaries`, `${n}-kube-proxy-client-cert`]],
            [`${n}-membership`, [`${n}-kubelet`, `${n}-kube-proxy`, "bootstrap-registration"]],
            [`${n}-rollout-release`, [`${n}-membership`]],
        ];
        for (const [name, before] of AFTER) {
            it(`${name} waits for ${before.join(", ")}`, () => {
                const waits = waitsFor(run, name);
                assert.deepEqual(
                    before.filter((b) => !waits.has(b)),
                    [],
                    `${name} waits for: ${[...waits].sort().join(", ")}`,
                );
            });
        }

        // [a, b]: side by side, neither waits for the other.
        const APART: [string, string][] = [
            [`${n}-binaries`, `${n}-containerd-install`],
            [`${n}-binaries`, `${n}-containerd-config`],
            [`${n}-kube-proxy`, `${n}-containerd-config`],
            [`${n}-kube-proxy`, `${n}-kubelet`],
        ];
        for (const [a, b] of APART) {
            it(`${a} and ${b} run side by side`, () => {
                assert.equal(waitsFor(run, a).has(b), false, `${a} waits for ${b}`);
                assert.equal(waitsFor(run, b).has(a), false, `${b} waits for ${a}`);
            });
        }

        it(`${n}'s resources keep their parents (a new parent is a new URN: the engine would replace them)`, () => {
            const mine = run.mocks.registrations.filter((r) => r.name === n || r.name.startsWith(`${n}-`));
            const got = Object.fromEntries(mine.map((r) => [`${r.type} ${r.name}`, parentOf(run, r)]));
            const phase = (kind: string) => `hardway:node:${kind} ${n}`;
            const cert = (service: string, id: string) => [
                [`tls:index/privateKey:PrivateKey ${n}-${id}-key`, `hardway:pki:NodeCertificate ${n}-${id}`],
                [`tls:index/certRequest:CertRequest ${n}-${id}-csr`, `hardway:pki:NodeCertificate ${n}-${id}`],
                [`tls:index/locallySignedCert:LocallySignedCert ${n}-${id}-cert`, `hardway:pki:NodeCertificate ${n}-${id}`],
                [`pulumi-nodejs:dynamic/hardway:Renewal ${n}-${id}-renewal`, `hardway:pki:NodeCertificate ${n}-${id}`],
                [`hardway:pki:NodeCertificate ${n}-${id}`, phase(service)],
            ];
            assert.deepEqual(
                got,
                Object.fromEntries([
                    [`${NODE} ${n}`, ""],
                    [`${COMMAND} ${n}-host`, `${NODE} ${n}`],
                    [`pulumi-nodejs:dynamic/hardway:NodeState ${n}-state`, `${NODE} ${n}`],
                    [`pulumi-nodejs:dynamic/hardway:RolloutGate ${n}-rollout-gate`, `${NODE} ${n}`],
                    [`pulumi-nodejs:dynamic/hardway:NodeLifecycle ${n}-membership`, `${NODE} ${n}`],
                    [`pulumi-nodejs:dynamic/hardway:RolloutRelease ${n}-rollout-release`, `${NODE} ${n}`],
                    ...["SystemSetup", "Binaries", "ContainerdRuntime", "KubeletService", "KubeProxyService"].map((k) => [phase(k), `${NODE} ${n}`]),
                    [`${COMMAND} ${n}-system`, phase("SystemSetup")],
                    [`${COMMAND} ${n}-binaries`, phase("Binaries")],
                    [`${COMMAND} ${n}-containerd-install`, phase("ContainerdRuntime")],
                    [`${COMMAND} ${n}-containerd-config`, phase("ContainerdRuntime")],
                    [`${COMMAND} ${n}-kubelet`, phase("KubeletService")],
                    [`${COMMAND} ${n}-kube-proxy`, phase("KubeProxyService")],
                    ...cert("KubeletService", "kubelet-serving"),
                    ...cert("KubeProxyService", "kube-proxy-client"),
                ]),
            );
        });

        it(`${n}'s components register their outputs`, () => {
            const outputs = (type: string) => run.mocks.componentOutputs.get(run.mocks.registered(n, type).urn);
            const expiry = (id: string) => run.mocks.named(`${n}-${id}-renewal`).state.expiresAt;
            assert.deepEqual(outputs(NODE), {
                containerdVersion: "1.6.20",
                kubeletCertificateExpiresAt: expiry("kubelet-serving"),
                kubeProxyCertificateExpiresAt: expiry("kube-proxy-client"),
            });
            assert.deepEqual(outputs("hardway:node:SystemSetup"), { kubernetesGid: 998, osFamily: "debian" });
            assert.deepEqual(outputs("hardway:node:ContainerdRuntime"), { configVersion: 2, containerdVersion: "1.6.20" });
        });
    }

    it("the bootstrap token's resources sit under its component, at the stack's root", () => {
        const mine = run.mocks.registrations.filter((r) => r.name === "bootstrap" || r.name.startsWith("bootstrap-"));
        assert.deepEqual(Object.fromEntries(mine.map((r) => [`${r.type} ${r.name}`, parentOf(run, r)])), {
            "hardway:cluster:BootstrapToken bootstrap": "",
            "random:index/randomString:RandomString bootstrap-id": "hardway:cluster:BootstrapToken bootstrap",
            "random:index/randomPassword:RandomPassword bootstrap-secret": "hardway:cluster:BootstrapToken bootstrap",
            "pulumi-nodejs:dynamic/hardway:TokenRegistration bootstrap-registration": "hardway:cluster:BootstrapToken bootstrap",
        });
    });
});

describe("program under mocks: the resources a preview batch waits for (WorkerNode.registeredLast)", () => {
    // [credentials, the node's last resources]: together they wait for every other resource of the node.
    const ROWS: [string, boolean, (n: string) => string[]][] = [
        ["with API credentials", true, (n) => [`${n}-rollout-release`]],
        ["without", false, (n) => [`${n}-kubelet`, `${n}-kube-proxy`]],
    ];
    for (const [what, credentials, last] of ROWS) {
        it(`${what}: ${last("<node>").join(", ")}`, async () => {
            const run = await runProgram(credentials ? withAccess() : baseConfig());
            for (const n of GUIDE_NODES.map((x) => x.name)) {
                const covered = new Set(last(n).flatMap((l) => [l, ...waitsFor(run, l)]));
                // A key's replacementTrigger is its Renewal's issue time: the SDK sends the key's registration
                // only once that value is known, so after the Renewal's, though it is no dependency.
                for (const name of [...covered].filter((x) => x.endsWith("-key"))) {
                    covered.add(name.replace(/-key$/, "-renewal"));
                }
                const custom = run.mocks.registrations.filter((r) => r.name.startsWith(`${n}-`) && !r.type.startsWith("hardway:"));
                assert.deepEqual(
                    custom.map((r) => r.name).filter((name) => !covered.has(name)),
                    [],
                    n,
                );
            }
        });
    }
});

describe("program under mocks: a bootstrap token with a TTL", () => {
    it("is made anew when its Renewal issues a new window: the token's keepers are the Renewal's issue time", async () => {
        const run = await runProgram(baseConfig({ bootstrapTokenTtlHours: 24, nodes: [GUIDE_NODES[2]] }));
        const renewal = run.mocks.named("bootstrap-renewal");
        assert.equal(parentOf(run, run.mocks.registered("bootstrap-renewal")), "hardway:cluster:BootstrapToken bootstrap");
        assert.match(renewal.state.issuedAt, /^\d{4}-\d\d-\d\dT/);
        for (const part of ["bootstrap-id", "bootstrap-secret"]) {
            assert.deepEqual(run.mocks.named(part).inputs.keepers, { issuedAt: renewal.state.issuedAt }, part);
        }
    });

    it("without a TTL has no Renewal and no keepers", async () => {
        const run = await runProgram(baseConfig({ nodes: [GUIDE_NODES[2]] }));
        assert.deepEqual(run.mocks.resources.filter((r) => r.name === "bootstrap-renewal"), []);
        for (const part of ["bootstrap-id", "bootstrap-secret"]) {
            assert.equal(run.mocks.named(part).inputs.keepers, undefined, part);
        }
    });
});

describe("program under mocks: what makes a node wait for Ready again (the membership's rollout digest)", () => {
    const worker = GUIDE_NODES[2];
    const moved = GUIDE_NODES.map((n) => (n.name === worker.name ? { ...n, ip: "192.168.50.99" } : n));
    // [change, overrides, whether worker1's digest changes]
    const CHANGES: [string, Record<string, unknown>, boolean][] = [
        ["nothing", {}, false],
        ["the kubelet's config (clusterDomain)", { clusterDomain: "cluster.example" }, true],
        ["kube-proxy's config (clusterCidr)", { clusterCidr: "10.200.0.0/16" }, true],
        ["a disruptive change (cgroupDriver)", { cgroupDriver: "cgroupfs" }, true],
        ["the node's address", { nodes: moved }, true],
        ["only the membership's own timeouts", { nodeReadyTimeoutSeconds: 300, drainTimeoutSeconds: 600 }, false],
    ];
    const memory = new Map<string, Record<string, any>>();
    const digestOf = async (overrides: Record<string, unknown>) => {
        const run = await runProgram(withAccess(overrides), new ProgramMocks(testCa(), memory));
        return run.mocks.named(`${worker.name}-membership`).inputs.rollout as string;
    };
    let base: string;
    before(async () => {
        base = await digestOf({});
    });

    for (const [what, overrides, changes] of CHANGES) {
        it(`${changes ? "changes" : "keeps"} with ${what}`, async () => {
            const digest = await digestOf(overrides);
            assert.match(digest, /^[0-9a-f]{64}$/);
            assert.equal(digest !== base, changes);
        });
    }
});
