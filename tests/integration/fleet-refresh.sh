#!/bin/sh
# Fleet mode end to end.  A source host lists the bridge emulator once and
# writes a signed bundle and its manifest; nginx serves them; 200 fleet
# hosts (each its own config, snapshot and state directory) refresh from
# nginx.  Their snapshots are identical, and glibc's getent through any of
# them agrees with a direct bridge refresh.  nginx saw one manifest and one
# bundle per host, then only 304s of the manifest; the emulator
# saw exactly one listing.  A host whose local files hold a bundle person's
# name keeps its own and reports the skip.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
tools_test "$@"
. "$top_srcdir/tests/helpers/fleet-lib.sh" || exit 99
HOSTS=${FLEET_HOSTS:-200}

DATA="$TMPD/directory.json"
put_data "$EMU_DIR/sample-directory.json" "$DATA"
start_emulator bridge "$DATA"
BRIDGE_URL="http://127.0.0.1:$EMU_PORT/scim"
make_keys fleet

# ---- the source host ---------------------------------------------------
write_config "$BRIDGE_URL" "bundle_file = $WWW/nss-scim.bundle" \
	"bundle_key = $TMPD/fleet.key"
sc refresh >"$TMPD/out" 2>&1 || fail "source refresh: $(cat "$TMPD/out")"
grep -q 'bundle written: generation [0-9]*, 50 people, ' "$TMPD/out" ||
	fail "source refresh did not say it wrote the bundle: $(cat "$TMPD/out")"
B="$WWW/nss-scim.bundle"
head -n 1 "$B" | grep -qx 'nss-scim-bundle 1' || fail "bundle header: $(head -n 1 "$B")"
tail -n 1 "$B" | grep -q '^signature ed25519 [0-9a-f]\{16\} ' || fail "bundle signature line"
[ "$(stat -c %a "$B")" = 644 ] || fail "bundle mode $(stat -c %a "$B")"
grep -q "^source $BRIDGE_URL\$" "$B" || fail "bundle names no source"
sc status >"$TMPD/status" || fail "source status"
grep -q "^mode:          source host, bridge $BRIDGE_URL, bundle $B" "$TMPD/status" ||
	fail "source status: $(cat "$TMPD/status")"
grep -q "^bundle:        generation [0-9]*, signed .* by $(hostname), valid until " "$TMPD/status" ||
	fail "source status: $(cat "$TMPD/status")"
# A second source refresh with nothing changed keeps the bundle as it is,
# so that the fleet's conditional GETs stay 304s.
cp -p "$B" "$TMPD/bundle.1"
sc --quiet refresh || fail "second source refresh"
cmp -s "$B" "$TMPD/bundle.1" || fail "an unchanged directory rewrote the bundle"
ok_listings=$(grep -c '^GET /scim/Users?startIndex=1&' "$TMPD/bridge.log")
[ "$ok_listings" = 2 ] || fail "two source refreshes, $ok_listings listings"

# ---- the fleet ---------------------------------------------------------
start_nginx
SRC="$NGINX_URL/nss-scim.bundle"
i=1
while [ $i -le "$HOSTS" ]; do
	fleet_config $i "$SRC" "$TMPD/fleet.pub"
	host $i --quiet refresh || fail "fleet host $i: refresh failed"
	i=$((i + 1))
done
i=2
while [ $i -le "$HOSTS" ]; do
	cmp -s "$TMPD/host.1/cache.mdb" "$TMPD/host.$i/cache.mdb" ||
		fail "fleet host $i's snapshot differs from host 1's"
	i=$((i + 1))
done
echo "ok: $HOSTS fleet hosts, identical snapshots"

# Each host read the manifest, then the bundle it names.
n200=$(grep -c '^GET /nss-scim.bundle 200 ' "$NGINX_LOG" || true)
[ "$n200" = "$HOSTS" ] || fail "nginx: $n200 answers 200, want $HOSTS"
n200=$(grep -c '^GET /nss-scim.bundle.manifest 200 ' "$NGINX_LOG" || true)
[ "$n200" = "$HOSTS" ] || fail "nginx: $n200 manifests, want $HOSTS"
[ "$(wc -l <"$NGINX_LOG")" = $((HOSTS * 2)) ] || fail "nginx saw other requests: $(sort "$NGINX_LOG" | uniq -c)"

# A second round: nothing changed, so every host's conditional GET of the
# manifest is a 304, and no snapshot is rewritten.
cp "$TMPD/host.1/cache.mdb" "$TMPD/snap.host1"
ino=$(stat -c %i "$TMPD/host.1/cache.mdb")
i=1
while [ $i -le "$HOSTS" ]; do
	host $i --quiet refresh || fail "fleet host $i: second refresh failed"
	i=$((i + 1))
