/* RFC 9110/9112 points over real sockets: absolute-form targets, Host validation, 501 for what the server does not
 * implement, OPTIONS *, and no body on HEAD errors. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "gw_testlib.h"

static const char config[] =
    "workers: 1\n"
    "log: {access: stdout, level: info}\n"
    "credentials:\n  main: {from: env}\n"
    "backends:\n  origin: {type: oss, region: cn-hangzhou, bucket: test-bucket, endpoint: \"127.0.0.1:9000\",\n"
    "           addressing: path, scheme: http, credentials: main}\n"
    "limits: {header_timeout: 2s, idle_timeout: 2s}\n"
    "routes:\n  - {prefix: /files/, backend: origin, expires: 15m}\n";

static struct gw_proc gw;
static char buf[64 * 1024];

static void setup(void)
{
    memset(&gw, 0, sizeof(gw));
    gw_start(&gw, config, NULL);
}

static void teardown(void)
{
    gw_stop(&gw, SIGTERM, 6000, NULL);
}

TestSuite(gw_proto, .init = setup, .fini = teardown, .timeout = 30);

/* body returns what follows the first response's head in buf. */
static const char *body(void)
{
    const char *p = strstr(buf, "\r\n\r\n");
    cr_assert_not_null(p, "no complete head: %s", buf);
    return p + 4;
}

static void expect(const char *req, int status, const char *reason)
{
    char line[256];
    gw_exchange(gw.port, req, buf, sizeof(buf));
    cr_assert_eq(gw_status(buf), status, "%s -> %s", req, buf);
    if (reason != NULL) {
        int n = snprintf(line, sizeof(line), "%s\n", reason);
        cr_assert(n > 0);
        cr_assert_str_eq(body(), line, "%s", buf);
    }
}

Test(gw_proto, absolute_form_is_routed_on_its_path_and_its_host_is_never_used)
{
    char loc[4096];
    expect("GET http://evil.example/files/a%20b?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 302, NULL);
    cr_assert(gw_header(buf, "Location", loc, sizeof(loc)));
    cr_assert_eq(strncmp(loc, "http://127.0.0.1:9000/test-bucket/a%20b?", 40), 0, "%s", loc);
    cr_assert_null(strstr(buf, "evil"), "%s", buf);
    expect("GET HTTPS://[::1]:8443/files/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 302, NULL);
    expect("GET http://example.com HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404, "no route for this path");
    expect("GET http://u@evil.example/files/a HTTP/1.1\r\nHost: x\r\n\r\n", 400, "invalid authority in request target");
    expect("GET ftp://example.com/files/a HTTP/1.1\r\nHost: x\r\n\r\n", 400,
           "request target has a scheme other than http or https");
    expect("GET http://example.com//evil.example/a HTTP/1.1\r\nHost: x\r\n\r\n", 400, "request target must be an absolute path");
    expect("GET files/a HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed request target");
}

Test(gw_proto, invalid_host_values_are_400)
{
    static const char *const bad[] = {"a b", "evil/x@y", "a@b", "x:y", "x:123456", "x:65536", "[::1", "[zz::1]", "a%zz", "a\"b"};
    static const char *const good[] = {"x", "example.com:8080", "127.0.0.1", "[::1]:80", "[v1.fe]", "a%41b", "x:", ""};
    char req[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int n = snprintf(req, sizeof(req), "GET /files/a HTTP/1.1\r\nHost: %s\r\n\r\n", bad[i]);
        cr_assert(n > 0 && (size_t)n < sizeof(req));
        expect(req, 400, "invalid Host header");
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int n = snprintf(req, sizeof(req), "GET /files/a HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", good[i]);
        cr_assert(n > 0 && (size_t)n < sizeof(req));
        expect(req, 302, NULL);
    }
}

Test(gw_proto, what_is_not_implemented_is_501)
{
    char v[64];
    expect("BREW /files/a HTTP/1.1\r\nHost: x\r\n\r\n", 501, "method not implemented");
    expect("BREW /files/a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 501, "method not implemented");
    cr_assert(gw_header(buf, "Connection", v, sizeof(v)) && strcmp(v, "close") == 0, "an unread body closes: %s", buf);
    expect("GET /files/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "unsupported transfer coding");
    expect("GET /files/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "unsupported transfer coding");
    expect("POST /files/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 413,
           "request bodies are not accepted");
    expect("DELETE /files/a HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method not allowed");
    cr_assert(gw_header(buf, "Allow", v, sizeof(v)));
    cr_assert_str_eq(v, "GET, HEAD");
    expect("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405, "method not allowed");
}

Test(gw_proto, options_asterisk_gets_204_with_allow)
{
    char v[64];
    expect("OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 204, NULL);
    cr_assert(gw_header(buf, "Allow", v, sizeof(v)));
    cr_assert_str_eq(v, "GET, HEAD, OPTIONS");
    cr_assert(!gw_header(buf, "Content-Length", v, sizeof(v)), "a 204 has no Content-Length: %s", buf);
    cr_assert_str_eq(body(), "");
    expect("GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400, "'*' is a request target for OPTIONS only");
}

Test(gw_proto, head_errors_carry_no_body)
{
    char v[32];
    static const char *const reqs[] = {
        "HEAD /files/a HTTP/1.1\r\nHost: a b\r\n\r\n",                        /* a parse error after the request line */
        "HEAD /files/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: br\r\n\r\n", /* 501 from the parser */
        "HEAD /files/a HTTP/1.1\r\n\r\n",                                     /* no Host */
        "HEAD /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",     /* 404 from the handler */
        "HEAD /files/a%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",  /* 400 from the key rules */
    };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        gw_exchange(gw.port, reqs[i], buf, sizeof(buf));
        int st = gw_status(buf);
        cr_assert(st >= 400, "%s -> %s", reqs[i], buf);
        cr_assert(gw_header(buf, "Content-Length", v, sizeof(v)) && strcmp(v, "0") != 0, "the GET length is announced");
        cr_assert_str_eq(body(), "", "HEAD %d carries no body: %s", st, buf);
    }
}

Test(gw_proto, traceparent_is_echoed_and_logged)
{
    static char log[65536];
    static const char tp[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    char v[128];
    char req[512];
    int n = snprintf(req, sizeof(req), "GET /files/a HTTP/1.1\r\nHost: x\r\ntraceparent: %s\r\nConnection: close\r\n\r\n", tp);
    cr_assert(n > 0 && (size_t)n < sizeof(req));
    expect(req, 302, NULL);
    cr_assert(gw_header(buf, "traceparent", v, sizeof(v)), "%s", buf);
    cr_assert_str_eq(v, tp);
    expect("GET /nowhere HTTP/1.1\r\nHost: x\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
           "Connection: close\r\n\r\n",
           404, "no route for this path");
    cr_assert(gw_header(buf, "traceparent", v, sizeof(v)), "errors carry it too: %s", buf);
    expect("GET /files/a HTTP/1.1\r\nHost: x\r\ntraceparent: 00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01\r\n"
           "Connection: close\r\n\r\n",
           302, NULL);
    cr_assert(!gw_header(buf, "traceparent", v, sizeof(v)), "an invalid one is not echoed: %s", buf);

    long long start = gw_mono_ns();
    while (gw_ms_since(start) < 3000 && gw_count(log, "\n") < 3) {
        gw_read_file(gw.out_path, log, sizeof(log));
        usleep(20000);
    }
    cr_assert_eq(gw_count(log, "\"trace_id\":\"0af7651916cd43dd8448eb211c80319c\""), 2, "%s", log);
    cr_assert_eq(gw_count(log, "trace_id"), 2, "%s", log);
}
