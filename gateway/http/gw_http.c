/* gw_http.c: the request-head parser. It follows RFC 9112 strictly where leniency has been a source of request
 * smuggling or injection (bare CR, obs-fold, spaces before the colon, duplicate Content-Length or Host, a
 * Transfer-Encoding it cannot frame) and leniently only where the RFC allows (bare LF line ends, a leading empty line,
 * empty list elements). */
#include "gw_http.h"

#include <arpa/inet.h>
#include <string.h>

/* Character classes: RFC 9110 tchar, and RFC 3986 reg-name bytes (unreserved and sub-delims; '%' is checked apart). */
enum { C_TCHAR = 1, C_REGNAME = 2 };
#define T (C_TCHAR)
#define R (C_REGNAME)
#define TR (C_TCHAR | C_REGNAME)
static const unsigned char cls[256] = {
    ['!'] = TR, ['#'] = T,  ['$'] = TR, ['%'] = T,  ['&'] = TR, ['\''] = TR, ['('] = R,  [')'] = R,  ['*'] = TR, ['+'] = TR,
    [','] = R,  ['-'] = TR, ['.'] = TR, [';'] = R,  ['='] = R,  ['^'] = T,   ['_'] = TR, ['`'] = T,  ['|'] = T,  ['~'] = TR,
    ['0'] = TR, ['1'] = TR, ['2'] = TR, ['3'] = TR, ['4'] = TR, ['5'] = TR,  ['6'] = TR, ['7'] = TR, ['8'] = TR, ['9'] = TR,
    ['A'] = TR, ['B'] = TR, ['C'] = TR, ['D'] = TR, ['E'] = TR, ['F'] = TR,  ['G'] = TR, ['H'] = TR, ['I'] = TR, ['J'] = TR,
    ['K'] = TR, ['L'] = TR, ['M'] = TR, ['N'] = TR, ['O'] = TR, ['P'] = TR,  ['Q'] = TR, ['R'] = TR, ['S'] = TR, ['T'] = TR,
    ['U'] = TR, ['V'] = TR, ['W'] = TR, ['X'] = TR, ['Y'] = TR, ['Z'] = TR,  ['a'] = TR, ['b'] = TR, ['c'] = TR, ['d'] = TR,
    ['e'] = TR, ['f'] = TR, ['g'] = TR, ['h'] = TR, ['i'] = TR, ['j'] = TR,  ['k'] = TR, ['l'] = TR, ['m'] = TR, ['n'] = TR,
    ['o'] = TR, ['p'] = TR, ['q'] = TR, ['r'] = TR, ['s'] = TR, ['t'] = TR,  ['u'] = TR, ['v'] = TR, ['w'] = TR, ['x'] = TR,
    ['y'] = TR, ['z'] = TR,
};
#undef T
#undef R
#undef TR

#define MAX_METHOD 32

static bool is_tchar(char c)
{
    return (cls[(unsigned char)c] & C_TCHAR) != 0;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

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

static bool view_is(struct gw_view v, const char *lit)
{
    return v.len == strlen(lit) && memcmp(v.base, lit, v.len) == 0;
}

bool gw_http_method_known(struct gw_view m)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (view_is(m, known[i])) {
            return true;
        }
    }
    return false;
}

static bool lower_hex(const char *s, size_t n, bool nonzero)
{
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
        any |= s[i] != '0';
    }
    return any || !nonzero;
}

bool gw_http_traceparent_valid(struct gw_view v)
{
    const char *s = v.base;
    if (v.len < 55 || (v.len > 55 && s[55] != '-') || s[2] != '-' || s[35] != '-' || s[52] != '-') {
        return false;
    }
    if (!lower_hex(s, 2, false) || (s[0] == 'f' && s[1] == 'f') || (s[0] == '0' && s[1] == '0' && v.len != 55)) {
        return false;
    }
    return lower_hex(s + 3, 32, true) && lower_hex(s + 36, 16, true) && lower_hex(s + 53, 2, false);
}

