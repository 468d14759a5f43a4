#!/bin/sh
# kill -9 of scim-cache refresh where it matters, and at random moments.
#
# The build's test points (cache/testpoint.h, --enable-testpoints) let the
# refresh stop itself at a named moment: the test kills it exactly there,
# ROUNDS times at each of the POINTS, then at RANDOM_KILLS random moments
# of its own run (it stops at refresh-start, after the process and the
# bridge emulator are up, and is killed a random time after it goes on).
# Every refresh switches the directory between two versions, A and B, whose
# exact getent output an independent model (expect.py) gives.  After each
# kill:
#   - the live snapshot is the old one byte for byte, or getent passwd and
#     getent group through glibc equal the new version's exactly; a kill
#     before the rename always leaves the old one, a kill after it the new;
#   - the next refresh succeeds, leaves no temporary file beside the
#     snapshot or in the state directory, and publishes the new version
#     exactly, at the generation after the old one;
#   - the id map holds every number the snapshot uses, and the status and
#     the metrics name the live generation.
# A kill or wait that fails, or a point that is never reached, fails the
# test.  Then two refreshes at once publish exactly one generation.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
require_root
[ "${TESTPOINTS:-no}" = yes ] ||
	skip_missing "a build configured with --enable-testpoints"
enter_namespace "$@"
make_tmpdir
. "$top_srcdir/tests/helpers/tools-lib.sh" || exit 99
tools_setup
ns_nsswitch "passwd: scim" "group: scim"

POINTS="refresh-start ids-temp-created snap-temp-created snap-mid-write
snap-before-fsync snap-before-rename snap-before-dirsync status-save
metrics-write"
# Points before the rename leave the old snapshot; the others the new.
BEFORE_RENAME="refresh-start ids-temp-created snap-temp-created
snap-mid-write snap-before-fsync snap-before-rename"
# The mutation gate (tests/mutation) runs it shorter; CI and the README's
# figures use the defaults.  The sanitized run, three times slower per
# refresh, kills at every point as often but at 30 random moments.
ROUNDS=${FAULT_KILL_ROUNDS:-3}
if [ "${SANITIZERS:-no}" = yes ]; then
	RANDOM_KILLS=${FAULT_KILL_RANDOM:-30}
else
	RANDOM_KILLS=${FAULT_KILL_RANDOM:-100}
fi
NPOINTS=$(echo $POINTS | wc -w)

# Two versions of a 500-person directory: B drops 30 people, adds 20,
# renames one, changes names and memberships.
"$PY" "$EMU_DIR/gen-directory.py" --people 500 --groups 20 --per-user 3 \
	--seed 7 "$TMPD/A.json" || fail "gen-directory"
"$PY" - "$TMPD/A.json" "$TMPD/B.json" <<'EOF' || fail "making version B"
import copy, json, sys
d = json.load(open(sys.argv[1]))
gone = {u["id"] for u in d["users"][:30]}
d["users"] = d["users"][30:]
for g in d["groups"]:
    g["members"] = [m for m in g["members"] if m["value"] not in gone]
for i in range(20):
    n = copy.deepcopy(d["users"][i])
    n["id"] = "KILLTEST%018d" % i
    n["userName"] = "new.person%d@example.com" % i
    n["name"]["formatted"] = "New Person %d" % i
    d["users"].append(n)
    d["groups"][i % len(d["groups"])]["members"].append(
        {"value": n["id"], "display": n["name"]["formatted"]})
d["users"][40]["userName"] = "renamed.person@example.com"
for u in d["users"][50:60]:
    u["name"]["formatted"] += " B"
d["groups"][0]["members"] = d["groups"][0]["members"][5:]
json.dump(d, open(sys.argv[2], "w"))
EOF
for v in A B; do
	expect_entries "$TMPD/$v.json"
	mv "$TMPD/want.passwd" "$TMPD/$v.passwd"
	mv "$TMPD/want.group" "$TMPD/$v.group"
done
cmp -s "$TMPD/A.passwd" "$TMPD/B.passwd" && fail "versions A and B do not differ"

