/* gw_http.c: the request-head parser. It follows RFC 9112 strictly where leniency has been a source of request
 * smuggling or injection (bare CR, obs-fold, spaces before the colon, duplicate Content-Length or Host) and leniently
 * only where the RFC allows (bare LF line ends, a leading empty line). */
#include "gw_http.h"

#include <string.h>

/* RFC 9110 tchar */
static const unsigned char tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1,
    ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1, ['0'] = 1, ['1'] = 1,  ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
    ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1,  ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,  ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1,
    ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1,  ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1,
    ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,  ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1,
    ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,  ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

#define MAX_METHOD 32

static enum gw_parse fail(struct gw_request *r, uint16_t status, const char *reason)
{
    r->status = status;
    r->reason = reason;
    return GW_PARSE_ERROR;
}

/* line_end finds the end of the line at `p`: the LF, and the length without CRLF or LF. Returns NULL when there is no
 * LF before `end`; sets `*bad_cr` for a CR that is not right before the LF. */
static const char *line_end(const char *p, const char *end, size_t *content_len, bool *bad_cr)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    if (lf == NULL) {
        return NULL;
    }
    size_t n = (size_t)(lf - p);
    if (n > 0 && p[n - 1] == '\r') {
        n--;
    }
    *bad_cr = memchr(p, '\r', n) != NULL;
    *content_len = n;
    return lf;
}

static bool ieq(const char *a, size_t n, const char *lit)
{
    if (strlen(lit) != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c + 32);
        }
        if (c != lit[i]) {
            return false;
        }
    }
    return true;
}

/* connection_tokens applies the tokens of one Connection header. */
static void connection_tokens(struct gw_request *r, const char *v, size_t n, bool *saw_close, bool *saw_keep)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) {
            i++;
        }
        size_t start = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t') {
            i++;
        }
        if (ieq(v + start, i - start, "close")) {
            *saw_close = true;
        } else if (ieq(v + start, i - start, "keep-alive")) {
            *saw_keep = true;
        }
    }
    (void)r;
}

static enum gw_parse parse_request_line(struct gw_request *r, const char *p, size_t n, const struct gw_http_limits *lim)
{
    const char *end = p + n;
    const char *s = p;

    while (s < end && tchar[(unsigned char)*s]) {
        s++;
    }
    if (s == p || s == end || *s != ' ') {
        return fail(r, 400, "malformed request line");
    }
    if (s - p > MAX_METHOD) {
        return fail(r, 400, "method too long");
    }
    r->method = (struct gw_view){p, (size_t)(s - p)};
    const char *t = ++s;
    while (s < end && (unsigned char)*s > 0x20 && (unsigned char)*s != 0x7f) {
        s++;
    }
    if (s == t || s == end || *s != ' ') {
        if (s < end && (((unsigned char)*s < 0x20 && *s != ' ') || (unsigned char)*s == 0x7f)) {
            return fail(r, 400, "control character in request target");
        }
        return fail(r, 400, "malformed request line");
    }
    if ((size_t)(s - t) > lim->max_uri_bytes) {
        return fail(r, 414, "request target too long");
    }
    r->target = (struct gw_view){t, (size_t)(s - t)};
    s++;
    size_t vlen = (size_t)(end - s);
    if (vlen != 8 || memcmp(s, "HTTP/", 5) != 0 || s[6] != '.' || s[5] < '0' || s[5] > '9' || s[7] < '0' || s[7] > '9') {
        return fail(r, 400, "malformed HTTP version");
    }
    if (s[5] != '1') {
        return fail(r, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
    }
    r->minor = s[7] == '0' ? 0 : 1;
    return GW_PARSE_DONE;
}

enum gw_parse gw_http_parse(struct gw_request *r, const char *buf, size_t len, const struct gw_http_limits *lim)
{
    const char *p = buf;
    const char *end;
    const char *lf;
    size_t n;
    bool bad_cr;
    bool saw_close = false;
    bool saw_keep = false;
    bool has_host = false;
    bool has_length = false;
    uint64_t length = 0;

