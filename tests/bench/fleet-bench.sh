#!/bin/sh
# fleet-bench.sh: what fleet mode costs and saves (BENCHMARKS-fleet.md), at 100,000
# people by default.  Run as root through `make bench-fleet` (or with
# top_srcdir and top_builddir set); it works in a private mount namespace
# and temporary directories, with the emulator and nginx on 127.0.0.1.
#
#   fleet-bench.sh [--people N] [--groups G] [--per-user K] [--hosts H]
#                  [--out FILE] [--keep DIR] [--perf DIR]
#
# A source host lists the bridge emulator and writes the bundle and its
# manifest; nginx (gzip on, as a CDN would) serves the directory; H fleet
# hosts refresh from it in five rounds: a full download; nothing changed
# (a 304 of the manifest); an hour on, a re-confirmation (a new manifest,
# the same bundle); one person added (a delta); 1% of the people changed
# (a delta).  The later rounds run with the clock moved on through
# libfaketime, since the source re-signs only an hour-old manifest.  It
# reports the bridge requests one listing takes (what every host would
# make without fleet mode), per fleet host and round the wall and CPU
# time, peak RSS and bytes on the wire, then a day's transfer at 10,000
# hosts against the goals.  Timings are figures, never a pass or a fail.
# --perf DIR: the first host of each round runs under `perf record -g`,
# into DIR/roundR.data (its times in DIR/roundR.time), and the report
# gains a table of where its CPU went, by stage.  Whole call graphs need
# a build with frame pointers (configure CFLAGS='-O2 -g
# -fno-omit-frame-pointer'); without, most samples land in "other".
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
require_root
PEOPLE=100000 GROUPS_N=200 PER_USER=10 HOSTS=10
OUT="$top_srcdir/BENCHMARKS-fleet.md" KEEP="" PERF=""
while [ $# -gt 0 ]; do
	case $1 in
	--people) PEOPLE=$2 ;;
	--groups) GROUPS_N=$2 ;;
	--per-user) PER_USER=$2 ;;
	--hosts) HOSTS=$2 ;;
	--out) OUT=$2 ;;
	--keep) KEEP=$2 ;;
	--perf) PERF=$2 ;;
	*) fail "unknown argument $1" ;;
	esac
	shift 2
done
enter_namespace --people "$PEOPLE" --groups "$GROUPS_N" --per-user "$PER_USER" \
	--hosts "$HOSTS" --out "$OUT" ${KEEP:+--keep "$KEEP"} \
	${PERF:+--perf "$PERF"}
make_tmpdir
. "$top_srcdir/tests/helpers/tools-lib.sh" || exit 99
tools_setup
. "$top_srcdir/tests/helpers/fleet-lib.sh" || exit 99
[ -x /usr/bin/time ] || skip "needs /usr/bin/time (Debian's time)"
[ -n "$LIBFAKETIME" ] && can_fake_time ||
	skip "needs libfaketime (Debian's faketime), and no sanitizers"

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
NGINX_EXTRA="gzip on; gzip_types application/octet-stream; gzip_min_length 1000;" \
	start_nginx
SRC="$NGINX_URL/nss-scim.bundle"

# round R [OFFSET [FIRST LAST [nobase]]]: fleet hosts FIRST to LAST (all
# by default) refresh once with the clock OFFSET on, without their base
# bundle when told (so that they download the full one); MARKS gets the
# round's first line of nginx's log and its hosts.
MARKS=""
round() {
	local r=$1 off=${2:-+0} i=${3:-1} last=${4:-$HOSTS} prof
	MARKS="$MARKS $r:$(($(wc -l <"$NGINX_LOG") + 1)):$i:$last"
	while [ $i -le "$last" ]; do
		[ "$r" = 1 ] && fleet_config $i "$SRC" "$TMPD/fleet.pub" \
			"max_removed_percent = 100"
		[ "${5:-}" = nobase ] && rm -f "$TMPD/host.$i/state/fleet-base"
		prof=""
		[ -n "$PERF" ] && [ $i = "${3:-1}" ] &&
			prof="perf record -q -g -o $PERF/round$r.data --"
		measure "$TMPD/host.$i.round$r" $prof env \
			LD_PRELOAD="$LIBFAKETIME" FAKETIME="$off" \
			DONT_FAKE_MONOTONIC=1 "$SCIM_CACHE" \
			--config "$TMPD/host.$i/scim.conf" --quiet refresh ||
			fail "fleet host $i, round $r"
		[ -z "$prof" ] || cp "$TMPD/host.$i.round$r" "$PERF/round$r.time"
		i=$((i + 1))
	done
}
source_at() {
	in_future "$1" "$SCIM_CACHE" --config "$CONF" --quiet refresh ||
		fail "source refresh at $1"
}
log "round 1: $HOSTS fleet hosts download, verify and publish"
round 1
log "round 2: $HOSTS fleet hosts, manifest not modified"
round 2
log "round 3: an hour on, the source re-signs the manifest"
source_at +1h
round 3 +1h
log "round 4: one person added"
edit_data "$DATA" '
import copy
u = copy.deepcopy(d["users"][0])
u["id"] = "BENCHNEWPERSON0000000000001"
u["userName"] = "bench.newperson@example.com"
u["name"] = {"formatted": "Bench Newperson", "givenName": "Bench",
             "familyName": "Newperson"}
