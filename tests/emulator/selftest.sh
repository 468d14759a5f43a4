#!/bin/bash
# Self test of the SCIM bridge emulator and the directory generator.
#
# Starts the emulator on 127.0.0.1 (HTTP, then HTTPS with a CA and server
# certificate made here by openssl), drives it with curl: auth, paging,
# filters, data reload, every fault, the log, start-up errors, SIGTERM.
# Exit status: 0 all passed, 1 a check failed, 77 curl or python3 missing.
# Everything lives in a temporary directory; servers are killed on any exit.

set -u

here=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON3:-python3}
EMU="$here/scim-bridge-emulator.py"
GEN="$here/gen-directory.py"
TOKEN="selftest-token-$$"

# Under CI (CI=true) a missing tool fails the test instead of skipping it.
missing() {
	if [ "${CI:-}" = true ]; then echo "FAIL: missing $1 (CI must have it)"; exit 1; fi
	echo "SKIP: $1 not found"
	exit 77
}
command -v curl >/dev/null 2>&1 || missing curl
command -v "$PY" >/dev/null 2>&1 || missing "$PY"

work=$(mktemp -d "${TMPDIR:-/tmp}/scim-emu-selftest.XXXXXX") || exit 1
pids=()
fails=0

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---------------------------------------------------------------- helpers

pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }

# check DESCRIPTION ACTUAL EXPECTED
check() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}

# start NAME EMULATOR-ARGS...: start an emulator, set PID and PORT.
start() {
    local name=$1 i
    shift
    "$PY" "$EMU" --port-file "$work/$name.port" --pidfile "$work/$name.pid" \
        "$@" 2>>"$work/$name.err" &
    PID=$!
    pids+=("$PID")
    for i in $(seq 100); do
        [ -s "$work/$name.port" ] && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ ! -s "$work/$name.port" ]; then
        echo "emulator $name did not start:"; cat "$work/$name.err"; exit 1
    fi
    PORT=$(cat "$work/$name.port")
}

# req URL [CURL-ARGS...]: set STATUS and RC; body, headers in $work.
req() {
    local url=$1
    shift
    RC=0
    STATUS=$(curl -sS -o "$work/body" -D "$work/headers" -w '%{http_code}' \
        "$@" "$url" 2>"$work/curl.err") || RC=$?
}

# get PATH [CURL-ARGS...]: authenticated request to the current HTTP server.
get() {
    local path=$1
    shift
    req "http://127.0.0.1:$PORT$path" -H "@$work/auth.header" "$@"
}

# jq_ EXPR: a Python expression over d, the JSON body of the last request.
jq_() {
    "$PY" -c 'import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
print(eval(sys.argv[2]))' "$work/body" "$1" 2>&1
}

header() {
    tr -d '\r' <"$work/headers" | sed -n "s/^$1: //Ip" | tail -n 1
}

# faults JSON: replace the control file atomically.
faults() {
    printf '%s\n' "$1" >"$work/control.tmp" && mv "$work/control.tmp" "$work/control"
}

ids_of_page() { jq_ '",".join(r["id"] for r in d["Resources"])'; }

# ---------------------------------------------------------------- data

printf '%s\n' "$TOKEN" >"$work/token"
printf 'Authorization: Bearer %s\n' "$TOKEN" >"$work/auth.header"
printf 'Authorization: Bearer wrong-%s\n' "$TOKEN" >"$work/bad.header"

"$PY" "$GEN" --people 250 --groups 12 --per-user 3 --suspended 2 --seed 7 "$work/dir.json" \
    || { echo "gen-directory.py failed"; exit 1; }

# ---------------------------------------------------------------- generator

