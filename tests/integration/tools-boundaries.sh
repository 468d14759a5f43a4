#!/bin/sh
# Every threshold of a bridge refresh on both sides of its edge, and the
# local names through the whole path:
#   - the mass-removal guard: exactly max_removed_percent of the people
#     removed is published, one person more is refused (exit 2) with the
#     snapshot kept byte for byte;
#   - max_pages: a listing of exactly max_pages pages is read, one page
#     more is refused;
#   - the token file: any group or other permission bit is refused (0640,
#     0604, 0610), 0600 and 0400 are taken;
#   - local names: a directory person named like a local user that has no
#     group of that name, a person named like a local group that has no
#     user of that name, and a directory group named like a local group
#     are never published, and status names each skip.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
tools_test "$@"

DATA="$TMPD/directory.json"
put_data "$EMU_DIR/sample-directory.json" "$DATA"
cp "$DATA" "$TMPD/full.json"
start_emulator emu "$DATA"
URL="http://127.0.0.1:$EMU_PORT/scim"
write_config "$URL"
ns_nsswitch "passwd: scim" "group: scim"

# expect_rc CODE CMD...: runs CMD, wants exit CODE; output in $TMPD/out.
expect_rc() {
	local want=$1 rc=0
	shift
	"$@" >"$TMPD/out" 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "$*: exit $rc, want $want: $(cat "$TMPD/out")"
}

# people N: the number of people getent lists through the snapshot.
people() { getent passwd | wc -l; }

expect_rc 0 sc refresh
[ "$(people)" = 50 ] || fail "first refresh: $(people) people"

# ---- the mass-removal guard --------------------------------------------
# 20% of 50 is 10: removing 10 is allowed, 11 is not.  With 10%: 5 and 6.
for pct in 20 10; do
	write_config "$URL" "max_removed_percent = $pct"
	at=$((50 * pct / 100))
	put_data "$TMPD/full.json" "$DATA"
	expect_rc 0 sc refresh
	[ "$(people)" = 50 ] || fail "$pct%: back to 50 people"
	edit_data "$DATA" "d['users'] = d['users'][$at:]"
	expect_rc 0 sc refresh
	[ "$(people)" = $((50 - at)) ] ||
		fail "$pct%: removing $at of 50 (exactly the limit) was not published"
	put_data "$TMPD/full.json" "$DATA"
	expect_rc 0 sc refresh
	cp "$SNAP" "$TMPD/snap.full"
	edit_data "$DATA" "d['users'] = d['users'][$((at + 1)):]"
	expect_rc 2 sc refresh
	grep -q "refresh refused: it would remove $((at + 1)) of 50 people ([0-9]*%), more than max_removed_percent $pct%" "$TMPD/out" ||
		fail "$pct%: one over the limit: $(cat "$TMPD/out")"
	cmp -s "$SNAP" "$TMPD/snap.full" || fail "$pct%: a refused refresh changed the snapshot"
	echo "ok: max_removed_percent $pct: $at of 50 removed is published, $((at + 1)) refused"
done
# 0 refuses any removal; 100 allows removing everyone but the last.
write_config "$URL" "max_removed_percent = 0"
put_data "$TMPD/full.json" "$DATA"
expect_rc 0 sc refresh
cp "$SNAP" "$TMPD/snap.full"
edit_data "$DATA" "d['users'] = d['users'][1:]"
expect_rc 2 sc refresh
cmp -s "$SNAP" "$TMPD/snap.full" || fail "0%: one removal changed the snapshot"
write_config "$URL" "max_removed_percent = 100"
edit_data "$DATA" "d['users'] = d['users'][-1:]"
expect_rc 0 sc refresh
[ "$(people)" = 1 ] || fail "100%: $(people) people"
echo "ok: max_removed_percent 0 refuses one removal, 100 allows 49 of 50"
write_config "$URL"
put_data "$TMPD/full.json" "$DATA"
expect_rc 0 sc refresh

