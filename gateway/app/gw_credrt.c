/* gw_credrt.c: the credential sets of one configuration (gw_credrt.h). */
#include "gw_credrt.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "gw_creds.h"
#include "gw_log.h"

#define WATCH_SETTLE_MS 100 /* a sidecar writes the files one by one: read them once it has been quiet this long */
#define WATCH_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB)

struct gw_credrt_watch {
    struct gw_credrt *c;
    pthread_t thread;
    int ifd;
    int stop_fd;
    int wd[CFG_MAX_CREDENTIALS]; /* -1: the set is not watched */
};

static const char *const source_name[] = {
    [CFG_CRED_STATIC] = "static", [CFG_CRED_ECS_RAM_ROLE] = "ecs_ram_role",
    [CFG_CRED_OIDC] = "oidc",     [CFG_CRED_ASSUME_ROLE] = "assume_role",
    [CFG_CRED_URI] = "uri",
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t index_of(const struct cfg_config *cfg, const struct cfg_credentials *cr)
{
    return (size_t)(cr - cfg->credentials);
}

size_t gw_credrt_renewing(const struct cfg_config *cfg)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_credentials; i++) {
        n += cfg->credentials[i].source != CFG_CRED_STATIC;
    }
    return n;
}

static struct gw_creds_set *new_set(const struct gw_credrt *c, const struct cfg_credentials *cr, char *err, size_t err_cap)
{
    const struct cfg_cred_renew *r = &cr->renew;
    struct gw_creds keys = {
        .access_key_id = cr->access_key_id,
        .access_key_id_len = cr->access_key_id != NULL ? strlen(cr->access_key_id) : 0,
        .secret = (char *)cr->secret,
        .secret_len = cr->secret_len,
        .token = cr->security_token,
        .token_len = cr->security_token != NULL ? strlen(cr->security_token) : 0,
        .expiration = cr->expiration,
    };
    struct gw_creds_source_config sc = {
        .kind = GW_CREDS_SRC_STATIC,
        .static_creds = &keys,
        .metadata_url = r->metadata_url,
        .role_name = r->role_name,
        .disable_imds_v1 = r->disable_imds_v1,
        .sts_url = r->sts_url,
        .role_arn = r->role_arn,
        .role_session_name = r->role_session_name,
        .duration_s = r->duration_s,
        .policy = r->policy,
        .oidc_provider_arn = r->oidc_provider_arn,
        .oidc_token_file = r->oidc_token_file,
        .base = r->base != NULL ? c->set[index_of(c->cfg, r->base)] : NULL,
        .external_id = r->external_id,
        .url = r->url,
        .ca_file = r->ca_file,
        /* An attempt never outlasts the start-up wait by more than itself. */
        .total_timeout_ms = cr->startup_timeout_ms != 0 && cr->startup_timeout_ms < 5000 ? cr->startup_timeout_ms : 5000,
    };
    switch (cr->source) {
    case CFG_CRED_STATIC:
        sc.kind = GW_CREDS_SRC_STATIC;
        break;
    case CFG_CRED_ECS_RAM_ROLE:
        sc.kind = GW_CREDS_SRC_ECS_RAM_ROLE;
        break;
    case CFG_CRED_OIDC:
        sc.kind = GW_CREDS_SRC_OIDC;
        break;
    case CFG_CRED_ASSUME_ROLE:
        sc.kind = GW_CREDS_SRC_ASSUME_ROLE;
        break;
    case CFG_CRED_URI:
        sc.kind = GW_CREDS_SRC_URI;
        break;
    }
    char why[256];
    struct gw_creds_set *s = gw_creds_set_new(cr->name, &sc, why, sizeof(why));
    if (s == NULL) {
        snprintf(err, err_cap, "credentials.%s: %s", cr->name, why);
    }
    return s;
}

struct gw_credrt *gw_credrt_new(const struct cfg_config *cfg, char *err, size_t err_cap)
{
    struct gw_credrt *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    c->cfg = cfg;
    /* Bases come first in cfg->credentials (conf/ orders them), so a base's set exists when its user is made. */
    for (size_t i = 0; i < cfg->n_credentials && i < CFG_MAX_CREDENTIALS; i++) {
        c->set[i] = new_set(c, &cfg->credentials[i], err, err_cap);
        if (c->set[i] == NULL) {
            gw_credrt_free(c);
            return NULL;
        }
        c->n = i + 1;
    }
    /* What each set must cover: the longest URL lifetime of the routes whose backend uses it. */
    int64_t need[CFG_MAX_CREDENTIALS] = {0};
    for (size_t i = 0; i < cfg->n_routes; i++) {
        const struct cfg_route *r = &cfg->routes[i];
        size_t k = index_of(cfg, r->backend->credentials);
        int64_t n = (int64_t)r->expires_s + r->sign_window_s;
        if (k < c->n && n > need[k]) {
            need[k] = n;
        }
    }
    for (size_t i = 0; i < c->n; i++) {
        gw_creds_set_need(c->set[i], need[i], GW_CREDS_HEALTH_MARGIN);
    }
    return c;
}

