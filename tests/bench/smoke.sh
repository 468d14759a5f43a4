#!/bin/sh
# The benchmark harness works: a short run at 1,000 people measures every
# operation on every backend and writes a report.  Timings never fail it;
# a wrong answer from a backend does.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
require_root
# Timings mean nothing under the sanitizers, and bench-nss runs system
# programs (id) that cannot load sanitized modules.
[ "${SANITIZERS:-no}" != yes ] || skip "not run in a sanitized build"
command -v "${PYTHON3:-python3}" >/dev/null || skip_missing python3
ldconfig -p | grep -q 'libnss_cache\.so\.2' || skip_missing "libnss-cache"
[ -f "$top_builddir/tests/bench/.libs/libnss_floor.so.2" ] ||
	fail "libnss_floor.so.2 not built"

out=$(mktemp "${TMPDIR:-/tmp}/nss-scim-bench.XXXXXX")
trap 'rm -f "$out"' EXIT
"${SHELL:-/bin/sh}" "$top_srcdir/tests/bench/run-bench.sh" --smoke --sets 1k --out "$out"
for row in "getpwnam hit" "getpwnam miss" "getpwuid" "getgrouplist" \
	"getpwnam, uniformly random over" "getpwnam, uniformly random, after" \
	"enumerate all people" \
	"first lookup in a fresh process |" "getpwnam, 2 threads"; do
	# The results row, not a goal that starts the same.
	line=$(grep -F "| $row" "$out" | head -n 1)
	[ -n "$line" ] || fail "no row '$row' in the report"
	# scim, files and cache each have a figure.
	echo "$line" | awk -F'|' '{ for (i = 5; i <= 7; i++) if ($i !~ /[0-9]/) exit 1 }' ||
		fail "missing figure in: $line"
done
grep -q '^| `id USER`' "$out" || fail "no id row"
echo "benchmark harness ran; report has every row"
