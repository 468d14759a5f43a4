# private-syslog.sh: sourced by dist/demo.sh and tests/helpers/pam-lib.sh, which
# run pam_scim in a private mount namespace on machines that may have no
# syslog daemon.
#
# private_syslog PYTHON DIR: a writable overlay of /dev (pts, shm and
# mqueue kept; the host's /dev untouched) with our own /dev/log, whose
# messages go one per line to DIR/syslog.  Uses the caller's ns_mount
# (which must refuse the host's namespace) and fail; the listener's pid is
# left in SYSLOG_PID for the caller to stop.
private_syslog() {
	local py=$1 dir=$2 keep m i
	keep="$dir/dev-keep"
	for m in pts shm mqueue; do
		if mountpoint -q "/dev/$m"; then
			mkdir -p "$keep/$m"
			mount --bind "/dev/$m" "$keep/$m"
		fi
	done
	mkdir -p "$dir/dev-up" "$dir/dev-work"
	ns_mount -t overlay overlay \
		-o "lowerdir=/dev,upperdir=$dir/dev-up,workdir=$dir/dev-work" /dev
	for m in pts shm mqueue; do
		if [ -d "$keep/$m" ]; then
			ns_mount --bind "$keep/$m" "/dev/$m"
			umount "$keep/$m"
		fi
	done
	rm -f /dev/log
	: >"$dir/syslog"
	"$py" -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536).rstrip(b"\0\n") + b"\n")
' /dev/log "$dir/syslog" &
	SYSLOG_PID=$!
	i=0
	while [ ! -S /dev/log ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "the syslog listener did not start"
		sleep 0.05
	done
}
