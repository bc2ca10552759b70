/* gw_conn.c: one client connection. Requests are read into a pooled buffer only while one is incomplete, answered
 * synchronously into the worker's scratch, and written with one send() per batch of pipelined requests; an idle
 * keep-alive connection holds no buffer at all.
 *
 * On a TLS listener the same path runs over net/gw_tls: the handshake first (under the header deadline), then
 * SSL_read into the same input buffer and SSL_write from the same scratch, both non-blocking on the connection's
 * events. A plain connection pays one predictable branch (c->tls == NULL) per read and write. */
#include "gw_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gw_log.h"

uint64_t gw_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);

static const struct cfg_limits *limits(const struct gw_loop *lp)
{
    return &lp->rt->cfg->limits;
}

_Static_assert((int)GW_TLS_V1_2 == (int)GW_TLS_STAT_V1_2 && (int)GW_TLS_V1_3 == (int)GW_TLS_STAT_V1_3 &&
                   (int)GW_TLS_V_NONE == (int)GW_TLS_STAT_NONE && (int)GW_TLS_VERSIONS == (int)GW_TLS_STAT_VERSIONS,
               "metrics count TLS versions in net/gw_tls.h's order");

/* ---- TLS beneath the socket calls ---- */

/* tls_io_result turns a TLS outcome without data into recv()/send()'s: 0 at the client's clean end, else -1 with
 * errno EAGAIN (call again when the socket is ready) or ECONNRESET (fatal). */
static ssize_t tls_io_result(enum gw_tls_io io)
{
    switch (io) {
    case GW_TLS_WANT_READ:
    case GW_TLS_WANT_WRITE: /* a server never renegotiates: only the side the caller waits on can block */
        errno = EAGAIN;
        return -1;
    case GW_TLS_CLOSED:
        return 0;
    default:
        errno = ECONNRESET;
        return -1;
    }
}

/* tls_recv reads application data like recv(2), as much as fits: several records when the socket holds them. Sets
 * `*drained` when nothing more waited (the socket said so). */
static __attribute__((noinline)) ssize_t tls_recv(struct gw_conn *c, char *buf, size_t cap, bool *drained)
{
    size_t got = 0;

    *drained = false;
    while (got < cap) {
        size_t n = 0;
        enum gw_tls_io io = gw_tls_read(c->tls, buf + got, cap - got, &n);
        if (io == GW_TLS_OK) {
            got += n;
            continue;
        }
        if (got > 0) {
            *drained = io == GW_TLS_WANT_READ; /* an end or an error after data is reported by the next read */
            return (ssize_t)got;
        }
        return tls_io_result(io);
    }
    return (ssize_t)got;
}

static __attribute__((noinline)) ssize_t tls_send(struct gw_conn *c, const char *buf, size_t len)
{
    size_t n = 0;
    enum gw_tls_io io = gw_tls_write(c->tls, buf, len, &n);
    return io == GW_TLS_OK ? (ssize_t)n : tls_io_result(io);
}

/* conn_send is send(2) on the connection, through TLS on a TLS listener. */
static inline ssize_t conn_send(struct gw_conn *c, const char *buf, size_t len)
{
    if (c->tls != NULL) {
        return tls_send(c, buf, len);
    }
    return send(c->fd, buf, len, MSG_NOSIGNAL);
}

/* ---- input buffers ---- */

static char *pool_get(struct gw_loop *lp, uint32_t cap)
{
    if (lp->pool != NULL && lp->pool_cap == cap) {
        struct gw_pool_buf *b = lp->pool;
        lp->pool = b->next;
        lp->pool_n--;
        return (char *)b;
    }
    return malloc(cap);
}

static void pool_put(struct gw_loop *lp, char *buf, uint32_t cap)
{
    if (buf == NULL) {
        return;
    }
    if (lp->pool_n == 0) {
        lp->pool_cap = cap;
    }
    if (cap != lp->pool_cap || lp->pool_n >= GW_POOL_MAX) {
        free(buf);
        return;
    }
    struct gw_pool_buf *b = (struct gw_pool_buf *)(void *)buf;
    b->next = lp->pool;
    lp->pool = b;
    lp->pool_n++;
}