# ---- max_pages ----------------------------------------------------------
# 50 people in pages of 10 are 5 pages.
write_config "$URL" "page_size = 10" "max_pages = 5"
edit_data "$DATA" 'd["users"][0]["name"]["formatted"] = "Five Pages"'
expect_rc 0 sc refresh
[ "$(getent passwd ana.rodriguez | cut -d: -f5)" = "Five Pages" ] ||
	fail "max_pages 5: not published"
cp "$SNAP" "$TMPD/snap.5"
write_config "$URL" "page_size = 10" "max_pages = 4"
edit_data "$DATA" 'd["users"][0]["name"]["formatted"] = "Four Pages"'
expect_rc 1 sc refresh
grep -q 'more than 4 pages; raise max_pages?' "$TMPD/out" || fail "max_pages 4: $(cat "$TMPD/out")"
cmp -s "$SNAP" "$TMPD/snap.5" || fail "max_pages 4 changed the snapshot"
echo "ok: max_pages: 5 pages read with max_pages 5, refused with 4"
write_config "$URL"
put_data "$TMPD/full.json" "$DATA"
expect_rc 0 sc refresh

# ---- the token file's mode ---------------------------------------------
for mode in 0640 0604 0610 0601 0620 0602; do
	chmod "$mode" "$TMPD/token"
	expect_rc 1 sc refresh
	grep -q "token file .* must not be accessible by group or others (mode $mode; use chmod 600)" "$TMPD/out" ||
		fail "token mode $mode: $(cat "$TMPD/out")"
done
for mode in 0600 0400; do
	chmod "$mode" "$TMPD/token"
	expect_rc 0 sc refresh
done
chmod 0600 "$TMPD/token"
echo "ok: token modes with any group or other bit refused; 0600 and 0400 taken"

# ---- local names through the whole path --------------------------------
# The local files (tests/fixtures/tools): "sync" is a user with no group
# of that name; "adm" and "staff" are groups with no user of that name.
grep -q '^sync:' "$LOCAL_PASSWD" && ! grep -q '^sync:' "$LOCAL_GROUP" ||
	fail "fixture: sync must be a local user without a group"
for g in adm staff; do
	grep -q "^$g:" "$LOCAL_GROUP" && ! grep -q "^$g:" "$LOCAL_PASSWD" ||
		fail "fixture: $g must be a local group without a user"
done
edit_data "$DATA" '
import copy
for i, name in enumerate(("sync", "adm")):
    n = copy.deepcopy(d["users"][0])
    n["id"] = "LOCALNAME%017d" % i
    n["userName"] = name + "@example.com"
    n["name"]["formatted"] = "Directory " + name
    d["users"].append(n)
g = copy.deepcopy(d["groups"][0])
g["id"] = "LOCALGROUP%016d" % 0
g["displayName"] = "Staff"
d["groups"].append(g)
'
expect_rc 0 sc refresh
for q in "passwd sync" "passwd adm" "group adm" "group staff" "group sync"; do
	# shellcheck disable=SC2086
	if out=$(getent $q); then fail "getent $q through the snapshot: $out"; fi
done
grep -q '^scim-cache: skipped person LOCALNAME0*: login name sync belongs to a local user' "$TMPD/out" ||
	fail "no skip line for sync: $(cat "$TMPD/out")"
grep -q '^scim-cache: skipped person LOCALNAME0*1: private group adm would shadow a local group' "$TMPD/out" ||
	fail "no skip line for adm: $(cat "$TMPD/out")"
grep -q '^scim-cache: skipped group LOCALGROUP0*: group name staff belongs to a local group' "$TMPD/out" ||
	fail "no skip line for staff: $(cat "$TMPD/out")"
sc status --json | "$PY" -c '
import json, sys
s = json.dumps(json.load(sys.stdin))
for n in ("LOCALNAME00000000000000000", "LOCALNAME00000000000000001", "LOCALGROUP0000000000000000"):
    assert n in s, n
assert s.count("local_name") >= 3, s
' || fail "status does not list the local-name skips"
echo "ok: a local user without a group, a local group without a user, and a local group name are never published"
exit 0
