#!/bin/sh
# Deltas.  A source host writes a bundle, then two changes; nginx serves
# the directory.  A host one change behind applies the delta from its
# bundle, a host two behind the delta from its own, a host without a
# usable base downloads the full bundle: nginx's log says which files each
# read.  A host whose snapshot was made from the delta's base, under rules
# that left it whole, patches it with the records the delta changed
# (status: snapshot_made "patched"), also when people and groups come and
# go; one whose snapshot was altered rebuilds it.  A delta tampered with,
# truncated, swapped for another, or made
# for another base (in a properly signed manifest), and a manifest naming
# a delta storage does not have, are refused with one line and the
# snapshot byte for byte.  Every host's snapshot is byte-identical to one
# made from the full bundle.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
command -v openssl >/dev/null || skip_missing openssl
tools_test "$@"
. "$top_srcdir/tests/helpers/fleet-lib.sh" || exit 99

DATA="$TMPD/directory.json"
put_data "$EMU_DIR/sample-directory.json" "$DATA"
start_emulator bridge "$DATA"
make_keys fleet
B="$WWW/nss-scim.bundle"
write_config "http://127.0.0.1:$EMU_PORT/scim" "bundle_file = $B" \
	"bundle_key = $TMPD/fleet.key"
start_nginx
SRC="$NGINX_URL/nss-scim.bundle"

sha() { sha256sum "$1" | cut -c1-64; }
# made N: how host N made its snapshot last (status --json).
made() {
	host "$1" status --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["fleet"]["snapshot_made"])'
}
# log_since N: nginx's lines after the first N.
log_since() { tail -n +$(($1 + 1)) "$NGINX_LOG"; }
mark() { wc -l <"$NGINX_LOG"; }

sc --quiet refresh || fail "source refresh 1"
H1=$(sha "$B")
cp "$B" "$TMPD/gen1.bundle"
# Host 6 has a local group named like a person a later change adds.
cat /etc/group >"$TMPD/group.6"
echo "zed.newcomer:x:4242:" >>"$TMPD/group.6"
for i in 1 2 3 4 5 6; do
	[ $i = 6 ] && LOCAL_GROUP="$TMPD/group.6"
	fleet_config $i "$SRC" "$TMPD/fleet.pub"
	host $i --quiet refresh || fail "host $i, first refresh"
done
LOCAL_GROUP=
[ -f "$TMPD/host.1/state/fleet-base" ] || fail "a fleet host kept no base"
cmp -s "$TMPD/host.1/state/fleet-base" "$B" || fail "the base is not the bundle"

# ---- one change: a delta from the only bundle before ------------------
edit_data "$DATA" 'd["users"][0]["name"]["formatted"] = "Ana R."'
sc refresh >"$TMPD/out" 2>&1 || fail "source refresh 2: $(cat "$TMPD/out")"
grep -q 'bundle written: generation [0-9]*, 50 people, .*, 1 deltas, ' "$TMPD/out" ||
	fail "source refresh 2: $(cat "$TMPD/out")"
H2=$(sha "$B")
cp "$B" "$TMPD/gen2.bundle"
D12="$B.$(echo "$H1" | cut -c1-16).$(echo "$H2" | cut -c1-16).delta"
[ -f "$D12" ] || fail "no delta $D12: $(ls "$WWW")"
grep -q "^delta $H1 $(sha "$D12") $(stat -c %s "$D12")\$" "$B.manifest" ||
	fail "the manifest does not bind the delta: $(cat "$B.manifest")"
n=$(mark)
host 1 --quiet refresh || fail "host 1, delta"
log_since "$n" >"$TMPD/log"
grep -q "^GET /nss-scim.bundle.manifest 200 " "$TMPD/log" || fail "host 1: no manifest: $(cat "$TMPD/log")"
grep -q "^GET /$(basename "$D12") 200 " "$TMPD/log" || fail "host 1: no delta: $(cat "$TMPD/log")"
grep -q "^GET /nss-scim.bundle 200 " "$TMPD/log" && fail "host 1 downloaded the full bundle"
cmp -s "$TMPD/host.1/state/fleet-base" "$B" || fail "host 1's base is not the new bundle"
[ "$(made 1)" = patched ] || fail "host 1 did not patch its snapshot: $(made 1)"
echo "ok: a host one change behind applies the delta ($(stat -c %s "$D12") bytes, bundle $(stat -c %s "$B"))"

