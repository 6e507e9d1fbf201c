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
#   - `pulumi-language-nodejs`, the Node.js language host, built from
#     scripts/toolchain/langhost (the upstream host is a nested Go module that the
#     proxy does not serve);
#   - `pulumi-resource-pulumi-nodejs`, the launcher for dynamic providers, taken
#     from github.com/pulumi/pulumi/sdk/v3 (nodejs/dist);
#   - the resource plugins `command`, `tls` and `random` at the versions the npm
#     packages in package-lock.json expect, installed into $PULUMI_HOME (default
#     ~/.pulumi) with `pulumi plugin install resource NAME VERSION --file BINARY`.
#
# Everything built is cached outside the repository, one folder per component and
# version: ${HARDWAY_CACHE:-$HOME/.cache/hardway-workers}/toolchain/<component>-<version>/
# A second run finds everything in place and takes a few seconds.
#
# Environment
#   HARDWAY_CACHE              cache root (default: $HOME/.cache/hardway-workers)
#   PULUMI_HOME                where plugins are installed (default: ~/.pulumi)
#   HARDWAY_TOOLCHAIN_STRICT=1 fail (exit 1) when a resource plugin cannot be
#                              provided; by default that is a warning
#   HARDWAY_PULUMI_CLI_VERSION force the CLI version to build (e.g. v3.274.1)
#   PULUMI_VERSION, PULUMI_COMMAND_VERSION, PULUMI_TLS_VERSION, PULUMI_RANDOM_VERSION
#                              used only when package-lock.json lacks the package
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
LANGHOST_SRC="${SCRIPT_DIR}/toolchain/langhost/main.go"
STRICT="${HARDWAY_TOOLCHAIN_STRICT:-0}"

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

# plugin_version NPM_PACKAGE NPM_VERSION: the provider version the SDK package
# expects (package.json "pulumi.version"), when it is installed; else NPM_VERSION.
plugin_version() {
	local pj="${REPO_ROOT}/node_modules/$1/package.json"
	local v=""
	if [[ -f "${pj}" ]]; then
		v="$(node -e '
			const p = require(process.argv[1]);
			if (p.version === process.argv[2] && p.pulumi && p.pulumi.version) process.stdout.write(String(p.pulumi.version));
		' "${pj}" "$2")"
	fi
	printf '%s' "${v:-$2}"
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
WANT_COMMAND="$(plugin_version "@pulumi/command" "$(wanted "@pulumi/command" PULUMI_COMMAND_VERSION)")"
WANT_TLS="$(plugin_version "@pulumi/tls" "$(wanted "@pulumi/tls" PULUMI_TLS_VERSION)")"
WANT_RANDOM="$(plugin_version "@pulumi/random" "$(wanted "@pulumi/random" PULUMI_RANDOM_VERSION)")"
log "wanted: pulumi v${WANT_PULUMI}, command ${WANT_COMMAND}, tls ${WANT_TLS}, random ${WANT_RANDOM}"

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

# pseudo_from_tag MODULE_OF_TAG TAG_VERSION MAJOR: a pseudo-version for the commit
# that MODULE_OF_TAG@TAG_VERSION was taken from (per the proxy's .info Origin).
pseudo_from_tag() {
	local info
	info="$(in_work go mod download -json "$1@$2" 2>/dev/null || true)"
	printf '%s' "${info}" | node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
			try {
				const j = JSON.parse(s);
				if (!j.Info) return;
				const i = JSON.parse(require("fs").readFileSync(j.Info, "utf8"));
				if (!i.Origin || !i.Origin.Hash || !i.Time) return;
				const t = i.Time.replace(/[-:TZ]/g, "").slice(0, 14);
				const major = Number(process.argv[1]);
				const base = major >= 2 ? "v" + major + ".0.0-" : "v0.0.0-";
				process.stdout.write(base + t + "-" + i.Origin.Hash.slice(0, 12));
			} catch (e) {}
		});' "$3"
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

