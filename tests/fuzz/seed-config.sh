#!/bin/sh
# seed-config.sh DIR: fuzz-config's seed corpus, the example configuration
# and the test configurations.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
i=0
for f in "$here/../../tools/nss-scim.conf.example" "$here"/../fixtures/tools/*.conf; do
	[ -f "$f" ] || continue
	cp "$f" "$1/seed-$i"
	i=$((i + 1))
done
printf 'url = https://scim.example.com/scim\nuid_min = 300000\nuid_max = 400000\n' >"$1/seed-$i"
