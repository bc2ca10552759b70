#!/bin/sh
# The command line: -t exit codes and messages, presign through a route, --version, usage errors. No command may
# print the secret key, on stdout or stderr: every check looks at its own command's whole output.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check NAME EXPECTED-STATUS GREP-PATTERN COMMAND...
    name=$1 want=$2 pattern=$3
    shift 3
    "$@" >"$tmp/out" 2>&1
    got=$?
    if [ "$got" -ne "$want" ] || ! grep -q -- "$pattern" "$tmp/out"; then
        echo "FAIL $name: exit $got (want $want), output:"
        cat "$tmp/out"
        fail=1
    else
        echo "ok   $name"
    fi
    if grep -q -- "$secret" "$tmp/out"; then
        echo "FAIL $name: the secret reached the output"
        fail=1
    fi
}
secret=cli-test-secret-value
export OSS_ACCESS_KEY_ID=cli-test-id OSS_ACCESS_KEY_SECRET="$secret"
cat >"$tmp/good.yaml" <<'YAML'
listen: ["127.0.0.1:0"]
credentials:
  main: {from: env}
backends:
  b: {type: oss, region: cn-hangzhou, bucket: examplebucket, endpoint: oss-cn-hangzhou.aliyuncs.com, credentials: main}
routes:
  - {prefix: /files/, backend: b, expires: 15m}
  - {prefix: /dl/, backend: b, key_prefix: releases/, expires: 1h, disposition: attachment}
YAML
printf 'listen: ["127.0.0.1:0"]\nbogus: 1\n' >"$tmp/bad.yaml"

check "-t accepts a good file" 0 "configuration .*good.yaml is ok: 2 route(s), 1 backend(s)" "$bin" -t -c "$tmp/good.yaml"
check "-t rejects with file:line:col" 1 "bad.yaml:2:1: " "$bin" -t -c "$tmp/bad.yaml"
check "-t on a missing file" 1 "test failed" "$bin" -t -c "$tmp/missing.yaml"
check "presign through the first route" 0 "^https://examplebucket.oss-cn-hangzhou.aliyuncs.com/a%20b.txt?x-oss-credential=cli-test-id%2F" \
    "$bin" presign -c "$tmp/good.yaml" "a b.txt"
check "presign through a named route" 0 "/releases/v1.tar.gz?response-content-disposition=attachment" \
    "$bin" presign -c "$tmp/good.yaml" --route /dl/ v1.tar.gz
check "presign HEAD" 0 "x-oss-signature=" "$bin" presign -c "$tmp/good.yaml" --method HEAD a
check "presign refuses a bad key" 1 "dot segment in key" "$bin" presign -c "$tmp/good.yaml" a/../b
check "presign needs a known route" 1 "no route with prefix /nope/" "$bin" presign -c "$tmp/good.yaml" --route /nope/ a
check "presign usage" 2 "usage: oss-gateway presign" "$bin" presign -c "$tmp/good.yaml"
check "--version" 0 "^oss-gateway [0-9]" "$bin" --version
check "unknown option" 2 "unexpected argument '--bogus'" "$bin" --bogus
check "no config" 2 "usage:" "$bin"
exit $fail
