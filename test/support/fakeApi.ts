/** A scripted Kubernetes API server over real TLS, requiring a client certificate from the test CA. */
import * as https from "https";
import { AddressInfo } from "net";
import { ApiAccess } from "../../providers/kubeApi";
import { makeCsr, rsaKeyPem, signCsr } from "./pki";
import { testCa } from "./program";

export interface Seen {
    method: string;
    path: string;
    contentType?: string;
    accept?: string;
    contentLength?: string;
    body: any;
    clientCn?: string;
}

/** An answer: `body` as JSON, or `raw` text as it is; `hang` never answers. */
export type Handler = (req: Seen) => { status: number; body?: unknown; raw?: string; hang?: boolean };

/** An HTTPS server that requires a client certificate from the test CA and answers from `handler`. */
export async function fakeApi(handler: Handler): Promise<{ access: ApiAccess; seen: Seen[]; close(): Promise<void> }> {
    const ca = testCa();
    const serverKey = rsaKeyPem();
    const serverCert = signCsr(makeCsr({ privateKeyPem: serverKey, commonName: "api", ipAddresses: ["127.0.0.1"] }), ca, ["server_auth", "digital_signature", "key_encipherment"], 1);
    const clientKey = rsaKeyPem();
    const clientCert = signCsr(makeCsr({ privateKeyPem: clientKey, commonName: "admin", organization: "system:masters" }), ca, ["client_auth", "digital_signature"], 1);
    const seen: Seen[] = [];
    const server = https.createServer({ key: serverKey, cert: serverCert, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
        let text = "";
        req.on("data", (d) => (text += d));
        req.on("end", () => {
            const peer = (req.socket as any).getPeerCertificate();
            const s: Seen = {
                method: req.method!,
                path: req.url!,
                contentType: req.headers["content-type"],
                accept: req.headers["accept"],
                contentLength: req.headers["content-length"],
                body: text ? JSON.parse(text) : undefined,
                clientCn: peer?.subject?.CN,
            };
            seen.push(s);
            const r = handler(s);
            if (r.hang) {
                return;
            }
            res.writeHead(r.status, { "Content-Type": "application/json" });
            res.end(r.raw ?? JSON.stringify(r.body ?? {}));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return {
        access: { server: `https://127.0.0.1:${port}`, caPem: ca.certPem, certPem: clientCert, keyPem: clientKey },
        seen,
        close: () =>
            new Promise((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

