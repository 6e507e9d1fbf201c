/**
 * The control plane by StackReference (`controlPlaneStack`): which outputs
 * of the control plane's stack the program reads, and how they meet the
 * values set directly in this stack's config. Pure: the outputs come in as
 * plain values (read.ts reads them through a pulumi.StackReference).
 *
 * The decision: a value may come from either side. When both give it, they
 * must be equal (PEM text compared without whitespace); a difference is an
 * error that names the field, never a silent winner, so a CA rotated on the
 * control plane cannot be shadowed by a stale copy in a stack file.
 */
import { NAMESPACE } from "./schema";
import type { RawConfig } from "./types";

/**
 * The outputs read from the control plane stack, each merged into the config
 * key of the same name. `secret`: the output must be a secret output of that
 * stack (`pulumi.secret` there), or the program refuses it.
 */
export const CONTROL_PLANE_OUTPUTS = {
    apiServer: { secret: false, doc: "the API server URL, `https://…`" },
    caCertPem: { secret: false, doc: "the cluster CA certificate" },
    caBundlePem: { secret: false, doc: "every CA to trust (optional)" },
    apiAdminCertPem: { secret: false, doc: "an admin client certificate (optional)" },
    apiAdminKeyPem: { secret: true, doc: "its key, a secret output (optional)" },
} as const;

export type ControlPlaneOutputName = keyof typeof CONTROL_PLANE_OUTPUTS;
export const CONTROL_PLANE_OUTPUT_NAMES = Object.keys(CONTROL_PLANE_OUTPUTS) as ControlPlaneOutputName[];

/**
 * Also read, never merged into the config: the control plane's Kubernetes
 * version (e.g. "1.34.4"), exported by this program as `controlPlaneVersion`
 * for the policy pack's version-skew rule.
 */
export const CONTROL_PLANE_VERSION_OUTPUT = "kubernetesVersion";

/** One output as the StackReference gave it: absent, or a value and whether it is a secret output. */
export interface OutputValue {
    value: unknown;
    secret: boolean;
}

export type ControlPlaneOutputs = Partial<Record<string, OutputValue>>;

const STACK_NAME_PART = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** `org/project/stack`, each part a Pulumi name; an error text or undefined. */
export function checkStackName(value: string): string | undefined {
    const parts = value.split("/");
    if (parts.length !== 3 || !parts.every((p) => STACK_NAME_PART.test(p))) {
        return `${JSON.stringify(value)} is not a fully qualified stack name "org/project/stack" (on a file backend the org is "organization")`;
    }
    return undefined;
}

function same(a: unknown, b: unknown): boolean {
    if (typeof a === "string" && typeof b === "string") {
        return a.replace(/\s+/g, "") === b.replace(/\s+/g, "");
    }
    return JSON.stringify(a) === JSON.stringify(b);
}

function isSet(v: unknown): boolean {
    return v !== undefined && v !== null && v !== "";
}

export interface Merged {
    /** The raw config with the control plane's values filled in. */
    raw: RawConfig;
    /** Each conflict or refused output, as `hardway-workers:<key>: …`. */
    problems: string[];
    /** The control plane's Kubernetes version, when its stack exports one. */
    controlPlaneVersion?: string;
}

/**
 * Merges the control plane stack's outputs into the raw config:
 * - only the direct value set: it stays;
 * - only the output set: the output is taken;
 * - both set and equal: the value stays;
 * - both set and different: an error on the key;
 * - an output that must be a secret but is not: an error on the key;
 * - a value that is not a string: an error on the key.
 */
export function mergeControlPlane(raw: RawConfig, stack: string, outputs: ControlPlaneOutputs): Merged {
    const merged: RawConfig = { ...raw };
    const problems: string[] = [];
    const add = (key: string, message: string) => problems.push(`${NAMESPACE}:${key}: ${message}`);
    for (const name of CONTROL_PLANE_OUTPUT_NAMES) {
        const out = outputs[name];
        if (!out || !isSet(out.value)) {
            continue;
        }
        const from = `output ${name} of controlPlaneStack ${JSON.stringify(stack)}`;
        if (typeof out.value !== "string") {
            add(name, `${from} must be a string, got ${JSON.stringify(out.value)}`);
            continue;
        }
        if (CONTROL_PLANE_OUTPUTS[name].secret && !out.secret) {
            add(name, `${from} is not a secret output; export it with pulumi.secret() in that stack`);
            continue;
        }
        const direct = raw[name];
        if (!isSet(direct)) {
            merged[name] = out.value;
        } else if (!same(direct, out.value)) {
            add(name, `is set in this stack's config and differs from ${from}; unset one of them (or make them equal)`);
        }
    }
    const version = outputs[CONTROL_PLANE_VERSION_OUTPUT];
    let controlPlaneVersion: string | undefined;
    if (version && isSet(version.value)) {
        if (typeof version.value === "string" && /^v?\d+\.\d+\.\d+$/.test(version.value)) {
            controlPlaneVersion = version.value.replace(/^v/, "");
        } else {
            add(
                "controlPlaneStack",
                `output ${CONTROL_PLANE_VERSION_OUTPUT} of ${JSON.stringify(stack)} is ${JSON.stringify(version.value)}, not a release version like "1.34.4"`,
            );
        }
    }
    return { raw: merged, problems, controlPlaneVersion };
}
