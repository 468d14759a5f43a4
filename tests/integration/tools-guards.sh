#!/bin/sh
# Safety: the token file's owner and mode, the mass-removal and
# empty-directory guards and --force, --dry-run, one refresh at a time,
# local lock/unlock, and the documented exit codes.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
tools_test "$@"

DATA="$TMPD/directory.json"
put_data "$EMU_DIR/sample-directory.json" "$DATA"
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

# Usage and config errors.
expect_rc 64 "$SCIM_CACHE" --config "$CONF"
expect_rc 64 "$SCIM_CACHE" --config "$CONF" frobnicate
expect_rc 64 "$SCIM_CACHE" --config "$CONF" status --force
expect_rc 64 "$SCIM_CACHE" --config "$CONF" refresh --splay -1
expect_rc 64 "$SCIM_CACHE" --config "$CONF" lock 'bad:name'
expect_rc 0 "$SCIM_CACHE" --help
grep -q '^exit codes: 0 success' "$TMPD/out" || fail "--help lacks exit codes"
grep -q 'max_removed_percent' "$TMPD/out" || fail "--help lacks keys"
cp "$CONF" "$TMPD/conf.good"
printf 'colour = blue\n' >>"$CONF"
expect_rc 78 sc refresh
grep -q "^scim-cache: $CONF:10: unknown key 'colour'\$" "$TMPD/out" || fail "config error: $(cat "$TMPD/out")"
cp "$TMPD/conf.good" "$CONF"
chmod 0666 "$CONF"
expect_rc 78 sc refresh
chmod 0644 "$CONF"
expect_rc 78 "$SCIM_CACHE" --config "$TMPD/nonexistent.conf" refresh

# The token file: mode 0644, another owner, a symlink: refused before any
# request is made.
[ ! -e "$SNAP" ] || fail "snapshot exists too early"
chmod 0644 "$TMPD/token"
expect_rc 1 sc refresh
grep -q 'token file .* must not be accessible by group or others (mode 0644' "$TMPD/out" ||
	fail "token mode: $(cat "$TMPD/out")"
chmod 0600 "$TMPD/token"
chown +65534 "$TMPD/token"
expect_rc 1 sc refresh
grep -q 'token file .* must be owned by root' "$TMPD/out" || fail "token owner: $(cat "$TMPD/out")"
chown +0 "$TMPD/token"
ln -s "$TMPD/token" "$TMPD/token.link"
sed -i "s|^token_file = .*|token_file = $TMPD/token.link|" "$CONF"
expect_rc 1 sc refresh
grep -q 'is a symbolic link' "$TMPD/out" || fail "token symlink: $(cat "$TMPD/out")"
cp "$TMPD/conf.good" "$CONF"
[ ! -e "$SNAP" ] || fail "a refused token published something"
! grep -q ' /scim/' "$TMPD/emu.log" 2>/dev/null || fail "requests made without a valid token file"

expect_rc 0 sc refresh
cp "$SNAP" "$TMPD/snap.1"

# Mass removal: half of the people gone is refused (exit 2); --dry-run
# shows the diff without publishing; --force publishes.
cp "$DATA" "$TMPD/directory.full"
edit_data "$DATA" 'd["users"] = d["users"][:25]'
expect_rc 2 sc refresh
grep -q "^scim-cache: refresh refused: it would remove 25 of 50 people (50%), more than max_removed_percent 20%; kept snapshot generation 1 ($SNAP); --force publishes anyway\$" "$TMPD/out" ||
	fail "refusal line: $(cat "$TMPD/out")"
