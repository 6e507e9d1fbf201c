/**
 * One command over SSH with `ssh2`, for the dynamic providers that look at a
 * node (the drift check). It connects as the program's remote commands do:
 * the same user and key, and the host key pinned when the config gives one
 * (the command provider ignores host keys otherwise, and so does this). The
 * private key is only handed to ssh2; no message ever includes it.
 */
import { Client, ConnectConfig } from "ssh2";

/** How to reach a node: the fields of the remote commands' connection that matter here. */
export interface SshTarget {
    host: string;
    port?: number;
    user?: string;
    privateKey: string;
    /** `<type> <base64>` (authorized_keys / known_hosts form, an optional comment after it). */
    hostKey?: string;
}

export interface SshResult {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** The host key algorithms to offer for a pinned key of this type (so that the server shows that key). */
export function hostKeyAlgorithms(type: string): string[] {
    return type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type];
}

/** A pinned host key: its type and the key blob the server must present. */
export function parseHostKey(line: string): { type: string; blob: Buffer } {
    const [type, b64] = line.trim().split(/\s+/);
    if (!type || !b64 || !/^[A-Za-z0-9+/]+=*$/.test(b64)) {
        throw new Error(`the pinned host key is not "<type> <base64>": ${JSON.stringify(line.slice(0, 40))}`);
    }
    return { type, blob: Buffer.from(b64, "base64") };
}

/** TEXT as one word of a POSIX shell command line. */
export function shellQuote(text: string): string {
    return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `user@host:port`, for messages. */
export function addressOf(t: SshTarget): string {
    return `${t.user ?? "root"}@${t.host}:${t.port ?? 22}`;
}

/**
 * Runs `command` (through the login shell, as the remote commands do) and
 * resolves with its exit status and output. Rejects when the node cannot be
 * reached or authenticated within `connectTimeoutMs`, when its host key is
 * not the pinned one, or when the command runs longer than `commandTimeoutMs`.
 */
export function sshExec(t: SshTarget, command: string, connectTimeoutMs = 15_000, commandTimeoutMs = 120_000): Promise<SshResult> {
    const pinned = t.hostKey ? parseHostKey(t.hostKey) : undefined;
    return new Promise((resolve, reject) => {
        const client = new Client();
        let settled = false;
        let timer: NodeJS.Timeout | undefined;
        const finish = (err: Error | undefined, r?: SshResult) => {
            if (settled) {
                return;
            }
            settled = true;
            if (timer) {
                clearTimeout(timer);
            }
            client.end();
            if (err) {
                reject(err);
            } else {
                resolve(r!);
            }
        };
        client.on("ready", () => {
            timer = setTimeout(() => finish(new Error(`the command did not finish within ${commandTimeoutMs / 1000}s`)), commandTimeoutMs);
            client.exec(command, (err, stream) => {
                if (err) {
                    return finish(err);
                }
                let stdout = "";
                let stderr = "";
                let code: number | null = null;
                stream.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
                stream.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
                stream.on("exit", (c: number | null) => (code = c));
                stream.on("close", () => finish(undefined, { code, stdout, stderr }));
                stream.end();
            });
        });
        client.on("error", (e: Error & { level?: string }) => {
            const why = e.level === "client-authentication" ? `authentication as ${t.user ?? "root"} failed` : e.message;
            finish(new Error(why));
        });
        client.on("close", () => finish(new Error("the connection closed before the command finished")));
        const config: ConnectConfig = {
            host: t.host,
            port: t.port ?? 22,
            username: t.user ?? "root",
            privateKey: t.privateKey,
            readyTimeout: connectTimeoutMs,
            keepaliveInterval: 10_000,
            ...(pinned
                ? {
                      algorithms: { serverHostKey: hostKeyAlgorithms(pinned.type) as any },
                      hostVerifier: (key: Buffer) => key.equals(pinned.blob),
                  }
                : {}),
        };
        try {
            client.connect(config);
        } catch (e) {
            finish(e as Error);
        }
    });
}
