/* test_cfg_load.c: the schema, rule by rule, each with its exact `file:line:col: message`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "cfg.h"

#define NAME "t.yaml"

struct kv {
    const char *k;
    const char *v;
};

struct env_table {
    const struct kv *kv;
};

static const struct kv fake_vars[] = {
    {"OSS_ACCESS_KEY_ID", "test-oss-id"},
    {"OSS_ACCESS_KEY_SECRET", "test-oss-secret"},
    {"AWS_ACCESS_KEY_ID", "test-aws-id"},
    {"AWS_SECRET_ACCESS_KEY", "test-aws-secret"},
    {NULL, NULL},
};
static struct env_table fake_table = {fake_vars};

static const char *fake_getenv(void *ctx, const char *name)
{
    const struct env_table *t = ctx;

    for (const struct kv *p = t->kv; p->k != NULL; p++) {
        if (strcmp(p->k, name) == 0) {
            return p->v;
        }
    }
    return NULL;
}

static const struct cfg_env test_env = {fake_getenv, &fake_table};

/* Lines 1-4 of most documents below; routes start on line 5. */
#define CRED "credentials:\n  default: {from: env}\n"
#define BACK "backends:\n  b: {region: cn-hangzhou, bucket: my-bucket}\n"
#define HEAD CRED BACK
/* One route on line 6; `x` adds keys, so a value added first starts at column 35. */
#define ROUTE(x) "routes:\n  - {prefix: /files/, backend: b" x "}\n"

static enum cfg_status load(const char *yaml, struct cfg_config **out, struct cfg_error *err)
{
    return cfg_load_buffer(out, NAME, yaml, strlen(yaml), &test_env, err);
}

static void expect_error(const char *yaml, enum cfg_status want, const char *msg)
{
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    enum cfg_status st = load(yaml, &cfg, &err);

    cr_assert_str_eq(err.msg, msg);
    cr_assert_eq(st, want, "status %d, want %d", (int)st, (int)want);
    cr_assert(cfg == NULL);
}

static struct cfg_config *expect_ok(const char *yaml)
{
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    enum cfg_status st = load(yaml, &cfg, &err);

    cr_assert_eq(st, CFG_OK, "%s", err.msg);
    cr_assert(cfg != NULL);
    return cfg;
}

/* ---- defaults and a whole document ---- */

Test(cfg_load, minimal_config_gets_every_default)
{
    struct cfg_config *cfg = expect_ok(HEAD ROUTE(""));

    cr_assert_str_eq(cfg->path, NAME);
    cr_assert_eq(cfg->n_listen, 1);
    cr_assert_str_eq(cfg->listen[0].host, "0.0.0.0");
    cr_assert_eq(cfg->listen[0].port, 8080);
    cr_assert_eq(cfg->workers, 0);
    cr_assert_eq(cfg->log.access, CFG_ACCESS_STDOUT);
    cr_assert_eq(cfg->log.level, CFG_LEVEL_INFO);
    cr_assert_str_eq(cfg->health_path, "/healthz");
    cr_assert_str_eq(cfg->metrics_path, "/metrics");
    cr_assert_eq(cfg->n_backends, 1);
    const struct cfg_backend *b = &cfg->backends[0];
    cr_assert_str_eq(b->name, "b");
    cr_assert_eq(b->type, CFG_BACKEND_OSS);
    cr_assert_str_eq(b->region, "cn-hangzhou");
    cr_assert_str_eq(b->bucket, "my-bucket");
    cr_assert_str_eq(b->endpoint, "oss-cn-hangzhou.aliyuncs.com");
    cr_assert_eq(b->addressing, CFG_ADDR_VIRTUAL);
    cr_assert(b->https);
    cr_assert(b->credentials == &cfg->credentials[0]);
    cr_assert_eq(cfg->n_routes, 1);
    const struct cfg_route *r = &cfg->routes[0];
    cr_assert_str_eq(r->prefix, "/files/");
    cr_assert_eq(r->prefix_len, 7);
    cr_assert(r->backend == b);
    cr_assert_str_eq(r->key_prefix, "");
    cr_assert_eq(r->key_prefix_len, 0);
    cr_assert_eq(r->expires_s, 900);
    cr_assert_eq(r->sign_window_s, 0);
    cr_assert_eq(r->disposition, CFG_DISP_NONE);
    cr_assert(r->content_type == NULL);
    cr_assert_eq(r->cache_max_age_s, 0);
    cr_assert_eq(r->status, 302);
    cr_assert(r->referrer_policy == NULL);
    cfg_free(cfg);
}

Test(cfg_load, limits_defaults_match_cfg_h)
{
    struct cfg_config *cfg = expect_ok(HEAD ROUTE(""));
    const struct cfg_limits *l = &cfg->limits;

    cr_assert_eq(l->max_connections, 10000);
    cr_assert_eq(l->max_connections_per_ip, 256);
    cr_assert_eq(l->header_timeout_ms, 10000);
    cr_assert_eq(l->idle_timeout_ms, 10000);
    cr_assert_eq(l->shutdown_timeout_ms, 5000);
    cr_assert_eq(l->max_header_bytes, 8192);
    cr_assert_eq(l->max_uri_bytes, 4096);
    cr_assert_eq(l->max_headers, 100);
    cr_assert_eq(l->max_requests_per_conn, 1000);
    cfg_free(cfg);
}

