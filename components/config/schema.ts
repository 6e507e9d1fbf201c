/**
 * The stack config contract: every key of the `hardway-workers` namespace,
 * in one table. For each key: its kind, whether it is a secret, its default
 * and a one-line doc. Everything else that lists keys (KNOWN_KEYS,
 * SECRET_KEYS, JSON_KEYS, the static DEFAULTS of defaults.ts) is derived
 * from this table. Pure: no Pulumi here.
 */

export const NAMESPACE = "hardway-workers";

/**
 * - `string`, `pem`: text (`pem`: PEM blocks);
 * - `integer`: a whole number, at least `min`;
 * - `bool`: true or false;
 * - `enum`: one of `values`;
 * - `list`: a JSON list, or comma-separated text;
 * - `json`: a JSON value (object or list).
 */
export type ConfigKind = "string" | "pem" | "integer" | "bool" | "enum" | "list" | "json";

/** A default that depends on other values; `doc` says how (defaults.ts computes it). */
export interface DerivedDefault {
    derived: string;
}

/** A `json` key's default value, as the key's value would be written. */
export interface JsonDefault {
    json: unknown;
}

export interface KeySpec {
    kind: ConfigKind;
    /** Meant to be set with `pulumi config set --secret`; a plain-text value draws a warning. */
    secret: boolean;
    /** Must be set. */
    required?: true;
    /** The value when the key is unset; absent when the key is required or simply optional. */
    default?: string | number | boolean | readonly string[] | DerivedDefault | JsonDefault;
    /** For `integer`: the smallest value accepted. */
    min?: number;
    /** For `enum`: the values accepted, in the order error messages list them. */
    values?: readonly (string | number)[];
    doc: string;
}