static void fmt_ms(char *out, size_t cap, uint32_t ms)
{
    if (ms % 1000 == 0) {
        snprintf(out, cap, "%" PRIu32 "s", ms / 1000);
    } else {
        snprintf(out, cap, "%" PRIu32 "ms", ms);
    }
}

int gw_credrt_fetch(struct gw_credrt *c, char *err, size_t err_cap)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct cfg_credentials *cr = &c->cfg->credentials[i];
        if (cr->source == CFG_CRED_STATIC) {
            continue;
        }
        int64_t deadline = mono_ms() + cr->startup_timeout_ms;
        char why[256] = "";
        for (unsigned attempt = 0;; attempt++) {
            if (gw_creds_set_fetch_once(c->set[i], why, sizeof(why)) == 0) {
                break;
            }
            int64_t left = deadline - mono_ms();
            if (left <= 0) {
                char d[32];
                fmt_ms(d, sizeof(d), cr->startup_timeout_ms);
                snprintf(err, err_cap, "credentials.%s (from: %s): no credentials within startup_timeout %s: %s", cr->name,
                         source_name[cr->source], d, why);
                return -1;
            }
            uint32_t rnd = 0;
            if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
                rnd = (uint32_t)mono_ms();
            }
            int64_t wait = gw_creds_backoff_ms(attempt, rnd);
            if (wait > left) {
                wait = left;
            }
            struct timespec ts = {.tv_sec = (time_t)(wait / 1000), .tv_nsec = (long)(wait % 1000) * 1000000};
            while (nanosleep(&ts, &ts) != 0) {
            }
        }
    }
    return 0;
}

/* reread reads a watched set's files again and publishes them when they are whole and not expired; otherwise the
 * set keeps its keys and the failure is counted and logged (never a value: cfg_cred_read_files does not show one). */
static void reread(struct gw_credrt *c, size_t i)
{
    const struct cfg_credentials *cr = &c->cfg->credentials[i];
    struct cfg_credentials fresh;
    struct cfg_error err;
    if (cfg_cred_read_files(&fresh, cr->name, cr->renew.dir, &err) != CFG_OK) {
        gw_creds_set_failed(c->set[i], err.msg);
        gw_log(GW_LOG_WARNING, "credentials.%s: keeping the current keys: %s", cr->name, err.msg);
        return;
    }
    struct gw_creds k = {
        .access_key_id = fresh.access_key_id,
        .access_key_id_len = strlen(fresh.access_key_id),
        .secret = (char *)fresh.secret,
        .secret_len = fresh.secret_len,
        .token = fresh.security_token,
        .token_len = fresh.security_token != NULL ? strlen(fresh.security_token) : 0,
        .expiration = fresh.expiration,
    };
    if (k.expiration != 0 && k.expiration <= (int64_t)time(NULL)) {
        char why[256];
        snprintf(why, sizeof(why), "the credentials in %s have expired", cr->renew.dir);
        gw_creds_set_failed(c->set[i], why);
        gw_log(GW_LOG_WARNING, "credentials.%s: keeping the current keys: %s", cr->name, why);
    } else if (gw_creds_set_replace(c->set[i], &k) != 0) {
        gw_creds_set_failed(c->set[i], "out of memory");
    } else {
        gw_log(GW_LOG_NOTICE, "credentials.%s: re-read %s", cr->name, cr->renew.dir);
    }
    cfg_credentials_cleanup(&fresh);
}