Test(cfg_load, every_key_set)
{
    struct cfg_config *cfg = expect_ok("listen: ['127.0.0.1:0', '[::1]:8443']\n"
                                       "workers: 4\n"
                                       "limits: {max_connections: 50, max_connections_per_ip: 5, header_timeout: 500ms,\n"
                                       "  idle_timeout: 1m, shutdown_timeout: 0s, max_header_bytes: 16k,\n"
                                       "  max_uri_bytes: 1024, max_headers: 20, max_requests_per_conn: 7}\n"
                                       "log: {access: /var/log/gw/access.log, level: debug}\n" HEAD "routes:\n"
                                       "  - {prefix: /a/, backend: b, key_prefix: pub/, expires: 2h, sign_window: 10m,\n"
                                       "     disposition: attachment, content_type: 'text/plain; charset=utf-8',\n"
                                       "     cache: 'private, max-age=60', status: 307, referrer_policy: no-referrer}\n"
                                       "  - {prefix: /b/c/, backend: b, cache: 5m, disposition: inline}\n"
                                       "health: ~\n"
                                       "metrics: /internal/metrics\n");

    cr_assert_eq(cfg->n_listen, 2);
    cr_assert_str_eq(cfg->listen[0].host, "127.0.0.1");
    cr_assert_eq(cfg->listen[0].port, 0);
    cr_assert(!cfg->listen[0].ipv6);
    cr_assert_str_eq(cfg->listen[1].host, "::1");
    cr_assert_eq(cfg->listen[1].port, 8443);
    cr_assert(cfg->listen[1].ipv6);
    cr_assert_eq(cfg->workers, 4);
    cr_assert_eq(cfg->limits.max_connections, 50);
    cr_assert_eq(cfg->limits.max_connections_per_ip, 5);
    cr_assert_eq(cfg->limits.header_timeout_ms, 500);
    cr_assert_eq(cfg->limits.idle_timeout_ms, 60000);
    cr_assert_eq(cfg->limits.shutdown_timeout_ms, 0);
    cr_assert_eq(cfg->limits.max_header_bytes, 16384);
    cr_assert_eq(cfg->limits.max_uri_bytes, 1024);
    cr_assert_eq(cfg->limits.max_headers, 20);
    cr_assert_eq(cfg->limits.max_requests_per_conn, 7);
    cr_assert_eq(cfg->log.access, CFG_ACCESS_FILE);
    cr_assert_str_eq(cfg->log.access_path, "/var/log/gw/access.log");
    cr_assert_eq(cfg->log.level, CFG_LEVEL_DEBUG);
    const struct cfg_route *r = &cfg->routes[0];
    cr_assert_str_eq(r->key_prefix, "pub/");
    cr_assert_eq(r->key_prefix_len, 4);
    cr_assert_eq(r->expires_s, 7200);
    cr_assert_eq(r->sign_window_s, 600);
    cr_assert_eq(r->disposition, CFG_DISP_ATTACHMENT);
    cr_assert_str_eq(r->content_type, "text/plain; charset=utf-8");
    cr_assert_eq(r->cache_max_age_s, 60);
    cr_assert_eq(r->status, 307);
    cr_assert_str_eq(r->referrer_policy, "no-referrer");
    cr_assert_eq(cfg->routes[1].cache_max_age_s, 300);
    cr_assert_eq(cfg->routes[1].disposition, CFG_DISP_INLINE);
    cr_assert(cfg->health_path == NULL);
    cr_assert_str_eq(cfg->metrics_path, "/internal/metrics");
    cfg_free(cfg);
}

/* ---- shipped examples ---- */

static const struct kv example_vars[] = {
    {"OSS_ACCESS_KEY_ID", "demo-access-key-id"},
    {"OSS_ACCESS_KEY_SECRET", "demo-access-key-secret"},
    {"AWS_ACCESS_KEY_ID", "aws-example-id"},
    {"AWS_SECRET_ACCESS_KEY", "aws-example-secret"},
    {"CREDENTIALS_DIRECTORY", GW_SOURCE_DIR "/tests/conf/data/credentials"},
    {NULL, NULL},
};
static struct env_table example_table = {example_vars};

Test(cfg_load, demo_yaml_loads)
{
    struct cfg_env env = {fake_getenv, &example_table};
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    enum cfg_status st = cfg_load_file(&cfg, GW_SOURCE_DIR "/conf/demo.yaml", &env, &err);

    cr_assert_eq(st, CFG_OK, "%s", err.msg);
    cr_assert_str_eq(cfg->listen[0].host, "127.0.0.1");
    cr_assert_eq(cfg->listen[0].port, 8080);
    const struct cfg_backend *b = &cfg->backends[0];
    cr_assert_str_eq(b->name, "demo");
    cr_assert_eq(b->type, CFG_BACKEND_OSS);
    cr_assert_eq(b->addressing, CFG_ADDR_PATH);
    cr_assert(!b->https);
    cr_assert_str_eq(b->endpoint, "127.0.0.1:9000");
    cr_assert_str_eq(b->bucket, "demo-bucket");
    cr_assert_str_eq(b->region, "cn-hangzhou");
    cr_assert_str_eq(b->credentials->access_key_id, "demo-access-key-id");
    cr_assert_str_eq(cfg->routes[0].prefix, "/files/");
    cr_assert_eq(cfg->routes[0].expires_s, 900);
    cr_assert_eq(cfg->log.access, CFG_ACCESS_STDOUT);
    cr_assert_str_eq(cfg->health_path, "/healthz");
    cr_assert_str_eq(cfg->metrics_path, "/metrics");
    cfg_free(cfg);
}

Test(cfg_load, gateway_yaml_loads)
{
    struct cfg_env env = {fake_getenv, &example_table};
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    enum cfg_status st = cfg_load_file(&cfg, GW_SOURCE_DIR "/conf/gateway.yaml", &env, &err);

    cr_assert_eq(st, CFG_OK, "%s", err.msg);
    cr_assert_eq(cfg->n_listen, 2);
    cr_assert(cfg->listen[1].ipv6);
    cr_assert_eq(cfg->n_backends, 2);
    cr_assert_eq(cfg->n_routes, 3);
    cr_assert_eq(cfg->n_credentials, 2);
    cr_assert_str_eq(cfg->backends[0].credentials->access_key_id, "LTAI-example-key-id");
    cr_assert_eq(cfg->backends[0].credentials->secret_len, strlen("example-secret-from-file"));
    cr_assert_eq(cfg->backends[1].type, CFG_BACKEND_S3);
    cr_assert_str_eq(cfg->backends[1].endpoint, "s3.us-east-1.amazonaws.com");
    cr_assert_str_eq(cfg->backends[1].credentials->access_key_id, "aws-example-id");
    cr_assert_eq(cfg->routes[0].sign_window_s, 300);
    cr_assert_eq(cfg->routes[0].cache_max_age_s, 60);
    cr_assert_eq(cfg->routes[1].disposition, CFG_DISP_ATTACHMENT);
    cr_assert_eq(cfg->routes[1].status, 307);
    cfg_free(cfg);
}

