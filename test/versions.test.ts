/** Version gates, as a table: which kubelet flag each release still takes, and which containerd config each containerd reads. */
import { strict as assert } from "assert";
import { kubeletFlags, kubeletConfigObject } from "../components/kubelet/render";
import { kubeletInputFor } from "./support/inputs";
import {
    ContainerdConfigVersion,
    Profile,
    containerdConfigVersionFor,
    containerdReads,
    parseVersion,
    proxyModeDeprecated,
    proxyModeSupported,
} from "../components/kube/versions";

const REMOVED_IN_124 = ["--image-pull-progress-deadline", "--network-plugin", "--cni-conf-dir", "--cni-bin-dir"];

/** A control-plane node (tainted) on the given version. */
function input(version: string) {
    return kubeletInputFor(version, { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] });
}

describe("kubelet flags by version", () => {
    const table: {
        version: string;
        profile: Profile;
        dockershim: boolean;
        runtimeFlag: boolean;
        endpointFlag: boolean;
        taintsInConfig: boolean;
    }[] = [
        { version: "1.16.2", profile: "seed", dockershim: true, runtimeFlag: true, endpointFlag: true, taintsInConfig: false },
        { version: "1.17.0", profile: "current", dockershim: true, runtimeFlag: true, endpointFlag: true, taintsInConfig: false },
        { version: "1.22.17", profile: "current", dockershim: true, runtimeFlag: true, endpointFlag: true, taintsInConfig: false },
        { version: "1.23.0", profile: "current", dockershim: true, runtimeFlag: true, endpointFlag: true, taintsInConfig: true },
        { version: "1.24.0", profile: "current", dockershim: false, runtimeFlag: true, endpointFlag: true, taintsInConfig: true },
        { version: "1.26.15", profile: "current", dockershim: false, runtimeFlag: true, endpointFlag: true, taintsInConfig: true },
        { version: "1.27.0", profile: "current", dockershim: false, runtimeFlag: false, endpointFlag: false, taintsInConfig: true },
        { version: "1.31.4", profile: "current", dockershim: false, runtimeFlag: false, endpointFlag: false, taintsInConfig: true },
        { version: "1.37.2", profile: "current", dockershim: false, runtimeFlag: false, endpointFlag: false, taintsInConfig: true },
    ];
    for (const row of table) {
        it(`${row.version}: ${row.dockershim ? "keeps" : "drops"} the dockershim flags, ${row.runtimeFlag ? "keeps" : "drops"} --container-runtime`, () => {
            const k = input(row.version);
            assert.equal(k.profile, row.profile);
            const flags = kubeletFlags(k);
            const names = flags.map((f) => f.split("=")[0]);
            for (const removed of ["--image-pull-progress-deadline", "--network-plugin", "--cni-conf-dir"]) {
                assert.equal(names.includes(removed), row.dockershim, `${removed} in ${row.version}`);
            }
            assert.ok(!names.includes("--cni-bin-dir"), "never rendered");
            assert.equal(names.includes("--container-runtime"), row.runtimeFlag);
            assert.equal(names.includes("--container-runtime-endpoint"), row.endpointFlag);
            const config = kubeletConfigObject(k);
            assert.equal("containerRuntimeEndpoint" in config, !row.endpointFlag, "containerRuntimeEndpoint in the config file from 1.27");
            assert.equal("registerWithTaints" in config, row.taintsInConfig);
            assert.equal(names.includes("--register-with-taints"), !row.taintsInConfig);
            // The seed's flags that every version accepts are always there.
            for (const kept of ["--config", "--cert-dir", "--kubeconfig", "--bootstrap-kubeconfig", "--register-node", "--v"]) {
                assert.ok(names.includes(kept), `${kept} in ${row.version}`);
            }
            if (!row.dockershim) {
                for (const removed of REMOVED_IN_124) {
                    assert.ok(!flags.some((f) => f.startsWith(removed)));
                }
            }
        });
    }
});

describe("containerd config version by installed containerd", () => {
    const table: { containerd: string; profile: Profile; expect: ContainerdConfigVersion }[] = [
        { containerd: "1.2.13", profile: "seed", expect: 1 },
        { containerd: "1.2.13", profile: "current", expect: 1 },
        { containerd: "1.3.0", profile: "current", expect: 2 },
        { containerd: "1.6.20~ds1", profile: "seed", expect: 1 },
        { containerd: "1.6.20~ds1", profile: "current", expect: 2 },
        { containerd: "1.7.27", profile: "current", expect: 2 },
        { containerd: "v2.0.0", profile: "seed", expect: 3 },
        { containerd: "2.1.4", profile: "current", expect: 3 },
    ];
    for (const row of table) {
        it(`containerd ${row.containerd}, ${row.profile} profile: version ${row.expect}`, () => {
            const v = parseVersion(row.containerd)!;
            const chosen = containerdConfigVersionFor(v, row.profile);
            assert.equal(chosen, row.expect);
            assert.ok(containerdReads(v, chosen));
        });
    }
    it("knows which versions each containerd cannot read", () => {
        assert.equal(containerdReads(parseVersion("2.0.0")!, 1), false);
        assert.equal(containerdReads(parseVersion("1.2.0")!, 2), false);
        assert.equal(containerdReads(parseVersion("1.7.0")!, 3), false);
    });
});

describe("kube-proxy modes by version", () => {
    const table: [string, "ipvs" | "iptables" | "nftables", boolean, boolean][] = [
        ["1.16.2", "ipvs", true, false],
        ["1.16.2", "nftables", false, false],
        ["1.30.0", "nftables", false, false],
        ["1.31.0", "nftables", true, false],
        ["1.34.1", "ipvs", true, false],
        ["1.35.0", "ipvs", true, true],
        ["1.37.2", "iptables", true, false],
    ];
    for (const [version, mode, supported, deprecated] of table) {
        it(`${mode} on ${version}: ${supported ? "supported" : "unsupported"}${deprecated ? ", deprecated" : ""}`, () => {
            const v = parseVersion(version)!;
            assert.equal(proxyModeSupported(mode, v), supported);
            assert.equal(proxyModeDeprecated(mode, v), deprecated);
        });
    }
});
