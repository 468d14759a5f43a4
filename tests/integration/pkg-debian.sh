#!/bin/sh
# pkg-debian: the Debian packages, end to end, in fresh chroots.
#
# It builds libnss-scim, libpam-scim and scim-cache from a copy of this
# tree with dpkg-buildpackage (and repacks them at a lower version, to
# upgrade from), runs lintian on them, then in a Debian 12 chroot and a
# Debian 13 chroot made by mmdebstrap: installs them with apt-get, checks the
# nsswitch.conf and PAM edits, refreshes from the bridge emulator on
# 127.0.0.1, checks what getent and pamtester (through the real login
# stack) see and refuse, runs scim-cache verify before and after pam_scim
# is enabled, walks the login path the README documents (pam_mkhomedir
# through its own pam-auth-update profile, sudo through a %group rule, and
# sshd admitting people by an SSH CA's certificate and by an
# AuthorizedKeysCommand), upgrades (Debian 12: from the lower version,
# keeping the id map, the locks and the snapshot), and purges, after which
# nsswitch.conf and common-account must be byte-identical to before.
#
# The host's /etc is never touched: every command that changes a system
# runs chrooted, inside a private mount namespace that takes its /proc and
# /dev mounts with it.  Only apt (to the host's own Debian mirror, to make
# the chroots) and 127.0.0.1 are reached.  The chroot tarballs are kept in
# $top_builddir/pkg-cache between runs; PKG_SUITES chooses the suites.
. "$top_srcdir/tests/helpers/ops-lib.sh" || exit 99
require_root
require_cmd dpkg-buildpackage dh dh_installnss lintian mmdebstrap unshare \
	chroot tar ssh ssh-keygen
# Never inside a package build that this test started.
[ -z "${NSS_SCIM_PKG_BUILD:-}" ] || skip "inside a package build"
[ "${SANITIZERS:-no}" = no ] ||
	skip "the packages are built without sanitizers; the main build runs this"
ops_tmpdir
# PKG_KEEP=1 keeps the temporary directory (chroots, logs) for a look.
[ -z "${PKG_KEEP:-}" ] ||
	trap 'for p in $OPS_BG; do kill "$p" 2>/dev/null; done; echo "kept $TMPD"' EXIT

SUITES=${PKG_SUITES:-bookworm trixie}
CACHE="$top_builddir/pkg-cache"
EMU="$top_srcdir/tests/emulator/scim-bridge-emulator.py"
DATA="$top_srcdir/tests/emulator/sample-directory.json"
SHOWN=ana.rodriguez
SUSPENDED=sven.wright
LOCKED=stephanie.park
OTHER=bjorn.smith
T0=$(date +%s)

say() { echo "-- $* ($(($(date +%s) - T0)) s)"; }

# ---- building --------------------------------------------------------------

# The tree as git sees it (tracked and new files, nothing ignored), else
# as it is, without builds.
copy_tree() {
	mkdir -p "$1"
	if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$top_srcdir" && git ls-files -co --exclude-standard |
			while IFS= read -r f; do
				if [ -e "$f" ] || [ -h "$f" ]; then printf '%s\n' "$f"; fi
			done | tar -cf - --no-recursion -T -) | tar -xf - -C "$1"
	else
		(cd "$top_srcdir" && tar -cf - --exclude=./_build --exclude='./nss-scim-*' .) |
			tar -xf - -C "$1"
	fi
}

