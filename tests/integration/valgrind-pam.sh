#!/bin/sh
# pam_scim.so under valgrind memcheck, through the real libpam: 100
# sessions of 100 account checks (10,000 decisions), each session loading
# and unloading the module.  Zero errors, nothing definitely or indirectly
# lost; and the same for a suspended person, who is refused every time.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
require_root
command -v valgrind >/dev/null || skip_missing valgrind
[ "${SANITIZERS:-no}" != yes ] || skip "valgrind does not run sanitized code"
make_tmpdir

fix="$top_srcdir/tests/fixtures"
mkdir -m 0755 "$TMPD/snap" "$TMPD/pam.d"
build_snapshot "$TMPD/snap/cache.mdb" "$fix/passwd" "$fix/group" \
	--inactive carol --id-min 200000 --id-max 299999
export NSS_SCIM_CACHE="$TMPD/snap/cache.mdb"
echo "account required $top_builddir/pam/.libs/pam_scim.so" >"$TMPD/pam.d/scim-test"

run() {
	valgrind --quiet --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect --log-file="$TMPD/vg.$1.log" \
		"$top_builddir/tests/helpers/pam-loop" "$TMPD/pam.d" scim-test "$1" "$3" "$4" "$2" ||
		{ cat "$TMPD/vg.$1.log" >&2; fail "valgrind: $1"; }
	[ ! -s "$TMPD/vg.$1.log" ] || { cat "$TMPD/vg.$1.log" >&2; fail "valgrind reported for $1"; }
}
run alice 0 100 100 # PAM_SUCCESS
run carol 6 20 50   # PAM_PERM_DENIED
echo "valgrind memcheck: 11,000 account checks over 120 module loads, 0 errors, 0 bytes lost"
