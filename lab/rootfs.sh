#!/usr/bin/env bash
# Build (once) the cached Debian bookworm root filesystem of the lab nodes:
#   ${HARDWAY_CACHE:-$HOME/.cache/hardway-workers}/rootfs/bookworm-<hash>
# <hash> covers the package lists and the recipe version (see lib.sh), so a
# changed package list builds a new image beside the old one. Prints the path.
# The image is shared read-only by all nodes (overlay lower layer); everything
# node-specific (hostname, hosts, machine-id, ssh keys) is added by up.sh in a
# per-node layer.
set -euo pipefail
# shellcheck source=lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root

img="$(image_dir)"
if [ -f "$img.done" ] && [ -d "$img" ]; then
  printf '%s\n' "$img"
  exit 0
fi

command -v debootstrap >/dev/null || die "debootstrap is not installed (up.sh installs it)"
[ -n "$LAB_DEBIAN_MIRROR" ] || die "no Debian mirror: the host's apt sources name none; set LAB_DEBIAN_MIRROR"
mkdir -p "$(dirname "$img")"
tmp="$img.building.$$"
cleanup() {
  local m
  for m in "$tmp/proc" "$tmp/dev/pts" "$tmp/dev" "$tmp/sys"; do
    is_mountpoint "$m" && umount -l "$m" || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

log "building node image $img (debootstrap $LAB_SUITE minbase, a few minutes)"
start="$(date +%s)"
debootstrap --variant=minbase --include="$LAB_PKGS_BASE" \
  "$LAB_SUITE" "$tmp" "$LAB_DEBIAN_MIRROR" >"$tmp.debootstrap.log" 2>&1 \
  || { tail -n 30 "$tmp.debootstrap.log" >&2; die "debootstrap failed (full log: $tmp.debootstrap.log)"; }
rm -f "$tmp.debootstrap.log"

log "installing $LAB_PKGS_EXTRA into the image"
mount -t proc proc "$tmp/proc"
cp /etc/resolv.conf "$tmp/etc/resolv.conf"
# never start services inside the chroot
printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
chmod 0755 "$tmp/usr/sbin/policy-rc.d"
# shellcheck disable=SC2086
chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
  sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $LAB_PKGS_EXTRA" >"$tmp.apt.log" 2>&1 \
  || { tail -n 30 "$tmp.apt.log" >&2; die "apt-get install in the image failed (log: $tmp.apt.log)"; }
rm -f "$tmp.apt.log"
rm -f "$tmp/usr/sbin/policy-rc.d"

# containerd and ssh start at boot; containerd keeps Debian's default config
# (the program under test rewrites /etc/containerd/config.toml).
chroot "$tmp" systemctl enable containerd.service ssh.service >/dev/null 2>&1
chroot "$tmp" systemctl is-enabled containerd.service ssh.service >/dev/null \
  || die "could not enable containerd/ssh in the image"

# Host keys are per node (made by the lab so they are known in advance);
# sshd offers only the ed25519 one, so a pinned key is unambiguous.
rm -f "$tmp"/etc/ssh/ssh_host_*
mkdir -p "$tmp/etc/ssh/sshd_config.d"
cat >"$tmp/etc/ssh/sshd_config.d/hardway-lab.conf" <<'EOF'
# hardway-lab: each node has one lab-generated host key (pinned in lab.json).
# Everything else is Debian's stock sshd configuration.
HostKey /etc/ssh/ssh_host_ed25519_key
EOF

# No upstream DNS for the nodes: every lab name is in /etc/hosts.
cat >"$tmp/etc/resolv.conf" <<EOF
# hardway-lab: the nodes have no DNS server; lab names are in /etc/hosts
search $LAB_DOMAIN
EOF

# machine-id is per node (per-node layer); keep an empty one in the image,
# and let D-Bus use the same one
: >"$tmp/etc/machine-id"
chmod 0444 "$tmp/etc/machine-id"
ln -sfn /etc/machine-id "$tmp/var/lib/dbus/machine-id"

# smaller image, no stale package lists (the nodes cannot reach a mirror)
chroot "$tmp" apt-get clean
rm -rf "$tmp"/var/lib/apt/lists/*
umount "$tmp/proc"

rm -rf "$img"
mv "$tmp" "$img"
# the marker sits beside the image, so that it is not a file on the nodes
printf 'suite=%s\nbase=%s\nextra=%s\nrecipe=%s\nbuilt=%s\n' \
  "$LAB_SUITE" "$LAB_PKGS_BASE" "$LAB_PKGS_EXTRA" "$LAB_IMAGE_RECIPE" "$(date -u +%FT%TZ)" \
  >"$img.done"
trap - EXIT
log "node image ready in $(( $(date +%s) - start ))s: $img ($(du -sh "$img" | cut -f1))"
printf '%s\n' "$img"
