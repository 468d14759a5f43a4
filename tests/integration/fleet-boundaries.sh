#!/bin/sh
# Fleet mode at its edges:
#   - the mass-removal guard on the source host and on a fleet host:
#     exactly max_removed_percent of the people removed goes through, one
#     person more is refused (exit 2) on each, keeping the snapshot (and,
#     on the source, the bundle) byte for byte;
#   - a bundle that repeats the generation a fleet host holds with other
#     content, properly signed by the fleet's key, is refused; the same
#     bundle again is accepted as unchanged.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
command -v openssl >/dev/null || skip_missing openssl
tools_test "$@"
. "$top_srcdir/tests/helpers/fleet-lib.sh" || exit 99

DATA="$TMPD/directory.json"
put_data "$EMU_DIR/sample-directory.json" "$DATA"
cp "$DATA" "$TMPD/full.json"
start_emulator bridge "$DATA"
make_keys fleet
B="$WWW/nss-scim.bundle"
write_config "http://127.0.0.1:$EMU_PORT/scim" "bundle_file = $B" \
	"bundle_key = $TMPD/fleet.key"
start_nginx
fleet_config 1 "$NGINX_URL/nss-scim.bundle" "$TMPD/fleet.pub"
SNAP1="$TMPD/host.1/cache.mdb"

expect_rc() {
	local want=$1 rc=0
	shift
	"$@" >"$TMPD/out" 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "$*: exit $rc, want $want: $(cat "$TMPD/out")"
}
# people SNAP: the people a snapshot holds, through glibc.
people() { NSS_SCIM_CACHE=$1 getent passwd | wc -l; }
ns_nsswitch "passwd: scim" "group: scim"

expect_rc 0 sc refresh
expect_rc 0 host 1 refresh
[ "$(people "$SNAP1")" = 50 ] || fail "fleet host: $(people "$SNAP1") people"

# ---- the guard at its edge, on the source and on a fleet host ----------
# Exactly 20% (10 of 50): both publish.
edit_data "$DATA" 'd["users"] = d["users"][10:]'
expect_rc 0 sc refresh
[ "$(people "$SNAP")" = 40 ] || fail "source: removing 10 of 50 was not published"
expect_rc 0 host 1 refresh
[ "$(people "$SNAP1")" = 40 ] || fail "fleet: removing 10 of 50 was not applied"
echo "ok: 10 of 50 (20%) removed: published on the source and the fleet host"
put_data "$TMPD/full.json" "$DATA"
expect_rc 0 sc refresh
expect_rc 0 host 1 refresh
[ "$(people "$SNAP1")" = 50 ] || fail "fleet: back to 50"

# 11 of 50: the source refuses, and leaves its bundle alone.
cp "$SNAP" "$TMPD/src.snap"
cp "$B" "$TMPD/src.bundle"
edit_data "$DATA" 'd["users"] = d["users"][11:]'
expect_rc 2 sc refresh
grep -q 'refresh refused: it would remove 11 of 50 people (22%), more than max_removed_percent 20%' "$TMPD/out" ||
	fail "source refusal: $(cat "$TMPD/out")"
cmp -s "$SNAP" "$TMPD/src.snap" || fail "the source's refused refresh changed its snapshot"
cmp -s "$B" "$TMPD/src.bundle" || fail "the source's refused refresh rewrote the bundle"
echo "ok: 11 of 50 removed: refused on the source, bundle untouched"
# Forced on the source; the fleet host applies its own guard.
expect_rc 0 sc refresh --force
cmp -s "$B" "$TMPD/src.bundle" && fail "--force on the source did not write the bundle"
cp "$SNAP1" "$TMPD/fleet.snap"
expect_rc 2 host 1 refresh
grep -q 'refresh refused: it would remove 11 of 50 people (22%), more than max_removed_percent 20%' "$TMPD/out" ||
	fail "fleet refusal: $(cat "$TMPD/out")"
