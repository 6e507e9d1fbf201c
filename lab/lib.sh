# shellcheck shell=bash
# Common settings and helpers for the hardway-workers lab. Sourced by the
# other lab scripts (never run directly). Everything here is about the LOCAL
# lab: four systemd nodes under systemd-nspawn on bridge hwbr0 (10.240.0.0/24).

LAB_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAB_DIR="${LAB_DIR:-/var/lib/hardway-lab}"
HARDWAY_CACHE="${HARDWAY_CACHE:-${HOME:-/root}/.cache/hardway-workers}"
# The Debian mirror for debootstrap: LAB_DEBIAN_MIRROR, else the first
# main-archive URI in the host's own apt sources (deb822 or one-line style).
host_debian_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")"
    [ -n "$uri" ] && { printf '%s\n' "${uri%/}"; return 0; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri="$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/ && $i !~ /security/) { print $i; exit } }' "$f")"
    [ -n "$uri" ] && { printf '%s\n' "${uri%/}"; return 0; }
  done
  return 1
}
LAB_DEBIAN_MIRROR="${LAB_DEBIAN_MIRROR:-$(host_debian_mirror || true)}"
LAB_SUITE="bookworm"
LAB_BOOT_TIMEOUT="${LAB_BOOT_TIMEOUT:-180}"

# LAB_CONTAINERS=1 lets the nodes run containers (runc, a real kubelet):
# cgroup controllers delegated to each node and keyring syscalls allowed; see
# delegate_node_cgroups. Default 0, as booted in lab.md. up.sh remembers the
# value in $LAB_DIR/containers; later runs use it unless the variable is set.
if [ -z "${LAB_CONTAINERS:-}" ] && [ -f "$LAB_DIR/containers" ]; then
  LAB_CONTAINERS="$(cat "$LAB_DIR/containers")"
fi
LAB_CONTAINERS="${LAB_CONTAINERS:-0}"

K8S_VERSION="${K8S_VERSION:-1.34.4}"
CRICTL_VERSION="${CRICTL_VERSION:-1.34.0}"
# The oldest release whose kubelet and kube-proxy build from Go modules here
# (1.16.2, the guide's, does not: the proxy has no k8s.io/api v0.16.2), for
# the e2e suite's second version. One minor outside the documented kubelet
# skew (n-3) against the 1.34 control plane.
LAB_K8S_OLDEST="${LAB_K8S_OLDEST:-1.30.14}"

# One node runs containerd 2.x instead of Debian's 1.6, so that both of the
# program's containerd paths (config versions 2 and 3) run in one cluster:
# containerd and containerd-shim-runc-v2 from LAB_CONTAINERD2_BIN_DIR
# (lab/k8s-build.sh containerd; up-cluster.sh passes it, up.sh remembers it
# in $LAB_DIR/containerd2-bin-dir; LAB_CONTAINERD2_BIN_DIR= goes back to 1.6
# everywhere) in /usr/local/bin of that node's layer, with a drop-in that
# points containerd.service at them. runc stays Debian's.
LAB_CONTAINERD2_NODE="${LAB_CONTAINERD2_NODE:-worker1}"

LAB_BRIDGE="hwbr0"
LAB_BRIDGE_IP="10.240.0.1"
LAB_PREFIX_LEN="24"
LAB_SUBNET="10.240.0.0/24"
LAB_DOMAIN="lab.hardway.test"
LAB_API_NAME="api.lab.hardway.test"
LAB_MIRROR_PORT="8585"
LAB_IPT_COMMENT="hardway-lab"
LAB_CGROUP_NAME="hardway-lab"

# name ip role
LAB_NODES=(
  "cp1 10.240.0.11 control-plane"
  "cp2 10.240.0.12 control-plane"
  "worker1 10.240.0.21 worker"
  "worker2 10.240.0.22 worker"
)

# Packages of the node image. debootstrap installs the first list; the second
# is installed with apt inside the chroot afterwards (as lab.md did).
LAB_PKGS_BASE="systemd,systemd-sysv,dbus,openssh-server,iproute2,iptables,curl,ca-certificates,tar,gzip,passwd,procps"
LAB_PKGS_EXTRA="containerd runc ipvsadm conntrack"
# Bump when the image recipe (not the package list) changes.
LAB_IMAGE_RECIPE="4"

log() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# lab_daemon LOG CMD...: starts CMD in the background in a session of its
# own, stdin from /dev/null, output appended to LOG, holding no file
# descriptor of ours above 2: a lock that a caller holds (the lab's own on
# fd 9, or that of `flock <file> lab/...` on whatever fd flock used) must not
# live on in a daemon, or the lock is never free again. $! is CMD's pid.
lab_daemon() {
  local log="$1"
  shift
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd="${fd##*/}"
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
    done
    exec setsid nohup "$@" </dev/null >>"$log" 2>&1
  ) &
}

require_root() {
  [ "$(id -u)" = "0" ] || die "must run as root"
}

