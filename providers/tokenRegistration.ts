/**
 * A dynamic provider that registers the bootstrap token with the API server:
 * the `bootstrap-token-<id>` Secret in kube-system and the RBAC bindings TLS
 * bootstrapping needs (components/kube/bootstrapToken.ts), written with
 * server-side apply through the Kubernetes API.
 *
 * - create: applies every object;
 * - update: applies them again; when the token id changed, it then deletes
 *   the old token's Secret; when the stack was renamed, its bindings under
 *   the old name;
 * - delete: deletes the Secret and the stack's bindings (each stack of a
 *   cluster has its own: several stacks can share one), and the shared
 *   bindings an older version wrote, unless another stack's are left;
 * - read (`pulumi refresh`): looks each object up; the ones that are gone
 *   are listed in `missing`, which makes the next `pulumi up` apply them
 *   again.
 */
import * as pulumi from "@pulumi/pulumi";
import { watchEngine } from "./engineWatch";
import { lazyProvider } from "./lazy";
import { MANAGED_BY, OWNER_ANNOTATION, SHARED_BINDINGS, bootstrapRbac, bootstrapTokenSecret } from "../components/kube/bootstrapToken";
import { ApiAccess, ApiError, apiCall, apiRequest, applyObject, deleteObject, objectPath, reasonOf } from "./kubeApi";
import { hasUnknown } from "./unknown";

// Loaded by the engine's dynamic provider host: leave with the engine.
watchEngine();

/** Bump when the provider's behaviour changes; dynamic provider code changes cause no diff by themselves. */
export const TOKEN_REGISTRATION_VERSION = "4";

export interface TokenRegistrationInputs {
    access: ApiAccess;
    /** `<id>.<secret>` */
    token: string;
    /**
     * The stack, `<project>/<stack>`, that owns the RBAC bindings
     * (kube/bootstrapToken.ts). Absent in a registration of version 3 or
     * older, whose bindings had the names every stack shared.
     */
    owner?: string;
    expiration?: string;
    description?: string;
    version: string;
}

export interface TokenRegistrationOutputs extends TokenRegistrationInputs {
    tokenId: string;
    /** `Kind namespace/name` of every object written. */
    objects: string[];
    /** What the last refresh found deleted from the cluster (`Kind namespace/name`); `pulumi up` applies it again. */
    missing?: string[];
    /**
     * The shared bindings (SHARED_BINDINGS) an older version of this
     * registration wrote. Other stacks of the cluster may still use them, so
     * the update to per-stack bindings keeps them; the registration's delete
     * removes them when no other stack's bindings are left (sharedInUse).
     */
    shared?: string[];
}

const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

/** The objects to write, the Secret's stringData turned into data (server-side apply owns `data`). */
export function registrationObjects(inputs: TokenRegistrationInputs): any[] {
    const m = TOKEN_RE.exec(inputs.token);
    if (!m) {
        throw new Error("token is not of the form <6 chars>.<16 chars> of [a-z0-9]");
    }
    const secret: any = bootstrapTokenSecret({ tokenId: m[1], tokenSecret: m[2], expiration: inputs.expiration, description: inputs.description });
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(secret.stringData as Record<string, string>)) {
        data[k] = Buffer.from(v, "utf8").toString("base64");
    }
    delete secret.stringData;
    secret.data = data;
    return [secret, ...bootstrapRbac(inputs.owner)];
}

const BINDINGS_PATH = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings";

/** Whether a stack other than `owner` has bindings of its own in the cluster (it may still rely on the shared ones too). */
export async function sharedInUse(access: ApiAccess, owner: string | undefined): Promise<boolean> {
    const r = await apiCall(access, "GET", `${BINDINGS_PATH}?labelSelector=${encodeURIComponent(`${MANAGED_BY.key}=${MANAGED_BY.value}`)}`);
    const items: any[] = r.body?.items ?? [];
    return items.some((b) => b?.metadata?.annotations?.[OWNER_ANNOTATION] !== owner);
}

/** Deletes the shared bindings an older version wrote, unless another stack of the cluster may still use them. */
async function removeShared(access: ApiAccess, owner: string | undefined, shared: string[]): Promise<void> {
    if (shared.length === 0 || (await sharedInUse(access, owner))) {
        return;
    }
    for (const name of shared) {
        await deleteObject(access, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name } });
    }
}

/** The shared binding names among the objects an older registration wrote (`Kind namespace/name` labels). */
function sharedOf(olds: TokenRegistrationOutputs): string[] {
    const written = new Set(olds.objects ?? []);
    return [...new Set([...(olds.shared ?? []), ...SHARED_BINDINGS.filter((name) => !olds.owner && written.has(`ClusterRoleBinding ${name}`))])];
}

function objectLabel(obj: any): string {
    return `${obj.kind} ${obj.metadata.namespace ? obj.metadata.namespace + "/" : ""}${obj.metadata.name}`;
}

