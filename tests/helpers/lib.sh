# lib.sh: shared by the shell tests.  Source it after setting nothing; it
# reads top_srcdir and top_builddir from the environment automake gives.
#
# Root tests re-run themselves inside a private mount namespace
# (enter_namespace), where they may bind-mount a test nsswitch.conf or PAM
# service and overlay the built modules onto the system library directory.
# Nothing they mount is visible outside, and nothing on the host is changed.

set -eu

: "${top_srcdir:?run through make check}"
: "${top_builddir:?run through make check}"

SKIP=77

# Without HOME, programs such as python3 look their user up in the passwd
# database, and under a test nsswitch.conf of "passwd: scim" that loads our
# module into a program not built for it (fatal in a sanitized build).
# Some CI runners start jobs without HOME.  bash does the same without
# SHELL, and python3 may be a bash script (a pyenv shim).
: "${HOME:=/}"
: "${SHELL:=/bin/sh}"
export HOME SHELL
MKSNAP="$top_builddir/tests/helpers/mksnap"
NSS_LIBS="$top_builddir/nss/.libs"

# In a sanitized build the modules need the sanitizer runtimes, which the
# system's own programs do not load.  Only the programs that load our
# modules get them preloaded (others, such as mawk, trip over the runtime
# themselves); setuid programs ignore LD_PRELOAD, so tests that run su skip.
SAN_PRELOAD=""
if [ "${SANITIZERS:-no}" = yes ]; then
	SAN_PRELOAD="$(${CC:-cc} -print-file-name=libasan.so) $(${CC:-cc} -print-file-name=libubsan.so)"
	ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:exitcode=86${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=86"
	export ASAN_OPTIONS UBSAN_OPTIONS
	getent() { LD_PRELOAD="$SAN_PRELOAD" LD_LIBRARY_PATH="${NSS_SCIM_LIBRARY_PATH:-}" command getent "$@"; }
	id() { LD_PRELOAD="$SAN_PRELOAD" LD_LIBRARY_PATH="${NSS_SCIM_LIBRARY_PATH:-}" command id "$@"; }
	pamtester() { LD_PRELOAD="$SAN_PRELOAD" LD_LIBRARY_PATH="${NSS_SCIM_LIBRARY_PATH:-}" command pamtester "$@"; }
fi

# Points glibc at the freshly built module (found through LD_LIBRARY_PATH,
# never installed) and the module at snapshot SNAP.  In a sanitized build
# only the programs wrapped above get the library path: any other program a
# test runs (bash, python3) may look its own user up, and must not load a
# module built for runtimes it does not have.
use_built_module() {
	NSS_SCIM_CACHE=$1
	export NSS_SCIM_CACHE
	if [ "${SANITIZERS:-no}" = yes ]; then
		NSS_SCIM_LIBRARY_PATH=$NSS_LIBS
	else
		LD_LIBRARY_PATH=$NSS_LIBS
		export LD_LIBRARY_PATH
	fi
}

# tests/helpers/nss-client, which always loads the built module.
nss_client() {
	LD_LIBRARY_PATH=$NSS_LIBS "$top_builddir/tests/helpers/nss-client" "$@"
}

# Skips a test that needs unsanitized modules (setuid programs, daemons
# that scrub their environment).
require_unsanitized() {
	[ "${SANITIZERS:-no}" != yes ] || skip "runs setuid or scrubbed programs; not in a sanitized build"
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit $SKIP
}

# A test that cannot run for want of WHAT (a tool, a build option) skips;
# under CI (CI=true) it fails instead, naming what is missing, so that a
# CI run never passes over a check without saying so.
skip_missing() {
	[ "${CI:-}" != true ] || fail "missing $1 (CI must have it: see quickstart)"
	skip "needs $1"
}

# Skips unless we are root and may make a mount namespace.
require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	command -v unshare >/dev/null || skip "needs unshare"
	unshare --mount true 2>/dev/null || skip "cannot make a mount namespace"
}

# True when this process runs in a mount namespace below the one that
# started the test: enter_namespace passes its own namespace down, and the
# kernel's answer for ours must differ from it.  (PID 1's namespace cannot
# be read in every container, so it is not the reference.)
in_private_namespace() {
	[ -n "${NSS_SCIM_PARENT_NS:-}" ] &&
		[ "$(readlink /proc/self/ns/mnt)" != "$NSS_SCIM_PARENT_NS" ]
}

