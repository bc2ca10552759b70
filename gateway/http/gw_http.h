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

/* The four forms of a request target (RFC 9112 section 3.2). */
enum gw_target_form {
    GW_TARGET_ORIGIN = 0, /* "/path?query" */
    GW_TARGET_ABSOLUTE,   /* "http://authority/path?query": routed on its path, the authority is only checked */
    GW_TARGET_AUTHORITY,  /* "host:port", CONNECT only */
    GW_TARGET_ASTERISK,   /* "*", OPTIONS only */
};

/* struct gw_request is one parsed head. Views point into the caller's buffer. On GW_PARSE_ERROR the fields read before
 * the error are set (the method, once the request line has been read), the others are zero. */
struct gw_request {
    struct gw_view method;
    struct gw_view target;      /* as sent */
    struct gw_view path;        /* the target's path: starts with '/' for the origin and absolute forms, empty otherwise */
    struct gw_view query;       /* after '?', without it; empty when none */
    struct gw_view host;        /* the Host field's value, checked against RFC 9110's `uri-host [":" port]` */
    struct gw_view traceparent; /* a valid W3C traceparent (empty when absent, invalid or repeated) */
    enum gw_target_form form;
    uint8_t minor;   /* HTTP/1.minor: 0 or 1 */
    bool keep_alive; /* after Connection: and the version's default */
    bool has_body;   /* Content-Length > 0 or Transfer-Encoding: chunked */
    uint32_t n_headers;
    size_t head_len; /* bytes of the head, with its final empty line */
    uint16_t status; /* on GW_PARSE_ERROR: 400, 414, 431, 501 or 505 */
    const char *reason;
};

/* gw_http_parse parses the head at the start of `buf` (`len` bytes). Bytes after the head (a pipelined request) are
 * not looked at. */
enum gw_parse gw_http_parse(struct gw_request *r, const char *buf, size_t len, const struct gw_http_limits *lim);

/* gw_http_authority_valid says whether `v` is `uri-host [":" port]` (RFC 9110 section 7.2, RFC 3986 section 3.2.2):
 * a reg-name, an IPv4 address or a bracketed IPv6 address or IPvFuture, and a port of at most 5 digits up to 65535.
 * No userinfo. An empty value is valid (RFC 9112 section 3.2). */
bool gw_http_authority_valid(struct gw_view v);

/* gw_http_method_known says whether `m` is a method this server recognises (RFC 9110 section 9 and PATCH); others of
 * legal syntax are answered 501. */
bool gw_http_method_known(struct gw_view m);

/* gw_http_traceparent_valid says whether `v` is a W3C Trace Context `traceparent` value this server may pass on:
 * version-trace_id-parent_id-flags in lowercase hex, version not ff, ids not all zeros; version 00 is exactly 55
 * bytes, a later version at least 55 with '-' after them (Trace Context section 3.2). The trace id is bytes 3..34. */
bool gw_http_traceparent_valid(struct gw_view v);

#endif
