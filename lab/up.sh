#!/usr/bin/env bash
# Bring the hardway lab up: four Debian bookworm nodes with real systemd and
# sshd under systemd-nspawn (cp1, cp2, worker1, worker2) on bridge hwbr0
# (10.240.0.1/24), a lab CA, lab SSH keys with pinned host keys, a release
# mirror at http://10.240.0.1:8585/ and $LAB_DIR/lab.json describing it all.
# With LAB_CONTAINERD2_BIN_DIR (remembered), $LAB_CONTAINERD2_NODE runs that
# containerd 2.x instead of Debian's 1.6 (see lib.sh).
# Idempotent: on a lab that is up it only checks and returns.
set -euo pipefail
# shellcheck source=lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root
lab_lock
t0="$(date +%s.%N)"

# 1. host packages (apt-get update only when an install fails without it)
need=()
for p in debootstrap debian-archive-keyring systemd-container iproute2 openssh-client \
         containernetworking-plugins openssl iptables util-linux; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = "installed" ] || need+=("$p")
done
command -v node >/dev/null || need+=(nodejs)
if [ "${#need[@]}" -gt 0 ]; then
  log "installing host packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q "${need[@]}" >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    apt-get install -y -q "${need[@]}" >/dev/null
  fi
fi

# 2. node image (cached; built once)
img="$("$LAB_SRC/rootfs.sh")"

# 3. state dir, keys, CA
mkdir -p "$LAB_DIR"
chmod 0755 "$LAB_DIR"
[ -f "$LAB_DIR/.hardway-lab" ] || printf 'hardway lab state; removed by lab/down.sh\n' >"$LAB_DIR/.hardway-lab"
printf '%s\n' "$LAB_CONTAINERS" >"$LAB_DIR/containers"
if [ -n "${LAB_CONTAINERD2_BIN_DIR+x}" ]; then printf '%s\n' "$LAB_CONTAINERD2_BIN_DIR" >"$LAB_DIR/containerd2-bin-dir"; fi
ensure_ssh_keys
ensure_ca

# 4. network: bridge, iptables rules, per-node netns
ensure_bridge
ensure_iptables
for node in $(node_names); do ensure_node_netns "$node"; done

# 5. release mirror
"$LAB_SRC/mirror.sh" >/dev/null
ensure_mirror_server

# 6. nodes
ensure_nspawn_tmpfs
booted=()
for node in $(node_names); do
  # A running node whose layer changed (containerd 2.x came or went) starts again from the image.
  if node_running "$node" && ! node_layer_current "$node"; then
    log "$node: its layer changed; resetting it"
    kill_node "$node"
    wipe_node_root "$node"
    remove_node_netns "$node"
    ensure_node_netns "$node"
  fi
  if ! node_running "$node"; then
    ensure_node_layer "$node" "$img"
    ensure_node_root "$node" "$img"
    boot_node "$node"
    booted+=("$node")
  fi
done
# shellcheck disable=SC2046
wait_nodes_ready $(node_names)
# shellcheck disable=SC2046
verify_ssh $(node_names)
write_lab_json
log "lab is up in $(elapsed "$t0")s${booted[*]:+ (booted: ${booted[*]})}; see $LAB_DIR/lab.json"
