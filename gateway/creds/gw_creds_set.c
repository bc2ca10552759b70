/* gw_creds_set.c: credential sets, their sources and the refresh thread (gw_creds_set.h). */
#include "gw_creds_set.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "gw_errbuf.h"
#include "gw_fetch.h"
#include "gw_tls.h"
#include "sgn.h"
#include "sgn_rpc.h"

#define MAX_OIDC_TOKEN 16384

struct gw_creds_set {
    char name[64];
    enum gw_creds_source_kind kind;
    /* copies of the configuration strings (NULL when not set) */
    char *metadata_url, *role_name, *sts_url, *role_arn, *role_session_name, *policy, *oidc_provider_arn, *oidc_token_file,
        *external_id, *url;
    bool disable_imds_v1;
    unsigned duration_s, connect_timeout_ms, total_timeout_ms;
    struct gw_creds_set *base;
    struct gw_tls_ctx *tls;

    _Atomic(struct gw_creds_snap *) cur;
    atomic_uint epoch;
    atomic_long readers[2];

    pthread_mutex_t lock; /* stats and need; never held by readers of `cur` */
    int64_t need_s, margin_s;
    struct gw_creds_stats stats;
    /* refresh thread only */
    int64_t next_mono_ms;
    unsigned failures;
    int64_t reported_mono_ms; /* when a failure was last reported, 0 for never */
    unsigned long suppressed; /* failures not reported since */
};

#define REPORT_EVERY_MS 60000

static atomic_uint_fast64_t snap_serial;
static gw_creds_log_fn log_fn;

void gw_creds_set_log(gw_creds_log_fn fn)
{
    log_fn = fn;
}

static uint64_t next_serial(void)
{
    return atomic_fetch_add(&snap_serial, 1) + 1;
}

/* ---- snapshots ---- */

void gw_creds_snap_release(struct gw_creds_snap *snap)
{
    if (snap == NULL || atomic_fetch_sub(&snap->refs, 1) != 1) {
        return;
    }
    gw_creds_cleanup(&snap->creds);
    free(snap);
}

struct gw_creds_snap *gw_creds_set_acquire(struct gw_creds_set *s, int64_t now)
{
    /* Count ourselves in the reader slot of the current epoch, so that the publisher, which flips the epoch after
     * swapping the pointer, waits for us before it drops its reference to the snapshot we may have loaded. */
    unsigned e;
    for (;;) {
        e = atomic_load(&s->epoch);
        atomic_fetch_add(&s->readers[e & 1], 1);
        if (atomic_load(&s->epoch) == e) {
            break;
        }
        atomic_fetch_sub(&s->readers[e & 1], 1);
    }
    struct gw_creds_snap *snap = atomic_load(&s->cur);
    if (snap != NULL) {
        atomic_fetch_add(&snap->refs, 1);
    }
    atomic_fetch_sub(&s->readers[e & 1], 1);
    if (snap != NULL && snap->creds.expiration != 0 && snap->creds.expiration <= now) {
        gw_creds_snap_release(snap);
        return NULL;
    }
    return snap;
}

/* publish swaps in `snap` (taking its reference) and drops the set's reference to the previous one. */
static void publish(struct gw_creds_set *s, struct gw_creds_snap *snap)
{
    snap->serial = next_serial();
    struct gw_creds_snap *old = atomic_exchange(&s->cur, snap);
    unsigned e = atomic_fetch_add(&s->epoch, 1);
    while (atomic_load(&s->readers[e & 1]) != 0) {
        sched_yield(); /* a reader is between loading the pointer and taking its reference: a few instructions */
    }
    gw_creds_snap_release(old);
}

/* ---- helpers ---- */

static int64_t wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *dup_opt(const char *s, bool *oom)
{
    if (s == NULL) {
        return NULL;
    }
    char *p = strdup(s);
    if (p == NULL) {
        *oom = true;
    }
    return p;
}

