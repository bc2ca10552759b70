/* gw_server.c: the process. The main thread owns signals, reloads and the systemd protocol; each worker thread runs
 * one event loop over its own listeners on the shared listening sockets. Workers learn of a reload or a stop through
 * an eventfd and never block each other: the only shared locks are on the access log and the per-address counts. */
#include "gw_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <systemd/sd-daemon.h>

#include "gw_conn.h"
#include "gw_log.h"

_Atomic(struct gw_runtime *) gw_current;
atomic_bool gw_stopping;
atomic_bool gw_forced;

/* ---- per-address connection counts ---- */

#define IP_BUCKETS 4096

struct ip_entry {
    struct ip_entry *next;
    uint8_t addr[16];
    uint32_t count;
};

static pthread_mutex_t ip_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ip_entry *ip_table[IP_BUCKETS];

static unsigned ip_hash(const uint8_t a[16])
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (int i = 0; i < 16; i++) {
        h = (h ^ a[i]) * 16777619u;
    }
    return h & (IP_BUCKETS - 1);
}

bool gw_ipcount_add(const uint8_t addr[16], uint32_t max)
{
    bool ok = true;
    unsigned h = ip_hash(addr);
    pthread_mutex_lock(&ip_lock);
    struct ip_entry *e = ip_table[h];
    while (e != NULL && memcmp(e->addr, addr, 16) != 0) {
        e = e->next;
    }
    if (e == NULL) {
        e = calloc(1, sizeof(*e));
        if (e == NULL) {
            ok = false;
        } else {
            memcpy(e->addr, addr, 16);
            e->next = ip_table[h];
            ip_table[h] = e;
        }
    }
    if (ok && e->count >= max) {
        ok = false;
    } else if (ok) {
        e->count++;
    }
    pthread_mutex_unlock(&ip_lock);
    return ok;
}

void gw_ipcount_del(const uint8_t addr[16])
{
    unsigned h = ip_hash(addr);
    pthread_mutex_lock(&ip_lock);
    struct ip_entry **pp = &ip_table[h];
    while (*pp != NULL && memcmp((*pp)->addr, addr, 16) != 0) {
        pp = &(*pp)->next;
    }
    if (*pp != NULL && --(*pp)->count == 0) {
        struct ip_entry *e = *pp;
        *pp = e->next;
        free(e);
    }
    pthread_mutex_unlock(&ip_lock);
}

/* ---- workers ---- */

static struct gw_worker **workers;
static unsigned n_workers;

void gw_worker_flush_log(struct gw_worker *w)
{
    if (w->log_len > 0) {
        gw_access_write(w->log, w->log_len);
        w->log_len = 0;
    }
}

void gw_worker_set_timeouts(struct gw_worker *w)
{
    const struct cfg_limits *l = &w->rt->cfg->limits;
    struct timeval header = {l->header_timeout_ms / 1000, (suseconds_t)(l->header_timeout_ms % 1000) * 1000};
    struct timeval idle = {l->idle_timeout_ms / 1000, (suseconds_t)(l->idle_timeout_ms % 1000) * 1000};
    struct timeval linger = {2, 0};
    /* Common timeouts keep the timers in O(1) queues instead of the heap: thousands of connections share three. */
    w->tv_header = event_base_init_common_timeout(w->base, &header);
    w->tv_idle = event_base_init_common_timeout(w->base, &idle);
    w->tv_linger = event_base_init_common_timeout(w->base, &linger);
}

static void set_listeners(struct gw_worker *w, bool on)
{
    for (size_t i = 0; i < w->n_lev; i++) {
        if (on) {
            evconnlistener_enable(w->lev[i]);
        } else {
            evconnlistener_disable(w->lev[i]);
        }
    }
}

void gw_worker_pause(struct gw_worker *w, unsigned ms)
{
    if (!w->paused) {
        set_listeners(w, false);
        w->paused = true;
    }
    struct timeval tv = {ms / 1000, (suseconds_t)(ms % 1000) * 1000};
    if (ms == 0) {
        tv.tv_usec = 50000; /* at the cap: look again soon, and on every close */
    }
    event_add(&w->resume_ev, &tv);
}

