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

/* One query parameter of the URL. `bare` marks an empty value, which OSS signs as the bare name (section 3, step 3). */
struct qparam {
    struct sgn_view name;
    struct sgn_view value;
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
    struct sgn_view region;      /* p->region, less an "oss-" prefix for OSS */
    char datetime[17];           /* YYYYMMDDTHHMMSSZ */
    struct sgn_view host_prefix; /* "bucket." for virtual hosting, else empty */
    struct qparam q[MAX_QUERY];
    size_t n_q;
    struct hparam h[MAX_SIGNED_HEADERS];
    size_t n_h;
    char credential[SGN_MAX_ID + 128];
    char expires[24];
    char signed_names[MAX_SIGNED_HEADERS * (SGN_MAX_NAME + 1)];
    size_t signed_names_len;
    char host[SGN_MAX_ENDPOINT + 72]; /* only when the host is signed */
    char signature[65];
};

/* ---- input validation (section 1, section 4) ---- */

static bool all_of(struct sgn_view v, bool (*ok)(unsigned char))
{
    for (size_t i = 0; i < v.len; i++) {
        if (!ok((unsigned char)v.base[i])) {
            return false;
        }
    }
    return true;
}

static bool is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_lower_digit(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_region_char(unsigned char c)
{
    return is_lower_digit(c) || c == '-';
}

static bool is_host_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || is_lower_digit(c) || c == '-' || c == '.' || c == '_' || c == ':' || c == '[' || c == ']';
}

/* RFC 9110 tchar: what a header or parameter name may contain without being quoted. */
static bool is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || is_lower_digit(c) ||
           (c != '"' && c != '(' && c != ')' && c != ',' && c != '/' && c != ':' && c != ';' && c != '<' && c != '=' && c != '>' &&
            c != '?' && c != '@' && c != '[' && c != '\\' && c != ']' && c != '{' && c != '}' && c > 0x20 && c < 0x7f);
}

static bool is_field_value_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool valid_bucket(struct sgn_view b, enum sgn_mode mode)
{
    if (b.len < 3 || b.len > 63) {
        return false;
    }
    if (!is_lower_digit((unsigned char)b.base[0]) || !is_lower_digit((unsigned char)b.base[b.len - 1])) {
        return false;
    }
    for (size_t i = 0; i < b.len; i++) {
        unsigned char c = (unsigned char)b.base[i];
        /* S3 also allows dots; OSS does not. */
        if (!is_region_char(c) && !(mode == SGN_MODE_S3_V4 && c == '.')) {
            return false;
        }
    }
    return true;
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

static enum sgn_status validate(const struct sgn_params *p)
{
    if ((unsigned)p->mode > SGN_MODE_S3_V4 || (unsigned)p->addressing > SGN_ADDR_CNAME) {
        return SGN_ERR_MODE;
    }
    if (!view_ok(p->method, 1, SGN_MAX_METHOD) || !all_of(p->method, is_upper)) {
        return SGN_ERR_METHOD;
    }
    if (!view_ok(p->endpoint, 1, SGN_MAX_ENDPOINT) || !all_of(p->endpoint, is_host_char)) {
        return SGN_ERR_ENDPOINT;
    }
    if (!view_ok(p->region, 1, SGN_MAX_REGION) || !all_of(p->region, is_region_char)) {
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
        if (!view_ok(h->name, 1, SGN_MAX_NAME) || !all_of(h->name, is_tchar) || !view_ok(h->value, 0, SGN_MAX_VALUE) ||
            !all_of(h->value, is_field_value_char)) {
            return SGN_ERR_PARAMS;
        }
    }
    for (size_t i = 0; i < p->n_additional_headers; i++) {
        struct sgn_view a = p->additional_headers[i];
        if (!view_ok(a, 1, SGN_MAX_NAME) || !all_of(a, is_tchar)) {
            return SGN_ERR_PARAMS;
        }
    }
    return SGN_OK;
}

/* ---- ordering ---- */

/* Canonical order: byte order of the encoded names (section 3, step 3). */
static int q_canon_cmp(const struct qparam *a, const struct qparam *b)
{
    return sgn_enc_cmp(a->name, b->name);
}

/* URL order: byte order of the raw names, as the Go V2 SDK serialises (section 3, step 6, `url_strict`). */
static int q_url_cmp(const struct qparam *a, const struct qparam *b)
{
    return sgn_view_cmp(a->name, b->name);
}

/* sort_index fills `idx` with 0..n-1 ordered by `cmp`: an insertion sort, stable, for at most MAX_QUERY + 1 items. */
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
    char chunk[512];
    struct sgn_buf *trace;
};

