/* gw_conn.c: one client connection. Requests are read into a pooled buffer only while one is incomplete, answered
 * synchronously into the worker's scratch, and written with one send() per batch of pipelined requests; an idle
 * keep-alive connection holds no buffer at all. */
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

static const struct cfg_limits *limits(const struct gw_worker *w)
{
    return &w->rt->cfg->limits;
}

/* ---- input buffers ---- */

static char *pool_get(struct gw_worker *w, uint32_t cap)
{
    if (w->pool != NULL && w->pool_cap == cap) {
        struct gw_pool_buf *b = w->pool;
        w->pool = b->next;
        w->pool_n--;
        return (char *)b;
    }
    return malloc(cap);
}

static void pool_put(struct gw_worker *w, char *buf, uint32_t cap)
{
    if (buf == NULL) {
        return;
    }
    if (w->pool_n == 0) {
        w->pool_cap = cap;
    }
    if (cap != w->pool_cap || w->pool_n >= GW_POOL_MAX) {
        free(buf);
        return;
    }
    struct gw_pool_buf *b = (struct gw_pool_buf *)(void *)buf;
    b->next = w->pool;
    w->pool = b;
    w->pool_n++;
}

static void release_input(struct gw_conn *c)
{
    pool_put(c->w, c->in, c->in_cap);
    c->in = NULL;
    c->in_len = 0;
    c->in_cap = 0;
}

/* ---- life cycle ---- */

static void conn_free(struct gw_conn *c)
{
    struct gw_worker *w = c->w;

    gw_log(GW_LOG_DEBUG, "worker %u: %s: closed after %u request(s)", w->id, c->client, c->n_req);

    event_del(&c->rev);
    event_del(&c->wev);
    event_del(&c->tev);
    close(c->fd);
    release_input(c);
    free(c->pend);
    gw_ipcount_del(c->addr);
    atomic_fetch_sub(&gw_open_connections, 1);
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        w->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    w->n_conns--;
    free(c);
    gw_worker_maybe_resume(w);
    gw_worker_check_done(w);
}

/* kernel_holds says whether the kernel still holds answers it could not send yet (SIOCOUTQNSD: the unsent part of
 * SIOCOUTQ). Bytes sent and not yet acknowledged do not count: they are in flight to a client that reads, and a reset
 * would destroy them; a client that stops acknowledging is given up by TCP_USER_TIMEOUT (the listeners). */
static bool kernel_holds(int fd)
{
    int n = 0;
    return ioctl(fd, SIOCOUTQNSD, &n) == 0 && n > 0;
}

/* conn_abort closes a connection whose deadline passed. When the kernel still holds answers for it, the client is not
 * reading them: a plain close() would leave the socket orphaned in FIN-WAIT-1 with those bytes until the client goes
 * away, kernel memory that no connection count sees. Reset it instead, so that the kernel drops them now. */
static void conn_abort(struct gw_conn *c)
{
    if (kernel_holds(c->fd)) {
        struct linger reset = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    }
    conn_free(c);
}

static void start_linger(struct gw_conn *c);

/* conn_end closes a connection whose client is done (it closed its side, or asked for the close and sent nothing
 * more). Answers the kernel has not even sent yet mean the client's window is closed: the connection then waits in the
 * linger state, still counted against the limits, and its deadline resets it if the client never reads them. */
static void conn_end(struct gw_conn *c)
{
    if (kernel_holds(c->fd)) {
        if (c->state != GW_CONN_LINGER) {
            start_linger(c);
        }
        if (c->state == GW_CONN_LINGER && c->reading) {
            event_del(&c->rev); /* the client's end was read: nothing more will come */
            c->reading = false;
        }
        return;
    }
    conn_free(c);
}

/* start_linger half-closes after the last response and reads what the client still sends until it closes or the linger
 * time passes, so that a client still sending does not get a reset that destroys the response in flight. */
static void start_linger(struct gw_conn *c)
{
    c->state = GW_CONN_LINGER;
    release_input(c);
    if (shutdown(c->fd, SHUT_WR) != 0) {
        conn_free(c);
        return;
    }
    if (!c->reading) {
        event_add(&c->rev, NULL);
        c->reading = true;
    }
    event_add(&c->tev, c->w->tv_linger);
}

