#!/usr/bin/env bash
# Print a sorted list of every file on a lab node, for "destroy leaves the
# node as it was" comparisons:
#   lab/snapshot.sh <node> > before.txt; ...; lab/snapshot.sh <node> | diff before.txt -
# One line per file, tab-separated:
#   path  type  mode  owner  group  size  sha256|link target|-
# type is find's %y (f file, d dir, l symlink, p fifo, s socket, c/b device);
# mode is octal; size is given for regular files and symlinks only ("-" for
# directories, whose size depends on the file system's history); the last
# column is the sha256 of a regular file, the target of a symlink, else "-".
#
# Left out (volatile or not part of what a program installs on a node):
#   /proc /sys /dev /run /tmp /var/tmp      kernel/runtime file systems, temp
#   /var/log/journal                        the journal
#   /var/log/wtmp /var/log/btmp /var/log/lastlog   login records (every SSH session)
#   /var/cache                              caches
#   /var/lib/systemd                        systemd's own state (timers, random seed, ...)
#   /var/lib/containerd                     containerd's content store and snapshots
#   /var/lib/apt/lists /var/lib/dpkg/lock* /var/lib/apt/lists/lock /var/cache/apt   apt's volatile files
# Extra paths can be left out with SNAPSHOT_EXCLUDE="/a /b".
set -euo pipefail
# shellcheck source=lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root
[ "$#" -eq 1 ] || die "usage: $0 <node>"
node="$1"
is_node "$node" || die "unknown node '$node'"
node_running "$node" || die "node $node is not running"

# /var/backups: Debian's daily dpkg-db-backup.timer (midnight) rotates its
# copies of the dpkg database there, whatever the program does.
excludes="/proc /sys /dev /run /tmp /var/tmp /var/log/journal /var/log/wtmp /var/log/btmp /var/log/lastlog /var/cache /var/backups /var/lib/systemd /var/lib/containerd /var/lib/apt/lists /var/lib/dpkg/lock /var/lib/dpkg/lock-frontend /var/lib/dpkg/triggers/Lock ${SNAPSHOT_EXCLUDE:-}"

# shellcheck disable=SC2016
in_node "$node" sh -c '
  set -eu
  prune=""
  for p in $1; do prune="$prune -path $p -o"; done
  # shellcheck disable=SC2086
  find / \( ${prune% -o} \) -prune -o -printf "%p\t%y\t%m\t%u\t%g\t%s\t%l\n" >/tmp/.hw-snap-list
  # shellcheck disable=SC2086
  find / \( ${prune% -o} \) -prune -o -type f -print0 | xargs -0 -r sha256sum >/tmp/.hw-snap-sums
  awk -F "\t" "
    FNR == NR { h = substr(\$0, 1, 64); p = substr(\$0, 67); sum[p] = h; next }
    {
      size = (\$2 == \"f\" || \$2 == \"l\") ? \$6 : \"-\"
      last = \$2 == \"f\" ? sum[\$1] : (\$2 == \"l\" ? \$7 : \"-\")
      printf \"%s\t%s\t%s\t%s\t%s\t%s\t%s\n\", \$1, \$2, \$3, \$4, \$5, size, last
    }" /tmp/.hw-snap-sums /tmp/.hw-snap-list | LC_ALL=C sort
  rm -f /tmp/.hw-snap-list /tmp/.hw-snap-sums
' _ "$excludes"
