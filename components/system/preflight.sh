# hardway-workers preflight: checks a host before the system phase writes
# anything (it runs before the node library is installed, so it is plain
# bash on its own). Each check prints one report line on stdout,
#   HW_PREFLIGHT<TAB><check><TAB>ok|fail<TAB><detail>
# and hw_pf_end fails the script, naming the node and every failed check.
# The checks are honest inside a container too: a module the host kernel
# has (built in or loaded) counts as loaded, whether or not modprobe exists.
hw_pf_failed=()
hw_pf_report() {
	printf 'HW_PREFLIGHT\t%s\t%s\t%s\n' "$1" "$2" "$3"
	if [ "$2" = fail ]; then hw_pf_failed+=("$1: $3"); fi
}

# swap: the kubelet refuses to start with swap on (failSwapOn, its default).
hw_pf_swap() {
	local on
	on=$(awk 'NR > 1 { n++ } END { print n + 0 }' /proc/swaps 2>/dev/null || printf 0)
	if [ "$on" = 0 ]; then
		hw_pf_report swap ok "no swap"
	else
		hw_pf_report swap fail "swap is on ($(awk 'NR > 1 { printf "%s%s", s, $1; s = ", " }' /proc/swaps)): turn it off (swapoff -a, and in /etc/fstab)"
	fi
}

# module NAME: present in the running kernel (what the kernel shows of it), or loadable.
hw_pf_module() {
	local present=0
	case "$1" in
	overlay) grep -qw overlay /proc/filesystems 2>/dev/null && present=1 ;;
	br_netfilter) [ -d /proc/sys/net/bridge ] && present=1 ;;
	ip_vs) [ -e /proc/net/ip_vs ] && present=1 ;;
	esac
	if [ "$present" = 0 ] && [ -d "/sys/module/$1" ]; then present=1; fi
	if [ "$present" = 1 ]; then
		hw_pf_report "module $1" ok "in the running kernel"
	elif command -v modprobe >/dev/null 2>&1 && modprobe -n -q -- "$1" 2>/dev/null; then
		hw_pf_report "module $1" ok "loadable"
	else
		hw_pf_report "module $1" fail "kernel module $1 is neither in the running kernel nor loadable (modprobe -n $1)"
	fi
}

# sysctl KEY: the key exists and is writable (the system phase sets it), or already 1.
hw_pf_sysctl() {
	local f="/proc/sys/${1//.//}"
	if [ ! -e "$f" ]; then
		hw_pf_report "sysctl $1" fail "$1 does not exist on this kernel ($f)"
	elif [ "$(cat -- "$f" 2>/dev/null)" = 1 ]; then
		hw_pf_report "sysctl $1" ok "already 1"
	elif [ -w "$f" ] && : 2>/dev/null >>"$f"; then
		hw_pf_report "sysctl $1" ok "settable"
	else
		hw_pf_report "sysctl $1" fail "$1 is $(cat -- "$f" 2>/dev/null) and cannot be set here ($f is read-only)"
	fi
}

# port PORT UNIT: nothing listens on PORT, or only UNIT (ours) does.
hw_pf_port() {
	local port="$1" unit="$2" line pids pid others=""
	if ! command -v ss >/dev/null 2>&1; then
		hw_pf_report "port $port" fail "cannot tell who listens on port $port: ss (iproute2) is missing"
		return 0
	fi
	line=$(ss -H -ltnp "sport = :$port" 2>/dev/null || true)
	if [ -z "$line" ]; then
		hw_pf_report "port $port" ok "free"
		return 0
	fi
	pids=$(printf '%s\n' "$line" | grep -o 'pid=[0-9]*' | cut -d = -f 2 | sort -u)
	if [ -z "$pids" ]; then
		hw_pf_report "port $port" fail "port $port is in use by a process this host cannot see (another namespace)"
		return 0
	fi
	for pid in $pids; do
		if ! grep -q "/$unit\$" "/proc/$pid/cgroup" 2>/dev/null; then
			others="$others${others:+, }$(cat "/proc/$pid/comm" 2>/dev/null || printf '?') (pid $pid)"
		fi
	done
	if [ -z "$others" ]; then
		hw_pf_report "port $port" ok "held by $unit"
	else
		hw_pf_report "port $port" fail "port $port is in use by $others, not by $unit"
	fi
}

# disk PATH MIB: at least MIB MiB free where the binaries, images and logs go.
hw_pf_disk() {
	local path="$1" want="$2" free
	while [ ! -d "$path" ]; do path=$(dirname -- "$path"); done
	free=$(df -Pk -- "$path" | awk 'NR == 2 { print int($4 / 1024) }')
	if [ "$free" -ge "$want" ]; then
		hw_pf_report "disk $1" ok "${free} MiB free"
	else
		hw_pf_report "disk $1" fail "only ${free} MiB free under $1, at least ${want} MiB needed"
	fi
}

# cgroup NEED: v2, or any. The kubelet refuses cgroup v1 from 1.35 unless failCgroupV1 is false.
hw_pf_cgroup() {
	local have=v1
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then have=v2; fi
	if [ "$1" = v2 ] && [ "$have" = v1 ]; then
		hw_pf_report cgroup fail "the host runs cgroup v1, which the kubelet refuses from 1.35: move the host to cgroup v2, or set hardway-workers:failCgroupV1 false (cgroup v1 support is deprecated)"
	else
		hw_pf_report cgroup ok "cgroup $have"
	fi
}

# hw_pf_end NODE: stops here, before anything is written, when a check failed.
hw_pf_end() {
	local f
	if [ "${#hw_pf_failed[@]}" -gt 0 ]; then
		for f in "${hw_pf_failed[@]}"; do
			printf 'hardway: error: node %s: preflight %s\n' "$1" "$f" >&2
		done
		exit 1
	fi
}
