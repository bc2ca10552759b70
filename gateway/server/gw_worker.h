/* gw_worker.h: the worker threads. Each runs one event loop: it accepts on every listening socket (pausing at the
 * connection caps and after accept errors), owns its connections through a struct gw_loop, and learns of a reload or
 * a stop from the main thread through an eventfd. */
#ifndef GW_WORKER_H
#define GW_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/event_struct.h>
#include <event2/listener.h>

#include "gw_conn.h"
#include "gw_listen.h"

/* The process-wide state the workers read; the main thread (gw_server.c) writes it, then pokes every worker. */
extern _Atomic(struct gw_runtime *) gw_current;
extern atomic_bool gw_stopping; /* drain: stop accepting, finish what is in flight */
extern atomic_bool gw_forced;   /* the drain deadline passed: close everything */

/* gw_current_swap publishes `rt` (whose reference passes to gw_current) and returns the previous runtime with the
 * reference gw_current held. gw_current_acquire returns the current runtime with a reference of the caller's own.
 * The two take one lock, so a runtime swapped out is never freed between a worker's load and its reference (two
 * reloads in a row could do that with a bare atomic load). Both run only on reloads and adoptions, never per request. */
struct gw_runtime *gw_current_swap(struct gw_runtime *rt);
struct gw_runtime *gw_current_acquire(void);

struct gw_worker {
    struct gw_loop loop; /* its connections */
    pthread_t thread;
    bool thread_started;
    struct evconnlistener *lev[GW_MAX_LISTENERS];
    struct gw_lev_arg {
        struct gw_worker *w;
        size_t idx; /* the socket's index in struct gw_listeners, and in the runtime's struct gw_tls_set */
    } lev_arg[GW_MAX_LISTENERS];
    size_t n_lev;
    struct gw_listeners *ls; /* while it accepts on them; released (gw_listen_release) when its drain begins */
    bool paused;             /* listeners disabled: at the connection cap, or accept failing */
    unsigned backoff_ms;     /* after EMFILE/ENFILE */
    int64_t last_err_log;
    int ctl_fd; /* eventfd: the main thread asks the worker to look at the shared state */
    struct event ctl_ev;
    struct event tick_ev;          /* 250 ms: access-log flush, heartbeat, listener resume */
    struct event resume_ev;        /* one-shot: resume accepting after a pause */
    atomic_int_fast64_t heartbeat; /* CLOCK_MONOTONIC seconds of the last tick */
    int done_fd;                   /* written once when the loop ends */
};

/* gw_worker_new sets up worker `id` (its loop, its listeners on `ls`, of which it becomes a user, a reference to `rt`);
 * it writes 1 to `done_fd` when its loop ends. Returns NULL when a resource is missing. */
struct gw_worker *gw_worker_new(unsigned id, struct gw_runtime *rt, struct gw_listeners *ls, int done_fd, uint32_t boot_id);

/* gw_worker_start starts the worker's thread; returns 0 or pthread_create's error. */
int gw_worker_start(struct gw_worker *w);

/* gw_worker_poke asks the worker to look at gw_current, gw_stopping and gw_forced. */
void gw_worker_poke(struct gw_worker *w);

/* gw_worker_join waits for the worker's thread, if it was started. */
void gw_worker_join(struct gw_worker *w);

/* gw_worker_free frees a worker whose thread is not running (never started, or joined). NULL is allowed. */
void gw_worker_free(struct gw_worker *w);

#endif