static void release_input(struct gw_conn *c)
{
    pool_put(c->loop, c->in, c->in_cap);
    c->in = NULL;
    c->in_len = 0;
    c->in_cap = 0;
}

/* ---- life cycle ---- */

static void conn_free(struct gw_conn *c)
{
    struct gw_loop *lp = c->loop;

    gw_log(GW_LOG_DEBUG, "worker %u: %s: closed after %u request(s)", lp->id, c->client, c->n_req);

    event_del(&c->rev);
    event_del(&c->wev);
    event_del(&c->tev);
    gw_tls_conn_free(c->tls);
    close(c->fd);
    release_input(c);
    free(c->pend);
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        lp->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    lp->n_conns--;
    uint8_t addr[16];
    memcpy(addr, c->addr, sizeof(addr));
    free(c);
    lp->closed(lp, addr);
}

/* kernel_holds says whether the kernel still holds answers it could not send yet (SIOCOUTQNSD: the unsent part of
 * SIOCOUTQ). Bytes sent and not yet acknowledged do not count: they are in flight to a client that reads, and a reset
 * would destroy them; a client that stops acknowledging is given up by TCP_USER_TIMEOUT (the listeners). */
static bool kernel_holds(int fd)
{
    int n = 0;
    return ioctl(fd, SIOCOUTQNSD, &n) == 0 && n > 0;
}

/* unsent says whether answers for the client are still waiting: in the kernel, or before it. TLS output the socket
 * did not take is held by BoringSSL only while its plaintext is in c->pend (SSL_write reported WANT_WRITE and is
 * called again from there), so c->pend covers BoringSSL's pending output too. */
static bool unsent(const struct gw_conn *c)
{
    return c->pend != NULL || kernel_holds(c->fd);
}

/* conn_abort closes a connection whose deadline passed. When the kernel still holds answers for it, the client is not
 * reading them: a plain close() would leave the socket orphaned in FIN-WAIT-1 with those bytes until the client goes
 * away, kernel memory that no connection count sees. Reset it instead, so that the kernel drops them now. */
static void conn_abort(struct gw_conn *c)
{
    if (unsent(c)) {
        struct linger reset = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    }
    conn_free(c);
}

static bool start_linger(struct gw_conn *c);

/* conn_end closes a connection whose client is done (it closed its side, or asked for the close and sent nothing
 * more). Answers the kernel has not even sent yet mean the client's window is closed: the connection then waits in the
 * linger state, still counted against the limits, and its deadline resets it if the client never reads them. */
static void conn_end(struct gw_conn *c)
{
    if (unsent(c)) {
        if (c->state != GW_CONN_LINGER && !start_linger(c)) {
            return; /* the shutdown failed and the connection is gone */
        }
        if (c->reading) {
            event_del(&c->rev); /* the client's end was read: nothing more will come */
            c->reading = false;
        }
        return;
    }
    conn_free(c);
}

/* start_linger half-closes after the last response and reads what the client still sends until it closes or the linger
 * time passes, so that a client still sending does not get a reset that destroys the response in flight. Returns false
 * when the half-close failed and the connection was freed. */
static bool start_linger(struct gw_conn *c)
{
    c->state = GW_CONN_LINGER;
    release_input(c);
    if (c->tls != NULL) {
        gw_tls_close_notify(c->tls);
    }
    if (shutdown(c->fd, SHUT_WR) != 0) {
        conn_free(c);
        return false;
    }
    if (!c->reading) {
        event_add(&c->rev, NULL);
        c->reading = true;
    }
    event_add(&c->tev, c->loop->tv_linger);
    return true;
}

