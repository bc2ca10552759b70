/* sgn_presign.c: presigned URLs for OSS V4 (sections 1-6 of docs/oss-v4-presign.md), OSS V1 (section 7) and S3 SigV4
 * (section 8). Everything lives on the stack or in the caller's buffer; the canonical request is hashed as it is
 * produced, so its size never needs storage of its own. */
#include "sgn.h"

#include <stdint.h>
#include <string.h>

#include "sgn_buf.h"
#include "sgn_crypto.h"

#define MAX_QUERY (SGN_MAX_PARAMS + 8) /* the caller's parameters plus the ones a mode adds */
#define MAX_SIGNED_HEADERS (SGN_MAX_HEADERS + 1)

static const char *const status_text[] = {
    [SGN_OK] = "ok",
    [SGN_ERR_NO_SPACE] = "output buffer too small",
    [SGN_ERR_MODE] = "unknown signing mode or addressing style",
    [SGN_ERR_METHOD] = "method must be 1..16 upper-case letters",
    [SGN_ERR_ENDPOINT] = "endpoint must be host[:port] of at most 255 bytes",
    [SGN_ERR_REGION] = "region must be 1..64 bytes of a-z, 0-9 and '-'",
    [SGN_ERR_BUCKET] = "bucket name must be 3..63 bytes of a-z, 0-9 and '-', starting and ending with a letter or digit",
    [SGN_ERR_KEY] = "object key must be 1..1023 bytes",
    [SGN_ERR_EXPIRES] = "expires must be 1..604800 seconds",
    [SGN_ERR_TIME] = "signing time out of range",
    [SGN_ERR_CREDENTIALS] = "access key id and secret must be 1..256 bytes, security token at most 8192",
    [SGN_ERR_PARAMS] = "too many or malformed query parameters or headers, or a reserved parameter name",
};

const char *sgn_strerror(enum sgn_status st)
{
    if ((size_t)st >= sizeof(status_text) / sizeof(status_text[0]) || status_text[st] == NULL) {
        return "unknown error";
    }
    return status_text[st];
}

/* One query parameter of the URL. `bare` marks an empty value, which OSS signs as the bare name (section 3, step 3).
 * `ename` and `evalue` are enc(name) and enc(value) when known without encoding (nothing to escape, or encoded once
 * already), else base NULL: the canonical request and the URL then encode them as they write them. */
struct qparam {
    struct sgn_view name;
    struct sgn_view value;
    struct sgn_view ename;
    struct sgn_view evalue;
    bool bare;
};

/* One signed header, its name lower-cased into `lname` and its value trimmed. */
struct hparam {
    struct sgn_view name;
    struct sgn_view value;
    char lname[SGN_MAX_NAME];
};

struct signing {
    const struct sgn_params *p;
    struct sgn_view region; /* p->region, less an "oss-" prefix for OSS */
    char datetime[17];      /* YYYYMMDDTHHMMSSZ */
    struct qparam q[MAX_QUERY];
    size_t n_q;
    size_t n_own;                   /* q[0..n_own) are the mode's own parameters, added in sorted order */
    uint8_t canon_order[MAX_QUERY]; /* q in canonical order (section 3, step 3) */
    uint8_t url_order[MAX_QUERY];   /* q in URL order (section 3, step 6) */
    struct hparam h[MAX_SIGNED_HEADERS];
    size_t n_h;
    char credential[SGN_MAX_ID + 128];
    char credential_enc[3 * SGN_MAX_ID + 128];
    char expires[24];
    char signed_names[MAX_SIGNED_HEADERS * (SGN_MAX_NAME + 1)];
    char host[SGN_MAX_ENDPOINT + 72]; /* only when the host is signed */
    struct sgn_view key_enc;          /* encPath(key), written once into the URL and read back for the canonical request */
    char signature[65];
    bool overflow; /* a bounded piece did not fit: cannot happen within the validated bounds */
};

/* ---- input validation (section 1, section 4) ---- */

/* Character classes of the validated fields, one bit each, looked up once per byte. */
enum {
    CLS_UPPER = 1,       /* A-Z: a method */
    CLS_LOWER_DIGIT = 2, /* a-z 0-9: a bucket's first and last byte */
    CLS_REGION = 4,      /* a-z 0-9 -: a region, the rest of a bucket */
    CLS_HOST = 8,        /* A-Z a-z 0-9 - . _ : [ ]: an endpoint, host[:port] */
    CLS_TCHAR = 16,      /* RFC 9110 tchar: a header or parameter name */
};

#define C_UP (CLS_UPPER | CLS_HOST | CLS_TCHAR)
#define C_LD (CLS_LOWER_DIGIT | CLS_REGION | CLS_HOST | CLS_TCHAR)
#define C_DASH (CLS_REGION | CLS_HOST | CLS_TCHAR)
#define C_HT (CLS_HOST | CLS_TCHAR)
#define C_H CLS_HOST
#define C_T CLS_TCHAR
/* clang-format off */
static const unsigned char char_class[256] = {
    ['!'] = C_T, ['#'] = C_T, ['$'] = C_T, ['%'] = C_T, ['&'] = C_T, ['\''] = C_T, ['*'] = C_T, ['+'] = C_T,
    ['-'] = C_DASH, ['.'] = C_HT, ['0'] = C_LD, ['1'] = C_LD, ['2'] = C_LD, ['3'] = C_LD, ['4'] = C_LD, ['5'] = C_LD,
    ['6'] = C_LD, ['7'] = C_LD, ['8'] = C_LD, ['9'] = C_LD, [':'] = C_H, ['A'] = C_UP, ['B'] = C_UP, ['C'] = C_UP,
    ['D'] = C_UP, ['E'] = C_UP, ['F'] = C_UP, ['G'] = C_UP, ['H'] = C_UP, ['I'] = C_UP, ['J'] = C_UP, ['K'] = C_UP,
    ['L'] = C_UP, ['M'] = C_UP, ['N'] = C_UP, ['O'] = C_UP, ['P'] = C_UP, ['Q'] = C_UP, ['R'] = C_UP, ['S'] = C_UP,
    ['T'] = C_UP, ['U'] = C_UP, ['V'] = C_UP, ['W'] = C_UP, ['X'] = C_UP, ['Y'] = C_UP, ['Z'] = C_UP, ['['] = C_H,
    [']'] = C_H, ['^'] = C_T, ['_'] = C_HT, ['`'] = C_T, ['a'] = C_LD, ['b'] = C_LD, ['c'] = C_LD, ['d'] = C_LD,
    ['e'] = C_LD, ['f'] = C_LD, ['g'] = C_LD, ['h'] = C_LD, ['i'] = C_LD, ['j'] = C_LD, ['k'] = C_LD, ['l'] = C_LD,
    ['m'] = C_LD, ['n'] = C_LD, ['o'] = C_LD, ['p'] = C_LD, ['q'] = C_LD, ['r'] = C_LD, ['s'] = C_LD, ['t'] = C_LD,
    ['u'] = C_LD, ['v'] = C_LD, ['w'] = C_LD, ['x'] = C_LD, ['y'] = C_LD, ['z'] = C_LD, ['|'] = C_T, ['~'] = C_T,
};
/* clang-format on */

