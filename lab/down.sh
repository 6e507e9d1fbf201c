#!/usr/bin/env bash
# Tear the hardway lab down: the lab's control plane (lab/cluster.sh), every
# node (all processes in the lab's cgroups),
# the node mounts, netns and veths, bridge hwbr0, the lab's iptables rules
# (comment "hardway-lab"), the mirror server, the lab's cgroups, the tmpfs on
# /run/systemd/nspawn and the /run/netns mount if the lab made them, and
# $LAB_DIR. Keeps the rootfs cache. Idempotent; touches nothing else.
set -euo pipefail
# shellcheck source=lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root
lab_lock
t0="$(date +%s.%N)"

if [ -e "$LAB_DIR" ] && [ ! -f "$LAB_DIR/.hardway-lab" ]; then
  die "$LAB_DIR exists but is not a hardway lab state dir (no .hardway-lab); refusing to touch it"
fi

# the lab's control plane (host processes), if it runs
LAB_LOCK_HELD=1 "$LAB_SRC/cluster.sh" down

# SIGKILL every node at once, then make sure each is gone
for node in $(node_names); do
  # shellcheck disable=SC2046
  kill -KILL $(node_all_pids "$node") 2>/dev/null || true
done
for node in $(node_names); do
  kill_node "$node"
done
for node in $(node_names); do
  [ -d "$(node_dir "$node")" ] && wipe_node_root "$node"
  remove_node_netns "$node"
done
# anything else still mounted below the state dir (deepest first)
if [ -d "$LAB_DIR" ]; then
  while IFS= read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m"
  done < <(awk -v p="$LAB_DIR" 'index($5, p "/") == 1 {print $5}' /proc/self/mountinfo | sort -r)
fi
remove_node_cgroups "none"
stop_mirror_server
if ip link show dev "$LAB_BRIDGE" >/dev/null 2>&1; then ip link del "$LAB_BRIDGE"; fi
remove_iptables

if [ -f "$LAB_DIR/.made-nspawn-tmpfs" ] && is_mountpoint /run/systemd/nspawn; then
  # only if no other container is using it
  if [ -z "$(ls -A /run/systemd/nspawn/propagate 2>/dev/null || true)" ]; then
    umount /run/systemd/nspawn
  fi
fi
if [ -f "$LAB_DIR/.made-nspawn-dir" ] && ! is_mountpoint /run/systemd/nspawn; then
  rmdir /run/systemd/nspawn 2>/dev/null || true
fi
if [ -f "$LAB_DIR/.made-run-netns" ] && [ -d /run/netns ] && [ -z "$(ls -A /run/netns)" ]; then
  if is_mountpoint /run/netns; then umount /run/netns; fi
  rmdir /run/netns 2>/dev/null || true
fi

if [ -d "$LAB_DIR" ]; then
  if awk -v p="$LAB_DIR" '$5 == p || index($5, p "/") == 1 {f=1} END {exit !f}' /proc/self/mountinfo; then
    die "something is still mounted below $LAB_DIR; not removing it"
  fi
  rm -rf --one-file-system "$LAB_DIR"
fi
log "lab is down in $(elapsed "$t0")s (rootfs cache kept in $HARDWAY_CACHE/rootfs)"
