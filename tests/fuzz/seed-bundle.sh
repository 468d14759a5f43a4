#!/bin/sh
# seed-bundle.sh DIR: fuzz-bundle's seed corpus: small unsigned and signed
# bundles in the format of scim-bundle(5).
set -eu
head='nss-scim-bundle 1
generation 5
created 10
valid-until 20
source https://scim.example.com/scim
origin source-1
id-range 1000 5000
'
printf '%speople 2\ngroups 3\nP\tann\t1001\t1001\t1\tAnn A\t/home/ann\t/bin/sh\nP\tbo\t1002\t1002\t0\tBo\t/home/bo\t/bin/bash\nG\tann\t1001\t\nG\tbo\t1002\t\nG\teng\t1003\tann,bo\nend\n' "$head" >"$1/seed-0"
printf '%speople 0\ngroups 0\nend\nsignature ed25519 0123456789abcdef %s\n' "$head" \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==" >"$1/seed-1"
