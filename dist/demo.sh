#!/bin/sh
# demo.sh: the part of `./quickstart demo` that shows nss-scim at work.
#
# Run by quickstart inside a private mount namespace (unshare --mount
# --propagation private), with top_srcdir and top_builddir in the
# environment.  It starts the SCIM bridge emulator on 127.0.0.1 with the
# sample directory, gives scim-cache a configuration and a token at its
# default paths, refreshes, and then asks the real glibc and libpam about
# the people.  Every path it writes to is a private overlay or tmpfs of
# this namespace whose contents live in a temporary directory: the host's
# /etc, /var/lib and /dev are untouched, and the exit trap stops the
# emulator, undoes the mounts and removes the directory.
#
# The mount helpers mirror those of the shell tests (tests/helpers/lib.sh) but are
# kept here: the demo is part of what ships, the tests' helpers are not.
set -eu

fail() {
	echo "quickstart demo: $*" >&2
	exit 1
}

: "${top_srcdir:?run me through ./quickstart demo}"
: "${top_builddir:?run me through ./quickstart demo}"
: "${NSS_SCIM_HOST_MNTNS:?run me through ./quickstart demo}"

SCIM_CACHE="$top_builddir/tools/scim-cache"
EMU="$top_srcdir/tests/emulator/scim-bridge-emulator.py"
DATA="$top_srcdir/tests/emulator/sample-directory.json"
PYTHON3=${PYTHON3:-python3}
SERVICE=nss-scim-demo
SHOWN=ana.rodriguez
SUSPENDED=sven.wright
PAM_SCIM_LINE='account  [success=ok new_authtok_reqd=ok user_unknown=ignore default=bad] pam_scim.so'

# In a sanitized build the modules need the sanitizer runtimes, which only
# the programs that load them get.
if [ "${SANITIZERS:-no}" = yes ]; then
	SAN_PRELOAD="$(${CC:-cc} -print-file-name=libasan.so) $(${CC:-cc} -print-file-name=libubsan.so)"
	ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	export ASAN_OPTIONS
	getent() { LD_PRELOAD="$SAN_PRELOAD" command getent "$@"; }
	id() { LD_PRELOAD="$SAN_PRELOAD" command id "$@"; }
	pamtester() { LD_PRELOAD="$SAN_PRELOAD" command pamtester "$@"; }
fi

# ---- the private namespace ------------------------------------------------

TMPD=""
MOUNTS=""
NOV=0
BG=""

cleanup() {
	set +e
	for p in $BG; do kill "$p" 2>/dev/null; done
	for p in $BG; do wait "$p" 2>/dev/null; done
	for m in $MOUNTS; do umount -l "$m" 2>/dev/null; done
	[ -z "$TMPD" ] || rm -rf "$TMPD"
}

# mount(8), only ever in the namespace quickstart made, remembered for
# cleanup (newest first).
ns_mount() {
	[ "$(readlink /proc/self/ns/mnt)" != "$NSS_SCIM_HOST_MNTNS" ] ||
		fail "refusing to mount in the host's mount namespace"
	mount "$@"
	eval "MOUNTS=\"\${$#} \$MOUNTS\""
}

# A directory of our own at PATH: an empty tmpfs over it where the host has
# one (so that a real installation's token, configuration, snapshot and id
# map are neither read nor touched), else a writable overlay of its nearest
# existing parent, whose changes land in $TMPD.
private_dir() {
	dir=$1
	if [ -d "$dir" ]; then
		ns_mount -t tmpfs -o mode=0755 nss-scim-demo "$dir"
		return
	fi
	anc=$dir
	while [ ! -d "$anc" ]; do anc=$(dirname "$anc"); done
	# Each overlay its own upper directory: two of them may stack on one
	# ancestor (when neither directory exists there).
	NOV=$((NOV + 1))
	mkdir -p "$TMPD/ov$NOV/up" "$TMPD/ov$NOV/work"
	ns_mount -t overlay overlay \
		-o "lowerdir=$anc,upperdir=$TMPD/ov$NOV/up,workdir=$TMPD/ov$NOV/work" "$anc"
	mkdir -p "$dir"
	chmod 0755 "$dir"
}

# private_dir for each distinct DIR, those whose overlay sits highest in the
# tree first: an overlay mounted later on an ancestor would hide one mounted
# below it (with the default prefix, /usr/local/etc/nss-scim may exist
# while /usr/local/var/lib/nss-scim does not).
private_dirs() {
	for dir in "$@"; do
		anc=$dir
		while [ ! -d "$anc" ]; do anc=$(dirname "$anc"); done
		printf '%s %s\n' "$(printf '%s' "$anc" | tr -cd / | wc -c)" "$dir"
	done | sort -u -k1,1n -k2,2 >"$TMPD/private-dirs"
	# Not a pipe into the loop: private_dir's bookkeeping must outlive it.
	while read -r _ dir; do
		private_dir "$dir"
	done <"$TMPD/private-dirs"
	# Whatever went wrong above, never write into the host's directories.
	for dir in "$@"; do
		m=$(findmnt -n -o TARGET -T "$dir") || fail "cannot tell where $dir is mounted"
		case " $MOUNTS " in
		*" $m "*) ;;
		*) fail "$dir is not private to the demo; refusing to write there" ;;
		esac
	done
}