void gw_worker_maybe_resume(struct gw_worker *w)
{
    if (w->paused && !w->draining && w->backoff_ms == 0 &&
        atomic_load(&gw_open_connections) < (long)w->rt->cfg->limits.max_connections) {
        w->paused = false;
        event_del(&w->resume_ev);
        set_listeners(w, true);
    }
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    struct gw_worker *w = arg;
    (void)fd;
    (void)what;
    w->backoff_ms = 0;
    gw_worker_maybe_resume(w);
    if (w->paused && !w->draining) {
        gw_worker_pause(w, 0);
    }
}

void gw_worker_check_done(struct gw_worker *w)
{
    if (w->draining && w->n_conns == 0) {
        event_base_loopexit(w->base, NULL);
    }
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    struct gw_worker *w = arg;
    const struct cfg_limits *lim = &w->rt->cfg->limits;
    (void)l;
    (void)salen;

    if (w->draining) {
        close(fd);
        return;
    }
    long open = atomic_fetch_add(&gw_open_connections, 1) + 1;
    if (open > (long)lim->max_connections) {
        /* Another worker took the last place first. */
        atomic_fetch_sub(&gw_open_connections, 1);
        atomic_fetch_add(&gw_rejected[GW_REJECT_MAX_CONNECTIONS], 1);
        close(fd);
        gw_worker_pause(w, 0);
        return;
    }
    uint8_t addr[16] = {0};
    if (sa->sa_family == AF_INET6) {
        memcpy(addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    } else if (sa->sa_family == AF_INET) {
        addr[10] = 0xff;
        addr[11] = 0xff;
        memcpy(addr + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    }
    if (!gw_ipcount_add(addr, lim->max_connections_per_ip)) {
        atomic_fetch_sub(&gw_open_connections, 1);
        atomic_fetch_add(&gw_rejected[GW_REJECT_PER_IP], 1);
        close(fd);
        return;
    }
    gw_conn_accept(w, fd, sa);
    if (open == (long)lim->max_connections) {
        gw_worker_pause(w, 0); /* the listener pauses at the cap; the backlog waits in the kernel */
    }
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
    struct gw_worker *w = arg;
    int err = errno;
    (void)l;

    if (err == EAGAIN || err == EINTR || err == ECONNABORTED) {
        return;
    }
    atomic_fetch_add(&gw_rejected[GW_REJECT_ACCEPT_ERROR], 1);
    /* Out of descriptors or memory: the pending connection stays readable, so retrying now would spin. Back off. */
    w->backoff_ms = w->backoff_ms == 0 ? 50 : (w->backoff_ms * 2 > 1000 ? 1000 : w->backoff_ms * 2);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (ts.tv_sec != w->last_err_log) {
        w->last_err_log = ts.tv_sec;
        gw_log(GW_LOG_ERR, "worker %u: accept: %s; pausing %u ms", w->id, strerror(err), w->backoff_ms);
    }
    unsigned ms = w->backoff_ms;
    w->paused = false; /* force the pause below to disable */
    gw_worker_pause(w, ms);
    w->backoff_ms = ms;
}

static void worker_adopt_runtime(struct gw_worker *w)
{
    struct gw_runtime *rt = atomic_load(&gw_current);
    if (rt == w->rt) {
        return;
    }
    gw_runtime_ref(rt);
    struct gw_runtime *old = w->rt;
    w->rt = rt;
    gw_ctx_set_runtime(&w->ctx, rt);
    gw_worker_set_timeouts(w);
    gw_runtime_unref(old);
}

static void worker_start_drain(struct gw_worker *w)
{
    if (w->draining) {
        return;
    }
    w->draining = true;
    for (size_t i = 0; i < w->n_lev; i++) {
        evconnlistener_free(w->lev[i]);
        w->lev[i] = NULL;
    }
    w->n_lev = 0;
    event_del(&w->resume_ev);
    gw_conn_close_idle(w);
    gw_worker_check_done(w);
}

static void on_control(evutil_socket_t fd, short what, void *arg)
{
    struct gw_worker *w = arg;
    uint64_t v;
    (void)what;
    if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
        gw_log(GW_LOG_WARNING, "worker %u: control read: %s", w->id, strerror(errno));
    }
    worker_adopt_runtime(w);
    if (atomic_load(&gw_forced)) {
        worker_start_drain(w);
        gw_conn_close_all(w);
        event_base_loopexit(w->base, NULL);
        return;
    }
    if (atomic_load(&gw_stopping)) {
        worker_start_drain(w);
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct gw_worker *w = arg;
    struct timespec ts;
    (void)fd;
    (void)what;
    gw_worker_flush_log(w);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    atomic_store(&w->heartbeat, ts.tv_sec);
}

static void *worker_main(void *arg)
{
    struct gw_worker *w = arg;
    uint64_t one = 1;

    event_base_dispatch(w->base);
    gw_worker_flush_log(w);
    if (write(w->done_fd, &one, sizeof(one)) < 0) {
        gw_log(GW_LOG_WARNING, "worker %u: cannot report its end: %s", w->id, strerror(errno));
    }
    return NULL;
}

static struct gw_worker *worker_new(unsigned id, struct gw_runtime *rt, const int *fds, size_t n_fds, int done_fd, uint32_t boot_id)
{
    struct gw_worker *w = calloc(1, sizeof(*w));
    struct event_config *ec = event_config_new();
    struct timeval tick = {0, 250000};

    if (w == NULL || ec == NULL) {
        goto fail;
    }
    w->id = id;
    w->ctl_fd = -1;
    w->done_fd = done_fd;
    /* One thread per loop, no cross-thread calls: no locking inside libevent. */
    event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
    w->base = event_base_new_with_config(ec);
    event_config_free(ec);
    ec = NULL;
    if (w->base == NULL) {
        goto fail;
    }
    gw_runtime_ref(rt);
    w->rt = rt;
    w->ctx.worker = id;
    w->ctx.boot_id = boot_id;
    w->ctx.stats = &w->stats;
    gw_ctx_set_runtime(&w->ctx, rt);
    gw_worker_set_timeouts(w);
    w->ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->ctl_fd < 0) {
        goto fail;
    }
    event_assign(&w->ctl_ev, w->base, w->ctl_fd, EV_READ | EV_PERSIST, on_control, w);
    event_add(&w->ctl_ev, NULL);
    event_assign(&w->tick_ev, w->base, -1, EV_PERSIST, on_tick, w);
    event_add(&w->tick_ev, &tick);
    evtimer_assign(&w->resume_ev, w->base, on_resume, w);
    for (size_t i = 0; i < n_fds; i++) {
        /* backlog 0: the socket already listens; several workers' listeners share it. */
        w->lev[i] = evconnlistener_new(w->base, on_accept, w, LEV_OPT_CLOSE_ON_EXEC, 0, fds[i]);
        if (w->lev[i] == NULL) {
            goto fail;
        }
        evconnlistener_set_error_cb(w->lev[i], on_accept_error);
        w->n_lev++;
    }
    gw_metrics_register(&w->stats);
    on_tick(-1, 0, w);
    return w;
fail:
    event_config_free(ec);
    if (w != NULL) {
        for (size_t i = 0; i < w->n_lev; i++) {
            evconnlistener_free(w->lev[i]);
        }
        if (w->ctl_fd >= 0) {
            close(w->ctl_fd);
        }
        if (w->base != NULL) {
            event_base_free(w->base);
        }
        gw_runtime_unref(w->rt);
        free(w);
    }
    return NULL;
}

static void worker_free(struct gw_worker *w)
{
    for (size_t i = 0; i < w->n_lev; i++) {
        evconnlistener_free(w->lev[i]);
    }
    gw_conn_close_all(w);
    while (w->pool != NULL) {
        struct gw_pool_buf *b = w->pool;
        w->pool = b->next;
        free(b);
    }
    event_del(&w->ctl_ev);
    event_del(&w->tick_ev);
    event_del(&w->resume_ev);
    close(w->ctl_fd);
    event_base_free(w->base);
    gw_ctx_wipe(&w->ctx);
    gw_runtime_unref(w->rt);
    free(w);
}

static void poke_workers(void)
{
    uint64_t one = 1;
    for (unsigned i = 0; i < n_workers; i++) {
        if (write(workers[i]->ctl_fd, &one, sizeof(one)) < 0) {
            gw_log(GW_LOG_WARNING, "cannot signal worker %u: %s", i, strerror(errno));
        }
    }
}

/* ---- listening sockets ---- */

static int listen_fds[GW_MAX_LISTENERS];
static size_t n_listen_fds;

static void describe_fd(int fd, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *s = (const struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
            port = ntohs(s->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
            port = ntohs(s->sin6_port);
        }
    }
    int n = snprintf(out, cap, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
    }
}

static int open_listeners(const struct cfg_config *cfg)
{
    int n = sd_listen_fds(1);
    if (n < 0) {
        gw_log(GW_LOG_ERR, "LISTEN_FDS: %s", strerror(-n));
        return -1;
    }
    if (n > 0) {
        /* Socket activation: systemd holds the sockets, so a restart loses no connection. */
        if (n > GW_MAX_LISTENERS) {
            gw_log(GW_LOG_ERR, "LISTEN_FDS=%d: at most %d sockets", n, GW_MAX_LISTENERS);
            return -1;
        }
        for (int i = 0; i < n; i++) {
            int fd = SD_LISTEN_FDS_START + i;
            if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
                gw_log(GW_LOG_ERR, "LISTEN_FDS: fd %d is not a listening stream socket", fd);
                return -1;
            }
            int fl = fcntl(fd, F_GETFL);
            if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
                gw_log(GW_LOG_ERR, "LISTEN_FDS: fd %d: %s", fd, strerror(errno));
                return -1;
            }
            listen_fds[n_listen_fds++] = fd;
        }
        if (cfg->n_listen > 0) {
            gw_log(GW_LOG_NOTICE, "using %d socket(s) from systemd; the config's listen addresses are not bound", n);
        }
    } else {
        for (size_t i = 0; i < cfg->n_listen; i++) {
            const struct cfg_listen *l = &cfg->listen[i];
            struct sockaddr_storage ss;
            socklen_t len;
            int one = 1;
            memset(&ss, 0, sizeof(ss));
            if (l->ipv6) {
                struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
                s->sin6_family = AF_INET6;
                s->sin6_port = htons(l->port);
                inet_pton(AF_INET6, l->host, &s->sin6_addr);
                len = sizeof(*s);
            } else {
                struct sockaddr_in *s = (struct sockaddr_in *)&ss;
                s->sin_family = AF_INET;
                s->sin_port = htons(l->port);
                inet_pton(AF_INET, l->host, &s->sin_addr);
                len = sizeof(*s);
            }
            int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                gw_log(GW_LOG_ERR, "listen %s:%u: socket: %s", l->host, l->port, strerror(errno));
                return -1;
            }
            listen_fds[n_listen_fds++] = fd;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (l->ipv6) {
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
            }
            if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 4096) != 0) {
                gw_log(GW_LOG_ERR, "listen %s%s%s:%u: %s", l->ipv6 ? "[" : "", l->host, l->ipv6 ? "]" : "", l->port,
                       strerror(errno));
                return -1;
            }
        }
    }
    for (size_t i = 0; i < n_listen_fds; i++) {
        char name[80];
        describe_fd(listen_fds[i], name, sizeof(name));
        gw_log(GW_LOG_INFO, "listening on %s", name);
    }
    return 0;
}

