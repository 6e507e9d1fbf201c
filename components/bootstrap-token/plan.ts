/**
 * The bootstrap token, planned: how its two halves are generated, when it is
 * made anew (a token with a lifetime: in its last quarter), and the Secret
 * and RBAC manifests that go with it.
 */
import { renderBootstrapManifests } from "./manifests";

/** A random string of lower-case letters and digits (the token's alphabet). */
export interface RandomSpec {
    length: number;
    upper: false;
    special: false;
    lower: true;
    numeric: true;
}

export interface BootstrapTokenPlan {
    /** The public half, `[a-z0-9]{6}`. */
    id: RandomSpec;
    /** The secret half, `[a-z0-9]{16}`. */
    secret: RandomSpec;
    /** With a lifetime: the Renewal that makes the token anew; none for a token that does not expire. */
    renewal?: { validityHours: number; renewBeforeHours: number };
}

const alphabet = { upper: false, special: false, lower: true, numeric: true } as const;

export function bootstrapTokenPlan(ttlHours: number): BootstrapTokenPlan {
    return {
        id: { length: 6, ...alphabet },
        secret: { length: 16, ...alphabet },
        renewal: ttlHours > 0 ? { validityHours: ttlHours, renewBeforeHours: Math.max(1, Math.floor(ttlHours / 4)) } : undefined,
    };
}

/** `<id>.<secret>` in its halves. */
export function splitToken(token: string): { tokenId: string; tokenSecret: string } {
    const [tokenId, tokenSecret] = token.split(".");
    return { tokenId, tokenSecret };
}

/** The `bootstrap-token-<id>` Secret and the stack's (`owner`, `<project>/<stack>`) three RBAC bindings, as YAML. */
export function bootstrapManifestsOf(token: string, owner: string, expiration?: string, description?: string): string {
    return renderBootstrapManifests({ ...splitToken(token), expiration, description }, owner);
}
