/**
 * A node certificate issued with @pulumi/tls and signed by the cluster CA,
 * renewed through the Renewal dynamic provider before it expires.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { Renewal } from "../../providers/renewal";
import type { CertificateSpec } from "./plan";

/** What the certificate is for (a phase's plan says), and the CA that signs it. */
export interface NodeCertificateArgs extends CertificateSpec {
    caCertPem: string;
    caKeyPem: pulumi.Input<string>;
}

export class NodeCertificate extends pulumi.ComponentResource {
    /** The certificate, PEM. */
    public readonly certPem: pulumi.Output<string>;
    /** The private key, PEM (secret). */
    public readonly keyPem: pulumi.Output<string>;
    public readonly expiresAt: pulumi.Output<string>;
    public readonly renewAt: pulumi.Output<string>;

    constructor(name: string, args: NodeCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardway:pki:NodeCertificate", name, {}, opts);
        const renewal = new Renewal(
            `${name}-renewal`,
            { validityHours: args.validityHours, renewBeforeHours: args.renewBeforeHours },
            { parent: this },
        );
        // A new issue date means a new key, which means a new request and certificate.
        const key = new tls.PrivateKey(
            `${name}-key`,
            { algorithm: "RSA", rsaBits: 2048 },
            { parent: this, replacementTrigger: renewal.issuedAt },
        );
        const request = new tls.CertRequest(
            `${name}-csr`,
            {
                privateKeyPem: key.privateKeyPem,
                subject: { commonName: args.commonName, organization: args.organization },
                dnsNames: args.dnsNames,
                ipAddresses: args.ipAddresses,
            },
            { parent: this },
        );
        const cert = new tls.LocallySignedCert(
            `${name}-cert`,
            {
                certRequestPem: request.certRequestPem,
                caCertPem: args.caCertPem,
                caPrivateKeyPem: args.caKeyPem,
                validityPeriodHours: args.validityHours,
                allowedUses: ["digital_signature", "key_encipherment", args.usage],
            },
            { parent: this },
        );
        this.certPem = cert.certPem;
        this.keyPem = pulumi.secret(key.privateKeyPem);
        this.expiresAt = renewal.expiresAt;
        this.renewAt = renewal.renewAt;
        this.registerOutputs({ certPem: this.certPem, expiresAt: this.expiresAt, renewAt: this.renewAt });
    }
}
