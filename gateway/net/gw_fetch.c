/* gw_fetch.c: the outbound HTTP/1.1 client (gw_fetch.h). */
#include "gw_fetch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gw_errbuf.h"
#include "gw_tls.h"

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool ascii_ieq(const char *a, size_t a_len, const char *lit)
{
    size_t n = strlen(lit);
    if (a_len != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)lit[i];
        if (x >= 'A' && x <= 'Z') {
            x = (unsigned char)(x - 'A' + 'a');
        }
        if (x != y) {
            return false;
        }
    }
    return true;
}

/* ---- URL ---- */

int gw_url_parse(struct gw_url *out, const char *url, size_t len, char *err, size_t err_cap)
{
    memset(out, 0, sizeof(*out));
    if (len > GW_FETCH_MAX_URL) {
        gw_errf(err, err_cap, "URL is %zu bytes, over %d", len, GW_FETCH_MAX_URL);
        return -1;
    }
    const char *p = url, *end = url + len;
    if (len >= 7 && memcmp(p, "http://", 7) == 0) {
        p += 7;
        out->port = 80;
    } else if (len >= 8 && memcmp(p, "https://", 8) == 0) {
        p += 8;
        out->tls = true;
        out->port = 443;
    } else {
        gw_errf(err, err_cap, "URL scheme is not http:// or https://");
        return -1;
    }
    const char *auth = p;
    while (p < end && *p != '/' && *p != '?' && *p != '#') {
        p++;
    }
    const char *auth_end = p;
    if (memchr(auth, '@', (size_t)(auth_end - auth)) != NULL) {
        gw_errf(err, err_cap, "URL has user info, which is not supported");
        return -1;
    }
    const char *host = auth, *host_end;
    const char *q = auth;
    if (q < auth_end && *q == '[') {
        host = q + 1;
        host_end = memchr(host, ']', (size_t)(auth_end - host));
        if (host_end == NULL) {
            gw_errf(err, err_cap, "URL has an unclosed [ in its host");
            return -1;
        }
        q = host_end + 1;
        out->ipv6 = true;
    } else {
        while (q < auth_end && *q != ':') {
            q++;
        }
        host_end = q;
    }
    size_t host_len = (size_t)(host_end - host);
    if (host_len == 0 || host_len > GW_FETCH_MAX_HOST) {
        gw_errf(err, err_cap, "URL host is %zu bytes, not 1..%d", host_len, GW_FETCH_MAX_HOST);
        return -1;
    }
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    if (out->ipv6) {
        struct in6_addr a6;
        if (inet_pton(AF_INET6, out->host, &a6) != 1) {
            gw_errf(err, err_cap, "URL host [%s] is not an IPv6 address", out->host);
            return -1;
        }
    } else {
        for (size_t i = 0; i < host_len; i++) {
            unsigned char c = (unsigned char)out->host[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
                gw_errf(err, err_cap, "URL host has a byte outside [A-Za-z0-9.-] at offset %zu", i);
                return -1;
            }
        }
    }
    out->default_port = true;
    if (q < auth_end) {
        if (*q != ':' || q + 1 == auth_end || auth_end - (q + 1) > 5) {
            gw_errf(err, err_cap, "URL port of %s is not 1..65535", out->host);
            return -1;
        }
        unsigned long port = 0;
        for (const char *d = q + 1; d < auth_end; d++) {
            if (*d < '0' || *d > '9') {
                gw_errf(err, err_cap, "URL port of %s is not 1..65535", out->host);
                return -1;
            }
            port = port * 10 + (unsigned long)(*d - '0');
        }
        if (port == 0 || port > 65535) {
            gw_errf(err, err_cap, "URL port of %s is not 1..65535", out->host);
            return -1;
        }
        out->port = (uint16_t)port;
        out->default_port = false;
    }
    for (const char *t = auth_end; t < end; t++) {
        if (*t == '#') {
            gw_errf(err, err_cap, "URL of %s has a fragment", out->host);
            return -1;
        }
        if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f) {
            gw_errf(err, err_cap, "URL of %s has a byte outside printable ASCII in its path or query", out->host);
            return -1;
        }
    }
    if (auth_end == end || *auth_end == '?') {
        /* "http://h" and "http://h?x": the request target needs a leading "/"; gw_fetch adds it for a bare query. */
        out->target = auth_end == end ? "/" : auth_end;
        out->target_len = auth_end == end ? 1 : (size_t)(end - auth_end);
    } else {
        out->target = auth_end;
        out->target_len = (size_t)(end - auth_end);
    }
    return 0;
}

