// The bench's floor (bench/README.md, "The floor"): per node, the program's
// resources by type and parent (components, remote commands, the @pulumi/tls
// chain, dynamic resources), with trivial inputs and no logic. What its
// preview costs is what the SDK and the engine cost for that many resources;
// the program can only be slower.
//
// Config (namespace hardway-bench-floor): nodes (how many), shape
// ("program": today's 27 resources a node, and the stack's bootstrap token
// with its @pulumi/random pair and registration; "minimum": the 11 the
// design asks for at the least: WorkerNode, ContainerdRuntime, KubeletService
// and KubeProxyService, two certificates through @pulumi/tls, one command),
// caCertPem and caKeyPem (secret), and commands ("remote", the default, for
// previews; "local" for an `up` and a no-op `up` on the machine itself: the
// same command plugin, and `true` runs once each on the first `up`).
"use strict";
// What the program does first (index.ts) to cut the SDK's own cost per
// resource, whatever the resource: no stack traces, no debug messages.
const { dropSdkStackTraces, silenceSdkDebugLog } = require("../../bin/components/sdkDebugLog");
Error.stackTraceLimit = 0;
dropSdkStackTraces();
silenceSdkDebugLog();
const pulumi = require("@pulumi/pulumi");
const tls = require("@pulumi/tls");
const random = require("@pulumi/random");
const { local, remote } = require("@pulumi/command");

const config = new pulumi.Config();
const nodes = config.requireNumber("nodes");
const shape = config.require("shape");
if (shape !== "program" && shape !== "minimum") {
    throw new Error(`hardway-bench-floor:shape: must be program or minimum, got ${shape}`);
}
const commands = config.get("commands") ?? "remote";
if (commands !== "remote" && commands !== "local") {
    throw new Error(`hardway-bench-floor:commands: must be remote or local, got ${commands}`);
}
const caCertPem = config.require("caCertPem");
const caKeyPem = config.requireSecret("caKeyPem");

// One provider object for every dynamic resource: serialized once.
const trivial = {
    async create(inputs) {
        return { id: "floor", outs: inputs };
    },
};

class Dynamic extends pulumi.dynamic.Resource {
    constructor(type, name, args, opts) {
        super(trivial, name, { kind: type, ...args }, opts, "hardway", type);
    }
}

function component(type, name, parent, module = "node") {
    return new pulumi.ComponentResource(`hardway:${module}:${type}`, name, {}, { parent });
}

function command(name, parent) {
    if (commands === "local") {
        return new local.Command(name, { create: "true" }, { parent });
    }
    return new remote.Command(name, { connection: { host: "127.0.0.1" }, create: "true" }, { parent });
}

function certificate(name, parent, withComponent) {
    const owner = withComponent ? component("NodeCertificate", name, parent, "pki") : parent;
    const key = new tls.PrivateKey(`${name}-key`, { algorithm: "RSA", rsaBits: 2048 }, { parent: owner });
    const csr = new tls.CertRequest(`${name}-csr`, { privateKeyPem: key.privateKeyPem, subject: { commonName: name } }, { parent: owner });
    new tls.LocallySignedCert(
        `${name}-cert`,
        { certRequestPem: csr.certRequestPem, caCertPem, caPrivateKeyPem: caKeyPem, validityPeriodHours: 8760, allowedUses: ["client_auth"] },
        { parent: owner },
    );
    if (withComponent) {
        new Dynamic("Renewal", `${name}-renewal`, { validityHours: 8760, renewBeforeHours: 720 }, { parent: owner });
    }
}

function floorNode(i) {
    const n = `node${String(i).padStart(4, "0")}`;
    const node = component("WorkerNode", n);
    const containerd = component("ContainerdRuntime", n, node);
    const kubelet = component("KubeletService", n, node);
    const kubeProxy = component("KubeProxyService", n, node);
    const full = shape === "program";
    certificate(`${n}-kubelet-serving`, kubelet, full);
    certificate(`${n}-kube-proxy-client`, kubeProxy, full);
    if (!full) {
        command(`${n}-setup`, node);
        return;
    }
    command(`${n}-host`, node);
    new Dynamic("NodeState", `${n}-state`, { node: n }, { parent: node });
    command(`${n}-system`, component("SystemSetup", n, node));
    new Dynamic("RolloutGate", `${n}-rollout-gate`, { node: n }, { parent: node });
    command(`${n}-binaries`, component("Binaries", n, node));
    command(`${n}-containerd-install`, containerd);
    command(`${n}-containerd-config`, containerd);
    command(`${n}-kubelet`, kubelet);
    command(`${n}-kube-proxy`, kubeProxy);
    new Dynamic("NodeLifecycle", `${n}-membership`, { node: n }, { parent: node });
    new Dynamic("RolloutRelease", `${n}-rollout-release`, { node: n }, { parent: node });
}

/** The stack's own resources in the program (BootstrapToken, with API credentials): the token's pair and its registration. */
function bootstrapToken() {
    const token = component("BootstrapToken", "bootstrap", undefined, "cluster");
    new random.RandomString("bootstrap-id", { length: 6, special: false, upper: false }, { parent: token });
    new random.RandomPassword("bootstrap-secret", { length: 16, special: false, upper: false }, { parent: token });
    new Dynamic("TokenRegistration", "bootstrap-registration", { token: "floor" }, { parent: token });
}

if (shape === "program") {
    bootstrapToken();
}
for (let i = 0; i < nodes; i++) {
    floorNode(i);
}