echo "== generator"
"$PY" "$GEN" --people 250 --groups 12 --per-user 3 --suspended 2 --seed 7 "$work/dir2.json"
cmp -s "$work/dir.json" "$work/dir2.json" && pass "same seed, same bytes" || fail "same seed, same bytes"
"$PY" "$GEN" --people 250 --groups 12 --per-user 3 --suspended 2 --seed 8 "$work/dir3.json"
cmp -s "$work/dir.json" "$work/dir3.json" && fail "other seed, other bytes" || pass "other seed, other bytes"
"$PY" "$GEN" --sample "$work/sample.json"
cmp -s "$work/sample.json" "$here/sample-directory.json" \
    && pass "sample-directory.json is what --sample makes" \
    || fail "sample-directory.json is stale: run gen-directory.py --sample"
check "generated directory is well-formed" "$("$PY" - "$work/dir.json" <<'EOF'
import json, re, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
users, groups = d["users"], d["groups"]
ids = {u["id"] for u in users}
assert len(users) == 250 and len(ids) == 250
assert len({u["userName"] for u in users}) == 250
assert all(re.fullmatch(r"[A-Z2-7]{26}", u["id"]) for u in users)
assert all(re.fullmatch(r"[a-z2-7]{26}", g["id"]) for g in groups)
assert sum(not u["active"] for u in users) == 2
assert all(u["meta"]["resourceType"] == "User" and u["emails"][0]["value"] == u["userName"] for u in users)
count = {}
for g in groups:
    for m in g["members"]:
        assert m["value"] in ids
        count[m["value"]] = count.get(m["value"], 0) + 1
assert len(count) == 250 and set(count.values()) == {3}
print("yes")
EOF
)" "yes"
check "sample: 50 people, 8 groups, 1 suspended, a name with a space" "$("$PY" - "$here/sample-directory.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
print(len(d["users"]), len(d["groups"]), sum(not u["active"] for u in d["users"]),
      any(" " in g["displayName"] for g in d["groups"]))
EOF
)" "50 8 1 True"
"$PY" "$GEN" --people 10 --groups 4 --big-groups 7 "$work/bigg.json"
check "--big-groups gives every group that many members" \
    "$("$PY" -c 'import json,sys; print({len(g["members"]) for g in json.load(open(sys.argv[1]))["groups"]})' "$work/bigg.json")" "{7}"
"$PY" "$GEN" --people 3 --groups 2 --per-user 3 "$work/bad.json" 2>/dev/null
check "--per-user above --groups is refused" "$?" "2"
start0=$(date +%s)
"$PY" "$GEN" --people 100000 --groups 200 --per-user 2 --seed 1 "$work/big.json"
elapsed=$(( $(date +%s) - start0 ))
# The time is reported, never judged: a loaded machine is not a defect.
check "100,000 people, 200 groups (made in ${elapsed}s)" \
    "$("$PY" -c 'import json,sys; d = json.load(open(sys.argv[1])); print(len(d["users"]), len(d["groups"]))' "$work/big.json")" \
    "100000 200"

# ---------------------------------------------------------------- HTTP server

echo "== basics"
start main --data "$work/dir.json" --token-file "$work/token" --log "$work/log" \
    --control "$work/control"
MAIN_PID=$PID

req "http://127.0.0.1:$PORT/ping"
check "/ping without token" "$STATUS $(cat "$work/body")" "200 pong"
check "/ping is text/plain" "$(header Content-Type)" "text/plain; charset=utf-8"

for path in /scim/Users /Groups /scim/v2/Users /health /app /scim/ServiceProviderConfig /nowhere; do
    req "http://127.0.0.1:$PORT$path"
    check "$path without token is 401" "$STATUS $(jq_ 'd["status"]')" "401 401"
done
req "http://127.0.0.1:$PORT/scim/Users" -H "@$work/bad.header"
check "wrong token is 401, status a string" "$STATUS $(jq_ 'repr(d["status"])')" "401 '401'"
req "http://127.0.0.1:$PORT/scim/Users" -H "Authorization: Basic $TOKEN"
check "Basic scheme is 401" "$STATUS" "401"
get "/scim/Users" -H "Authorization: bearer $TOKEN"
check "scheme name is case-insensitive" "$STATUS" "200"

get /health
check "/health" "$STATUS $(jq_ 'd["version"], d["build"], d["reports"][0]["source"], d["reports"][0]["state"], "retrievedAt" in d')" \
    "200 ('2.9.16', '209163', 'SCIMServer', 'healthy', True)"
