/* fuzz_key_sign.c: libFuzzer target for key decoding plus signing: gw_key_decode, sgn_encode, gw_key_disposition and
 * gw_handle's redirect (routing, key rules, sgn_presign, the response bytes).
 *
 * Input: 5 selector bytes, then the rest of a request path after the route prefix "/files/" (a '?' starts the query).
 *   byte 0: bits 0-1 backend type (oss, oss-v1, s3, oss), 2-3 addressing (virtual, path, cname), 4 https,
 *           5-6 disposition (none, attachment, inline), 7 HEAD instead of GET;
 *   byte 1: bits 0-1 key_prefix, 2-3 sign_window, 4 session token, 5 credential expiration, 6 status 307,
 *           7 response-content-type;
 *   bytes 2-3: the signing instant; byte 4: where the credentials' expiration lies around it.
 * Invariants: decode(encode(k)) == k for every key gw_key_decode accepts (both encodings); a redirect's Location starts
 * with the configured origin, holds no byte below 0x21 nor 0x7f and above, its path decodes back to the key, and its
 * date and expiry are the ones configured; no response header carries a control byte; a rejected key gets 400 with its
 * reason; signing is deterministic for a fixed time (a second worker context, and the cached signing key, give the same
 * bytes). The config is built in memory per input: no clock, RNG or globals. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "gw_handler.h"
#include "gw_http.h"
#include "gw_key.h"
#include "sgn.h"
#include "sgn_buf.h"
#include "fuzz_check.h"

#define PREFIX "/files/"
#define BASE_TIME 1700000000 /* 2023-11-14T22:13:20Z */
#define EXPIRES 900
#define SECRET "fuzz-secret-0123456789abcdefghij"

struct world {
    struct cfg_credentials cred;
    struct cfg_backend backend;
    struct cfg_route route;
    struct cfg_listen listen;
    struct cfg_config cfg;
    struct gw_runtime rt;
    struct gw_stats stats;
    struct gw_ctx ctx1;
    struct gw_ctx ctx2;
    char out1[GW_RESPONSE_MAX];
    char out2[GW_RESPONSE_MAX];
    char out3[GW_RESPONSE_MAX];
    char key[SGN_MAX_KEY + 1];
    char enc[3 * SGN_MAX_KEY + 1];
    char dec[SGN_MAX_KEY + 1];
    char disp[8192];
    char disp_enc[3 * GW_DISPOSITION_MAX];
    char long_prefix[CFG_MAX_KEY_PREFIX + 1];
};

static const char *const key_prefixes[] = {"", "releases/", "a/b~c/", NULL /* long_prefix */};
static const uint32_t windows[] = {0, 300, 3600, 86400};

