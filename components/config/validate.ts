/**
 * Validation of the stack config (namespace `hardway-workers`): the keys are
 * the schema's (schema.ts), unset keys take their defaults (defaults.ts).
 *
 * `validateConfig` is pure: raw values in, a typed config or a ConfigError
 * that names every bad field out. read.ts reads the raw values from the
 * Pulumi runtime, so that bad input fails `pulumi preview` before any
 * resource is registered. The small validators below return an error text
 * (without the field name) or undefined; validateConfig names the field.
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as ipaddr from "ipaddr.js";
import * as forge from "node-forge";
import { CONTROL_PLANE_TAINT, Taint, TaintEffect } from "../kube/taints";
import {
    MAX_KUBERNETES_MINOR,
    MIN_KUBERNETES,
    Version,
    atLeast,
    compareVersions,
    formatVersion,
    parseVersion,
    profileFor,
    proxyModeSupported,
} from "../kube/versions";
import { checkStackName } from "./controlPlane";
import { DEFAULTS, NODE_DEFAULTS, defaultCgroupDriver, defaultDownloads, defaultPackageRepos } from "./defaults";
import { CONFIG_SCHEMA, KNOWN_KEYS, NAMESPACE } from "./schema";
import type { DownloadConfig, NodeConfig, PackageRepos, RawConfig, RpmRepo, WorkerConfig } from "./types";

/** Every bad field, each message starting with its `hardway-workers:<path>`. */
export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(`invalid stack config:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

/** Collects problems, each prefixed with its field. */
export class Problems {
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

type IntegerKey = {
    [K in keyof typeof CONFIG_SCHEMA]: (typeof CONFIG_SCHEMA)[K] extends { kind: "integer" } ? K : never;
}[keyof typeof CONFIG_SCHEMA];

/** An integer key: the schema's default when unset, at least the schema's minimum. */
function integer(raw: RawConfig, key: IntegerKey, p: Problems): number {
    const { default: fallback, min } = CONFIG_SCHEMA[key];
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
    const clusterCidr = str(raw, "clusterCidr", p, DEFAULTS.clusterCidr) as string;
    const cidrError = checkCidr(clusterCidr);
    if (cidrError) {
        p.add("clusterCidr", cidrError);
    }
    let clusterDns: string[] = [...DEFAULTS.clusterDns];
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
    const clusterDomain = str(raw, "clusterDomain", p, DEFAULTS.clusterDomain) as string;
    if (checkNodeName(clusterDomain)) {
        p.add("clusterDomain", `${JSON.stringify(clusterDomain)} is not a DNS domain`);
    }

    const modeRaw = raw["kubeProxyMode"] ?? DEFAULTS.kubeProxyMode;
    const modes = CONFIG_SCHEMA.kubeProxyMode.values;
    const kubeProxyMode = oneOf(modeRaw, modes) ?? DEFAULTS.kubeProxyMode;
    if (!oneOf(modeRaw, modes)) {
        p.add("kubeProxyMode", `${JSON.stringify(modeRaw)} is not one of ${modes.join(", ")}`);
    } else if (!proxyModeSupported(kubeProxyMode, version)) {
        p.add("kubeProxyMode", `${kubeProxyMode} needs Kubernetes 1.31 or newer (got ${formatVersion(version)})`);
    }

    const cgroupRaw = raw["cgroupDriver"] ?? defaultCgroupDriver(profile);
    const drivers = CONFIG_SCHEMA.cgroupDriver.values;
    const cgroupDriver = oneOf(cgroupRaw, drivers) ?? "systemd";
    if (!oneOf(cgroupRaw, drivers)) {
        p.add("cgroupDriver", `${JSON.stringify(cgroupRaw)} is not one of ${drivers.join(", ")}`);
    }

    const ccvRaw = raw["containerdConfigVersion"] ?? DEFAULTS.containerdConfigVersion;
    const ccvs = CONFIG_SCHEMA.containerdConfigVersion.values;
    const containerdConfigVersion = oneOf(ccvRaw, ccvs) ?? DEFAULTS.containerdConfigVersion;
    if (!oneOf(ccvRaw, ccvs)) {
        p.add("containerdConfigVersion", `${JSON.stringify(ccvRaw)} is not one of ${ccvs.join(", ")}`);
    }

    // The CA; the bundle defaults to the CA certificate.
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
    const sshUser = str(raw, "sshUser", p, DEFAULTS.sshUser) as string;
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
    const bootstrapTokenTtlHours = integer(raw, "bootstrapTokenTtlHours", p);
    const certValidityHours = integer(raw, "certValidityHours", p);
    const certRenewBeforeHours = integer(raw, "certRenewBeforeHours", p);
    if (certRenewBeforeHours >= certValidityHours) {
        p.add(
            "certRenewBeforeHours",
            `must be less than certValidityHours (${certRenewBeforeHours} >= ${certValidityHours}), or certificates would renew on every run`,
        );
    }
    const waitForServices = bool(raw, "waitForServices", p, DEFAULTS.waitForServices);
    const rollout = validateRollout(raw["rollout"], p);
    const failCgroupV1 = raw["failCgroupV1"] === undefined ? undefined : bool(raw, "failCgroupV1", p, true);
    if (failCgroupV1 !== undefined && version && !atLeast(version, 1, 31)) {
        p.add("failCgroupV1", `needs Kubernetes 1.31 or newer: the kubelet of ${formatVersion(version)} has no such setting`);
    }

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
    const nodeReadyTimeoutSeconds = integer(raw, "nodeReadyTimeoutSeconds", p);
    const drainTimeoutSeconds = integer(raw, "drainTimeoutSeconds", p);

    // The control plane's stack (read.ts has merged its outputs in already).
    const controlPlaneStack = str(raw, "controlPlaneStack", p, "") as string;
    if (controlPlaneStack && checkStackName(controlPlaneStack)) {
        p.add("controlPlaneStack", checkStackName(controlPlaneStack) as string);
    }

    const downloads = validateDownloads(raw["downloads"], version, p);
    const packageRepos = validatePackageRepos(raw["packageRepos"], p);
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
        rollout,
        ...(failCgroupV1 === undefined ? {} : { failCgroupV1 }),
        apiAdmin: adminCert && adminKey ? { certPem: adminCert.trim() + "\n", keyPem: pulumi.secret(adminKey) } : undefined,
        nodeReadyTimeoutSeconds,
        drainTimeoutSeconds,
        downloads,
        packageRepos,
        nodes,
    };
}

const DOWNLOAD_KEYS = ["kubernetesBaseUrl", "crictlBaseUrl", "cniBaseUrl", "crictlVersion", "cniVersion", "arch", "sha256"];
const CHECKSUM_KEYS = ["kubelet", "kube-proxy", "crictl", "cni"] as const;

function validateDownloads(rawValue: unknown, version: Version, p: Problems): DownloadConfig {
    const out: DownloadConfig = defaultDownloads(version);
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

const PACKAGE_REPO_FAMILIES = ["rhel"];
const RPM_REPO_KEYS = ["id", "name", "baseUrl", "gpgKey"] as const;

/** packageRepos: each family's repository, field by field over the default; rhel: null writes none. */
function validatePackageRepos(rawValue: unknown, p: Problems): PackageRepos {
    const out = defaultPackageRepos();
    if (rawValue === undefined || rawValue === null || rawValue === "") {
        return out;
    }
    if (!isObject(rawValue)) {
        p.add("packageRepos", "must be an object {rhel}");
        return out;
    }
    for (const key of Object.keys(rawValue)) {
        if (!PACKAGE_REPO_FAMILIES.includes(key)) {
            p.add(`packageRepos.${key}`, `is not a known key (known: ${PACKAGE_REPO_FAMILIES.join(", ")})`);
        }
    }
    const rhel = rawValue.rhel;
    if (rhel === undefined) {
        return out;
    }
    if (rhel === null) {
        out.rhel = null;
        return out;
    }
    if (!isObject(rhel)) {
        p.add("packageRepos.rhel", "must be an object {id, name, baseUrl, gpgKey}, or null for the host's own repositories");
        return out;
    }
    for (const key of Object.keys(rhel)) {
        if (!(RPM_REPO_KEYS as readonly string[]).includes(key)) {
            p.add(`packageRepos.rhel.${key}`, `is not a known key (known: ${RPM_REPO_KEYS.join(", ")})`);
        }
    }
    const repo = out.rhel as RpmRepo;
    for (const key of RPM_REPO_KEYS) {
        const v = rhel[key];
        if (v === undefined) {
            continue;
        }
        const e = typeof v === "string" ? checkRpmRepoField(key, v) : `must be a string, got ${JSON.stringify(v)}`;
        if (e) {
            p.add(`packageRepos.rhel.${key}`, e);
        } else {
            repo[key] = v as string;
        }
    }
    return out;
}

/** One field of a `.repo` file: one line of text; the id also names the file; the URLs are http(s), the key may be a local file. */
export function checkRpmRepoField(key: (typeof RPM_REPO_KEYS)[number], value: string): string | undefined {
    if (value === "" || /[\u0000-\u001f\u007f]/.test(value)) {
        return `${JSON.stringify(value)} must be one line of text, not empty`;
    }
    switch (key) {
        case "id":
            return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value) ? undefined : `${JSON.stringify(value)} is not a repository id (letters, digits, '.', '_' and '-')`;
        case "name":
            return undefined;
        case "baseUrl":
            return /\s/.test(value) ? `${JSON.stringify(value)} is not a URL` : checkUrl(value, ["http", "https"]);
        case "gpgKey":
            if (/^file:\/\/\/\S+$/.test(value)) {
                return undefined;
            }
            return /\s/.test(value) ? `${JSON.stringify(value)} is not a URL` : checkUrl(value, ["http", "https"]);
    }
}

const NODE_KEYS = ["name", "fqdn", "ip", "role", "sshHost", "sshPort", "hostKey", "labels", "taints", "forgetOldHost"];

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
        let sshPort: number = NODE_DEFAULTS.sshPort;
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
        const forgetText = text("forgetOldHost", false);
        const forgetOldHost = forgetText === undefined ? undefined : parseOldHost(forgetText, sshPort);
        if (typeof forgetOldHost === "object") {
            p.add(f("forgetOldHost"), forgetOldHost.error);
        } else if (forgetOldHost !== undefined && forgetOldHost === `${sshHost}:${sshPort}`) {
            p.add(f("forgetOldHost"), `${JSON.stringify(forgetText)} is the node's current address; name the old one`);
        }
        if (name && fqdn && ip && role) {
            nodes.push({
                name,
                fqdn,
                ip,
                role,
                sshHost,
                sshPort,
                hostKey: hostKey?.trim(),
                labels,
                taints,
                ...(typeof forgetOldHost === "string" ? { forgetOldHost } : {}),
            });
        }
    });
    if (rawValue.length === 0) {
        p.add("nodes", "is empty: list at least one node");
    }
    return nodes;
}

