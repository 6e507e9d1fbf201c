# hardway-workers node library, installed once per node by the system phase
# at /usr/local/lib/hardway/<digest>/hardway.sh (the program's SystemSetup),
# with /usr/local/lib/hardway/v<ABI> pointing at the current one. Every
# phase's command sources it and carries only its data. It keeps a journal
# of what each phase changed, in
# /var/lib/hardway-workers/owners/<owner>/<component>/journal, so that
# hw_undo reverses exactly what that phase's create did.
#
# The owner is the node's identity in the stack config (its name, HW_OWNER in
# the command's environment). Two owners can meet on one host: a node renamed
# in the config (the new name is set up before the old one is deleted), or a
# node moved to another address of the same host. What one owner finds
# already claimed by another's journal it takes over (it copies the record,
# and the backup of a file that was there before the program), and undo
# leaves whatever another owner's journal still claims: no owner's delete
# can undo what another owner holds. Without HW_OWNER the journal is the
# older /var/lib/hardway-workers/<component>/journal, which an owner's first
# run takes over.
#
# Each successful run also writes $HW_D/manifest: every file, directory and
# unit the phase manages, with the sha256, mode and owner it left (digests
# only, never content). hw_check compares the node with the manifests.
#
# The caller sets HW_COMPONENT (the phase) and HW_SECRETS (the names of the
# secrets it reads from stdin, in order) before sourcing this file. With
# HW_READONLY=1 (the drift check) sourcing it writes nothing, takes no lock
# and reads no secret.
set -Eeuo pipefail
umask 077
HW_ROOT="${HW_ROOT:-/var/lib/hardway-workers}"
HW_OWNER="${HW_OWNER:-}"
if [ -n "$HW_OWNER" ]; then
	HW_D="$HW_ROOT/owners/$HW_OWNER/$HW_COMPONENT"
else
	HW_D="$HW_ROOT/$HW_COMPONENT"
fi
HW_J="$HW_D/journal"
HW_M="$HW_D/manifest"
hw_restart=0
hw_reload=0
hw_facts=""
hw_tmp=()
hw_recorded=0
hw_undone=0
# On success, the manifest this run recorded replaces the last one.
# A phase that manages no file or unit (containerd's install) has a manifest
# too, with its run's time only: a phase without one is drift.
hw_on_exit() {
	local rc=$?
	if [ "$rc" = 0 ] && [ "$hw_undone" = 0 ] && [ "${HW_READONLY:-0}" != 1 ] && [ -d "$HW_D" ]; then
		[ "$hw_recorded" = 1 ] || hw_manifest_start
		mv -f -- "$HW_M.hw-tmp" "$HW_M"
	fi
	rm -rf -- ${hw_tmp[@]+"${hw_tmp[@]}"}
}
trap hw_on_exit EXIT
# Any failing command stops the script and names itself: the phase, the line, the command.
hw_on_err() {
	local rc=$?
	printf 'hardway: error: %s: line %s: %s (exit %s)\n' "$HW_COMPONENT" "$1" "$2" "$rc" >&2
}
trap 'hw_on_err "$LINENO" "$BASH_COMMAND"' ERR
# An owner's first run takes over the journal of the older layout.
if [ "${HW_READONLY:-0}" != 1 ]; then
	if [ -n "$HW_OWNER" ] && [ -d "$HW_ROOT/$HW_COMPONENT" ] && [ ! -e "$HW_D" ]; then
		mkdir -p -- "$HW_ROOT/owners/$HW_OWNER"
		mv -T -- "$HW_ROOT/$HW_COMPONENT" "$HW_D"
	fi
	mkdir -p -- "$HW_ROOT" "$HW_D"
fi

# hw_tmpfile PATH: sets HW_TMP to a fresh temp file beside PATH (same file
# system, so the final rename is atomic), removed on exit. Its name is fixed,
# not random: a run that was killed leaves at most one stale temp file per
# target, which the next run reuses.
hw_tmpfile() {
	HW_TMP="$(dirname -- "$1")/.$(basename -- "$1").hw-tmp"
	rm -rf -- "$HW_TMP"
	: >"$HW_TMP"
	hw_tmp+=("$HW_TMP")
}

hw_say() { printf 'hardway: %s\n' "$*" >&2; }
hw_die() { hw_say "error: $*"; exit 1; }

# One run per component at a time. A run whose SSH session was cut off (an
# interrupted `pulumi up`) can still be finishing on the node; the next run
# waits for it instead of racing it for the same temp files.
if [ "${HW_READONLY:-0}" != 1 ] && command -v flock >/dev/null 2>&1; then
	exec 9>"$HW_D/.lock"
	flock -w 600 9 || hw_die "another run of $HW_COMPONENT still holds $HW_D/.lock after 600s"
fi

