#!/bin/sh
# Every bridge fault the emulator can inject leaves the snapshot byte for byte as it
# was, lookups keep working, and the tool says in one line what failed and
# what it kept.  Faults the client is meant to survive (a 429 or 503 then
# success, quirky startIndex, groups listed without members, attribute
# names in other cases) give the same directory, so nothing is republished.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
tools_test "$@"

DATA="$TMPD/directory.json"
put_data "$EMU_DIR/sample-directory.json" "$DATA"
start_emulator emu "$DATA"
URL="http://127.0.0.1:$EMU_PORT/scim"
write_config "$URL" "page_size = 10"
ns_nsswitch "passwd: scim" "group: scim"

sc --quiet refresh || fail "first refresh"
cp "$SNAP" "$TMPD/snap.good"
getent passwd >"$TMPD/passwd.good"

# must_fail CODE WHAT: a refresh exits CODE, names WHAT in its one-line
# error, and leaves the snapshot and lookups as they were.
FAILED=0 SURVIVED=0
must_fail() {
	local want=$1 what=$2 rc=0
	FAILED=$((FAILED + 1))
	sc refresh 2>"$TMPD/out" || rc=$?
	[ "$rc" = "$want" ] || fail "$what: exit $rc, want $want: $(cat "$TMPD/out")"
	grep -q "^scim-cache: refresh failed: .*$what.*; kept snapshot generation 1 ($SNAP)\$" "$TMPD/out" ||
		fail "$what: error line: $(cat "$TMPD/out")"
	[ "$(grep -c 'refresh failed' "$TMPD/out")" = 1 ] || fail "$what: one line"
	cmp "$SNAP" "$TMPD/snap.good" || fail "$what: snapshot changed"
	getent passwd >"$TMPD/passwd.now"
	cmp "$TMPD/passwd.good" "$TMPD/passwd.now" || fail "$what: lookups changed"
	! grep -q "$(cat "$TMPD/token")" "$TMPD/out" || fail "$what: token printed"
}

# must_survive WHAT: a refresh succeeds with the same directory.
must_survive() {
	local what=$1
	SURVIVED=$((SURVIVED + 1))
	sc refresh 2>"$TMPD/out" || fail "$what: $(cat "$TMPD/out")"
	grep -q 'refresh unchanged: generation 1 ' "$TMPD/out" ||
		fail "$what: $(cat "$TMPD/out")"
	cmp "$SNAP" "$TMPD/snap.good" || fail "$what: snapshot changed"
}

# A 500 on page 3, every time.
set_faults emu "status:500:/scim/Users?startIndex=21:1+"
must_fail 1 "HTTP 500"
# A 500 once on page 2: the retry succeeds.
set_faults emu "status:500:/scim/Users?startIndex=11:1"
must_survive "one 500"
# 429 with Retry-After, then success; then retries exhausted.
set_faults emu "retry-after:1:1"
must_survive "429 once"
grep -q ' 429$' "$TMPD/emu.log" || fail "the emulator sent no 429"
set_faults emu "retry-after:1:10"
must_fail 1 "HTTP 429"
set_faults emu "unavailable:1:1"
must_survive "503 once"
set_faults emu "unavailable:@1:10"
must_fail 1 "HTTP 503"
# Truncated and invalid bodies; the connection dropping mid-body.
set_faults emu "truncate:/scim/Users?startIndex=31:*"
must_fail 1 "startIndex=31"
set_faults emu "badjson:/scim/Groups:*"
must_fail 1 "invalid JSON"
# totalResults that lies either way, aligned to a page or not.
set_faults emu "lie-total:5"
must_fail 1 "listing ended after 50 of 55"
set_faults emu "lie-total:-5"
must_fail 1 "totalResults is 45"
set_faults emu "lie-total:-10"
must_fail 1 "totalResults is 40"
# A server that ignores startIndex (every page is page one).
set_faults emu "repeat-page"
must_fail 1 "repeated resources"
# Quirks that a careful client survives.
set_faults emu "past-end-first-page"
must_survive "past-end-first-page"
set_faults emu "startindex-zero"
must_survive "startindex-zero"
set_faults emu "no-members"
must_survive "no-members"
grep -q '^GET /scim/Groups/[a-z0-9]* 200$' "$TMPD/emu.log" ||
	fail "groups without members were not fetched by id"