void gw_conn_addr(const struct sockaddr *sa, uint8_t addr[16])
{
    memset(addr, 0, 16);
    if (sa->sa_family == AF_INET6) {
        memcpy(addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    } else if (sa->sa_family == AF_INET) {
        addr[10] = 0xff;
        addr[11] = 0xff;
        memcpy(addr + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    }
}

void gw_conn_accept(struct gw_loop *lp, int fd, const struct sockaddr *sa, struct gw_tls_ctx *tls)
{
    struct gw_conn *c = calloc(1, sizeof(*c));

    if (c != NULL && tls != NULL) {
        c->tls = gw_tls_server_new(tls, fd);
        c->handshaking = true;
        if (c->tls == NULL) {
            free(c);
            c = NULL;
        }
    }
    if (c == NULL) {
        uint8_t addr[16];
        gw_log(GW_LOG_ERR, "out of memory accepting a connection");
        close(fd);
        gw_conn_addr(sa, addr);
        lp->closed(lp, addr); /* it counted against the caps */
        return;
    }
    c->loop = lp;
    c->fd = fd;
    gw_conn_addr(sa, c->addr);
    if (sa->sa_family == AF_INET6 && !IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)c->addr)) {
        inet_ntop(AF_INET6, c->addr, c->client, sizeof(c->client));
    } else if (sa->sa_family == AF_INET6 || sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, c->addr + 12, c->client, sizeof(c->client));
    } else {
        memcpy(c->client, "unix", 5);
    }
    gw_log(GW_LOG_DEBUG, "worker %u: %s: connected (%ld open)", lp->id, c->client, (long)atomic_load(&gw_open_connections));
    event_assign(&c->rev, lp->base, fd, EV_READ | EV_PERSIST, on_read, c);
    event_assign(&c->wev, lp->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    evtimer_assign(&c->tev, lp->base, on_timer, c);
    c->next = lp->conns;
    if (lp->conns != NULL) {
        lp->conns->prev = c;
    }
    lp->conns = c;
    lp->n_conns++;
    event_add(&c->rev, NULL);
    c->reading = true;
    /* The header deadline runs from the connection's start until its first request is complete: on a TLS listener
     * it bounds the handshake too. */
    c->t_first_ns = gw_now_ns();
    event_add(&c->tev, lp->tv_header);
}

/* ---- the loop ---- */

void gw_loop_init(struct gw_loop *lp, unsigned id, struct event_base *base, struct gw_runtime *rt, gw_closed_fn *closed)
{
    lp->id = id;
    lp->base = base;
    lp->closed = closed;
    lp->ctx.worker = id;
    lp->ctx.stats = &lp->stats;
    gw_loop_set_runtime(lp, rt);
}

void gw_loop_set_runtime(struct gw_loop *lp, struct gw_runtime *rt)
{
    if (rt == lp->rt) {
        return;
    }
    gw_runtime_ref(rt);
    struct gw_runtime *old = lp->rt;
    lp->rt = rt;
    gw_ctx_set_runtime(&lp->ctx, rt);
    gw_runtime_unref(old);

    const struct cfg_limits *l = &rt->cfg->limits;
    struct timeval header = {l->header_timeout_ms / 1000, (suseconds_t)(l->header_timeout_ms % 1000) * 1000};
    struct timeval idle = {l->idle_timeout_ms / 1000, (suseconds_t)(l->idle_timeout_ms % 1000) * 1000};
    struct timeval linger = {2, 0};
    /* Common timeouts keep the timers in O(1) queues instead of the heap: thousands of connections share three. */
    lp->tv_header = event_base_init_common_timeout(lp->base, &header);
    lp->tv_idle = event_base_init_common_timeout(lp->base, &idle);
    lp->tv_linger = event_base_init_common_timeout(lp->base, &linger);
}

void gw_loop_fini(struct gw_loop *lp)
{
    gw_conn_close_all(lp);
    while (lp->pool != NULL) {
        struct gw_pool_buf *b = lp->pool;
        lp->pool = b->next;
        free(b);
    }
    lp->pool_n = 0;
    gw_loop_flush_log(lp);
    gw_ctx_wipe(&lp->ctx);
    gw_runtime_unref(lp->rt);
    lp->rt = NULL;
}

void gw_loop_flush_log(struct gw_loop *lp)
{
    if (lp->log_len > 0) {
        gw_access_write(lp->log, lp->log_len);
        lp->log_len = 0;
    }
}

/* ---- the access log ---- */

