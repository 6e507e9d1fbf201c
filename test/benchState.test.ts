/** The bench's split of the state (bench/run.ts stateShares) and its medians per key (medianByKey), as tables. */
import { strict as assert } from "assert";
import { medianByKey, stateShares } from "../bench/run";

const size = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

describe("bench: where the state goes", () => {
    const command = { urn: "urn:a", type: "command:remote:Command", inputs: { create: "x".repeat(100) }, outputs: { create: "x".repeat(100), stdout: "" } };
    const key = { urn: "urn:b", type: "tls:index/privateKey:PrivateKey", inputs: { algorithm: "RSA" }, outputs: { privateKeyPem: "k".repeat(200) } };
    const exported = JSON.stringify({ version: 3, deployment: { manifest: {}, resources: [command, command, key] } }, null, 4);

    it("by type: each type's resources as compact JSON, per node", () => {
        assert.deepEqual(stateShares(exported, 2).byType, {
            "command:remote:Command": Math.round((2 * size(command)) / 2),
            "tls:index/privateKey:PrivateKey": Math.round(size(key) / 2),
        });
    });

    it("by property: inputs and outputs apart, a resource's own fields by name, largest first", () => {
        const got = stateShares(exported, 1).byProperty;
        assert.deepEqual(Object.keys(got).slice(0, 3), ["inputs.create", "outputs.create", "outputs.privateKeyPem"]);
        assert.equal(got["inputs.create"], 2 * size("x".repeat(100)));
        assert.equal(got["urn"], 3 * size("urn:a"));
        assert.equal(got["type"], 2 * size(command.type) + size(key.type));
    });

    it("by property: past the ten largest, the rest is summed as other", () => {
        const wide = { urn: "u", type: "t", inputs: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`p${String(i).padStart(2, "0")}`, "v".repeat(100 - i)])) };
        const got = stateShares(JSON.stringify({ deployment: { resources: [wide] } }), 1).byProperty;
        assert.equal(Object.keys(got).length, 11);
        assert.deepEqual(Object.keys(got).slice(0, 10), Array.from({ length: 10 }, (_, i) => `inputs.p${String(i).padStart(2, "0")}`));
        assert.equal(got["other"], size("v".repeat(90)) + size("v".repeat(89)) + size("u") + size("t"));
    });

    it("a state without resources has no shares", () => {
        assert.deepEqual(stateShares(JSON.stringify({ deployment: { resources: [] } }), 4), { byType: {}, byProperty: {} });
    });
});

describe("bench: medians per key", () => {
    const rows: [string, (Record<string, number> | null)[], Record<string, number> | null][] = [
        ["no samples", [], null],
        ["only runs that failed", [null, null], null],
        ["one run", [{ a: 1, b: 2 }], { a: 1, b: 2 }],
        ["three runs", [{ a: 1, b: 9 }, { a: 3, b: 7 }, { a: 2, b: 8 }], { a: 2, b: 8 }],
        ["a failed run is left out", [{ a: 1 }, null, { a: 3 }], { a: 2 }],
        ["a key only some runs have", [{ a: 1 }, { a: 3, b: 5 }], { a: 2, b: 5 }],
    ];
    for (const [what, samples, want] of rows) {
        it(what, () => assert.deepEqual(medianByKey(samples), want));
    }
});
