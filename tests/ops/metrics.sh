#!/bin/sh
# tests/ops/metrics.sh GATEWAY_BINARY SOURCE_DIR: contrib/'s dashboard and alert rules query only metrics that a
# running gateway exports. Starts one on a free port, sends a few requests (so the per-route counters have
# samples), scrapes /metrics, lints the scrape with `promtool check metrics`, and checks every metric name in
# contrib/grafana/oss-gateway.json and contrib/prometheus/alerts.yml against it (metrics-names.js, which parses the
# PromQL with Prometheus's own grammar). oss_gateway_credentials_expiry_seconds is expected: issue 11 adds it.
set -eu
bin=$1
src=$2
expected="oss_gateway_credentials_expiry_seconds"

. "$src/tests/ops/lib.sh"
ops_init metrics
command -v promtool >/dev/null || fail "promtool not found (tools/deps test installs it from Debian's prometheus package)"
[ -d "$src/tests/ops/node_modules/@prometheus-io/lezer-promql" ] || fail "run: npm ci --prefix tests/ops"

export OSS_ACCESS_KEY_ID=metrics-test-id OSS_ACCESS_KEY_SECRET=metrics-test-secret
cat >"$tmp/gw.yaml" <<'YAML'
listen: ["127.0.0.1:0"]
workers: 1
log: {access: off}
credentials:
  main: {from: env}
backends:
  b: {type: oss, region: cn-hangzhou, bucket: examplebucket, endpoint: oss-cn-hangzhou.aliyuncs.com, credentials: main}
routes:
  - {prefix: /files/, backend: b, expires: 15m}
health: /healthz
metrics: /metrics
YAML
ops_gateway "$bin" "$tmp/gw.yaml" "$tmp/gw.log"
url=http://127.0.0.1:$gw_port
for path in /files/a.txt /healthz /nowhere /files/a%zz; do
    curl -s -o /dev/null --max-time 5 "$url$path" || fail "curl $url$path failed"
done
curl -sS --fail --max-time 5 "$url/metrics" >"$tmp/metrics.txt" || fail "cannot scrape $url/metrics"

# promtool's lint: HELP and TYPE present, counters named _total, and the like.
promtool check metrics <"$tmp/metrics.txt" >"$tmp/lint.log" 2>&1 || fail "promtool check metrics: $(cat "$tmp/lint.log")"

set --
for name in $expected; do set -- "$@" --expected "$name"; done
node "$src/tests/ops/metrics-names.js" --metrics "$tmp/metrics.txt" --dashboard "$src/contrib/grafana/oss-gateway.json" \
    --rules "$src/contrib/prometheus/alerts.yml" "$@" || fail "the dashboard or the alert rules query metrics the gateway does not export"
