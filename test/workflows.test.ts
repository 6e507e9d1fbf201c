/**
 * The GitHub Actions workflows (.github/workflows): actionlint passes on
 * each, and the pipeline's contract holds, read from the YAML: every stack
 * file is previewed, prod's `up` runs only behind its environment, the jobs
 * that reach the nodes run on self-hosted runners, every action is pinned to
 * an exact version, no step echoes a secret.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { stackFiles, stackNameOf } from "./support/stacks";

const REPO = path.resolve(__dirname, "..");
const WORKFLOWS = path.join(REPO, ".github/workflows");

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    if?: string;
    env?: Record<string, string>;
    with?: Record<string, unknown>;
}

interface Job {
    if?: string;
    "runs-on": string | string[];
    environment?: string | { name: string };
    concurrency?: { group: string; "cancel-in-progress"?: boolean | string };
    strategy?: { matrix?: Record<string, unknown> };
    steps: Step[];
}

interface Workflow {
    on: Record<string, unknown>;
    permissions?: Record<string, string>;
    concurrency?: { group: string; "cancel-in-progress"?: boolean | string };
    jobs: Record<string, Job>;
}

function workflowFiles(): string[] {
    return fs
        .readdirSync(WORKFLOWS)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort();
}

function read(file: string): Workflow {
    return YAML.parse(fs.readFileSync(path.join(WORKFLOWS, file), "utf8")) as Workflow;
}

/** The pulumi/actions steps of a job. */
function pulumiSteps(job: Job): Step[] {
    return job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));
}

/** The stacks a job's matrix runs, or the stack its step names outright. */
function stacksOf(job: Job, step: Step): string[] {
    const name = String(step.with?.["stack-name"] ?? "");
    if (name.includes("${{ matrix.stack }}")) {
        return (job.strategy?.matrix?.["stack"] as string[]) ?? [];
    }
    return [name.slice(name.lastIndexOf("/") + 1)];
}

function labels(job: Job): string[] {
    return Array.isArray(job["runs-on"]) ? job["runs-on"] : [job["runs-on"]];
}

function environmentOf(job: Job): string | undefined {
    return typeof job.environment === "string" ? job.environment : job.environment?.name;
}

/** Every (workflow, job, step) with a pulumi/actions step. */
function pulumiRuns(): { file: string; jobName: string; job: Job; step: Step }[] {
    return workflowFiles().flatMap((file) =>
        Object.entries(read(file).jobs).flatMap(([jobName, job]) => pulumiSteps(job).map((step) => ({ file, jobName, job, step }))),
    );
}

/** A pinned action: owner/repo[/path]@vX.Y.Z, or @ a full commit SHA. */
export const PINNED = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_./-]+)?@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/;

/**
 * Whether a `run:` script could print a secret: it names `secrets.` itself,
 * or it echoes/prints a variable the step's env fills from a secret or a token.
 */
