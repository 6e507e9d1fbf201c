/**
 * The program's dynamic resources, as the engine's dynamic provider host runs
 * them: the provider is loaded from the `__provider` text the resource
 * serialized (the host does the same, with the same require-from-string that
 * @pulumi/pulumi ships), then check, diff, create, update and delete are
 * called with the recorded inputs.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Recorded } from "./mocks";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const requireFromString: (code: string) => any = require("require-from-string");

export interface Applied {
    name: string;
    provider: pulumi.dynamic.ResourceProvider;
    id: string;
    outs: any;
}

/** Where the engine runs the dynamic provider host: the program's directory, which Pulumi.yaml's `main` names. */
export const PROVIDER_HOST_DIR = (() => {
    const repo = path.resolve(__dirname, "../..");
    const main = /^main:\s*(\S+)\s*$/m.exec(fs.readFileSync(path.join(repo, "Pulumi.yaml"), "utf8"))?.[1];
    return path.join(repo, main ? path.dirname(main) : ".");
})();

export function providerOf(r: Recorded): pulumi.dynamic.ResourceProvider {
    assert.equal(typeof r.inputs.__provider, "string", `${r.name} has no serialized provider`);
    const provider: any = requireFromString(r.inputs.__provider).handler();
    // Each call starts in the provider host's directory, as under the engine.
    const hosted: any = {};
    for (const method of ["check", "diff", "create", "update", "delete", "read"]) {
        if (typeof provider[method] === "function") {
            hosted[method] = (...args: any[]) => {
                const cwd = process.cwd();
                process.chdir(PROVIDER_HOST_DIR);
                try {
                    return provider[method](...args);
                } finally {
                    process.chdir(cwd);
                }
            };
        }
    }
    return hosted;
}

/** The inputs as the provider sees them: without the serialized provider, after check. */
export async function checkedInputs(r: Recorded, olds: any = {}): Promise<any> {
    const { __provider, ...news } = r.inputs;
    void __provider;
    const provider = providerOf(r);
    const checked = provider.check ? await provider.check(olds, news) : { inputs: news, failures: [] };
    assert.deepEqual(checked.failures ?? [], [], `${r.name}: check failed`);
    return checked.inputs;
}

export async function createDynamic(r: Recorded): Promise<Applied> {
    const provider = providerOf(r);
    const created = await provider.create(await checkedInputs(r));
    return { name: r.name, provider, id: created.id, outs: created.outs };
}

/** Diff against what was applied; runs update when there are changes. Returns whether it changed. */
export async function updateDynamic(applied: Applied, r: Recorded): Promise<boolean> {
    const provider = providerOf(r);
    const news = await checkedInputs(r, applied.outs);
    const diff = provider.diff ? await provider.diff(applied.id, applied.outs, news) : { changes: true };
    if (!diff.changes) {
        return false;
    }
    assert.deepEqual(diff.replaces ?? [], [], `${r.name} would be replaced`);
    const updated = await provider.update!(applied.id, applied.outs, news);
    applied.outs = updated.outs;
    applied.provider = provider;
    return true;
}

/** What the engine sends a dynamic provider for a value not known yet (see providers/unknown.ts). */
export const ENGINE_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Inputs as the engine passes them to check and diff in a preview: unknown values as the sentinel string. */
export function asPreviewSees(v: any): any {
    if (pulumi.isUnknown(v)) {
        return ENGINE_UNKNOWN;
    }
    if (Array.isArray(v)) {
        return v.map(asPreviewSees);
    }
    if (v && typeof v === "object") {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asPreviewSees(x)]));
    }
    return v;
}

/**
 * A preview of one dynamic resource, as the engine runs it: check with the
 * unknowns a preview has (it must not fail on them), then diff against what
 * was applied. A resource not applied yet is a create.
 */
export async function previewDynamic(r: Recorded, applied?: Applied): Promise<{ changes: boolean; replaces: string[] }> {
    const { __provider, ...news } = asPreviewSees(r.inputs);
    assert.equal(typeof __provider, "string", `${r.name}: the serialized provider is known at preview`);
    const provider = providerOf(r);
    const olds = applied?.outs ?? {};
    const checked = provider.check ? await provider.check(olds, news) : { inputs: news, failures: [] };
    assert.deepEqual(checked.failures ?? [], [], `${r.name}: check failed at preview`);
    if (!applied) {
        return { changes: true, replaces: [] };
    }
    const diff = provider.diff ? await provider.diff(applied.id, applied.outs, checked.inputs ?? news) : { changes: true };
    return { changes: diff.changes !== false, replaces: diff.replaces ?? [] };
}

/**
 * A dynamic resource whose create the mocks answered (the program reads its
 * outputs, as it reads the certificates'): what they answered, as the engine
 * would store it.
 */
export function appliedByMocks(r: Recorded, id: string): Applied {
    const { __provider, ...outs } = r.state;
    void __provider;
    return { name: r.name, provider: providerOf(r), id, outs };
}

export async function deleteDynamic(applied: Applied): Promise<void> {
    await applied.provider.delete!(applied.id, applied.outs);
}
