#!/bin/sh
# `oss-gateway presign --jsonl` over every shared vector: each output line must carry the vector's url_strict, and a
# malformed line must give an error line, not a crash or a silent skip. Uses only the binary and POSIX tools: the
# expected URLs are cut from the vector files with sed, not computed.
set -eu
bin=$1
vectors=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for f in "$vectors"/*.jsonl; do
    "$bin" presign --jsonl <"$f" >"$tmp/out"
    sed -n 's/.*"url_strict":"\([^"]*\)".*/\1/p' "$f" >"$tmp/want"
    sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$tmp/out" >"$tmp/got"
    if [ "$(wc -l <"$f")" -ne "$(wc -l <"$tmp/got")" ] || ! cmp -s "$tmp/want" "$tmp/got"; then
        echo "FAIL $f:"
        diff "$tmp/want" "$tmp/got" | head -5
        fail=1
    else
        echo "ok   $f: $(wc -l <"$tmp/got") URLs equal url_strict"
    fi
done
# Errors: one result line per input line, with the id, exit status 1.
printf '%s\n' '{"id":"bad-expires","method":"GET","endpoint":"e.example","region":"r","bucket":"bkt","key":"k","time":"2024-01-01T00:00:00Z","access_key_id":"a","access_key_secret":"s","expires":604801}' \
    'not json' '{"id":"unknown","bogus":1}' >"$tmp/bad"
status=0
"$bin" presign --jsonl <"$tmp/bad" >"$tmp/out" || status=$?
expected='{"id":"bad-expires","error":"expires: expires must be 1..604800 seconds"}
{"id":null,"error":"invalid JSON at column 3: '"'"'['"'"' or '"'"'{'"'"' expected near '"'"'not'"'"'"}
{"id":"unknown","error":"bogus: unknown field"}'
if [ "$status" -ne 1 ] || [ "$(cat "$tmp/out")" != "$expected" ]; then
    echo "FAIL error lines (exit $status):"
    cat "$tmp/out"
    fail=1
else
    echo "ok   malformed lines give one error line each and exit 1"
fi
exit $fail
