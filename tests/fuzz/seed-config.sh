#!/bin/sh
# seed-config.sh DIR: fuzz-config's seed corpus.  The target reads a
# configuration when the first byte is even ('0') and an id map when it is
# odd ('1'): the example configuration and the test configurations, and a
# small id map.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
i=0
for f in "$here/../../tools/nss-scim.conf.example" "$here"/../fixtures/tools/*.conf; do
	[ -f "$f" ] || continue
	{ printf '0'; cat "$f"; } >"$1/seed-$i"
	i=$((i + 1))
done
printf '0url = https://scim.example.com/scim\nuid_min = 300000\nuid_max = 400000\n' >"$1/seed-$i"
printf '1u 1000 AAAA jane 1 live\ng 1001 bbbb eng - gone\n' >"$1/seed-ids"