// The small validators: each returns an error text without the field name, or undefined.

/** rollout: `{maxUnavailable: N | "P%"}`, default `{maxUnavailable: 1}`. */
export function validateRollout(value: unknown, p: Problems): { maxUnavailable: number | string } {
    const fallback = { maxUnavailable: 1 };
    if (value === undefined || value === null || value === "") {
        return fallback;
    }
    if (!isObject(value)) {
        p.add("rollout", 'must be an object {maxUnavailable: N | "P%"}');
        return fallback;
    }
    for (const key of Object.keys(value)) {
        if (key !== "maxUnavailable") {
            p.add(`rollout.${key}`, "is not a known rollout key (known: maxUnavailable)");
        }
    }
    const m = value.maxUnavailable;
    if (m === undefined) {
        return fallback;
    }
    if (typeof m === "number" && Number.isInteger(m) && m >= 1) {
        return { maxUnavailable: m };
    }
    if (typeof m === "string" && /^\d+%$/.test(m) && Number(m.slice(0, -1)) >= 1 && Number(m.slice(0, -1)) <= 100) {
        return { maxUnavailable: m };
    }
    p.add("rollout.maxUnavailable", `${JSON.stringify(m)} is neither a whole number of nodes (1 or more) nor a percentage ("1%" to "100%")`);
    return fallback;
}

