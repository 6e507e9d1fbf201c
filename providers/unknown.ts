/**
 * What a dynamic provider sees of a value that is not known yet: during a
 * preview, an input computed from another resource's output that does not
 * exist yet (a token, a certificate) reaches check and diff as this string.
 * Validate such a value only once it is known, at `pulumi up`.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Is `v`, or anything inside it, a value not known until the update? */
export function hasUnknown(v: unknown): boolean {
    if (v === UNKNOWN) {
        return true;
    }
    if (Array.isArray(v)) {
        return v.some(hasUnknown);
    }
    if (v !== null && typeof v === "object") {
        return Object.values(v as Record<string, unknown>).some(hasUnknown);
    }
    return false;
}
