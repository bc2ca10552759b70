/* gw_http.h: a strict HTTP/1.x request-head parser for a redirect server: a pure (pointer, length) function with no
 * engine types, so it can be fuzzed and tested alone. Requests with a body are recognised (and refused by the
 * caller), never read. */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_view {
    const char *base;
    size_t len;
};

struct gw_http_limits {
    uint32_t max_header_bytes; /* request line plus headers, including the final empty line */
    uint32_t max_uri_bytes;    /* the request target */
    uint32_t max_headers;      /* header fields */
};

enum gw_parse {
    GW_PARSE_DONE = 0, /* a whole head: `head_len` bytes */
    GW_PARSE_AGAIN,    /* the head is not complete yet and no limit is hit */
    GW_PARSE_ERROR,    /* `status` and `reason` say why; the connection must be closed after answering */
};

/* struct gw_request is one parsed head. Views point into the caller's buffer. */
struct gw_request {
    struct gw_view method;
    struct gw_view target; /* as sent */
    struct gw_view path;   /* target up to '?' */
    struct gw_view query;  /* after '?', without it; empty when none */
    uint8_t minor;         /* HTTP/1.minor: 0 or 1 */
    bool keep_alive;       /* after Connection: and the version's default */
    bool has_body;         /* Content-Length > 0 or any Transfer-Encoding */
    uint32_t n_headers;
    size_t head_len; /* bytes of the head, with its final empty line */
    uint16_t status; /* on GW_PARSE_ERROR: 400, 414, 431 or 505 */
    const char *reason;
};

/* gw_http_parse parses the head at the start of `buf` (`len` bytes). Bytes after the head (a pipelined request) are
 * not looked at. */
enum gw_parse gw_http_parse(struct gw_request *r, const char *buf, size_t len, const struct gw_http_limits *lim);

#endif
