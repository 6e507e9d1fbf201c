/**
 * A preview registers its nodes a batch at a time: the next batch's nodes are
 * made once the engine has answered every registration of the batch before.
 * The SDK's bookkeeping for a registration in flight (its Promises and
 * closures, several hundred a resource) is dropped once the engine has
 * answered, so the program's peak memory is set by the batch, not by the
 * fleet (README "The floor"). A preview's plan is the same either way.
 * `pulumi up` registers every node at once, as before: there a registration
 * is answered only when its resource is created or updated, and batches would
 * make the update wait for each batch's nodes.
 */

export const BATCH_ENV = "HARDWAY_PREVIEW_BATCH_NODES";
export const DEFAULT_BATCH_NODES = 50;

/** Nodes a preview registers at a time; 0 for all at once. Throws, naming the variable, on anything but a whole number. */
export function previewBatchNodes(env: NodeJS.ProcessEnv = process.env): number {
    const text = env[BATCH_ENV];
    if (text === undefined || text === "") {
        return DEFAULT_BATCH_NODES;
    }
    if (!/^\d+$/.test(text.trim())) {
        throw new Error(`${BATCH_ENV}: must be a whole number of nodes (0: all at once), got ${JSON.stringify(text)}`);
    }
    return Number(text.trim());
}

/** After which nodes (0-based) a preview of `count` nodes waits for its batch; none after the last. */
export function batchEnds(count: number, batch: number): number[] {
    if (batch <= 0) {
        return [];
    }
    const ends: number[] = [];
    for (let end = batch - 1; end < count - 1; end += batch) {
        ends.push(end);
    }
    return ends;
}
