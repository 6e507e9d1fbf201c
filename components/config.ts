/**
 * The stack config contract (namespace `hardway-workers`) and its validation.
 *
 * `validateConfig` is pure: raw values in, a typed config or a ConfigError
 * that names every bad field out. `loadConfig` reads the values from the
 * Pulumi runtime, so that bad input fails `pulumi preview` before any
 * resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import {
    ContainerdConfigVersion,
    MAX_KUBERNETES_MINOR,
    MIN_KUBERNETES,
    Profile,
    ProxyMode,
    Version,
    compareVersions,
    defaultToolVersions,
    formatVersion,
    parseVersion,
    profileFor,
    proxyModeSupported,
} from "./kube/versions";
import { CONTROL_PLANE_TAINT, Taint } from "./kube/taints";
import {
    checkCaPair,
    checkCertKeyPair,
    checkCidr,
    checkFqdn,
    checkHostKey,
    checkIp,
    checkLabel,
    checkNodeName,
    checkPrivateKeyPem,
    checkSha256,
    checkTaint,
    checkToken,
    checkUrl,
    parseTaint,
    splitPemCertificates,
} from "./validate";

export const NAMESPACE = "hardway-workers";

export type Role = "control-plane" | "worker";
export type CgroupDriver = "systemd" | "cgroupfs";

export interface NodeConfig {
    /** Node name, as the cluster will know it. */
    name: string;
    fqdn: string;
    ip: string;
    role: Role;
    sshHost: string;
    sshPort: number;
    /** authorized_keys-style host key line; pinned on every connection when set. */
    hostKey?: string;
    labels: Record<string, string>;
    /** Taints to register with; control-plane nodes always carry CONTROL_PLANE_TAINT. */
    taints: Taint[];
}

/** Checksums of the downloads, by artifact. Missing ones are read from `<url>.sha256` on the node. */
export interface Checksums {
    kubelet?: string;
    "kube-proxy"?: string;
    crictl?: string;
    cni?: string;
}

export interface DownloadConfig {
    /** Base of `<base>/v<version>/bin/linux/<arch>/kubelet`; default https://dl.k8s.io/release. */
    kubernetesBaseUrl: string;
    /** Base of `<base>/v<crictl>/crictl-v<crictl>-linux-<arch>.tar.gz`. */
    crictlBaseUrl: string;
    /** Base of `<base>/v<cni>/cni-plugins-linux-<arch>-v<cni>.tgz`. */
    cniBaseUrl: string;
    crictlVersion: string;
    cniVersion: string;
    arch: "amd64" | "arm64";
    sha256: Checksums;
}

export interface WorkerConfig {
    kubernetesVersion: Version;
    profile: Profile;
    apiServer: string;
    clusterName: string;
    clusterCidr: string;
    clusterDns: string[];
    clusterDomain: string;
    kubeProxyMode: ProxyMode;
    cgroupDriver: CgroupDriver;
    /** "auto" picks the version the installed containerd reads natively. */
    containerdConfigVersion: ContainerdConfigVersion | "auto";
    caCertPem: string;
    caBundlePem: string;
    caKeyPem: pulumi.Output<string>;
    sshUser: string;
    sshPrivateKey: pulumi.Output<string>;
    /** A bootstrap token given by the operator, instead of a generated one. */
    bootstrapToken?: pulumi.Output<string>;
    /** Lifetime of the bootstrap token; 0 means it never expires. */
    bootstrapTokenTtlHours: number;
    certValidityHours: number;
    certRenewBeforeHours: number;
    /** Wait for kubelet and kube-proxy to be active after a restart. */
    waitForServices: boolean;
    /**
     * Administrator credentials for the API server (a client certificate and
     * its key). When given, the program registers the bootstrap token through
     * the API and tracks each node's membership (Ready on up; cordon, drain
     * and delete on removal). Without them it only exports the manifests.
     */
    apiAdmin?: { certPem: string; keyPem: pulumi.Output<string> };
    /** How long `pulumi up` waits for a node to become Ready (with apiAdmin). */
    nodeReadyTimeoutSeconds: number;
    /** How long a removed node's drain may take before the update fails (with apiAdmin). */
    drainTimeoutSeconds: number;
    downloads: DownloadConfig;
    nodes: NodeConfig[];
}