/* all_of is true when every byte of `v` is in one of the classes of `mask`. */
static bool all_of(struct sgn_view v, unsigned mask)
{
    for (size_t i = 0; i < v.len; i++) {
        if ((char_class[(unsigned char)v.base[i]] & mask) == 0) {
            return false;
        }
    }
    return true;
}

static bool is_field_value_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool valid_field_value(struct sgn_view v)
{
    for (size_t i = 0; i < v.len; i++) {
        if (!is_field_value_char((unsigned char)v.base[i])) {
            return false;
        }
    }
    return true;
}

static bool valid_bucket(struct sgn_view b, enum sgn_mode mode)
{
    if (b.len < 3 || b.len > 63) {
        return false;
    }
    if ((char_class[(unsigned char)b.base[0]] & char_class[(unsigned char)b.base[b.len - 1]] & CLS_LOWER_DIGIT) == 0) {
        return false;
    }
    /* S3 also allows dots; OSS does not. */
    if (mode == SGN_MODE_S3_V4) {
        for (size_t i = 0; i < b.len; i++) {
            if ((char_class[(unsigned char)b.base[i]] & CLS_REGION) == 0 && b.base[i] != '.') {
                return false;
            }
        }
        return true;
    }
    return all_of(b, CLS_REGION);
}

static char lower_ascii(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static bool views_ieq(struct sgn_view a, struct sgn_view b)
{
    if (a.len != b.len) {
        return false;
    }
    for (size_t i = 0; i < a.len; i++) {
        if (lower_ascii(a.base[i]) != lower_ascii(b.base[i])) {
            return false;
        }
    }
    return true;
}

static bool ascii_ieq(struct sgn_view a, const char *lit)
{
    return views_ieq(a, (struct sgn_view){lit, strlen(lit)});
}

static bool ascii_iprefix(struct sgn_view a, const char *lit)
{
    size_t n = strlen(lit);
    return a.len >= n && ascii_ieq((struct sgn_view){a.base, n}, lit);
}

/* The parameters each mode adds itself: a caller may not pass them too. */
static const char *const reserved_v4[] = {
    "x-oss-signature-version", "x-oss-credential",         "x-oss-date", "x-oss-expires", "x-oss-signature",
    "x-oss-security-token",    "x-oss-additional-headers", NULL};
static const char *const reserved_v1[] = {"OSSAccessKeyId", "Expires", "Signature", "security-token", NULL};
static const char *const reserved_s3[] = {"X-Amz-Algorithm",     "X-Amz-Credential",     "X-Amz-Date",      "X-Amz-Expires",
                                          "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature", NULL};

static bool reserved_name(enum sgn_mode mode, struct sgn_view name)
{
    const char *const *list = mode == SGN_MODE_OSS_V4 ? reserved_v4 : (mode == SGN_MODE_OSS_V1 ? reserved_v1 : reserved_s3);
    for (; *list != NULL; list++) {
        if (ascii_ieq(name, *list)) {
            return true;
        }
    }
    return false;
}

static bool view_ok(struct sgn_view v, size_t min, size_t max)
{
    return v.len >= min && v.len <= max && (v.base != NULL || v.len == 0);
}

/* validate_pairs checks the query parameters, headers and additional header names (section 1). */
static enum sgn_status validate_pairs(const struct sgn_params *p)
{
    if (p->n_query > SGN_MAX_PARAMS || p->n_headers > SGN_MAX_HEADERS || p->n_additional_headers > SGN_MAX_HEADERS ||
        (p->n_query > 0 && p->query == NULL) || (p->n_headers > 0 && p->headers == NULL) ||
        (p->n_additional_headers > 0 && p->additional_headers == NULL)) {
        return SGN_ERR_PARAMS;
    }
    for (size_t i = 0; i < p->n_query; i++) {
        const struct sgn_pair *q = &p->query[i];
        if (!view_ok(q->name, 1, SGN_MAX_NAME) || !view_ok(q->value, 0, SGN_MAX_VALUE) || reserved_name(p->mode, q->name)) {
            return SGN_ERR_PARAMS;
        }
    }
    for (size_t i = 0; i < p->n_headers; i++) {
        const struct sgn_pair *h = &p->headers[i];
        if (!view_ok(h->name, 1, SGN_MAX_NAME) || !all_of(h->name, CLS_TCHAR) || !view_ok(h->value, 0, SGN_MAX_VALUE) ||
            !valid_field_value(h->value)) {
            return SGN_ERR_PARAMS;
        }
    }
    for (size_t i = 0; i < p->n_additional_headers; i++) {
        struct sgn_view a = p->additional_headers[i];
        if (!view_ok(a, 1, SGN_MAX_NAME) || !all_of(a, CLS_TCHAR)) {
            return SGN_ERR_PARAMS;
        }
    }
    return SGN_OK;
}

/* validate checks every input of `p` against section 1's rules, in the order of enum sgn_status. */
static enum sgn_status validate(const struct sgn_params *p)
{
    if ((unsigned)p->mode > SGN_MODE_S3_V4 || (unsigned)p->addressing > SGN_ADDR_CNAME) {
        return SGN_ERR_MODE;
    }
    if (!view_ok(p->method, 1, SGN_MAX_METHOD) || !all_of(p->method, CLS_UPPER)) {
        return SGN_ERR_METHOD;
    }
    if (!view_ok(p->endpoint, 1, SGN_MAX_ENDPOINT) || !all_of(p->endpoint, CLS_HOST)) {
        return SGN_ERR_ENDPOINT;
    }
    if (!view_ok(p->region, 1, SGN_MAX_REGION) || !all_of(p->region, CLS_REGION)) {
        return SGN_ERR_REGION;
    }
    if (!view_ok(p->bucket, 3, 63) || !valid_bucket(p->bucket, p->mode)) {
        return SGN_ERR_BUCKET;
    }
    if (!view_ok(p->key, 1, SGN_MAX_KEY)) {
        return SGN_ERR_KEY;
    }
    if (p->expires < 1 || p->expires > SGN_MAX_EXPIRES) {
        return SGN_ERR_EXPIRES;
    }
    if (p->time < SGN_MIN_TIME || p->time > SGN_MAX_TIME - SGN_MAX_EXPIRES) {
        return SGN_ERR_TIME;
    }
    if (!view_ok(p->access_key_id, 1, SGN_MAX_ID) || !view_ok(p->secret, 1, SGN_MAX_SECRET) ||
        !view_ok(p->security_token, 0, SGN_MAX_TOKEN)) {
        return SGN_ERR_CREDENTIALS;
    }
    return validate_pairs(p);
}

/* ---- ordering ---- */

/* Canonical order: byte order of the encoded names (section 3, step 3). */
static int q_canon_cmp(const struct qparam *a, const struct qparam *b)
{
    if (a->ename.base != NULL && b->ename.base != NULL) {
        return sgn_view_cmp(a->ename, b->ename);
    }
    return sgn_enc_cmp(a->name, b->name);
}

/* URL order: byte order of the raw names, as the Go V2 SDK serialises (section 3, step 6, `url_strict`). */
static int q_url_cmp(const struct qparam *a, const struct qparam *b)
{
    return sgn_view_cmp(a->name, b->name);
}

/* sort_index fills `idx` with 0..n-1 ordered by `cmp`: an insertion sort, stable, for at most MAX_QUERY items. */
static void sort_index(uint8_t *idx, const struct qparam *q, size_t n, int (*cmp)(const struct qparam *, const struct qparam *))
{
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && cmp(&q[idx[j - 1]], &q[i]) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = (uint8_t)i;
    }
}

