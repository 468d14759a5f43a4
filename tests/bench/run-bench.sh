#!/bin/sh
# run-bench.sh: the benchmarks of BENCHMARKS.md.  Needs root; everything runs in a
# private mount namespace with /etc under a throw-away overlay, so the host's
# /etc is never touched.
#
#   run-bench.sh [--sets 1k,10k,100k,big,refresh] [--smoke] [--out FILE]
#                [--keep DIR]
#
# For each data set: a snapshot (through the emulator and `scim-cache
# refresh` when both are built, else tests/helpers/mksnap on gen-data.py's text),
# exported through the scim module to nss_files' and libnss-cache's formats,
# then every operation through glibc against floor, scim, files and cache.
# The "refresh" set (100,000 people, 10,000 groups) only times the refresh.
# Writes the report (BENCHMARKS.md format) to --out, default stdout.
# --smoke: small time budgets (the CI check).  --keep DIR: keep the raw
# results there.  Exit 77 when not root, 1 when a backend gives a wrong
# answer; timings never fail.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
require_root
enter_namespace "$@"
make_tmpdir

BENCH="$top_builddir/tests/bench"
BENCH_NSS="$BENCH/bench-nss"
PY=${PYTHON3:-python3}
SETS="1k,10k,100k,big,refresh"
SMOKE=""
OUT=""
KEEP=""
while [ $# -gt 0 ]; do
	case $1 in
	--sets) SETS=$2; shift 2 ;;
	--smoke) SMOKE=1; shift ;;
	--out) OUT=$2; shift 2 ;;
	--keep) KEEP=$2; shift 2 ;;
	*) echo "usage: run-bench.sh [--sets LIST] [--smoke] [--out FILE] [--keep DIR]" >&2; exit 2 ;;
	esac
done
[ -x "$BENCH_NSS" ] && [ -f "$BENCH/.libs/libnss_floor.so.2" ] ||
	fail "build first: make tests/bench/bench-nss tests/bench/libnss_floor.la"
[ -f /usr/lib/x86_64-linux-gnu/libnss_cache.so.2 ] ||
	[ -n "$(ldconfig -p | grep libnss_cache.so.2)" ] ||
	skip "needs libnss-cache (apt-get install libnss-cache)"

# Time budgets: ms per in-process operation, runs of `id` for `id root`,
# the longest one `id` may take; the whole-process rows (a fresh process's
# first lookup, `id USER`) run FRESH_ROUNDS rounds of FRESH_PER processes
# per backend, backends taking turns, and a backend stops a row once it
# has spent FRESH_BUDGET_MS on it (nss_files' `id` on the large sets).
if [ -n "$SMOKE" ]; then
	BUDGET=30 ID_RUNS=5 ID_TIMEOUT=30 ROUNDS=1
	FRESH_ROUNDS=1 FRESH_PER=5 FRESH_BUDGET_MS=3000
else
	BUDGET=500 ID_RUNS=51 ID_TIMEOUT=120 ROUNDS=3
	FRESH_ROUNDS=10 FRESH_PER=31 FRESH_BUDGET_MS=30000
fi
ID_BUDGET_MS=$((BUDGET * 8))

RES="$TMPD/results"
mkdir -p "$RES"
log() { echo "bench: $(date +%T) $*" >&2; }

# ---- the namespace's /etc -------------------------------------------------

cp /etc/passwd "$TMPD/host.passwd"
cp /etc/group "$TMPD/host.group"
mkdir -p "$TMPD/etc-up" "$TMPD/etc-work"
ns_mount -t overlay overlay \
	-o "lowerdir=/etc,upperdir=$TMPD/etc-up,workdir=$TMPD/etc-work" /etc
for d in /run/nscd /var/run/nscd; do
	if [ -d "$d" ] && ! mountpoint -q "$d"; then
		ns_mount -t tmpfs tmpfs "$d"
	fi
done
export LD_LIBRARY_PATH="$NSS_LIBS:$BENCH/.libs"

# Installs the files of BACKEND for data set directory D, and its
# nsswitch.conf.
use_backend() {
	local be=$1 d=$2
	case $be in
	files)
		cp "$d/files.passwd" /etc/passwd
		cp "$d/files.group" /etc/group
		;;
	cache)
		# Maps first: an index older than its map is ignored.
		cp "$d/passwd.cache" "$d/group.cache" /etc/
		cp "$d"/passwd.cache.ix* "$d"/group.cache.ix* /etc/
		;;
	hostfiles)
		cp "$TMPD/host.passwd" /etc/passwd
		cp "$TMPD/host.group" /etc/group
		be=files
		;;
	esac
	printf 'passwd: %s\ngroup: %s\n' "$be" "$be" >/etc/nsswitch.conf
}

