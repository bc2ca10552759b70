/* test_gw_cors.c: origin rules, preflight answers and redirect headers (gateway/policy/gw_cors.h). */
#include <string.h>

#include <criterion/criterion.h>

#include "gw_cors.h"

static struct sgn_view v(const char *s)
{
    return (struct sgn_view){s, strlen(s)};
}

static const struct sgn_view origins[] = {SGN_VIEW_LIT("https://www.example.com"), SGN_VIEW_LIT("http://localhost:8080"),
                                          SGN_VIEW_LIT("https://[::1]:8443")};
static const struct gw_cors_policy pol = {origins, 3, false, 600};
static const struct gw_cors_policy star = {NULL, 0, true, 60};

Test(gw_cors, config_origins_accepted)
{
    static const char *const ok[] = {"*",
                                     "https://www.example.com",
                                     "HTTPS://WWW.Example.COM",
                                     "http://localhost:8080",
                                     "http://127.0.0.1:1",
                                     "https://a.b-c.d:65535",
                                     "https://[::1]",
                                     "https://[2001:db8::1]:8443",
                                     "http://example.com:443",
                                     "https://example.com:80"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        const char *r = gw_cors_origin_check(v(ok[i]));
        cr_assert_null(r, "%s: %s", ok[i], r);
    }
}

