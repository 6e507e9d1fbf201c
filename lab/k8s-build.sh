#!/usr/bin/env bash
# Build the lab cluster's binaries from Go modules (nothing can be downloaded
# from release sites here) into a versioned cache, and print that bin dir as the
# LAST line on stdout:
#
#   kubelet kube-proxy kube-apiserver kube-controller-manager kubectl
#       from k8s.io/kubernetes@v$K8S_VERSION, in a small module that requires it
#       and replaces every staging module (k8s.io/api, ...) with its matching
#       v0.<minor>.<patch> release (the repository's own go.mod points them at
#       ./staging, which a dependent module cannot use);
#   crictl   from sigs.k8s.io/cri-tools@v$CRICTL_VERSION (cmd/crictl);
#   etcd     from go.etcd.io/etcd/server/v3@v$ETCD_VERSION (etcdmain);
#   containerd containerd-shim-runc-v2
#            from github.com/containerd/containerd/v2@v$CONTAINERD_VERSION (the
#            containerd 2.x of one lab node and of the fast suite's real-tools
#            check of config version 3; Debian's is 1.6). CGO off, so without
#            the btrfs snapshotter; runc is Debian's.
#
# Cache: ${HARDWAY_CACHE:-$HOME/.cache/hardway-workers}/k8s/<what>-v<version>/bin
# A second run finds the binaries and returns at once. Logs go to stderr.
#
# Usage: lab/k8s-build.sh [k8s|crictl|etcd|containerd|all]   (default all;
# prints the k8s bin dir, with crictl and etcd linked into it; `containerd`
# prints the containerd bin dir, which `all` does not build)
# K8S_VERSION picks the release; K8S_COMPONENTS="kubelet kube-proxy" builds
# only the node's binaries (into kubernetes-node-v<version>).
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ETCD_VERSION="${ETCD_VERSION:-3.6.16}"
CONTAINERD_VERSION="${CONTAINERD_VERSION:-2.4.2}"
ALL_COMPONENTS="kubelet kube-proxy kube-apiserver kube-controller-manager kubectl"
K8S_COMPONENTS="${K8S_COMPONENTS:-$ALL_COMPONENTS}"
cache="${HARDWAY_CACHE:-$HOME/.cache/hardway-workers}/k8s"
mkdir -p "$cache"
# K8S_BUILD_CACHED_ONLY=1 (containerd only): print the bin dir of a finished
# build, or fail; never build, and never wait for another build's lock.
if [ "${K8S_BUILD_CACHED_ONLY:-0}" != "1" ]; then
  exec 8>"$cache/.lock"
  flock 8
fi

export GOFLAGS="-mod=mod -buildvcs=false -trimpath"
export GOTOOLCHAIN=local CGO_ENABLED=0
# Go is at /usr/local/go on these machines, not always on PATH (e.g. under sudo).
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null || die "go is required to build the lab's Kubernetes binaries"

blog() { printf '[k8s-build] %s\n' "$*" >&2; }

# build_module <dir> <go.mod text> <main.go text or ""> <ldflags> <out:pkg>...
# Builds each pkg into <dir>/bin/<out> unless <dir>/.done exists. The go.mod
# pins the one module required; its own go.mod decides every other version.
build_module() {
  local dir="$1" gomod="$2" maingo="$3" ldflags="$4"
  shift 4
  [ -f "$dir/.done" ] && return 0
  local work
  work="$(mktemp -d "$cache/.work.XXXXXX")"
  printf '%s\n' "$gomod" >"$work/go.mod"
  if [ -n "$maingo" ]; then printf '%s\n' "$maingo" >"$work/main.go"; fi
  (
    cd "$work"
    # Resolve the full requirement graph (and go.sum) from the proxy.
    if [ -n "$maingo" ]; then go mod tidy >&2; fi
    mkdir -p bin
    for spec in "$@"; do
      local_out="${spec%%:*}"; pkg="${spec#*:}"
      blog "go build $pkg -> $local_out"
      go build -ldflags "-s -w $ldflags" -o "bin/$local_out" "$pkg"
    done
  )
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  mv "$work" "$dir"
  touch "$dir/.done"
}

