#!/bin/sh
# The example config parses (with the url kept, every other key commented
# out or set), and every key scim-cache knows is documented in it.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
make_tmpdir
ex="$top_srcdir/tools/nss-scim.conf.example"
cp "$ex" "$TMPD/a.conf"
chmod 0644 "$TMPD/a.conf"
# Uncomment every key line: the result must still be a valid config.
sed 's/^#\([a-z_]* =\)/\1/' "$ex" >"$TMPD/b.conf"
chmod 0644 "$TMPD/b.conf"
for c in a b; do
	# status exits 0, or 1 when it cannot read the example's paths; a
	# crash (a signal, or the sanitizers' exit code 86) is never hidden.
	rc=0
	out=$("$top_builddir/tools/scim-cache" --config "$TMPD/$c.conf" status 2>&1) || rc=$?
	case $rc in
	0 | 1) ;;
	*) fail "example $c: scim-cache status exited $rc: $out" ;;
	esac
	case $out in
	*"$TMPD/$c.conf:"*) fail "example $c does not parse: $out" ;;
	esac
done
for key in $("$top_builddir/tools/scim-cache" --help | sed -n '/^configuration keys/,$p' |
	awk '/^  [a-z_]+ /{print $1}'); do
	grep -q "^#*$key =" "$ex" || fail "key $key is not in the example"
done
exit 0
