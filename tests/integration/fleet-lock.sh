#!/bin/sh
# A lock survives a rename.  On a fleet host a lock is keyed by the uid the
# bundle carries (it never changes); on the source host, by the SCIM id.
# A person is locked on both, renamed upstream (same SCIM id, new
# userName), and after the source and the fleet host refresh, pam_scim
# (real libpam, through pamtester) still refuses them under the new name
# on both hosts; status says which person each lock holds now; unlocking
# by the new name lets them in again.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
. "$top_srcdir/tests/helpers/pam-lib.sh" || exit 99
require_root
command -v pamtester >/dev/null || skip "needs pamtester"
require_pam_module
enter_namespace "$@"
pam_tmpdir
. "$top_srcdir/tests/helpers/tools-lib.sh" || exit 99
tools_setup
. "$top_srcdir/tests/helpers/fleet-lib.sh" || exit 99

DATA="$TMPD/directory.json"
put_data "$EMU_DIR/sample-directory.json" "$DATA"
start_emulator bridge "$DATA"
make_keys fleet
start_nginx
write_config "http://127.0.0.1:$EMU_PORT/scim" \
	"bundle_file = $WWW/nss-scim.bundle" "bundle_key = $TMPD/fleet.key"
fleet_config 1 "$NGINX_URL/nss-scim.bundle" "$TMPD/fleet.pub"

ns_nsswitch "passwd: scim" "group: scim"
SERVICE=nss-scim-fleet-lock
ns_private_dir /etc/pam.d
ns_install_modules
printf '%s\n' "$PAM_SCIM_LINE" "account required pam_permit.so" \
	>"/etc/pam.d/$SERVICE"

refresh_both() {
	sc --quiet refresh 2>"$TMPD/out" || fail "source refresh: $(cat "$TMPD/out")"
	host 1 --quiet refresh 2>"$TMPD/out" || fail "fleet refresh: $(cat "$TMPD/out")"
}

# pt SNAPSHOT USER: pam_scim's answer for USER from SNAPSHOT.
pt() {
	NSS_SCIM_CACHE=$1 with_modules pamtester "$SERVICE" "$2" acct_mgmt 2>&1
}
admitted() {
	out=$(pt "$1" "$2") || fail "$2 refused on $1: $out"
}
refused() {
	if out=$(pt "$1" "$2"); then
		fail "$2 admitted on $1: $out"
	fi
	case $out in
	*"Your account is suspended."*) ;;
	*) fail "$2 refused on $1, but not as suspended: $out" ;;
	esac
}

refresh_both
admitted "$SNAP" ana.rodriguez
admitted "$HOST_SNAP" ana.rodriguez
sc lock ana.rodriguez 2>"$TMPD/out" || fail "source lock: $(cat "$TMPD/out")"
host 1 lock ana.rodriguez 2>"$TMPD/out" || fail "fleet lock: $(cat "$TMPD/out")"
refused "$SNAP" ana.rodriguez
refused "$HOST_SNAP" ana.rodriguez
grep -q '^uid:[0-9]* ana.rodriguez$' "$TMPD/host.1/state/locks" ||
	fail "the fleet lock is not keyed by uid: $(cat "$TMPD/host.1/state/locks")"

# Renamed upstream: same SCIM id, new userName.
edit_data "$DATA" '
for u in d["users"]:
    if u["userName"] == "ana.rodriguez@example.com":
        u["userName"] = "ana.garcia@example.com"
        u["emails"] = [{"value": "ana.garcia@example.com", "primary": True}]
'
refresh_both
for s in "$SNAP" "$HOST_SNAP"; do
	NSS_SCIM_CACHE=$s getent passwd ana.garcia >/dev/null ||
		fail "the rename did not reach $s"
	refused "$s" ana.garcia
done
# status names the person the lock holds now.
for who in source fleet; do
	if [ $who = source ]; then sc status --json; else host 1 status --json; fi >"$TMPD/st.json"
	"$PY" - "$TMPD/st.json" <<'PYEOF' || fail "$who status: $(cat "$TMPD/st.json")"
import json, sys
locks = json.load(open(sys.argv[1]))["locks"]
assert [(l["name"], l["holds"]) for l in locks] == [("ana.rodriguez", "ana.garcia")], locks
PYEOF
done
host 1 status | grep -q '^  ana.rodriguez (uid:[0-9]*), now ana.garcia$' ||
	fail "fleet status: $(host 1 status)"

# Unlocked by the new name.
sc unlock ana.garcia 2>"$TMPD/out" || fail "source unlock: $(cat "$TMPD/out")"
host 1 unlock ana.garcia 2>"$TMPD/out" || fail "fleet unlock: $(cat "$TMPD/out")"
refresh_both
admitted "$SNAP" ana.garcia
admitted "$HOST_SNAP" ana.garcia
exit 0
