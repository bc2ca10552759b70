/* The request value (struct gw_req): what routing and the key rules learn travels in it, from the handler to signing
 * and the log, and two requests answered by one worker in turn keep their own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cfg.h"
#include "gw_handler.h"
#include "gw_http.h"
#include "gw_req.h"
#include "sgn_buf.h"

#define NOW 1700000000

static const char *fake_getenv(void *ctx, const char *name)
{
    (void)ctx;
    if (strcmp(name, "OSS_ACCESS_KEY_ID") == 0) {
        return "req-id";
    }
    if (strcmp(name, "OSS_ACCESS_KEY_SECRET") == 0) {
        return "req-secret";
    }
    return NULL;
}

static const char yaml[] = "credentials:\n  main: {from: env}\n"
                           "backends:\n  b: {type: oss, region: cn-hangzhou, bucket: test-bucket, credentials: main}\n"
                           "routes:\n"
                           "  - {prefix: /files/, backend: b, key_prefix: pub/}\n"
                           "  - {prefix: /other/, backend: b}\n";

static struct gw_runtime *rt;
static struct gw_ctx ctx;
static struct gw_stats stats;
static char out[2 * GW_RESPONSE_MAX];
static const uint8_t addr[16] = {[10] = 0xff, [11] = 0xff, 192, 0, 2, 7};

static void setup(void)
{
    struct cfg_env env = {fake_getenv, NULL};
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    cr_assert_eq(cfg_load_buffer(&cfg, "req.yaml", yaml, sizeof(yaml) - 1, &env, &err), CFG_OK, "%s", err.msg);
    char why[512];
    rt = gw_runtime_new(cfg, why, sizeof(why));
    cr_assert_not_null(rt, "%s", why);
    ctx.stats = &stats;
    gw_ctx_set_runtime(&ctx, rt);
}

static void teardown(void)
{
    gw_ctx_wipe(&ctx);
    gw_runtime_unref(rt);
}

/* handle parses `head` into `http` and answers it through `r`; returns the status. */
static unsigned handle(const char *head, struct gw_request *http, struct gw_req *r)
{
    static const struct gw_http_limits lim = {8192, 4096, 100};
    struct gw_answer a;
    struct sgn_buf b;
    cr_assert_eq(gw_http_parse(http, head, strlen(head), &lim), GW_PARSE_DONE);
    gw_req_init(r, http, addr, "192.0.2.7");
    sgn_buf_init(&b, out, sizeof(out));
    gw_handle(&ctx, r, NOW, false, &b, &a);
    cr_assert(!b.overflow);
    return a.status;
}

Test(gw_req, carries_route_key_method_and_client, .init = setup, .fini = teardown)
{
    struct gw_request h1;
    struct gw_request h2;
    struct gw_req r1;
    struct gw_req r2;

    cr_assert_eq(handle("HEAD /files/a%20b.txt?x=1 HTTP/1.1\r\nHost: g\r\n\r\n", &h1, &r1), 302);
    cr_assert_eq(handle("GET /other/c/d HTTP/1.1\r\nHost: g\r\n"
                        "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n",
                        &h2, &r2),
                 302);

    /* Each keeps what its own routing found, after the worker answered the other. */
    cr_assert_eq(r1.route, &rt->cfg->routes[0]);
    cr_assert_eq(r1.slot, rt->route_slot[0]);
    cr_assert_eq(r1.key_len, strlen("pub/a b.txt"));
    cr_assert_str_eq(r1.key, "pub/a b.txt");
    cr_assert(r1.method.len == 4 && memcmp(r1.method.base, "HEAD", 4) == 0);
    cr_assert(r1.query.len == 3 && memcmp(r1.query.base, "x=1", 3) == 0);
    cr_assert_eq(r2.route, &rt->cfg->routes[1]);
    cr_assert_str_eq(r2.key, "c/d");
    cr_assert(r2.method.len == 3 && memcmp(r2.method.base, "GET", 3) == 0);
    cr_assert(r2.trace_id.len == 32 && memcmp(r2.trace_id.base, "4bf92f3577b34da6a3ce929d0e0e4736", 32) == 0);
    cr_assert(r1.addr == addr && strcmp(r1.client, "192.0.2.7") == 0 && r1.real_addr == NULL && r1.trace_id.len == 0);

    /* Signing reads the key and method from the value: presigning r1 again gives a HEAD URL for its key. */
    size_t url_len;
    unsigned status;
    cr_assert_null(gw_presign_key(&ctx, &r1, NOW, &url_len, &status));
    cr_assert(strstr(ctx.url, "/pub/a%20b.txt?") != NULL, "%s", ctx.url);
}

Test(gw_req, a_refused_key_leaves_no_key_and_an_unrouted_path_no_route, .init = setup, .fini = teardown)
{
    struct gw_request h;
    struct gw_req r;

    cr_assert_eq(handle("GET /files/a/../b HTTP/1.1\r\nHost: g\r\n\r\n", &h, &r), 400);
    cr_assert_eq(r.route, &rt->cfg->routes[0]);
    cr_assert_eq(r.key_len, 0);
    cr_assert_str_eq(r.key, "");
    cr_assert_eq(handle("GET /nowhere HTTP/1.1\r\nHost: g\r\n\r\n", &h, &r), 404);
    cr_assert_null(r.route);
    cr_assert_eq(r.slot, 0);
    cr_assert_eq(r.key_len, 0);
}
