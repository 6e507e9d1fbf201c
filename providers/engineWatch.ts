/**
 * The dynamic provider host that runs this program's providers (the SDK's
 * `dynamic-provider`, which the engine starts with its address) does not
 * notice when the engine dies: after a killed `pulumi up` it would run on,
 * orphaned. Once one of our providers is loaded in it, it checks every 10
 * seconds that the engine still accepts connections, and exits when not,
 * as the Go plugins do (rpcutil.Healthcheck).
 */
import * as net from "net";

let watching = false;

/** The engine's address when this process is the engine's dynamic provider host, else undefined. */
export function engineAddressOf(argv: string[]): { host: string; port: number } | undefined {
    if (!/dynamic-provider/.test(argv[1] ?? "")) {
        return undefined;
    }
    const m = /^(.+):(\d+)$/.exec(argv[2] ?? "");
    return m ? { host: m[1], port: Number(m[2]) } : undefined;
}

export function watchEngine(argv = process.argv, intervalMs = 10_000): void {
    const engine = engineAddressOf(argv);
    if (watching || !engine) {
        return;
    }
    watching = true;
    const timer = setInterval(() => {
        const socket = net.connect(engine.port, engine.host);
        socket.on("connect", () => socket.destroy());
        socket.on("error", () => {
            process.stderr.write(`hardway-workers: the engine at ${engine.host}:${engine.port} is gone; the dynamic provider host exits\n`);
            process.exit(1);
        });
    }, intervalMs);
    timer.unref();
}
