#!/bin/sh
# kill -9 of scim-cache refresh at 100 random moments, publish included.
# After each kill the live snapshot is the old one or the new one, whole:
# every person resolves through glibc, the generation is one of the two,
# and the next refresh succeeds and leaves no temporary file behind.
. "$top_srcdir/tests/lib.sh"
require_root
enter_namespace "$@"
make_tmpdir
. "$top_srcdir/tests/tools-lib.sh"
tools_setup
ns_nsswitch "passwd: scim" "group: scim"

DATA="$TMPD/dir.json"
"$PY" "$EMU_DIR/gen-directory.py" --people 3000 --groups 30 --per-user 3 \
	--seed 7 "$DATA" || fail "gen-directory"
start_emulator bridge "$DATA" --max-page 500
write_config "http://127.0.0.1:$EMU_PORT/scim" "page_size = 500" \
	"max_removed_percent = 100"
sc refresh --quiet || fail "first refresh"
people=$(getent passwd | wc -l)
[ "$people" -ge 3000 ] || fail "first refresh gave $people people"

# How long an undisturbed refresh takes; kills land anywhere inside that.
t0=$(date +%s%N)
edit_data "$DATA" 'd["users"][0]["name"]["formatted"] = "Warm Up"'
sc refresh --quiet || fail "timing refresh"
span=$((($(date +%s%N) - t0) / 1000))

delays=$("$PY" -c 'import random, sys
random.seed(11)
print(" ".join(str(random.randint(0, int(sys.argv[1]))) for _ in range(100)))' "$span")

n=0 published=0 kept=0
for us in $delays; do
	n=$((n + 1))
	before=$(snap_field generation)
	edit_data "$DATA" "d['users'][0]['name']['formatted'] = 'Person $n'"
	"$SCIM_CACHE" --config "$CONF" refresh --quiet >/dev/null 2>&1 &
	pid=$!
	"$PY" -c 'import sys, time; time.sleep(int(sys.argv[1]) / 1e6)' "$us"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	after=$(snap_field generation) || fail "kill $n: status failed"
	case $after in
	"$before") kept=$((kept + 1)) ;;
	$((before + 1))) published=$((published + 1)) ;;
	*) fail "kill $n: generation went from $before to $after" ;;
	esac
	got=$(getent passwd | wc -l)
	[ "$got" = "$people" ] || fail "kill $n: $got people resolve, want $people"
done
echo "100 kills at random moments within ${span} us: $kept left the old snapshot, $published the new one; never a broken one"

sc refresh --quiet || fail "the refresh after the kills"
leftovers=$(ls "$TMPD/snap" | grep -v '^cache\.mdb$' || true)
[ -z "$leftovers" ] || fail "left in the snapshot directory: $leftovers"
[ "$(getent passwd | wc -l)" = "$people" ] || fail "after the final refresh"

# Two refreshes started at once: one publishes; the other waits for the lock
# and then finds nothing to change, or gives up with exit 75.  Either way
# exactly one new generation, and it is whole.
before=$(snap_field generation)
edit_data "$DATA" 'd["users"][1]["name"]["formatted"] = "Both At Once"'
sc refresh --quiet >"$TMPD/r1" 2>&1 &
p1=$!
sc refresh --quiet >"$TMPD/r2" 2>&1 &
p2=$!
rc1=0; wait "$p1" || rc1=$?
rc2=0; wait "$p2" || rc2=$?
case "$rc1 $rc2" in
"0 0" | "0 75" | "75 0") ;;
*) fail "concurrent refreshes exited $rc1 and $rc2: $(cat "$TMPD/r1" "$TMPD/r2")" ;;
esac
[ "$(snap_field generation)" = $((before + 1)) ] ||
	fail "concurrent refreshes: generation $before -> $(snap_field generation)"
[ "$(getent passwd | wc -l)" = "$people" ] || fail "after concurrent refreshes"
echo "two refreshes at once: exits $rc1 and $rc2, one new generation"
