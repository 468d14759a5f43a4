#!/bin/sh
# A publish into a full filesystem fails cleanly: the old snapshot stays
# byte-identical, no temporary file is left, and lookups keep working.
. "$top_srcdir/tests/lib.sh"
require_root
enter_namespace "$@"
make_tmpdir

fix="$top_srcdir/tests/fixtures"
mkdir -m 0755 "$TMPD/small"
ns_mount -t tmpfs -o size=256k,mode=0755 tmpfs "$TMPD/small"
snap="$TMPD/small/cache.mdb"
build_snapshot "$snap" "$fix/passwd" "$fix/group" --id-min 200000 --id-max 299999
cp "$snap" "$TMPD/before"

i=1
while [ $i -le 5000 ]; do
	printf 'u%05d:x:%d:%d:User %d:/home/u%05d:/bin/sh\n' $i $((250000 + i)) $((250000 + i)) $i $i
	i=$((i + 1))
done >"$TMPD/big.passwd"
: >"$TMPD/big.group"
rc=0
build_snapshot "$snap" "$TMPD/big.passwd" "$TMPD/big.group" \
	--id-min 200000 --id-max 299999 --generation 2 2>"$TMPD/err" || rc=$?
[ "$rc" != 0 ] || fail "publishing 5,000 people into 256 KiB succeeded"
grep -qi 'space\|full' "$TMPD/err" || fail "unclear error: $(cat "$TMPD/err")"
[ "$(wc -l <"$TMPD/err")" = 1 ] || fail "error is not one line: $(cat "$TMPD/err")"
cmp "$snap" "$TMPD/before" || fail "the live snapshot changed"
[ "$(ls "$TMPD/small")" = cache.mdb ] || fail "left behind: $(ls "$TMPD/small")"

export NSS_SCIM_CACHE="$snap" LD_LIBRARY_PATH="$NSS_LIBS"
ns_nsswitch "passwd: scim" "group: scim"
[ "$(getent passwd alice | cut -d: -f3)" = 200001 ] || fail "lookup after ENOSPC"
echo "ENOSPC: $(cat "$TMPD/err"); old snapshot kept"
