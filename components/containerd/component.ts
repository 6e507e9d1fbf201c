/** containerd: installed from the host's packages, configured for the installed version, restarted on change (plan.ts). */
import * as pulumi from "@pulumi/pulumi";
import * as remote from "@pulumi/command/remote";
import { ContainerdConfigVersion, formatVersion } from "../kube/versions";
import { nodeCommand } from "../node/command";
import { PhaseArgs } from "../node/phase";
import { parseFacts } from "../node/scripts";
import { containerdConfigPlan, containerdConfigUndoScript, containerdInstallPlan, installedContainerd } from "./plan";

export interface ContainerdRuntimeArgs extends PhaseArgs {
    kubernetesGid: pulumi.Input<number>;
}

export class ContainerdRuntime extends pulumi.ComponentResource {
    public readonly install: remote.Command;
    public readonly config: remote.Command;
    public readonly containerdVersion: pulumi.Output<string>;
    public readonly configVersion: pulumi.Output<ContainerdConfigVersion>;

    constructor(name: string, args: ContainerdRuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardway:node:ContainerdRuntime", name, {}, opts);
        const { cluster, node, connection } = args.ctx;
        const install = containerdInstallPlan(cluster.packageRepos.rhel);
        this.install = nodeCommand(
            `${name}-containerd-install`,
            { connection, owner: args.ctx.owner, create: install.create, delete: install.delete, drift: args.ctx.drift },
            { parent: this, dependsOn: args.after },
        );
        const installed = this.install.stdout.apply(parseFacts).apply((f) => installedContainerd(node.name, f, cluster));
        this.containerdVersion = installed.apply((i) => formatVersion(i.version));
        this.configVersion = installed.apply((i) => i.configVersion);
        const config = pulumi
            .all([installed, args.kubernetesGid])
            .apply(([i, gid]) => containerdConfigPlan({ installed: i, gid, cgroupDriver: cluster.cgroupDriver }));
        this.config = nodeCommand(
            `${name}-containerd-config`,
            { connection, owner: args.ctx.owner, create: config.apply((p) => p.create), delete: containerdConfigUndoScript(), drift: args.ctx.drift },
            { parent: this, dependsOn: [this.install] },
        );
        this.registerOutputs({ containerdVersion: this.containerdVersion, configVersion: this.configVersion });
    }
}
