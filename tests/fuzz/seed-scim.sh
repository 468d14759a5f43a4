#!/bin/sh
# seed-scim.sh DIR: fuzz-scim's seed corpus, ListResponse pages of the
# emulator's sample and hostile directories, as the bridge would send them.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"${PYTHON3:-python3}" - "$here/../emulator" "$1" <<'PYEOF'
import json, os, sys
emu, out = sys.argv[1], sys.argv[2]
n = 0
for name in ("sample-directory.json", "hostile-directory.json"):
    d = json.load(open(os.path.join(emu, name)))
    for kind, key in ((0, "users"), (1, "groups")):
        res = d.get(key, [])
        for start in range(0, max(len(res), 1), 10):
            page = res[start:start + 10]
            body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                    "totalResults": len(res), "itemsPerPage": len(page),
                    "startIndex": start + 1, "Resources": page}
            with open(os.path.join(out, "seed-%d" % n), "wb") as f:
                f.write(bytes([kind]) + json.dumps(body).encode())
            n += 1
PYEOF
