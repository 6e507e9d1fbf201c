/**
 * The bootstrap token the kubelets use to get their client certificates
 * (TLS bootstrapping), and the manifests the control plane needs for it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ApiAccess } from "../../providers/kubeApi";
import { Renewal } from "../../providers/renewal";
import { TokenRegistration } from "../../providers/tokenRegistration";
import { bootstrapManifestsOf, bootstrapTokenPlan, splitToken } from "./plan";

export interface BootstrapTokenArgs {
    /** A token the operator gives (`<id>.<secret>`, secret); otherwise one is generated. */
    token?: pulumi.Input<string>;
    /** Lifetime in hours; 0 for a token that does not expire. A token with a lifetime is made anew on the first `pulumi up` in its last quarter. */
    ttlHours: number;
    /** Written into the Secret's `description`. */
    description?: string;
    /** When given, the token is registered with the API server (TokenRegistration); otherwise only the manifests are exported. */
    access?: pulumi.Input<ApiAccess>;
}

export class BootstrapToken extends pulumi.ComponentResource {
    /** The public half, `[a-z0-9]{6}`. */
    public readonly tokenId: pulumi.Output<string>;
    /** `<id>.<secret>`, a secret. */
    public readonly token: pulumi.Output<string>;
    /** The `bootstrap-token-<id>` Secret and the TLS bootstrapping RBAC bindings, as YAML (secret: it holds the token). */
    public readonly manifests: pulumi.Output<string>;
    /** RFC 3339 expiry, or undefined. */
    public readonly expiresAt: pulumi.Output<string | undefined>;
    /** The token's registration with the API server, when API access was given. */
    public readonly registration?: TokenRegistration;

    constructor(name: string, args: BootstrapTokenArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardway:cluster:BootstrapToken", name, {}, opts);
        const plan = bootstrapTokenPlan(args.ttlHours);
        let expiresAt: pulumi.Output<string | undefined> = pulumi.output(undefined);
        let keepers: Record<string, pulumi.Input<string>> | undefined;
        if (plan.renewal) {
            const renewal = new Renewal(`${name}-renewal`, plan.renewal, { parent: this });
            expiresAt = renewal.expiresAt;
            keepers = { issuedAt: renewal.issuedAt };
        }
        let token: pulumi.Output<string>;
        if (args.token !== undefined) {
            token = pulumi.secret(args.token);
        } else {
            const id = new random.RandomString(`${name}-id`, { ...plan.id, keepers }, { parent: this });
            // RandomPassword: its result is a secret (RandomString's is not).
            const secret = new random.RandomPassword(`${name}-secret`, { ...plan.secret, keepers }, { parent: this });
            token = pulumi.secret(pulumi.interpolate`${id.result}.${secret.result}`);
        }
        this.token = token;
        this.tokenId = pulumi.unsecret(token.apply((t) => splitToken(t).tokenId));
        this.expiresAt = expiresAt;
        // The stack owns its RBAC bindings (kube/bootstrapToken.ts): several stacks can share a cluster.
        const owner = `${pulumi.getProject()}/${pulumi.getStack()}`;
        this.manifests = pulumi.secret(
            pulumi.all([token, expiresAt]).apply(([t, expiration]) => bootstrapManifestsOf(t, owner, expiration, args.description)),
        );
        if (args.access !== undefined) {
            this.registration = new TokenRegistration(
                `${name}-registration`,
                { access: args.access, token, owner, expiration: expiresAt, description: args.description },
                { parent: this },
            );
        }
        this.registerOutputs({ tokenId: this.tokenId, token: this.token, manifests: this.manifests });
    }
}