static void *watch_main(void *arg)
{
    struct gw_credrt_watch *w = arg;
    bool pending[CFG_MAX_CREDENTIALS] = {false};
    int64_t due = -1;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        int64_t wait = due < 0 ? -1 : due - mono_ms();
        struct pollfd p[2] = {{.fd = w->ifd, .events = POLLIN}, {.fd = w->stop_fd, .events = POLLIN}};
        int n = poll(p, 2, wait < 0 ? (due < 0 ? -1 : 0) : (int)wait);
        if (n < 0 && errno != EINTR) {
            gw_log(GW_LOG_ERR, "credentials: watching files: poll: %s", strerror(errno));
            return NULL;
        }
        if (n > 0 && p[1].revents != 0) {
            return NULL;
        }
        if (n > 0 && (p[0].revents & POLLIN) != 0) {
            ssize_t len = read(w->ifd, buf, sizeof(buf));
            for (ssize_t off = 0; len > 0 && off + (ssize_t)sizeof(struct inotify_event) <= len;) {
                const struct inotify_event *ev = (const struct inotify_event *)(const void *)(buf + off);
                for (size_t i = 0; i < w->c->n; i++) {
                    pending[i] = pending[i] || (w->wd[i] >= 0 && (w->wd[i] == ev->wd || (ev->mask & IN_Q_OVERFLOW) != 0));
                }
                off += (ssize_t)sizeof(struct inotify_event) + (ssize_t)ev->len;
            }
            due = mono_ms() + WATCH_SETTLE_MS; /* from the last event */
        }
        if (due >= 0 && mono_ms() >= due) {
            for (size_t i = 0; i < w->c->n; i++) {
                if (pending[i]) {
                    pending[i] = false;
                    reread(w->c, i);
                }
            }
            due = -1;
        }
    }
}

static void watch_free(struct gw_credrt_watch *w)
{
    if (w->ifd >= 0) {
        close(w->ifd);
    }
    if (w->stop_fd >= 0) {
        close(w->stop_fd);
    }
    free(w);
}

static int watch_start(struct gw_credrt *c, char *err, size_t err_cap)
{
    bool any = false;
    for (size_t i = 0; i < c->n; i++) {
        any = any || c->cfg->credentials[i].renew.watch;
    }
    if (!any || c->watch != NULL) {
        return 0;
    }
    struct gw_credrt_watch *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(err, err_cap, "credentials: out of memory");
        return -1;
    }
    w->c = c;
    w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    w->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->ifd < 0 || w->stop_fd < 0) {
        snprintf(err, err_cap, "credentials: watching files: %s", strerror(errno));
        watch_free(w);
        return -1;
    }
    for (size_t i = 0; i < CFG_MAX_CREDENTIALS; i++) {
        w->wd[i] = -1;
    }
    for (size_t i = 0; i < c->n; i++) {
        const struct cfg_credentials *cr = &c->cfg->credentials[i];
        if (!cr->renew.watch) {
            continue;
        }
        w->wd[i] = inotify_add_watch(w->ifd, cr->renew.dir, WATCH_EVENTS);
        if (w->wd[i] < 0) {
            snprintf(err, err_cap, "credentials.%s: cannot watch %s: %s", cr->name, cr->renew.dir, strerror(errno));
            watch_free(w);
            return -1;
        }
    }
    int rc = pthread_create(&w->thread, NULL, watch_main, w);
    if (rc != 0) {
        snprintf(err, err_cap, "credentials: watcher thread: %s", strerror(rc));
        watch_free(w);
        return -1;
    }
    c->watch = w;
    return 0;
}

static void watch_stop(struct gw_credrt *c)
{
    struct gw_credrt_watch *w = c->watch;
    if (w == NULL) {
        return;
    }
    uint64_t one = 1;
    if (write(w->stop_fd, &one, sizeof(one)) != (ssize_t)sizeof(one)) {
        gw_log(GW_LOG_ERR, "credentials: cannot stop the files watcher: %s", strerror(errno));
    }
    pthread_join(w->thread, NULL);
    watch_free(w);
    c->watch = NULL;
}

int gw_credrt_start(struct gw_credrt *c, char *err, size_t err_cap)
{
    if (watch_start(c, err, err_cap) != 0) {
        return -1;
    }
    if (c->refresher != NULL || gw_credrt_renewing(c->cfg) == 0) {
        return 0;
    }
    char why[256];
    c->refresher = gw_creds_refresher_start(c->set, c->n, why, sizeof(why));
    if (c->refresher == NULL) {
        snprintf(err, err_cap, "credentials: %s", why);
        return -1;
    }
    return 0;
}

void gw_credrt_stop(struct gw_credrt *c)
{
    if (c != NULL) {
        watch_stop(c);
        gw_creds_refresher_stop(c->refresher);
        c->refresher = NULL;
    }
}

void gw_credrt_free(struct gw_credrt *c)
{
    if (c == NULL) {
        return;
    }
    gw_credrt_stop(c);
    for (size_t i = c->n; i > 0; i--) { /* users before their bases */
        gw_creds_set_free(c->set[i - 1]);
    }
    free(c);
}

static void fmt_time(char out[32], int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, 32, "%" PRId64, t);
    }
}