get /app
check "/app is an HTML page" "$STATUS $(header Content-Type)" "200 text/html; charset=utf-8"

echo "== paging"
seen=""
for start_index in 1 101 201; do
    get "/scim/Users?startIndex=$start_index&count=100"
    check "page $start_index" "$STATUS $(jq_ 'd["schemas"][0], d["totalResults"], d["itemsPerPage"], d["startIndex"], len(d["Resources"])')" \
        "200 ('urn:ietf:params:scim:api:messages:2.0:ListResponse', 250, $([ "$start_index" = 201 ] && echo 50 || echo 100), $start_index, $([ "$start_index" = 201 ] && echo 50 || echo 100))"
    seen="$seen,$(ids_of_page)"
done
check "pages hold 250 distinct people" "$(printf '%s' "$seen" | tr ',' '\n' | sed '/^$/d' | sort -u | wc -l | tr -d ' ')" "250"
check "listing Content-Type" "$(header Content-Type)" "application/scim+json"
get "/scim/Users"
check "default startIndex 1, count 100" "$(jq_ 'd["startIndex"], d["itemsPerPage"]')" "(1, 100)"
get "/scim/Users?count=500"
check "count is capped at --max-page" "$(jq_ 'd["itemsPerPage"]')" "100"
get "/scim/Users?count=0"
check "count=0 gives only totalResults" "$(jq_ 'd["totalResults"], d["Resources"]')" "(250, [])"
get "/scim/Users?startIndex=0&count=5"
check "startIndex 0 means 1" "$(jq_ 'd["startIndex"], d["itemsPerPage"]')" "(1, 5)"
get "/scim/Users?startIndex=-3&count=5"
check "negative startIndex means 1" "$(jq_ 'd["startIndex"]')" "1"
get "/scim/Users?startIndex=251"
check "startIndex past the end is empty" "$(jq_ 'd["totalResults"], d["itemsPerPage"]')" "(250, 0)"
get "/scim/Users?startIndex=abc"
check "non-numeric startIndex is 400 invalidValue" "$STATUS $(jq_ 'd["status"], d["scimType"]')" "400 ('400', 'invalidValue')"
get "/scim/Groups?count=5"
check "groups carry members" "$(jq_ 'd["totalResults"], all("members" in g for g in d["Resources"])')" "(12, True)"
for prefix in "" /scim /scim/v2; do
    get "$prefix/Users?count=1"
    check "prefix '$prefix'" "$STATUS $(jq_ 'd["totalResults"]')" "200 250"
done
get "/scim/Users/?count=1"
check "trailing slash tolerated" "$STATUS" "200"