static void build(struct world *w, const uint8_t sel[5])
{
    unsigned type = sel[0] & 3;
    unsigned addr = (sel[0] >> 2) & 3;
    unsigned disp = (sel[0] >> 5) & 3;
    unsigned kp = sel[1] & 3;

    w->cred = (struct cfg_credentials){
        .name = (char *)(uintptr_t) "default",
        .access_key_id = (char *)(uintptr_t) "LTAIfuzzaccesskeyid",
        .secret = (uint8_t *)(uintptr_t)SECRET,
        .secret_len = sizeof(SECRET) - 1,
        .security_token = (sel[1] & 0x10) != 0 ? (char *)(uintptr_t) "CAIS+fuzz/session=token&x" : NULL,
    };
    w->backend = (struct cfg_backend){
        .name = (char *)(uintptr_t) "main",
        .type = type == 1 ? CFG_BACKEND_OSS_V1 : (type == 2 ? CFG_BACKEND_S3 : CFG_BACKEND_OSS),
        .region = (char *)(uintptr_t)(type == 2 ? "us-east-1" : "cn-hangzhou"),
        .bucket = (char *)(uintptr_t) "example-bucket",
        .endpoint = (char *)(uintptr_t)(type == 2 ? "s3.us-east-1.amazonaws.com"
                                                  : (type == 3 ? "127.0.0.1:9000" : "oss-cn-hangzhou.aliyuncs.com")),
        .addressing = addr == 1 ? CFG_ADDR_PATH : (addr == 2 ? CFG_ADDR_CNAME : CFG_ADDR_VIRTUAL),
        .https = (sel[0] & 0x10) != 0,
        .credentials = &w->cred,
    };
    memset(w->long_prefix, 'k', CFG_MAX_KEY_PREFIX - 1);
    w->long_prefix[CFG_MAX_KEY_PREFIX - 1] = '/';
    w->long_prefix[CFG_MAX_KEY_PREFIX] = '\0';
    const char *key_prefix = key_prefixes[kp] != NULL ? key_prefixes[kp] : w->long_prefix;
    w->route = (struct cfg_route){
        .prefix = (char *)(uintptr_t)PREFIX,
        .prefix_len = sizeof(PREFIX) - 1,
        .backend = &w->backend,
        .key_prefix = (char *)(uintptr_t)key_prefix,
        .key_prefix_len = strlen(key_prefix),
        .expires_s = EXPIRES,
        .sign_window_s = windows[(sel[1] >> 2) & 3],
        .disposition = disp == 1 ? CFG_DISP_ATTACHMENT : (disp == 2 ? CFG_DISP_INLINE : CFG_DISP_NONE),
        .content_type = (sel[1] & 0x80) != 0 ? (char *)(uintptr_t) "application/octet-stream; x=\"a b\"" : NULL,
        .status = (sel[1] & 0x40) != 0 ? 307 : 302,
    };
    w->listen = (struct cfg_listen){.host = (char *)(uintptr_t) "127.0.0.1", .port = 0};
    w->cfg = (struct cfg_config){
        .path = (char *)(uintptr_t) "fuzz.yaml",
        .listen = &w->listen,
        .n_listen = 1,
        .workers = 1,
        .limits = {10000, 256, 10000, 10000, 5000, 8192, 4096, 100, 1000},
        .credentials = &w->cred,
        .n_credentials = 1,
        .backends = &w->backend,
        .n_backends = 1,
        .routes = &w->route,
        .n_routes = 1,
        .health_path = NULL, /* health and metrics read process-wide counters: not this target's business */
        .metrics_path = NULL,
    };
    gw_runtime_init(&w->rt, &w->cfg);
    w->ctx1.stats = &w->stats;
    w->ctx1.boot_id = 0x1234abcd;
    gw_ctx_set_runtime(&w->ctx1, &w->rt);
    w->ctx2.stats = &w->stats;
    w->ctx2.boot_id = 0x1234abcd;
    gw_ctx_set_runtime(&w->ctx2, &w->rt);
}

/* check_roundtrip: the decoded key is clean, and decoding either encoding of it gives it back. */
static void check_roundtrip(struct world *w, const char *key, size_t key_len, size_t in_len)
{
    size_t enc_len;
    size_t dec_len;

    CHECK(key_len > 0 && key_len <= in_len);
    for (size_t i = 0; i < key_len; i++) {
        unsigned char c = (unsigned char)key[i];
        CHECK(c >= 0x20 && c != 0x7f && c != '\\');
    }
    for (int keep = 0; keep < 2; keep++) {
        CHECK(sgn_encode(w->enc, sizeof(w->enc), &enc_len, (struct sgn_view){key, key_len}, keep != 0) == SGN_OK);
        CHECK(enc_len >= key_len && enc_len < sizeof(w->enc));
        for (size_t i = 0; i < enc_len; i++) {
            unsigned char c = (unsigned char)w->enc[i];
            CHECK(c > 0x20 && c < 0x7f);
        }
        CHECK(gw_key_decode(w->dec, sizeof(w->dec), &dec_len, w->enc, enc_len) == NULL);
        CHECK(dec_len == key_len && memcmp(w->dec, key, key_len) == 0);
    }
}

static void check_disposition(struct world *w, const char *key, size_t key_len)
{
    size_t n = gw_key_disposition(w->disp, sizeof(w->disp), "attachment", key, key_len);
    CHECK(n > 0 && n < sizeof(w->disp) && w->disp[n] == '\0');
    const char *q1 = strchr(w->disp, '"');
    CHECK(q1 != NULL);
    const char *q2 = strchr(q1 + 1, '"');
    CHECK(q2 != NULL && strncmp(q2, "\"; filename*=UTF-8''", 20) == 0);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w->disp[i];
        CHECK(c >= 0x20 && c < 0x7f && c != '\\');
    }
    /* Too small a buffer is a clean failure. */
    CHECK(gw_key_disposition(w->disp, n, "attachment", key, key_len) == 0);
}

