#!/bin/bash
# tests/tls/tls.sh BINARY SOURCE_DIR: a TLS listener with two certificates (ECDSA a.test, RSA b.test and *.b.test, each
# a full chain) checked with the clients users have: see CMakeLists.txt. Every wait is bounded; only the processes
# started here are stopped, by PID.
set -eu
bin=$1
src=$2
. "$src/tests/ops/lib.sh"
ops_init tls
export OSS_ACCESS_KEY_ID=test-id OSS_ACCESS_KEY_SECRET=test-secret
sh "$src/tests/tls/gen-certs.sh" "$tmp/pki"
pki=$tmp/pki
cat >"$tmp/gw.yaml" <<YAML
listen:
  - {address: "127.0.0.1:0",
     tls: {certificates: [{cert: $pki/a.crt, key: $pki/a.key}, {cert: $pki/b.crt, key: $pki/b.key}]}}
workers: 2
limits: {header_timeout: 1s, idle_timeout: 5s}
log: {access: off}
credentials:
  default: {from: env}
backends:
  b: {region: cn-hangzhou, bucket: my-bucket}
routes:
  - {prefix: /files/, backend: b}
YAML
chmod 600 "$tmp/gw.yaml"
ops_gateway "$bin" "$tmp/gw.yaml" "$tmp/gw.log"
port=$gw_port
url() { echo "https://$1:$port$2"; }
resolve() { echo "--resolve $1:$port:127.0.0.1"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- curl: TLS 1.2 and 1.3, SNI picks the certificate that verifies, a wrong name fails ----
for v in 1.2 1.3; do
    for name in a.test b.test x.b.test; do
        # shellcheck disable=SC2046
        code=$(curl -sS --max-time 10 --tlsv"$v" --tls-max "$v" --cacert "$pki/ca.crt" $(resolve $name) \
            -o /dev/null -w '%{http_code} %{ssl_verify_result}' "$(url $name /files/k)") || fail "curl TLS $v $name failed"
        [ "$code" = "302 0" ] || fail "curl TLS $v $name: $code, expected 302 0"
    done
done
# shellcheck disable=SC2046
if curl -sS --max-time 10 --cacert "$pki/ca.crt" $(resolve c.test) -o /dev/null "$(url c.test /healthz)" 2>"$tmp/c.err"; then
    fail "c.test is in no certificate, yet it verified"
fi
grep -q 'subject name\|does not match\|no alternative' "$tmp/c.err" || fail "c.test: not a name mismatch: $(cat "$tmp/c.err")"
# The chosen certificate, seen by openssl: the RSA one for b.test names, the ECDSA one otherwise (and without SNI).
subject() { # servername|-
    if [ "$1" = - ]; then set -- -noservername; else set -- -servername "$1"; fi
    echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" "$@" 2>/dev/null | sed -n 's/^subject=.*CN *= *//p'
}
[ "$(subject x.b.test)" = b ] || fail "SNI x.b.test did not pick b.crt: $(subject x.b.test)"
[ "$(subject B.TEST)" = b ] || fail "SNI B.TEST did not pick b.crt"
[ "$(subject a.test)" = a ] || fail "SNI a.test did not pick a.crt"
[ "$(subject y.x.b.test)" = a ] || fail "*.b.test matched two labels"
[ "$(subject unknown.example)" = a ] || fail "an unknown name did not get the first certificate"
[ "$(subject -)" = a ] || fail "no SNI did not get the first certificate"
echo "ok curl TLS 1.2/1.3, SNI"

# ---- openssl s_client: ALPN, the full chain, old protocols refused, resumption ----
out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername a.test -alpn h2,http/1.1 -CAfile "$pki/ca.crt" \
    -verify_return_error 2>&1) || fail "s_client: $out"
echo "$out" | grep -q '^ALPN protocol: http/1.1' || fail "ALPN: no http/1.1: $out"
echo "$out" | grep -q 'Verify return code: 0 (ok)' || fail "the chain did not verify from the root alone"
out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" -alpn h2 2>&1) || fail "s_client (ALPN h2 only): $out"
echo "$out" | grep -q 'No ALPN negotiated' || fail "ALPN h2 only: expected none negotiated"
for old in -tls1 -tls1_1; do
    if out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" "$old" -cipher 'DEFAULT@SECLEVEL=0' 2>&1); then
        fail "$old was accepted: $out"
    fi
    echo "$out" | grep -q 'alert protocol version\|unsupported protocol\|wrong version' || fail "$old: not refused by version: $out"