/* ---- response parsing ---- */

/* find_crlf returns the offset of the next "\r\n" at or after `from`, or `len` when there is none. */
static size_t find_crlf(const char *s, size_t from, size_t len)
{
    for (size_t i = from; i + 1 < len; i++) {
        if (s[i] == '\r' && s[i + 1] == '\n') {
            return i;
        }
    }
    return len;
}

static void trim(const char **v, size_t *n)
{
    while (*n > 0 && (**v == ' ' || **v == '\t')) {
        (*v)++;
        (*n)--;
    }
    while (*n > 0 && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t')) {
        (*n)--;
    }
}

enum framing {
    FRAME_NONE,
    FRAME_LENGTH,
    FRAME_CHUNKED,
    FRAME_CLOSE,
};

struct head {
    int status;
    size_t head_len; /* bytes up to and including the blank line */
    enum framing framing;
    uint64_t length;
};

/* parse_head parses the status line and headers ending at `head_end` (the offset of the "\r\n\r\n"). */
static int parse_head(struct head *h, const char *raw, size_t head_end, char *err, size_t err_cap)
{
    size_t eol = find_crlf(raw, 0, head_end + 2);
    if (eol < 12 || (memcmp(raw, "HTTP/1.1 ", 9) != 0 && memcmp(raw, "HTTP/1.0 ", 9) != 0) || raw[9] < '1' || raw[9] > '5' ||
        raw[10] < '0' || raw[10] > '9' || raw[11] < '0' || raw[11] > '9' || (eol > 12 && raw[12] != ' ')) {
        gw_errf(err, err_cap, "malformed status line");
        return -1;
    }
    for (size_t i = 12; i < eol; i++) {
        if ((unsigned char)raw[i] < 0x20 && raw[i] != '\t') {
            gw_errf(err, err_cap, "control byte in the status line");
            return -1;
        }
    }
    h->status = (raw[9] - '0') * 100 + (raw[10] - '0') * 10 + (raw[11] - '0');
    if (h->status < 200) {
        gw_errf(err, err_cap, "interim %d response (not supported)", h->status);
        return -1;
    }
    bool have_length = false, chunked = false;
    size_t pos = eol + 2;
    while (pos < head_end + 2) {
        size_t e = find_crlf(raw, pos, head_end + 2);
        if (e == pos) {
            break;
        }
        const char *line = raw + pos;
        size_t n = e - pos;
        pos = e + 2;
        if (line[0] == ' ' || line[0] == '\t') {
            gw_errf(err, err_cap, "folded header line");
            return -1;
        }
        const char *colon = memchr(line, ':', n);
        if (colon == NULL || colon == line) {
            gw_errf(err, err_cap, "header line without a name");
            return -1;
        }
        size_t name_len = (size_t)(colon - line);
        for (size_t i = 0; i < name_len; i++) {
            if (!is_tchar((unsigned char)line[i])) {
                gw_errf(err, err_cap, "bad byte in a header name");
                return -1;
            }
        }
        const char *v = colon + 1;
        size_t vn = n - name_len - 1;
        for (size_t i = 0; i < vn; i++) {
            unsigned char c = (unsigned char)v[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                gw_errf(err, err_cap, "control byte in a header value");
                return -1;
            }
        }
        trim(&v, &vn);
        if (ascii_ieq(line, name_len, "content-length")) {
            uint64_t x = 0;
            if (vn == 0 || vn > 18) {
                gw_errf(err, err_cap, "bad Content-Length");
                return -1;
            }
            for (size_t i = 0; i < vn; i++) {
                if (v[i] < '0' || v[i] > '9') {
                    gw_errf(err, err_cap, "bad Content-Length");
                    return -1;
                }
                x = x * 10 + (uint64_t)(v[i] - '0');
            }
            if (have_length && x != h->length) {
                gw_errf(err, err_cap, "conflicting Content-Length headers");
                return -1;
            }
            have_length = true;
            h->length = x;
        } else if (ascii_ieq(line, name_len, "transfer-encoding")) {
            if (chunked || !ascii_ieq(v, vn, "chunked")) {
                gw_errf(err, err_cap, "unsupported Transfer-Encoding");
                return -1;
            }
            chunked = true;
        }
    }
    if (have_length && chunked) {
        gw_errf(err, err_cap, "both Content-Length and Transfer-Encoding");
        return -1;
    }
    h->head_len = head_end + 4;
    h->framing = chunked ? FRAME_CHUNKED : have_length ? FRAME_LENGTH : FRAME_CLOSE;
    return 0;
}