node_names() {
  local n
  for n in "${LAB_NODES[@]}"; do printf '%s\n' "${n%% *}"; done
}

node_field() { # node_field <name> <ip|role>
  local want="$1" field="$2" n name ip role
  for n in "${LAB_NODES[@]}"; do
    read -r name ip role <<<"$n"
    if [ "$name" = "$want" ]; then
      case "$field" in
        ip) printf '%s\n' "$ip" ;;
        role) printf '%s\n' "$role" ;;
      esac
      return 0
    fi
  done
  return 1
}

node_ip() { node_field "$1" ip || die "unknown node: $1"; }
node_role() { node_field "$1" role || die "unknown node: $1"; }
node_netns() { printf 'hw-%s\n' "$1"; }
node_veth() { printf 'hwv-%s\n' "$1"; }
node_fqdn() { printf '%s.%s\n' "$1" "$LAB_DOMAIN"; }
node_dir() { printf '%s/nodes/%s\n' "$LAB_DIR" "$1"; }

is_node() {
  local n
  for n in $(node_names); do [ "$n" = "$1" ] && return 0; done
  return 1
}

image_hash() {
  printf '%s\n' "$LAB_SUITE" "minbase" "$LAB_PKGS_BASE" "$LAB_PKGS_EXTRA" "$LAB_IMAGE_RECIPE" \
    | sha256sum | cut -c1-12
}

image_dir() { printf '%s/rootfs/%s-%s\n' "$HARDWAY_CACHE" "$LAB_SUITE" "$(image_hash)"; }