/* ---- the main thread: signals, reload, stop, systemd ---- */

static const char *config_path;
static struct event_base *main_base;
static int done_fd = -1;
static unsigned n_done;
static struct event *shutdown_ev;
static uint64_t watchdog_usec;

static void notify_status(const char *state)
{
    const struct gw_runtime *rt = atomic_load(&gw_current);
    char msg[256];
    int n = snprintf(msg, sizeof(msg), "%sSTATUS=%s: %zu route(s), %zu listener(s), %u worker(s), %lu reload(s), %lu failed", state,
                     atomic_load(&gw_stopping) ? "stopping" : "serving", rt->cfg->n_routes, n_listen_fds, n_workers,
                     (unsigned long)atomic_load(&gw_reloads_ok), (unsigned long)atomic_load(&gw_reloads_failed));
    if (n > 0 && (size_t)n < sizeof(msg)) {
        sd_notify(0, msg);
    }
}

/* log_refresh_failure reports a failed renewal from the refresh thread (rate-limited by gw_creds_set.c). */
static void log_refresh_failure(const char *name, const char *err, unsigned failures, unsigned long suppressed)
{
    if (suppressed > 0) {
        gw_log(GW_LOG_WARNING, "credentials.%s: refresh failed (%u in a row, %lu not logged): %s", name, failures, suppressed, err);
    } else {
        gw_log(GW_LOG_WARNING, "credentials.%s: refresh failed (%u in a row): %s", name, failures, err);
    }
}

