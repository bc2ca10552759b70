/* gw_cors.c: CORS for redirects and preflights (Fetch standard, "CORS protocol"; RFC 6454 for origins). */
#include "gw_cors.h"

#include <string.h>

#include "gw_ascii.h"

static bool eq_nocase(struct sgn_view a, const char *b, size_t n)
{
    return gw_ascii_eq_nocase(a.base, a.len, b, n);
}

const char *gw_cors_origin_check(struct sgn_view o)
{
    if (o.len == 1 && o.base[0] == '*') {
        return NULL;
    }
    if (o.len > GW_CORS_ORIGIN_MAX) {
        return "origin too long";
    }
    size_t i;
    bool https;
    if (o.len > 8 && eq_nocase((struct sgn_view){o.base, 8}, "https://", 8)) {
        i = 8;
        https = true;
    } else if (o.len > 7 && eq_nocase((struct sgn_view){o.base, 7}, "http://", 7)) {
        i = 7;
        https = false;
    } else {
        return "origin must be http://host[:port] or https://host[:port]";
    }
    size_t host = i;
    if (o.base[i] == '[') { /* IPv6 literal */
        while (i < o.len && o.base[i] != ']') {
            unsigned char c = gw_ascii_lower((unsigned char)o.base[i]);
            if (i > host && !(c == ':' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return "origin: bad IPv6 literal";
            }
            i++;
        }
        if (i == o.len || i == host + 1) {
            return "origin: bad IPv6 literal";
        }
        i++;
    } else {
        while (i < o.len && o.base[i] != ':') {
            unsigned char c = gw_ascii_lower((unsigned char)o.base[i]);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
                return "origin: host may hold only letters, digits, '-' and '.' (no path, no trailing '/')";
            }
            i++;
        }
        if (i == host || o.base[host] == '.' || o.base[i - 1] == '.') {
            return "origin: empty host or a host that starts or ends with '.'";
        }
    }
    if (i == o.len) {
        return NULL;
    }
    if (o.base[i] != ':') {
        return "origin: no path, query or trailing '/' allowed";
    }
    i++;
    unsigned long port = 0;
    size_t digits = o.len - i;
    if (digits == 0 || digits > 5 || o.base[i] == '0') {
        return "origin: port must be 1..65535";
    }
    for (; i < o.len; i++) {
        if (o.base[i] < '0' || o.base[i] > '9') {
            return "origin: port must be 1..65535 (no path, no trailing '/')";
        }
        port = port * 10 + (unsigned long)(o.base[i] - '0');
    }
    if (port > 65535) {
        return "origin: port must be 1..65535";
    }
    if (port == (https ? 443u : 80u)) {
        return "origin: drop the default port, browsers never send it";
    }
    return NULL;
}

bool gw_cors_origin_allowed(const struct gw_cors_policy *pol, struct sgn_view origin)
{
    if (origin.base == NULL || origin.len == 0 || origin.len > GW_CORS_ORIGIN_MAX) {
        return false;
    }
    if (pol->any) {
        return true;
    }
    for (size_t i = 0; i < pol->n_origins; i++) {
        if (eq_nocase(origin, pol->origins[i].base, pol->origins[i].len)) {
            return true;
        }
    }
    return false;
}

static void allow_origin(struct sgn_buf *out, const struct gw_cors_policy *pol, struct sgn_view origin)
{
    sgn_buf_lit(out, "Access-Control-Allow-Origin: ");
    if (pol->any) {
        sgn_buf_char(out, '*');
    } else {
        sgn_buf_view(out, origin);
    }
    sgn_buf_lit(out, "\r\n");
}

/* Request headers a cross-origin download may carry beyond the CORS-safelisted ones. */
static const char *const safe_headers[] = {"range",    "if-match", "if-none-match",   "if-modified-since", "if-unmodified-since",
                                           "if-range", "accept",   "accept-language", "content-language",  "cache-control"};

static bool safe_header(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof(safe_headers) / sizeof(safe_headers[0]); i++) {
        if (eq_nocase((struct sgn_view){s, n}, safe_headers[i], strlen(safe_headers[i]))) {
            return true;
        }
    }
    return false;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

const char *gw_cors_preflight(struct sgn_buf *out, const struct gw_cors_policy *pol, struct sgn_view origin, struct sgn_view method,
                              struct sgn_view req_headers)
{
    struct sgn_view names[GW_CORS_REQ_HEADERS_MAX];
    size_t n_names = 0;
    const char *reason = NULL;
    if (!gw_cors_origin_allowed(pol, origin)) {
        reason = "CORS: origin not allowed";
    } else if (!(method.len == 3 && memcmp(method.base, "GET", 3) == 0) &&
               !(method.len == 4 && memcmp(method.base, "HEAD", 4) == 0)) {
        reason = "CORS: only GET and HEAD are allowed";
    }
    /* Access-Control-Request-Headers: a comma-separated list of header names, OWS around commas */
    size_t i = 0;
    while (reason == NULL && req_headers.base != NULL && i < req_headers.len) {
        while (i < req_headers.len && (is_ows(req_headers.base[i]) || req_headers.base[i] == ',')) {
            i++;
        }
        size_t s = i;
        while (i < req_headers.len && req_headers.base[i] != ',' && !is_ows(req_headers.base[i])) {
            i++;
        }
        if (i == s) {
            break;
        }
        if (!safe_header(req_headers.base + s, i - s)) {
            reason = "CORS: a requested header is not allowed";
        } else if (n_names == GW_CORS_REQ_HEADERS_MAX) {
            reason = "CORS: too many requested headers";
        } else {
            names[n_names++] = (struct sgn_view){req_headers.base + s, i - s};
        }
    }
    if (reason == NULL) {
        allow_origin(out, pol, origin);
        sgn_buf_lit(out, "Access-Control-Allow-Methods: GET, HEAD\r\n");
        if (n_names > 0) {
            sgn_buf_lit(out, "Access-Control-Allow-Headers: ");
            for (size_t k = 0; k < n_names; k++) {
                if (k > 0) {
                    sgn_buf_lit(out, ", ");
                }
                for (size_t c = 0; c < names[k].len; c++) {
                    sgn_buf_char(out, (char)gw_ascii_lower((unsigned char)names[k].base[c]));
                }
            }
            sgn_buf_lit(out, "\r\n");
        }
        sgn_buf_lit(out, "Access-Control-Max-Age: ");
        sgn_buf_u64(out, pol->max_age_s);
        sgn_buf_lit(out, "\r\n");
    }
    sgn_buf_lit(out, "Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers\r\n");
    return reason;
}

void gw_cors_redirect(struct sgn_buf *out, const struct gw_cors_policy *pol, struct sgn_view origin)
{
    if (gw_cors_origin_allowed(pol, origin)) {
        allow_origin(out, pol, origin);
    }
    sgn_buf_lit(out, "Vary: Origin\r\n");
}
