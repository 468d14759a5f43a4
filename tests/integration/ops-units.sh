#!/bin/sh
# ops-units: the built systemd units pass systemd-analyze verify (with the
# tool's path pointed at the built scim-cache and the man pages of
# Documentation= found in the source tree), and keep what operations need
# of them: a hardened oneshot under ProtectSystem=strict that may write only
# the snapshot directory, and a timer every 15 minutes with a random delay.
. "$top_srcdir/tests/helpers/ops-lib.sh" || exit 99
require_cmd systemd-analyze man
ops_tmpdir

svc_built="$top_builddir/dist/nss-scim-refresh.service"
timer_src="$top_srcdir/dist/nss-scim-refresh.timer"
[ -f "$svc_built" ] || fail "$svc_built not built"
[ -x "$SCIM_CACHE" ] || fail "$SCIM_CACHE not built"

exec_line=$(grep '^ExecStart=' "$svc_built")
tool=${exec_line#ExecStart=}
tool=${tool%% *}
mkdir -p "$TMPD/units" "$TMPD/man/man5" "$TMPD/man/man8"
sed "s|^ExecStart=$tool|ExecStart=$SCIM_CACHE|" "$svc_built" >"$TMPD/units/nss-scim-refresh.service"
cp "$timer_src" "$TMPD/units/"
cp "$top_srcdir"/doc/*.5 "$TMPD/man/man5/"
cp "$top_srcdir"/doc/*.8 "$TMPD/man/man8/"

(cd "$TMPD/units" && MANPATH="$TMPD/man" SYSTEMD_LOG_COLOR=0 \
	systemd-analyze verify ./nss-scim-refresh.service ./nss-scim-refresh.timer) \
	>"$TMPD/verify" 2>&1 || fail "systemd-analyze verify: $(cat "$TMPD/verify")"
# verify reports some problems without failing; none is accepted.
! grep -v '^$' "$TMPD/verify" | grep -q . ||
	fail "systemd-analyze verify says: $(cat "$TMPD/verify")"
ok "systemd-analyze verify: no complaint"

has() {
	grep -qx "$2" "$1" || fail "$(basename "$1") lacks $2"
}
svc="$TMPD/units/nss-scim-refresh.service"
timer="$TMPD/units/nss-scim-refresh.timer"
has "$svc" 'Type=oneshot'
has "$svc" 'ProtectSystem=strict'
has "$svc" 'NoNewPrivileges=yes'
has "$svc" 'PrivateTmp=yes'
has "$svc" 'ProtectHome=yes'
has "$svc" 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK'
has "$svc" 'CapabilityBoundingSet='
# The only writable paths: the snapshot and state directory, and (when it
# exists) node-exporter's textfile directory for metrics_file.
grep '^ReadWritePaths=' "$svc" | sed 's/^ReadWritePaths=-\{0,1\}//' >"$TMPD/rw"
snapdir=$(dirname "$("$SCIM_CACHE" --help | sed -n 's/^  cache_path  *//p')")
grep -qx "$snapdir" "$TMPD/rw" || fail "ReadWritePaths lacks $snapdir"
[ "$(wc -l <"$TMPD/rw")" -le 2 ] || fail "too many ReadWritePaths: $(cat "$TMPD/rw")"
ok "the service is a hardened oneshot writing only $snapdir"

has "$timer" 'OnBootSec=1min'
has "$timer" 'OnUnitActiveSec=15min'
grep -q '^RandomizedDelaySec=[1-9]' "$timer" || fail "timer has no RandomizedDelaySec"
has "$timer" 'WantedBy=timers.target'
ok "the timer runs every 15 minutes with a random delay"

# systemd's own exposure score of the sandbox, where this systemd can judge
# a unit file offline (systemd 250 and later): it must stay "OK" or better
# (below 4.0 of 10).
if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
	(cd "$TMPD/units" && SYSTEMD_LOG_COLOR=0 systemd-analyze security \
		--offline=yes --no-pager ./nss-scim-refresh.service) >"$TMPD/sec" 2>&1 || true
	score=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' "$TMPD/sec")
	[ -n "$score" ] || skip_missing "an exposure score from systemd-analyze security: $(tail -n 5 "$TMPD/sec")"
	awk -v s="$score" 'BEGIN { exit !(s < 4.0) }' ||
		fail "exposure $score: $(tail -n 30 "$TMPD/sec")"
	ok "systemd-analyze security: exposure $score"
else
	skip_missing "systemd-analyze security --offline (systemd 250 or later)"
fi