/* ---- YAML-level rules ---- */

Test(cfg_load, rejects_unknown_top_level_key)
{
    expect_error(HEAD ROUTE("") "listn: []\n", CFG_ERR_SCHEMA, "t.yaml:7:1: unknown key 'listn'");
}

Test(cfg_load, rejects_unknown_nested_key)
{
    expect_error(HEAD ROUTE(", expire: 5m"), CFG_ERR_SCHEMA, "t.yaml:6:35: routes[0]: unknown key 'expire'");
}

Test(cfg_load, rejects_duplicate_top_level_key)
{
    expect_error(HEAD ROUTE("") "workers: 1\nworkers: 2\n", CFG_ERR_SCHEMA,
                 "t.yaml:8:1: duplicate key 'workers' (first at line 7)");
}

Test(cfg_load, rejects_duplicate_nested_key)
{
    expect_error(HEAD ROUTE(", expires: 1m, expires: 2m"), CFG_ERR_SCHEMA,
                 "t.yaml:6:48: routes[0]: duplicate key 'expires' (first at line 6)");
}

Test(cfg_load, rejects_duplicate_backend_name)
{
    expect_error(CRED "backends:\n  b: {region: cn-hangzhou, bucket: my-bucket}\n  b: {region: cn-hangzhou, bucket: x-y-z}\n"
                      "routes: [{prefix: /f/, backend: b}]\n",
                 CFG_ERR_SCHEMA, "t.yaml:5:3: backends: duplicate key 'b' (first at line 4)");
}

Test(cfg_load, rejects_anchor)
{
    expect_error(HEAD "routes:\n  - &r {prefix: /files/, backend: b}\n", CFG_ERR_SYNTAX,
                 "t.yaml:6:5: anchors (&r) are not allowed");
}

Test(cfg_load, rejects_alias)
{
    /* The anchor comes first and is refused first; an alias alone is a syntax error of its own. */
    expect_error(HEAD "routes:\n  - *r\n", CFG_ERR_SYNTAX, "t.yaml:6:5: aliases (*r) are not allowed");
}

Test(cfg_load, rejects_tag)
{
    expect_error(HEAD "routes:\n  - {prefix: !!str /files/, backend: b}\n", CFG_ERR_SYNTAX,
                 "t.yaml:6:14: tags (tag:yaml.org,2002:str) are not allowed");
}

Test(cfg_load, rejects_second_document)
{
    expect_error(HEAD ROUTE("") "---\nworkers: 1\n", CFG_ERR_SYNTAX, "t.yaml:7:1: only one YAML document is allowed");
}

Test(cfg_load, reports_yaml_syntax_error_position)
{
    expect_error(HEAD "routes:\n  - {prefix: /files/, backend: b\n", CFG_ERR_SYNTAX,
                 "t.yaml:7:1: did not find expected ',' or '}' while parsing a flow mapping at 6:5");
}

Test(cfg_load, rejects_empty_document)
{
    expect_error("", CFG_ERR_SCHEMA, "t.yaml:1:1: empty configuration; expected a mapping with backends and routes");
    expect_error("# only a comment\n", CFG_ERR_SCHEMA,
                 "t.yaml:1:1: empty configuration; expected a mapping with backends and routes");
}

Test(cfg_load, rejects_non_mapping_root)
{
    expect_error("- a\n- b\n", CFG_ERR_SCHEMA, "t.yaml:1:1: top level: expected a mapping, got a sequence");
}

Test(cfg_load, rejects_nul_in_scalar)
{
    expect_error(HEAD "routes:\n  - {prefix: \"/fi\\0les/\", backend: b}\n", CFG_ERR_SYNTAX,
                 "t.yaml:6:14: a value contains a NUL byte");
}

Test(cfg_load, rejects_missing_backends_and_routes)
{
    expect_error(CRED ROUTE(""), CFG_ERR_SCHEMA, "t.yaml:1:1: missing key 'backends'");
    expect_error(HEAD, CFG_ERR_SCHEMA, "t.yaml:1:1: missing key 'routes'");
    expect_error(HEAD "routes: []\n", CFG_ERR_SCHEMA, "t.yaml:5:9: routes: needs at least one route");
}

/* ---- wrong node types ---- */

Test(cfg_load, rejects_wrong_type_mapping_for_sequence)
{
    expect_error(HEAD "routes: {prefix: /files/}\n", CFG_ERR_SCHEMA, "t.yaml:5:9: routes: expected a sequence, got a mapping");
}

Test(cfg_load, rejects_wrong_type_sequence_for_mapping)
{
    expect_error(HEAD ROUTE("") "limits: [1, 2]\n", CFG_ERR_SCHEMA, "t.yaml:7:9: limits: expected a mapping, got a sequence");
}

Test(cfg_load, rejects_wrong_type_mapping_for_scalar)
{
    expect_error(CRED "backends:\n  b: {region: cn-hangzhou, bucket: {a: 1}}\n" ROUTE(""), CFG_ERR_SCHEMA,
                 "t.yaml:4:36: backends.b.bucket: expected a scalar, got a mapping");
}

Test(cfg_load, rejects_null_value)
{
    expect_error(HEAD ROUTE(", expires: ~"), CFG_ERR_SCHEMA, "t.yaml:6:44: routes[0].expires: missing value");
}

/* ---- durations, sizes, numbers ---- */

Test(cfg_load, rejects_expires_over_seven_days)
{
    expect_error(HEAD ROUTE(", expires: 8d"), CFG_ERR_SCHEMA, "t.yaml:6:44: routes[0].expires: 8d is outside 1s..7d");
}

Test(cfg_load, rejects_expires_zero)
{
    expect_error(HEAD ROUTE(", expires: 0s"), CFG_ERR_SCHEMA, "t.yaml:6:44: routes[0].expires: 0s is outside 1s..7d");
}

Test(cfg_load, rejects_duration_without_unit)
{
    expect_error(HEAD ROUTE(", expires: 900"), CFG_ERR_SCHEMA,
                 "t.yaml:6:44: routes[0].expires: 900 has no unit; write a duration like 90s, 15m, 2h or 7d");
}

