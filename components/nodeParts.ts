/**
 * The phases of one node, each a ComponentResource that does one thing:
 * SystemSetup, Binaries, ContainerdRuntime, KubeletService, KubeProxyService.
 * WorkerNode (workerNode.ts) sequences them.
 */
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as remote from "@pulumi/command/remote";
import { NodeConfig, WorkerConfig } from "./config/types";
import { NodeCertificate } from "./node/certificate";
import { checkSecrets, nodeCommand } from "./node/command";
import { PATHS } from "./kube/paths";
import { renderLoopbackConf } from "./render/cni";
import { renderContainerdConfig } from "./render/containerd";
import { downloadPlan } from "./render/downloads";
import { ClusterRef, renderBootstrapKubeconfig, renderCertKubeconfig } from "./kube/kubeconfig";
import { KubeletInput, renderKubeletConfig, renderKubeletUnit } from "./render/kubelet";
import { renderKubeProxyConfig, renderKubeProxyUnit } from "./render/kubeproxy";
import { FileStep, parseFacts, secretNames } from "./node/scripts/index";
import {
    binariesScript,
    binariesUndoScript,
    containerdConfigScript,
    containerdConfigUndoScript,
    containerdInstallScript,
    containerdInstallUndoScript,
    kubeProxyScript,
    kubeProxyUndoScript,
    kubeletScript,
    kubeletUndoScript,
    systemScript,
    systemUndoScript,
} from "./scripts/node";
import { ContainerdConfigVersion, containerdConfigVersionFor, containerdReads, formatVersion, parseVersion } from "./kube/versions";

/** What every phase of a node needs to know. */
export interface NodeContext {
    node: NodeConfig;
    cluster: WorkerConfig;
    connection: command.types.input.remote.ConnectionArgs;
}

/** Children of a component do not inherit its dependsOn, so each phase takes its own. */
export interface PhaseArgs {
    ctx: NodeContext;
    /** What must be on the node before this phase runs. */
    after?: pulumi.Resource[];
}

/** System setup: the kubernetes user and group, directories, firewalld removed. */
export class SystemSetup extends pulumi.ComponentResource {
    public readonly command: remote.Command;
    /** The real gid of the `kubernetes` group on the node. */
    public readonly kubernetesGid: pulumi.Output<number>;
    /** `debian` or `rhel`, from /etc/os-release. */
    public readonly osFamily: pulumi.Output<string>;

    constructor(name: string, args: { ctx: NodeContext }, opts?: pulumi.ComponentResourceOptions) {
        super("hardway:node:SystemSetup", name, {}, opts);
        this.command = nodeCommand(
            `${name}-system`,
            { connection: args.ctx.connection, create: systemScript(), delete: systemUndoScript() },
            { parent: this },
        );
        const facts = this.command.stdout.apply(parseFacts);
        this.kubernetesGid = facts.apply((f) => {
            const gid = Number(f.gid);
            if (!Number.isInteger(gid) || gid < 0) {
                throw new Error(`node ${args.ctx.node.name}: the kubernetes group has no numeric gid (${JSON.stringify(f.gid)})`);
            }
            return gid;
        });
        this.osFamily = facts.apply((f) => f.family);
        this.registerOutputs({ kubernetesGid: this.kubernetesGid, osFamily: this.osFamily });
    }
}

/** kubelet, kube-proxy, crictl and the CNI plugins, downloaded on the node and verified. */
export class Binaries extends pulumi.ComponentResource {
    public readonly command: remote.Command;

    constructor(name: string, args: PhaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardway:node:Binaries", name, {}, opts);
        const { cluster } = args.ctx;
        this.command = nodeCommand(
            `${name}-binaries`,
            {
                connection: args.ctx.connection,
                create: binariesScript(downloadPlan(cluster.kubernetesVersion, cluster.downloads)),
                delete: binariesUndoScript(),
            },
            { parent: this, dependsOn: args.after },
        );
        this.registerOutputs({});
    }
}

export interface ContainerdRuntimeArgs extends PhaseArgs {
    kubernetesGid: pulumi.Input<number>;
}

/** containerd: installed from the host's packages, configured for the installed version, restarted on change. */
export class ContainerdRuntime extends pulumi.ComponentResource {
    public readonly install: remote.Command;
    public readonly config: remote.Command;
    public readonly containerdVersion: pulumi.Output<string>;
    public readonly configVersion: pulumi.Output<ContainerdConfigVersion>;

