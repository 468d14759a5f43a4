#!/bin/sh
# ops-install: make install into a DESTDIR installs exactly the files an
# admin expects, with their modes (modules in the multiarch directory and
# no .la files, the tool in sbindir, man pages, units, the cron example,
# the example config 0644, the snapshot directory 0755 and the state
# directory 0700); a second install keeps an edited config; make
# uninstall removes what install added and keeps the admin's config and
# scim-cache's id map.
. "$top_srcdir/tests/helpers/ops-lib.sh" || exit 99
require_cmd make find cmp
ops_tmpdir
ROOT="$TMPD/root"

build_var prefix libdir pamdir sbindir mandir sysconfdir localstatedir \
	systemdsystemunitdir docdir CC >"$TMPD/vars"
{
	read -r prefix
	read -r libdir
	read -r pamdir
	read -r sbindir
	read -r mandir
	read -r sysconfdir
	read -r localstatedir
	read -r unitdir
	read -r docdir
	read -r cc
} <"$TMPD/vars"
[ -n "$docdir" ] && [ -n "$unitdir" ] || fail "cannot read the build's directories"

# With the Debian prefix, the modules go where glibc and libpam look.
if [ "$prefix" = /usr ]; then
	triplet=$($cc -print-multiarch 2>/dev/null || true)
	if [ -n "$triplet" ]; then
		[ "$libdir" = "/usr/lib/$triplet" ] ||
			fail "libdir is $libdir, not the multiarch /usr/lib/$triplet"
		[ "$pamdir" = "/usr/lib/$triplet/security" ] ||
			fail "pamdir is $pamdir, not /usr/lib/$triplet/security"
	fi
fi

example="$top_srcdir/tools/nss-scim.conf.example"
conf="$sysconfdir/nss-scim/nss-scim.conf"
cat >"$TMPD/want" <<EOF
f 644 $conf
f 644 $docdir/examples/cron.d/nss-scim
f 644 $docdir/examples/nss-scim.conf.example
f 644 $mandir/man5/nss-scim.conf.5
f 644 $mandir/man5/scim-bundle.5
f 644 $mandir/man8/libnss_scim.8
f 644 $mandir/man8/pam_scim.8
f 644 $mandir/man8/scim-cache.8
f 644 $unitdir/nss-scim-refresh.service
f 644 $unitdir/nss-scim-refresh.timer
f 755 $libdir/libnss_scim.so.2
f 755 $pamdir/pam_scim.so
f 755 $sbindir/scim-cache
EOF
sort -k3 -o "$TMPD/want" "$TMPD/want"

# Every file under ROOT as "type mode path", type f or l (symlink).
files() {
	(cd "$ROOT" && find . \( -type f -o -type l \) -printf '%y %m %P\n') |
		sed 's# # /#2' | sort -k3
}
dirmode() {
	stat -c %a "$ROOT$1" 2>/dev/null || echo missing
}

build_make install DESTDIR="$ROOT" >"$TMPD/install.out" 2>&1 ||
	fail "make install: $(tail -n 20 "$TMPD/install.out")"
files >"$TMPD/got"
diff -u "$TMPD/want" "$TMPD/got" || fail "installed files differ (want, got)"
ok "the installed files and their modes"
! grep -q '\.la$' "$TMPD/got" || fail ".la files installed"
cmp -s "$example" "$ROOT$conf" || fail "$conf is not the example"
[ "$(dirmode "$sysconfdir/nss-scim")" = 755 ] || fail "config dir mode $(dirmode "$sysconfdir/nss-scim")"
[ "$(dirmode "$localstatedir/lib/nss-scim")" = 755 ] ||
	fail "snapshot dir mode $(dirmode "$localstatedir/lib/nss-scim")"
[ "$(dirmode "$localstatedir/lib/nss-scim/state")" = 700 ] ||
	fail "state dir mode $(dirmode "$localstatedir/lib/nss-scim/state")"
ok "the snapshot directory is 0755, the state directory 0700"

# The units and the cron job name the installed tool and directories.
svc="$ROOT$unitdir/nss-scim-refresh.service"
grep -qx "ExecStart=$sbindir/scim-cache refresh" "$svc" || fail "service ExecStart"
grep -qx "ReadWritePaths=$localstatedir/lib/nss-scim" "$svc" || fail "service ReadWritePaths"
grep -qx "ConditionPathExists=$sysconfdir/nss-scim/nss-scim.conf" "$svc" ||
	fail "service ConditionPathExists"
grep -qx 'ProtectSystem=strict' "$svc" || fail "service not ProtectSystem=strict"
! grep -q '@[a-z]*@' "$svc" || fail "unsubstituted @var@ in the service"
grep -q "	root	$sbindir/scim-cache refresh --quiet --splay [0-9]" \
	"$ROOT$docdir/examples/cron.d/nss-scim" || fail "cron line"
ok "units and cron job point at $sbindir and $localstatedir"

# The installed tool runs, and knows the installed paths.
if [ "$prefix" = /usr ]; then
	"$ROOT$sbindir/scim-cache" --help | grep -q "default $conf" ||
		fail "scim-cache --help does not name $conf"
fi

# A second install keeps an edited config (and the id map).
echo "# edited by the admin" >>"$ROOT$conf"
cp "$ROOT$conf" "$TMPD/edited"
echo "u 1879048192 ABCDEFGHIJKLMNOPQRSTUVWXYZ someone 1 live" \
	>"$ROOT$localstatedir/lib/nss-scim/state/ids"
build_make install DESTDIR="$ROOT" >"$TMPD/install2.out" 2>&1 ||
	fail "second make install: $(tail -n 20 "$TMPD/install2.out")"
cmp -s "$TMPD/edited" "$ROOT$conf" || fail "a second install overwrote the edited $conf"
ok "a second install keeps the edited config"

# Uninstall removes what install added, and nothing of the admin's.
build_make uninstall DESTDIR="$ROOT" >"$TMPD/uninstall.out" 2>&1 ||
	fail "make uninstall: $(tail -n 20 "$TMPD/uninstall.out")"
files >"$TMPD/left"
printf 'f 644 %s\nf 644 %s\n' "$conf" "$localstatedir/lib/nss-scim/state/ids" |
	sort -k3 >"$TMPD/want-left"
diff -u "$TMPD/want-left" "$TMPD/left" ||
	fail "uninstall should leave only the edited config and the id map"
ok "uninstall removes the installed files, keeps the edited config and the id map"

# With the config back to the example and no state, uninstall leaves no
# file, and removes the now empty directories it made.
cp "$example" "$ROOT$conf"
rm "$ROOT$localstatedir/lib/nss-scim/state/ids"
build_make uninstall DESTDIR="$ROOT" >"$TMPD/uninstall2.out" 2>&1 ||
	fail "second make uninstall: $(tail -n 20 "$TMPD/uninstall2.out")"
files >"$TMPD/left"
[ ! -s "$TMPD/left" ] || fail "left after uninstall: $(cat "$TMPD/left")"
for d in "$sysconfdir/nss-scim" "$localstatedir/lib/nss-scim/state" \
	"$localstatedir/lib/nss-scim"; do
	[ ! -e "$ROOT$d" ] || fail "uninstall left the empty $d"
done
ok "uninstall of an untouched install leaves nothing"