void gw_conn_accept(struct gw_worker *w, int fd, const struct sockaddr *sa)
{
    struct gw_conn *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        gw_log(GW_LOG_ERR, "out of memory accepting a connection");
        close(fd);
        return;
    }
    c->w = w;
    c->fd = fd;
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(c->addr, &s6->sin6_addr, 16);
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            inet_ntop(AF_INET, c->addr + 12, c->client, sizeof(c->client));
        } else {
            inet_ntop(AF_INET6, &s6->sin6_addr, c->client, sizeof(c->client));
        }
    } else if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        c->addr[10] = 0xff;
        c->addr[11] = 0xff;
        memcpy(c->addr + 12, &s4->sin_addr, 4);
        inet_ntop(AF_INET, &s4->sin_addr, c->client, sizeof(c->client));
    } else {
        memcpy(c->client, "unix", 5);
    }
    gw_log(GW_LOG_DEBUG, "worker %u: %s: connected (%ld open)", w->id, c->client, (long)atomic_load(&gw_open_connections));
    event_assign(&c->rev, w->base, fd, EV_READ | EV_PERSIST, on_read, c);
    event_assign(&c->wev, w->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    evtimer_assign(&c->tev, w->base, on_timer, c);
    c->next = w->conns;
    if (w->conns != NULL) {
        w->conns->prev = c;
    }
    w->conns = c;
    w->n_conns++;
    event_add(&c->rev, NULL);
    c->reading = true;
    /* The header deadline runs from the connection's start until its first request is complete. */
    c->t_first_ns = gw_now_ns();
    event_add(&c->tev, w->tv_header);
}

/* ---- the access log ---- */

