#!/bin/sh
# Behaviour unchanged across a refactoring of scim-cache: a reference
# scim-cache built from a pinned commit (REFACTOR_REF, in a scratch copy of
# the tree) and the one just built produce, from the emulator's data sets,
# the same snapshots, bundles and id maps byte for byte, and print the same
# messages.  Each data set goes through a bridge host, a source host (the
# bundle) and a fleet host applying that bundle, then through a second
# refresh after people are removed and renamed.
#
# Only what holds the clock is set aside: a snapshot's creation time (and a
# fleet host's generation, which is the bundle's, taken from the clock), a
# bundle's generation, created and valid-until lines and its signature
# (over those lines), the run time in the summary lines, and the status
# file's times, durations and what derives from them (a bundle's digest,
# the bundle server's validators).
#
# Needs the git history (distcheck's tree has none: skipped) and what
# building the tree needs.  The reference build is kept in the build tree
# and reused.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
make_tmpdir
. "$top_srcdir/tests/helpers/tools-lib.sh" || exit 99
tools_setup

REFACTOR_REF=${REFACTOR_REF:-90c8169}
# The tree itself must be the checkout: distcheck unpacks its copy inside
# the build tree, which may lie inside one.
top=$(git -C "$top_srcdir" rev-parse --show-toplevel 2>/dev/null) &&
	[ "$(cd "$top" && pwd -P)" = "$(cd "$top_srcdir" && pwd -P)" ] ||
	skip "not in a git checkout"
git -C "$top_srcdir" cat-file -e "$REFACTOR_REF^{commit}" 2>/dev/null ||
	skip "commit $REFACTOR_REF is not in this clone"
command -v autoreconf >/dev/null 2>&1 || skip_missing autoreconf

# ---- the reference build -------------------------------------------------
REF="$top_builddir/refactor-ref/$REFACTOR_REF"
REF_CACHE="$REF/build/tools/scim-cache"
if [ ! -x "$REF_CACHE" ]; then
	rm -rf "$REF"
	mkdir -p "$REF/src" "$REF/build"
	git -C "$top_srcdir" archive "$REFACTOR_REF" | tar -x -C "$REF/src" ||
		fail "cannot unpack $REFACTOR_REF"
	(cd "$REF/src" && autoreconf -fi) >"$REF/build.log" 2>&1 ||
		fail "reference autoreconf: $(tail -n 20 "$REF/build.log")"
	(cd "$REF/build" && ../src/configure -q --prefix=/usr \
		--sysconfdir=/etc --localstatedir=/var &&
		make -s tools/scim-cache) >>"$REF/build.log" 2>&1 ||
		fail "reference build: $(tail -n 20 "$REF/build.log")"
fi
NEW_CACHE=$SCIM_CACHE

# ---- a plain HTTP server for the bundles ----------------------------------
WWW="$TMPD/www"
mkdir -m 0755 "$WWW"
"$PY" - "$WWW" "$TMPD/www.port" 2>"$TMPD/www.err" <<'PYEOF' &
import functools, http.server, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
h.func.log_message = lambda *a: None
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
open(sys.argv[2] + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(sys.argv[2] + ".tmp", sys.argv[2])
s.serve_forever()
PYEOF
EMU_PIDS="$EMU_PIDS $!"
i=0
while [ ! -s "$TMPD/www.port" ]; do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "bundle server did not start: $(cat "$TMPD/www.err")"
	sleep 0.1
done
WWW_URL="http://127.0.0.1:$(cat "$TMPD/www.port")"

# One signing key for both builds.
"$NEW_CACHE" keygen "$TMPD/fleet.key" "$TMPD/fleet.pub" >/dev/null ||
	fail "keygen"

# ---- one run of one build ---------------------------------------------------

# host_config BUILD NAME MODE SET: the config of host NAME of BUILD (ref or
# new) in $TMPD/BUILD/NAME, for MODE bridge, source or fleet, with SET's
# bundle (one URL for both builds: the snapshot names it); sets H and
# HCONF.
host_config() {
	H="$TMPD/$1/$2"
	HCONF="$H/scim.conf"
	mkdir -p -m 0755 "$H/snap"
	{
		echo "cache_path = $H/snap/cache.mdb"
		echo "state_dir = $H/state"
		echo "retries = 1"
		echo "lock_wait = 2"
		echo "local_passwd = $LOCAL_PASSWD"
		echo "local_group = $LOCAL_GROUP"
		case $3 in
		fleet)
			echo "source = $WWW_URL/$4.bundle"
			echo "verify_key = $TMPD/fleet.pub"
			;;
		*)
			echo "url = http://127.0.0.1:$EMU_PORT/scim"
			echo "token_file = $TMPD/token"
			;;
		esac
		if [ "$3" = source ]; then
			echo "bundle_file = $WWW/$4.bundle"
			echo "bundle_key = $TMPD/fleet.key"
		fi
	} >"$HCONF"
}

