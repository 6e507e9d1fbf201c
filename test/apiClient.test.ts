/**
 * The dynamic providers' parts: the Kubernetes API client against a scripted
 * server over real TLS, values not known until the update, the lazy loader
 * a resource stores, and what each resource keeps secret in the state.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { engineAddressOf } from "../providers/engineWatch";
import { ApiAccess, ApiError, ApiResponse, apiCall, apiRequest, reasonOf } from "../providers/kubeApi";
import { lazyProvider } from "../providers/lazy";
import { UNKNOWN, hasUnknown } from "../providers/unknown";
import { fakeApi } from "./support/fakeApi";

const TOKEN = "abcdef.0123456789abcdef";

describe("providers: the engine's address, malformed", () => {
    it("an address without a host, a port or with trailing text is none", () => {
        const cases: [string[], { host: string; port: number } | undefined][] = [
            [["node", "/x/dynamic-provider/index.js", "127.0.0.1:"], undefined],
            [["node", "/x/dynamic-provider/index.js", ":5000"], undefined],
            [["node", "/x/dynamic-provider/index.js", "127.0.0.1:5000x"], undefined],
            [["node", "/x/dynamic-provider/index.js", "x127.0.0.1:5000"], { host: "x127.0.0.1", port: 5000 }],
            [["node"], undefined],
            [["node", "/x/other/index.js", "127.0.0.1:5000"], undefined],
        ];
        for (const [argv, want] of cases) {
            assert.deepEqual(engineAddressOf(argv), want, argv.join(" "));
        }
    });
});

describe("providers: the API client", () => {
    it("reasonOf: the server's message, else the body's text or JSON, cut at 300 characters", () => {
        const long = "x".repeat(400);
        const table: [ApiResponse["body"], string][] = [
            [{ message: "nodes is forbidden" }, "nodes is forbidden"],
            [{ message: 5 }, '{"message":5}'],
            [{ kind: "Status", code: 500 }, '{"kind":"Status","code":500}'],
            [{ message: long }, long],
            [long, "x".repeat(300)],
            [{ data: long }, `{"data":"${long}`.slice(0, 300)],
            ["upstream connect error", "upstream connect error"],
            [undefined, '""'],
            [null, '""'],
        ];
        for (const [body, want] of table) {
            assert.equal(reasonOf({ status: 500, body }), want, JSON.stringify(body));
        }
    });

    it("sends JSON bodies with their type and length, asks for JSON, and reads JSON, text or nothing back", async () => {
        const answers: Record<string, { status: number; body?: unknown; raw?: string }> = {
            "/json": { status: 200, body: { kind: "Node" } },
            "/text": { status: 502, raw: "Bad Gateway" },
            "/empty": { status: 204, raw: "" },
        };
        const api = await fakeApi((s) => answers[s.path] ?? { status: 404 });
        try {
            assert.deepEqual(await apiRequest(api.access, "GET", "/json"), { status: 200, body: { kind: "Node" } });
            assert.deepEqual(await apiRequest(api.access, "GET", "/text"), { status: 502, body: "Bad Gateway" });
            assert.deepEqual(await apiRequest(api.access, "GET", "/empty"), { status: 204, body: undefined });
            assert.deepEqual(await apiRequest(api.access, "POST", "/json", { a: "é" }), { status: 200, body: { kind: "Node" } });
            await apiRequest(api.access, "PATCH", "/json", { b: 1 }, "application/merge-patch+json");
            assert.deepEqual(
                api.seen.map((s) => [s.method, s.accept, s.contentType, s.contentLength, s.body]),
                [
                    ["GET", "application/json", undefined, undefined, undefined],
                    ["GET", "application/json", undefined, undefined, undefined],
                    ["GET", "application/json", undefined, undefined, undefined],
                    ["POST", "application/json", "application/json", "10", { a: "é" }],
                    ["PATCH", "application/json", "application/merge-patch+json", "7", { b: 1 }],
                ],
            );
        } finally {
            await api.close();
        }
    });

    it("fails naming the call when the server cannot be reached or does not answer in time", async () => {
        const closed = net.createServer();
        await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
        const port = (closed.address() as net.AddressInfo).port;
        await new Promise((r) => closed.close(r));
        const gone: ApiAccess = { server: `https://127.0.0.1:${port}`, caPem: "", certPem: "", keyPem: "" };
        await assert.rejects(apiRequest(gone, "GET", "/api/v1/nodes/w1"), { message: `GET https://127.0.0.1:${port}/api/v1/nodes/w1: connect ECONNREFUSED 127.0.0.1:${port}` });
        const api = await fakeApi(() => ({ status: 200, hang: true }));
        try {
            const server = api.access.server;
            await assert.rejects(apiRequest(api.access, "DELETE", "/slow", undefined, undefined, 200), { message: `DELETE ${server}/slow: no answer within 200 ms` });
        } finally {
            await api.close();
        }
    });

    it("apiCall: 2xx, or a status the caller accepts, answers; anything else is an ApiError naming the call", async () => {
        const api = await fakeApi((s) => ({ status: Number(s.path.slice(1)), body: { message: `status ${s.path.slice(1)}` } }));
        try {
            const table: [number, number[], string | undefined][] = [
                [200, [], undefined],
                [201, [], undefined],
                [299, [], undefined],
                [300, [], "GET /300: HTTP 300: status 300"],
                [404, [], "GET /404: HTTP 404: status 404"],
                [404, [404], undefined],
                [409, [404], "GET /409: HTTP 409: status 409"],
                [500, [], "GET /500: HTTP 500: status 500"],
            ];
            for (const [status, ok, error] of table) {
                const call = apiCall(api.access, "GET", `/${status}`, undefined, undefined, ok);
                if (error === undefined) {
                    assert.equal((await call).status, status);
                } else {
                    await assert.rejects(call, (e: unknown) => e instanceof ApiError && e.message === error && e.status === status && e.reason === `status ${status}` && e.name === "ApiError");
                }
            }
        } finally {
            await api.close();
        }
    });
});

describe("providers: values not known until the update", () => {
    it("hasUnknown finds the engine's unknown anywhere inside a value", () => {
        const table: [unknown, boolean][] = [
            [UNKNOWN, true],
            ["04da6b54", false],
            [undefined, false],
            [null, false],
            [[], false],
            [["a", UNKNOWN], true],
            [["a", "b"], false],
            [[["x", [UNKNOWN]]], true],
            [{}, false],
            [{ a: "x", b: UNKNOWN }, true],
            [{ a: "x", b: "y" }, false],
            [{ a: { b: [1, { c: UNKNOWN }] } }, true],
            [7, false],
        ];
        for (const [v, want] of table) {
            assert.equal(hasUnknown(v), want, JSON.stringify(v));
        }
        assert.equal(UNKNOWN, "04da6b54-80e4-46f7-96ec-b56ff0331ba9");
    });
});

describe("providers: what a resource stores of its provider (lazy.ts)", () => {
    let tmp: string;
    const cwd = process.cwd();
    before(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hardway-lazy-"));
        fs.mkdirSync(path.join(tmp, "proj/bin/providers"), { recursive: true });
        fs.mkdirSync(path.join(tmp, "proj/providers"), { recursive: true });
        fs.mkdirSync(path.join(tmp, "proj/deep/er"), { recursive: true });
        fs.writeFileSync(path.join(tmp, "proj/Pulumi.yaml"), "name: p\n");
        const impl = (from: string) =>
            `exports.impl = Object.fromEntries(["check", "diff", "create", "update", "delete", "read"].map((m) => [m, (...args) => ({ from: ${JSON.stringify(from)}, m, args })]));\n`;
        fs.writeFileSync(path.join(tmp, "proj/bin/providers/compiled.js"), impl("bin"));
        fs.writeFileSync(path.join(tmp, "proj/bin/providers/both.js"), impl("bin"));
        fs.writeFileSync(path.join(tmp, "proj/providers/both.ts"), impl("source"));
        fs.writeFileSync(path.join(tmp, "proj/bin/providers/noread.js"), "exports.impl = { create: () => ({}) };\n");
    });
    after(() => {
        process.chdir(cwd);
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("loads the implementation from the project above the working directory: its source under ts-node, else bin/; each call forwards its arguments", async () => {
        process.chdir(path.join(tmp, "proj/deep/er"));
        try {
            const compiled: any = lazyProvider("compiled", "impl");
            assert.deepEqual(await compiled.check("o", "n"), { from: "bin", m: "check", args: ["o", "n"] });
            assert.deepEqual(await compiled.diff("id", "o", "n"), { from: "bin", m: "diff", args: ["id", "o", "n"] });
            assert.deepEqual(await compiled.create("i"), { from: "bin", m: "create", args: ["i"] });
            assert.deepEqual(await compiled.update("id", "o", "n"), { from: "bin", m: "update", args: ["id", "o", "n"] });
            assert.deepEqual(await compiled.delete("id", "p"), { from: "bin", m: "delete", args: ["id", "p"] });
            assert.deepEqual(await compiled.read("id", "p"), { from: "bin", m: "read", args: ["id", "p"] });
            // An implementation without read: the state stays as it is.
            assert.deepEqual(await (lazyProvider("noread", "impl") as any).read("id", { a: 1 }), { id: "id", props: { a: 1 } });
            const both: any = lazyProvider("both", "impl");
            assert.deepEqual(await both.create("i"), { from: "source", m: "create", args: ["i"] });
        } finally {
            process.chdir(cwd);
        }
    });

    it("without the built file, fails naming it and the build", () => {
        process.chdir(path.join(tmp, "proj/deep"));
        try {
            const p = path.join(tmp, "proj");
            assert.throws(() => lazyProvider("absent", "impl").create({}), { message: `hardway-workers: ${p}/bin/providers/absent.js is missing: run 'npm run build' in ${p}` });
            process.chdir(tmp);
            assert.throws(() => lazyProvider("absent", "impl").create({}), { message: "hardway-workers: /bin/providers/absent.js is missing: run 'npm run build' in /" });
        } finally {
            process.chdir(cwd);
        }
    });
});

describe("providers: the resources keep credentials and the token secret in the state", () => {
    it("each resource's type, its provider version input, and the outputs it makes secret", async () => {
        pulumi.runtime.setMocks({ newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs }, "p", "s", false);
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const { NodeLifecycle } = require("../providers/nodeLifecycle") as typeof import("../providers/nodeLifecycle");
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const { TokenRegistration } = require("../providers/tokenRegistration") as typeof import("../providers/tokenRegistration");
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const { RolloutGate, RolloutRelease, holderOf } = require("../providers/rollout") as typeof import("../providers/rollout");
        assert.equal(holderOf("worker1"), "worker1@p/s", "a slot's holder: the node, the project and the stack");
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const { Renewal } = require("../providers/renewal") as typeof import("../providers/renewal");
        const seen: [string, string, string[] | undefined][] = [];
        const opts: pulumi.CustomResourceOptions = {
            transformations: [
                (a) => {
                    seen.push([a.type, a.props.version, (a.opts as pulumi.CustomResourceOptions).additionalSecretOutputs]);
                    return undefined;
                },
            ],
        };
        const access = { server: "https://api:6443", caPem: "ca", certPem: "cert", keyPem: "key" };
        const rollout = { access, nodeName: "w1", holder: "w1@p/s", slots: 1, leaseSeconds: 60, waitSeconds: 60, drainTimeoutSeconds: 60, disruption: "d", kubeletVersion: "v1.34.4", readyTimeoutSeconds: 60 };
        new NodeLifecycle("n", { access, nodeName: "w1", readyTimeoutSeconds: 1, drainTimeoutSeconds: 1, rollout: "r" }, opts);
        new TokenRegistration("t", { access, token: TOKEN, owner: "p/s" }, opts);
        new RolloutGate("g", rollout, opts);
        new RolloutRelease("r", rollout, opts);
        new Renewal("c", { validityHours: 2, renewBeforeHours: 1 }, opts);
        assert.deepEqual(seen, [
            ["pulumi-nodejs:dynamic/hardway:NodeLifecycle", "3", ["access"]],
            ["pulumi-nodejs:dynamic/hardway:TokenRegistration", "4", ["token", "access"]],
            ["pulumi-nodejs:dynamic/hardway:RolloutGate", "1", ["access"]],
            ["pulumi-nodejs:dynamic/hardway:RolloutRelease", "1", ["access"]],
            ["pulumi-nodejs:dynamic/hardway:Renewal", "2", undefined],
        ]);
    });
});