static void log_access(struct gw_conn *c, const struct gw_request *req, const struct gw_answer *a, uint64_t us, int64_t now_us)
{
    struct gw_worker *w = c->w;
    struct sgn_buf b;
    int64_t secs = now_us / 1000000;

    if (GW_LOG_CAP - w->log_len < 8192) {
        gw_worker_flush_log(w);
    }
    if (secs != w->log_sec || w->log_time[0] == '\0') {
        struct tm tm;
        time_t t = (time_t)secs;
        if (gmtime_r(&t, &tm) == NULL || strftime(w->log_time, sizeof(w->log_time), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
            w->log_time[0] = '\0';
        }
        w->log_sec = secs;
    }
    sgn_buf_init(&b, w->log + w->log_len, GW_LOG_CAP - w->log_len);
    sgn_buf_lit(&b, "{\"time\":\"");
    sgn_buf_append(&b, w->log_time, strlen(w->log_time));
    char ms[5] = {'.', (char)('0' + now_us / 100000 % 10), (char)('0' + now_us / 10000 % 10), (char)('0' + now_us / 1000 % 10),
                  'Z'};
    sgn_buf_append(&b, ms, 5);
    sgn_buf_lit(&b, "\",\"id\":\"");
    sgn_buf_append(&b, a->request_id, strlen(a->request_id));
    sgn_buf_lit(&b, "\",\"client\":\"");
    sgn_buf_append(&b, c->client, strlen(c->client));
    sgn_buf_lit(&b, "\",\"method\":");
    if (req != NULL) {
        gw_json_str(&b, req->method.base, req->method.len, false);
    } else {
        sgn_buf_lit(&b, "null");
    }
    sgn_buf_lit(&b, ",\"route\":");
    if (a->route != NULL) {
        gw_json_str(&b, a->route->prefix, a->route->prefix_len, false);
    } else {
        sgn_buf_lit(&b, "null");
    }
    sgn_buf_lit(&b, ",\"key\":");
    if (a->key_len > 0) {
        gw_json_str(&b, w->ctx.key, a->key_len, true);
    } else if (req != NULL) {
        /* No key: the path as sent, query cut off (it is not ours to log), bounded. */
        sgn_buf_lit(&b, "null,\"path\":");
        gw_json_str(&b, req->path.base, req->path.len < 512 ? req->path.len : 512, false);
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
        w->log_len += b.len;
    }
}

static void account(struct gw_conn *c, const struct gw_request *req, const struct gw_answer *a)
{
    struct gw_worker *w = c->w;
    uint64_t t = gw_now_ns();
    uint64_t us = (t - c->t_first_ns) / 1000;

    gw_metrics_record(&w->stats, a->slot, a->status, us);
    if (gw_access_enabled()) {
        struct timeval tv;
        event_base_gettimeofday_cached(w->base, &tv);
        log_access(c, req, a, us, (int64_t)tv.tv_sec * 1000000 + tv.tv_usec);
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
        ssize_t n = send(c->fd, buf + off, len - off, MSG_NOSIGNAL);
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
    const struct cfg_limits *l = limits(c->w);
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
    struct gw_worker *w = c->w;

    for (;;) {
        struct sgn_buf out;
        struct gw_http_limits lim = http_limits(c);
        struct timeval tv;
        size_t off = 0;
        bool answered = false;
        bool first_batch = c->n_req == 0;
        bool client_close = false; /* the last answer closes because the client asked to, and it sent no body */

        event_base_gettimeofday_cached(w->base, &tv);
        sgn_buf_init(&out, w->out, sizeof(w->out));
        while (off < c->in_len && !c->close_after && sizeof(w->out) - out.len > GW_RESPONSE_MAX) {
            struct gw_request req;
            struct gw_answer a;
            enum gw_parse r = gw_http_parse(&req, c->in + off, c->in_len - off, &lim);
            if (r == GW_PARSE_AGAIN) {
                break;
            }
            if (r == GW_PARSE_ERROR) {
                gw_handle_error(&w->ctx, req.status, req.reason, tv.tv_sec, &out, &a);
                account(c, NULL, &a);
                c->close_after = true;
                off = c->in_len;
                answered = true;
                break;
            }
            c->n_req++;
            bool last = c->n_req >= limits(w)->max_requests_per_conn || w->draining;
            gw_handle(&w->ctx, &req, tv.tv_sec, last, &out, &a);
            account(c, &req, &a);
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
            event_add(&c->tev, c->in_len > 0 ? w->tv_header : w->tv_idle);
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
    struct gw_worker *w = c->w;

    *empty = false;
    if (c->in == NULL) {
        uint32_t cap = limits(w)->max_header_bytes;
        c->in = pool_get(w, cap);
        if (c->in == NULL) {
            gw_log(GW_LOG_ERR, "out of memory reading a request");
            conn_free(c);
            return false;
        }
        c->in_cap = cap;
        c->in_len = 0;
    }
    ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
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
        event_add(&c->tev, w->tv_header);
    }
    bool drained = (size_t)n < c->in_cap - c->in_len;
    c->in_len += (uint32_t)n;
    return process(c, drained);
}

/* read_and_watch reads and answers what the socket holds; when there is nothing, an idle connection gives back its
 * buffer, or is closed if the worker drains. It makes sure epoll watches a connection that stays open to read. */
static void read_and_watch(struct gw_conn *c)
{
    bool empty;

    if (!read_some(c, &empty)) {
        return; /* closed, or lingering (which reads by itself) */
    }
    if (empty && c->in_len == 0) {
        if (c->w->draining && c->n_req > 0) {
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

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct gw_conn *c = arg;
    (void)what;

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
    (void)what;

    while (c->pend_off < c->pend_len) {
        ssize_t n = send(fd, c->pend + c->pend_off, c->pend_len - c->pend_off, MSG_NOSIGNAL);
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
    } else {
        event_add(&c->tev, c->w->tv_idle);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct gw_conn *c = arg;
    struct gw_worker *w = c->w;
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
        /* Idle keep-alive, or connected and never sent a byte: close quietly, unless the answers it had are still in
         * the kernel (a pipelining client that never reads them). */
        conn_abort(c);
        return;
    }
    /* Part of a request head and the deadline passed: answer 408 and close. */
    struct sgn_buf out;
    struct gw_answer a;
    struct timeval tv;
    event_base_gettimeofday_cached(w->base, &tv);
    sgn_buf_init(&out, w->out, sizeof(w->out));
    gw_handle_error(&w->ctx, 408, "request header timeout", tv.tv_sec, &out, &a);
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

void gw_conn_close_idle(struct gw_worker *w)
{
    struct gw_conn *c = w->conns;
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

void gw_conn_close_all(struct gw_worker *w)
{
    while (w->conns != NULL) {
        conn_abort(w->conns);
    }
}