/**
 * A node's old address, `host` or `host:port` (an IPv6 address as `[addr]:port`
 * or bare), as `host:port` (the port defaults to the node's sshPort).
 */
export function parseOldHost(value: string, defaultPort: number): string | { error: string } {
    const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(value);
    const plain = /^([^:\s]+)(?::(\d+))?$/.exec(value);
    const [host, portText] = bracketed ? [bracketed[1], bracketed[2]] : plain ? [plain[1], plain[2]] : [value, undefined];
    if (checkIp(host) && (bracketed || checkNodeName(host))) {
        return { error: `${JSON.stringify(value)} is not an address: expected host or host:port, the node's old sshHost and sshPort` };
    }
    const port = portText === undefined ? defaultPort : Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
        return { error: `${JSON.stringify(value)} has no valid TCP port (1-65535)` };
    }
    return `${host}:${port}`;
}

export function checkIp(value: string): string | undefined {
    if (!ipaddr.isValid(value) || !(ipaddr.IPv4.isValidFourPartDecimal(value) || ipaddr.IPv6.isValid(value))) {
        return `${JSON.stringify(value)} is not a valid IPv4 or IPv6 address`;
    }
    return undefined;
}

export function checkCidr(value: string): string | undefined {
    let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
    try {
        parsed = ipaddr.parseCIDR(value);
    } catch {
        return `${JSON.stringify(value)} is not a valid CIDR (expected e.g. "10.244.0.0/16")`;
    }
    const [addr, bits] = parsed;
    if (addr.kind() === "ipv4" && !ipaddr.IPv4.isValidFourPartDecimal(value.split("/")[0])) {
        return `${JSON.stringify(value)} is not a valid CIDR (expected e.g. "10.244.0.0/16")`;
    }
    const network =
        addr.kind() === "ipv4"
            ? ipaddr.IPv4.networkAddressFromCIDR(value).toString()
            : ipaddr.IPv6.networkAddressFromCIDR(value).toString();
    if (network !== addr.toString()) {
        return `${JSON.stringify(value)} has host bits set; did you mean "${network}/${bits}"?`;
    }
    return undefined;
}