# build_langhost VERSION BIN_DIR
build_langhost() {
	local ver="$1" bindir="$2" src="${WORK}/langhost"
	need_go
	log "building pulumi-language-nodejs (scripts/toolchain/langhost, against ${SDK_MOD}@${ver})"
	mkdir -p "${src}"
	cp "${LANGHOST_SRC}" "${src}/main.go"
	printf 'module hardway.local/pulumi-language-nodejs\n\ngo 1.24\n\nrequire %s %s\n' "${SDK_MOD}" "${ver}" >"${src}/go.mod"
	(
		cd "${src}"
		go mod tidy >&2
		go build -trimpath -ldflags "-s -w -X main.version=${ver#v}" \
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
		lh_stamp="${CLI_VERSION} $(sha256sum "${LANGHOST_SRC}" | cut -c1-16)"
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

# ---------------------------------------------------------------------------
# Resource plugins
# ---------------------------------------------------------------------------

# go_generate_schema DIR: produce schema-embed.json (what `go generate` does in
# the bridged providers) when it is missing.
go_generate_schema() {
	local cmd_dir="$1"
	[[ -f "${cmd_dir}/schema.json" && ! -f "${cmd_dir}/schema-embed.json" ]] || return 0
	if ! grep -q 'schema-embed.json' "${cmd_dir}"/*.go 2>/dev/null; then
		return 0
	fi
	log "  generating schema-embed.json"
	if ! (cd "${cmd_dir}" && go generate . >&2); then
		log "  go generate failed; embedding schema.json as is"
	fi
	[[ -f "${cmd_dir}/schema-embed.json" ]] || cp "${cmd_dir}/schema.json" "${cmd_dir}/schema-embed.json"
}

# make_shims SRC_DIR: recreate local `replace X => ./dir` modules that the module
# zip lacks (nested modules are cut out of it). The bridged providers keep a
# shim module there whose only job is to expose the Terraform provider's
# internal New() to the bridge.
make_shims() {
	local src="$1" line from to tfmod tfver tfdir
	while IFS= read -r line; do
		from="$(awk '{ print $1 }' <<<"${line}")"
		to="$(awk '{ print $3 }' <<<"${line}")"
		[[ -d "${src}/${to}" ]] && continue
		case "${from}" in
		*/shim) ;;
		*)
			log "  local replace ${from} => ${to} is missing and is not a shim"
			return 1
			;;
		esac
		tfmod="${from%/shim}"
		tfver="$(awk -v m="${tfmod}" '$1 == m { print $2; exit }' <(sed -E 's/^[[:space:]]*(require[[:space:]]+)?//' "${src}/go.mod"))"
		[[ -n "${tfver}" ]] || tfver="latest"
		tfdir="$(mod_download "${tfmod}@${tfver}")" || return 1
		[[ -d "${tfdir}/internal/provider" ]] || {
			log "  ${tfmod}@${tfver} has no internal/provider package"
			return 1
		}
		log "  recreating ${from} (wraps ${tfmod}@${tfver} internal/provider.New)"
		mkdir -p "${src}/${to}"
		printf 'module %s\n\ngo 1.24\n\nrequire %s %s\n' "${from}" "${tfmod}" "${tfver}" >"${src}/${to}/go.mod"
		cat >"${src}/${to}/shim.go" <<EOF
// Package shim exposes the Terraform provider to the Pulumi bridge.
// Generated by scripts/toolchain.sh.
package shim

import (
	tfpf "github.com/hashicorp/terraform-plugin-framework/provider"
	tfprovider "${tfmod}/internal/provider"
)

func NewProvider() tfpf.Provider { return tfprovider.New() }
EOF
		(cd "${src}/${to}" && go mod tidy >&2) || return 1
	done < <(awk '
		/^replace[ \t]*\($/ { b = 1; next }
		b && /^\)/ { b = 0; next }
		{ l = $0; if (!b) { if (l !~ /^replace[ \t]/) next; sub(/^replace[ \t]+/, "", l) } }
		l ~ /=>[ \t]*\.\.?\// { sub(/\/\/.*/, "", l); n = split(l, p, "=>"); gsub(/^[ \t]+|[ \t]+$/, "", p[1]); gsub(/^[ \t]+|[ \t]+$/, "", p[2]); split(p[1], a, " "); print a[1] " => " p[2] }
	' "${src}/go.mod")
}

# build_provider NAME VERSION MODULE MAJOR REPO_ROOT_MODULE SDK_MODULE VERSION_VAR OUT
#   MODULE       Go module of the provider (e.g. github.com/pulumi/pulumi-tls/provider/v5)
#   MAJOR        major version in MODULE's path (0/1 when it has none)
#   VERSION_VAR  the string variable set by -X to the version
build_provider() {
	local name="$1" ver="$2" module="$3" major="$4" rootmod="$5" sdkmod="$6" vervar="$7" out="$8"
	need_go
	log "building pulumi-resource-${name} ${ver} from ${module}"
	local cands=("v${ver}") p dir="" cand
	p="$(pseudo_from_tag "${rootmod}" "v${ver}" "${major}")" && [[ -n "${p}" ]] && cands+=("${p}")
	p="$(pseudo_from_tag "${sdkmod}" "v${ver}" "${major}")" && [[ -n "${p}" ]] && cands+=("${p}")
	for cand in "${cands[@]}"; do
		if dir="$(mod_download "${module}@${cand}")"; then
			log "  using ${module}@${cand}"
			break
		fi
		dir=""
	done
	if [[ -z "${dir}" ]]; then
		log "  ${module} is not served by the Go module proxy at any of: ${cands[*]}"
		return 1
	fi
	local src="${WORK}/provider-${name}"
	rm -rf "${src}"
	cp -R "${dir}" "${src}"
	chmod -R u+w "${src}"
	make_shims "${src}" || return 1
	local cmd_dir="${src}/cmd/pulumi-resource-${name}"
	[[ -d "${cmd_dir}" ]] || {
		log "  ${module} has no cmd/pulumi-resource-${name}"
		return 1
	}
	go_generate_schema "${cmd_dir}"
	local ldflags="-s -w -X ${vervar}=${ver}"
	(
		cd "${src}"
		go build -trimpath -ldflags "${ldflags}" -o "${out}.tmp" "./cmd/pulumi-resource-${name}" >&2 ||
			{ go mod tidy >&2 && go build -trimpath -ldflags "${ldflags}" -o "${out}.tmp" "./cmd/pulumi-resource-${name}" >&2; }
	) || return 1
	mv -f "${out}.tmp" "${out}"
}

INSTALLED="$("${PULUMI}" plugin ls --json 2>/dev/null | node -e '
	let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
		try { for (const p of JSON.parse(s) || []) if (p.kind === "resource") console.log(p.name + "@" + String(p.version).replace(/^v/, "")); } catch (e) {}
	});' || true)"

