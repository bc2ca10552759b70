/* fuzz_http.c: libFuzzer target for gw_http_parse, the request-head parser. The input is a byte stream as a client sends
 * it on one connection: heads are parsed one after another, each time from where the previous one ended (pipelining),
 * under two sets of limits (the defaults, and the smallest the config allows, so 414 and 431 are reached). Every result
 * is checked against the parser's contract in gw_http.h, and each complete head is re-parsed from every prefix worth
 * trying, in a buffer of exactly that size, so a read past `len` is caught by ASan and a parser that decides before
 * the head is complete is caught by the invariant. Deterministic: no clock, no RNG, no globals. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_http.h"
#include "fuzz_check.h"

static const struct gw_http_limits limit_sets[] = {
    {8192, 4096, 100}, /* the defaults */
    {256, 64, 2},      /* the smallest max_header_bytes and max_uri_bytes the config accepts, and few headers */
};

static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* inside is true when the view lies within [base, base + len). An empty view may sit at the end. */
static bool inside(struct gw_view v, const char *base, size_t len)
{
    return v.base != NULL && v.base >= base && v.base <= base + len && v.len <= (size_t)(base + len - v.base);
}

static void check_reason(const char *reason)
{
    CHECK(reason != NULL);
    size_t n = strlen(reason);
    CHECK(n > 0 && n < 120);
    /* It becomes a response body line and an access-log field: printable ASCII only. */
    for (size_t i = 0; i < n; i++) {
        CHECK(reason[i] >= 0x20 && reason[i] < 0x7f);
    }
}

/* check_target: the target's form decides the path: origin is path ['?' query] == target; absolute is
 * scheme "://" authority, then the same (an empty path reads "/"); asterisk and authority have none. */
static void check_target(const struct gw_request *r)
{
    const char *t = r->target.base;
    const char *end = t + r->target.len;
    const char *rest = t;

    switch (r->form) {
    case GW_TARGET_ORIGIN:
        CHECK(t[0] == '/' && r->path.base == t);
        break;
    case GW_TARGET_ABSOLUTE: {
        const char *sep = memchr(t, ':', r->target.len);
        CHECK(sep != NULL && end - sep >= 3 && memcmp(sep, "://", 3) == 0);
        rest = sep + 3;
        while (rest < end && *rest != '/' && *rest != '?') {
            rest++;
        }
        CHECK(gw_http_authority_valid((struct gw_view){sep + 3, (size_t)(rest - sep - 3)}));
        CHECK(r->path.len > 0 && r->path.base[0] == '/');
        if (rest == end || *rest != '/') {
            CHECK(r->path.len == 1); /* the empty path */
            CHECK(r->query.len == 0 || r->query.base == rest + 1);
            return;
        }
        CHECK(r->path.base == rest);
        break;
    }
    case GW_TARGET_ASTERISK:
        CHECK(r->target.len == 1 && t[0] == '*' && r->method.len == 7 && memcmp(r->method.base, "OPTIONS", 7) == 0);
        CHECK(r->path.len == 0 && r->query.len == 0);
        return;
    case GW_TARGET_AUTHORITY:
        CHECK(r->method.len == 7 && memcmp(r->method.base, "CONNECT", 7) == 0 && gw_http_authority_valid(r->target));
        CHECK(r->path.len == 0 && r->query.len == 0);
        return;
    default:
        abort();
    }
    CHECK(r->path.base + r->path.len <= end && memchr(r->path.base, '?', r->path.len) == NULL);
    if (r->path.base + r->path.len < end) {
        CHECK(r->path.base[r->path.len] == '?');
        CHECK(r->query.base == r->path.base + r->path.len + 1 && r->query.base + r->query.len == end);
    } else {
        CHECK(r->query.len == 0);
    }
}