# Builds the packages of the tree copied into $1/src, into $1, without
# debug symbols and without the unit tests (this make check runs them).
# The build
# starts from a clean environment: make's variables from this make check
# (TESTS among them) would otherwise reach the package's own make check.
build_debs() {
	(cd "$1/src" && env -i PATH="$PATH" HOME="${HOME:-/root}" LC_ALL=C.UTF-8 \
		NSS_SCIM_PKG_BUILD=1 \
		DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=$(nproc)" \
		dpkg-buildpackage -us -uc -b) >"$1/build.log" 2>&1 ||
		fail "dpkg-buildpackage in $1: $(tail -n 30 "$1/build.log")"
	ls "$1"/libnss-scim_*.deb "$1"/libpam-scim_*.deb "$1"/scim-cache_*.deb \
		>/dev/null || fail "the three packages were not all built in $1"
}

say "building the packages"
copy_tree "$TMPD/cur/src"
build_debs "$TMPD/cur"
VERSION=$(dpkg-parsechangelog -l "$TMPD/cur/src/debian/changelog" -S Version)
# The previous release: these packages at a lower version.  Rebuilding the
# tree for it would double the test's longest step and give the same
# binaries; what the upgrade exercises is dpkg's and the maintainer
# scripts' handling of a live install, which the version alone drives.
mkdir -p "$TMPD/old"
for deb in "$TMPD"/cur/*.deb; do
	case $deb in *-dbgsym_*) continue ;; esac
	rm -rf "$TMPD/repack"
	dpkg-deb -R "$deb" "$TMPD/repack"
	sed -i "s/^Version: .*/Version: $VERSION~prev1/" "$TMPD/repack/DEBIAN/control"
	dpkg-deb -b -Zxz "$TMPD/repack" "$TMPD/old/" >/dev/null ||
		fail "cannot repack $(basename "$deb") as $VERSION~prev1"
done
ok "built $(cd "$TMPD/cur" && ls ./*.deb | xargs -n1 basename | tr '\n' ' ')and repacked them as $VERSION~prev1"

say "lintian"
lintian --fail-on error --suppress-tags-from-file /dev/null \
	"$TMPD"/cur/*.changes >"$TMPD/lintian" 2>&1 ||
	fail "lintian: $(cat "$TMPD/lintian")"
! grep -q '^E:' "$TMPD/lintian" || fail "lintian errors: $(cat "$TMPD/lintian")"
# A warning that is right to keep gets an override with its reason in
# debian/*.lintian-overrides; none may go unexplained.
! grep -q '^W:' "$TMPD/lintian" || fail "lintian warnings without an override: $(cat "$TMPD/lintian")"
ok "lintian: no error, no warning"

# ---- chroots ---------------------------------------------------------------

# The Debian mirror this host's apt uses (the chroots take only Debian
# packages from it).
mirror() {
	m=$( (cat /etc/apt/sources.list 2>/dev/null | sed -n 's/^deb  *\(\[[^]]*\]  *\)\{0,1\}\(http[^ ]*\) .*/\2/p'
		cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs: *\(http[^ ]*\).*/\1/p') |
		grep -E '/debian/?$' | head -n 1)
	echo "${m:-http://deb.debian.org/debian}"
}

# The packages every chroot gets from mmdebstrap: the ones ours depend on
# (so that apt installs ours without reaching the network), pamtester, and
# what the login path needs (sudo, sshd).
# Debian 13 renamed two libraries for the 64-bit time_t transition; the new
# names provide the old ones, which is what the packages built on Debian 12
# depend on.
chroot_includes() {
	case $1 in
	bookworm) echo pamtester,sudo,openssh-server,liblmdb0,libjson-c5,libcurl4,libssl3 ;;
	*) echo pamtester,sudo,openssh-server,liblmdb0,libjson-c5,libcurl4t64,libssl3t64 ;;
	esac
}

# A fresh root file system of suite $1 in $2, from the cached tarball.
make_root() {
	inc=$(chroot_includes "$1")
	tarball="$CACHE/$1-minbase-$(echo "$inc" | cksum | cut -d' ' -f1).tar"
	if [ ! -s "$tarball" ]; then
		mkdir -p "$CACHE"
		say "mmdebstrap $1 (cached in $tarball)"
		rm -rf "$tarball.tmp"
		mmdebstrap --quiet --variant=minbase --format=tar --include="$inc" \
			"$1" "$tarball.tmp" "$(mirror)" >"$TMPD/mmdebstrap-$1.log" 2>&1 ||
			fail "mmdebstrap $1: $(tail -n 20 "$TMPD/mmdebstrap-$1.log")"
		mv "$tarball.tmp" "$tarball"
	fi
	mkdir -p "$2"
	tar --numeric-owner -xpf "$tarball" -C "$2"
}

# Runs the shell commands $2 in the root $1, in a private mount namespace
# with /proc and /dev, which go away with it.
in_root() {
	unshare --mount --propagation private /bin/sh -eu -c '
		mount -t proc proc "$1/proc"
		mount --rbind /dev "$1/dev"
		shift
		exec chroot "$@"' sh "$1" "$1" /usr/bin/env -i \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
		LC_ALL=C.UTF-8 /bin/sh -euc "$2"
}

APT_INSTALL='apt-get install -y -q -o Dpkg::Options::=--force-confold'

