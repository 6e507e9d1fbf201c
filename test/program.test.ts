/**
 * The whole program under Pulumi mocks: the resource tree per node, real
 * certificates checked against the CA, the bootstrap token, and secrets kept
 * out of every command's text.
 */
import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as forge from "node-forge";
import * as YAML from "yaml";
import * as pulumi from "@pulumi/pulumi";
import { dropSdkStackTraces, silenceSdkDebugLog } from "../components/sdkDebugLog";
import { ENGINE_UNKNOWN, asPreviewSees, previewDynamic } from "./support/dynamic";
import { ProgramMocks, Recorded } from "./support/mocks";
import { makeCsr, rsaKeyPem, signCsr } from "./support/pki";
import { GUIDE_NODES, ProgramRun, baseConfig, runProgram, testCa, testSshKey } from "./support/program";

function certOf(run: ProgramRun, name: string): crypto.X509Certificate {
    return new crypto.X509Certificate(run.mocks.named(name).state.certPem);
}

function commands(run: ProgramRun): Recorded[] {
    return run.mocks.ofType("command:remote:Command");
}

describe("program under mocks (Kubernetes 1.37.2, the guide's four nodes)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram(baseConfig());
    });

    it("builds one resource tree per node, each with the five phases and its commands", () => {
        const components = (type: string) => run.mocks.ofType(type).map((r) => r.name).sort();
        const names = GUIDE_NODES.map((n) => n.name).sort();
        for (const type of [
            "hardway:node:WorkerNode",
            "hardway:node:SystemSetup",
            "hardway:node:Binaries",
            "hardway:node:ContainerdRuntime",
            "hardway:node:KubeletService",
            "hardway:node:KubeProxyService",
        ]) {
            assert.deepEqual(components(type), names, type);
        }
        const expected = names.flatMap((n) =>
            ["host", "system", "binaries", "containerd-install", "containerd-config", "kubelet", "kube-proxy"].map((c) => `${n}-${c}`),
        );
        assert.deepEqual(commands(run).map((c) => c.name).sort(), expected.sort());
        assert.equal(run.mocks.ofType("hardway:cluster:BootstrapToken").length, 1);
    });

    it("connects to each node at its ip, as root, with the stack's key", () => {
        for (const n of GUIDE_NODES) {
            const c = run.mocks.named(`${n.name}-system`).inputs.connection;
            assert.equal(c.host, n.ip);
            assert.equal(c.port, 22);
            assert.equal(c.user, "root");
            assert.equal(c.privateKey, testSshKey());
        }
    });

    for (const n of GUIDE_NODES) {
        it(`issues ${n.name}'s kubelet serving certificate: CN system:node:<fqdn>, O system:nodes, IP and FQDN SANs, server auth, signed by the CA`, () => {
            const cert = certOf(run, `${n.name}-kubelet-serving-cert`);
            assert.match(cert.subject, new RegExp(`CN=system:node:${n.fqdn.replace(/\./g, "\\.")}`));
            assert.match(cert.subject, /O=system:nodes/);
            assert.deepEqual(cert.subjectAltName?.split(", ").sort(), [`DNS:${n.fqdn}`, `IP Address:${n.ip}`].sort());
            assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.1"]);
            assert.ok(cert.verify(new crypto.X509Certificate(testCa().certPem).publicKey), "signed by the CA");
            assert.ok(cert.checkIssued(new crypto.X509Certificate(testCa().certPem)));
            const forgeCert = forge.pki.certificateFromPem(run.mocks.named(`${n.name}-kubelet-serving-cert`).state.certPem);
            const ku = forgeCert.getExtension("keyUsage") as { digitalSignature: boolean; keyEncipherment: boolean };
            assert.ok(ku.digitalSignature && ku.keyEncipherment);
        });

        it(`issues ${n.name}'s kube-proxy client certificate: CN system:kube-proxy, O system:node-proxier, IP and FQDN SANs, client auth`, () => {
            const cert = certOf(run, `${n.name}-kube-proxy-client-cert`);
            assert.match(cert.subject, /CN=system:kube-proxy/);
            assert.match(cert.subject, /O=system:node-proxier/);
            assert.deepEqual(cert.subjectAltName?.split(", ").sort(), [`DNS:${n.fqdn}`, `IP Address:${n.ip}`].sort());
            assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.2"]);
            assert.ok(cert.checkIssued(new crypto.X509Certificate(testCa().certPem)));
            assert.ok(cert.verify(new crypto.X509Certificate(testCa().certPem).publicKey));
        });
    }

    it("keys each certificate to a replacement trigger from its Renewal", () => {
        const renewals = run.mocks.ofType("pulumi-nodejs:dynamic/hardway:Renewal");
        assert.equal(renewals.length, GUIDE_NODES.length * 2);
        for (const r of renewals) {
            assert.equal(r.inputs.validityHours, 8760);
            assert.equal(r.inputs.renewBeforeHours, 720);
        }
    });

    it("makes a bootstrap token of the right format, and exports it as a secret with its manifests", () => {
        const token: string = run.outputs.bootstrapToken;
        assert.match(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
        assert.equal(run.outputs.bootstrapTokenId, token.split(".")[0]);
        const docs = YAML.parseAllDocuments(run.outputs.bootstrapManifests).map((d) => d.toJS());
        assert.equal(docs.length, 4);
        assert.equal(docs[0].metadata.name, `bootstrap-token-${token.split(".")[0]}`);
        assert.equal(docs[0].stringData["token-secret"], token.split(".")[1]);
        const password = run.mocks.ofType("random:index/randomPassword:RandomPassword")[0];
        assert.equal(password.inputs.length, 16);
        assert.equal(password.inputs.upper, false);
        assert.equal(password.inputs.special, false);
    });

    it("hands the bootstrap token and the private keys to the node on stdin, never in a command's text", () => {
        const token: string = run.outputs.bootstrapToken;
        const secrets = [
            testCa().keyPem,
            testSshKey(),
            token,
            token.split(".")[1],
            ...run.mocks.ofType("tls:index/privateKey:PrivateKey").map((k) => k.state.privateKeyPem as string),
        ];
        const keyBodies = secrets.map((s) => s.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "").slice(0, 64));
        for (const c of commands(run)) {
            for (const field of ["create", "update", "delete"]) {
                const text: string = c.inputs[field] ?? "";
                const flat = text.replace(/\s+/g, "");
                for (const [i, s] of secrets.entries()) {
                    assert.ok(!text.includes(s), `${c.name}.${field} contains secret #${i}`);
                    assert.ok(!flat.includes(keyBodies[i]), `${c.name}.${field} contains the body of secret #${i}`);
                    const b64 = Buffer.from(s).toString("base64");
                    assert.ok(!flat.includes(b64.slice(0, 40)), `${c.name}.${field} contains secret #${i} in base64`);
                }
            }
        }
        // And they do reach the nodes: the kubelet's stdin carries its key and the bootstrap kubeconfig.
        const kubelet = run.mocks.named("worker1-kubelet");
        const lines = (kubelet.inputs.stdin as string).trim().split("\n").map((l) => l.split(" "));
        assert.deepEqual(lines.map((l) => l[0]), ["bootstrapKubeconfig", "kubeletKey"], "by name, in the order the script reads them");
        assert.match(kubelet.inputs.create, /^HW_SECRETS=\(bootstrapKubeconfig kubeletKey\)$/m);
        const [kubeconfig, key] = lines.map((l) => Buffer.from(l[1], "base64").toString());
        assert.equal(YAML.parse(kubeconfig).users[0].user.token, token);
        assert.match(key, /^-----BEGIN RSA PRIVATE/);
    });

    it("registers the control-plane nodes with the control-plane taint, and only them", () => {
        for (const n of GUIDE_NODES) {
            const create: string = run.mocks.named(`${n.name}-kubelet`).inputs.create;
            const tainted = create.includes("node-role.kubernetes.io/control-plane");
            assert.equal(tainted, n.role === "control-plane", n.name);
        }
    });

    it("renders containerd's config for the installed version, with the node's real kubernetes gid", () => {
        const create: string = run.mocks.named("worker1-containerd-config").inputs.create;
        assert.match(create, /^gid = 998$/m);
        assert.match(create, /\bversion = 2$/m);
        assert.match(create, /BinaryName = "\/usr\/sbin\/runc"/);
        assert.equal(run.outputs.nodes[0].containerdConfigVersion, 2);
        assert.equal(run.outputs.nodes[0].containerdVersion, "1.6.20");
    });

    it("exports each node's certificate expiry", () => {
        for (const n of run.outputs.nodes) {
            assert.ok(Date.parse(n.kubeletCertificateExpiresAt) > Date.now() + 300 * 24 * 3600 * 1000);
            assert.ok(Date.parse(n.kubeProxyCertificateExpiresAt) > Date.now());
        }
    });
});