# A file of ours over an existing one.  Usage: bind_file TARGET LINE...
bind_file() {
	target=$1
	shift
	name=$(echo "$target" | tr / _)
	printf '%s\n' "$@" >"$TMPD/$name"
	ns_mount --bind "$TMPD/$name" "$target"
}

# The directory where glibc loads NSS modules and libpam its modules from.
system_libdir() {
	dirname "$(ldconfig -p | awk '/libc\.so\.6 .*x86-64|libc\.so\.6 \(libc6\)|libc\.so\.6 \(libc6,/ {print $NF; exit}')"
}

# The built modules where the loader and libpam look: a read-only overlay.
install_modules() {
	lib=$(system_libdir)
	mkdir -p "$TMPD/modules/security"
	cp "$top_builddir/nss/.libs/libnss_scim.so.2" "$TMPD/modules/"
	cp "$top_builddir/pam/.libs/pam_scim.so" "$TMPD/modules/security/"
	ns_mount -t overlay overlay -o "lowerdir=$TMPD/modules:$lib" "$lib"
}

# A running nscd would answer for the modules (and scim-cache would flush
# the host's): hide its socket.
hide_nscd() {
	for d in /run/nscd /var/run/nscd; do
		if [ -d "$d" ] && ! mountpoint -q "$d"; then
			ns_mount -t tmpfs tmpfs "$d"
		fi
	done
}

# pam_scim logs through syslog(3) to /dev/log: ours, in $TMPD/syslog.
. "$top_srcdir/dist/private-syslog.sh"

# Waits up to 5 s for a line with the fixed string $1 in our syslog.
wait_log() {
	i=0
	while ! grep -qF -- "$1" "$TMPD/syslog"; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "pam_scim logged no line with: $1"
		sleep 0.05
	done
}

start_bridge() {
	i=0
	"$PYTHON3" "$EMU" --data "$DATA" --token-file "$TOKEN" \
		--port-file "$TMPD/emu.port" --log "$TMPD/emu.log" \
		2>"$TMPD/emu.err" &
	pid=$!
	BG="$BG $pid"
	while [ ! -s "$TMPD/emu.port" ]; do
		kill -0 "$pid" 2>/dev/null ||
			fail "the bridge emulator did not start: $(cat "$TMPD/emu.err")"
		i=$((i + 1))
		[ $i -lt 300 ] || fail "the bridge emulator did not start in 30 s"
		sleep 0.1
	done
	PORT=$(cat "$TMPD/emu.port")
}

# ---- narration -----------------------------------------------------------

step() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$@"; }
# Shows a command as typed at a root prompt.
cmd() { printf '\n# %s\n' "$*"; }

# The paths compiled into this build, as scim-cache --help shows them (they
# follow configure's --sysconfdir and --localstatedir; the modules use the
# same snapshot path).
help_default() {
	"$SCIM_CACHE" --help | sed -n "s/^  $1  *\([^;]*\).*/\1/p" | head -n 1
}

# ---- set-up --------------------------------------------------------------

[ -x "$SCIM_CACHE" ] || fail "$SCIM_CACHE is not built"
CONF=$("$SCIM_CACHE" --help | sed -n 's/^  --config FILE *default //p')
TOKEN=$(help_default token_file)
SNAP=$(help_default cache_path)
UID_MIN=$(help_default uid_min)
[ -n "$CONF" ] && [ -n "$TOKEN" ] && [ -n "$SNAP" ] && [ -n "$UID_MIN" ] ||
	fail "cannot read the default paths from scim-cache --help"

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/nss-scim-demo.XXXXXX")
chmod 0755 "$TMPD"
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
private_dirs "$(dirname "$CONF")" "$(dirname "$TOKEN")" "$(dirname "$SNAP")" /etc/pam.d
bind_file /etc/nsswitch.conf "passwd: files scim" "group: files scim"
hide_nscd
install_modules
private_syslog "$PYTHON3" "$TMPD"
BG="$BG $SYSLOG_PID"

# ---- the show ------------------------------------------------------------

printf '%s\n' \
	"nss-scim demo: 1Password people and groups on a Linux host, through a SCIM bridge." \
	"Everything below runs in a private mount namespace: the files it writes" \
	"($CONF, $TOKEN, $(dirname "$SNAP")/, /etc/nsswitch.conf, /etc/pam.d/$SERVICE)" \
	"are private to it and vanish at the end; the host's own are not changed."

