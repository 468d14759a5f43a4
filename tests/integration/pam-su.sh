#!/bin/sh
# pam-su: a real su (util-linux, setuid) with pam_scim.so in its account
# stack.  In a private mount namespace: the built modules overlaid on the
# system library directory, a test nsswitch.conf ("files scim"), a test
# /etc/pam.d/su, and the snapshot at the path compiled into the modules,
# since a setuid program ignores NSS_SCIM_CACHE.
#
# Root runs su here.  pam_rootok admits root in the auth stack, but su
# still runs the account stack (util-linux su calls pam_acct_mgmt() for
# every caller), so pam_scim decides; the suspended case below proves it.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
. "$top_srcdir/tests/helpers/pam-lib.sh" || exit 99

require_root
require_unsanitized
command -v su >/dev/null || skip_missing su
command -v python3 >/dev/null || skip_missing "python3 (the syslog listener)"
require_pam_module
enter_namespace "$@"
pam_tmpdir

SNAP=$(default_snapshot_path)
ns_private_dir "$(dirname "$SNAP")"
ns_su_setup

pam_passwd "$TMPD/passwd"
pam_snapshot "$SNAP" "$TMPD/passwd" --inactive carol
cd /

# su_id USER: runs id as USER through su; prints everything su said.
su_id() {
	su -s /bin/sh "$1" -c id 2>&1
}

out=$(su_id alice) || fail "su alice failed: $out"
[ "$out" = "uid=300001(alice) gid=300001(alice) groups=300001(alice),310001(engineering)" ] ||
	fail "su alice: unexpected id: $out"
echo "ok: su alice: $out"
out=$(su_id bob) || fail "su bob failed: $out"
[ "$out" = "uid=300002(bob) gid=300002(bob) groups=300002(bob),310002(ops)" ] ||
	fail "su bob: unexpected id: $out"
echo "ok: su bob: $out"

if out=$(su_id carol); then
	fail "su carol (suspended) succeeded: $out"
fi
case $out in
*uid=*) fail "su carol ran the command: $out" ;;
*"Your account is suspended."*) ;;
*) fail "su carol: no message for the user: $out" ;;
esac
expect_log 'pam_scim\(su:account\): access denied for user carol: account suspended$'
echo "ok: su carol refused: $(echo "$out" | tr '\n' ' ')"

# Local users are not pam_scim's: root and the local daemon (whose name is
# also in the snapshot) pass on to pam_unix.
out=$(su_id daemon) || fail "su daemon failed: $out"
case $out in
uid=1\(daemon\)*) echo "ok: su daemon: $out" ;;
*) fail "su daemon: not the local daemon: $out" ;;
esac

# Suspending alice takes effect at the next su.
pam_snapshot "$SNAP" "$TMPD/passwd" --inactive alice,carol --generation 2
if out=$(su_id alice); then
	fail "su alice succeeded after suspension: $out"
fi
expect_log 'pam_scim\(su:account\): access denied for user alice: account suspended$'
echo "ok: su alice refused after suspension"

# A snapshot older than max_age (the bridge unreachable for two hours):
# NSS still resolves bob, pam_scim refuses him (fail closed), and root is
# not locked out.  (Without any snapshot su would stop earlier: NSS no
# longer knows the name.)
pam_snapshot "$SNAP" "$TMPD/passwd" --generation 3 \
	--created $(($(date +%s) - 7200))
sed 's/pam_scim.so$/pam_scim.so max_age=3600/' /etc/pam.d/su >"$TMPD/su.new"
cat "$TMPD/su.new" >/etc/pam.d/su
grep -q 'pam_scim.so max_age=3600$' /etc/pam.d/su || fail "max_age not set"
if out=$(su_id bob); then
	fail "su bob succeeded with a stale snapshot: $out"
fi
expect_log 'pam_scim\(su:account\): cannot check user bob: snapshot is [0-9]+ seconds old, over max_age=3600$'
out=$(su_id root) || fail "su root failed with a stale snapshot: $out"
echo "ok: with a stale snapshot bob is refused and root is not: $out"
echo "PASS: su"
