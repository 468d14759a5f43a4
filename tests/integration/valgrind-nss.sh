#!/bin/sh
# The NSS module under valgrind memcheck: 1,000 rounds of ten lookups of
# every kind (10,000 lookups, enumerations included) in one process, as a
# long-lived sshd or nscd would make them.  Zero errors, and nothing of
# ours definitely or indirectly lost.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
require_root
command -v valgrind >/dev/null || skip_missing valgrind
[ "${SANITIZERS:-no}" != yes ] || skip "valgrind does not run sanitized code"
enter_namespace "$@"
make_tmpdir

fix="$top_srcdir/tests/fixtures"
mkdir -m 0755 "$TMPD/snap"
build_snapshot "$TMPD/snap/cache.mdb" "$fix/passwd" "$fix/group" \
	--id-min 200000 --id-max 299999
use_built_module "$TMPD/snap/cache.mdb"
ns_nsswitch "passwd: scim" "group: scim"

valgrind --quiet --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
	--log-file="$TMPD/vg.log" "$top_builddir/tests/helpers/nss-client" loop 1000 ||
	{ cat "$TMPD/vg.log" >&2; fail "valgrind found errors or leaks"; }
[ ! -s "$TMPD/vg.log" ] || { cat "$TMPD/vg.log" >&2; fail "valgrind reported"; }
echo "valgrind memcheck: 10,000 lookups, 0 errors, 0 bytes lost"