Test(gw_cors, config_origins_refused)
{
    static const struct {
        const char *in, *needle;
    } bad[] = {
        {"", "must be http"},
        {"null", "must be http"},
        {"ftp://example.com", "must be http"},
        {"example.com", "must be http"},
        {"https://", "must be http"},
        {"https://www.example.com/", "no path"},
        {"https://www.example.com/path", "no path"},
        {"https://user@example.com", "only letters"},
        {"https://exa_mple.com", "only letters"},
        {"https://.example.com", "starts or ends"},
        {"https://example.com.", "starts or ends"},
        {"https://example.com:", "port must be"},
        {"https://example.com:0", "port must be"},
        {"https://example.com:08080", "port must be"},
        {"https://example.com:65536", "port must be"},
        {"https://example.com:123456", "port must be"},
        {"https://example.com:80/x", "port must be"},
        {"https://example.com:443", "default port"},
        {"http://example.com:80", "default port"},
        {"https://[::1", "IPv6"},
        {"https://[]", "IPv6"},
        {"https://[::g]", "IPv6"},
        {"https://[::1]x", "no path"},
        {"**", "must be http"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *r = gw_cors_origin_check(v(bad[i].in));
        cr_assert_not_null(r, "%s accepted", bad[i].in);
        cr_assert(strstr(r, bad[i].needle) != NULL, "%s: %s", bad[i].in, r);
    }
    char big[GW_CORS_ORIGIN_MAX + 10] = "https://";
    memset(big + 8, 'a', GW_CORS_ORIGIN_MAX);
    cr_assert_str_eq(gw_cors_origin_check(v(big)), "origin too long");
}

Test(gw_cors, origin_matching)
{
    cr_assert(gw_cors_origin_allowed(&pol, v("https://www.example.com")));
    cr_assert(gw_cors_origin_allowed(&pol, v("https://WWW.EXAMPLE.com")));
    cr_assert(gw_cors_origin_allowed(&pol, v("HTTPS://www.example.com")));
    cr_assert(gw_cors_origin_allowed(&pol, v("http://localhost:8080")));
    cr_assert(gw_cors_origin_allowed(&pol, v("https://[::1]:8443")));
    cr_assert_not(gw_cors_origin_allowed(&pol, v("http://www.example.com")));
    cr_assert_not(gw_cors_origin_allowed(&pol, v("https://www.example.com:443")));
    cr_assert_not(gw_cors_origin_allowed(&pol, v("https://www.example.com/")));
    cr_assert_not(gw_cors_origin_allowed(&pol, v("https://www.example.co")));
    cr_assert_not(gw_cors_origin_allowed(&pol, v("https://www.example.com.evil.net")));
    cr_assert_not(gw_cors_origin_allowed(&pol, v("https://evil-www.example.com")));
    cr_assert_not(gw_cors_origin_allowed(&pol, v("http://localhost:8081")));
    cr_assert_not(gw_cors_origin_allowed(&pol, v("http://localhost")));
    cr_assert_not(gw_cors_origin_allowed(&pol, v("null")));
    cr_assert_not(gw_cors_origin_allowed(&pol, v("")));
    cr_assert_not(gw_cors_origin_allowed(&pol, (struct sgn_view){NULL, 0}));
    cr_assert(gw_cors_origin_allowed(&star, v("https://anything.example")));
    cr_assert(gw_cors_origin_allowed(&star, v("null")));
    cr_assert_not(gw_cors_origin_allowed(&star, (struct sgn_view){NULL, 0}));
}

static char hbuf[2048];

static const char *preflight(const struct gw_cors_policy *p, const char *origin, const char *method, const char *req,
                             struct sgn_buf *b)
{
    sgn_buf_init(b, hbuf, sizeof(hbuf));
    return gw_cors_preflight(b, p, v(origin), v(method), req != NULL ? v(req) : (struct sgn_view){NULL, 0});
}

#define VARY_PRE "Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers\r\n"

Test(gw_cors, preflight_allowed)
{
    struct sgn_buf b;
    cr_assert_null(preflight(&pol, "https://www.example.com", "GET", NULL, &b));
    cr_assert_str_eq(hbuf, "Access-Control-Allow-Origin: https://www.example.com\r\n"
                           "Access-Control-Allow-Methods: GET, HEAD\r\n"
                           "Access-Control-Max-Age: 600\r\n" VARY_PRE);
    cr_assert_null(preflight(&pol, "http://localhost:8080", "HEAD", "Range, if-none-match,If-Modified-Since", &b));
    cr_assert_str_eq(hbuf, "Access-Control-Allow-Origin: http://localhost:8080\r\n"
                           "Access-Control-Allow-Methods: GET, HEAD\r\n"
                           "Access-Control-Allow-Headers: range, if-none-match, if-modified-since\r\n"
                           "Access-Control-Max-Age: 600\r\n" VARY_PRE);
    cr_assert_null(preflight(&pol, "https://www.example.com", "GET",
                             "if-match,if-unmodified-since,if-range,accept,accept-language,content-language,cache-control", &b));
    cr_assert_null(preflight(&pol, "https://www.example.com", "GET", "", &b));
    cr_assert_null(preflight(&pol, "https://www.example.com", "GET", " , ", &b));
    cr_assert(strstr(hbuf, "Allow-Headers") == NULL);
    cr_assert_null(preflight(&star, "https://x.example", "GET", NULL, &b));
    cr_assert_str_eq(hbuf, "Access-Control-Allow-Origin: *\r\n"
                           "Access-Control-Allow-Methods: GET, HEAD\r\n"
                           "Access-Control-Max-Age: 60\r\n" VARY_PRE);
}

Test(gw_cors, preflight_refused)
{
    struct sgn_buf b;
    static const struct {
        const char *origin, *method, *req, *needle;
    } bad[] = {
        {"https://evil.example", "GET", NULL, "origin not allowed"},
        {"null", "GET", NULL, "origin not allowed"},
        {"https://www.example.com", "POST", NULL, "only GET and HEAD"},
        {"https://www.example.com", "get", NULL, "only GET and HEAD"},
        {"https://www.example.com", "PUT", NULL, "only GET and HEAD"},
        {"https://www.example.com", "", NULL, "only GET and HEAD"},
        {"https://www.example.com", "GET", "authorization", "header is not allowed"},
        {"https://www.example.com", "GET", "range, x-custom", "header is not allowed"},
        {"https://www.example.com", "GET", "content-type", "header is not allowed"},
        {"https://www.example.com", "GET", "rangex", "header is not allowed"},
        {"https://www.example.com", "GET",
         "range,range,range,range,range,range,range,range,range,range,range,range,range,range,range,range,range",
         "too many requested headers"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *r = preflight(&pol, bad[i].origin, bad[i].method, bad[i].req, &b);
        cr_assert_not_null(r, "%zu accepted", i);
        cr_assert(strstr(r, bad[i].needle) != NULL, "%zu: %s", i, r);
        cr_assert_str_eq(hbuf, VARY_PRE, "%zu: %s", i, hbuf);
    }
}

Test(gw_cors, redirect_headers)
{
    struct sgn_buf b;
    sgn_buf_init(&b, hbuf, sizeof(hbuf));
    gw_cors_redirect(&b, &pol, v("https://www.example.com"));
    cr_assert_str_eq(hbuf, "Access-Control-Allow-Origin: https://www.example.com\r\nVary: Origin\r\n");
    sgn_buf_init(&b, hbuf, sizeof(hbuf));
    gw_cors_redirect(&b, &pol, v("https://evil.example"));
    cr_assert_str_eq(hbuf, "Vary: Origin\r\n");
    sgn_buf_init(&b, hbuf, sizeof(hbuf));
    gw_cors_redirect(&b, &pol, (struct sgn_view){NULL, 0});
    cr_assert_str_eq(hbuf, "Vary: Origin\r\n");
    sgn_buf_init(&b, hbuf, sizeof(hbuf));
    gw_cors_redirect(&b, &star, v("https://a.example"));
    cr_assert_str_eq(hbuf, "Access-Control-Allow-Origin: *\r\nVary: Origin\r\n");
    char small[20];
    sgn_buf_init(&b, small, sizeof(small));
    gw_cors_redirect(&b, &pol, v("https://www.example.com"));
    cr_assert(b.overflow);
}
