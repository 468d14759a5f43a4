#!/bin/sh
# tools-status-schema: status --json on a host with nothing yet (no
# snapshot, no state) has schema_version 1 and every key of the schema in
# scim-cache(8): null where unknown, empty where nothing was counted.
. "$top_srcdir/tests/helpers/ops-lib.sh" || exit 99
require_cmd "$PY"
ops_tmpdir

printf 'url = https://h.example/scim\ncache_path = %s/snap/cache.mdb\nstate_dir = %s/state\n' \
	"$TMPD" "$TMPD" >"$TMPD/c.conf"
chmod 0644 "$TMPD/c.conf"
rc=0
"$SCIM_CACHE" --config "$TMPD/c.conf" status --json >"$TMPD/out" 2>"$TMPD/err" || rc=$?
[ "$rc" = 1 ] || fail "status without a snapshot exits $rc, not 1: $(cat "$TMPD/err")"
"$PY" - "$TMPD/out" <<'PYEOF' || fail "status --json: $(cat "$TMPD/out")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["schema_version"] == 1, s
top = {"schema_version", "snapshot", "fleet", "last_attempt", "last_success",
       "last_result", "last_error", "last_duration_seconds", "skipped",
       "skipped_by_reason", "refreshes_total", "http_requests_total",
       "http_errors_total", "locks"}
assert set(s) == top, set(s) ^ top
snap = {"path", "available", "error", "generation", "created", "age_seconds",
        "people", "active", "suspended", "groups", "id_min", "id_max", "source"}
assert set(s["snapshot"]) == snap, set(s["snapshot"]) ^ snap
assert s["snapshot"]["available"] is False and s["snapshot"]["error"], s
assert all(s["snapshot"][k] is None for k in snap - {"path", "available", "error"}), s
fleet = {"mode", "source", "bundle_file", "generation", "digest", "origin",
         "bridge", "key", "bytes", "snapshot_made", "created", "age_seconds",
         "valid_until"}
assert set(s["fleet"]) == fleet, set(s["fleet"]) ^ fleet
assert s["fleet"]["mode"] == "bridge", s
assert all(s[k] is None for k in ("last_attempt", "last_success", "last_result",
                                  "last_error", "last_duration_seconds")), s
assert s["skipped"] == [] and s["locks"] == [], s
assert all(s[k] == {} for k in ("skipped_by_reason", "refreshes_total",
                                "http_requests_total", "http_errors_total")), s
PYEOF
ok "status --json: schema 1, every key present, nulls and empty counts"
"$SCIM_CACHE" --config "$TMPD/c.conf" status >"$TMPD/text" 2>&1 || true
grep -q '^mode: *bridge https://h.example/scim' "$TMPD/text" || fail "text status: $(cat "$TMPD/text")"
! grep -q '^bundle:' "$TMPD/text" || fail "text status shows a bundle of nulls: $(cat "$TMPD/text")"
ok "the text status is unchanged"
