/**
 * The control plane by StackReference (`controlPlaneStack`): the merge of
 * its outputs with the values set directly (a pure table), and the program
 * under mocks reading a second stack's outputs before it validates the config.
 */
import { strict as assert } from "assert";
import { ControlPlaneOutputs, checkStackName, mergeControlPlane } from "../components/config/controlPlane";
import { loadConfig } from "../components/config/read";
import { ConfigError, validateConfig } from "../components/config/validate";
import { ProgramMocks } from "./support/mocks";
import { makeCa, makeCsr, rsaKeyPem, signCsr } from "./support/pki";
import { GUIDE_NODES, baseConfig, runProgram, setStackConfig, testCa } from "./support/program";

const STACK = "acme/control-plane/prod";
const PEM_A = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
const PEM_A_REWRAPPED = "-----BEGIN CERTIFICATE-----\r\nAA\nAA\n-----END CERTIFICATE-----";
const PEM_B = "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n";
const URL = "https://api.acme.example:6443";

const out = (value: unknown, secret = false) => ({ value, secret });

describe("controlPlaneStack: merging the control plane's outputs", () => {
    const cases: [string, Record<string, unknown>, ControlPlaneOutputs, Record<string, unknown>, string[]][] = [
        ["nothing on either side", {}, {}, {}, []],
        ["only set directly: kept", { apiServer: URL }, {}, { apiServer: URL }, []],
        ["only an output: taken", {}, { apiServer: out(URL), caCertPem: out(PEM_A) }, { apiServer: URL, caCertPem: PEM_A }, []],
        ["both, equal: kept", { apiServer: URL }, { apiServer: out(URL) }, { apiServer: URL }, []],
        ["both, the same PEM wrapped differently: kept", { caCertPem: PEM_A }, { caCertPem: out(PEM_A_REWRAPPED) }, { caCertPem: PEM_A }, []],
        [
            "both, different: an error on the key, the direct value left",
            { caCertPem: PEM_B },
            { caCertPem: out(PEM_A) },
            { caCertPem: PEM_B },
            [
                `hardway-workers:caCertPem: is set in this stack's config and differs from output caCertPem of controlPlaneStack "${STACK}"; unset one of them (or make them equal)`,
            ],
        ],
        ["an empty output counts as unset", { apiServer: URL }, { apiServer: out("") }, { apiServer: URL }, []],
        ["the admin key as a secret output: taken", {}, { apiAdminKeyPem: out("KEY", true) }, { apiAdminKeyPem: "KEY" }, []],
        [
            "the admin key as a plain output: refused",
            {},
            { apiAdminKeyPem: out("KEY") },
            {},
            [`hardway-workers:apiAdminKeyPem: output apiAdminKeyPem of controlPlaneStack "${STACK}" is not a secret output; export it with pulumi.secret() in that stack`],
        ],
        ["a public output that is secret there: taken", {}, { caBundlePem: out(PEM_A, true) }, { caBundlePem: PEM_A }, []],
        [
            "an output that is not text",
            {},
            { apiServer: out({ url: URL }) },
            {},
            [`hardway-workers:apiServer: output apiServer of controlPlaneStack "${STACK}" must be a string, got {"url":"${URL}"}`],
        ],
        ["an output the program does not read: ignored", {}, { etcdEndpoints: out("x") }, {}, []],
        [
            "a control plane version that is not one",
            {},
            { kubernetesVersion: out("latest") },
            {},
            [`hardway-workers:controlPlaneStack: output kubernetesVersion of "${STACK}" is "latest", not a release version like "1.34.4"`],
        ],
    ];
    for (const [title, raw, outputs, merged, problems] of cases) {
        it(title, () => {
            const result = mergeControlPlane(raw, STACK, outputs);
            assert.deepEqual(result.raw, merged);
            assert.deepEqual(result.problems, problems);
        });
    }

    it("reads the control plane's version apart, never as the nodes' kubernetesVersion", () => {
        const result = mergeControlPlane({ kubernetesVersion: "1.33.1" }, STACK, { kubernetesVersion: out("v1.34.4") });
        assert.equal(result.controlPlaneVersion, "1.34.4");
        assert.deepEqual(result.raw, { kubernetesVersion: "1.33.1" });
    });

    const names: [string, string | undefined][] = [
        ["acme/control-plane/prod", undefined],
        ["organization/cp/lab", undefined],
        ["cp/lab", '"cp/lab" is not a fully qualified stack name "org/project/stack" (on a file backend the org is "organization")'],
        ["a/b/c/d", '"a/b/c/d" is not a fully qualified stack name "org/project/stack" (on a file backend the org is "organization")'],
        ["acme//prod", '"acme//prod" is not a fully qualified stack name "org/project/stack" (on a file backend the org is "organization")'],
    ];
    for (const [name, error] of names) {
        it(`the stack name ${JSON.stringify(name)} is ${error ? "refused" : "accepted"}`, () => {
            assert.equal(checkStackName(name), error);
        });
    }

    it("the validator names a malformed controlPlaneStack", () => {
        assert.throws(
            () => validateConfig(baseConfig({ controlPlaneStack: "cp/lab" })),
            (e: unknown) =>
                e instanceof ConfigError &&
                e.problems.join("\n") ===
                    'hardway-workers:controlPlaneStack: "cp/lab" is not a fully qualified stack name "org/project/stack" (on a file backend the org is "organization")',
        );
    });
});