const char *gw_credrt_static_expired(const struct cfg_config *cfg, int64_t now, char *buf, size_t cap)
{
    for (size_t i = 0; i < cfg->n_credentials; i++) {
        const struct cfg_credentials *cr = &cfg->credentials[i];
        if (cr->source == CFG_CRED_STATIC && cr->expiration != 0 && cr->expiration <= now) {
            char at[32];
            fmt_time(at, cr->expiration);
            snprintf(buf, cap, "credentials.%s: the credentials expired at %s", cr->name, at);
            return buf;
        }
    }
    return NULL;
}

int64_t gw_credrt_expiration(const struct gw_credrt *c, size_t i, int64_t now)
{
    const struct cfg_credentials *cr = &c->cfg->credentials[i];
    if (!gw_credrt_renews(cr)) {
        /* The config's value, which the handler signs with (tests change it in place). */
        return cr->expiration != 0 && cr->expiration <= now ? -1 : cr->expiration;
    }
    struct gw_creds_snap *snap = gw_creds_set_acquire(c->set[i], now);
    if (snap == NULL) {
        return -1;
    }
    int64_t e = snap->creds.expiration;
    gw_creds_snap_release(snap);
    return e;
}

static void put_i64(struct sgn_buf *b, int64_t v)
{
    if (v < 0) {
        sgn_buf_char(b, '-');
        sgn_buf_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        sgn_buf_u64(b, (uint64_t)v);
    }
}

static void put_set_label(struct sgn_buf *b, const char *name)
{
    sgn_buf_lit(b, "{set=\"");
    sgn_buf_append(b, name, strlen(name)); /* names are A-Za-z0-9-_: nothing to escape */
    sgn_buf_char(b, '"');
}

void gw_credrt_metrics(const struct gw_credrt *c, int64_t now, struct sgn_buf *b)
{
    if (c == NULL || c->n == 0) {
        return;
    }
    sgn_buf_lit(b, "# HELP oss_gateway_credentials_expiry_seconds Seconds until a credential set's current keys expire.\n"
                   "# TYPE oss_gateway_credentials_expiry_seconds gauge\n");
    for (size_t i = 0; i < c->n; i++) {
        const struct cfg_credentials *cr = &c->cfg->credentials[i];
        int64_t e = gw_credrt_expiration(c, i, now);
        sgn_buf_lit(b, "oss_gateway_credentials_expiry_seconds");
        put_set_label(b, cr->name);
        sgn_buf_lit(b, "} ");
        if (e == 0) {
            sgn_buf_lit(b, "+Inf");
        } else {
            put_i64(b, e < 0 ? 0 : e - now);
        }
        sgn_buf_char(b, '\n');
    }
    sgn_buf_lit(b, "# HELP oss_gateway_credentials_refresh_total Attempts to renew a credential set, by result.\n"
                   "# TYPE oss_gateway_credentials_refresh_total counter\n");
    for (size_t i = 0; i < c->n; i++) {
        struct gw_creds_stats st;
        gw_creds_set_stats(c->set[i], &st);
        for (int ok = 1; ok >= 0; ok--) {
            sgn_buf_lit(b, "oss_gateway_credentials_refresh_total");
            put_set_label(b, c->cfg->credentials[i].name);
            if (ok) {
                sgn_buf_lit(b, ",result=\"ok\"} ");
            } else {
                sgn_buf_lit(b, ",result=\"error\"} ");
            }
            sgn_buf_u64(b, ok ? st.refresh_ok : st.refresh_failed);
            sgn_buf_char(b, '\n');
        }
    }
}

const char *gw_credrt_health(const struct gw_credrt *c, int64_t now, char *buf, size_t cap)
{
    if (c == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < c->n; i++) {
        const struct cfg_credentials *cr = &c->cfg->credentials[i];
        int64_t e = gw_credrt_expiration(c, i, now);
        if (e == 0 || e - now >= GW_CREDS_HEALTH_MARGIN) {
            continue;
        }
        struct gw_creds_stats st;
        gw_creds_set_stats(c->set[i], &st);
        /* Short-lived credentials that the last attempt renewed are fine: the next renewal is due long before. */
        if (e > 0 && gw_credrt_renews(cr) && st.last_error[0] == '\0') {
            continue;
        }
        const char *sep = st.last_error[0] != '\0' ? "; last refresh: " : "";
        if (e < 0) {
            snprintf(buf, cap, "credentials.%s: no valid credentials (expired or never obtained)%s%s", cr->name, sep,
                     st.last_error);
        } else {
            snprintf(buf, cap, "credentials.%s: expire in %" PRId64 "s with no successful refresh%s%s", cr->name, e - now, sep,
                     st.last_error);
        }
        return buf;
    }
    return NULL;
}
