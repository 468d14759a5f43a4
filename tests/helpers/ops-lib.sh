# ops-lib.sh: helpers of the operations tests (tests/ops-*.sh): install
# layout, man pages, units, metrics and the demo.  Sourced first; reads
# top_srcdir and top_builddir from the environment automake gives.
set -eu

: "${top_srcdir:?run through make check}"
: "${top_builddir:?run through make check}"

SKIP=77
PY=${PYTHON3:-python3}
SCIM_CACHE="$top_builddir/tools/scim-cache"
OPS_BG=""

# In a sanitized build, scim-cache runs with the sanitizers' runtime; leak
# checking is off as in the other tests (tests/helpers/lib.sh).
if [ "${SANITIZERS:-no}" = yes ]; then
	ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:exitcode=86${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=86"
	export ASAN_OPTIONS UBSAN_OPTIONS
fi

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit $SKIP
}

ok() {
	echo "ok: $*"
}

require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root"
}

# A test that cannot run for want of WHAT skips; under CI (CI=true) it
# fails instead, naming what is missing.
skip_missing() {
	[ "${CI:-}" != true ] || fail "missing $1 (CI must have it: see quickstart)"
	skip "needs $1"
}

require_cmd() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_missing "$c"
	done
}

# A temporary directory, removed at exit after the background processes
# that the test started (track) are stopped.
ops_tmpdir() {
	TMPD=$(mktemp -d "${TMPDIR:-/tmp}/nss-scim-ops.XXXXXX")
	chmod 0755 "$TMPD"
	trap ops_cleanup EXIT
	trap 'exit 1' HUP INT TERM
}

ops_cleanup() {
	set +e
	for p in $OPS_BG; do kill "$p" 2>/dev/null; done
	for p in $OPS_BG; do wait "$p" 2>/dev/null; done
	rm -rf "$TMPD"
}

track() {
	OPS_BG="$OPS_BG $1"
}

# make in the build tree, on its own: not as a part of the make check that
# runs us (no jobserver, no inherited flags).
build_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		make -s --no-print-directory -C "$top_builddir" "$@"
}

# build_var NAME...: the values of make variables of the build tree, one a
# line, fully expanded (installation directories follow configure).
build_var() {
	{
		echo 'ops-print-vars:'
		for v in "$@"; do printf '\t@echo "ops-var $(%s)"\n' "$v"; done
	} >"$TMPD/print-vars.mk"
	# Anything else make says (a Makefile regenerated first) is dropped.
	build_make -f Makefile -f "$TMPD/print-vars.mk" ops-print-vars |
		sed -n 's/^ops-var //p'
}

# start_bridge TOKENFILE [emulator options]: the SCIM bridge emulator on
# 127.0.0.1 with the sample directory; sets EMU_PORT.
start_bridge() {
	local token=$1 i=0 pid
	shift
	rm -f "$TMPD/emu.port"
	"$PY" "$top_srcdir/tests/emulator/scim-bridge-emulator.py" \
		--data "$top_srcdir/tests/emulator/sample-directory.json" \
		--token-file "$token" --port-file "$TMPD/emu.port" \
		--log "$TMPD/emu.log" "$@" 2>>"$TMPD/emu.err" &
	pid=$!
	track "$pid"
	while [ ! -s "$TMPD/emu.port" ]; do
		kill -0 "$pid" 2>/dev/null || fail "emulator died: $(cat "$TMPD/emu.err")"
		i=$((i + 1))
		[ $i -lt 300 ] || fail "emulator did not start"
		sleep 0.1
	done
	EMU_PORT=$(cat "$TMPD/emu.port")
}
