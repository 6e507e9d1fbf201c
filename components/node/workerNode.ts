/**
 * One Kubernetes worker node, set up the hard way: the guide's sections as
 * phases, in order. System setup first; then the binaries and containerd
 * side by side; the kubelet once containerd is configured; kube-proxy once
 * its binary is there.
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as remote from "@pulumi/command/remote";
import { ApiAccess } from "../../providers/kubeApi";
import { NodeLifecycle } from "../../providers/nodeLifecycle";
import { NodeState } from "../../providers/nodeState";
import { RolloutGate, RolloutRelease, holderOf } from "../../providers/rollout";
import { slotCount } from "../../providers/rolloutSlot";
import { NodeConfig, WorkerConfig } from "../config/types";
import { Binaries } from "../binaries/component";
import { ContainerdRuntime } from "../containerd/component";
import { KubeProxyService } from "../kube-proxy/component";
import { KubeletService } from "../kubelet/component";
import { SystemSetup } from "../system/component";
import { connectionFor, hostBinding } from "./command";
import { addressOf, ownerOf } from "./owner";
import { disruptionOf, leaseSecondsOf, slotWaitSecondsOf } from "./rollout";
import { formatVersion } from "../kube/versions";
import { NodeContext } from "./phase";

/** The phases of a node, as the node library names them (HW_COMPONENT): NodeState checks each. */
export const NODE_PHASES = ["system", "binaries", "containerd-install", "containerd", "kubelet", "kube-proxy"];

export interface WorkerNodeArgs {
    node: NodeConfig;
    cluster: WorkerConfig;
    /** The bootstrap token, `<id>.<secret>` (secret). */
    bootstrapToken: pulumi.Input<string>;
    /**
     * API access for the node's membership (NodeLifecycle): wait for Ready on
     * up; cordon, drain and delete the Node on removal. `after`: what must
     * exist in the cluster first (the token registration).
     */
    membership?: { access: pulumi.Input<ApiAccess>; after: pulumi.Resource[] };
}

export class WorkerNode extends pulumi.ComponentResource {
    /** The node's binding to its host: a new address cleans the old host first (command.ts, hostBinding). */
    public readonly host: remote.Command;
    public readonly system: SystemSetup;
    public readonly binaries: Binaries;
    public readonly containerd: ContainerdRuntime;
    public readonly kubelet: KubeletService;
    public readonly kubeProxy: KubeProxyService;
    public readonly lifecycle?: NodeLifecycle;
    /** With API credentials: the slot and drain before a disruptive update, and their release after it (providers/rollout.ts). */
    public readonly rollout?: { gate: RolloutGate; release: RolloutRelease };
    /** What `pulumi refresh` sees on the node: per phase, the drift last seen (README "Drift"). */
    public readonly state: NodeState;
    /**
     * The node's resources that wait, directly or through others, for every
     * other resource of the node: once the engine has registered these, it
     * has registered the whole node (test/graph.test.ts).
     */
    public readonly registeredLast: pulumi.Resource[];

    constructor(name: string, args: WorkerNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardway:node:WorkerNode", name, {}, opts);
        const child = { parent: this };
        const owner = ownerOf(args.node);
        this.state = new NodeState(
            `${name}-state`,
            {
                connection: pulumi.output(args.cluster.sshPrivateKey).apply((privateKey) => ({
                    host: args.node.sshHost,
                    port: args.node.sshPort,
                    user: args.cluster.sshUser,
                    privateKey,
                    ...(args.node.hostKey ? { hostKey: args.node.hostKey } : {}),
                })),
                nodeName: args.node.name,
                owner,
                phases: NODE_PHASES,
            },
            child,
        );
        const ctx: NodeContext = {
            node: args.node,
            cluster: args.cluster,
            connection: connectionFor(args.node, args.cluster),
            owner,
            drift: this.state.drift,
        };
        this.host = hostBinding(`${name}-host`, args.node, ctx.connection, ctx.owner, child);
        this.system = new SystemSetup(name, { ctx, after: [this.host] }, child);
        const disruption = disruptionOf(args.cluster);
        const slots = slotCount(args.cluster.rollout.maxUnavailable, args.cluster.nodes.length);
        const leaseSeconds = leaseSecondsOf(args.cluster);
        const rolloutArgs = args.membership && {
            access: args.membership.access,
            nodeName: args.node.name,
            holder: holderOf(args.node.name),
            slots,
            leaseSeconds,
            waitSeconds: slotWaitSecondsOf(leaseSeconds, args.cluster.nodes.length, slots),
            drainTimeoutSeconds: args.cluster.drainTimeoutSeconds,
            disruption,
            kubeletVersion: `v${formatVersion(args.cluster.kubernetesVersion)}`,
            readyTimeoutSeconds: args.cluster.nodeReadyTimeoutSeconds,
        };
        // Before the commands that replace a binary or restart containerd.
        const gate = rolloutArgs && new RolloutGate(`${name}-rollout-gate`, rolloutArgs, { parent: this, dependsOn: [this.system.command] });
        const beforeDisruption = [this.system.command, ...(gate ? [gate] : [])];
        this.binaries = new Binaries(name, { ctx, after: beforeDisruption }, child);
        this.containerd = new ContainerdRuntime(
            name,
            { ctx, after: beforeDisruption, kubernetesGid: this.system.kubernetesGid },
            child,
        );
        this.kubelet = new KubeletService(
            name,
            { ctx, bootstrapToken: args.bootstrapToken, after: [this.binaries.command, this.containerd.config] },
            child,
        );
        this.kubeProxy = new KubeProxyService(name, { ctx, after: [this.binaries.command] }, child);
        if (args.membership) {
            // A new digest whenever the kubelet's or kube-proxy's command (or
            // what it sends on stdin) changes, or the node moves to another
            // address (set up anew there): such an update waits for Ready again.
            const rollout = pulumi
                .all([this.kubelet.command.create, this.kubelet.command.stdin, this.kubeProxy.command.create, this.kubeProxy.command.stdin, addressOf(args.node), disruption])
                .apply((parts) => crypto.createHash("sha256").update(parts.map((x) => x ?? "").join("\0")).digest("hex"));
            // Registered after the node's commands, so that on removal the
            // engine drains and deletes the Node before the host is cleaned.
            this.lifecycle = new NodeLifecycle(
                `${name}-membership`,
                {
                    access: args.membership.access,
                    nodeName: args.node.name,
                    readyTimeoutSeconds: args.cluster.nodeReadyTimeoutSeconds,
                    drainTimeoutSeconds: args.cluster.drainTimeoutSeconds,
                    rollout,
                },
                { parent: this, dependsOn: [this.kubelet.command, this.kubeProxy.command, ...args.membership.after] },
            );
            // After the node is Ready again.
            const release = new RolloutRelease(`${name}-rollout-release`, rolloutArgs!, { parent: this, dependsOn: [this.lifecycle] });
            this.rollout = { gate: gate!, release };
        }
        this.registeredLast = this.rollout ? [this.rollout.release] : [this.kubelet.command, this.kubeProxy.command];
        this.registerOutputs({
            kubeletCertificateExpiresAt: this.kubelet.certificate.expiresAt,
            kubeProxyCertificateExpiresAt: this.kubeProxy.certificate.expiresAt,
            containerdVersion: this.containerd.containerdVersion,
        });
    }
}