static void reload(void)
{
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    struct timespec ts;
    char msg[96];

    clock_gettime(CLOCK_MONOTONIC, &ts);
    int n = snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
                     (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000ull);
    if (n > 0 && (size_t)n < sizeof(msg)) {
        sd_notify(0, msg);
    }
    if (cfg_load_file(&cfg, config_path, NULL, &err) != CFG_OK) {
        atomic_fetch_add(&gw_reloads_failed, 1);
        gw_log(GW_LOG_ERR, "reload failed, keeping the running configuration: %s", err.msg);
        notify_status("READY=1\n");
        return;
    }
    const struct cfg_config *old = atomic_load(&gw_current)->cfg;
    bool listen_changed = cfg->n_listen != old->n_listen || cfg->workers != old->workers;
    for (size_t i = 0; !listen_changed && i < cfg->n_listen; i++) {
        listen_changed = cfg->listen[i].port != old->listen[i].port || strcmp(cfg->listen[i].host, old->listen[i].host) != 0;
    }
    if (gw_access_open(cfg->log.access != CFG_ACCESS_OFF, cfg->log.access == CFG_ACCESS_FILE ? cfg->log.access_path : NULL) != 0) {
        atomic_fetch_add(&gw_reloads_failed, 1);
        gw_log(GW_LOG_ERR, "reload failed, keeping the running configuration: access log %s: %s", cfg->log.access_path,
               strerror(errno));
        cfg_free(cfg);
        notify_status("READY=1\n");
        return;
    }
    char why[512];
    struct gw_runtime *rt = NULL;
    const char *refused = gw_credrt_static_expired(cfg, (int64_t)time(NULL), why, sizeof(why));
    if (refused != NULL) {
        cfg_free(cfg);
    } else if ((rt = gw_runtime_new(cfg, why, sizeof(why))) == NULL) {
        refused = why;
    } else if (gw_credrt_fetch(rt->creds, why, sizeof(why)) != 0 || gw_credrt_start(rt->creds, why, sizeof(why)) != 0) {
        /* The new sets are fetched afresh, on this thread: a reload proves that a changed source works before it is
         * used, and the workers go on serving the running configuration meanwhile. */
        refused = why;
    }
    if (refused != NULL) {
        gw_runtime_unref(rt);
        atomic_fetch_add(&gw_reloads_failed, 1);
        gw_log(GW_LOG_ERR, "reload failed, keeping the running configuration: %s", refused);
        notify_status("READY=1\n");
        return;
    }
    atomic_store(&gw_log_max_level, (int)rt->cfg->log.level);
    struct gw_runtime *prev = atomic_exchange(&gw_current, rt);
    gw_credrt_stop(prev->creds); /* here, not in a worker that drops the last reference */
    gw_runtime_unref(prev);      /* workers still holding it keep it alive until they adopt the new one */
    poke_workers();
    atomic_fetch_add(&gw_reloads_ok, 1);
    if (listen_changed) {
        gw_log(GW_LOG_WARNING, "reload: listen and workers take effect only on restart");
    }
    gw_log(GW_LOG_NOTICE, "reloaded %s: %zu route(s)", config_path, rt->cfg->n_routes);
    for (size_t i = 0; i < rt->cfg->n_routes; i++) {
        const struct cfg_route *r = &rt->cfg->routes[i];
        gw_log(GW_LOG_DEBUG, "route %s -> backend %s (bucket %s at %s), expires %us", r->prefix, r->backend->name,
               r->backend->bucket, r->backend->endpoint, r->expires_s);
    }
    notify_status("READY=1\n");
}