u["displayName"] = "Bench Newperson"
u["emails"] = [{"value": "bench.newperson@example.com", "primary": True}]
d["users"].append(u)
for g in d["groups"][:'"$PER_USER"']:
    g.setdefault("members", []).append({"value": u["id"]})
'
source_at +2h
round 4 +2h
log "round 5: 1% of the people changed"
edit_data "$DATA" '
for u in d["users"][::100]:
    u["name"]["formatted"] = u["name"].get("formatted", "") + " Changed"
    u["displayName"] = u["name"]["formatted"]
'
measure "$TMPD/source5.time" env LD_PRELOAD="$LIBFAKETIME" FAKETIME=+3h \
	DONT_FAKE_MONOTONIC=1 "$SCIM_CACHE" --config "$CONF" --quiet refresh ||
	fail "source refresh, 1% changed"
# Half the hosts apply the delta; the other half, without a base,
# download the full bundle: what a change cost each host before deltas.
half=$(((HOSTS + 1) / 2))
round 5 +3h 1 "$half"
round 6 +3h $((half + 1)) "$HOSTS" nobase
MARKS="$MARKS 7:$(($(wc -l <"$NGINX_LOG") + 1)):0:0"
manifest_bytes=$(stat -c %s "$B.manifest")
snap_bytes=$(stat -c %s "$TMPD/host.1/cache.mdb")
i=2
while [ $i -le "$HOSTS" ]; do
	cmp -s "$TMPD/host.1/cache.mdb" "$TMPD/host.$i/cache.mdb" ||
		fail "fleet host $i's snapshot differs from host 1's"
	i=$((i + 1))
done
fleet_config ref "$SRC" "$TMPD/fleet.pub" "max_removed_percent = 100"
in_future +3h "$SCIM_CACHE" --config "$TMPD/host.ref/scim.conf" --quiet \
	refresh || fail "reference host"
cmp -s "$TMPD/host.1/cache.mdb" "$TMPD/host.ref/cache.mdb" ||
	fail "the fleet's snapshots differ from one made from the full bundle"
stop_emulators
# --keep: the bundle and the public key, for profiling a fleet host.
if [ -n "$KEEP" ]; then
	mkdir -p "$KEEP"
	cp "$B" "$TMPD/fleet.pub" "$KEEP/"
fi

"$PY" - "$TMPD" "$HOSTS" "$PEOPLE" "$GROUPS_N" "$PER_USER" "$requests" \
	"$bundle_bytes" "$gzip_bytes" "$snap_bytes" "$NGINX_LOG" "$OUT" \
	"$MARKS" "$manifest_bytes" <<'EOF'
import os, platform, statistics, sys
tmp, hosts, people, groups, per, requests = sys.argv[1:7]
bundle, gz, snap, nginx_log, out, text, manifest = sys.argv[7:14]
hosts = int(hosts)
marks, span = {}, {}
for m in text.split():
    r, l, a, b = (int(x) for x in m.split(":"))
    marks[r], span[r] = l, (a, b)

def read(path):
    e, u, s, m = open(path).read().split()[-4:]
    return float(e), float(u) + float(s), int(m) / 1024