# ---- data sets ------------------------------------------------------------

EMULATOR="$top_srcdir/tests/emulator/scim-bridge-emulator.py"
GENDIR="$top_srcdir/tests/emulator/gen-directory.py"
SCIM_CACHE="$top_builddir/tools/scim-cache"
if [ -x "$SCIM_CACHE" ] && [ -f "$EMULATOR" ] && [ -f "$GENDIR" ]; then
	PIPELINE=scim-cache
else
	PIPELINE=mksnap
fi

# People, groups and how they are shared out, for gen-data.py and
# gen-directory.py alike.
set_args() {
	case $1 in
	1k) echo "--people 1000 --groups 200 --per-user 10" ;;
	10k) echo "--people 10000 --groups 200 --per-user 10" ;;
	100k) echo "--people 100000 --groups 200 --per-user 10" ;;
	big) echo "--people 10000 --groups 10000 --avg-members 500" ;;
	refresh) echo "--people 100000 --groups 10000 --per-user 10" ;;
	*) fail "unknown data set $1" ;;
	esac
}

# Resources per page: big enough to keep the request count down, small
# enough that a page of groups stays well under scim-cache's response cap
# and its memory small (a 5,000-member group is about 350 kB of JSON).
set_page_size() {
	case $1 in
	100k) echo 50 ;;
	big) echo 100 ;;
	*) echo 1000 ;;
	esac
}

# The snapshot of set $1 in $2/snap/cache.mdb, from generated text through
# the project's own writer.
snapshot_mksnap() {
	local set=$1 d=$2
	# shellcheck disable=SC2046
	"$PY" "$top_srcdir/tests/bench/gen-data.py" $(set_args "$set") "$d/src"
	build_snapshot "$d/snap/cache.mdb" "$d/src.passwd" "$d/src.group" \
		--id-min 100000 --id-max 1999999 --source "bench $set"
	rm -f "$d/src.passwd" "$d/src.group"
}

REFRESH_RUNS=${REFRESH_RUNS:-3}
BACKENDS="floor scim files cache"

# $1/refresh from the N runs $1/refresh.1..N: the run of median CPU time,
# with rss_kb the largest of all; every run's CPU and RSS go to
# $1/refresh_runs.
pick_refresh() {
	local d=$1 n=$2 i
	for i in $(seq "$n"); do
		awk -v i="$i" '{v[$1] = $2}
			END {printf "%s %.3f %d\n", i, v["user_s"] + v["sys_s"],
			     v["rss_kb"]}' "$d/refresh.$i"
	done | sort -k2,2n >"$d/refresh_runs"
	i=$(awk -v n="$n" 'NR == int((n + 1) / 2) {print $1}' "$d/refresh_runs")
	awk -v max="$(sort -k3,3n "$d/refresh_runs" | tail -n 1 | cut -d' ' -f3)" \
		'$1 == "rss_kb" {$2 = max} {print}' "$d/refresh.$i" >"$d/refresh"
}

EMU_PID=""
test_cleanup() {
	if [ -n "$EMU_PID" ]; then kill "$EMU_PID" 2>/dev/null; fi
}

