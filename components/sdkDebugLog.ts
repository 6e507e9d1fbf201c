/**
 * The Node.js SDK sends the engine a debug message for each step of each
 * resource registration, and the one for a finished RegisterResource holds
 * the engine's whole response: every output, secrets in plain text (a
 * RandomPassword's result, the bootstrap token, private keys). The engine
 * puts debug messages into its event stream (`--event-log`, the Automation
 * API's events, Pulumi Cloud), so a secret would leave the program there;
 * and at thousands of resources the messages are a large share of a
 * preview's work. The program therefore drops the SDK's debug messages;
 * HARDWAY_SDK_DEBUG=1 keeps them (for debugging the program, never in a
 * pipeline). The engine's own debug output (`pulumi up -v=9`) is untouched.
 */
export function silenceSdkDebugLog(env: NodeJS.ProcessEnv = process.env): boolean {
    if (env["HARDWAY_SDK_DEBUG"] === "1") {
        return false;
    }
    // The SDK's modules call log.debug through this module object, so replacing the export reaches them.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const log = require("@pulumi/pulumi/log") as { debug: (...args: unknown[]) => Promise<void> };
    log.debug = () => Promise.resolve();
    return true;
}

/**
 * The SDK records each resource's source position and stack trace: it lifts
 * `Error.stackTraceLimit` to Infinity, formats `new Error().stack` and parses
 * it, once per resource. The engine keeps the result in the state (about
 * 500 bytes a resource, 11 KB a node) and the formatting is a large share of
 * the program's work at scale. The program never reads them, so with
 * HARDWAY_STACK_TRACE_LIMIT unset (or 0) every stack formats as its first
 * line only, as it does anyway with V8's limit at 0; the SDK then records no
 * position. HARDWAY_STACK_TRACE_LIMIT=N brings both back.
 */
export function dropSdkStackTraces(env: NodeJS.ProcessEnv = process.env): boolean {
    if (Number(env["HARDWAY_STACK_TRACE_LIMIT"] ?? 0) > 0) {
        return false;
    }
    Error.prepareStackTrace = (error: Error) => Error.prototype.toString.call(error);
    return true;
}
