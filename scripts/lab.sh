#!/usr/bin/env bash
# The main job: bring up the local lab and run `pulumi up` against it.
#   1. the lab's four nodes, CA, SSH key, release mirror with the Kubernetes
#      binaries built from Go modules, and the lab's control plane (lab/up-cluster.sh)
#   2. the Pulumi CLI and the Node.js language host (scripts/toolchain.sh)
#   3. the resource plugins command, tls and random, where a normal Pulumi
#      install keeps them (scripts/plugins.ts); `pulumi plugin install`
#      downloads them on a machine that can reach the plugin downloads
#   4. the `lab` stack on a file backend, configured from lab.json, and `pulumi up`
#      with the policy pack (policy/)
set -euo pipefail
cd "$(dirname "$0")/.."

bash lab/up-cluster.sh
# The program runs compiled: bin/ from the sources as they are now.
npm run --silent build
PATH="$(bash scripts/toolchain.sh | tail -n 1):$PATH"
export PATH

if ! missing="$(npx ts-node -T scripts/plugins.ts)"; then
	# Where plugins can be downloaded, this fetches them; where they cannot, it fails fast.
	while read -r name version; do
		pulumi plugin install resource "$name" "${version#v}" >&2 || true
	done < <(tr ',' '\n' <<<"$missing" | sed 's/^ *//')
	if ! missing="$(npx ts-node -T scripts/plugins.ts)"; then
		cat >&2 <<MSG
lab: cannot run 'pulumi up': no resource plugin for ${missing}, and 'pulumi plugin install'
lab: could not download them here. Install them where a normal Pulumi install keeps them
lab: ('pulumi plugin install resource NAME VERSION [--file BINARY]'), then run this again.
lab: 'npm run test:e2e' runs the program's node commands and dynamic providers against this
lab: lab and its control plane without the engine.
MSG
		exit 1
	fi
fi
exec npx ts-node -T scripts/labstack.ts
