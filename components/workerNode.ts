/**
 * One Kubernetes worker node, set up the hard way: the guide's sections as
 * phases, in order. System setup first; then the binaries and containerd
 * side by side; the kubelet once containerd is configured; kube-proxy once
 * its binary is there.
 */
import * as pulumi from "@pulumi/pulumi";
import { NodeConfig, WorkerConfig } from "./config";
import { connectionFor } from "./nodeCommand";
import { Binaries, ContainerdRuntime, KubeProxyService, KubeletService, NodeContext, SystemSetup } from "./nodeParts";

export interface WorkerNodeArgs {
    node: NodeConfig;
    cluster: WorkerConfig;
    /** The bootstrap token, `<id>.<secret>` (secret). */
    bootstrapToken: pulumi.Input<string>;
}

export class WorkerNode extends pulumi.ComponentResource {
    public readonly system: SystemSetup;
    public readonly binaries: Binaries;
    public readonly containerd: ContainerdRuntime;
    public readonly kubelet: KubeletService;
    public readonly kubeProxy: KubeProxyService;

    constructor(name: string, args: WorkerNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardway:node:WorkerNode", name, {}, opts);
        const ctx: NodeContext = { node: args.node, cluster: args.cluster, connection: connectionFor(args.node, args.cluster) };
        const child = { parent: this };
        this.system = new SystemSetup(name, { ctx }, child);
        this.binaries = new Binaries(name, { ctx, after: [this.system.command] }, child);
        this.containerd = new ContainerdRuntime(
            name,
            { ctx, after: [this.system.command], kubernetesGid: this.system.kubernetesGid },
            child,
        );
        this.kubelet = new KubeletService(
            name,
            { ctx, bootstrapToken: args.bootstrapToken, after: [this.binaries.command, this.containerd.config] },
            child,
        );
        this.kubeProxy = new KubeProxyService(name, { ctx, after: [this.binaries.command] }, child);
        this.registerOutputs({
            kubeletCertificateExpiresAt: this.kubelet.certificate.expiresAt,
            kubeProxyCertificateExpiresAt: this.kubeProxy.certificate.expiresAt,
            containerdVersion: this.containerd.containerdVersion,
        });
    }
}
