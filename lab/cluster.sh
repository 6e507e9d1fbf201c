#!/usr/bin/env bash
# The lab's control plane: TEST SCAFFOLDING, not part of the program.
#
#   lab/cluster.sh up     start etcd, kube-apiserver and kube-controller-manager
#                         on the host, listening on the lab bridge
#                         (https://api.lab.hardway.test:6443 = 10.240.0.1:6443);
#                         write $LAB_DIR/cluster.json (admin credentials, kubeconfig)
#                         and a marked line in the host's /etc/hosts for that name
#   lab/cluster.sh down   stop them, remove $LAB_DIR/cluster and the hosts line
#   lab/cluster.sh status print "up" or "down"
#
# The binaries come from lab/k8s-build.sh (Go modules, cached). The API server
# runs with --enable-bootstrap-token-auth and Node,RBAC authorization; the
# controller manager signs CSRs with the lab CA and runs the bootstrap signer
# and token cleaner. etcd listens on 127.0.0.1 only, without TLS. There is no
# scheduler, no DNS and no pod network: the lab proves node bootstrapping,
# registration, the kubelet's serving certificate and kube-proxy, not workloads.
# Idempotent: "up" on a running control plane only checks it.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root

CLUSTER_DIR="$LAB_DIR/cluster"
PKI="$CLUSTER_DIR/pki"
SERVICE_CIDR="10.96.0.0/12"
SERVICE_IP="10.96.0.1"
API_PORT=6443
API_URL="https://$LAB_BRIDGE_IP:$API_PORT"
COMPONENTS=(etcd kube-apiserver kube-controller-manager)

component_pid() { # prints the pid of a running component, or fails
  local pid
  pid="$(cat "$CLUSTER_DIR/$1.pid" 2>/dev/null)" || return 1
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -qF "$1" "/proc/$pid/cmdline" 2>/dev/null || return 1
  printf '%s\n' "$pid"
}

