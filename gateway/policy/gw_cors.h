/* gw_cors.h: CORS on the redirect (issue 15, a route's `cors: {origins: [...], max_age: 10m}`). Pure functions that
 * decide and write response header lines ("Name: value\r\n") into a struct sgn_buf; no I/O.
 *
 * Origins are RFC 6454 serialisations, `scheme://host[:port]` with no path, no trailing slash, no userinfo: what a
 * browser sends in `Origin`. Scheme and host compare case-insensitively (RFC 6454 section 6.2 lower-cases them), the
 * port exactly. A default port (`:80` on http, `:443` on https) is refused in the config because a browser never
 * sends it, so such an entry could never match. `*` may be the only entry: every origin is allowed and the answer
 * is `Access-Control-Allow-Origin: *` (we never send Access-Control-Allow-Credentials, so `*` exposes nothing a
 * cookie could unlock; a presigned URL is a bearer token either way). The opaque origin `null` never matches. */
#ifndef GW_CORS_H
#define GW_CORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sgn.h"
#include "sgn_buf.h"

#define GW_CORS_ORIGIN_MAX 256     /* bytes of one origin, in the config or in a request */
#define GW_CORS_REQ_HEADERS_MAX 16 /* names in one Access-Control-Request-Headers */

/* struct gw_cors_policy is one route's `cors:`. Views point into the config, each passed gw_cors_origin_check. */
struct gw_cors_policy {
    const struct sgn_view *origins;
    size_t n_origins;
    bool any;           /* origins: ["*"] */
    uint32_t max_age_s; /* Access-Control-Max-Age, seconds */
};

/* gw_cors_origin_check returns NULL if `origin` may be listed in `origins:` (a serialised http or https origin, or
 * "*"), else a static one-line reason for a config error. */
const char *gw_cors_origin_check(struct sgn_view origin);

/* gw_cors_origin_allowed is true when a request's `Origin` value is allowed by `pol`. */
bool gw_cors_origin_allowed(const struct gw_cors_policy *pol, struct sgn_view origin);

/* gw_cors_preflight answers an OPTIONS request carrying `Origin` (`origin`) and
 * `Access-Control-Request-Method` (`method`), with `Access-Control-Request-Headers` (`req_headers`, base NULL when
 * absent). When the origin is allowed, the method is GET or HEAD and every requested header is one a download may
 * carry (range, if-match, if-none-match, if-modified-since, if-unmodified-since, if-range, accept, accept-language,
 * content-language, cache-control), appends to `out`: Access-Control-Allow-Origin, Access-Control-Allow-Methods:
 * GET, HEAD, Access-Control-Allow-Headers (the requested names, lower-cased, when any), Access-Control-Max-Age and
 * Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers; the caller answers 204. Otherwise
 * appends only the Vary line and returns a static one-line reason (the caller answers 403 with it: the browser
 * fails the request either way). The caller checks out->overflow. */
const char *gw_cors_preflight(struct sgn_buf *out, const struct gw_cors_policy *pol, struct sgn_view origin, struct sgn_view method,
                              struct sgn_view req_headers);

/* gw_cors_redirect appends the lines for a redirect on a route with `cors:`: Access-Control-Allow-Origin when
 * `origin` (base NULL when the request had none) is allowed, and always `Vary: Origin`, since the answer depends on
 * it. The caller checks out->overflow. */
void gw_cors_redirect(struct sgn_buf *out, const struct gw_cors_policy *pol, struct sgn_view origin);

#endif