done
echo "ok ALPN http/1.1, chain, TLS 1.0/1.1 refused"
for v in -tls1_2 -tls1_3; do
    req() { printf 'GET /healthz HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n'; }
    req | timeout 10 openssl s_client "$v" -connect "127.0.0.1:$port" -servername a.test -sess_out "$tmp/sess" -ign_eof \
        >"$tmp/s1.out" 2>&1 || true # its status is that of the close, not of the session
    grep -q '^New,' "$tmp/s1.out" || fail "$v: the first connection was not new: $(cat "$tmp/s1.out")"
    req | timeout 10 openssl s_client "$v" -connect "127.0.0.1:$port" -servername a.test -sess_in "$tmp/sess" -ign_eof \
        >"$tmp/s2.out" 2>&1 || true
    grep -q '^Reused,' "$tmp/s2.out" || fail "$v: the session was not resumed: $(grep -E '^(New|Reused)' "$tmp/s2.out")"
    grep -q '^HTTP/1.1 200' "$tmp/s2.out" || fail "$v: no answer on the resumed session"
done
echo "ok resumption TLS 1.2 (session cache) and 1.3 (tickets)"

# ---- wget ----
wget -q --timeout=10 --tries=1 --ca-certificate="$pki/ca.crt" -O "$tmp/wget.out" "https://localhost:$port/healthz" ||
    fail "wget over https failed"
echo "ok wget"