Test(cfg_load, rejects_bad_duration)
{
    expect_error(HEAD ROUTE(", expires: 15 m"), CFG_ERR_SCHEMA,
                 "t.yaml:6:44: routes[0].expires: 15 m is not a duration (like 500ms, 90s, 15m, 2h or 7d)");
    expect_error(HEAD ROUTE(", expires: 1h30m"), CFG_ERR_SCHEMA,
                 "t.yaml:6:44: routes[0].expires: 1h30m is not a duration (like 500ms, 90s, 15m, 2h or 7d)");
}

Test(cfg_load, rejects_milliseconds_where_seconds_are_kept)
{
    expect_error(HEAD ROUTE(", expires: 1500ms"), CFG_ERR_SCHEMA,
                 "t.yaml:6:44: routes[0].expires: 1500ms is not a whole number of seconds");
}

Test(cfg_load, accepts_every_duration_unit)
{
    struct cfg_config *cfg = expect_ok(HEAD "routes:\n"
                                            "  - {prefix: /a/, backend: b, expires: 90s}\n"
                                            "  - {prefix: /b/, backend: b, expires: 15m}\n"
                                            "  - {prefix: /c/, backend: b, expires: 2h}\n"
                                            "  - {prefix: /d/, backend: b, expires: 7d}\n"
                                            "  - {prefix: /e/, backend: b, expires: 2000ms}\n");
    cr_assert_eq(cfg->routes[0].expires_s, 90);
    cr_assert_eq(cfg->routes[1].expires_s, 900);
    cr_assert_eq(cfg->routes[2].expires_s, 7200);
    cr_assert_eq(cfg->routes[3].expires_s, 604800);
    cr_assert_eq(cfg->routes[4].expires_s, 2);
    cfg_free(cfg);
}

Test(cfg_load, rejects_timeout_out_of_range)
{
    expect_error(HEAD ROUTE("") "limits: {header_timeout: 50ms}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:26: limits.header_timeout: 50ms is outside 100ms..1h");
    expect_error(HEAD ROUTE("") "limits: {idle_timeout: 2h}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:24: limits.idle_timeout: 2h is outside 100ms..1h");
}

Test(cfg_load, rejects_bad_size)
{
    expect_error(HEAD ROUTE("") "limits: {max_header_bytes: 8kb}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:28: limits.max_header_bytes: 8kb is not a size (like 8192, 8k or 1m)");
}

Test(cfg_load, rejects_size_out_of_range)
{
    expect_error(HEAD ROUTE("") "limits: {max_header_bytes: 2m}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:28: limits.max_header_bytes: 2m is outside 256..1m");
    expect_error(HEAD ROUTE("") "limits: {max_uri_bytes: 10}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:25: limits.max_uri_bytes: 10 is outside 64..1m");
}

Test(cfg_load, rejects_uri_limit_above_header_limit)
{
    expect_error(HEAD ROUTE("") "limits: {max_header_bytes: 1k}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:28: limits.max_uri_bytes: 4k is larger than limits.max_header_bytes (1k)");
    expect_error(HEAD ROUTE("") "limits: {max_uri_bytes: 16k}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:25: limits.max_uri_bytes: 16k is larger than limits.max_header_bytes (8k)");
}

Test(cfg_load, rejects_number_out_of_range)
{
    expect_error(HEAD ROUTE("") "limits: {max_connections: 0}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:27: limits.max_connections: 0 is outside 1..1000000");
    expect_error(HEAD ROUTE("") "limits: {max_requests_per_conn: 99999999999999999999999}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:33: limits.max_requests_per_conn: 99999999999999999999999 is not a whole number");
}

Test(cfg_load, rejects_non_decimal_number)
{
    expect_error(HEAD ROUTE("") "limits: {max_headers: 010}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:23: limits.max_headers: 010 is not a whole number");
    expect_error(HEAD ROUTE("") "limits: {max_headers: -1}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:23: limits.max_headers: -1 is not a whole number");
    expect_error(HEAD ROUTE("") "limits: {max_headers: 1k}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:23: limits.max_headers: 1k is not a whole number");
}

Test(cfg_load, rejects_unknown_limit)
{
    expect_error(HEAD ROUTE("") "limits: {max_body_bytes: 1k}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:10: limits: unknown key 'max_body_bytes'");
}

/* ---- workers ---- */

Test(cfg_load, workers_forms)
{
    struct cfg_config *cfg = expect_ok(HEAD ROUTE("") "workers: auto\n");
    cr_assert_eq(cfg->workers, 0);
    cfg_free(cfg);
    cfg = expect_ok(HEAD ROUTE("") "workers: 256\n");
    cr_assert_eq(cfg->workers, 256);
    cfg_free(cfg);
    expect_error(HEAD ROUTE("") "workers: 0\n", CFG_ERR_SCHEMA, "t.yaml:7:10: workers: 0 is outside 1..256");
    expect_error(HEAD ROUTE("") "workers: 257\n", CFG_ERR_SCHEMA, "t.yaml:7:10: workers: 257 is outside 1..256");
    expect_error(HEAD ROUTE("") "workers: many\n", CFG_ERR_SCHEMA, "t.yaml:7:10: workers: many is not auto or a number in 1..256");
}

/* ---- routes ---- */

Test(cfg_load, rejects_expires_plus_sign_window_over_seven_days)
{
    expect_error(HEAD ROUTE(", expires: 7d, sign_window: 1h"), CFG_ERR_SCHEMA,
                 "t.yaml:6:61: routes[0].sign_window: expires 7d plus sign_window 1h is more than 7d");
}

Test(cfg_load, rejects_cache_max_age_not_below_expires)
{
    expect_error(HEAD ROUTE(", expires: 5m, cache: 5m"), CFG_ERR_SCHEMA,
                 "t.yaml:6:55: routes[0].cache: max-age 5m must be shorter than expires 5m, or a cached redirect outlives "
                 "its URL");
    expect_error(HEAD ROUTE(", expires: 1m, cache: 'private, max-age=90'"), CFG_ERR_SCHEMA,
                 "t.yaml:6:55: routes[0].cache: max-age 90s must be shorter than expires 1m, or a cached redirect "
                 "outlives its URL");
}