describe("program under mocks: with API administrator credentials", () => {
    let run: ProgramRun;
    const adminKey = rsaKeyPem();
    const adminCert = signCsr(makeCsr({ privateKeyPem: adminKey, commonName: "admin", organization: "system:masters" }), testCa(), ["client_auth"], 24);
    before(async () => {
        run = await runProgram(baseConfig({ apiAdminCertPem: adminCert, apiAdminKeyPem: adminKey, nodeReadyTimeoutSeconds: 90 }));
    });

    it("registers the bootstrap token through the API, with the token and the admin key as secrets", () => {
        const [reg] = run.mocks.ofType("pulumi-nodejs:dynamic/hardway:TokenRegistration");
        assert.equal(reg.name, "bootstrap-registration");
        assert.equal(reg.inputs.token, run.outputs.bootstrapToken);
        assert.deepEqual(
            { server: reg.inputs.access.server, certPem: reg.inputs.access.certPem, keyPem: reg.inputs.access.keyPem },
            { server: "https://front.vagrant:6443", certPem: adminCert.trim() + "\n", keyPem: adminKey },
        );
        assert.equal(typeof reg.inputs.__provider, "string", "a serialized dynamic provider");
    });

    it("tracks each node's membership with its own timeouts", () => {
        const lcs = run.mocks.ofType("pulumi-nodejs:dynamic/hardway:NodeLifecycle");
        assert.deepEqual(lcs.map((r) => [r.name, r.inputs.nodeName, r.inputs.readyTimeoutSeconds, r.inputs.drainTimeoutSeconds]).sort(), GUIDE_NODES.map((n) => [`${n.name}-membership`, n.name, 90, 120]).sort());
        for (const r of lcs) {
            assert.match(r.inputs.rollout, /^[0-9a-f]{64}$/);
        }
        // Each node holds its rollout slot under its own name and the stack's (two stacks may share the slots).
        for (const type of ["RolloutGate", "RolloutRelease"]) {
            assert.deepEqual(
                run.mocks.ofType(`pulumi-nodejs:dynamic/hardway:${type}`).map((r) => r.inputs.holder).sort(),
                GUIDE_NODES.map((n) => `${n.name}@hardway-workers/test`).sort(),
                type,
            );
        }
    });

    it("keeps the admin key out of every command", () => {
        const needle = adminKey.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "").slice(0, 40);
        for (const c of commands(run)) {
            assert.ok(!`${c.inputs.create}${c.inputs.delete}${c.inputs.stdin ?? ""}`.replace(/\s+/g, "").includes(needle), c.name);
        }
    });

    it("previews a new stack: every dynamic provider's check passes on the unknowns a preview sends (the token, the certificates)", async () => {
        const mocks = new ProgramMocks(testCa());
        mocks.preview = true;
        mocks.newStack = true;
        const preview = await runProgram(baseConfig({ apiAdminCertPem: adminCert, apiAdminKeyPem: adminKey }), mocks);
        const dynamics = preview.mocks.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/"));
        assert.deepEqual(
            [...new Set(dynamics.map((r) => r.type))].sort(),
            [
                "pulumi-nodejs:dynamic/hardway:NodeLifecycle",
                "pulumi-nodejs:dynamic/hardway:NodeState",
                "pulumi-nodejs:dynamic/hardway:Renewal",
                "pulumi-nodejs:dynamic/hardway:RolloutGate",
                "pulumi-nodejs:dynamic/hardway:RolloutRelease",
                "pulumi-nodejs:dynamic/hardway:TokenRegistration",
            ],
        );
        const [reg] = preview.mocks.ofType("pulumi-nodejs:dynamic/hardway:TokenRegistration");
        assert.equal(asPreviewSees(reg.inputs).token, ENGINE_UNKNOWN, "the new token is unknown at preview");
        for (const r of dynamics) {
            assert.deepEqual(await previewDynamic(r), { changes: true, replaces: [] }, r.name);
        }
    });

    it("serializes each dynamic provider once for the whole program, not once per resource (the SDK caches by provider object)", async () => {
        const closure = require("@pulumi/pulumi/runtime/closure/serializeClosure");
        const original = closure.serializeFunction;
        const serialized: string[] = [];
        closure.serializeFunction = async (...args: any[]) => {
            const sf = await original(...args);
            serialized.push(sf.text);
            return sf;
        };
        let again: ProgramRun;
        try {
            again = await runProgram(baseConfig({ apiAdminCertPem: adminCert, apiAdminKeyPem: adminKey }));
        } finally {
            closure.serializeFunction = original;
        }
        const perNode = ["NodeLifecycle", "NodeState", "Renewal", "RolloutGate", "RolloutRelease"].map((t) => again.mocks.ofType(`pulumi-nodejs:dynamic/hardway:${t}`).length);
        assert.deepEqual(perNode, [4, 4, 8, 4, 4], "the program has many resources of each provider");
        const exportNames = serialized.map((text) => /exportName: "(\w+)"/.exec(text)?.[1] ?? text.slice(0, 80));
        assert.deepEqual(exportNames.filter((name, i) => exportNames.indexOf(name) !== i), [], "no provider serialized twice");
    });

    it("without credentials registers neither", async () => {
        const plainRun = await runProgram(baseConfig());
        assert.equal(plainRun.mocks.ofType("pulumi-nodejs:dynamic/hardway:TokenRegistration").length, 0);
        assert.equal(plainRun.mocks.ofType("pulumi-nodejs:dynamic/hardway:NodeLifecycle").length, 0);
    });
});