# The snapshot of set $1 in $2/snap/cache.mdb through the real pipeline: a
# 1Password-shaped directory served by the bridge emulator on 127.0.0.1,
# copied by `scim-cache refresh`, whose wall time, CPU time and peak RSS
# go to $2/refresh.
snapshot_pipeline() {
	local set=$1 d=$2 port
	# shellcheck disable=SC2046
	"$PY" "$GENDIR" $(set_args "$set" | sed 's/--avg-members/--big-groups/') \
		"$d/dir.json"
	echo "$(set_page_size "$set")" >"$d/page_size"
	printf 'bench-token\n' >"$d/token"
	chmod 0600 "$d/token"
	mkdir -m 0700 "$d/state"
	rm -f "$d/port"
	"$PY" "$EMULATOR" --data "$d/dir.json" --token-file "$d/token" \
		--port-file "$d/port" --max-page 1000 &
	EMU_PID=$!
	i=0
	until [ -s "$d/port" ]; do
		i=$((i + 1))
		[ $i -lt 600 ] || fail "the emulator did not start"
		sleep 0.1
	done
	port=$(cat "$d/port")
	cat >"$d/scim-cache.conf" <<-EOF
	url = http://127.0.0.1:$port/scim/v2
	token_file = $d/token
	cache_path = $d/snap/cache.mdb
	state_dir = $d/state
	page_size = $(set_page_size "$set")
	max_pages = 100000
	local_passwd = $TMPD/host.passwd
	local_group = $TMPD/host.group
	EOF
	chmod 0600 "$d/scim-cache.conf"
	# The refresh set is what the refresh is timed on: one run on a shared
	# machine is noisy, so it is run REFRESH_RUNS times from empty state
	# and reported by its median CPU time, with the largest peak RSS.
	local runs=1 i
	[ "$set" = refresh ] && runs=$REFRESH_RUNS
	for i in $(seq "$runs"); do
		if [ "$i" -gt 1 ]; then
			rm -rf "$d/state" "$d/snap"
			mkdir -m 0700 "$d/state"
			mkdir -m 0755 "$d/snap"
		fi
		"$BENCH_NSS" rusage "$SCIM_CACHE" --config "$d/scim-cache.conf" \
			refresh --quiet >"$d/refresh.$i" ||
			fail "$set: scim-cache refresh"
	done
	pick_refresh "$d" "$runs"
	kill "$EMU_PID"
	wait "$EMU_PID" 2>/dev/null || true
	EMU_PID=""
	rm -f "$d/dir.json"
}

make_set() {
	local set=$1 d=$2
	mkdir -p "$d"
	mkdir -m 0755 "$d/snap"
	echo "$PIPELINE" >"$d/pipeline"
	if [ "$PIPELINE" = scim-cache ]; then
		snapshot_pipeline "$set" "$d"
	else
		snapshot_mksnap "$set" "$d"
	fi
	export NSS_SCIM_CACHE="$d/snap/cache.mdb"
	use_backend scim "$d"
	getent passwd >"$d/passwd.txt"
	getent group >"$d/group.txt"
	"$PY" "$top_srcdir/tests/bench/export.py" "$d/passwd.txt" "$d/group.txt" \
		"$TMPD/host.passwd" "$TMPD/host.group" "$d"
	stat -c '%s' "$d/snap/cache.mdb" >"$d/snapsize"
	# The floor enumerates as many entries as the data set has.
	NSS_FLOOR_PW_ENT=$(wc -l <"$d/passwd.txt")
	NSS_FLOOR_GR_ENT=$(wc -l <"$d/group.txt")
	# and puts everyone in as many groups as the data set does.
	NSS_FLOOR_NGROUPS=$(awk '$1 == "groups_per_user" {print $2}' "$d/sizes")
	export NSS_FLOOR_PW_ENT NSS_FLOOR_GR_ENT NSS_FLOOR_NGROUPS
}

# ---- measurements ---------------------------------------------------------

