#!/bin/sh
# ops-alerts: the example alerting rules (dist/nss-scim.rules.yml) load
# (promtool check rules), and each alert fires when it should and stays
# quiet when it should not (promtool test rules with tests/fixtures/ops-alerts.yml):
# a timer that died, a refused refresh, an old snapshot, an expiring
# bundle.  promtool as in ops-metrics.sh: on PATH or in quickstart's cache.
. "$top_srcdir/tests/helpers/ops-lib.sh" || exit 99
ops_tmpdir

PROMTOOL_CACHE=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/nss-scim/prometheus
PROMTOOL=$(command -v promtool 2>/dev/null) || PROMTOOL="$PROMTOOL_CACHE/usr/bin/promtool"
[ -x "$PROMTOOL" ] || skip "no promtool (./quickstart test unpacks one into $PROMTOOL_CACHE)"

cp "$top_srcdir/dist/nss-scim.rules.yml" "$top_srcdir/tests/fixtures/ops-alerts.yml" "$TMPD/"
(cd "$TMPD" && "$PROMTOOL" check rules nss-scim.rules.yml) >"$TMPD/check" 2>&1 ||
	fail "promtool check rules: $(cat "$TMPD/check")"
ok "promtool check rules: $(grep -o '[0-9]* rules found' "$TMPD/check")"
(cd "$TMPD" && "$PROMTOOL" test rules ops-alerts.yml) >"$TMPD/test" 2>&1 ||
	fail "promtool test rules: $(cat "$TMPD/test")"
ok "promtool test rules: every alert fires and stays quiet as tests/fixtures/ops-alerts.yml says"
