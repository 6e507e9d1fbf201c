/**
 * Import boundaries, read from the sources: the dynamic providers depend
 * only on each other and on the pure Kubernetes knowledge in
 * components/kube/, which in turn depends on nothing else of the program and
 * registers no resource.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";

const REPO = path.resolve(__dirname, "..");

/** Every module specifier a TypeScript file names: import/export ... from, import "x", require("x"), import("x"). */
export function importsOf(file: string): string[] {
    const text = fs.readFileSync(file, "utf8");
    const specs: string[] = [];
    const patterns = [
        /\b(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
        /\bimport\s*["']([^"']+)["']/g,
        /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
        /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    ];
    for (const re of patterns) {
        for (const m of text.matchAll(re)) {
            specs.push(m[1]);
        }
    }
    return specs;
}

/** The repository-relative folder a relative specifier points into, or undefined for a package. */
function target(file: string, spec: string): string | undefined {
    if (!spec.startsWith(".")) {
        return undefined;
    }
    return path.relative(REPO, path.resolve(path.dirname(file), spec));
}

function tsFiles(dir: string): string[] {
    return fs
        .readdirSync(path.join(REPO, dir), { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(REPO, dir, e.name)] : []));
}

const inside = (rel: string, dir: string) => rel === dir || rel.startsWith(`${dir}/`);

describe("import boundaries", () => {
    it("finds the imports of a file (the scanner itself)", () => {
        const specs = importsOf(path.join(REPO, "providers/tokenRegistration.ts"));
        assert.ok(specs.includes("@pulumi/pulumi"), specs.join(", "));
        assert.ok(specs.includes("./kubeApi"), specs.join(", "));
        assert.ok(specs.some((s) => s.includes("components/kube/")), specs.join(", "));
    });

    for (const file of tsFiles("providers")) {
        const rel = path.relative(REPO, file);
        it(`${rel} imports only from providers/ and components/kube/`, () => {
            for (const spec of importsOf(file)) {
                const t = target(file, spec);
                if (t !== undefined) {
                    assert.ok(inside(t, "providers") || inside(t, "components/kube"), `${rel} imports ${spec} (${t})`);
                }
            }
        });
    }

    for (const file of tsFiles("components/kube")) {
        const rel = path.relative(REPO, file);
        it(`${rel} is pure: it imports only from components/kube/ and no Pulumi package, and declares no ComponentResource`, () => {
            for (const spec of importsOf(file)) {
                const t = target(file, spec);
                if (t !== undefined) {
                    assert.ok(inside(t, "components/kube"), `${rel} imports ${spec} (${t})`);
                } else {
                    assert.ok(!spec.startsWith("@pulumi/"), `${rel} imports ${spec}`);
                }
            }
            assert.ok(!/ComponentResource/.test(fs.readFileSync(file, "utf8")), `${rel} mentions ComponentResource`);
        });
    }
});
