#!/bin/sh
# A missing, truncated, garbage, untrusted or symlinked snapshot makes every
# lookup UNAVAIL (getent: not found) and never crashes the caller.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
require_root
enter_namespace "$@"
make_tmpdir

fix="$top_srcdir/tests/fixtures"
mkdir -m 0755 "$TMPD/snap" "$TMPD/good"
snap="$TMPD/snap/cache.mdb"
good="$TMPD/good/cache.mdb"
build_snapshot "$good" "$fix/passwd" "$fix/group" --id-min 200000 --id-max 299999
use_built_module "$snap"
ns_nsswitch "passwd: scim" "group: scim"

# Expect every kind of lookup to fail cleanly (exit 2), never by a signal.
CASES=0
expect_unavail() {
	CASES=$((CASES + 1))
	for q in "passwd alice" "passwd 200001" "group engineering" \
		"group 210001"; do
		rc=0
		# shellcheck disable=SC2086
		out=$(getent $q 2>&1) || rc=$?
		[ "$rc" = 2 ] || fail "$1: getent $q exited $rc (output: $out)"
		[ -z "$out" ] || fail "$1: getent $q printed $out"
	done
	# Enumeration ends at once: getent itself then exits 0, printing
	# nothing.
	for q in passwd group; do
		out=$(getent $q 2>&1) || true
		[ -z "$out" ] || fail "$1: getent $q printed $out"
	done
	# glibc's getent initgroups succeeds with an empty list here.
	out=$(getent initgroups bob | tr -s ' ' | sed 's/ $//') || true
	[ "$out" = bob ] || fail "$1: getent initgroups bob printed $out"
	rc=0; id alice >/dev/null 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "$1: id exited $rc"
}

fresh() { rm -rf "$TMPD/snap"; mkdir -m 0755 "$TMPD/snap"; }

fresh
expect_unavail "missing file"

fresh
head -c 5000 "$good" >"$snap"; chmod 644 "$snap"
expect_unavail "truncated to 5000 bytes"

fresh
size=$(stat -c %s "$good")
head -c $((size / 2)) "$good" >"$snap"; chmod 644 "$snap"
expect_unavail "truncated to half"

fresh
head -c 65536 /dev/urandom >"$snap"; chmod 644 "$snap"
expect_unavail "garbage"

fresh
: >"$snap"; chmod 644 "$snap"
expect_unavail "empty file"

fresh
cp "$good" "$snap"; chmod 666 "$snap"
expect_unavail "world-writable"

fresh
cp "$good" "$snap"; chmod 644 "$snap"; chown +65534 "$snap"
expect_unavail "owned by uid 65534"

fresh
ln -s "$good" "$snap"
expect_unavail "symlink"

fresh
cp "$good" "$snap"; chmod 644 "$snap"; chmod 0777 "$TMPD/snap"
expect_unavail "world-writable directory"

# Group-writable is as untrusted as world-writable: anyone in the group
# could rewrite what every lookup answers.
fresh
cp "$good" "$snap"; chmod 664 "$snap"
expect_unavail "group-writable"

fresh
cp "$good" "$snap"; chmod 644 "$snap"; chmod 0775 "$TMPD/snap"
expect_unavail "group-writable directory"

# And the same file, put right, works.
fresh
cp "$good" "$snap"; chmod 644 "$snap"
[ "$(getent passwd alice | cut -d: -f3)" = 200001 ] || fail "good snapshot"
[ "$CASES" = 11 ] || fail "$CASES cases ran, want 11"
echo "$CASES damaged or untrusted snapshots refused without a crash"
