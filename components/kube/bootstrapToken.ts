/**
 * The control-plane side of TLS bootstrapping (kubernetes docs:
 * bootstrap-tokens, kubelet-tls-bootstrapping): the token Secret and the
 * three RBAC bindings, as plain objects. The BootstrapToken component renders
 * them as YAML (bootstrap-token/manifests.ts); the TokenRegistration provider
 * applies them through the API.
 */
import * as crypto from "crypto";

export interface BootstrapTokenInput {
    tokenId: string;
    tokenSecret: string;
    /** RFC 3339 expiry, or undefined for a token that does not expire. */
    expiration?: string;
    description?: string;
}

export function bootstrapTokenSecret(t: BootstrapTokenInput): Record<string, unknown> {
    const stringData: Record<string, string> = {
        "token-id": t.tokenId,
        "token-secret": t.tokenSecret,
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
    };
    if (t.expiration) {
        stringData.expiration = t.expiration;
    }
    if (t.description) {
        stringData.description = t.description;
    }
    return {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: `bootstrap-token-${t.tokenId}`, namespace: "kube-system" },
        type: "bootstrap.kubernetes.io/token",
        stringData,
    };
}

/** The label on every binding a stack owns, and the annotation that names the stack. */
export const MANAGED_BY = { key: "app.kubernetes.io/managed-by", value: "hardway-workers" } as const;
export const OWNER_ANNOTATION = "hardway-workers/stack";

/** The three bindings TLS bootstrapping needs: name, role, group. */
const BINDINGS: [string, string, string][] = [
    // Bootstrapping kubelets may create CSRs.
    ["hardway-kubelet-bootstrap", "system:node-bootstrapper", "system:bootstrappers"],
    // Their first client certificate is approved automatically.
    ["hardway-node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient", "system:bootstrappers"],
    // Nodes renew their own client certificates.
    ["hardway-node-autoapprove-certificate-rotation", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:nodes"],
];

/**
 * The bindings' names before they were per stack (TokenRegistration version
 * 3 and older): one set shared by every stack of a cluster.
 */
export const SHARED_BINDINGS = BINDINGS.map(([name]) => name);

/** The suffix of a stack's binding names: the first 10 hex digits of the sha256 of `<project>/<stack>`. */
export function ownerSuffix(owner: string): string {
    return crypto.createHash("sha256").update(owner).digest("hex").slice(0, 10);
}

function clusterRoleBinding(name: string, role: string, group: string, owner?: string): Record<string, unknown> {
    return {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: owner ? { name, labels: { [MANAGED_BY.key]: MANAGED_BY.value }, annotations: { [OWNER_ANNOTATION]: owner } } : { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: group }],
    };
}

/**
 * The three bindings TLS bootstrapping needs, owned by one stack
 * (`<project>/<stack>`): named `<name>-<ownerSuffix>`, labelled and
 * annotated with the stack. Each stack of a cluster (several stacks can share
 * one, e.g. one per node pool) has its own, so destroying one stack leaves
 * the others' nodes able to bootstrap and to renew their client certificates.
 * Without an owner: the shared names, as older versions wrote them.
 */
export function bootstrapRbac(owner?: string): Record<string, unknown>[] {
    return BINDINGS.map(([name, role, group]) => clusterRoleBinding(owner ? `${name}-${ownerSuffix(owner)}` : name, role, group, owner));
}