# Re-executes the calling script in a private mount namespace, unless it
# already runs in one.
enter_namespace() {
	if ! in_private_namespace; then
		NSS_SCIM_PARENT_NS=$(readlink /proc/self/ns/mnt) ||
			fail "cannot read /proc/self/ns/mnt"
		export NSS_SCIM_PARENT_NS
		exec unshare --mount --propagation private \
			"${SHELL:-/bin/sh}" "$0" "$@"
	fi
}

# The opening of a test of scim-cache through the emulator: root, a private
# mount namespace, a temporary directory, and tools-lib.sh's setup (token,
# snapshot, state and config paths, the built module).  Give it the
# script's arguments: it re-runs the script inside the namespace.
tools_test() {
	require_root
	enter_namespace "$@"
	make_tmpdir
	. "$top_srcdir/tests/helpers/tools-lib.sh"
	tools_setup
}

# A private temporary directory, removed when the script exits.  Its mode
# and owner make it a trusted place for a snapshot when we are root.
make_tmpdir() {
	TMPD=$(mktemp -d "${TMPDIR:-/tmp}/nss-scim-test.XXXXXX")
	chmod 0755 "$TMPD"
	NS_MOUNTS=""
	trap cleanup EXIT
}

# Runs at exit: first the test's own CLEANUP hook (to stop servers), then
# the mounts are undone, newest first, and the directory removed.
cleanup() {
	set +e
	if command -v test_cleanup >/dev/null 2>&1; then test_cleanup; fi
	for m in $NS_MOUNTS; do umount -l "$m" 2>/dev/null; done
	rm -rf "$TMPD"
}

# mount(8) that remembers the target for cleanup.
ns_mount() {
	in_private_namespace || fail "refusing to mount in the host's namespace"
	mount "$@"
	eval "NS_MOUNTS=\"\${$#} \$NS_MOUNTS\""
}

# The directory where glibc finds NSS modules and libpam finds its modules.
system_libdir() {
	dirname "$(ldconfig -p | awk '/libc\.so\.6 .*x86-64|libc\.so\.6 \(libc6\)|libc\.so\.6 \(libc6,/ {print $NF; exit}')"
}

# In the namespace: point passwd and group (and anything else given as
# "db: sources" lines) at a test nsswitch.conf.
ns_nsswitch() {
	NS_NSSWITCH_N=$((${NS_NSSWITCH_N:-0} + 1))
	while mountpoint -q /etc/nsswitch.conf; do umount /etc/nsswitch.conf; done
	printf '%s\n' "$@" >"$TMPD/nsswitch.conf.$NS_NSSWITCH_N"
	ns_mount --bind "$TMPD/nsswitch.conf.$NS_NSSWITCH_N" /etc/nsswitch.conf
	# A running nscd would answer instead of the modules; hide its socket.
	for d in /run/nscd /var/run/nscd; do
		if [ -d "$d" ] && ! mountpoint -q "$d"; then
			ns_mount -t tmpfs tmpfs "$d"
		fi
	done
}

# In the namespace: make the freshly built modules visible where the dynamic
# loader and libpam look, so that setuid programs (su) and daemons (sshd)
# load them too.  A read-only overlay: the host's directory is untouched.
ns_install_modules() {
	local lib mods
	lib=$(system_libdir)
	mods="$TMPD/modules"
	mkdir -p "$mods/security"
	cp "$NSS_LIBS/libnss_scim.so.2" "$mods/"
	if [ -f "$top_builddir/pam/.libs/pam_scim.so" ]; then
		cp "$top_builddir/pam/.libs/pam_scim.so" "$mods/security/"
	fi
	ns_mount -t overlay overlay -o "lowerdir=$mods:$lib" "$lib"
}

# In the namespace: make DIR exist and be writable, even where the host has
# no such directory, through a writable overlay on its nearest existing
# ancestor (the changes land in $TMPD).
ns_private_dir() {
	local dir=$1 anc
	anc=$dir
	while [ ! -d "$anc" ]; do anc=$(dirname "$anc"); done
	mkdir -p "$TMPD/ov-up$anc" "$TMPD/ov-work$anc"
	ns_mount -t overlay overlay \
		-o "lowerdir=$anc,upperdir=$TMPD/ov-up$anc,workdir=$TMPD/ov-work$anc" "$anc"
	mkdir -p "$dir"
	chmod 0755 "$dir"
}

# Builds a snapshot from passwd- and group-format files with the writer.
# Usage: build_snapshot OUT PASSWD GROUP [mksnap options]
build_snapshot() {
	local out=$1 pw=$2 gr=$3
	shift 3
	"$MKSNAP" --passwd "$pw" --group "$gr" "$@" "$out"
}
