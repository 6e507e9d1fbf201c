#!/usr/bin/env bash
# Provide the Pulumi toolchain this project needs, built from Go modules when it
# is not already installed, and print (as the LAST line on stdout) a directory to
# put in front of PATH:
#
#     PATH="$(scripts/toolchain.sh):$PATH"
#
# All logging goes to stderr.
#
# What it provides
#   - the `pulumi` CLI, at the version of @pulumi/pulumi in package-lock.json; when
#     the Go module proxy does not serve that exact version of
#     github.com/pulumi/pulumi/pkg/v3, the lowest newer served v3 version is built
#     instead (a newer engine runs programs written against an older SDK);
#   - `pulumi-language-nodejs`, the Node.js language host, built from the Go module
#     in hack/langhost, whose go.mod and go.sum pin every dependency (the upstream
#     host is a nested Go module that the proxy does not serve);
#   - `pulumi-resource-pulumi-nodejs`, the launcher for dynamic providers, taken
#     from github.com/pulumi/pulumi/sdk/v3 (nodejs/dist);
#
# It does not provide the resource plugins `command`, `tls` and `random`:
# scripts/plugins.ts looks for them where a normal Pulumi install keeps them.
#
# Everything built is cached outside the repository, one folder per component and
# version: ${HARDWAY_CACHE:-$HOME/.cache/hardway-workers}/toolchain/<component>-<version>/
# A second run finds everything in place and takes a few seconds.
#
# Environment
#   HARDWAY_CACHE              cache root (default: $HOME/.cache/hardway-workers)
#   HARDWAY_PULUMI_CLI_VERSION force the CLI version to build (e.g. v3.274.1)
#   PULUMI_VERSION             used only when package-lock.json lacks @pulumi/pulumi
#
# Callers that run pulumi should also set
#   PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true  (nothing can be downloaded here;
#       without it a missing plugin turns into a long failing download attempt)
#   PULUMI_SKIP_UPDATE_CHECK=true
#   PULUMI_BACKEND_URL / PULUMI_CONFIG_PASSPHRASE as the project needs.
set -euo pipefail
shopt -s inherit_errexit

log() { printf '[toolchain] %s\n' "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
CACHE_ROOT="${HARDWAY_CACHE:-${HOME}/.cache/hardway-workers}/toolchain"
LOCK_FILE="${REPO_ROOT}/package-lock.json"
LANGHOST_DIR="${REPO_ROOT}/hack/langhost"

export PULUMI_SKIP_UPDATE_CHECK="true"
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true"
# Module-aware builds that may add missing requirements; never stamp VCS info
# (the module copies are not repositories).
export GOFLAGS="-mod=mod -buildvcs=false"

command -v node >/dev/null 2>&1 || die "node is required (it reads package-lock.json)"

mkdir -p "${CACHE_ROOT}"
# One toolchain run at a time per cache (parallel CI steps would build twice).
if command -v flock >/dev/null 2>&1; then
	exec 9>"${CACHE_ROOT}/.lock"
	flock 9
fi
WORK="$(mktemp -d "${CACHE_ROOT}/.work.XXXXXX")"
cleanup() { rm -rf "${WORK}"; }
trap cleanup EXIT

# ---------------------------------------------------------------------------
# Wanted versions
# ---------------------------------------------------------------------------

# lock_version NPM_PACKAGE: version of node_modules/NPM_PACKAGE in package-lock.json
lock_version() {
	[[ -f "${LOCK_FILE}" ]] || return 0
	node -e '
		const lock = require(process.argv[1]);
		const p = (lock.packages || {})["node_modules/" + process.argv[2]];
		if (p && p.version) process.stdout.write(String(p.version));
	' "${LOCK_FILE}" "$1"
}

# wanted NPM_PACKAGE ENV_FALLBACK_NAME
wanted() {
	local v
	v="$(lock_version "$1")"
	if [[ -z "${v}" ]]; then
		v="${!2:-}"
		[[ -n "${v}" ]] || die "no version for $1: not in ${LOCK_FILE} and \$$2 is unset"
		log "$1 not found in package-lock.json; using \$$2=${v}"
	fi
	printf '%s' "${v#v}"
}

WANT_PULUMI="$(wanted "@pulumi/pulumi" PULUMI_VERSION)"
log "wanted: pulumi v${WANT_PULUMI}"

# ---------------------------------------------------------------------------
# Go module helpers
# ---------------------------------------------------------------------------

# in_work CMD...: run CMD in the scratch folder (outside any Go module)
in_work() { (cd "${WORK}" && "$@"); }

need_go() {
	command -v go >/dev/null 2>&1 || die "go is required to build the toolchain (not found on PATH)"
}

# mod_download MODULE@VERSION: prints the module's directory in the module
# cache; on failure prints nothing, logs the proxy's answer and returns 1.
mod_download() {
	local out dir err
	out="$(in_work go mod download -json "$1" 2>&1 || true)"
	dir="$(printf '%s' "${out}" | node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
			try { const j = JSON.parse(s); if (j.Dir && !j.Error) process.stdout.write(j.Dir); } catch (e) {}
		});')"
	if [[ -n "${dir}" ]]; then
		printf '%s' "${dir}"
		return 0
	fi
	err="$(printf '%s' "${out}" | node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
			try { const j = JSON.parse(s); process.stdout.write(j.Error || s); } catch (e) { process.stdout.write(s); }
		});')"
	log "  not available: $1: $(printf '%s' "${err}" | tr '\n' ' ' | cut -c1-400)"
	return 1
}

