#!/bin/sh
# The C sources are clean under the tree's .clang-format.
. "$top_srcdir/tests/helpers/lib.sh" || exit 99
command -v clang-format >/dev/null || skip_missing clang-format
cd "$top_srcdir"
bad=""
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find cache nss pam tools tests -name '*.[ch]'); do
	clang-format --style=file "$f" | cmp -s "$f" - || bad="$bad $f"
done
[ -z "$bad" ] || fail "not clang-format clean:$bad (run clang-format -i on them)"
echo "clang-format: clean"