/* header finds the value of `name` in the head of `resp` (`head_len` bytes); NULL when absent. */
static const char *header(const char *resp, size_t head_len, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *p = memchr(resp, '\n', head_len);
    while (p != NULL && (size_t)(p + 1 - resp) < head_len) {
        const char *line = p + 1;
        const char *eol = memchr(line, '\r', head_len - (size_t)(line - resp));
        CHECK(eol != NULL);
        if ((size_t)(eol - line) > nl + 2 && memcmp(line, name, nl) == 0 && line[nl] == ':' && line[nl + 1] == ' ') {
            *len = (size_t)(eol - line) - nl - 2;
            return line + nl + 2;
        }
        p = memchr(line, '\n', head_len - (size_t)(line - resp));
    }
    return NULL;
}

/* query_value finds `name` among the URL's query parameters. */
static const char *query_value(const char *url, size_t len, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *q = memchr(url, '?', len);
    const char *end = url + len;
    while (q != NULL && q < end) {
        const char *p = q + 1;
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        if ((size_t)(stop - p) > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
            *vlen = (size_t)(stop - p) - nl - 1;
            return p + nl + 1;
        }
        q = amp;
    }
    return NULL;
}

static uint64_t parse_u64(const char *s, size_t n)
{
    uint64_t v = 0;
    CHECK(n > 0 && n <= 19);
    for (size_t i = 0; i < n; i++) {
        CHECK(s[i] >= '0' && s[i] <= '9');
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    return v;
}

/* check_response checks the bytes of one answer; returns the Location (NULL when there is none). */
static const char *check_response(struct world *w, const char *resp, size_t len, const struct gw_answer *a, const struct gw_req *r,
                                  bool head_req, int64_t now, size_t *loc_len)
{
    const struct cfg_backend *be = &w->backend;
    const struct cfg_route *rt = &w->route;
    char origin[512];
    size_t n;

    CHECK(len > 12 && memcmp(resp, "HTTP/1.1 ", 9) == 0);
    CHECK(parse_u64(resp + 9, 3) == a->status);
    CHECK(strlen(resp) == len); /* sgn_buf keeps a NUL behind, and no response byte is one */
    const char *sep = strstr(resp, "\r\n\r\n");
    CHECK(sep != NULL);
    size_t head_len = (size_t)(sep - resp) + 2;
    /* Every header line is `Name: value` of printable ASCII, CRLF-terminated: nothing from the request splits it. */
    for (size_t i = 0; i < head_len; i++) {
        unsigned char c = (unsigned char)resp[i];
        if (c == '\r') {
            CHECK(resp[i + 1] == '\n');
            i++;
            continue;
        }
        CHECK(c >= 0x20 && c < 0x7f);
    }
    size_t cl_len;
    const char *cl = header(resp, head_len, "Content-Length", &cl_len);
    CHECK(cl != NULL);
    size_t body_len = len - head_len - 2;
    if (head_req) {
        CHECK(body_len == 0);
    } else {
        CHECK(parse_u64(cl, cl_len) == body_len);
    }
    const char *loc = header(resp, head_len, "Location", loc_len);
    if (a->status != 302 && a->status != 307) {
        CHECK(loc == NULL);
        return NULL;
    }
    CHECK(loc != NULL && *loc_len > 0);

    /* The origin comes from the config only. */
    int on = snprintf(origin, sizeof(origin), "%s://%s%s%s/%s%s", be->https ? "https" : "http",
                      be->addressing == CFG_ADDR_VIRTUAL ? be->bucket : "", be->addressing == CFG_ADDR_VIRTUAL ? "." : "",
                      be->endpoint, be->addressing == CFG_ADDR_PATH ? be->bucket : "", be->addressing == CFG_ADDR_PATH ? "/" : "");
    CHECK(on > 0 && (size_t)on < sizeof(origin));
    CHECK(*loc_len > (size_t)on && memcmp(loc, origin, (size_t)on) == 0);
    for (size_t i = 0; i < *loc_len; i++) {
        unsigned char c = (unsigned char)loc[i];
        CHECK(c >= 0x21 && c < 0x7f);
    }
    /* The path decodes back to the key, once. */
    const char *path = loc + on;
    const char *q = memchr(path, '?', *loc_len - (size_t)on);
    CHECK(q != NULL);
    CHECK(gw_key_decode(w->dec, sizeof(w->dec), &n, path, (size_t)(q - path)) == NULL);
    CHECK(n == r->key_len && memcmp(w->dec, r->key, n) == 0);
    CHECK(memchr(q + 1, '?', *loc_len - (size_t)(q + 1 - loc)) == NULL && memchr(loc, '#', *loc_len) == NULL);

    /* Date and expiry as configured. */
    int64_t t = gw_sign_time(now, rt->sign_window_s);
    uint64_t want = (uint64_t)rt->expires_s + rt->sign_window_s;
    if (want > SGN_MAX_EXPIRES) {
        want = SGN_MAX_EXPIRES;
    }
    if (w->cred.expiration > 0 && (uint64_t)(w->cred.expiration - t) < want) {
        want = (uint64_t)(w->cred.expiration - t);
    }
    CHECK(t <= now && now - t < (rt->sign_window_s > 0 ? rt->sign_window_s : 1) && want >= 1);
    /* The URL is alive when handed out (corpus window_expired: credentials that expired inside the window). */
    CHECK(t + (int64_t)want > now);
    char datetime[17];
    CHECK(sgn_format_datetime(datetime, t) == SGN_OK);
    const char *v;
    size_t vl;
    if (be->type == CFG_BACKEND_OSS_V1) {
        v = query_value(loc, *loc_len, "Expires", &vl);
        CHECK(v != NULL && parse_u64(v, vl) == (uint64_t)t + want);
        CHECK(query_value(loc, *loc_len, "Signature", &vl) != NULL);
    } else {
        bool s3 = be->type == CFG_BACKEND_S3;
        v = query_value(loc, *loc_len, s3 ? "X-Amz-Expires" : "x-oss-expires", &vl);
        CHECK(v != NULL && parse_u64(v, vl) == want);
        v = query_value(loc, *loc_len, s3 ? "X-Amz-Date" : "x-oss-date", &vl);
        CHECK(v != NULL && vl == 16 && memcmp(v, datetime, 16) == 0);
        v = query_value(loc, *loc_len, s3 ? "X-Amz-Signature" : "x-oss-signature", &vl);
        CHECK(v != NULL && vl == 64);
    }
    CHECK((query_value(loc, *loc_len, "response-content-type", &vl) != NULL) == (rt->content_type != NULL));
    if (rt->disposition != CFG_DISP_NONE) {
        /* Every key the handler accepts has a disposition that fits its buffer (GW_DISPOSITION_MAX, the size the
         * handler uses), and the URL signs in exactly that value (corpus disp_long_cjk: the longest escaped name). */
        const char *type = rt->disposition == CFG_DISP_INLINE ? "inline" : "attachment";
        size_t dn = gw_key_disposition(w->disp, GW_DISPOSITION_MAX, type, r->key, r->key_len);
        CHECK(dn > 0);
        size_t en;
        CHECK(sgn_encode(w->disp_enc, sizeof(w->disp_enc), &en, (struct sgn_view){w->disp, dn}, false) == SGN_OK);
        v = query_value(loc, *loc_len, "response-content-disposition", &vl);
        CHECK(v != NULL && vl == en && memcmp(v, w->disp_enc, en) == 0);
    }
    return loc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t sel[5] = {0};
    struct world *w = NULL;
    char *target = NULL;
    size_t key_len;

    for (size_t i = 0; i < sizeof(sel) && i < size; i++) {
        sel[i] = data[i];
    }
    const char *rest = size > sizeof(sel) ? (const char *)data + sizeof(sel) : "";
    size_t rest_len = size > sizeof(sel) ? size - sizeof(sel) : 0;

    /* On the stack, not the heap: a fresh 600 KiB mapping per input would make the kernel, not the code, the bottleneck.
     * Everything read is set here or in build(); the response and URL buffers are written before they are read. */
    struct world world;
    w = &world;
    memset(w, 0, offsetof(struct world, ctx1));
    memset(&w->ctx1, 0, offsetof(struct gw_ctx, url));
    memset(&w->ctx2, 0, offsetof(struct gw_ctx, url));
    build(w, sel);
    int64_t now = BASE_TIME + (int64_t)((unsigned)sel[2] << 8 | sel[3]) * 97;
    if ((sel[1] & 0x20) != 0) {
        w->cred.expiration = now + ((int64_t)sel[4] - 16) * 60;
    }

    /* The request target exactly as the parser would hand it over, in a buffer of its own size. */
    size_t target_len = sizeof(PREFIX) - 1 + rest_len;
    target = malloc(target_len);
    CHECK(target != NULL);
    memcpy(target, PREFIX, sizeof(PREFIX) - 1);
    memcpy(target + sizeof(PREFIX) - 1, rest, rest_len);
    /* The parser refuses a fragment ('#' is not a request-target byte), so none reaches the handler. */
    for (char *h = memchr(target, '#', target_len); h != NULL; h = memchr(h, '#', target_len - (size_t)(h - target))) {
        *h = '_';
    }
    const char *qm = memchr(target, '?', target_len);
    size_t path_len = qm != NULL ? (size_t)(qm - target) : target_len;
    const char *raw_key = target + sizeof(PREFIX) - 1;
    size_t raw_len = path_len - (sizeof(PREFIX) - 1);

    /* 1. The key rules alone. */
    size_t kp = w->route.key_prefix_len;
    const char *why = gw_key_decode(w->key, SGN_MAX_KEY - kp, &key_len, raw_key, raw_len);
    if (why != NULL) {
        CHECK(key_len == 0 && strlen(why) > 0);
    } else {
        check_roundtrip(w, w->key, key_len, raw_len);
        check_disposition(w, w->key, key_len);
    }

    /* 2. The whole answer, from two workers and twice from the first (its signing key then comes from the cache). */
    bool head_req = (sel[0] & 0x80) != 0;
    struct gw_request req = {
        .method = head_req ? (struct gw_view){"HEAD", 4} : (struct gw_view){"GET", 3},
        .target = {target, target_len},
        .path = {target, path_len},
        .query = qm != NULL ? (struct gw_view){qm + 1, target_len - path_len - 1} : (struct gw_view){target + target_len, 0},
        .minor = 1,
        .keep_alive = true,
        .n_headers = 1,
    };
    struct sgn_buf b1;
    struct sgn_buf b2;
    struct sgn_buf b3;
    struct gw_answer a1;
    struct gw_answer a2;
    struct gw_answer a3;
    struct gw_req r1;
    struct gw_req r2;
    struct gw_req r3;
    static const uint8_t addr[16] = {[10] = 0xff, [11] = 0xff, 127, 0, 0, 1};
    gw_req_init(&r1, &req, addr, "127.0.0.1");
    gw_req_init(&r2, &req, addr, "127.0.0.1");
    gw_req_init(&r3, &req, addr, "127.0.0.1");
    sgn_buf_init(&b1, w->out1, sizeof(w->out1));
    sgn_buf_init(&b2, w->out2, sizeof(w->out2));
    sgn_buf_init(&b3, w->out3, sizeof(w->out3));
    gw_handle(&w->ctx1, &r1, now, false, &b1, &a1);
    gw_handle(&w->ctx2, &r2, now, false, &b2, &a2);
    gw_handle(&w->ctx1, &r3, now, false, &b3, &a3);
    CHECK(!b1.overflow && !b2.overflow && !b3.overflow);

    if (why != NULL) {
        CHECK(a1.status == 400 && a1.reason == why && r1.key_len == 0);
    } else {
        CHECK(r1.key_len == kp + key_len && memcmp(r1.key, w->route.key_prefix, kp) == 0 &&
              memcmp(r1.key + kp, w->key, key_len) == 0);
        /* Credentials count as expired against now, not the window start (corpus window_expired). */
        bool expired = w->cred.expiration > 0 && w->cred.expiration - now < 1;
        CHECK(a1.status == (expired ? 503u : w->route.status));
    }
    CHECK(!a1.close && r1.route == &w->route);

    size_t loc1_len = 0;
    size_t loc3_len = 0;
    const char *loc1 = check_response(w, b1.base, b1.len, &a1, &r1, head_req, now, &loc1_len);
    const char *loc3 = check_response(w, b3.base, b3.len, &a3, &r3, head_req, now, &loc3_len);
    /* Deterministic: another worker answers byte for byte the same (same boot id, worker and sequence number). */
    CHECK(b1.len == b2.len && memcmp(b1.base, b2.base, b1.len) == 0);
    CHECK(a1.status == a3.status && (loc1 == NULL) == (loc3 == NULL));
    if (loc1 != NULL) {
        CHECK(loc1_len == loc3_len && memcmp(loc1, loc3, loc1_len) == 0);
    }
    /* The secret never shows, unless the request itself carries the text. */
    if (strstr(r1.key, SECRET) == NULL) {
        CHECK(strstr(b1.base, SECRET) == NULL);
    }

    gw_ctx_wipe(&w->ctx1);
    gw_ctx_wipe(&w->ctx2);
    free(target);
    return 0;
}
