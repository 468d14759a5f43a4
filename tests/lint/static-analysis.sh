#!/bin/sh
# Static analysis of every C source of the modules and the tool: cppcheck
# and clang-tidy with the checked-in .clang-tidy, zero findings.  Each
# disabled check is justified in .clang-tidy, and for cppcheck here:
#  - ctuuninitvar: passing the address of an output struct that the callee
#    fills (struct passwd, struct snap_account) is read by cppcheck's
#    cross-file analysis as a use of uninitialized memory.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
command -v cppcheck >/dev/null || skip_missing cppcheck
command -v clang-tidy >/dev/null || skip_missing clang-tidy
cd "$top_srcdir"
tools_inc="-Itools -Itools/transport -Itools/scim -Itools/mapping -Itools/fleet -Itools/ops"
sources=$(ls cache/*.c nss/*.c pam/*.c tools/*.c tools/*/*.c)
flags="-include $top_builddir/config.h -I$top_builddir -Icache -Ipam $tools_inc -D_GNU_SOURCE $(pkg-config --cflags json-c libcurl lmdb)"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# shellcheck disable=SC2086
cppcheck -q --enable=warning,performance,portability --std=c11 \
	--inline-suppr --suppress=ctuuninitvar --error-exitcode=1 -Icache -Ipam $tools_inc \
	-D_GNU_SOURCE $sources >"$out" 2>&1 || { cat "$out"; fail "cppcheck"; }
[ ! -s "$out" ] || { cat "$out"; fail "cppcheck reported"; }

bad=0
for f in $sources; do
	# shellcheck disable=SC2086
	if ! clang-tidy --quiet "$f" -- $flags >"$out" 2>&1; then
		grep -E 'warning:|error:' "$out" >&2
		bad=$((bad + 1))
	fi
done
[ "$bad" = 0 ] || fail "clang-tidy: findings in $bad files"
echo "cppcheck and clang-tidy: $(echo "$sources" | wc -w) files, 0 findings"
