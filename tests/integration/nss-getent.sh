#!/bin/sh
# getent, id and enumeration through glibc's own NSS path return exactly the
# fixture's people and groups; local entries win; a 10,000-member group
# comes through glibc's ERANGE retry.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
require_root
enter_namespace "$@"
make_tmpdir

fix="$top_srcdir/tests/fixtures"
mkdir -m 0755 "$TMPD/snap"
snap="$TMPD/snap/cache.mdb"
build_snapshot "$snap" "$fix/passwd" "$fix/group" --inactive carol \
	--id-min 200000 --id-max 299999
use_built_module "$snap"

# Exact comparison, scim only.
ns_nsswitch "passwd: scim" "group: scim"
sed 's/^\([^:]*\):x:/\1:*:/' "$fix/passwd" >"$TMPD/want.passwd"
sed 's/^\([^:]*\):x:/\1:*:/' "$fix/group" | sort -t: -k3,3n >"$TMPD/want.group"
getent passwd >"$TMPD/got.passwd"
getent group >"$TMPD/got.group"
diff -u "$TMPD/want.passwd" "$TMPD/got.passwd" || fail "getent passwd differs"
diff -u "$TMPD/want.group" "$TMPD/got.group" || fail "getent group differs"

[ "$(getent passwd alice)" = "alice:*:200001:200001:Alice Example:/home/alice:/bin/bash" ] ||
	fail "getent passwd alice"
[ "$(getent passwd 200004)" = "dave.smith:*:200004:200004:Dave Smith,Room 4,,:/home/dave.smith:/bin/sh" ] ||
	fail "getent passwd 200004"
[ "$(getent group engineering)" = "engineering:*:210001:alice,bob,dave.smith" ] ||
	fail "getent group engineering"
[ "$(getent group 210002)" = "ops:*:210002:bob,carol" ] || fail "getent group 210002"
# Suspended people still resolve: their files keep an owner.
getent passwd carol >/dev/null || fail "suspended carol must resolve"
rc=0; getent passwd nosuchuser || rc=$?
[ "$rc" = 2 ] || fail "missing user: getent exit $rc, want 2"
rc=0; getent passwd 'bad:name' || rc=$?
[ "$rc" = 2 ] || fail "invalid name: getent exit $rc, want 2"

# initgroups and id go through initgroups_dyn.
[ "$(getent initgroups bob | tr -s ' ')" = "bob 210001 210002" ] ||
	fail "getent initgroups bob: $(getent initgroups bob)"
[ "$(id alice)" = "uid=200001(alice) gid=200001(alice) groups=200001(alice),210001(engineering)" ] ||
	fail "id alice: $(id alice)"
[ "$(id -G bob)" = "200002 210001 210002" ] || fail "id -G bob: $(id -G bob)"

# With files first, a local name wins over a snapshot entry of that name.
ns_nsswitch "passwd: files scim" "group: files scim" "initgroups: files scim"
[ "$(getent passwd daemon | cut -d: -f3)" = "$(awk -F: '$1=="daemon"{print $3}' /etc/passwd)" ] ||
	fail "local daemon must win"
[ "$(id -u daemon)" != 200005 ] || fail "id daemon resolved to the snapshot"
[ "$(id -u alice)" = 200001 ] || fail "id -u alice with files first"
n=$(getent passwd | grep -c ':200[0-9][0-9][0-9]:')
[ "$n" -ge 5 ] || fail "enumeration with files first shows $n snapshot users"

# A 10,000-member group: far beyond glibc's first buffer.
: >"$TMPD/big.passwd"
members=""
i=1
while [ $i -le 10000 ]; do
	printf 'm%05d:x:%d:%d:Member %d:/home/m%05d:/bin/sh\n' $i $((220000 + i)) $((220000 + i)) $i $i
	i=$((i + 1))
done >"$TMPD/big.passwd"
cut -d: -f1 "$TMPD/big.passwd" | paste -sd, >"$TMPD/members"
printf 'big:x:240000:%s\n' "$(cat "$TMPD/members")" >"$TMPD/big.group"
build_snapshot "$snap" "$TMPD/big.passwd" "$TMPD/big.group" \
	--id-min 200000 --id-max 299999 --generation 2
ns_nsswitch "passwd: scim" "group: scim"
got=$(getent group big)
[ "$got" = "big:*:240000:$(cat "$TMPD/members")" ] || fail "big group differs"
[ "$(getent group 240000 | cut -d: -f4 | tr , '\n' | wc -l)" = 10000 ] ||
	fail "getent group 240000 member count"
[ "$(id -G m05000)" = "225000 240000" ] || fail "id -G m05000: $(id -G m05000)"
[ "$(getent passwd | wc -l)" = 10000 ] || fail "enumeration of 10,000 people"
echo "getent, id, initgroups and enumeration match the fixtures"
