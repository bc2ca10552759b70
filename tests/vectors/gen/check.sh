#!/bin/sh
# check.sh: rebuild every file of tests/vectors/ with gen.js into a temporary folder and require each to be
# byte-for-byte the committed one, so that a changed SDK (package-lock.json) or a hand edit of a vector is noticed.
# Needs node and `npm ci --prefix tests/vectors/gen`. ctest runs it as signer/vectors_regenerate (label e2e).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
vectors=$(cd "$here/.." && pwd)
if [ ! -d "$here/node_modules/ali-oss" ]; then
    echo "check.sh: the pinned SDKs are missing: npm ci --prefix tests/vectors/gen" >&2
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

node "$here/gen.js" "$tmp"
status=0
for f in "$vectors"/*.jsonl; do
    name=$(basename "$f")
    if [ ! -f "$tmp/$name" ]; then
        echo "check.sh: gen.js does not build $name" >&2
        status=1
    elif ! cmp -s "$f" "$tmp/$name"; then
        echo "check.sh: $name differs from what the pinned SDKs give now:" >&2
        node "$here/compare.js" "$f" "$tmp/$name" >&2
        status=1
    fi
done
n=$(ls "$tmp" | wc -l)
if [ "$n" -ne "$(ls "$vectors"/*.jsonl | wc -l)" ]; then
    echo "check.sh: gen.js built $n files, tests/vectors has others" >&2
    status=1
fi
[ "$status" -eq 0 ] && echo "check.sh: all $n vector files rebuild byte for byte"
exit "$status"
