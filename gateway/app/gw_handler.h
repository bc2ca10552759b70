/* gw_handler.h: one parsed request in, one whole HTTP response out. No sockets and no libevent here: the server feeds
 * it, and the tests call it directly. */
#ifndef GW_HANDLER_H
#define GW_HANDLER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "gw_credrt.h"
#include "gw_http.h"
#include "gw_metrics.h"
#include "gw_req.h"
#include "sgn.h"
#include "sgn_buf.h"

#define GW_URL_MAX (64 * 1024) /* the longest presigned URL (a 1023-byte key and an 8 KiB token fit) */
#define GW_DISPOSITION_MAX (sizeof("attachment; filename=\"\"; filename*=UTF-8''") + 4 * SGN_MAX_KEY)
#define GW_RESPONSE_MAX (2 * GW_URL_MAX + 4096) /* a redirect with the URL in Location and in the body */

/* struct gw_runtime is one loaded configuration with what the server derives from it; shared by the workers and
 * reference counted, so a reload can swap it while the old one is still in use. */
struct gw_runtime {
    struct cfg_config *cfg;
    atomic_uint refs;
    unsigned route_slot[CFG_MAX_ROUTES]; /* metrics slot of each route */
    /* What each backend contributes to a signing, derived once per config so that a request only adds its own part
     * (method, key, time, expiry, overrides). Views point into `cfg`. */
    struct sgn_params backend[CFG_MAX_BACKENDS];
    /* The hash of each V4 backend's canonical-request prefix for GET (sgn.h, struct sgn_prefix); other methods and
     * V1 backends sign without it. */
    struct sgn_prefix get_prefix[CFG_MAX_BACKENDS];
    /* The credential sets (gw_credrt.h): renewing sets sign with their current snapshot. NULL in tests that build a
     * runtime by hand with static keys only. */
    struct gw_credrt *creds;
    /* What the server layer derives from this configuration beyond the handler's (the listeners' TLS contexts), freed
     * with the runtime by `ext_free`; NULL when none. */
    void *ext;
    void (*ext_free)(void *ext);
};

/* gw_runtime_new takes ownership of `cfg` and returns a runtime with one reference and its credential sets (not yet
 * fetched: gw_credrt_fetch), or NULL with a one-line reason in `err` (then `cfg` is freed). */
struct gw_runtime *gw_runtime_new(struct cfg_config *cfg, char *err, size_t err_cap);
/* gw_runtime_init fills a runtime in caller storage for `cfg` (which the caller keeps owning): one reference, metrics
 * slots and the backends' signing templates. gw_runtime_new uses it; so do tests that build a config by hand. */
void gw_runtime_init(struct gw_runtime *rt, struct cfg_config *cfg);
void gw_runtime_ref(struct gw_runtime *rt);
/* gw_runtime_unref drops one reference and frees the runtime (wiping its secrets) with the last one. NULL is allowed.
 * The refresher of its sets must have been stopped (gw_credrt_stop) by then: a worker may drop the last reference. */
void gw_runtime_unref(struct gw_runtime *rt);

/* struct gw_keycache holds one derived signing key per backend, for the current UTC day. */
struct gw_keycache {
    struct sgn_signing_key key[CFG_MAX_BACKENDS];
    int64_t day[CFG_MAX_BACKENDS];     /* Unix day number the key was derived for */
    uint64_t serial[CFG_MAX_BACKENDS]; /* the snapshot it was derived from (gw_creds_snap.serial), 0 for static keys */
    bool valid[CFG_MAX_BACKENDS];
};

/* struct gw_ctx is a worker's state for answering requests. */
struct gw_ctx {
    const struct gw_runtime *rt;
    struct gw_keycache keys;
    struct gw_stats *stats;
    unsigned worker;
    uint32_t boot_id; /* distinguishes request ids across restarts */
    uint64_t seq;     /* requests answered by this worker */
    int64_t date_sec; /* the second `date` was formatted for */
    char date[40];    /* IMF-fixdate */
    char url[GW_URL_MAX];
    int64_t url_end;  /* when the URL in `url` stops working (Unix seconds) */
    char reason[160]; /* a reason composed for one answer (gw_answer.reason may point here) */
};

/* gw_ctx_set_runtime points `c` at `rt` and forgets cached keys (the caller keeps the reference counting). */
void gw_ctx_set_runtime(struct gw_ctx *c, const struct gw_runtime *rt);

/* gw_ctx_wipe clears the cached signing keys. */
void gw_ctx_wipe(struct gw_ctx *c);

/* struct gw_answer says what gw_handle answered, for the access log, the metrics and the connection. What it learnt
 * about the request (route, key) is in the struct gw_req. */
struct gw_answer {
    unsigned status;
    const char *reason; /* for 4xx/5xx: the one-line reason sent */
    size_t bytes;       /* response bytes */
    bool close;         /* close the connection after this response */
    char request_id[32];
};

/* gw_handle writes the response for `r` (whose head is set) into `out`, and sets r's route, slot and key as it finds
 * them. `now` is the current Unix time; `close` forces `Connection: close` (last request on the connection, or shutting
 * down). */
void gw_handle(struct gw_ctx *c, struct gw_req *r, int64_t now, bool close, struct sgn_buf *out, struct gw_answer *a);

/* gw_handle_error writes a plain error response (a parse failure or a timeout) that closes the connection. r->http
 * is what the parser read before it failed (NULL when nothing): a HEAD request gets no body. */
void gw_handle_error(struct gw_ctx *c, const struct gw_req *r, unsigned status, const char *reason, int64_t now,
                     struct sgn_buf *out, struct gw_answer *a);

/* gw_presign_key presigns r's method for r's decoded key through r's route at `now` (Unix seconds) into c->url, and
 * sets c->url_end. Its lifetime is capped at what is left of the credentials; expired credentials (or a renewing set
 * that has none) get a 503. Returns NULL and the URL's length, or a one-line reason and the HTTP status to answer
 * with. */
const char *gw_presign_key(struct gw_ctx *c, const struct gw_req *r, int64_t now, size_t *url_len, unsigned *status);

/* gw_sign_time returns the signing instant for `now` under a route's sign_window (aligned to the UTC day). */
int64_t gw_sign_time(int64_t now, uint32_t window);

#endif
