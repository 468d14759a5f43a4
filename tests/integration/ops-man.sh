#!/bin/sh
# ops-man: every man page renders without a warning, through man(1) as a
# reader would and through groff with every warning on; and the pages
# match the tool: every option, command, exit status and configuration
# key that scim-cache --help lists is documented.
. "$top_srcdir/tests/helpers/ops-lib.sh" || exit 99
require_cmd man groff
ops_tmpdir

pages=$(ls "$top_srcdir"/doc/*.[1-8])
[ -n "$pages" ] || fail "no man pages in doc/"
for p in $pages; do
	name=$(basename "$p")
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$p" >"$TMPD/out" 2>"$TMPD/err" ||
		fail "man -l $name failed: $(cat "$TMPD/err")"
	[ ! -s "$TMPD/err" ] || fail "man --warnings -l $name: $(cat "$TMPD/err")"
	[ -s "$TMPD/out" ] || fail "man -l $name rendered nothing"
	groff -ww -z -man "$p" 2>"$TMPD/err" || fail "groff $name failed"
	[ ! -s "$TMPD/err" ] || fail "groff -ww $name: $(cat "$TMPD/err")"
	for s in NAME SYNOPSIS DESCRIPTION FILES "SEE ALSO"; do
		grep -q "^$s\$" "$TMPD/out" || fail "$name has no $s section"
	done
	ok "$name renders without warnings"
done

# The pages against the tool that is built.
[ -x "$SCIM_CACHE" ] || fail "$SCIM_CACHE not built"
"$SCIM_CACHE" --help >"$TMPD/help"
render() {
	LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$top_srcdir/doc/$1" 2>/dev/null |
		sed 's/\xe2\x80\x90/-/g'
}
render scim-cache.8 >"$TMPD/tool.txt"
render nss-scim.conf.5 >"$TMPD/conf.txt"
for s in EXAMPLES "EXIT STATUS" COMMANDS OPTIONS; do
	grep -q "^$s\$" "$TMPD/tool.txt" || fail "scim-cache(8) has no $s section"
done
grep -q '^EXAMPLES$' "$TMPD/conf.txt" || fail "nss-scim.conf(5) has no EXAMPLES"

# Options: every --word of --help is an item of OPTIONS in scim-cache(8).
for o in $(grep -o -- '--[a-z][a-z-]*' "$TMPD/help" | sort -u); do
	grep -Eq "^ {7}$o( |$)" "$TMPD/tool.txt" ||
		fail "scim-cache(8) does not describe $o"
done
# Commands.
for c in $(sed -n '/^commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p' "$TMPD/help"); do
	grep -Eq "^ {7}$c( |$)" "$TMPD/tool.txt" ||
		fail "scim-cache(8) does not describe the command $c"
done
# Exit codes.
codes=$(sed -n '/^exit codes:/,/^$/p' "$TMPD/help" | grep -o '\b[0-9][0-9]* [a-z]' | cut -d' ' -f1)
[ -n "$codes" ] || fail "no exit codes in --help"
for c in $codes; do
	sed -n '/^EXIT STATUS$/,/^[A-Z]/p' "$TMPD/tool.txt" | grep -Eq "^ {7}$c( |$)" ||
		fail "scim-cache(8) EXIT STATUS lacks $c"
done
ok "scim-cache(8) has every option, command and exit code of --help"

# Keys: every key of --help has an item in nss-scim.conf(5) that gives its
# default as --help does, and is in the example config.
build_var sysconfdir localstatedir >"$TMPD/dirs"
{
	read -r sysconfdir
	read -r localstatedir
} <"$TMPD/dirs"
sed -n '/^configuration keys/,$p' "$TMPD/help" |
	sed -n 's/^  \([a-z_][a-z_]*\)  *\([^;]*\).*/\1 \2/p' >"$TMPD/keys"
[ "$(wc -l <"$TMPD/keys")" -ge 20 ] || fail "too few keys in --help"
# item KEY: the paragraph of KEY's .TP/.TQ item in the page's source, as
# plain words.
item() {
	awk -v key="$1" '
		/^\.(TP|TQ|SS|SH|PP)/ { if (on && seen) exit; tag = 1; next }
		tag && $0 == ".B " key { on = 1; tag = 0; next }
		{ tag = 0 }
		on { seen = 1; print }
	' "$top_srcdir/doc/nss-scim.conf.5" |
		sed -e 's/^\.[A-Z]* //' -e 's/\\-/-/g' -e 's/\\(..//g' -e 's/\\c$//' |
		tr '\n' ' '
}
while read -r key default; do
	item "$key" >"$TMPD/item"
	[ -s "$TMPD/item" ] || fail "nss-scim.conf(5) does not describe $key"
	case $default in
	"(required)"*) grep -q Required "$TMPD/item" || fail "$key: not said to be required" ;;
	"(none)"*) grep -q 'Default: none' "$TMPD/item" || fail "$key: default none" ;;
	"(any)"* | "(all)"*) grep -q 'Default: a' "$TMPD/item" || fail "$key: default any/all" ;;
	*)
		# The page gives the paths of the usual configure flags.
		d=$(echo "${default%% *}" | sed -e "s|^$sysconfdir/|/etc/|" \
			-e "s|^$localstatedir/|/var/|")
		grep -qF "Default $d" "$TMPD/item" ||
			fail "nss-scim.conf(5): $key should say 'Default $d': $(cat "$TMPD/item")"
		;;
	esac
	grep -Eq "^#*$key *=" "$top_srcdir/tools/nss-scim.conf.example" ||
		fail "$key is not in tools/nss-scim.conf.example"
done <"$TMPD/keys"
ok "nss-scim.conf(5) has every key of --help, with its default"