# hw_known TYPE PATH: the journal already holds a record of this thing.
hw_known() {
	[ -f "$HW_J" ] && awk -F '\t' -v t="$1" -v p="$2" '$1 == t && $2 == p { f = 1 } END { exit !f }' "$HW_J"
}
# hw_claimant TYPE KEY: the journal of another owner (or of the older
# layout) that holds a record of this thing; fails when there is none.
hw_claimant() {
	local j
	for j in "$HW_ROOT"/owners/*/*/journal "$HW_ROOT"/*/journal; do
		[ -f "$j" ] || continue
		case "$j" in "$HW_D/journal" | "$HW_ROOT/owners/$HW_OWNER/"*) continue ;; esac
		if awk -F '\t' -v t="$1" -v p="$2" '$1 == t && $2 == p { f = 1 } END { exit !f }' "$j"; then
			printf '%s' "$j"
			return 0
		fi
	done
	return 1
}
# hw_owner_of JOURNAL: the owner a journal belongs to, for messages.
hw_owner_of() {
	case "$1" in
	"$HW_ROOT"/owners/*) local rest="${1#"$HW_ROOT"/owners/}"; printf '%s' "${rest%%/*}" ;;
	*) printf 'the older journal %s' "$1" ;;
	esac
}
# hw_adopt TYPE KEY: takes over another owner's record of this thing (and
# the backup of a file that was there before the program), so that this
# owner's undo restores it as that owner's would have. Fails when no other
# journal holds it; succeeds at once when this journal already does.
hw_adopt() {
	local j rec
	hw_known "$1" "$2" && return 0
	j=$(hw_claimant "$1" "$2") || return 1
	rec=$(awk -F '\t' -v t="$1" -v p="$2" '$1 == t && $2 == p { print; exit }' "$j")
	if [ "$1" = file ] && [ "$(printf '%s' "$rec" | cut -f 3)" = backup ] && [ -e "$(dirname -- "$j")/backup$2" ]; then
		mkdir -p -- "$HW_D/backup$(dirname -- "$2")"
		cp -a -- "$(dirname -- "$j")/backup$2" "$HW_D/backup$2"
	fi
	printf '%s\n' "$rec" >>"$HW_J"
}
# hw_rec FIELD...: appends one tab-separated record to the journal.
hw_rec() {
	local IFS=$'\t'
	printf '%s\n' "$*" >>"$HW_J"
}
# hw_manifest TYPE NAME FIELD...: records one managed thing in this run's
# manifest (file PATH SHA256 MODE OWNER:GROUP, dir PATH - MODE OWNER:GROUP,
# unit NAME). The first record starts the manifest with the run's time,
# which tells one run of the phase from the next.
hw_manifest() {
	local IFS=$'\t'
	[ "$hw_recorded" = 1 ] || hw_manifest_start
	printf '%s\n' "$*" >>"$HW_M.hw-tmp"
}
hw_manifest_start() {
	printf 'run\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" >"$HW_M.hw-tmp"
	hw_recorded=1
}
# hw_manifest_path TYPE PATH: records a file or directory as it is now.
hw_manifest_path() {
	local sum=-
	if [ "$1" = file ]; then sum=$(hw_sha256 "$2"); fi
	hw_manifest "$1" "$2" "$sum" "$(stat -c '%a' -- "$2")" "$(stat -c '%U:%G' -- "$2")"
}

# hw_json_string TEXT: TEXT as a JSON string, quotes included.
hw_json_string() {
	local v="$1" c out="" i
	for ((i = 0; i < ${#v}; i++)); do
		c="${v:i:1}"
		case "$c" in
		'"') out+='\"' ;;
		'\') out+='\\' ;;
		$'\n') out+='\n' ;;
		$'\t') out+='\t' ;;
		$'\r') out+='\r' ;;
		*)
			if [[ "$c" < ' ' ]]; then out+=$(printf '\\u%04x' "'$c"); else out+="$c"; fi
			;;
		esac
	done
	printf '"%s"' "$out"
}
hw_fact() { hw_facts="$hw_facts${hw_facts:+,}$(hw_json_string "$1"):$(hw_json_string "$2")"; }
hw_print_facts() { printf 'HW_FACTS {%s}\n' "$hw_facts"; }

# hw_family: debian, rhel or unknown, from /etc/os-release (HW_OS_RELEASE
# names another file: the tests' stand-in hosts).
hw_family() {
	local id="" like="" f="${HW_OS_RELEASE:-/etc/os-release}"
	# shellcheck disable=SC1090
	id=$(. "$f" && printf '%s' "${ID:-}")
	# shellcheck disable=SC1090
	like=$(. "$f" && printf '%s' "${ID_LIKE:-}")
	case " $id $like " in
	*" debian "* | *" ubuntu "*) printf 'debian' ;;
	*" rhel "* | *" fedora "* | *" centos "*) printf 'rhel' ;;
	*) printf 'unknown' ;;
	esac
}

# hw_dir PATH MODE OWNER GROUP PURGE: makes a directory (and its missing
# parents, recording each); a directory that existed keeps a record of its
# old mode and owner, which undo restores.
hw_dir() {
	local p="$1" q missing=()
	if ! hw_known dir "$p"; then
		if [ -d "$p" ] && hw_claimant dir "$p" >/dev/null; then
			# The parents the other owner made, outermost first, then the
			# directory: undo removes them in the reverse order.
			q="$p"
			while [ "$q" != / ] && [ "$q" != . ]; do
				q=$(dirname -- "$q")
				missing=("$q" ${missing[@]+"${missing[@]}"})
			done
			for q in ${missing[@]+"${missing[@]}"}; do hw_adopt dir "$q" || true; done
			hw_adopt dir "$p"
		elif [ -d "$p" ]; then
			hw_rec dir "$p" existed "$(stat -c '%a' -- "$p")" "$(stat -c '%u' -- "$p")" "$(stat -c '%g' -- "$p")"
		else
			q="$p"
			while [ ! -d "$q" ]; do
				missing=("$q" ${missing[@]+"${missing[@]}"})
				q=$(dirname -- "$q")
			done
			for q in "${missing[@]}"; do
				mkdir -m 0755 -- "$q"
				if [ "$q" = "$p" ]; then hw_rec dir "$q" created "$5"; else hw_rec dir "$q" created keep; fi
			done
		fi
	fi
	chown -- "$3:$4" "$p"
	chmod -- "$2" "$p"
	hw_manifest_path dir "$p"
}

# hw_effect EFFECT: what a changed file means for the service.
hw_effect() {
	case "$1" in
	restart) hw_restart=1 ;;
	reload) hw_reload=1 hw_restart=1 ;;
	none) ;;
	*) hw_die "unknown effect $1" ;;
	esac
}

# hw_install_tmp TMP PATH EFFECT: moves a finished temp file into place,
# atomically, backing up a file that was there before the program.
hw_install_tmp() {
	local tmp="$1" p="$2"
	if ! hw_known file "$p"; then
		if [ -e "$p" ] && hw_adopt file "$p"; then
			:
		elif [ -e "$p" ]; then
			mkdir -p -- "$HW_D/backup$(dirname -- "$p")"
			cp -a -- "$p" "$HW_D/backup$p"
			hw_rec file "$p" backup
		else
			hw_rec file "$p" created
		fi
	fi
	mv -f -- "$tmp" "$p"
	hw_effect "$3"
}

# hw_stage_install PATH MODE OWNER GROUP EFFECT: puts the staged content
# ($HW_D/.stage.hw-tmp) at PATH atomically (temp file in the same directory,
# then rename), only when its content, mode or owner differ. Staging in the
# state directory first leaves an unchanged file's directory untouched.
hw_stage_install() {
	local p="$1" stage="$HW_D/.stage.hw-tmp" tmp
	if [ -f "$p" ] && cmp -s -- "$stage" "$p" && [ "$(stat -c '%a:%U:%G' -- "$p")" = "${2#0}:$3:$4" ]; then
		rm -f -- "$stage"
		hw_adopt file "$p" || true
		hw_manifest_path file "$p"
		return 0
	fi
	hw_say "writing $p"
	hw_tmpfile "$p"
	tmp="$HW_TMP"
	cat -- "$stage" >"$tmp"
	rm -f -- "$stage"
	chown -- "$3:$4" "$tmp"
	chmod -- "$2" "$tmp"
	hw_install_tmp "$tmp" "$p" "$5"
	hw_manifest_path file "$p"
}

# hw_file PATH MODE OWNER GROUP EFFECT CONTENT: writes CONTENT, byte for byte.
hw_file() {
	hw_tmp+=("$HW_D/.stage.hw-tmp")
	printf '%s' "$6" >"$HW_D/.stage.hw-tmp"
	hw_stage_install "$1" "$2" "$3" "$4" "$5"
}

# Secrets come on stdin, one line each, "<name> <base64>", in the order of
# HW_SECRETS; they never appear in a command's text. A missing, misnamed or
# empty secret stops the script, naming it.
declare -A hw_secrets=()
hw_read_secrets() {
	local name got value
	for name in ${HW_SECRETS[@]+"${HW_SECRETS[@]}"}; do
		if ! IFS=' ' read -r got value; then
			hw_die "secret $name is missing: stdin ended before it"
		fi
		[ "$got" = "$name" ] || hw_die "secret $name is missing: stdin has ${got:-an empty line} in its place"
		[ -n "$value" ] || hw_die "secret $name is empty"
		hw_secrets[$name]="$value"
	done
}
# hw_secret_file NAME PATH MODE OWNER GROUP EFFECT: writes the secret NAME.
hw_secret_file() {
	[ -n "${hw_secrets[$1]+set}" ] || hw_die "secret $1 was not read: it is not in HW_SECRETS"
	hw_tmp+=("$HW_D/.stage.hw-tmp")
	printf '%s' "${hw_secrets[$1]}" | base64 -d >"$HW_D/.stage.hw-tmp"
	[ -s "$HW_D/.stage.hw-tmp" ] || hw_die "secret $1 is empty"
	hw_stage_install "$2" "$3" "$4" "$5" "$6"
}

# hw_runtime PATH KIND: a path a service will create at run time; undo removes
# it when it did not exist before the program.
hw_runtime() {
	if ! hw_known "$2" "$1"; then
		if [ ! -e "$1" ]; then
			if [ "$2" = dir ]; then hw_rec dir "$1" created purge; else hw_rec file "$1" created; fi
		else
			hw_adopt "$2" "$1" || true
		fi
	fi
}
# hw_runtime_glob PATTERN: files matching it are removed on undo.
hw_runtime_glob() { hw_known glob "$1" || hw_rec glob "$1"; }

hw_pkg_installed() {
	case "$(hw_family)" in
	debian) dpkg-query -W -f '${Status}' -- "$1" 2>/dev/null | grep -q 'install ok installed' ;;
	rhel) rpm -q -- "$1" >/dev/null 2>&1 ;;
	*) return 1 ;;
	esac
}
hw_pkg_manager() {
	case "$(hw_family)" in
	debian) printf 'apt' ;;
	rhel) if command -v dnf >/dev/null 2>&1; then printf 'dnf'; else printf 'yum'; fi ;;
	*) hw_die "cannot install packages: /etc/os-release names neither a Debian nor a RHEL family system" ;;
	esac
}
# hw_pkg NAME: installs a package with the host's package manager; undo
# removes it only when this program installed it.
hw_pkg() {
	if hw_pkg_installed "$1"; then
		hw_adopt pkg "$1" || true
		return 0
	fi
	hw_say "installing package $1"
	hw_pkg_add "$1"
	hw_rec pkg "$1"
}
# hw_pkg_add NAME: the package manager's install, without a journal record.
hw_pkg_add() {
	# (assigned first: a failing command substitution in a case word would not stop the script)
	local m
	m=$(hw_pkg_manager)
	case "$m" in
	apt)
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -q -- "$1" >&2 || { apt-get update -q >&2 && apt-get install -y -q -- "$1" >&2; }
		;;
	dnf) dnf install -y -q -- "$1" >&2 ;;
	yum) yum install -y -q -- "$1" >&2 ;;
	esac
}
hw_pkg_remove() {
	local m
	m=$(hw_pkg_manager)
	case "$m" in
	apt) DEBIAN_FRONTEND=noninteractive apt-get purge -y -q -- "$1" >&2 ;;
	dnf) dnf remove -y -q -- "$1" >&2 ;;
	yum) yum remove -y -q -- "$1" >&2 ;;
	esac
}

hw_sha256() { sha256sum -- "$1" | cut -d ' ' -f 1; }
hw_get() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --retry 3 --retry-delay 2 -o "$2" -- "$1"
	else
		wget -q -O "$2" -- "$1"
	fi
}
# hw_want_sha URL SHA: the given sha256, or the one published at URL.sha256.
hw_want_sha() {
	local want="$2" tmp
	if [ -z "$want" ]; then
		tmp="$HW_D/.sha256.hw-tmp"
		hw_get "$1.sha256" "$tmp" || hw_die "cannot fetch $1.sha256"
		want=$(awk '{ print $1; exit }' "$tmp")
		rm -f -- "$tmp"
	fi
	[[ "$want" =~ ^[0-9a-f]{64}$ ]] || hw_die "no valid sha256 for $1"
	printf '%s' "$want"
}
# hw_fetch URL SHA DEST MODE: downloads DEST, verified; skipped when DEST is
# already there with that hash.
hw_fetch() {
	local url="$1" want dest="$3" tmp got
	want=$(hw_want_sha "$url" "$2")
	if [ -f "$dest" ] && [ "$(hw_sha256 "$dest")" = "$want" ]; then
		hw_adopt file "$dest" || true
		hw_fix_mode "$dest" "$4"
		hw_manifest file "$dest" "$want" "${4#0}" root:root
		return 0
	fi
	hw_say "downloading $url"
	hw_tmpfile "$dest"
	tmp="$HW_TMP"
	hw_get "$url" "$tmp" || hw_die "download failed: $url"
	got=$(hw_sha256 "$tmp")
	[ "$got" = "$want" ] || hw_die "sha256 mismatch for $url: got $got, want $want"
	chown -- root:root "$tmp"
	chmod -- "$4" "$tmp"
	hw_install_tmp "$tmp" "$dest" none
	hw_manifest file "$dest" "$want" "${4#0}" root:root
}
# hw_fix_mode PATH MODE: a downloaded file that is in place with the right
# content but another mode or owner gets them back (root:root, MODE).
hw_fix_mode() {
	if [ "$(stat -c '%a:%U:%G' -- "$1")" != "${2#0}:root:root" ]; then
		hw_say "setting mode and owner of $1"
		chown -- root:root "$1"
		chmod -- "$2" "$1"
	fi
}
# hw_fetch_tar URL SHA DESTDIR: downloads a tarball, verified, and puts each
# file in it into DESTDIR atomically; skipped when that tarball was already
# unpacked and its files are still there.
hw_fetch_tar() {
	local url="$1" want destdir="$3" marker tarball unpack f base sum
	want=$(hw_want_sha "$url" "$2")
	marker="$HW_D/unpacked.$(printf '%s' "$url" | sha256sum | cut -c 1-16)"
	if [ -f "$marker" ] && [ "$(head -n 1 -- "$marker")" = "$want" ]; then
		# Each line after the first: a file's name and its sha256 (a marker
		# of an older library has no sha256: that tarball is unpacked again).
		local ok=1 sum
		while IFS=$'\t' read -r -u 3 f sum; do
			if [ -z "$sum" ] || [ ! -f "$destdir/$f" ] || [ "$(hw_sha256 "$destdir/$f")" != "$sum" ]; then ok=0; fi
		done 3< <(tail -n +2 -- "$marker")
		if [ "$ok" = 1 ]; then
			while IFS=$'\t' read -r -u 3 f sum; do
				hw_fix_mode "$destdir/$f" 0755
				hw_manifest file "$destdir/$f" "$sum" 755 root:root
			done 3< <(tail -n +2 -- "$marker")
			return 0
		fi
	fi
	hw_say "downloading $url"
	hw_tmpfile "$marker.tar"
	tarball="$HW_TMP"
	unpack="$destdir/.hw-unpack.hw-tmp"
	rm -rf -- "$unpack"
	mkdir -m 0700 -- "$unpack"
	hw_tmp+=("$unpack")
	hw_get "$url" "$tarball" || hw_die "download failed: $url"
	[ "$(hw_sha256 "$tarball")" = "$want" ] || hw_die "sha256 mismatch for $url: got $(hw_sha256 "$tarball"), want $want"
	tar -xzf "$tarball" -C "$unpack" --no-same-owner
	printf '%s\n' "$want" >"$marker.new"
	while IFS= read -r -u 3 f; do
		base=$(basename -- "$f")
		chown root:root "$f"
		chmod 0755 "$f"
		sum=$(hw_sha256 "$f")
		if [ -f "$destdir/$base" ] && cmp -s -- "$f" "$destdir/$base"; then
			rm -f -- "$f"
			hw_adopt file "$destdir/$base" || true
			hw_fix_mode "$destdir/$base" 0755
		else
			hw_install_tmp "$f" "$destdir/$base" none
		fi
		printf '%s\t%s\n' "$base" "$sum" >>"$marker.new"
		hw_manifest file "$destdir/$base" "$sum" 755 root:root
	done 3< <(find "$unpack" -type f)
	mv -f -- "$marker.new" "$marker"
}

# hw_watch PATH: the service reads PATH, which another component writes;
# a change of its content since the last run restarts the service.
hw_watch() {
	local key sum
	key="$HW_D/watch.$(printf '%s' "$1" | sha256sum | cut -c 1-16)"
	sum=$(hw_sha256 "$1" 2>/dev/null || printf 'missing')
	if [ "$(cat -- "$key" 2>/dev/null || true)" != "$sum" ]; then
		printf '%s\n' "$sum" >"$key"
		hw_restart=1
	fi
}

# hw_service UNIT WAIT: daemon-reload when a unit changed, enable, and restart
# when something it reads changed or it is stopped (a unit that systemd is
# already restarting is left to systemd); then, with WAIT, wait until it is
# active (and, after a restart, stays active).
hw_service() {
	local unit="$1" i state restarted=0
	hw_manifest unit "$unit"
	if [ "$hw_reload" = 1 ]; then systemctl daemon-reload; fi
	if ! systemctl is-enabled --quiet -- "$unit" 2>/dev/null; then
		systemctl enable --quiet -- "$unit"
		hw_known enabled "$unit" || hw_rec enabled "$unit"
	else
		hw_adopt enabled "$unit" || true
	fi
	hw_known started "$unit" || hw_known restarted "$unit" || hw_adopt started "$unit" || hw_adopt restarted "$unit" || true
	state=$(systemctl show -p ActiveState --value -- "$unit")
	if [ "$hw_restart" = 1 ] || [ "$state" = inactive ] || [ "$state" = failed ]; then
		if ! hw_known started "$unit" && ! hw_known restarted "$unit"; then
			if systemctl is-active --quiet -- "$unit"; then hw_rec restarted "$unit"; else hw_rec started "$unit"; fi
		fi
		hw_say "restarting $unit"
		systemctl restart -- "$unit"
		restarted=1
		printf 'HW_RESTARTED %s\n' "$unit"
	fi
	if [ "$2" = wait ]; then
		# After a (re)start the unit must stay up: active, with no restart by
		# systemd, for 3 seconds in a row (a service that exits at once
		# under Restart=on-failure is "active" now and then).
		local need=1 seen=0 restarts="" now
		if [ "$restarted" = 1 ]; then need=3; fi
		for ((i = 0; i < 60; i++)); do
			if systemctl is-active --quiet -- "$unit"; then
				now=$(systemctl show -p NRestarts --value -- "$unit")
				if [ "$now" = "$restarts" ]; then seen=$((seen + 1)); else seen=1; restarts="$now"; fi
				if [ "$seen" -ge "$need" ]; then return 0; fi
			else
				seen=0
			fi
			sleep 1
		done
		journalctl -u "$unit" -n 20 --no-pager >&2 || true
		hw_die "$unit did not stay active within 60s"
	fi
}

# hw_undo: reverses the journal, newest record first. Each step is safe to
# repeat, so a delete that was interrupted can simply run again.
hw_undo() {
	local t a b c d e reload=0 restart=() hook j
	hw_undone=1
	# What must stop before a phase's files go (see hw_before_undo_* below),
	# unless another owner runs this phase on the host now.
	hook="hw_before_undo_${HW_COMPONENT//-/_}"
	if j=$(hw_component_claimant); then
		hw_say "$HW_COMPONENT stays running: $(hw_owner_of "$j") holds it"
	elif declare -F "$hook" >/dev/null; then
		"$hook"
	fi
	if [ -f "$HW_J" ]; then
		while IFS=$'\t' read -r -u 3 t a b c d e; do
			if j=$(hw_claimant "$t" "$a"); then
				hw_say "left $t $a: $(hw_owner_of "$j") holds it"
				continue
			fi
			case "$t" in
			file)
				if [ "$b" = backup ]; then
					if [ -e "$HW_D/backup$a" ]; then mv -f -- "$HW_D/backup$a" "$a"; fi
				else
					rm -f -- "$a"
				fi
				case "$a" in /etc/systemd/system/*) reload=1 ;; esac
				;;
			glob)
				# shellcheck disable=SC2086
				rm -f -- $a
				;;
			dir)
				if [ ! -d "$a" ]; then
					:
				elif [ "$b" = existed ]; then
					chmod -- "$c" "$a" && chown -- "$d:$e" "$a"
				elif [ "$c" = purge ]; then
					rm -rf -- "$a"
				else
					rmdir -- "$a" 2>/dev/null || hw_say "left $a in place: it holds files this program did not write"
				fi
				;;
			pkg) if hw_pkg_installed "$a"; then hw_pkg_remove "$a"; fi ;;
			# userdel may remove the user's group with it.
			user) if getent passwd "$a" >/dev/null; then userdel -- "$a"; fi ;;
			group) if getent group "$a" >/dev/null; then groupdel -- "$a"; fi ;;
			enabled) systemctl disable --quiet -- "$a" 2>/dev/null || true ;;
			sysctl) if [ -w "/proc/sys/${a//.//}" ]; then printf '%s\n' "$b" >"/proc/sys/${a//.//}" || hw_say "could not put back $a = $b"; fi ;;
			module) modprobe -r -- "$a" 2>/dev/null || hw_say "left kernel module $a loaded: it is in use" ;;
			started) systemctl stop -- "$a" 2>/dev/null || true ;;
			restarted) restart+=("$a") ;;
			rpmkey) if rpm -q -- "$a" >/dev/null 2>&1; then rpm -e -- "$a" >&2; fi ;;
			removed-pkg)
				if ! hw_pkg_installed "$a"; then
					hw_say "reinstalling $a, which create removed"
					hw_pkg_add "$a" || hw_say "could not reinstall $a"
				fi
				;;
			*) hw_say "unknown journal record $t" ;;
			esac
		done 3< <(tac -- "$HW_J")
	fi
	if [ "$reload" = 1 ]; then systemctl daemon-reload; fi
	for a in ${restart[@]+"${restart[@]}"}; do
		systemctl try-restart -- "$a" || hw_say "could not restart $a"
	done
	rm -rf -- "$HW_D"
	if [ -n "$HW_OWNER" ]; then
		rmdir -- "$HW_ROOT/owners/$HW_OWNER" "$HW_ROOT/owners" 2>/dev/null || true
	fi
	rmdir -- "$HW_ROOT" 2>/dev/null || true
}

# hw_component_claimant: the journal of another owner (or of the older
# layout) for this same phase; fails when there is none.
hw_component_claimant() {
	local j
	for j in "$HW_ROOT"/owners/*/"$HW_COMPONENT"/journal "$HW_ROOT/$HW_COMPONENT/journal"; do
		[ -f "$j" ] && [ "$j" != "$HW_J" ] || continue
		printf '%s' "$j"
		return 0
	done
	return 1
}

