#!/bin/sh
# The response size cap at its edge: an answer of exactly SCIM_BODY_MAX
# bytes is read, one byte more is refused, and neither changes the
# snapshot.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
tools_test "$@"

DATA="$TMPD/directory.json"
put_data "$EMU_DIR/sample-directory.json" "$DATA"
start_emulator emu "$DATA"
write_config "http://127.0.0.1:$EMU_PORT/scim"

expect_rc() {
	local want=$1 rc=0
	shift
	"$@" >"$TMPD/out" 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "$*: exit $rc, want $want: $(cat "$TMPD/out")"
}
expect_rc 0 sc refresh

# ---- the response size cap ---------------------------------------------
# SCIM_BODY_MAX (tools/scim/scim.h) is 256 MiB.  A server sends an empty
# listing padded with white space to exactly that size: it is read (and
# the empty directory refused by its own guard, exit 2); one byte more is
# refused as too large (exit 1).  Both keep the snapshot.
cap=$(sed -n 's/^#define SCIM_BODY_MAX *(\([0-9]*\)u << 20)$/\1/p' "$top_srcdir/tools/scim/scim.h")
[ -n "$cap" ] || fail "SCIM_BODY_MAX not found in tools/scim/scim.h"
cap=$((cap << 20))
cat >"$TMPD/big.py" <<'PYEOF'
import http.server, sys
size, portfile = int(sys.argv[1]), sys.argv[2]
body = (b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],'
        b'"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}')
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/scim+json")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        self.wfile.write(body)
        pad, left = b" " * (1 << 20), size - len(body)
        try:
            while left > 0:
                n = min(left, len(pad))
                self.wfile.write(pad[:n])
                left -= n
        except (BrokenPipeError, ConnectionResetError):
            pass
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(portfile + ".tmp", "w").write(str(s.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
s.serve_forever()
PYEOF
# big SIZE: serves SIZE-byte answers; sets BIG_URL.
big() {
	rm -f "$TMPD/big.port"
	"$PY" "$TMPD/big.py" "$1" "$TMPD/big.port" &
	EMU_PIDS="$EMU_PIDS $!"
	i=0
	while [ ! -s "$TMPD/big.port" ]; do
		i=$((i + 1))
		[ $i -lt 600 ] || fail "the big-answer server did not start"
		sleep 0.1
	done
	BIG_URL="http://127.0.0.1:$(cat "$TMPD/big.port")/scim"
}
cp "$SNAP" "$TMPD/snap.before-big"
big "$cap"
write_config "$BIG_URL"
expect_rc 2 sc refresh
grep -q 'refresh refused: the bridge lists no usable person' "$TMPD/out" ||
	fail "an answer of exactly $cap bytes: $(cat "$TMPD/out")"
big $((cap + 1))
write_config "$BIG_URL"
expect_rc 1 sc refresh
grep -q "refresh failed: GET /scim/Users?startIndex=1&count=100: response larger than $cap bytes" "$TMPD/out" ||
	fail "an answer of $cap + 1 bytes: $(cat "$TMPD/out")"
cmp -s "$SNAP" "$TMPD/snap.before-big" || fail "a refused answer changed the snapshot"
echo "ok: an answer of exactly $cap bytes is read, one byte more is refused"
exit 0
