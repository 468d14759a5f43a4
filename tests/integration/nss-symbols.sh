#!/bin/sh
# The NSS module exports the _nss_scim_* entry points and nothing else.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99

so="$NSS_LIBS/libnss_scim.so.2"
[ -f "$so" ] || fail "$so not built"
exports=$(nm -D --defined-only "$so" | awk '{print $3}' | sort)
expected="_nss_scim_endgrent
_nss_scim_endpwent
_nss_scim_getgrent_r
_nss_scim_getgrgid_r
_nss_scim_getgrnam_r
_nss_scim_getpwent_r
_nss_scim_getpwnam_r
_nss_scim_getpwuid_r
_nss_scim_initgroups_dyn
_nss_scim_setgrent
_nss_scim_setpwent"
[ "$exports" = "$expected" ] || fail "unexpected exports:
$exports"
# No dependency a setuid program would not already trust.
readelf -d "$so" | grep -q 'SONAME.*libnss_scim.so.2' || fail "no SONAME"
if readelf -d "$so" | grep -q 'NEEDED.*\(curl\|json\)'; then
	fail "the NSS module must not link libcurl or json-c"
fi
# Nothing on the lookup path may log, exit, touch signals or the network,
# spawn, or re-enter NSS: none of those functions is even imported.
imports=$(nm -D --undefined-only "$so" | awk '{print $2}' | sed 's/@.*//')
forbidden=$(echo "$imports" | grep -E -x \
	'exit|_exit|_Exit|abort|syslog|vsyslog|openlog|printf|fprintf|puts|perror|signal|sigaction|raise|kill|socket|connect|fork|vfork|execve|execv|execvp|system|popen|dlopen|getpw.*|getgr.*|initgroups|getgrouplist|getspnam.*|getaddrinfo|gethostby.*' || true)
[ -z "$forbidden" ] || fail "the module imports: $forbidden"
echo "exports: $(echo "$exports" | wc -l) entry points; imports $(echo "$imports" | wc -l) symbols, none forbidden"
