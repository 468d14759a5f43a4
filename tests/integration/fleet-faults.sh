#!/bin/sh
# Fleet mode's refusals, for storage that holds the bundle alone (as a
# source of an older version writes it; fleet-manifest.sh holds each rule
# for a manifest).  A fleet host holds a good snapshot from a signed
# bundle served by nginx; then the bundle is tampered with, signed by
# another key, replayed from an older generation, expired, truncated,
# missing (404), failing (500), or served over TLS by a CA the host does
# not know.  Each is refused with one line naming what went wrong and what
# was kept, and the snapshot stays byte for byte.  Then: an unchanged
# directory is re-confirmed hourly, on the source and on the fleet.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
command -v openssl >/dev/null || skip_missing openssl
tools_test "$@"
. "$top_srcdir/tests/helpers/fleet-lib.sh" || exit 99

DATA="$TMPD/directory.json"
put_data "$EMU_DIR/sample-directory.json" "$DATA"
start_emulator bridge "$DATA"
make_keys fleet
make_keys other
B="$WWW/nss-scim.bundle"
write_config "http://127.0.0.1:$EMU_PORT/scim" "bundle_file = $B" \
	"bundle_key = $TMPD/fleet.key"
sc --quiet refresh || fail "source refresh"
cp -p "$B" "$TMPD/gen1.bundle"

start_nginx
fleet_config 1 "$NGINX_URL/nss-scim.bundle" "$TMPD/fleet.pub"
host 1 --quiet refresh || fail "first fleet refresh"
# A second generation, applied, so that the first is a replay.
edit_data "$DATA" 'd["users"][0]["name"]["formatted"] = "Ana R."'
sc --quiet refresh || fail "second source refresh"
cp -p "$B" "$TMPD/gen2.bundle"
host 1 --quiet refresh || fail "second fleet refresh"
SNAP1="$TMPD/host.1/cache.mdb"
cp "$SNAP1" "$TMPD/snap.good"
old_source
GEN2=$(sed -n 's/^generation \([0-9]*\)$/\1/p' "$TMPD/gen2.bundle")
MTIME=$(date +%s)

# serve FILE: puts FILE where the fleet host looks, with a new mtime (so
# that nginx's ETag changes even when the size does not).
serve() {
	MTIME=$((MTIME + 10))
	cp "$1" "$B.tmp"
	touch -d "@$MTIME" "$B.tmp"
	mv "$B.tmp" "$B"
}

# refused WHAT [COMMAND...]: fleet host 1's refresh (or COMMAND) fails
# with exit 1 and one line naming WHAT; the snapshot is unchanged.
refused() {
	local what=$1
	shift
	if [ $# -eq 0 ]; then set -- host 1 refresh; fi
	expect_refused "$what" "$SNAP1" "$TMPD/snap.good" "$GEN2" "$@"
}

# One byte changed: a uid digit in the first person's line.
"$PY" - "$TMPD/gen2.bundle" "$TMPD/tampered.bundle" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b"\nP\t") + 3
i = b.index(b"\t", i) + 1          # the uid
b[i + 3] = ord("0") + (b[i + 3] - ord("0") + 1) % 10
open(sys.argv[2], "wb").write(b)
EOF
serve "$TMPD/tampered.bundle"
refused "the signature does not match: the bundle was altered"

# Signed by another key: the same directory from a second source host.
mkdir -m 0755 "$TMPD/other"
{
	echo "url = http://127.0.0.1:$EMU_PORT/scim"
	echo "token_file = $TMPD/token"
	echo "cache_path = $TMPD/other/cache.mdb"
	echo "state_dir = $TMPD/other/state"
	echo "local_passwd = $LOCAL_PASSWD"
	echo "local_group = $LOCAL_GROUP"
	echo "bundle_file = $TMPD/other/nss-scim.bundle"
	echo "bundle_key = $TMPD/other.key"
} >"$TMPD/other.conf"
"$SCIM_CACHE" --config "$TMPD/other.conf" --quiet refresh || fail "other source"
serve "$TMPD/other/nss-scim.bundle"
refused "signed by key [0-9a-f]*, not by verify_key"

serve "$TMPD/gen1.bundle"
refused "is older than generation $GEN2, already applied (a replayed or rolled-back bundle)"

head -c "$(($(wc -c <"$TMPD/gen2.bundle") / 2))" "$TMPD/gen2.bundle" >"$TMPD/half.bundle"
serve "$TMPD/half.bundle"
refused "no signature at the end (truncated, or not a bundle)"

: >"$TMPD/empty.bundle"
serve "$TMPD/empty.bundle"
refused "no signature at the end"

rm -f "$B"
refused "GET /nss-scim.bundle: HTTP 404"

