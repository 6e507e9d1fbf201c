/**
 * The committed stack files (Pulumi.<stack>.yaml) and the ESC environments
 * they import (deploy/esc/<env>.yaml): each loads and passes the program's
 * own validator once its placeholder secrets are filled in with test
 * values, and a broken one fails naming the field.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { mergeControlPlane } from "../components/config/controlPlane";
import { KNOWN_KEYS, NAMESPACE, SECRET_KEYS } from "../components/config/schema";
import { RawConfig } from "../components/config/types";
import { validateConfig } from "../components/config/validate";
import { makeCsr, rsaKeyPem, signCsr } from "./support/pki";
import { testCa, testSshKey } from "./support/program";
import { stackFiles, stackNameOf } from "./support/stacks";
import { configProblems } from "./support/config";

const REPO = path.resolve(__dirname, "..");

interface StackFile {
    environment?: string[];
    config: Record<string, unknown>;
}

function readStack(file: string): StackFile {
    return YAML.parse(fs.readFileSync(path.join(REPO, file), "utf8")) as StackFile;
}

/** The ESC definition an `environment:` entry names: `hardway-workers/<env>` is deploy/esc/<env>.yaml. */
function escFile(env: string): string {
    return path.join(REPO, "deploy/esc", `${env.replace(/^hardway-workers\//, "")}.yaml`);
}

function escConfig(env: string): Record<string, unknown> {
    const doc = YAML.parse(fs.readFileSync(escFile(env), "utf8")) as { values: { pulumiConfig: Record<string, unknown> } };
    return doc.values.pulumiConfig;
}

const adminKey = rsaKeyPem();
const adminCert = signCsr(makeCsr({ privateKeyPem: adminKey, commonName: "admin", organization: "system:masters" }), testCa(), ["client_auth"], 24);

/** Test values for the placeholders, by key. */
function testSecret(key: string): string {
    const values: Record<string, string> = {
        caCertPem: testCa().certPem,
        caKeyPem: testCa().keyPem,
        sshPrivateKey: testSshKey(),
        apiAdminCertPem: adminCert,
        apiAdminKeyPem: adminKey,
    };
    assert.ok(values[key] !== undefined, `no test value for ${key}`);
    return values[key];
}

/**
 * The raw config the program would see for a stack: its own config, then
 * its ESC environments' pulumiConfig with the placeholders filled in (for a
 * stack without an environment, the secrets `pulumi config set --secret`
 * would add), then the control plane stack's outputs.
 */
function rawConfigOf(file: string, drop: string[] = []): RawConfig {
    const stack = readStack(file);
    const raw: RawConfig = {};
    const put = (fullKey: string, value: unknown) => {
        assert.ok(fullKey.startsWith(`${NAMESPACE}:`), `${file}: ${fullKey} is outside the ${NAMESPACE} namespace`);
        raw[fullKey.slice(NAMESPACE.length + 1)] = value;
    };
    for (const [k, v] of Object.entries(stack.config)) {
        put(k, v);
    }
    if (stack.environment) {
        for (const env of stack.environment) {
            for (const k of Object.keys(escConfig(env))) {
                put(k, testSecret(k.slice(NAMESPACE.length + 1)));
            }
        }
    } else {
        for (const key of ["caKeyPem", "sshPrivateKey"]) {
            raw[key] ??= testSecret(key);
        }
        raw["caCertPem"] ??= testSecret("caCertPem");
    }
    for (const key of drop) {
        delete raw[key];
    }
    const cp = raw["controlPlaneStack"];
    if (typeof cp === "string") {
        const merged = mergeControlPlane(raw, cp, {
            apiServer: { value: "https://api.prod.example.com:6443", secret: false },
            caCertPem: { value: testCa().certPem, secret: false },
            apiAdminCertPem: { value: adminCert, secret: false },
            apiAdminKeyPem: { value: adminKey, secret: true },
        });
        assert.deepEqual(merged.problems, []);
        return merged.raw;
    }
    return raw;
}


describe("stack files and their ESC environments", () => {
    it("are dev, staging and prod", () => {
        assert.deepEqual(stackFiles().map(stackNameOf), ["dev", "prod", "staging"]);
    });

    for (const file of stackFiles()) {
        describe(file, () => {
            it("lists its nodes as a structured YAML list, not a JSON string", () => {
                const nodes = readStack(file).config[`${NAMESPACE}:nodes`];
                assert.ok(Array.isArray(nodes) && nodes.length > 0, `${file}: nodes is ${typeof nodes}`);
            });

            it("holds no secret in plain text, and imports only ESC environments that are committed with each secret under fn::secret", () => {
                const stack = readStack(file);
                for (const key of SECRET_KEYS) {
                    assert.equal(stack.config[`${NAMESPACE}:${key}`], undefined, `${file} sets ${key}`);
                }
                for (const env of stack.environment ?? []) {
                    assert.match(env, /^hardway-workers\/[a-z0-9-]+$/);
                    assert.ok(fs.existsSync(escFile(env)), `${env}: ${path.relative(REPO, escFile(env))} is missing`);
                    for (const [k, v] of Object.entries(escConfig(env))) {
                        const key = k.slice(NAMESPACE.length + 1);
                        assert.ok(k.startsWith(`${NAMESPACE}:`) && KNOWN_KEYS.includes(key), `${env}: ${k} is not a known key`);
                        const secret = typeof v === "object" && v !== null && "fn::secret" in v;
                        assert.equal(secret, SECRET_KEYS.includes(key), `${env}: ${k} ${secret ? "is" : "is not"} under fn::secret`);
                        const text = secret ? (v as Record<string, unknown>)["fn::secret"] : v;
                        assert.match(String(text), /^<.+>$/, `${env}: ${k} is a placeholder`);
                    }
                }
            });

            it("validates with the program's validator, its placeholders filled in", () => {
                assert.deepEqual(configProblems(rawConfigOf(file)), []);
                const c = validateConfig(rawConfigOf(file));
                assert.equal(c.nodes.length, (readStack(file).config[`${NAMESPACE}:nodes`] as unknown[]).length);
            });

            it("fails naming the field when a node's address is broken", () => {
                const raw = rawConfigOf(file);
                const nodes = (raw["nodes"] as Record<string, unknown>[]).map((n, i) => (i === 0 ? { ...n, ip: "10.0.0.256" } : n));
                assert.deepEqual(configProblems({ ...raw, nodes }), ['hardway-workers:nodes[0].ip: "10.0.0.256" is not a valid IPv4 or IPv6 address']);
            });

            it("fails naming the field when the SSH key is missing", () => {
                assert.deepEqual(configProblems(rawConfigOf(file, ["sshPrivateKey"])), ["hardway-workers:sshPrivateKey: is required"]);
            });
        });
    }
});