cmp -s "$SNAP1" "$TMPD/fleet.snap" || fail "the fleet host's refused refresh changed its snapshot"
# Refused again on the next run: the refusal is not remembered as applied.
# This time without the bundle it holds, so the host reads the whole new
# bundle and rebuilds instead of patching: the guard holds on both paths.
rm -f "$TMPD/host.1/state/fleet-base"
expect_rc 2 host 1 refresh
grep -q 'refresh refused: it would remove 11 of 50 people (22%), more than max_removed_percent 20%' "$TMPD/out" ||
	fail "fleet refusal from the whole bundle: $(cat "$TMPD/out")"
cmp -s "$SNAP1" "$TMPD/fleet.snap" || fail "the second refused refresh changed the snapshot"
expect_rc 0 host 1 refresh --force
[ "$(people "$SNAP1")" = 39 ] || fail "fleet --force: $(people "$SNAP1") people"
echo "ok: 11 of 50 removed: refused on the fleet host until --force"
put_data "$TMPD/full.json" "$DATA"
expect_rc 0 sc refresh
expect_rc 0 host 1 refresh
[ "$(people "$SNAP1")" = 50 ] || fail "fleet: back to 50 again"

# ---- the same generation with other content ----------------------------
# The fleet's key signs a bundle with the held generation and one name
# changed: a source host that lost its state, or a forged copy signed with
# a stolen key, must not rewrite what the fleet holds under that number.
# Storage holds the bundle alone, as a source of an older version writes
# it (fleet-manifest.sh holds the same rule for a manifest).
old_source
cp "$SNAP1" "$TMPD/fleet.snap"
cp -p "$B" "$TMPD/held.bundle"
gen=$(sed -n 's/^generation \([0-9]*\)$/\1/p' "$B")
"$PY" - "$TMPD/held.bundle" "$TMPD/body" <<'EOF' || fail "cutting the bundle"
import sys
b = open(sys.argv[1], "rb").read()
i = b.rindex(b"\nsignature ") + 1
body = b[:i]
assert body.count(b"Ana Rodriguez") >= 1
open(sys.argv[2], "wb").write(body.replace(b"Ana Rodriguez", b"Ana Forged", 1))
EOF
openssl pkeyutl -sign -inkey "$TMPD/fleet.key" -rawin -in "$TMPD/body" \
	-out "$TMPD/sig" 2>"$TMPD/openssl.err" || fail "openssl: $(cat "$TMPD/openssl.err")"
keyid=$(sed -n 's/^signature ed25519 \([0-9a-f]*\) .*/\1/p' "$TMPD/held.bundle")
{
	cat "$TMPD/body"
	printf 'signature ed25519 %s %s\n' "$keyid" "$(base64 -w0 "$TMPD/sig")"
} >"$TMPD/forged.bundle"
grep -q "^generation $gen\$" "$TMPD/forged.bundle" || fail "forged bundle: generation"
cp "$TMPD/forged.bundle" "$B.tmp"
touch -d "@$(($(date +%s) + 10))" "$B.tmp"
mv "$B.tmp" "$B"
expect_rc 1 host 1 refresh
grep -q "refresh failed: bundle generation $gen repeats with other content; refusing it; kept snapshot generation $gen ($SNAP1)\$" "$TMPD/out" ||
	fail "same generation, other content: $(cat "$TMPD/out")"
cmp -s "$SNAP1" "$TMPD/fleet.snap" || fail "the repeated generation changed the snapshot"
[ "$(NSS_SCIM_CACHE=$SNAP1 getent passwd ana.rodriguez | cut -d: -f5)" = "Ana Rodriguez" ] ||
	fail "the forged name was published"
echo "ok: a signed bundle repeating generation $gen with other content is refused"
# The held bundle again (same generation, same content) is accepted.
cp "$TMPD/held.bundle" "$B.tmp"
touch -d "@$(($(date +%s) + 20))" "$B.tmp"
mv "$B.tmp" "$B"
expect_rc 0 host 1 refresh
cmp -s "$SNAP1" "$TMPD/fleet.snap" || fail "the same bundle again changed the snapshot"
echo "ok: the same generation with the same content is taken as unchanged"
exit 0
