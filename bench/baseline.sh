#!/usr/bin/env bash
# The benchmark's baseline: what `pulumi up` of the lab stack does, as one
# plain script with ONE ssh session per node, nodes in parallel.
#
#   bench/baseline.sh PREP_DIR
#
# PREP_DIR comes from bench/baseline.ts (prepareBaseline): nodes.tsv,
# bootstrap.yaml and a directory per node with the program's files, rendered
# by the program's own renderers, and its certificates. For each node this
# streams that directory (tar) into one ssh session, which
#   - makes the kubernetes group and user, the guide's directories;
#   - downloads kubelet, kube-proxy, crictl and the CNI plugins from the
#     mirror, each checked against the mirror's <url>.sha256;
#   - writes containerd's config.toml with the kubernetes group's gid,
#     restarts containerd and waits for its socket;
#   - writes the kubelet's and kube-proxy's files, daemon-reload, enable,
#     restart both.
# Beside the sessions it registers the bootstrap token (the Secret and the
# three RBAC bindings, server-side apply as field manager hardway-workers, as
# the program's TokenRegistration does); then it waits until every node is
# Ready (polling every 2 s, as the program's NodeLifecycle does).
#
# Environment: BASELINE_SSH_KEY, BASELINE_KNOWN_HOSTS, BASELINE_KUBECTL,
# BASELINE_KUBECONFIG (required); BASELINE_READY_TIMEOUT (default 300 s).
set -euo pipefail
prep="${1:?usage: $0 PREP_DIR}"
: "${BASELINE_SSH_KEY:?}" "${BASELINE_KNOWN_HOSTS:?}" "${BASELINE_KUBECTL:?}" "${BASELINE_KUBECONFIG:?}"
timeout="${BASELINE_READY_TIMEOUT:-300}"
kc() { "$BASELINE_KUBECTL" --kubeconfig "$BASELINE_KUBECONFIG" "$@"; }

# The script each node runs, from its unpacked directory ($1).
cat >"$prep/install.sh" <<'NODE'
set -euo pipefail
d="$1"
cd "$d"
# shellcheck disable=SC1091
. ./params
# Files of one phase: install(1) sets content, mode and owner in one go.
put() {
	local name dest mode phase
	while IFS=$'\t' read -r name dest mode phase; do
		[ "$phase" = "$1" ] || continue
		install -D -m "$mode" -o root -g root "$name" "$dest"
	done <files.tsv
}
sha() { sha256sum -- "$1" | cut -d ' ' -f 1; }
fetch() {
	local url="$1" out="$2" want
	want=$(curl -fsSL --retry 3 -- "$url.sha256" | awk '{ print $1; exit }')
	curl -fsSL --retry 3 -o "$out" -- "$url"
	[ "$(sha "$out")" = "$want" ] || { echo "sha256 mismatch: $url" >&2; exit 1; }
}

# System setup.
getent group kubernetes >/dev/null || groupadd --system kubernetes
getent passwd kubernetes >/dev/null ||
	useradd -d /etc/kubernetes -s "$(command -v nologin || printf /sbin/nologin)" -g kubernetes -r -M kubernetes
gid=$(getent group kubernetes | cut -d : -f 3)
install -d -m 0755 -o kubernetes -g kubernetes /etc/kubernetes /var/run/kubernetes
install -d -m 0700 -o kubernetes -g kubernetes /etc/kubernetes/pki
install -d -m 0755 /etc/cni/net.d /opt/cni/bin /etc/tmpfiles.d /etc/containerd
put system
if dpkg-query -W -f '${Status}' firewalld 2>/dev/null | grep -q 'install ok installed'; then
	systemctl disable --now --quiet firewalld.service || true
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -q firewalld >&2
fi

# Binaries, verified.
while IFS=$'\t' read -r kind url dest; do
	if [ "$kind" = file ]; then
		fetch "$url" "$dest.tmp"
		chmod 0755 "$dest.tmp"
		mv -f "$dest.tmp" "$dest"
	else
		fetch "$url" "$d/download.tgz"
		tar -xzf "$d/download.tgz" -C "$dest" --no-same-owner
		rm -f "$d/download.tgz"
	fi
done <downloads.tsv
chown root:root /usr/local/sbin/crictl /opt/cni/bin/*
chmod 0755 /usr/local/sbin/crictl /opt/cni/bin/*

# containerd: config.toml with the real gid, restart, socket owned by that gid.
sed -i "s/^gid = ${GID_PLACEHOLDER}\$/gid = ${gid}/" config.toml
put containerd
systemctl enable --quiet containerd.service
systemctl restart containerd.service
sock=/var/run/containerd/containerd.sock
for ((i = 0; i < 30; i++)); do [ -S "$sock" ] && break; sleep 1; done
[ "$(stat -c %g -- "$sock")" = "$gid" ] || { echo "$sock does not belong to gid $gid" >&2; exit 1; }

# kubelet and kube-proxy.
if [ "$IPVS" = 1 ]; then command -v ipvsadm >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q ipvsadm >&2; fi
put kubelet
put kube-proxy
systemctl daemon-reload
systemctl enable --quiet kubelet.service kube-proxy.service
systemctl restart kubelet.service kube-proxy.service
NODE

pids=()
names=()
while IFS=$'\t' read -r name host port; do
	[ -n "$name" ] || continue
	(
		tar -cf - -C "$prep/$name" . -C "$prep" install.sh |
			ssh -i "$BASELINE_SSH_KEY" -o UserKnownHostsFile="$BASELINE_KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
				-o BatchMode=yes -o ConnectTimeout=15 -p "$port" "root@$host" \
				'd=$(mktemp -d) && tar -xf - -C "$d" && { bash "$d/install.sh" "$d"; rc=$?; rm -rf -- "$d"; exit $rc; }'
	) >"$prep/$name.log" 2>&1 &
	pids+=("$!")
	names+=("$name")
done <"$prep/nodes.tsv"

kc apply --server-side --field-manager=hardway-workers -f "$prep/bootstrap.yaml" >"$prep/kubectl.log" 2>&1 &
apply_pid=$!

failed=0
for i in "${!pids[@]}"; do
	if ! wait "${pids[$i]}"; then
		echo "baseline: ${names[$i]} failed:" >&2
		tail -n 20 "$prep/${names[$i]}.log" >&2
		failed=1
	fi
done
if ! wait "$apply_pid"; then
	echo "baseline: registering the bootstrap token failed:" >&2
	cat "$prep/kubectl.log" >&2
	failed=1
fi
[ "$failed" = 0 ] || exit 1

# Every node Ready.
deadline=$((SECONDS + timeout))
for name in "${names[@]}"; do
	until [ "$(kc get node "$name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; do
		if ((SECONDS >= deadline)); then
			echo "baseline: node $name is not Ready after ${timeout}s" >&2
			exit 1
		fi
		sleep 2
	done
done