done
n304=$(grep -c '^GET /nss-scim.bundle.manifest 304 ' "$NGINX_LOG" || true)
[ "$n304" = "$HOSTS" ] || fail "nginx: $n304 answers 304 in round two, want $HOSTS"
[ "$(wc -l <"$NGINX_LOG")" = $((HOSTS * 3)) ] || fail "nginx saw other requests in round two"
[ "$(stat -c %i "$TMPD/host.1/cache.mdb")" = "$ino" ] || fail "a 304 republished the snapshot"
echo "ok: round two, $HOSTS answers 304"

# The emulator saw the source host's two listings and nothing else.
[ "$(grep -c '^GET /scim/Users?startIndex=1&' "$TMPD/bridge.log")" = 2 ] ||
	fail "the fleet reached the bridge"

# ---- glibc agrees with a direct bridge refresh -------------------------
# (Only now: nginx looks its user up when it starts.)
ns_nsswitch "passwd: scim" "group: scim" "initgroups: scim"
put_data "$EMU_DIR/sample-directory.json" "$TMPD/direct.json"
start_emulator direct "$TMPD/direct.json"
mkdir -m 0755 "$TMPD/direct"
{
	echo "url = http://127.0.0.1:$EMU_PORT/scim"
	echo "token_file = $TMPD/token"
	echo "cache_path = $TMPD/direct/cache.mdb"
	echo "state_dir = $TMPD/direct/state"
	echo "local_passwd = $LOCAL_PASSWD"
	echo "local_group = $LOCAL_GROUP"
} >"$TMPD/direct.conf"
"$SCIM_CACHE" --config "$TMPD/direct.conf" --quiet refresh || fail "direct refresh"
for db in passwd group; do
	NSS_SCIM_CACHE="$TMPD/direct/cache.mdb" getent $db | sort >"$TMPD/direct.$db"
	NSS_SCIM_CACHE="$TMPD/host.$HOSTS/cache.mdb" getent $db | sort >"$TMPD/fleet.$db"
	[ -s "$TMPD/fleet.$db" ] || fail "getent $db: nothing through a fleet host's snapshot"
	cmp -s "$TMPD/direct.$db" "$TMPD/fleet.$db" ||
		fail "getent $db differs between a direct refresh and a fleet host: $(diff "$TMPD/direct.$db" "$TMPD/fleet.$db" | head)"
done
[ "$(wc -l <"$TMPD/fleet.passwd")" = 50 ] || fail "want 50 people through a fleet host"
a=$(NSS_SCIM_CACHE="$TMPD/direct/cache.mdb" id ana.rodriguez)
b=$(NSS_SCIM_CACHE="$TMPD/host.1/cache.mdb" id ana.rodriguez)
[ "$a" = "$b" ] || fail "id differs: $a / $b"
echo "ok: getent passwd, group and id agree with a direct bridge refresh"

# ---- status ------------------------------------------------------------
host 1 status >"$TMPD/status" || fail "fleet status"
grep -q "^mode:          fleet host, bundle $SRC\$" "$TMPD/status" ||
	fail "fleet status mode: $(cat "$TMPD/status")"
gen=$(sed -n 's/^generation \([0-9]*\)$/\1/p' "$B")
grep -q "^bundle:        generation $gen, signed .* ago) by " "$TMPD/status" ||
	fail "fleet status bundle: $(cat "$TMPD/status")"
grep -q "^generation:    $gen " "$TMPD/status" ||
	fail "the fleet snapshot's generation is not the bundle's: $(cat "$TMPD/status")"
host 1 status --json | "$PY" -c '
import json, sys
f = json.load(sys.stdin)["fleet"]
assert f["mode"] == "fleet", f
assert f["generation"] == int(sys.argv[1]), f
assert f["age_seconds"] >= 0 and f["valid_until"] > f["created"], f
' "$gen" || fail "status --json fleet fields"
host 1 check >"$TMPD/out" 2>&1 || fail "fleet check: $(cat "$TMPD/out")"
grep -q "^bundle ok: generation $gen, 50 people, .* signed by key [0-9a-f]\{16\} on " "$TMPD/out" ||
	fail "fleet check: $(cat "$TMPD/out")"