# mod_gomod MODULE@VERSION: path of the module's go.mod in the download cache
mod_gomod() {
	{ in_work go mod download -json "$1" 2>/dev/null || true; } | node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
			try { const j = JSON.parse(s); if (j.GoMod) process.stdout.write(j.GoMod); } catch (e) {}
		});'
}

# nonlocal_replaces GO_MOD: the replace directives of GO_MOD whose target is a
# module (not a ../local path), one "replace A => B V" line each.
nonlocal_replaces() {
	awk '
		/^replace[ \t]*\($/ { inblock = 1; next }
		inblock && /^\)/ { inblock = 0; next }
		inblock { line = $0 }
		!inblock && /^replace[ \t]/ { line = $0; sub(/^replace[ \t]+/, "", line) }
		line != "" {
			sub(/\/\/.*/, "", line)
			n = split(line, parts, "=>")
			if (n == 2) {
				target = parts[2]; gsub(/^[ \t]+|[ \t]+$/, "", target)
				if (target !~ /^\.\.?\//) {
					src = parts[1]; gsub(/^[ \t]+|[ \t]+$/, "", src)
					print "replace " src " => " target
				}
			}
			line = ""
		}
	' "$1"
}

# ---------------------------------------------------------------------------
# The pulumi CLI
# ---------------------------------------------------------------------------

PKG_MOD="github.com/pulumi/pulumi/pkg/v3"
SDK_MOD="github.com/pulumi/pulumi/sdk/v3"

