#!/bin/sh
# A snapshot truncated in place under a process that keeps looking people
# up through glibc: the process is not killed (no SIGBUS), its lookups fail
# cleanly once the change is seen, and work again once a whole snapshot is
# published over the truncated one.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
require_root
enter_namespace "$@"
make_tmpdir

N=3000
mkdir -m 0755 "$TMPD/snap" "$TMPD/good"
snap="$TMPD/snap/cache.mdb"
awk -v n=$N 'BEGIN {
	for (i = 0; i < n; i++)
		printf "t%05d:x:%d:%d:Person %d:/home/t%05d:/bin/sh\n",
			i, 250000 + i, 250000 + i, i, i
}' >"$TMPD/passwd"
: >"$TMPD/group"
build_snapshot "$TMPD/good/cache.mdb" "$TMPD/passwd" "$TMPD/group" \
	--id-min 200000 --id-max 299999
cp "$TMPD/good/cache.mdb" "$snap"
use_built_module "$snap"
ns_nsswitch "passwd: scim" "group: scim"
LOOP="$top_builddir/tests/helpers/nss-truncate-loop"

# $1: how to damage the file in place.
run_case() {
	rm -f "$TMPD/stop" "$TMPD/out"
	cp "$TMPD/good/cache.mdb" "$snap"
	LD_LIBRARY_PATH=$NSS_LIBS "$LOOP" t $N "$TMPD/stop" >"$TMPD/out" &
	pid=$!
	i=0
	until grep -q started "$TMPD/out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 300 ] || { touch "$TMPD/stop"; wait $pid || true; fail "$1: the loop never found everyone"; }
		sleep 0.1
	done
	$1 "$snap"
	sleep 0.5
	# A whole snapshot renamed over the damaged one, as scim-cache does.
	cp "$TMPD/good/cache.mdb" "$TMPD/snap/new.mdb"
	mv "$TMPD/snap/new.mdb" "$snap"
	sleep 0.5
	touch "$TMPD/stop"
	rc=0
	wait $pid || rc=$?
	[ $rc -ne 135 ] || fail "$1: the looking-up process was killed by SIGBUS"
	[ $rc -eq 0 ] || fail "$1: the looking-up process exited $rc: $(cat "$TMPD/out")"
	set -- "$1" $(tail -n 1 "$TMPD/out")
	[ "$2" = found ] && [ "$4" = failed ] && [ "$6" = last ] ||
		fail "$1: unexpected report: $(cat "$TMPD/out")"
	[ "$5" -gt 0 ] || fail "$1: no lookup failed while the file was damaged"
	[ "$7" = found ] || fail "$1: lookups did not recover after the publish"
	echo "$1: $3 found, $5 failed cleanly, found again after the publish"
}

to_one_page() { truncate -s 4096 "$1"; }
to_half() { truncate -s $(($(stat -c %s "$1") / 2)) "$1"; }
to_nothing() { truncate -s 0 "$1"; }
run_case to_one_page
run_case to_half
run_case to_nothing
echo "a snapshot truncated under a looping process: no SIGBUS, clean errors"
