/* test_gw_fetch.c: the outbound HTTP/1.1 client and the TLS module (gateway/net) against loopback servers: a scripted
 * server on a thread (slow, silent, hostile answers) and `openssl s_server` on a PKI made by the test. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creds_testlib.h"
#include "gw_fetch.h"
#include "gw_tls.h"

static char url_buf[256];

static const char *local_url(int port, const char *path)
{
    snprintf(url_buf, sizeof(url_buf), "http://127.0.0.1:%d%s", port, path);
    return url_buf;
}

/* ---- URL ---- */

Test(gw_url, parses_the_forms_we_need)
{
    struct gw_url u;
    char err[256];
    const char *s = "https://sts.cn-hangzhou.aliyuncs.com/?Action=AssumeRole&Format=JSON";
    cr_assert_eq(gw_url_parse(&u, s, strlen(s), err, sizeof(err)), 0, "%s", err);
    cr_assert(u.tls);
    cr_assert_str_eq(u.host, "sts.cn-hangzhou.aliyuncs.com");
    cr_assert_eq(u.port, 443);
    cr_assert(u.default_port);
    cr_assert_eq(u.target_len, strlen("/?Action=AssumeRole&Format=JSON"));
    s = "http://100.100.100.200";
    cr_assert_eq(gw_url_parse(&u, s, strlen(s), err, sizeof(err)), 0, "%s", err);
    cr_assert(!u.tls);
    cr_assert_eq(u.port, 80);
    cr_assert_eq(u.target_len, 1);
    cr_assert_eq(u.target[0], '/');
    s = "http://[::1]:8080/latest/api/token";
    cr_assert_eq(gw_url_parse(&u, s, strlen(s), err, sizeof(err)), 0, "%s", err);
    cr_assert(u.ipv6);
    cr_assert_str_eq(u.host, "::1");
    cr_assert_eq(u.port, 8080);
    cr_assert(!u.default_port);
    s = "http://h?x=1";
    cr_assert_eq(gw_url_parse(&u, s, strlen(s), err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(u.target[0], '?');
}

Test(gw_url, rejects_with_a_reason)
{
    static const char *const bad[][2] = {
        {"ftp://h/", "scheme"},
        {"HTTP://h/", "scheme"},
        {"http://", "host is 0 bytes"},
        {"http://:80/", "host is 0 bytes"},
        {"http://u:p@h/", "user info"},
        {"http://[::1/", "unclosed ["},
        {"http://[zz]/", "not an IPv6"},
        {"http://h_x/", "outside [A-Za-z0-9.-]"},
        {"http://h:0/", "port"},
        {"http://h:65536/", "port"},
        {"http://h:123456/", "port"},
        {"http://h:/", "port"},
        {"http://h:8a/", "port"},
        {"http://h/a b", "printable ASCII"},
        {"http://h/a\x01", "printable ASCII"},
        {"http://h/a#frag", "fragment"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct gw_url u;
        char err[256] = "";
        cr_assert_eq(gw_url_parse(&u, bad[i][0], strlen(bad[i][0]), err, sizeof(err)), -1, "%s accepted", bad[i][0]);
        cr_assert_not_null(strstr(err, bad[i][1]), "%s: \"%s\" lacks \"%s\"", bad[i][0], err, bad[i][1]);
    }
    char host[300];
    memset(host, 'a', sizeof(host));
    memcpy(host, "http://", 7);
    cr_assert_eq(gw_url_parse(&(struct gw_url){0}, host, 7 + 254, (char[64]){0}, 64), -1);
    cr_assert_eq(gw_url_parse(&(struct gw_url){0}, host, 7 + 253, (char[64]){0}, 64), 0);
    static char longurl[GW_FETCH_MAX_URL + 2];
    memset(longurl, 'a', sizeof(longurl));
    memcpy(longurl, "http://h/", 9);
    cr_assert_eq(gw_url_parse(&(struct gw_url){0}, longurl, GW_FETCH_MAX_URL, (char[64]){0}, 64), 0);
    cr_assert_eq(gw_url_parse(&(struct gw_url){0}, longurl, GW_FETCH_MAX_URL + 1, (char[64]){0}, 64), -1);
}

/* ---- response parsing ---- */

static enum gw_fetch_parse parse(const char *raw, size_t len, bool eof, bool head, int *status, char *body, size_t cap, size_t *n,
                                 char *err)
{
    return gw_fetch_parse_response(raw, len, eof, head, status, body, cap, n, err, 256);
}

Test(gw_fetch_parse, framings_fed_byte_by_byte)
{
    static const char *const ok[][2] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3;x=y\r\nllo\r\n0\r\nT: v\r\n\r\n", "hello"},
        {"HTTP/1.0 404 Not Found\r\ncontent-length:  3 \r\n\r\nnot", "not"},
        {"HTTP/1.1 500\r\nContent-Length: 0\r\n\r\n", ""},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        const char *raw = ok[i][0];
        size_t len = strlen(raw);
        char body[64], err[256] = "";
        int status;
        size_t n;
        for (size_t k = 0; k < len; k++) {
            cr_assert_eq(parse(raw, k, false, false, &status, body, sizeof(body), &n, err), GW_FETCH_PARSE_MORE,
                         "case %zu at %zu: %s", i, k, err);
        }
        cr_assert_eq(parse(raw, len, false, false, &status, body, sizeof(body), &n, err), GW_FETCH_PARSE_DONE, "case %zu: %s", i,
                     err);
        cr_assert_eq(n, strlen(ok[i][1]));
        cr_assert_eq(memcmp(body, ok[i][1], n), 0);
    }
    /* Close-delimited: only the end of the connection completes it. */
    const char *raw = "HTTP/1.1 200 OK\r\n\r\nabc";
    char body[64], err[256];
    int status;
    size_t n;
    cr_assert_eq(parse(raw, strlen(raw), false, false, &status, body, sizeof(body), &n, err), GW_FETCH_PARSE_MORE);
    cr_assert_eq(parse(raw, strlen(raw), true, false, &status, body, sizeof(body), &n, err), GW_FETCH_PARSE_DONE);
    cr_assert_eq(status, 200);
    cr_assert_eq(n, 3);
    /* HEAD: no body whatever Content-Length says. */
    raw = "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
    cr_assert_eq(parse(raw, strlen(raw), false, true, &status, body, sizeof(body), &n, err), GW_FETCH_PARSE_DONE);
    cr_assert_eq(n, 0);
}

Test(gw_fetch_parse, rejects_malformed_and_oversized)
{
    static const char *const bad[][2] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n", "65 bytes is over 64"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n", "over 64 bytes"},
        {"HTTP/2 200\r\n\r\n", "status line"},
        {"HTTP/1.1 2000 OK\r\n\r\n", "status line"},
        {"HTTP/1.1 100 Continue\r\n\r\n", "interim 100"},
        {"HTTP/1.1 200 OK\r\n folded\r\n\r\n", "folded"},
        {"HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n", "without a name"},
        {"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "header name"},
        {"HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n", "control byte"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "conflicting"},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "Transfer-Encoding"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", "both"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size line"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n123456789\r\n", "8 hex digits"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", "not followed by CRLF"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char body[64], err[256] = "";
        int status;
        size_t n;
        cr_assert_eq(parse(bad[i][0], strlen(bad[i][0]), false, false, &status, body, sizeof(body), &n, err), GW_FETCH_PARSE_ERROR,
                     "case %zu accepted", i);
        cr_assert_not_null(strstr(err, bad[i][1]), "case %zu: \"%s\" lacks \"%s\"", i, err, bad[i][1]);
    }
    /* Truncations are errors at the end of the connection. */
    static const char *const cut[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        "HTTP/1.1 200 OK\r\nContent-",
        "",
    };
    for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
        char body[64], err[256] = "";
        int status;
        size_t n;
        cr_assert_eq(parse(cut[i], strlen(cut[i]), true, false, &status, body, sizeof(body), &n, err), GW_FETCH_PARSE_ERROR,
                     "cut %zu accepted", i);
    }
    /* Headers over the cap. */
    static char big[GW_FETCH_MAX_HEAD + 1];
    memset(big, 'a', sizeof(big));
    char body[64], err[256] = "";
    int status;
    size_t n;
    cr_assert_eq(parse(big, sizeof(big), false, false, &status, body, sizeof(body), &n, err), GW_FETCH_PARSE_ERROR);
    cr_assert_not_null(strstr(err, "headers over"), "%s", err);
}

