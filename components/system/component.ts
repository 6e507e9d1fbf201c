/** System setup: the kubernetes user and group, directories, firewalld removed (plan.ts). */
import * as pulumi from "@pulumi/pulumi";
import * as remote from "@pulumi/command/remote";
import { nodeCommand } from "../node/command";
import { NodeContext } from "../node/phase";
import { parseFacts } from "../node/scripts";
import { kubernetesGidOf, osFamilyOf, systemPlanFor } from "./plan";

export class SystemSetup extends pulumi.ComponentResource {
    public readonly command: remote.Command;
    /** The real gid of the `kubernetes` group on the node. */
    public readonly kubernetesGid: pulumi.Output<number>;
    /** `debian` or `rhel`, from /etc/os-release. */
    public readonly osFamily: pulumi.Output<string>;

    constructor(name: string, args: { ctx: NodeContext; after?: pulumi.Resource[] }, opts?: pulumi.ComponentResourceOptions) {
        super("hardway:node:SystemSetup", name, {}, opts);
        const plan = systemPlanFor(args.ctx.node, args.ctx.cluster);
        this.command = nodeCommand(
            `${name}-system`,
            { connection: args.ctx.connection, owner: args.ctx.owner, create: plan.create, delete: plan.delete, drift: args.ctx.drift },
            { parent: this, dependsOn: args.after },
        );
        const facts = this.command.stdout.apply(parseFacts);
        this.kubernetesGid = facts.apply((f) => kubernetesGidOf(args.ctx.node.name, f));
        this.osFamily = facts.apply(osFamilyOf);
        this.registerOutputs({ kubernetesGid: this.kubernetesGid, osFamily: this.osFamily });
    }
}
