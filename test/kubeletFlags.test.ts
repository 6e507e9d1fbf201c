/** The kubelet's taints and labels, flags or config by version, with more than one of each. */
import { strict as assert } from "assert";
import { kubeletConfigObject, kubeletFlags } from "../components/kubelet/render";
import { kubeletInputFor } from "./support/inputs";

const TAINTS = [
    { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" as const },
    { key: "dedicated", value: "gpu", effect: "NoExecute" as const },
];

describe("kubelet: several taints and labels", () => {
    it("before 1.23: one --register-with-taints flag, comma-separated; labels likewise", () => {
        const flags = kubeletFlags(kubeletInputFor("1.22.17", { taints: TAINTS, labels: { zone: "a", "node.kubernetes.io/pool": "gpu" } }));
        assert.deepEqual(
            flags.filter((f) => f.startsWith("--register-with-taints") || f.startsWith("--node-labels")),
            ["--register-with-taints=node-role.kubernetes.io/control-plane:NoSchedule,dedicated=gpu:NoExecute", "--node-labels=zone=a,node.kubernetes.io/pool=gpu"],
        );
        assert.equal(kubeletConfigObject(kubeletInputFor("1.22.17", { taints: TAINTS })).registerWithTaints, undefined);
    });

    it("from 1.23: registerWithTaints in the config, a value only where the taint has one; none for an untainted node", () => {
        const k = kubeletInputFor("1.37.2", { taints: TAINTS });
        assert.deepEqual(kubeletConfigObject(k).registerWithTaints, [
            { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" },
            { key: "dedicated", value: "gpu", effect: "NoExecute" },
        ]);
        assert.deepEqual(kubeletFlags(k).filter((f) => f.startsWith("--register-with-taints")), []);
        assert.equal("registerWithTaints" in kubeletConfigObject(kubeletInputFor("1.37.2")), false);
    });
});
