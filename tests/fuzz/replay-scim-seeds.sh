#!/bin/sh
# The differential check of scim_parse_list (tests/fuzz/fuzz-scim.c) on
# the hand-made seeds at the edges of the fast reader's subset
# (tests/fuzz/seeds/scim/), with deterministic mutations of each.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
"$top_builddir/tests/fuzz/replay-scim" -m 2000 "$top_srcdir"/tests/fuzz/seeds/scim/* ||
	fail "replay-scim on tests/fuzz/seeds/scim"
exit 0
