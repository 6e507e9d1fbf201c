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

/** The heap a preview lets grow before it collects between batches (see collectBetweenBatches). */
export const COLLECT_AT_BYTES = 256 * 1024 * 1024;

/** What the last collection left live, for the next threshold. */
let liveAfterCollect = 0;

/**
 * Between two batches of a preview: a full garbage collection, when the
 * program runs with `--expose-gc` (Pulumi.yaml's `nodeargs`) and its heap
 * has grown past twice what the last collection left, and past
 * COLLECT_AT_BYTES. V8 otherwise lets a fast-allocating program's heap grow
 * far beyond what it holds live: the SDK's bookkeeping of each batch's
 * answered registrations is garbage, yet a 1,000-node preview's Node.js
 * process grew to 1.6 GiB with less than 400 MiB live (README, Benchmarks).
 * Small previews stay under the threshold and never collect. Returns
 * whether it collected. `heapUsed` and `gc` are injectable for the tests.
 */
export function collectBetweenBatches(
    heapUsed: () => number = () => process.memoryUsage().heapUsed,
    gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc,
): boolean {
    if (typeof gc !== "function" || heapUsed() < Math.max(COLLECT_AT_BYTES, 2 * liveAfterCollect)) {
        return false;
    }
    gc();
    liveAfterCollect = heapUsed();
    return true;
}

/** Forgets the last collection (tests). */
export function resetCollections(): void {
    liveAfterCollect = 0;
}
