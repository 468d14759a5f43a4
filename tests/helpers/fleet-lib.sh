# fleet-lib.sh: helpers of the fleet-mode tests.  Source it after
# tools-lib.sh and tools_setup.
#
# A source host lists the emulator and writes a signed bundle into $WWW;
# Debian's nginx, on 127.0.0.1 and a free port, serves $WWW; fleet hosts
# are configs of their own, each with its snapshot and state directory.

WWW="$TMPD/www"
mkdir -m 0755 -p "$WWW"
NGINX_N=0

command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || skip_missing nginx
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)

# A TCP port nobody listens on, on 127.0.0.1 (nginx cannot be given 0).
free_port() {
	"$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# start_nginx [CERT KEY]: serves $WWW (over TLS with CERT and KEY, with
# the http-level directives in NGINX_EXTRA); sets
# NGINX_URL (scheme, host and port) and NGINX_LOG, whose lines are
# "METHOD URI STATUS BYTES".  The single process stops with the test.
# Start it before a test nsswitch.conf without files: it looks up "nobody".
start_nginx() {
	local d pid i=0 listen scheme=http tls=""
	NGINX_N=$((NGINX_N + 1))
	d="$TMPD/nginx.$NGINX_N"
	mkdir -p "$d"
	NGINX_PORT=$(free_port)
	listen="127.0.0.1:$NGINX_PORT"
	if [ $# -eq 2 ]; then
		listen="$listen ssl"
		scheme=https
		tls="ssl_certificate $1; ssl_certificate_key $2;"
	fi
	cat >"$d/nginx.conf" <<EOF
daemon off;
master_process off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 512; }
http {
	log_format fleet '\$request_method \$uri \$status \$body_bytes_sent';
	access_log $d/access.log fleet;
	client_body_temp_path $d/body;
	proxy_temp_path $d/proxy;
	fastcgi_temp_path $d/fastcgi;
	uwsgi_temp_path $d/uwsgi;
	scgi_temp_path $d/scgi;
	default_type application/octet-stream;
	${NGINX_EXTRA:-}
	server {
		listen $listen;
		root $WWW;
		$tls
		location = /fail500.bundle { return 500; }
	}
}
EOF
	"$NGINX" -c "$d/nginx.conf" -p "$d" -e "$d/error.log" 2>>"$d/stderr" &
	pid=$!
	EMU_PIDS="$EMU_PIDS $pid"
	until "$PY" -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
		"$NGINX_PORT" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null ||
			fail "nginx died: $(cat "$d/stderr" "$d/error.log" 2>/dev/null)"
		i=$((i + 1))
		[ $i -lt 300 ] || fail "nginx did not start"
		sleep 0.1
	done
	NGINX_URL="$scheme://127.0.0.1:$NGINX_PORT"
	NGINX_LOG="$d/access.log"
}

# make_keys NAME: an Ed25519 key pair $TMPD/NAME.key, $TMPD/NAME.pub.
make_keys() {
	sc keygen "$TMPD/$1.key" "$TMPD/$1.pub" >/dev/null ||
		fail "keygen $1"
}

# fleet_config N SOURCE-URL KEY [extra lines...]: fleet host N's config,
# snapshot and state under $TMPD/host.N; sets HOST_CONF and HOST_SNAP.
fleet_config() {
	local n=$1 src=$2 key=$3 h
	shift 3
	h="$TMPD/host.$n"
	mkdir -p -m 0755 "$h"
	HOST_CONF="$h/scim.conf"
	HOST_SNAP="$h/cache.mdb"
	{
		echo "source = $src"
		echo "verify_key = $key"
		echo "cache_path = $HOST_SNAP"
		echo "state_dir = $h/state"
		echo "retries = 0"
		echo "lock_wait = 2"
		echo "local_passwd = ${LOCAL_PASSWD:-/etc/passwd}"
		echo "local_group = ${LOCAL_GROUP:-/etc/group}"
		for l in "$@"; do echo "$l"; done
	} >"$HOST_CONF"
	chmod 0644 "$HOST_CONF"
}

# host N ARGS...: scim-cache on fleet host N's config.
host() {
	local n=$1
	shift
	"$SCIM_CACHE" --config "$TMPD/host.$n/scim.conf" "$@"
}

# in_future OFFSET COMMAND...: runs COMMAND with the wall clock OFFSET
# ("+8d", "+2h") ahead, through Debian's libfaketime.  Not in a sanitized
# build: libfaketime and the ASan runtime deadlock at start-up; test with
# can_fake_time first.
LIBFAKETIME=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
can_fake_time() {
	[ "${SANITIZERS:-no}" != yes ]
}
in_future() {
	local off=$1
	shift
	[ -n "$LIBFAKETIME" ] || fail "needs libfaketime (Debian's faketime)"
	LD_PRELOAD="${SAN_PRELOAD:+$SAN_PRELOAD }$LIBFAKETIME" \
		FAKETIME="$off" DONT_FAKE_MONOTONIC=1 "$@"
}

# old_source: storage as a source of an older version leaves it, the
# bundle alone: its manifest and deltas go.
old_source() {
	rm -f "$WWW"/*.manifest "$WWW"/*.delta
}

# sign_text BODY OUT KEYNAME: BODY with the signature line of
# $TMPD/KEYNAME.key appended, into OUT, as the source signs a bundle or a
# manifest (openssl, so that a test can sign what no source would).
sign_text() {
	local keyid
	openssl pkeyutl -sign -inkey "$TMPD/$3.key" -rawin -in "$1" \
		-out "$TMPD/sig" 2>"$TMPD/openssl.err" ||
		fail "openssl: $(cat "$TMPD/openssl.err")"
	keyid=$("$PY" -c '
import hashlib, subprocess, sys
der = subprocess.run(["openssl", "pkey", "-in", sys.argv[1], "-pubout", "-outform", "DER"],
                     capture_output=True, check=True).stdout
print(hashlib.sha256(der[-32:]).hexdigest()[:16])' "$TMPD/$3.key")
	{
		cat "$1"
		printf 'signature ed25519 %s %s\n' "$keyid" "$(base64 -w0 "$TMPD/sig")"
	} >"$2"
}

# Runs CMD..., which must refuse: exit 1, one line that names WHAT and says
# it kept snapshot generation GEN (a basic regex) of SNAP, and SNAP byte for
# byte what BEFORE holds.  Usage: expect_refused WHAT SNAP BEFORE GEN CMD...
expect_refused() {
	local what=$1 snap=$2 before=$3 gen=$4 rc=0
	shift 4
	"$@" >"$TMPD/out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "$what: exit $rc: $(cat "$TMPD/out")"
	[ "$(wc -l <"$TMPD/out")" = 1 ] || fail "$what: not one line: $(cat "$TMPD/out")"
	grep -q "refresh failed: .*$what.*; kept snapshot generation $gen ($snap)\$" "$TMPD/out" ||
		fail "$what: $(cat "$TMPD/out")"
	cmp -s "$snap" "$before" || fail "$what: the snapshot changed"
	echo "ok: refused: $(cat "$TMPD/out")"
}
