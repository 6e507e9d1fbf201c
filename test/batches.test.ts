/**
 * A preview registers its nodes a batch at a time (components/node/batches.ts):
 * the batch size from the environment, where the batches end, and, for the
 * whole program under mocks, that each batch is registered before the next
 * begins in a preview and that `up` still registers every node at once.
 */
import { strict as assert } from "assert";
import { BATCH_ENV, batchEnds, previewBatchNodes } from "../components/node/batches";
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

    it("a preview registers the same resources in batches as all at once", async () => {
        const names = async (batch: string) => (await run(batch, true)).mocks.registrations.map((r) => `${r.type} ${r.name}`).sort();
        assert.deepEqual(await names("1"), await names("0"));
    });
});