describe("program under mocks: variations", () => {
    it("takes the operator's bootstrap token instead of generating one", async () => {
        const run = await runProgram(baseConfig({ bootstrapToken: "002439.25f718816c0c9343" }));
        assert.equal(run.outputs.bootstrapTokenId, "002439");
        assert.equal(run.mocks.ofType("random:index/randomPassword:RandomPassword").length, 0);
    });

    it("renders the guide's version-1 containerd config for the 1.16 seed profile", async () => {
        const mocks = new ProgramMocks(testCa());
        mocks.facts = { gid: "1001", family: "rhel", containerdVersion: "1.2.13", runc: "/bin/runc" };
        const run = await runProgram(baseConfig({ kubernetesVersion: "1.16.2" }), mocks);
        const create: string = run.mocks.named("worker1-containerd-config").inputs.create;
        assert.match(create, /\[plugins\.cri\.containerd\.default_runtime\]/);
        assert.match(create, /runtime_engine = "\/bin\/runc"/);
        assert.match(create, /^gid = 1001$/m);
        assert.equal(run.outputs.nodes[0].containerdConfigVersion, 1);
        const kubelet: string = run.mocks.named("worker1-kubelet").inputs.create;
        assert.match(kubelet, /--network-plugin=cni/);
    });

    it("renders config version 3 for containerd 2.x", async () => {
        const mocks = new ProgramMocks(testCa());
        mocks.facts = { gid: "990", family: "debian", containerdVersion: "v2.1.4", runc: "/usr/bin/runc" };
        const run = await runProgram(baseConfig(), mocks);
        assert.equal(run.outputs.nodes[0].containerdConfigVersion, 3);
        assert.match(run.mocks.named("cp1-containerd-config").inputs.create, /io\.containerd\.cri\.v1\.runtime/);
    });

    it("pins each node's host key on its connection", async () => {
        const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHhardwaytestkeyhardwaytestkeyhardwayte";
        const nodes = GUIDE_NODES.map((n) => ({ ...n, hostKey, sshPort: 2222, sshHost: `${n.name}.ssh.example` }));
        const run = await runProgram(baseConfig({ nodes }));
        for (const c of commands(run)) {
            assert.equal(c.inputs.connection.hostKey, hostKey);
            assert.equal(c.inputs.connection.port, 2222);
            assert.match(c.inputs.connection.host, /\.ssh\.example$/);
        }
        // NodeState reads the node over its own connection (drift): pinned the same way.
        const states = run.mocks.ofType("pulumi-nodejs:dynamic/hardway:NodeState");
        assert.deepEqual(
            states.map((r) => [r.name, r.inputs.connection.host, r.inputs.connection.port, r.inputs.connection.hostKey]).sort(),
            GUIDE_NODES.map((n) => [`${n.name}-state`, `${n.name}.ssh.example`, 2222, hostKey]).sort(),
        );
    });

    it("fails before registering any resource when the config is bad, naming the field", async () => {
        const mocks = new ProgramMocks(testCa());
        await assert.rejects(
            runProgram(baseConfig({ clusterCidr: "10.244.0.0/33" }), mocks),
            { message: 'invalid stack config:\n  - hardway-workers:clusterCidr: "10.244.0.0/33" is not a valid CIDR (expected e.g. "10.244.0.0/16")' },
        );
        assert.equal(mocks.resources.length, 0);
    });
});