/* dechunk decodes a chunked body from `p` (`len` bytes). */
static enum gw_fetch_parse dechunk(const char *p, size_t len, bool eof, char *body, size_t body_cap, size_t *out_len, char *err,
                                   size_t err_cap)
{
    size_t pos = 0, total = 0;
    for (;;) {
        size_t e = find_crlf(p, pos, len);
        if (e == len) {
            if (len - pos > 1024) {
                gw_errf(err, err_cap, "chunk size line over 1024 bytes");
                return GW_FETCH_PARSE_ERROR;
            }
            break;
        }
        uint64_t size = 0;
        size_t i = pos, digits = 0;
        for (; i < e; i++, digits++) {
            char c = p[i];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) {
                break;
            }
            if (digits >= 8) {
                gw_errf(err, err_cap, "chunk size over 8 hex digits");
                return GW_FETCH_PARSE_ERROR;
            }
            size = size * 16 + (uint64_t)d;
        }
        if (digits == 0 || (i < e && p[i] != ';' && p[i] != ' ' && p[i] != '\t')) {
            gw_errf(err, err_cap, "bad chunk size line");
            return GW_FETCH_PARSE_ERROR;
        }
        for (; i < e; i++) {
            if ((unsigned char)p[i] < 0x20 && p[i] != '\t') {
                gw_errf(err, err_cap, "control byte in a chunk extension");
                return GW_FETCH_PARSE_ERROR;
            }
        }
        size_t data = e + 2;
        if (size == 0) {
            /* Trailers: header lines up to an empty one; their contents are ignored. */
            size_t t = data;
            for (;;) {
                size_t te = find_crlf(p, t, len);
                if (te == len) {
                    if (len - t > GW_FETCH_MAX_HEAD) {
                        gw_errf(err, err_cap, "trailers over %d bytes", GW_FETCH_MAX_HEAD);
                        return GW_FETCH_PARSE_ERROR;
                    }
                    goto more;
                }
                if (te == t) {
                    *out_len = total;
                    return GW_FETCH_PARSE_DONE;
                }
                t = te + 2;
            }
        }
        if (size > body_cap - total) {
            gw_errf(err, err_cap, "response body over %zu bytes", body_cap);
            return GW_FETCH_PARSE_ERROR;
        }
        if (len - data < size + 2) {
            break;
        }
        if (p[data + size] != '\r' || p[data + size + 1] != '\n') {
            gw_errf(err, err_cap, "chunk not followed by CRLF");
            return GW_FETCH_PARSE_ERROR;
        }
        memcpy(body + total, p + data, (size_t)size);
        total += (size_t)size;
        pos = data + (size_t)size + 2;
    }
more:
    if (eof) {
        gw_errf(err, err_cap, "connection closed inside the chunked body");
        return GW_FETCH_PARSE_ERROR;
    }
    return GW_FETCH_PARSE_MORE;
}

