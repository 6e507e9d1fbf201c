#!/usr/bin/env bash
# The lab with a real cluster: the Kubernetes binaries built from Go modules
# (lab/k8s-build.sh), published on the lab's release mirror in place of the
# stand-ins; nodes that can run a kubelet (LAB_CONTAINERS=1), one of them
# ($LAB_CONTAINERD2_NODE) on containerd 2.x built from its Go module; and the
# lab's control plane (lab/cluster.sh up). Idempotent, like lab/up.sh.
# With LAB_K8S_OLDEST_BUILD=1 (the e2e suite's oldest-version test) it also
# builds the node binaries of $LAB_K8S_OLDEST, which the mirror serves beside;
# `npm run lab` builds only what the lab needs.
set -euo pipefail
# shellcheck source=lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root

bin="$("$LAB_SRC/k8s-build.sh" all | tail -n 1)"
containerd2="$("$LAB_SRC/k8s-build.sh" containerd | tail -n 1)"
if [ "${LAB_K8S_OLDEST_BUILD:-0}" = "1" ]; then
  K8S_VERSION="$LAB_K8S_OLDEST" K8S_COMPONENTS="kubelet kube-proxy" "$LAB_SRC/k8s-build.sh" k8s >/dev/null
fi
# Nodes booted without container support cannot run a kubelet: boot them again.
if [ -f "$LAB_DIR/containers" ] && [ "$(cat "$LAB_DIR/containers")" != 1 ]; then
  log "the lab runs without LAB_CONTAINERS=1; taking it down first"
  "$LAB_SRC/down.sh"
fi
LAB_CONTAINERS=1 LAB_K8S_BIN_DIR="$bin" LAB_CONTAINERD2_BIN_DIR="$containerd2" "$LAB_SRC/up.sh"
"$LAB_SRC/cluster.sh" up
