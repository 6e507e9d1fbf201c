/**
 * The engine suite, the pipeline's parts: the real CLI previews a production
 * stack of this program whose API server, CA and admin credentials come from
 * a second stack (test/engine/control-plane, a control plane's stack that
 * exports the lab cluster's values) through controlPlaneStack, with the
 * policy pack (policy/). Both stacks live on their own file backend; a
 * preview opens no SSH session, so the lab's nodes are only read about
 * (lab.json, cluster.json), never touched.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigMap, EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { POLICY_PACK, REPO, labConfig, labEnv, readLab, readLabCluster } from "../../scripts/labstack";
import { makeCa } from "../support/pki";
import { replaceConfig } from "./engine";

const CP_DIR = path.join(REPO, "test/engine/control-plane");
const CP_STACK = "organization/hardway-control-plane/cp-engine";
const STACK = "organization/hardway-workers/prod-engine";
/** The keys the control plane's stack provides, left out of this stack's own config. */
const FROM_CONTROL_PLANE = ["apiServer", "caCertPem", "apiAdminCertPem", "apiAdminKeyPem"];

describe("engine: controlPlaneStack by StackReference, and the policy pack", function () {
    this.timeout(10 * 60 * 1000);
    const backend = fs.mkdtempSync(path.join(os.tmpdir(), "hardway-pipeline-state-"));
    const envVars = { ...labEnv(), PULUMI_BACKEND_URL: `file://${backend}` };
    let cp: Stack;
    let stack: Stack;
    let cpVersion: string;

    /** This stack's config: the lab's, minus what the control plane's stack gives, plus `overrides`. */
    const setConfig = async (overrides: Record<string, unknown>) => {
        const config: ConfigMap = labConfig(readLab(), { controlPlaneStack: CP_STACK, ...overrides });
        for (const key of FROM_CONTROL_PLANE) {
            if (overrides[key] === undefined) {
                delete config[`hardway-workers:${key}`];
            }
        }
        await replaceConfig(stack, config);
    };

    const preview = async (): Promise<{ ok: boolean; output: string; events: EngineEvent[] }> => {
        const events: EngineEvent[] = [];
        try {
            const r = await stack.preview({ policyPacks: [POLICY_PACK], onEvent: (e) => events.push(e), color: "never" });
            return { ok: true, output: r.stdout + r.stderr, events };
        } catch (e) {
            return { ok: false, output: String((e as Error).message), events };
        }
    };
    const violations = (events: EngineEvent[]) =>
        events
            .filter((e) => e.policyEvent)
            .map((e) => `${e.policyEvent!.enforcementLevel} ${e.policyEvent!.policyName}`)
            .sort();

    before(async () => {
        const lab = readLab();
        const cluster = readLabCluster();
        assert.ok(cluster, "the lab's control plane is up (lab/up-cluster.sh)");
        cpVersion = cluster.version;
        cp = await LocalWorkspace.createOrSelectStack({ stackName: CP_STACK, workDir: CP_DIR }, { envVars });
        await cp.setAllConfig({
            "hardway-control-plane:apiServer": { value: lab.apiServer },
            "hardway-control-plane:caCertPem": { value: fs.readFileSync(lab.caCertFile, "utf8") },
            "hardway-control-plane:apiAdminCertPem": { value: fs.readFileSync(cluster.adminCertFile, "utf8") },
            "hardway-control-plane:apiAdminKeyPem": { value: fs.readFileSync(cluster.adminKeyFile, "utf8"), secret: true },
            "hardway-control-plane:kubernetesVersion": { value: cluster.version },
        });
        const up = await cp.up({ color: "never" });
        assert.equal(up.outputs["apiAdminKeyPem"].secret, true, "the control plane exports its admin key as a secret");
        stack = await LocalWorkspace.createOrSelectStack({ stackName: STACK, workDir: REPO }, { envVars });
    });

    after(async () => {
        for (const [s, dir, name] of [
            [stack, REPO, "prod-engine"],
            [cp, CP_DIR, "cp-engine"],
        ] as const) {
            if (s) {
                await s.workspace.removeStack(s.name, { force: true }).catch(() => undefined);
            }
            fs.rmSync(path.join(dir, `Pulumi.${name}.yaml`), { force: true });
        }
        fs.rmSync(backend, { recursive: true, force: true });
    });

    it("previews a production stack that takes the API server, the CA and the admin credentials from the control plane's stack; the policy pack passes", async () => {
        await setConfig({ bootstrapTokenTtlHours: 24 });
        const r = await preview();
        assert.ok(r.ok, r.output);
        assert.deepEqual(violations(r.events), []);
        const reads = r.events.filter((e) => e.resourcePreEvent?.metadata.type === "pulumi:pulumi:StackReference");
        assert.deepEqual(
            reads.map((e) => e.resourcePreEvent!.metadata.op),
            ["read"],
        );
        // With the admin credentials from the control plane, the token is registered through the API.
        assert.ok(
            r.events.some((e) => e.resourcePreEvent?.metadata.type === "pulumi-nodejs:dynamic/hardway:TokenRegistration"),
            "a TokenRegistration is planned",
        );
        // The preview's outputs (the policy pack reads them in its stack validation).
        assert.match(r.output, new RegExp(`controlPlaneVersion\\s*: "${cpVersion.replace(/\./g, "\\.")}"`));
    });

    it("the policy pack refuses a production stack whose token never expires and whose kubelet is newer than the API server", async () => {
        const [major, minor] = cpVersion.split(".").map(Number);
        await setConfig({ bootstrapTokenTtlHours: 0, kubernetesVersion: `${major}.${minor + 1}.0` });
        const r = await preview();
        assert.equal(r.ok, false);
        assert.deepEqual(violations(r.events), ["mandatory kubelet-not-newer-than-api-server", "mandatory prod-bootstrap-token-expires"]);
    });

    it("fails naming the field when a value set directly differs from the control plane's", async () => {
        await setConfig({ bootstrapTokenTtlHours: 24, caCertPem: makeCa("another-ca").certPem });
        const r = await preview();
        assert.equal(r.ok, false);
        assert.match(
            r.output,
            /hardway-workers:caCertPem: is set in this stack's config and differs from output caCertPem of controlPlaneStack "organization\/hardway-control-plane\/cp-engine"; unset one of them \(or make them equal\)/,
        );
    });
});