/* ---- over loopback ---- */

static int fetch(struct gw_fetch_response *r, const char *method, const char *url, unsigned total_ms, char *err)
{
    static const struct gw_fetch_header h[] = {{"X-aliyun-ecs-metadata-token-ttl-seconds", "21600"}};
    struct gw_fetch_request req = {
        .method = method, .url = url, .headers = h, .n_headers = 1, .connect_timeout_ms = 1000, .total_timeout_ms = total_ms};
    if (strcmp(method, "POST") == 0) {
        req.body = "a=1&b=2";
        req.body_len = 7;
    }
    return gw_fetch(r, &req, err, 256);
}

Test(gw_fetch, request_and_response_over_tcp)
{
    static struct ct_server s = {.response =
                                     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ntok-\r\n3\r\nen1\r\n0\r\n\r\n"};
    ct_server_start(&s);
    struct gw_fetch_response r;
    char err[256] = "";
    cr_assert_eq(fetch(&r, "POST", local_url(s.port, "/latest/api/token?x=1"), 2000, err), 0, "%s", err);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "tok-en1");
    gw_fetch_response_cleanup(&r);
    ct_server_stop(&s);
    char expect[128];
    snprintf(expect, sizeof(expect), "POST /latest/api/token?x=1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n", s.port);
    cr_assert_eq(strncmp(s.request, expect, strlen(expect)), 0, "%s", s.request);
    cr_assert_not_null(strstr(s.request, "\r\nX-aliyun-ecs-metadata-token-ttl-seconds: 21600\r\n"));
    cr_assert_not_null(strstr(s.request, "\r\nContent-Length: 7\r\n\r\na=1&b=2"));
}