enum gw_fetch_parse gw_fetch_parse_response(const char *raw, size_t len, bool eof, bool no_body, int *out_status, char *body,
                                            size_t body_cap, size_t *out_body_len, char *err, size_t err_cap)
{
    size_t scan = len < GW_FETCH_MAX_HEAD ? len : GW_FETCH_MAX_HEAD;
    size_t head_end = scan;
    for (size_t i = 0; i + 3 < scan; i++) {
        if (raw[i] == '\r' && raw[i + 1] == '\n' && raw[i + 2] == '\r' && raw[i + 3] == '\n') {
            head_end = i;
            break;
        }
    }
    *out_status = 0;
    *out_body_len = 0;
    if (head_end == scan) {
        if (len >= GW_FETCH_MAX_HEAD) {
            gw_errf(err, err_cap, "response headers over %d bytes", GW_FETCH_MAX_HEAD);
            return GW_FETCH_PARSE_ERROR;
        }
        if (eof) {
            gw_errf(err, err_cap, "connection closed before the end of the response headers (%zu bytes)", len);
            return GW_FETCH_PARSE_ERROR;
        }
        return GW_FETCH_PARSE_MORE;
    }
    struct head h = {0};
    if (parse_head(&h, raw, head_end, err, err_cap) != 0) {
        return GW_FETCH_PARSE_ERROR;
    }
    const char *p = raw + h.head_len;
    size_t avail = len - h.head_len;
    if (no_body || h.status == 204 || h.status == 304) {
        *out_status = h.status;
        return GW_FETCH_PARSE_DONE;
    }
    switch (h.framing) {
    case FRAME_LENGTH:
        if (h.length > body_cap) {
            gw_errf(err, err_cap, "response body of %llu bytes is over %zu", (unsigned long long)h.length, body_cap);
            return GW_FETCH_PARSE_ERROR;
        }
        if (avail < h.length) {
            if (eof) {
                gw_errf(err, err_cap, "connection closed after %zu of %llu body bytes", avail, (unsigned long long)h.length);
                return GW_FETCH_PARSE_ERROR;
            }
            return GW_FETCH_PARSE_MORE;
        }
        memcpy(body, p, (size_t)h.length);
        *out_body_len = (size_t)h.length;
        break;
    case FRAME_CHUNKED: {
        enum gw_fetch_parse st = dechunk(p, avail, eof, body, body_cap, out_body_len, err, err_cap);
        if (st != GW_FETCH_PARSE_DONE) {
            *out_body_len = 0;
            return st;
        }
        break;
    }
    default:
        if (avail > body_cap) {
            gw_errf(err, err_cap, "response body over %zu bytes", body_cap);
            return GW_FETCH_PARSE_ERROR;
        }
        if (!eof) {
            return GW_FETCH_PARSE_MORE;
        }
        memcpy(body, p, avail);
        *out_body_len = avail;
        break;
    }
    *out_status = h.status;
    return GW_FETCH_PARSE_DONE;
}

