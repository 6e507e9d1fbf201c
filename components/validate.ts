/**
 * Small, pure validators for the stack config. Each returns an error text
 * (without the field name) or undefined; config.ts names the field.
 */
import * as ipaddr from "ipaddr.js";
import * as crypto from "crypto";
import * as forge from "node-forge";
import { Taint, TaintEffect } from "./kube/taints";

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
    if ((prefix && checkNodeName(prefix)) || !QUALIFIED_NAME_RE.test(name)) {
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
