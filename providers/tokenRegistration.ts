/**
 * A dynamic provider that registers the bootstrap token with the API server:
 * the `bootstrap-token-<id>` Secret in kube-system and the RBAC bindings TLS
 * bootstrapping needs (components/kube/bootstrapToken.ts), written with
 * server-side apply through the Kubernetes API.
 *
 * - create: applies every object;
 * - update: applies them again; when the token id changed, it then deletes
 *   the old token's Secret (the bindings keep their names);
 * - delete: deletes the Secret and the bindings;
 * - read (`pulumi refresh`): looks each object up; the ones that are gone
 *   are listed in `missing`, which makes the next `pulumi up` apply them
 *   again.
 */
import * as pulumi from "@pulumi/pulumi";
import { watchEngine } from "./engineWatch";
import { lazyProvider } from "./lazy";
import { bootstrapRbac, bootstrapTokenSecret } from "../components/kube/bootstrapToken";
import { ApiAccess, ApiError, apiRequest, applyObject, deleteObject, objectPath, reasonOf } from "./kubeApi";
import { hasUnknown } from "./unknown";

// Loaded by the engine's dynamic provider host: leave with the engine.
watchEngine();

/** Bump when the provider's behaviour changes; dynamic provider code changes cause no diff by themselves. */
export const TOKEN_REGISTRATION_VERSION = "3";

export interface TokenRegistrationInputs {
    access: ApiAccess;
    /** `<id>.<secret>` */
    token: string;
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
    return [secret, ...bootstrapRbac()];
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
        const a = news.access ?? {};
        for (const k of ["server", "caPem", "certPem", "keyPem"]) {
            if (!hasUnknown(a[k]) && (typeof a[k] !== "string" || a[k] === "")) {
                failures.push({ property: `access.${k}`, reason: `access.${k} is required` });
            }
        }
        return { inputs: news, failures };
    },

    async diff(_id: string, olds: TokenRegistrationOutputs, news: TokenRegistrationInputs): Promise<pulumi.dynamic.DiffResult> {
        const changed = (["token", "expiration", "description", "version"] as const).filter((k) => olds[k] !== news[k]);
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
        if (olds.tokenId && olds.tokenId !== outs.tokenId) {
            await deleteObject(news.access, registrationObjects(olds)[0]);
        }
        return { outs };
    },

    async delete(_id: string, olds: TokenRegistrationOutputs): Promise<void> {
        for (const obj of registrationObjects(olds).reverse()) {
            await deleteObject(olds.access, obj);
        }
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