cmp "$SNAP" "$TMPD/snap.1" || fail "refused refresh changed the snapshot"
expect_rc 0 sc refresh --dry-run
grep -q '^- user .* (uid [0-9]*)$' "$TMPD/out" || fail "dry run: no removals: $(cat "$TMPD/out")"
[ "$(grep -c '^- user ' "$TMPD/out")" = 25 ] || fail "dry run: want 25 removals"
grep -q '^people: +0 -25 ~0 (renamed 0, uid changes 0)' "$TMPD/out" || fail "dry run summary: $(cat "$TMPD/out")"
grep -q 'a real refresh would be refused' "$TMPD/out" || fail "dry run: guard"
cmp "$SNAP" "$TMPD/snap.1" || fail "dry run changed the snapshot"
expect_rc 0 sc refresh --force
[ "$(snap_field people)" = 25 ] || fail "--force did not publish"
[ "$(snap_field generation)" = 2 ] || fail "--force: generation"
sc status --json | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
assert s["refreshes_total"]["refused"] == 1, s
' || fail "refusal not counted"

# Everyone back; then an empty directory is refused too.
put_data "$TMPD/directory.full" "$DATA"
expect_rc 0 sc refresh
[ "$(snap_field people)" = 50 ] || fail "people back"
cp "$SNAP" "$TMPD/snap.3"
edit_data "$DATA" 'd["users"] = []; d["groups"] = []'
expect_rc 2 sc refresh
grep -q 'refresh refused: the bridge lists no usable person' "$TMPD/out" || fail "empty: $(cat "$TMPD/out")"
cmp "$SNAP" "$TMPD/snap.3" || fail "empty directory changed the snapshot"
expect_rc 0 sc refresh --dry-run
put_data "$TMPD/directory.full" "$DATA"

# A dry run of a small change: added, changed, suspended, renamed.
edit_data "$DATA" '
d["users"][0]["active"] = False
d["users"][1]["userName"] = "renamed.person@example.com"
d["users"][2]["name"]["formatted"] = "New Gecos"
'
expect_rc 0 sc refresh --dry-run
grep -q '^~ user ana.rodriguez: suspended$' "$TMPD/out" || fail "dry run suspend: $(cat "$TMPD/out")"
grep -q '^~ user steven.thomas renamed to renamed.person (uid ' "$TMPD/out" || fail "dry run rename"
grep -q "^~ user hiroshi.patel: gecos 'Hiroshi Patel' -> 'New Gecos'\$" "$TMPD/out" || fail "dry run gecos"
cmp "$SNAP" "$TMPD/snap.3" || fail "dry run published"
put_data "$TMPD/directory.full" "$DATA"

# One refresh at a time: while the lock is held, a refresh waits
# lock_wait seconds and exits 75.
exec 9>"$STATE/lock"
flock -x 9
expect_rc 75 sc refresh
grep -q 'another refresh is running' "$TMPD/out" || fail "busy: $(cat "$TMPD/out")"
flock -u 9
exec 9>&-
expect_rc 0 sc refresh
cmp "$SNAP" "$TMPD/snap.3" || fail "refresh after busy changed the snapshot"

# lock: the person becomes inactive at once (new generation, no bridge
# needed), stays inactive over refreshes, and status lists the lock.
active=$(snap_field active)
expect_rc 0 sc lock ana.rodriguez
[ "$(snap_field generation)" = 4 ] || fail "lock did not republish"
[ "$(snap_field active)" = $((active - 1)) ] || fail "lock: still active"
getent passwd ana.rodriguez >/dev/null || fail "a locked person must resolve"
expect_rc 0 sc refresh
[ "$(snap_field active)" = $((active - 1)) ] || fail "refresh undid the lock"
sc status >"$TMPD/out"
grep -q '^  ana.rodriguez (FGS6JH4ONX22MW24IQLPFQE3EM)$' "$TMPD/out" || fail "status lacks the lock: $(cat "$TMPD/out")"
sc status --json | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
assert s["locks"] == [{"name": "ana.rodriguez", "scim_id": "FGS6JH4ONX22MW24IQLPFQE3EM", "holds": "ana.rodriguez"}], s
' || fail "status --json locks"
expect_rc 1 sc lock nosuch.person
grep -q 'no person named nosuch.person' "$TMPD/out" || fail "lock unknown: $(cat "$TMPD/out")"
expect_rc 0 sc unlock ana.rodriguez
[ "$(snap_field active)" = "$active" ] || fail "unlock: still inactive"
expect_rc 1 sc unlock ana.rodriguez
expect_rc 0 sc refresh
[ "$(snap_field active)" = "$active" ] || fail "refresh after unlock"
# A person suspended in 1Password stays inactive after an unlock.
expect_rc 0 sc lock sven.wright
expect_rc 0 sc unlock sven.wright
[ "$(snap_field active)" = "$active" ] || fail "unlock activated a suspended person"

