#!/usr/bin/env bash
# Return nodes to the clean snapshot and boot them again:
#   lab/reset.sh [node...]      (default: all nodes)
# For each node: kill all its processes, drop its overlay upper/work dirs and
# its /var/lib/containerd, recreate its network namespace (so iptables rules,
# routes and links made inside the node are gone too), mount the overlay again
# (image + per-node layer: same hostname, machine-id, host key, authorized key
# as after up.sh) and boot. Waits until every node is ready and reachable over
# SSH, then rewrites lab.json (the nodes' pids change).
set -euo pipefail
# shellcheck source=lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root
lab_lock
t0="$(date +%s.%N)"
[ -f "$LAB_DIR/lab.json" ] || die "the lab is not up (no $LAB_DIR/lab.json); run lab/up.sh"
img="$(image_dir)"
[ -f "$img.done" ] || die "node image $img is missing; run lab/up.sh"

nodes=("$@")
[ "${#nodes[@]}" -gt 0 ] || mapfile -t nodes < <(node_names)
for node in "${nodes[@]}"; do is_node "$node" || die "unknown node '$node'"; done

ensure_bridge
ensure_iptables
ensure_nspawn_tmpfs
for node in "${nodes[@]}"; do
  kill_node "$node"
  wipe_node_root "$node"
  remove_node_netns "$node"
done
for node in "${nodes[@]}"; do
  ensure_node_netns "$node"
  ensure_node_layer "$node" "$img"
  ensure_node_root "$node" "$img"
  boot_node "$node"
done
wait_nodes_ready "${nodes[@]}"
verify_ssh "${nodes[@]}"
write_lab_json
log "reset ${nodes[*]} in $(elapsed "$t0")s"
