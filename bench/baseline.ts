/**
 * The baseline's inputs: for each lab node, a directory with the very files
 * the program would write (rendered by the program's own renderers), the
 * node's certificates (RSA 2048, signed by the lab CA, as @pulumi/tls makes
 * them), the bootstrap kubeconfig with a fresh token, and what to download.
 * bench/baseline.sh streams each directory to its node over one SSH session.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { Lab, labConfig } from "../scripts/labstack";
import { NodeConfig, WorkerConfig } from "../components/config/types";
import { validateConfig } from "../components/config/validate";
import { kubeletInput } from "../components/kubelet/plan";
import { PATHS } from "../components/kube/paths";
import { renderBootstrapManifests } from "../components/bootstrap-token/manifests";
import { renderLoopbackConf } from "../components/kubelet/cni";
import { renderContainerdConfig } from "../components/containerd/render";
import { downloadPlan } from "../components/binaries/downloads";
import { ClusterRef, renderBootstrapKubeconfig, renderCertKubeconfig } from "../components/kube/kubeconfig";
import { renderKubeletConfig, renderKubeletUnit } from "../components/kubelet/render";
import { renderKubeProxyConfig, renderKubeProxyUnit } from "../components/kube-proxy/render";
import { containerdConfigVersionFor, parseVersion } from "../components/kube/versions";
import { makeCsr, signCsr } from "../test/support/pki";

const generateKeyPair = promisify(crypto.generateKeyPair);

/** Written into config.toml in place of the kubernetes group's gid, which only the node knows; baseline.sh substitutes it. */
export const GID_PLACEHOLDER = 424242424;

/** What the nodes' containerd installation reports (the program reads the same facts on the node). */
export interface ContainerdFacts {
    containerdVersion: string;
    runc: string;
}

/** The same text as components/scripts/node.ts systemScript() writes. */
const TMPFILES_CONF = "# /run is a tmpfs: recreate the kubelet's run directory at boot.\nd /run/kubernetes 0755 kubernetes kubernetes -\n";

/** The lab stack's config, validated by the program's own validator. */
export function labWorkerConfig(lab: Lab): WorkerConfig {
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(labConfig(lab))) {
        const key = k.replace(/^hardway-workers:/, "");
        raw[key] = ["nodes", "downloads", "clusterDns"].includes(key) ? JSON.parse(v.value) : v.value;
    }
    return validateConfig(raw);
}

/** An RSA 2048 key, PKCS#1 PEM as @pulumi/tls writes it; async, so that the keys are made in parallel. */
async function rsaKey(): Promise<string> {
    const { privateKey } = await generateKeyPair("rsa", { modulusLength: 2048 });
    return privateKey.export({ type: "pkcs1", format: "pem" }).toString();
}

function certificate(ca: { certPem: string; keyPem: string }, node: NodeConfig, keyPem: string, cn: string, o: string, usage: string, hours: number) {
    const csr = makeCsr({ privateKeyPem: keyPem, commonName: cn, organization: o, dnsNames: [node.fqdn], ipAddresses: [node.ip] });
    return { keyPem, certPem: signCsr(csr, ca, ["digital_signature", "key_encipherment", usage], hours) };
}

function randomText(n: number): string {
    const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    return Array.from(crypto.randomBytes(n), (b) => alphabet[b % alphabet.length]).join("");
}

/**
 * Writes `<dir>/nodes.tsv` (name, ssh host, ssh port), `<dir>/bootstrap.yaml`
 * (the token Secret and the three RBAC bindings) and per node `<dir>/<name>/`
 * with the files, `files.tsv` (file, destination, mode, phase) and
 * `downloads.tsv` (kind, url, destination).
 */
