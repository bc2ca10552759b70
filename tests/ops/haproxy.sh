#!/bin/sh
# tests/ops/haproxy.sh GATEWAY_BINARY SOURCE_DIR: the scale-out recipe of docs/scale-out.md, proven on loopback.
#
# Three gateway instances (one worker each, sign_window 5m) behind Debian's haproxy with the recipe's configuration
# (contrib/haproxy/oss-gateway.cfg, ports filled in), which health-checks /healthz. h2load drives a bounded load
# (GW_HAPROXY_SECONDS, 24 s; GW_HAPROXY_CLIENTS, 12 connections) through haproxy while each instance in turn gets
# SIGTERM, is waited for (exit status 0), and is started again on the same port, and haproxy has to see it up again
# before the next one goes. Stricter than the recipe: `retry-on` without `empty-response`, so a request that a
# stopping instance took in and never answered (one queued in a listening socket it kept open, say) fails the test
# instead of being retried on another instance. Then:
#   - h2load saw 0 failed requests: every answer a 3xx, no 4xx/5xx, no socket error, no timeout;
#   - for one key, every instance (asked directly) and haproxy (asked once per instance) give the identical Location.
# Prints the figures docs/scale-out.md reports. Ports are picked below the ephemeral range, so that no outgoing
# connection can take an instance's port while it restarts. Stops only what it started, by PID.
set -eu
bin=$1
src=$2
seconds=${GW_HAPROXY_SECONDS:-24}
clients=${GW_HAPROXY_CLIENTS:-12}

for tool in haproxy h2load curl ss; do
    command -v "$tool" >/dev/null || { echo "haproxy.sh: $tool not found (tools/deps test)" >&2; exit 1; }
done

. "$src/tests/ops/lib.sh"
ops_init haproxy
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# free_port: sets $port to a free TCP port from 20000 up to the ephemeral range, not one picked before.
taken=""
free_port() {
    lo=20000
    hi=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
    while :; do
        p=$((lo + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % (hi - lo)))
        case " $taken " in *" $p "*) continue ;; esac
        [ -z "$(ss -Htan "( sport = :$p )")" ] || continue
        taken="$taken $p"
        port=$p
        return
    done
}

port_of() {
    case $1 in 1) echo "$port1" ;; 2) echo "$port2" ;; 3) echo "$port3" ;; esac
}

export OSS_ACCESS_KEY_ID=scale-out-test-id OSS_ACCESS_KEY_SECRET=scale-out-test-secret
free_port && port1=$port
free_port && port2=$port
free_port && port3=$port
for i in 1 2 3; do
    port=$(port_of $i)
    cat >"$tmp/gw$i.yaml" <<YAML
listen: ["127.0.0.1:$port"]
workers: 1
log: {access: off, level: info}
credentials:
  main: {from: env}
backends:
  b: {type: oss, region: cn-hangzhou, bucket: examplebucket, endpoint: oss-cn-hangzhou.aliyuncs.com, credentials: main}
routes:
  - {prefix: /files/, backend: b, expires: 15m, sign_window: 5m}
health: /healthz
metrics: /metrics
YAML
done

# start I LOG: start instance I logging to LOG and wait until it serves; its PID goes to gw_pid_I.
start() {
    ops_gateway "$bin" "$tmp/gw$1.yaml" "$2"
    eval "gw_pid_$1=$gw_pid"
}
for i in 1 2 3; do start $i "$tmp/gw$i.log"; done

free_port && fe=$port
free_port && stats=$port
sed -e "s/@FRONTEND@/127.0.0.1:$fe/" -e "s/@STATS@/127.0.0.1:$stats/" -e "s/@GW1@/127.0.0.1:$port1/" \
    -e "s/@GW2@/127.0.0.1:$port2/" -e "s/@GW3@/127.0.0.1:$port3/" \
    -e "s/^\( *retry-on .*\) empty-response/\1/" "$src/contrib/haproxy/oss-gateway.cfg" >"$tmp/haproxy.cfg"
grep -q '^ *retry-on conn-failure response-timeout$' "$tmp/haproxy.cfg" || fail "cannot take empty-response out of retry-on"
haproxy -c -q -f "$tmp/haproxy.cfg" || fail "haproxy -c rejects the recipe's configuration"
haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1 &
haproxy_pid=$!
ops_started "$haproxy_pid"

# server_status NAME: its status (UP, DOWN, ...) in haproxy's CSV statistics.
server_status() {
    curl -sf --max-time 2 "http://127.0.0.1:$stats/stats;csv" | awk -F, -v s="$1" '$1 == "gateways" && $2 == s { print $18 }'
}
# wait_up NAME: until haproxy sees it UP (10 s at most).
wait_up() {
    k=0
    until [ "$(server_status "$1")" = UP ]; do
        kill -0 "$haproxy_pid" 2>/dev/null || fail "haproxy exited"
        [ $k -lt 1000 ] || fail "haproxy did not see $1 up within 10 s"
        sleep 0.01
        k=$((k + 1))
    done
}
for i in 1 2 3; do wait_up gw$i; done