describe("program: the SDK's debug messages", () => {
    it("are dropped, since the finished-registration message holds every output in plain text; HARDWAY_SDK_DEBUG=1 keeps them", async () => {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const log = require("@pulumi/pulumi/log") as { debug: (...a: unknown[]) => Promise<void> };
        const original = log.debug;
        try {
            const sent: unknown[] = [];
            const spy = (...a: unknown[]) => {
                sent.push(a);
                return Promise.resolve();
            };
            log.debug = spy;
            assert.equal(silenceSdkDebugLog({ HARDWAY_SDK_DEBUG: "1" }), false);
            assert.equal(log.debug, spy, "kept when asked");
            assert.equal(silenceSdkDebugLog({}), true);
            await log.debug("RegisterResource RPC finished: secret");
            assert.deepEqual(sent, [], "nothing reaches the engine");
        } finally {
            log.debug = original;
        }
    });
});

describe("program: the SDK's stack traces", () => {
    it("are not recorded (no source position in the state); HARDWAY_STACK_TRACE_LIMIT=N keeps them", () => {
        const sdk = pulumi.Resource as unknown as { stackTrace(skip: number): unknown[] };
        const errorClass = Error as { prepareStackTrace?: unknown };
        const original = errorClass.prepareStackTrace;
        try {
            delete errorClass.prepareStackTrace;
            assert.equal(dropSdkStackTraces({ HARDWAY_STACK_TRACE_LIMIT: "10" }), false);
            assert.equal(errorClass.prepareStackTrace, undefined, "kept when asked");
            assert.ok(sdk.stackTrace(0).length > 0, "the SDK records frames by default");
            assert.equal(dropSdkStackTraces({}), true);
            assert.deepEqual(sdk.stackTrace(0), []);
            const e = new TypeError("bad input");
            assert.equal(e.stack, "TypeError: bad input", "an error's stack is its first line");
        } finally {
            errorClass.prepareStackTrace = original;
        }
    });
});
