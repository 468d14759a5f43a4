#!/bin/sh
# The manifest beside the bundle.  Two hours on, with nothing changed, the
# source re-signs only the manifest (the bundle stays byte for byte), and
# a fleet host re-confirms its snapshot from the manifest alone: nginx's
# log shows no GET of the bundle, and the snapshot's creation time (what
# pam_scim's max_age reads) is the manifest's.  Then every refusal of a
# bundle holds for a manifest: altered, truncated, signed by another key,
# replayed from an older generation, the held generation with other
# content (signed by the fleet's key), expired, expired behind a 304, and
# naming a bundle storage does not have; each is one line, and the
# snapshot stays byte for byte.
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
M="$B.manifest"
write_config "http://127.0.0.1:$EMU_PORT/scim" "bundle_file = $B" \
	"bundle_key = $TMPD/fleet.key"
start_nginx
fleet_config 1 "$NGINX_URL/nss-scim.bundle" "$TMPD/fleet.pub"
SNAP1="$TMPD/host.1/cache.mdb"
field() { sed -n "s/^$1 \\([0-9]*\\)\$/\\1/p" "$2"; }
created() {
	host 1 status --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["snapshot"]["created"])'
}

sc --quiet refresh || fail "source refresh"
head -n 1 "$M" | grep -qx 'nss-scim-manifest 1' || fail "manifest header: $(head -n 1 "$M")"
grep -q "^bundle $(sha256sum "$B" | cut -c1-64) $(stat -c %s "$B")\$" "$M" ||
	fail "the manifest does not name the bundle: $(cat "$M")"
[ "$(stat -c %a "$M")" = 644 ] || fail "manifest mode $(stat -c %a "$M")"
host 1 --quiet refresh || fail "first fleet refresh"

# ---- re-confirmation by the manifest alone ------------------------------
if can_fake_time && [ -n "$LIBFAKETIME" ]; then
	cp -p "$B" "$TMPD/before.bundle"
	cp "$M" "$TMPD/before.manifest"
	# Its predecessor's mtime a day ahead: whatever the clock says, the
	# next manifest must still land past it.
	touch -d "@$(($(date +%s) + 86400))" "$M"
	m1=$(stat -c %Y "$M")
	c1=$(created)
	in_future +2h sc --quiet refresh || fail "source refresh two hours on"
	cmp -s "$B" "$TMPD/before.bundle" || fail "re-confirmation rewrote the bundle"
	cmp -s "$M" "$TMPD/before.manifest" && fail "re-confirmation did not re-sign the manifest"
	# nginx's validators are the mtime in seconds and the size: a
	# manifest of the same size re-signed within the same second must
	# still differ in them, or the hosts' conditional GET stays a 304.
	[ "$(stat -c %Y "$M")" -gt "$m1" ] ||
		fail "the re-signed manifest's mtime ($(stat -c %Y "$M")) is not past its predecessor's ($m1)"
	[ "$(field generation "$M")" -gt "$(field generation "$TMPD/before.manifest")" ] ||
		fail "the re-signed manifest kept its generation"
	n=$(wc -l <"$NGINX_LOG")
	in_future +2h host 1 --quiet refresh || fail "fleet refresh two hours on"
	tail -n +$((n + 1)) "$NGINX_LOG" >"$TMPD/log"
	grep -q '^GET /nss-scim.bundle.manifest 200 ' "$TMPD/log" || fail "no manifest: $(cat "$TMPD/log")"
	grep -q '^GET /nss-scim.bundle ' "$TMPD/log" && fail "re-confirmation downloaded the bundle: $(cat "$TMPD/log")"
	c2=$(created)
	[ "$c2" = "$(field created "$M")" ] || fail "the snapshot's creation time $c2 is not the manifest's"
	[ "$c2" -gt "$c1" ] || fail "the snapshot was not re-confirmed ($c1, $c2)"
	echo "ok: the manifest alone re-confirms: no bundle GET, snapshot created $c2"
	# The same manifest again: a 304.
	n=$(wc -l <"$NGINX_LOG")
	in_future +2h host 1 --quiet refresh || fail "fleet refresh, unchanged manifest"
	tail -n +$((n + 1)) "$NGINX_LOG" | grep -q '^GET /nss-scim.bundle.manifest 304 ' ||
		fail "an unchanged manifest was not a 304"