export function echoesSecret(step: Step): boolean {
    const run = step.run ?? "";
    if (/\$\{\{\s*secrets\./.test(run)) {
        return true;
    }
    const secretVars = Object.entries(step.env ?? {})
        .filter(([, v]) => /secrets\.|token/i.test(String(v)))
        .map(([k]) => k);
    const printers = run.split("\n").filter((l) => /\b(echo|printf|cat|tee|env|printenv|set\s+-x)\b/.test(l));
    return secretVars.some((v) => printers.some((l) => new RegExp(`\\$\\{?${v}\\b`).test(l) || /\b(env|printenv)\b/.test(l))) ||
        printers.some((l) => /PULUMI_ACCESS_TOKEN|PULUMI_CONFIG_PASSPHRASE/.test(l));
}

describe("workflows: the pipeline's contract", () => {
    it("are preview.yml, deploy.yml and drift.yml", () => {
        assert.deepEqual(workflowFiles(), ["deploy.yml", "drift.yml", "preview.yml"]);
    });

    it("preview every stack file on pull requests, with comment-on-pr, diff and the policy pack", () => {
        const preview = read("preview.yml");
        assert.ok("pull_request" in preview.on);
        const previewed = Object.values(preview.jobs).flatMap((job) =>
            pulumiSteps(job)
                .filter((s) => s.with?.["command"] === "preview")
                .flatMap((s) => {
                    assert.equal(s.with?.["comment-on-pr"], true);
                    assert.equal(s.with?.["diff"], true);
                    assert.equal(s.with?.["policyPacks"], "policy");
                    return stacksOf(job, s);
                }),
        );
        assert.deepEqual([...previewed].sort(), stackFiles().map(stackNameOf).sort());
    });

    it("preview: one concurrency group per pull request, cancelling the previous run", () => {
        const c = read("preview.yml").concurrency!;
        assert.match(c.group, /github\.event\.pull_request\.number/);
        assert.equal(c["cancel-in-progress"], true);
    });

    it("run `up` on prod only behind the production environment, on a release tag or by hand", () => {
        const ups = pulumiRuns().filter((r) => r.step.with?.["command"] === "up");
        assert.ok(ups.length > 0);
        const prod = ups.filter((r) => stacksOf(r.job, r.step).includes("prod"));
        assert.deepEqual(
            prod.map((r) => `${r.file}:${r.jobName}`),
            ["deploy.yml:prod"],
        );
        for (const r of prod) {
            assert.equal(environmentOf(r.job), "production");
            assert.deepEqual(stacksOf(r.job, r.step), ["prod"], "the prod job runs no other stack");
            assert.match(r.job.if ?? "", /refs\/tags\/release-/);
            assert.match(r.job.if ?? "", /workflow_dispatch/);
        }
        for (const r of ups.filter((u) => !prod.includes(u))) {
            assert.notEqual(environmentOf(r.job), "production", `${r.file}:${r.jobName}`);
        }
        const staging = ups.filter((r) => stacksOf(r.job, r.step).includes("staging"));
        assert.deepEqual(staging.map((r) => `${r.file}:${r.jobName}`), ["deploy.yml:staging"]);
        assert.match(staging[0].job.if ?? "", /refs\/heads\/main/);
    });

    it("deploy: one concurrency group per stack, never cancelled", () => {
        const groups = pulumiRuns()
            .filter((r) => r.step.with?.["command"] === "up")
            .map((r) => {
                assert.equal(r.job.concurrency?.["cancel-in-progress"], false, r.jobName);
                return [stacksOf(r.job, r.step)[0], r.job.concurrency!.group];
            });
        assert.deepEqual(groups, [
            ["staging", "pulumi-staging"],
            ["prod", "pulumi-prod"],
        ]);
    });

    it("drift: a schedule runs preview --refresh --expect-no-changes on every stack file", () => {
        const drift = read("drift.yml");
        assert.ok("schedule" in drift.on);
        const checked = Object.values(drift.jobs).flatMap((job) =>
            pulumiSteps(job).flatMap((s) => {
                assert.deepEqual([s.with?.["command"], s.with?.["refresh"], s.with?.["expect-no-changes"]], ["preview", true, true]);
                return stacksOf(job, s);
            }),
        );
        assert.deepEqual([...checked].sort(), stackFiles().map(stackNameOf).sort());
        for (const job of Object.values(drift.jobs)) {
            assert.equal((job.strategy as Record<string, unknown>)["fail-fast"], false, "one drifted stack does not hide the others");
        }
    });

    it("previews skip the engine's intermediate checkpoints; `up` keeps them", () => {
        const runs = pulumiRuns();
        assert.deepEqual([...new Set(runs.map((r) => String(r.step.with?.["command"])))].sort(), ["preview", "up"]);
        for (const r of runs) {
            const skip = r.step.env?.["PULUMI_SKIP_CHECKPOINTS"];
            assert.equal(skip, r.step.with?.["command"] === "preview" ? "true" : undefined, `${r.file}:${r.jobName}: PULUMI_SKIP_CHECKPOINTS ${skip}`);
        }
        for (const file of workflowFiles()) {
            const wf = read(file) as Workflow & { env?: Record<string, string> };
            const jobs = Object.entries(wf.jobs) as [string, Job & { env?: Record<string, string> }][];
            assert.ok(!("PULUMI_SKIP_CHECKPOINTS" in (wf.env ?? {})), `${file}: set on a step, never on the whole workflow`);
            for (const [jobName, job] of jobs) {
                assert.ok(!("PULUMI_SKIP_CHECKPOINTS" in (job.env ?? {})), `${file}:${jobName}: set on a step, never on a job`);
            }
        }
    });

    it("bound --parallel on every Pulumi run", () => {
        for (const r of pulumiRuns()) {
            const p = Number(r.step.with?.["parallel"]);
            assert.ok(Number.isInteger(p) && p >= 1 && p <= 10, `${r.file}:${r.jobName}: parallel ${r.step.with?.["parallel"]}`);
        }
    });

    it("run the jobs that reach the nodes (up, refresh) on self-hosted runners", () => {
        for (const r of pulumiRuns().filter((x) => x.step.with?.["command"] === "up" || x.step.with?.["refresh"] === true)) {
            assert.ok(labels(r.job).includes("self-hosted"), `${r.file}:${r.jobName}: ${labels(r.job).join(", ")}`);
        }
    });

    it("log in by OIDC before every Pulumi run, with id-token permission", () => {
        for (const file of workflowFiles()) {
            const wf = read(file);
            assert.equal(wf.permissions?.["id-token"], "write", file);
            for (const [jobName, job] of Object.entries(wf.jobs)) {
                const auth = job.steps.findIndex((s) => s.uses?.startsWith("pulumi/auth-actions@"));
                const pulumi = job.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@"));
                if (pulumi >= 0) {
                    assert.ok(auth >= 0 && auth < pulumi, `${file}:${jobName}`);
                }
            }
        }
    });

    it("pin every action to an exact version", () => {
        const uses = workflowFiles().flatMap((file) => Object.values(read(file).jobs).flatMap((job) => job.steps.map((s) => s.uses).filter((u): u is string => !!u)));
        assert.ok(uses.length > 0);
        assert.deepEqual(uses.filter((u) => !PINNED.test(u)), []);
        assert.ok(uses.some((u) => u.startsWith("pulumi/actions@v7.")));
    });

    it("the pin check refuses a major tag, a branch and a short SHA", () => {
        const cases: [string, boolean][] = [
            ["pulumi/actions@v7.0.0", true],
            ["actions/checkout@0123456789abcdef0123456789abcdef01234567", true],
            ["pulumi/actions@v7", false],
            ["actions/checkout@main", false],
            ["actions/checkout@0123abc", false],
        ];
        assert.deepEqual(cases.map(([u]) => [u, PINNED.test(u)]), cases);
    });

    it("no step echoes a secret", () => {
        for (const file of workflowFiles()) {
            for (const [jobName, job] of Object.entries(read(file).jobs)) {
                for (const step of job.steps) {
                    assert.ok(!echoesSecret(step), `${file}:${jobName}: ${step.name ?? step.run ?? step.uses}`);
                }
            }
        }
    });

    it("the echo check finds a secret printed directly, through env, or a token variable", () => {
        const cases: [Step, boolean][] = [
            [{ run: "echo ${{ secrets.PULUMI_ACCESS_TOKEN }}" }, true],
            [{ run: 'printf "%s" "$TOKEN"', env: { TOKEN: "${{ secrets.X }}" } }, true],
            [{ run: "env | sort", env: { KEY: "${{ secrets.X }}" } }, true],
            [{ run: "echo $PULUMI_ACCESS_TOKEN" }, true],
            [{ run: 'printf "%s" "$STACK"', env: { STACK: "${{ matrix.stack }}" } }, false],
            [{ run: "npm ci" }, false],
        ];
        assert.deepEqual(cases.map(([s]) => echoesSecret(s)), cases.map(([, e]) => e));
    });
});

/** setup.sh's actionlint: the version it builds, in the cache it builds into. */
function actionlintBinary(): { version: string; file: string } {
    const setup = fs.readFileSync(path.join(REPO, "scripts/setup.sh"), "utf8");
    const version = /^ACTIONLINT_VERSION="(v[\d.]+)"$/m.exec(setup)![1];
    const cache = process.env["HARDWAY_CACHE"] ?? path.join(os.homedir(), ".cache/hardway-workers");
    return { version, file: path.join(cache, `actionlint-${version}`, "actionlint") };
}

describe("workflows: actionlint", () => {
    const { version, file } = actionlintBinary();

    it("setup.sh builds actionlint v1.7.12", () => {
        assert.equal(version, "v1.7.12");
    });

    it(`passes on every workflow (actionlint ${version}, with shellcheck)`, function () {
        if (!fs.existsSync(file)) {
            if (process.env["CI"] === "true") {
                assert.fail(`${file} is missing: scripts/setup.sh builds it`);
            }
            console.log(`      actionlint skipped: ${file} is missing (bash scripts/setup.sh builds it)`);
            this.skip();
        }
        const v = spawnSync(file, ["-version"], { encoding: "utf8" });
        assert.equal(v.stdout.split("\n")[0], version);
        const files = workflowFiles().map((f) => path.join(".github/workflows", f));
        const r = spawnSync(file, ["-no-color", ...files], { cwd: REPO, encoding: "utf8" });
        assert.equal(`${r.stdout}${r.stderr}`, "");
        assert.equal(r.status, 0);
    });

    it("fails on a broken workflow (the check can fail)", function () {
        if (!fs.existsSync(file)) {
            this.skip();
        }
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "actionlint-"));
        try {
            const broken = path.join(dir, "broken.yml");
            fs.writeFileSync(broken, "on: push\njobs:\n  a:\n    needs: [nope]\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo hi\n");
            const r = spawnSync(file, ["-no-color", broken], { encoding: "utf8" });
            assert.equal(r.status, 1);
            assert.match(r.stdout, /job "a" needs job "nope" which does not exist/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
