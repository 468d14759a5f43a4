#!/bin/sh
# fleet-bench.sh: what fleet mode costs and saves (BENCHMARKS-fleet.md), at 100,000
# people by default.  Run as root through `make bench-fleet` (or with
# top_srcdir and top_builddir set); it works in a private mount namespace
# and temporary directories, with the emulator and nginx on 127.0.0.1.
#
#   fleet-bench.sh [--people N] [--groups G] [--per-user K] [--hosts H]
#                  [--out FILE] [--keep DIR]
#
# A source host lists the bridge emulator once and writes the bundle;
# nginx (gzip on, as a CDN would) serves it; H fleet hosts refresh from it
# twice: first a full download, then a 304.  It reports the bridge
# requests one listing takes (what every host would make without fleet
# mode), and per fleet host: wall and CPU time, peak RSS and bytes on the
# wire for each round.  Timings are figures, never a pass or a fail.
. "$top_srcdir/tests/lib.sh"
require_root
PEOPLE=100000 GROUPS_N=200 PER_USER=10 HOSTS=10
OUT="$top_srcdir/BENCHMARKS-fleet.md" KEEP=""
while [ $# -gt 0 ]; do
	case $1 in
	--people) PEOPLE=$2 ;;
	--groups) GROUPS_N=$2 ;;
	--per-user) PER_USER=$2 ;;
	--hosts) HOSTS=$2 ;;
	--out) OUT=$2 ;;
	--keep) KEEP=$2 ;;
	*) fail "unknown argument $1" ;;
	esac
	shift 2
done
enter_namespace --people "$PEOPLE" --groups "$GROUPS_N" --per-user "$PER_USER" \
	--hosts "$HOSTS" --out "$OUT" ${KEEP:+--keep "$KEEP"}
make_tmpdir
. "$top_srcdir/tests/tools-lib.sh"
tools_setup
. "$top_srcdir/tests/fleet-lib.sh"
[ -x /usr/bin/time ] || skip "needs /usr/bin/time (Debian's time)"

log() { echo "fleet-bench: $*" >&2; }

# measure OUTFILE COMMAND...: wall s, CPU s (user+sys) and peak RSS kB.
measure() {
	local out=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$out" "$@"
}

DATA="$TMPD/dir.json"
log "generating $PEOPLE people in $GROUPS_N groups, $PER_USER each"
"$PY" "$EMU_DIR/gen-directory.py" --people "$PEOPLE" --groups "$GROUPS_N" \
	--per-user "$PER_USER" --seed 11 "$DATA" || fail "gen-directory"
start_emulator bridge "$DATA" --max-page 1000
make_keys fleet
B="$WWW/nss-scim.bundle"
write_config "http://127.0.0.1:$EMU_PORT/scim" "page_size = 1000" \
	"max_removed_percent = 100" "timeout = 600" \
	"bundle_file = $B" "bundle_key = $TMPD/fleet.key"
log "source refresh"
measure "$TMPD/source.time" "$SCIM_CACHE" --config "$CONF" --quiet refresh ||
	fail "source refresh"
requests=$(wc -l <"$TMPD/bridge.log")
bundle_bytes=$(stat -c %s "$B")
gzip_bytes=$(gzip -6 -c "$B" | wc -c)

# gzip on for the bundle, as object storage or a CDN would serve it.
stop_emulators
NGINX_EXTRA="gzip on; gzip_types application/octet-stream; gzip_min_length 1000;" \
	start_nginx
SRC="$NGINX_URL/nss-scim.bundle"

round() {
	local r=$1 i=1
	while [ $i -le "$HOSTS" ]; do
		[ "$r" = 1 ] && fleet_config $i "$SRC" "$TMPD/fleet.pub" \
			"max_removed_percent = 100"
		measure "$TMPD/host.$i.round$r" "$SCIM_CACHE" \
			--config "$TMPD/host.$i/scim.conf" --quiet refresh ||
			fail "fleet host $i, round $r"
		i=$((i + 1))
	done
}
log "round 1: $HOSTS fleet hosts download, verify and publish"
round 1
log "round 2: $HOSTS fleet hosts, bundle not modified"
round 2
snap_bytes=$(stat -c %s "$TMPD/host.1/cache.mdb")
# --keep: the bundle and the public key, for profiling a fleet host.
if [ -n "$KEEP" ]; then
	mkdir -p "$KEEP"
	cp "$B" "$TMPD/fleet.pub" "$KEEP/"
