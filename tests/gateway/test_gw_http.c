/* The request-head parser: every acceptance and rejection rule. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "gw_http.h"

static const struct gw_http_limits lim = {8192, 4096, 100};

static enum gw_parse parse(struct gw_request *r, const char *s)
{
    return gw_http_parse(r, s, strlen(s), &lim);
}

static void expect_error(const char *s, unsigned status, const char *reason)
{
    struct gw_request r;
    cr_assert_eq(parse(&r, s), GW_PARSE_ERROR, "accepted: %s", s);
    cr_assert_eq(r.status, status, "status %u for: %s", r.status, s);
    if (reason != NULL) {
        cr_assert_str_eq(r.reason, reason);
    }
}

Test(gw_http, simple_get)
{
    struct gw_request r;
    const char *s = "GET /files/a%20b?x=1 HTTP/1.1\r\nHost: example\r\nUser-Agent: t\r\n\r\nGET /next";
    cr_assert_eq(parse(&r, s), GW_PARSE_DONE);
    cr_assert_eq(r.method.len, 3);
    cr_assert_eq(r.path.len, strlen("/files/a%20b"));
    cr_assert_eq(memcmp(r.path.base, "/files/a%20b", r.path.len), 0);
    cr_assert_eq(r.query.len, 3);
    cr_assert_eq(r.minor, 1);
    cr_assert(r.keep_alive);
    cr_assert(!r.has_body);
    cr_assert_eq(r.n_headers, 2);
    cr_assert_eq(r.head_len, strlen(s) - strlen("GET /next"), "the pipelined next request is not consumed");
}

Test(gw_http, incomplete_heads_wait)
{
    struct gw_request r;
    cr_assert_eq(parse(&r, ""), GW_PARSE_AGAIN);
    cr_assert_eq(parse(&r, "GET /files/a HTTP/1.1\r\nHost: x\r\n"), GW_PARSE_AGAIN);
    cr_assert_eq(parse(&r, "GET /files/a HTTP/1.1\r\nHost: x\r\n\r"), GW_PARSE_AGAIN);
    cr_assert_eq(parse(&r, "GET /files/a HT"), GW_PARSE_AGAIN);
}

Test(gw_http, keep_alive_rules)
{
    struct gw_request r;
    cr_assert_eq(parse(&r, "GET / HTTP/1.0\r\n\r\n"), GW_PARSE_DONE);
    cr_assert(!r.keep_alive, "HTTP/1.0 closes by default");
    cr_assert_eq(parse(&r, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), GW_PARSE_DONE);
    cr_assert(r.keep_alive);
    cr_assert_eq(parse(&r, "GET / HTTP/1.1\r\nHost: x\r\nConnection: TE, close\r\n\r\n"), GW_PARSE_DONE);
    cr_assert(!r.keep_alive);
    cr_assert_eq(parse(&r, "GET / HTTP/1.1\nHost: x\n\n"), GW_PARSE_DONE, "bare LF line ends are allowed");
    cr_assert_eq(parse(&r, "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), GW_PARSE_DONE, "one leading empty line is ignored");
}

Test(gw_http, bodies_are_flagged)
{
    struct gw_request r;
    cr_assert_eq(parse(&r, "POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"), GW_PARSE_DONE);
    cr_assert(r.has_body);
    cr_assert_eq(parse(&r, "GET /f HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"), GW_PARSE_DONE);
    cr_assert(!r.has_body);
    cr_assert_eq(parse(&r, "POST /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"), GW_PARSE_DONE);
    cr_assert(r.has_body);
}

Test(gw_http, malformed_requests)
{
    expect_error("GET /f HTTP/1.1\r\n\r\n", 400, "HTTP/1.1 request without Host");
    expect_error("GET /f HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host header");
    expect_error("GET  /f HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed request line");
    expect_error("GET /f\r\n\r\n", 400, "malformed request line");
    expect_error("GET /f HTTP/1.1 \r\nHost: a\r\n\r\n", 400, "malformed HTTP version");
    expect_error("GET /f HTTP/2.0\r\nHost: a\r\n\r\n", 505, NULL);
    expect_error("G(T /f HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed request line");
    expect_error("GET /f\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "control character in request target");
    expect_error("GET /f HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n", 400, "malformed header field");
    expect_error("GET /f HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400, "obsolete header line folding");
    expect_error("GET /f HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400, "bare CR in header");
    expect_error("GET /f HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n", 400, "control character in header value");
    expect_error("GET /f HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400, "invalid Content-Length");
    expect_error("GET /f HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400,
                 "conflicting Content-Length headers");
    expect_error("GET /f HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
                 "both Transfer-Encoding and Content-Length");
    expect_error("GETGETGETGETGETGETGETGETGETGETGETGET /f HTTP/1.1\r\nHost: a\r\n\r\n", 400, "method too long");
}

Test(gw_http, limits)
{
    static char big[16384];
    struct gw_request r;
    struct gw_http_limits small = {8192, 64, 3};

    /* a request target over max_uri_bytes */
    int n = snprintf(big, sizeof(big), "GET /%0100d HTTP/1.1\r\nHost: a\r\n\r\n", 0);
    cr_assert_eq(gw_http_parse(&r, big, (size_t)n, &small), GW_PARSE_ERROR);
    cr_assert_eq(r.status, 414);
    /* ...even before its line ends */
    cr_assert_eq(gw_http_parse(&r, big, 120, &small), GW_PARSE_ERROR);
    cr_assert_eq(r.status, 414);
    /* one header too many */
    const char *many = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    cr_assert_eq(gw_http_parse(&r, many, strlen(many), &small), GW_PARSE_ERROR);
    cr_assert_eq(r.status, 431);
    cr_assert_str_eq(r.reason, "too many header fields");
    /* a 9 KiB header: over max_header_bytes */
    memcpy(big, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 28);
    memset(big + 28, 'x', 9216);
    memcpy(big + 28 + 9216, "\r\n\r\n", 4);
    cr_assert_eq(gw_http_parse(&r, big, 28 + 9216 + 4, &lim), GW_PARSE_ERROR);
    cr_assert_eq(r.status, 431);
    /* ...also when only the first 8 KiB have arrived */
    cr_assert_eq(gw_http_parse(&r, big, 8192, &lim), GW_PARSE_ERROR);
    cr_assert_eq(r.status, 431);
    cr_assert_eq(gw_http_parse(&r, big, 8191, &lim), GW_PARSE_AGAIN);
}