const LABEL_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** An RFC 1123 host name with at least two labels, e.g. `worker1.example.com`. */
export function checkFqdn(value: string): string | undefined {
    const name = value.endsWith(".") ? value.slice(0, -1) : value;
    const labels = name.split(".");
    if (name.length > 253 || labels.length < 2 || !labels.every((l) => LABEL_RE.test(l))) {
        return `${JSON.stringify(value)} is not a fully qualified domain name (lower-case RFC 1123 labels joined by dots, e.g. "worker1.example.com")`;
    }
    return undefined;
}

/** A node name as Kubernetes accepts it: an RFC 1123 subdomain. */
export function checkNodeName(value: string): string | undefined {
    if (value.length > 253 || !value.split(".").every((l) => LABEL_RE.test(l))) {
        return `${JSON.stringify(value)} is not a valid node name (lower-case letters, digits, '-' and '.')`;
    }
    return undefined;
}

export const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

export function checkToken(value: string): string | undefined {
    if (!TOKEN_RE.test(value)) {
        return `is not a bootstrap token: expected 6 then 16 characters of [a-z0-9] joined by a dot, like "abcdef.0123456789abcdef"`;
    }
    return undefined;
}

const HOST_KEY_RE =
    /^(ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+=*( .*)?$/;

export function checkHostKey(value: string): string | undefined {
    if (!HOST_KEY_RE.test(value.trim())) {
        return `is not an SSH public host key line (expected e.g. "ssh-ed25519 AAAAC3Nza…")`;
    }
    return undefined;
}

export function checkUrl(value: string, schemes: string[]): string | undefined {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return `${JSON.stringify(value)} is not a URL`;
    }
    if (!schemes.includes(url.protocol.replace(/:$/, ""))) {
        return `${JSON.stringify(value)} must use ${schemes.join(" or ")}`;
    }
    if (!url.hostname) {
        return `${JSON.stringify(value)} has no host`;
    }
    return undefined;
}

export function checkSha256(value: string): string | undefined {
    return /^[0-9a-f]{64}$/.test(value) ? undefined : `${JSON.stringify(value)} is not a lower-case hex sha256`;
}

export function checkPrivateKeyPem(value: string): string | undefined {
    if (!/-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/.test(value)) {
        return "is not a PEM private key";
    }
    return undefined;
}

