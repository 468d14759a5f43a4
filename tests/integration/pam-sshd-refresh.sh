#!/bin/sh
# pam-sshd-refresh: the whole path into a real sshd.  The bridge emulator
# serves the sample directory, `scim-cache refresh` publishes the snapshot
# at the compiled-in path, and a person logs in by public key; `id` over
# ssh prints what the snapshot says.  The person is then suspended in the
# bridge and `scim-cache refresh` runs: the next login is refused by the
# account phase, and sshd's log and pam_scim's syslog line say why.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
. "$top_srcdir/tests/helpers/pam-lib.sh" || exit 99

require_root
require_unsanitized
require_sshd
require_pam_module
[ -x "$top_builddir/tools/scim-cache" ] || skip "scim-cache not built"
enter_namespace "$@"
pam_tmpdir
. "$top_srcdir/tests/helpers/tools-lib.sh" || exit 99

pam_bridge_setup "home = $TMPD/home/%u"
ns_sshd_setup

sc --quiet refresh 2>"$TMPD/out" || fail "refresh: $(cat "$TMPD/out")"
ssh_keys
for u in ana.rodriguez steven.thomas; do
	ssh_home "$TMPD/home/$u" "$(id -u "$u")"
done
start_sshd
echo "sshd listening on 127.0.0.1:$PORT"

# logs_in USER: ssh works, and id over ssh says what NSS says here.
logs_in() {
	local out
	out=$(login "$1" id) || { show_logs; fail "$1 could not log in: $out"; }
	[ "$out" = "$(id "$1")" ] || fail "$1: id over ssh '$out', want '$(id "$1")'"
	echo "ok: $1 logged in: $out"
}

logs_in ana.rodriguez
logs_in steven.thomas

edit_data "$DATA" '
for u in d["users"]:
    if u["userName"] == "ana.rodriguez@example.com":
        u["active"] = False
'
sc --quiet refresh 2>"$TMPD/out" || fail "refresh: $(cat "$TMPD/out")"
if out=$(login ana.rodriguez id); then
	fail "ana.rodriguez logged in after suspension: $out"
fi
last=$(awk '/^Connection from/ { b = "" } { b = b $0 "\n" } END { printf "%s", b }' "$TMPD/sshd.log")
case $last in
*"Accepted key "*"/home/ana.rodriguez/.ssh/authorized_keys"*"Access denied for user ana.rodriguez by PAM account configuration"*) ;;
*) show_logs; fail "sshd did not find the key and then refuse the account" ;;
esac
grep -q 'Your account is suspended.' "$TMPD/ssh.err" ||
	{ cat "$TMPD/ssh.err" >&2; fail "ana.rodriguez was not told why"; }
expect_log 'pam_scim\(sshd:account\): access denied for user ana.rodriguez: account suspended$'
echo "sshd: $(grep 'Access denied for user ana.rodriguez' "$TMPD/sshd.log")"
echo "syslog: $(grep 'pam_scim(sshd:account)' "$TMPD/syslog")"
logs_in steven.thomas
echo "PASS: sshd after refresh"