# The phases, in the order they are set up; an owner's whole undo goes backwards.
HW_PHASES=(system binaries containerd-install containerd kubelet kube-proxy)

# hw_undo_owner: undoes every phase this owner has on the host, last phase
# first (a node that moved away from this host, or left it), then removes
# the node library when no other owner is left.
hw_undo_owner() {
	local dir="$HW_ROOT/owners/$HW_OWNER" i c here="$HW_COMPONENT" phases=()
	[ -n "$HW_OWNER" ] || hw_die "hw_undo_owner needs HW_OWNER"
	for ((i = ${#HW_PHASES[@]} - 1; i >= 0; i--)); do phases+=("${HW_PHASES[i]}"); done
	for c in "$dir"/*/; do
		[ -d "$c" ] || continue
		c=$(basename -- "$c")
		case " ${HW_PHASES[*]} $here " in *" $c "*) ;; *) phases=("$c" "${phases[@]}") ;; esac
	done
	for c in "${phases[@]}"; do
		[ -d "$dir/$c" ] || continue
		(
			HW_COMPONENT="$c"
			HW_D="$dir/$c"
			HW_J="$HW_D/journal"
			if command -v flock >/dev/null 2>&1; then
				exec 8>"$HW_D/.lock"
				flock -w 600 8 || hw_die "another run of $c still holds $HW_D/.lock after 600s"
			fi
			hw_say "undoing $c of $HW_OWNER"
			hw_undo
		)
	done
	rm -rf -- "${dir:?}/$here"
	rmdir -- "$dir" "$HW_ROOT/owners" "$HW_ROOT" 2>/dev/null || true
	hw_remove_library
}

# ---- what the phases do, beyond files and units --------------------------

# hw_group NAME / hw_user NAME HOME GROUP: a system group and user, made
# when missing (and removed by undo only then).
hw_group() {
	if getent group "$1" >/dev/null; then
		hw_adopt group "$1" || true
		return 0
	fi
	groupadd --system -- "$1"
	hw_rec group "$1"
}
hw_user() {
	local nologin
	if getent passwd "$1" >/dev/null; then
		hw_adopt user "$1" || true
		return 0
	fi
	nologin=$(command -v nologin || printf '/sbin/nologin')
	useradd -d "$2" -s "$nologin" -g "$3" -r -M -- "$1"
	hw_rec user "$1"
}

# hw_module NAME: a kernel module the node needs, loaded now when the
# running kernel does not have it (the file in /etc/modules-load.d loads it
# at boot); undo unloads only what this program loaded.
hw_module() {
	case "$1" in
	overlay) grep -qw overlay /proc/filesystems && return 0 ;;
	br_netfilter) [ -d /proc/sys/net/bridge ] && return 0 ;;
	ip_vs) [ -e /proc/net/ip_vs ] && return 0 ;;
	esac
	[ -d "/sys/module/$1" ] && return 0
	hw_say "loading kernel module $1"
	modprobe -- "$1"
	hw_known module "$1" || hw_rec module "$1"
}

# hw_sysctl KEY VALUE: sets a kernel parameter now (the file in
# /etc/sysctl.d sets it at boot); undo puts back the value it had.
hw_sysctl() {
	local f="/proc/sys/${1//.//}" old
	old=$(cat -- "$f")
	if [ "$old" = "$2" ]; then
		hw_adopt sysctl "$1" || true
		return 0
	fi
	hw_known sysctl "$1" || hw_adopt sysctl "$1" || hw_rec sysctl "$1" "$old"
	hw_say "setting $1 = $2"
	printf '%s\n' "$2" >"$f"
}

# hw_remove_pkg NAME: the package goes (the guide removes firewalld, whose
# rules and kube-proxy's do not mix well); undo installs it again.
hw_remove_pkg() {
	if ! hw_pkg_installed "$1"; then
		hw_adopt removed-pkg "$1" || true
		return 0
	fi
	systemctl disable --now --quiet "$1.service" 2>/dev/null || true
	hw_say "removing $1"
	hw_pkg_remove "$1"
	hw_rec removed-pkg "$1"
}

# hw_ensure_containerd DEBIAN_PKG RHEL_PKG [REPO_FILE REPO_CONTENT]:
# containerd from the host's packages unless it is there (on a RHEL-family
# host from the repository whose file is given); prints its version and
# runc's path as facts.
hw_ensure_containerd() {
	if ! command -v containerd >/dev/null 2>&1; then
		case "$(hw_family)" in
		debian) hw_pkg "$1" ;;
		rhel)
			if [ "$#" -ge 4 ]; then hw_rpm_repo "$3" "$4"; fi
			hw_pkg_signed "$2"
			;;
		*) hw_die "containerd is missing and /etc/os-release names neither a Debian nor a RHEL family system" ;;
		esac
	fi
	command -v runc >/dev/null 2>&1 || hw_die 'containerd is installed but runc is not on PATH'
	hw_fact containerdVersion "$(containerd --version | awk '{ print $3 }')"
	hw_fact runc "$(command -v runc)"
}

# hw_rpm_repo PATH CONTENT: a yum/dnf repository file, written like any
# other (atomic, journaled): undo removes it, or puts back the file it replaced.
hw_rpm_repo() {
	hw_dir "$(dirname -- "$1")" 0755 root root keep
	hw_file "$1" 0644 root root none "$2"
}
# hw_rpm_keys: the signing keys in the rpm database, one per line, sorted.
hw_rpm_keys() {
	{ rpm -q gpg-pubkey --qf '%{NAME}-%{VERSION}-%{RELEASE}\n' 2>/dev/null || true; } | grep '^gpg-pubkey-' | LC_ALL=C sort || true
}
# hw_pkg_signed NAME: hw_pkg on a RHEL-family host, where dnf/yum -y imports
# a repository's signing key on first use; undo removes each key it imported.
hw_pkg_signed() {
	local before k
	before=$(hw_rpm_keys)
	hw_pkg "$1"
	while IFS= read -r k; do
		[ -n "$k" ] || continue
		hw_known rpmkey "$k" || hw_rec rpmkey "$k"
	done < <(LC_ALL=C comm -13 <(printf '%s\n' "$before") <(hw_rpm_keys))
}

# hw_socket_gid SOCKET GID: waits for the socket and checks its group.
hw_socket_gid() {
	local i
	for ((i = 0; i < 30; i++)); do [ -S "$1" ] && break; sleep 1; done
	[ "$(stat -c %g -- "$1" 2>/dev/null)" = "$2" ] || hw_die "$1 does not belong to gid $2"
}

# hw_kubelet_identity NAME CERT_GLOB KUBECONFIG: the kubelet's client
# certificate (from TLS bootstrapping) names the node it registered as. When
# it names another node (the node was renamed in the config), it goes, with
# the kubeconfig that uses it, and the restarted kubelet bootstraps again as
# NAME (the Node of the old name is the old owner's to drain and delete).
hw_kubelet_identity() {
	local current="${2%\*}current.pem" cn
	[ -e "$current" ] || return 0
	if ! command -v openssl >/dev/null 2>&1; then
		hw_say "cannot read the node name of $current: openssl is missing"
		return 0
	fi
	cn=$(openssl x509 -in "$current" -noout -subject -nameopt multiline 2>/dev/null | awk -F ' = ' '$1 ~ /commonName/ { print $2 }')
	[ "$cn" = "system:node:$1" ] && return 0
	cn="${cn#system:node:}"
	hw_say "the kubelet's client certificate is for ${cn:-no node}: it bootstraps again as $1"
	# shellcheck disable=SC2086
	rm -f -- $2 "$3"
	hw_restart=1
}

hw_before_undo_kubelet() {
	systemctl stop kubelet.service 2>/dev/null || true
	if [ -x /usr/local/sbin/crictl ] && [ -S /var/run/containerd/containerd.sock ]; then
		/usr/local/sbin/crictl --runtime-endpoint unix:///var/run/containerd/containerd.sock rmp -af >/dev/null 2>&1 || true
	fi
	awk '$2 ~ "^/var/lib/kubelet/" { print $2 }' /proc/self/mounts | sort -r | while IFS= read -r m; do umount -- "$m" || true; done
}
hw_before_undo_kube_proxy() {
	systemctl stop kube-proxy.service 2>/dev/null || true
	if [ -x /usr/local/sbin/kube-proxy ]; then /usr/local/sbin/kube-proxy --cleanup >/dev/null 2>&1 || true; fi
}

# hw_remove_library: the last step of the system phase's undo; the library
# stays while another owner's journal is on the host.
hw_remove_library() {
	if [ -d "$HW_ROOT" ]; then
		hw_say "kept the node library: $HW_ROOT holds other journals"
		return 0
	fi
	rm -rf -- /usr/local/lib/hardway
}

# ---- the drift check ------------------------------------------------------

# hw_drift PHASE KIND NAME WHAT: one line of the check's report.
hw_drift() {
	printf 'HW_DRIFT {"phase":%s,"%s":%s,"drift":"%s"}\n' "$(hw_json_string "$1")" "$2" "$(hw_json_string "$3")" "$4"
}

# hw_check: read-only. Compares each manifest of this owner's phases
# (HW_OWNER; without it, the older layout's) with the node and
# prints one HW_DRIFT line per difference: a path whose content, mode or
# owner differs or that is missing; a unit that is inactive, failed or
# disabled. Then one HW_CHECKED line with each phase's last run, which ends
# a complete report. Digests only: no file's content is printed.
hw_check() {
	local m phase t p sum mode own state runs="" run dir="$HW_ROOT"
	# An owner's phases only: another owner's (a node renamed on this host) are its own.
	if [ -n "$HW_OWNER" ]; then dir="$HW_ROOT/owners/$HW_OWNER"; fi
	for m in "$dir"/*/manifest; do
		[ -f "$m" ] || continue
		phase=$(basename -- "$(dirname -- "$m")")
		run=""
		while IFS=$'\t' read -r -u 3 t p sum mode own; do
			case "$t" in
			run) run="$p" ;;
			file | dir)
				if { [ "$t" = file ] && [ ! -f "$p" ]; } || { [ "$t" = dir ] && [ ! -d "$p" ]; }; then
					hw_drift "$phase" path "$p" missing
					continue
				fi
				if [ "$t" = file ] && [ "$(hw_sha256 "$p")" != "$sum" ]; then hw_drift "$phase" path "$p" content; fi
				if [ "$(stat -c '%a' -- "$p")" != "$mode" ]; then hw_drift "$phase" path "$p" mode; fi
				if [ "$(stat -c '%U:%G' -- "$p")" != "$own" ]; then hw_drift "$phase" path "$p" owner; fi
				;;
			unit)
				state=$(systemctl show -p ActiveState --value -- "$p" 2>/dev/null || true)
				case "$state" in
				active | activating | reloading) ;;
				failed) hw_drift "$phase" unit "$p" failed ;;
				*) hw_drift "$phase" unit "$p" inactive ;;
				esac
				if ! systemctl is-enabled --quiet -- "$p" 2>/dev/null; then hw_drift "$phase" unit "$p" disabled; fi
				;;
			esac
		done 3<"$m"
		runs="$runs${runs:+,}$(hw_json_string "$phase"):$(hw_json_string "$run")"
	done
	printf 'HW_CHECKED {%s}\n' "$runs"
}

# Read this phase's secrets now, before anything is changed.
if [ "${HW_READONLY:-0}" != 1 ]; then
	hw_read_secrets
fi