# resolve_cli_version: the v3 version to build for WANT_PULUMI (cached per wanted version)
resolve_cli_version() {
	local want="v${WANT_PULUMI}" rfile="${CACHE_ROOT}/resolved/pulumi-v${WANT_PULUMI}"
	if [[ -n "${HARDWAY_PULUMI_CLI_VERSION:-}" ]]; then
		printf '%s' "v${HARDWAY_PULUMI_CLI_VERSION#v}"
		return 0
	fi
	if [[ -s "${rfile}" ]]; then
		cat "${rfile}"
		return 0
	fi
	need_go
	local chosen="" cand
	log "resolving a buildable ${PKG_MOD} version for ${want}"
	if mod_download "${PKG_MOD}@${want}" >/dev/null && mod_download "${SDK_MOD}@${want}" >/dev/null; then
		chosen="${want}"
	else
		# The lowest served v3 version newer than the wanted one.
		local newer
		newer="$(in_work go list -m -versions "${PKG_MOD}" 2>/dev/null | tr ' ' '\n' |
			grep -E '^v3\.[0-9]+\.[0-9]+$' | { cat; printf '%s\n' "${want}"; } | sort -uV |
			awk -v w="${want}" 'found { print } $0 == w { found = 1 }' | head -n 5 || true)"
		for cand in ${newer}; do
			if mod_download "${PKG_MOD}@${cand}" >/dev/null && mod_download "${SDK_MOD}@${cand}" >/dev/null; then
				chosen="${cand}"
				break
			fi
		done
		[[ -n "${chosen}" ]] || die "no buildable ${PKG_MOD} version >= ${want} is served by the Go module proxy"
		log "WARNING: ${PKG_MOD}@${want} is not served by the Go module proxy; building the CLI at ${chosen} instead"
	fi
	mkdir -p "${CACHE_ROOT}/resolved"
	printf '%s' "${chosen}" >"${rfile}"
	printf '%s' "${chosen}"
}

# build_cli VERSION BIN_DIR
build_cli() {
	local ver="$1" bindir="$2" src="${WORK}/pulumi-cli"
	need_go
	log "building pulumi ${ver} (go build; several minutes on a cold Go cache)"
	local gomod
	gomod="$(mod_gomod "${PKG_MOD}@${ver}")"
	[[ -n "${gomod}" ]] || die "cannot read go.mod of ${PKG_MOD}@${ver}"
	mkdir -p "${src}"
	{
		printf 'module hardway.local/pulumi-cli\n\n'
		printf 'go %s\n\n' "$(awk '$1 == "go" { print $2; exit }' "${gomod}")"
		printf 'require (\n\t%s %s\n\t%s %s\n)\n\n' "${PKG_MOD}" "${ver}" "${SDK_MOD}" "${ver}"
		nonlocal_replaces "${gomod}"
	} >"${src}/go.mod"
	printf '//go:build tools\n\npackage tools\n\nimport _ "%s/cmd/pulumi"\n' "${PKG_MOD}" >"${src}/tools.go"
	(
		cd "${src}"
		go mod tidy >&2
		go build -trimpath \
			-ldflags "-s -w -X ${SDK_MOD}/go/common/version.Version=${ver}" \
			-o "${bindir}/pulumi.tmp" "${PKG_MOD}/cmd/pulumi" >&2
	)
	mv -f "${bindir}/pulumi.tmp" "${bindir}/pulumi"
	cp "${src}/go.mod" "${bindir}/../pulumi-cli.go.mod"
}

# langhost_sdk_version: the SDK version hack/langhost/go.mod pins
langhost_sdk_version() {
	awk -v m="${SDK_MOD}" '$1 == m { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "${LANGHOST_DIR}/go.mod"
}

# langhost_digest: what the built host depends on in the repository
langhost_digest() {
	cat "${LANGHOST_DIR}/main.go" "${LANGHOST_DIR}/go.mod" "${LANGHOST_DIR}/go.sum" | sha256sum | cut -c1-16
}

# build_langhost VERSION BIN_DIR: builds the committed module as it is (go.sum
# verifies every dependency; nothing is resolved anew); VERSION is the version
# it reports.
build_langhost() {
	local ver="$1" bindir="$2" pinned
	need_go
	pinned="$(langhost_sdk_version)"
	log "building pulumi-language-nodejs (hack/langhost, against ${SDK_MOD}@${pinned})"
	if [[ "${pinned}" != "${ver}" ]]; then
		log "WARNING: hack/langhost/go.mod pins ${SDK_MOD}@${pinned}, the CLI is ${ver}; to move it: cd hack/langhost && go get ${SDK_MOD}@${ver} && go mod tidy"
	fi
	(
		cd "${LANGHOST_DIR}"
		GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -ldflags "-s -w -X main.version=${ver#v}" \
			-o "${bindir}/pulumi-language-nodejs.tmp" . >&2
	)
	mv -f "${bindir}/pulumi-language-nodejs.tmp" "${bindir}/pulumi-language-nodejs"
}