# --- cgroups (v1, no systemd on the host) -----------------------------------
# Every node runs in its own cgroup in each v1 hierarchy, so that the node's
# systemd (which owns "its" cgroup subtree) never shares a subtree with another
# node. Hierarchies where the lab's own process is not at the root (e.g. a
# memory cgroup set up by whatever started us) are left as they are.
cgroup_hierarchies() {
  local d
  for d in /sys/fs/cgroup/*; do
    [ -d "$d" ] && [ -f "$d/cgroup.procs" ] && printf '%s\n' "$d"
  done
}

own_cgroup_path() { # own_cgroup_path <hierarchy dir> -> path of this process in it
  local h="$1" ctrl line
  ctrl="$(basename "$h")"
  while IFS= read -r line; do
    local rest="${line#*:}"
    local ctrls="${rest%%:*}"
    local path="${rest#*:}"
    if [ "$ctrl" = "unified" ]; then
      # cgroup v2 (hybrid setup): the "0::" line. systemd-nspawn tracks
      # itself here when it is mounted, so nodes need their own cgroup here too.
      [ "${line%%:*}" = "0" ] && [ -z "$ctrls" ] && { printf '%s\n' "$path"; return 0; }
      continue
    fi
    case ",${ctrls}," in
      *",${ctrl},"*|*",name=${ctrl},"*) printf '%s\n' "$path"; return 0 ;;
    esac
  done </proc/self/cgroup
  return 1
}

# With LAB_CONTAINERS=1 a hierarchy where the lab's process is NOT at the root
# (the memory cgroup of whatever started us) gets a node cgroup nested below
# the lab's own one there, so that every controller can be delegated to the
# node (see delegate_node_cgroups).
node_cgroup_dirs() { # cgroup dirs for <node> (as the calling process sees it)
  local node="$1" h p
  while IFS= read -r h; do
    p="$(own_cgroup_path "$h" || true)"
    if [ "$p" = "/" ] || [ "${p#/"$LAB_CGROUP_NAME"/}" != "$p" ]; then
      printf '%s/%s/%s\n' "$h" "$LAB_CGROUP_NAME" "$node"
    elif [ "${LAB_CONTAINERS:-0}" = "1" ] && [ -n "$p" ]; then
      case "$p" in
        */"$LAB_CGROUP_NAME"/*) printf '%s%s/%s\n' "$h" "${p%/"$LAB_CGROUP_NAME"/*}" "$LAB_CGROUP_NAME/$node" ;;
        *) printf '%s%s/%s/%s\n' "$h" "${p%/}" "$LAB_CGROUP_NAME" "$node" ;;
      esac
    fi
  done < <(cgroup_hierarchies)
}

# the dirs recorded when the node was launched, plus the computed ones
node_cgroup_dirs_all() {
  { node_cgroup_dirs "$1"; cat "$LAB_DIR/$1.cgroups" 2>/dev/null || true; } | sort -u
}

systemd_cgroup_dir() { printf '/sys/fs/cgroup/systemd/%s/%s\n' "$LAB_CGROUP_NAME" "$1"; }

cgroup_pids_recursive() { # every pid in a cgroup dir and its children
  local d="$1"
  [ -d "$d" ] || return 0
  find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null || true
}

# --- node processes -----------------------------------------------------------
# pid of the node's systemd (PID 1 inside), if it is running and really ours
node_pid() {
  local node="$1" pid
  [ -f "$LAB_DIR/$node.pid" ] || return 1
  pid="$(cat "$LAB_DIR/$node.pid")"
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  grep -q ":name=systemd:/$LAB_CGROUP_NAME/$node\(/\|$\)" "/proc/$pid/cgroup" 2>/dev/null || return 1
  [ "$(awk '/^NSpid:/ {print $NF}' "/proc/$pid/status" 2>/dev/null)" = "1" ] || return 1
  printf '%s\n' "$pid"
}

node_running() { node_pid "$1" >/dev/null; }

in_node() { # in_node <node> <cmd...> : run inside the node with a clean env
  local node="$1" pid
  shift
  pid="$(node_pid "$node")" || die "node $node is not running"
  nsenter -t "$pid" -a -- /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@"
}

# Kill every process of a node (its nspawn, its systemd and all below them).
# The node's state is thrown away by reset/down anyway, so there is no point
# in a slow clean shutdown.
node_all_pids() { # every process in any of the node's cgroups
  local d
  while IFS= read -r d; do cgroup_pids_recursive "$d"; done < <(node_cgroup_dirs_all "$1") | sort -u | tr '\n' ' '
}

kill_node() {
  local node="$1" pids i
  for i in $(seq 1 100); do
    pids="$(node_all_pids "$node")"
    [ -z "${pids// /}" ] && break
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.1
  done
  pids="$(node_all_pids "$node")"
  [ -z "${pids// /}" ] || die "could not stop all processes of node $node: $pids"
  rm -f "$LAB_DIR/$node.pid" "$LAB_DIR/$node.nspawn.pid"
  rm -rf "/run/systemd/nspawn/propagate/$node" "/run/systemd/nspawn/unix-export/$node" 2>/dev/null || true
  remove_node_cgroups "$node"
}

remove_node_cgroups() {
  local node="$1" d
  while IFS= read -r d; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    # its parent "hardway-lab" too, once no node uses it any more
    [ "$(basename "$(dirname "$d")")" = "$LAB_CGROUP_NAME" ] && rmdir "$(dirname "$d")" 2>/dev/null || true
  done < <(node_cgroup_dirs_all "$node")
  rm -f "$LAB_DIR/$node.cgroups"
  true
}

# Serialize up/down/reset (several tests may call them): lock the lab's
# source directory itself, so that no lock file is left anywhere.
# LAB_LOCK_HELD=1: the caller already holds it (e.g. flock lab/ <cmd>).
lab_lock() {
  [ "${LAB_LOCK_HELD:-0}" = "1" ] && return 0
  exec 9<"$LAB_SRC"
  flock -w "${LAB_LOCK_TIMEOUT:-600}" 9 || die "another lab script holds the lock on $LAB_SRC"
}

is_mountpoint() { mountpoint -q -- "$1" 2>/dev/null; }

# --- network --------------------------------------------------------------------
ensure_bridge() {
  if ! ip link show dev "$LAB_BRIDGE" >/dev/null 2>&1; then
    # fixed MAC: otherwise the bridge takes the lowest port MAC, which changes
    # when nodes are reset and leaves stale ARP entries in the other nodes
    ip link add "$LAB_BRIDGE" address "$(lab_mac 02:48:57 "$LAB_BRIDGE_IP")" type bridge
  fi
  if ! ip -4 -o addr show dev "$LAB_BRIDGE" | grep -q " $LAB_BRIDGE_IP/$LAB_PREFIX_LEN "; then
    ip addr add "$LAB_BRIDGE_IP/$LAB_PREFIX_LEN" dev "$LAB_BRIDGE"
  fi
  ip link set "$LAB_BRIDGE" up
}

# iptables (filter table only, no NAT): the host accepts what the nodes send to
# it on the bridge, bridged node<->node traffic is accepted, and nothing is
# forwarded between the bridge and any other interface (nodes get no internet,
# and nothing outside reaches them). Every rule carries the comment
# "hardway-lab" so that down.sh removes exactly these.
lab_iptables_rules() {
  printf '%s\n' \
    "INPUT -i $LAB_BRIDGE -s $LAB_SUBNET -j ACCEPT" \
    "FORWARD -i $LAB_BRIDGE -o $LAB_BRIDGE -j ACCEPT" \
    "FORWARD -i $LAB_BRIDGE ! -o $LAB_BRIDGE -j REJECT --reject-with icmp-net-unreachable" \
    "FORWARD ! -i $LAB_BRIDGE -o $LAB_BRIDGE -j REJECT --reject-with icmp-net-unreachable"
}

ensure_iptables() {
  local rule chain spec
  # insert in reverse so that the final order at the top of each chain is the listed one
  while IFS= read -r rule; do
    chain="${rule%% *}"; spec="${rule#* }"
    # shellcheck disable=SC2086
    if ! iptables -w -C "$chain" $spec -m comment --comment "$LAB_IPT_COMMENT" 2>/dev/null; then
      # shellcheck disable=SC2086
      iptables -w -I "$chain" 1 $spec -m comment --comment "$LAB_IPT_COMMENT"
    fi
  done < <(lab_iptables_rules | tac)
}

remove_iptables() {
  local line
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    eval "iptables -w -D ${line#-A }" || true
  done < <(iptables -w -S 2>/dev/null | grep -E -- "--comment \"?$LAB_IPT_COMMENT\"?( |\$)" || true)
}

# stable, locally administered MAC from a prefix and an IPv4 address
lab_mac() {
  local b c d
  IFS=. read -r _ b c d <<<"$2"
  printf '%s:%02x:%02x:%02x\n' "$1" "$b" "$c" "$d"
}

ensure_node_netns() {
  local node="$1" ns veth ip
  ns="$(node_netns "$node")"; veth="$(node_veth "$node")"; ip="$(node_ip "$node")"
  if [ ! -e "/run/netns/$ns" ]; then
    [ -e /run/netns ] || : >"$LAB_DIR/.made-run-netns"
    ip netns add "$ns"
  fi
  if ! ip link show dev "$veth" >/dev/null 2>&1; then
    ip -n "$ns" link del eth0 2>/dev/null || true
    # fixed MACs, so that ARP caches stay right when a node is reset
    ip link add "$veth" address "$(lab_mac 02:48:58 "$ip")" type veth \
      peer name eth0 address "$(lab_mac 02:48:57 "$ip")" netns "$ns"
  fi
  ip link set "$veth" master "$LAB_BRIDGE"
  ip link set "$veth" up
  ip -n "$ns" link set lo up
  if ! ip -n "$ns" -4 -o addr show dev eth0 | grep -q " $ip/$LAB_PREFIX_LEN "; then
    ip -n "$ns" addr add "$ip/$LAB_PREFIX_LEN" dev eth0
  fi
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route replace default via "$LAB_BRIDGE_IP" dev eth0
}

remove_node_netns() {
  local node="$1" ns veth
  ns="$(node_netns "$node")"; veth="$(node_veth "$node")"
  local i
  if [ -e "/run/netns/$ns" ]; then ip netns del "$ns"; fi
  # Deleting the namespace destroys the veth pair asynchronously: the link can
  # vanish between a look and a delete, so delete until it is gone.
  for i in $(seq 1 50); do
    ip link show dev "$veth" >/dev/null 2>&1 || break
    ip link del "$veth" 2>/dev/null || true
    sleep 0.1
  done
  ! ip link show dev "$veth" >/dev/null 2>&1 || die "cannot remove $veth"
  if ip link show dev "$LAB_BRIDGE" >/dev/null 2>&1; then
    ip neigh flush to "$(node_ip "$node")" dev "$LAB_BRIDGE" 2>/dev/null || true
  fi
}

# --- keys -----------------------------------------------------------------------
ensure_ssh_keys() {
  local node f
  mkdir -p "$LAB_DIR/ssh/hostkeys"
  chmod 0700 "$LAB_DIR/ssh"
  if [ ! -f "$LAB_DIR/ssh/id" ]; then
    ssh-keygen -q -t ed25519 -N '' -C "hardway-lab" -f "$LAB_DIR/ssh/id"
  fi
  for node in $(node_names); do
    f="$LAB_DIR/ssh/hostkeys/$node/ssh_host_ed25519_key"
    if [ ! -f "$f" ]; then
      mkdir -p "$(dirname "$f")"
      ssh-keygen -q -t ed25519 -N '' -C "root@$(node_fqdn "$node")" -f "$f"
    fi
  done
  local tmp="$LAB_DIR/ssh/known_hosts.tmp"
  : >"$tmp"
  for node in $(node_names); do
    printf '%s,%s,%s %s\n' "$(node_ip "$node")" "$(node_fqdn "$node")" "$node" "$(node_host_key "$node")" >>"$tmp"
  done
  mv -f "$tmp" "$LAB_DIR/ssh/known_hosts"
}

node_host_key() { # "ssh-ed25519 AAAA..." (no comment)
  cut -d' ' -f1,2 "$LAB_DIR/ssh/hostkeys/$1/ssh_host_ed25519_key.pub"
}

ensure_ca() {
  local ca="$LAB_DIR/ca"
  [ -f "$ca/ca.crt" ] && [ -f "$ca/ca.key" ] && return 0
  mkdir -p "$ca"
  chmod 0700 "$ca"
  cat >"$ca/openssl.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
CN = hardway-lab-ca
[v3_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF
  openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
    -config "$ca/openssl.cnf" -keyout "$ca/ca.key.tmp" -out "$ca/ca.crt.tmp" 2>/dev/null
  chmod 0600 "$ca/ca.key.tmp"
  mv -f "$ca/ca.key.tmp" "$ca/ca.key"
  mv -f "$ca/ca.crt.tmp" "$ca/ca.crt"
  rm -f "$ca/openssl.cnf"
}

# --- node root filesystems ------------------------------------------------------
node_hosts_file() {
  local n
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n\n'
  printf '# hardway-lab\n%s\t%s\n' "$LAB_BRIDGE_IP" "$LAB_API_NAME"
  for n in $(node_names); do
    printf '%s\t%s %s\n' "$(node_ip "$n")" "$(node_fqdn "$n")" "$n"
  done
}

# The containerd 2.x bin dir the lab uses (see LAB_CONTAINERD2_NODE), or nothing.
containerd2_bin_dir() { cat "$LAB_DIR/containerd2-bin-dir" 2>/dev/null || true; }

# What a node's layer holds beyond the node's identity, as layer.done records
# it: empty, or for the containerd 2.x node a digest of its binaries.
node_layer_signature() {
  local bin
  bin="$(containerd2_bin_dir)"
  if [ "$1" = "$LAB_CONTAINERD2_NODE" ] && [ -n "$bin" ]; then
    printf 'containerd2 %s\n' "$(cat "$bin/containerd" "$bin/containerd-shim-runc-v2" | sha256sum | cut -c1-16)"
  fi
}

node_layer_current() {
  local nd
  nd="$(node_dir "$1")"
  [ -f "$nd/layer.done" ] && [ "$(cat "$nd/layer.done")" = "$(node_layer_signature "$1")" ]
}

# The per-node layer: the only files in which nodes differ from the image.
# It is an overlay lower layer above the image, so reset.sh only has to wipe
# the upper dir. Its directories copy mode/owner from the image (in an overlay
# the upper-most layer's directory attributes win). Made again when what it
# holds changed (the node must not be running).
ensure_node_layer() {
  local node="$1" img="$2" nd layer d
  nd="$(node_dir "$node")"; layer="$nd/layer"
  node_layer_current "$node" && return 0
  # a lower layer must not change under a mounted overlay; a copied root is copied again
  if is_mountpoint "$nd/root"; then umount "$nd/root"; fi
  rm -f "$nd/copy.done"
  rm -rf "$layer"
  mkdir -p "$layer/etc/ssh" "$layer/root/.ssh"
  for d in etc etc/ssh root; do
    chmod --reference="$img/$d" "$layer/$d"
    chown --reference="$img/$d" "$layer/$d"
  done
  chmod 0700 "$layer/root/.ssh"
  printf '%s\n' "$node" >"$layer/etc/hostname"
  node_hosts_file >"$layer/etc/hosts"
  if [ ! -f "$nd/machine-id" ]; then
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$nd/machine-id"
  fi
  printf '%s\n' "$(cat "$nd/machine-id")" >"$layer/etc/machine-id"
  chmod 0444 "$layer/etc/machine-id"
  install -m 0600 "$LAB_DIR/ssh/hostkeys/$node/ssh_host_ed25519_key" "$layer/etc/ssh/ssh_host_ed25519_key"
  install -m 0644 "$LAB_DIR/ssh/hostkeys/$node/ssh_host_ed25519_key.pub" "$layer/etc/ssh/ssh_host_ed25519_key.pub"
  install -m 0600 "$LAB_DIR/ssh/id.pub" "$layer/root/.ssh/authorized_keys"
  add_containerd2 "$node" "$img" "$layer"
  node_layer_signature "$node" >"$nd/layer.done"
}

# The containerd 2.x node's layer: the binaries in /usr/local/bin (first on
# PATH, so the program finds them), and containerd.service started from there.
add_containerd2() {
  local node="$1" img="$2" layer="$3" bin d
  bin="$(containerd2_bin_dir)"
  [ "$node" = "$LAB_CONTAINERD2_NODE" ] && [ -n "$bin" ] || return 0
  [ -x "$bin/containerd" ] && [ -x "$bin/containerd-shim-runc-v2" ] \
    || die "no containerd and containerd-shim-runc-v2 in $bin (lab/k8s-build.sh containerd)"
  mkdir -p "$layer/usr/local/bin" "$layer/etc/systemd/system/containerd.service.d"
  for d in usr usr/local usr/local/bin etc/systemd etc/systemd/system; do
    chmod --reference="$img/$d" "$layer/$d"
    chown --reference="$img/$d" "$layer/$d"
  done
  chmod 0755 "$layer/etc/systemd/system/containerd.service.d"
  install -m 0755 "$bin/containerd" "$bin/containerd-shim-runc-v2" "$layer/usr/local/bin/"
  printf '%s\n' \
    "# hardway-lab: this node runs containerd 2.x (lab/k8s-build.sh containerd)" \
    "# instead of Debian's 1.6; see LAB_CONTAINERD2_NODE in lab/lib.sh." \
    "[Service]" "ExecStart=" "ExecStart=/usr/local/bin/containerd" \
    >"$layer/etc/systemd/system/containerd.service.d/hardway-lab.conf"
  chmod 0644 "$layer/etc/systemd/system/containerd.service.d/hardway-lab.conf"
}

overlay_supported() {
  if [ -f "$LAB_DIR/.overlay" ]; then [ "$(cat "$LAB_DIR/.overlay")" = "yes" ]; return; fi
  local t="$LAB_DIR/.overlay-test" ok=no
  rm -rf "$t"; mkdir -p "$t/l1" "$t/l2" "$t/u" "$t/w" "$t/m"
  : >"$t/l2/f"
  if mount -t overlay overlay -o "lowerdir=$t/l1:$t/l2,upperdir=$t/u,workdir=$t/w" "$t/m" 2>/dev/null; then
    [ -e "$t/m/f" ] && ok=yes
    umount "$t/m"
  fi
  rm -rf "$t"
  printf '%s\n' "$ok" >"$LAB_DIR/.overlay"
  [ "$ok" = "yes" ]
}

# Mount (overlay) or copy (fallback) the node's root filesystem.
ensure_node_root() {
  local node="$1" img="$2" nd root
  nd="$(node_dir "$node")"; root="$nd/root"
  mkdir -p "$root" "$nd/containerd"
  is_mountpoint "$root" && return 0
  if overlay_supported; then
    case "$img$nd" in *:*|*,*) die "paths must not contain ':' or ',' for overlay mounts: $img $nd" ;; esac
    mkdir -p "$nd/upper" "$nd/work"
    mount -t overlay "hardway-lab-$node" \
      -o "lowerdir=$nd/layer:$img,upperdir=$nd/upper,workdir=$nd/work" "$root"
  else
    if [ ! -f "$nd/copy.done" ]; then
      rm -rf "$root"; mkdir -p "$root"
      cp -a "$img/." "$root/"
      cp -a "$nd/layer/." "$root/"
      : >"$nd/copy.done"
    fi
  fi
}

# Throw away everything written to the node (root fs changes, containerd state).
wipe_node_root() {
  local node="$1" nd root m
  nd="$(node_dir "$node")"; root="$nd/root"
  # unmount whatever is mounted at or below the node's directory, deepest first
  while IFS= read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m"
  done < <(awk -v p="$nd" '$5 == p || index($5, p "/") == 1 {print $5}' /proc/self/mountinfo | sort -r)
  rm -rf "$nd/upper" "$nd/work" "$nd/containerd" "$nd/copy.done"
  if [ -d "$root" ] && ! is_mountpoint "$root"; then rm -rf "$root"; fi
}

ensure_nspawn_tmpfs() {
  if [ ! -d /run/systemd/nspawn ]; then
    mkdir -p /run/systemd/nspawn
    : >"$LAB_DIR/.made-nspawn-dir"
  fi
  if ! is_mountpoint /run/systemd/nspawn; then
    mount -t tmpfs -o mode=0755 hardway-lab-nspawn /run/systemd/nspawn
    : >"$LAB_DIR/.made-nspawn-tmpfs"
  fi
}

# --- booting ----------------------------------------------------------------------
# Runs in the background process that becomes the node's systemd-nspawn.
_launch_node() {
  local node="$1" nd d parent f
  nd="$(node_dir "$node")"
  local dirs=()
  mapfile -t dirs < <(node_cgroup_dirs "$node")
  printf '%s\n' "${dirs[@]}" >"$LAB_DIR/$node.cgroups"
  for d in "${dirs[@]}"; do
    parent="$(dirname "$d")"
    mkdir -p "$d"
    for f in cpuset.cpus cpuset.mems; do   # cpuset v1: children start empty
      if [ -f "$d/$f" ]; then
        [ -n "$(cat "$parent/$f")" ] || cat "$(dirname "$parent")/$f" >"$parent/$f"
        [ -n "$(cat "$d/$f")" ] || cat "$parent/$f" >"$d/$f"
      fi
    done
    printf '%s\n' "$$" >"$d/cgroup.procs"
  done
  printf '%s\n' "$$" >"$LAB_DIR/$node.nspawn.pid"
  local extra=()
  # runc joins a session keyring: allow the keyring syscalls (nspawn's filter
  # answers EPERM, which runc does not tolerate)
  [ "${LAB_CONTAINERS:-0}" = "1" ] && extra+=(--system-call-filter=@keyring)
  # shellcheck disable=SC2206
  [ -n "${LAB_NSPAWN_EXTRA_ARGS:-}" ] && extra+=(${LAB_NSPAWN_EXTRA_ARGS})
  exec env SYSTEMD_NSPAWN_API_VFS_WRITABLE=1 systemd-nspawn \
    -D "$nd/root" --register=no --keep-unit -M "$node" \
    --network-namespace-path="/run/netns/$(node_netns "$node")" \
    -b --console=passive --capability=all --bind=/dev/kmsg \
    --bind="$nd/containerd:/var/lib/containerd" \
    --resolv-conf=off --timezone=off --link-journal=no \
    "${extra[@]}"
}

boot_node() {
  local node="$1" np pid i child
  node_running "$node" && return 0
  kill_node "$node"   # leftovers of a node that died
  log "booting $node"
  rm -f "$LAB_DIR/$node.nspawn.pid"
  # (lab_daemon: the node must not inherit a lock)
  lab_daemon "$LAB_DIR/$node.log" env LAB_DIR="$LAB_DIR" HARDWAY_CACHE="$HARDWAY_CACHE" LAB_CONTAINERS="$LAB_CONTAINERS" \
    bash -c 'source "$1"; _launch_node "$2"' _ "$LAB_SRC/lib.sh" "$node"
  for i in $(seq 1 200); do
    np="$(cat "$LAB_DIR/$node.nspawn.pid" 2>/dev/null || true)"
    if [ -n "$np" ] && [ -d "/proc/$np" ]; then
      for child in $(cat /proc/"$np"/task/*/children 2>/dev/null); do
        if [ "$(awk '/^NSpid:/ {print $NF}' "/proc/$child/status" 2>/dev/null)" = "1" ]; then
          pid="$child"; break
        fi
      done
    fi
    if [ -n "${pid:-}" ]; then
      printf '%s\n' "$pid" >"$LAB_DIR/$node.pid"
      return 0
    fi
    [ "$i" -gt 5 ] && [ -n "$np" ] && [ ! -d "/proc/$np" ] && break
    sleep 0.1
  done
  tail -n 20 "$LAB_DIR/$node.log" >&2 || true
  die "systemd-nspawn of $node did not start (log: $LAB_DIR/$node.log)"
}