async function applyAll(inputs: TokenRegistrationInputs): Promise<TokenRegistrationOutputs> {
    const objects = registrationObjects(inputs);
    for (const obj of objects) {
        await applyObject(inputs.access, obj);
    }
    return { ...inputs, tokenId: inputs.token.split(".")[0], objects: objects.map(objectLabel), missing: [] };
}

/** The objects of a registration that are gone from the cluster, as `Kind namespace/name`. */
export async function missingObjects(inputs: TokenRegistrationInputs): Promise<string[]> {
    const missing: string[] = [];
    for (const obj of registrationObjects(inputs)) {
        const path = objectPath(obj);
        const r = await apiRequest(inputs.access, "GET", path);
        if (r.status === 404) {
            missing.push(objectLabel(obj));
        } else if (r.status !== 200) {
            throw new ApiError(r.status, "GET", path, reasonOf(r));
        }
    }
    return missing;
}

export const tokenRegistrationProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: any, news: any): Promise<pulumi.dynamic.CheckResult> {
        const failures: pulumi.dynamic.CheckFailure[] = [];
        // A new token is still unknown at preview: it is checked at `pulumi up`.
        if (!hasUnknown(news.token) && (typeof news.token !== "string" || !TOKEN_RE.test(news.token))) {
            failures.push({ property: "token", reason: "token must be <6 chars>.<16 chars> of [a-z0-9]" });
        }
        if (!hasUnknown(news.owner) && (typeof news.owner !== "string" || news.owner === "")) {
            failures.push({ property: "owner", reason: "owner (the stack, <project>/<stack>) is required" });
        }
        const a = news.access ?? {};
        for (const k of ["server", "caPem", "certPem", "keyPem"]) {
            if (!hasUnknown(a[k]) && (typeof a[k] !== "string" || a[k] === "")) {
                failures.push({ property: `access.${k}`, reason: `access.${k} is required` });
            }
        }
        return { inputs: news, failures };
    },

    async diff(_id: string, olds: TokenRegistrationOutputs, news: TokenRegistrationInputs): Promise<pulumi.dynamic.DiffResult> {
        const changed = (["token", "owner", "expiration", "description", "version"] as const).filter((k) => olds[k] !== news[k]);
        if (JSON.stringify(olds.access) !== JSON.stringify(news.access)) {
            changed.push("access" as any);
        }
        // Drift a refresh found: objects deleted from the cluster are applied again.
        if ((olds.missing ?? []).length > 0) {
            changed.push("missing" as any);
        }
        return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
    },

    async create(inputs: TokenRegistrationInputs): Promise<pulumi.dynamic.CreateResult> {
        const outs = await applyAll(inputs);
        return { id: `bootstrap-token-${outs.tokenId}`, outs };
    },

    async update(_id: string, olds: TokenRegistrationOutputs, news: TokenRegistrationInputs): Promise<pulumi.dynamic.UpdateResult> {
        const outs = await applyAll(news);
        const [oldSecret, ...oldBindings] = registrationObjects(olds);
        if (olds.tokenId && olds.tokenId !== outs.tokenId) {
            await deleteObject(news.access, oldSecret);
        }
        // A renamed stack: its bindings under the old name are its own. The shared ones an older version wrote are kept (sharedOf).
        if (olds.owner && olds.owner !== news.owner) {
            for (const obj of oldBindings) {
                await deleteObject(news.access, obj);
            }
        }
        const shared = sharedOf(olds);
        return { outs: shared.length > 0 ? { ...outs, shared } : outs };
    },

    async delete(_id: string, olds: TokenRegistrationOutputs): Promise<void> {
        const objects = registrationObjects(olds);
        const own = olds.owner ? objects : objects.filter((obj) => obj.kind !== "ClusterRoleBinding");
        for (const obj of own.reverse()) {
            await deleteObject(olds.access, obj);
        }
        await removeShared(olds.access, olds.owner, sharedOf(olds));
    },

    async read(id: string, props: TokenRegistrationOutputs): Promise<pulumi.dynamic.ReadResult> {
        return { id, props: { ...props, missing: await missingObjects(props) } };
    },
};

/** What the resource stores: a loader of tokenRegistrationProvider, not its code (see lazy.ts). */
const tokenRegistrationProviderLazy = lazyProvider("tokenRegistration", "tokenRegistrationProvider");

export interface TokenRegistrationArgs {
    access: pulumi.Input<ApiAccess>;
    token: pulumi.Input<string>;
    owner: string;
    expiration?: pulumi.Input<string | undefined>;
    description?: string;
}

/** The bootstrap token, registered with the API server. */
export class TokenRegistration extends pulumi.dynamic.Resource {
    public readonly tokenId!: pulumi.Output<string>;
    public readonly objects!: pulumi.Output<string[]>;
    public readonly missing!: pulumi.Output<string[]>;

    constructor(name: string, args: TokenRegistrationArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            tokenRegistrationProviderLazy,
            name,
            { ...args, version: TOKEN_REGISTRATION_VERSION, tokenId: undefined, objects: undefined, missing: undefined },
            { ...opts, additionalSecretOutputs: ["token", "access"] },
            "hardway",
            "TokenRegistration",
        );
    }
}
