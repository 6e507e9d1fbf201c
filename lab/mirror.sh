#!/usr/bin/env bash
# Populate the lab's release mirror in $LAB_DIR/mirror (served by
# mirror-server.js at http://10.240.0.1:8585/) with the official release path
# layout and a <file>.sha256 beside every file:
#   kubernetes/v$K8S_VERSION/bin/linux/amd64/{kubelet,kube-proxy}
#   cri-tools/v$CRICTL_VERSION/crictl-v$CRICTL_VERSION-linux-amd64.tar.gz
#   cni-plugins/v$CNI_VERSION/cni-plugins-linux-amd64-v$CNI_VERSION.tgz
#   kubernetes/v<other>/bin/linux/amd64/{kubelet,kube-proxy} for every node-only
#     build in the cache ($HARDWAY_CACHE/k8s/kubernetes-node-v<other>)
# kubelet, kube-proxy and crictl come from $LAB_K8S_BIN_DIR when that dir has
# them (real binaries), else from STAND-INs (lab/standins.sh). The CNI plugins
# are the real ones of Debian's containernetworking-plugins (/usr/lib/cni),
# CNI_VERSION being that package's upstream version.
# LAB_K8S_BIN_DIR is remembered for later runs (LAB_K8S_BIN_DIR= forgets it).
# Does nothing when its inputs have not changed since the last run.
# Prints one line per binary: "<name> real|stand-in <source>".
set -euo pipefail
# shellcheck source=lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cni_src="/usr/lib/cni"
[ -x "$cni_src/bridge" ] || die "no CNI plugins in $cni_src (apt-get install containernetworking-plugins)"
cni_deb_version="$(dpkg-query -W -f='${Version}' containernetworking-plugins)"
v="${cni_deb_version#*:}"; v="${v%-*}"; v="${v%%+*}"; v="${v%%~*}"
CNI_VERSION="${CNI_VERSION:-$v}"

# LAB_K8S_BIN_DIR is remembered in $LAB_DIR/k8s-bin-dir, so that a later
# up.sh keeps publishing the real binaries; LAB_K8S_BIN_DIR= (set, empty)
# goes back to the stand-ins.
mkdir -p "$LAB_DIR"
if [ -n "${LAB_K8S_BIN_DIR+x}" ]; then
  printf '%s\n' "$LAB_K8S_BIN_DIR" >"$LAB_DIR/k8s-bin-dir"
elif [ -f "$LAB_DIR/k8s-bin-dir" ]; then
  LAB_K8S_BIN_DIR="$(cat "$LAB_DIR/k8s-bin-dir")"
fi
standins="$("$LAB_SRC/standins.sh" "$LAB_DIR/standins")"
declare -A src kind
for name in kubelet kube-proxy crictl; do
  if [ -n "${LAB_K8S_BIN_DIR:-}" ] && [ -f "$LAB_K8S_BIN_DIR/$name" ]; then
    src[$name]="$LAB_K8S_BIN_DIR/$name"; kind[$name]="real"
  else
    src[$name]="$standins/$name"; kind[$name]="stand-in"
  fi
done

# Node-only builds of other Kubernetes versions (K8S_COMPONENTS="kubelet
# kube-proxy" lab/k8s-build.sh) are served too, each under its own version.
extra=()
for d in "$HARDWAY_CACHE"/k8s/kubernetes-node-v*; do
  [ -f "$d/.done" ] && [ -x "$d/bin/kubelet" ] && [ -x "$d/bin/kube-proxy" ] && extra+=("$d")
done

