/** Renderer inputs for tests: a node on a given Kubernetes version, with overrides. */
import { KubeletInput } from "../../components/kubelet/render";
import { parseVersion, profileFor } from "../../components/kube/versions";

export function kubeletInputFor(version: string, patch: Partial<KubeletInput> = {}): KubeletInput {
    const v = parseVersion(version);
    if (!v) {
        throw new Error(`not a version: ${version}`);
    }
    return {
        version: v,
        profile: profileFor(v),
        nodeName: "worker1",
        nodeIp: "192.168.50.21",
        labels: {},
        taints: [],
        clusterDns: ["10.96.0.10"],
        clusterDomain: "cluster.local",
        cgroupDriver: profileFor(v) === "seed" ? "cgroupfs" : "systemd",
        ...patch,
    };
}
