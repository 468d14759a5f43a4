#!/bin/sh
# The token stays out of core dumps: while a refresh waits on a slow
# bridge, its core size limit is 0, soft and hard (scim-cache also makes
# itself undumpable, which /proc does not show reliably on every kernel),
# and the token is in neither its command line, its environment nor its
# output.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
tools_test "$@"

DATA="$TMPD/directory.json"
put_data "$EMU_DIR/sample-directory.json" "$DATA"
start_emulator emu "$DATA"
write_config "http://127.0.0.1:$EMU_PORT/scim" "timeout = 30"
set_faults emu "slow:4:/Users"

"$SCIM_CACHE" --config "$CONF" --quiet refresh 2>"$TMPD/out" &
PID=$!
# The bridge holds /Users for 4 s, so the refresh lives that long; its
# limits are set as it starts.
core_limit_zero() {
	awk '/^Max core file size/ { if ($5 == 0 && $6 == 0) ok = 1 }
		END { exit !ok }' "/proc/$PID/limits" 2>/dev/null
}
i=0
until core_limit_zero; do
	kill -0 "$PID" 2>/dev/null || fail "the refresh ended before the test could look"
	i=$((i + 1))
	[ $i -lt 60 ] || fail "core dumps allowed: $(grep core "/proc/$PID/limits")"
	sleep 0.05
done
TOKEN=$(cat "$TMPD/token")
tr '\0' '\n' <"/proc/$PID/cmdline" | grep -qF "$TOKEN" && fail "token in argv"
tr '\0' '\n' <"/proc/$PID/environ" | grep -qF "$TOKEN" && fail "token in the environment"
wait "$PID" || fail "refresh: $(cat "$TMPD/out")"
grep -qF "$TOKEN" "$TMPD/out" && fail "token in the output"
exit 0
