#!/bin/sh
# tools-journal: with stderr being the journal's stream (JOURNAL_STREAM
# names its device and inode, as systemd sets it), each line scim-cache
# logs starts with its sd-daemon priority; with JOURNAL_STREAM naming
# another file, or unset, no line does.
. "$top_srcdir/tests/helpers/ops-lib.sh" || exit 99
ops_tmpdir

conf="$TMPD/nss-scim.conf"
printf 'url = https://127.0.0.1:9/scim\ntoken_file = %s/token\ncache_path = %s/cache.mdb\nstate_dir = %s/state\n' \
	"$TMPD" "$TMPD" "$TMPD" >"$conf"
chmod 0644 "$conf"

# A refresh that fails (there is no token file) and says why.
run() {
	: >"$TMPD/err"
	JOURNAL_STREAM=$1 "$SCIM_CACHE" --config "$conf" refresh 2>>"$TMPD/err" >/dev/null || true
}
: >"$TMPD/err"
stream=$(stat -c '%d:%i' "$TMPD/err")
run "$stream"
[ -s "$TMPD/err" ] || fail "the failed refresh logged nothing"
if grep -v '^<[0-7]>scim-cache: ' "$TMPD/err" | grep -q .; then
	fail "lines without a priority prefix: $(cat "$TMPD/err")"
fi
grep -q '^<3>scim-cache: ' "$TMPD/err" || fail "no <3> error line: $(cat "$TMPD/err")"
ok "under the journal every line carries its priority: $(head -n 1 "$TMPD/err")"

run "1:1"
! grep -q '^<' "$TMPD/err" || fail "prefix written to a stream that is not the journal"
run ""
! grep -q '^<' "$TMPD/err" || fail "prefix written without JOURNAL_STREAM"
grep -q '^scim-cache: ' "$TMPD/err" || fail "plain lines lost: $(cat "$TMPD/err")"
ok "elsewhere the lines stay plain"
