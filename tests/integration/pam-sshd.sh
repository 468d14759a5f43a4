#!/bin/sh
# pam-sshd: a real sshd (Debian's openssh-server) with UsePAM yes and
# pam_scim.so in its account stack, on 127.0.0.1 and an ephemeral port, in a
# private mount namespace.  A person from the snapshot logs in by public
# key and `id` prints the snapshot's numbers; once the snapshot says the
# person is suspended, the next login is refused in the account phase and
# the logs say why.
#
# The snapshot is rebuilt here with tests/helpers/mksnap --inactive; the path from
# the bridge emulator through `scim-cache refresh` is pam-sshd-refresh.sh.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
. "$top_srcdir/tests/helpers/pam-lib.sh" || exit 99

require_root
require_unsanitized
require_sshd
require_pam_module
enter_namespace "$@"
pam_tmpdir

SNAP=$(default_snapshot_path)
ns_private_dir "$(dirname "$SNAP")"
ns_sshd_setup

# People and their homes.  sshd's StrictModes wants the home, ~/.ssh and
# authorized_keys owned by the person and writable by nobody else.
pam_passwd "$TMPD/passwd" "$TMPD/home"
pam_snapshot "$SNAP" "$TMPD/passwd" --inactive carol
ssh_keys
for who in alice:300001 bob:300002 carol:300003; do
	ssh_home "$TMPD/home/${who%%:*}" "${who#*:}"
done

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