static void check_result(enum gw_parse st, const struct gw_request *r, const char *buf, size_t len,
                         const struct gw_http_limits *lim)
{
    switch (st) {
    case GW_PARSE_AGAIN:
        /* A full buffer must be decided: the server's input buffer holds max_header_bytes and no more. */
        CHECK(len < lim->max_header_bytes);
        return;
    case GW_PARSE_ERROR:
        CHECK(r->status == 400 || r->status == 414 || r->status == 431 || r->status == 501 || r->status == 505);
        check_reason(r->reason);
        return;
    case GW_PARSE_DONE:
        break;
    default:
        abort();
    }
    CHECK(r->head_len > 0 && r->head_len <= len && r->head_len <= lim->max_header_bytes);
    /* A head ends with an empty line. */
    CHECK(buf[r->head_len - 1] == '\n');
    CHECK(r->head_len >= 2 &&
          (buf[r->head_len - 2] == '\n' || (buf[r->head_len - 2] == '\r' && r->head_len >= 3 && buf[r->head_len - 3] == '\n')));
    CHECK(inside(r->method, buf, r->head_len) && inside(r->target, buf, r->head_len));
    CHECK(inside(r->query, buf, r->head_len));
    CHECK(r->method.len > 0 && r->method.len <= 32);
    for (size_t i = 0; i < r->method.len; i++) {
        CHECK(is_tchar((unsigned char)r->method.base[i]));
    }
    CHECK(r->target.len > 0 && r->target.len <= lim->max_uri_bytes && memchr(r->target.base, '#', r->target.len) == NULL);
    for (size_t i = 0; i < r->target.len; i++) {
        unsigned char c = (unsigned char)r->target.base[i];
        CHECK(c > 0x20 && c != 0x7f);
    }
    check_target(r);
    CHECK(r->host.len == 0 || inside(r->host, buf, r->head_len));
    CHECK(gw_http_authority_valid(r->host));
    CHECK(r->traceparent.len == 0 || (inside(r->traceparent, buf, r->head_len) && gw_http_traceparent_valid(r->traceparent)));
    CHECK(r->minor == 0 || r->minor == 1);
    CHECK(r->n_headers <= lim->max_headers);
    CHECK(r->status == 0 && r->reason == NULL);
}

/* parse_copy parses the first `len` bytes of `src` from a buffer of exactly that size. */
static enum gw_parse parse_copy(struct gw_request *r, const char *src, size_t len, const struct gw_http_limits *lim)
{
    char *copy = malloc(len > 0 ? len : 1);
    CHECK(copy != NULL);
    memcpy(copy, src, len);
    enum gw_parse st = gw_http_parse(r, copy, len, lim);
    check_result(st, r, copy, len, lim);
    free(copy);
    return st;
}

/* check_prefixes: a complete head parses the same alone, and no proper prefix of it is a complete head or an error. A
 * prefix worth trying ends near a line end; the others are sampled. */
static void check_prefixes(const char *head, size_t head_len, const struct gw_request *full, const struct gw_http_limits *lim)
{
    struct gw_request r;

    CHECK(parse_copy(&r, head, head_len, lim) == GW_PARSE_DONE);
    CHECK(r.head_len == full->head_len && r.minor == full->minor && r.keep_alive == full->keep_alive &&
          r.has_body == full->has_body && r.n_headers == full->n_headers && r.method.len == full->method.len &&
          r.target.len == full->target.len);
    size_t stride = head_len / 16 + 1;
    for (size_t p = 0; p < head_len; p++) {
        bool near_eol = head[p] == '\n' || head[p] == '\r' || (p > 0 && (head[p - 1] == '\n' || head[p - 1] == '\r'));
        if (!near_eol && p % stride != 0 && p + 3 < head_len) {
            continue;
        }
        CHECK(parse_copy(&r, head, p, lim) == GW_PARSE_AGAIN);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;

    for (size_t l = 0; l < sizeof(limit_sets) / sizeof(limit_sets[0]); l++) {
        const struct gw_http_limits *lim = &limit_sets[l];
        size_t off = 0;
        /* As the server does: parse, answer, drop head_len bytes, parse the rest. */
        while (off < size) {
            struct gw_request r;
            enum gw_parse st = gw_http_parse(&r, buf + off, size - off, lim);
            check_result(st, &r, buf + off, size - off, lim);
            if (st != GW_PARSE_DONE) {
                break;
            }
            check_prefixes(buf + off, r.head_len, &r, lim);
            off += r.head_len;
        }
        CHECK(off <= size);
    }
    return 0;
}