stop_component() {
  local pid i
  pid="$(component_pid "$1")" || { rm -f "$CLUSTER_DIR/$1.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$CLUSTER_DIR/$1.pid"
}

# sign <name> <subject> [<subjectAltName>]: a client/server certificate from the lab CA
sign() {
  local name="$1" subj="$2" san="${3:-}" ext
  [ -f "$PKI/$name.crt" ] && [ -f "$PKI/$name.key" ] && return 0
  ext="$PKI/$name.ext"
  {
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n'
    if [ -n "$san" ]; then
      printf 'extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$san"
    else
      printf 'extendedKeyUsage=clientAuth\n'
    fi
  } >"$ext"
  openssl req -new -newkey rsa:2048 -nodes -subj "$subj" -keyout "$PKI/$name.key.tmp" -out "$PKI/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$name.csr" -CA "$LAB_DIR/ca/ca.crt" -CAkey "$LAB_DIR/ca/ca.key" -CAcreateserial \
    -days 30 -sha256 -extfile "$ext" -out "$PKI/$name.crt.tmp" 2>/dev/null
  chmod 0600 "$PKI/$name.key.tmp"
  mv -f "$PKI/$name.key.tmp" "$PKI/$name.key"
  mv -f "$PKI/$name.crt.tmp" "$PKI/$name.crt"
  rm -f "$PKI/$name.csr" "$ext"
}

# kubeconfig <name> <cert name>: a kubeconfig for one of the pki identities
kubeconfig() {
  local out="$CLUSTER_DIR/$1.kubeconfig"
  [ -f "$out" ] && return 0
  local k="$BIN/kubectl" tmp="$out.tmp"
  rm -f "$tmp"
  "$k" --kubeconfig="$tmp" config set-cluster lab --server="$API_URL" --certificate-authority="$LAB_DIR/ca/ca.crt" --embed-certs >/dev/null
  "$k" --kubeconfig="$tmp" config set-credentials "$2" --client-certificate="$PKI/$2.crt" --client-key="$PKI/$2.key" --embed-certs >/dev/null
  "$k" --kubeconfig="$tmp" config set-context lab --cluster=lab --user="$2" >/dev/null
  "$k" --kubeconfig="$tmp" config use-context lab >/dev/null
  chmod 0600 "$tmp"
  mv -f "$tmp" "$out"
}

start_component() { # start_component <name> <binary> <args...>
  local name="$1"
  shift
  component_pid "$name" >/dev/null && return 0
  log "starting $name"
  lab_daemon "$CLUSTER_DIR/$name.log" "$@"
  printf '%s\n' "$!" >"$CLUSTER_DIR/$name.pid"
}

wait_api() {
  local i
  for i in $(seq 1 240); do
    if "$BIN/kubectl" --kubeconfig="$CLUSTER_DIR/admin.kubeconfig" get --raw /readyz >/dev/null 2>&1; then
      return 0
    fi
    component_pid kube-apiserver >/dev/null || break
    sleep 0.5
  done
  tail -n 20 "$CLUSTER_DIR/kube-apiserver.log" >&2 || true
  die "kube-apiserver did not become ready (log: $CLUSTER_DIR/kube-apiserver.log)"
}

wait_healthz() { # wait_healthz <component> <port>: its /healthz on 127.0.0.1 answers ok
  local i
  for i in $(seq 1 120); do
    if [ "$(curl -sk "https://127.0.0.1:$2/healthz" 2>/dev/null || true)" = "ok" ]; then return 0; fi
    component_pid "$1" >/dev/null || break
    sleep 0.5
  done
  tail -n 20 "$CLUSTER_DIR/$1.log" >&2 || true
  die "$1 did not become healthy (log: $CLUSTER_DIR/$1.log)"
}

# The host resolves the API name like the nodes do (the program runs here):
# one line in /etc/hosts, marked, rewritten in place (it may be a bind mount).
HOSTS_MARK="# hardway-lab api"
hosts_without_mark() { grep -vF "$HOSTS_MARK" /etc/hosts || true; }
ensure_hosts_entry() {
  local line="$LAB_BRIDGE_IP	$LAB_API_NAME	$HOSTS_MARK"
  grep -qxF "$line" /etc/hosts && return 0
  local rest
  rest="$(hosts_without_mark)"
  printf '%s\n%s\n' "$rest" "$line" >/etc/hosts
}
remove_hosts_entry() {
  grep -qF "$HOSTS_MARK" /etc/hosts || return 0
  local rest
  rest="$(hosts_without_mark)"
  printf '%s\n' "$rest" >/etc/hosts
}

# kube-proxy sets net.netfilter.nf_conntrack_max to max(32768 x CPUs, 131072)
# unless it already has that value; the sysctl is global and read-only outside
# the host's network namespace, so a node's kube-proxy cannot write it. The lab
# gives the host that value (saved, and restored by "down").
CONNTRACK=/proc/sys/net/netfilter/nf_conntrack_max
ensure_conntrack_max() {
  [ -f "$CONNTRACK" ] || return 0
  local want=$((32768 * $(nproc)))
  [ "$want" -ge 131072 ] || want=131072
  [ -f "$CLUSTER_DIR/nf_conntrack_max.orig" ] || cat "$CONNTRACK" >"$CLUSTER_DIR/nf_conntrack_max.orig"
  [ "$(cat "$CONNTRACK")" = "$want" ] || printf '%s\n' "$want" >"$CONNTRACK"
}
restore_conntrack_max() {
  [ -f "$CLUSTER_DIR/nf_conntrack_max.orig" ] && [ -f "$CONNTRACK" ] || return 0
  cat "$CLUSTER_DIR/nf_conntrack_max.orig" >"$CONNTRACK"
}

cluster_up() {
  [ -f "$LAB_DIR/lab.json" ] || die "the lab is not up (run lab/up.sh first)"
  BIN="${LAB_K8S_BIN_DIR:-}"
  if [ -z "$BIN" ] || [ ! -x "$BIN/kube-apiserver" ]; then
    BIN="$("$LAB_SRC/k8s-build.sh" all | tail -n 1)"
  fi
  for b in etcd kube-apiserver kube-controller-manager kubectl; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing (lab/k8s-build.sh builds it)"
  done
  mkdir -p "$PKI" "$CLUSTER_DIR/etcd"
  chmod 0700 "$PKI" "$CLUSTER_DIR/etcd"

  sign apiserver "/CN=kube-apiserver" \
    "DNS:$LAB_API_NAME,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:$LAB_BRIDGE_IP,IP:$SERVICE_IP,IP:127.0.0.1"
  sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
  sign controller-manager "/CN=system:kube-controller-manager"
  sign admin "/O=system:masters/CN=hardway-lab-admin"
  if [ ! -f "$PKI/sa.key" ]; then
    openssl genrsa -out "$PKI/sa.key.tmp" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key.tmp" -pubout -out "$PKI/sa.pub" 2>/dev/null
    chmod 0600 "$PKI/sa.key.tmp"
    mv -f "$PKI/sa.key.tmp" "$PKI/sa.key"
  fi
  ensure_hosts_entry
  ensure_conntrack_max
  kubeconfig admin admin
  kubeconfig controller-manager controller-manager

  start_component etcd "$BIN/etcd" --name lab --data-dir "$CLUSTER_DIR/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster lab=http://127.0.0.1:2380 --log-level warn
  start_component kube-apiserver "$BIN/kube-apiserver" \
    --advertise-address="$LAB_BRIDGE_IP" --bind-address="$LAB_BRIDGE_IP" --secure-port="$API_PORT" \
    --etcd-servers=http://127.0.0.1:2379 \
    --client-ca-file="$LAB_DIR/ca/ca.crt" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$LAB_DIR/ca/ca.crt" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-account-issuer="https://$LAB_API_NAME:$API_PORT" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --authorization-mode=Node,RBAC --enable-bootstrap-token-auth \
    --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true --v=1
  wait_api
  start_component kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$CLUSTER_DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$CLUSTER_DIR/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$CLUSTER_DIR/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 \
    --cluster-signing-cert-file="$LAB_DIR/ca/ca.crt" --cluster-signing-key-file="$LAB_DIR/ca/ca.key" \
    --root-ca-file="$LAB_DIR/ca/ca.crt" --service-account-private-key-file="$PKI/sa.key" \
    --use-service-account-credentials=true --controllers='*,bootstrapsigner,tokencleaner' \
    --service-cluster-ip-range="$SERVICE_CIDR" --leader-elect=false --v=1
  wait_healthz kube-controller-manager 10257
  for c in "${COMPONENTS[@]}"; do
    component_pid "$c" >/dev/null || die "$c is not running (log: $CLUSTER_DIR/$c.log)"
  done
  local version
  version="$("$BIN/kube-apiserver" --version | awk '{print $2}')"
  CLUSTER_DIR="$CLUSTER_DIR" BIN="$BIN" API="https://$LAB_API_NAME:$API_PORT" VERSION="$version" node -e '
    const fs = require("fs");
    const e = process.env;
    const out = JSON.stringify({
      apiServer: e.API,
      version: e.VERSION.replace(/^v/, ""),
      binDir: e.BIN,
      kubectl: e.BIN + "/kubectl",
      kubeconfig: e.CLUSTER_DIR + "/admin.kubeconfig",
      adminCertFile: e.CLUSTER_DIR + "/pki/admin.crt",
      adminKeyFile: e.CLUSTER_DIR + "/pki/admin.key",
      serviceCidr: "'"$SERVICE_CIDR"'",
    }, null, 2) + "\n";
    fs.writeFileSync(e.CLUSTER_DIR + ".json.tmp", out);
    fs.renameSync(e.CLUSTER_DIR + ".json.tmp", e.CLUSTER_DIR + ".json");
  '
  log "control plane $version is up at $API_URL ($LAB_API_NAME); kubeconfig: $CLUSTER_DIR/admin.kubeconfig"
}

cluster_down() {
  local i
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop_component "${COMPONENTS[$i]}"; done
  restore_conntrack_max
  rm -rf "$CLUSTER_DIR" "$CLUSTER_DIR.json"
  remove_hosts_entry
}

case "${1:-}" in
  up) lab_lock; cluster_up ;;
  down) lab_lock; cluster_down ;;
  status)
    for c in "${COMPONENTS[@]}"; do component_pid "$c" >/dev/null || { echo down; exit 0; }; done
    echo up
    ;;
  *) die "usage: $0 up|down|status" ;;
esac
