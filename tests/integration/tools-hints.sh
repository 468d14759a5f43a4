#!/bin/sh
# tools-hints: the small courtesies of the command line.  -h and -V work
# like --help and --version; a bad option is reported as "scim-cache: ..."
# whatever path the tool was run by; a mistyped configuration key gets the
# key that was probably meant; a quoted value is refused with the reason;
# the bash completion parses and offers every command.
. "$top_srcdir/tests/helpers/ops-lib.sh" || exit 99
ops_tmpdir

"$SCIM_CACHE" -h | grep -q '^usage: scim-cache' || fail "-h prints no usage"
[ "$("$SCIM_CACHE" -V)" = "$("$SCIM_CACHE" --version)" ] || fail "-V differs from --version"
"$SCIM_CACHE" -V | grep -q '^scim-cache [0-9]' || fail "-V: $("$SCIM_CACHE" -V)"
ok "-h and -V"

rc=0
"$SCIM_CACHE" --bogus status 2>"$TMPD/err" || rc=$?
[ "$rc" = 64 ] || fail "a bad option exits $rc, not 64"
grep -q "^scim-cache: unrecognized option '--bogus'" "$TMPD/err" ||
	fail "bad option message: $(cat "$TMPD/err")"
"$SCIM_CACHE" --splay 2>"$TMPD/err" || true
! grep -q "$SCIM_CACHE" "$TMPD/err" || fail "the message names the path: $(cat "$TMPD/err")"
ok "option errors start with scim-cache: $(head -n 1 "$TMPD/err")"

conf="$TMPD/c.conf"
try() {
	printf 'url = https://h.example/scim\n%s\n' "$1" >"$conf"
	chmod 0644 "$conf"
	rc=0
	"$SCIM_CACHE" --config "$conf" status >/dev/null 2>"$TMPD/err" || rc=$?
	[ "$rc" = 78 ] || fail "'$1' exits $rc, not 78: $(cat "$TMPD/err")"
	grep -qF "$2" "$TMPD/err" || fail "'$1': want '$2', got: $(cat "$TMPD/err")"
}
try 'uid_mni = 5' "unknown key 'uid_mni' (did you mean uid_min?)"
try 'shel = /bin/sh' "unknown key 'shel' (did you mean shell?)"
try 'token-file = /x' "unknown key 'token-file' (did you mean token_file?)"
try 'colour = blue' "unknown key 'colour'"
! grep -q 'did you mean' "$TMPD/err" || fail "a far-off key got a guess: $(cat "$TMPD/err")"
ok "mistyped keys get the near key, others none"
try 'shell = "/bin/bash"' "shell: values are taken literally; remove the quotes around \"/bin/bash\""
try "home = '/home/%u'" "home: values are taken literally; remove the quotes"
ok "quoted values are refused with the reason"

# The bash completion parses, and offers every command of --help.
comp="$top_srcdir/dist/bash-completion/scim-cache"
if command -v bash >/dev/null 2>&1; then
	bash -n "$comp" || fail "bash -n $comp"
fi
for c in $("$SCIM_CACHE" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p'); do
	grep -q "compgen -W '[^']*\b$c\b" "$comp" || fail "the completion lacks the command $c"
done
ok "the bash completion parses and knows every command"
