#!/bin/sh
# Re-confirmation without a rebuild.  When the manifest a fleet host
# downloads names the very bundle its snapshot was made from, under the
# same local rules, and the snapshot is still the file it published, the
# host republishes that snapshot with only the meta record's generation
# and time changed: it reads no bundle (its base may even be gone, and
# nginx's log shows no GET of one), yet its snapshot is byte-identical to
# one a host builds from the full bundle, and its messages are a
# rebuild's.  A snapshot altered after it was published, or other local
# files, make it rebuild.  A refusal on that path (a replayed manifest,
# an expired one) and a refresh killed while republishing keep the
# snapshot byte for byte.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
command -v openssl >/dev/null || skip_missing openssl
tools_test "$@"
. "$top_srcdir/tests/helpers/fleet-lib.sh" || exit 99
can_fake_time && [ -n "$LIBFAKETIME" ] ||
	skip "needs libfaketime (Debian's faketime), and no sanitizers"

DATA="$TMPD/directory.json"
put_data "$EMU_DIR/sample-directory.json" "$DATA"
start_emulator bridge "$DATA"
make_keys fleet
B="$WWW/nss-scim.bundle"
M="$B.manifest"
write_config "http://127.0.0.1:$EMU_PORT/scim" "bundle_file = $B" \
	"bundle_key = $TMPD/fleet.key"
start_nginx
SRC="$NGINX_URL/nss-scim.bundle"
# Host 3's local passwd file, which later gains a person of the bundle.
cp "${LOCAL_PASSWD:-/etc/passwd}" "$TMPD/passwd.3"

mark() { wc -l <"$NGINX_LOG"; }
since() { tail -n +$(($1 + 1)) "$NGINX_LOG"; }
# run_at OFFSET N OUT: host N refreshes with the clock OFFSET on; its
# messages go to OUT with the run time set aside.
run_at() {
	local rc=0
	in_future "$1" "$SCIM_CACHE" --config "$TMPD/host.$2/scim.conf" \
		refresh >"$3.raw" 2>&1 || rc=$?
	sed 's/ in [0-9]*\.[0-9]s:/ in Ts:/' "$3.raw" >"$3"
	return $rc
}

sc --quiet refresh || fail "source refresh"
cp "$M" "$TMPD/first.manifest"
for i in 1 2 3 4; do
	if [ $i = 3 ]; then
		LOCAL_PASSWD="$TMPD/passwd.3" fleet_config $i "$SRC" "$TMPD/fleet.pub"
	else
		fleet_config $i "$SRC" "$TMPD/fleet.pub"
	fi
	host $i --quiet refresh || fail "host $i, first refresh"
done
grep -q '"snapshot_sha256": *"[0-9a-f]\{64\}"' "$TMPD/host.1/state/status.json" ||
	fail "no snapshot_sha256 recorded: $(cat "$TMPD/host.1/state/status.json")"

# ---- an hour on: the manifest re-signed, the bundle the same ------------
in_future +1h sc --quiet refresh || fail "source refresh an hour on"
cmp -s "$M" "$TMPD/first.manifest" && fail "the source did not re-sign the manifest"
# Host 1 has no base: a host that read the bundle would download it whole.
rm "$TMPD/host.1/state/fleet-base"
# Host 2 forgets which file it published: it must read and rebuild.
"$PY" - "$TMPD/host.2/state/status.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
del s["snapshot_sha256"]
open(sys.argv[1], "w").write(json.dumps(s))
EOF
n=$(mark)
run_at +1h 1 "$TMPD/out.1" || fail "host 1 an hour on: $(cat "$TMPD/out.1")"
since "$n" >"$TMPD/log"
grep -q "^GET /nss-scim.bundle.manifest 200 " "$TMPD/log" || fail "host 1: no manifest: $(cat "$TMPD/log")"
grep -q "^GET /nss-scim.bundle\(\.[0-9a-f.]*delta\)\? " "$TMPD/log" &&
	fail "host 1 read the bundle although its snapshot stands: $(cat "$TMPD/log")"
[ ! -e "$TMPD/host.1/state/fleet-base" ] || fail "host 1 fetched a base"
grep -q "refresh published: generation $(sed -n 's/^generation //p' "$M") " "$TMPD/out.1" ||
	fail "host 1 did not republish: $(cat "$TMPD/out.1")"
n=$(mark)
run_at +1h 2 "$TMPD/out.2" || fail "host 2 an hour on: $(cat "$TMPD/out.2")"
since "$n" | grep -q "^GET /nss-scim.bundle " &&
	fail "host 2 downloaded the bundle it holds"
cmp -s "$TMPD/out.1" "$TMPD/out.2" || {
	diff -u "$TMPD/out.2" "$TMPD/out.1" >&2
	fail "the republishing host's messages are not a rebuild's"
}
fleet_config ref "$SRC" "$TMPD/fleet.pub"
in_future +1h "$SCIM_CACHE" --config "$TMPD/host.ref/scim.conf" --quiet refresh ||
	fail "reference host"
