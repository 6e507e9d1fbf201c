/**
 * Real X.509 for tests, made with node-forge: a throwaway CA, and the
 * key / CSR / certificate operations that the @pulumi/tls mocks perform.
 */
import * as crypto from "crypto";
import * as forge from "node-forge";

export interface TestCa {
    certPem: string;
    keyPem: string;
}

export function rsaKeyPem(): string {
    const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    return privateKey.export({ type: "pkcs1", format: "pem" }).toString();
}

function serial(): string {
    // Positive, 16 bytes.
    return "01" + crypto.randomBytes(15).toString("hex");
}

export function makeCa(commonName = "hardway-test-ca", keyPem = rsaKeyPem(), opts: { isCa?: boolean; notAfter?: Date } = {}): TestCa {
    const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.rsa.setPublicKey(key.n, key.e);
    cert.serialNumber = serial();
    cert.validity.notBefore = new Date(Date.now() - 3600 * 1000);
    cert.validity.notAfter = opts.notAfter ?? new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
    const attrs = [{ name: "commonName", value: commonName }];
    cert.setSubject(attrs);
    cert.setIssuer(attrs);
    const isCa = opts.isCa ?? true;
    cert.setExtensions([
        { name: "basicConstraints", cA: isCa, critical: true },
        isCa ? { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true } : { name: "keyUsage", digitalSignature: true },
        { name: "subjectKeyIdentifier" },
    ]);
    cert.sign(key, forge.md.sha256.create());
    return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

export interface CsrInput {
    privateKeyPem: string;
    commonName: string;
    organization?: string;
    dnsNames?: string[];
    ipAddresses?: string[];
}

export function makeCsr(input: CsrInput): string {
    const key = forge.pki.privateKeyFromPem(input.privateKeyPem) as forge.pki.rsa.PrivateKey;
    const csr = forge.pki.createCertificationRequest();
    csr.publicKey = forge.pki.rsa.setPublicKey(key.n, key.e);
    const subject: forge.pki.CertificateField[] = [{ name: "commonName", value: input.commonName }];
    if (input.organization) {
        subject.push({ name: "organizationName", value: input.organization });
    }
    csr.setSubject(subject);
    const altNames = [
        ...(input.dnsNames ?? []).map((value) => ({ type: 2, value })),
        ...(input.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
    ];
    if (altNames.length > 0) {
        csr.setAttributes([{ name: "extensionRequest", extensions: [{ name: "subjectAltName", altNames }] }]);
    }
    csr.sign(key, forge.md.sha256.create());
    return forge.pki.certificationRequestToPem(csr);
}

/** Signs a CSR the way tls.LocallySignedCert does, honouring allowedUses. */
export function signCsr(csrPem: string, ca: TestCa, allowedUses: string[], validityHours: number): string {
    const csr = forge.pki.certificationRequestFromPem(csrPem);
    if (!csr.verify()) {
        throw new Error("CSR signature does not verify");
    }
    const caCert = forge.pki.certificateFromPem(ca.certPem);
    const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
    const cert = forge.pki.createCertificate();
    cert.publicKey = csr.publicKey as forge.pki.PublicKey;
    cert.serialNumber = serial();
    cert.validity.notBefore = new Date();
    cert.validity.notAfter = new Date(Date.now() + validityHours * 3600 * 1000);
    cert.setSubject(csr.subject.attributes);
    cert.setIssuer(caCert.subject.attributes);
    const requested = (csr.getAttribute({ name: "extensionRequest" }) as { extensions?: any[] } | null)?.extensions ?? [];
    const uses = new Set(allowedUses);
    cert.setExtensions([
        { name: "basicConstraints", cA: false, critical: true },
        {
            name: "keyUsage",
            critical: true,
            digitalSignature: uses.has("digital_signature"),
            keyEncipherment: uses.has("key_encipherment"),
        },
        { name: "extKeyUsage", serverAuth: uses.has("server_auth"), clientAuth: uses.has("client_auth") },
        { name: "authorityKeyIdentifier", keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
        ...requested.filter((e) => e.name === "subjectAltName"),
    ]);
    cert.sign(caKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
    return forge.pki.certificateToPem(cert);
}
