/* gw_server.c: the process. The main thread owns signals, reloads, the stop and the systemd protocol; it opens the
 * listening sockets (gw_listen.c) and starts the workers (gw_worker.c), each running one event loop over its own
 * listeners on the shared sockets. Workers learn of a reload or a stop through an eventfd and never block each
 * other: the only shared locks are on the access log and the per-address counts (gw_ipcount.c). */
#include "gw_server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "gw_listen.h"
#include "gw_log.h"
#include "gw_metrics.h"
#include "gw_worker.h"

static struct gw_worker **workers;
static unsigned n_workers;
static struct gw_listeners listeners;

static void poke_workers(void)
{
    for (unsigned i = 0; i < n_workers; i++) {
        gw_worker_poke(workers[i]);
    }
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
                     atomic_load(&gw_stopping) ? "stopping" : "serving", rt->cfg->n_routes, listeners.n, n_workers,
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
    /* New certificates and keys, loaded before anything is swapped: a bad file keeps the running configuration. */
    struct gw_tls_set *tls = NULL;
    char why[512];
    if (gw_listen_tls(&listeners, cfg, false, atomic_load(&gw_current)->ext, &tls, why, sizeof(why)) != 0) {
        atomic_fetch_add(&gw_reloads_failed, 1);
        gw_log(GW_LOG_ERR, "reload failed, keeping the running configuration: %s", why);
        cfg_free(cfg);
        notify_status("READY=1\n");
        return;
    }
    for (size_t i = 0; !listen_changed && i < cfg->n_listen; i++) {
        listen_changed = (cfg->listen[i].tls.n_certs > 0) != (old->listen[i].tls.n_certs > 0);
    }
    struct gw_runtime *rt = NULL;
    const char *refused = gw_credrt_static_expired(cfg, (int64_t)time(NULL), why, sizeof(why));
    if (refused != NULL) {
        cfg_free(cfg);
        gw_tls_set_free(tls);
    } else if ((rt = gw_runtime_new(cfg, why, sizeof(why))) == NULL) {
        refused = why;
        gw_tls_set_free(tls);
    } else {
        rt->ext = tls; /* freed with the runtime from here on */
        rt->ext_free = gw_tls_set_free;
        if (gw_credrt_fetch(rt->creds, why, sizeof(why)) != 0 || gw_credrt_start(rt->creds, why, sizeof(why)) != 0) {
            /* The new sets are fetched afresh, on this thread: a reload proves that a changed source works before it
             * is used, and the workers go on serving the running configuration meanwhile. */
            refused = why;
        }
    }
    if (refused != NULL) {
        gw_runtime_unref(rt);
        atomic_fetch_add(&gw_reloads_failed, 1);
        gw_log(GW_LOG_ERR, "reload failed, keeping the running configuration: %s", refused);
        notify_status("READY=1\n");
        return;
    }
    atomic_store(&gw_log_max_level, (int)rt->cfg->log.level);
    gw_metrics_set_caps(rt->cfg->limits.max_connections, rt->cfg->limits.max_connections_per_ip);
    struct gw_runtime *prev = gw_current_swap(rt);
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

/* ---- gw_server_run's steps; each leaves what it set up in the statics above for release_all ---- */

static struct event *sig_ev[3];
static struct event *done_ev;
static struct event *wd_ev;

/* load_config loads the first configuration and opens the access log; on success gw_current holds it. */
static int load_config(const char *path)
{
    struct cfg_config *cfg = NULL;
    struct cfg_error err;

    if (cfg_load_file(&cfg, path, NULL, &err) != CFG_OK) {
        gw_log(GW_LOG_ERR, "%s", err.msg);
        return -1;
    }
    atomic_store(&gw_log_max_level, (int)cfg->log.level);
    if (gw_access_open(cfg->log.access != CFG_ACCESS_OFF, cfg->log.access == CFG_ACCESS_FILE ? cfg->log.access_path : NULL) != 0) {
        gw_log(GW_LOG_ERR, "access log %s: %s", cfg->log.access_path, strerror(errno));
        cfg_free(cfg);
        return -1;
    }
    char why[512];
    struct gw_runtime *rt = gw_runtime_new(cfg, why, sizeof(why));
    if (rt == NULL) {
        gw_log(GW_LOG_ERR, "%s", why);
        return -1;
    }
    gw_metrics_set_caps(cfg->limits.max_connections, cfg->limits.max_connections_per_ip);
    atomic_store(&gw_current, rt);
    /* Renewing credentials are fetched before anything listens: a gateway that cannot sign must not take traffic. */
    gw_creds_set_log(log_refresh_failure);
    if (gw_credrt_renewing(rt->cfg) > 0) {
        gw_log(GW_LOG_INFO, "fetching credentials for %zu renewing set(s)", gw_credrt_renewing(rt->cfg));
    }
    if (gw_credrt_fetch(rt->creds, why, sizeof(why)) != 0 || gw_credrt_start(rt->creds, why, sizeof(why)) != 0) {
        gw_log(GW_LOG_ERR, "%s", why);
        return -1;
    }
    return 0;
}

/* load_tls loads the TLS listeners' certificates and keys into the first runtime, before any worker shares it. */
static int load_tls(void)
{
    struct gw_runtime *rt = atomic_load(&gw_current);
    struct gw_tls_set *tls = NULL;
    char err[512];

    if (gw_listen_tls(&listeners, rt->cfg, true, NULL, &tls, err, sizeof(err)) != 0) {
        gw_log(GW_LOG_ERR, "%s", err);
        return -1;
    }
    rt->ext = tls;
    rt->ext_free = gw_tls_set_free;
    for (size_t i = 0; i < listeners.n; i++) {
        if (listeners.tls[i]) {
            gw_log(GW_LOG_INFO, "listener %zu serves TLS", i);
        }
    }
    return 0;
}

/* create_workers sets up the main loop, the eventfd the workers report their end on, and every worker (not started). */
static int create_workers(struct gw_runtime *rt)
{
    struct timespec ts;

    main_base = event_base_new();
    done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (main_base == NULL || done_fd < 0) {
        gw_log(GW_LOG_ERR, "cannot set up the event loop");
        return -1;
    }
    unsigned n = worker_count(rt->cfg);
    workers = calloc(n, sizeof(*workers));
    if (workers == NULL) {
        gw_log(GW_LOG_ERR, "out of memory");
        return -1;
    }
    n_workers = n; /* from here on, release_all frees workers[0..n) whatever happens */
    clock_gettime(CLOCK_REALTIME, &ts);
    uint32_t boot_id = (uint32_t)((uint64_t)ts.tv_sec * 2654435761u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 16);
    for (unsigned i = 0; i < n; i++) {
        workers[i] = gw_worker_new(i, rt, &listeners, done_fd, boot_id);
        if (workers[i] == NULL) {
            gw_log(GW_LOG_ERR, "cannot create worker %u", i);
            return -1;
        }
    }
    return 0;
}

/* start_workers starts every worker's thread. Workers inherit the blocked mask and never see the process signals;
 * the main thread's loop takes them. */
static int start_workers(void)
{
    for (unsigned i = 0; i < n_workers; i++) {
        if (gw_worker_start(workers[i]) != 0) {
            gw_log(GW_LOG_ERR, "cannot start worker thread %u", i);
            return -1;
        }
    }
    return 0;
}

/* watch_events puts the main loop's events in place: the signals, the workers' ends, the drain deadline, and the
 * systemd watchdog when it is enabled. */
static int watch_events(void)
{
    static const int sigs[3] = {SIGHUP, SIGTERM, SIGINT};

    for (int i = 0; i < 3; i++) {
        sig_ev[i] = evsignal_new(main_base, sigs[i], on_signal, NULL);
        if (sig_ev[i] == NULL || event_add(sig_ev[i], NULL) != 0) {
            gw_log(GW_LOG_ERR, "cannot handle signal %d", sigs[i]);
            return -1;
        }
    }
    done_ev = event_new(main_base, done_fd, EV_READ | EV_PERSIST, on_worker_done, NULL);
    shutdown_ev = evtimer_new(main_base, on_shutdown_deadline, NULL);
    if (done_ev == NULL || shutdown_ev == NULL || event_add(done_ev, NULL) != 0) {
        gw_log(GW_LOG_ERR, "cannot set up the event loop");
        return -1;
    }
    if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
        struct timeval tv = {(time_t)(watchdog_usec / 2 / 1000000), (suseconds_t)(watchdog_usec / 2 % 1000000)};
        wd_ev = event_new(main_base, -1, EV_PERSIST, on_watchdog, NULL);
        if (wd_ev == NULL || event_add(wd_ev, &tv) != 0) {
            gw_log(GW_LOG_ERR, "cannot set up the systemd watchdog");
            return -1;
        }
        sd_notify(0, "WATCHDOG=1");
    }
    return 0;
}

