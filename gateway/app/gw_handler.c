/* gw_handler.c: routing, key decoding, signing and the response bytes (docs/design.md, Request handling). */
#include "gw_handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_key.h"
#include "gw_log.h"

void gw_runtime_init(struct gw_runtime *rt, struct cfg_config *cfg)
{
    rt->cfg = cfg;
    atomic_init(&rt->refs, 1);
    rt->ext = NULL;
    rt->ext_free = NULL;
    for (size_t i = 0; i < cfg->n_routes && i < CFG_MAX_ROUTES; i++) {
        rt->route_slot[i] = gw_metrics_slot(cfg->routes[i].prefix);
    }
    for (size_t i = 0; i < cfg->n_backends && i < CFG_MAX_BACKENDS; i++) {
        const struct cfg_backend *be = &cfg->backends[i];
        const struct cfg_credentials *cr = be->credentials;
        rt->backend[i] = (struct sgn_params){
            .mode =
                be->type == CFG_BACKEND_S3 ? SGN_MODE_S3_V4 : (be->type == CFG_BACKEND_OSS_V1 ? SGN_MODE_OSS_V1 : SGN_MODE_OSS_V4),
            .https = be->https,
            .endpoint = {be->endpoint, strlen(be->endpoint)},
            .region = {be->region, strlen(be->region)},
            .bucket = {be->bucket, strlen(be->bucket)},
            .addressing = be->addressing == CFG_ADDR_PATH ? SGN_ADDR_PATH
                                                          : (be->addressing == CFG_ADDR_CNAME ? SGN_ADDR_CNAME : SGN_ADDR_VIRTUAL),
            /* Renewing sets have no keys here: gw_presign_key takes them from the set's snapshot. */
            .access_key_id = {cr->access_key_id, cr->access_key_id != NULL ? strlen(cr->access_key_id) : 0},
            .secret = {(const char *)cr->secret, cr->secret_len},
            .security_token = {cr->security_token, cr->security_token != NULL ? strlen(cr->security_token) : 0},
        };
        struct sgn_params get = rt->backend[i];
        get.method = SGN_VIEW_LIT("GET");
        /* Fails only for OSS V1 (no canonical request) or a bucket the signer refuses anyway; a failed prefix is cleared
         * and matches no request. */
        enum sgn_status st = sgn_prefix_init(&rt->get_prefix[i], &get);
        (void)st;
    }
}

struct gw_runtime *gw_runtime_new(struct cfg_config *cfg, char *err, size_t err_cap)
{
    struct gw_runtime *rt = calloc(1, sizeof(*rt));
    if (rt == NULL) {
        snprintf(err, err_cap, "out of memory");
        cfg_free(cfg);
        return NULL;
    }
    gw_runtime_init(rt, cfg);
    rt->creds = gw_credrt_new(cfg, err, err_cap);
    if (rt->creds == NULL) {
        cfg_free(cfg);
        free(rt);
        return NULL;
    }
    return rt;
}

void gw_runtime_ref(struct gw_runtime *rt)
{
    atomic_fetch_add(&rt->refs, 1);
}

void gw_runtime_unref(struct gw_runtime *rt)
{
    if (rt != NULL && atomic_fetch_sub(&rt->refs, 1) == 1) {
        gw_credrt_free(rt->creds);
        if (rt->ext_free != NULL) {
            rt->ext_free(rt->ext);
        }
        cfg_free(rt->cfg);
        free(rt);
    }
}

void gw_ctx_wipe(struct gw_ctx *c)
{
    for (size_t i = 0; i < CFG_MAX_BACKENDS; i++) {
        if (c->keys.valid[i]) {
            sgn_signing_key_wipe(&c->keys.key[i]);
            c->keys.valid[i] = false;
        }
    }
}

void gw_ctx_set_runtime(struct gw_ctx *c, const struct gw_runtime *rt)
{
    gw_ctx_wipe(c);
    c->rt = rt;
}

int64_t gw_sign_time(int64_t now, uint32_t window)
{
    if (window <= 1) {
        return now;
    }
    int64_t day = now - now % 86400;
    return day + (now - day) / window * window;
}

