#!/bin/sh
# The differential check of scim_parse_list (tests/tools-fuzz-scim.c) on
# the hand-made seeds at the edges of the fast reader's subset
# (tests/fuzz/seeds/scim/), with deterministic mutations of each.
. "$top_srcdir/tests/lib.sh"
"$top_builddir/tests/tools-fuzz-scim" -m 2000 "$top_srcdir"/tests/fuzz/seeds/scim/* ||
	fail "tools-fuzz-scim on tests/fuzz/seeds/scim"
exit 0