/* order_query fills both orders of g->q. Each mode adds its own parameters in sorted order, so with none of the caller's
 * there is nothing to sort. When every name is its own encoding the two orders are the same and one sort serves both. */
static void order_query(struct signing *g)
{
    if (g->n_q == g->n_own) {
        for (size_t i = 0; i < g->n_q; i++) {
            g->url_order[i] = (uint8_t)i;
            g->canon_order[i] = (uint8_t)i;
        }
        return;
    }
    bool all_plain = true;
    for (size_t i = 0; i < g->n_q; i++) {
        all_plain = all_plain && g->q[i].ename.base != NULL;
    }
    sort_index(g->url_order, g->q, g->n_q, q_url_cmp);
    if (all_plain) {
        memcpy(g->canon_order, g->url_order, g->n_q);
    } else {
        sort_index(g->canon_order, g->q, g->n_q, q_canon_cmp);
    }
}

static int h_cmp(const struct hparam *a, const struct hparam *b)
{
    return strcmp(a->lname, b->lname);
}

static void sort_headers(struct hparam *h, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct hparam tmp = h[i];
        size_t j = i;
        while (j > 0 && h_cmp(&h[j - 1], &tmp) > 0) {
            h[j] = h[j - 1];
            j--;
        }
        h[j] = tmp;
    }
}

/* ---- the canonical request sink: hashes what it is given, chunk by chunk, and copies it to a trace ---- */

struct sink {
    struct sgn_hash hash;
    struct sgn_buf b;
    char chunk[1024];
    struct sgn_buf *trace;
};

static void sink_flush(struct sink *s)
{
    sgn_sha256_update(&s->hash, s->b.base, s->b.len);
    if (s->trace != NULL) {
        sgn_buf_append(s->trace, s->b.base, s->b.len);
    }
    s->b.len = 0;
}

static size_t sink_room(const struct sink *s)
{
    return s->b.cap - 1 - s->b.len;
}

static void sink_put(struct sink *s, const char *p, size_t n)
{
    if (n <= sink_room(s)) {
        memcpy(s->b.base + s->b.len, p, n); /* the usual case: one copy, no NUL needed until the end */
        s->b.len += n;
        return;
    }
    while (n > 0) {
        if (sink_room(s) == 0) {
            sink_flush(s);
        }
        size_t take = n < sink_room(s) ? n : sink_room(s);
        sgn_buf_append(&s->b, p, take);
        p += take;
        n -= take;
    }
}

#define sink_lit(s, lit) sink_put((s), (lit), sizeof(lit) - 1)

static void sink_view(struct sink *s, struct sgn_view v)
{
    sink_put(s, v.base, v.len);
}

static void sink_char(struct sink *s, char c)
{
    if (sink_room(s) == 0) {
        sink_flush(s);
    }
    s->b.base[s->b.len++] = c;
}

static void sink_enc(struct sink *s, struct sgn_view v, bool keep_slash)
{
    while (v.len > 0) {
        size_t take = v.len < 128 ? v.len : 128; /* at most 384 bytes once encoded */
        if (sink_room(s) < 3 * take) {
            sink_flush(s);
        }
        sgn_buf_enc(&s->b, (struct sgn_view){v.base, take}, keep_slash);
        v.base += take;
        v.len -= take;
    }
}

/* sink_enc_or writes `e` when it is known (enc(raw) already), else enc(raw). */
static void sink_enc_or(struct sink *s, struct sgn_view e, struct sgn_view raw)
{
    if (e.base != NULL) {
        sink_view(s, e);
    } else {
        sink_enc(s, raw, false);
    }
}

static void sink_final(struct sink *s, uint8_t digest[SGN_SHA256_LEN])
{
    sink_flush(s);
    sgn_sha256_final(&s->hash, digest);
}