# install_dynamic_launcher VERSION BIN_DIR: pulumi-resource-pulumi-nodejs from the SDK module
install_dynamic_launcher() {
	local ver="$1" bindir="$2" dir
	need_go
	dir="$(mod_download "${SDK_MOD}@${ver}")" || die "cannot download ${SDK_MOD}@${ver}"
	install -m 0755 "${dir}/nodejs/dist/pulumi-resource-pulumi-nodejs" "${bindir}/pulumi-resource-pulumi-nodejs"
}

# pulumi_ok DIR: DIR holds a pulumi with everything a nodejs program needs
pulumi_ok() {
	[[ -x "$1/pulumi" ]] || return 1
	[[ -x "$1/pulumi-language-nodejs" || -n "$(command -v pulumi-language-nodejs 2>/dev/null)" ]] || return 1
	[[ -x "$1/pulumi-resource-pulumi-nodejs" || -n "$(command -v pulumi-resource-pulumi-nodejs 2>/dev/null)" ]] || return 1
}

BIN_DIR=""
existing="$(command -v pulumi 2>/dev/null || true)"
if [[ -n "${existing}" ]]; then
	existing_dir="$(cd "$(dirname "${existing}")" && pwd)"
	existing_ver="$("${existing}" version 2>/dev/null | tr -d '[:space:]' || true)"
	if [[ "${existing_ver}" == "v${WANT_PULUMI}" ]] && pulumi_ok "${existing_dir}"; then
		BIN_DIR="${existing_dir}"
		log "using pulumi ${existing_ver} already on PATH: ${existing}"
	fi
fi

if [[ -z "${BIN_DIR}" ]]; then
	CLI_VERSION="$(resolve_cli_version)"
	if [[ -n "${existing}" && "${existing_ver}" == "${CLI_VERSION}" ]] && pulumi_ok "${existing_dir}"; then
		BIN_DIR="${existing_dir}"
		log "using pulumi ${existing_ver} already on PATH: ${existing}"
	else
		BIN_DIR="${CACHE_ROOT}/pulumi-${CLI_VERSION}/bin"
		mkdir -p "${BIN_DIR}"
		if [[ -x "${BIN_DIR}/pulumi" ]] && [[ "$("${BIN_DIR}/pulumi" version 2>/dev/null)" == "${CLI_VERSION}" ]]; then
			log "pulumi ${CLI_VERSION}: cached in ${BIN_DIR}"
		else
			build_cli "${CLI_VERSION}" "${BIN_DIR}"
		fi
		lh_stamp="${CLI_VERSION} $(langhost_digest)"
		if [[ -x "${BIN_DIR}/pulumi-language-nodejs" && -f "${BIN_DIR}/.langhost-stamp" &&
			"$(cat "${BIN_DIR}/.langhost-stamp")" == "${lh_stamp}" ]]; then
			log "pulumi-language-nodejs: cached"
		else
			build_langhost "${CLI_VERSION}" "${BIN_DIR}"
			printf '%s' "${lh_stamp}" >"${BIN_DIR}/.langhost-stamp"
		fi
		if [[ ! -x "${BIN_DIR}/pulumi-resource-pulumi-nodejs" ]]; then
			install_dynamic_launcher "${CLI_VERSION}" "${BIN_DIR}"
		fi
	fi
fi
PULUMI="${BIN_DIR}/pulumi"
export PATH="${BIN_DIR}:${PATH}"
log "pulumi: $("${PULUMI}" version)"

# The resource plugins (command, tls, random) are not this script's: like any
# Pulumi install, the project finds them where `pulumi plugin install` puts
# them, or on PATH (scripts/plugins.ts).

printf '%s\n' "${BIN_DIR}"