# LAB_CONTAINERS=1: systemd-nspawn mounts the cgroup v1 controllers read-only
# in a node (only name=systemd is writable); runc and the kubelet need to
# create cgroups. Every node has cgroups of its own in every hierarchy
# (node_cgroup_dirs) and sees them as its root (cgroup namespace), so the
# controller mounts inside the node are made writable: the node can only
# change its own subtree.
delegate_node_cgroups() {
  local node="$1" pid m
  [ "${LAB_CONTAINERS:-0}" = "1" ] || return 0
  pid="$(node_pid "$node")" || return 1
  while IFS= read -r m; do
    nsenter -t "$pid" -m -- mount -o remount,bind,rw "$m"
  done < <(in_node "$node" awk '$3 == "cgroup" && $2 ~ "^/sys/fs/cgroup/" && $4 ~ "(^|,)ro(,|$)" {print $2}' /proc/mounts)
}

# Wait until every given node's systemd is running/degraded and sshd listens.
wait_nodes_ready() {
  local deadline node state
  deadline=$(( $(date +%s) + LAB_BOOT_TIMEOUT ))
  for node in "$@"; do
    while :; do
      node_running "$node" || { tail -n 30 "$LAB_DIR/$node.log" >&2 || true; die "node $node stopped while booting (log: $LAB_DIR/$node.log)"; }
      state="$(timeout 10 bash -c 'source "$1"; in_node "$2" systemctl is-system-running' _ "$LAB_SRC/lib.sh" "$node" 2>/dev/null || true)"
      if [ "$state" = "running" ] || [ "$state" = "degraded" ]; then
        if [ -n "$(in_node "$node" ss -Hltn 'sport = :22' 2>/dev/null || true)" ]; then
          delegate_node_cgroups "$node" || die "could not make the cgroup controllers of $node writable"
          if [ "$state" = "degraded" ]; then
            log "WARNING: $node is degraded; failed units: $(in_node "$node" systemctl list-units --failed --plain --no-legend | awk '{print $1}' | tr '\n' ' ')"
          fi
          break
        fi
      fi
      if [ "$(date +%s)" -ge "$deadline" ]; then
        die "node $node not ready after ${LAB_BOOT_TIMEOUT}s (systemctl is-system-running: '${state:-no answer}'; sshd on :22: $(in_node "$node" ss -Hltn 'sport = :22' 2>/dev/null | wc -l) listeners; log: $LAB_DIR/$node.log)"
      fi
      sleep 0.2
    done
  done
}

