/** /etc/cni/net.d/99-loopback.conf, as the guide shows it. */
export function renderLoopbackConf(): string {
    return JSON.stringify({ cniVersion: "0.3.1", name: "lo", type: "loopback" }, null, 4) + "\n";
}