Test(cfg_load, cache_forms)
{
    struct cfg_config *cfg = expect_ok(HEAD "routes:\n"
                                            "  - {prefix: /a/, backend: b, cache: no-store}\n"
                                            "  - {prefix: /b/, backend: b, cache: 'private, max-age=120'}\n"
                                            "  - {prefix: /c/, backend: b, cache: 'private,max-age=3'}\n"
                                            "  - {prefix: /d/, backend: b, cache: 2m}\n");
    cr_assert_eq(cfg->routes[0].cache_max_age_s, 0);
    cr_assert_eq(cfg->routes[1].cache_max_age_s, 120);
    cr_assert_eq(cfg->routes[2].cache_max_age_s, 3);
    cr_assert_eq(cfg->routes[3].cache_max_age_s, 120);
    cfg_free(cfg);
    expect_error(HEAD ROUTE(", cache: public"), CFG_ERR_SCHEMA,
                 "t.yaml:6:42: routes[0].cache: public is not no-store, \"private, max-age=N\" or a duration like 5m");
    expect_error(HEAD ROUTE(", cache: 'private, max-age=0'"), CFG_ERR_SCHEMA,
                 "t.yaml:6:42: routes[0].cache: a max-age of 0 is written no-store");
}

Test(cfg_load, rejects_route_naming_missing_backend)
{
    expect_error(HEAD "routes:\n  - {prefix: /files/, backend: nope}\n", CFG_ERR_SCHEMA,
                 "t.yaml:6:32: routes[0].backend: no backend named 'nope'");
}

Test(cfg_load, rejects_route_without_prefix_or_backend)
{
    expect_error(HEAD "routes:\n  - {backend: b}\n", CFG_ERR_SCHEMA, "t.yaml:6:5: routes[0]: missing key 'prefix'");
    expect_error(HEAD "routes:\n  - {prefix: /files/}\n", CFG_ERR_SCHEMA, "t.yaml:6:5: routes[0]: missing key 'backend'");
}

Test(cfg_load, rejects_duplicate_prefix)
{
    expect_error(HEAD "routes:\n  - {prefix: /files/, backend: b}\n  - {prefix: /files/, backend: b}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:14: routes[1].prefix: /files/ is also the prefix of routes[0]");
}

Test(cfg_load, rejects_overlapping_prefix)
{
    expect_error(HEAD "routes:\n  - {prefix: /files/, backend: b}\n  - {prefix: /files/big/, backend: b}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:14: routes[1].prefix: /files/big/ overlaps routes[0].prefix /files/");
    expect_error(HEAD "routes:\n  - {prefix: /files/big/, backend: b}\n  - {prefix: /files/, backend: b}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:14: routes[1].prefix: /files/ overlaps routes[0].prefix /files/big/");
}

Test(cfg_load, rejects_prefix_without_slashes)
{
    expect_error(HEAD "routes:\n  - {prefix: /files, backend: b}\n", CFG_ERR_SCHEMA,
                 "t.yaml:6:14: routes[0].prefix: /files must start and end with '/', like /files/");
    expect_error(HEAD "routes:\n  - {prefix: files/, backend: b}\n", CFG_ERR_SCHEMA,
                 "t.yaml:6:14: routes[0].prefix: files/ must start and end with '/', like /files/");
}

Test(cfg_load, rejects_prefix_with_dot_segment)
{
    expect_error(HEAD "routes:\n  - {prefix: /a/../b/, backend: b}\n", CFG_ERR_SCHEMA,
                 "t.yaml:6:14: routes[0].prefix: /a/../b/ is not a plain URL path (letters, digits, -._~!$&'()*+,;=:@ "
                 "and '/', no empty, . or .. segment)");
    expect_error(HEAD "routes:\n  - {prefix: /a%20b/, backend: b}\n", CFG_ERR_SCHEMA,
                 "t.yaml:6:14: routes[0].prefix: /a%20b/ is not a plain URL path (letters, digits, -._~!$&'()*+,;=:@ "
                 "and '/', no empty, . or .. segment)");
}

Test(cfg_load, rejects_prefix_overlapping_health_or_metrics)
{
    expect_error(HEAD "routes:\n  - {prefix: /healthz/, backend: b}\n", CFG_ERR_SCHEMA,
                 "t.yaml:6:14: routes[0].prefix: /healthz/ overlaps the health path /healthz");
    expect_error(HEAD "routes:\n  - {prefix: /, backend: b}\n", CFG_ERR_SCHEMA,
                 "t.yaml:6:14: routes[0].prefix: / overlaps the health path /healthz");
    expect_error(HEAD "routes:\n  - {prefix: /x/, backend: b}\nmetrics: /x/metrics\n", CFG_ERR_SCHEMA,
                 "t.yaml:6:14: routes[0].prefix: /x/ overlaps the metrics path /x/metrics");
}

Test(cfg_load, health_and_metrics_can_be_turned_off)
{
    struct cfg_config *cfg = expect_ok(HEAD "routes:\n  - {prefix: /, backend: b}\nhealth: off\nmetrics:\n");
    cr_assert(cfg->health_path == NULL);
    cr_assert(cfg->metrics_path == NULL);
    cfg_free(cfg);
}

Test(cfg_load, rejects_health_equal_to_metrics)
{
    expect_error(HEAD ROUTE("") "health: /status\nmetrics: /status\n", CFG_ERR_SCHEMA,
                 "t.yaml:8:10: metrics: /status is also the health path");
    expect_error(HEAD ROUTE("") "health: healthz\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:9: health: healthz is not an absolute URL path (letters, digits, -._~!$&'()*+,;=:@ and '/', "
                 "no empty, . or .. segment), or off");
}

Test(cfg_load, rejects_key_prefix_with_leading_slash)
{
    expect_error(HEAD ROUTE(", key_prefix: /pub/"), CFG_ERR_SCHEMA,
                 "t.yaml:6:47: routes[0].key_prefix: /pub/ must not start with '/' (object keys do not)");
}

