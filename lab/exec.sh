#!/usr/bin/env bash
# Run a command inside a lab node, from the outside:
#   lab/exec.sh <node> <cmd...>
# Uses nsenter -t <pid of the node's systemd> -a (all of its namespaces), with
# a clean environment (PATH, HOME=/root, LANG, TERM). Exit code is the command's.
set -euo pipefail
# shellcheck source=lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root
[ "$#" -ge 2 ] || die "usage: $0 <node> <cmd...>   (nodes: $(node_names | tr '\n' ' '))"
node="$1"; shift
is_node "$node" || die "unknown node '$node' (nodes: $(node_names | tr '\n' ' '))"
pid="$(node_pid "$node")" || die "node $node is not running (lab/up.sh starts it)"
exec nsenter -t "$pid" -a -- /usr/bin/env -i \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@"