/* struct strbuf is a growing string for queries and form bodies (bounded by GW_FETCH_MAX_URL). */
struct strbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void sb_add(struct strbuf *b, const char *s, size_t n)
{
    if (b->failed || n > GW_FETCH_MAX_URL - b->len) {
        b->failed = true;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 1024 : b->cap;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* sb_param appends "&name=enc(value)" (without the "&" when first). */
static void sb_param(struct strbuf *b, const struct sgn_rpc_param *p)
{
    char enc[3 * 1024];
    size_t n = 0;
    if (b->len > 0) {
        sb_add(b, "&", 1);
    }
    sb_add(b, p->name.base, p->name.len);
    sb_add(b, "=", 1);
    for (size_t off = 0; off < p->value.len && !b->failed; off += 1024) {
        size_t chunk = p->value.len - off < 1024 ? p->value.len - off : 1024;
        if (sgn_encode(enc, sizeof(enc), &n, (struct sgn_view){p->value.base + off, chunk}, false) != SGN_OK) {
            b->failed = true;
            return;
        }
        sb_add(b, enc, n);
    }
}

static void sb_wipe(struct strbuf *b)
{
    if (b->p != NULL) {
        explicit_bzero(b->p, b->cap);
        free(b->p);
    }
    memset(b, 0, sizeof(*b));
}

static int http_call(struct gw_creds_set *s, const char *method, const char *url, const struct gw_fetch_header *h, size_t n_h,
                     const char *body, size_t body_len, struct gw_fetch_response *resp, char *err, size_t err_cap)
{
    struct gw_fetch_request req = {.method = method,
                                   .url = url,
                                   .headers = h,
                                   .n_headers = n_h,
                                   .body = body,
                                   .body_len = body_len,
                                   .tls = s->tls,
                                   .connect_timeout_ms = s->connect_timeout_ms,
                                   .total_timeout_ms = s->total_timeout_ms,
                                   .max_body = GW_CREDS_MAX_BODY};
    return gw_fetch(resp, &req, err, err_cap);
}

/* ---- sources ---- */

static int fetch_ecs(struct gw_creds_set *s, struct gw_creds *out, char *err, size_t err_cap)
{
    struct gw_fetch_response r = {0};
    char url[1024], token[256] = "", role[128];
    char ferr[256];
    int rc = -1;

    /* IMDSv2: a session token first (hardened mode). Without disable_imds_v1, a failure falls back to v1 as the SDKs
     * do; with it, the failure is the answer. */
    int n = snprintf(url, sizeof(url), "%s/latest/api/token", s->metadata_url);
    static const struct gw_fetch_header ttl[] = {{"X-aliyun-ecs-metadata-token-ttl-seconds", "21600"}};
    if (n < 0 || (size_t)n >= sizeof(url)) {
        gw_errf(err, err_cap, "metadata_url too long");
        return -1;
    }
    if (http_call(s, "PUT", url, ttl, 1, NULL, 0, &r, ferr, sizeof(ferr)) != 0 || r.status != 200 || r.body_len == 0 ||
        r.body_len >= sizeof(token)) {
        if (s->disable_imds_v1) {
            if (r.status != 0) {
                gw_errf(err, err_cap, "metadata token: HTTP %d", r.status);
            } else {
                gw_errf(err, err_cap, "metadata token: %s", ferr);
            }
            goto cleanup;
        }
    } else {
        memcpy(token, r.body, r.body_len + 1);
    }
    gw_fetch_response_cleanup(&r);
    for (size_t i = 0; token[i] != '\0'; i++) {
        if ((unsigned char)token[i] <= 0x20 || (unsigned char)token[i] >= 0x7f) {
            gw_errf(err, err_cap, "metadata token has a byte outside printable ASCII");
            goto cleanup;
        }
    }
    struct gw_fetch_header th[] = {{"X-aliyun-ecs-metadata-token", token}};
    size_t n_th = token[0] != '\0' ? 1 : 0;

    if (s->role_name != NULL) {
        snprintf(role, sizeof(role), "%s", s->role_name);
    } else {
        n = snprintf(url, sizeof(url), "%s/latest/meta-data/ram/security-credentials/", s->metadata_url);
        if (n < 0 || (size_t)n >= sizeof(url)) {
            gw_errf(err, err_cap, "metadata URL too long");
            goto cleanup;
        }
        if (http_call(s, "GET", url, th, n_th, NULL, 0, &r, ferr, sizeof(ferr)) != 0) {
            gw_errf(err, err_cap, "metadata role discovery: %s", ferr);
            goto cleanup;
        }
        if (r.status != 200) {
            gw_errf(err, err_cap, "metadata role discovery: HTTP %d", r.status);
            goto cleanup;
        }
        size_t len = strcspn(r.body, "\r\n");
        while (len > 0 && r.body[len - 1] == ' ') {
            len--;
        }
        if (len == 0 || len >= sizeof(role) ||
            strspn(r.body, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_+=,@") < len) {
            gw_errf(err, err_cap, "metadata role discovery: no valid role name in the answer");
            goto cleanup;
        }
        memcpy(role, r.body, len);
        role[len] = '\0';
        gw_fetch_response_cleanup(&r);
    }
    n = snprintf(url, sizeof(url), "%s/latest/meta-data/ram/security-credentials/%s", s->metadata_url, role);
    if (n < 0 || (size_t)n >= sizeof(url)) {
        gw_errf(err, err_cap, "metadata URL too long");
        goto cleanup;
    }
    if (http_call(s, "GET", url, th, n_th, NULL, 0, &r, ferr, sizeof(ferr)) != 0) {
        gw_errf(err, err_cap, "metadata credentials of role %s: %s", role, ferr);
        goto cleanup;
    }
    if (r.status != 200) {
        gw_errf(err, err_cap, "metadata credentials of role %s: HTTP %d", role, r.status);
        goto cleanup;
    }
    if (gw_creds_parse(out, GW_CREDS_ECS, r.body, r.body_len, wall_now(), ferr, sizeof(ferr)) != 0) {
        gw_errf(err, err_cap, "metadata credentials of role %s: %s", role, ferr);
        goto cleanup;
    }
    rc = 0;
cleanup:
    explicit_bzero(token, sizeof(token));
    gw_fetch_response_cleanup(&r);
    return rc;
}

static void iso_time(char out[21], int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

#define PARAM(n, v) ((struct sgn_rpc_param){{(n), sizeof(n) - 1}, {(v), strlen(v)}})

/* sts_call POSTs an RPC request to STS: `query` parameters in the URL, `form` parameters in the body. When `signer` is
 * given, the request is signed with it (AssumeRole); the signature covers both. */
static int sts_call(struct gw_creds_set *s, const struct sgn_rpc_param *query, size_t n_query, const struct sgn_rpc_param *form,
                    size_t n_form, const struct gw_creds *signer, struct gw_creds *out, char *err, size_t err_cap)
{
    struct strbuf url = {0}, qs = {0}, body = {0};
    struct gw_fetch_response r = {0};
    char sig[SGN_RPC_SIG_CAP], ferr[256];
    int rc = -1;

    for (size_t i = 0; i < n_query; i++) {
        sb_param(&qs, &query[i]);
    }
    for (size_t i = 0; i < n_form; i++) {
        sb_param(&body, &form[i]);
    }
    if (signer != NULL) {
        struct sgn_rpc_param all[SGN_RPC_MAX_PARAMS];
        if (n_query + n_form > SGN_RPC_MAX_PARAMS) {
            gw_errf(err, err_cap, "STS request has too many parameters");
            goto cleanup;
        }
        memcpy(all, query, n_query * sizeof(*all));
        memcpy(all + n_query, form, n_form * sizeof(*all));
        enum sgn_status st =
            sgn_rpc_sign(sig, SGN_VIEW_LIT("POST"), all, n_query + n_form, (struct sgn_view){signer->secret, signer->secret_len});
        if (st != SGN_OK) {
            gw_errf(err, err_cap, "signing the STS request: %s", sgn_strerror(st));
            goto cleanup;
        }
        struct sgn_rpc_param sp = PARAM("Signature", sig);
        sb_param(&qs, &sp);
    }
    size_t base_len = strlen(s->sts_url);
    bool slash = base_len > 0 && s->sts_url[base_len - 1] == '/';
    sb_add(&url, s->sts_url, base_len);
    sb_add(&url, slash ? "?" : "/?", slash ? 1 : 2);
    sb_add(&url, qs.p != NULL ? qs.p : "", qs.len);
    if (url.failed || qs.failed || body.failed) {
        gw_errf(err, err_cap, "STS request over %d bytes or out of memory", GW_FETCH_MAX_URL);
        goto cleanup;
    }
    static const struct gw_fetch_header h[] = {{"Content-Type", "application/x-www-form-urlencoded"},
                                               {"Accept", "application/json"}};
    if (http_call(s, "POST", url.p, h, 2, body.p != NULL ? body.p : "", body.len, &r, ferr, sizeof(ferr)) != 0) {
        gw_errf(err, err_cap, "STS: %s", ferr);
        goto cleanup;
    }
    /* STS answers errors with a JSON body and a 4xx/5xx status: the parser reports its Code and Message. */
    if (gw_creds_parse(out, GW_CREDS_STS, r.body, r.body_len, wall_now(), ferr, sizeof(ferr)) != 0) {
        gw_errf(err, err_cap, "STS (HTTP %d): %s", r.status, ferr);
        goto cleanup;
    }
    if (r.status != 200) {
        gw_creds_cleanup(out);
        gw_errf(err, err_cap, "STS: HTTP %d with credentials", r.status);
        goto cleanup;
    }
    rc = 0;
cleanup:
    explicit_bzero(sig, sizeof(sig));
    sb_wipe(&url);
    sb_wipe(&qs);
    sb_wipe(&body);
    gw_fetch_response_cleanup(&r);
    return rc;
}

static int read_token_file(const char *path, char *buf, size_t cap, size_t *out_len, char *err, size_t err_cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        gw_errf(err, err_cap, "OIDC token file %s: %s", path, strerror(errno));
        return -1;
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            gw_errf(err, err_cap, "OIDC token file %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
        if (len == cap) {
            gw_errf(err, err_cap, "OIDC token file %s is over %zu bytes", path, cap - 1);
            close(fd);
            return -1;
        }
    }
    close(fd);
    buf[len] = '\0';
    *out_len = len;
    return 0;
}

static int fetch_sts(struct gw_creds_set *s, struct gw_creds *out, char *err, size_t err_cap)
{
    char ts[21], duration[16], nonce[33];
    struct gw_creds_snap *base = NULL;
    char *token = NULL;
    int rc = -1;

    iso_time(ts, wall_now());
    snprintf(duration, sizeof(duration), "%u", s->duration_s);
    struct sgn_rpc_param q[10], f[6];
    size_t nq = 0, nf = 0;
    q[nq++] = PARAM("Version", "2015-04-01");
    q[nq++] = PARAM("Format", "JSON");
    q[nq++] = PARAM("Timestamp", ts);
    f[nf++] = PARAM("RoleArn", s->role_arn);
    f[nf++] = PARAM("RoleSessionName", s->role_session_name);
    f[nf++] = PARAM("DurationSeconds", duration);
    if (s->policy != NULL) {
        f[nf++] = PARAM("Policy", s->policy);
    }
    if (s->kind == GW_CREDS_SRC_OIDC) {
        size_t len = 0;
        token = malloc(MAX_OIDC_TOKEN + 1);
        if (token == NULL) {
            gw_errf(err, err_cap, "out of memory");
            goto cleanup;
        }
        if (read_token_file(s->oidc_token_file, token, MAX_OIDC_TOKEN + 1, &len, err, err_cap) != 0) {
            goto cleanup;
        }
        q[nq++] = PARAM("Action", "AssumeRoleWithOIDC");
        f[nf++] = PARAM("OIDCProviderArn", s->oidc_provider_arn);
        f[nf++] = (struct sgn_rpc_param){SGN_VIEW_LIT("OIDCToken"), {token, len}};
        rc = sts_call(s, q, nq, f, nf, NULL, out, err, err_cap);
        goto cleanup;
    }
    base = gw_creds_set_acquire(s->base, wall_now());
    if (base == NULL) {
        gw_errf(err, err_cap, "base set %s has no valid credentials", gw_creds_set_name(s->base));
        goto cleanup;
    }
    uint8_t rnd[16];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        gw_errf(err, err_cap, "getrandom: %s", strerror(errno));
        goto cleanup;
    }
    for (size_t i = 0; i < sizeof(rnd); i++) {
        snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
    }
    q[nq++] = PARAM("Action", "AssumeRole");
    q[nq++] = PARAM("SignatureMethod", "HMAC-SHA1");
    q[nq++] = PARAM("SignatureVersion", "1.0");
    q[nq++] = PARAM("SignatureNonce", nonce);
    q[nq++] = (struct sgn_rpc_param){SGN_VIEW_LIT("AccessKeyId"), {base->creds.access_key_id, base->creds.access_key_id_len}};
    if (base->creds.token_len > 0) {
        q[nq++] = (struct sgn_rpc_param){SGN_VIEW_LIT("SecurityToken"), {base->creds.token, base->creds.token_len}};
    }
    if (s->external_id != NULL) {
        f[nf++] = PARAM("ExternalId", s->external_id);
    }
    rc = sts_call(s, q, nq, f, nf, &base->creds, out, err, err_cap);
cleanup:
    gw_creds_snap_release(base);
    if (token != NULL) {
        explicit_bzero(token, MAX_OIDC_TOKEN + 1);
        free(token);
    }
    return rc;
}

static int fetch_uri(struct gw_creds_set *s, struct gw_creds *out, char *err, size_t err_cap)
{
    struct gw_fetch_response r = {0};
    char ferr[256];
    int rc = -1;
    if (http_call(s, "GET", s->url, NULL, 0, NULL, 0, &r, ferr, sizeof(ferr)) != 0) {
        gw_errf(err, err_cap, "credentials URI: %s", ferr);
    } else if (r.status != 200) {
        gw_errf(err, err_cap, "credentials URI: HTTP %d", r.status);
    } else if (gw_creds_parse(out, GW_CREDS_URI, r.body, r.body_len, wall_now(), ferr, sizeof(ferr)) != 0) {
        gw_errf(err, err_cap, "credentials URI: %s", ferr);
    } else {
        rc = 0;
    }
    gw_fetch_response_cleanup(&r);
    return rc;
}

/* ---- sets ---- */

static int check_url(const char *what, const char *url, char *err, size_t err_cap)
{
    struct gw_url u;
    char uerr[200];
    if (url == NULL || gw_url_parse(&u, url, strlen(url), uerr, sizeof(uerr)) != 0) {
        gw_errf(err, err_cap, "%s: %s", what, url == NULL ? "missing" : uerr);
        return -1;
    }
    return 0;
}

struct gw_creds_set *gw_creds_set_new(const char *name, const struct gw_creds_source_config *cfg, char *err, size_t err_cap)
{
    struct gw_creds_set *s = calloc(1, sizeof(*s));
    bool oom = false;
    if (s == NULL) {
        gw_errf(err, err_cap, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->margin_s = 60;
    if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof(s->name)) {
        gw_errf(err, err_cap, "credential set name must be 1..63 bytes");
        goto fail;
    }
    memcpy(s->name, name, strlen(name) + 1);
    s->kind = cfg->kind;
    s->disable_imds_v1 = cfg->disable_imds_v1;
    s->duration_s = cfg->duration_s != 0 ? cfg->duration_s : 3600;
    s->connect_timeout_ms = cfg->connect_timeout_ms != 0 ? cfg->connect_timeout_ms : 1000;
    s->total_timeout_ms = cfg->total_timeout_ms != 0 ? cfg->total_timeout_ms : 5000;
    s->base = cfg->base;
    s->metadata_url = dup_opt(cfg->metadata_url != NULL ? cfg->metadata_url : GW_CREDS_DEFAULT_METADATA_URL, &oom);
    s->role_name = dup_opt(cfg->role_name, &oom);
    s->sts_url = dup_opt(cfg->sts_url != NULL ? cfg->sts_url : GW_CREDS_DEFAULT_STS_URL, &oom);
    s->role_arn = dup_opt(cfg->role_arn, &oom);
    s->role_session_name = dup_opt(cfg->role_session_name != NULL ? cfg->role_session_name : "oss-gateway", &oom);
    s->policy = dup_opt(cfg->policy, &oom);
    s->oidc_provider_arn = dup_opt(cfg->oidc_provider_arn, &oom);
    s->oidc_token_file = dup_opt(cfg->oidc_token_file, &oom);
    s->external_id = dup_opt(cfg->external_id, &oom);
    s->url = dup_opt(cfg->url, &oom);
    if (oom) {
        gw_errf(err, err_cap, "out of memory");
        goto fail;
    }
    if (s->duration_s < 900 || s->duration_s > 43200) {
        gw_errf(err, err_cap, "duration must be 900..43200 s");
        goto fail;
    }
    switch (s->kind) {
    case GW_CREDS_SRC_STATIC: {
        struct gw_creds_snap *snap = calloc(1, sizeof(*snap));
        if (cfg->static_creds == NULL || snap == NULL || gw_creds_copy(&snap->creds, cfg->static_creds) != 0) {
            free(snap);
            gw_errf(err, err_cap, cfg->static_creds == NULL ? "static set without credentials" : "out of memory");
            goto fail;
        }
        atomic_init(&snap->refs, 1);
        snap->obtained = wall_now();
        snap->serial = next_serial();
        atomic_store(&s->cur, snap);
        s->stats.expiration = snap->creds.expiration;
        return s;
    }
    case GW_CREDS_SRC_ECS_RAM_ROLE:
        if (check_url("metadata_url", s->metadata_url, err, err_cap) != 0) {
            goto fail;
        }
        if (s->role_name != NULL &&
            (s->role_name[0] == '\0' || strlen(s->role_name) > 64 ||
             strspn(s->role_name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_+=,@") !=
                 strlen(s->role_name))) {
            gw_errf(err, err_cap, "role_name must be 1..64 of [A-Za-z0-9.-_+=,@]");
            goto fail;
        }
        break;
    case GW_CREDS_SRC_OIDC:
    case GW_CREDS_SRC_ASSUME_ROLE:
        if (check_url("sts_endpoint", s->sts_url, err, err_cap) != 0) {
            goto fail;
        }
        if (s->role_arn == NULL) {
            gw_errf(err, err_cap, "role_arn is required");
            goto fail;
        }
        if (s->kind == GW_CREDS_SRC_OIDC && (s->oidc_provider_arn == NULL || s->oidc_token_file == NULL)) {
            gw_errf(err, err_cap, "oidc_provider_arn and oidc_token_file are required");
            goto fail;
        }
        if (s->kind == GW_CREDS_SRC_ASSUME_ROLE && s->base == NULL) {
            gw_errf(err, err_cap, "base is required");
            goto fail;
        }
        break;
    case GW_CREDS_SRC_URI:
        if (check_url("url", s->url, err, err_cap) != 0) {
            goto fail;
        }
        break;
    default:
        gw_errf(err, err_cap, "unknown credential source");
        goto fail;
    }
    char terr[256];
    s->tls = gw_tls_client_ctx_new(cfg->ca_file, terr, sizeof(terr));
    if (s->tls == NULL) {
        gw_errf(err, err_cap, "%s", terr);
        goto fail;
    }
    return s;
fail:
    gw_creds_set_free(s);
    return NULL;
}

void gw_creds_set_free(struct gw_creds_set *s)
{
    if (s == NULL) {
        return;
    }
    gw_creds_snap_release(atomic_load(&s->cur));
    gw_tls_ctx_free(s->tls);
    char *strs[] = {s->metadata_url, s->role_name,         s->sts_url,         s->role_arn,    s->role_session_name,
                    s->policy,       s->oidc_provider_arn, s->oidc_token_file, s->external_id, s->url};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        free(strs[i]);
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

const char *gw_creds_set_name(const struct gw_creds_set *s)
{
    return s->name;
}

void gw_creds_set_need(struct gw_creds_set *s, int64_t need_s, int64_t margin_s)
{
    pthread_mutex_lock(&s->lock);
    s->need_s = need_s;
    s->margin_s = margin_s;
    pthread_mutex_unlock(&s->lock);
}

void gw_creds_set_stats(struct gw_creds_set *s, struct gw_creds_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}

/* attempt runs one fetch and publishes it; returns the Unix time at which to renew, or -1 on failure. */
static int64_t attempt(struct gw_creds_set *s, char *err, size_t err_cap)
{
    struct gw_creds c = {0};
    int rc;
    switch (s->kind) {
    case GW_CREDS_SRC_ECS_RAM_ROLE:
        rc = fetch_ecs(s, &c, err, err_cap);
        break;
    case GW_CREDS_SRC_OIDC:
    case GW_CREDS_SRC_ASSUME_ROLE:
        rc = fetch_sts(s, &c, err, err_cap);
        break;
    case GW_CREDS_SRC_URI:
        rc = fetch_uri(s, &c, err, err_cap);
        break;
    default:
        return INT64_MAX; /* static: nothing to renew */
    }
    int64_t now = wall_now();
    pthread_mutex_lock(&s->lock);
    if (rc != 0) {
        s->stats.refresh_failed++;
        snprintf(s->stats.last_error, sizeof(s->stats.last_error), "%s", err);
        pthread_mutex_unlock(&s->lock);
        return -1;
    }
    int64_t need = s->need_s, margin = s->margin_s;
    s->stats.refresh_ok++;
    s->stats.last_ok = now;
    s->stats.expiration = c.expiration;
    s->stats.last_error[0] = '\0';
    pthread_mutex_unlock(&s->lock);

    struct gw_creds_snap *snap = calloc(1, sizeof(*snap));
    if (snap == NULL) {
        gw_creds_cleanup(&c);
        gw_errf(err, err_cap, "out of memory");
        return -1;
    }
    atomic_init(&snap->refs, 1);
    snap->creds = c;
    snap->obtained = now;
    publish(s, snap);
    return gw_creds_refresh_at(now, c.expiration, need, margin);
}

int gw_creds_set_replace(struct gw_creds_set *s, const struct gw_creds *c)
{
    if (s->kind != GW_CREDS_SRC_STATIC) {
        return -1;
    }
    struct gw_creds_snap *snap = calloc(1, sizeof(*snap));
    if (snap == NULL || gw_creds_copy(&snap->creds, c) != 0) {
        free(snap);
        return -1;
    }
    atomic_init(&snap->refs, 1);
    snap->obtained = wall_now();
    pthread_mutex_lock(&s->lock);
    s->stats.refresh_ok++;
    s->stats.last_ok = snap->obtained;
    s->stats.expiration = c->expiration;
    s->stats.last_error[0] = '\0';
    pthread_mutex_unlock(&s->lock);
    publish(s, snap);
    return 0;
}

void gw_creds_set_failed(struct gw_creds_set *s, const char *err)
{
    pthread_mutex_lock(&s->lock);
    s->stats.refresh_failed++;
    snprintf(s->stats.last_error, sizeof(s->stats.last_error), "%s", err);
    pthread_mutex_unlock(&s->lock);
}

int gw_creds_set_fetch_once(struct gw_creds_set *s, char *err, size_t err_cap)
{
    return attempt(s, err, err_cap) < 0 ? -1 : 0;
}

/* ---- the refresh thread ---- */

struct gw_creds_refresher {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    size_t n_sets;
    struct gw_creds_set *sets[GW_CREDS_MAX_SETS];
};

/* report_failure tells log_fn of a failed attempt: the first of a streak, then at most one a minute. */
static void report_failure(struct gw_creds_set *s, const char *err)
{
    int64_t now = mono_ms();
    if (log_fn == NULL) {
        return;
    }
    if (s->failures > 0 && s->reported_mono_ms != 0 && now - s->reported_mono_ms < REPORT_EVERY_MS) {
        s->suppressed++;
        return;
    }
    log_fn(s->name, err, s->failures + 1, s->suppressed);
    s->reported_mono_ms = now;
    s->suppressed = 0;
}

static void *refresher_main(void *arg)
{
    struct gw_creds_refresher *r = arg;
    char err[256];
    for (;;) {
        int64_t now = mono_ms(), next = now + 60000;
        for (size_t i = 0; i < r->n_sets; i++) {
            struct gw_creds_set *s = r->sets[i];
            pthread_mutex_lock(&r->lock);
            bool stop = r->stop;
            pthread_mutex_unlock(&r->lock);
            if (stop) {
                return NULL;
            }
            if (s->kind == GW_CREDS_SRC_STATIC) {
                continue;
            }
            if (mono_ms() >= s->next_mono_ms) {
                int64_t at = attempt(s, err, sizeof(err));
                if (at < 0) {
                    report_failure(s, err);
                    uint32_t rnd = 0;
                    if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
                        rnd = (uint32_t)mono_ms();
                    }
                    s->next_mono_ms = mono_ms() + gw_creds_backoff_ms(s->failures, rnd);
                    if (s->failures < 64) {
                        s->failures++;
                    }
                } else {
                    s->failures = 0;
                    int64_t wait_s = at - wall_now();
                    s->next_mono_ms = mono_ms() + (wait_s > 0 ? wait_s * 1000 : 0);
                }
            }
            if (s->next_mono_ms < next) {
                next = s->next_mono_ms;
            }
        }
        pthread_mutex_lock(&r->lock);
        while (!r->stop && mono_ms() < next) {
            int64_t ms = next;
            struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
            pthread_cond_timedwait(&r->cond, &r->lock, &ts);
        }
        bool stop = r->stop;
        pthread_mutex_unlock(&r->lock);
        if (stop) {
            return NULL;
        }
    }
}

struct gw_creds_refresher *gw_creds_refresher_start(struct gw_creds_set *const *sets, size_t n_sets, char *err, size_t err_cap)
{
    if (n_sets > GW_CREDS_MAX_SETS) {
        gw_errf(err, err_cap, "more than %d credential sets", GW_CREDS_MAX_SETS);
        return NULL;
    }
    struct gw_creds_refresher *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        gw_errf(err, err_cap, "out of memory");
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&r->lock, NULL);
    r->n_sets = n_sets;
    int64_t now = mono_ms();
    for (size_t i = 0; i < n_sets; i++) {
        r->sets[i] = sets[i];
        /* A set fetched at start-up (gw_creds_set_fetch_once) is renewed on its schedule, others at once. */
        struct gw_creds_snap *snap = gw_creds_set_acquire(sets[i], wall_now());
        sets[i]->next_mono_ms = now;
        if (snap != NULL) {
            int64_t need, margin;
            pthread_mutex_lock(&sets[i]->lock);
            need = sets[i]->need_s;
            margin = sets[i]->margin_s;
            pthread_mutex_unlock(&sets[i]->lock);
            int64_t wait_s = gw_creds_refresh_at(snap->obtained, snap->creds.expiration, need, margin) - wall_now();
            sets[i]->next_mono_ms = now + (wait_s > 0 ? wait_s * 1000 : 0);
            gw_creds_snap_release(snap);
        }
    }
    int rc = pthread_create(&r->thread, NULL, refresher_main, r);
    if (rc != 0) {
        gw_errf(err, err_cap, "refresh thread: %s", strerror(rc));
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return NULL;
    }
    return r;
}

void gw_creds_refresher_stop(struct gw_creds_refresher *r)
{
    if (r == NULL) {
        return;
    }
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
