/**
 * The program's dynamic resources, as the engine's dynamic provider host runs
 * them: the provider is loaded from the `__provider` text the resource
 * serialized (the host does the same, with the same require-from-string that
 * @pulumi/pulumi ships), then check, diff, create, update and delete are
 * called with the recorded inputs.
 */
import { strict as assert } from "assert";
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

export function providerOf(r: Recorded): pulumi.dynamic.ResourceProvider {
    assert.equal(typeof r.inputs.__provider, "string", `${r.name} has no serialized provider`);
    return requireFromString(r.inputs.__provider).handler();
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

export async function deleteDynamic(applied: Applied): Promise<void> {
    await applied.provider.delete!(applied.id, applied.outs);
}