Test(cfg_load, rejects_bad_status)
{
    expect_error(HEAD ROUTE(", status: 301"), CFG_ERR_SCHEMA, "t.yaml:6:43: routes[0].status: 301 is not 302 or 307");
}

Test(cfg_load, rejects_bad_disposition)
{
    expect_error(HEAD ROUTE(", disposition: download"), CFG_ERR_SCHEMA,
                 "t.yaml:6:48: routes[0].disposition: download is not none, attachment or inline");
}

Test(cfg_load, rejects_bad_referrer_policy)
{
    expect_error(HEAD ROUTE(", referrer_policy: never"), CFG_ERR_SCHEMA,
                 "t.yaml:6:52: routes[0].referrer_policy: never is not a Referrer-Policy token (like no-referrer)");
}

Test(cfg_load, rejects_bad_content_type)
{
    expect_error(HEAD ROUTE(", content_type: text"), CFG_ERR_SCHEMA,
                 "t.yaml:6:49: routes[0].content_type: text is not a media type like text/plain");
}

Test(cfg_load, rejects_too_many_routes)
{
    size_t cap = 64 * 1024;
    char *yaml = malloc(cap);
    size_t len = 0;
    cr_assert(yaml != NULL);
    int w = snprintf(yaml, cap, "%s", HEAD "routes:\n");
    len = (size_t)w;
    for (int i = 0; i <= CFG_MAX_ROUTES; i++) {
        w = snprintf(yaml + len, cap - len, "  - {prefix: /r%d/, backend: b}\n", i);
        cr_assert(w > 0 && (size_t)w < cap - len);
        len += (size_t)w;
    }
    expect_error(yaml, CFG_ERR_SCHEMA, "t.yaml:262:5: routes: more than 256 routes");
    free(yaml);
}

/* ---- backends ---- */

Test(cfg_load, rejects_bad_bucket_names)
{
    expect_error(CRED "backends:\n  b: {region: cn-hangzhou, bucket: My-Bucket}\n" ROUTE(""), CFG_ERR_SCHEMA,
                 "t.yaml:4:36: backends.b.bucket: My-Bucket is not a valid bucket name (3 to 63 of a-z, 0-9 and '-', not "
                 "starting or ending with '-')");
    expect_error(CRED "backends:\n  b: {region: cn-hangzhou, bucket: ab}\n" ROUTE(""), CFG_ERR_SCHEMA,
                 "t.yaml:4:36: backends.b.bucket: ab is not a valid bucket name (3 to 63 of a-z, 0-9 and '-', not "
                 "starting or ending with '-')");
    expect_error(CRED "backends:\n  b: {region: cn-hangzhou, bucket: -abc}\n" ROUTE(""), CFG_ERR_SCHEMA,
                 "t.yaml:4:36: backends.b.bucket: -abc is not a valid bucket name (3 to 63 of a-z, 0-9 and '-', not "
                 "starting or ending with '-')");
    expect_error(CRED "backends:\n  b: {region: cn-hangzhou, bucket: a.b.c}\n" ROUTE(""), CFG_ERR_SCHEMA,
                 "t.yaml:4:36: backends.b.bucket: a.b.c is not a valid bucket name (3 to 63 of a-z, 0-9 and '-', not "
                 "starting or ending with '-')");
}

Test(cfg_load, rejects_missing_bucket)
{
    expect_error(CRED "backends:\n  b: {region: cn-hangzhou}\n" ROUTE(""), CFG_ERR_SCHEMA,
                 "t.yaml:4:3: backends.b: missing key 'bucket'");
}

Test(cfg_load, strips_oss_prefix_from_region)
{
    struct cfg_config *cfg = expect_ok(CRED "backends:\n  b: {region: oss-cn-beijing, bucket: abc}\n" ROUTE(""));
    cr_assert_str_eq(cfg->backends[0].region, "cn-beijing");
    cr_assert_str_eq(cfg->backends[0].endpoint, "oss-cn-beijing.aliyuncs.com");
    cfg_free(cfg);
}

Test(cfg_load, rejects_bad_region)
{
    expect_error(CRED "backends:\n  b: {region: CN_Hangzhou, bucket: abc}\n" ROUTE(""), CFG_ERR_SCHEMA,
                 "t.yaml:4:15: backends.b.region: CN_Hangzhou is not a region like cn-hangzhou");
    expect_error(CRED "backends:\n  b: {bucket: abc}\n" ROUTE(""), CFG_ERR_SCHEMA, "t.yaml:4:3: backends.b: missing key 'region'");
}

Test(cfg_load, rejects_endpoint_with_scheme)
{
    expect_error(CRED
                 "backends:\n  b: {region: cn-hangzhou, bucket: abc, endpoint: 'https://oss-cn-hangzhou.aliyuncs.com'}\n" ROUTE(""),
                 CFG_ERR_SCHEMA,
                 "t.yaml:4:51: backends.b.endpoint: https://oss-cn-hangzhou.aliyuncs.com has a scheme; write the host "
                 "alone and set scheme: https");
}

Test(cfg_load, rejects_endpoint_with_path)
{
    expect_error(CRED "backends:\n  b: {region: cn-hangzhou, bucket: abc, endpoint: oss.example.com/x}\n" ROUTE(""), CFG_ERR_SCHEMA,
                 "t.yaml:4:51: backends.b.endpoint: oss.example.com/x is not host[:port] (lowercase, no path)");
    expect_error(CRED "backends:\n  b: {region: cn-hangzhou, bucket: abc, endpoint: 'oss.example.com:0'}\n" ROUTE(""),
                 CFG_ERR_SCHEMA, "t.yaml:4:51: backends.b.endpoint: oss.example.com:0 is not host[:port] (lowercase, no path)");
}