/* stop_workers ends the workers that run: at once when `now` (a step failed), else they already drained. Then waits
 * for their threads. */
static void stop_workers(bool now)
{
    if (now) {
        atomic_store(&gw_forced, true);
        atomic_store(&gw_stopping, true);
        poke_workers();
    }
    for (unsigned i = 0; i < n_workers; i++) {
        gw_worker_join(workers[i]);
    }
    gw_log(GW_LOG_NOTICE, "stopped");
}

/* release_all frees whatever the steps set up, in reverse order; each part may be missing. */
static void release_all(void)
{
    for (int i = 0; i < 3; i++) {
        if (sig_ev[i] != NULL) {
            event_free(sig_ev[i]);
            sig_ev[i] = NULL;
        }
    }
    struct event **evs[3] = {&done_ev, &wd_ev, &shutdown_ev};
    for (int i = 0; i < 3; i++) {
        if (*evs[i] != NULL) {
            event_free(*evs[i]);
            *evs[i] = NULL;
        }
    }
    for (unsigned i = 0; workers != NULL && i < n_workers; i++) {
        gw_worker_free(workers[i]);
    }
    free(workers);
    workers = NULL;
    n_workers = 0;
    gw_listen_close(&listeners);
    if (done_fd >= 0) {
        close(done_fd);
        done_fd = -1;
    }
    if (main_base != NULL) {
        event_base_free(main_base);
        main_base = NULL;
    }
    struct gw_runtime *rt = atomic_exchange(&gw_current, NULL);
    if (rt != NULL) {
        gw_credrt_stop(rt->creds);
    }
    gw_runtime_unref(rt);
    gw_access_close();
    libevent_global_shutdown();
}

int gw_server_run(const char *path)
{
    sigset_t block;
    sigset_t old_mask;
    int status = 1;

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

    if (load_config(path) == 0 && gw_listen_open(&listeners, atomic_load(&gw_current)->cfg) == 0 && load_tls() == 0 &&
        create_workers(atomic_load(&gw_current)) == 0) {
        bool ready = start_workers() == 0 && watch_events() == 0;
        if (ready) {
            pthread_sigmask(SIG_SETMASK, &old_mask, NULL); /* a signal that came meanwhile is delivered now */
            gw_log(GW_LOG_NOTICE, "oss-gateway %s serving %zu route(s) with %u worker(s)", GW_VERSION,
                   atomic_load(&gw_current)->cfg->n_routes, n_workers);
            notify_status("READY=1\n");
            event_base_dispatch(main_base);
            status = 0;
        }
        /* Freeing the signal events restores the default actions: a late SIGTERM (a second `systemctl stop`, a
         * supervisor's retry) would then kill a process that is already exiting cleanly with status 0. */
        pthread_sigmask(SIG_BLOCK, &block, NULL);
        stop_workers(!ready);
    }
    release_all();
    return status;
}