# run BUILD NAME MODE STEP SET: one refresh of host NAME; keeps its snapshot,
# id map, bundle and messages as $TMPD/out/BUILD.NAME.STEP.*.
run() {
	local bin=$NEW_CACHE out="$TMPD/out/$1.$2.$4"
	[ "$1" = ref ] && bin=$REF_CACHE
	host_config "$1" "$2" "$3" "$5"
	"$bin" --config "$HCONF" refresh 2>"$out.log" ||
		fail "$1 $2 refresh $4: $(cat "$out.log")"
	"$bin" --config "$HCONF" status --json >"$out.status" ||
		fail "$1 $2 status $4"
	cp "$H/snap/cache.mdb" "$out.snap"
	cp "$H/state/status.json" "$out.state"
	[ ! -f "$H/state/ids" ] || cp "$H/state/ids" "$out.ids"
	[ "$3" != source ] || cp "$WWW/$5.bundle" "$out.bundle"
}

# Sets the clock's fields aside (see the top) in every kept file.
normalise() {
	"$PY" - "$TMPD/out" <<'PYEOF'
import glob, json, os, re, struct, sys
d = sys.argv[1]
for st in glob.glob(os.path.join(d, "*.status")):
    base = st[:-len(".status")]
    snap = json.load(open(st))["snapshot"]
    b = open(base + ".snap", "rb").read()
    # The meta record holds generation then created, little-endian.
    old = struct.pack("<Qq", snap["generation"], snap["created"])
    if b.count(old) != 1:
        sys.exit("%s: the meta record's times are not found once" % base)
    gen = snap["generation"] if snap["generation"] < 1000000000 else 0
    b = b.replace(old, struct.pack("<Qq", gen, 0))
    open(base + ".snap", "wb").write(b)
    if os.path.exists(base + ".bundle"):
        t = open(base + ".bundle").read()
        t = re.sub(r"(?m)^(generation|created|valid-until) [0-9]+$",
                   r"\1 T", t)
        t = re.sub(r"(?m)^signature ed25519 ([0-9a-f]+) .*$",
                   r"signature ed25519 \1 S", t)
        open(base + ".bundle", "w").write(t)
    # The status file's values that hold the clock, or come from it.
    t = open(base + ".state").read()
    t = re.sub(r'"(last_attempt|last_success|last_duration_seconds|'
               r'bundle_created|bundle_valid_until|bundle_generation|'
               r'bundle_digest|bundle_etag|bundle_last_modified)":'
               r'("[^"]*"|[0-9.e+-]+)', r'"\1":T', t)
    if snap["generation"] >= 1000000000:
        t = re.sub(r'"last_generation":[0-9]+', '"last_generation":G', t)
    open(base + ".state", "w").write(t)
    t = open(base + ".log").read()
    t = re.sub(r" in [0-9]+\.[0-9]s:", " in Ts:", t)
    t = re.sub(r"generation [0-9]{9,}", "generation G", t)
    open(base + ".log", "w").write(t)
PYEOF
}

# ---- the data sets ----------------------------------------------------------
mkdir "$TMPD/out"
for set in "$EMU_DIR"/*-directory.json; do
	name=$(basename "$set" -directory.json)
	DATA="$TMPD/$name.json"
	put_data "$set" "$DATA"
	start_emulator "emu-$name" "$DATA"
	for step in 1 2; do
		if [ $step = 2 ]; then
			# A file server's validators (mtime in seconds and
			# size) cannot tell two manifests of one size written
			# in the same second apart; a real source writes one
			# per refresh.
			sleep 1
			# A removed person (a tombstone in the id map) and
			# a rename (the same number under a new name).
			edit_data "$DATA" '
users = d["users"]
del users[1]
users[4]["userName"] = "renamed." + users[4]["userName"]
for e in users[4].get("emails", []):
    e["value"] = "renamed." + e["value"]
'
		fi
		for b in ref new; do
			run $b "bridge-$name" bridge $step "$name"
			run $b "source-$name" source $step "$name"
			run $b "fleet-$name" fleet $step "$name"
		done
	done
done

normalise
n=0
for f in "$TMPD"/out/ref.*; do
	case $f in *.status) continue ;; esac
	# The fleet transfer (a signed manifest beside the bundle, and
	# deltas), which landed after REFACTOR_REF, changes by design what a
	# fleet host records and reports and the source's line about the
	# bundle.  Their snapshots, bundles and id maps must still match.
	case ${f#"$TMPD/out/ref."} in
	fleet-*.state | fleet-*.log | source-*.log) continue ;;
	esac
	g="$TMPD/out/new.${f#"$TMPD/out/ref."}"
	[ -f "$g" ] || fail "new build made no $(basename "$g")"
	cmp -s "$f" "$g" || {
		case $f in *.snap) ;; *) diff -u "$f" "$g" >&2 || true ;; esac
		fail "$(basename "$f") differs from the reference"
	}
	n=$((n + 1))
done
[ "$n" -ge 30 ] || fail "only $n files compared"
echo "refactor-identical: $n files identical to $REFACTOR_REF"
