/**
 * The `lab` stack: the program pointed at the local lab's four nodes
 * (lab/up.sh writes $LAB_DIR/lab.json), on a file backend inside the lab's
 * state directory. Used by `npm run lab`, the e2e suite and the benchmarks.
 */
import * as fs from "fs";
import * as path from "path";
import { ConfigMap, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";

export const REPO = path.resolve(__dirname, "..");
/** The policy pack's folder: `--policy-pack` of `npm run lab` and the workflows. */
export const POLICY_PACK = path.join(REPO, "policy");
export const LAB_DIR = process.env["LAB_DIR"] ?? "/var/lib/hardway-lab";

export interface LabNode {
    name: string;
    fqdn: string;
    ip: string;
    role: "control-plane" | "worker";
    sshHost: string;
    sshPort: number;
    hostKey: string;
    netns: string;
    pid: number;
}

export interface Lab {
    nodes: LabNode[];
    sshPrivateKeyFile: string;
    knownHostsFile: string;
    caCertFile: string;
    caKeyFile: string;
    apiServer: string;
    mirror: {
        kubernetesBaseUrl: string;
        crictlBaseUrl: string;
        cniBaseUrl: string;
        kubernetesVersion: string;
        crictlVersion: string;
        cniVersion: string;
        standIns: string[];
        /** Other Kubernetes versions whose kubelet and kube-proxy the mirror serves (node-only builds). */
        extraKubernetesVersions?: string[];
    };
    /** The node that runs containerd 2.x (built from its Go module) instead of Debian's 1.6, and that version; null: none does. */
    containerd2?: { node: string; version: string } | null;
}

/** The lab's control plane (lab/cluster.sh up writes $LAB_DIR/cluster.json): test scaffolding. */
export interface LabCluster {
    apiServer: string;
    version: string;
    binDir: string;
    kubectl: string;
    kubeconfig: string;
    adminCertFile: string;
    adminKeyFile: string;
    serviceCidr: string;
}

export function readLab(dir = LAB_DIR): Lab {
    const file = path.join(dir, "lab.json");
    if (!fs.existsSync(file)) {
        throw new Error(`${file} is missing: bring the lab up first (lab/up.sh)`);
    }
    return JSON.parse(fs.readFileSync(file, "utf8")) as Lab;
}

/** The lab's control plane, when lab/cluster.sh has started it. */
export function readLabCluster(dir = LAB_DIR): LabCluster | undefined {
    const file = path.join(dir, "cluster.json");
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as LabCluster) : undefined;
}

/** The stack config for the lab; `overrides` replace or add keys (without the namespace). */
export function labConfig(lab: Lab, overrides: Record<string, unknown> = {}, nodes: LabNode[] = lab.nodes): ConfigMap {
    const plain: Record<string, unknown> = {
        kubernetesVersion: lab.mirror.kubernetesVersion,
        apiServer: lab.apiServer,
        clusterName: "hardway-lab",
        clusterCidr: "10.244.0.0/16",
        caCertPem: fs.readFileSync(lab.caCertFile, "utf8"),
        // The lab kernel has no IP_VS (shared/reference/lab.md): iptables mode.
        kubeProxyMode: "iptables",
        // kubelet, kube-proxy and crictl are stand-ins that exit non-zero until
        // real binaries are built: do not wait for those services to be active.
        waitForServices: lab.mirror.standIns.length === 0,
        downloads: {
            kubernetesBaseUrl: lab.mirror.kubernetesBaseUrl,
            crictlBaseUrl: lab.mirror.crictlBaseUrl,
            cniBaseUrl: lab.mirror.cniBaseUrl,
            crictlVersion: lab.mirror.crictlVersion,
            cniVersion: lab.mirror.cniVersion,
        },
        nodes: nodes.map((n) => ({ name: n.name, fqdn: n.fqdn, ip: n.ip, role: n.role, sshHost: n.sshHost, sshPort: n.sshPort, hostKey: n.hostKey })),
        ...overrides,
    };
    const config: ConfigMap = {};
    for (const [k, v] of Object.entries(plain)) {
        if (v !== undefined) {
            config[`hardway-workers:${k}`] = { value: typeof v === "string" ? v : JSON.stringify(v) };
        }
    }
    config["hardway-workers:caKeyPem"] = { value: fs.readFileSync(lab.caKeyFile, "utf8"), secret: true };
    config["hardway-workers:sshPrivateKey"] = { value: fs.readFileSync(lab.sshPrivateKeyFile, "utf8"), secret: true };
    // With the lab's control plane up, the program registers the token and
    // waits for the nodes through the API, as an administrator.
    const cluster = readLabCluster(path.dirname(path.dirname(lab.caCertFile)));
    if (cluster && overrides["apiAdminCertPem"] === undefined) {
        config["hardway-workers:apiAdminCertPem"] = { value: fs.readFileSync(cluster.adminCertFile, "utf8") };
        config["hardway-workers:apiAdminKeyPem"] = { value: fs.readFileSync(cluster.adminKeyFile, "utf8"), secret: true };
    }
    return config;
}

/** Environment for the Pulumi CLI: a file backend in the lab dir, a throwaway passphrase, no plugin downloads. */
export function labEnv(dir = LAB_DIR): Record<string, string> {
    const backend = path.join(dir, "pulumi-state");
    fs.mkdirSync(backend, { recursive: true });
    return {
        PULUMI_BACKEND_URL: `file://${backend}`,
        PULUMI_CONFIG_PASSPHRASE: "hardway-lab",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_SKIP_UPDATE_CHECK: "true",
    };
}

export async function labStack(stackName = "lab", dir = LAB_DIR): Promise<Stack> {
    const envVars = labEnv(dir);
    for (const [k, v] of Object.entries(envVars)) {
        process.env[k] = v;
    }
    return LocalWorkspace.createOrSelectStack({ stackName, workDir: REPO }, { envVars });
}

/** `npm run lab`: configure the lab stack and run `pulumi up`. */
async function main(): Promise<void> {
    const lab = readLab();
    const stack = await labStack();
    await stack.setAllConfig(labConfig(lab));
    // The policy pack (policy/, compiled to bin/policy by the build) checks the preview.
    // `--refresh`: the tests and the benchmarks reset the lab's nodes under this stack
    // (lab/reset.sh), and only a refresh sees that (README, Drift); a new stack has nothing to refresh.
    const result = await stack.up({ onOutput: (s) => process.stdout.write(s), color: "never", policyPacks: [POLICY_PACK], refresh: true });
    process.stdout.write(`\nlab: pulumi up ${result.summary.result}: ${JSON.stringify(result.summary.resourceChanges)}\n`);
}

if (require.main === module) {
    main().catch((e: unknown) => {
        process.stderr.write(`lab: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
    });
}
