/* gw_conn.h: the server's internal types, shared by gw_server.c (process, threads, listeners, signals) and gw_conn.c
 * (one client connection: reading, parsing, answering, writing, timeouts). */
#ifndef GW_CONN_H
#define GW_CONN_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/listener.h>

#include "gw_handler.h"
#include "gw_metrics.h"

#define GW_MAX_LISTENERS 64
#define GW_OUT_CAP (GW_RESPONSE_MAX + 128 * 1024) /* one worker's response scratch */
#define GW_LOG_CAP (64 * 1024)                    /* one worker's access-log buffer */
#define GW_POOL_MAX 256                           /* idle input buffers a worker keeps */

/* The process-wide state the workers read. */
extern _Atomic(struct gw_runtime *) gw_current;
extern atomic_bool gw_stopping; /* drain: stop accepting, finish what is in flight */
extern atomic_bool gw_forced;   /* the drain deadline passed: close everything */

struct gw_pool_buf {
    struct gw_pool_buf *next;
};

struct gw_worker;

enum gw_conn_state {
    GW_CONN_OPEN = 0, /* reading requests, answering */
    GW_CONN_LINGER,   /* answered its last response; draining the client's bytes before closing */
};

struct gw_conn {
    struct gw_conn *prev;
    struct gw_conn *next;
    struct gw_worker *w;
    int fd;
    uint8_t state;
    bool close_after; /* the last response is queued */
    bool reading;     /* rev is added */
    struct event rev;
    struct event wev;
    struct event tev;
    char *in; /* pooled, only while a request is partly read */
    uint32_t in_len;
    uint32_t in_cap;
    char *pend; /* response bytes the socket did not take yet */
    uint32_t pend_len;
    uint32_t pend_off;
    uint32_t n_req;
    uint64_t t_first_ns; /* first byte of the current request */
    uint8_t addr[16];    /* client address, IPv4 as ::ffff:a.b.c.d */
    char client[46];
};

struct gw_worker {
    unsigned id;
    pthread_t thread;
    struct event_base *base;
    struct evconnlistener *lev[GW_MAX_LISTENERS];
    size_t n_lev;
    bool paused;         /* listeners disabled: at the connection cap, or accept failing */
    unsigned backoff_ms; /* after EMFILE/ENFILE */
    int64_t last_err_log;
    int ctl_fd; /* eventfd: the main thread asks the worker to look at the shared state */
    struct event ctl_ev;
    struct event tick_ev;   /* 250 ms: access-log flush, heartbeat, listener resume */
    struct event resume_ev; /* one-shot: resume accepting after a pause */
    struct gw_runtime *rt;  /* the worker's reference */
    const struct timeval *tv_header;
    const struct timeval *tv_idle;
    const struct timeval *tv_linger;
    struct gw_conn *conns;
    unsigned n_conns;
    bool draining;
    struct gw_pool_buf *pool;
    unsigned pool_n;
    uint32_t pool_cap;
    atomic_int_fast64_t heartbeat; /* CLOCK_MONOTONIC seconds of the last tick */
    int done_fd;                   /* written once when the loop ends */
    size_t log_len;
    int64_t log_sec;   /* the second log_time was formatted for */
    char log_time[24]; /* YYYY-MM-DDTHH:MM:SS of log_sec: formatted once a second, not once a line */
    struct gw_stats stats;
    struct gw_ctx ctx;
    char log[GW_LOG_CAP];
    char out[GW_OUT_CAP];
};

/* gw_conn_accept takes a new client socket (non-blocking) for worker `w`. */
void gw_conn_accept(struct gw_worker *w, int fd, const struct sockaddr *sa);

/* gw_conn_close_idle closes the worker's connections that have no request in progress (for the drain). */
void gw_conn_close_idle(struct gw_worker *w);

/* gw_conn_close_all closes every connection of the worker at once (the drain deadline). */
void gw_conn_close_all(struct gw_worker *w);

/* gw_worker_flush_log writes the worker's buffered access lines. */
void gw_worker_flush_log(struct gw_worker *w);

/* gw_worker_set_timeouts derives the worker's timers from its configuration. */
void gw_worker_set_timeouts(struct gw_worker *w);

/* gw_worker_pause stops accepting for `ms` milliseconds (0: until below the connection cap). */
void gw_worker_pause(struct gw_worker *w, unsigned ms);

/* gw_worker_maybe_resume accepts again when the worker is paused for the cap and the process is below it. */
void gw_worker_maybe_resume(struct gw_worker *w);

/* gw_worker_check_done ends the worker's loop when it is draining and has no connection left. */
void gw_worker_check_done(struct gw_worker *w);

/* Per client address connection counts, shared by all workers. gw_ipcount_add returns false (and counts nothing) when
 * the address already has `max` connections. */
bool gw_ipcount_add(const uint8_t addr[16], uint32_t max);
void gw_ipcount_del(const uint8_t addr[16]);

/* gw_now_ns is CLOCK_MONOTONIC in nanoseconds. */
uint64_t gw_now_ns(void);

#endif