set_faults emu "case"
must_survive "case"
set_faults emu "no-members" "status:500:/scim/Groups/:*"
must_fail 1 "HTTP 500"
set_faults emu "auth-500"
must_fail 1 "HTTP 500"
# A redirect is never followed (the token stays with the configured host).
set_faults emu "status:302:/scim/Users:*"
must_fail 1 "HTTP 302 (redirects are not followed)"
set_faults emu

# 401: a token the bridge does not know.
printf 'not-the-token\n' >"$TMPD/badtoken"
chmod 0600 "$TMPD/badtoken"
cp "$CONF" "$TMPD/conf.good"
sed -i "s|^token_file = .*|token_file = $TMPD/badtoken|" "$CONF"
must_fail 1 "HTTP 401 (the bridge rejected the token)"
rc=0; sc check >"$TMPD/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q '^scim-cache: check failed: GET /health: HTTP 401 (the bridge rejected the token)' "$TMPD/out" ||
	fail "check with a bad token: $(cat "$TMPD/out")"
cp "$TMPD/conf.good" "$CONF"

# A timeout: the bridge takes 5 s, the client waits 2 s.
echo "timeout = 2" >>"$CONF"
set_faults emu "slow:5"
must_fail 1 "timed out"
set_faults emu
cp "$TMPD/conf.good" "$CONF"

# Nobody listening.
"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' >"$TMPD/freeport"
sed -i "s|^url = .*|url = http://127.0.0.1:$(cat "$TMPD/freeport")/scim|" "$CONF"
must_fail 1 "cannot connect"
rc=0; sc check >"$TMPD/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q '^scim-cache: check failed: GET /health: cannot connect' "$TMPD/out" ||
	fail "check with nobody listening: $(cat "$TMPD/out")"
cp "$TMPD/conf.good" "$CONF"

sc check >"$TMPD/out" 2>&1 || fail "check: $(cat "$TMPD/out")"
grep -q '^token accepted: 50 people listed at ' "$TMPD/out" || fail "check: $(cat "$TMPD/out")"

# A snapshot directory that another user could write to: root would write
# there through whatever names they swap in.  Refused, nothing written.
chmod 0775 "$TMPD/snap"
rc=0; sc refresh 2>"$TMPD/out" || rc=$?
[ "$rc" = 1 ] && grep -q "^scim-cache: refresh failed: $TMPD/snap is writable by group or others; refusing to write below it; " "$TMPD/out" ||
	fail "group-writable snapshot directory: exit $rc: $(cat "$TMPD/out")"
cmp "$SNAP" "$TMPD/snap.good" || fail "the snapshot changed"
[ "$(ls -A "$TMPD/snap")" = cache.mdb ] || fail "files left: $(ls -A "$TMPD/snap")"
chmod 0755 "$TMPD/snap"

# The status file records the failures; the next good refresh succeeds.
sc status --json | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
assert s["refreshes_total"]["failure"] >= 10, s
assert s["http_errors_total"]["500"] >= 1, s
' || fail "status counters"
sc refresh 2>"$TMPD/out" || fail "recovery: $(cat "$TMPD/out")"
cmp "$SNAP" "$TMPD/snap.good" || fail "recovery changed the snapshot"
# The README's figure: 22 bridge faults, each leaving the snapshot byte
# for byte (15 refused, 7 survived with the same directory).
[ "$FAILED" = 15 ] && [ "$SURVIVED" = 7 ] ||
	fail "$FAILED faults refused and $SURVIVED survived, want 15 and 7"
echo "$((FAILED + SURVIVED)) bridge faults: $FAILED refused, $SURVIVED survived; the snapshot kept byte for byte each time"
exit 0