/* ip_literal checks the inside of "[...]": an IPv6 address (RFC 4291 text form) or an IPvFuture. */
static bool ip_literal(const char *s, size_t n)
{
    if (n >= 2 && (s[0] == 'v' || s[0] == 'V')) {
        size_t i = 1;
        while (i < n && is_hex(s[i])) {
            i++;
        }
        if (i == 1 || i >= n - 1 || s[i] != '.') {
            return false;
        }
        for (i++; i < n; i++) {
            if ((cls[(unsigned char)s[i]] & C_REGNAME) == 0 && s[i] != ':') {
                return false;
            }
        }
        return true;
    }
    char text[64];
    struct in6_addr a;
    if (n < 2 || n >= sizeof(text)) {
        return false;
    }
    memcpy(text, s, n);
    text[n] = '\0';
    return inet_pton(AF_INET6, text, &a) == 1;
}

bool gw_http_authority_valid(struct gw_view v)
{
    if (v.len == 0) {
        return true; /* and v.base may be NULL */
    }
    const char *s = v.base;
    const char *end = v.base + v.len;

    if (s < end && *s == '[') {
        const char *close = memchr(s, ']', v.len);
        if (close == NULL || !ip_literal(s + 1, (size_t)(close - s - 1))) {
            return false;
        }
        s = close + 1;
    } else {
        while (s < end && *s != ':') {
            if (*s == '%') {
                if (end - s < 3 || !is_hex(s[1]) || !is_hex(s[2])) {
                    return false;
                }
                s += 3;
            } else if ((cls[(unsigned char)*s] & C_REGNAME) != 0) {
                s++;
            } else {
                return false;
            }
        }
    }
    if (s == end) {
        return true;
    }
    if (*s != ':' || end - s > 6) {
        return false;
    }
    unsigned port = 0;
    for (s++; s < end; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
        port = port * 10 + (unsigned)(*s - '0');
    }
    return port <= 65535;
}

/* split_path_query sets the path and query views from `p` (the path's first byte) to the target's end. */
static void split_path_query(struct gw_request *r, const char *p)
{
    const char *end = r->target.base + r->target.len;
    const char *q = memchr(p, '?', (size_t)(end - p));
    if (q == NULL) {
        r->path = (struct gw_view){p, (size_t)(end - p)};
        r->query = (struct gw_view){end, 0};
    } else {
        r->path = (struct gw_view){p, (size_t)(q - p)};
        r->query = (struct gw_view){q + 1, (size_t)(end - q - 1)};
    }
}

/* parse_target classifies the request target (RFC 9112 section 3.2) and sets the path and query. */
static enum gw_parse parse_target(struct gw_request *r)
{
    const char *t = r->target.base;
    const char *end = t + r->target.len;

    if (t[0] == '/') {
        r->form = GW_TARGET_ORIGIN;
        split_path_query(r, t);
        return GW_PARSE_DONE;
    }
    if (r->target.len == 1 && t[0] == '*') {
        if (!view_is(r->method, "OPTIONS")) {
            return fail(r, 400, "'*' is a request target for OPTIONS only");
        }
        r->form = GW_TARGET_ASTERISK;
        r->path = r->query = (struct gw_view){end, 0};
        return GW_PARSE_DONE;
    }
    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
    const char *s = t;
    if (is_alpha(*s)) {
        while (s < end && (is_alpha(*s) || (*s >= '0' && *s <= '9') || *s == '+' || *s == '-' || *s == '.')) {
            s++;
        }
    }
    if (s > t && end - s >= 3 && memcmp(s, "://", 3) == 0) {
        if (!ieq(t, (size_t)(s - t), "http") && !ieq(t, (size_t)(s - t), "https")) {
            return fail(r, 400, "request target has a scheme other than http or https");
        }
        const char *a = s + 3;
        const char *a_end = a;
        while (a_end < end && *a_end != '/' && *a_end != '?') {
            a_end++;
        }
        if (a_end == a || !gw_http_authority_valid((struct gw_view){a, (size_t)(a_end - a)})) {
            return fail(r, 400, "invalid authority in request target");
        }
        r->form = GW_TARGET_ABSOLUTE;
        split_path_query(r, a_end);
        if (r->path.len == 0) {
            r->path = (struct gw_view){"/", 1}; /* an empty path is "/" (RFC 9112 section 3.2.1) */
        }
        return GW_PARSE_DONE;
    }
    if (view_is(r->method, "CONNECT") && gw_http_authority_valid(r->target)) {
        r->form = GW_TARGET_AUTHORITY;
        r->path = r->query = (struct gw_view){end, 0};
        return GW_PARSE_DONE;
    }
    return fail(r, 400, "malformed request target");
}