# The good bundle again, but eight days later: past its valid-until.
serve "$TMPD/gen2.bundle"
if can_fake_time; then
	[ -n "$LIBFAKETIME" ] || skip_missing "libfaketime (Debian's faketime)"
	refused "bundle generation $GEN2 expired at " in_future +8d host 1 refresh
fi
# Even when the server says it is not modified.
host 1 --quiet refresh || fail "refresh after the faults"
cmp -s "$SNAP1" "$TMPD/snap.good" || fail "the same bundle changed the snapshot"
if can_fake_time; then
	refused "the source's bundle (generation $GEN2) expired at .* is the source host refreshing?" \
		in_future +8d host 1 refresh
else
	echo "expiry: not checked in a sanitized build (libfaketime deadlocks with ASan)"
fi

fleet_config 1 "$NGINX_URL/fail500.bundle" "$TMPD/fleet.pub"
refused "GET /fail500.bundle: HTTP 500"

# TLS: nginx with a certificate from a CA of the test's.
make_ca ca
make_server_cert ca
start_nginx "$TMPD/srv.pem" "$TMPD/srv.key"
fleet_config 1 "$NGINX_URL/nss-scim.bundle" "$TMPD/fleet.pub"
refused "TLS failure"
fleet_config 1 "$NGINX_URL/nss-scim.bundle" "$TMPD/fleet.pub" "ca_file = $TMPD/ca.pem"
host 1 --quiet refresh || fail "the bundle over TLS with ca_file"
echo "ok: over TLS with the test CA in ca_file"
# Republished: the snapshot names its new source.
cp "$SNAP1" "$TMPD/snap.good"

# Keys a host must not trust, and configs that mix modes.
chmod 0666 "$TMPD/fleet.pub"
refused "public key $TMPD/fleet.pub must not be writable by group or others"
chmod 0644 "$TMPD/fleet.pub"
chmod 0644 "$TMPD/fleet.key"
write_config "http://127.0.0.1:$EMU_PORT/scim" "bundle_file = $B" \
	"bundle_key = $TMPD/fleet.key"
rc=0
sc refresh >"$TMPD/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "private key $TMPD/fleet.key must not be accessible by group or others" "$TMPD/out" ||
	fail "a readable private key: exit $rc: $(cat "$TMPD/out")"
chmod 0600 "$TMPD/fleet.key"
fleet_config 2 "$NGINX_URL/nss-scim.bundle" "$TMPD/fleet.pub" "url = http://127.0.0.1:1/scim"
rc=0
host 2 refresh >"$TMPD/out" 2>&1 || rc=$?
[ "$rc" = 78 ] && grep -q "source and url exclude each other" "$TMPD/out" ||
	fail "source with url: exit $rc: $(cat "$TMPD/out")"
sc keygen "$TMPD/fleet.key" "$TMPD/new.pub" >"$TMPD/out" 2>&1 && fail "keygen replaced a key"
grep -q "exists; a key is never replaced" "$TMPD/out" || fail "keygen: $(cat "$TMPD/out")"
echo "ok: unsafe keys and mixed modes refused"

# ---- re-confirmation ---------------------------------------------------
can_fake_time || {
	skip "expiry and re-confirmation not checked in a sanitized build (libfaketime deadlocks with ASan); the other refusals passed"
}
# An hour later, with nothing changed, the source re-signs its manifest
# (the bundle stays byte for byte) and republishes its snapshot, so that
# the fleet's snapshots are not older than the bridge's last listing (what
# pam_scim's max_age reads).
fleet_config 1 "$NGINX_URL/nss-scim.bundle" "$TMPD/fleet.pub" "ca_file = $TMPD/ca.pem"
sc --quiet refresh || fail "source refresh"
host 1 --quiet refresh || fail "fleet refresh from the manifest"
cp -p "$B" "$TMPD/before.bundle"
cp -p "$B.manifest" "$TMPD/before.manifest"
src_gen=$(snap_field generation)
in_future +2h sc --quiet refresh || fail "source refresh two hours on"
[ "$(snap_field generation)" -gt "$src_gen" ] || fail "the source did not republish an hour-old snapshot"
cmp -s "$B.manifest" "$TMPD/before.manifest" && fail "the source did not re-sign an hour-old manifest"
cmp -s "$B" "$TMPD/before.bundle" || fail "re-confirmation rewrote the bundle"
created1=$(host 1 status --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["snapshot"]["created"])')
in_future +2h host 1 --quiet refresh || fail "fleet refresh two hours on"
created2=$(host 1 status --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["snapshot"]["created"])')
[ "$created2" -gt "$created1" ] || fail "the fleet host kept an older creation time ($created1, $created2)"
echo "ok: an unchanged directory is re-confirmed hourly, on the source and the fleet"