/* ---- shared pieces ---- */

/* plain returns `v` when enc(v) is `v` itself (nothing to escape), else a view with base NULL. */
static struct sgn_view plain(struct sgn_view v)
{
    for (size_t i = 0; i < v.len; i++) {
        if (!sgn_unreserved[(unsigned char)v.base[i]]) {
            return (struct sgn_view){NULL, 0};
        }
    }
    return v;
}

/* add_q_enc adds a parameter whose encodings the caller knows (base NULL: not known). */
static void add_q_enc(struct signing *g, struct sgn_view name, struct sgn_view value, struct sgn_view ename, struct sgn_view evalue)
{
    struct qparam *q = &g->q[g->n_q++];
    q->name = name;
    q->value = value.base == NULL ? (struct sgn_view){"", 0} : value;
    q->bare = q->value.len == 0;
    q->ename = ename;
    q->evalue = q->bare ? q->value : evalue;
}

/* add_q adds a parameter of the mode's own, whose name has nothing to escape. */
static void add_q(struct signing *g, struct sgn_view name, struct sgn_view value)
{
    add_q_enc(g, name, value, name, plain(value));
}

/* add_q_plain adds a parameter of the mode's own whose value has nothing to escape either: a date, a number, a literal. */
static void add_q_plain(struct signing *g, struct sgn_view name, struct sgn_view value)
{
    add_q_enc(g, name, value, name, value);
}

static void add_caller_query(struct signing *g)
{
    g->n_own = g->n_q;
    for (size_t i = 0; i < g->p->n_query; i++) {
        struct sgn_view name = g->p->query[i].name;
        struct sgn_view value = g->p->query[i].value;
        add_q_enc(g, name, value, plain(name), plain(value));
    }
}

static struct sgn_view trim(struct sgn_view v)
{
    while (v.len > 0 && (v.base[0] == ' ' || v.base[0] == '\t')) {
        v.base++;
        v.len--;
    }
    while (v.len > 0 && (v.base[v.len - 1] == ' ' || v.base[v.len - 1] == '\t')) {
        v.len--;
    }
    return v;
}

static void lower_into(char *out, struct sgn_view name)
{
    for (size_t i = 0; i < name.len; i++) {
        out[i] = lower_ascii(name.base[i]);
    }
    out[name.len] = '\0';
}

static bool has_signed_header(const struct signing *g, const char *lname)
{
    for (size_t i = 0; i < g->n_h; i++) {
        if (strcmp(g->h[i].lname, lname) == 0) {
            return true;
        }
    }
    return false;
}

static void add_header(struct signing *g, struct sgn_view name, struct sgn_view value)
{
    struct hparam *h = &g->h[g->n_h];
    lower_into(h->lname, name);
    if (has_signed_header(g, h->lname)) {
        return; /* the first of a repeated name wins */
    }
    h->name = name;
    h->value = trim(value);
    g->n_h++;
}

/* put_host writes the URL's host (section 3, step 6). */
static void put_host(struct sgn_buf *b, const struct sgn_params *p)
{
    if (p->addressing == SGN_ADDR_VIRTUAL) {
        sgn_buf_view(b, p->bucket);
        sgn_buf_char(b, '.');
    }
    sgn_buf_view(b, p->endpoint);
}

/* put_url_path writes scheme://host/path (section 3, step 6) and keeps where encPath(key) landed in g->key_enc, so
 * that the canonical request copies it rather than encoding the key again (base NULL when it did not fit). */
static void put_url_path(struct sgn_buf *b, struct signing *g)
{
    const struct sgn_params *p = g->p;

    if (p->https) {
        sgn_buf_lit(b, "https://");
    } else {
        sgn_buf_lit(b, "http://");
    }
    put_host(b, p);
    sgn_buf_char(b, '/');
    if (p->addressing == SGN_ADDR_PATH) {
        sgn_buf_view(b, p->bucket);
        sgn_buf_char(b, '/');
    }
    size_t start = b->len;
    sgn_buf_enc(b, p->key, true);
    g->key_enc = b->overflow ? (struct sgn_view){NULL, 0} : (struct sgn_view){b->base + start, b->len - start};
}

static void put_url_pair(struct sgn_buf *b, bool first, const struct qparam *q)
{
    sgn_buf_char(b, first ? '?' : '&');
    if (q->ename.base != NULL) {
        sgn_buf_view(b, q->ename);
    } else {
        sgn_buf_enc(b, q->name, false);
    }
    sgn_buf_char(b, '=');
    if (q->evalue.base != NULL) {
        sgn_buf_view(b, q->evalue);
    } else {
        sgn_buf_enc(b, q->value, false);
    }
}

/* put_url_query writes ?query with every parameter in URL order and the signature in its sorted place: `sig_name`
 * (nothing to escape) and `sig_value`, whose encoding is `sig_enc` when known (base NULL: not known). */
static void put_url_query(struct sgn_buf *b, const struct signing *g, struct sgn_view sig_name, struct sgn_view sig_value,
                          struct sgn_view sig_enc)
{
    struct qparam sig = {sig_name, sig_value, sig_name, sig_enc, false};
    bool sig_done = false;
    size_t written = 0;

    for (size_t i = 0; i < g->n_q; i++) {
        const struct qparam *q = &g->q[g->url_order[i]];
        if (!sig_done && q_url_cmp(q, &sig) > 0) {
            put_url_pair(b, written++ == 0, &sig);
            sig_done = true;
        }
        put_url_pair(b, written++ == 0, q);
    }
    if (!sig_done) {
        put_url_pair(b, written == 0, &sig);
    }
}

/* oss_region strips the "oss-" prefix an OSS region id is often configured with (section 1): the scope names the bare
 * region, as ali-oss signs it. */
static struct sgn_view oss_region(enum sgn_mode mode, struct sgn_view region)
{
    if (mode != SGN_MODE_S3_V4 && region.len > 4 && memcmp(region.base, "oss-", 4) == 0) {
        return (struct sgn_view){region.base + 4, region.len - 4};
    }
    return region;
}

/* ---- V4 (OSS and S3) ---- */

static const char oss_prefix[] = "aliyun_v4";
static const char s3_prefix[] = "AWS4";