    memset(r, 0, sizeof(*r));
    /* Only the first max_header_bytes can belong to an acceptable head. */
    end = buf + (len < lim->max_header_bytes ? len : lim->max_header_bytes);

    /* RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line. */
    if (p < end && *p == '\n') {
        p++;
    } else if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
        p += 2;
    }
    lf = line_end(p, end, &n, &bad_cr);
    if (lf == NULL) {
        if ((size_t)(end - p) > (size_t)lim->max_uri_bytes + MAX_METHOD + 12) {
            return fail(r, 414, "request line too long");
        }
        if (len >= lim->max_header_bytes) {
            return fail(r, 431, "request header too large");
        }
        return GW_PARSE_AGAIN;
    }
    if (bad_cr) {
        return fail(r, 400, "bare CR in request line");
    }
    if (parse_request_line(r, p, n, lim) != GW_PARSE_DONE) {
        return GW_PARSE_ERROR;
    }
    p = lf + 1;

    for (;;) {
        lf = line_end(p, end, &n, &bad_cr);
        if (lf == NULL) {
            if (len >= lim->max_header_bytes) {
                return fail(r, 431, "request header too large");
            }
            return GW_PARSE_AGAIN;
        }
        if (bad_cr) {
            return fail(r, 400, "bare CR in header");
        }
        if (n == 0) {
            p = lf + 1;
            break;
        }
        if (*p == ' ' || *p == '\t') {
            return fail(r, 400, "obsolete header line folding");
        }
        if (++r->n_headers > lim->max_headers) {
            return fail(r, 431, "too many header fields");
        }
        const char *name = p;
        const char *s = p;
        const char *line_stop = p + n;
        while (s < line_stop && tchar[(unsigned char)*s]) {
            s++;
        }
        if (s == name || s == line_stop || *s != ':') {
            return fail(r, 400, "malformed header field");
        }
        size_t name_len = (size_t)(s - name);
        s++;
        while (s < line_stop && (*s == ' ' || *s == '\t')) {
            s++;
        }
        const char *v = s;
        for (const char *c = v; c < line_stop; c++) {
            unsigned char ch = (unsigned char)*c;
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                return fail(r, 400, "control character in header value");
            }
        }
        const char *vend = line_stop;
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t')) {
            vend--;
        }
        size_t vlen = (size_t)(vend - v);

        if (ieq(name, name_len, "host")) {
            if (has_host) {
                return fail(r, 400, "more than one Host header");
            }
            has_host = true;
        } else if (ieq(name, name_len, "content-length")) {
            uint64_t val = 0;
            if (vlen == 0 || vlen > 18) {
                return fail(r, 400, "invalid Content-Length");
            }
            for (size_t i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9') {
                    return fail(r, 400, "invalid Content-Length");
                }
                val = val * 10 + (uint64_t)(v[i] - '0');
            }
            if (has_length && val != length) {
                return fail(r, 400, "conflicting Content-Length headers");
            }
            has_length = true;
            length = val;
        } else if (ieq(name, name_len, "transfer-encoding")) {
            r->has_body = true;
        } else if (ieq(name, name_len, "connection")) {
            connection_tokens(r, v, vlen, &saw_close, &saw_keep);
        }
        p = lf + 1;
    }
    if (r->has_body && has_length) {
        return fail(r, 400, "both Transfer-Encoding and Content-Length");
    }
    if (length > 0) {
        r->has_body = true;
    }
    if (r->minor == 1 && !has_host) {
        return fail(r, 400, "HTTP/1.1 request without Host");
    }
    r->keep_alive = r->minor == 1 ? !saw_close : (saw_keep && !saw_close);
    r->head_len = (size_t)(p - buf);

    const char *q = memchr(r->target.base, '?', r->target.len);
    if (q != NULL) {
        r->path = (struct gw_view){r->target.base, (size_t)(q - r->target.base)};
        r->query = (struct gw_view){q + 1, r->target.len - r->path.len - 1};
    } else {
        r->path = r->target;
        r->query = (struct gw_view){r->target.base + r->target.len, 0};
    }
    return GW_PARSE_DONE;
}