# ---- a second change: two deltas; a host two behind uses its own ------
edit_data "$DATA" 'd["users"][1]["name"]["formatted"] = "Bo Changed"'
sc --quiet refresh || fail "source refresh 3"
H3=$(sha "$B")
D13="$B.$(echo "$H1" | cut -c1-16).$(echo "$H3" | cut -c1-16).delta"
D23="$B.$(echo "$H2" | cut -c1-16).$(echo "$H3" | cut -c1-16).delta"
[ -f "$D13" ] && [ -f "$D23" ] || fail "deltas: $(ls "$WWW")"
[ ! -e "$D12" ] || fail "the source did not prune the delta no manifest names"
n=$(mark)
host 1 --quiet refresh || fail "host 1, second delta"
host 2 --quiet refresh || fail "host 2, two behind"
log_since "$n" >"$TMPD/log"
grep -q "^GET /$(basename "$D23") 200 " "$TMPD/log" || fail "host 1 did not use its delta: $(cat "$TMPD/log")"
grep -q "^GET /$(basename "$D13") 200 " "$TMPD/log" || fail "host 2 did not use its delta: $(cat "$TMPD/log")"
grep -q "^GET /nss-scim.bundle 200 " "$TMPD/log" && fail "a host downloaded the full bundle"
[ "$(made 2)" = patched ] || fail "host 2 did not patch its snapshot: $(made 2)"
echo "ok: a host two changes behind applies the delta from its own bundle"

# ---- no usable base: the full bundle ----------------------------------
rm "$TMPD/host.3/state/fleet-base"
n=$(mark)
host 3 --quiet refresh || fail "host 3, no base"
log_since "$n" | grep -q "^GET /nss-scim.bundle 200 " || fail "host 3 did not fall back to the full bundle"
cmp -s "$TMPD/host.3/state/fleet-base" "$B" || fail "host 3 kept no base"
[ "$(made 3)" = rebuilt ] || fail "host 3 did not rebuild its snapshot: $(made 3)"
echo "ok: a host without a usable base downloads the full bundle"

# ---- refusals: each keeps the snapshot byte for byte -------------------
# refused N WHAT: host N's refresh fails with one line naming WHAT.
refused() {
	local snap="$TMPD/host.$1/cache.mdb"
	cp "$snap" "$TMPD/snap.before"
	expect_refused "$2" "$snap" "$TMPD/snap.before" '[0-9]*' host "$1" refresh
}
cp "$D13" "$TMPD/d13"
"$PY" - "$D13" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b"\n+ ") + 3
b[i + 5] ^= 1
open(sys.argv[1], "wb").write(b)
EOF
refused 4 "delta /$(basename "$D13") does not match the manifest (tampered"
head -c "$(($(stat -c %s "$TMPD/d13") / 2))" "$TMPD/d13" >"$D13"
refused 4 "delta /$(basename "$D13") does not match the manifest (tampered, truncated"
cp "$D23" "$D13"
refused 4 "delta /$(basename "$D13") does not match the manifest (tampered, truncated, swapped"
rm "$D13"
refused 5 "the manifest names /$(basename "$D13"), which storage does not have (yet"
# Made for another base, in a manifest the fleet's key signed: the delta
# itself says whose it is, and the base is checked by its hash.
cp "$B.manifest" "$TMPD/good.manifest"
cp "$D23" "$D13"
"$PY" - "$B.manifest" "$TMPD/body" "$H1" "$(sha "$D23")" "$(stat -c %s "$D23")" <<'EOF'
import sys
lines = open(sys.argv[1]).read().split("\n")
body = [l for l in lines[:-2]]
body = [("delta %s %s %s" % (sys.argv[3], sys.argv[4], sys.argv[5]))
        if l.startswith("delta " + sys.argv[3]) else l for l in body]
