#!/bin/sh
# pam-pamtester: pam_scim.so installed where libpam looks (an overlay in a
# private mount namespace), named by a service file in /etc/pam.d that the
# host does not have, and driven by Debian's pamtester.  Checks the PAM
# results and what pam_scim logs to syslog.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
. "$top_srcdir/tests/helpers/pam-lib.sh" || exit 99

require_root
command -v pamtester >/dev/null || skip_missing pamtester
command -v python3 >/dev/null || skip_missing "python3 (the syslog listener)"
require_pam_module
enter_namespace "$@"
pam_tmpdir

SERVICE=nss-scim-pamtester
[ ! -e "/etc/pam.d/$SERVICE" ] || fail "/etc/pam.d/$SERVICE exists on the host"
ns_private_dir /etc/pam.d
ns_install_modules
ns_syslog

mkdir -m 0755 "$TMPD/snap"
export NSS_SCIM_CACHE="$TMPD/snap/cache.mdb"
pam_passwd "$TMPD/passwd"
pam_snapshot "$NSS_SCIM_CACHE" "$TMPD/passwd" --inactive carol

# service ARGS: the recommended line, with pam_permit standing in for
# pam_unix after it.  With an ignore_* option, PAM_IGNORE needs its own
# action (it would fall under default=bad), as the man page says.
service() {
	local line=$PAM_SCIM_LINE
	case "$*" in
	*ignore_*) line=$(echo "$line" | sed 's/default=bad/ignore=ignore &/') ;;
	esac
	printf '%s\n' "$line $*" "account required pam_permit.so" \
		>"/etc/pam.d/$SERVICE"
}

# pt USER: runs pamtester's account management; prints its output, returns
# its status.
pt() {
	with_modules pamtester "$SERVICE" "$1" acct_mgmt 2>&1
}

# admits USER / refuses USER TEXT
admits() {
	out=$(pt "$1") || fail "$1 refused: $out"
	echo "ok: $1 admitted"
}
refuses() {
	if out=$(pt "$1"); then
		fail "$1 admitted: $out"
	fi
	case $out in
	*"$2"*) echo "ok: $1 refused: $2" ;;
	*) fail "$1 refused, but without '$2': $out" ;;
	esac
}

service
admits alice
admits bob
refuses carol "Permission denied"
# pam_error() reaches the user through the application's conversation.
refuses carol "Your account is suspended."
expect_log '^<85>.*pam_scim\(nss-scim-pamtester:account\): access denied for user carol: account suspended$'
# Not in the snapshot, and local users: user_unknown=ignore passes them on.
admits nosuch
admits root
admits daemon

service quiet
refuses carol "Permission denied"
case $out in *suspended*) fail "quiet still told the user: $out" ;; esac

service allow_groups=ops
refuses alice "Permission denied"
expect_log 'access denied for user alice: not a member of any allowed group$'
admits bob

service debug
admits alice
expect_log '^<87>.*pam_scim\(nss-scim-pamtester:account\): user alice admitted: uid 300001, snapshot generation 1, [0-9]+ seconds old$'

service frobnicate
admits alice
expect_log '^<83>.*pam_scim\(nss-scim-pamtester:account\): unknown option, ignored: "frobnicate"$'

service max_age=soon
refuses alice "Error in service module"
expect_log '^<83>.*bad max_age: want a number of seconds, 0 for no limit: "max_age=soon"$'

# Older than max_age: closed by default, open with ignore_authinfo_unavail.
pam_snapshot "$NSS_SCIM_CACHE" "$TMPD/passwd" --inactive carol \
	--created $(($(date +%s) - 7200))
service max_age=3600
refuses alice "Authentication service cannot retrieve authentication info"
expect_log '^<83>.*cannot check user alice: snapshot is [0-9]+ seconds old, over max_age=3600$'
refuses carol "Permission denied"
admits root
service max_age=3600 ignore_authinfo_unavail
admits alice
expect_log 'cannot check user alice: snapshot is [0-9]+ seconds old, over max_age=3600 \(ignored\)$'
service max_age=86400
admits alice

# No snapshot: people are refused, local users are not.
rm "$NSS_SCIM_CACHE"
service
refuses alice "Authentication service cannot retrieve authentication info"
expect_log '^<83>.*cannot check user alice: snapshot unavailable: no snapshot at the configured path$'
admits root
service ignore_authinfo_unavail
admits alice
# ignore_unusable_snapshot: with no snapshot, a user the local files lack
# (one of SSSD's, say) is left to the rest of the stack...
service ignore_unusable_snapshot
admits alice
expect_log 'cannot check user alice: snapshot unavailable: no snapshot at the configured path \(ignored\)$'
# ...but a snapshot that answers still decides: stale is refused, and a
# known suspension holds.
pam_snapshot "$NSS_SCIM_CACHE" "$TMPD/passwd" --inactive carol \
	--created $(($(date +%s) - 7200))
service max_age=3600 ignore_unusable_snapshot
refuses alice "Authentication service cannot retrieve authentication info"
refuses carol "Permission denied"
rm "$NSS_SCIM_CACHE"

# Untrusted: the snapshot's directory is writable by its group.
pam_snapshot "$NSS_SCIM_CACHE" "$TMPD/passwd"
chmod 0775 "$TMPD/snap"
service
refuses alice "Authentication service cannot retrieve authentication info"
expect_log 'cannot check user alice: snapshot unavailable: snapshot not trusted'
chmod 0755 "$TMPD/snap"
admits alice
echo "PASS: pamtester"
