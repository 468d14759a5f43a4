#!/bin/sh
# ops-metrics: the metrics_file that scim-cache writes after a refresh
# against the bridge emulator passes `promtool check metrics` (Prometheus'
# own linter) after a success, after a failure and after a refusal, and
# carries the figures that scim-cache(8) documents.
#
# promtool comes from Debian's prometheus package, unpacked (never
# installed) into a cache directory outside the tree: by ./quickstart test,
# or here with apt-get download when it is missing.  Without it: skip.
. "$top_srcdir/tests/helpers/ops-lib.sh" || exit 99
require_root
require_cmd "$PY"
ops_tmpdir

PROMTOOL_CACHE=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/nss-scim/prometheus
find_promtool() {
	PROMTOOL=$(command -v promtool 2>/dev/null) && return 0
	PROMTOOL="$PROMTOOL_CACHE/usr/bin/promtool"
	[ -x "$PROMTOOL" ]
}
if ! find_promtool; then
	command -v apt-get >/dev/null && command -v dpkg >/dev/null ||
		skip_missing "promtool, and apt-get to fetch it"
	mkdir -p "$TMPD/deb"
	(cd "$TMPD/deb" && timeout 300 apt-get download -q prometheus) >"$TMPD/apt.out" 2>&1 ||
		skip_missing "promtool (apt-get download prometheus failed: $(tail -n 3 "$TMPD/apt.out"))"
	mkdir -p "$PROMTOOL_CACHE"
	dpkg -x "$TMPD"/deb/prometheus_*.deb "$PROMTOOL_CACHE" || skip_missing "promtool (cannot unpack prometheus)"
	find_promtool || skip_missing "promtool (not in the prometheus package)"
fi
ok "promtool: $PROMTOOL"

check_metrics() {
	"$PROMTOOL" check metrics <"$PROM" >"$TMPD/promtool.out" 2>&1 ||
		fail "promtool check metrics ($1): $(cat "$TMPD/promtool.out")"
	[ ! -s "$TMPD/promtool.out" ] ||
		fail "promtool check metrics ($1) complains: $(cat "$TMPD/promtool.out")"
	[ "$(stat -c %a "$PROM")" = 644 ] || fail "metrics file mode $(stat -c %a "$PROM")"
	ok "promtool check metrics: $1"
}
metric() {
	grep -Eq "^$1$" "$PROM" || fail "no '$1' in the metrics: $(cat "$PROM")"
}

mkdir -m 0755 "$TMPD/snap"
umask 077
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMPD/token"
umask 022
start_bridge "$TMPD/token"
PROM="$TMPD/textfile/nss-scim.prom"
mkdir -p "$TMPD/textfile"
cat >"$TMPD/scim.conf" <<EOF
url = http://127.0.0.1:$EMU_PORT/scim
token_file = $TMPD/token
cache_path = $TMPD/snap/cache.mdb
state_dir = $TMPD/state
metrics_file = $PROM
retries = 0
EOF
sc() { "$SCIM_CACHE" --config "$TMPD/scim.conf" "$@"; }

sc refresh 2>"$TMPD/out" || fail "refresh: $(cat "$TMPD/out")"
check_metrics "after a successful refresh"
metric 'scim_cache_snapshot_present 1'
metric 'scim_cache_snapshot_generation 1'
metric 'scim_cache_snapshot_age_seconds [0-9.e+-]+'
metric 'scim_cache_people 50'
metric 'scim_cache_people_active 49'
metric 'scim_cache_people_suspended 1'
metric 'scim_cache_groups 58'
metric 'scim_cache_last_success_timestamp_seconds [1-9][0-9.e+]*'
metric 'scim_cache_last_duration_seconds [0-9.e+-]+'
metric 'scim_cache_http_requests_total\{code="200"\} [1-9][0-9]*'
metric 'scim_cache_refreshes_total\{result="success"\} 1'
metric 'scim_cache_refused_refreshes_total 0'
grep -q '^scim_cache_skipped_entries{reason="[a-z_]*"} 0$' "$PROM" ||
	fail "no skipped entries by reason"

# A rejected token: the refresh fails, the metrics say so, still valid.
echo wrong >"$TMPD/token.bad"
chmod 0600 "$TMPD/token.bad"
sed -i "s|^token_file = .*|token_file = $TMPD/token.bad|" "$TMPD/scim.conf"
if sc refresh 2>"$TMPD/out"; then fail "refresh with a bad token succeeded"; fi
check_metrics "after a failed refresh"
metric 'scim_cache_last_refresh_success 0'
metric 'scim_cache_http_errors_total\{code="401"\} [1-9][0-9]*'
metric 'scim_cache_refreshes_total\{result="failure"\} 1'
metric 'scim_cache_snapshot_generation 1'

# Most people gone: refused by the mass-removal guard.
sed -i "s|^token_file = .*|token_file = $TMPD/token|" "$TMPD/scim.conf"
"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["users"] = d["users"][:10]
json.dump(d, open(sys.argv[2], "w"))' \
	"$top_srcdir/tests/emulator/sample-directory.json" "$TMPD/small.json"
kill $OPS_BG
wait $OPS_BG 2>/dev/null || true
OPS_BG=""
start_bridge "$TMPD/token" --data "$TMPD/small.json"
sed -i "s|^url = .*|url = http://127.0.0.1:$EMU_PORT/scim|" "$TMPD/scim.conf"
rc=0
sc refresh 2>"$TMPD/out" || rc=$?
[ $rc = 2 ] || fail "mass removal: exit $rc, want 2: $(cat "$TMPD/out")"
check_metrics "after a refused refresh"
metric 'scim_cache_refused_refreshes_total 1'
metric 'scim_cache_refreshes_total\{result="refused"\} 1'
