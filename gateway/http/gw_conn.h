/* gw_conn.h: client connections (reading, parsing, answering, writing, timeouts) and the per-thread state they share,
 * struct gw_loop. The server layer owns the loops (one per worker thread) and is told of each close through the loop's
 * `closed` callback: connections never call up into the server. */
#ifndef GW_CONN_H
#define GW_CONN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "gw_handler.h"
#include "gw_metrics.h"
#include "gw_tls.h"

#define GW_OUT_CAP (GW_RESPONSE_MAX + 128 * 1024) /* one loop's response scratch */
#define GW_LOG_CAP (64 * 1024)                    /* one loop's access-log buffer */
#define GW_POOL_MAX 256                           /* idle input buffers a loop keeps */

struct gw_pool_buf {
    struct gw_pool_buf *next;
};

struct gw_loop;

/* gw_closed_fn is told of every connection the loop closes, after it is gone: `addr` is its client address. */
typedef void gw_closed_fn(struct gw_loop *lp, const uint8_t addr[16]);

/* struct gw_loop is one event loop's connections and everything they share: the scratch buffers, the input buffer
 * pool, the access-log buffer, the handler context and the timers derived from the configuration. One thread uses it;
 * nothing in it is locked. */
struct gw_loop {
    unsigned id; /* the worker's number, for the logs */
    struct event_base *base;
    struct gw_runtime *rt; /* the loop's reference */
    gw_closed_fn *closed;
    const struct timeval *tv_header;
    const struct timeval *tv_idle;
    const struct timeval *tv_linger;
    struct gw_conn *conns;
    unsigned n_conns;
    bool draining; /* answer with Connection: close; close idle connections */
    struct gw_pool_buf *pool;
    unsigned pool_n;
    uint32_t pool_cap;
    size_t log_len;
    int64_t log_sec;   /* the second log_time was formatted for */
    char log_time[24]; /* YYYY-MM-DDTHH:MM:SS of log_sec: formatted once a second, not once a line */
    struct gw_stats stats;
    struct gw_ctx ctx;
    char log[GW_LOG_CAP];
    char out[GW_OUT_CAP];
};

enum gw_conn_state {
    GW_CONN_OPEN = 0, /* reading requests, answering */
    GW_CONN_LINGER,   /* answered its last response; draining the client's bytes before closing */
};

struct gw_conn {
    struct gw_conn *prev;
    struct gw_conn *next;
    struct gw_loop *loop;
    int fd;
    uint8_t state;
    bool close_after;        /* the last response is queued */
    bool reading;            /* rev is added */
    bool handshaking;        /* TLS: the handshake is not complete (its deadline is the header deadline) */
    struct gw_tls_conn *tls; /* NULL on a plain listener */
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

/* gw_loop_init sets up `lp` on `base` with a reference to `rt`; `closed` is told of every close. */
void gw_loop_init(struct gw_loop *lp, unsigned id, struct event_base *base, struct gw_runtime *rt, gw_closed_fn *closed);

/* gw_loop_set_runtime makes the loop use `rt` (taking a reference, dropping the old one) and derives its timers. */
void gw_loop_set_runtime(struct gw_loop *lp, struct gw_runtime *rt);

/* gw_loop_fini closes every connection and frees what the loop holds, before its event base is freed. */
void gw_loop_fini(struct gw_loop *lp);

/* gw_loop_flush_log writes the loop's buffered access lines. */
void gw_loop_flush_log(struct gw_loop *lp);

/* gw_conn_accept takes a new client socket (non-blocking) for loop `lp`; `tls` is the listener's TLS context, or NULL
 * for a plain listener. */
void gw_conn_accept(struct gw_loop *lp, int fd, const struct sockaddr *sa, struct gw_tls_ctx *tls);

/* gw_conn_addr maps a socket address to 16 bytes: IPv6 as is, IPv4 as ::ffff:a.b.c.d, anything else as zeros. */
void gw_conn_addr(const struct sockaddr *sa, uint8_t addr[16]);

/* gw_conn_close_idle closes the loop's connections that have no request in progress (for the drain). */
void gw_conn_close_idle(struct gw_loop *lp);

/* gw_conn_close_all closes every connection of the loop at once (the drain deadline). */
void gw_conn_close_all(struct gw_loop *lp);

/* gw_now_ns is CLOCK_MONOTONIC in nanoseconds. */
uint64_t gw_now_ns(void);

#endif