Test(cfg_load, backend_forms)
{
    struct cfg_config *cfg =
        expect_ok("credentials:\n  default: {from: env}\n  aws: {from: env}\n"
                  "backends:\n"
                  "  v1: {type: oss-v1, region: cn-hangzhou, bucket: abc, endpoint: 'oss-cn-hangzhou.aliyuncs.com'}\n"
                  "  s3: {type: s3, region: us-west-2, bucket: abc, addressing: path, scheme: http, credentials: aws}\n"
                  "  cn: {region: cn-hangzhou, bucket: abc, addressing: cname, endpoint: 'cdn.example.com:8443'}\n"
                  "  v6: {region: cn-hangzhou, bucket: abc, endpoint: '[::1]:9000'}\n"
                  "  aws: {type: s3, region: oss-x, bucket: abc, credentials: aws}\n"
                  "routes: [{prefix: /a/, backend: v1}]\n");
    cr_assert_eq(cfg->backends[0].type, CFG_BACKEND_OSS_V1);
    cr_assert_str_eq(cfg->backends[0].region, "cn-hangzhou");
    cr_assert_eq(cfg->backends[1].type, CFG_BACKEND_S3);
    cr_assert_str_eq(cfg->backends[1].endpoint, "s3.us-west-2.amazonaws.com");
    cr_assert_eq(cfg->backends[1].addressing, CFG_ADDR_PATH);
    cr_assert(!cfg->backends[1].https);
    cr_assert_str_eq(cfg->backends[1].credentials->access_key_id, "test-aws-id");
    cr_assert_eq(cfg->backends[2].addressing, CFG_ADDR_CNAME);
    cr_assert_str_eq(cfg->backends[3].endpoint, "[::1]:9000");
    cr_assert_str_eq(cfg->backends[4].region, "oss-x"); /* only OSS regions lose the prefix */
    cr_assert_str_eq(cfg->backends[0].credentials->access_key_id, "test-oss-id");
    cfg_free(cfg);
}

Test(cfg_load, rejects_duplicate_credentials_key)
{
    expect_error("credentials:\n  default: {from: env}\n  default: {from: files}\n" BACK ROUTE(""), CFG_ERR_SCHEMA,
                 "t.yaml:3:3: credentials: duplicate key 'default' (first at line 2)");
}

Test(cfg_load, rejects_bad_type_and_addressing_and_scheme)
{
    expect_error(CRED "backends:\n  b: {type: gcs, region: x, bucket: abc}\n" ROUTE(""), CFG_ERR_SCHEMA,
                 "t.yaml:4:13: backends.b.type: gcs is not oss, oss-v1 or s3");
    expect_error(CRED "backends:\n  b: {region: x, bucket: abc, addressing: host}\n" ROUTE(""), CFG_ERR_SCHEMA,
                 "t.yaml:4:43: backends.b.addressing: host is not virtual, path or cname");
    expect_error(CRED "backends:\n  b: {region: x, bucket: abc, scheme: ftp}\n" ROUTE(""), CFG_ERR_SCHEMA,
                 "t.yaml:4:39: backends.b.scheme: ftp is not https or http");
    expect_error(CRED "backends:\n  b: {region: x, bucket: abc, addressing: cname}\n" ROUTE(""), CFG_ERR_SCHEMA,
                 "t.yaml:4:3: backends.b: addressing: cname needs an endpoint (the bucket's own domain)");
}

Test(cfg_load, rejects_backend_naming_missing_credentials)
{
    expect_error(CRED "backends:\n  b: {region: x, bucket: abc, credentials: prod}\n" ROUTE(""), CFG_ERR_SCHEMA,
                 "t.yaml:4:44: backends.b.credentials: no credential set named 'prod'");
    expect_error(BACK ROUTE(""), CFG_ERR_SCHEMA,
                 "t.yaml:2:3: backends.b: no credentials key, and no credential set named 'default'");
}

Test(cfg_load, rejects_bad_names)
{
    expect_error(CRED "backends:\n  'a b': {region: x, bucket: abc}\n" ROUTE(""), CFG_ERR_SCHEMA,
                 "t.yaml:4:3: backends: 'a b' is not a name (1 to 64 of A-Z, a-z, 0-9, '-', '_')");
}

/* ---- listen ---- */

Test(cfg_load, listen_forms)
{
    struct cfg_config *cfg = expect_ok(HEAD ROUTE("") "listen: '[2001:db8::1]:65535'\n");
    cr_assert_eq(cfg->n_listen, 1);
    cr_assert_str_eq(cfg->listen[0].host, "2001:db8::1");
    cr_assert_eq(cfg->listen[0].port, 65535);
    cr_assert(cfg->listen[0].ipv6);
    cfg_free(cfg);
}

Test(cfg_load, rejects_bad_listen)
{
    expect_error(HEAD ROUTE("") "listen: ['localhost:80']\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:10: listen[0]: localhost is not a numeric IPv4 address");
    expect_error(HEAD ROUTE("") "listen: ['0.0.0.0:80', '1.2.3.4:70000']\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:24: listen[1]: port '70000' is not a number in 0..65535");
    expect_error(HEAD ROUTE("") "listen: ['0.0.0.0']\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:10: listen[0]: 0.0.0.0 has no port; write IPv4:port or [IPv6]:port, like 0.0.0.0:8080");
    expect_error(HEAD ROUTE("") "listen: ['::1:80']\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:10: listen[0]: ::1:80 is not IPv4:port; write IPv6 as [::1]:8080");
    expect_error(HEAD ROUTE("") "listen: ['[::1]']\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:10: listen[0]: [::1] is not [IPv6]:port, like [::1]:8080");
    expect_error(HEAD ROUTE("") "listen: ['[1.2.3.4]:80']\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:10: listen[0]: 1.2.3.4 is not a numeric IPv6 address");
    expect_error(HEAD ROUTE("") "listen: ['1.2.3.4:80', '1.2.3.4:80']\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:24: listen[1]: 1.2.3.4:80 is listed twice");
    expect_error(HEAD ROUTE("") "listen: []\n", CFG_ERR_SCHEMA, "t.yaml:7:9: listen: needs at least one address");
}

/* ---- log ---- */

Test(cfg_load, log_forms)
{
    struct cfg_config *cfg = expect_ok(HEAD ROUTE("") "log: {access: off, level: err}\n");
    cr_assert_eq(cfg->log.access, CFG_ACCESS_OFF);
    cr_assert(cfg->log.access_path == NULL);
    cr_assert_eq(cfg->log.level, CFG_LEVEL_ERR);
    cfg_free(cfg);
    expect_error(HEAD ROUTE("") "log: {access: access.log}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:15: log.access: access.log is not stdout, off or an absolute path");
    expect_error(HEAD ROUTE("") "log: {level: verbose}\n", CFG_ERR_SCHEMA,
                 "t.yaml:7:14: log.level: verbose is not err, warning, notice, info or debug");
    expect_error(HEAD ROUTE("") "log: {format: json}\n", CFG_ERR_SCHEMA, "t.yaml:7:7: log: unknown key 'format'");
}