    constructor(name: string, args: ContainerdRuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardway:node:ContainerdRuntime", name, {}, opts);
        const { cluster, node, connection } = args.ctx;
        this.install = nodeCommand(
            `${name}-containerd-install`,
            { connection, create: containerdInstallScript(), delete: containerdInstallUndoScript() },
            { parent: this, dependsOn: args.after },
        );
        const facts = this.install.stdout.apply(parseFacts);
        const installed = facts.apply((f) => {
            const version = parseVersion(f.containerdVersion ?? "");
            if (!version) {
                throw new Error(`node ${node.name}: cannot read containerd's version from ${JSON.stringify(f.containerdVersion)}`);
            }
            const configVersion =
                cluster.containerdConfigVersion === "auto"
                    ? containerdConfigVersionFor(version, cluster.profile)
                    : cluster.containerdConfigVersion;
            if (!containerdReads(version, configVersion)) {
                throw new Error(
                    `node ${node.name}: hardway-workers:containerdConfigVersion ${configVersion} cannot be read by the installed containerd ${formatVersion(version)}`,
                );
            }
            return { version, configVersion, runcPath: f.runc };
        });
        this.containerdVersion = installed.apply((i) => formatVersion(i.version));
        this.configVersion = installed.apply((i) => i.configVersion);
        const configToml = pulumi.all([installed, args.kubernetesGid]).apply(([i, gid]) =>
            renderContainerdConfig({
                configVersion: i.configVersion,
                containerdVersion: i.version,
                gid,
                runcPath: i.runcPath,
                cgroupDriver: cluster.cgroupDriver,
            }),
        );
        this.config = nodeCommand(
            `${name}-containerd-config`,
            {
                connection,
                create: pulumi
                    .all([configToml, args.kubernetesGid])
                    .apply(([toml, gid]) => containerdConfigScript({ configToml: toml, gid })),
                delete: containerdConfigUndoScript(),
            },
            { parent: this, dependsOn: [this.install] },
        );
        this.registerOutputs({ containerdVersion: this.containerdVersion, configVersion: this.configVersion });
    }
}

function certArgs(ctx: NodeContext) {
    return {
        dnsNames: [ctx.node.fqdn],
        ipAddresses: [ctx.node.ip],
        caCertPem: ctx.cluster.caCertPem,
        caKeyPem: ctx.cluster.caKeyPem,
        validityHours: ctx.cluster.certValidityHours,
        renewBeforeHours: ctx.cluster.certRenewBeforeHours,
    };
}

export function kubeletInput(ctx: NodeContext): KubeletInput {
    const { node, cluster } = ctx;
    return {
        version: cluster.kubernetesVersion,
        profile: cluster.profile,
        nodeName: node.name,
        nodeIp: node.ip,
        labels: node.labels,
        taints: node.taints,
        clusterDns: cluster.clusterDns,
        clusterDomain: cluster.clusterDomain,
        cgroupDriver: cluster.cgroupDriver,
    };
}

const ROOT_FILE = { owner: "root", group: "root" } as const;

/** The cluster as a kubeconfig names it. */
function clusterRefOf(cluster: WorkerConfig): ClusterRef {
    return { clusterName: cluster.clusterName, server: cluster.apiServer, caBundlePem: cluster.caBundlePem };
}

export interface KubeletServiceArgs extends PhaseArgs {
    /** The bootstrap token, `<id>.<secret>` (secret). */
    bootstrapToken: pulumi.Input<string>;
}

/** The kubelet: CNI loopback, bootstrap kubeconfig, serving certificate, config, unit. */
export class KubeletService extends pulumi.ComponentResource {
    public readonly command: remote.Command;
    public readonly certificate: NodeCertificate;