static void sink_init(struct sink *s, struct sgn_buf *trace)
{
    sgn_sha256_init(&s->hash);
    sgn_buf_init(&s->b, s->chunk, sizeof(s->chunk));
    s->trace = trace;
}

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

static void sink_final(struct sink *s, uint8_t digest[SGN_SHA256_LEN])
{
    sink_flush(s);
    sgn_sha256_final(&s->hash, digest);
}

/* ---- shared pieces ---- */

static void add_q(struct signing *g, struct sgn_view name, struct sgn_view value)
{
    struct qparam *q = &g->q[g->n_q++];
    q->name = name;
    q->value = value.base == NULL ? (struct sgn_view){"", 0} : value;
    q->bare = q->value.len == 0;
}

static void add_caller_query(struct signing *g)
{
    for (size_t i = 0; i < g->p->n_query; i++) {
        add_q(g, g->p->query[i].name, g->p->query[i].value);
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

/* host_into writes the URL's host (section 3, step 6). */
static void put_host(struct sgn_buf *b, const struct sgn_params *p)
{
    if (p->addressing == SGN_ADDR_VIRTUAL) {
        sgn_buf_view(b, p->bucket);
        sgn_buf_char(b, '.');
    }
    sgn_buf_view(b, p->endpoint);
}

/* put_url writes scheme://host/path?query with every parameter, `sig_name=signature` in its sorted place. */
static void put_url(struct sgn_buf *b, struct signing *g, struct sgn_view sig_name, struct sgn_view sig_value)
{
    const struct sgn_params *p = g->p;
    uint8_t order[MAX_QUERY + 1];

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
    sgn_buf_enc(b, p->key, true);

    add_q(g, sig_name, sig_value);
    sort_index(order, g->q, g->n_q, q_url_cmp);
    for (size_t i = 0; i < g->n_q; i++) {
        const struct qparam *q = &g->q[order[i]];
        sgn_buf_char(b, i == 0 ? '?' : '&');
        sgn_buf_enc(b, q->name, false);
        sgn_buf_char(b, '=');
        sgn_buf_enc(b, q->value, false);
    }
    g->n_q--;
}

static void hex_into(char *out, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
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
    if (!view_ok(region, 1, SGN_MAX_REGION) || !all_of(region, is_region_char)) {
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

static enum sgn_status sign_v4(struct sgn_buf *out, struct signing *g, struct sgn_trace *trace)
{
    const struct sgn_params *p = g->p;
    bool s3 = p->mode == SGN_MODE_S3_V4;
    struct sgn_buf cred;
    struct sgn_buf names;
    struct sgn_buf tbuf;
    struct sink sink;
    uint8_t order[MAX_QUERY];
    uint8_t digest[SGN_SHA256_LEN];
    uint8_t mac[SGN_SHA256_LEN];
    char sts[256];
    struct sgn_buf sb;
    struct sgn_signing_key derived;
    const struct sgn_signing_key *key = p->signing_key;
    bool token = p->security_token.base != NULL && p->security_token.len > 0;

    /* Step 1: scope and credential. */
    sgn_buf_init(&cred, g->credential, sizeof(g->credential));
    sgn_buf_view(&cred, p->access_key_id);
    sgn_buf_char(&cred, '/');
    sgn_buf_append(&cred, g->datetime, 8);
    sgn_buf_char(&cred, '/');
    sgn_buf_view(&cred, g->region);
    if (s3) {
        sgn_buf_lit(&cred, "/s3/aws4_request");
    } else {
        sgn_buf_lit(&cred, "/oss/aliyun_v4_request");
    }
    struct sgn_view scope = {cred.base + p->access_key_id.len + 1, cred.len - p->access_key_id.len - 1};

    /* Signed headers: OSS signs content-type, content-md5, x-oss-* and the additional headers; S3 signs host and the
     * headers the caller passes (section 3, step 3 part 4; section 8). */
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

    /* The additional header names (OSS: lower-cased, de-duplicated, sorted, only those sent) or S3's SignedHeaders. */
    sgn_buf_init(&names, g->signed_names, sizeof(g->signed_names));
    for (size_t i = 0; i < g->n_h; i++) {
        if (s3 || is_additional(p, g->h[i].name)) {
            if (names.len > 0) {
                sgn_buf_char(&names, ';');
            }
            sgn_buf_append(&names, g->h[i].lname, g->h[i].name.len);
        }
    }
    struct sgn_view names_v = {names.base, names.len};

    /* Step 2: the signed parameters. */
    struct sgn_buf eb;
    sgn_buf_init(&eb, g->expires, sizeof(g->expires));
    sgn_buf_u64(&eb, p->expires);
    struct sgn_view cred_v = {cred.base, cred.len};
    struct sgn_view date_v = {g->datetime, 16};
    struct sgn_view exp_v = {eb.base, eb.len};
    g->n_q = 0;
    if (s3) {
        add_q(g, SGN_VIEW_LIT("X-Amz-Algorithm"), SGN_VIEW_LIT("AWS4-HMAC-SHA256"));
        add_q(g, SGN_VIEW_LIT("X-Amz-Credential"), cred_v);
        add_q(g, SGN_VIEW_LIT("X-Amz-Date"), date_v);
        add_q(g, SGN_VIEW_LIT("X-Amz-Expires"), exp_v);
        if (token) {
            add_q(g, SGN_VIEW_LIT("X-Amz-Security-Token"), p->security_token);
        }
        add_q(g, SGN_VIEW_LIT("X-Amz-SignedHeaders"), names_v);
    } else {
        add_q(g, SGN_VIEW_LIT("x-oss-signature-version"), SGN_VIEW_LIT("OSS4-HMAC-SHA256"));
        add_q(g, SGN_VIEW_LIT("x-oss-credential"), cred_v);
        add_q(g, SGN_VIEW_LIT("x-oss-date"), date_v);
        add_q(g, SGN_VIEW_LIT("x-oss-expires"), exp_v);
        if (token) {
            add_q(g, SGN_VIEW_LIT("x-oss-security-token"), p->security_token);
        }
        if (names.len > 0) {
            add_q(g, SGN_VIEW_LIT("x-oss-additional-headers"), names_v);
        }
    }
    add_caller_query(g);

    /* Step 3: the canonical request, hashed as it is written. */
    if (trace != NULL) {
        sgn_buf_init(&tbuf, trace->canonical, trace->canonical_cap);
    }
    sink_init(&sink, trace != NULL ? &tbuf : NULL);
    sink_view(&sink, p->method);
    sink_lit(&sink, "\n/");
    if (!s3 || p->addressing == SGN_ADDR_PATH) {
        sink_view(&sink, p->bucket); /* OSS signs /bucket/key whatever the URL style; S3 the path requested */
        sink_lit(&sink, "/");
    }
    sink_enc(&sink, p->key, true);
    sink_lit(&sink, "\n");
    sort_index(order, g->q, g->n_q, q_canon_cmp);
    for (size_t i = 0; i < g->n_q; i++) {
        const struct qparam *q = &g->q[order[i]];
        if (i > 0) {
            sink_lit(&sink, "&");
        }
        sink_enc(&sink, q->name, false);
        if (!q->bare || s3) { /* SigV4 writes `name=` for an empty value */
            sink_lit(&sink, "=");
            sink_enc(&sink, q->value, false);
        }
    }
    sink_lit(&sink, "\n");
    for (size_t i = 0; i < g->n_h; i++) {
        sink_put(&sink, g->h[i].lname, g->h[i].name.len);
        sink_lit(&sink, ":");
        sink_view(&sink, g->h[i].value);
        sink_lit(&sink, "\n");
    }
    sink_lit(&sink, "\n");
    sink_view(&sink, names_v);
    sink_lit(&sink, "\nUNSIGNED-PAYLOAD");
    sink_final(&sink, digest);

    /* Step 4: the string to sign. */
    sgn_buf_init(&sb, sts, sizeof(sts));
    if (s3) {
        sgn_buf_lit(&sb, "AWS4-HMAC-SHA256\n");
    } else {
        sgn_buf_lit(&sb, "OSS4-HMAC-SHA256\n");
    }
    sgn_buf_append(&sb, g->datetime, 16);
    sgn_buf_char(&sb, '\n');
    sgn_buf_view(&sb, scope);
    sgn_buf_char(&sb, '\n');
    sgn_buf_hex(&sb, digest, sizeof(digest));
    if (cred.overflow || names.overflow || sb.overflow) {
        return SGN_ERR_PARAMS; /* cannot happen within the validated bounds */
    }

    /* Step 5: the signing key (cached when the caller's matches) and the signature. */
    if (!key_matches(key, g)) {
        enum sgn_status st = sgn_signing_key_derive(&derived, p->mode, p->secret, g->region, p->time);
        if (st != SGN_OK) {
            return st;
        }
        key = &derived;
    }
    sgn_hmac_sha256(mac, key->key, sizeof(key->key), sb.base, sb.len);
    hex_into(g->signature, mac, sizeof(mac));

    if (trace != NULL) {
        trace->canonical_len = tbuf.len;
        memcpy(trace->string_to_sign, sb.base, sb.len + 1);
        trace->string_to_sign_len = sb.len;
        hex_into(trace->signing_key_hex, key->key, sizeof(key->key));
        memcpy(trace->signature, g->signature, sizeof(g->signature));
    }
    if (key == &derived) {
        sgn_signing_key_wipe(&derived);
    }
    sgn_cleanse(mac, sizeof(mac));

    /* Step 6: the URL. */
    put_url(out, g, s3 ? SGN_VIEW_LIT("X-Amz-Signature") : SGN_VIEW_LIT("x-oss-signature"), (struct sgn_view){g->signature, 64});
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

static enum sgn_status sign_v1(struct sgn_buf *out, struct signing *g, struct sgn_trace *trace)
{
    const struct sgn_params *p = g->p;
    struct v1_sink s;
    struct sgn_buf tbuf;
    struct sgn_buf eb;
    uint8_t order[MAX_QUERY];
    uint8_t mac[SGN_SHA1_LEN];
    bool token = p->security_token.base != NULL && p->security_token.len > 0;

    sgn_buf_init(&eb, g->expires, sizeof(g->expires));
    sgn_buf_u64(&eb, (uint64_t)p->time + p->expires); /* V1's Expires is an absolute time */
    struct sgn_view exp_v = {eb.base, eb.len};

    g->n_q = 0;
    add_q(g, SGN_VIEW_LIT("Expires"), exp_v);
    add_q(g, SGN_VIEW_LIT("OSSAccessKeyId"), p->access_key_id);
    if (token) {
        add_q(g, SGN_VIEW_LIT("security-token"), p->security_token);
    }
    add_caller_query(g);

    g->n_h = 0;
    for (size_t i = 0; i < p->n_headers; i++) {
        if (ascii_iprefix(p->headers[i].name, "x-oss-")) {
            add_header(g, p->headers[i].name, p->headers[i].value);
        }
    }
    sort_headers(g->h, g->n_h);

    if (trace != NULL) {
        sgn_buf_init(&tbuf, trace->string_to_sign, sizeof(trace->string_to_sign));
    }
    s.trace = trace != NULL ? &tbuf : NULL;
    sgn_hmac_sha1_init(&s.mac, p->secret.base, p->secret.len);
    v1_view(&s, p->method);
    v1_put(&s, "\n", 1);
    v1_view(&s, header_value(p, "content-md5"));
    v1_put(&s, "\n", 1);
    v1_view(&s, header_value(p, "content-type"));
    v1_put(&s, "\n", 1);
    v1_view(&s, exp_v);
    v1_put(&s, "\n", 1);
    for (size_t i = 0; i < g->n_h; i++) {
        v1_put(&s, g->h[i].lname, g->h[i].name.len);
        v1_put(&s, ":", 1);
        v1_view(&s, g->h[i].value);
        v1_put(&s, "\n", 1);
    }
    v1_put(&s, "/", 1);
    v1_view(&s, p->bucket);
    v1_put(&s, "/", 1);
    v1_view(&s, p->key); /* the key is not encoded in V1's resource */
    sort_index(order, g->q, g->n_q, q_url_cmp);
    char sep = '?';
    for (size_t i = 0; i < g->n_q; i++) {
        const struct qparam *q = &g->q[order[i]];
        if (!v1_signable(q->name)) {
            continue;
        }
        v1_put(&s, &sep, 1);
        sep = '&';
        v1_view(&s, q->name);
        if (!q->bare) {
            v1_put(&s, "=", 1);
            v1_view(&s, q->value);
        }
    }
    sgn_hmac_final(&s.mac, mac);
    base64_into(g->signature, mac, sizeof(mac));
    sgn_cleanse(mac, sizeof(mac));

    if (trace != NULL) {
        trace->string_to_sign_len = tbuf.len;
        trace->canonical_len = 0;
        trace->signing_key_hex[0] = '\0';
        memcpy(trace->signature, g->signature, 29);
    }
    put_url(out, g, SGN_VIEW_LIT("Signature"), (struct sgn_view){g->signature, 28});
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