/* ---- bounds on the input ---- */

static double elapsed_ms(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

Test(cfg_load, rejects_billion_laughs_fast)
{
    static const char doc[] = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
                              "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                              "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                              "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                              "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                              "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                              "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                              "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                              "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    struct timespec t0;
    struct timespec t1;

    cr_assert(sizeof(doc) - 1 <= 450, "%zu bytes", sizeof(doc) - 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    expect_error(doc, CFG_ERR_SYNTAX, "t.yaml:1:4: anchors (&a) are not allowed");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert(elapsed_ms(&t0, &t1) < 100.0, "took %.1f ms", elapsed_ms(&t0, &t1));
}

static void deep(const char *open, size_t n, const char *msg)
{
    size_t ol = strlen(open);
    char *doc = malloc(n * ol + 1);
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    struct timespec t0;
    struct timespec t1;

    cr_assert(doc != NULL);
    for (size_t i = 0; i < n; i++) {
        memcpy(doc + i * ol, open, ol);
    }
    doc[n * ol] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum cfg_status st = cfg_load_buffer(&cfg, NAME, doc, n * ol, &test_env, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(doc);
    cr_assert_eq(st, CFG_ERR_SYNTAX);
    cr_assert_str_eq(err.msg, msg);
    cr_assert(cfg == NULL);
    cr_assert(elapsed_ms(&t0, &t1) < 100.0, "took %.1f ms", elapsed_ms(&t0, &t1));
}

Test(cfg_load, rejects_deep_flow_nesting_fast)
{
    deep("[", 100000, "t.yaml:1:17: nesting deeper than 16 levels");
}

Test(cfg_load, rejects_deep_flow_mapping_nesting_fast)
{
    deep("{a: ", 100000, "t.yaml:1:65: nesting deeper than 16 levels");
}

Test(cfg_load, rejects_deep_block_nesting_fast)
{
    deep("- ", 100000, "t.yaml:1:33: nesting deeper than 16 levels");
}

Test(cfg_load, rejects_long_scalar)
{
    size_t n = CFG_MAX_STRING + 1;
    char *doc = malloc(n + 32);
    cr_assert(doc != NULL);
    memcpy(doc, "workers: ", 9);
    memset(doc + 9, 'x', n);
    doc[9 + n] = '\0';
    expect_error(doc, CFG_ERR_SYNTAX, "t.yaml:1:10: a value longer than 4096 bytes");
    free(doc);
}

Test(cfg_load, rejects_oversized_buffer)
{
    size_t n = (size_t)CFG_MAX_FILE_BYTES + 1;
    char *doc = malloc(n);
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    cr_assert(doc != NULL);
    memset(doc, '#', n);
    cr_assert_eq(cfg_load_buffer(&cfg, NAME, doc, n, &test_env, &err), CFG_ERR_SYNTAX);
    cr_assert_str_eq(err.msg, "t.yaml: larger than 1048576 bytes");
    cr_assert(cfg == NULL);
    free(doc);
}

Test(cfg_load, rejects_invalid_utf8)
{
    expect_error("workers: \xff\n", CFG_ERR_SYNTAX, "t.yaml: byte 10: invalid leading UTF-8 octet");
}

Test(cfg_load, file_errors)
{
    struct cfg_config *cfg = NULL;
    struct cfg_error err;

    cr_assert_eq(cfg_load_file(&cfg, "/nonexistent/gw.yaml", &test_env, &err), CFG_ERR_IO);
    cr_assert_str_eq(err.msg, "/nonexistent/gw.yaml: cannot open: No such file or directory");
    cr_assert_eq(cfg_load_file(&cfg, "/", &test_env, &err), CFG_ERR_IO);
    cr_assert_str_eq(err.msg, "/: not a regular file");
    cr_assert(cfg == NULL);
}

/* ---- route matching and status texts ---- */

Test(cfg_load, route_match)
{
    struct cfg_config *cfg = expect_ok(HEAD "routes:\n  - {prefix: /files/, backend: b}\n  - {prefix: /dl/x/, backend: b}\n");

    cr_assert(cfg_route_match(cfg, "/files/a.txt", 12) == &cfg->routes[0]);
    cr_assert(cfg_route_match(cfg, "/files/", 7) == &cfg->routes[0]);
    cr_assert(cfg_route_match(cfg, "/files/a.txt", 6) == NULL); /* "/files" */
    cr_assert(cfg_route_match(cfg, "/dl/x/y", 7) == &cfg->routes[1]);
    cr_assert(cfg_route_match(cfg, "/dl/y/x", 7) == NULL);
    cr_assert(cfg_route_match(cfg, "/", 1) == NULL);
    cr_assert(cfg_route_match(cfg, "", 0) == NULL);
    cr_assert(cfg_route_match(NULL, "/files/a", 8) == NULL);
    cfg_free(cfg);
}

Test(cfg_load, strerror_covers_every_status)
{
    cr_assert_str_eq(cfg_strerror(CFG_OK), "success");
    cr_assert_str_eq(cfg_strerror(CFG_ERR_IO), "cannot read the configuration or a credential file");
    cr_assert_str_eq(cfg_strerror(CFG_ERR_SYNTAX), "malformed YAML or input too large");
    cr_assert_str_eq(cfg_strerror(CFG_ERR_SCHEMA), "invalid configuration");
    cr_assert_str_eq(cfg_strerror(CFG_ERR_CREDENTIALS), "credentials missing or unsafe");
    cr_assert_str_eq(cfg_strerror(CFG_ERR_NOMEM), "out of memory");
    cr_assert_str_eq(cfg_strerror((enum cfg_status)99), "unknown error");
}

Test(cfg_load, free_accepts_null)
{
    cfg_free(NULL);
}