enum sgn_status sgn_signing_key_derive(struct sgn_signing_key *out, enum sgn_mode mode, struct sgn_view secret,
                                       struct sgn_view region, int64_t time)
{
    char datetime[17];
    char seed[sizeof(oss_prefix) + SGN_MAX_SECRET];
    uint8_t k[SGN_SHA256_LEN];
    size_t plen;
    bool s3 = mode == SGN_MODE_S3_V4;

    memset(out, 0, sizeof(*out));
    if (mode != SGN_MODE_OSS_V4 && !s3) {
        return SGN_ERR_MODE;
    }
    if (!view_ok(secret, 1, SGN_MAX_SECRET)) {
        return SGN_ERR_CREDENTIALS;
    }
    if (!view_ok(region, 1, SGN_MAX_REGION) || !all_of(region, CLS_REGION)) {
        return SGN_ERR_REGION;
    }
    if (sgn_format_datetime(datetime, time) != SGN_OK) {
        return SGN_ERR_TIME;
    }
    region = oss_region(mode, region);
    /* Section 3, step 5 (section 8 for S3): kDate, kRegion, kService, kSigning. */
    plen = s3 ? sizeof(s3_prefix) - 1 : sizeof(oss_prefix) - 1;
    memcpy(seed, s3 ? s3_prefix : oss_prefix, plen);
    memcpy(seed + plen, secret.base, secret.len);
    sgn_hmac_sha256(k, seed, plen + secret.len, datetime, 8);
    sgn_hmac_sha256(k, k, sizeof(k), region.base, region.len);
    if (s3) {
        sgn_hmac_sha256(k, k, sizeof(k), "s3", 2);
        sgn_hmac_sha256(out->key, k, sizeof(k), "aws4_request", 12);
    } else {
        sgn_hmac_sha256(k, k, sizeof(k), "oss", 3);
        sgn_hmac_sha256(out->key, k, sizeof(k), "aliyun_v4_request", 17);
    }
    sgn_hmac_sha256_pads(&out->ipad, &out->opad, out->key, sizeof(out->key));
    sgn_cleanse(seed, sizeof(seed));
    sgn_cleanse(k, sizeof(k));
    out->mode = mode;
    memcpy(out->day, datetime, 8);
    out->region_len = (uint8_t)region.len;
    memcpy(out->region, region.base, region.len);
    return SGN_OK;
}

void sgn_signing_key_wipe(struct sgn_signing_key *k)
{
    if (k != NULL) {
        sgn_cleanse(k, sizeof(*k));
    }
}

/* put_prefix writes the start of the canonical request that depends only on the backend and the method. OSS signs
 * /bucket/key whatever the URL style; S3 the path requested (section 3, step 3; section 8). */
static void put_prefix(struct sgn_buf *b, const struct sgn_params *p)
{
    sgn_buf_view(b, p->method);
    sgn_buf_lit(b, "\n/");
    if (p->mode != SGN_MODE_S3_V4 || p->addressing == SGN_ADDR_PATH) {
        sgn_buf_view(b, p->bucket);
        sgn_buf_char(b, '/');
    }
}

enum sgn_status sgn_prefix_init(struct sgn_prefix *out, const struct sgn_params *p)
{
    struct sgn_buf b;

    memset(out, 0, sizeof(*out));
    if (p->mode != SGN_MODE_OSS_V4 && p->mode != SGN_MODE_S3_V4) {
        return SGN_ERR_MODE;
    }
    if (!view_ok(p->method, 1, SGN_MAX_METHOD) || !all_of(p->method, CLS_UPPER)) {
        return SGN_ERR_METHOD;
    }
    if (!view_ok(p->bucket, 3, 63) || !valid_bucket(p->bucket, p->mode)) {
        return SGN_ERR_BUCKET;
    }
    sgn_buf_init(&b, out->text, sizeof(out->text));
    put_prefix(&b, p);
    out->len = (uint8_t)b.len; /* at most 16 + 2 + 63 + 1 bytes, which the text holds with its NUL */
    sgn_sha256_init(&out->hash);
    sgn_sha256_update(&out->hash, out->text, b.len);
    return SGN_OK;
}

/* sink_start begins the canonical request with its prefix: from the caller's sgn_prefix when it is exactly this one. */
static void sink_start(struct sink *s, const struct sgn_params *p, struct sgn_buf *trace)
{
    char text[sizeof(((struct sgn_prefix *)0)->text)];
    struct sgn_buf b;

    sgn_buf_init(&s->b, s->chunk, sizeof(s->chunk));
    s->trace = trace;
    sgn_buf_init(&b, text, sizeof(text));
    put_prefix(&b, p);
    if (p->prefix != NULL && p->prefix->len == b.len && memcmp(p->prefix->text, text, b.len) == 0) {
        s->hash = p->prefix->hash;
        if (trace != NULL) {
            sgn_buf_append(trace, text, b.len);
        }
        return;
    }
    sgn_sha256_init(&s->hash);
    sink_put(s, text, b.len);
}

static bool is_additional(const struct sgn_params *p, struct sgn_view name)
{
    for (size_t j = 0; j < p->n_additional_headers; j++) {
        if (views_ieq(name, p->additional_headers[j])) {
            return true;
        }
    }
    return false;
}

static bool key_matches(const struct sgn_signing_key *k, const struct signing *g)
{
    const struct sgn_params *p = g->p;
    return k != NULL && k->mode == p->mode && memcmp(k->day, g->datetime, 8) == 0 && k->region_len == g->region.len &&
           memcmp(k->region, g->region.base, g->region.len) == 0;
}

/* put_credential writes "id/day/region/service/terminator" (section 3, step 1), or enc() of it when `enc`: there the
 * slashes, the only bytes of the scope that enc() escapes, are written as "%2F" directly. */
