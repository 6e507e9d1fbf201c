/**
 * A preview registers its nodes a batch at a time (components/node/batches.ts):
 * the batch size from the environment, where the batches end, and, for the
 * whole program under mocks, that each batch is registered before the next
 * begins in a preview and that `up` still registers every node at once.
 */
import { strict as assert } from "assert";
import { BATCH_ENV, COLLECT_AT_BYTES, batchEnds, collectBetweenBatches, previewBatchNodes, resetCollections } from "../components/node/batches";
import { ProgramMocks } from "./support/mocks";
import { GUIDE_NODES, ProgramRun, baseConfig, runProgram, testCa, withAccess } from "./support/program";

describe("preview batches: the batch size", () => {
    const OK: [string | undefined, number][] = [
        [undefined, 50],
        ["", 50],
        ["0", 0],
        ["1", 1],
        ["7", 7],
        [" 12 ", 12],
    ];
    for (const [text, want] of OK) {
        it(`${BATCH_ENV}=${JSON.stringify(text)} is ${want}`, () => {
            assert.equal(previewBatchNodes(text === undefined ? {} : { [BATCH_ENV]: text }), want);
        });
    }
    for (const text of ["-1", "1.5", "ten", "5 nodes"]) {
        it(`${BATCH_ENV}=${JSON.stringify(text)} is refused, naming the variable`, () => {
            assert.throws(() => previewBatchNodes({ [BATCH_ENV]: text }), {
                message: `${BATCH_ENV}: must be a whole number of nodes (0: all at once), got ${JSON.stringify(text)}`,
            });
        });
    }
});

describe("preview batches: where they end", () => {
    const ROWS: [number, number, number[]][] = [
        [0, 50, []],
        [4, 50, []],
        [50, 50, []],
        [51, 50, [49]],
        [120, 50, [49, 99]],
        [4, 1, [0, 1, 2]],
        [4, 2, [1]],
        [10, 0, []],
    ];
    for (const [count, batch, want] of ROWS) {
        it(`${count} nodes in batches of ${batch}: waits after ${JSON.stringify(want)}`, () => {
            assert.deepEqual(batchEnds(count, batch), want);
        });
    }
});

describe("preview batches: the collection between batches", () => {
    const MIB = 1024 * 1024;
    beforeEach(resetCollections);
    afterEach(resetCollections);
    // Each row: the heap (MiB) at each batch's end and what a collection leaves live; whether each one collects.
    const ROWS: [string, [number, number][], boolean[]][] = [
        ["under the threshold: never", [[100, 50], [255, 50]], [false, false]],
        ["at the threshold: collects", [[256, 100]], [true]],
        ["then only past twice what was left live", [[300, 200], [399, 200], [400, 150], [300, 150]], [true, false, true, true]],
        ["twice a small live set is still under the threshold", [[300, 20], [200, 20], [256, 20]], [true, false, true]],
    ];
    for (const [what, heaps, want] of ROWS) {
        it(what, () => {
            const got: boolean[] = [];
            for (const [before, live] of heaps) {
                let heap = before * MIB;
                got.push(collectBetweenBatches(() => heap, () => (heap = live * MIB)));
            }
            assert.deepEqual(got, want);
        });
    }

    it("the threshold is 256 MiB", () => {
        assert.equal(COLLECT_AT_BYTES, 256 * MIB);
    });

    it("without --expose-gc (no gc function) it never collects, whatever the heap", () => {
        assert.equal(collectBetweenBatches(() => 4096 * MIB, undefined), false);
    });
});

/** Per node, the first and last position of its resources in the order the engine was sent them. */
function spans(run: ProgramRun): [number, number][] {
    return GUIDE_NODES.map((n) => {
        const at = run.mocks.registrations.flatMap((r, i) => (r.name === n.name || r.name.startsWith(`${n.name}-`) ? [i] : []));
        return [Math.min(...at), Math.max(...at)];
    });
}

/** Whether every node's resources were all sent before the next node's first. */
const oneAfterAnother = (s: [number, number][]) => s.every((span, i) => i === 0 || s[i - 1][1] < span[0]);

describe("preview batches: the program under mocks", () => {
    const original = process.env[BATCH_ENV];
    afterEach(() => {
        if (original === undefined) {
            delete process.env[BATCH_ENV];
        } else {
            process.env[BATCH_ENV] = original;
        }
    });
    const run = async (batch: string, preview: boolean, config = baseConfig()) => {
        process.env[BATCH_ENV] = batch;
        const mocks = new ProgramMocks(testCa());
        mocks.preview = preview;
        return runProgram(config, mocks);
    };

    it("a preview in batches of one node registers each node whole before the next", async () => {
        assert.equal(oneAfterAnother(spans(await run("1", true))), true);
    });

    it("with API credentials too (the batch waits for each node's rollout release)", async () => {
        const r = await run("1", true, withAccess());
        assert.equal(r.mocks.ofType("pulumi-nodejs:dynamic/hardway:RolloutRelease").length, 4);
        assert.equal(oneAfterAnother(spans(r)), true);
    });

    it("a preview with batches off (0) registers the nodes interleaved", async () => {
        assert.equal(oneAfterAnother(spans(await run("0", true))), false);
    });

    it("`up` registers every node at once, whatever the batch", async () => {
        assert.equal(oneAfterAnother(spans(await run("1", false))), false);
    });

    describe("collects after each batch but the last, in a preview only", () => {
        const g = globalThis as { gc?: () => void };
        const realGc = g.gc;
        const realUsage = process.memoryUsage;
        let calls = 0;
        beforeEach(() => {
            resetCollections();
            calls = 0;
            // A heap of 1 GiB at each batch's end, 100 MiB live after a collection.
            let collected = false;
            g.gc = () => {
                calls++;
                collected = true;
            };
            process.memoryUsage = Object.assign(() => {
                const heapUsed = collected ? 100 * 1024 * 1024 : 1024 * 1024 * 1024;
                collected = false;
                return { ...realUsage(), heapUsed };
            }, { rss: realUsage.rss });
        });
        afterEach(() => {
            g.gc = realGc;
            process.memoryUsage = realUsage;
            resetCollections();
        });
        const ROWS: [string, boolean, number][] = [
            ["1", true, 3],
            ["2", true, 1],
            ["0", true, 0],
            ["1", false, 0],
        ];
        for (const [batch, preview, want] of ROWS) {
            it(`${preview ? "preview" : "up"}, batches of ${batch}: ${want} collection(s) for 4 nodes`, async () => {
                await run(batch, preview);
                assert.equal(calls, want);
            });
        }
    });

    it("a preview registers the same resources in batches as all at once", async () => {
        const names = async (batch: string) => (await run(batch, true)).mocks.registrations.map((r) => `${r.type} ${r.name}`).sort();
        assert.deepEqual(await names("1"), await names("0"));
    });
});