# Installs the packages of directory $2 (cur or old) into root $1.
install_debs() {
	rm -rf "$1/tmp/debs"
	mkdir -p "$1/tmp/debs"
	cp "$TMPD/$2"/*.deb "$1/tmp/debs/"
	in_root "$1" "$APT_INSTALL /tmp/debs/*.deb" >"$TMPD/apt-$2.log" 2>&1 ||
		fail "apt-get install ($2): $(tail -n 30 "$TMPD/apt-$2.log")"
}

# The emulator serves the sample directory on 127.0.0.1, with the token
# that the chroot's scim-cache sends.
start_bridge() {
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMPD/token"
	rm -f "$TMPD/emu.port"
	"$PY" "$EMU" --data "$DATA" --token-file "$TMPD/token" \
		--port-file "$TMPD/emu.port" --log "$TMPD/emu.log" 2>"$TMPD/emu.err" &
	OPS_BG="$OPS_BG $!"
	i=0
	while [ ! -s "$TMPD/emu.port" ]; do
		i=$((i + 1))
		[ $i -lt 300 ] || fail "the emulator did not start: $(cat "$TMPD/emu.err")"
		sleep 0.1
	done
	PORT=$(cat "$TMPD/emu.port")
}

# scim-cache configured for the emulator: url and the root-only token.
configure_bridge() {
	sed -i "s|^url = .*|url = http://127.0.0.1:$PORT/scim|" "$1/etc/nss-scim/nss-scim.conf"
	install -m 0600 "$TMPD/token" "$1/etc/nss-scim/token"
}

# The result of scim-cache verify's check $2 in root $1 ("ok", "FAIL").
verify_check() {
	sed -n "s/^\([a-zA-Z]*\) *$2 .*/\1/p" "$1"
}

# ---- the checks --------------------------------------------------------

# After installation: nsswitch.conf names scim right after files, keeping
# the rest; the PAM profile is there but not enabled.
check_installed() {
	r=$1
	for db in passwd group; do
		want=$(sed -n "s/^\($db:[[:space:]]*\)files\( .*\)\{0,1\}$/\1files scim\2/p" "$TMPD/$SUITE.nsswitch")
		got=$(grep "^$db:" "$r/etc/nsswitch.conf")
		[ "$got" = "$want" ] || fail "$SUITE: $db line is '$got', want '$want'"
	done
	grep -v '^\(passwd\|group\):' "$r/etc/nsswitch.conf" >"$TMPD/ns-rest"
	grep -v '^\(passwd\|group\):' "$TMPD/$SUITE.nsswitch" | cmp -s - "$TMPD/ns-rest" ||
		fail "$SUITE: other nsswitch.conf lines changed"
	[ -f "$r/usr/share/pam-configs/scim" ] || fail "$SUITE: no pam-auth-update profile"
	cmp -s "$r/etc/pam.d/common-account" "$TMPD/$SUITE.common-account" ||
		fail "$SUITE: installing changed common-account: $(diff "$TMPD/$SUITE.common-account" "$r/etc/pam.d/common-account")"
	[ -L "$r/etc/systemd/system/timers.target.wants/nss-scim-refresh.timer" ] ||
		fail "$SUITE: the timer is not enabled"
	[ ! -e "$r/etc/systemd/system/multi-user.target.wants/nss-scim-refresh.service" ] ||
		fail "$SUITE: the service itself is enabled"
	ok "$SUITE: $(grep '^passwd:' "$r/etc/nsswitch.conf" | tr -s ' \t' ' '); common-account untouched; timer enabled"
}

# Refresh, then NSS and PAM through the chroot's glibc and libpam.
check_refresh() {
	r=$1
	in_root "$r" "scim-cache refresh" >"$TMPD/refresh" 2>&1 ||
		fail "$SUITE: refresh: $(cat "$TMPD/refresh")"
	in_root "$r" "getent passwd $SHOWN && getent passwd $SUSPENDED && getent -s scim group | wc -l && id $SHOWN" \
		>"$TMPD/getent" 2>&1 || fail "$SUITE: getent: $(cat "$TMPD/getent")"
	grep -q "^$SHOWN:" "$TMPD/getent" || fail "$SUITE: getent passwd $SHOWN: $(cat "$TMPD/getent")"
	grep -q "^$SUSPENDED:" "$TMPD/getent" || fail "$SUITE: getent passwd $SUSPENDED: $(cat "$TMPD/getent")"
	ok "$SUITE: refreshed; getent sees $SHOWN and $SUSPENDED"
}