export async function prepareBaseline(lab: Lab, dir: string, facts: ContainerdFacts): Promise<void> {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const cluster = labWorkerConfig(lab);
    const ca = { certPem: fs.readFileSync(lab.caCertFile, "utf8"), keyPem: fs.readFileSync(lab.caKeyFile, "utf8") };
    const token = `${randomText(6)}.${randomText(16)}`;
    const [tokenId, tokenSecret] = token.split(".");
    fs.writeFileSync(
        path.join(dir, "bootstrap.yaml"),
        renderBootstrapManifests({ tokenId, tokenSecret, description: `hardway-workers bootstrap token for ${cluster.clusterName}` }, "hardway-workers/bench-baseline"),
        { mode: 0o600 },
    );
    const clusterRef: ClusterRef = { clusterName: cluster.clusterName, server: cluster.apiServer, caBundlePem: cluster.caBundlePem };
    const containerdVersion = parseVersion(facts.containerdVersion);
    if (!containerdVersion) {
        throw new Error(`cannot parse containerd version ${JSON.stringify(facts.containerdVersion)}`);
    }
    const configVersion =
        cluster.containerdConfigVersion === "auto" ? containerdConfigVersionFor(containerdVersion, cluster.profile) : cluster.containerdConfigVersion;
    const plan = downloadPlan(cluster.kubernetesVersion, cluster.downloads);
    const downloads = [
        ["file", plan.kubelet.url, PATHS.kubelet],
        ["file", plan.kubeProxy.url, PATHS.kubeProxy],
        ["tar", plan.crictl.url, PATHS.sbinDir],
        ["tar", plan.cni.url, PATHS.cniBinDir],
    ];
    const keys = await Promise.all(cluster.nodes.map(() => Promise.all([rsaKey(), rsaKey()])));
    const nodesTsv: string[] = [];
    for (const [i, node] of cluster.nodes.entries()) {
        const labNode = lab.nodes.find((n) => n.name === node.name)!;
        nodesTsv.push([node.name, labNode.sshHost, String(labNode.sshPort)].join("\t"));
        const input = kubeletInput(node, cluster);
        const hours = cluster.certValidityHours;
        const serving = certificate(ca, node, keys[i][0], `system:node:${node.fqdn}`, "system:nodes", "server_auth", hours);
        const proxy = certificate(ca, node, keys[i][1], "system:kube-proxy", "system:node-proxier", "client_auth", hours);
        // name on disk in the node's dir, destination, mode, phase: the program's files, in its order.
        const files: [string, string, string, string, string][] = [
            ["hardway-kubernetes.conf", PATHS.tmpfilesConf, "0644", "system", TMPFILES_CONF],
            [
                "config.toml",
                PATHS.containerdConfig,
                "0644",
                "containerd",
                renderContainerdConfig({ configVersion, containerdVersion, gid: GID_PLACEHOLDER, runcPath: facts.runc, cgroupDriver: cluster.cgroupDriver }),
            ],
            ["99-loopback.conf", PATHS.loopbackConf, "0644", "kubelet", renderLoopbackConf()],
            ["ca.crt", PATHS.caBundle, "0644", "kubelet", cluster.caBundlePem],
            ["kubelet.crt", PATHS.kubeletCert, "0644", "kubelet", serving.certPem],
            ["kubelet.key", PATHS.kubeletKey, "0600", "kubelet", serving.keyPem],
            ["bootstrap.kubeconfig", PATHS.bootstrapKubeconfig, "0600", "kubelet", renderBootstrapKubeconfig(clusterRef, token)],
            ["kubelet-config.yaml", PATHS.kubeletConfig, "0644", "kubelet", renderKubeletConfig(input)],
            ["kubelet.service", PATHS.kubeletUnit, "0644", "kubelet", renderKubeletUnit(input)],
            ["kube-proxy.crt", PATHS.kubeProxyCert, "0644", "kube-proxy", proxy.certPem],
            ["kube-proxy.key", PATHS.kubeProxyKey, "0600", "kube-proxy", proxy.keyPem],
            [
                "kube-proxy.kubeconfig",
                PATHS.kubeProxyKubeconfig,
                "0600",
                "kube-proxy",
                renderCertKubeconfig(clusterRef, "system:kube-proxy", PATHS.kubeProxyCert, PATHS.kubeProxyKey),
            ],
            [
                "kubeproxy-config.yaml",
                PATHS.kubeProxyConfig,
                "0644",
                "kube-proxy",
                renderKubeProxyConfig({ profile: cluster.profile, nodeName: node.name, mode: cluster.kubeProxyMode, clusterCidr: cluster.clusterCidr }),
            ],
            ["kube-proxy.service", PATHS.kubeProxyUnit, "0644", "kube-proxy", renderKubeProxyUnit()],
        ];
        const nodeDir = path.join(dir, node.name);
        fs.mkdirSync(nodeDir, { mode: 0o700 });
        for (const [name, , , , content] of files) {
            fs.writeFileSync(path.join(nodeDir, name), content, { mode: 0o600 });
        }
        fs.writeFileSync(path.join(nodeDir, "files.tsv"), files.map((f) => f.slice(0, 4).join("\t") + "\n").join(""));
        fs.writeFileSync(path.join(nodeDir, "downloads.tsv"), downloads.map((d) => d.join("\t") + "\n").join(""));
        fs.writeFileSync(path.join(nodeDir, "params"), `GID_PLACEHOLDER=${GID_PLACEHOLDER}\nIPVS=${cluster.kubeProxyMode === "ipvs" ? 1 : 0}\n`);
    }
    fs.writeFileSync(path.join(dir, "nodes.tsv"), nodesTsv.join("\n") + "\n");
}