static void update_date(struct gw_ctx *c, int64_t now)
{
    if (c->date_sec == now && c->date[0] != '\0') {
        return;
    }
    struct tm tm;
    time_t t = (time_t)now;
    if (gmtime_r(&t, &tm) == NULL || strftime(c->date, sizeof(c->date), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0) {
        c->date[0] = '\0';
        return;
    }
    c->date_sec = now;
}

static const char *status_text(unsigned status)
{
    switch (status) {
    case 200:
        return "200 OK";
    case 204:
        return "204 No Content";
    case 302:
        return "302 Found";
    case 307:
        return "307 Temporary Redirect";
    case 400:
        return "400 Bad Request";
    case 404:
        return "404 Not Found";
    case 405:
        return "405 Method Not Allowed";
    case 408:
        return "408 Request Timeout";
    case 413:
        return "413 Content Too Large";
    case 414:
        return "414 URI Too Long";
    case 431:
        return "431 Request Header Fields Too Large";
    case 503:
        return "503 Service Unavailable";
    case 501:
        return "501 Not Implemented";
    case 505:
        return "505 HTTP Version Not Supported";
    default:
        return "500 Internal Server Error";
    }
}

static void put_request_id(struct gw_ctx *c, struct gw_answer *a)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t seq = ++c->seq;
    char *p = a->request_id;
    for (int i = 7; i >= 0; i--) {
        *p++ = hex[(c->boot_id >> (4 * i)) & 15];
    }
    *p++ = '-';
    *p++ = hex[(c->worker >> 4) & 15];
    *p++ = hex[c->worker & 15];
    *p++ = '-';
    for (int i = 11; i >= 0; i--) {
        *p++ = hex[(seq >> (4 * i)) & 15];
    }
    *p = '\0';
}

/* head writes the status line and the headers every response has. */
static void head(struct gw_ctx *c, struct sgn_buf *out, unsigned status, int64_t now)
{
    update_date(c, now);
    sgn_buf_lit(out, "HTTP/1.1 ");
    const char *st = status_text(status);
    sgn_buf_append(out, st, strlen(st));
    sgn_buf_lit(out, "\r\nServer: oss-gateway\r\nDate: ");
    sgn_buf_append(out, c->date, strlen(c->date));
    sgn_buf_lit(out, "\r\n");
}

/* tail writes the headers that end every response and the empty line. A 204 has no Content-Length (RFC 9110 section
 * 8.6). */
static void tail(struct sgn_buf *out, const struct gw_answer *a, const struct gw_request *req, size_t body_len)
{
    if (a->status != 204) {
        sgn_buf_lit(out, "Content-Length: ");
        sgn_buf_u64(out, body_len);
        sgn_buf_lit(out, "\r\n");
    }
    sgn_buf_lit(out, "X-Request-Id: ");
    sgn_buf_append(out, a->request_id, strlen(a->request_id));
    if (req != NULL && req->traceparent.len > 0) {
        sgn_buf_lit(out, "\r\ntraceparent: ");
        sgn_buf_append(out, req->traceparent.base, req->traceparent.len);
    }
    if (a->close) {
        sgn_buf_lit(out, "\r\nConnection: close");
    } else if (req != NULL && req->minor == 0) {
        sgn_buf_lit(out, "\r\nConnection: keep-alive");
    }
    sgn_buf_lit(out, "\r\n\r\n");
}

static bool is_head(const struct gw_request *req)
{
    return req != NULL && req->method.len == 4 && memcmp(req->method.base, "HEAD", 4) == 0;
}

static void plain(struct gw_ctx *c, const struct gw_request *req, unsigned status, const char *text, size_t text_len,
                  const char *content_type, int64_t now, struct sgn_buf *out, struct gw_answer *a)
{
    size_t start = out->len;
    a->status = status;
    head(c, out, status, now);
    sgn_buf_lit(out, "Content-Type: ");
    sgn_buf_append(out, content_type, strlen(content_type));
    sgn_buf_lit(out, "\r\nCache-Control: no-store\r\n");
    if (status == 405) {
        sgn_buf_lit(out, "Allow: GET, HEAD\r\n");
    }
    tail(out, a, req, text_len);
    if (!is_head(req)) {
        sgn_buf_append(out, text, text_len);
    }
    a->bytes = out->len - start;
}

