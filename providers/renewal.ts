/**
 * A dynamic provider that knows when something must be renewed.
 *
 * `@pulumi/tls`'s earlyRenewalHours / readyForRenewal do not reliably rotate
 * certificates (pulumi-tls#39), so rotation is driven here: a Renewal
 * resource records when it was issued and when its renewal window opens.
 * Once `pulumi up` runs inside that window, `diff` asks for a replacement,
 * which gives a new `issuedAt`; the certificate's key takes that value as its
 * `replacementTrigger`, so the key, the certificate request and the
 * certificate are issued again and the node's command rolls them out.
 *
 * The clock is `Date.now()`, or the ISO time in HARDWAY_NOW when set (tests
 * and drills move time forward with it).
 */
import * as pulumi from "@pulumi/pulumi";
import { watchEngine } from "./engineWatch";
import { lazyProvider } from "./lazy";
import { hasUnknown } from "./unknown";

// Loaded by the engine's dynamic provider host: leave with the engine.
watchEngine();

/** Bump when the provider's behaviour changes; dynamic provider code changes cause no diff by themselves. */
export const RENEWAL_PROVIDER_VERSION = "2";

export interface RenewalInputs {
    validityHours: number;
    renewBeforeHours: number;
    version: string;
}

export interface RenewalOutputs extends RenewalInputs {
    issuedAt: string;
    renewAt: string;
    expiresAt: string;
}

/** The provider's clock. Kept free of imports so that Pulumi can serialize it with the provider. */
export function renewalNow(): number {
    const fake = process.env["HARDWAY_NOW"];
    if (fake) {
        const t = Date.parse(fake);
        if (Number.isNaN(t)) {
            throw new Error(`HARDWAY_NOW=${fake} is not an ISO date`);
        }
        return t;
    }
    return Date.now();
}

/** The window of a renewal issued at `issuedMs`. */
export function renewalWindow(issuedMs: number, validityHours: number, renewBeforeHours: number): Omit<RenewalOutputs, keyof RenewalInputs> {
    const hour = 3600 * 1000;
    return {
        issuedAt: new Date(issuedMs).toISOString(),
        renewAt: new Date(issuedMs + (validityHours - renewBeforeHours) * hour).toISOString(),
        expiresAt: new Date(issuedMs + validityHours * hour).toISOString(),
    };
}

export const renewalProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: any, news: any): Promise<pulumi.dynamic.CheckResult> {
        const failures: pulumi.dynamic.CheckFailure[] = [];
        if (hasUnknown([news.validityHours, news.renewBeforeHours])) {
            return { inputs: news, failures };
        }
        for (const key of ["validityHours", "renewBeforeHours"]) {
            if (!Number.isInteger(news[key]) || news[key] < 1) {
                failures.push({ property: key, reason: `${key} must be a positive integer, got ${JSON.stringify(news[key])}` });
            }
        }
        if (failures.length === 0 && news.renewBeforeHours >= news.validityHours) {
            failures.push({ property: "renewBeforeHours", reason: "renewBeforeHours must be less than validityHours" });
        }
        return { inputs: news, failures };
    },

    async diff(_id: string, olds: RenewalOutputs, news: RenewalInputs): Promise<pulumi.dynamic.DiffResult> {
        const replaces: string[] = [];
        if (olds.validityHours !== news.validityHours) {
            replaces.push("validityHours");
        }
        if (olds.renewBeforeHours !== news.renewBeforeHours) {
            replaces.push("renewBeforeHours");
        }
        if (renewalNow() >= Date.parse(olds.renewAt)) {
            // Inside the renewal window: issue again.
            replaces.push("renewAt");
        }
        const changes = replaces.length > 0 || olds.version !== news.version;
        return { changes, replaces, deleteBeforeReplace: false };
    },

    async create(inputs: RenewalInputs): Promise<pulumi.dynamic.CreateResult> {
        const outs: RenewalOutputs = {
            ...inputs,
            ...renewalWindow(renewalNow(), inputs.validityHours, inputs.renewBeforeHours),
        };
        return { id: `renewal-${outs.issuedAt}`, outs };
    },

    async update(_id: string, olds: RenewalOutputs, news: RenewalInputs): Promise<pulumi.dynamic.UpdateResult> {
        // Only a version bump reaches update; every other change replaces.
        const outs: RenewalOutputs = {
            ...news,
            ...renewalWindow(Date.parse(olds.issuedAt), news.validityHours, news.renewBeforeHours),
        };
        return { outs };
    },

    async delete(): Promise<void> {
        // Nothing outside Pulumi state to remove.
    },
};

/** What the resource stores: a loader of renewalProvider, not its code (see lazy.ts). */
const renewalProviderLazy = lazyProvider("renewal", "renewalProvider");

export interface RenewalArgs {
    /** How long what is issued stays valid. */
    validityHours: pulumi.Input<number>;
    /** How long before expiry `pulumi up` issues it again. */
    renewBeforeHours: pulumi.Input<number>;
}

/** A renewal clock for one certificate or token. */
export class Renewal extends pulumi.dynamic.Resource {
    public readonly issuedAt!: pulumi.Output<string>;
    public readonly renewAt!: pulumi.Output<string>;
    public readonly expiresAt!: pulumi.Output<string>;

    constructor(name: string, args: RenewalArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            renewalProviderLazy,
            name,
            { ...args, version: RENEWAL_PROVIDER_VERSION, issuedAt: undefined, renewAt: undefined, expiresAt: undefined },
            opts,
            "hardway",
            "Renewal",
        );
    }
}