/* ---- I/O ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct conn {
    int fd;
    struct gw_tls_conn *tls;
    int64_t deadline;
    const char *host;
    uint16_t port;
};

/* wait_fd polls `fd` for `events` until `deadline` (monotonic ms). 0 when ready, -1 on timeout or error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd pfd = {.fd = fd, .events = events};
        int n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0) {
            return 0;
        }
        if (n < 0 && errno != EINTR) {
            return -1;
        }
    }
}

static int connect_one(const struct addrinfo *ai, int64_t deadline, int *out_errno)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        *out_errno = errno;
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            *out_errno = errno;
            close(fd);
            return -1;
        }
        if (wait_fd(fd, POLLOUT, deadline) != 0) {
            *out_errno = errno;
            close(fd);
            return -1;
        }
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            *out_errno = soerr != 0 ? soerr : errno;
            close(fd);
            return -1;
        }
    }
    return fd;
}

static int open_conn(struct conn *c, const struct gw_url *u, const struct gw_fetch_request *req, char *err, size_t err_cap)
{
    char port[8];
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    snprintf(port, sizeof(port), "%u", (unsigned)u->port);
    int rc = getaddrinfo(u->host, port, &hints, &res);
    if (rc != 0) {
        gw_errf(err, err_cap, "%s:%u: resolving: %s", u->host, (unsigned)u->port, gai_strerror(rc));
        return -1;
    }
    int last = ETIMEDOUT;
    for (const struct addrinfo *ai = res; ai != NULL && c->fd < 0; ai = ai->ai_next) {
        int64_t d = c->deadline;
        if (req->connect_timeout_ms > 0 && now_ms() + req->connect_timeout_ms < d) {
            d = now_ms() + req->connect_timeout_ms;
        }
        if (now_ms() >= c->deadline) {
            last = ETIMEDOUT;
            break;
        }
        c->fd = connect_one(ai, d, &last);
    }
    freeaddrinfo(res);
    if (c->fd < 0) {
        gw_errf(err, err_cap, "%s:%u: connect: %s", u->host, (unsigned)u->port, strerror(last));
        return -1;
    }
    if (!u->tls) {
        return 0;
    }
    if (req->tls == NULL) {
        gw_errf(err, err_cap, "%s:%u: https without a TLS context", u->host, (unsigned)u->port);
        return -1;
    }
    char terr[256];
    c->tls = gw_tls_client_new(req->tls, c->fd, u->host, terr, sizeof(terr));
    if (c->tls == NULL) {
        gw_errf(err, err_cap, "%s:%u: %s", u->host, (unsigned)u->port, terr);
        return -1;
    }
    for (;;) {
        enum gw_tls_io st = gw_tls_handshake(c->tls);
        if (st == GW_TLS_OK) {
            return 0;
        }
        if (st != GW_TLS_WANT_READ && st != GW_TLS_WANT_WRITE) {
            gw_errf(err, err_cap, "%s:%u: TLS handshake: %s", u->host, (unsigned)u->port,
                    st == GW_TLS_CLOSED ? "closed by the peer" : gw_tls_conn_error(c->tls));
            return -1;
        }
        if (wait_fd(c->fd, st == GW_TLS_WANT_READ ? POLLIN : POLLOUT, c->deadline) != 0) {
            gw_errf(err, err_cap, "%s:%u: TLS handshake: %s", u->host, (unsigned)u->port, strerror(errno));
            return -1;
        }
    }
}

static int send_all(struct conn *c, const char *p, size_t len, char *err, size_t err_cap)
{
    while (len > 0) {
        size_t n = 0;
        short wait_for = POLLOUT;
        if (c->tls != NULL) {
            enum gw_tls_io st = gw_tls_write(c->tls, p, len, &n);
            if (st == GW_TLS_WANT_READ) {
                wait_for = POLLIN;
            } else if (st != GW_TLS_OK && st != GW_TLS_WANT_WRITE) {
                gw_errf(err, err_cap, "%s:%u: sending: %s", c->host, (unsigned)c->port,
                        st == GW_TLS_CLOSED ? "closed by the peer" : gw_tls_conn_error(c->tls));
                return -1;
            }
        } else {
            ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL);
            if (w > 0) {
                n = (size_t)w;
            } else if (errno != EAGAIN && errno != EINTR) {
                gw_errf(err, err_cap, "%s:%u: sending: %s", c->host, (unsigned)c->port, strerror(errno));
                return -1;
            }
        }
        if (n > 0) {
            p += n;
            len -= n;
            continue;
        }
        if (wait_fd(c->fd, wait_for, c->deadline) != 0) {
            gw_errf(err, err_cap, "%s:%u: sending: %s", c->host, (unsigned)c->port, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* recv_some reads into `buf`: 1 with `*out_n` bytes, 0 at a clean end of the stream, -1 on error or timeout. */
static int recv_some(struct conn *c, char *buf, size_t cap, size_t *out_n, char *err, size_t err_cap)
{
    for (;;) {
        short wait_for = POLLIN;
        if (c->tls != NULL) {
            enum gw_tls_io st = gw_tls_read(c->tls, buf, cap, out_n);
            if (st == GW_TLS_OK) {
                return 1;
            }
            if (st == GW_TLS_CLOSED) {
                return 0;
            }
            if (st == GW_TLS_WANT_WRITE) {
                wait_for = POLLOUT;
            } else if (st != GW_TLS_WANT_READ) {
                gw_errf(err, err_cap, "%s:%u: receiving: %s", c->host, (unsigned)c->port, gw_tls_conn_error(c->tls));
                return -1;
            }
        } else {
            ssize_t r = recv(c->fd, buf, cap, 0);
            if (r > 0) {
                *out_n = (size_t)r;
                return 1;
            }
            if (r == 0) {
                return 0;
            }
            if (errno != EAGAIN && errno != EINTR) {
                gw_errf(err, err_cap, "%s:%u: receiving: %s", c->host, (unsigned)c->port, strerror(errno));
                return -1;
            }
        }
        if (wait_fd(c->fd, wait_for, c->deadline) != 0) {
            gw_errf(err, err_cap, "%s:%u: receiving: %s", c->host, (unsigned)c->port,
                    errno == ETIMEDOUT ? "timed out (total timeout)" : strerror(errno));
            return -1;
        }
    }
}

