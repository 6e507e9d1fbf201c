/**
 * The policy pack's rules as pure functions: plain values in, the
 * violation's message (or none) out. policies.ts feeds them from what the
 * engine sends a policy pack: a resource's inputs (resource validation), or
 * every resource of the stack, the root stack's outputs among them (stack
 * validation). No Pulumi here.
 */

/** The stack's name, from any of its URNs: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOfUrn(urn: string): string {
    const m = /^urn:pulumi:([^:]+)::/.exec(urn);
    return m ? m[1] : "";
}

/**
 * A production stack: `prod`, or `prod-<anything>` (`prod-eu`); with an
 * org-qualified name, the last part decides.
 */
export function isProdStack(stack: string): boolean {
    const name = stack.slice(stack.lastIndexOf("/") + 1);
    return name === "prod" || name.startsWith("prod-");
}

/**
 * Guards against a man in the middle on the SSH connection: without
 * `hostKey` the command provider accepts any host key, and the node's
 * secrets (its private keys, the bootstrap token) go on stdin to whoever
 * answers at that address.
 */
export function hostKeyProblem(connection: unknown): string | undefined {
    const hostKey = typeof connection === "object" && connection !== null ? (connection as Record<string, unknown>)["hostKey"] : undefined;
    if (typeof hostKey !== "string" || hostKey.trim() === "") {
        return "the remote command does not pin the node's SSH host key (set hostKey on the node in hardway-workers:nodes)";
    }
    return undefined;
}

export interface TokenFacts {
    /** The bootstrap token components of the stack, by URN. */
    tokens: string[];
    /** The Renewal resources, each with its parent's URN and its validityHours input (undefined when not known yet). */
    renewals: { parent?: string; validityHours?: unknown }[];
}

/**
 * Guards against a standing credential in production: a bootstrap token
 * without expiry lets whoever holds it join a node to the cluster forever.
 * A token with a lifetime (bootstrapTokenTtlHours > 0) has a Renewal child
 * with that lifetime; a prod stack's token must have one.
 */
export function tokenExpiryProblems(stack: string, facts: TokenFacts): { urn: string; message: string }[] {
    if (!isProdStack(stack)) {
        return [];
    }
    return facts.tokens
        .filter((urn) => {
            const renewal = facts.renewals.find((r) => r.parent === urn);
            if (!renewal) {
                return true;
            }
            const hours = renewal.validityHours;
            return typeof hours === "number" && hours <= 0;
        })
        .map((urn) => ({
            urn,
            message: `the bootstrap token of production stack "${stack}" never expires; set hardway-workers:bootstrapTokenTtlHours (e.g. 24)`,
        }));
}

/** `1.34.4` or `v1.34.4` as [major, minor, patch], or undefined. */
export function parseVersion(text: unknown): [number, number, number] | undefined {
    if (typeof text !== "string") {
        return undefined;
    }
    const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(text.trim());
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function compare(a: [number, number, number], b: [number, number, number]): number {
    return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * Guards the version-skew policy: a kubelet may be older than the API
 * server (by up to three minors), never newer; a newer kubelet talks to an
 * API that lacks what it expects. Only when the control plane's version is
 * known (its stack exports `kubernetesVersion`, read by controlPlaneStack).
 */
export function versionSkewProblem(kubeletVersion: unknown, controlPlaneVersion: unknown): string | undefined {
    const kubelet = parseVersion(kubeletVersion);
    const apiServer = parseVersion(controlPlaneVersion);
    if (!kubelet || !apiServer) {
        return undefined;
    }
    if (compare(kubelet, apiServer) > 0) {
        return `the kubelet (${kubelet.join(".")}) would be newer than the API server (${apiServer.join(".")}); upgrade the control plane first`;
    }
    return undefined;
}

/**
 * Warns of a deprecated mode: kube-proxy's ipvs mode is deprecated from
 * Kubernetes 1.35 (KEP-5495); nftables is its successor.
 */
export function ipvsProblem(mode: unknown, kubernetesVersion: unknown): string | undefined {
    const v = parseVersion(kubernetesVersion);
    if (mode !== "ipvs" || !v || compare(v, [1, 35, 0]) < 0) {
        return undefined;
    }
    return `kube-proxy's ipvs mode is deprecated from Kubernetes 1.35 (KEP-5495; this stack: ${v.join(".")}); consider hardway-workers:kubeProxyMode nftables`;
}