static void on_shutdown_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    gw_log(GW_LOG_WARNING, "drain deadline passed: closing the remaining connections");
    atomic_store(&gw_forced, true);
    poke_workers();
}

static void begin_stop(void)
{
    if (atomic_load(&gw_stopping)) {
        on_shutdown_deadline(-1, 0, NULL); /* a second signal: do not wait */
        return;
    }
    atomic_store(&gw_stopping, true);
    notify_status("STOPPING=1\n");
    gw_log(GW_LOG_NOTICE, "stopping: finishing requests in flight");
    const struct cfg_limits *l = &atomic_load(&gw_current)->cfg->limits;
    struct timeval tv = {l->shutdown_timeout_ms / 1000, (suseconds_t)(l->shutdown_timeout_ms % 1000) * 1000};
    event_add(shutdown_ev, &tv);
    poke_workers();
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    (void)arg;
    if (sig == SIGHUP) {
        if (!atomic_load(&gw_stopping)) {
            reload();
        }
    } else {
        begin_stop();
    }
}

static void on_worker_done(evutil_socket_t fd, short what, void *arg)
{
    uint64_t v;
    (void)what;
    (void)arg;
    if (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v)) {
        n_done += (unsigned)v;
    }
    if (n_done >= n_workers) {
        event_base_loopexit(main_base, NULL);
    }
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    struct timespec ts;
    (void)fd;
    (void)what;
    (void)arg;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    /* Ping only while every worker's loop is turning: a stuck worker gets the service restarted. Not while stopping:
     * a worker whose drain is done has ended its loop on purpose, and systemd stops watching at STOPPING=1. */
    int64_t limit = (int64_t)(watchdog_usec / 1000000) + 1;
    for (unsigned i = 0; i < n_workers && !atomic_load(&gw_stopping); i++) {
        if (ts.tv_sec - atomic_load(&workers[i]->heartbeat) > limit) {
            gw_log(GW_LOG_ERR, "worker %u has not run for %lld s; withholding the watchdog ping", i,
                   (long long)(ts.tv_sec - atomic_load(&workers[i]->heartbeat)));
            return;
        }
    }
    sd_notify(0, "WATCHDOG=1");
}

