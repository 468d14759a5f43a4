#!/bin/sh
# Proxies: the bearer token never goes to a proxy that the config did not
# name.  With every proxy variable of the environment pointing at a
# listener, refresh and check go straight to the bridge on 127.0.0.1 and
# the listener sees no connection.  The config's proxy key is the one way
# through a proxy: it needs an https:// url, and the request then goes as a
# CONNECT tunnel, so the proxy sees TLS and never the token.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
command -v openssl >/dev/null || skip "needs openssl"
tools_test "$@"

PROXY="$top_srcdir/tests/fixtures/tools/proxy.py"
# start_proxy NAME [--tunnel]: a proxy logging to $TMPD/NAME.log; sets
# PROXY_PORT.
start_proxy() {
	local name=$1 i=0
	shift
	"$PY" "$PROXY" --port-file "$TMPD/$name.port" --log "$TMPD/$name.log" "$@" &
	EMU_PIDS="$EMU_PIDS $!"
	while [ ! -s "$TMPD/$name.port" ]; do
		i=$((i + 1))
		[ $i -lt 600 ] || fail "proxy $name did not start"
		sleep 0.1
	done
	PROXY_PORT=$(cat "$TMPD/$name.port")
}

DATA="$TMPD/directory.json"
put_data "$EMU_DIR/sample-directory.json" "$DATA"
start_emulator plain "$DATA"
PLAIN_URL="http://127.0.0.1:$EMU_PORT/scim"
ns_nsswitch "passwd: scim" "group: scim"

# 1. Every proxy variable names a listener; none of it is used.
start_proxy trap
P="http://127.0.0.1:$PROXY_PORT"
write_config "$PLAIN_URL"
env http_proxy="$P" https_proxy="$P" all_proxy="$P" HTTP_PROXY="$P" \
	HTTPS_PROXY="$P" ALL_PROXY="$P" no_proxy= NO_PROXY= \
	"$SCIM_CACHE" --config "$CONF" check >"$TMPD/out" 2>&1 ||
	fail "check with proxy variables set: $(cat "$TMPD/out")"
env http_proxy="$P" https_proxy="$P" all_proxy="$P" HTTP_PROXY="$P" \
	HTTPS_PROXY="$P" ALL_PROXY="$P" no_proxy= NO_PROXY= \
	"$SCIM_CACHE" --config "$CONF" --quiet refresh 2>"$TMPD/out" ||
	fail "refresh with proxy variables set: $(cat "$TMPD/out")"
getent passwd ana.rodriguez >/dev/null || fail "refresh published nothing"
[ ! -s "$TMPD/trap.log" ] ||
	fail "a proxy from the environment was used: $(cat "$TMPD/trap.log")"

# 2. The health check stays under the configured base: the emulator's log
# names every path the token went to.
grep -q '"/health"\|GET /health ' "$TMPD/plain.log" ||
	fail "check did not ask /health: $(tail -n 5 "$TMPD/plain.log")"

# 3. proxy needs an https:// url, and takes no credentials.
write_config "$PLAIN_URL" "proxy = $P"
rc=0; sc check 2>"$TMPD/out" || rc=$?
[ "$rc" = 78 ] && grep -q "proxy needs an https:// url" "$TMPD/out" ||
	fail "proxy with http:// url: exit $rc: $(cat "$TMPD/out")"
[ "$(wc -l <"$TMPD/out")" = 1 ] || fail "more than one line: $(cat "$TMPD/out")"
write_config "https://127.0.0.1:1/scim" "proxy = http://user:pw@127.0.0.1:3128"
rc=0; sc check 2>"$TMPD/out" || rc=$?
[ "$rc" = 78 ] && grep -q "without user, password or path" "$TMPD/out" ||
	fail "proxy with credentials: exit $rc: $(cat "$TMPD/out")"

# 4. The configured proxy, to an https:// bridge: a CONNECT tunnel.
make_ca ca
make_server_cert ca
start_emulator tls "$DATA" --tls-cert "$TMPD/srv.pem" --tls-key "$TMPD/srv.key"
TLS_PORT=$EMU_PORT
start_proxy tunnel --tunnel
write_config "https://127.0.0.1:$TLS_PORT/scim" "ca_file = $TMPD/ca.pem" \
	"proxy = http://127.0.0.1:$PROXY_PORT"
edit_data "$DATA" 'd["users"][0]["name"]["formatted"] = "Ana Through Proxy"'
sc check >"$TMPD/out" 2>&1 || fail "check through the proxy: $(cat "$TMPD/out")"
sc --quiet refresh 2>"$TMPD/out" || fail "refresh through the proxy: $(cat "$TMPD/out")"
[ "$(getent passwd ana.rodriguez | cut -d: -f5)" = "Ana Through Proxy" ] ||
	fail "refresh through the proxy did not publish"
grep -q "^CONNECT 127.0.0.1:$TLS_PORT " "$TMPD/tunnel.log" ||
	fail "no CONNECT through the proxy: $(cat "$TMPD/tunnel.log")"
grep -v "^CONNECT " "$TMPD/tunnel.log" && fail "the proxy saw a plain request"
grep -q "AUTHORIZATION SEEN" "$TMPD/tunnel.log" && fail "the proxy saw the token"
# The environment's proxy still plays no part.
[ ! -s "$TMPD/trap.log" ] || fail "trap proxy used: $(cat "$TMPD/trap.log")"
exit 0