# ---- the handshake deadline (header_timeout: 1s) ----
# closed_after_ms: how long until the gateway closes a connection fed by the command $1 (bash /dev/tcp).
closed_after_ms() {
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    local t0
    t0=$(now_ms)
    (eval "$1") >&3 2>/dev/null &
    local feeder=$!
    ops_started $feeder
    timeout 10 cat <&3 >/dev/null 2>&1 || true
    echo $(($(now_ms) - t0))
    exec 3>&-
    kill $feeder 2>/dev/null || true
    wait $feeder 2>/dev/null || true
    ops_forget $feeder
}
within() { # what ms lo hi
    if [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then fail "$1: closed after $2 ms, expected $3..$4 ms"; fi
    echo "ok $1: closed after $2 ms"
}
# A ClientHello byte by byte: a TLS handshake record header announcing 512 bytes, then one byte every 100 ms.
# shellcheck disable=SC2016 # the feeder's text is evaluated by closed_after_ms
ms=$(closed_after_ms 'printf "\026\003\001\002\000"; for i in $(seq 1 60); do printf "\001"; sleep 0.1; done')
within "ClientHello byte by byte" "$ms" 900 2500
# Garbage that could still become a record waits for the deadline; garbage that cannot fails the handshake at once.
ms=$(closed_after_ms 'printf "\026\003"; sleep 8')
within "half a record header" "$ms" 900 2500
ms=$(closed_after_ms 'printf "GET / HTTP/1.1\r\nHost: x\r\n\r\n"; sleep 8')
within "plain HTTP instead of a ClientHello" "$ms" 0 500
# A client that completes the handshake and sends nothing.
t0=$(now_ms)
timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername a.test -ign_eof >"$tmp/idle.out" 2>&1 < <(sleep 8) || true
ms=$(($(now_ms) - t0))
grep -q '^New,' "$tmp/idle.out" || fail "the silent client did not complete its handshake"
within "handshake then silence" "$ms" 900 2500

metrics=$(curl -sS --max-time 10 --cacert "$pki/ca.crt" "https://localhost:$port/metrics")
val() { echo "$metrics" | sed -n "s/^$1 //p"; }
[ "$(val 'oss_gateway_tls_handshakes_total{version="none",result="timeout"}')" -ge 2 ] || fail "timeouts not counted: $metrics"
[ "$(val 'oss_gateway_tls_handshakes_total{version="none",result="failure"}')" -ge 3 ] || fail "failures not counted"
[ "$(val 'oss_gateway_tls_resumed_handshakes_total{version="TLSv1.3"}')" -ge 1 ] || fail "TLS 1.3 resumption not counted"
[ "$(val 'oss_gateway_tls_resumed_handshakes_total{version="TLSv1.2"}')" -ge 1 ] || fail "TLS 1.2 resumption not counted"
[ "$(val 'oss_gateway_tls_handshakes_total{version="TLSv1.2",result="success"}')" -ge 4 ] || fail "TLS 1.2 not counted"
echo "ok metrics"

# ---- reload: a bad key keeps the running certificates; new ones serve new handshakes; no failed request ----
fingerprint() {
    echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername a.test 2>/dev/null |
        openssl x509 -noout -fingerprint -sha256
}
reloads() { grep -c "$1" "$tmp/gw.log" || true; }
before=$(fingerprint)
cp "$pki/a.key" "$tmp/a.key.good"
printf -- '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n' >"$pki/a.key"
kill -HUP "$gw_pid"
ops_wait_log "$tmp/gw.log" "reload failed, keeping the running configuration: .*listen\[0\]\.tls: $pki/a.key: cannot load the private key: " \
    10 "the bad key's reload" "$gw_pid"
[ "$(fingerprint)" = "$before" ] || fail "a failed reload changed the certificate"
if "$bin" -t -c "$tmp/gw.yaml" 2>"$tmp/t.out"; then fail "-t passed a bad key"; fi
grep -q "^$tmp/gw.yaml: listen\[0\]\.tls: $pki/a.key: cannot load the private key: " "$tmp/t.out" || fail "-t: $(cat "$tmp/t.out")"
cp "$tmp/a.key.good" "$pki/a.key"
echo "ok a bad key fails the reload (and -t) and keeps the certificate"

h2load --h1 -c 8 -D 6 --connection-inactivity-timeout=5 "https://127.0.0.1:$port/files/k" >"$tmp/h2load.out" 2>&1 &
h2=$!
ops_started $h2
ok0=$(reloads 'reloaded ')
for i in 1 2 3; do
    sleep 1
    sh "$src/tests/tls/gen-certs.sh" "$tmp/pki$i" # a new CA and new keys each time
    cp "$tmp/pki$i/a.crt" "$tmp/pki$i/a.key" "$tmp/pki$i/b.crt" "$tmp/pki$i/b.key" "$pki/"
    kill -HUP "$gw_pid"
    ops_wait_log "$tmp/gw.log" "reloaded " 10 "reload $i" "$gw_pid"
    n=0
    until [ "$(reloads 'reloaded ')" -ge $((ok0 + i)) ]; do
        [ $n -lt 200 ] || fail "reload $i not done within 10 s"
        sleep 0.05
        n=$((n + 1))
    done
    [ "$(fingerprint)" != "$before" ] || fail "reload $i: new handshakes still get the old certificate"
    before=$(fingerprint)
done
wait $h2 || fail "h2load failed: $(cat "$tmp/h2load.out")"
ops_forget $h2
grep -q '^requests: .* 0 failed, 0 errored, 0 timeout' "$tmp/h2load.out" || fail "failed requests across the reloads: $(grep '^requests:' "$tmp/h2load.out")"
grep -q 'succeeded' "$tmp/h2load.out" || fail "h2load: $(cat "$tmp/h2load.out")"
echo "ok 3 reloads under h2load over TLS: $(grep '^requests:' "$tmp/h2load.out")"
# shellcheck disable=SC2046
curl -sS --max-time 10 --cacert "$tmp/pki3/ca.crt" $(resolve b.test) -o /dev/null "$(url b.test /healthz)" ||
    fail "after the reloads, the new CA does not verify b.test"

kill -TERM "$gw_pid"
n=0
while kill -0 "$gw_pid" 2>/dev/null; do
    [ $n -lt 200 ] || fail "the gateway did not stop within 10 s"
    sleep 0.05
    n=$((n + 1))
done
wait "$gw_pid" || fail "the gateway exited with status $?"
ops_forget "$gw_pid"
echo "tls: all passed"