DATA="$TMPD/dir.json"
put_data "$TMPD/A.json" "$DATA"
start_emulator bridge "$DATA" --max-page 500
PROM="$TMPD/metrics.prom"
write_config "http://127.0.0.1:$EMU_PORT/scim" "page_size = 500" \
	"metrics_file = $PROM"

# same_as VERSION WHAT: getent's dumps through glibc equal VERSION's.
same_as() {
	getent passwd >"$TMPD/got.passwd" || fail "$2: getent passwd failed"
	getent group >"$TMPD/got.group" || fail "$2: getent group failed"
	cmp -s "$TMPD/got.passwd" "$TMPD/$1.passwd" &&
		cmp -s "$TMPD/got.group" "$TMPD/$1.group"
}

# The live snapshot's generation, from the snapshot itself.
live_gen() { snap_field generation; }

# Checks what a completed refresh must leave: version VERSION, generation
# GEN, no temporary file, the id map covering every number, and status and
# metrics naming GEN.
check_settled() {
	local v=$1 gen=$2 what=$3 left
	same_as "$v" "$what" || fail "$what: getent differs from version $v: $(
		diff "$TMPD/got.passwd" "$TMPD/$v.passwd" | head -n 5)"
	left=$(cd "$TMPD/snap" && ls -A | grep -vx 'cache\.mdb' || true)
	[ -z "$left" ] || fail "$what: left beside the snapshot: $left"
	left=$(cd "$STATE" && ls -A | grep '\.tmp\.' || true)
	[ -z "$left" ] || fail "$what: left in the state directory: $left"
	[ "$(stat -c %a "$SNAP")" = 644 ] || fail "$what: snapshot mode $(stat -c %a "$SNAP")"
	# Every uid and gid the snapshot serves is in the id map.
	awk -F: 'FNR == NR { if ($1 == "u" || $1 == "g") have[$2] = 1; next }
		!($3 in have) { print FILENAME ": " $0; bad = 1 }
		END { exit bad }' FS=' ' "$STATE/ids" FS=: "$TMPD/got.passwd" "$TMPD/got.group" \
		>"$TMPD/noid" || fail "$what: numbers not in the id map: $(head -n 3 "$TMPD/noid")"
	sc status --json | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
gen = int(sys.argv[1])
assert s["snapshot"]["generation"] == gen, s["snapshot"]
assert s["last_result"] in ("success", "unchanged"), s["last_result"]
assert s.get("last_error") in (None, ""), s.get("last_error")
' "$gen" || fail "$what: status disagrees with the live generation $gen"
	grep -qx "scim_cache_snapshot_generation $gen" "$PROM" ||
		fail "$what: metrics: $(grep generation "$PROM")"
}

sc --quiet refresh || fail "first refresh"
GEN=1
LIVE=A
check_settled A $GEN "first refresh"

# proc_state PID: the process's state letter (T stopped, Z exited).
proc_state() {
	sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null
}

# start_refresh POINT: a refresh of the other version that stops itself at
# POINT; sets PID.  It fails the test if the refresh ends without stopping.
start_refresh() {
	local point=$1 i=0 st rc
	NEXT=B
	[ "$LIVE" = B ] && NEXT=A
	put_data "$TMPD/$NEXT.json" "$DATA"
	cp "$SNAP" "$TMPD/old.mdb"
	: >"$TMPD/tp.log"
	SCIM_TESTPOINT=$point SCIM_TESTPOINT_LOG="$TMPD/tp.log" \
		"$SCIM_CACHE" --config "$CONF" --quiet refresh >"$TMPD/run.out" 2>&1 &
	PID=$!
	while :; do
		st=$(proc_state "$PID")
		case $st in
		T | t) return 0 ;;
		Z | "")
			rc=0
			wait "$PID" || rc=$?
			fail "$point: the refresh ended (exit $rc) without reaching it: $(cat "$TMPD/run.out")"
			;;
		esac
		i=$((i + 1))
		[ $i -lt 60000 ] || fail "$point: the refresh neither stopped nor ended in 10 minutes"
		sleep 0.01
	done
}

