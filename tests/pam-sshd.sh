#!/bin/sh
# pam-sshd: a real sshd (Debian's openssh-server) with UsePAM yes and
# pam_scim.so in its account stack, on 127.0.0.1 and an ephemeral port, in a
# private mount namespace.  A person from the snapshot logs in by public
# key and `id` prints the snapshot's numbers; once the snapshot says the
# person is suspended, the next login is refused in the account phase and
# the logs say why.
#
# The snapshot is rebuilt here with tests/mksnap --inactive; the path from
# the bridge emulator through `scim-cache refresh` is another test's.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/pam-lib.sh"

SSHD=/usr/sbin/sshd
require_root
require_unsanitized
[ -x "$SSHD" ] || skip "needs openssh-server"
command -v ssh >/dev/null || skip "needs openssh-client"
command -v ssh-keygen >/dev/null || skip "needs ssh-keygen"
command -v python3 >/dev/null || skip "needs python3"
require_pam_module
enter_namespace "$@"
pam_tmpdir

SNAP=$(default_snapshot_path)
ns_private_dir "$(dirname "$SNAP")"
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

# People and their homes.  sshd's StrictModes wants the home, ~/.ssh and
# authorized_keys owned by the person and writable by nobody else.
pam_passwd "$TMPD/passwd" "$TMPD/home"
pam_snapshot "$SNAP" "$TMPD/passwd" --inactive carol
ssh-keygen -q -t ed25519 -N '' -C nss-scim-test -f "$TMPD/id_user"
for who in alice:300001 bob:300002 carol:300003; do
	name=${who%%:*}
	id=${who#*:}
	mkdir -p "$TMPD/home/$name/.ssh"
	cp "$TMPD/id_user.pub" "$TMPD/home/$name/.ssh/authorized_keys"
	chown -R "$id:$id" "$TMPD/home/$name"
	chmod 0755 "$TMPD/home/$name"
	chmod 0700 "$TMPD/home/$name/.ssh"
	chmod 0600 "$TMPD/home/$name/.ssh/authorized_keys"
done

ssh-keygen -q -t ed25519 -N '' -f "$TMPD/ssh_host_ed25519_key"

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

start_sshd
echo "sshd listening on 127.0.0.1:$PORT"

out=$(login alice id) || { show_logs; fail "alice could not log in: $out"; }
[ "$out" = "uid=300001(alice) gid=300001(alice) groups=300001(alice),310001(engineering)" ] ||
	fail "alice: unexpected id: $out"
echo "ok: alice logged in: $out"

if out=$(login carol id); then
	fail "carol (suspended) logged in: $out"
fi
grep -q 'Access denied for user carol by PAM account configuration' "$TMPD/sshd.log" ||
	{ show_logs; fail "sshd did not refuse carol in the account phase"; }
# sshd sends the module's message to the client as a banner.
grep -q 'Your account is suspended.' "$TMPD/ssh.err" ||
	{ cat "$TMPD/ssh.err" >&2; fail "carol was not told why"; }
expect_log 'pam_scim\(sshd:account\): access denied for user carol: account suspended$'
echo "ok: carol refused in the account phase"

# alice is suspended; her next login is refused.  Key authentication
# itself still succeeds: the account phase is what stops her.
pam_snapshot "$SNAP" "$TMPD/passwd" --inactive alice,carol --generation 2
if out=$(login alice id); then
	fail "alice logged in after suspension: $out"
fi
last=$(awk '/^Connection from/ { b = "" } { b = b $0 "\n" } END { printf "%s", b }' "$TMPD/sshd.log")
case $last in
*"Accepted key "*"/home/alice/.ssh/authorized_keys"*"Access denied for user alice by PAM account configuration"*) ;;
*) show_logs; fail "sshd did not find alice's key and then refuse her account" ;;
esac
grep -q 'Your account is suspended.' "$TMPD/ssh.err" ||
	{ cat "$TMPD/ssh.err" >&2; fail "alice was not told why"; }
expect_log 'pam_scim\(sshd:account\): access denied for user alice: account suspended$'
echo "ok: alice refused after suspension"
echo "sshd: $(grep 'Access denied for user alice' "$TMPD/sshd.log")"
echo "syslog: $(grep 'pam_scim(sshd:account).*alice' "$TMPD/syslog")"

# bob was never suspended and still gets in.
out=$(login bob id) || { show_logs; fail "bob could not log in: $out"; }
echo "ok: bob logged in: $out"
echo "PASS: sshd"