static void put_credential(struct sgn_buf *b, const struct signing *g, bool s3, bool enc)
{
    static const struct sgn_view tail[2][2] = {
        {SGN_VIEW_LIT("/oss/aliyun_v4_request"), SGN_VIEW_LIT("%2Foss%2Faliyun_v4_request")},
        {SGN_VIEW_LIT("/s3/aws4_request"), SGN_VIEW_LIT("%2Fs3%2Faws4_request")},
    };
    struct sgn_view sep = enc ? SGN_VIEW_LIT("%2F") : SGN_VIEW_LIT("/");

    if (enc) {
        sgn_buf_enc(b, g->p->access_key_id, false);
    } else {
        sgn_buf_view(b, g->p->access_key_id);
    }
    sgn_buf_view(b, sep);
    sgn_buf_append(b, g->datetime, 8);
    sgn_buf_view(b, sep);
    sgn_buf_view(b, g->region);
    sgn_buf_view(b, tail[s3][enc]);
}

/* V4 step 1: the credential, "id/scope", and enc(credential), which the canonical request and the URL both carry. */
static struct sgn_view v4_credential(struct signing *g, bool s3, struct sgn_view *scope, struct sgn_view *enc)
{
    struct sgn_buf cred;
    struct sgn_buf eb;

    sgn_buf_init(&cred, g->credential, sizeof(g->credential));
    put_credential(&cred, g, s3, false);
    size_t scope_start = g->p->access_key_id.len + 1;
    *scope = (struct sgn_view){cred.base + scope_start, cred.len - scope_start};
    sgn_buf_init(&eb, g->credential_enc, sizeof(g->credential_enc));
    put_credential(&eb, g, s3, true);
    *enc = (struct sgn_view){eb.base, eb.len};
    g->overflow = g->overflow || cred.overflow || eb.overflow;
    return (struct sgn_view){cred.base, cred.len};
}

/* V4 signed headers: OSS signs content-type, content-md5, x-oss-* and the additional headers; S3 signs host and the
 * headers the caller passes (section 3, step 3 part 4; section 8). Returns the additional header names (OSS:
 * lower-cased, de-duplicated, sorted, only those sent) or S3's SignedHeaders. */
static struct sgn_view v4_signed_headers(struct signing *g, bool s3)
{
    const struct sgn_params *p = g->p;
    struct sgn_buf names;

    g->n_h = 0;
    if (s3) {
        struct sgn_buf hb;
        sgn_buf_init(&hb, g->host, sizeof(g->host));
        put_host(&hb, p);
        add_header(g, SGN_VIEW_LIT("host"), (struct sgn_view){hb.base, hb.len});
        for (size_t i = 0; i < p->n_headers; i++) {
            add_header(g, p->headers[i].name, p->headers[i].value);
        }
    } else {
        for (size_t i = 0; i < p->n_headers; i++) {
            struct sgn_view n = p->headers[i].name;
            if (ascii_ieq(n, "content-type") || ascii_ieq(n, "content-md5") || ascii_iprefix(n, "x-oss-") || is_additional(p, n)) {
                add_header(g, n, p->headers[i].value);
            }
        }
    }
    sort_headers(g->h, g->n_h);

    sgn_buf_init(&names, g->signed_names, sizeof(g->signed_names));
    for (size_t i = 0; i < g->n_h; i++) {
        if (s3 || is_additional(p, g->h[i].name)) {
            if (names.len > 0) {
                sgn_buf_char(&names, ';');
            }
            sgn_buf_append(&names, g->h[i].lname, g->h[i].name.len);
        }
    }
    g->overflow = g->overflow || names.overflow;
    return (struct sgn_view){names.base, names.len};
}

/* V4 step 2: the signed query parameters, the mode's own (in sorted order) and then the caller's. */
static void v4_query(struct signing *g, bool s3, struct sgn_view cred, struct sgn_view cred_enc, struct sgn_view names)
{
    const struct sgn_params *p = g->p;
    struct sgn_buf eb;
    bool token = p->security_token.base != NULL && p->security_token.len > 0;

    sgn_buf_init(&eb, g->expires, sizeof(g->expires));
    sgn_buf_u64(&eb, p->expires);
    struct sgn_view date_v = {g->datetime, 16};
    struct sgn_view exp_v = {eb.base, eb.len};
    g->n_q = 0;
    if (s3) {
        add_q_plain(g, SGN_VIEW_LIT("X-Amz-Algorithm"), SGN_VIEW_LIT("AWS4-HMAC-SHA256"));
        add_q_enc(g, SGN_VIEW_LIT("X-Amz-Credential"), cred, SGN_VIEW_LIT("X-Amz-Credential"), cred_enc);
        add_q_plain(g, SGN_VIEW_LIT("X-Amz-Date"), date_v);
        add_q_plain(g, SGN_VIEW_LIT("X-Amz-Expires"), exp_v);
        if (token) {
            add_q(g, SGN_VIEW_LIT("X-Amz-Security-Token"), p->security_token);
        }
        add_q(g, SGN_VIEW_LIT("X-Amz-SignedHeaders"), names);
    } else {
        if (names.len > 0) {
            add_q(g, SGN_VIEW_LIT("x-oss-additional-headers"), names);
        }
        add_q_enc(g, SGN_VIEW_LIT("x-oss-credential"), cred, SGN_VIEW_LIT("x-oss-credential"), cred_enc);
        add_q_plain(g, SGN_VIEW_LIT("x-oss-date"), date_v);
        add_q_plain(g, SGN_VIEW_LIT("x-oss-expires"), exp_v);
        if (token) {
            add_q(g, SGN_VIEW_LIT("x-oss-security-token"), p->security_token);
        }
        add_q_plain(g, SGN_VIEW_LIT("x-oss-signature-version"), SGN_VIEW_LIT("OSS4-HMAC-SHA256"));
    }
    add_caller_query(g);
    order_query(g);
}

