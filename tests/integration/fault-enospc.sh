#!/bin/sh
# A publish into a full filesystem fails cleanly: the old snapshot stays
# byte-identical, no temporary file is left, and lookups keep working.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
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

use_built_module "$snap"
ns_nsswitch "passwd: scim" "group: scim"
[ "$(getent passwd alice | cut -d: -f3)" = 200001 ] || fail "lookup after ENOSPC"
echo "ENOSPC: $(cat "$TMPD/err"); old snapshot kept"

# The same through scim-cache refresh from the bridge emulator: the first
# directory fits, a much larger one does not; the refresh fails with one
# line, the snapshot stays byte for byte, and the next refresh that fits
# succeeds.
mkdir -m 0755 "$TMPD/tiny"
ns_mount -t tmpfs -o size=384k,mode=0755 tmpfs "$TMPD/tiny"
. "$top_srcdir/tests/helpers/tools-lib.sh" || exit 99
tools_setup
SNAP="$TMPD/tiny/cache.mdb"
export NSS_SCIM_CACHE="$SNAP"
DATA="$TMPD/dir.json"
"$PY" "$EMU_DIR/gen-directory.py" --people 20 --groups 4 --per-user 2 \
	--seed 3 "$DATA" || fail "gen-directory"
start_emulator bridge "$DATA"
write_config "http://127.0.0.1:$EMU_PORT/scim" "max_removed_percent = 100"
sc refresh --quiet || fail "first refresh into the small filesystem"
cp "$SNAP" "$TMPD/before.mdb"
"$PY" "$EMU_DIR/gen-directory.py" --people 6000 --groups 40 --per-user 4 \
	--seed 3 "$DATA.big" || fail "gen-directory"
put_data "$DATA.big" "$DATA"
rc=0
sc refresh --quiet >"$TMPD/out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "refresh into a full filesystem exited $rc: $(cat "$TMPD/out")"
[ "$(wc -l <"$TMPD/out")" = 1 ] || fail "not one line: $(cat "$TMPD/out")"
grep -q 'no space left' "$TMPD/out" || fail "unclear: $(cat "$TMPD/out")"
cmp "$SNAP" "$TMPD/before.mdb" || fail "the live snapshot changed"
[ "$(ls "$TMPD/tiny")" = cache.mdb ] || fail "left behind: $(ls "$TMPD/tiny")"
[ "$(getent passwd | wc -l)" -ge 20 ] || fail "lookups after the failed refresh"
"$PY" "$EMU_DIR/gen-directory.py" --people 25 --groups 4 --per-user 2 \
	--seed 3 "$DATA.small" || fail "gen-directory"
put_data "$DATA.small" "$DATA"
sc refresh --quiet || fail "the refresh after freeing the need for space"
echo "refresh ENOSPC: $(cat "$TMPD/out")"