/** Splits a PEM bundle into its certificates. */
export function splitPemCertificates(bundle: string): string[] {
    return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * Checks that `certPem` is a CA certificate whose public key matches
 * `keyPem`. RSA keys are compared with node-forge (modulus and exponent);
 * node-forge has no EC support, so other key types are compared by their
 * SubjectPublicKeyInfo through Node's crypto.
 */
export function checkCaPair(certPem: string, keyPem: string, now: Date = new Date()): { cert?: string; key?: string } {
    return checkCertKeyPair(certPem, keyPem, { ca: true, certField: "caCertPem", now });
}

/**
 * A certificate and its private key: the certificate parses, is in date (and
 * is a CA when `ca`), and the key is the certificate's key.
 */
export function checkCertKeyPair(
    certPem: string,
    keyPem: string,
    opts: { ca: boolean; certField: string; now?: Date },
): { cert?: string; key?: string } {
    const now = opts.now ?? new Date();
    let x509: crypto.X509Certificate;
    try {
        x509 = new crypto.X509Certificate(certPem);
    } catch (e) {
        return { cert: `is not a PEM certificate (${(e as Error).message})` };
    }
    if (opts.ca && !x509.ca) {
        return { cert: `is not a CA certificate (basicConstraints CA:TRUE is missing): ${x509.subject.replace(/\n/g, ", ")}` };
    }
    if (new Date(x509.validTo).getTime() <= now.getTime()) {
        return { cert: `expired on ${new Date(x509.validTo).toISOString()}` };
    }
    let privateKey: crypto.KeyObject;
    try {
        privateKey = crypto.createPrivateKey(keyPem);
    } catch (e) {
        return { key: `is not a readable PEM private key (${(e as Error).message})` };
    }
    let matches: boolean;
    if (privateKey.asymmetricKeyType !== x509.publicKey.asymmetricKeyType) {
        matches = false;
    } else if (privateKey.asymmetricKeyType === "rsa") {
        const forgeCert = forge.pki.certificateFromPem(certPem);
        const certKey = forgeCert.publicKey as forge.pki.rsa.PublicKey;
        const rsaPem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
        const forgeKey = forge.pki.privateKeyFromPem(rsaPem);
        matches = certKey.n !== undefined && certKey.n.equals(forgeKey.n) && certKey.e.equals(forgeKey.e);
    } else {
        const fromKey = crypto.createPublicKey(privateKey).export({ type: "spki", format: "der" });
        const fromCert = x509.publicKey.export({ type: "spki", format: "der" });
        matches = Buffer.compare(fromKey, fromCert) === 0;
    }
    if (!matches) {
        return { key: `does not match ${opts.certField}: the certificate was not made from this key` };
    }
    return {};
}

/**
 * Node labels that a kubelet may set on itself. Since 1.16 the kubelet
 * refuses `--node-labels` in the kubernetes.io / k8s.io namespaces except
 * these (kubernetes/enhancements KEP-0000 "node restriction labels").
 */
const KUBELET_ALLOWED_LABELS = new Set([
    "kubernetes.io/hostname",
    "kubernetes.io/instance-type",
    "kubernetes.io/os",
    "kubernetes.io/arch",
    "beta.kubernetes.io/instance-type",
    "beta.kubernetes.io/os",
    "beta.kubernetes.io/arch",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "node.kubernetes.io/instance-type",
]);

const QUALIFIED_NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/;

export function checkLabel(key: string, value: string): string | undefined {
    const slash = key.lastIndexOf("/");
    const prefix = slash >= 0 ? key.slice(0, slash) : "";
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    if ((slash >= 0 && checkNodeName(prefix)) || !QUALIFIED_NAME_RE.test(name)) {
        return `label key ${JSON.stringify(key)} is not a valid label key`;
    }
    if (value !== "" && !QUALIFIED_NAME_RE.test(value)) {
        return `label ${JSON.stringify(key)} has an invalid value ${JSON.stringify(value)}`;
    }
    const restricted = /(^|\.)(kubernetes\.io|k8s\.io)$/.test(prefix);
    const allowed =
        KUBELET_ALLOWED_LABELS.has(key) ||
        /(^|\.)kubelet\.kubernetes\.io$/.test(prefix) ||
        /(^|\.)node\.kubernetes\.io$/.test(prefix);
    if (restricted && !allowed) {
        return `label ${JSON.stringify(key)} is in the kubernetes.io/k8s.io namespace, which a kubelet may not set on itself (use e.g. "node.kubernetes.io/…" or a domain of your own)`;
    }
    return undefined;
}

/** Parses `key=value:Effect` or `key:Effect`. */
export function parseTaint(text: string): Taint | string {
    const m = /^([^=:\s]+)(?:=([^:\s]*))?:(\w+)$/.exec(text);
    if (!m) {
        return `taint ${JSON.stringify(text)} is not of the form key[=value]:Effect`;
    }
    const taint: Taint = { key: m[1], effect: m[3] as TaintEffect };
    if (m[2] !== undefined && m[2] !== "") {
        taint.value = m[2];
    }
    return checkTaint(taint) ?? taint;
}

export function checkTaint(t: Taint): string | undefined {
    if (!["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(t.effect)) {
        return `taint ${JSON.stringify(t.key)} has effect ${JSON.stringify(t.effect)}; expected NoSchedule, PreferNoSchedule or NoExecute`;
    }
    const slash = t.key.lastIndexOf("/");
    const name = slash >= 0 ? t.key.slice(slash + 1) : t.key;
    if ((slash >= 0 && checkNodeName(t.key.slice(0, slash))) || !QUALIFIED_NAME_RE.test(name)) {
        return `taint key ${JSON.stringify(t.key)} is not a valid key`;
    }
    if (t.value !== undefined && t.value !== "" && !QUALIFIED_NAME_RE.test(t.value)) {
        return `taint ${JSON.stringify(t.key)} has an invalid value ${JSON.stringify(t.value)}`;
    }
    return undefined;
}
