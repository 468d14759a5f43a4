#!/bin/sh
# pkg-version: the version is set once, in configure.ac's AC_INIT; the
# tool reports it, and debian/changelog's newest entry, NEWS's newest
# entry and every man page's header carry the same one.
. "$top_srcdir/tests/helpers/ops-lib.sh" || exit 99

v=$("$SCIM_CACHE" --version | sed -n 's/^scim-cache //p')
[ -n "$v" ] || fail "scim-cache --version says no version"
ac=$(sed -n 's/^AC_INIT(\[nss-scim\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
[ "$v" = "$ac" ] || fail "scim-cache says $v, AC_INIT $ac"

deb=$(sed -n '1s/^nss-scim (\([^)]*\)).*/\1/p' "$top_srcdir/debian/changelog")
# A native package: the version is the upstream version itself.
[ "$deb" = "$v" ] || fail "debian/changelog's newest entry is $deb, not $v"

news=$(grep -m1 -o '^[0-9][0-9.]*[^ ]*' "$top_srcdir/NEWS")
[ "$news" = "$v" ] || fail "NEWS's newest entry is $news, not $v"

for p in "$top_srcdir"/doc/*.[1-8]; do
	head -n 1 "$p" | grep -q "\"nss-scim $v\"" ||
		fail "$(basename "$p")'s header does not say nss-scim $v: $(head -n 1 "$p")"
done
ok "version $v in AC_INIT, the tool, debian/changelog, NEWS and every man page"