static unsigned worker_count(const struct cfg_config *cfg)
{
    if (cfg->workers > 0) {
        return cfg->workers;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > CFG_MAX_WORKERS ? CFG_MAX_WORKERS : (unsigned)n);
}

int gw_server_run(const char *path)
{
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    struct gw_runtime *rt = NULL;
    struct event *sig_ev[3] = {NULL, NULL, NULL};
    struct event *done_ev = NULL;
    struct event *wd_ev = NULL;
    sigset_t block;
    sigset_t old_mask;
    int status = 1;
    unsigned started = 0;
    struct timespec ts;

    config_path = path;
    gw_log_libevent();
    signal(SIGPIPE, SIG_IGN);
    /* Until the handlers are in place a SIGHUP or SIGTERM must wait, not kill: "listening on" is logged (and clients,
     * scripts and tests may act on it) before then. */
    sigemptyset(&block);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old_mask);
    if (cfg_load_file(&cfg, path, NULL, &err) != CFG_OK) {
        gw_log(GW_LOG_ERR, "%s", err.msg);
        return 1;
    }
    atomic_store(&gw_log_max_level, (int)cfg->log.level);
    if (gw_access_open(cfg->log.access != CFG_ACCESS_OFF, cfg->log.access == CFG_ACCESS_FILE ? cfg->log.access_path : NULL) != 0) {
        gw_log(GW_LOG_ERR, "access log %s: %s", cfg->log.access_path, strerror(errno));
        cfg_free(cfg);
        return 1;
    }
    char why[512];
    rt = gw_runtime_new(cfg, why, sizeof(why));
    cfg = NULL;
    if (rt == NULL) {
        gw_log(GW_LOG_ERR, "%s", why);
        return 1;
    }
    atomic_store(&gw_current, rt);
    gw_creds_set_log(log_refresh_failure);
    if (gw_credrt_renewing(rt->cfg) > 0) {
        gw_log(GW_LOG_INFO, "fetching credentials for %zu renewing set(s)", gw_credrt_renewing(rt->cfg));
    }
    if (gw_credrt_fetch(rt->creds, why, sizeof(why)) != 0 || gw_credrt_start(rt->creds, why, sizeof(why)) != 0) {
        gw_log(GW_LOG_ERR, "%s", why);
        goto cleanup;
    }
    if (open_listeners(rt->cfg) != 0) {
        goto cleanup;
    }
    main_base = event_base_new();
    done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (main_base == NULL || done_fd < 0) {
        gw_log(GW_LOG_ERR, "cannot set up the event loop");
        goto cleanup;
    }
    n_workers = worker_count(rt->cfg);
    workers = calloc(n_workers, sizeof(*workers));
    if (workers == NULL) {
        goto cleanup;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    uint32_t boot_id = (uint32_t)((uint64_t)ts.tv_sec * 2654435761u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 16);
    for (unsigned i = 0; i < n_workers; i++) {
        workers[i] = worker_new(i, rt, listen_fds, n_listen_fds, done_fd, boot_id);
        if (workers[i] == NULL) {
            gw_log(GW_LOG_ERR, "cannot create worker %u", i);
            goto cleanup;
        }
    }

    /* Workers inherit the blocked mask and never see the process signals; the main thread's loop takes them. */
    for (started = 0; started < n_workers; started++) {
        if (pthread_create(&workers[started]->thread, NULL, worker_main, workers[started]) != 0) {
            gw_log(GW_LOG_ERR, "cannot start worker thread %u", started);
            break;
        }
    }
    if (started < n_workers) {
        atomic_store(&gw_forced, true);
        atomic_store(&gw_stopping, true);
        n_workers = started;
        poke_workers();
        goto join;
    }

    static const int sigs[3] = {SIGHUP, SIGTERM, SIGINT};
    for (int i = 0; i < 3; i++) {
        sig_ev[i] = evsignal_new(main_base, sigs[i], on_signal, NULL);
        if (sig_ev[i] == NULL || event_add(sig_ev[i], NULL) != 0) {
            gw_log(GW_LOG_ERR, "cannot handle signal %d", sigs[i]);
            goto stop_now;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL); /* a signal that came meanwhile is delivered now */
    done_ev = event_new(main_base, done_fd, EV_READ | EV_PERSIST, on_worker_done, NULL);
    shutdown_ev = evtimer_new(main_base, on_shutdown_deadline, NULL);
    if (done_ev == NULL || shutdown_ev == NULL || event_add(done_ev, NULL) != 0) {
        goto stop_now;
    }
    if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
        struct timeval tv = {(time_t)(watchdog_usec / 2 / 1000000), (suseconds_t)(watchdog_usec / 2 % 1000000)};
        wd_ev = event_new(main_base, -1, EV_PERSIST, on_watchdog, NULL);
        if (wd_ev == NULL || event_add(wd_ev, &tv) != 0) {
            goto stop_now;
        }
        sd_notify(0, "WATCHDOG=1");
    }
    gw_log(GW_LOG_NOTICE, "oss-gateway %s serving %zu route(s) with %u worker(s)", GW_VERSION, rt->cfg->n_routes, n_workers);
    notify_status("READY=1\n");
    event_base_dispatch(main_base);
    status = 0;
    goto join;

stop_now:
    atomic_store(&gw_forced, true);
    atomic_store(&gw_stopping, true);
    poke_workers();
join:
    /* Freeing the signal events below restores the default actions: a late SIGTERM (a second `systemctl stop`, a
     * supervisor's retry) would then kill a process that is already exiting cleanly with status 0. */
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    for (unsigned i = 0; i < started; i++) {
        pthread_join(workers[i]->thread, NULL);
    }
    gw_log(GW_LOG_NOTICE, "stopped");
cleanup:
    for (int i = 0; i < 3; i++) {
        if (sig_ev[i] != NULL) {
            event_free(sig_ev[i]);
        }
    }
    if (done_ev != NULL) {
        event_free(done_ev);
    }
    if (wd_ev != NULL) {
        event_free(wd_ev);
    }
    if (shutdown_ev != NULL) {
        event_free(shutdown_ev);
        shutdown_ev = NULL;
    }
    for (unsigned i = 0; workers != NULL && i < n_workers; i++) {
        if (workers[i] != NULL) {
            worker_free(workers[i]);
        }
    }
    free(workers);
    workers = NULL;
    for (size_t i = 0; i < n_listen_fds; i++) {
        close(listen_fds[i]);
    }
    n_listen_fds = 0;
    if (done_fd >= 0) {
        close(done_fd);
    }
    if (main_base != NULL) {
        event_base_free(main_base);
    }
    rt = atomic_exchange(&gw_current, NULL);
    if (rt != NULL) {
        gw_credrt_stop(rt->creds);
    }
    gw_runtime_unref(rt);
    gw_access_close();
    libevent_global_shutdown();
    return status;
}