/* reply_error answers a 4xx/5xx with its one-line reason as the body. */
static void reply_error(struct gw_ctx *c, const struct gw_request *req, unsigned status, const char *reason, int64_t now,
                        struct sgn_buf *out, struct gw_answer *a)
{
    char text[160];
    size_t n = strlen(reason);
    if (n > sizeof(text) - 2) {
        n = sizeof(text) - 2;
    }
    memcpy(text, reason, n);
    text[n++] = '\n';
    a->reason = reason;
    plain(c, req, status, text, n, "text/plain; charset=utf-8", now, out, a);
}

void gw_handle_error(struct gw_ctx *c, const struct gw_req *r, unsigned status, const char *reason, int64_t now,
                     struct sgn_buf *out, struct gw_answer *a)
{
    memset(a, 0, sizeof(*a));
    put_request_id(c, a);
    a->close = true;
    reply_error(c, r->http, status, reason, now, out, a);
}

/* reply_options answers `OPTIONS *`, a question about the server as a whole (RFC 9110 section 9.3.7). */
static void reply_options(struct gw_ctx *c, const struct gw_request *req, int64_t now, struct sgn_buf *out, struct gw_answer *a)
{
    size_t start = out->len;
    a->status = 204;
    head(c, out, 204, now);
    sgn_buf_lit(out, "Allow: GET, HEAD, OPTIONS\r\n");
    tail(out, a, req, 0);
    a->bytes = out->len - start;
}

static bool view_eq(struct gw_view v, const char *s)
{
    return s != NULL && strlen(s) == v.len && memcmp(v.base, s, v.len) == 0;
}

static const char redirect_body_head[] = "<!DOCTYPE html>\n<title>Found</title>\n<p>The file is <a href=\"";
static const char redirect_body_tail[] = "\">here</a>.</p>\n";

static const char *sign(struct gw_ctx *c, const struct gw_req *r, int64_t t, uint32_t expires, const struct gw_creds_snap *snap,
                        size_t *url_len, unsigned *status);

const char *gw_presign_key(struct gw_ctx *c, const struct gw_req *r, int64_t now, size_t *url_len, unsigned *status)
{
    const struct cfg_route *route = r->route;
    const struct cfg_credentials *cr = route->backend->credentials;
    int64_t t = gw_sign_time(now, route->sign_window_s);
    uint64_t expires = (uint64_t)route->expires_s + route->sign_window_s; /* still `expires` left at the window's end */

    if (expires > SGN_MAX_EXPIRES) {
        expires = SGN_MAX_EXPIRES;
    }
    /* A renewing set signs with its current snapshot: a reference taken without a lock, held until the URL is built. */
    struct gw_creds_snap *snap = NULL;
    int64_t expiration = cr->expiration;
    if (gw_credrt_renews(cr)) {
        snap = gw_creds_set_acquire(c->rt->creds->set[cr - c->rt->cfg->credentials], now);
        if (snap == NULL) {
            *status = 503;
            return "credentials expired and not yet renewed";
        }
        expiration = snap->creds.expiration;
    }
    if (expiration > 0) {
        /* Against now, not the window start: a URL must be alive when it is handed out. */
        if (expiration - now < 1) {
            *status = 503;
            return "credentials expired; reload with fresh ones";
        }
        if ((uint64_t)(expiration - t) < expires) {
            expires = (uint64_t)(expiration - t);
        }
    }
    const char *why = sign(c, r, t, (uint32_t)expires, snap, url_len, status);
    gw_creds_snap_release(snap);
    c->url_end = t + (int64_t)expires;
    return why;
}

/* sign builds the URL for r's key through r's route, signed at `t` for `expires` seconds, with the keys of `snap`
 * (NULL: the static keys of the backend's template). */
