/** Reading the stack config from the Pulumi runtime (components/config/read.ts), before and around validation. */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { controlPlaneVersion, loadConfig, readRawConfig } from "../components/config/read";
import { baseConfig } from "./support/program";

const SECRETS = ["hardway-workers:caKeyPem", "hardway-workers:sshPrivateKey", "hardway-workers:bootstrapToken", "hardway-workers:apiAdminKeyPem"];

/** The runtime's config as `pulumi up` passes it: every value a string, JSON keys as JSON text. */
function setConfig(values: Record<string, string>, secretKeys = SECRETS): void {
    pulumi.runtime.setAllConfig(values, secretKeys);
}

/** What the program warns about, through pulumi.log.warn. */
function warningsOf<T>(fn: () => T): { result: T; warnings: string[] } {
    const warn = pulumi.log.warn;
    const warnings: string[] = [];
    (pulumi.log as any).warn = (msg: string) => {
        warnings.push(msg);
        return Promise.resolve();
    };
    try {
        return { result: fn(), warnings };
    } finally {
        (pulumi.log as any).warn = warn;
    }
}

describe("config: reading the runtime's values", () => {
    afterEach(() => setConfig({}, []));

    it("takes the namespace's keys only, parses JSON keys, keeps a list given as comma-separated text", () => {
        setConfig({
            "hardway-workers:clusterName": "hardway",
            "hardway-workers:certValidityHours": "8760",
            "hardway-workers:clusterDns": "10.96.0.10,10.96.0.11",
            "hardway-workers:nodes": '[{"name":"worker1"}]',
            "hardway-workers:downloads": '{"arch":"arm64"}',
            "aws:region": "eu-west-1",
        });
        assert.deepEqual(warningsOf(readRawConfig).result, {
            clusterName: "hardway",
            certValidityHours: "8760",
            clusterDns: "10.96.0.10,10.96.0.11",
            nodes: [{ name: "worker1" }],
            downloads: { arch: "arm64" },
        });
    });

    it("a JSON key that is not JSON fails naming the key and the parser's reason", () => {
        setConfig({ "hardway-workers:nodes": "[{name: worker1}]", "hardway-workers:downloads": "{" });
        assert.throws(() => warningsOf(readRawConfig), {
            name: "ConfigError",
            message:
                "invalid stack config:\n" +
                "  - hardway-workers:nodes: is not valid JSON (Expected property name or '}' in JSON at position 2)\n" +
                "  - hardway-workers:downloads: is not valid JSON (Expected property name or '}' in JSON at position 1)",
        });
    });

    it("warns about each secret key stored in plain text, naming the command that fixes it", () => {
        setConfig({ "hardway-workers:sshPrivateKey": "key", "hardway-workers:caKeyPem": "key", "hardway-workers:clusterName": "c" }, ["hardway-workers:caKeyPem"]);
        assert.deepEqual(warningsOf(readRawConfig).warnings, ["hardway-workers:sshPrivateKey is stored in plain text; set it with 'pulumi config set --secret sshPrivateKey'"]);
        setConfig({ "hardway-workers:sshPrivateKey": "key" });
        assert.deepEqual(warningsOf(readRawConfig).warnings, []);
    });

    it("loadConfig: the validated config, or a RunError naming every bad field", () => {
        const values: Record<string, string> = {};
        for (const [k, v] of Object.entries(baseConfig())) {
            values[`hardway-workers:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
        }
        setConfig(values);
        const c = warningsOf(loadConfig).result;
        assert.equal(c.clusterName, (baseConfig() as any).clusterName);
        assert.equal(controlPlaneVersion(), undefined);
        setConfig({ ...values, "hardway-workers:clusterName": "", "hardway-workers:certValidityHours": "0" });
        assert.throws(() => warningsOf(loadConfig), (e: Error) => {
            assert.ok(e instanceof pulumi.RunError, e.constructor.name);
            assert.equal(e.message, "invalid stack config:\n  - hardway-workers:clusterName: is required\n  - hardway-workers:certValidityHours: must be an integer >= 2, got \"0\"");
            return true;
        });
    });

    it("loadConfig with a controlPlaneStack not read first: that problem first, then the validator's", () => {
        const values: Record<string, string> = {};
        for (const [k, v] of Object.entries(baseConfig({ clusterName: "" }))) {
            values[`hardway-workers:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
        }
        setConfig({ ...values, "hardway-workers:controlPlaneStack": "organization/cp/dev" });
        assert.throws(() => warningsOf(loadConfig), {
            message:
                "invalid stack config:\n" +
                "  - hardway-workers:controlPlaneStack: was not read: the program (index.ts) reads it with readControlPlane before loadConfig\n" +
                "  - hardway-workers:clusterName: is required",
        });
    });
});
