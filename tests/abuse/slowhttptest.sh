#!/bin/sh
# tests/abuse/slowhttptest.sh GATEWAY: Debian's slowhttptest against the real binary on loopback.
#   1. slowloris (-H): 300 connections trickling header lines; the gateway's 2 s header deadline must close all of them
#      well before the tool's time limit, and a probe must be served throughout;
#   2. slow read (-X): 100 connections that pipeline 10 requests each and read 4 bytes every 2 s through a 1-2 byte
#      window; the gateway must let go of every one of them (its descriptors back to where they were) by its deadline,
#      while the tool still runs, and keep serving the probe.
# Every process started here is stopped by its PID; every wait is bounded.
set -eu
bin=$1
tmp=$(mktemp -d /tmp/gwslow.XXXXXX)
gw_pid=""
tool_pid=""
cleanup() {
    if [ -n "$tool_pid" ]; then
        kill "$tool_pid" 2>/dev/null || true
    fi
    if [ -n "$gw_pid" ]; then
        kill "$gw_pid" 2>/dev/null || true
        wait "$gw_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
plain() { sed 's/\x1b\[[0-9;]*m//g' "$1"; }

cat >"$tmp/gw.yaml" <<'EOF'
listen: ["127.0.0.1:0"]
workers: 1
log: {access: off}
limits: {header_timeout: 2s, idle_timeout: 2s, max_connections_per_ip: 1000}
credentials:
  main: {from: env}
backends:
  origin: {type: oss, region: cn-hangzhou, bucket: test-bucket, endpoint: "127.0.0.1:9000", addressing: path,
           scheme: http, credentials: main}
routes:
  - {prefix: /files/, backend: origin, expires: 15m}
EOF
OSS_ACCESS_KEY_ID=slow-test-id OSS_ACCESS_KEY_SECRET=slow-test-secret "$bin" -c "$tmp/gw.yaml" >"$tmp/out" 2>"$tmp/err" &
gw_pid=$!
i=0
until grep -q " serving " "$tmp/err"; do
    i=$((i + 1))
    [ $i -gt 100 ] && fail "the gateway did not start: $(cat "$tmp/err")"
    sleep 0.1
done
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/err")
url="http://127.0.0.1:$port/files/slow"
fds0=$(find /proc/$gw_pid/fd -mindepth 1 -maxdepth 1 | wc -l)

# 1. slowloris
timeout 60 slowhttptest -H -c 300 -r 300 -i 1 -x 8 -l 20 -p 2 -u "$url" >"$tmp/loris" 2>&1 || fail "slowhttptest -H: $(plain "$tmp/loris" | tail -5)"
plain "$tmp/loris" >"$tmp/loris.txt"
ended=$(sed -n 's/^Test ended on \([0-9]*\)th second.*/\1/p' "$tmp/loris.txt" | tail -n 1)
status=$(sed -n 's/^Exit status: *//p' "$tmp/loris.txt" | tail -n 1)
unavailable=$(grep -c "^service available: *NO" "$tmp/loris.txt" || true)
echo "slowhttptest slowloris: 300 connections, header_timeout 2s: \"$status\" on second ${ended:-?} of 20; probe unavailable in $unavailable report(s)"
[ "$status" = "No open connections left" ] || fail "slowloris connections left open: $status"
[ "${ended:-99}" -le 8 ] || fail "slowloris connections closed only on second $ended"
[ "$unavailable" -eq 0 ] || fail "the probe was not served during slowloris"

# 2. slow read
timeout 60 slowhttptest -X -c 100 -r 100 -w 1 -y 2 -n 2 -z 4 -k 10 -l 14 -p 2 -u "$url" >"$tmp/read" 2>&1 &
tool_pid=$!
max=0
released=""
orphans="?"
t=0
while [ $t -lt 120 ] && kill -0 "$tool_pid" 2>/dev/null; do
    n=$(find /proc/$gw_pid/fd -mindepth 1 -maxdepth 1 | wc -l)
    [ "$n" -gt "$max" ] && max=$n
    # The tool's connections are all up after a second or so; from then on, watch them go.
    if [ $t -ge 20 ] && [ -z "$released" ] && [ "$n" -le "$fds0" ]; then
        released=$t
        orphans=$(ss -tn state fin-wait-1 "( sport = :$port )" 2>/dev/null | tail -n +2 | wc -l)
    fi
    sleep 0.1
    t=$((t + 1))
done
wait "$tool_pid" || true
tool_pid=""
plain "$tmp/read" >"$tmp/read.txt"
connected=$(sed -n 's/^connected: *\([0-9]*\).*/\1/p' "$tmp/read.txt" | sort -n | tail -n 1)
unavailable=$(grep -c "^service available: *NO" "$tmp/read.txt" || true)
echo "slowhttptest slow read: up to ${connected:-?} connections; gateway descriptors $fds0 -> max $max -> back to $fds0 after" \
    "$(awk "BEGIN{print ${released:-999}/10}") s (idle_timeout 2s); then $orphans closed socket(s) were still" \
    "draining unread answers in the kernel (FIN-WAIT-1); probe unavailable in $unavailable report(s)"
[ "$max" -gt $((fds0 + 50)) ] || fail "the slow-read connections never reached the gateway (max $max descriptors)"
[ -n "$released" ] || fail "the gateway still holds slow-read connections"
[ "$released" -le 80 ] || fail "the gateway let go of slow readers only after $((released / 10)) s"
[ "$unavailable" -eq 0 ] || fail "the probe was not served during slow read"
grep -q "<[0-3]>" "$tmp/err" && fail "errors logged: $(grep "<[0-3]>" "$tmp/err" | head -3)"

kill "$gw_pid"
wait "$gw_pid" || fail "the gateway did not exit cleanly"
gw_pid=""
echo "slowhttptest: passed"