static void log_access(struct gw_conn *c, const struct gw_req *r, const struct gw_answer *a, uint64_t us, int64_t now_us)
{
    struct gw_loop *lp = c->loop;
    struct sgn_buf b;
    int64_t secs = now_us / 1000000;

    if (GW_LOG_CAP - lp->log_len < 8192) {
        gw_loop_flush_log(lp);
    }
    if (secs != lp->log_sec || lp->log_time[0] == '\0') {
        struct tm tm;
        time_t t = (time_t)secs;
        if (gmtime_r(&t, &tm) == NULL || strftime(lp->log_time, sizeof(lp->log_time), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
            lp->log_time[0] = '\0';
        }
        lp->log_sec = secs;
    }
    sgn_buf_init(&b, lp->log + lp->log_len, GW_LOG_CAP - lp->log_len);
    sgn_buf_lit(&b, "{\"time\":\"");
    sgn_buf_append(&b, lp->log_time, strlen(lp->log_time));
    char ms[5] = {'.', (char)('0' + now_us / 100000 % 10), (char)('0' + now_us / 10000 % 10), (char)('0' + now_us / 1000 % 10),
                  'Z'};
    sgn_buf_append(&b, ms, 5);
    sgn_buf_lit(&b, "\",\"id\":\"");
    sgn_buf_append(&b, a->request_id, strlen(a->request_id));
    if (r != NULL && r->trace_id.len > 0) {
        sgn_buf_lit(&b, "\",\"trace_id\":\"");
        sgn_buf_append(&b, r->trace_id.base, r->trace_id.len);
    }
    sgn_buf_lit(&b, "\",\"client\":\"");
    sgn_buf_append(&b, c->client, strlen(c->client));
    sgn_buf_lit(&b, "\",\"method\":");
    if (r != NULL) {
        gw_json_str(&b, r->method.base, r->method.len, false);
    } else {
        sgn_buf_lit(&b, "null");
    }
    sgn_buf_lit(&b, ",\"route\":");
    if (r != NULL && r->route != NULL) {
        gw_json_str(&b, r->route->prefix, r->route->prefix_len, false);
    } else {
        sgn_buf_lit(&b, "null");
    }
    sgn_buf_lit(&b, ",\"key\":");
    if (r != NULL && r->key_len > 0) {
        gw_json_str(&b, r->key, r->key_len, true);
    } else if (r != NULL) {
        /* No key: the path as sent, query cut off (it is not ours to log), bounded. */
        sgn_buf_lit(&b, "null,\"path\":");
        gw_json_str(&b, r->http->path.base, r->http->path.len < 512 ? r->http->path.len : 512, false);
    } else {
        sgn_buf_lit(&b, "null");
    }
    sgn_buf_lit(&b, ",\"status\":");
    sgn_buf_u64(&b, a->status);
    sgn_buf_lit(&b, ",\"bytes\":");
    sgn_buf_u64(&b, a->bytes);
    sgn_buf_lit(&b, ",\"us\":");
    sgn_buf_u64(&b, us);
    if (a->reason != NULL) {
        sgn_buf_lit(&b, ",\"reason\":");
        gw_json_str(&b, a->reason, strlen(a->reason), false);
    }
    sgn_buf_lit(&b, "}\n");
    if (!b.overflow) {
        lp->log_len += b.len;
    }
}

/* account records an answer in the metrics and the access log; `r` is NULL for an answer to no request (a parse
 * error, a timeout), which the log shows without method, route or path. */
static void account(struct gw_conn *c, const struct gw_req *r, const struct gw_answer *a)
{
    struct gw_loop *lp = c->loop;
    uint64_t t = gw_now_ns();
    uint64_t us = (t - c->t_first_ns) / 1000;

    gw_metrics_record(&lp->stats, r != NULL ? r->slot : 0, a->status, us);
    if (gw_access_enabled()) {
        struct timeval tv;
        event_base_gettimeofday_cached(lp->base, &tv);
        log_access(c, r, a, us, (int64_t)tv.tv_sec * 1000000 + tv.tv_usec);
    }
    c->t_first_ns = t; /* a pipelined next request starts now */
}

/* ---- writing ---- */

/* send_out sends `len` bytes from the worker's scratch; what the socket does not take is kept on the connection, and
 * reading stops until it is written (so a pipelining client cannot make us buffer without bound). Returns false when
 * the connection was closed. */
static bool send_out(struct gw_conn *c, const char *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = conn_send(c, buf + off, len - off);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        conn_free(c); /* reset or closed by the client */
        return false;
    }
    if (off == len) {
        return true;
    }
    c->pend = malloc(len - off);
    if (c->pend == NULL) {
        conn_free(c);
        return false;
    }
    memcpy(c->pend, buf + off, len - off);
    c->pend_len = (uint32_t)(len - off);
    c->pend_off = 0;
    event_del(&c->rev);
    c->reading = false;
    event_add(&c->wev, NULL);
    return true;
}