lab_ssh() { # lab_ssh <node> <cmd...>
  local node="$1"; shift
  ssh -i "$LAB_DIR/ssh/id" -o UserKnownHostsFile="$LAB_DIR/ssh/known_hosts" -o GlobalKnownHostsFile=/dev/null \
    -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR \
    "root@$(node_ip "$node")" "$@"
}

verify_ssh() {
  local node got
  for node in "$@"; do
    got="$(lab_ssh "$node" hostname)" || die "ssh with the pinned host key to $node ($(node_ip "$node")) failed"
    [ "$got" = "$node" ] || die "ssh to $node reached a host named '$got'"
  done
}

# --- mirror server --------------------------------------------------------------
mirror_server_pid() {
  local pid
  pid="$(cat "$LAB_DIR/mirror.pid" 2>/dev/null)" || return 1
  [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "mirror-server.js" || return 1
  printf '%s\n' "$pid"
}

ensure_mirror_server() {
  local i
  local sum
  sum="$(sha256sum "$LAB_SRC/mirror-server.js" | cut -d' ' -f1)"
  if mirror_server_pid >/dev/null && [ -n "$(ss -Hltn "src $LAB_BRIDGE_IP and sport = :$LAB_MIRROR_PORT")" ] \
     && [ "$(cat "$LAB_DIR/mirror.server-sha256" 2>/dev/null || true)" = "$sum" ]; then
    return 0
  fi
  stop_mirror_server
  printf '%s\n' "$sum" >"$LAB_DIR/mirror.server-sha256"
  lab_daemon "$LAB_DIR/mirror.log" node "$LAB_SRC/mirror-server.js" "$LAB_DIR/mirror" "$LAB_BRIDGE_IP" "$LAB_MIRROR_PORT" "$LAB_DIR/mirror-access.log"
  printf '%s\n' "$!" >"$LAB_DIR/mirror.pid"
  for i in $(seq 1 100); do
    [ -n "$(ss -Hltn "src $LAB_BRIDGE_IP and sport = :$LAB_MIRROR_PORT")" ] && return 0
    mirror_server_pid >/dev/null || break
    sleep 0.1
  done
  tail -n 5 "$LAB_DIR/mirror.log" >&2 || true
  die "mirror server did not start on $LAB_BRIDGE_IP:$LAB_MIRROR_PORT (log: $LAB_DIR/mirror.log)"
}

stop_mirror_server() {
  local pid i
  pid="$(mirror_server_pid)" || { rm -f "$LAB_DIR/mirror.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$LAB_DIR/mirror.pid"
}

# --- lab.json -------------------------------------------------------------------
write_lab_json() {
  local node rows="" cni_version
  for node in $(node_names); do
    rows+="$node	$(node_fqdn "$node")	$(node_ip "$node")	$(node_role "$node")	$(node_host_key "$node")	$(node_netns "$node")	$(node_pid "$node" || echo 0)"$'\n'
  done
  cni_version="$(sed -n 's/^CNI_VERSION=//p' "$LAB_DIR/mirror/.contents")"
  local c2_bin c2_version=""
  c2_bin="$(containerd2_bin_dir)"
  if [ -n "$c2_bin" ]; then c2_version="$("$c2_bin/containerd" --version | awk '{ print $3 }')"; fi
  C2_NODE="$LAB_CONTAINERD2_NODE" C2_VERSION="$c2_version" \
  LAB_ROWS="$rows" LAB_DIR="$LAB_DIR" LAB_CONTAINERS="$LAB_CONTAINERS" CNI_VERSION="$cni_version" K8S_VERSION="$K8S_VERSION" \
  CRICTL_VERSION="$CRICTL_VERSION" BASE="http://$LAB_BRIDGE_IP:$LAB_MIRROR_PORT" API="https://$LAB_API_NAME:6443" \
  node -e '
    const fs = require("fs");
    const e = process.env;
    const contents = Object.fromEntries(fs.readFileSync(e.LAB_DIR + "/mirror/.contents", "utf8")
      .trim().split("\n").map((l) => l.split("=")));
    const nodes = e.LAB_ROWS.trim().split("\n").map((r) => {
      const [name, fqdn, ip, role, hostKey, netns, pid] = r.split("\t");
      return { name, fqdn, ip, role, sshHost: ip, sshPort: 22, sshUser: "root", hostKey, netns, pid: Number(pid) };
    });
    const lab = {
      nodes,
      sshPrivateKeyFile: e.LAB_DIR + "/ssh/id",
      knownHostsFile: e.LAB_DIR + "/ssh/known_hosts",
      caCertFile: e.LAB_DIR + "/ca/ca.crt",
      caKeyFile: e.LAB_DIR + "/ca/ca.key",
      apiServer: e.API,
      nodesCanRunContainers: e.LAB_CONTAINERS === "1",
      mirror: {
        kubernetesBaseUrl: e.BASE + "/kubernetes",
        crictlBaseUrl: e.BASE + "/cri-tools",
        cniBaseUrl: e.BASE + "/cni-plugins",
        kubernetesVersion: e.K8S_VERSION,
        crictlVersion: e.CRICTL_VERSION,
        cniVersion: e.CNI_VERSION,
        standIns: ["kubelet", "kube-proxy", "crictl"].filter((n) => contents[n] === "stand-in"),
        extraKubernetesVersions: (contents.K8S_EXTRA_VERSIONS || "").split(" ").filter(Boolean),
      },
      containerd2: e.C2_VERSION ? { node: e.C2_NODE, version: e.C2_VERSION } : null,
    };
    const out = JSON.stringify(lab, null, 2) + "\n";
    const file = e.LAB_DIR + "/lab.json";
    let old = null;
    try { old = fs.readFileSync(file, "utf8"); } catch (_) {}
    if (old !== out) { fs.writeFileSync(file + ".tmp", out); fs.renameSync(file + ".tmp", file); }
  '
}
