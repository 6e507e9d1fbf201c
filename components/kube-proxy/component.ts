/** kube-proxy: client certificate, kubeconfig, config, ipvsadm in ipvs mode, unit (plan.ts). */
import * as pulumi from "@pulumi/pulumi";
import * as remote from "@pulumi/command/remote";
import { NodeCertificate } from "../node/certificate";
import { checkSecrets, nodeCommand } from "../node/command";
import { PhaseArgs } from "../node/phase";
import { kubeProxyCertificate, kubeProxyPlan, kubeProxyUndoScript } from "./plan";

export class KubeProxyService extends pulumi.ComponentResource {
    public readonly command: remote.Command;
    public readonly certificate: NodeCertificate;

    constructor(name: string, args: PhaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardway:node:KubeProxyService", name, {}, opts);
        const { cluster, node, connection } = args.ctx;
        this.certificate = new NodeCertificate(
            `${name}-kube-proxy-client`,
            { ...kubeProxyCertificate(node, cluster), caCertPem: cluster.caCertPem, caKeyPem: cluster.caKeyPem },
            { parent: this },
        );
        const plan = (certPem: string) => kubeProxyPlan({ node, cluster, certPem });
        const secrets = { kubeProxyKey: this.certificate.keyPem };
        // Which secrets the script reads does not depend on the certificate.
        checkSecrets(`${name}-kube-proxy`, plan("").secrets, secrets);
        this.command = nodeCommand(
            `${name}-kube-proxy`,
            {
                connection,
                owner: args.ctx.owner,
                create: this.certificate.certPem.apply((certPem) => plan(certPem).create),
                delete: kubeProxyUndoScript(),
                secrets,
                drift: args.ctx.drift,
            },
            { parent: this, dependsOn: args.after },
        );
        this.registerOutputs({ certificateExpiresAt: this.certificate.expiresAt });
    }
}
