#!/usr/bin/env bash
# The main job: bring up the local lab and run `pulumi up` against it.
#   1. the lab's four nodes, CA, SSH key, release mirror with the Kubernetes
#      binaries built from Go modules, and the lab's control plane (lab/up-cluster.sh)
#   2. the Pulumi CLI and plugins (scripts/toolchain.sh)
#   3. the `lab` stack on a file backend, configured from lab.json, and `pulumi up`
set -euo pipefail
cd "$(dirname "$0")/.."

bash lab/up-cluster.sh
PATH="$(bash scripts/toolchain.sh):$PATH"
export PATH

missing=()
for plugin in command tls random; do
	version=$(node -p "require('./node_modules/@pulumi/${plugin}/package.json').pulumi.version")
	if ! pulumi plugin ls --json 2>/dev/null | node -e '
		const [name, version] = process.argv.slice(1);
		const list = JSON.parse(require("fs").readFileSync(0, "utf8") || "[]");
		process.exit(list.some((p) => p.name === name && p.kind === "resource" && p.version.replace(/^v/, "") === version) ? 0 : 1);
	' "$plugin" "$version" && ! command -v "pulumi-resource-${plugin}" >/dev/null 2>&1; then
		# Where plugins can be downloaded, this fetches them; here it fails fast.
		pulumi plugin install resource "$plugin" "$version" >&2 || missing+=("${plugin} v${version}")
	fi
done
if [ "${#missing[@]}" -gt 0 ]; then
	cat >&2 <<MSG
lab: cannot run 'pulumi up': no resource plugin for ${missing[*]}.
lab: They could not be downloaded, and scripts/toolchain.sh, which builds plugins from
lab: Go modules, could not build them: the Go module proxy refuses the command, tls
lab: and random provider modules on this machine (403).
lab: 'npm run test:e2e' runs the program's node commands and dynamic providers against this
lab: lab and its control plane, without the engine.
MSG
	exit 1
fi
exec npx ts-node -T scripts/labstack.ts
