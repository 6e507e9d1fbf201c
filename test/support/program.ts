/** Runs the whole program (index.ts) under Pulumi mocks with a given stack config. */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ProgramMocks } from "./mocks";
import { TestCa, makeCa, makeCsr, rsaKeyPem, signCsr } from "./pki";

export const GUIDE_NODES = [
    { name: "cp1", fqdn: "cp1.vagrant", ip: "192.168.50.11", role: "control-plane" },
    { name: "cp2", fqdn: "cp2.vagrant", ip: "192.168.50.12", role: "control-plane" },
    { name: "worker1", fqdn: "worker1.vagrant", ip: "192.168.50.21", role: "worker" },
    { name: "worker2", fqdn: "worker2.vagrant", ip: "192.168.50.22", role: "worker" },
];

let sharedCa: TestCa | undefined;
let sharedSshKey: string | undefined;
let sharedAdmin: { keyPem: string; certPem: string } | undefined;

/** One CA and SSH key for the whole test run (RSA key generation is not free). */
export function testCa(): TestCa {
    sharedCa ??= makeCa();
    return sharedCa;
}

export function testSshKey(): string {
    sharedSshKey ??= rsaKeyPem();
    return sharedSshKey;
}

/** The API administrator's key and client certificate (CN admin, O system:masters), signed by the test CA. */
export function testAdmin(): { keyPem: string; certPem: string } {
    if (!sharedAdmin) {
        const keyPem = rsaKeyPem();
        sharedAdmin = { keyPem, certPem: signCsr(makeCsr({ privateKeyPem: keyPem, commonName: "admin", organization: "system:masters" }), testCa(), ["client_auth"], 24) };
    }
    return sharedAdmin;
}

/** baseConfig with the API administrator's credentials: each node also has its membership, rollout gate and release. */
export function withAccess(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return baseConfig({ apiAdminCertPem: testAdmin().certPem, apiAdminKeyPem: testAdmin().keyPem, ...overrides });
}

export function baseConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        kubernetesVersion: "1.37.2",
        apiServer: "https://front.vagrant:6443",
        clusterName: "vagtestcluster",
        caCertPem: testCa().certPem,
        caKeyPem: testCa().keyPem,
        sshPrivateKey: testSshKey(),
        nodes: GUIDE_NODES,
        ...overrides,
    };
}

export interface ProgramRun {
    mocks: ProgramMocks;
    outputs: Record<string, any>;
}

const INDEX = path.resolve(__dirname, "../../index.ts");

/** Sets the runtime's stack config (the `hardway-workers` namespace) as the engine would, its secret keys marked secret. */
export function setStackConfig(config: Record<string, unknown>): void {
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(config)) {
        values[`hardway-workers:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    }
    pulumi.runtime.setAllConfig(values, ["hardway-workers:caKeyPem", "hardway-workers:sshPrivateKey", "hardway-workers:bootstrapToken", "hardway-workers:apiAdminKeyPem"]);
}

/**
 * Loads a fresh copy of index.ts under new mocks and runs it as the engine
 * does (its export is the program: it reads the control plane stack, then
 * builds the rest), and resolves every stack output it returns.
 */
export async function runProgram(config: Record<string, unknown>, mocks = new ProgramMocks(testCa())): Promise<ProgramRun> {
    startMocks(mocks, "hardway-workers");
    setStackConfig(config);
    for (const key of Object.keys(require.cache)) {
        if (key.startsWith(path.resolve(__dirname, "../..")) && !key.includes("node_modules") && !key.includes(`${path.sep}test${path.sep}`)) {
            delete require.cache[key];
        }
    }
    // The program turns stack traces off for speed (index.ts); the tests keep theirs.
    const stackTraceLimit = Error.stackTraceLimit;
    let program: Record<string, unknown>;
    try {
        program = await (require(INDEX) as () => Promise<Record<string, unknown>>)();
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
    }
    const outputs: Record<string, any> = {};
    for (const [k, v] of Object.entries(program)) {
        outputs[k] = await resolveDeep(v);
    }
    await registrationsDone();
    return { mocks, outputs };
}

/** Installs the mocks for a project's stack `test`, recording what the SDK sends besides inputs (ProgramMocks.watch). */
export function startMocks(mocks: ProgramMocks, project: string): void {
    pulumi.runtime.setMocks(mocks, project, "test", mocks.preview);
    mocks.watch(settings().getMonitor());
}

/** Waits until every resource registration has reached the mocks. */
export function registrationsDone(): Promise<void> {
    return settings().waitForRPCs();
}

function settings(): { getMonitor(): unknown; waitForRPCs(): Promise<void> } {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require("@pulumi/pulumi/runtime/settings");
}

async function resolveDeep(v: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(v)) {
        // An unknown output (in a preview) never applies: it stays unknown.
        const o = v as pulumi.Output<unknown>;
        return (await (o as any).isKnown) ? resolveDeep(await (o as any).promise()) : pulumi.unknown;
    }
    if (Array.isArray(v)) {
        return Promise.all(v.map(resolveDeep));
    }
    if (v && typeof v === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) {
            out[k] = await resolveDeep(x);
        }
        return out;
    }
    return v;
}