src = read(os.path.join(tmp, "source.time"))
src5 = read(os.path.join(tmp, "source5.time"))
order = sorted(marks)[:-1]  # the last mark ends the last round
rounds = {}
for r in order:
    rows = [read(os.path.join(tmp, f"host.{i}.round{r}"))
            for i in range(span[r][0], span[r][1] + 1)]
    rounds[r] = [statistics.median(c) for c in zip(*rows)] + \
        [max(x[2] for x in rows)]
log = [l.split() for l in open(nginx_log).read().split("\n") if l]
wire, files = {}, {}
for r in order:
    lines = log[marks[r] - 1:marks[r + 1] - 1]
    n = span[r][1] - span[r][0] + 1
    # Body bytes of the round over its hosts, per host.
    wire[r] = sum(int(l[3]) for l in lines) / n
    kinds = {}
    for m, uri, status, size in lines:
        kind = ("manifest" if uri.endswith(".manifest") else
                "delta" if uri.endswith(".delta") else "bundle")
        kinds[f"{kind} {status}"] = kinds.get(f"{kind} {status}", 0) + 1
    files[r] = ", ".join(f"{v / n:g} {k}" for k, v in sorted(kinds.items()))
requests = int(requests)
md = []
md.append("# Fleet mode: cost and savings\n")
md.append("Written by `tests/bench/fleet-bench.sh` (`make bench-fleet`, as root). "
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
md.append(f"The source host's first refresh (listing, mapping, its own "
          f"snapshot and the signed bundle and manifest): {src[0]:.2f} s "
          f"wall, {src[1]:.2f} s CPU, peak RSS {src[2]:.0f} MB; with 1% "
          f"changed (and deltas from the bundles before): {src5[0]:.2f} s "
          f"wall, {src5[1]:.2f} s CPU, peak RSS {src5[2]:.0f} MB.\n")
md.append("## Per fleet host\n")
md.append("| round | wall s | CPU s (user+sys) | peak RSS MB (median / max) "
          "| bytes on the wire per host (gzip) | requests per host |")
md.append("|---|---|---|---|---|---|")
names = {1: "new host: manifest, full bundle, parse, publish",
         2: "unchanged: conditional GET of the manifest, 304",
         3: "re-confirmation an hour on: new manifest, bundle held",
         4: "one person added: manifest and delta",
         5: "1% of the people changed: manifest and delta",
         6: "1% of the people changed, no base: manifest and full bundle"}
for r in order:
    x = rounds[r]
    md.append(f"| {names[r]} | {x[0]:.3f} | {x[1]:.3f} | {x[2]:.1f} / "
              f"{x[3]:.1f} | {wire[r]:,.0f} | {files[r]} |")
md.append("")
md.append(f"The bundle is {int(bundle):,} bytes ({int(gz):,} with gzip -6), "
          f"the manifest {int(manifest):,} bytes; the snapshot each host "
          f"publishes is {int(snap):,} bytes, byte-identical on every host "
          "and to one made from the full bundle. nginx counts body bytes "
          "only; headers add a few hundred per request.\n")
day = 24 * wire[3] + (96 - 24) * wire[2]
full = wire[6]
md.append("## Goals, per host, and at 10,000 hosts every 15 minutes\n")
md.append("A day is 96 refreshes; with nothing changed, 24 of them see the "
          "hourly re-confirmation (round 3) and 72 a 304 (round 2).\n")
md.append("| case | per host | goal | met | 10,000 hosts |")
md.append("|---|---|---|---|---|")

def row(name, v, goal, ok, fleet):
    md.append(f"| {name} | {v} | {goal} | {'yes' if ok else 'no'} | {fleet} |")

row("a day with no change", f"{day / 1000:,.1f} KB", "<= 200 KB",
    day <= 200e3, f"{day * 1e4 / 1e9:,.2f} GB a day")
row("one person added", f"{wire[4] / 1000:,.1f} KB", "<= 20 KB",
    wire[4] <= 20e3, f"{wire[4] * 1e4 / 1e9:,.2f} GB")
row("1% of the people changed",
    f"{wire[5] / 1000:,.1f} KB ({100 * wire[5] / full:.2f}% of the full "
    f"bundle's {full / 1e6:,.2f} MB)", "<= 5%", wire[5] <= 0.05 * full,
    f"{wire[5] * 1e4 / 1e9:,.2f} GB")
cpu, cpu_full = rounds[5][1], rounds[6][1]
row("CPU applying the 1% delta",
    f"{cpu:.3f} s ({cpu / cpu_full:.2f} of the full bundle's "
    f"{cpu_full:.3f} s for the same change)", "<= 1/3",
    cpu <= cpu_full / 3, "")
md.append("")
md.append("Before manifests the source re-signed the whole bundle hourly, "
          f"so every host downloaded {full / 1e6:,.2f} MB an hour: "
          f"{24 * full * 1e4 / 1e12:,.2f} TB a day at 10,000 hosts with "
          "nothing changed.\n")
open(out, "w").write("\n".join(md))
print("\n".join(md))
EOF
# --perf: where the profiled hosts' CPU went in each round, by stage.
[ -z "$PERF" ] || "$PY" - "$PERF" "$OUT" <<'EOF'
import collections, os, subprocess, sys
perf, out = sys.argv[1:3]
STAGES = [
    ("SHA-256 (bundle, delta, snapshot)", ("sha256_block_data_order_shaext",
      "sha256_block_data_order", "delta_sha256_hex", "delta_sha256_file")),
    ("signature, key", ("EVP_DigestVerify", "bundle_verify", "manifest_read",
      "bundle_load_public")),
    ("delta application", ("delta_apply", "delta_apply_edits")),
    ("download, gunzip", ("curl_easy_perform", "http_get_cond", "http_get")),
    ("bundle parse, changed lines", ("bundle_parse_edited",)),
    ("bundle parse (model)", ("bundle_parse",)),
    ("local rules", ("fleet_apply_local",)),
    ("live snapshot summary", ("model_sum_snapshot", "load_kept_sum")),
    ("diff, summary kept", ("model_sum_diff", "model_sum_of",
      "model_sum_patch", "remember_snapshot")),
    ("republish (copy, meta record)", ("snap_writer_republish",)),
    ("patch (changed records, copy, LMDB, checks)", ("snap_writer_patch",)),
]
READER = ("snap_get_account", "snap_getgrnam", "snap_getgrent",
          "snap_getpwent", "snap_reader_new", "snap_reader_free")

def stage(frames):
    s = set(frames)
    for name, keys in STAGES:
        if s.intersection(keys):
            return name
    if "snap_writer_publish" in s or "model_publish" in s:
        if s.intersection(READER):
            return "writer: read-back verification"
        if s.intersection(("fsync", "__fsync", "vfs_fsync_range")):
            return "writer: fsync"
        return "writer: index, encode, LMDB"
    if s.intersection(("read_file", "write_file_atomic",
                       "write_file_atomic_with")):
        return "state files (base, id map)"
    if s.intersection(("record", "status_save", "report_skipped",
                       "relog_skipped", "logmsg")):
        return "status, messages"
    return "other (start-up, libc, kernel, unwound)"

rounds = {1: "new host, full bundle", 3: "re-confirmation",
          4: "one person added, delta", 5: "1% changed, delta",
          6: "1% changed, full bundle"}
cols, names = {}, []
for r in rounds:
    data = os.path.join(perf, f"round{r}.data")
    if not os.path.exists(data):
        continue
    text = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym"],
                          capture_output=True, text=True).stdout
    c, n, frames = collections.Counter(), 0, []
    for line in text.split("\n") + [""]:
        if len(line.split()) >= 2:
            frames.append(line.split()[1].split("+")[0])
        elif frames:
            c[stage(frames)] += 1
            n += 1
            frames = []
    e, u, sy, m = open(os.path.join(perf, f"round{r}.time")).read().split()[-4:]
    cols[r] = (c, n, float(u) + float(sy))
    names += [k for k in c if k not in names]
if cols:
    md = ["", "## Where a fleet host's CPU goes", "",
          "`perf record -g` of the first host of each round (`--perf`), its "
          "samples by the stage they were in; seconds are its CPU time "
          "(user+sys, under perf) shared out by those counts.", "",
          "| stage | " + " | ".join(rounds[r] for r in cols) + " |",
          "|---|" + "---|" * len(cols)]
    first = sorted(names, key=lambda k: -cols[min(cols)][0][k])
    for k in first:
        md.append(f"| {k} | " + " | ".join(
            f"{cols[r][2] * cols[r][0][k] / cols[r][1]:.2f}"
            for r in cols) + " |")
    md.append("| all | " + " | ".join(f"{cols[r][2]:.2f}" for r in cols)
              + " |")
    md.append("")
    open(out, "a").write("\n".join(md))
    print("\n".join(md))
EOF