/* ---- reading and answering ---- */

static struct gw_http_limits http_limits(const struct gw_conn *c)
{
    const struct cfg_limits *l = limits(c->loop);
    struct gw_http_limits h = {l->max_header_bytes, l->max_uri_bytes, l->max_headers};
    if (h.max_header_bytes > c->in_cap) {
        h.max_header_bytes = c->in_cap; /* a buffer from before a reload */
    }
    return h;
}

/* process answers every complete request in the input buffer, then sends the answers. `drained` says the recv() that
 * just filled the buffer emptied the socket's receive queue. Returns false when the connection was freed or lingers,
 * true when it stays open (writing its pending bytes, or waiting for the next request). */
static bool process(struct gw_conn *c, bool drained)
{
    struct gw_loop *lp = c->loop;

    for (;;) {
        struct sgn_buf out;
        struct gw_http_limits lim = http_limits(c);
        struct timeval tv;
        size_t off = 0;
        bool answered = false;
        bool first_batch = c->n_req == 0;
        bool client_close = false; /* the last answer closes because the client asked to, and it sent no body */

        event_base_gettimeofday_cached(lp->base, &tv);
        sgn_buf_init(&out, lp->out, sizeof(lp->out));
        while (off < c->in_len && !c->close_after && sizeof(lp->out) - out.len > GW_RESPONSE_MAX) {
            struct gw_request req;
            struct gw_req r;
            struct gw_answer a;
            enum gw_parse st = gw_http_parse(&req, c->in + off, c->in_len - off, &lim);
            if (st == GW_PARSE_AGAIN) {
                break;
            }
            gw_req_init(&r, &req, c->addr, c->client);
            if (st == GW_PARSE_ERROR) {
                gw_handle_error(&lp->ctx, &r, req.status, req.reason, tv.tv_sec, &out, &a);
                account(c, NULL, &a);
                c->close_after = true;
                off = c->in_len;
                answered = true;
                break;
            }
            c->n_req++;
            bool last = c->n_req >= limits(lp)->max_requests_per_conn || lp->draining;
            gw_handle(&lp->ctx, &r, tv.tv_sec, last, &out, &a);
            account(c, &r, &a);
            off += req.head_len;
            answered = true;
            if (a.close) {
                c->close_after = true;
                client_close = !req.keep_alive && !req.has_body;
            }
        }
        if (off < c->in_len) {
            drained = false; /* bytes after the last answer: the client is still sending */
        }
        if (c->close_after) {
            off = c->in_len; /* nothing after the last answer is read */
        }
        if (off > 0 && off < c->in_len) {
            memmove(c->in, c->in + off, c->in_len - off);
        }
        c->in_len -= (uint32_t)off;
        if (out.overflow) {
            /* Cannot happen: each answer is bounded by GW_RESPONSE_MAX and there was that much room. */
            gw_log(GW_LOG_ERR, "response buffer overflow; closing the connection");
            conn_free(c);
            return false;
        }
        if (c->in_len == 0) {
            release_input(c);
        }
        if (out.len > 0 && !send_out(c, out.base, out.len)) {
            return false;
        }
        if (first_batch && answered && (!c->close_after || c->pend != NULL)) {
            /* One send() per batch of answers: Nagle would only delay the second of two pipelined batches, or the
             * rest of a partly sent one. The first send goes out at once anyway (nothing is in flight), so a
             * connection closed after its first answer, the common Connection: close case, skips the syscall. */
            int one = 1;
            setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        if (c->pend != NULL) {
            return true; /* on_write continues */
        }
        if (c->close_after) {
            if (client_close && drained) {
                /* The client said it sends nothing more (RFC 9112 9.6) and nothing more had come: close at once, as
                 * nginx's `lingering_close on` does, saving a shutdown(), a wake-up, a recv() and an epoll_ctl(). A
                 * client that did send more would get a reset; every other close lingers. */
                conn_end(c);
                return false;
            }
            start_linger(c);
            return false;
        }
        if (answered) {
            /* The next request's deadline: header timeout if it has begun, idle timeout if not. */
            event_add(&c->tev, c->in_len > 0 ? lp->tv_header : lp->tv_idle);
        }
        if (!answered || c->in_len == 0) {
            return true;
        }
        /* More complete requests than the scratch could answer in one batch: go on. */
    }
}

/* read_some reads what the socket holds and answers it. Sets `*empty` when there was nothing to read. Returns false
 * when the connection was freed or lingers, as process does. */
static bool read_some(struct gw_conn *c, bool *empty)
{
    struct gw_loop *lp = c->loop;

    *empty = false;
    if (c->in == NULL) {
        uint32_t cap = limits(lp)->max_header_bytes;
        c->in = pool_get(lp, cap);
        if (c->in == NULL) {
            gw_log(GW_LOG_ERR, "out of memory reading a request");
            conn_free(c);
            return false;
        }
        c->in_cap = cap;
        c->in_len = 0;
    }
    bool drained;
    ssize_t n;
    if (c->tls == NULL) {
        n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        drained = n >= 0 && (size_t)n < c->in_cap - c->in_len;
    } else {
        n = tls_recv(c, c->in + c->in_len, c->in_cap - c->in_len, &drained);
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        *empty = true;
        return true;
    }
    if (n == 0) {
        conn_end(c); /* the client closed its side */
        return false;
    }
    if (n < 0) {
        conn_free(c); /* reset by the client */
        return false;
    }
    if (c->in_len == 0 && c->n_req > 0) {
        /* The first byte of a new request on a kept-alive connection: its header deadline starts now. */
        c->t_first_ns = gw_now_ns();
        event_add(&c->tev, lp->tv_header);
    }
    c->in_len += (uint32_t)n;
    return process(c, drained);
}

/* read_and_watch reads and answers what the socket holds; when there is nothing, an idle connection gives back its
 * buffer, or is closed if the worker drains. It makes sure epoll watches a connection that stays open to read. */
static void read_and_watch(struct gw_conn *c)
{
    bool empty;

    do {
        if (!read_some(c, &empty)) {
            return; /* closed, or lingering (which reads by itself) */
        }
        /* Decrypted data BoringSSL holds is not the socket's to announce: read it before waiting on the socket. */
    } while (c->tls != NULL && c->pend == NULL && !empty && gw_tls_pending(c->tls));
    if (empty && c->in_len == 0) {
        if (c->loop->draining && c->n_req > 0) {
            conn_end(c); /* shutting down, and nothing more was asked */
            return;
        }
        release_input(c); /* an idle connection holds no buffer */
    }
    if (!c->reading && c->pend == NULL) {
        event_add(&c->rev, NULL);
        c->reading = true;
    }
}

static void count_handshake(struct gw_conn *c, enum gw_tls_stat_result result)
{
    struct gw_stats *s = &c->loop->stats;
    /* A failed handshake has no version to count under: BoringSSL reports a default until one is agreed. */
    enum gw_tls_version v = result == GW_TLS_STAT_SUCCESS ? gw_tls_conn_version_id(c->tls) : GW_TLS_V_NONE;
    gw_stat_inc(&s->tls_handshakes[v][result], 1);
    if (result == GW_TLS_STAT_SUCCESS && gw_tls_conn_resumed(c->tls)) {
        gw_stat_inc(&s->tls_resumed[v], 1);
    }
}

/* handshake advances a TLS handshake on either event; once complete, the connection reads requests. */
static __attribute__((noinline)) void handshake(struct gw_conn *c)
{
    switch (gw_tls_handshake(c->tls)) {
    case GW_TLS_OK:
        c->handshaking = false;
        count_handshake(c, GW_TLS_STAT_SUCCESS);
        event_del(&c->wev);
        c->t_first_ns = gw_now_ns(); /* the first request's duration leaves the handshake out (its deadline does not) */
        read_and_watch(c);           /* the first request may have come with the handshake's last flight */
        return;
    case GW_TLS_WANT_READ:
        event_del(&c->wev);
        return;
    case GW_TLS_WANT_WRITE:
        event_add(&c->wev, NULL);
        return;
    default:
        gw_log(GW_LOG_DEBUG, "worker %u: %s: TLS handshake failed: %s", c->loop->id, c->client, gw_tls_conn_error(c->tls));
        count_handshake(c, GW_TLS_STAT_FAILURE);
        conn_free(c);
        return;
    }
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct gw_conn *c = arg;
    (void)what;

    if (c->handshaking) {
        handshake(c);
        return;
    }
    if (c->state == GW_CONN_LINGER) {
        char sink[4096];
        ssize_t n = recv(fd, sink, sizeof(sink), 0);
        if (n == 0) {
            conn_end(c);
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            conn_free(c);
        }
        return;
    }
    read_and_watch(c);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    struct gw_conn *c = arg;
    (void)fd;
    (void)what;

    if (c->handshaking) {
        handshake(c);
        return;
    }
    while (c->pend_off < c->pend_len) {
        ssize_t n = conn_send(c, c->pend + c->pend_off, c->pend_len - c->pend_off);
        if (n > 0) {
            c->pend_off += (uint32_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        conn_free(c);
        return;
    }
    free(c->pend);
    c->pend = NULL;
    c->pend_len = 0;
    event_del(&c->wev);
    if (c->close_after) {
        start_linger(c);
        return;
    }
    event_add(&c->rev, NULL);
    c->reading = true;
    if (c->in_len > 0) {
        (void)process(c, false); /* pipelined requests that waited for the socket; more may be queued */
    } else if (c->tls != NULL && gw_tls_pending(c->tls)) {
        read_and_watch(c); /* requests BoringSSL decrypted while the answers waited */
    } else {
        event_add(&c->tev, c->loop->tv_idle);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct gw_conn *c = arg;
    struct gw_loop *lp = c->loop;
    (void)fd;
    (void)what;

    if (c->state == GW_CONN_LINGER || c->pend != NULL) {
        /* A client that neither closes nor reads: reset, so the kernel drops the answers it still holds for it
         * instead of keeping them in FIN-WAIT-1 (a slow-read attack's goal). */
        struct linger reset = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
        conn_free(c);
        return;
    }
    if (c->in_len == 0) {
        /* Idle keep-alive, or connected and never sent a byte (or never finished its TLS handshake): close quietly,
         * unless the answers it had are still in the kernel (a pipelining client that never reads them). */
        if (c->handshaking) {
            count_handshake(c, GW_TLS_STAT_TIMEOUT);
        }
        conn_abort(c);
        return;
    }
    /* Part of a request head and the deadline passed: answer 408 and close. */
    struct sgn_buf out;
    struct gw_answer a;
    struct gw_req r;
    struct timeval tv;
    event_base_gettimeofday_cached(lp->base, &tv);
    sgn_buf_init(&out, lp->out, sizeof(lp->out));
    gw_req_init(&r, NULL, c->addr, c->client);
    gw_handle_error(&lp->ctx, &r, 408, "request header timeout", tv.tv_sec, &out, &a);
    account(c, NULL, &a);
    c->close_after = true;
    c->in_len = 0;
    release_input(c);
    if (!send_out(c, out.base, out.len)) {
        return;
    }
    if (c->pend == NULL) {
        start_linger(c);
    }
}

void gw_conn_close_idle(struct gw_loop *lp)
{
    struct gw_conn *c = lp->conns;
    while (c != NULL) {
        struct gw_conn *next = c->next;
        /* A connection that has not sent its first request yet is left to it (and to its header deadline): its
         * client connected to be answered, and a close now would fail a request it may be sending right now. */
        if (c->n_req > 0 && c->in_len == 0 && c->pend == NULL && c->state == GW_CONN_OPEN) {
            /* Draining: it is closed unless its next request came in since epoll last looked, which is answered,
             * with Connection: close, rather than reset by the close. */
            read_and_watch(c);
        }
        c = next;
    }
}

void gw_conn_close_all(struct gw_loop *lp)
{
    struct gw_conn *c = lp->conns;
    while (c != NULL) {
        struct gw_conn *next = c->next; /* conn_abort unlinks and frees `c` only */
        conn_abort(c);
        c = next;
    }
}