# A damaged id map: the refresh refuses rather than renumber anyone.
cp "$STATE/ids" "$TMPD/ids.good"
cp "$SNAP" "$TMPD/snap.4"
echo "u garbage" >>"$STATE/ids"
expect_rc 1 sc refresh
grep -q 'the id map is damaged, refusing to run so that nobody.s number changes: .*ids: line [0-9]*: malformed line' "$TMPD/out" ||
	fail "damaged ids: $(cat "$TMPD/out")"
cmp "$SNAP" "$TMPD/snap.4" || fail "damaged ids changed the snapshot"
cp "$TMPD/ids.good" "$STATE/ids"
# A lost id map is rebuilt from the live snapshot: nobody renumbered.
rm "$STATE/ids"
expect_rc 0 sc refresh
grep -q 'the id map lacked 58 numbers; adopted them from the live snapshot (generation [0-9]*)' "$TMPD/out" ||
	fail "rebuilt ids: $(cat "$TMPD/out")"
grep -q 'refresh unchanged: generation [0-9]* ' "$TMPD/out" || fail "rebuilt ids renumbered: $(cat "$TMPD/out")"
cmp "$SNAP" "$TMPD/snap.4" || fail "rebuilding the id map changed the snapshot"
# Temporary files of a killed run are swept under the lock.
: >"$STATE/ids.tmp.AbC123"
: >"$STATE/status.json.tmp.xyzXYZ"
: >"$STATE/unrelated.tmp.AbC123"
expect_rc 0 sc refresh
[ ! -e "$STATE/ids.tmp.AbC123" ] && [ ! -e "$STATE/status.json.tmp.xyzXYZ" ] ||
	fail "leftovers not swept"
[ -e "$STATE/unrelated.tmp.AbC123" ] || fail "swept a file not ours"
rm "$STATE/unrelated.tmp.AbC123"
# A state directory others can read is refused.
chmod 0755 "$STATE"
expect_rc 1 sc refresh
grep -q 'must be a directory owned by uid 0 with mode 0700' "$TMPD/out" || fail "state mode: $(cat "$TMPD/out")"
chmod 0700 "$STATE"

# Missing directories are created: the snapshot's readable by all, the
# state's private.
sed -e "s|^cache_path = .*|cache_path = $TMPD/new/snap/cache.mdb|" \
	-e "s|^state_dir = .*|state_dir = $TMPD/new/lib/state|" "$CONF" >"$TMPD/new.conf"
expect_rc 0 "$SCIM_CACHE" --config "$TMPD/new.conf" refresh
[ "$(stat -c %a "$TMPD/new/snap")" = 755 ] || fail "snapshot dir mode"
[ "$(stat -c %a "$TMPD/new/lib")" = 755 ] || fail "state parent mode"
[ "$(stat -c %a "$TMPD/new/lib/state")" = 700 ] || fail "state dir mode"
NSS_SCIM_CACHE="$TMPD/new/snap/cache.mdb" getent passwd ana.rodriguez >/dev/null ||
	fail "snapshot in a created directory"

# --splay 0 and --syslog work; --quiet prints nothing on success.
expect_rc 0 sc --quiet refresh --splay 0
[ ! -s "$TMPD/out" ] || fail "--quiet printed: $(cat "$TMPD/out")"
expect_rc 0 sc --syslog refresh --splay 1
exit 0
