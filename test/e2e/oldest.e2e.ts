/**
 * The oldest Kubernetes version whose binaries build here, end to end: the
 * program rendered for it, its real kubelet and kube-proxy on the four nodes,
 * joined to the lab's control plane, then destroyed.
 *
 * The guide's own 1.16.2 cannot be built on these machines: the Go module
 * proxy does not serve the staging modules of that release (k8s.io/api
 * v0.16.2: 403). See the README.
 */
import { strict as assert } from "assert";
import { LabRun, diffLines, kubectl, kubectlJson, snapshot } from "./harness";
import { lab, nodeExec } from "./lab";

describe("e2e: the oldest buildable Kubernetes version on the lab", function () {
    this.timeout(20 * 60 * 1000);
    const lr = new LabRun();
    let version: string;

    before(async () => {
        await lr.start();
        const extra = lab().mirror.extraKubernetesVersions ?? [];
        assert.equal(extra.length, 1, "the mirror serves one older kubelet/kube-proxy build (lab/up-cluster.sh builds it)");
        version = extra[0];
    });

    it(`provisions all four nodes with it, and they go Ready with every rendered flag and field accepted`, async () => {
        const run = await lr.program({ kubernetesVersion: version });
        assert.equal(run.outputs.kubernetesVersion, version);
        const applied = await lr.provision(run, { kubernetesVersion: version });
        const list = kubectlJson("get", "nodes").items;
        assert.deepEqual(
            list.map((n: any) => [n.metadata.name, n.status.nodeInfo.kubeletVersion, n.status.conditions.find((c: any) => c.type === "Ready").status]).sort(),
            lr.nodes.map((n) => [n.name, `v${version}`, "True"]).sort(),
        );
        for (const n of lr.nodes) {
            for (const unit of ["kubelet", "kube-proxy"]) {
                assert.equal(nodeExec(n.name, `systemctl is-active ${unit}`).trim(), "active");
                const log = nodeExec(n.name, `journalctl -u ${unit} --no-pager -o cat`);
                assert.doesNotMatch(log, /unknown flag|strict decoding error|unknown field|lenient decoding/i, `${n.name} ${unit} rejected something`);
            }
            assert.match(nodeExec(n.name, "iptables -w -t nat -S KUBE-SERVICES"), /--dport 443 .*-j KUBE-SVC-/, `${n.name}: kube-proxy programmed the kubernetes service`);
        }

        // Destroy in the engine's order; every node is left as it was.
        await lr.teardown(applied.values());
        assert.equal(kubectl("get", "nodes", "-o", "name").trim(), "");
        for (const n of lr.nodes) {
            assert.deepEqual(diffLines(lr.pristine.get(n.name)!, snapshot(n.name)), [], `${n.name} differs from its snapshot`);
        }
    });
});