echo "== filters and single resources"
first_user=$("$PY" -c 'import json,sys; u=json.load(open(sys.argv[1]))["users"][0]; print(u["id"], u["userName"])' "$work/dir.json")
first_id=${first_user% *}
first_name=${first_user#* }
upper_name=$(printf '%s' "$first_name" | tr 'a-z' 'A-Z')
get "/scim/Users" -G --data-urlencode "filter=USERNAME eq \"$upper_name\""
check "filter userName eq, case-insensitive" "$STATUS $(jq_ 'd["totalResults"], d["Resources"][0]["id"]')" "200 (1, '$first_id')"
get "/scim/Users" -G --data-urlencode 'filter=userName eq "nobody@example.com"'
check "filter without a match" "$(jq_ 'd["totalResults"], d["Resources"]')" "(0, [])"
get "/scim/Groups" -G --data-urlencode 'filter=displayName eq "site reliability"'
check "filter displayName eq" "$(jq_ 'd["totalResults"], d["Resources"][0]["displayName"]')" "(1, 'Site Reliability')"
group_id=$(jq_ 'd["Resources"][0]["id"]')
get "/scim/Users" -G --data-urlencode 'filter=title co "x"'
check "unsupported filter is 400 invalidFilter" "$STATUS $(jq_ 'd["scimType"]')" "400 invalidFilter"
get "/scim/Users/$first_id"
check "GET /Users/{id}" "$STATUS $(jq_ 'd["id"], d["userName"]')" "200 ('$first_id', '$first_name')"
get "/scim/v2/Groups/$group_id"
check "GET /Groups/{id} has members" "$STATUS $(jq_ 'd["id"], len(d["members"]) > 0')" "200 ('$group_id', True)"
get "/scim/Users/AAAAAAAAAAAAAAAAAAAAAAAAAA"
check "unknown id is 404" "$STATUS $(jq_ 'd["status"]')" "404 404"
get "/scim/Users/$(printf '%s' "$first_id" | tr 'A-Z' 'a-z')"
check "ids are case-sensitive" "$STATUS" "404"
get "/scim/ServiceProviderConfig"
check "ServiceProviderConfig" "$(jq_ 'd["filter"], d["sort"]["supported"], d["etag"]["supported"]')" \
    "({'supported': True, 'maxResults': 10000}, False, False)"
get "/scim/ResourceTypes"
check "ResourceTypes" "$(jq_ 'sorted(r["id"] for r in d["Resources"])')" "['Group', 'User']"
get "/scim/Schemas"
check "Schemas" "$(jq_ 'd["totalResults"]')" "2"
get "/scim/Nothing"
check "unknown path is 404" "$STATUS" "404"
get "/scim/Users" -X POST -H 'Content-Type: application/scim+json' -d '{}'
check "POST is 405" "$STATUS $(jq_ 'd["status"]')" "405 405"

echo "== concurrency"
clients=()
for i in $(seq 20); do
    curl -sS -o /dev/null -w '%{http_code}\n' -H "@$work/auth.header" \
        "http://127.0.0.1:$PORT/scim/Users?startIndex=$i&count=50" >>"$work/parallel" &
    clients+=("$!")
done
wait "${clients[@]}"
check "20 parallel requests" "$(sort -u "$work/parallel")" "200"

echo "== data reload"
"$PY" - "$work/dir.json" <<'EOF'
import json, os, sys
path = sys.argv[1]
d = json.load(open(path, encoding="utf-8"))
d["users"][0]["active"] = False
d["users"][1]["userName"] = "renamed.person@example.com"
del d["users"][2]
with open(path + ".new", "w", encoding="utf-8") as f:
    json.dump(d, f)
os.replace(path + ".new", path)
EOF
get "/scim/Users?count=3"
check "suspend, rename and delete are served" \
    "$(jq_ 'd["totalResults"], d["Resources"][0]["active"], d["Resources"][1]["userName"]')" \
    "(249, False, 'renamed.person@example.com')"
printf '{"users": [' >"$work/dir.json.new" && mv "$work/dir.json.new" "$work/dir.json"
get "/scim/Users?count=1"
check "a broken data file keeps the last good directory" "$STATUS $(jq_ 'd["totalResults"]')" "200 249"
"$PY" "$GEN" --people 250 --groups 12 --per-user 3 --suspended 2 --seed 7 "$work/dir.json"
get "/scim/Users?count=1"
check "a repaired data file is served" "$(jq_ 'd["totalResults"]')" "250"

echo "== faults"
faults '["status:500:/scim/Users?:2"]'
get "/scim/Users?count=1"; a=$STATUS
get "/scim/Users?count=1"; b="$STATUS $(jq_ 'd["status"], d["schemas"][0]')"
get "/scim/Users?count=1"; c=$STATUS
check "status:500 on the 2nd match only" "$a / $b / $c" \
    "200 / 500 ('500', 'urn:ietf:params:scim:api:messages:2.0:Error') / 200"

faults '["status:503:startIndex=101:*"]'
get "/scim/Users?startIndex=1&count=100"; a=$STATUS
get "/scim/Users?startIndex=101&count=100"; b=$STATUS
get "/scim/Users?startIndex=101&count=100"; c=$STATUS
check "status:503 on every 2nd page" "$a $b $c" "200 503 503"

faults '["status:502::2+"]'
get "/scim/Groups"; a=$STATUS
get "/scim/Users"; b=$STATUS
get "/health"; c=$STATUS
check "status:502 from the 2nd request on, any path" "$a $b $c" "200 502 502"

faults '["retry-after:2:2"]'
get "/scim/Users/$first_id"; a=$STATUS
get "/scim/Users?count=1"; b="$STATUS $(header Retry-After) $(jq_ 'd["status"]')"
get "/scim/Groups?count=1"; c="$STATUS $(header Retry-After)"
get "/scim/Users?count=1"; e=$STATUS
check "retry-after: listings throttled twice, then served" "$a / $b / $c / $e" "200 / 429 2 429 / 429 2 / 200"

faults '["unavailable:@30:1"]'
get "/scim/Users?count=1"; a="$STATUS $(header Retry-After | grep -c ' GMT$')"
get "/scim/Users?count=1"; b=$STATUS
check "unavailable with an HTTP-date Retry-After" "$a / $b" "503 1 / 200"

faults '["unavailable:none:1"]'
get "/scim/Users?count=1"; a="$STATUS [$(header Retry-After)]"
check "unavailable without Retry-After" "$a" "503 []"

faults '["slow:2:/scim/Groups"]'
get "/scim/Users?count=1" --max-time 1; a="$RC $STATUS"
get "/scim/Groups?count=1" --max-time 1; b=$RC
check "slow: only the matching path times out" "$a / $b" "0 200 / 28"

faults '["truncate:/scim/Users:1"]'
get "/scim/Users?count=50"; a=$RC
get "/scim/Users?count=50"; b="$RC $STATUS"
check "truncate: connection dropped mid-body once" "$a / $b" "18 / 0 200"

faults '["badjson::1"]'
get "/scim/Users?count=5"; a="$STATUS $(jq_ 'd' | grep -c JSONDecodeError)"
get "/scim/Users?count=5"; b="$STATUS $(jq_ 'd["itemsPerPage"]')"
check "badjson: 200 with broken JSON once" "$a / $b" "200 1 / 200 5"

faults '["lie-total:-7"]'
get "/scim/Users?count=5"
check "lie-total:-7" "$(jq_ 'd["totalResults"], d["itemsPerPage"]')" "(243, 5)"

faults '["repeat-page"]'
get "/scim/Users?startIndex=1&count=10"; a=$(ids_of_page)
get "/scim/Users?startIndex=11&count=10"; b=$(ids_of_page)
check "repeat-page: page 2 is page 1" "$([ "$a" = "$b" ] && echo same)" "same"

faults '["past-end-first-page"]'
get "/scim/Users?startIndex=1&count=100"; a=$(ids_of_page)
get "/scim/Users?startIndex=201&count=100"; b=$(jq_ 'd["itemsPerPage"]')
get "/scim/Users?startIndex=251&count=100"; c=$(ids_of_page)
check "past-end-first-page: last page normal, beyond is page 1" "$b $([ "$a" = "$c" ] && echo same)" "50 same"

faults '["startindex-zero"]'
get "/scim/Users?startIndex=101&count=10"
check "startindex-zero" "$(jq_ 'd["startIndex"], d["itemsPerPage"]')" "(0, 10)"

faults '["shuffle:42"]'
get "/scim/Users?startIndex=1&count=100"; a=$(ids_of_page)
get "/scim/Users?startIndex=1&count=100"; b=$(ids_of_page)
get "/scim/Users?startIndex=1&count=100"
check "shuffle: each listing has another order" "$([ "$a" != "$b" ] && echo differs) $(jq_ 'd["totalResults"], d["itemsPerPage"]')" "differs (250, 100)"

faults '["no-members"]'
get "/scim/Groups?count=100"
check "no-members: listed groups have no members" "$(jq_ 'any("members" in g for g in d["Resources"])')" "False"
get "/scim/Groups/$group_id"
check "no-members: GET /Groups/{id} has them" "$(jq_ 'len(d["members"]) > 0')" "True"

faults '["case"]'
get "/scim/Users?count=2"
check "case: re-cased names" "$(jq_ '"resources" in d, "Resources" in d, "UserName" in d["resources"][0], "ACTIVE" in d["resources"][0]')" \
    "(True, False, True, True)"
check "case: unknown extension schema and attributes" \
    "$(jq_ '[k for k in d["resources"][0] if ":" in k or k.lower().startswith("x-")] == [s for k, v in d["resources"][0].items() if k.lower() == "schemas" for s in v if ":extension:" in s] + ["X-emulator-unknown"]')" "True"
get "/scim/Users/$first_id"
check "case: single resources too" "$(jq_ '"UserName" in d')" "True"
get "/scim/Users/NOPE"
check "case: error bodies too" "$STATUS $(jq_ '[v for k, v in d.items() if k.lower() == "status"][0]')" "404 404"

faults '["owner"]'
get "/scim/Users?count=1"
check "owner: listed first" "$(jq_ 'd["totalResults"], d["Resources"][0]["id"], d["Resources"][0]["userName"]')" \
    "(251, 'NU6SE55LNYMQ4H4QOUUQTMNPLE', 'morgan.owner@example.com')"
get "/scim/Users/NU6SE55LNYMQ4H4QOUUQTMNPLE"
check "owner: GET by id" "$STATUS" "200"
get "/scim/Groups?count=100"
check "owner: in no group" "$(jq_ 'any(m["value"] == "NU6SE55LNYMQ4H4QOUUQTMNPLE" for g in d["Resources"] for m in g["members"])')" "False"

faults '["auth-500"]'
get "/scim/Users"; a="$STATUS $(jq_ 'd["status"]')"
get "/health"; b=$STATUS
req "http://127.0.0.1:$PORT/scim/Users" -H "@$work/bad.header"; c=$STATUS
req "http://127.0.0.1:$PORT/ping"; e=$STATUS
check "auth-500: token ok 500, bad token 401, ping 200" "$a / $b / $c / $e" "500 500 / 500 / 401 / 200"

printf 'not json\n' >"$work/control.tmp" && mv "$work/control.tmp" "$work/control"
get "/scim/Users"
check "an invalid control file keeps the previous faults" "$STATUS" "500"
rm -f "$work/control"
get "/scim/Users"
check "no control file, no faults" "$STATUS" "200"

faults '["retry-after:1:1", "status:500:/scim/Users:1"]'
get "/scim/Users"; a=$STATUS
get "/scim/Users"; b=$STATUS
get "/scim/Users"; c=$STATUS
check "faults combine in order" "$a $b $c" "429 500 200"
faults '[]'

echo "== log"
get "/scim/Users?count=7&startIndex=1"
get "/scim/Users?count=7&startIndex=1"
check "log lines 'METHOD TARGET STATUS'" "$(grep -c -x -F 'GET /scim/Users?count=7&startIndex=1 200' "$work/log")" "2"
check "log has the 401s" "$(grep -c -x -F 'GET /scim/Users 401' "$work/log")" "4"

echo "== SIGTERM"
kill -TERM "$MAIN_PID"
wait "$MAIN_PID"
check "exit status after SIGTERM" "$?" "0"
check "port and pid files removed" "$(ls "$work" | grep -c -E '^main\.(port|pid)$')" "0"

echo "== command-line faults, --max-page, hostile data"
start cli --data "$here/hostile-directory.json" --token-file "$work/token" \
    --max-page 5 --fault 'status:500:/scim/Groups:*' --fault owner
get "/scim/Users?count=100"
check "--max-page 5 and --fault owner" "$(jq_ 'd["totalResults"], d["itemsPerPage"], d["Resources"][0]["userName"]')" \
    "(19, 5, 'morgan.owner@example.com')"
get "/scim/Groups"
check "--fault status:500 on every group listing" "$STATUS" "500"
get "/scim/Users" -G --data-urlencode 'filter=userName eq "new\nline@example.com"'
check "hostile: filter on a userName with a newline" "$(jq_ 'd["totalResults"], d["Resources"][0]["id"]')" "(1, 'UKF5U3AICUFFIJUEWQHURHVPSI')"
get "/scim/Users" -G --data-urlencode 'filter=userName eq "JANE.DOE@example.com"'
check "hostile: jane.doe@example.com is one person" "$(jq_ 'd["totalResults"]')" "1"
get "/Groups/ghkxjdeu5h2pdyjmubrgemq5ja"
check "hostile: a group by id (path outside the fault's substring)" "$STATUS $(jq_ 'd["displayName"]')" "200 Engineering"
kill -TERM "$PID"; wait "$PID"

echo "== start-up errors"
"$PY" "$EMU" --data "$work/dir.json" --fault 'nonsense:1' 2>/dev/null
check "unknown fault spec exits 2" "$?" "2"
"$PY" "$EMU" --data "$work/dir.json" --fault 'status:500:/x' 2>/dev/null
check "incomplete fault spec exits 2" "$?" "2"
"$PY" "$EMU" --data "$work/missing.json" 2>/dev/null
check "missing data file exits 2" "$?" "2"
printf '[1, 2]\n' >"$work/notdir.json"
"$PY" "$EMU" --data "$work/notdir.json" 2>/dev/null
check "data file of the wrong shape exits 2" "$?" "2"

echo "== big directory"
start big --data "$work/big.json" --token-file "$work/token"
get "/scim/Users?startIndex=99901&count=100"
check "100,000 people: last page" "$(jq_ 'd["totalResults"], d["itemsPerPage"]')" "(100000, 100)"
kill -TERM "$PID"; wait "$PID"

echo "== HTTPS"
if command -v openssl >/dev/null 2>&1; then
    tls="$work/tls"
    mkdir "$tls"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$tls/ext.cnf"
    if openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=emulator test CA' \
            -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>"$tls/log" &&
       openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' \
            -keyout "$tls/server.key" -out "$tls/server.csr" 2>>"$tls/log" &&
       openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
            -CAcreateserial -days 2 -extfile "$tls/ext.cnf" -out "$tls/server.pem" 2>>"$tls/log"; then
        start tls --data "$work/dir.json" --token-file "$work/token" \
            --tls-cert "$tls/server.pem" --tls-key "$tls/server.key" --control "$work/control"
        req "https://127.0.0.1:$PORT/scim/Users?count=3" --cacert "$tls/ca.pem" -H "@$work/auth.header"
        check "HTTPS listing verified against the test CA" "$RC $STATUS $(jq_ 'd["itemsPerPage"]')" "0 200 3"
        req "https://127.0.0.1:$PORT/scim/Users?count=3" -H "@$work/auth.header"
        check "HTTPS without the CA fails verification" "$RC" "60"
        req "http://127.0.0.1:$PORT/ping"
        [ "$RC" != 0 ] && pass "plain HTTP to the HTTPS port fails" || fail "plain HTTP to the HTTPS port answered"
        req "https://127.0.0.1:$PORT/scim/Users" --cacert "$tls/ca.pem"
        check "HTTPS without token is 401" "$STATUS" "401"
        faults '["truncate:/scim/Users:1"]'
        req "https://127.0.0.1:$PORT/scim/Users?count=50" --cacert "$tls/ca.pem" -H "@$work/auth.header"
        [ "$RC" != 0 ] && pass "HTTPS truncate fails the transfer (curl $RC)" || fail "HTTPS truncate went through"
        req "https://127.0.0.1:$PORT/scim/Users?count=50" --cacert "$tls/ca.pem" -H "@$work/auth.header"
        check "HTTPS serves again after the drop" "$RC $STATUS" "0 200"
        faults '[]'
        kill -TERM "$PID"; wait "$PID"
        check "HTTPS server exits 0 on SIGTERM" "$?" "0"
    else
        fail "openssl could not make the test certificates: $(tail -n 3 "$tls/log")"
    fi
else
    echo "SKIP HTTPS: openssl not found"
fi

echo
if [ "$fails" -ne 0 ]; then
    echo "selftest: $fails check(s) failed"
    exit 1
fi
echo "selftest: all checks passed"
exit 0
