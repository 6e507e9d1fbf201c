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
