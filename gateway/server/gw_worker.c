/* gw_worker.c: see gw_worker.h. */
#include "gw_worker.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "gw_ipcount.h"
#include "gw_log.h"

_Atomic(struct gw_runtime *) gw_current;
static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;

struct gw_runtime *gw_current_swap(struct gw_runtime *rt)
{
    pthread_mutex_lock(&current_lock);
    struct gw_runtime *prev = atomic_exchange(&gw_current, rt);
    pthread_mutex_unlock(&current_lock);
    return prev;
}

struct gw_runtime *gw_current_acquire(void)
{
    pthread_mutex_lock(&current_lock);
    struct gw_runtime *rt = atomic_load(&gw_current);
    if (rt != NULL) {
        gw_runtime_ref(rt);
    }
    pthread_mutex_unlock(&current_lock);
    return rt;
}
atomic_bool gw_stopping;
atomic_bool gw_forced;

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

static void worker_pause(struct gw_worker *w, unsigned ms)
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

static void worker_maybe_resume(struct gw_worker *w)
{
    if (w->paused && !w->loop.draining && w->backoff_ms == 0 &&
        atomic_load(&gw_open_connections) < (long)w->loop.rt->cfg->limits.max_connections) {
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
    worker_maybe_resume(w);
    if (w->paused && !w->loop.draining) {
        worker_pause(w, 0);
    }
}

static void worker_check_done(struct gw_worker *w)
{
    if (w->loop.draining && w->loop.n_conns == 0) {
        event_base_loopexit(w->loop.base, NULL);
    }
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    const struct gw_lev_arg *la = arg;
    struct gw_worker *w = la->w;
    const struct cfg_limits *lim = &w->loop.rt->cfg->limits;
    (void)l;
    (void)salen;

    if (w->loop.draining) {
        close(fd);
        return;
    }
    long open = atomic_fetch_add(&gw_open_connections, 1) + 1;
    if (open > (long)lim->max_connections) {
        /* Another worker took the last place first. */
        atomic_fetch_sub(&gw_open_connections, 1);
        atomic_fetch_add(&gw_rejected[GW_REJECT_MAX_CONNECTIONS], 1);
        close(fd);
        worker_pause(w, 0);
        return;
    }
    uint8_t addr[16];
    gw_conn_addr(sa, addr);
    if (!gw_ipcount_add(addr, lim->max_connections_per_ip)) {
        atomic_fetch_sub(&gw_open_connections, 1);
        atomic_fetch_add(&gw_rejected[GW_REJECT_PER_IP], 1);
        close(fd);
        return;
    }
    const struct gw_tls_set *tls = w->loop.rt->ext;
    gw_conn_accept(&w->loop, fd, sa, tls != NULL ? tls->ctx[la->idx] : NULL);
    if (open == (long)lim->max_connections) {
        worker_pause(w, 0); /* the listener pauses at the cap; the backlog waits in the kernel */
    }
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
    struct gw_worker *w = ((const struct gw_lev_arg *)arg)->w;
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
        gw_log(GW_LOG_ERR, "worker %u: accept: %s; pausing %u ms", w->loop.id, strerror(err), w->backoff_ms);
    }
    unsigned ms = w->backoff_ms;
    w->paused = false; /* force the pause below to disable */
    worker_pause(w, ms);
    w->backoff_ms = ms;
}

static void worker_start_drain(struct gw_worker *w)
{
    if (w->loop.draining) {
        return;
    }
    w->loop.draining = true;
    for (size_t i = 0; i < w->n_lev; i++) {
        evconnlistener_free(w->lev[i]);
        w->lev[i] = NULL;
    }
    w->n_lev = 0;
    if (w->ls != NULL) {
        gw_listen_release(w->ls); /* the last worker to stop accepting closes the sockets the process bound */
        w->ls = NULL;
    }
    event_del(&w->resume_ev);
    gw_conn_close_idle(&w->loop);
    worker_check_done(w);
}

static void on_control(evutil_socket_t fd, short what, void *arg)
{
    struct gw_worker *w = arg;
    uint64_t v;
    (void)what;
    if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
        gw_log(GW_LOG_WARNING, "worker %u: control read: %s", w->loop.id, strerror(errno));
    }
    struct gw_runtime *rt = gw_current_acquire();
    gw_loop_set_runtime(&w->loop, rt); /* takes its own reference */
    gw_runtime_unref(rt);
    if (atomic_load(&gw_forced)) {
        worker_start_drain(w);
        gw_conn_close_all(&w->loop);
        event_base_loopexit(w->loop.base, NULL);
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
    gw_loop_flush_log(&w->loop);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    atomic_store(&w->heartbeat, ts.tv_sec);
}

