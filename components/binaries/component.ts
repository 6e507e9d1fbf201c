/** kubelet, kube-proxy, crictl and the CNI plugins, downloaded on the node and verified (plan.ts). */
import * as pulumi from "@pulumi/pulumi";
import * as remote from "@pulumi/command/remote";
import { nodeCommand } from "../node/command";
import { PhaseArgs } from "../node/phase";
import { binariesPlan } from "./plan";

export class Binaries extends pulumi.ComponentResource {
    public readonly command: remote.Command;

    constructor(name: string, args: PhaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardway:node:Binaries", name, {}, opts);
        const plan = binariesPlan(args.ctx.cluster);
        this.command = nodeCommand(
            `${name}-binaries`,
            { connection: args.ctx.connection, owner: args.ctx.owner, create: plan.create, delete: plan.delete, drift: args.ctx.drift },
            { parent: this, dependsOn: args.after },
        );
        this.registerOutputs({});
    }
}