mirror="$LAB_DIR/mirror"
signature="$(
  printf '%s\n' "$K8S_VERSION" "$CRICTL_VERSION" "$CNI_VERSION" "$cni_deb_version"
  sha256sum "$0" "${src[kubelet]}" "${src[kube-proxy]}" "${src[crictl]}"
  for d in "${extra[@]}"; do sha256sum "$d/bin/kubelet" "$d/bin/kube-proxy"; done
  find "$cni_src" -maxdepth 1 -type f -printf '%f %s %T@\n' | LC_ALL=C sort
)"
report() {
  for name in kubelet kube-proxy crictl; do printf '%s %s %s\n' "$name" "${kind[$name]}" "${src[$name]}"; done
  printf 'cni-plugins real %s (v%s)\n' "$cni_src" "$CNI_VERSION"
}
if [ -f "$mirror/.signature" ] && [ "$(cat "$mirror/.signature")" = "$signature" ]; then
  report
  exit 0
fi

new="$LAB_DIR/mirror.new.$$"
trap 'rm -rf "$new"' EXIT
rm -rf "$new"

with_sha() { # with_sha <file> [with-name]
  local f="$1" h
  h="$(sha256sum "$f" | cut -d' ' -f1)"
  if [ "${2:-}" = "with-name" ]; then
    printf '%s  %s\n' "$h" "$(basename "$f")" >"$f.sha256"
  else
    printf '%s\n' "$h" >"$f.sha256"
  fi
}

k8s="$new/kubernetes/v$K8S_VERSION/bin/linux/amd64"
mkdir -p "$k8s"
for name in kubelet kube-proxy; do
  install -m 0755 "${src[$name]}" "$k8s/$name"
  with_sha "$k8s/$name"          # dl.k8s.io: bare hex digest
done

extra_versions=""
for d in "${extra[@]}"; do
  v="${d##*/kubernetes-node-v}"
  [ "$v" = "$K8S_VERSION" ] && continue
  dir="$new/kubernetes/v$v/bin/linux/amd64"
  mkdir -p "$dir"
  for name in kubelet kube-proxy; do
    install -m 0755 "$d/bin/$name" "$dir/$name"
    with_sha "$dir/$name"
  done
  extra_versions+="${extra_versions:+ }$v"
done

crictl_dir="$new/cri-tools/v$CRICTL_VERSION"
crictl_stage="$new/.crictl"
mkdir -p "$crictl_dir" "$crictl_stage"
install -m 0755 "${src[crictl]}" "$crictl_stage/crictl"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$crictl_stage" -cf - crictl \
  | gzip -n >"$crictl_dir/crictl-v$CRICTL_VERSION-linux-amd64.tar.gz"
rm -rf "$crictl_stage"
with_sha "$crictl_dir/crictl-v$CRICTL_VERSION-linux-amd64.tar.gz" with-name

cni_dir="$new/cni-plugins/v$CNI_VERSION"
mkdir -p "$cni_dir"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$cni_src" -cf - . \
  | gzip -n >"$cni_dir/cni-plugins-linux-amd64-v$CNI_VERSION.tgz"
with_sha "$cni_dir/cni-plugins-linux-amd64-v$CNI_VERSION.tgz" with-name

printf '%s\n' "$signature" >"$new/.signature"
printf 'kubelet=%s\nkube-proxy=%s\ncrictl=%s\ncni-plugins=real\nK8S_VERSION=%s\nCRICTL_VERSION=%s\nCNI_VERSION=%s\nK8S_EXTRA_VERSIONS=%s\n' \
  "${kind[kubelet]}" "${kind[kube-proxy]}" "${kind[crictl]}" "$K8S_VERSION" "$CRICTL_VERSION" "$CNI_VERSION" "$extra_versions" \
  >"$new/.contents"
chmod -R a+rX "$new"
if [ -d "$mirror" ]; then
  mv "$mirror" "$mirror.old.$$"
  mv "$new" "$mirror"
  rm -rf "$mirror.old.$$"
else
  mv "$new" "$mirror"
fi
trap - EXIT
log "mirror populated in $mirror (kubelet: ${kind[kubelet]}, kube-proxy: ${kind[kube-proxy]}, crictl: ${kind[crictl]})"
report