Test(gw_fetch, hostile_servers_cost_at_most_the_timeout)
{
    struct {
        const char *what;
        struct ct_server s;
        const char *reason;
    } cases[] = {
        {"silent", {.silent = true}, "timed out"},
        {"trickle", {.response = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", .trickle_ms = 50}, "timed out"},
        {"10 MiB, close-delimited", {.response = "HTTP/1.1 200 OK\r\n\r\n", .big_body = 10u << 20}, "over 65536"},
        {"10 MiB, announced",
         {.response = "HTTP/1.1 200 OK\r\nContent-Length: 10485760\r\n\r\n", .big_body = 10u << 20},
         "over 65536"},
        {"garbage", {.response = "\x16\x03\x01garbage\r\n\r\n"}, "status line"},
        {"closes at once", {.response = ""}, "closed before"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ct_server *s = &cases[i].s;
        ct_server_start(s);
        struct gw_fetch_response r;
        char err[256] = "";
        long long t0 = ct_mono_ms();
        cr_assert_eq(fetch(&r, "GET", local_url(s->port, "/secret?SecurityToken=TOPSECRET"), 700, err), -1, "%s accepted",
                     cases[i].what);
        long long took = ct_mono_ms() - t0;
        ct_server_stop(s);
        cr_assert_lt(took, 1500, "%s took %lld ms", cases[i].what, took);
        cr_assert_not_null(strstr(err, cases[i].reason), "%s: \"%s\" lacks \"%s\"", cases[i].what, err, cases[i].reason);
        cr_assert_null(strstr(err, "TOPSECRET"), "%s", err);
        cr_assert_null(strstr(err, "/secret"), "%s", err);
        cr_assert_null(r.body);
    }
}

Test(gw_fetch, refused_connection_and_bad_requests)
{
    struct ct_server s = {0};
    ct_server_start(&s);
    int port = s.port;
    ct_server_stop(&s); /* the port is closed now */
    struct gw_fetch_response r;
    char err[256] = "";
    cr_assert_eq(fetch(&r, "GET", local_url(port, "/"), 1000, err), -1);
    cr_assert_not_null(strstr(err, "connect: Connection refused"), "%s", err);
    cr_assert_eq(fetch(&r, "DELETE", local_url(port, "/"), 1000, err), -1);
    cr_assert_not_null(strstr(err, "method"), "%s", err);
    struct gw_fetch_header inj[] = {{"X", "a\r\nInjected: 1"}};
    struct gw_fetch_request req = {
        .method = "GET", .url = local_url(port, "/"), .headers = inj, .n_headers = 1, .total_timeout_ms = 500};
    cr_assert_eq(gw_fetch(&r, &req, err, sizeof(err)), -1);
    cr_assert_not_null(strstr(err, "request header 0"), "%s", err);
    req.n_headers = 0;
    req.url = "https://127.0.0.1:1/";
    cr_assert_eq(gw_fetch(&r, &req, err, sizeof(err)), -1);
}

/* ---- TLS ---- */

struct tls_fixture {
    pid_t pid;
    int port;
};

static void tls_start(struct tls_fixture *f, const char *leaf, const char *const *extra)
{
    const char *pki = ct_pki();
    char path[128], cert[128], key[128];
    snprintf(path, sizeof(path), "%s/hello.txt", pki);
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fputs("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", fp);
    fclose(fp);
    snprintf(cert, sizeof(cert), "%s/%s.crt", pki, leaf);
    snprintf(key, sizeof(key), "%s/%s.key", pki, leaf);
    f->pid = ct_s_server(pki, cert, key, &f->port, extra);
}

static int tls_get(struct gw_tls_ctx *ctx, const char *host, int port, char *err)
{
    char url[128];
    snprintf(url, sizeof(url), "https://%s:%d/hello.txt", host, port);
    struct gw_fetch_request req = {.method = "GET", .url = url, .tls = ctx, .connect_timeout_ms = 1000, .total_timeout_ms = 3000};
    struct gw_fetch_response r;
    int rc = gw_fetch(&r, &req, err, 256);
    if (rc == 0) {
        cr_assert_eq(r.status, 200);
        cr_assert_str_eq(r.body, "hello");
    }
    gw_fetch_response_cleanup(&r);
    return rc;
}

Test(gw_tls, verifies_the_peer_and_its_name)
{
    char ca[128], err[256] = "";
    snprintf(ca, sizeof(ca), "%s/ca.crt", ct_pki());
    struct gw_tls_ctx *ctx = gw_tls_client_ctx_new(ca, err, sizeof(err));
    cr_assert_not_null(ctx, "%s", err);
    struct tls_fixture good, other, rogue;
    tls_start(&good, "localhost", NULL);
    tls_start(&other, "other", NULL);
    tls_start(&rogue, "rogue", NULL);

    cr_assert_eq(tls_get(ctx, "localhost", good.port, err), 0, "%s", err);
    cr_assert_eq(tls_get(ctx, "127.0.0.1", good.port, err), 0, "IP SAN: %s", err);
    cr_assert_eq(tls_get(ctx, "localhost", other.port, err), -1);
    cr_assert_not_null(strstr(err, "certificate verify failed"), "%s", err);
    cr_assert_eq(tls_get(ctx, "localhost", rogue.port, err), -1);
    cr_assert_not_null(strstr(err, "certificate verify failed"), "%s", err);

    /* The system bundle does not know the test CA. */
    struct gw_tls_ctx *sys = gw_tls_client_ctx_new(NULL, err, sizeof(err));
    cr_assert_not_null(sys, "%s", err);
    cr_assert_eq(tls_get(sys, "localhost", good.port, err), -1);
    cr_assert_not_null(strstr(err, "certificate verify failed"), "%s", err);
    gw_tls_ctx_free(sys);

    /* https without a context, and plain HTTP to a TLS port: errors, not hangs. */
    cr_assert_eq(tls_get(NULL, "localhost", good.port, err), -1);
    cr_assert_not_null(strstr(err, "without a TLS context"), "%s", err);
    struct gw_fetch_response r;
    cr_assert_eq(fetch(&r, "GET", local_url(good.port, "/hello.txt"), 1000, err), -1);

    ct_kill(good.pid);
    ct_kill(other.pid);
    ct_kill(rogue.pid);
    gw_tls_ctx_free(ctx);
    ct_pki_remove();
}

Test(gw_tls, refuses_tls_1_1_and_speaks_1_3)
{
    char ca[128], err[256] = "";
    snprintf(ca, sizeof(ca), "%s/ca.crt", ct_pki());
    struct gw_tls_ctx *ctx = gw_tls_client_ctx_new(ca, err, sizeof(err));
    cr_assert_not_null(ctx, "%s", err);
    static const char *const old[] = {"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", NULL};
    struct tls_fixture f;
    tls_start(&f, "localhost", old);
    cr_assert_eq(tls_get(ctx, "localhost", f.port, err), -1);
    cr_assert_not_null(strstr(err, "TLS handshake"), "%s", err);
    ct_kill(f.pid);
    static const char *const v12[] = {"-tls1_2", NULL};
    tls_start(&f, "localhost", v12);
    cr_assert_eq(tls_get(ctx, "localhost", f.port, err), 0, "%s", err);
    ct_kill(f.pid);
    gw_tls_ctx_free(ctx);
    ct_pki_remove();
}

Test(gw_tls, bad_ca_file)
{
    char err[256] = "";
    cr_assert_null(gw_tls_client_ctx_new("/nonexistent/ca.pem", err, sizeof(err)));
    cr_assert_not_null(strstr(err, "CA file /nonexistent/ca.pem"), "%s", err);
}
