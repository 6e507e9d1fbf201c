#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine, from the
# repo's own files: Debian packages (scripts/system-packages.txt), containerd
# 2.x built from its Go module (lab/k8s-build.sh containerd), the npm
# packages pinned in package-lock.json (the program's and the policy pack's,
# policy/); builds actionlint (the workflows' linter) from its Go module into
# a cache; then compiles the program to bin/. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t packages < <(grep -vE '^\s*(#|$)' scripts/system-packages.txt)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f '${Status}' -- "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "setup: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends -- "${missing[@]}" >&2
fi
# containerd's package starts the daemon; the project only uses its binary here.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	systemctl disable --now containerd.service >/dev/null 2>&1 || true
fi

# containerd 2.x, built from its Go module into the cache lab/k8s-build.sh
# keeps (minutes cold, instant warm): the fast suite's real-tools check of
# config version 3 reads it (Debian's containerd is 1.6), and one lab node runs it.
bash lab/k8s-build.sh containerd >/dev/null

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund
fi
# actionlint, built from its Go module with the machine's Go settings (GOPROXY
# and all), cached outside the repository like scripts/toolchain.sh's CLI. The
# fast suite runs it on .github/workflows (test/workflows.test.ts finds it
# by ACTIONLINT_VERSION below).
ACTIONLINT_VERSION="v1.7.12"
actionlint_dir="${HARDWAY_CACHE:-$HOME/.cache/hardway-workers}/actionlint-${ACTIONLINT_VERSION}"
if [ ! -x "$actionlint_dir/actionlint" ]; then
	command -v go >/dev/null 2>&1 || { echo "setup: go is required to build actionlint" >&2; exit 1; }
	echo "setup: building actionlint ${ACTIONLINT_VERSION} into $actionlint_dir" >&2
	mkdir -p "$actionlint_dir"
	GOBIN="$actionlint_dir" GOFLAGS="-buildvcs=false" go install "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}" >&2
fi

# The program runs compiled (Pulumi.yaml's main: bin/index.js).
npm run --silent build