static const char *sign(struct gw_ctx *c, const struct gw_req *r, int64_t t, uint32_t expires, const struct gw_creds_snap *snap,
                        size_t *url_len, unsigned *status)
{
    const struct cfg_route *route = r->route;
    size_t bi = (size_t)(route->backend - c->rt->cfg->backends);
    struct sgn_pair query[2];
    /* Room for the longest: a 1023-byte name of escaped ASCII gives a 1023-byte fallback and 3069 bytes of filename*. */
    char disposition[GW_DISPOSITION_MAX];
    size_t nq = 0;

    if (route->disposition != CFG_DISP_NONE) {
        const char *type = route->disposition == CFG_DISP_INLINE ? "inline" : "attachment";
        size_t n = gw_key_disposition(disposition, sizeof(disposition), type, r->key, r->key_len);
        if (n == 0) {
            *status = 500; /* cannot happen within GW_DISPOSITION_MAX; never answer without the file name asked for */
            return "could not build the download file name";
        }
        query[nq++] = (struct sgn_pair){SGN_VIEW_LIT("response-content-disposition"), {disposition, n}};
    }
    if (route->content_type != NULL) {
        query[nq++] = (struct sgn_pair){SGN_VIEW_LIT("response-content-type"), {route->content_type, strlen(route->content_type)}};
    }

    struct sgn_params p = c->rt->backend[bi];
    p.method = (struct sgn_view){r->method.base, r->method.len};
    p.key = (struct sgn_view){r->key, r->key_len};
    p.time = t;
    p.expires = expires;
    p.query = query;
    p.n_query = nq;
    p.prefix = &c->rt->get_prefix[bi]; /* used only when it is this request's prefix */
    uint64_t serial = 0;
    if (snap != NULL) {
        p.access_key_id = (struct sgn_view){snap->creds.access_key_id, snap->creds.access_key_id_len};
        p.secret = (struct sgn_view){snap->creds.secret, snap->creds.secret_len};
        p.security_token = (struct sgn_view){snap->creds.token, snap->creds.token_len};
        serial = snap->serial;
    }
    if (p.mode != SGN_MODE_OSS_V1) {
        /* The signing key changes with the UTC day (section 3, step 5) and with the keys: derive it once a day per
         * backend, and again when renewed keys come. */
        int64_t day = t / 86400;
        if (!c->keys.valid[bi] || c->keys.day[bi] != day || c->keys.serial[bi] != serial) {
            c->keys.valid[bi] = sgn_signing_key_derive(&c->keys.key[bi], p.mode, p.secret, p.region, t) == SGN_OK;
            c->keys.day[bi] = day;
            c->keys.serial[bi] = serial;
        }
        p.signing_key = c->keys.valid[bi] ? &c->keys.key[bi] : NULL;
    }
    enum sgn_status st = sgn_presign(c->url, sizeof(c->url), url_len, &p);
    if (st != SGN_OK) {
        gw_stat_inc(&c->stats->sign_failures, 1);
        gw_log(GW_LOG_ERR, "signing failed for route %s: %s", route->prefix, sgn_strerror(st));
        *status = 500;
        return "could not sign the URL";
    }
    return NULL;
}