open(sys.argv[2], "w").write("\n".join(body) + "\n")
EOF
sign_text "$TMPD/body" "$B.manifest" fleet
refused 4 "delta /$(basename "$D13"): the delta's base is $(echo "$H2" | cut -c1-16), not the held bundle $(echo "$H1" | cut -c1-16)"
cp "$TMPD/good.manifest" "$B.manifest"
cp "$TMPD/d13" "$D13"
for i in 4 5; do host $i --quiet refresh || fail "host $i after the refusals"; done
echo "ok: with storage whole again, the held hosts apply their delta"

# ---- every snapshot is the one the full bundle makes -------------------
fleet_config ref "$SRC" "$TMPD/fleet.pub"
host ref --quiet refresh || fail "reference host"
for i in 1 2 3 4 5; do
	cmp -s "$TMPD/host.$i/cache.mdb" "$TMPD/host.ref/cache.mdb" ||
		fail "host $i's snapshot differs from the full bundle's"
done
echo "ok: every host's snapshot is byte-identical to the full bundle's"

# ---- people and groups come and go: the patch follows ------------------
# A person leaves (and their groups), one joins two groups, one moves from
# one group to another and one is renamed: every user whose list of groups
# changes is rewritten, every other record copied.  Host 5's snapshot is
# altered after it published: it no longer is the file its state vouches
# for, so it is rebuilt, not patched.  Host 6's local group has the new
# person's name: its rules leave that person out, which the records the
# delta wrote cannot tell alone, so it reads the whole bundle it kept.
edit_data "$DATA" '
import copy
gone = d["users"].pop(10)["id"]
new = copy.deepcopy(d["users"][5])
new["id"] = "NEWPERSON0000000000000001"
new["userName"] = "zed.newcomer@example.com"
new["name"]["formatted"] = "Zed Newcomer"
d["users"].append(new)
for g in d["groups"]:
    g["members"] = [m for m in g["members"] if m["value"] != gone]
moved = d["groups"][0]["members"].pop(0)
d["groups"][1]["members"].append(moved)
d["groups"][1]["members"].append({"value": new["id"]})
d["groups"][2]["members"].append({"value": new["id"]})
d["users"][3]["userName"] = "renamed.person@example.com"
'
sc --quiet refresh || fail "source refresh 4"
"$PY" -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0x40
open(sys.argv[1], "wb").write(b)
' "$TMPD/host.5/cache.mdb"
for i in 1 2 5 6; do host $i --quiet refresh || fail "host $i, fourth change"; done
[ "$(made 1)" = patched ] || fail "host 1 did not patch its snapshot: $(made 1)"
[ "$(made 2)" = patched ] || fail "host 2 did not patch its snapshot: $(made 2)"
[ "$(made 5)" = rebuilt ] || fail "host 5 patched an altered snapshot: $(made 5)"
[ "$(made 6)" = rebuilt ] || fail "host 6 patched past its local group: $(made 6)"
LOCAL_GROUP="$TMPD/group.6"
fleet_config ref3 "$SRC" "$TMPD/fleet.pub"
LOCAL_GROUP=
host ref3 --quiet refresh || fail "third reference host"
cmp -s "$TMPD/host.6/cache.mdb" "$TMPD/host.ref3/cache.mdb" ||
	fail "host 6's snapshot differs from the full bundle's under its rules"
cmp -s "$TMPD/host.6/cache.mdb" "$TMPD/host.ref2/cache.mdb" &&
	fail "host 6 did not leave out the person named like its local group"
fleet_config ref2 "$SRC" "$TMPD/fleet.pub"
host ref2 --quiet refresh || fail "second reference host"
for i in 1 2 5; do
	cmp -s "$TMPD/host.$i/cache.mdb" "$TMPD/host.ref2/cache.mdb" ||
		fail "host $i's snapshot differs from the full bundle's"
done
cmp -s "$TMPD/host.1/cache.mdb" "$TMPD/host.ref/cache.mdb" &&
	fail "the fourth change changed nothing"
echo "ok: a patch that adds, removes, renames and regroups people makes the full bundle's snapshot, byte for byte"
exit 0