for i in 1 2; do
	cmp -s "$TMPD/host.$i/cache.mdb" "$TMPD/host.ref/cache.mdb" ||
		fail "host $i's snapshot differs from the full bundle's"
done
echo "ok: the same bundle republishes the snapshot without reading it, byte-identical to the full bundle's"

# ---- what makes it rebuild ----------------------------------------------
# Host 4's snapshot altered in place (a letter of a name in a gecos): the
# republished file would carry it; the host must rebuild instead.
"$PY" - "$TMPD/host.4/cache.mdb" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b"Ana Rodriguez")
b[i] = ord("E")
open(sys.argv[1], "wb").write(b)
EOF
# Host 3's local files gain a person of the bundle, who must now be
# skipped.
grep '^P	' "$B" | head -n 1 | cut -f2 |
	sed 's/$/:x:999:999::\/nonexistent:\/usr\/sbin\/nologin/' >>"$TMPD/passwd.3"
in_future +1h "$SCIM_CACHE" --config "$TMPD/host.4/scim.conf" --quiet refresh ||
	fail "host 4 with an altered snapshot"
cmp -s "$TMPD/host.4/cache.mdb" "$TMPD/host.ref/cache.mdb" ||
	fail "host 4 republished a snapshot altered after it was published"
in_future +1h "$SCIM_CACHE" --config "$TMPD/host.3/scim.conf" --quiet refresh ||
	fail "host 3 with a new local user"
host 3 status --json | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
assert s["skipped_by_reason"]["local_name"] >= 1, s["skipped_by_reason"]' ||
	fail "host 3 did not apply its new local user"
echo "ok: an altered snapshot, or new local files, are rebuilt from the bundle"

# ---- refusals keep the snapshot byte for byte ---------------------------
# refused N OFFSET WHAT: host N's refresh fails with one line naming WHAT.
refused() {
	local snap="$TMPD/host.$1/cache.mdb"
	cp "$snap" "$TMPD/snap.before"
	expect_refused "$3" "$snap" "$TMPD/snap.before" '[0-9]*' \
		in_future "$2" "$SCIM_CACHE" --config "$TMPD/host.$1/scim.conf" refresh
}
cp "$M" "$TMPD/second.manifest"
cp "$TMPD/first.manifest" "$M"
touch -d "@$(($(date +%s) + 2 * 86400))" "$M"
refused 1 +1h "older than generation"
cp "$TMPD/second.manifest" "$M"
touch -d "@$(($(date +%s) + 3 * 86400))" "$M"
refused 1 +30d "expired at"

# Killed while republishing: the old snapshot stays, the next run sweeps
# what was left and republishes.
in_future +2h sc --quiet refresh || fail "source refresh two hours on"
cp "$TMPD/host.1/cache.mdb" "$TMPD/snap.before"
LD_PRELOAD="$LIBFAKETIME" FAKETIME=+2h DONT_FAKE_MONOTONIC=1 \
	SCIM_TESTPOINT=snap-before-rename SCIM_TESTPOINT_LOG="$TMPD/tp.log" \
	"$SCIM_CACHE" --config "$TMPD/host.1/scim.conf" --quiet refresh \
	>"$TMPD/out" 2>&1 &
PID=$!
i=0
until [ "$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$PID/stat" 2>/dev/null)" = T ]; do
	kill -0 "$PID" 2>/dev/null || fail "the refresh ended before the rename: $(cat "$TMPD/out")"
	i=$((i + 1))
	[ $i -lt 3000 ] || fail "the refresh did not stop before the rename"
	sleep 0.01
done
kill -9 "$PID"
wait "$PID" 2>/dev/null || true
cmp -s "$TMPD/host.1/cache.mdb" "$TMPD/snap.before" || fail "a killed republish changed the snapshot"
ls "$TMPD/host.1/cache.mdb.new."* >/dev/null 2>&1 || fail "the killed republish left no file behind"
n=$(mark)
in_future +2h "$SCIM_CACHE" --config "$TMPD/host.1/scim.conf" --quiet refresh ||
	fail "host 1 after the kill"
since "$n" | grep -q "^GET /nss-scim.bundle " && fail "host 1 read the bundle after the kill"
ls "$TMPD/host.1/cache.mdb.new."* >/dev/null 2>&1 && fail "the leftover was not swept"
in_future +2h "$SCIM_CACHE" --config "$TMPD/host.ref/scim.conf" --quiet refresh ||
	fail "reference host two hours on"
cmp -s "$TMPD/host.1/cache.mdb" "$TMPD/host.ref/cache.mdb" ||
	fail "host 1's snapshot after the kill differs from the full bundle's"
echo "ok: a republish killed before its rename keeps the snapshot; the next run republishes"
exit 0