# Median of the numbers on standard input.
median() {
	sort -n | awk '{v[NR] = $1} END {
		if (NR == 0) exit 1
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Every measurement of backend $2 on set $1 (data in $3), results in $4
# with suffix $5 (the round).
# With a sixth argument, only those in-process operations.
bench_backend() {
	local set=$1 be=$2 d=$3 r=$4 n=$5 only=${6:-} user
	use_backend "$be" "$d"
	user=$(awk '$1 == "user" {print $2; exit}' "$d/sample")
	if [ "$be" = floor ]; then
		export BENCH_NOCHECK=1
	fi
	log "$set/$be: in-process operations ${only}"
	# shellcheck disable=SC2086
	"$BENCH_NSS" run "$d/sample" "$BUDGET" $only >"$r/$be.ops.$n" ||
		fail "$set/$be: wrong answers (see above)"
	unset BENCH_NOCHECK
}

# Milliseconds since the epoch.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# The whole-process rows of set $1 (data in $2, results in $3): every
# backend's files are installed once, then FRESH_ROUNDS rounds in which
# each backend in turn runs FRESH_PER fresh processes timing their first
# lookup, then FRESH_PER runs of `id USER`; every value is kept
# ($be.first.all, $be.id.all) for the median and percentiles.
fresh_rows() {
	local set=$1 d=$2 r=$3 user round be t0 t1 row
	user=$(awk '$1 == "user" {print $2; exit}' "$d/sample")
	cp "$d/files.passwd" /etc/passwd
	cp "$d/files.group" /etc/group
	cp "$d/passwd.cache" "$d/group.cache" /etc/
	cp "$d"/passwd.cache.ix* "$d"/group.cache.ix* /etc/
	for be in $BACKENDS; do
		: >"$r/$be.first.all"
		: >"$r/$be.id.all"
		echo 0 >"$TMPD/spent.$be.first"
		echo 0 >"$TMPD/spent.$be.id"
	done
	log "$set: first lookup and id $user, $FRESH_ROUNDS rounds"
	round=1
	while [ $round -le $FRESH_ROUNDS ]; do
		for be in $BACKENDS; do
			printf 'passwd: %s\ngroup: %s\n' $be $be >/etc/nsswitch.conf
			for row in first id; do
				[ "$(cat "$TMPD/spent.$be.$row")" -lt $FRESH_BUDGET_MS ] ||
					continue
				t0=$(now_ms)
				if [ $row = first ]; then
					i=0
					while [ $i -lt $FRESH_PER ]; do
						"$BENCH_NSS" first "$user" ||
							fail "$set/$be: first lookup of $user"
						i=$((i + 1))
					done >>"$r/$be.first.all"
				else
					"$BENCH_NSS" times $FRESH_PER $FRESH_BUDGET_MS \
						"$ID_TIMEOUT" id "$user" >>"$r/$be.id.all" ||
						fail "$set/$be: id $user"
				fi
				t1=$(now_ms)
				echo $(($(cat "$TMPD/spent.$be.$row") + t1 - t0)) \
					>"$TMPD/spent.$be.$row"
			done
		done
		round=$((round + 1))
	done
}

machine() {
	echo "cpu $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
	echo "cores $(nproc)"
	echo "kernel $(uname -r)"
	echo "glibc $(ldd --version | awk 'NR == 1 {print $NF}')"
	echo "lmdb $(dpkg-query -W -f '${Version}' liblmdb0 2>/dev/null || echo unknown)"
	echo "libnss_cache $(dpkg-query -W -f '${Version}' libnss-cache 2>/dev/null || echo unknown)"
	echo "commit ${BENCH_COMMIT:-$(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)}"
	echo "date $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "smoke ${SMOKE:-0}"
	echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
}

machine >"$RES/machine"
for set in $(echo "$SETS" | tr , ' '); do
	d="$TMPD/data/$set"
	r="$RES/$set"
	if [ "$set" = refresh ] && [ "$PIPELINE" != scim-cache ]; then
		log "refresh: skipped, scim-cache or the emulator is not built"
		continue
	fi
	mkdir -p "$r"
	log "$set: making the data set ($PIPELINE)"
	make_set "$set" "$d"
	cp "$d/sizes" "$d/snapsize" "$d/pipeline" "$r/"
	# Everyone, for the uniformly random lookups.
	awk -F: '{print $1, $3}' "$d/passwd.txt" >"$d/all"
	export BENCH_ALL="$d/all"
	if [ -f "$d/refresh" ]; then cp "$d/refresh" "$d/page_size" "$r/"; fi
	if [ -f "$d/refresh_runs" ]; then cp "$d/refresh_runs" "$r/"; fi
	if [ "$set" != refresh ]; then
		# floor and scim take turns, with nss_files' enumeration (a
		# goal compares them), so that a change in the load of a shared
		# machine falls on all; the report takes the median.
		round=1
		while [ $round -le $ROUNDS ]; do
			bench_backend "$set" floor "$d" "$r" $round
			bench_backend "$set" scim "$d" "$r" $round
			if [ $ROUNDS -gt 1 ]; then
				bench_backend "$set" files "$d" "$r" "e$round" \
					enum_passwd,enum_group
			fi
			round=$((round + 1))
		done
		bench_backend "$set" files "$d" "$r" 1
		bench_backend "$set" cache "$d" "$r" 1
		fresh_rows "$set" "$d" "$r"
	fi
	unset BENCH_ALL
	rm -rf "$d"
done
echo "load_end $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RES/machine"
log "id root through nss_files"
use_backend hostfiles ""
"$BENCH_NSS" spawn "$ID_RUNS" "$ID_BUDGET_MS" "$ID_TIMEOUT" id root >"$RES/idroot"

if [ -n "$KEEP" ]; then
	mkdir -p "$KEEP"
	cp -r "$RES"/. "$KEEP"/
fi
if [ -n "$OUT" ]; then
	"$PY" "$top_srcdir/tests/bench/report.py" "$RES" \
		"$top_srcdir/tests/bench/findings.md" >"$OUT.tmp"
	mv "$OUT.tmp" "$OUT"
	log "wrote $OUT"
else
	"$PY" "$top_srcdir/tests/bench/report.py" "$RES" \
		"$top_srcdir/tests/bench/findings.md"
fi