# kill_now WHAT: kill -9 of PID, which must succeed; sets RC to the wait
# status, 137 (killed) or 0 (it finished first: only for random kills).
kill_now() {
	local killed=yes
	# A process that already ended cannot be killed (bash reaps it
	# early); its exit status then tells whether that is allowed.
	kill -9 "$PID" 2>/dev/null || killed=no
	RC=0
	wait "$PID" 2>/dev/null || RC=$?
	[ $killed = yes ] || [ "$RC" = 0 ] || fail "$1: kill -9 $PID failed, and it exited $RC"
	case $RC in
	137) ;;
	0) [ "${2:-}" = may-finish ] || fail "$1: the refresh was not killed" ;;
	*) fail "$1: the refresh exited $RC instead of being killed: $(cat "$TMPD/run.out")" ;;
	esac
}

# after_kill WHAT: the live snapshot is the old one, byte for byte, or the
# new version exactly; sets OUTCOME.  Then the next refresh settles it.
after_kill() {
	local what=$1
	if cmp -s "$SNAP" "$TMPD/old.mdb"; then
		OUTCOME=old
		same_as "$LIVE" "$what" || fail "$what: the old snapshot does not answer as version $LIVE"
	elif same_as "$NEXT" "$what"; then
		OUTCOME=new
		[ "$(live_gen)" = $((GEN + 1)) ] || fail "$what: new content at generation $(live_gen), want $((GEN + 1))"
	else
		fail "$what: the live snapshot is neither the old one nor version $NEXT: $(
			diff "$TMPD/got.passwd" "$TMPD/$NEXT.passwd" | head -n 5)"
	fi
	# Leftovers of the killed run are what the next refresh must sweep.
	if ls -A "$TMPD/snap" | grep -q '\.new\.' || ls -A "$STATE" | grep -q '\.tmp\.'; then
		LEFTOVERS=$((LEFTOVERS + 1))
	fi
	sc --quiet refresh >"$TMPD/next.out" 2>&1 ||
		fail "$what: the next refresh failed: $(cat "$TMPD/next.out")"
	GEN=$((GEN + 1))
	LIVE=$NEXT
	check_settled "$LIVE" "$GEN" "$what, then a refresh"
}

# An undisturbed run passes every point, in order.
start_refresh refresh-start
kill -CONT "$PID" || fail "kill -CONT"
wait "$PID" || fail "undisturbed refresh: $(cat "$TMPD/run.out")"
GEN=$((GEN + 1))
LIVE=$NEXT
[ "$(echo $POINTS)" = "$(echo $(cat "$TMPD/tp.log"))" ] ||
	fail "an undisturbed refresh passed $(echo $(cat "$TMPD/tp.log")), want $(echo $POINTS)"
check_settled "$LIVE" "$GEN" "undisturbed refresh"

# ---- at every point ----------------------------------------------------
point_kills=0 point_old=0 point_new=0 LEFTOVERS=0
for point in $POINTS; do
	r=1
	while [ $r -le $ROUNDS ]; do
		what="kill at $point ($r)"
		start_refresh "$point"
		kill_now "$what"
		[ "$(tail -n 1 "$TMPD/tp.log")" = "$point" ] ||
			fail "$what: last point passed was $(tail -n 1 "$TMPD/tp.log")"
		after_kill "$what"
		case " $(echo $BEFORE_RENAME) " in
		*" $point "*) want=old ;;
		*) want=new ;;
		esac
		[ "$OUTCOME" = "$want" ] || fail "$what: left the $OUTCOME snapshot, want the $want one"
		point_kills=$((point_kills + 1))
		eval "point_$OUTCOME=\$((point_$OUTCOME + 1))"
		r=$((r + 1))
	done
	echo "ok: $ROUNDS kills at $point: the $want snapshot each time"
done
point_leftovers=$LEFTOVERS
[ $point_kills = $((NPOINTS * ROUNDS)) ] || fail "$point_kills kills at points, want $((NPOINTS * ROUNDS))"
# A temporary file is left at 5 of the points (the id map's while it is
# written, the snapshot's from its creation to the rename): the sweeps
# were put to work each time.
[ $point_leftovers = $((5 * ROUNDS)) ] ||
	fail "$point_leftovers kills left a temporary file to sweep, want $((5 * ROUNDS))"