/** Raw values by key, as strings or already-parsed JSON. */
export type RawConfig = Record<string, unknown>;

/** Every bad field, each message starting with its `hardway-workers:<path>`. */
export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(`invalid stack config:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

const SECRET_KEYS = ["caKeyPem", "sshPrivateKey", "bootstrapToken", "apiAdminKeyPem"] as const;
const KNOWN_KEYS = [
    "kubernetesVersion",
    "apiServer",
    "clusterName",
    "clusterCidr",
    "clusterDns",
    "clusterDomain",
    "kubeProxyMode",
    "cgroupDriver",
    "containerdConfigVersion",
    "caCertPem",
    "caBundlePem",
    "caKeyPem",
    "sshUser",
    "sshPrivateKey",
    "bootstrapToken",
    "bootstrapTokenTtlHours",
    "certValidityHours",
    "certRenewBeforeHours",
    "waitForServices",
    "apiAdminCertPem",
    "apiAdminKeyPem",
    "nodeReadyTimeoutSeconds",
    "drainTimeoutSeconds",
    "downloads",
    "nodes",
];
const JSON_KEYS = new Set(["nodes", "downloads", "clusterDns"]);

/** Collects problems, each prefixed with its field. */
class Problems {
    readonly list: string[] = [];
    add(field: string, message: string): void {
        this.list.push(`${NAMESPACE}:${field}: ${message}`);
    }
}

function str(raw: RawConfig, key: string, p: Problems, fallback?: string): string | undefined {
    const v = raw[key];
    if (v === undefined || v === null || v === "") {
        if (fallback === undefined) {
            p.add(key, "is required");
        }
        return fallback;
    }
    if (typeof v !== "string") {
        p.add(key, `must be a string, got ${JSON.stringify(v)}`);
        return fallback;
    }
    return v;
}

function num(raw: RawConfig, key: string, p: Problems, fallback: number, min: number): number {
    const v = raw[key];
    if (v === undefined || v === null || v === "") {
        return fallback;
    }
    const n = typeof v === "number" ? v : Number(v);
    if (!Number.isInteger(n) || n < min) {
        p.add(key, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
        return fallback;
    }
    return n;
}

function bool(raw: RawConfig, key: string, p: Problems, fallback: boolean): boolean {
    const v = raw[key];
    if (v === undefined || v === null || v === "") {
        return fallback;
    }
    if (v === true || v === "true") {
        return true;
    }
    if (v === false || v === "false") {
        return false;
    }
    p.add(key, `must be true or false, got ${JSON.stringify(v)}`);
    return fallback;
}

function oneOf<T extends string | number>(value: unknown, allowed: readonly T[]): T | undefined {
    return allowed.find((a) => String(a) === String(value));
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Validates raw config values. `secrets` carries the secret values as plain
 * strings, only to validate them; the returned config wraps them as secrets.
 */
export function validateConfig(raw: RawConfig, now: Date = new Date()): WorkerConfig {
    const p = new Problems();

    for (const key of Object.keys(raw)) {
        if (!KNOWN_KEYS.includes(key)) {
            p.add(key, `is not a known key (known keys: ${KNOWN_KEYS.join(", ")})`);
        }
    }

    // Kubernetes version.
    const versionText = str(raw, "kubernetesVersion", p);
    let version: Version = { major: 1, minor: MAX_KUBERNETES_MINOR, patch: 0 };
    if (versionText !== undefined) {
        const parsed = parseVersion(versionText);
        if (!parsed || !/^v?\d+\.\d+\.\d+$/.test(versionText)) {
            p.add("kubernetesVersion", `${JSON.stringify(versionText)} is not a release version like "1.16.2"`);
        } else if (
            compareVersions(parsed, MIN_KUBERNETES) < 0 ||
            parsed.major !== 1 ||
            parsed.minor > MAX_KUBERNETES_MINOR
        ) {
            p.add(
                "kubernetesVersion",
                `${formatVersion(parsed)} is not supported (supported: 1.${MIN_KUBERNETES.minor}.x to 1.${MAX_KUBERNETES_MINOR}.x)`,
            );
        } else {
            version = parsed;
        }
    }
    const profile = profileFor(version);

    // The API server and the cluster.
    const apiServer = str(raw, "apiServer", p) ?? "";
    if (apiServer) {
        const e = checkUrl(apiServer, ["https"]);
        if (e) {
            p.add("apiServer", e);
        }
    }
    const clusterName = str(raw, "clusterName", p) ?? "";
    if (clusterName && checkNodeName(clusterName)) {
        p.add("clusterName", `${JSON.stringify(clusterName)} must be lower-case letters, digits, '-' and '.'`);
    }
    const clusterCidr = str(raw, "clusterCidr", p, "10.244.0.0/16") as string;
    const cidrError = checkCidr(clusterCidr);
    if (cidrError) {
        p.add("clusterCidr", cidrError);
    }
    let clusterDns: string[] = ["10.96.0.10"];
    const dnsRaw = raw["clusterDns"];
    if (dnsRaw !== undefined && dnsRaw !== "") {
        const list = Array.isArray(dnsRaw) ? dnsRaw : typeof dnsRaw === "string" ? dnsRaw.split(",") : [dnsRaw];
        clusterDns = list.map((v) => String(v).trim());
        clusterDns.forEach((ip, i) => {
            const e = checkIp(ip);
            if (e) {
                p.add(`clusterDns[${i}]`, e);
            }
        });
    }
    const clusterDomain = str(raw, "clusterDomain", p, "cluster.local") as string;
    if (checkNodeName(clusterDomain)) {
        p.add("clusterDomain", `${JSON.stringify(clusterDomain)} is not a DNS domain`);
    }

    const modeRaw = raw["kubeProxyMode"] ?? "ipvs";
    const kubeProxyMode = oneOf(modeRaw, ["ipvs", "iptables", "nftables"] as const) ?? "ipvs";
    if (!oneOf(modeRaw, ["ipvs", "iptables", "nftables"] as const)) {
        p.add("kubeProxyMode", `${JSON.stringify(modeRaw)} is not one of ipvs, iptables, nftables`);
    } else if (!proxyModeSupported(kubeProxyMode, version)) {
        p.add("kubeProxyMode", `${kubeProxyMode} needs Kubernetes 1.31 or newer (got ${formatVersion(version)})`);
    }

    const cgroupRaw = raw["cgroupDriver"] ?? (profile === "seed" ? "cgroupfs" : "systemd");
    const cgroupDriver = oneOf(cgroupRaw, ["systemd", "cgroupfs"] as const) ?? "systemd";
    if (!oneOf(cgroupRaw, ["systemd", "cgroupfs"] as const)) {
        p.add("cgroupDriver", `${JSON.stringify(cgroupRaw)} is not one of systemd, cgroupfs`);
    }

    const ccvRaw = raw["containerdConfigVersion"] ?? "auto";
    const containerdConfigVersion = oneOf(ccvRaw, ["auto", 1, 2, 3] as const) ?? "auto";
    if (!oneOf(ccvRaw, ["auto", 1, 2, 3] as const)) {
        p.add("containerdConfigVersion", `${JSON.stringify(ccvRaw)} is not one of auto, 1, 2, 3`);
    }

    // The CA.
    const caCertPem = str(raw, "caCertPem", p) ?? "";
    const caKeyPem = str(raw, "caKeyPem", p) ?? "";
    if (caCertPem && caKeyPem) {
        const pair = checkCaPair(caCertPem, caKeyPem, now);
        if (pair.cert) {
            p.add("caCertPem", pair.cert);
        }
        if (pair.key) {
            p.add("caKeyPem", pair.key);
        }
    }
    let caBundlePem = str(raw, "caBundlePem", p, caCertPem) as string;
    if (raw["caBundlePem"]) {
        const certs = splitPemCertificates(caBundlePem);
        if (certs.length === 0) {
            p.add("caBundlePem", "holds no PEM certificate");
        } else if (caCertPem && !certs.some((c) => c.replace(/\s+/g, "") === caCertPem.trim().replace(/\s+/g, ""))) {
            p.add("caBundlePem", "does not contain caCertPem; the bundle must hold the main CA plus its intermediates");
        }
        caBundlePem = certs.join("\n") + "\n";
    } else if (caCertPem) {
        caBundlePem = caCertPem.trim() + "\n";
    }

    // SSH.
    const sshUser = str(raw, "sshUser", p, "root") as string;
    if (!/^[a-z_][a-z0-9_-]*[$]?$/.test(sshUser)) {
        p.add("sshUser", `${JSON.stringify(sshUser)} is not a user name`);
    }
    const sshPrivateKey = str(raw, "sshPrivateKey", p) ?? "";
    if (sshPrivateKey && checkPrivateKeyPem(sshPrivateKey)) {
        p.add("sshPrivateKey", checkPrivateKeyPem(sshPrivateKey) as string);
    }

    // Bootstrap token and certificates.
    const token = str(raw, "bootstrapToken", p, "") as string;
    if (token && checkToken(token)) {
        p.add("bootstrapToken", checkToken(token) as string);
    }
    const bootstrapTokenTtlHours = num(raw, "bootstrapTokenTtlHours", p, 0, 0);
    const certValidityHours = num(raw, "certValidityHours", p, 8760, 2);
    const certRenewBeforeHours = num(raw, "certRenewBeforeHours", p, 720, 1);
    if (certRenewBeforeHours >= certValidityHours) {
        p.add(
            "certRenewBeforeHours",
            `must be less than certValidityHours (${certRenewBeforeHours} >= ${certValidityHours}), or certificates would renew on every run`,
        );
    }
    const waitForServices = bool(raw, "waitForServices", p, true);

    // API administrator credentials: both or neither.
    const adminCert = str(raw, "apiAdminCertPem", p, "") as string;
    const adminKey = str(raw, "apiAdminKeyPem", p, "") as string;
    if (adminCert && !adminKey) {
        p.add("apiAdminKeyPem", "is required when apiAdminCertPem is set");
    } else if (adminKey && !adminCert) {
        p.add("apiAdminCertPem", "is required when apiAdminKeyPem is set");
    } else if (adminCert && adminKey) {
        const pair = checkCertKeyPair(adminCert, adminKey, { ca: false, certField: "apiAdminCertPem", now });
        if (pair.cert) {
            p.add("apiAdminCertPem", pair.cert);
        }
        if (pair.key) {
            p.add("apiAdminKeyPem", pair.key);
        }
    }
    const nodeReadyTimeoutSeconds = num(raw, "nodeReadyTimeoutSeconds", p, 300, 1);
    const drainTimeoutSeconds = num(raw, "drainTimeoutSeconds", p, 120, 1);

    const downloads = validateDownloads(raw["downloads"], version, p);
    const nodes = validateNodes(raw["nodes"], p);

    if (p.list.length > 0) {
        throw new ConfigError(p.list);
    }
    return {
        kubernetesVersion: version,
        profile,
        apiServer,
        clusterName,
        clusterCidr,
        clusterDns,
        clusterDomain,
        kubeProxyMode,
        cgroupDriver,
        containerdConfigVersion,
        caCertPem: caCertPem.trim() + "\n",
        caBundlePem,
        caKeyPem: pulumi.secret(caKeyPem),
        sshUser,
        sshPrivateKey: pulumi.secret(sshPrivateKey),
        bootstrapToken: token ? pulumi.secret(token) : undefined,
        bootstrapTokenTtlHours,
        certValidityHours,
        certRenewBeforeHours,
        waitForServices,
        apiAdmin: adminCert && adminKey ? { certPem: adminCert.trim() + "\n", keyPem: pulumi.secret(adminKey) } : undefined,
        nodeReadyTimeoutSeconds,
        drainTimeoutSeconds,
        downloads,
        nodes,
    };
}

const DOWNLOAD_KEYS = ["kubernetesBaseUrl", "crictlBaseUrl", "cniBaseUrl", "crictlVersion", "cniVersion", "arch", "sha256"];
const CHECKSUM_KEYS = ["kubelet", "kube-proxy", "crictl", "cni"] as const;

function validateDownloads(rawValue: unknown, version: Version, p: Problems): DownloadConfig {
    const tools = defaultToolVersions(version);
    const out: DownloadConfig = {
        kubernetesBaseUrl: "https://dl.k8s.io/release",
        crictlBaseUrl: "https://github.com/kubernetes-sigs/cri-tools/releases/download",
        cniBaseUrl: "https://github.com/containernetworking/plugins/releases/download",
        crictlVersion: tools.crictl,
        cniVersion: tools.cni,
        arch: "amd64",
        sha256: {},
    };
    if (rawValue === undefined || rawValue === null || rawValue === "") {
        return out;
    }
    if (!isObject(rawValue)) {
        p.add("downloads", "must be an object");
        return out;
    }
    for (const key of Object.keys(rawValue)) {
        if (!DOWNLOAD_KEYS.includes(key)) {
            p.add(`downloads.${key}`, `is not a known key (known: ${DOWNLOAD_KEYS.join(", ")})`);
        }
    }
    for (const key of ["kubernetesBaseUrl", "crictlBaseUrl", "cniBaseUrl"] as const) {
        const v = rawValue[key];
        if (v === undefined) {
            continue;
        }
        const e = typeof v === "string" ? checkUrl(v, ["http", "https"]) : "must be a string";
        if (e) {
            p.add(`downloads.${key}`, e);
        } else {
            out[key] = (v as string).replace(/\/+$/, "");
        }
    }
    for (const key of ["crictlVersion", "cniVersion"] as const) {
        const v = rawValue[key];
        if (v === undefined) {
            continue;
        }
        if (typeof v !== "string" || !/^\d+\.\d+\.\d+$/.test(v.replace(/^v/, ""))) {
            p.add(`downloads.${key}`, `${JSON.stringify(v)} is not a version like "1.2.3"`);
        } else {
            out[key] = v.replace(/^v/, "");
        }
    }
    if (rawValue.arch !== undefined) {
        const arch = oneOf(rawValue.arch, ["amd64", "arm64"] as const);
        if (!arch) {
            p.add("downloads.arch", `${JSON.stringify(rawValue.arch)} is not one of amd64, arm64`);
        } else {
            out.arch = arch;
        }
    }
    const sums = rawValue.sha256;
    if (sums !== undefined) {
        if (!isObject(sums)) {
            p.add("downloads.sha256", "must be an object of artifact name to sha256");
        } else {
            for (const [k, v] of Object.entries(sums)) {
                const key = oneOf(k, CHECKSUM_KEYS);
                if (!key) {
                    p.add(`downloads.sha256.${k}`, `is not an artifact (known: ${CHECKSUM_KEYS.join(", ")})`);
                    continue;
                }
                const e = typeof v === "string" ? checkSha256(v) : "must be a string";
                if (e) {
                    p.add(`downloads.sha256.${k}`, e);
                } else {
                    out.sha256[key] = v as string;
                }
            }
        }
    }
    return out;
}

const NODE_KEYS = ["name", "fqdn", "ip", "role", "sshHost", "sshPort", "hostKey", "labels", "taints"];

function validateNodes(rawValue: unknown, p: Problems): NodeConfig[] {
    if (rawValue === undefined || rawValue === null || rawValue === "") {
        p.add("nodes", "is required: a JSON list of {name, fqdn, ip, role}");
        return [];
    }
    if (!Array.isArray(rawValue)) {
        p.add("nodes", "must be a JSON list of {name, fqdn, ip, role}");
        return [];
    }
    const nodes: NodeConfig[] = [];
    const seen = { name: new Map<string, number>(), ip: new Map<string, number>(), fqdn: new Map<string, number>() };
    rawValue.forEach((n, i) => {
        const f = (key: string) => `nodes[${i}].${key}`;
        if (!isObject(n)) {
            p.add(`nodes[${i}]`, "must be an object {name, fqdn, ip, role}");
            return;
        }
        for (const key of Object.keys(n)) {
            if (!NODE_KEYS.includes(key)) {
                p.add(f(key), `is not a known node key (known: ${NODE_KEYS.join(", ")})`);
            }
        }
        const text = (key: string, required: boolean): string | undefined => {
            const v = n[key];
            if (v === undefined || v === null || v === "") {
                if (required) {
                    p.add(f(key), "is required");
                }
                return undefined;
            }
            if (typeof v !== "string") {
                p.add(f(key), `must be a string, got ${JSON.stringify(v)}`);
                return undefined;
            }
            return v;
        };
        const name = text("name", true);
        const fqdn = text("fqdn", true);
        const ip = text("ip", true);
        const roleText = text("role", true);
        const checks: [string, string | undefined, (v: string) => string | undefined][] = [
            ["name", name, checkNodeName],
            ["fqdn", fqdn, checkFqdn],
            ["ip", ip, checkIp],
        ];
        for (const [key, value, check] of checks) {
            const e = value === undefined ? undefined : check(value);
            if (e) {
                p.add(f(key), e);
            }
        }
        const role = oneOf(roleText, ["control-plane", "worker"] as const);
        if (roleText !== undefined && !role) {
            p.add(f("role"), `${JSON.stringify(roleText)} is not a role: expected "control-plane" or "worker"`);
        }
        for (const key of ["name", "ip", "fqdn"] as const) {
            const value = key === "name" ? name : key === "ip" ? ip : fqdn;
            if (value === undefined) {
                continue;
            }
            const first = seen[key].get(value);
            if (first !== undefined) {
                p.add(f(key), `${JSON.stringify(value)} is also used by nodes[${first}]; each node needs its own ${key}`);
            } else {
                seen[key].set(value, i);
            }
        }
        const sshHost = text("sshHost", false) ?? ip ?? "";
        if (n.sshHost !== undefined && checkIp(sshHost) && checkNodeName(sshHost)) {
            p.add(f("sshHost"), `${JSON.stringify(sshHost)} is neither an IP address nor a host name`);
        }
        let sshPort = 22;
        if (n.sshPort !== undefined) {
            const port = Number(n.sshPort);
            if (!Number.isInteger(port) || port < 1 || port > 65535) {
                p.add(f("sshPort"), `${JSON.stringify(n.sshPort)} is not a TCP port (1-65535)`);
            } else {
                sshPort = port;
            }
        }
        const hostKey = text("hostKey", false);
        if (hostKey !== undefined && checkHostKey(hostKey)) {
            p.add(f("hostKey"), checkHostKey(hostKey) as string);
        }
        const labels: Record<string, string> = {};
        if (n.labels !== undefined) {
            if (!isObject(n.labels)) {
                p.add(f("labels"), "must be an object of label key to value");
            } else {
                for (const [k, v] of Object.entries(n.labels)) {
                    const e = typeof v === "string" ? checkLabel(k, v) : `label ${JSON.stringify(k)} must have a string value`;
                    if (e) {
                        p.add(f(`labels`), e);
                    } else {
                        labels[k] = v as string;
                    }
                }
            }
        }
        const taints: Taint[] = [];
        if (n.taints !== undefined) {
            if (!Array.isArray(n.taints)) {
                p.add(f("taints"), 'must be a list of "key[=value]:Effect" or {key, value, effect}');
            } else {
                n.taints.forEach((t, j) => {
                    const parsed: Taint | string =
                        typeof t === "string"
                            ? parseTaint(t)
                            : isObject(t) && typeof t.key === "string" && typeof t.effect === "string"
                              ? (checkTaint(t as unknown as Taint) ?? (t as unknown as Taint))
                              : `must be "key[=value]:Effect" or {key, value, effect}`;
                    if (typeof parsed === "string") {
                        p.add(`nodes[${i}].taints[${j}]`, parsed);
                    } else {
                        taints.push({ key: parsed.key, effect: parsed.effect, ...(parsed.value ? { value: parsed.value } : {}) });
                    }
                });
            }
        }
        if (role === "control-plane" && !taints.some((t) => t.key === CONTROL_PLANE_TAINT.key)) {
            taints.unshift({ ...CONTROL_PLANE_TAINT });
        }
        if (name && fqdn && ip && role) {
            nodes.push({ name, fqdn, ip, role, sshHost, sshPort, hostKey: hostKey?.trim(), labels, taints });
        }
    });
    if (rawValue.length === 0) {
        p.add("nodes", "is empty: list at least one node");
    }
    return nodes;
}

/**
 * Reads the raw values of the `hardway-workers` namespace from the Pulumi
 * runtime. Secret values are read as plain text here only to validate them;
 * validateConfig wraps them as secrets again.
 */
export function readRawConfig(): RawConfig {
    const raw: RawConfig = {};
    const all = pulumi.runtime.allConfig();
    const problems = new Problems();
    for (const [fullKey, value] of Object.entries(all)) {
        const [ns, key] = splitKey(fullKey);
        if (ns !== NAMESPACE) {
            continue;
        }
        if (JSON_KEYS.has(key) && typeof value === "string") {
            try {
                raw[key] = JSON.parse(value);
            } catch (e) {
                if (key === "clusterDns") {
                    raw[key] = value;
                } else {
                    problems.add(key, `is not valid JSON (${(e as Error).message})`);
                }
            }
        } else {
            raw[key] = value;
        }
    }
    if (problems.list.length > 0) {
        throw new ConfigError(problems.list);
    }
    // The names of the secret config keys, as the runtime holds them (the
    // engine passes them in PULUMI_CONFIG_SECRET_KEYS; setAllConfig sets them).
    const secretKeys: string[] = JSON.parse(secretKeysText() ?? "[]");
    for (const key of SECRET_KEYS) {
        if (raw[key] !== undefined && !secretKeys.includes(`${NAMESPACE}:${key}`)) {
            pulumi.log.warn(`${NAMESPACE}:${key} is stored in plain text; set it with 'pulumi config set --secret ${key}'`);
        }
    }
    return raw;
}

function secretKeysText(): string | undefined {
    try {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const state = require("@pulumi/pulumi/runtime/state") as { getStore(): { config: Record<string, string | undefined> } };
        return state.getStore().config["PULUMI_CONFIG_SECRET_KEYS"] ?? process.env["PULUMI_CONFIG_SECRET_KEYS"];
    } catch {
        return process.env["PULUMI_CONFIG_SECRET_KEYS"];
    }
}

function splitKey(fullKey: string): [string, string] {
    const i = fullKey.indexOf(":");
    return i < 0 ? ["", fullKey] : [fullKey.slice(0, i), fullKey.slice(i + 1).replace(/^config:/, "")];
}

/** Reads and validates the stack config; throws a RunError that names each bad field. */
export function loadConfig(): WorkerConfig {
    try {
        return validateConfig(readRawConfig());
    } catch (e) {
        if (e instanceof ConfigError) {
            throw new pulumi.RunError(e.message);
        }
        throw e;
    }
}
