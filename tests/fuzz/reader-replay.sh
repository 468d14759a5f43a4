#!/bin/sh
# fuzz-reader's target replayed by the plain driver: real snapshots from
# seed-reader.sh, each with deterministic mutants (byte flips, truncations,
# duplicated spans), through the reader's open, lookups and enumeration.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
make_tmpdir
mkdir "$TMPD/seeds"
MKSNAP="$top_builddir/tests/helpers/mksnap" sh "$top_srcdir/tests/fuzz/seed-reader.sh" \
	"$TMPD/seeds" || fail "cannot make seeds"
"$top_builddir/tests/fuzz/reader-replay" -m 400 "$TMPD"/seeds/*.mdb ||
	fail "reader-replay"
exit 0
