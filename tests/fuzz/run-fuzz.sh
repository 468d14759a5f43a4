#!/bin/sh
# Runs each fuzz target for FUZZ_SECONDS on its corpus (seeded by
# tests/fuzz/seed-<name> when there is one) and prints one line per target:
# executions, seconds run, corpus size, and findings.  Exits 1 if any
# target crashed, found anything, or did not run the whole time.
set -u
seconds=${FUZZ_SECONDS:-60}
status=0
for target in "$@"; do
	name=$(basename "$target" | sed 's/^fuzz-//')
	# Seeds and corpora are named after the target without "fuzz-".
	dir=$(dirname "$target")
	corpus="$dir/corpus/$name"
	mkdir -p "$corpus" "$dir/findings/$name"
	seeder="$dir/seed-$name"
	# A target that loses its seeds still runs, from nothing: that must
	# fail here, not pass with a corpus of 0.
	seeded=0
	if [ -x "$seeder" ]; then "$seeder" "$corpus" || seeded=1; fi
	if [ -f "${FUZZ_SEEDS:-}/../seed-$name.sh" ]; then
		sh "$FUZZ_SEEDS/../seed-$name.sh" "$corpus" || seeded=1
	fi
	if [ $seeded != 0 ]; then
		echo "fuzz $name: FAILED: its seeds could not be made"
		status=1
		continue
	fi
	if [ -d "${FUZZ_SEEDS:-}/$name" ]; then cp "$FUZZ_SEEDS/$name"/* "$corpus/"; fi
	log="$dir/$name.fuzz.log"
	"$target" -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="$dir/findings/$name/" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	ran=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
	findings=$(find "$dir/findings/$name" -type f | wc -l)
	echo "fuzz $name: ${execs:-0} executions in ${ran:-?}s, corpus $(ls "$corpus" | wc -l), findings $findings"
	# What the line claims is checked: the target ran the whole time and
	# executed inputs, and found nothing.
	if [ "$rc" != 0 ] || [ "$findings" != 0 ]; then
		tail -n 30 "$log"
		status=1
	elif [ "${execs:-0}" -le 0 ] || [ -z "$ran" ] || [ "$ran" -lt "$seconds" ]; then
		echo "fuzz $name: FAILED: ${execs:-no} executions in ${ran:-no} seconds, want $seconds"
		tail -n 10 "$log"
		status=1
	fi
done
exit $status