/* V4 step 3: the canonical request, hashed as it is written; its SHA-256 goes to `digest`. */
static void v4_canonical_request(struct signing *g, bool s3, struct sgn_view names, struct sgn_buf *trace,
                                 uint8_t digest[SGN_SHA256_LEN])
{
    const struct sgn_params *p = g->p;
    struct sink sink;

    sink_start(&sink, p, trace);
    if (g->key_enc.base != NULL) {
        sink_view(&sink, g->key_enc);
    } else {
        sink_enc(&sink, p->key, true);
    }
    sink_char(&sink, '\n');
    for (size_t i = 0; i < g->n_q; i++) {
        const struct qparam *q = &g->q[g->canon_order[i]];
        if (i > 0) {
            sink_char(&sink, '&');
        }
        sink_enc_or(&sink, q->ename, q->name);
        if (!q->bare || s3) { /* SigV4 writes `name=` for an empty value */
            sink_char(&sink, '=');
            sink_enc_or(&sink, q->evalue, q->value);
        }
    }
    sink_char(&sink, '\n');
    for (size_t i = 0; i < g->n_h; i++) {
        sink_put(&sink, g->h[i].lname, g->h[i].name.len);
        sink_char(&sink, ':');
        sink_view(&sink, g->h[i].value);
        sink_char(&sink, '\n');
    }
    sink_char(&sink, '\n');
    sink_view(&sink, names);
    sink_lit(&sink, "\nUNSIGNED-PAYLOAD");
    sink_final(&sink, digest);
}

/* V4 step 4: the string to sign, into `sb`. */
static void v4_string_to_sign(struct sgn_buf *sb, const struct signing *g, bool s3, struct sgn_view scope,
                              const uint8_t digest[SGN_SHA256_LEN])
{
    if (s3) {
        sgn_buf_lit(sb, "AWS4-HMAC-SHA256\n");
    } else {
        sgn_buf_lit(sb, "OSS4-HMAC-SHA256\n");
    }
    sgn_buf_append(sb, g->datetime, 16);
    sgn_buf_char(sb, '\n');
    sgn_buf_view(sb, scope);
    sgn_buf_char(sb, '\n');
    sgn_buf_hex(sb, digest, SGN_SHA256_LEN);
}

/* V4 step 5: the signature of `sts` into g->signature, with the caller's signing key when it matches, else one derived
 * here. Fills the trace's signing key. */
static enum sgn_status v4_signature(struct signing *g, struct sgn_view sts, struct sgn_trace *trace)
{
    const struct sgn_params *p = g->p;
    const struct sgn_signing_key *key = p->signing_key;
    struct sgn_signing_key derived;
    uint8_t mac[SGN_SHA256_LEN];

    if (!key_matches(key, g)) {
        enum sgn_status st = sgn_signing_key_derive(&derived, p->mode, p->secret, g->region, p->time);
        if (st != SGN_OK) {
            return st;
        }
        key = &derived;
    }
    sgn_hmac_sha256_resume(mac, &key->ipad, &key->opad, sts.base, sts.len);
    sgn_hex(g->signature, mac, sizeof(mac));
    if (trace != NULL) {
        sgn_hex(trace->signing_key_hex, key->key, sizeof(key->key));
    }
    if (key == &derived) {
        sgn_signing_key_wipe(&derived);
    }
    sgn_cleanse(mac, sizeof(mac));
    return SGN_OK;
}

static enum sgn_status sign_v4(struct sgn_buf *out, struct signing *g, struct sgn_trace *trace)
{
    bool s3 = g->p->mode == SGN_MODE_S3_V4;
    struct sgn_buf tbuf;
    uint8_t digest[SGN_SHA256_LEN];
    char sts[256];
    struct sgn_buf sb;
    struct sgn_view scope;
    struct sgn_view cred_enc;

    struct sgn_view cred = v4_credential(g, s3, &scope, &cred_enc);
    struct sgn_view names = v4_signed_headers(g, s3);
    v4_query(g, s3, cred, cred_enc, names);
    /* Step 6 begins first: the URL's path holds encPath(key), which step 3 then copies. */
    put_url_path(out, g);
    if (trace != NULL) {
        sgn_buf_init(&tbuf, trace->canonical, trace->canonical_cap);
    }
    v4_canonical_request(g, s3, names, trace != NULL ? &tbuf : NULL, digest);
    sgn_buf_init(&sb, sts, sizeof(sts));
    v4_string_to_sign(&sb, g, s3, scope, digest);
    if (sb.overflow || g->overflow) {
        return SGN_ERR_PARAMS; /* cannot happen within the validated bounds */
    }
    enum sgn_status st = v4_signature(g, (struct sgn_view){sb.base, sb.len}, trace);
    if (st != SGN_OK) {
        return st;
    }
    if (trace != NULL) {
        trace->canonical_len = tbuf.len;
        memcpy(trace->string_to_sign, sb.base, sb.len + 1);
        trace->string_to_sign_len = sb.len;
        memcpy(trace->signature, g->signature, sizeof(g->signature));
    }
    struct sgn_view sig = {g->signature, 64}; /* hex: nothing to escape */
    put_url_query(out, g, s3 ? SGN_VIEW_LIT("X-Amz-Signature") : SGN_VIEW_LIT("x-oss-signature"), sig, sig);
    if (trace != NULL && tbuf.overflow) {
        return SGN_ERR_NO_SPACE;
    }
    return SGN_OK;
}

/* ---- V1 (section 7) ---- */

/* Sub-resources V1 signs besides response-* and x-oss-* (the Go V2 SDK's list, for object requests). */
static const char *const v1_subresources[] = {
    "acl",        "append",   "bucketInfo", "callback", "callback-var",   "continuation-token",
    "cors",       "delete",   "lifecycle",  "location", "logging",        "objectMeta",
    "partNumber", "position", "referer",    "restore",  "security-token", "sequential",
    "stat",       "symlink",  "tagging",    "uploadId", "uploads",        "versionId",
    "versioning", "versions", "website",    NULL};

static bool v1_signable(struct sgn_view name)
{
    if ((name.len >= 9 && memcmp(name.base, "response-", 9) == 0) || (name.len >= 6 && memcmp(name.base, "x-oss-", 6) == 0)) {
        return true;
    }
    for (const char *const *s = v1_subresources; *s != NULL; s++) {
        if (strlen(*s) == name.len && memcmp(*s, name.base, name.len) == 0) {
            return true;
        }
    }
    return false;
}

/* v1_sink feeds the string to sign to the HMAC and, when tracing, to the trace. */
struct v1_sink {
    struct sgn_hmac mac;
    struct sgn_buf *trace;
};

static void v1_put(struct v1_sink *s, const char *p, size_t n)
{
    sgn_hmac_update(&s->mac, p, n);
    if (s->trace != NULL) {
        sgn_buf_append(s->trace, p, n);
    }
}