Test(gw_http, exact_limit_is_accepted)
{
    static char buf[8192];
    struct gw_request r;
    size_t head = strlen("GET / HTTP/1.1\r\nHost: a\r\nX: ");
    memcpy(buf, "GET / HTTP/1.1\r\nHost: a\r\nX: ", head);
    size_t fill = sizeof(buf) - head - 4;
    memset(buf + head, 'v', fill);
    memcpy(buf + head + fill, "\r\n\r\n", 4);
    cr_assert_eq(gw_http_parse(&r, buf, sizeof(buf), &lim), GW_PARSE_DONE, "a head of exactly max_header_bytes fits");
    cr_assert_eq(r.head_len, sizeof(buf));
}

Test(gw_http, target_forms)
{
    struct gw_request r;
    cr_assert_eq(parse(&r, "GET http://h.example:8080/files/a?b=c HTTP/1.1\r\nHost: x\r\n\r\n"), GW_PARSE_DONE);
    cr_assert_eq(r.form, GW_TARGET_ABSOLUTE);
    cr_assert_eq(r.path.len, 8);
    cr_assert_eq(memcmp(r.path.base, "/files/a", 8), 0);
    cr_assert_eq(r.query.len, 3);
    cr_assert_eq(memcmp(r.query.base, "b=c", 3), 0);
    cr_assert_eq(parse(&r, "GET http://h?q HTTP/1.1\r\nHost: x\r\n\r\n"), GW_PARSE_DONE);
    cr_assert_eq(r.path.len, 1, "an empty path is /");
    cr_assert_eq(r.path.base[0], '/');
    cr_assert_eq(r.query.len, 1);
    cr_assert_eq(parse(&r, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"), GW_PARSE_DONE);
    cr_assert_eq(r.form, GW_TARGET_ASTERISK);
    cr_assert_eq(r.path.len, 0);
    cr_assert_eq(parse(&r, "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"), GW_PARSE_DONE);
    cr_assert_eq(r.form, GW_TARGET_AUTHORITY);
    cr_assert_eq(parse(&r, "GET /a HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"), GW_PARSE_DONE);
    cr_assert_eq(r.form, GW_TARGET_ORIGIN);
    cr_assert_eq(r.host.len, 8);
    expect_error("GET h:443 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed request target");
    expect_error("GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400, "'*' is a request target for OPTIONS only");
    expect_error("GET http:/x HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed request target");
    expect_error("GET http:///a HTTP/1.1\r\nHost: x\r\n\r\n", 400, "invalid authority in request target");
    expect_error("GET mailto://x/a HTTP/1.1\r\nHost: x\r\n\r\n", 400, "request target has a scheme other than http or https");
    expect_error("GET http://ev.#a/b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "fragment in request target");
    expect_error("GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "fragment in request target");
}

Test(gw_http, authority_grammar)
{
    static const char *const good[] = {"",      "a",      "a.b-c_d~e",         "a%20b",    "!$&'()*+,;=", "1.2.3.4:0", "x:65535",
                                       "[::1]", "[::1]:", "[2001:db8::1]:443", "[v7.a:b]", "x:"};
    static const char *const bad[] = {"a b", "a/b",   "a@b",   "a%2",    "a%zz",  "x:65536", "x:000001", "x:a", "[::1", "[::g]",
                                      "[]",  "[v.x]", "[v1.]", "[::1]x", "a:1:2", "a\"b",    "a?b",      "a#b", "a[b]"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cr_assert(gw_http_authority_valid((struct gw_view){good[i], strlen(good[i])}), "refused: %s", good[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert(!gw_http_authority_valid((struct gw_view){bad[i], strlen(bad[i])}), "accepted: %s", bad[i]);
    }
    expect_error("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "invalid Host header");
}

Test(gw_http, transfer_codings)
{
    struct gw_request r;
    cr_assert_eq(parse(&r, "POST /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n"), GW_PARSE_DONE);
    cr_assert(r.has_body);
    cr_assert_eq(parse(&r, "POST /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,chunked;x=1 ,\r\n\r\n"), GW_PARSE_DONE);
    cr_assert(r.has_body);
    expect_error("GET /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "unsupported transfer coding");
    expect_error("GET /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: br\r\n\r\n", 501,
                 "unsupported transfer coding");
    expect_error("GET /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400,
                 "chunked must be the last transfer coding, once");
    expect_error("GET /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n\r\n", 400, "malformed Transfer-Encoding");
    expect_error("GET /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked x\r\n\r\n", 400, "malformed Transfer-Encoding");
    expect_error("GET /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\n", 400,
                 "both Transfer-Encoding and Content-Length");
}

Test(gw_http, known_methods)
{
    cr_assert(gw_http_method_known((struct gw_view){"GET", 3}));
    cr_assert(gw_http_method_known((struct gw_view){"PATCH", 5}));
    cr_assert(!gw_http_method_known((struct gw_view){"get", 3}), "methods are case-sensitive");
    cr_assert(!gw_http_method_known((struct gw_view){"BREW", 4}));
    struct gw_request r;
    cr_assert_eq(parse(&r, "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n"), GW_PARSE_DONE, "legal syntax parses; the handler says 501");
}

Test(gw_http, traceparent)
{
    static const char *const good[] = {
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-future",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09",
    };
    static const char *const bad[] = {
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", /* version 00 has no more fields */
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   /* version ff is invalid */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   /* all-zero trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   /* all-zero parent id */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   /* uppercase */
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",    /* short trace id */
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  /* no '-' after the known fields */
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   /* separator */
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cr_assert(gw_http_traceparent_valid((struct gw_view){good[i], strlen(good[i])}), "refused: %s", good[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert(!gw_http_traceparent_valid((struct gw_view){bad[i], strlen(bad[i])}), "accepted: %s", bad[i]);
    }
    struct gw_request r;
    cr_assert_eq(
        parse(&r, "GET / HTTP/1.1\r\nHost: x\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n"),
        GW_PARSE_DONE);
    cr_assert_eq(r.traceparent.len, 55);
    cr_assert_eq(parse(&r, "GET / HTTP/1.1\r\nHost: x\r\nTraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
                           "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n"),
                 GW_PARSE_DONE);
    cr_assert_eq(r.traceparent.len, 0, "a repeated traceparent is not passed on");
    cr_assert_eq(parse(&r, "GET / HTTP/1.1\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n"),
                 GW_PARSE_ERROR);
    cr_assert_eq(r.traceparent.len, 0, "nor one from a head that failed");
}
