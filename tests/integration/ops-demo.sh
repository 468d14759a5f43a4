#!/bin/sh
# ops-demo: the README's first command, `./quickstart demo`, run against
# this build (NSS_SCIM_BUILDDIR: nothing is built) with package installs
# forbidden (QUICKSTART_NO_INSTALL).  Its output must show the SCIM people
# through getent, the groups, id, the suspended person refused by PAM and
# scim-cache status; afterwards nothing of it may be left: no process, no
# temporary directory, no mount, no change to the host's /etc.
. "$top_srcdir/tests/helpers/ops-lib.sh" || exit 99
require_root
require_cmd unshare pamtester "$PY" getent
unshare --mount true 2>/dev/null || skip "cannot make a mount namespace"
ops_tmpdir

for f in /etc/nsswitch.conf /etc/passwd /etc/group; do
	cp -p "$f" "$TMPD/host$(echo "$f" | tr / _)"
done
etc_before=$(ls -a /etc /etc/pam.d | md5sum)
mounts_before=$(wc -l </proc/self/mountinfo)

mkdir "$TMPD/tmp"
rc=0
NSS_SCIM_BUILDDIR="$top_builddir" QUICKSTART_NO_INSTALL=1 TMPDIR="$TMPD/tmp" \
	"$top_srcdir/quickstart" demo >"$TMPD/out" 2>&1 </dev/null || rc=$?
[ $rc = 0 ] || fail "quickstart demo exited $rc: $(cat "$TMPD/out")"
show() {
	echo "---- quickstart demo said:" >&2
	cat "$TMPD/out" >&2
	fail "$*"
}

# The people, through getent passwd: 50 from SCIM, with numbers from the
# default range, passwords never usable.
awk -F: '$2 == "*" && $3 >= 1879048192 && $3 == $4 && NF == 7' "$TMPD/out" | sort -u >"$TMPD/people"
[ "$(wc -l <"$TMPD/people")" = 50 ] || show "want 50 people from getent passwd"
grep -q '^ana\.rodriguez:\*:[0-9]*:[0-9]*:Ana Rodriguez:/home/ana\.rodriguez:/bin/bash$' \
	"$TMPD/people" || show "no ana.rodriguez in getent passwd"
ok "getent passwd shows the 50 people"
# The eight SCIM groups, by their POSIX names, with members.
for g in engineering site-reliability devops data-science ios-team \
	customer-support product-management qa-and-release; do
	grep -Eq "^$g:\\*:[0-9]+:[a-z]" "$TMPD/out" || show "no group $g"
done
ok "getent group shows the 8 groups"
grep -Eq '^uid=[0-9]+\(ana\.rodriguez\) gid=[0-9]+\(ana\.rodriguez\) groups=.*\(customer-support\)' \
	"$TMPD/out" || show "no id output for ana.rodriguez"
ok "id ana.rodriguez"
# PAM: the active person admitted, the suspended one refused and told so.
grep -q '^pamtester: account management done\.$' "$TMPD/out" || show "ana.rodriguez not admitted"
grep -q '^Your account is suspended\.$' "$TMPD/out" || show "no suspension message"
grep -q '^pamtester: Permission denied$' "$TMPD/out" || show "sven.wright not refused"
grep -q 'access denied for user sven.wright: account suspended' "$TMPD/out" ||
	show "no pam_scim log line"
ok "pam_scim refuses the suspended sven.wright"
# scim-cache check, refresh and status.
grep -q '^token accepted: 50 people listed at http://127\.0\.0\.1:' "$TMPD/out" || show "no check"
grep -q 'refresh published: generation 1 .*50 people (49 active, 1 suspended), 58 groups' \
	"$TMPD/out" || show "no refresh summary"
grep -Eq '^generation: +1 \(built ' "$TMPD/out" || show "no status"
grep -Eq '^people: +50 \(49 active, 1 suspended' "$TMPD/out" || show "status counts"
grep -Eq '^last attempt: .*\(success\)$' "$TMPD/out" || show "status last attempt"
ok "scim-cache check, refresh and status"

# Nothing left behind.
[ -z "$(ls -A "$TMPD/tmp")" ] || fail "left in TMPDIR: $(ls -A "$TMPD/tmp")"
! pgrep -f "$TMPD/tmp" >/dev/null || fail "processes left: $(pgrep -af "$TMPD/tmp")"
for f in /etc/nsswitch.conf /etc/passwd /etc/group; do
	cmp -s "$f" "$TMPD/host$(echo "$f" | tr / _)" || fail "the demo changed the host's $f"
done
[ "$(ls -a /etc /etc/pam.d | md5sum)" = "$etc_before" ] || fail "the demo changed /etc"
[ "$(wc -l </proc/self/mountinfo)" = "$mounts_before" ] || fail "the demo left a mount here"
ok "no process, file or mount left, the host's /etc untouched"