describe("controlPlaneStack: the program under mocks reads a second stack", () => {
    const adminKey = rsaKeyPem();
    const adminCert = signCsr(makeCsr({ privateKeyPem: adminKey, commonName: "admin", organization: "system:masters" }), testCa(), ["client_auth"], 24);
    const ca = testCa();

    function mocksWith(outputs: Record<string, unknown>, secretOutputNames: string[], preview = false): ProgramMocks {
        const mocks = new ProgramMocks(ca);
        mocks.preview = preview;
        mocks.newStack = preview;
        mocks.stackReferences[STACK] = { outputs, secretOutputNames };
        return mocks;
    }

    /** The stack's config without what the control plane stack gives. */
    function config(extra: Record<string, unknown> = {}): Record<string, unknown> {
        // One node: the program's time is mostly per node.
        const c = baseConfig({ controlPlaneStack: STACK, nodes: [GUIDE_NODES[2]] });
        delete c["apiServer"];
        delete c["caCertPem"];
        return { ...c, ...extra };
    }

    const cpOutputs = { apiServer: URL, caCertPem: ca.certPem, apiAdminCertPem: adminCert, apiAdminKeyPem: adminKey, kubernetesVersion: "1.34.4" };

    for (const preview of [false, true]) {
        it(`${preview ? "in a preview, " : ""}takes the API server, the CA and the admin credentials from the control plane stack`, async () => {
            const run = await runProgram(config(), mocksWith(cpOutputs, ["apiAdminKeyPem"], preview));
            const [ref] = run.mocks.ofType("pulumi:pulumi:StackReference");
            assert.deepEqual([ref.name, ref.inputs.name], ["control-plane", STACK]);
            const [reg] = run.mocks.ofType("pulumi-nodejs:dynamic/hardway:TokenRegistration");
            assert.deepEqual(
                { server: reg.inputs.access.server, caPem: reg.inputs.access.caPem, certPem: reg.inputs.access.certPem, keyPem: reg.inputs.access.keyPem },
                { server: URL, caPem: ca.certPem.trim() + "\n", certPem: adminCert.trim() + "\n", keyPem: adminKey },
            );
            assert.equal(run.outputs.controlPlaneVersion, "1.34.4");
            assert.equal(run.outputs.kubeProxyMode, "ipvs");
        });
    }

    it("fails naming the field when a value set directly differs from the control plane's", async () => {
        const other = makeCa("other-ca");
        const mocks = mocksWith(cpOutputs, ["apiAdminKeyPem"]);
        await assert.rejects(
            runProgram(config({ caCertPem: other.certPem }), mocks),
            (e: Error) =>
                e.message.includes(
                    `hardway-workers:caCertPem: is set in this stack's config and differs from output caCertPem of controlPlaneStack "${STACK}"; unset one of them (or make them equal)`,
                ),
        );
        assert.deepEqual(
            mocks.resources.map((r) => r.type),
            ["pulumi:pulumi:StackReference"],
            "nothing but the reference is registered",
        );
    });

    it("refuses an admin key the control plane stack exports in plain text", async () => {
        await assert.rejects(
            runProgram(config(), mocksWith(cpOutputs, [])),
            (e: Error) => e.message.includes(`hardway-workers:apiAdminKeyPem: output apiAdminKeyPem of controlPlaneStack "${STACK}" is not a secret output`),
        );
    });

    it("names the missing API server when neither side gives it", async () => {
        const { apiServer: _, ...withoutServer } = cpOutputs;
        await assert.rejects(
            runProgram(config(), mocksWith(withoutServer, ["apiAdminKeyPem"])),
            (e: Error) => e.message.includes("hardway-workers:apiServer: is required"),
        );
    });

    it("loadConfig before readControlPlane says the control plane stack was not read", () => {
        setStackConfig(baseConfig({ controlPlaneStack: "acme/control-plane/never-read", nodes: [GUIDE_NODES[2]] }));
        assert.throws(() => loadConfig(), {
            message:
                "invalid stack config:\n  - hardway-workers:controlPlaneStack: was not read: the program (index.ts) reads it with readControlPlane before loadConfig",
        });
    });

    it("drops the SDK's debug messages before it reads the control plane stack (the read's response holds the admin key in plain text)", async () => {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const log = require("@pulumi/pulumi/log") as { debug: (...a: unknown[]) => Promise<void> };
        const original = log.debug;
        const sent: unknown[] = [];
        log.debug = (...a: unknown[]) => {
            sent.push(a);
            return Promise.resolve();
        };
        try {
            const run = await runProgram(config(), mocksWith(cpOutputs, ["apiAdminKeyPem"]));
            assert.equal(run.mocks.ofType("pulumi:pulumi:StackReference").length, 1);
            assert.deepEqual(sent, [], "no SDK debug message reaches the engine");
        } finally {
            log.debug = original;
        }
    });

    it("without controlPlaneStack registers no reference and exports no control plane version", async () => {
        const run = await runProgram(baseConfig({ nodes: [GUIDE_NODES[2]] }), new ProgramMocks(ca));
        assert.equal(run.mocks.ofType("pulumi:pulumi:StackReference").length, 0);
        assert.equal(run.outputs.controlPlaneVersion, undefined);
    });
});
