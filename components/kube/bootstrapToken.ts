/**
 * The control-plane side of TLS bootstrapping (kubernetes docs:
 * bootstrap-tokens, kubelet-tls-bootstrapping): the token Secret and the
 * three RBAC bindings, as plain objects. The BootstrapToken component renders
 * them as YAML (bootstrap-token/manifests.ts); the TokenRegistration provider
 * applies them through the API.
 */

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

function clusterRoleBinding(name: string, role: string, group: string): Record<string, unknown> {
    return {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: group }],
    };
}

/** The three bindings TLS bootstrapping needs. */
export function bootstrapRbac(): Record<string, unknown>[] {
    return [
        // Bootstrapping kubelets may create CSRs.
        clusterRoleBinding("hardway-kubelet-bootstrap", "system:node-bootstrapper", "system:bootstrappers"),
        // Their first client certificate is approved automatically.
        clusterRoleBinding(
            "hardway-node-autoapprove-bootstrap",
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            "system:bootstrappers",
        ),
        // Nodes renew their own client certificates.
        clusterRoleBinding(
            "hardway-node-autoapprove-certificate-rotation",
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            "system:nodes",
        ),
    ];
}
