# pam-lib.sh: helpers of the PAM shell tests, sourced after tests/lib.sh.
#
# pam_scim logs with pam_syslog(), that is syslog(3) to /dev/log.  Test
# machines run no syslog daemon, so ns_syslog serves /dev/log itself, in the
# private mount namespace, and writes every message to $TMPD/syslog.

PAM_MODULE="$top_builddir/pam/.libs/pam_scim.so"
PAM_FIXTURES="$top_srcdir/tests/fixtures/pam"
PAM_BG_PIDS=""

# In a sanitized build lib.sh preloads the sanitizer runtimes into every
# command, and some system tools trip over them (mawk reports a heap
# overflow of its own in system_libdir).  Only programs that load our
# modules need them: with_modules gives them back to those.
SAN_PRELOAD=${LD_PRELOAD:-}
unset LD_PRELOAD

with_modules() {
	if [ -n "$SAN_PRELOAD" ]; then
		LD_PRELOAD=$SAN_PRELOAD "$@"
	else
		"$@"
	fi
}

require_pam_module() {
	[ -f "$PAM_MODULE" ] || fail "$PAM_MODULE not built"
	[ -f "$NSS_LIBS/libnss_scim.so.2" ] || fail "NSS module not built"
}

# Like make_tmpdir, and also stops what the test started in the background
# (kill_bg) before lib.sh's cleanup undoes the mounts and removes the
# directory.
pam_tmpdir() {
	make_tmpdir
	trap 'exit 1' HUP INT TERM
}

test_cleanup() {
	kill_bg
}

# Remembers a background process to stop at exit.
track_bg() {
	PAM_BG_PIDS="$PAM_BG_PIDS $1"
}

kill_bg() {
	local pid
	for pid in $PAM_BG_PIDS; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $PAM_BG_PIDS; do
		wait "$pid" 2>/dev/null || true
	done
	PAM_BG_PIDS=""

# In a sanitized build lib.sh preloads the sanitizer runtimes into every
# command, and some system tools trip over them (mawk reports a heap
# overflow of its own in system_libdir).  Only programs that load our
# modules need them: with_modules gives them back to those.
SAN_PRELOAD=${LD_PRELOAD:-}
unset LD_PRELOAD

with_modules() {
	if [ -n "$SAN_PRELOAD" ]; then
		LD_PRELOAD=$SAN_PRELOAD "$@"
	else
		"$@"
	fi
}
}

# The snapshot path compiled into the modules ($(localstatedir)/lib/...).
default_snapshot_path() {
	"$top_builddir/tests/pam-default-path"
}

# In the namespace: a writable /dev (an overlay; the host's /dev is
# untouched) with /dev/pts and /dev/shm kept, and a /dev/log served by a
# small listener that appends each message as one line to $TMPD/syslog.
ns_syslog() {
	local keep m i
	keep="$TMPD/dev-keep"
	for m in pts shm mqueue; do
		if mountpoint -q "/dev/$m"; then
			mkdir -p "$keep/$m"
			mount --bind "/dev/$m" "$keep/$m"
		fi
	done
	mkdir -p "$TMPD/dev-up" "$TMPD/dev-work"
	ns_mount -t overlay overlay \
		-o "lowerdir=/dev,upperdir=$TMPD/dev-up,workdir=$TMPD/dev-work" /dev
	for m in pts shm mqueue; do
		if [ -d "$keep/$m" ]; then
			ns_mount --bind "$keep/$m" "/dev/$m"
			umount "$keep/$m"
		fi
	done
	rm -f /dev/log
	: >"$TMPD/syslog"
	python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536).rstrip(b"\0\n") + b"\n")
' /dev/log "$TMPD/syslog" &
	track_bg $!
	i=0
	while [ ! -S /dev/log ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "syslog listener did not start"
		sleep 0.05
	done
}

# Waits up to 5 s for a line matching the extended regex $1 in the syslog.
expect_log() {
	local i=0
	while ! grep -Eq -- "$1" "$TMPD/syslog"; do
		i=$((i + 1))
		if [ $i -ge 100 ]; then
			echo "---- syslog:" >&2
			cat "$TMPD/syslog" >&2
			fail "no log line matching: $1"
		fi
		sleep 0.05
	done
}

# The test's person directory: fixtures/pam/passwd with every home moved
# under $2 when given.  Usage: pam_passwd OUT [HOMEBASE]
pam_passwd() {
	if [ -n "${2:-}" ]; then
		sed "s#:/home/#:$2/#" "$PAM_FIXTURES/passwd" >"$1"
	else
		cp "$PAM_FIXTURES/passwd" "$1"
	fi
}

# Publishes the fixture snapshot at $1.  Usage: pam_snapshot OUT PASSWD
# [mksnap options], e.g. --inactive carol.
pam_snapshot() {
	local out=$1 pw=$2
	shift 2
	build_snapshot "$out" "$pw" "$PAM_FIXTURES/group" "$@"
}

# Bind-mounts a file with the given lines over an existing file.
# Usage: ns_bind_file TARGET LINE...
ns_bind_file() {
	local target=$1 name
	shift
	name=$(echo "$target" | tr / _)
	printf '%s\n' "$@" >"$TMPD/$name"
	ns_mount --bind "$TMPD/$name" "$target"
}

# The line that the man page recommends.
PAM_SCIM_LINE='account [success=ok new_authtok_reqd=ok user_unknown=ignore default=bad] pam_scim.so'