fi

"$PY" - "$TMPD" "$HOSTS" "$PEOPLE" "$GROUPS_N" "$PER_USER" "$requests" \
	"$bundle_bytes" "$gzip_bytes" "$snap_bytes" "$NGINX_LOG" "$OUT" <<'EOF'
import os, platform, statistics, sys
tmp, hosts, people, groups, per, requests = sys.argv[1:7]
bundle, gz, snap, nginx_log, out = sys.argv[7:12]
hosts = int(hosts)

def read(path):
    e, u, s, m = open(path).read().split()[-4:]
    return float(e), float(u) + float(s), int(m) / 1024

src = read(os.path.join(tmp, "source.time"))
rounds = {}
for r in (1, 2):
    rows = [read(os.path.join(tmp, f"host.{i}.round{r}")) for i in range(1, hosts + 1)]
    rounds[r] = [statistics.median(c) for c in zip(*rows)] + [max(x[2] for x in rows)]
wire = {1: [], 2: []}
for line in open(nginx_log):
    m, uri, status, size = line.split()
    wire[1 if status == "200" else 2].append(int(size))
requests = int(requests)
md = []
md.append("# Fleet mode: cost and savings\n")
md.append("Written by `tests/fleet-bench.sh` (`make bench-fleet`, as root). "
          f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
          f"Linux {platform.release()}. Figures are medians over the "
          f"{hosts} fleet hosts of one run; the source, the emulator, nginx "
          "and the hosts share the machine.\n")
md.append(f"Directory: {int(people):,} people in {int(groups):,} groups, each "
          f"person in {per}.\n")
md.append("## The bridge\n")
md.append(f"One listing of this directory is {requests:,} requests to the "
          "bridge (pages of 1,000). Without fleet mode every host makes "
          "them on every refresh; with it, only the source does. For N "
          f"hosts refreshing every T minutes that is {requests:,} requests "
          f"per T instead of N x {requests:,}: at 10,000 hosts every 15 "
          f"minutes, {requests * 10000 / 15:,.0f} requests a minute saved; "
          f"the bridge sees {requests / 15:,.1f} a minute.\n")
md.append(f"The source host's refresh (listing, mapping, its own snapshot "
          f"and the signed bundle): {src[0]:.2f} s wall, {src[1]:.2f} s CPU, "
          f"peak RSS {src[2]:.0f} MB.\n")
md.append("## Per fleet host\n")
md.append("| round | wall s | CPU s (user+sys) | peak RSS MB (median / max) | bytes on the wire |")
md.append("|---|---|---|---|---|")
w1 = statistics.median(wire[1]) if wire[1] else 0
w2 = statistics.median(wire[2]) if wire[2] else 0
md.append(f"| new bundle: download, verify, parse, publish | {rounds[1][0]:.3f} | "
          f"{rounds[1][1]:.3f} | {rounds[1][2]:.1f} / {rounds[1][3]:.1f} | {w1:,.0f} (gzip) |")
md.append(f"| unchanged: conditional GET, 304 | {rounds[2][0]:.3f} | "
          f"{rounds[2][1]:.3f} | {rounds[2][2]:.1f} / {rounds[2][3]:.1f} | {w2:,.0f} |")
md.append("")
md.append(f"The bundle is {int(bundle):,} bytes ({int(gz):,} with gzip -6); "
          f"the snapshot each host publishes from it is {int(snap):,} bytes. "
          "nginx counts body bytes only; headers add a few hundred per "
          "request.\n")
open(out, "w").write("\n".join(md))
print("\n".join(md))
EOF
