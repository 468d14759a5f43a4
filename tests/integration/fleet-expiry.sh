#!/bin/sh
# A bundle's valid-until, at the second.  With the wall clock frozen
# (libfaketime) one second before the bundle's valid-until a fleet host
# applies it, and at valid-until exactly it refuses it, both for a new
# download and for the one it holds when the storage answers 304, keeping
# its snapshot byte for byte.  Not in a sanitized build: libfaketime and
# the ASan runtime deadlock at start-up, so it exits 77 there.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
tools_test "$@"
. "$top_srcdir/tests/helpers/fleet-lib.sh" || exit 99
can_fake_time || skip "libfaketime cannot run in a sanitized build"
[ -n "$LIBFAKETIME" ] || skip_missing "libfaketime (Debian's faketime)"

DATA="$TMPD/directory.json"
put_data "$EMU_DIR/sample-directory.json" "$DATA"
start_emulator bridge "$DATA"
make_keys fleet
B="$WWW/nss-scim.bundle"
write_config "http://127.0.0.1:$EMU_PORT/scim" "bundle_file = $B" \
	"bundle_key = $TMPD/fleet.key" "bundle_valid = 3600"
sc --quiet refresh || fail "source refresh"
start_nginx
fleet_config 1 "$NGINX_URL/nss-scim.bundle" "$TMPD/fleet.pub"
SNAP1="$TMPD/host.1/cache.mdb"
until=$(sed -n 's/^valid-until \([0-9]*\)$/\1/p' "$B")
created=$(sed -n 's/^created \([0-9]*\)$/\1/p' "$B")
[ "$until" = $((created + 3600)) ] || fail "valid-until $until, created $created"

# at SECONDS COMMAND...: COMMAND with the wall clock frozen at SECONDS
# since the epoch (an absolute FAKETIME without "@" does not advance).
at() {
	local t=$1
	shift
	LD_PRELOAD="$LIBFAKETIME" FAKETIME="$(date -u -d "@$t" '+%Y-%m-%d %H:%M:%S')" \
		TZ=UTC DONT_FAKE_MONOTONIC=1 "$@"
}
expect_rc() {
	local want=$1 rc=0
	shift
	"$@" >"$TMPD/out" 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "$*: exit $rc, want $want: $(cat "$TMPD/out")"
}
at "$until" date +%s >"$TMPD/now"
[ "$(cat "$TMPD/now")" = "$until" ] || fail "libfaketime does not freeze the clock: $(cat "$TMPD/now")"

# A new download: at valid-until it is refused, a second before applied.
expect_rc 1 at "$until" "$SCIM_CACHE" --config "$HOST_CONF" refresh
grep -q "refresh failed: bundle generation [0-9]* expired at " "$TMPD/out" ||
	fail "at valid-until: $(cat "$TMPD/out")"
[ ! -e "$SNAP1" ] || fail "an expired bundle was published"
expect_rc 0 at $((until - 1)) "$SCIM_CACHE" --config "$HOST_CONF" refresh
cp "$SNAP1" "$TMPD/snap.good"
echo "ok: a new bundle: applied at valid-until - 1 s, refused at valid-until"

# The held bundle behind a 304: the same edge.
expect_rc 0 at $((until - 1)) "$SCIM_CACHE" --config "$HOST_CONF" refresh
grep -q 'not modified at the source' "$TMPD/out" || fail "no 304 at valid-until - 1 s: $(cat "$TMPD/out")"
expect_rc 1 at "$until" "$SCIM_CACHE" --config "$HOST_CONF" refresh
grep -q "refresh failed: the source's bundle (generation [0-9]*) expired at .* is the source host refreshing?" "$TMPD/out" ||
	fail "304 at valid-until: $(cat "$TMPD/out")"
cmp -s "$SNAP1" "$TMPD/snap.good" || fail "the expired 304 changed the snapshot"
echo "ok: the held bundle behind a 304: unchanged at valid-until - 1 s, refused at valid-until"
exit 0
