/* gw_fetch.h: a small outbound HTTP/1.1 client over TCP or TLS (gw_tls.h), for the credential sources (issue 11) and
 * later the existence check (issue 15).
 *
 * Blocking with poll(2), one request per connection ("Connection: close"): it is meant for a thread of its own (the
 * credential refresh thread), never for a worker's event loop, so a slow or hostile server costs that thread at most
 * the total timeout and never a request. A blocking design keeps the state in local variables and the timeouts in one
 * place; an event-loop caller (issue 15) can reuse gw_url_parse, the request builder and gw_fetch_parse_response,
 * which are pure.
 *
 * Time: a monotonic deadline of `total_timeout_ms` covers everything from name resolution to the last byte; each
 * connect attempt also has `connect_timeout_ms`. Name resolution uses getaddrinfo(3), which cannot be interrupted: an
 * address literal never queries DNS, and for a name the resolver's own limits (resolv.conf `timeout`, `attempts`)
 * bound the call; the deadline is checked as soon as it returns.
 *
 * Limits: URL GW_FETCH_MAX_URL bytes; host 1..253 bytes; response headers GW_FETCH_MAX_HEAD bytes; response body
 * `max_body` bytes (default and at most GW_FETCH_MAX_BODY): a longer response is an error, never a truncation.
 * Responses may be framed by Content-Length, chunked, or the end of the connection; 1xx and other transfer codings
 * are errors.
 *
 * Errors are one line naming the host and port and what failed; they never contain the path, the query, a header or
 * a body, since those may carry credentials (an STS AssumeRole query holds a security token). */
#ifndef GW_FETCH_H
#define GW_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_tls_ctx;

#define GW_FETCH_MAX_URL 32768  /* bytes: an AssumeRole query carries an 8 KiB token, percent-encoded */
#define GW_FETCH_MAX_HOST 253   /* bytes of a host name or address literal */
#define GW_FETCH_MAX_HEAD 16384 /* bytes of a response's status line and headers */
#define GW_FETCH_MAX_BODY 65536 /* bytes of a response body */
#define GW_FETCH_MAX_HEADERS 16 /* request headers besides Host, Connection, Content-Length */
#define GW_FETCH_MAX_REQ_BODY 65536

/* struct gw_url is a parsed http:// or https:// URL. `target` points into the parsed string. */
struct gw_url {
    bool tls;
    char host[GW_FETCH_MAX_HOST + 1]; /* without brackets for IPv6 */
    bool ipv6;
    uint16_t port;      /* default 80 or 443 */
    bool default_port;  /* the URL named no port */
    const char *target; /* path and query, at least "/" (static "/" when the URL has none) */
    size_t target_len;
};

/* gw_url_parse parses `url` (`len` bytes): scheme http or https (lower case), a host name, IPv4 literal or [IPv6]
 * literal, an optional port 1..65535, then a path and query of printable ASCII without spaces. No user info, no
 * fragment. Returns 0, or -1 with a one-line reason in `err` (which quotes at most the scheme and host). */
int gw_url_parse(struct gw_url *out, const char *url, size_t len, char *err, size_t err_cap);

/* struct gw_fetch_header is one request header; name a token, value without CR, LF or NUL. */
struct gw_fetch_header {
    const char *name;
    const char *value;
};

struct gw_fetch_request {
    const char *method; /* "GET", "HEAD", "PUT" or "POST" */
    const char *url;
    const struct gw_fetch_header *headers;
    size_t n_headers;
    const void *body; /* sent with Content-Length for PUT and POST (also when empty) */
    size_t body_len;
    struct gw_tls_ctx *tls;      /* required for https; borrowed */
    unsigned connect_timeout_ms; /* per address tried; 0 means the total */
    unsigned total_timeout_ms;   /* 1..600000 */
    size_t max_body;             /* 0 means GW_FETCH_MAX_BODY; never more */
};

/* struct gw_fetch_response: `body` is heap memory with `body_len` bytes plus a NUL (NULL for no body). */
struct gw_fetch_response {
    int status;
    char *body;
    size_t body_len;
};

/* gw_fetch sends `req` and reads the response into `out`. Returns 0 for any complete response, whatever its status;
 * -1 with a one-line reason in `err` for a bad request, a DNS, connect, TLS or I/O failure, a timeout, a malformed or
 * oversized response (then `out` is zeroed). Thread-safe; blocks for at most about `total_timeout_ms` (see above). */
int gw_fetch(struct gw_fetch_response *out, const struct gw_fetch_request *req, char *err, size_t err_cap);

/* gw_fetch_response_cleanup wipes (it may hold credentials) and frees the body and zeroes `r`. NULL is allowed. */
void gw_fetch_response_cleanup(struct gw_fetch_response *r);

enum gw_fetch_parse {
    GW_FETCH_PARSE_MORE = 0, /* need more bytes */
    GW_FETCH_PARSE_DONE,
    GW_FETCH_PARSE_ERROR,
};

/* gw_fetch_parse_response parses the bytes received so far, `raw` (`len` bytes), of the response to a request, where
 * `eof` says the connection has ended and `no_body` that the request was HEAD. On DONE, `*out_status` is the status
 * and the body, de-chunked, is in `body` (capacity `body_cap`, no NUL added), `*out_body_len` bytes. A body longer
 * than `body_cap` is an ERROR as soon as that is known. Pure: the fuzz target and the unit tests call it directly. */
enum gw_fetch_parse gw_fetch_parse_response(const char *raw, size_t len, bool eof, bool no_body, int *out_status, char *body,
                                            size_t body_cap, size_t *out_body_len, char *err, size_t err_cap);

#endif
