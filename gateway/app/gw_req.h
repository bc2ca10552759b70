/* gw_req.h: one request as the application sees it, from the parsed head to the access log (h2o's h2o_req_t is the
 * model). The connection fills what it knows (the head, the client), routing and the key rules fill the rest as they
 * go, signing and the log read it. It lives on the connection's stack for one request: nothing is allocated, and
 * nothing of it stays in the worker between requests. */
#ifndef GW_REQ_H
#define GW_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "gw_http.h"
#include "sgn.h"

struct gw_req {
    /* From the connection (gw_req_init). */
    const struct gw_request *http; /* the parsed head; on a parse error what was read; NULL when nothing was */
    struct gw_view method;         /* empty when not read */
    struct gw_view query;          /* the query string as sent, without '?': parsed by whoever first needs a parameter */
    const uint8_t *addr;           /* the peer's address, 16 bytes, IPv4 as ::ffff:a.b.c.d */
    const char *client;            /* the peer's address as text, for the logs */
    struct gw_view trace_id;       /* the trace id (32 hex digits) of a valid traceparent; empty: none */
    /* Reserved for the access rules, set by nothing yet. */
    const uint8_t *real_addr; /* the client behind a trusted proxy (Forwarded, X-Forwarded-For); NULL: the peer is it */
    /* From routing and the key rules. */
    const struct cfg_route *route; /* NULL until a route matched */
    unsigned slot;                 /* metrics slot: the route's, 0 until one matched */
    size_t key_len;                /* 0 until the key is decoded and valid */
    char key[SGN_MAX_KEY + 1];     /* the object key: the route's key_prefix, then the decoded path, NUL-terminated */
};

/* gw_req_init starts a request value for the head `http` (NULL: none) from the client at `addr`, `client`. Only the
 * key's first byte is written: a request costs no clearing of its key buffer. */
static inline void gw_req_init(struct gw_req *r, const struct gw_request *http, const uint8_t *addr, const char *client)
{
    r->http = http;
    r->method = http != NULL ? http->method : (struct gw_view){"", 0};
    r->query = http != NULL ? http->query : (struct gw_view){"", 0};
    r->addr = addr;
    r->client = client;
    r->trace_id =
        http != NULL && http->traceparent.len > 0 ? (struct gw_view){http->traceparent.base + 3, 32} : (struct gw_view){"", 0};
    r->real_addr = NULL;
    r->route = NULL;
    r->slot = 0;
    r->key_len = 0;
    r->key[0] = '\0';
}

#endif
