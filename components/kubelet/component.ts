/** The kubelet: CNI loopback, bootstrap kubeconfig, serving certificate, config, unit (plan.ts). */
import * as pulumi from "@pulumi/pulumi";
import * as remote from "@pulumi/command/remote";
import { NodeCertificate } from "../node/certificate";
import { checkSecrets, nodeCommand } from "../node/command";
import { PhaseArgs } from "../node/phase";
import { bootstrapKubeconfigOf, kubeletCertificate, kubeletPlan, kubeletUndoScript } from "./plan";

export interface KubeletServiceArgs extends PhaseArgs {
    /** The bootstrap token, `<id>.<secret>` (secret). */
    bootstrapToken: pulumi.Input<string>;
}

export class KubeletService extends pulumi.ComponentResource {
    public readonly command: remote.Command;
    public readonly certificate: NodeCertificate;

    constructor(name: string, args: KubeletServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardway:node:KubeletService", name, {}, opts);
        const { cluster, node, connection } = args.ctx;
        this.certificate = new NodeCertificate(
            `${name}-kubelet-serving`,
            { ...kubeletCertificate(node, cluster), caCertPem: cluster.caCertPem, caKeyPem: cluster.caKeyPem },
            { parent: this },
        );
        const plan = (certPem: string) => kubeletPlan({ node, cluster, certPem });
        const bootstrapKubeconfig = pulumi.output(args.bootstrapToken).apply((token) => bootstrapKubeconfigOf(cluster, token));
        const secrets = { kubeletKey: this.certificate.keyPem, bootstrapKubeconfig };
        // Which secrets the script reads does not depend on the certificate.
        checkSecrets(`${name}-kubelet`, plan("").secrets, secrets);
        this.command = nodeCommand(
            `${name}-kubelet`,
            {
                connection,
                owner: args.ctx.owner,
                create: this.certificate.certPem.apply((certPem) => plan(certPem).create),
                delete: kubeletUndoScript(),
                secrets,
                drift: args.ctx.drift,
            },
            { parent: this, dependsOn: args.after },
        );
        this.registerOutputs({ certificateExpiresAt: this.certificate.expiresAt });
    }
}
