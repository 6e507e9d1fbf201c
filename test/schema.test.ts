/**
 * The config schema (components/config/schema.ts) is the one list of keys:
 * the README's table, the secret keys the tests set, and the defaults the
 * validated config takes all agree with it.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { DEFAULTS, defaultCgroupDriver, defaultDownloads } from "../components/config/defaults";
import { CONFIG_SCHEMA, JSON_KEYS, KNOWN_KEYS, KeySpec, SECRET_KEYS } from "../components/config/schema";
import { validateConfig } from "../components/config/validate";
import { parseVersion, profileFor } from "../components/kube/versions";
import { baseConfig } from "./support/program";

/** The keys of the README's "Stack config" table, with whether each is marked (secret). */
function readmeKeys(): Map<string, boolean> {
    const readme = fs.readFileSync(path.resolve(__dirname, "../README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Stack config"), readme.indexOf("Control-plane nodes always register"));
    const keys = new Map<string, boolean>();
    for (const line of section.split("\n").filter((l) => l.startsWith("| `"))) {
        const cell = line.split("|")[1];
        for (const m of cell.matchAll(/`([A-Za-z0-9]+)`( \(secret\))?/g)) {
            keys.set(m[1], m[2] !== undefined);
        }
    }
    return keys;
}

describe("config schema", () => {
    it("lists the keys of the README's table, and marks the same ones secret", () => {
        const readme = readmeKeys();
        assert.deepEqual([...KNOWN_KEYS].sort(), [...readme.keys()].sort());
        assert.deepEqual([...SECRET_KEYS].sort(), [...readme].filter(([, secret]) => secret).map(([k]) => k).sort());
    });

    it("derives the secret and JSON keys from the table", () => {
        assert.deepEqual([...SECRET_KEYS], ["caKeyPem", "sshPrivateKey", "bootstrapToken", "apiAdminKeyPem"]);
        assert.deepEqual([...JSON_KEYS].sort(), ["clusterDns", "downloads", "nodes", "packageRepos", "rollout"]);
    });

    it("gives every key a doc, and every integer its minimum and default, every enum its values", () => {
        for (const [key, spec] of Object.entries(CONFIG_SCHEMA) as [string, KeySpec][]) {
            assert.ok(spec.doc.length > 0 && !spec.doc.includes("\n"), `${key}: one-line doc`);
            assert.ok(!(spec.required && spec.default !== undefined), `${key}: required and defaulted`);
            if (spec.kind === "integer") {
                assert.equal(typeof spec.min, "number", key);
                assert.equal(typeof spec.default, "number", key);
            }
            if (spec.kind === "enum") {
                assert.ok(spec.values && spec.values.length > 1, key);
                const d = spec.default;
                assert.ok(typeof d === "object" || spec.values.includes(d as string), `${key}: default is one of its values`);
            }
        }
    });

    const minimal = baseConfig();
    const cases: [keyof typeof DEFAULTS, string][] = (Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]).map((k) => [k, JSON.stringify(DEFAULTS[k])]);
    for (const [key, value] of cases) {
        it(`an unset ${key} is ${value}`, () => {
            assert.equal(minimal[key], undefined);
            assert.deepEqual((validateConfig(minimal) as any)[key], DEFAULTS[key]);
        });
    }

    for (const version of ["1.16.2", "1.30.4", "1.37.2"]) {
        it(`on ${version}, an unset cgroupDriver and downloads take their derived defaults`, () => {
            const c = validateConfig(baseConfig({ kubernetesVersion: version }));
            const v = parseVersion(version)!;
            assert.equal(c.cgroupDriver, defaultCgroupDriver(profileFor(v)));
            assert.deepEqual(c.downloads, defaultDownloads(v));
        });
    }

    it("an unset caBundlePem is caCertPem", () => {
        const c = validateConfig(minimal);
        assert.equal(c.caBundlePem, c.caCertPem);
    });
});
