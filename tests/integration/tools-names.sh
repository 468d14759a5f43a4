#!/bin/sh
# Names that must never reach a host, through the real refresh and glibc's
# getent: a group "Admin" (sudoers and polkit trust admin on Ubuntu), a
# person docker@..., a zero-width space inside "Lx?D", a Cyrillic letter
# inside "admins", a bidi override; none of them is published, even though
# the test's local files have no such names, and each skip says why.
# "Équipe Paris" and "Área de TI" fold to Latin names; group_names and
# reserved_names work as documented.  A fleet host applies its own
# reserved_names to the source's bundle.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
tools_test "$@"

DATA="$TMPD/directory.json"
"$PY" - "$EMU_DIR/sample-directory.json" "$DATA" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
u0 = d["users"][0]
def person(pid, user_name):
    p = json.loads(json.dumps(u0))
    p["id"], p["userName"] = pid, user_name
    p["emails"] = [{"value": user_name, "primary": True}]
    return p
d["users"] += [person("DOCKERXXXXXXXXXXXXXXXXXXXX", "docker@example.com"),
               person("JOSEXXXXXXXXXXXXXXXXXXXXXX", "Jos\u00e9.N\u00fa\u00f1ez@example.com"),
               person("OPSBOTXXXXXXXXXXXXXXXXXXXX", "ops-robot@example.com")]
def group(gid, name):
    return {"id": gid, "displayName": name, "members": [{"value": u0["id"]}]}
d["groups"] += [group("adminxxxxxxxxxxxxxxxxxxxxx", "Admin"),
                group("lxdxxxxxxxxxxxxxxxxxxxxxxx", "Lx\u200bD"),
                group("cyrxxxxxxxxxxxxxxxxxxxxxxx", "\u0430dmins"),
                group("bidixxxxxxxxxxxxxxxxxxxxxx", "R\u202eed"),
                group("equipexxxxxxxxxxxxxxxxxxxx", "\u00c9quipe Paris"),
                group("areaxxxxxxxxxxxxxxxxxxxxxx", "\u00c1rea de TI"),
                group("cafexxxxxxxxxxxxxxxxxxxxxx", "Caf\u00e9 \u2615"),
                group("wheelxxxxxxxxxxxxxxxxxxxxx", "Wheel")]
json.dump(d, open(sys.argv[2], "w"))
PYEOF
start_emulator emu "$DATA"
# nginx serves the fleet part's bundle; it starts before the test's
# nsswitch.conf, under which it could not find its own user.
. "$top_srcdir/tests/helpers/fleet-lib.sh" || exit 99
start_nginx
URL="http://127.0.0.1:$EMU_PORT/scim"
# The local files of the test hold none of these names.
for n in admin docker lxd wheel; do
	! grep -q "^$n:" "$LOCAL_PASSWD" "$LOCAL_GROUP" 2>/dev/null ||
		fail "the test's local files hold $n"
done
write_config "$URL" "reserved_names = ops-*" \
	"group_names = Caf$(printf '\303\251') $(printf '\342\230\225') = cafe, wheelxxxxxxxxxxxxxxxxxxxxx = wheel-team"
sc refresh 2>"$TMPD/out" || fail "refresh: $(cat "$TMPD/out")"
ns_nsswitch "passwd: scim" "group: scim"

for n in docker ops-robot; do
	! getent passwd "$n" >/dev/null || fail "person $n published"
done
for n in admin docker lxd ops-robot wheel; do
	! getent group "$n" >/dev/null || fail "group $n published"
done
getent passwd jose.nunez >/dev/null || fail "José Núñez did not fold to jose.nunez"
for n in equipe-paris area-de-ti cafe wheel-team; do
	getent group "$n" >/dev/null || fail "group $n missing"
done
# Nothing outside printable ASCII and the name characters was published.
getent group | cut -d: -f1 | grep -v '^[a-z0-9._-]*$' && fail "odd group names"

# Each skip says why, on one line.
sc status --json >"$TMPD/status.json"
"$PY" - "$TMPD/status.json" <<'PYEOF' || fail "status: $(cat "$TMPD/status.json")"
import json, sys
sk = {x["scim_id"]: x for x in json.load(open(sys.argv[1]))["skipped"]}
def has(i, reason, text):
    assert sk[i]["reason"] == reason, sk[i]
    assert text in sk[i]["detail"], sk[i]
has("DOCKERXXXXXXXXXXXXXXXXXXXX", "reserved_name", "login name docker is reserved")
has("OPSBOTXXXXXXXXXXXXXXXXXXXX", "reserved_name", "listed in reserved_names")
has("adminxxxxxxxxxxxxxxxxxxxxx", "reserved_name", "group name admin is reserved")
has("lxdxxxxxxxxxxxxxxxxxxxxxxx", "invalid_name", "U+200B, an invisible")
has("cyrxxxxxxxxxxxxxxxxxxxxxxx", "invalid_name", "U+0430, not a Latin letter")
has("bidixxxxxxxxxxxxxxxxxxxxxx", "invalid_name", "U+202E, an invisible")
PYEOF
grep -q "reserved_name 3" "$TMPD/out" || fail "no reserved_name count: $(cat "$TMPD/out")"

# ---- a fleet host applies its own reserved names -------------------------
make_keys fleet
write_config "$URL" "bundle_file = $WWW/nss-scim.bundle" \
	"bundle_key = $TMPD/fleet.key"
sc --quiet refresh 2>"$TMPD/out" || fail "source refresh: $(cat "$TMPD/out")"
# The bundle never carries a reserved name either.
grep -q "	docker	" "$WWW/nss-scim.bundle" && fail "the bundle holds docker"
grep -q "^G	admin	" "$WWW/nss-scim.bundle" && fail "the bundle holds admin"
fleet_config 1 "$NGINX_URL/nss-scim.bundle" "$TMPD/fleet.pub" \
	"reserved_names = equipe-*, jose.nunez"
host 1 refresh 2>"$TMPD/out" || fail "fleet refresh: $(cat "$TMPD/out")"
NSS_SCIM_CACHE=$HOST_SNAP
export NSS_SCIM_CACHE
! getent group equipe-paris >/dev/null || fail "fleet host published equipe-paris"
! getent passwd jose.nunez >/dev/null || fail "fleet host published jose.nunez"
getent group area-de-ti >/dev/null || fail "fleet host lost area-de-ti"
grep -q "reserved_name 2" "$TMPD/out" || fail "fleet skips not reported: $(cat "$TMPD/out")"
exit 0
