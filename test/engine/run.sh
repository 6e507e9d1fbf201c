#!/usr/bin/env bash
# npm run test:engine: the real Pulumi engine against the lab. It needs the
# command, tls and random resource plugins installed where a normal Pulumi
# install keeps them (`pulumi plugin ls`, or on PATH); it never builds or
# downloads them. Where they are missing it says so in one line and skips.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! missing="$(npx ts-node -T scripts/plugins.ts)"; then
	echo "engine suite skipped: resource plugins not installed (${missing}); install them with 'pulumi plugin install resource NAME VERSION'"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
# The oldest version the lab builds too (cached): the rolling upgrade starts from it.
LAB_K8S_OLDEST_BUILD=1 bash lab/up-cluster.sh
# The program runs compiled: bin/ from the sources as they are now.
npm run --silent build
PATH="$(bash scripts/toolchain.sh | tail -n 1):$PATH"
export PATH
exec npx mocha --config .mocharc.engine.json