/* build_request renders the request head into a new heap string, or NULL with a reason. */
static char *build_request(size_t *out_len, const struct gw_fetch_request *req, const struct gw_url *u, char *err, size_t err_cap)
{
    bool has_body = strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0;
    size_t cap = u->target_len + GW_FETCH_MAX_HOST + 256;
    for (size_t i = 0; i < req->n_headers; i++) {
        cap += strlen(req->headers[i].name) + strlen(req->headers[i].value) + 4;
    }
    char *buf = malloc(cap);
    if (buf == NULL) {
        gw_errf(err, err_cap, "out of memory");
        return NULL;
    }
    size_t n = 0;
#define PUT(s, l)                                                                                                                  \
    do {                                                                                                                           \
        memcpy(buf + n, (s), (l));                                                                                                 \
        n += (l);                                                                                                                  \
    } while (0)
#define PUTS(s) PUT((s), strlen(s))
    PUTS(req->method);
    PUTS(" ");
    if (u->target[0] == '?') {
        PUTS("/");
    }
    PUT(u->target, u->target_len);
    PUTS(" HTTP/1.1\r\nHost: ");
    if (u->ipv6) {
        PUTS("[");
    }
    PUTS(u->host);
    if (u->ipv6) {
        PUTS("]");
    }
    if (!u->default_port) {
        char port[8];
        int pn = snprintf(port, sizeof(port), ":%u", (unsigned)u->port);
        PUT(port, (size_t)pn);
    }
    PUTS("\r\nConnection: close\r\nUser-Agent: oss-gateway\r\n");
    for (size_t i = 0; i < req->n_headers; i++) {
        PUTS(req->headers[i].name);
        PUTS(": ");
        PUTS(req->headers[i].value);
        PUTS("\r\n");
    }
    if (has_body) {
        char cl[48];
        int cn = snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", req->body_len);
        PUT(cl, (size_t)cn);
    }
    PUTS("\r\n");
#undef PUTS
#undef PUT
    *out_len = n;
    return buf;
}

static int check_request(const struct gw_fetch_request *req, char *err, size_t err_cap)
{
    static const char *const methods[] = {"GET", "HEAD", "PUT", "POST"};
    bool ok = false;
    for (size_t i = 0; req->method != NULL && i < sizeof(methods) / sizeof(methods[0]); i++) {
        ok = ok || strcmp(req->method, methods[i]) == 0;
    }
    if (!ok) {
        gw_errf(err, err_cap, "request method must be GET, HEAD, PUT or POST");
        return -1;
    }
    if (req->n_headers > GW_FETCH_MAX_HEADERS) {
        gw_errf(err, err_cap, "more than %d request headers", GW_FETCH_MAX_HEADERS);
        return -1;
    }
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *name = req->headers[i].name, *value = req->headers[i].value;
        size_t nl = strlen(name), vl = strlen(value);
        bool bad = nl == 0 || nl > 256 || vl > 8192;
        for (size_t k = 0; !bad && k < nl; k++) {
            bad = !is_tchar((unsigned char)name[k]);
        }
        for (size_t k = 0; !bad && k < vl; k++) {
            bad = ((unsigned char)value[k] < 0x20 && value[k] != '\t') || value[k] == 0x7f;
        }
        if (bad || ascii_ieq(name, nl, "host") || ascii_ieq(name, nl, "content-length") || ascii_ieq(name, nl, "connection") ||
            ascii_ieq(name, nl, "transfer-encoding")) {
            gw_errf(err, err_cap, "request header %zu is not allowed or malformed", i);
            return -1;
        }
    }
    if (req->body_len > GW_FETCH_MAX_REQ_BODY || (req->body_len > 0 && req->body == NULL)) {
        gw_errf(err, err_cap, "request body over %d bytes", GW_FETCH_MAX_REQ_BODY);
        return -1;
    }
    if (req->total_timeout_ms == 0 || req->total_timeout_ms > 600000) {
        gw_errf(err, err_cap, "total timeout must be 1..600000 ms");
        return -1;
    }
    return 0;
}

