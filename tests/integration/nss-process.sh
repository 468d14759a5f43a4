#!/bin/sh
# Through glibc: a lookup in a child after fork(), no snapshot descriptor
# left open across exec, and 8 threads looking up while the snapshot is
# republished 50 times with zero wrong answers and zero failures.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
require_root
enter_namespace "$@"
make_tmpdir

fix="$top_srcdir/tests/fixtures"
mkdir -m 0755 "$TMPD/snap"
snap="$TMPD/snap/cache.mdb"
build_snapshot "$snap" "$fix/passwd" "$fix/group" --id-min 200000 --id-max 299999
use_built_module "$snap"
ns_nsswitch "passwd: scim" "group: scim"

nss_client fork alice 200001 || fail "lookup after fork"

nss_client exec alice >"$TMPD/fds" || fail "exec"
if grep -q 'cache\.mdb' "$TMPD/fds"; then
	cat "$TMPD/fds" >&2
	fail "the snapshot's descriptor survived exec"
fi

NSS_SCIM_CACHE="$TMPD/snap/stress.mdb" nss_client stress "$TMPD/snap/stress.mdb" 50 ||
	fail "stress"
echo "fork, exec and 8 threads over 50 publishes: no failure"