/* parse_request_line reads `method SP request-target SP HTTP-version` (RFC 9112 section 3). */
static enum gw_parse parse_request_line(struct gw_request *r, const char *p, size_t n, const struct gw_http_limits *lim)
{
    const char *end = p + n;
    const char *s = p;

    while (s < end && is_tchar(*s)) {
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
    if (memchr(t, '#', r->target.len) != NULL) {
        return fail(r, 400, "fragment in request target"); /* RFC 9112 section 3.2: a target has none */
    }
    s++;
    size_t vlen = (size_t)(end - s);
    if (vlen != 8 || memcmp(s, "HTTP/", 5) != 0 || s[6] != '.' || s[5] < '0' || s[5] > '9' || s[7] < '0' || s[7] > '9') {
        return fail(r, 400, "malformed HTTP version");
    }
    if (s[5] != '1') {
        return fail(r, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
    }
    r->minor = s[7] == '0' ? 0 : 1;
    return parse_target(r);
}

/* struct fields is what the header fields say about framing and the connection, gathered across all of them. */
struct fields {
    bool has_host;
    bool has_length;
    uint64_t length;
    bool saw_close;
    bool saw_keep;
    unsigned traceparents;
    struct gw_view traceparent;
    bool te_present;   /* a Transfer-Encoding field, even an empty one */
    bool te_malformed; /* an element that is not `coding *( OWS ";" OWS param )` */
    bool te_unknown;   /* a coding other than chunked */
    bool te_last_chunked;
    unsigned te_chunked; /* how often chunked is named, over every Transfer-Encoding field */
};

/* list_next returns the next element of a comma-separated list in v[*i..n) (RFC 9110 section 5.6.1), skipping empty
 * elements; its length is 0 at the end. */
static struct gw_view list_next(const char *v, size_t n, size_t *i)
{
    while (*i < n && (is_ows(v[*i]) || v[*i] == ',')) {
        (*i)++;
    }
    size_t start = *i;
    while (*i < n && v[*i] != ',') {
        (*i)++;
    }
    size_t stop = *i;
    while (stop > start && is_ows(v[stop - 1])) {
        stop--;
    }
    return (struct gw_view){v + start, stop - start};
}

/* connection_tokens notes the close and keep-alive options of one Connection field. */
static void connection_tokens(struct fields *f, const char *v, size_t n)
{
    size_t i = 0;
    for (struct gw_view e = list_next(v, n, &i); e.len > 0; e = list_next(v, n, &i)) {
        if (ieq(e.base, e.len, "close")) {
            f->saw_close = true;
        } else if (ieq(e.base, e.len, "keep-alive")) {
            f->saw_keep = true;
        }
    }
}

/* transfer_codings notes the codings of one Transfer-Encoding field: `coding *( OWS ";" OWS param )` elements. */
static void transfer_codings(struct fields *f, const char *v, size_t n)
{
    size_t i = 0;
    f->te_present = true;
    for (struct gw_view e = list_next(v, n, &i); e.len > 0; e = list_next(v, n, &i)) {
        size_t name_len = 0;
        while (name_len < e.len && is_tchar(e.base[name_len])) {
            name_len++;
        }
        size_t rest = name_len;
        while (rest < e.len && is_ows(e.base[rest])) {
            rest++;
        }
        if (name_len == 0 || (rest < e.len && e.base[rest] != ';')) {
            f->te_malformed = true;
        }
        bool chunked = ieq(e.base, name_len, "chunked");
        f->te_chunked += chunked;
        f->te_unknown |= !chunked;
        f->te_last_chunked = chunked;
    }
}

static enum gw_parse content_length(struct gw_request *r, struct fields *f, const char *v, size_t vlen)
{
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
    if (f->has_length && val != f->length) {
        return fail(r, 400, "conflicting Content-Length headers");
    }
    f->has_length = true;
    f->length = val;
    return GW_PARSE_DONE;
}

/* header_field parses one field line `name ":" OWS value OWS` and applies what the server acts on. */
static enum gw_parse header_field(struct gw_request *r, struct fields *f, const char *p, size_t n)
{
    const char *line_stop = p + n;
    const char *s = p;

    if (*p == ' ' || *p == '\t') {
        return fail(r, 400, "obsolete header line folding");
    }
    while (s < line_stop && is_tchar(*s)) {
        s++;
    }
    if (s == p || s == line_stop || *s != ':') {
        return fail(r, 400, "malformed header field");
    }
    size_t name_len = (size_t)(s - p);
    s++;
    while (s < line_stop && is_ows(*s)) {
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
    while (vend > v && is_ows(vend[-1])) {
        vend--;
    }
    size_t vlen = (size_t)(vend - v);

    if (ieq(p, name_len, "host")) {
        if (f->has_host) {
            return fail(r, 400, "more than one Host header");
        }
        r->host = (struct gw_view){v, vlen};
        if (!gw_http_authority_valid(r->host)) {
            return fail(r, 400, "invalid Host header");
        }
        f->has_host = true;
    } else if (ieq(p, name_len, "content-length")) {
        return content_length(r, f, v, vlen);
    } else if (ieq(p, name_len, "transfer-encoding")) {
        transfer_codings(f, v, vlen);
    } else if (ieq(p, name_len, "connection")) {
        connection_tokens(f, v, vlen);
    } else if (ieq(p, name_len, "traceparent")) {
        f->traceparents++;
        f->traceparent = (struct gw_view){v, vlen};
    }
    return GW_PARSE_DONE;
}

/* finish_head decides the body framing (RFC 9112 section 6), the Host rule and persistence. */
static enum gw_parse finish_head(struct gw_request *r, const struct fields *f)
{
    if (f->te_present && f->has_length) {
        return fail(r, 400, "both Transfer-Encoding and Content-Length");
    }
    if (f->te_present && (f->te_malformed || (f->te_chunked == 0 && !f->te_unknown))) {
        return fail(r, 400, "malformed Transfer-Encoding");
    }
    if (f->te_unknown) {
        return fail(r, 501, "unsupported transfer coding");
    }
    if (f->te_present && (f->te_chunked != 1 || !f->te_last_chunked)) {
        return fail(r, 400, "chunked must be the last transfer coding, once");
    }
    r->has_body = f->te_present || f->length > 0;
    if (r->minor == 1 && !f->has_host) {
        return fail(r, 400, "HTTP/1.1 request without Host");
    }
    r->keep_alive = r->minor == 1 ? !f->saw_close : (f->saw_keep && !f->saw_close);
    /* Only a whole head's one valid traceparent is passed on (never one from a head that failed to parse). */
    if (f->traceparents == 1 && gw_http_traceparent_valid(f->traceparent)) {
        r->traceparent = f->traceparent;
    }
    return GW_PARSE_DONE;
}

enum gw_parse gw_http_parse(struct gw_request *r, const char *buf, size_t len, const struct gw_http_limits *lim)
{
    const char *p = buf;
    const char *end;
    const char *lf;
    size_t n;
    bool bad_cr;
    struct fields f = {0};

    memset(r, 0, sizeof(*r));
    /* Only the first max_header_bytes can belong to an acceptable head. */
    end = buf + (len < lim->max_header_bytes ? len : lim->max_header_bytes);

    /* RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line. */
    if (p < end && *p == '\n') {
        p++;
    } else if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
        p += 2;
    }

    /* The request line. */
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

    /* The header fields, up to the empty line. */
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
        if (++r->n_headers > lim->max_headers) {
            return fail(r, 431, "too many header fields");
        }
        if (header_field(r, &f, p, n) != GW_PARSE_DONE) {
            return GW_PARSE_ERROR;
        }
        p = lf + 1;
    }

    if (finish_head(r, &f) != GW_PARSE_DONE) {
        return GW_PARSE_ERROR;
    }
    r->head_len = (size_t)(p - buf);
    return GW_PARSE_DONE;
}