static void *worker_main(void *arg)
{
    struct gw_worker *w = arg;
    uint64_t one = 1;

    event_base_dispatch(w->loop.base);
    gw_loop_flush_log(&w->loop);
    if (write(w->done_fd, &one, sizeof(one)) < 0) {
        gw_log(GW_LOG_WARNING, "worker %u: cannot report its end: %s", w->loop.id, strerror(errno));
    }
    return NULL;
}

/* on_conn_closed is the loop's report of a closed connection: it no longer counts against the caps, which may let the
 * worker accept again, or end its drain. */
static void on_conn_closed(struct gw_loop *lp, const uint8_t addr[16])
{
    struct gw_worker *w = (struct gw_worker *)(void *)((char *)lp - offsetof(struct gw_worker, loop));

    gw_ipcount_del(addr);
    atomic_fetch_sub(&gw_open_connections, 1);
    worker_maybe_resume(w);
    worker_check_done(w);
}

struct gw_worker *gw_worker_new(unsigned id, struct gw_runtime *rt, struct gw_listeners *ls, int done_fd, uint32_t boot_id)
{
    struct gw_worker *w = calloc(1, sizeof(*w));
    struct event_config *ec = event_config_new();
    struct event_base *base = NULL;
    struct timeval tick = {0, 250000};

    if (w == NULL || ec == NULL) {
        goto fail;
    }
    w->ctl_fd = -1;
    w->done_fd = done_fd;
    /* One thread per loop, no cross-thread calls: no locking inside libevent. */
    event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
    base = event_base_new_with_config(ec);
    event_config_free(ec);
    ec = NULL;
    if (base == NULL) {
        goto fail;
    }
    w->loop.ctx.boot_id = boot_id;
    gw_loop_init(&w->loop, id, base, rt, on_conn_closed);
    w->ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->ctl_fd < 0) {
        goto fail;
    }
    event_assign(&w->ctl_ev, base, w->ctl_fd, EV_READ | EV_PERSIST, on_control, w);
    event_add(&w->ctl_ev, NULL);
    event_assign(&w->tick_ev, base, -1, EV_PERSIST, on_tick, w);
    event_add(&w->tick_ev, &tick);
    evtimer_assign(&w->resume_ev, base, on_resume, w);
    for (size_t i = 0; i < ls->n; i++) {
        /* backlog 0: the socket already listens; several workers' listeners share it. */
        w->lev_arg[i] = (struct gw_lev_arg){w, i};
        w->lev[i] = evconnlistener_new(base, on_accept, &w->lev_arg[i], LEV_OPT_CLOSE_ON_EXEC, 0, ls->fd[i]);
        if (w->lev[i] == NULL) {
            goto fail;
        }
        evconnlistener_set_error_cb(w->lev[i], on_accept_error);
        w->n_lev++;
    }
    w->ls = ls;
    atomic_fetch_add(&ls->users, 1);
    on_tick(-1, 0, w);
    return w;
fail:
    if (ec != NULL) {
        event_config_free(ec); /* it does not take NULL: a base that failed (out of descriptors) crashed here */
    }
    if (w != NULL) {
        gw_worker_free(w);
    }
    return NULL;
}

int gw_worker_start(struct gw_worker *w)
{
    int err = pthread_create(&w->thread, NULL, worker_main, w);
    w->thread_started = err == 0;
    if (err == 0) {
        gw_metrics_register(&w->loop.stats); /* /metrics counts the workers that run, for the process's lifetime */
    }
    return err;
}

void gw_worker_poke(struct gw_worker *w)
{
    uint64_t one = 1;
    if (write(w->ctl_fd, &one, sizeof(one)) < 0) {
        gw_log(GW_LOG_WARNING, "cannot signal worker %u: %s", w->loop.id, strerror(errno));
    }
}

void gw_worker_join(struct gw_worker *w)
{
    if (w->thread_started) {
        pthread_join(w->thread, NULL);
        w->thread_started = false;
    }
}

void gw_worker_free(struct gw_worker *w)
{
    if (w == NULL) {
        return;
    }
    for (size_t i = 0; i < w->n_lev; i++) {
        evconnlistener_free(w->lev[i]);
    }
    w->n_lev = 0;
    if (w->loop.base != NULL) {
        gw_loop_fini(&w->loop);
        struct event *evs[3] = {&w->ctl_ev, &w->tick_ev, &w->resume_ev};
        for (size_t i = 0; i < 3; i++) {
            if (event_initialized(evs[i])) {
                event_del(evs[i]);
            }
        }
        event_base_free(w->loop.base);
    }
    if (w->ctl_fd >= 0) {
        close(w->ctl_fd);
    }
    free(w);
}
