#!/bin/sh
# The libFuzzer targets of scim-cache, replayed by a plain driver on seeds
# made from the emulator's directories and the example config, with
# deterministic mutations of each.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
make_tmpdir
PY=${PYTHON3:-python3}
"$PY" - "$top_srcdir/tests/emulator" "$TMPD" <<'PYEOF' || fail "cannot make seeds"
import json, sys
src, out = sys.argv[1], sys.argv[2]
for name in ("sample", "hostile"):
    d = json.load(open(f"{src}/{name}-directory.json"))
    for kind, key, tag in (("users", "users", "0"), ("groups", "groups", "1")):
        res = d[key]
        for i in range(0, len(res), 20):
            page = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                    "totalResults": len(res), "itemsPerPage": 20,
                    "startIndex": i + 1, "Resources": res[i:i + 20]}
            with open(f"{out}/{name}-{kind}-{i}.seed", "w") as f:
                f.write(tag + json.dumps(page))
PYEOF
printf '0' >"$TMPD/conf.seed"
cat "$top_srcdir/tools/nss-scim.conf.example" >>"$TMPD/conf.seed"
printf '1u 1000 AAAA jane 1 live\ng 1001 bbbb eng - gone\n' >"$TMPD/ids.seed"
"$top_builddir/tests/fuzz/replay-scim" -m 3000 "$TMPD"/*-*-*.seed ||
	fail "replay-scim"
"$top_builddir/tests/fuzz/replay-config" -m 20000 "$TMPD/conf.seed" "$TMPD/ids.seed" ||
	fail "replay-config"
exit 0
