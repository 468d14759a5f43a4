#!/bin/sh
# seed-reader.sh DIR: fuzz-reader's seed corpus: real snapshots written by
# tests/helpers/mksnap (the writer scim-cache uses), small enough for libFuzzer to
# mutate: a few people, an inactive one, a group large enough for LMDB's
# overflow pages, and an empty snapshot.  MKSNAP names the tool (default:
# tests/helpers/mksnap under the current directory, the build tree).
set -eu
out=$1
mksnap=${MKSNAP:-tests/helpers/mksnap}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf 'ann:x:1001:1001:Ann A:/home/ann:/bin/sh\nbo:x:1002:1002:Bo:/home/bo:/bin/bash\n' >"$tmp/p1"
printf 'ann:x:1001:\nbo:x:1002:\neng:x:1003:ann,bo\n' >"$tmp/g1"
"$mksnap" --passwd "$tmp/p1" --group "$tmp/g1" --inactive bo \
	--created 10 "$out/small.mdb"

: >"$tmp/p0"
: >"$tmp/g0"
"$mksnap" --passwd "$tmp/p0" --group "$tmp/g0" --created 10 "$out/empty.mdb"

# 300 people in one group of all of them (a value on overflow pages) and
# a private group each.
i=0
: >"$tmp/p2"
: >"$tmp/g2"
members=
while [ $i -lt 300 ]; do
	uid=$((2000 + i))
	echo "u$i:x:$uid:$uid:User $i:/home/u$i:/bin/sh" >>"$tmp/p2"
	echo "u$i:x:$uid:" >>"$tmp/g2"
	members="$members${members:+,}u$i"
	i=$((i + 1))
done
echo "ann:x:1001:1001:Ann A:/home/ann:/bin/sh" >>"$tmp/p2"
echo "eng:x:1003:$members,ann" >>"$tmp/g2"
"$mksnap" --passwd "$tmp/p2" --group "$tmp/g2" --created 10 "$out/large.mdb"
