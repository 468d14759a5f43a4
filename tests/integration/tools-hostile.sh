#!/bin/sh
# A hostile directory: names with ':', newlines, control characters, a
# leading '-', all digits, over 32 bytes; people named root and daemon; two
# people and two groups mapping to one name; groups named like local
# groups.  Nothing invalid is emitted, no local entry is shadowed, and the
# warnings are collapsed with a count.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
tools_test "$@"

DATA="$TMPD/directory.json"
put_data "$EMU_DIR/hostile-directory.json" "$DATA"
start_emulator emu "$DATA"
write_config "http://127.0.0.1:$EMU_PORT/scim"

sc refresh 2>"$TMPD/out" || fail "refresh: $(cat "$TMPD/out")"
# No raw control character reaches the terminal or the log.
! LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$TMPD/out" ||
	fail "control characters in the output"
n=$(grep -c '^scim-cache: skipped \(person\|group\) ' "$TMPD/out" || true)
[ "$n" = 5 ] || fail "want 5 skipped entries named, got $n: $(cat "$TMPD/out")"
grep -q '^scim-cache: \.\.\. and [0-9]* more skipped; see scim-cache status$' "$TMPD/out" ||
	fail "no collapsed count: $(cat "$TMPD/out")"
grep -q '^scim-cache: skipped [0-9]* people and [0-9]* groups (.*invalid_name [0-9]*' "$TMPD/out" ||
	fail "no per-reason count: $(cat "$TMPD/out")"

# Exactly what the independent model predicts.
ns_nsswitch "passwd: scim" "group: scim"
expect_entries "$DATA"
getent passwd >"$TMPD/got.passwd"
getent group >"$TMPD/got.group"
diff -u "$TMPD/want.passwd" "$TMPD/got.passwd" || fail "getent passwd differs"
diff -u "$TMPD/want.group" "$TMPD/got.group" || fail "getent group differs"

# Invariants, whatever the model says.
awk -F: -v min="$ID_MIN" -v max="$ID_MAX" '
	NF != 7 { print "bad field count: " $0; bad = 1 }
	$1 !~ /^[A-Za-z0-9._][A-Za-z0-9._-]*$/ || length($1) > 32 || $1 ~ /^[0-9]+$/ {
		print "bad name: " $1; bad = 1 }
	$3 < min || $3 > max || $4 < min || $4 > max { print "bad id: " $0; bad = 1 }
	END { exit bad }' "$TMPD/got.passwd" || fail "invalid passwd entry"
awk -F: '$1 !~ /^[A-Za-z0-9._][A-Za-z0-9._-]*$/ || $1 ~ /^[0-9]+$/ { print; bad = 1 }
	END { exit bad }' "$TMPD/got.group" || fail "invalid group entry"
for name in root daemon jane.doe; do
	! getent passwd "$name" >/dev/null || fail "$name must not come from the snapshot"
done
for name in root engineering 4242 -wheel; do
	! getent group -- "$name" >/dev/null || fail "group $name must not be emitted"
done
getent passwd alice.smith >/dev/null || fail "alice.smith missing"
getent passwd carol.white >/dev/null || fail "suspended carol.white missing"
# Local names win and are never shadowed, with files first.
ns_nsswitch "passwd: files scim" "group: files scim"
[ "$(id -u root)" = 0 ] || fail "root shadowed"
[ "$(getent group root | cut -d: -f3)" = 0 ] || fail "group root shadowed"
if getent group sudo >/dev/null; then
	[ "$(getent group sudo | cut -d: -f3)" -lt 65536 ] || fail "group sudo shadowed"
fi

# status names every skipped entry and why, printable.
sc status --json >"$TMPD/status.json"
"$PY" - "$TMPD/status.json" <<'PYEOF' || fail "status --json skipped"
import json, sys
s = json.load(open(sys.argv[1]))
sk = s["skipped"]
reasons = {(x["scim_id"], x["reason"]) for x in sk}
want = {("AXSBTNZR3PACE4DXS3PL6OU5PU", "local_name"),      # root
        ("2KQUCKEDY4DMKQF77ESQEWEMBY", "local_name"),      # daemon
        ("NIZGFZM565KEDQNR5F4YJBZMYA", "invalid_name"),    # ev:il
        ("UKF5U3AICUFFIJUEWQHURHVPSI", "invalid_name"),    # newline
        ("HGOUIZIAQQ3FGH7SRNH2HZ43JA", "invalid_name"),    # control chars
        ("KSKFJ5UTFOJTDYSRDUBZ2I5MOU", "invalid_name"),    # leading -
        ("JXEBLUX2UNMENQ6HK6EKP6S6OA", "invalid_name"),    # all digits
        ("44LZYRPAM2ZLZFHILUDEHB5HUE", "invalid_name"),    # too long
        ("SYHOCWEZF2IV6E2X4S5SBIDIJE", "name_collision"),  # jane.doe x2
        ("3O5XOAKTTRAF7UL2SOLB3IGOWA", "name_collision"),
        ("ghkxjdeu5h2pdyjmubrgemq5ja", "name_collision"),  # Engineering x2
        ("gxvcklfvnyysaaxwrsrv3vzz5a", "name_collision"),
        ("w7jrkpm6sgyixd6lxqkw26dype", "local_name"),      # group root
        ("u5nkttibzvglxomag54booalva", "invalid_name"),    # 4242
        ("ifaku2mztgnzvjmtdx5yt32ide", "invalid_name")}    # -wheel
missing = want - reasons
assert not missing, missing
for x in sk:
    assert all(0x20 <= ord(c) < 0x7f for c in x["detail"]), x
assert s["skipped_by_reason"]["invalid_name"] >= 8, s["skipped_by_reason"]
PYEOF
exit 0