static void v1_view(struct v1_sink *s, struct sgn_view v)
{
    v1_put(s, v.base, v.len);
}

static struct sgn_view header_value(const struct sgn_params *p, const char *name)
{
    for (size_t i = 0; i < p->n_headers; i++) {
        if (ascii_ieq(p->headers[i].name, name)) {
            return trim(p->headers[i].value);
        }
    }
    return (struct sgn_view){"", 0};
}

static void base64_into(char *out, const uint8_t *in, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) {
            v |= (uint32_t)in[i + 1] << 8;
        }
        if (i + 2 < n) {
            v |= in[i + 2];
        }
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

/* V1 parameters and headers: Expires (absolute), OSSAccessKeyId, the token and the caller's; x-oss-* headers. Returns
 * the Expires value. */
static struct sgn_view v1_query_and_headers(struct signing *g)
{
    const struct sgn_params *p = g->p;
    struct sgn_buf eb;

    sgn_buf_init(&eb, g->expires, sizeof(g->expires));
    sgn_buf_u64(&eb, (uint64_t)p->time + p->expires); /* V1's Expires is an absolute time */
    struct sgn_view exp_v = {eb.base, eb.len};

    g->n_q = 0;
    add_q_plain(g, SGN_VIEW_LIT("Expires"), exp_v);
    add_q(g, SGN_VIEW_LIT("OSSAccessKeyId"), p->access_key_id);
    if (p->security_token.base != NULL && p->security_token.len > 0) {
        add_q(g, SGN_VIEW_LIT("security-token"), p->security_token);
    }
    add_caller_query(g);
    order_query(g);

    g->n_h = 0;
    for (size_t i = 0; i < p->n_headers; i++) {
        if (ascii_iprefix(p->headers[i].name, "x-oss-")) {
            add_header(g, p->headers[i].name, p->headers[i].value);
        }
    }
    sort_headers(g->h, g->n_h);
    return exp_v;
}

/* v1_string_to_sign feeds V1's string to sign (section 7) to `s`: verb, content-md5, content-type, Expires, the x-oss-*
 * headers, then /bucket/key (not encoded) and the signable parameters in URL order. */
static void v1_string_to_sign(struct v1_sink *s, const struct signing *g, struct sgn_view exp_v)
{
    const struct sgn_params *p = g->p;

    v1_view(s, p->method);
    v1_put(s, "\n", 1);
    v1_view(s, header_value(p, "content-md5"));
    v1_put(s, "\n", 1);
    v1_view(s, header_value(p, "content-type"));
    v1_put(s, "\n", 1);
    v1_view(s, exp_v);
    v1_put(s, "\n", 1);
    for (size_t i = 0; i < g->n_h; i++) {
        v1_put(s, g->h[i].lname, g->h[i].name.len);
        v1_put(s, ":", 1);
        v1_view(s, g->h[i].value);
        v1_put(s, "\n", 1);
    }
    v1_put(s, "/", 1);
    v1_view(s, p->bucket);
    v1_put(s, "/", 1);
    v1_view(s, p->key);
    char sep = '?';
    for (size_t i = 0; i < g->n_q; i++) {
        const struct qparam *q = &g->q[g->url_order[i]];
        if (!v1_signable(q->name)) {
            continue;
        }
        v1_put(s, &sep, 1);
        sep = '&';
        v1_view(s, q->name);
        if (!q->bare) {
            v1_put(s, "=", 1);
            v1_view(s, q->value);
        }
    }
}

static enum sgn_status sign_v1(struct sgn_buf *out, struct signing *g, struct sgn_trace *trace)
{
    const struct sgn_params *p = g->p;
    struct v1_sink s;
    struct sgn_buf tbuf;
    uint8_t mac[SGN_SHA1_LEN];

    struct sgn_view exp_v = v1_query_and_headers(g);
    if (trace != NULL) {
        sgn_buf_init(&tbuf, trace->string_to_sign, sizeof(trace->string_to_sign));
    }
    s.trace = trace != NULL ? &tbuf : NULL;
    sgn_hmac_sha1_init(&s.mac, p->secret.base, p->secret.len);
    v1_string_to_sign(&s, g, exp_v);
    sgn_hmac_final(&s.mac, mac);
    base64_into(g->signature, mac, sizeof(mac));
    sgn_cleanse(mac, sizeof(mac));

    if (trace != NULL) {
        trace->string_to_sign_len = tbuf.len;
        trace->canonical_len = 0;
        trace->signing_key_hex[0] = '\0';
        memcpy(trace->signature, g->signature, 29);
    }
    put_url_path(out, g);
    put_url_query(out, g, SGN_VIEW_LIT("Signature"), (struct sgn_view){g->signature, 28}, (struct sgn_view){NULL, 0}); /* base64 */
    if (trace != NULL && tbuf.overflow) {
        return SGN_ERR_NO_SPACE;
    }
    return SGN_OK;
}

/* ---- entry points ---- */

enum sgn_status sgn_presign_trace(char *out, size_t out_cap, size_t *out_len, const struct sgn_params *p, struct sgn_trace *trace)
{
    struct signing g;
    struct sgn_buf b;
    enum sgn_status st;

    *out_len = 0;
    sgn_buf_init(&b, out, out_cap);
    st = validate(p);
    if (st != SGN_OK) {
        return st;
    }
    g.p = p;
    g.overflow = false;
    g.region = oss_region(p->mode, p->region);
    st = sgn_format_datetime(g.datetime, p->time);
    if (st != SGN_OK) {
        return st;
    }
    st = p->mode == SGN_MODE_OSS_V1 ? sign_v1(&b, &g, trace) : sign_v4(&b, &g, trace);
    sgn_cleanse(g.signature, sizeof(g.signature));
    if (st == SGN_OK && b.overflow) {
        st = SGN_ERR_NO_SPACE;
    }
    if (st != SGN_OK) {
        if (out_cap > 0) {
            out[0] = '\0';
        }
        return st;
    }
    *out_len = b.len;
    return SGN_OK;
}

enum sgn_status sgn_presign(char *out, size_t out_cap, size_t *out_len, const struct sgn_params *p)
{
    return sgn_presign_trace(out, out_cap, out_len, p, NULL);
}
