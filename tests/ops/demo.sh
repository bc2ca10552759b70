#!/bin/sh
# tests/ops/demo.sh SOURCE_DIR BUILD_DIR: the README quick start as a user runs it. `tools/demo` (on free ports, in a
# demo directory of its own, building into BUILD_DIR/demo-build: the overrides the script documents), then the curl
# line it prints, which must download the sample's exact bytes through the gateway from the origin, then
# `tools/demo stop`, after which the gateway and the origin whose PIDs the demo recorded must be gone.
set -eu
src=$1
build=$2
expected='Hello from oss-gateway! This file came straight from the object store.'

. "$src/tests/ops/lib.sh"
ops_init demo
export DEMO_DIR="$tmp/demo" DEMO_GATEWAY_PORT=0 DEMO_ORIGIN_PORT=0 DEMO_BUILD_DIR="$build/demo-build"
ops_logs=$DEMO_DIR
# A process is gone when /proc has no entry for it, or only a zombie's that its new parent has yet to reap.
alive() {
    [ -r "/proc/$1/stat" ] && ! sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^Z'
}

"$src/tools/demo" >"$tmp/start.out" 2>&1 || { cat "$tmp/start.out" >&2; fail "tools/demo failed"; }
cat "$tmp/start.out"
gateway_pid=$(cat "$DEMO_DIR/gateway.pid")
origin_pid=$(cat "$DEMO_DIR/origin.pid")
ops_started "$gateway_pid" # killed should the test fail before tools/demo stop
ops_started "$origin_pid"
alive "$gateway_pid" || fail "the gateway (pid $gateway_pid) is not running after tools/demo"
alive "$origin_pid" || fail "the origin (pid $origin_pid) is not running after tools/demo"
if grep -q 'listening on 127\.0\.0\.1:8080$' "$DEMO_DIR/gateway.log"; then fail "the gateway took port 8080 despite DEMO_GATEWAY_PORT=0"; fi

# The download line exactly as printed (an indented `curl -L http://...`), run as printed, plus curl's own
# options to fail on an HTTP error and to bound the time.
line=$(sed -n 's/^    \(curl -L http:\/\/127\.0\.0\.1:[0-9]*\/files\/hello\.txt\)$/\1/p' "$tmp/start.out")
[ -n "$line" ] || fail "tools/demo printed no 'curl -L http://127.0.0.1:PORT/files/hello.txt' line"
sh -c "$line --fail --silent --show-error --max-time 10" >"$tmp/got" || fail "'$line' failed"
printf '%s\n' "$expected" >"$tmp/want"
cmp "$tmp/want" "$tmp/got" || fail "'$line' downloaded other bytes than the sample: $(head -c 200 "$tmp/got")"
# It came through the gateway (a 302 in its access log) from the origin (a signed GET it accepted).
# The access log is flushed once a second: poll it.
ops_wait_log "$DEMO_DIR/access.log" '"method":"GET","route":"/files/","key":"hello.txt","status":302,' 5 \
    "the gateway's access log has no GET of hello.txt answered 302"
grep -q ' GET /demo-bucket/hello\.txt 200 ' "$DEMO_DIR/origin.log" || fail "the origin logged no signed GET it accepted"
echo "ok   the printed curl line downloads the sample ($(wc -c <"$tmp/got") bytes)"

"$src/tools/demo" stop >"$tmp/stop.out" 2>&1 || { cat "$tmp/stop.out" >&2; fail "tools/demo stop failed"; }
# gone NAME PID: within 5 s (tools/demo stop itself waits for each).
gone() {
    i=0
    while alive "$2" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    if alive "$2"; then fail "the $1 (pid $2) still runs after tools/demo stop"; fi
    ops_forget "$2"
    echo "ok   the $1 (pid $2) is gone after tools/demo stop"
}
gone gateway "$gateway_pid"
gone origin "$origin_pid"
if [ -e "$DEMO_DIR/gateway.pid" ] || [ -e "$DEMO_DIR/origin.pid" ]; then fail "tools/demo stop left PID files behind"; fi