# pam_scim on the login service's real stack, through pam-auth-update.
check_pam() {
	r=$1
	in_root "$r" "pam-auth-update --enable scim" >"$TMPD/pau" 2>&1 ||
		fail "$SUITE: pam-auth-update --enable scim: $(cat "$TMPD/pau")"
	grep -q 'pam_scim.so' "$r/etc/pam.d/common-account" ||
		fail "$SUITE: common-account lacks pam_scim.so after --enable"
	in_root "$r" "pamtester login $SHOWN acct_mgmt" >"$TMPD/pt" 2>&1 ||
		fail "$SUITE: pam refused $SHOWN: $(cat "$TMPD/pt")"
	! in_root "$r" "pamtester login $SUSPENDED acct_mgmt" >"$TMPD/pt" 2>&1 ||
		fail "$SUITE: pam admitted the suspended $SUSPENDED"
	grep -q 'suspended' "$TMPD/pt" || fail "$SUITE: no suspension message: $(cat "$TMPD/pt")"
	in_root "$r" "pamtester login root acct_mgmt" >"$TMPD/pt" 2>&1 ||
		fail "$SUITE: pam refused root: $(cat "$TMPD/pt")"
	locked=""
	if [ -n "${LOCKED_HERE:-}" ]; then
		# Locked on this host before the upgrade: refused with the
		# same words as a suspended person.
		! in_root "$r" "pamtester login $LOCKED acct_mgmt" >"$TMPD/pt" 2>&1 ||
			fail "$SUITE: pam admitted $LOCKED, who is locked"
		grep -q 'Your account is suspended.' "$TMPD/pt" ||
			fail "$SUITE: $LOCKED was told: $(cat "$TMPD/pt")"
		locked=" and the locked $LOCKED"
	fi
	ok "$SUITE: login's account stack admits $SHOWN and root, refuses $SUSPENDED$locked"
}

# verify: $2 is the exit status wanted, then "check=result" pairs.
check_verify() {
	r=$1 want=$2
	shift 2
	rc=0
	in_root "$r" "scim-cache verify" >"$TMPD/verify" 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "$SUITE: verify exited $rc, not $want: $(cat "$TMPD/verify")"
	for pair in "$@"; do
		got=$(verify_check "$TMPD/verify" "${pair%%=*}")
		[ "$got" = "${pair#*=}" ] ||
			fail "$SUITE: verify's ${pair%%=*} is '$got', not '${pair#*=}': $(cat "$TMPD/verify")"
	done
	in_root "$r" "scim-cache verify --json" >"$TMPD/verify.json" 2>&1 || true
	"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["schema_version"] == 1 and d["ok"] == (sys.argv[2] == "0")' \
		"$TMPD/verify.json" "$want" || fail "$SUITE: verify --json: $(cat "$TMPD/verify.json")"
	ok "$SUITE: verify exits $want: $(tr -s ' ' <"$TMPD/verify" | cut -d' ' -f1,2 | grep -v '^ *fix' | tr '\n' ' ')"
}

# The id map, the locks and the snapshot, to compare across an upgrade.
state_digest() {
	(cd "$1/var/lib/nss-scim" && cat state/ids state/locks cache.mdb | cksum)
}

check_purge() {
	r=$1
	in_root "$r" "apt-get purge -y -q libnss-scim libpam-scim scim-cache" >"$TMPD/purge" 2>&1 ||
		fail "$SUITE: purge: $(tail -n 20 "$TMPD/purge")"
	cmp "$TMPD/$SUITE.nsswitch" "$r/etc/nsswitch.conf" ||
		fail "$SUITE: nsswitch.conf after purge: $(diff "$TMPD/$SUITE.nsswitch" "$r/etc/nsswitch.conf")"
	cmp "$TMPD/$SUITE.common-account" "$r/etc/pam.d/common-account" ||
		fail "$SUITE: common-account after purge: $(diff "$TMPD/$SUITE.common-account" "$r/etc/pam.d/common-account")"
	# The token goes with the package; nothing else was put there.
	[ ! -e "$r/etc/nss-scim" ] && [ ! -e "$r/var/lib/nss-scim" ] ||
		fail "$SUITE: purge left $(ls -d "$r/etc/nss-scim" "$r/var/lib/nss-scim" 2>/dev/null)"
	ok "$SUITE: purged; nsswitch.conf and common-account are as before"
}

