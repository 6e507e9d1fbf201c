/**
 * The stack config from the Pulumi runtime: the raw values of the
 * `hardway-workers` namespace (JSON keys parsed), then validated.
 */
import * as pulumi from "@pulumi/pulumi";
import {
    CONTROL_PLANE_OUTPUT_NAMES,
    CONTROL_PLANE_VERSION_OUTPUT,
    ControlPlaneOutputs,
    checkStackName,
    mergeControlPlane,
} from "./controlPlane";
import { JSON_KEYS, NAMESPACE, SECRET_KEYS, specOf } from "./schema";
import type { RawConfig, WorkerConfig } from "./types";
import { ConfigError, Problems, validateConfig } from "./validate";

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
                if (specOf(key)?.kind === "list") {
                    // A list may also be comma-separated text.
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

/** The control plane stack's outputs, once readControlPlane has read them. */
let controlPlane: { stack: string; outputs: ControlPlaneOutputs } | undefined;

/**
 * With `controlPlaneStack` set: reads the control plane stack's outputs
 * (controlPlane.ts names them) through a pulumi.StackReference. The
 * program (index.ts) awaits it before loadConfig, because the config is
 * validated synchronously.
 */
export async function readControlPlane(): Promise<void> {
    const stack = new pulumi.Config(NAMESPACE).get("controlPlaneStack");
    if (!stack || checkStackName(stack)) {
        return; // unset, or the validator names the bad value
    }
    const ref = new pulumi.StackReference("control-plane", { name: stack });
    const outputs: ControlPlaneOutputs = {};
    for (const name of [...CONTROL_PLANE_OUTPUT_NAMES, CONTROL_PLANE_VERSION_OUTPUT]) {
        const details = await ref.getOutputDetails(name);
        if (details.secretValue !== undefined) {
            outputs[name] = { value: details.secretValue, secret: true };
        } else if (details.value !== undefined) {
            outputs[name] = { value: details.value, secret: false };
        }
    }
    controlPlane = { stack, outputs };
}

/** The control plane's Kubernetes version, when controlPlaneStack exports one. */
export function controlPlaneVersion(): string | undefined {
    return controlPlane ? mergeControlPlane({}, controlPlane.stack, controlPlane.outputs).controlPlaneVersion : undefined;
}

/** The raw config with the control plane stack's outputs merged in (mergeControlPlane decides). */
function withControlPlane(raw: RawConfig): { raw: RawConfig; problems: string[] } {
    const stack = raw["controlPlaneStack"];
    if (typeof stack !== "string" || stack === "" || checkStackName(stack)) {
        return { raw, problems: [] };
    }
    if (!controlPlane || controlPlane.stack !== stack) {
        return {
            raw,
            problems: [`${NAMESPACE}:controlPlaneStack: was not read: the program (index.ts) reads it with readControlPlane before loadConfig`],
        };
    }
    return mergeControlPlane(raw, controlPlane.stack, controlPlane.outputs);
}

/** Reads and validates the stack config; throws a RunError that names each bad field. */
export function loadConfig(): WorkerConfig {
    try {
        const merged = withControlPlane(readRawConfig());
        if (merged.problems.length > 0) {
            let rest: string[] = [];
            try {
                validateConfig(merged.raw);
            } catch (e) {
                rest = e instanceof ConfigError ? e.problems : [];
            }
            throw new ConfigError([...merged.problems, ...rest]);
        }
        return validateConfig(merged.raw);
    } catch (e) {
        if (e instanceof ConfigError) {
            throw new pulumi.RunError(e.message);
        }
        throw e;
    }
}
