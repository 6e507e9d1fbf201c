/** The bench's split of a preview's peak memory by process (bench/run.ts roleOf), as a table. */
import { strict as assert } from "assert";
import { roleOf } from "../bench/run";

describe("bench: which process a peak belongs to", () => {
    const rows: [string, boolean, string[], string][] = [
        ["the CLI itself", true, ["pulumi", "preview", "--stack", "bench-scale-10"], "engine"],
        ["the CLI even when its argv names a provider", true, ["/opt/pulumi/bin/pulumi-resource-tls"], "engine"],
        ["the language host", false, ["/root/.cache/hardway-workers/toolchain/pulumi-v3.274.0/bin/pulumi-language-nodejs", "-root=/work"], "languageHost"],
        ["the program", false, ["node", "/work/node_modules/@pulumi/pulumi/cmd/run", "--monitor", "127.0.0.1:1"], "program"],
        ["the dynamic provider host", false, ["node", "/work/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js", "127.0.0.1:2"], "providers"],
        ["a resource plugin", false, ["/root/.pulumi/plugins/resource-tls-v5.3.1/pulumi-resource-tls", "127.0.0.1:3"], "providers"],
        ["a process whose command line is gone", false, [], "program"],
    ];
    for (const [what, isRoot, argv, role] of rows) {
        it(`${what}: ${role}`, () => assert.equal(roleOf(isRoot, argv), role));
    }
});