step "1. A stand-in for the 1Password SCIM bridge"
umask 077
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TOKEN"
umask 022
chmod 0600 "$TOKEN"
start_bridge
note "The bridge emulator (tests/emulator) serves tests/emulator/sample-directory.json:" \
	"$("$PYTHON3" -c 'import json, sys
d = json.load(open(sys.argv[1]))
u = d["users"]
print("%d people (%d suspended) and %d groups," % (len(u),
      sum(1 for p in u if p.get("active") is False), len(d["groups"])))' "$DATA")" \
	"shaped like what 1Password's bridge sends, at http://127.0.0.1:$PORT/scim." \
	"Its bearer token is in $TOKEN, readable by root only:"
cmd "ls -l $TOKEN"
ls -l "$TOKEN"

step "2. The configuration"
cat >"$CONF" <<EOF
# The bridge's SCIM base.  Plain http:// is allowed only to this host
# (a TLS terminator in front of the bridge, or here the emulator).
url = http://127.0.0.1:$PORT/scim
EOF
chmod 0644 "$CONF"
note "Only url is needed; every other key has a default (nss-scim.conf(5))."
cmd "cat $CONF"
cat "$CONF"

step "3. Is the bridge there, and does it take the token?"
cmd "scim-cache check"
"$SCIM_CACHE" check || fail "scim-cache check failed"

step "4. Copy the directory into the local snapshot"
cmd "scim-cache refresh"
"$SCIM_CACHE" refresh || fail "scim-cache refresh failed"
note "A timer (or cron) runs this every 15 minutes on a real server."

step "5. NSS: the people, through glibc"
note "/etc/nsswitch.conf here says:"
sed 's/^/     /' /etc/nsswitch.conf
cmd "getent passwd"
getent passwd >"$TMPD/passwd" || fail "getent passwd failed"
awk -F: -v min="$UID_MIN" '$3 >= min' "$TMPD/passwd" >"$TMPD/people"
nlocal=$(awk -F: -v min="$UID_MIN" '$3 < min' "$TMPD/passwd" | wc -l)
echo "... $nlocal local accounts from /etc/passwd, then the people from SCIM:"
cat "$TMPD/people"
[ -s "$TMPD/people" ] || fail "getent passwd lists no one from SCIM"

cmd "getent group"
getent group >"$TMPD/group" || fail "getent group failed"
cut -d: -f1 "$TMPD/people" >"$TMPD/names"
awk -F: -v min="$UID_MIN" 'NR == FNR { person[$1] = 1; next }
	$3 >= min && !($1 in person)' "$TMPD/names" "$TMPD/group" >"$TMPD/groups"
nprivate=$(awk -F: -v min="$UID_MIN" 'NR == FNR { person[$1] = 1; next }
	$3 >= min && ($1 in person)' "$TMPD/names" "$TMPD/group" | wc -l)
echo "... local groups, $nprivate private groups (one per person, gid = uid), and the SCIM groups:"
cat "$TMPD/groups"

cmd "id $SHOWN"
id "$SHOWN" || fail "id $SHOWN failed"

step "6. PAM: a suspended person is refused"
note "$SUSPENDED is suspended in 1Password (active: false). NSS still resolves him," \
	"so that his files keep their owner:"
cmd "getent passwd $SUSPENDED"
getent passwd "$SUSPENDED" || fail "getent passwd $SUSPENDED failed"
printf '%s\n' \
	"auth     required pam_deny.so" \
	"$PAM_SCIM_LINE" \
	"account  required pam_unix.so" \
	"session  required pam_permit.so" \
	"password required pam_deny.so" >"/etc/pam.d/$SERVICE"
echo
note "and pam_scim refuses him at login. A test service, /etc/pam.d/$SERVICE:"
sed 's/^/     /' "/etc/pam.d/$SERVICE"
cmd "pamtester $SERVICE $SHOWN acct_mgmt"
pamtester "$SERVICE" "$SHOWN" acct_mgmt 2>&1 || fail "pam_scim refused $SHOWN"
cmd "pamtester $SERVICE $SUSPENDED acct_mgmt"
if pamtester "$SERVICE" "$SUSPENDED" acct_mgmt 2>&1; then
	fail "pam_scim admitted the suspended $SUSPENDED"
fi
wait_log "pam_scim($SERVICE:account): access denied for user $SUSPENDED"
echo
note "and pam_scim logged (to authpriv):"
grep "pam_scim($SERVICE:account)" "$TMPD/syslog" | sed 's/^<[0-9]*>/     /'

step "7. The state of the snapshot"
cmd "scim-cache status"
"$SCIM_CACHE" status || fail "scim-cache status failed"

step "Done"
note "The emulator is stopped and the namespace's files are removed." \
	"To install nss-scim on a server, see \"Installing on a real server\" in README.md."