else
	echo "re-confirmation: not checked in a sanitized build (libfaketime deadlocks with ASan)"
fi

# A second generation, applied, so that the first is a replay.
cp "$M" "$TMPD/gen1.manifest"
edit_data "$DATA" 'd["users"][0]["name"]["formatted"] = "Ana R."'
sc --quiet refresh || fail "second source refresh"
host 1 --quiet refresh || fail "second fleet refresh"
cp "$M" "$TMPD/gen2.manifest"
cp "$SNAP1" "$TMPD/snap.good"
GEN2=$(field generation "$M")
MTIME=$(date +%s)

# serve FILE: FILE as the manifest, with a new mtime (so that nginx's ETag
# changes even when the size does not).
serve() {
	MTIME=$((MTIME + 10))
	cp "$1" "$M.tmp"
	touch -d "@$MTIME" "$M.tmp"
	mv "$M.tmp" "$M"
}
refused() {
	local what=$1
	shift
	if [ $# -eq 0 ]; then set -- host 1 refresh; fi
	expect_refused "$what" "$SNAP1" "$TMPD/snap.good" "$GEN2" "$@"
}
# body FILE OUT [SED]: FILE's signed part (all but the signature line),
# edited by SED.
body() { sed '$d' "$1" | sed "${3:-}" >"$2"; }

sed 's/^created \([0-9]\)/created 1\1/' "$TMPD/gen2.manifest" >"$TMPD/altered"
serve "$TMPD/altered"
refused "manifest /nss-scim.bundle.manifest: the signature does not match"

head -c 100 "$TMPD/gen2.manifest" >"$TMPD/half"
serve "$TMPD/half"
refused "manifest /nss-scim.bundle.manifest: no signature at the end (truncated"

body "$TMPD/gen2.manifest" "$TMPD/body"
sign_text "$TMPD/body" "$TMPD/other.manifest" other
serve "$TMPD/other.manifest"
refused "manifest /nss-scim.bundle.manifest: signed by key [0-9a-f]*, not by verify_key"

serve "$TMPD/gen1.manifest"
refused "bundle generation [0-9]* is older than generation $GEN2, already applied (a replayed or rolled-back bundle)"

# The held generation naming other content, signed by the fleet's key.
body "$TMPD/gen2.manifest" "$TMPD/body" \
	"s/^bundle [0-9a-f]* /bundle $(printf '%064d' 0) /"
sign_text "$TMPD/body" "$TMPD/forged.manifest" fleet
serve "$TMPD/forged.manifest"
refused "bundle generation $GEN2 repeats with other content; refusing it"

# A newer manifest naming a bundle storage does not have (yet); the host
# holds no base, so it needs the bundle.
body "$TMPD/gen2.manifest" "$TMPD/body" \
	"s/^generation .*/generation $((GEN2 + 1))/; s/^bundle [0-9a-f]* /bundle $(printf '%064d' 1) /"
sign_text "$TMPD/body" "$TMPD/missing.manifest" fleet
serve "$TMPD/missing.manifest"
mv "$TMPD/host.1/state/fleet-base" "$TMPD/base.saved"
mv "$B" "$TMPD/bundle.saved"
refused "the manifest names /nss-scim.bundle, which storage does not have (yet"
mv "$TMPD/bundle.saved" "$B"
refused "bundle /nss-scim.bundle does not match the manifest"
mv "$TMPD/base.saved" "$TMPD/host.1/state/fleet-base"

serve "$TMPD/gen2.manifest"
host 1 --quiet refresh || fail "refresh with the good manifest again"
cmp -s "$SNAP1" "$TMPD/snap.good" || fail "the same manifest changed the snapshot"
if can_fake_time && [ -n "$LIBFAKETIME" ]; then
	# Past valid-until: a new manifest, and the held one behind a 304.
	serve "$TMPD/gen2.manifest"
	refused "bundle generation $GEN2 expired at " in_future +8d host 1 refresh
	host 1 --quiet refresh || fail "refresh before expiry"
	refused "the source's bundle (generation $GEN2) expired at .* is the source host refreshing?" \
		in_future +8d host 1 refresh
else
	echo "expiry: not checked in a sanitized build (libfaketime deadlocks with ASan)"
fi
exit 0