# ---- the login path -----------------------------------------------------

# A free TCP port on 127.0.0.1 (sshd takes no port 0).
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ssh from the host to the chroot's sshd as user $1 with key $2, running $3.
ssh_to() {
	ssh -F /dev/null -p "$SSHD_PORT" -i "$2" -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o IdentitiesOnly=yes -o ConnectTimeout=20 \
		"$1@127.0.0.1" "$3"
}

# The name of a directory group that $SHOWN belongs to, other than their own.
shown_group() {
	in_root "$1" "id -Gn $SHOWN" | tr ' ' '\n' | grep -vx "$SHOWN" | head -n 1
}

# Home directories from pam_mkhomedir, enabled through its own
# pam-auth-update profile: a session for a directory person makes their
# home, owned by their directory uid.
check_mkhomedir() {
	r=$1
	in_root "$r" "pam-auth-update --enable mkhomedir" >"$TMPD/pau" 2>&1 ||
		fail "$SUITE: pam-auth-update --enable mkhomedir: $(cat "$TMPD/pau")"
	grep -q 'pam_mkhomedir.so' "$r/etc/pam.d/common-session" ||
		fail "$SUITE: common-session lacks pam_mkhomedir.so"
	home=$(grep "^$SHOWN:" "$TMPD/getent" | cut -d: -f6)
	uid=$(grep "^$SHOWN:" "$TMPD/getent" | cut -d: -f3)
	[ ! -e "$r$home" ] || fail "$SUITE: $home exists before the first session"
	in_root "$r" "pamtester login $SHOWN open_session close_session" >"$TMPD/pt" 2>&1 ||
		fail "$SUITE: session for $SHOWN: $(cat "$TMPD/pt")"
	[ -d "$r$home" ] || fail "$SUITE: pam_mkhomedir did not make $home"
	[ "$(stat -c %u "$r$home")" = "$uid" ] ||
		fail "$SUITE: $home is owned by uid $(stat -c %u "$r$home"), not $uid"
	owner=$(in_root "$r" "stat -c %U $home")
	[ "$owner" = "$SHOWN" ] || fail "$SUITE: the chroot sees $home owned by '$owner'"
	ok "$SUITE: pam_mkhomedir (pam-auth-update profile) made $home for $SHOWN (uid $uid)"
}

# sudo through a %group rule naming a directory group; sudo runs the
# account stack, so a person locked after their session began is refused
# sudo too.
check_sudo() {
	r=$1
	grp=$(shown_group "$r")
	[ -n "$grp" ] || fail "$SUITE: $SHOWN is in no directory group"
	printf '%%%s ALL=(ALL:ALL) NOPASSWD: ALL\n' "$grp" >"$r/etc/sudoers.d/scim-test"
	chmod 0440 "$r/etc/sudoers.d/scim-test"
	out=$(in_root "$r" "su -s /bin/sh -c 'sudo -n id -u' $SHOWN" 2>"$TMPD/sudo.err") ||
		fail "$SUITE: sudo for $SHOWN through %$grp: $out $(cat "$TMPD/sudo.err")"
	[ "$out" = 0 ] || fail "$SUITE: sudo for $SHOWN gave: $out $(cat "$TMPD/sudo.err")"
	# A session that began before the lock: su admits the person, then
	# waits until the lock is in the snapshot before calling sudo.
	rm -f "$r/tmp/go"
	in_root "$r" "su -s /bin/sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; sudo -n id -u' $SHOWN" \
		>"$TMPD/sudo.out" 2>&1 &
	pid=$!
	sleep 1
	in_root "$r" "scim-cache --quiet lock $SHOWN" >"$TMPD/lock" 2>&1 ||
		fail "$SUITE: lock $SHOWN: $(cat "$TMPD/lock")"
	touch "$r/tmp/go"
	if wait "$pid"; then
		fail "$SUITE: sudo admitted $SHOWN after the lock: $(cat "$TMPD/sudo.out")"
	fi
	# Without a terminal sudo does not pass the module's message on; it
	# names the stack that refused.
	grep -q 'PAM account management error' "$TMPD/sudo.out" ||
		fail "$SUITE: sudo refused $SHOWN, but not in the account stack: $(cat "$TMPD/sudo.out")"
	in_root "$r" "scim-cache --quiet unlock $SHOWN" >"$TMPD/lock" 2>&1 ||
		fail "$SUITE: unlock $SHOWN: $(cat "$TMPD/lock")"
	rm -f "$r/etc/sudoers.d/scim-test" "$r/tmp/go"
	ok "$SUITE: sudo through %$grp admits $SHOWN, and refuses them once locked mid-session"
}