base=http://127.0.0.1:$fe/files
h2load --h1 -c "$clients" -t 1 -D "$seconds" -N 5 \
    "$base/a.txt" "$base/dir/b%20c.bin" "$base/releases/v1.2.3.tar.gz" >"$tmp/h2load.out" 2>&1 &
load_pid=$!
ops_started "$load_pid"

sleep 3 # load before the first restart
figures=""
for i in 1 2 3; do
    eval "pid=\$gw_pid_$i"
    t0=$(now_ms)
    kill -TERM "$pid"
    status=0
    wait "$pid" || status=$?
    ops_forget "$pid"
    t1=$(now_ms)
    [ "$status" -eq 0 ] || fail "instance $i exited with status $status after SIGTERM"
    start $i "$tmp/gw$i-restarted.log"
    t2=$(now_ms)
    wait_up gw$i
    t3=$(now_ms)
    figures="$figures
restart gw$i: SIGTERM to exit $((t1 - t0)) ms, exit to serving again $((t2 - t1)) ms, to UP in haproxy $((t3 - t2)) ms"
    sleep 2
done
kill -0 "$load_pid" 2>/dev/null || fail "the load ended before the last restart was done: raise GW_HAPROXY_SECONDS"
wait "$load_pid" || fail "h2load failed: $(cat "$tmp/h2load.out")"
ops_forget "$load_pid"
cat "$tmp/h2load.out"

# h2load: "requests: T total, S started, D done, OK succeeded, F failed, E errored, TO timeout" and
# "status codes: A 2xx, B 3xx, C 4xx, D 5xx".
read -r done_n ok failed errored timeout <<EOT
$(sed -n 's/^requests: [0-9]* total, [0-9]* started, \([0-9]*\) done, \([0-9]*\) succeeded, \([0-9]*\) failed, \([0-9]*\) errored, \([0-9]*\) timeout$/\1 \2 \3 \4 \5/p' "$tmp/h2load.out")
EOT
[ -n "${timeout:-}" ] || fail "cannot read h2load's request counts"
read -r s2xx s3xx s4xx s5xx <<EOT
$(sed -n 's/^status codes: \([0-9]*\) 2xx, \([0-9]*\) 3xx, \([0-9]*\) 4xx, \([0-9]*\) 5xx$/\1 \2 \3 \4/p' "$tmp/h2load.out")
EOT
[ -n "${s5xx:-}" ] || fail "cannot read h2load's status counts"
stat_line=$(curl -sf --max-time 2 "http://127.0.0.1:$stats/stats;csv" | awk -F, '$1 == "gateways" && $2 == "BACKEND"')
retries=$(echo "$stat_line" | cut -d, -f16)
redispatches=$(echo "$stat_line" | cut -d, -f17)
echo "$figures"
echo "load: $done_n requests in $seconds s over $clients connections, $ok succeeded ($s3xx 3xx), $failed failed, $errored errored, $timeout timeout, $s4xx 4xx, $s5xx 5xx; haproxy retried $retries and redispatched $redispatches"
[ "$done_n" -gt 0 ] || fail "no request was done"
if [ "$failed" -ne 0 ] || [ "$errored" -ne 0 ] || [ "$timeout" -ne 0 ] || [ "$s4xx" -ne 0 ] || [ "$s5xx" -ne 0 ]; then
    fail "requests failed while the instances restarted"
fi
if [ "$ok" -ne "$done_n" ] || [ "$s3xx" -ne "$done_n" ] || [ "$s2xx" -ne 0 ]; then
    fail "not every request was answered with a redirect"
fi

# One key, one URL: each instance directly, and haproxy once per instance (round robin). A 5-minute window could
# end between two of the requests: then all of them are asked again, once.
location() {
    curl -sS --max-time 5 -o /dev/null -w '%{http_code} %{redirect_url}\n' "$1" || echo "curl failed"
}
for _ in 1 2; do
    w0=$(($(date +%s) / 300))
    : >"$tmp/locations"
    for i in 1 2 3; do
        echo "gw$i $(location "http://127.0.0.1:$(port_of $i)/files/same/key.txt")" >>"$tmp/locations"
        echo "haproxy $(location "$base/same/key.txt")" >>"$tmp/locations"
    done
    [ $(($(date +%s) / 300)) -eq "$w0" ] && break
done
cat "$tmp/locations"
grep -v '^[a-z0-9]* 302 https://examplebucket\.oss-cn-hangzhou\.aliyuncs\.com/same/key\.txt?' "$tmp/locations" &&
    fail "not every answer above is a 302 to the presigned URL"
[ "$(cut -d' ' -f3 "$tmp/locations" | sort -u | wc -l)" -eq 1 ] || fail "the instances hand out different URLs for one key"
echo "ok   6 answers, one Location"