void gw_handle(struct gw_ctx *c, struct gw_req *r, int64_t now, bool close, struct sgn_buf *out, struct gw_answer *a)
{
    const struct gw_request *req = r->http;
    const struct cfg_config *cfg = c->rt->cfg;
    bool get = req->method.len == 3 && memcmp(req->method.base, "GET", 3) == 0;
    bool head_req = is_head(req);

    memset(a, 0, sizeof(*a));
    put_request_id(c, a);
    a->close = close || !req->keep_alive;

    if (req->has_body) {
        a->close = true; /* the body is not read, so the connection cannot be reused */
    }
    if (!gw_http_method_known(req->method)) {
        reply_error(c, req, 501, "method not implemented", now, out, a);
        return;
    }
    if (req->has_body) {
        reply_error(c, req, 413, "request bodies are not accepted", now, out, a);
        return;
    }
    if (req->form == GW_TARGET_ASTERISK) {
        reply_options(c, req, now, out, a);
        return;
    }
    if (req->form == GW_TARGET_AUTHORITY) {
        reply_error(c, req, 405, "method not allowed", now, out, a);
        return;
    }
    /* The path, of the origin or the absolute form (whose authority is never used): a `//host` path must not be taken
     * for a host by anything downstream. */
    if (req->path.len > 1 && req->path.base[1] == '/') {
        reply_error(c, req, 400, "request target must be an absolute path", now, out, a);
        return;
    }
    if (view_eq(req->path, cfg->health_path) || view_eq(req->path, cfg->metrics_path)) {
        if (!get && !head_req) {
            reply_error(c, req, 405, "method not allowed", now, out, a);
            return;
        }
        if (view_eq(req->path, cfg->health_path)) {
            if (gw_credrt_health(c->rt->creds, now, c->reason, sizeof(c->reason)) != NULL) {
                reply_error(c, req, 503, c->reason, now, out, a);
                return;
            }
            plain(c, req, 200, "ok\n", 3, "text/plain; charset=utf-8", now, out, a);
            return;
        }
        /* Render into the URL scratch, then copy behind the headers. */
        struct sgn_buf m;
        sgn_buf_init(&m, c->url, sizeof(c->url));
        gw_metrics_render(&m);
        gw_credrt_metrics(c->rt->creds, now, &m);
        if (m.overflow) {
            reply_error(c, req, 500, "metrics too large", now, out, a);
            return;
        }
        plain(c, req, 200, m.base, m.len, "text/plain; version=0.0.4; charset=utf-8", now, out, a);
        return;
    }
    const struct cfg_route *route = cfg_route_match(cfg, req->path.base, req->path.len);
    if (route == NULL) {
        reply_error(c, req, 404, "no route for this path", now, out, a);
        return;
    }
    r->route = route;
    r->slot = c->rt->route_slot[route - cfg->routes];
    if (!get && !head_req) {
        reply_error(c, req, 405, "method not allowed", now, out, a);
        return;
    }
    size_t kp = route->key_prefix_len;
    size_t key_len;
    memcpy(r->key, route->key_prefix, kp);
    const char *why = gw_key_decode(r->key + kp, SGN_MAX_KEY - kp, &key_len, req->path.base + route->prefix_len,
                                    req->path.len - route->prefix_len);
    if (why != NULL) {
        r->key[0] = '\0';
        reply_error(c, req, 400, why, now, out, a);
        return;
    }
    r->key[kp + key_len] = '\0';
    r->key_len = kp + key_len;

    size_t url_len;
    unsigned fail_status;
    why = gw_presign_key(c, r, now, &url_len, &fail_status);
    if (why != NULL) {
        reply_error(c, req, fail_status, why, now, out, a);
        return;
    }

    /* The body repeats the URL for clients that do not follow redirects; '&' is its only byte HTML needs escaped. */
    size_t amps = 0;
    for (const char *p = memchr(c->url, '&', url_len); p != NULL; p = memchr(p + 1, '&', url_len - (size_t)(p + 1 - c->url))) {
        amps++;
    }
    size_t body_len = sizeof(redirect_body_head) - 1 + url_len + 4 * amps + sizeof(redirect_body_tail) - 1;
    size_t start = out->len;
    a->status = route->status;
    head(c, out, route->status, now);
    sgn_buf_lit(out, "Location: ");
    sgn_buf_append(out, c->url, url_len);
    /* A cached redirect must never outlive its URL: max-age is capped at what is left of it (short when the
     * credentials are about to be renewed), and no-store when nothing is. */
    int64_t max_age = route->cache_max_age_s;
    if (max_age > c->url_end - now) {
        max_age = c->url_end - now;
    }
    if (max_age > 0) {
        sgn_buf_lit(out, "\r\nCache-Control: private, max-age=");
        sgn_buf_u64(out, (uint64_t)max_age);
    } else {
        sgn_buf_lit(out, "\r\nCache-Control: no-store");
    }
    if (route->referrer_policy != NULL) {
        sgn_buf_lit(out, "\r\nReferrer-Policy: ");
        sgn_buf_append(out, route->referrer_policy, strlen(route->referrer_policy));
    }
    sgn_buf_lit(out, "\r\nContent-Type: text/html; charset=utf-8\r\n");
    tail(out, a, req, body_len);
    if (!head_req) {
        sgn_buf_lit(out, redirect_body_head);
        const char *p = c->url;
        const char *end = c->url + url_len;
        while (p < end) {
            const char *amp = memchr(p, '&', (size_t)(end - p));
            if (amp == NULL) {
                sgn_buf_append(out, p, (size_t)(end - p));
                break;
            }
            sgn_buf_append(out, p, (size_t)(amp - p));
            sgn_buf_lit(out, "&amp;");
            p = amp + 1;
        }
        sgn_buf_lit(out, redirect_body_tail);
    }
    a->bytes = out->len - start;
}