/** The keys, in the order error messages list them. */
export const CONFIG_SCHEMA = {
    kubernetesVersion: { kind: "string", secret: false, required: true, doc: "`1.16.2` (the guide) to `1.37.x`" },
    apiServer: { kind: "string", secret: false, required: true, doc: "API server URL, `https://…`" },
    clusterName: { kind: "string", secret: false, required: true, doc: "name of the cluster in the kubeconfigs" },
    clusterCidr: { kind: "string", secret: false, default: "10.244.0.0/16", doc: "pod network, used in kube-proxy's config" },
    clusterDns: { kind: "list", secret: false, default: ["10.96.0.10"], doc: "cluster DNS addresses, in the kubelet's config" },
    clusterDomain: { kind: "string", secret: false, default: "cluster.local", doc: "cluster DNS domain, in the kubelet's config" },
    kubeProxyMode: {
        kind: "enum",
        secret: false,
        values: ["ipvs", "iptables", "nftables"],
        default: "ipvs",
        doc: "kube-proxy's mode: ipvs (as the guide), iptables, nftables (1.31+)",
    },
    cgroupDriver: {
        kind: "enum",
        secret: false,
        values: ["systemd", "cgroupfs"],
        default: { derived: "cgroupfs for 1.16 (the guide), systemd from 1.17" },
        doc: "the kubelet's cgroup driver; containerd is set to match",
    },
    containerdConfigVersion: {
        kind: "enum",
        secret: false,
        values: ["auto", 1, 2, 3],
        default: "auto",
        doc: "containerd's config file version; auto: what the installed containerd reads",
    },
    caCertPem: { kind: "pem", secret: false, required: true, doc: "the CA that signs the node certificates" },
    caBundlePem: {
        kind: "pem",
        secret: false,
        default: { derived: "caCertPem" },
        doc: "every CA to trust (main CA plus intermediates)",
    },
    caKeyPem: { kind: "pem", secret: true, required: true, doc: "the CA's private key; checked to match caCertPem" },
    sshUser: { kind: "string", secret: false, default: "root", doc: "the SSH user on every node" },
    sshPrivateKey: { kind: "pem", secret: true, required: true, doc: "the SSH private key" },
    bootstrapToken: {
        kind: "string",
        secret: true,
        doc: "a `[a-z0-9]{6}.[a-z0-9]{16}` bootstrap token to use instead of a generated one",
    },
    bootstrapTokenTtlHours: {
        kind: "integer",
        secret: false,
        min: 0,
        default: 0,
        doc: "the bootstrap token's lifetime; 0: no expiry, otherwise made anew in its last quarter",
    },
    certValidityHours: { kind: "integer", secret: false, min: 2, default: 8760, doc: "lifetime of the node certificates" },
    certRenewBeforeHours: {
        kind: "integer",
        secret: false,
        min: 1,
        default: 720,
        doc: "node certificates are re-issued on the first `pulumi up` this close to expiry",
    },
    waitForServices: {
        kind: "bool",
        secret: false,
        default: true,
        doc: "after a restart, wait until kubelet and kube-proxy are active and stay up",
    },
    failCgroupV1: {
        kind: "bool",
        secret: false,
        doc: "the kubelet's `failCgroupV1` (1.31+); unset: the kubelet's default, which refuses cgroup v1 hosts from 1.35; `false` runs them (deprecated)",
    },
    apiAdminCertPem: {
        kind: "pem",
        secret: false,
        doc: "a client certificate that may administer the cluster (with apiAdminKeyPem)",
    },
    apiAdminKeyPem: { kind: "pem", secret: true, doc: "its private key; checked to match apiAdminCertPem" },
    nodeReadyTimeoutSeconds: {
        kind: "integer",
        secret: false,
        min: 1,
        default: 300,
        doc: "how long `pulumi up` waits for a node to be Ready (with API credentials)",
    },
    drainTimeoutSeconds: {
        kind: "integer",
        secret: false,
        min: 1,
        default: 120,
        doc: "how long a removed node's drain may take before the update fails",
    },
    rollout: {
        kind: "json",
        secret: false,
        default: { derived: "{maxUnavailable: 1}" },
        doc: "`{maxUnavailable: N | \"P%\"}`: how many nodes a disruptive update (kubelet or containerd binary, containerd restart) may take out of the cluster at once; with API credentials",
    },
    downloads: {
        kind: "json",
        secret: false,
        default: { derived: "the official release URLs; crictl and CNI versions by Kubernetes version" },
        doc: "`{kubernetesBaseUrl, crictlBaseUrl, cniBaseUrl, crictlVersion, cniVersion, arch, sha256}`",
    },
    packageRepos: {
        kind: "json",
        secret: false,
        default: {
            // The guide installs containerd.io with yum "from the official Docker repository": Docker's own repository file, as it publishes it.
            json: {
                rhel: {
                    id: "docker-ce-stable",
                    name: "Docker CE Stable - $basearch",
                    baseUrl: "https://download.docker.com/linux/centos/$releasever/$basearch/stable",
                    gpgKey: "https://download.docker.com/linux/centos/gpg",
                },
            },
        },
        doc: "`{rhel: {id, name, baseUrl, gpgKey} | null}`: the repository RHEL-family nodes install containerd.io from; null: the host's own",
    },
    nodes: {
        kind: "json",
        secret: false,
        required: true,
        doc: "JSON list of `{name, fqdn, ip, role}`, optionally `sshHost`, `sshPort`, `hostKey`, `labels`, `taints`",
    },
    controlPlaneStack: {
        kind: "string",
        secret: false,
        doc: "`org/project/stack` whose outputs give apiServer, caCertPem, caBundlePem, apiAdminCertPem/apiAdminKeyPem (controlPlane.ts)",
    },
} as const satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof CONFIG_SCHEMA;

const SPECS: [ConfigKey, KeySpec][] = Object.entries(CONFIG_SCHEMA) as [ConfigKey, KeySpec][];

/** Every key, in the table's order. */
export const KNOWN_KEYS: readonly string[] = SPECS.map(([key]) => key);
/** The keys that should be set as secrets. */
export const SECRET_KEYS: readonly string[] = SPECS.filter(([, spec]) => spec.secret).map(([key]) => key);
/** The keys whose text is parsed as JSON. */
export const JSON_KEYS: ReadonlySet<string> = new Set(
    SPECS.filter(([, spec]) => spec.kind === "json" || spec.kind === "list").map(([key]) => key),
);

/** A key's spec, or undefined for an unknown key. */
export function specOf(key: string): KeySpec | undefined {
    return (CONFIG_SCHEMA as Record<string, KeySpec>)[key];
}