# A 304 is no error for the metrics and status.
host 1 status --json | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
assert "304" not in s.get("http_errors_total", {}), s
assert s["http_requests_total"]["304"] == 1, s
assert len(s["fleet"]["key"]) == 16, s
' || fail "status counts a 304 as an error, or lacks the key"
# A dry run on an unmodified bundle says so and records nothing.
before=$(host 1 status --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["last_attempt"])')
host 1 refresh --dry-run >"$TMPD/out" 2>&1 || fail "dry run: $(cat "$TMPD/out")"
grep -q "^dry run: bundle generation $gen is not modified at the source; nothing would change" "$TMPD/out" ||
	fail "dry run: $(cat "$TMPD/out")"
after=$(host 1 status --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["last_attempt"])')
[ "$before" = "$after" ] || fail "a dry run recorded an attempt"

# Lock on a fleet host: by name, at once, without restarting the
# snapshot's age; unlock: at the next refresh, and the generation never
# goes backwards.
created() {
	host 1 status --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["snapshot"][sys.argv[1]])' "$1"
}
c0=$(created created)
host 1 lock ana.rodriguez 2>"$TMPD/out" || fail "fleet lock: $(cat "$TMPD/out")"
[ "$(created active)" = 48 ] || fail "lock: $(created active) active, want 48"
[ "$(created created)" = "$c0" ] || fail "lock restarted the snapshot's age"
g1=$(created generation)
[ "$g1" -gt "$gen" ] || fail "lock did not republish"
host 1 --quiet refresh || fail "refresh after lock"
[ "$(created active)" = 48 ] || fail "the refresh after lock undid it"
host 1 unlock ana.rodriguez 2>"$TMPD/out" || fail "fleet unlock: $(cat "$TMPD/out")"
grep -q "unlocked ana.rodriguez; the next refresh applies it" "$TMPD/out" || fail "unlock: $(cat "$TMPD/out")"
host 1 --quiet refresh || fail "refresh after unlock"
[ "$(created active)" = 49 ] || fail "unlock: $(created active) active, want 49"
[ "$(created generation)" -gt "$g1" ] || fail "the generation went backwards after unlock"

# ---- a publish that fails is not remembered as applied --------------------
fleet_config full "$SRC" "$TMPD/fleet.pub"
ns_mount -t tmpfs -o size=16k,mode=0755 fleet-full "$TMPD/host.full"
fleet_config full "$SRC" "$TMPD/fleet.pub"
for round in 1 2; do
	rc=0
	host full refresh >"$TMPD/out" 2>&1 || rc=$?
	[ "$rc" = 1 ] && grep -qi "refresh failed: .*no space left" "$TMPD/out" ||
		fail "full filesystem, round $round: exit $rc: $(cat "$TMPD/out")"
done
umount "$TMPD/host.full"
fleet_config full "$SRC" "$TMPD/fleet.pub"
host full --quiet refresh || fail "refresh once there is room"
cmp -s "$TMPD/host.full/cache.mdb" "$TMPD/host.2/cache.mdb" || fail "after the full filesystem"
echo "ok: a publish that failed is retried, not taken for applied"

# ---- a host's own files win --------------------------------------------
# The local user arrives after the host has the bundle: the next refresh
# applies it although the bundle itself is not modified.
cp "$LOCAL_PASSWD" "$TMPD/local.passwd"
LOCAL_PASSWD="$TMPD/local.passwd" fleet_config local "$SRC" "$TMPD/fleet.pub"
host local --quiet refresh || fail "local-rules host, first refresh"
echo 'ana.rodriguez:x:1500:1500:Local Ana:/home/ana:/bin/sh' >>"$TMPD/local.passwd"
host local refresh >"$TMPD/out" 2>&1 || fail "local-rules host: $(cat "$TMPD/out")"
grep -q 'skipped person ana.rodriguez: login name ana.rodriguez belongs to a local user (local_name)' "$TMPD/out" ||
	fail "the local-rules host did not report the skip: $(cat "$TMPD/out")"
NSS_SCIM_CACHE="$TMPD/host.local/cache.mdb" getent passwd | sort >"$TMPD/local.got"
grep -v '^ana\.rodriguez:' "$TMPD/fleet.passwd" >"$TMPD/local.want"
cmp -s "$TMPD/local.got" "$TMPD/local.want" || fail "local-rules host: $(diff "$TMPD/local.want" "$TMPD/local.got" | head)"
NSS_SCIM_CACHE="$TMPD/host.local/cache.mdb" getent group | grep -q 'ana\.rodriguez' &&
	fail "the local-rules host kept ana.rodriguez in a group"
echo "ok: a host's local user wins over the bundle, reported"
