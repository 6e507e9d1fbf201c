/**
 * A small Kubernetes API client on Node's own https, authenticating with a
 * client certificate. Used by the dynamic providers; everything they need is
 * in this file and in the function arguments, so that Pulumi can serialize
 * the providers with it.
 */
import * as https from "https";

/** How to reach the API server as an administrator. */
export interface ApiAccess {
    /** `https://host:port` */
    server: string;
    /** The CA bundle that signed the API server's serving certificate. */
    caPem: string;
    /** Client certificate and key of a user allowed to do the work (secret). */
    certPem: string;
    keyPem: string;
}

export interface ApiResponse {
    status: number;
    body: any;
}

/** An API call that got an answer the caller did not expect. */
export class ApiError extends Error {
    constructor(
        public readonly status: number,
        method: string,
        path: string,
        public readonly reason: string,
    ) {
        super(`${method} ${path}: HTTP ${status}: ${reason}`);
        this.name = "ApiError";
    }
}

/**
 * One request. Answers with any HTTP status (callers decide what a 404 means);
 * rejects only when the server cannot be reached or the call times out.
 */
export function apiRequest(
    access: ApiAccess,
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
    timeoutMs = 30_000,
): Promise<ApiResponse> {
    const url = new URL(path, access.server);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
        const req = https.request(
            url,
            {
                method,
                ca: access.caPem,
                cert: access.certPem,
                key: access.keyPem,
                headers: {
                    Accept: "application/json",
                    ...(payload === undefined ? {} : { "Content-Type": contentType, "Content-Length": Buffer.byteLength(payload) }),
                },
                timeout: timeoutMs,
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    let parsed: any = text;
                    try {
                        parsed = text ? JSON.parse(text) : undefined;
                    } catch {
                        // not JSON: keep the text
                    }
                    resolve({ status: res.statusCode ?? 0, body: parsed });
                });
                res.on("error", reject);
            },
        );
        req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on("error", (e) => reject(new Error(`${method} ${url.href}: ${e.message}`)));
        req.end(payload);
    });
}

/** The server's reason for a failed call, short. */
export function reasonOf(r: ApiResponse): string {
    if (r.body && typeof r.body === "object" && typeof r.body.message === "string") {
        return r.body.message;
    }
    return typeof r.body === "string" ? r.body.slice(0, 300) : JSON.stringify(r.body ?? "").slice(0, 300);
}

/** A request that must answer 2xx (or one of `ok`); throws ApiError otherwise. */
export async function apiCall(access: ApiAccess, method: string, path: string, body?: unknown, contentType?: string, ok: number[] = []): Promise<ApiResponse> {
    const r = await apiRequest(access, method, path, body, contentType);
    if ((r.status < 200 || r.status > 299) && !ok.includes(r.status)) {
        throw new ApiError(r.status, method, path, reasonOf(r));
    }
    return r;
}

/** Resource names of the kinds this program writes. */
const PLURALS: Record<string, string> = {
    Secret: "secrets",
    ClusterRoleBinding: "clusterrolebindings",
    Node: "nodes",
    Pod: "pods",
};

/** The REST path of an object, from its apiVersion, kind, namespace and name. */
export function objectPath(obj: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): string {
    const plural = PLURALS[obj.kind];
    if (!plural) {
        throw new Error(`no REST path known for kind ${obj.kind}`);
    }
    const base = obj.apiVersion.includes("/") ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
    const ns = obj.metadata.namespace ? `/namespaces/${encodeURIComponent(obj.metadata.namespace)}` : "";
    return `${base}${ns}/${plural}/${encodeURIComponent(obj.metadata.name)}`;
}

/** The field manager this program's server-side applies use. */
export const FIELD_MANAGER = "hardway-workers";

/** Server-side apply: creates the object or brings the fields this program owns to `obj`. */
export async function applyObject(access: ApiAccess, obj: any): Promise<void> {
    await apiCall(
        access,
        "PATCH",
        `${objectPath(obj)}?fieldManager=${FIELD_MANAGER}&force=true`,
        obj,
        "application/apply-patch+yaml",
    );
}

/** Deletes the object; an object that is already gone is fine. */
export async function deleteObject(access: ApiAccess, obj: any): Promise<void> {
    await apiCall(access, "DELETE", objectPath(obj), undefined, undefined, [404]);
}

export function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}
