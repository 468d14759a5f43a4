# pam-lib.sh: helpers of the PAM shell tests, sourced after tests/helpers/lib.sh.
#
# pam_scim logs with pam_syslog(), that is syslog(3) to /dev/log.  Test
# machines run no syslog daemon, so ns_syslog serves /dev/log itself, in the
# private mount namespace, and writes every message to $TMPD/syslog.

PAM_MODULE="$top_builddir/pam/.libs/pam_scim.so"
PAM_FIXTURES="$top_srcdir/tests/fixtures/pam"
PAM_BG_PIDS=""

# In a sanitized build only programs that load our modules get the
# sanitizer runtimes (lib.sh's SAN_PRELOAD): with_modules runs one so.
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
	if command -v stop_emulators >/dev/null 2>&1; then stop_emulators; fi
}

# For the tests that refresh from the bridge emulator into the snapshot
# path compiled into the modules (setuid su and sshd ignore
# NSS_SCIM_CACHE): starts the emulator on the sample directory and writes
# $CONF with a token, state and snapshot in the namespace.  Source
# tests/helpers/tools-lib.sh first; arguments are extra config lines.
pam_bridge_setup() {
	SNAP=$(default_snapshot_path)
	STATE="$TMPD/state"
	CONF="$TMPD/scim.conf"
	ns_private_dir "$(dirname "$SNAP")"
	printf 'token-%s-%s\n' "$$" "$(date +%s)" >"$TMPD/token"
	chmod 0600 "$TMPD/token"
	DATA="$TMPD/directory.json"
	put_data "$EMU_DIR/sample-directory.json" "$DATA"
	start_emulator emu "$DATA"
	write_config "http://127.0.0.1:$EMU_PORT/scim" "shell = /bin/sh" "$@"
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

}

# The snapshot path compiled into the modules ($(localstatedir)/lib/...).
default_snapshot_path() {
	"$top_builddir/tests/helpers/pam-default-path"
}

# In the namespace: our own /dev/log, whose messages go one per line to
# $TMPD/syslog (dist/private-syslog.sh).
. "$top_srcdir/dist/private-syslog.sh"
ns_syslog() {
	private_syslog python3 "$TMPD"
	track_bg "$SYSLOG_PID"
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

# In the namespace: the modules, an nsswitch.conf that asks files then
# scim, our own syslog, and an su stack whose account phase is
# $PAM_SCIM_LINE then pam_unix (root needs no password).
ns_su_setup() {
	ns_install_modules
	ns_nsswitch "passwd: files scim" "group: files scim" "shadow: files"
	ns_syslog
	ns_bind_file /etc/pam.d/su \
		"auth     sufficient pam_rootok.so" \
		"auth     required   pam_deny.so" \
		"$PAM_SCIM_LINE" \
		"account  required   pam_unix.so" \
		"session  required   pam_unix.so"
}

# ---- sshd ---------------------------------------------------------------

SSHD=/usr/sbin/sshd

require_sshd() {
	[ -x "$SSHD" ] || skip_missing "sshd (openssh-server)"
	command -v ssh >/dev/null || skip_missing "ssh (openssh-client)"
	command -v ssh-keygen >/dev/null || skip_missing ssh-keygen
	command -v python3 >/dev/null || skip_missing python3
}

# In the namespace: sshd's privilege separation directory, the modules,
# NSS through scim, syslog, and a /etc/pam.d/sshd whose account stack is
# the recommended line before pam_unix.  Public keys only.
ns_sshd_setup() {
	ns_private_dir /run/sshd
	ns_install_modules
	ns_nsswitch "passwd: files scim" "group: files scim" "shadow: files"
	ns_syslog
	ns_bind_file /etc/pam.d/sshd \
		"auth     required   pam_deny.so" \
		"$PAM_SCIM_LINE" \
		"account  required   pam_unix.so" \
		"session  required   pam_unix.so" \
		"password required   pam_deny.so"
}

# The host key and the one user key that every test home accepts.
ssh_keys() {
	ssh-keygen -q -t ed25519 -N '' -C nss-scim-test -f "$TMPD/id_user"
	ssh-keygen -q -t ed25519 -N '' -f "$TMPD/ssh_host_ed25519_key"
}

# ssh_home DIR UID: a home that sshd's StrictModes accepts (owned by the
# person, writable by nobody else), with the test key authorized.
ssh_home() {
	mkdir -p "$1/.ssh"
	cp "$TMPD/id_user.pub" "$1/.ssh/authorized_keys"
	chown -R "$2:$2" "$1"
	chmod 0755 "$1"
	chmod 0700 "$1/.ssh"
	chmod 0600 "$1/.ssh/authorized_keys"
}

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Starts sshd on a free port; retries when another process took the port
# between the probe and the bind.
start_sshd() {
	local try i pid
	for try in 1 2 3; do
		PORT=$(free_port)
		cat >"$TMPD/sshd_config" <<-EOF
			Port $PORT
			ListenAddress 127.0.0.1
			HostKey $TMPD/ssh_host_ed25519_key
			PidFile none
			UsePAM yes
			AuthenticationMethods publickey
			PubkeyAuthentication yes
			PasswordAuthentication no
			KbdInteractiveAuthentication no
			AuthorizedKeysFile .ssh/authorized_keys
			StrictModes yes
			PermitRootLogin no
			UseDNS no
			PrintMotd no
			PrintLastLog no
			LogLevel VERBOSE
		EOF
		"$SSHD" -t -f "$TMPD/sshd_config" || fail "sshd rejects the test config"
		: >"$TMPD/sshd.log"
		"$SSHD" -D -f "$TMPD/sshd_config" -E "$TMPD/sshd.log" &
		pid=$!
		i=0
		while kill -0 "$pid" 2>/dev/null; do
			if grep -q "Server listening on 127.0.0.1 port $PORT" "$TMPD/sshd.log"; then
				track_bg "$pid"
				return 0
			fi
			i=$((i + 1))
			[ $i -lt 200 ] || break
			sleep 0.05
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	cat "$TMPD/sshd.log" >&2
	fail "sshd did not start"
}

# login USER CMD: one ssh login by public key; prints what came back on
# stdout, and leaves the client's messages (PAM's banner) in $TMPD/ssh.err.
login() {
	local user=$1
	shift
	env -u SSH_AUTH_SOCK timeout 30 ssh -F /dev/null -i "$TMPD/id_user" \
		-o IdentitiesOnly=yes -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o LogLevel=INFO -o ConnectTimeout=10 \
		-p "$PORT" "$user@127.0.0.1" "$@" 2>"$TMPD/ssh.err"
}

show_logs() {
	echo "---- sshd.log" >&2
	cat "$TMPD/sshd.log" >&2
	echo "---- syslog" >&2
	cat "$TMPD/syslog" >&2
}