[ $point_old = $((6 * ROUNDS)) ] && [ $point_new = $((3 * ROUNDS)) ] ||
	fail "$point_old old and $point_new new snapshots, want $((6 * ROUNDS)) and $((3 * ROUNDS))"
echo "$point_kills kills at $NPOINTS points: $point_old left the old snapshot byte for byte, $point_new the new one exactly; $point_leftovers left temporary files, all swept"

# ---- at random moments -------------------------------------------------
# How long a refresh runs once started (the shortest of three, less a
# tenth, so that few kills come after a fast run's end), measured from its
# going on at refresh-start to its end.
spans=""
for i in 1 2 3; do
	start_refresh refresh-start
	t0=$(date +%s%N)
	kill -CONT "$PID" || fail "kill -CONT"
	wait "$PID" || fail "timed refresh: $(cat "$TMPD/run.out")"
	spans="$spans $((($(date +%s%N) - t0) / 1000))"
	GEN=$((GEN + 1))
	LIVE=$NEXT
	check_settled "$LIVE" "$GEN" "timed refresh $i"
done
span=$(echo $spans | tr ' ' '\n' | sort -n | head -n 1)
span=$((span * 9 / 10))
delays=$("$PY" -c 'import random, sys
random.seed(11)
print(" ".join("%.6f" % (random.randint(0, int(sys.argv[2])) / 1e6) for _ in range(int(sys.argv[1]))))' \
	"$RANDOM_KILLS" "$span")

n=0 rand_old=0 rand_new=0 finished=0 inside=0
for d in $delays; do
	n=$((n + 1))
	what="random kill $n (${d}s)"
	start_refresh refresh-start
	kill -CONT "$PID" || fail "$what: kill -CONT failed"
	sleep "$d"
	kill_now "$what" may-finish
	[ "$RC" = 0 ] && finished=$((finished + 1))
	# Where it landed, from the points it passed: before the rename it
	# must leave the old snapshot, once past it the new one.
	passed_rename=no
	grep -qx snap-before-dirsync "$TMPD/tp.log" && passed_rename=yes
	reached_rename=no
	grep -qx snap-before-rename "$TMPD/tp.log" && reached_rename=yes
	[ "$RC" = 137 ] && ! grep -qx metrics-write "$TMPD/tp.log" && inside=$((inside + 1))
	after_kill "$what"
	[ $passed_rename = no ] || [ "$OUTCOME" = new ] || fail "$what: past the rename, yet the old snapshot"
	[ $reached_rename = yes ] || [ "$OUTCOME" = old ] || fail "$what: before the rename, yet the new snapshot"
	eval "rand_$OUTCOME=\$((rand_$OUTCOME + 1))"
done
[ $n = "$RANDOM_KILLS" ] || fail "$n random kills, want $RANDOM_KILLS"
[ $((rand_old + rand_new)) = "$RANDOM_KILLS" ] || fail "random kills not all accounted for"
echo "$RANDOM_KILLS kills at random moments within a ${span} us refresh: $rand_old left the old snapshot, $rand_new the new one; $inside landed before the refresh's last point, $finished after it ended; never a broken one"

# ---- two refreshes at once ---------------------------------------------
# One publishes; the other waits for the lock and then finds nothing to
# change, or gives up with exit 75.  Either way exactly one new
# generation, and it is whole.
NEXT=B
[ "$LIVE" = B ] && NEXT=A
put_data "$TMPD/$NEXT.json" "$DATA"
sc --quiet refresh >"$TMPD/r1" 2>&1 &
p1=$!
sc --quiet refresh >"$TMPD/r2" 2>&1 &
p2=$!
rc1=0
wait "$p1" || rc1=$?
rc2=0
wait "$p2" || rc2=$?
case "$rc1 $rc2" in
"0 0" | "0 75" | "75 0") ;;
*) fail "concurrent refreshes exited $rc1 and $rc2: $(cat "$TMPD/r1" "$TMPD/r2")" ;;
esac
GEN=$((GEN + 1))
check_settled "$NEXT" "$GEN" "two refreshes at once"
echo "two refreshes at once: exits $rc1 and $rc2, one new generation"
