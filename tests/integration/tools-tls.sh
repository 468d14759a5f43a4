#!/bin/sh
# HTTPS: a bridge whose certificate comes from a CA the test makes with
# openssl.  ca_file adds that CA and the refresh succeeds; without it, with
# another CA, or under a name the certificate does not carry, the refresh
# fails with a TLS error and the snapshot is kept byte for byte.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
command -v openssl >/dev/null || skip_missing openssl
tools_test "$@"

make_ca ca
make_ca otherca
make_server_cert ca

DATA="$TMPD/directory.json"
put_data "$EMU_DIR/sample-directory.json" "$DATA"
start_emulator tls "$DATA" --tls-cert "$TMPD/srv.pem" --tls-key "$TMPD/srv.key"
URL="https://127.0.0.1:$EMU_PORT/scim"
ns_nsswitch "passwd: scim" "group: scim"

write_config "$URL" "ca_file = $TMPD/ca.pem"
sc check >"$TMPD/out" 2>&1 || fail "check over TLS: $(cat "$TMPD/out")"
grep -q 'version 2.9.16' "$TMPD/out" || fail "check: no version: $(cat "$TMPD/out")"
sc --quiet refresh || fail "refresh over TLS with ca_file"
getent passwd ana.rodriguez >/dev/null || fail "lookup after TLS refresh"
cp "$SNAP" "$TMPD/snap.good"
# Publish something new on success so that a failure is visible.
edit_data "$DATA" 'd["users"][0]["name"]["formatted"] = "Ana R."'

# tls_fails WHAT: one failure line naming WHAT; snapshot unchanged.
TLS_FAULTS=0
tls_fails() {
	TLS_FAULTS=$((TLS_FAULTS + 1))
	local rc=0
	sc refresh 2>"$TMPD/out" || rc=$?
	[ "$rc" = 1 ] || fail "$1: exit $rc: $(cat "$TMPD/out")"
	grep -q "refresh failed: .*$1.*; kept snapshot generation 1 ($SNAP)" "$TMPD/out" ||
		fail "$1: $(cat "$TMPD/out")"
	cmp "$SNAP" "$TMPD/snap.good" || fail "$1: snapshot changed"
	getent passwd ana.rodriguez >/dev/null || fail "$1: lookups broken"
}

# The system CAs alone do not know the test CA.
write_config "$URL"
tls_fails "TLS failure"
rc=0; sc check >"$TMPD/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q 'check failed: .*TLS failure' "$TMPD/out" ||
	fail "check without the CA: $(cat "$TMPD/out")"
# Another CA.
write_config "$URL" "ca_file = $TMPD/otherca.pem"
tls_fails "TLS failure"
# The right CA, but a host name the certificate does not name.
write_config "https://localhost:$EMU_PORT/scim" "ca_file = $TMPD/ca.pem"
tls_fails "TLS failure"
# A ca_file that holds no certificate.
echo "not a certificate" >"$TMPD/junk.pem"
write_config "$URL" "ca_file = $TMPD/junk.pem"
tls_fails "no PEM certificate"
# Back to the right CA: the change goes through.
write_config "$URL" "ca_file = $TMPD/ca.pem"
sc --quiet refresh || fail "refresh after the failures"
[ "$(getent passwd ana.rodriguez | cut -d: -f5)" = "Ana R." ] || fail "change not published"
[ "$TLS_FAULTS" = 4 ] || fail "$TLS_FAULTS TLS faults, want 4"
echo "$TLS_FAULTS TLS faults (no CA, another CA, another host name, a CA file without a certificate), each refused with the snapshot kept"
exit 0
