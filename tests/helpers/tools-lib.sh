# tools-lib.sh: helpers of the scim-cache integration tests.  Source it
# after lib.sh, require_root, enter_namespace and make_tmpdir; then call
# tools_setup.

SCIM_CACHE="$top_builddir/tools/scim-cache"
EMU="$top_srcdir/tests/emulator/scim-bridge-emulator.py"
EMU_DIR="$top_srcdir/tests/emulator"
EXPECT="$top_srcdir/tests/fixtures/tools/expect.py"
PY=${PYTHON3:-python3}
ID_MIN=1879048192
ID_MAX=2147352575
EMU_PIDS=""

# Stops the emulators the test started.
stop_emulators() {
	for p in $EMU_PIDS; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	EMU_PIDS=""
}

# lib.sh's cleanup calls test_cleanup at exit; a test library sourced
# before this one (pam-lib.sh) may already define it to call us too.
command -v test_cleanup >/dev/null 2>&1 || test_cleanup() { stop_emulators; }

tools_cleanup() {
	test_cleanup
	rm -rf "$TMPD"
}

# A snapshot directory, a state directory, a token, and the environment
# that points glibc's NSS at the built module and the test snapshot.
tools_setup() {
	# A lib.sh with a cleanup() hook runs test_cleanup itself.
	command -v cleanup >/dev/null 2>&1 || trap tools_cleanup EXIT
	trap 'exit 1' INT TERM
	mkdir -m 0755 "$TMPD/snap"
	SNAP="$TMPD/snap/cache.mdb"
	STATE="$TMPD/state"
	CONF="$TMPD/scim.conf"
	printf 'token-%s-%s\n' "$$" "$(date +%s)" >"$TMPD/token"
	chmod 0600 "$TMPD/token"
	use_built_module "$SNAP"
	# Known local files, whatever the host has (scim-cache's local_passwd
	# and local_group; nothing is mounted over the real ones).
	LOCAL_PASSWD="$top_srcdir/tests/fixtures/tools/passwd"
	LOCAL_GROUP="$top_srcdir/tests/fixtures/tools/group"
}

# start_emulator NAME DATA [emulator options]: starts it on 127.0.0.1 and
# sets EMU_PORT.  Its faults come from $TMPD/NAME.control (set_faults).
start_emulator() {
	local name=$1 data=$2 pid i=0
	shift 2
	rm -f "$TMPD/$name.port"
	"$PY" "$EMU" --data "$data" --token-file "$TMPD/token" \
		--port-file "$TMPD/$name.port" --control "$TMPD/$name.control" \
		--log "$TMPD/$name.log" "$@" 2>>"$TMPD/$name.err" &
	pid=$!
	EMU_PIDS="$EMU_PIDS $pid"
	while [ ! -s "$TMPD/$name.port" ]; do
		kill -0 "$pid" 2>/dev/null ||
			fail "emulator $name died: $(cat "$TMPD/$name.err")"
		i=$((i + 1))
		[ $i -lt 600 ] || fail "emulator $name did not start"
		sleep 0.1
	done
	EMU_PORT=$(cat "$TMPD/$name.port")
}

# set_faults NAME [SPEC...]: replaces the emulator's fault list at once.
set_faults() {
	local name=$1
	shift
	"$PY" -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@" \
		>"$TMPD/$name.control.tmp"
	mv "$TMPD/$name.control.tmp" "$TMPD/$name.control"
}

# write_config URL [extra "key = value" lines...] into $CONF.
write_config() {
	local url=$1
	shift
	{
		echo "# written by $0"
		echo "url = $url"
		echo "token_file = $TMPD/token"
		echo "cache_path = $SNAP"
		echo "state_dir = $STATE"
		echo "retries = 1"
		echo "lock_wait = 2"
		# Set by tools_setup; callers that set up by hand keep the
		# defaults (/etc/passwd, /etc/group).
		if [ -n "${LOCAL_PASSWD:-}" ]; then
			echo "local_passwd = $LOCAL_PASSWD"
			echo "local_group = $LOCAL_GROUP"
		fi
		for l in "$@"; do echo "$l"; done
	} >"$CONF"
	chmod 0644 "$CONF"
}

# sc ARGS...: runs scim-cache on $CONF.
sc() {
	"$SCIM_CACHE" --config "$CONF" "$@"
}

# A field of the live snapshot, from status --json.
snap_field() {
	sc status --json | "$PY" -c \
		'import json, sys; print(json.load(sys.stdin)["snapshot"][sys.argv[1]])' "$1"
}

# copy_data SRC DST: the emulator re-reads its data file when it changes;
# replace it atomically.
put_data() {
	cp "$1" "$2.tmp"
	mv "$2.tmp" "$2"
}

# edit_data FILE PYTHON: runs PYTHON with d = the data, then saves d.
edit_data() {
	"$PY" - "$1" "$2" <<'PYEOF'
import json, os, sys
path, code = sys.argv[1], sys.argv[2]
d = json.load(open(path))
exec(code)
json.dump(d, open(path + ".tmp", "w"), indent=1)
os.rename(path + ".tmp", path)
PYEOF
}

# expect_entries DATA: the exact getent passwd/group lines into
# $TMPD/want.passwd and $TMPD/want.group.
expect_entries() {
	local data=$1
	shift
	"$PY" "$EXPECT" "$data" --min "$ID_MIN" --max "$ID_MAX" \
		--passwd "$TMPD/want.passwd" --group "$TMPD/want.group" \
		--local-passwd "${LOCAL_PASSWD:-/etc/passwd}" \
		--local-group "${LOCAL_GROUP:-/etc/group}" "$@"
}


# make_ca NAME: a self-signed test CA in $TMPD/NAME.pem, key NAME.key.
make_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$TMPD/$1.key" -out "$TMPD/$1.pem" -days 2 \
		-subj "/CN=nss-scim test $1" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
		fail "openssl: cannot make CA $1"
}

# make_server_cert CA: a certificate for 127.0.0.1 signed by make_ca's CA,
# in $TMPD/srv.pem with its key in $TMPD/srv.key.
make_server_cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$TMPD/srv.key" -out "$TMPD/srv.csr" -subj "/CN=127.0.0.1" \
		2>/dev/null || fail "openssl: server key"
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$TMPD/srv.ext"
	openssl x509 -req -in "$TMPD/srv.csr" -CA "$TMPD/$1.pem" -CAkey "$TMPD/$1.key" \
		-CAcreateserial -out "$TMPD/srv.pem" -days 2 -extfile "$TMPD/srv.ext" \
		2>/dev/null || fail "openssl: server certificate"
}