FAILED=()
# provide_plugin NAME VERSION MODULE MAJOR REPO_ROOT_MODULE SDK_MODULE VERSION_VAR
provide_plugin() {
	local name="$1" ver="$2"
	if grep -qxF "${name}@${ver}" <<<"${INSTALLED}"; then
		log "plugin ${name} ${ver}: installed"
		return 0
	fi
	local dir="${CACHE_ROOT}/${name}-v${ver}" bin
	bin="${dir}/pulumi-resource-${name}"
	mkdir -p "${dir}"
	if [[ ! -x "${bin}" ]]; then
		# A failed attempt is remembered for a day (the answers are the proxy's
		# and do not change by the minute); HARDWAY_TOOLCHAIN_RETRY=1 retries now.
		local miss="${dir}/.unavailable"
		if [[ "${HARDWAY_TOOLCHAIN_RETRY:-0}" != "1" && -f "${miss}" && -n "$(find "${miss}" -mmin -1440 2>/dev/null)" ]]; then
			log "WARNING: plugin ${name} ${ver} could not be built on $(date -r "${miss}" '+%F %T') (see ${miss}); HARDWAY_TOOLCHAIN_RETRY=1 retries"
			FAILED+=("${name}@${ver}")
			return 0
		fi
		local built=1
		build_provider "${name}" "${ver}" "$3" "$4" "$5" "$6" "$7" "${bin}" 2>"${miss}.log" || built=0
		cat "${miss}.log" >&2
		if ((built == 0)); then
			mv -f "${miss}.log" "${miss}"
			log "WARNING: plugin ${name} ${ver} could not be built; programs using @pulumi/${name} will fail"
			FAILED+=("${name}@${ver}")
			return 0
		fi
		rm -f "${miss}" "${miss}.log"
	fi
	log "installing plugin ${name} ${ver} into ${PULUMI_HOME:-$HOME/.pulumi}"
	"${PULUMI}" plugin install resource "${name}" "${ver}" --file "${bin}" >&2
}

provide_plugin command "${WANT_COMMAND}" \
	"github.com/pulumi/pulumi-command/provider" 1 \
	"github.com/pulumi/pulumi-command" "github.com/pulumi/pulumi-command/sdk" \
	"github.com/pulumi/pulumi-command/provider/pkg/version.Version"
TLS_MAJOR="${WANT_TLS%%.*}"
provide_plugin tls "${WANT_TLS}" \
	"github.com/pulumi/pulumi-tls/provider/v${TLS_MAJOR}" "${TLS_MAJOR}" \
	"github.com/pulumi/pulumi-tls/v${TLS_MAJOR}" "github.com/pulumi/pulumi-tls/sdk/v${TLS_MAJOR}" \
	"github.com/pulumi/pulumi-tls/provider/v${TLS_MAJOR}/version.Version"
RANDOM_MAJOR="${WANT_RANDOM%%.*}"
provide_plugin random "${WANT_RANDOM}" \
	"github.com/pulumi/pulumi-random/provider/v${RANDOM_MAJOR}" "${RANDOM_MAJOR}" \
	"github.com/pulumi/pulumi-random/v${RANDOM_MAJOR}" "github.com/pulumi/pulumi-random/sdk/v${RANDOM_MAJOR}" \
	"github.com/pulumi/pulumi-random/provider/v${RANDOM_MAJOR}/version.Version"

if ((${#FAILED[@]} > 0)); then
	log "WARNING: resource plugins not provided: ${FAILED[*]}"
	if [[ "${STRICT}" == "1" ]]; then
		die "HARDWAY_TOOLCHAIN_STRICT=1 and some resource plugins are missing"
	fi
fi

printf '%s\n' "${BIN_DIR}"
