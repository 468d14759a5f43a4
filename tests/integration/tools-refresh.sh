#!/bin/sh
# The real path: bridge emulator -> scim-cache refresh -> snapshot -> glibc
# (getent, id) in a private mount namespace.  Exact people, groups and
# memberships; the same numbers on a second refresh and from a fresh
# state; renames keep the uid; deletions remove and never reuse; status
# and metrics.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
tools_test "$@"

DATA="$TMPD/directory.json"
put_data "$EMU_DIR/sample-directory.json" "$DATA"
start_emulator emu "$DATA"
write_config "http://127.0.0.1:$EMU_PORT/scim" \
	"metrics_file = $TMPD/scim.prom"
ns_nsswitch "passwd: scim" "group: scim" "initgroups: scim"

# First refresh: exactly the expected entries.
sc refresh 2>"$TMPD/out" || fail "refresh: $(cat "$TMPD/out")"
grep -q 'refresh published: generation 1 .* 50 people (49 active, 1 suspended)' "$TMPD/out" ||
	fail "summary line: $(cat "$TMPD/out")"
expect_entries "$DATA"
getent passwd >"$TMPD/got.passwd"
getent group >"$TMPD/got.group"
diff -u "$TMPD/want.passwd" "$TMPD/got.passwd" || fail "getent passwd differs"
diff -u "$TMPD/want.group" "$TMPD/got.group" || fail "getent group differs"
[ "$(wc -l <"$TMPD/got.passwd")" = 50 ] || fail "want 50 people"
[ "$(wc -l <"$TMPD/got.group")" = 58 ] || fail "want 50 private + 8 groups"

# Suspended sven.wright resolves (PAM denies him, NSS keeps his files'
# owner).
getent passwd sven.wright >/dev/null || fail "suspended person missing"
# id and initgroups see the memberships.
ana_uid=$(getent passwd ana.rodriguez | cut -d: -f3)
want_groups=$(awk -F: -v u=ana.rodriguez '
	{ n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) print $3 }
	$1 == u { print $3 }' "$TMPD/want.group" | sort -n | tr '\n' ' ')
got_groups=$(id -G ana.rodriguez | tr ' ' '\n' | sort -n | tr '\n' ' ')
[ "$want_groups" = "$got_groups" ] ||
	fail "id -G ana.rodriguez: got '$got_groups', want '$want_groups'"
[ "$(id -u ana.rodriguez)" = "$ana_uid" ] || fail "id -u"
[ "$(id -g ana.rodriguez)" = "$ana_uid" ] || fail "private group gid = uid"
[ "$(id -gn ana.rodriguez)" = ana.rodriguez ] || fail "private group name"

# Second refresh: nothing changed, nothing published, same bytes.
cp "$SNAP" "$TMPD/snap.1"
sc refresh 2>"$TMPD/out" || fail "second refresh: $(cat "$TMPD/out")"
grep -q 'refresh unchanged: generation 1' "$TMPD/out" || fail "second summary: $(cat "$TMPD/out")"
cmp "$SNAP" "$TMPD/snap.1" || fail "an unchanged directory republished"
[ "$(snap_field generation)" = 1 ] || fail "generation moved"

# A fresh state directory elsewhere computes the same numbers.
mkdir -m 0755 "$TMPD/snap2"
sed -e "s|^cache_path = .*|cache_path = $TMPD/snap2/cache.mdb|" \
	-e "s|^state_dir = .*|state_dir = $TMPD/state2|" \
	-e "/^metrics_file/d" "$CONF" >"$TMPD/conf2"
"$SCIM_CACHE" --config "$TMPD/conf2" --quiet refresh || fail "second host"
NSS_SCIM_CACHE="$TMPD/snap2/cache.mdb" getent passwd >"$TMPD/got2.passwd"
NSS_SCIM_CACHE="$TMPD/snap2/cache.mdb" getent group >"$TMPD/got2.group"
diff -u "$TMPD/got.passwd" "$TMPD/got2.passwd" || fail "fresh state: other uids"
diff -u "$TMPD/got.group" "$TMPD/got2.group" || fail "fresh state: other gids"
cmp "$STATE/ids" "$TMPD/state2/ids" || fail "fresh state: other id map"
[ "$(stat -c %a "$STATE")" = 700 ] || fail "state dir mode"
[ "$(stat -c %a "$STATE/ids")" = 600 ] || fail "id map mode"

# A rename keeps the uid.
edit_data "$DATA" '
for u in d["users"]:
    if u["userName"] == "ana.rodriguez@example.com":
        u["userName"] = "ana.lopez@example.com"
        u["emails"][0]["value"] = "ana.lopez@example.com"