    constructor(name: string, args: KubeletServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardway:node:KubeletService", name, {}, opts);
        const { ctx } = args;
        const { cluster, node } = ctx;
        this.certificate = new NodeCertificate(
            `${name}-kubelet-serving`,
            { ...certArgs(ctx), commonName: `system:node:${node.fqdn}`, organization: "system:nodes", usage: "server_auth" },
            { parent: this },
        );
        const input = kubeletInput(ctx);
        const clusterRef = clusterRefOf(cluster);
        const files = (certPem: string): FileStep[] => [
            {
                path: PATHS.loopbackConf,
                mode: "0644",
                ...ROOT_FILE,
                // Before 1.24 the kubelet reads the CNI config; after, containerd watches the directory.
                effect: cluster.profile === "seed" ? "restart" : "none",
                content: renderLoopbackConf(),
            },
            { path: PATHS.caBundle, mode: "0644", ...ROOT_FILE, effect: "restart", content: cluster.caBundlePem },
            { path: PATHS.kubeletCert, mode: "0644", ...ROOT_FILE, effect: "restart", content: certPem },
            { path: PATHS.kubeletKey, mode: "0600", ...ROOT_FILE, effect: "restart", content: { secret: "kubeletKey" } },
            // Read only until the kubelet holds its own client certificate: a new token needs no restart.
            { path: PATHS.bootstrapKubeconfig, mode: "0600", ...ROOT_FILE, effect: "none", content: { secret: "bootstrapKubeconfig" } },
            { path: PATHS.kubeletConfig, mode: "0644", ...ROOT_FILE, effect: "restart", content: renderKubeletConfig(input) },
            { path: PATHS.kubeletUnit, mode: "0644", ...ROOT_FILE, effect: "reload", content: renderKubeletUnit(input) },
        ];
        const bootstrapKubeconfig = pulumi
            .output(args.bootstrapToken)
            .apply((token) => renderBootstrapKubeconfig(clusterRef, token));
        const secrets = { kubeletKey: this.certificate.keyPem, bootstrapKubeconfig };
        checkSecrets(`${name}-kubelet`, secretNames(files("")), secrets);
        this.command = nodeCommand(
            `${name}-kubelet`,
            {
                connection: ctx.connection,
                create: this.certificate.certPem.apply((certPem) =>
                    kubeletScript({
                        unit: "kubelet.service",
                        files: files(certPem),
                        binary: PATHS.kubelet,
                        wait: cluster.waitForServices,
                    }),
                ),
                delete: kubeletUndoScript(),
                secrets,
            },
            { parent: this, dependsOn: args.after },
        );
        this.registerOutputs({ certificateExpiresAt: this.certificate.expiresAt });
    }
}

/** kube-proxy: client certificate, kubeconfig, config, ipvsadm in ipvs mode, unit. */
export class KubeProxyService extends pulumi.ComponentResource {
    public readonly command: remote.Command;
    public readonly certificate: NodeCertificate;

    constructor(name: string, args: PhaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardway:node:KubeProxyService", name, {}, opts);
        const { ctx } = args;
        const { cluster, node } = ctx;
        this.certificate = new NodeCertificate(
            `${name}-kube-proxy-client`,
            { ...certArgs(ctx), commonName: "system:kube-proxy", organization: "system:node-proxier", usage: "client_auth" },
            { parent: this },
        );
        const clusterRef = clusterRefOf(cluster);
        const files = (certPem: string): FileStep[] => [
            { path: PATHS.kubeProxyCert, mode: "0644", ...ROOT_FILE, effect: "restart", content: certPem },
            { path: PATHS.kubeProxyKey, mode: "0600", ...ROOT_FILE, effect: "restart", content: { secret: "kubeProxyKey" } },
            {
                path: PATHS.kubeProxyKubeconfig,
                mode: "0600",
                ...ROOT_FILE,
                effect: "restart",
                content: renderCertKubeconfig(clusterRef, "system:kube-proxy", PATHS.kubeProxyCert, PATHS.kubeProxyKey),
            },
            {
                path: PATHS.kubeProxyConfig,
                mode: "0644",
                ...ROOT_FILE,
                effect: "restart",
                content: renderKubeProxyConfig({
                    profile: cluster.profile,
                    nodeName: node.name,
                    mode: cluster.kubeProxyMode,
                    clusterCidr: cluster.clusterCidr,
                }),
            },
            { path: PATHS.kubeProxyUnit, mode: "0644", ...ROOT_FILE, effect: "reload", content: renderKubeProxyUnit() },
        ];
        const secrets = { kubeProxyKey: this.certificate.keyPem };
        checkSecrets(`${name}-kube-proxy`, secretNames(files("")), secrets);
        this.command = nodeCommand(
            `${name}-kube-proxy`,
            {
                connection: ctx.connection,
                create: this.certificate.certPem.apply((certPem) =>
                    kubeProxyScript({
                        unit: "kube-proxy.service",
                        files: files(certPem),
                        binary: PATHS.kubeProxy,
                        wait: cluster.waitForServices,
                        ipvs: cluster.kubeProxyMode === "ipvs",
                    }),
                ),
                delete: kubeProxyUndoScript(),
                secrets,
            },
            { parent: this, dependsOn: args.after },
        );
        this.registerOutputs({ certificateExpiresAt: this.certificate.expiresAt });
    }
}
