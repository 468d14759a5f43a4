#!/bin/sh
# pam-lock: the whole path into a real su.  The bridge emulator serves the
# sample directory, `scim-cache refresh` publishes the snapshot at the path
# compiled into the modules (su is setuid and ignores NSS_SCIM_CACHE), and
# su runs with pam_scim.so in its account stack, in a private mount
# namespace.  Then:
#  - a person suspended in the bridge is refused;
#  - `scim-cache lock` refuses an active person at once, a refresh keeps
#    the lock, `scim-cache unlock` lets the person in again;
#  - suspending a person in the bridge and refreshing refuses them.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
. "$top_srcdir/tests/helpers/pam-lib.sh" || exit 99

require_root
require_unsanitized
command -v su >/dev/null || skip_missing su
command -v python3 >/dev/null || skip_missing python3
require_pam_module
[ -x "$top_builddir/tools/scim-cache" ] || skip "scim-cache not built"
"$top_builddir/tools/scim-cache" --help 2>&1 | grep -q 'lock USER' ||
	skip "scim-cache has no lock command"
enter_namespace "$@"
pam_tmpdir
. "$top_srcdir/tests/helpers/tools-lib.sh" || exit 99

pam_bridge_setup

ns_su_setup
cd /

refresh() {
	sc --quiet refresh 2>"$TMPD/out" || fail "refresh: $(cat "$TMPD/out")"
}

su_id() {
	su -s /bin/sh "$1" -c id 2>&1
}

# admitted USER: su works and id shows the snapshot's uid and groups.
admitted() {
	local out want
	out=$(su_id "$1") || fail "su $1 refused: $out"
	want="uid=$(id -u "$1")($1) gid=$(id -g "$1")($(id -gn "$1")) groups="
	case $out in
	"$want"*) echo "ok: su $1: $out" ;;
	*) fail "su $1: got '$out', want '$want...'" ;;
	esac
	[ "$(echo "$out" | sed 's/.*groups=//' | tr ',' '\n' | wc -l)" = "$(id -G "$1" | wc -w)" ] ||
		fail "su $1: groups differ from id -G: $out"
}

# suspended USER: su refuses, the user is told, pam_scim logs it.
suspended() {
	local out
	if out=$(su_id "$1"); then
		fail "su $1 succeeded: $out"
	fi
	case $out in
	*uid=*) fail "su $1 ran the command: $out" ;;
	*"Your account is suspended."*) ;;
	*) fail "su $1: not told: $out" ;;
	esac
	expect_log "pam_scim\\(su:account\\): access denied for user $1: account suspended\$"
	: >"$TMPD/syslog"
	echo "ok: su $1 refused"
}

refresh
[ "$(stat -c %U "$SNAP")" = root ] || fail "snapshot not at the default path"
admitted ana.rodriguez
admitted steven.thomas
# Suspended in the bridge.
suspended sven.wright

# Locked on this host: refused at once, without the bridge.
sc lock ana.rodriguez 2>"$TMPD/out" || fail "lock: $(cat "$TMPD/out")"
suspended ana.rodriguez
admitted steven.thomas
# The lock survives a refresh, even though the bridge says active.
refresh
suspended ana.rodriguez
sc unlock ana.rodriguez 2>"$TMPD/out" || fail "unlock: $(cat "$TMPD/out")"
admitted ana.rodriguez

# Suspended in the bridge, then refreshed.
edit_data "$DATA" '
for u in d["users"]:
    if u["userName"] == "steven.thomas@example.com":
        u["active"] = False
'
admitted steven.thomas
refresh
suspended steven.thomas
admitted ana.rodriguez
echo "PASS: lock"