'
sc refresh 2>"$TMPD/out" || fail "refresh after rename: $(cat "$TMPD/out")"
[ "$(snap_field generation)" = 2 ] || fail "rename: generation 2"
[ "$(id -u ana.lopez)" = "$ana_uid" ] || fail "rename changed the uid"
! getent passwd ana.rodriguez >/dev/null || fail "old name still resolves"
[ "$(id -G ana.lopez | wc -w)" = "$(echo $want_groups | wc -w)" ] ||
	fail "rename lost memberships"

# A deletion removes the person; the number stays taken: a new person
# never gets it, and the id map keeps a tombstone.
steven_uid=$(id -u steven.thomas)
edit_data "$DATA" '
d["users"] = [u for u in d["users"] if u["userName"] != "steven.thomas@example.com"]
for g in d["groups"]:
    g["members"] = [m for m in g["members"] if m["display"] != "Steven Thomas"]
'
sc refresh 2>"$TMPD/out" || fail "refresh after deletion: $(cat "$TMPD/out")"
! getent passwd steven.thomas >/dev/null || fail "deleted person resolves"
! getent passwd "$steven_uid" >/dev/null || fail "deleted uid resolves"
grep -q "^u $steven_uid [A-Z0-9]* steven.thomas 1 gone\$" "$STATE/ids" ||
	fail "no tombstone for steven.thomas"
edit_data "$DATA" '
import copy
n = copy.deepcopy(d["users"][0])
n["id"] = "NEWPERSON2345NEWPERSON2345"
n["userName"] = "steven.thomas@example.com"
d["users"].append(n)
'
sc refresh 2>"$TMPD/out" || fail "refresh after re-adding: $(cat "$TMPD/out")"
new_uid=$(id -u steven.thomas) || fail "new steven.thomas missing"
[ "$new_uid" != "$steven_uid" ] || fail "a deleted person's uid was reused"
# The numbers come from the independent model alone (never from the id
# map under test): renames keep theirs, the new person gets its own.
expect_entries "$DATA"
getent passwd >"$TMPD/got.passwd"
diff -u "$TMPD/want.passwd" "$TMPD/got.passwd" || fail "after changes: passwd differs"
getent group >"$TMPD/got.group"
diff -u "$TMPD/want.group" "$TMPD/got.group" || fail "after changes: group differs"

# Local entries win, with files first.
ns_nsswitch "passwd: files scim" "group: files scim"
[ "$(getent passwd root | cut -d: -f3)" = 0 ] || fail "root"
getent passwd ana.lopez >/dev/null || fail "files scim: ana.lopez"

# status, status --json, metrics.
sc status >"$TMPD/status" || fail "status"
grep -q '^generation: *4 ' "$TMPD/status" || fail "status: $(cat "$TMPD/status")"
sc status --json >"$TMPD/status.json" || fail "status --json"
"$PY" -m json.tool "$TMPD/status.json" >/dev/null || fail "status --json is not JSON"
"$PY" - "$TMPD/status.json" <<'PYEOF' || fail "status --json content"
import json, sys
s = json.load(open(sys.argv[1]))
snap = s["snapshot"]
assert snap["available"] and snap["generation"] == 4, snap
assert snap["people"] == 50 and snap["suspended"] == 1, snap
assert snap["groups"] == 58, snap
assert s["last_result"] == "success" and s["last_error"] is None, s
assert s["last_success"] > 0 and s["locks"] == [], s
PYEOF
grep -q '^scim_cache_snapshot_generation 4$' "$TMPD/scim.prom" || fail "metrics generation"
grep -q '^scim_cache_people 50$' "$TMPD/scim.prom" || fail "metrics people"
grep -q '^scim_cache_http_requests_total{code="200"} ' "$TMPD/scim.prom" || fail "metrics http"
[ "$(stat -c %a "$TMPD/scim.prom")" = 644 ] || fail "metrics mode"

# On a terminal: progress (pages and resources out of totalResults) and
# the diff; without one, neither.
if command -v script >/dev/null; then
	edit_data "$DATA" '
for u in d["users"]:
    if u["userName"] == "lucia.carter@example.com":
        u["name"]["formatted"] = "Lucia C."
'
	script -qec "'$SCIM_CACHE' --config '$CONF' refresh" /dev/null >"$TMPD/tty" ||
		fail "refresh on a terminal: $(cat "$TMPD/tty")"
	grep -q 'scim-cache: people: page 1, 50 of 50' "$TMPD/tty" || fail "no progress: $(cat "$TMPD/tty")"
	grep -q "~ user lucia.carter: gecos 'Lucia Carter' -> 'Lucia C.'" "$TMPD/tty" ||
		fail "no diff on the terminal: $(cat "$TMPD/tty")"
fi
! grep -q 'page 1' "$TMPD/out" || fail "progress shown without a terminal"
exit 0
