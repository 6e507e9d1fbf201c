/**
 * Renderers against golden files: the guide's own files for the 1.16.2 seed
 * profile, and checked-in goldens for the current profile. Every rendered
 * file is parsed back with a real parser. UPDATE_GOLDEN=1 rewrites the
 * current-profile goldens.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as TOML from "smol-toml";
import * as YAML from "yaml";
import { renderBootstrapManifests } from "../components/bootstrap-token/manifests";
import { renderLoopbackConf } from "../components/kubelet/cni";
import { ContainerdInput, renderContainerdConfig } from "../components/containerd/render";
import { renderBootstrapKubeconfig, renderCertKubeconfig } from "../components/kube/kubeconfig";
import { renderKubeletConfig, renderKubeletUnit } from "../components/kubelet/render";
import { renderKubeProxyConfig, renderKubeProxyUnit } from "../components/kube-proxy/render";
import { quoteExecArg, renderUnit } from "../components/kube/systemd";
import { CONTROL_PLANE_TAINT } from "../components/kube/taints";
import { parseVersion } from "../components/kube/versions";
import { kubeletInputFor } from "./support/inputs";

const GUIDE = path.join(__dirname, "fixtures", "guide");
const GOLDEN = path.join(__dirname, "golden");
const guide = (name: string) => fs.readFileSync(path.join(GUIDE, name), "utf8");

function golden(name: string, actual: string): void {
    const file = path.join(GOLDEN, name);
    if (process.env["UPDATE_GOLDEN"] === "1") {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, actual);
    }
    assert.equal(actual, fs.readFileSync(file, "utf8"), `${name} differs from its golden file (UPDATE_GOLDEN=1 to accept)`);
}

const kubelet = kubeletInputFor;

// The CA and token in the guide's own bootstrap.kubeconfig.
const GUIDE_KUBECONFIG = YAML.parse(guide("bootstrap.kubeconfig"));
const GUIDE_CA_PEM = Buffer.from(GUIDE_KUBECONFIG.clusters[0].cluster["certificate-authority-data"], "base64").toString();
const GUIDE_CLUSTER = { clusterName: "vagtestcluster", server: "https://front.vagrant:6443", caBundlePem: GUIDE_CA_PEM };

describe("renderers: the guide's own files for the 1.16.2 seed profile", () => {
    it("kubelet.service is the guide's, byte for byte", () => {
        assert.equal(renderKubeletUnit(kubelet("1.16.2")), guide("kubelet.service").trimEnd() + "\n");
    });

    it("a control-plane node's kubelet.service differs from the guide's only by its taint", () => {
        const rendered = renderKubeletUnit(kubelet("1.16.2", { taints: [CONTROL_PLANE_TAINT] })).split("\n");
        const original = guide("kubelet.service").trimEnd().split("\n");
        const added = rendered.filter((l) => !original.includes(l));
        assert.deepEqual(added, ["    --register-with-taints=node-role.kubernetes.io/control-plane:NoSchedule \\"]);
        assert.equal(rendered.length, original.length + 2, "one flag line plus the final newline");
    });

    it("kube-proxy.service is the guide's, byte for byte", () => {
        assert.equal(renderKubeProxyUnit(), guide("kube-proxy.service").trimEnd() + "\n");
    });

    it("99-loopback.conf is the guide's, byte for byte", () => {
        assert.equal(renderLoopbackConf(), guide("99-loopback.conf"));
        assert.deepEqual(JSON.parse(renderLoopbackConf()), { cniVersion: "0.3.1", name: "lo", type: "loopback" });
    });

    it("bootstrap.kubeconfig is the guide's, byte for byte, given its CA and token", () => {
        assert.equal(renderBootstrapKubeconfig(GUIDE_CLUSTER, "002439.25f718816c0c9343"), guide("bootstrap.kubeconfig"));
    });

    it("kubeproxy-config.yaml is the guide's, byte for byte", () => {
        const rendered = renderKubeProxyConfig({ profile: "seed", nodeName: "worker1", mode: "ipvs", clusterCidr: "10.244.0.0/16" });
        assert.equal(rendered, guide("kubeproxy-config.yaml").trimEnd() + "\n");
    });

    it("kubeproxy-config.yaml carries the configured clusterCidr", () => {
        const rendered = renderKubeProxyConfig({ profile: "seed", nodeName: "worker1", mode: "ipvs", clusterCidr: "10.200.0.0/16" });
        assert.equal(YAML.parse(rendered).clusterCIDR, "10.200.0.0/16");
    });

    it("containerd's version-1 config.toml is the guide's, with the real gid", () => {
        const rendered = renderContainerdConfig({
            configVersion: 1,
            containerdVersion: parseVersion("1.2.13")!,
            gid: 999,
            runcPath: "/bin/runc",
            cgroupDriver: "cgroupfs",
        });
        const expected = guide("config.toml").replace("<kubernetes user group ID>", "999");
        assert.deepEqual(TOML.parse(rendered), TOML.parse(expected));
    });

    it("kubelet-config.yaml (not shown in the guide) is complete", () => {
        const config = YAML.parse(renderKubeletConfig(kubelet("1.16.2")));
        assert.deepEqual(config, {
            apiVersion: "kubelet.config.k8s.io/v1beta1",
            kind: "KubeletConfiguration",
            authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: "/etc/kubernetes/pki/ca.crt" } },
            authorization: { mode: "Webhook" },
            clusterDomain: "cluster.local",
            clusterDNS: ["10.96.0.10"],
            tlsCertFile: "/etc/kubernetes/pki/kubelet.crt",
            tlsPrivateKeyFile: "/etc/kubernetes/pki/kubelet.key",
            rotateCertificates: true,
            cgroupDriver: "cgroupfs",
        });
    });
});

describe("renderers: golden files for the current profile (1.37.2)", () => {
    const cp = kubelet("1.37.2", {
        nodeName: "cp1",
        nodeIp: "10.240.0.11",
        taints: [CONTROL_PLANE_TAINT],
        labels: { "node.kubernetes.io/pool": "system" },
        clusterDns: ["10.96.0.10", "10.96.0.11"],
    });

    it("kubelet.service", () => {
        golden("1.37.2/kubelet.service", renderKubeletUnit(cp));
    });

    it("kubelet-config.yaml parses back to the intended object", () => {
        const text = renderKubeletConfig(cp);
        golden("1.37.2/kubelet-config.yaml", text);
        const parsed = YAML.parse(text);
        assert.equal(parsed.containerRuntimeEndpoint, "unix:///var/run/containerd/containerd.sock");
        assert.deepEqual(parsed.registerWithTaints, [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }]);
        assert.deepEqual(parsed.clusterDNS, ["10.96.0.10", "10.96.0.11"]);
    });

    it("kubeproxy-config.yaml", () => {
        const text = renderKubeProxyConfig({ profile: "current", nodeName: "cp1", mode: "nftables", clusterCidr: "10.244.0.0/16" });
        golden("1.37.2/kubeproxy-config.yaml", text);
        assert.deepEqual(YAML.parse(text), {
            kind: "KubeProxyConfiguration",
            apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
            clientConnection: { kubeconfig: "/etc/kubernetes/kube-proxy.kubeconfig" },
            mode: "nftables",
            clusterCIDR: "10.244.0.0/16",
            hostnameOverride: "cp1",
        });
    });

    it("kube-proxy.kubeconfig points at the certificate files and embeds the CA bundle", () => {
        const text = renderCertKubeconfig(GUIDE_CLUSTER, "system:kube-proxy", "/etc/kubernetes/pki/kube-proxy.crt", "/etc/kubernetes/pki/kube-proxy.key");
        golden("1.37.2/kube-proxy.kubeconfig", text);
        const parsed = YAML.parse(text);
        assert.equal(Buffer.from(parsed.clusters[0].cluster["certificate-authority-data"], "base64").toString(), GUIDE_CA_PEM);
        assert.equal(parsed.users[0].user["client-key"], "/etc/kubernetes/pki/kube-proxy.key");
    });

    const containerd = (configVersion: 2 | 3, version: string): ContainerdInput => ({
        configVersion,
        containerdVersion: parseVersion(version)!,
        gid: 998,
        runcPath: "/usr/sbin/runc",
        cgroupDriver: "systemd",
    });

    it("containerd config version 2 (containerd 1.6)", () => {
        const text = renderContainerdConfig(containerd(2, "1.6.20"));
        golden("containerd/config-v2-1.6.toml", text);
        const parsed = TOML.parse(text) as any;
        assert.equal(parsed.version, 2);
        assert.equal(parsed.grpc.gid, 998);
        const cri = parsed.plugins["io.containerd.grpc.v1.cri"];
        assert.equal(cri.containerd.runtimes.runc.options.SystemdCgroup, true);
        assert.equal(cri.image_pull_progress_timeout, undefined, "containerd 1.6 has no image_pull_progress_timeout");
    });

    it("containerd config version 2 (containerd 1.7) takes over --image-pull-progress-deadline", () => {
        const parsed = TOML.parse(renderContainerdConfig(containerd(2, "1.7.27"))) as any;
        assert.equal(parsed.plugins["io.containerd.grpc.v1.cri"].image_pull_progress_timeout, "2m0s");
    });

    it("containerd config version 3 (containerd 2.1)", () => {
        const text = renderContainerdConfig(containerd(3, "2.1.4"));
        golden("containerd/config-v3-2.1.toml", text);
        const parsed = TOML.parse(text) as any;
        assert.equal(parsed.version, 3);
        assert.deepEqual(parsed.plugins["io.containerd.cri.v1.runtime"].cni.bin_dirs, ["/opt/cni/bin"]);
        assert.equal(parsed.plugins["io.containerd.cri.v1.images"].snapshotter, "overlayfs");
        assert.equal(JSON.stringify(parsed).includes("io.containerd.runtime.v1.linux"), false, "removed in 2.0");
    });

    it("bootstrap manifests: the token Secret and the three RBAC bindings", () => {
        const text = renderBootstrapManifests({ tokenId: "abcdef", tokenSecret: "0123456789abcdef", expiration: "2027-01-01T00:00:00.000Z" }, "hardway-workers/dev");
        golden("bootstrap-manifests.yaml", text);
        const docs = YAML.parseAllDocuments(text).map((d) => d.toJS());
        assert.equal(docs[0].type, "bootstrap.kubernetes.io/token");
        assert.equal(docs[0].metadata.namespace, "kube-system");
        assert.deepEqual(
            docs.slice(1).map((d) => [d.roleRef.name, d.subjects[0].name]),
            [
                ["system:node-bootstrapper", "system:bootstrappers"],
                ["system:certificates.k8s.io:certificatesigningrequests:nodeclient", "system:bootstrappers"],
                ["system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:nodes"],
            ],
        );
    });
});

describe("systemd unit serializer", () => {
    it("escapes % and quotes words with spaces", () => {
        assert.equal(quoteExecArg("--x=50%"), "--x=50%%");
        assert.equal(quoteExecArg('--a=b c"d'), '"--a=b c\\"d"');
    });
    it("repeats keys instead of joining them", () => {
        const text = renderUnit([
            {
                name: "Unit",
                entries: [
                    { key: "After", value: "a.service" },
                    { key: "After", value: "b.service" },
                ],
            },
        ]);
        assert.equal(text, "[Unit]\nAfter=a.service\nAfter=b.service\n");
    });
    it("refuses a value that spans lines", () => {
        assert.throws(() => renderUnit([{ name: "Unit", entries: [{ key: "Description", value: "a\nb" }] }]), { message: 'a unit value may not span lines: "a\\nb"' });
    });
});
