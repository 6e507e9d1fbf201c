/**
 * hardway-workers: turns the hosts in the stack config into Kubernetes
 * worker nodes, the hard way. The program's entry point (Pulumi.yaml's
 * main: bin/index.js): with `controlPlaneStack` set it first reads the
 * control plane stack's outputs (a StackReference; the config is validated
 * synchronously after that), then reads and validates the config (bad
 * input fails here, before any other resource is registered), then builds
 * one WorkerNode per node (a preview, a batch of nodes at a time:
 * components/node/batches.ts). What it returns are the stack outputs; those
 * left undefined (controlPlaneVersion without a control plane stack) are
 * left out.
 */
import * as pulumi from "@pulumi/pulumi";
import { BootstrapToken } from "./components/bootstrap-token/component";
import { controlPlaneVersion as readControlPlaneVersion, loadConfig, readControlPlane } from "./components/config/read";
import { WorkerNode } from "./components/node/workerNode";
import { batchEnds, collectBetweenBatches, previewBatchNodes } from "./components/node/batches";
import { formatVersion, proxyModeDeprecated } from "./components/kube/versions";
import { dropSdkStackTraces, silenceSdkDebugLog } from "./components/sdkDebugLog";

export = async (): Promise<Record<string, unknown>> => {
    // The SDK records a stack trace for each of its promises and each resource's
    // source position: at 20 resources a node that is most of the program's time
    // and memory (under mocks, 300 nodes took 88 s and 1.4 GB with V8's default of
    // 10 frames, 28 s and 1.0 GB with none). HARDWAY_STACK_TRACE_LIMIT=10 brings
    // them back when debugging the program. Both this and the SDK's debug
    // messages are off before the first resource, the StackReference, whose
    // read holds the control plane's outputs (its admin key) in plain text.
    Error.stackTraceLimit = Number(process.env["HARDWAY_STACK_TRACE_LIMIT"] ?? 0);
    dropSdkStackTraces();
    silenceSdkDebugLog();

    await readControlPlane();
    const outputs = await program();
    return Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined));
};

/** The program once the control plane stack is read: the resources, and the stack outputs. */
async function program() {
    const cluster = loadConfig();

    if (proxyModeDeprecated(cluster.kubeProxyMode, cluster.kubernetesVersion)) {
        pulumi.log.warn(
            `kube-proxy's ipvs mode is deprecated from Kubernetes 1.35 (KEP-5495); consider hardway-workers:kubeProxyMode nftables`,
        );
    }

    // With administrator credentials the program talks to the API server itself.
    const access = cluster.apiAdmin
        ? pulumi.secret(
              pulumi.output(cluster.apiAdmin.keyPem).apply((keyPem) => ({
                  server: cluster.apiServer,
                  caPem: cluster.caBundlePem,
                  certPem: cluster.apiAdmin!.certPem,
                  keyPem,
              })),
          )
        : undefined;

    if (!access) {
        pulumi.log.warn(
            "no API credentials (apiAdminCertPem, apiAdminKeyPem): disruptive updates are not rolled out maxUnavailable nodes at a time, and no node is drained first; they go in the engine's order",
        );
    }

    const token = new BootstrapToken("bootstrap", {
        token: cluster.bootstrapToken,
        ttlHours: cluster.bootstrapTokenTtlHours,
        description: `hardway-workers bootstrap token for ${cluster.clusterName}`,
        access,
    });

    // A preview waits for each batch of nodes to be registered before the next (components/node/batches.ts).
    const ends = new Set(pulumi.runtime.isDryRun() ? batchEnds(cluster.nodes.length, previewBatchNodes()) : []);
    const workers: WorkerNode[] = [];
    let batch: WorkerNode[] = [];
    for (const [i, node] of cluster.nodes.entries()) {
        const worker = new WorkerNode(node.name, {
            node,
            cluster,
            bootstrapToken: token.token,
            membership: access ? { access, after: token.registration ? [token.registration] : [] } : undefined,
        });
        workers.push(worker);
        batch.push(worker);
        if (ends.has(i)) {
            await Promise.all(batch.flatMap((w) => w.registeredLast).map((r) => (r.urn as unknown as { promise(): Promise<string> }).promise()));
            batch = [];
            collectBetweenBatches();
        }
    }

    return {
        kubernetesVersion: formatVersion(cluster.kubernetesVersion),
        /** Read by the policy pack (policy/): the proxy mode, and the control plane's version when controlPlaneStack exports it. */
        kubeProxyMode: cluster.kubeProxyMode,
        controlPlaneVersion: readControlPlaneVersion(),
        bootstrapTokenId: token.tokenId,
        bootstrapToken: token.token,
        /** Apply on the control plane: `pulumi stack output --show-secrets bootstrapManifests | kubectl apply -f -`. */
        bootstrapManifests: token.manifests,
        nodes: workers.map((w, i) => ({
            name: cluster.nodes[i].name,
            fqdn: cluster.nodes[i].fqdn,
            ip: cluster.nodes[i].ip,
            role: cluster.nodes[i].role,
            containerdVersion: w.containerd.containerdVersion,
            containerdConfigVersion: w.containerd.configVersion,
            kubeletCertificateExpiresAt: w.kubelet.certificate.expiresAt,
            kubeProxyCertificateExpiresAt: w.kubeProxy.certificate.expiresAt,
            kubeletVersion: w.lifecycle?.kubeletVersion,
        })),
    };
}