# sshd for people with no keys on the host: one admitted by a certificate
# from an SSH CA (TrustedUserCAKeys, AuthorizedPrincipalsFile), one by a key
# that an AuthorizedKeysCommand prints; a suspended person with a valid
# certificate is refused in the account phase.
check_sshd() {
	r=$1
	keys="$TMPD/ssh-$SUITE"
	mkdir -p "$keys"
	ssh-keygen -q -t ed25519 -N '' -C ca -f "$keys/ca"
	for who in "$SHOWN" "$SUSPENDED" "$OTHER"; do
		ssh-keygen -q -t ed25519 -N '' -C "$who" -f "$keys/$who"
	done
	for who in "$SHOWN" "$SUSPENDED"; do
		ssh-keygen -q -s "$keys/ca" -I "$who" -n "$who" -V -5m:+1h \
			"$keys/$who.pub" 2>/dev/null
	done
	cp "$keys/ca.pub" "$r/etc/ssh/scim-ca.pub"
	mkdir -p "$r/etc/ssh/principals"
	for who in "$SHOWN" "$SUSPENDED"; do
		echo "$who" >"$r/etc/ssh/principals/$who"
	done
	# The admin's own key source; here, a directory of public keys.
	mkdir -p "$r/etc/ssh/keys"
	cp "$keys/$OTHER.pub" "$r/etc/ssh/keys/$OTHER"
	cat >"$r/usr/local/sbin/scim-test-keys" <<'KEYS'
#!/bin/sh
[ -f "/etc/ssh/keys/$1" ] && exec cat "/etc/ssh/keys/$1"
exit 0
KEYS
	chmod 0755 "$r/usr/local/sbin/scim-test-keys"
	SSHD_PORT=$(free_port)
	cat >"$r/etc/ssh/sshd_config.d/scim-test.conf" <<CONF
ListenAddress 127.0.0.1
Port $SSHD_PORT
PasswordAuthentication no
KbdInteractiveAuthentication no
TrustedUserCAKeys /etc/ssh/scim-ca.pub
AuthorizedPrincipalsFile /etc/ssh/principals/%u
AuthorizedKeysCommand /usr/local/sbin/scim-test-keys %u
AuthorizedKeysCommandUser nobody
CONF
	in_root "$r" "mkdir -p /run/sshd && ssh-keygen -A" >"$TMPD/sshd-keys" 2>&1 ||
		fail "$SUITE: ssh-keygen -A: $(cat "$TMPD/sshd-keys")"
	in_root "$r" "exec /usr/sbin/sshd -D -e" >"$TMPD/sshd-$SUITE.log" 2>&1 &
	sshd_pid=$!
	i=0
	while ! grep -q 'Server listening' "$TMPD/sshd-$SUITE.log"; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "$SUITE: sshd did not start: $(cat "$TMPD/sshd-$SUITE.log")"
		kill -0 "$sshd_pid" 2>/dev/null || fail "$SUITE: sshd exited: $(cat "$TMPD/sshd-$SUITE.log")"
		sleep 0.1
	done
	want=$(in_root "$r" "id $SHOWN")
	out=$(ssh_to "$SHOWN" "$keys/$SHOWN" id 2>"$TMPD/ssh.err") ||
		fail "$SUITE: $SHOWN could not log in with a certificate: $(cat "$TMPD/ssh.err") $(tail -n 20 "$TMPD/sshd-$SUITE.log")"
	[ "$out" = "$want" ] || fail "$SUITE: $SHOWN over ssh is '$out', not '$want'"
	out=$(ssh_to "$OTHER" "$keys/$OTHER" 'id -un; pwd' 2>"$TMPD/ssh.err") ||
		fail "$SUITE: $OTHER could not log in with the command's key: $(cat "$TMPD/ssh.err") $(tail -n 20 "$TMPD/sshd-$SUITE.log")"
	home=$(in_root "$r" "getent passwd $OTHER" | cut -d: -f6)
	[ "$out" = "$OTHER
$home" ] || fail "$SUITE: $OTHER over ssh: '$out' (home $home)"
	[ "$(in_root "$r" "stat -c %U $home")" = "$OTHER" ] ||
		fail "$SUITE: pam_mkhomedir did not make $home for $OTHER"
	if out=$(ssh_to "$SUSPENDED" "$keys/$SUSPENDED" id 2>"$TMPD/ssh.err"); then
		fail "$SUITE: the suspended $SUSPENDED logged in: $out"
	fi
	grep -q "Access denied for user $SUSPENDED by PAM account configuration" "$TMPD/sshd-$SUITE.log" ||
		fail "$SUITE: sshd did not refuse $SUSPENDED in the account phase: $(tail -n 20 "$TMPD/sshd-$SUITE.log")"
	grep -q 'Your account is suspended.' "$TMPD/ssh.err" ||
		fail "$SUITE: $SUSPENDED was not told why: $(cat "$TMPD/ssh.err")"
	kill "$sshd_pid" 2>/dev/null || true
	wait "$sshd_pid" 2>/dev/null || true
	rm -f "$r/etc/ssh/sshd_config.d/scim-test.conf"
	ok "$SUITE: sshd admits $SHOWN by CA certificate and $OTHER by AuthorizedKeysCommand (home $home made), refuses the suspended $SUSPENDED"
}

check_login_path() {
	check_mkhomedir "$1"
	check_sudo "$1"
	check_sshd "$1"
}

start_bridge
for SUITE in $SUITES; do
	R="$TMPD/root-$SUITE"
	say "$SUITE chroot"
	make_root "$SUITE" "$R"
	# A minbase system lacks libnss-systemd; its lines get what a
	# standard Debian installation has, so that the edit is seen to keep
	# the entries after files.
	sed -i 's/^\(passwd\|group\):\([[:space:]]*\)files$/\1:\2files systemd/' "$R/etc/nsswitch.conf"
	cp "$R/etc/nsswitch.conf" "$TMPD/$SUITE.nsswitch"
	cp "$R/etc/pam.d/common-account" "$TMPD/$SUITE.common-account"
	if [ "$SUITE" = bookworm ]; then
		# Install the previous version, use it, then upgrade.
		install_debs "$R" old
		check_installed "$R"
		check_verify "$R" 1 nsswitch=ok login=FAIL snapshot=FAIL schedule=ok uid-range=ok
		configure_bridge "$R"
		check_refresh "$R"
		in_root "$R" "scim-cache lock $LOCKED" >"$TMPD/lock" 2>&1 ||
			fail "$SUITE: lock: $(cat "$TMPD/lock")"
		LOCKED_HERE=1
		before=$(state_digest "$R")
		uid=$(grep "^$SHOWN:" "$TMPD/getent" | cut -d: -f3)
		install_debs "$R" cur
		[ "$(in_root "$R" "dpkg-query -W -f '\${Version}' scim-cache")" = "$VERSION" ] ||
			fail "$SUITE: the upgrade did not install $VERSION"
		[ "$(state_digest "$R")" = "$before" ] ||
			fail "$SUITE: the upgrade changed the id map, locks or snapshot"
		in_root "$R" "scim-cache status" >"$TMPD/status" 2>&1 || fail "$SUITE: status after upgrade"
		grep -q "$LOCKED" "$TMPD/status" || fail "$SUITE: lock of $LOCKED lost: $(cat "$TMPD/status")"
		ok "$SUITE: upgraded from $VERSION~prev1 to $VERSION; id map, locks and snapshot kept"
		check_refresh "$R"
		uid2=$(grep "^$SHOWN:" "$TMPD/getent" | cut -d: -f3)
		[ "$uid" = "$uid2" ] || fail "$SUITE: $SHOWN's uid went from $uid to $uid2"
	else
		install_debs "$R" cur
		check_installed "$R"
		check_verify "$R" 1 nsswitch=ok login=FAIL snapshot=FAIL schedule=ok uid-range=ok
		configure_bridge "$R"
		check_refresh "$R"
	fi
	check_pam "$R"
	check_login_path "$R"
	check_verify "$R" 0 nsswitch=ok sshd=ok login=ok snapshot=ok schedule=ok uid-range=ok
	check_purge "$R"
	LOCKED_HERE=""
	rm -rf "$R"
done
say "done"
