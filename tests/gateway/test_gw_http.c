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