int gw_fetch(struct gw_fetch_response *out, const struct gw_fetch_request *req, char *err, size_t err_cap)
{
    struct gw_url u;
    struct conn c = {.fd = -1};
    char *head = NULL, *raw = NULL, *body = NULL;
    size_t head_len = 0, raw_cap = 0, body_cap = 0;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    c.deadline = now_ms() + req->total_timeout_ms;
    if (check_request(req, err, err_cap) != 0 || req->url == NULL ||
        gw_url_parse(&u, req->url, strlen(req->url), err, err_cap) != 0) {
        goto cleanup;
    }
    c.host = u.host;
    c.port = u.port;
    body_cap = req->max_body == 0 || req->max_body > GW_FETCH_MAX_BODY ? GW_FETCH_MAX_BODY : req->max_body;
    /* What may arrive: the head, the body, and chunk framing (at most 16 KiB of it: tiny chunks are refused). */
    raw_cap = GW_FETCH_MAX_HEAD + body_cap + 16384;
    head = build_request(&head_len, req, &u, err, err_cap);
    raw = malloc(raw_cap);
    body = malloc(body_cap + 1);
    if (head == NULL || raw == NULL || body == NULL) {
        gw_errf(err, err_cap, "out of memory");
        goto cleanup;
    }
    if (open_conn(&c, &u, req, err, err_cap) != 0 || send_all(&c, head, head_len, err, err_cap) != 0 ||
        (req->body_len > 0 && send_all(&c, req->body, req->body_len, err, err_cap) != 0)) {
        goto cleanup;
    }
    bool no_body = strcmp(req->method, "HEAD") == 0;
    size_t len = 0;
    for (;;) {
        size_t n = 0;
        int r = 1;
        if (len < raw_cap) {
            r = recv_some(&c, raw + len, raw_cap - len, &n, err, err_cap);
            if (r < 0) {
                goto cleanup;
            }
            len += n;
        }
        char perr[160];
        size_t body_len = 0;
        enum gw_fetch_parse st =
            gw_fetch_parse_response(raw, len, r == 0, no_body, &out->status, body, body_cap, &body_len, perr, sizeof(perr));
        if (st == GW_FETCH_PARSE_ERROR) {
            gw_errf(err, err_cap, "%s:%u: bad response: %s", u.host, (unsigned)u.port, perr);
            out->status = 0;
            goto cleanup;
        }
        if (st == GW_FETCH_PARSE_DONE) {
            body[body_len] = '\0';
            out->body = body;
            out->body_len = body_len;
            body = NULL;
            rc = 0;
            break;
        }
        if (len == raw_cap) {
            gw_errf(err, err_cap, "%s:%u: response over %zu bytes", u.host, (unsigned)u.port, raw_cap);
            goto cleanup;
        }
    }
cleanup:
    gw_tls_conn_free(c.tls);
    if (c.fd >= 0) {
        close(c.fd);
    }
    /* The exchange may carry credentials (a token in the query, a secret in the body): wipe what we held. */
    if (raw != NULL) {
        explicit_bzero(raw, raw_cap);
    }
    if (body != NULL) {
        explicit_bzero(body, body_cap + 1);
    }
    free(raw);
    free(body);
    if (head != NULL) {
        explicit_bzero(head, head_len);
    }
    free(head);
    return rc;
}

void gw_fetch_response_cleanup(struct gw_fetch_response *r)
{
    if (r == NULL) {
        return;
    }
    if (r->body != NULL) {
        explicit_bzero(r->body, r->body_len);
        free(r->body);
    }
    memset(r, 0, sizeof(*r));
}