build_k8s() {
  local v="$K8S_VERSION" dir="$cache/kubernetes-v$K8S_VERSION"
  # A node-only build (kubelet kube-proxy) has its own cache folder.
  [ "$K8S_COMPONENTS" = "$ALL_COMPONENTS" ] || dir="$cache/kubernetes-node-v$K8S_VERSION"
  local minor="${v#*.}"; minor="${minor%%.*}"
  local staging="v0.${v#*.}"
  local modfile
  modfile="$(cd "$cache" && go mod download -json "k8s.io/kubernetes@v$v" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
  [ -f "$modfile" ] || die "k8s.io/kubernetes@v$v: go.mod not found in the module cache"
  local gomod
  gomod="module hardway.lab/kubernetes

go 1.24.0

require k8s.io/kubernetes v$v
"
  gomod+=$'\nreplace (\n'
  while read -r mod; do
    gomod+="	$mod => $mod $staging"$'\n'
  done < <(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$modfile")
  gomod+=$')\n'
  local pkg="k8s.io/component-base/version" cpkg="k8s.io/client-go/pkg/version" ld=""
  for p in "$pkg" "$cpkg"; do
    ld+=" -X $p.gitVersion=v$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  [ -f "$dir/.done" ] || blog "building Kubernetes v$v binaries (a cold build takes minutes on 2 cores)"
  local specs=() c
  for c in $K8S_COMPONENTS; do specs+=("$c:k8s.io/kubernetes/cmd/$c"); done
  build_module "$dir" "$gomod" "" "$ld" "${specs[@]}"
  printf '%s\n' "$dir/bin"
}

build_crictl() {
  local dir="$cache/cri-tools-v$CRICTL_VERSION"
  build_module "$dir" "module hardway.lab/critools

go 1.24.0

require sigs.k8s.io/cri-tools v$CRICTL_VERSION" "" \
    "-X sigs.k8s.io/cri-tools/pkg/version.Version=v$CRICTL_VERSION" \
    crictl:sigs.k8s.io/cri-tools/cmd/crictl
  printf '%s\n' "$dir/bin"
}

build_etcd() {
  local dir="$cache/etcd-v$ETCD_VERSION"
  build_module "$dir" "module hardway.lab/etcd

go 1.24.0

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION" 'package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }' "" etcd:.
  printf '%s\n' "$dir/bin"
}

build_containerd() {
  local v="$CONTAINERD_VERSION" dir="$cache/containerd-v$CONTAINERD_VERSION" mod="github.com/containerd/containerd/v2"
  local modfile gover
  if [ -f "$dir/.done" ]; then printf '%s\n' "$dir/bin"; return 0; fi
  [ "${K8S_BUILD_CACHED_ONLY:-0}" != "1" ] || die "containerd v$v is not built in $dir: scripts/setup.sh builds it (lab/k8s-build.sh containerd)"
  modfile="$(cd "$cache" && go mod download -json "$mod@v$v" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
  [ -f "$modfile" ] || die "$mod@v$v: go.mod not found in the module cache"
  # The wrapper module asks for the Go version containerd's own go.mod asks for.
  gover="$(awk '$1 == "go" { print $2; exit }' "$modfile")"
  [ -f "$dir/.done" ] || blog "building containerd v$v (a cold build takes minutes on 2 cores)"
  build_module "$dir" "module hardway.lab/containerd

go $gover

require $mod v$v" "" \
    "-X $mod/version.Version=v$v -X $mod/version.Revision=hardway-lab -X $mod/version.Package=$mod" \
    "containerd:$mod/cmd/containerd" "containerd-shim-runc-v2:$mod/cmd/containerd-shim-runc-v2"
  printf '%s\n' "$dir/bin"
}

what="${1:-all}"
case "$what" in
  k8s) build_k8s | tail -n 1 ;;
  crictl) build_crictl | tail -n 1 ;;
  etcd) build_etcd | tail -n 1 ;;
  containerd) build_containerd | tail -n 1 ;;
  all)
    k="$(build_k8s | tail -n 1)"
    c="$(build_crictl | tail -n 1)"
    e="$(build_etcd | tail -n 1)"
    ln -sfn "$c/crictl" "$k/crictl"
    ln -sfn "$e/etcd" "$k/etcd"
    printf '%s\n' "$k"
    ;;
  *) die "usage: $0 [k8s|crictl|etcd|containerd|all]" ;;
esac
