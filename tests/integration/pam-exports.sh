#!/bin/sh
# pam-exports: pam_scim.so exports pam_sm_acct_mgmt and nothing else, and
# calls nothing that a module inside someone else's process must not:
# no exit or abort, no signal handlers, no network, no fork or exec, no
# NSS lookups (a PAM module inside an NSS lookup would re-enter NSS).
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
. "$top_srcdir/tests/helpers/pam-lib.sh" || exit 99

command -v nm >/dev/null || skip_missing nm
[ -f "$PAM_MODULE" ] || fail "$PAM_MODULE not built"

exports=$(nm -D --defined-only "$PAM_MODULE" | awk '$2 ~ /^[TDBRVWiu]$/ { print $3 }' | sort | tr '\n' ' ')
[ "$exports" = "pam_sm_acct_mgmt " ] || fail "exports: $exports"
echo "ok: exports only: $exports"

bad=""
for f in $(nm -D --undefined-only "$PAM_MODULE" | awk '{ sub(/@.*/, "", $2); print $2 }'); do
	case $f in
	exit | _exit | _Exit | abort | signal | sigaction | raise | kill | \
		socket | connect | getaddrinfo | fork | vfork | system | popen | \
		exec* | syslog | openlog | \
		getpw* | getgr* | initgroups | getgrouplist | getspnam*)
		bad="$bad $f"
		;;
	esac
done
[ -z "$bad" ] || fail "pam_scim.so calls:$bad"
echo "ok: no forbidden calls"
echo "PASS: exports"
