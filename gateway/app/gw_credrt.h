/* gw_credrt.h: the credential sets of one loaded configuration (issue 11): one struct gw_creds_set per
 * cfg_config.credentials entry, what their routes need of them, the first fetch at start-up and reload, the refresh
 * thread, and what /metrics and /healthz say about them.
 *
 * A static set (from: env, files, inline) is signed with straight from the config, as before; its set exists so that
 * an assume_role set can be based on it and so that /metrics and /healthz see every set alike. A renewing set is
 * signed with its current snapshot (gw_creds_set_acquire: lock-free, no allocation).
 *
 * Threads: gw_credrt_new, _fetch, _start and _stop run on the main thread (start-up, reload, exit); the refresh
 * thread renews the sets; workers read snapshots and call _metrics and _health. A reload builds new sets and fetches
 * them (it does not reuse the old ones: a reload is when a changed role, endpoint or CA file must be proved to work),
 * starts their refresher and only then stops the old one. */
#ifndef GW_CREDRT_H
#define GW_CREDRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "gw_creds_set.h"
#include "sgn_buf.h"

#define GW_CREDS_HEALTH_MARGIN 60 /* /healthz fails this many seconds before a set runs out */

struct gw_credrt {
    const struct cfg_config *cfg;
    size_t n;
    struct gw_creds_set *set[CFG_MAX_CREDENTIALS]; /* index of cfg->credentials */
    struct gw_creds_refresher *refresher;          /* NULL when not started */
    struct gw_credrt_watch *watch;                 /* the files watcher, NULL when not started */
};

/* gw_credrt_renews says whether set `cr` signs with its snapshot (it is fetched, or a watched `from: files` set whose
 * files are re-read when they change) rather than with the keys in the config. */
static inline bool gw_credrt_renews(const struct cfg_credentials *cr)
{
    return cr->source != CFG_CRED_STATIC || cr->renew.watch;
}

/* gw_credrt_new makes the sets of `cfg` (borrowed; it must outlive the result) and tells each the longest
 * `expires + sign_window` of the routes using it. Returns NULL with a one-line reason in `err` (a CA file that cannot be
 * read, out of memory). */
struct gw_credrt *gw_credrt_new(const struct cfg_config *cfg, char *err, size_t err_cap);

/* gw_credrt_fetch obtains the first credentials of every renewing set, bases first, each within its
 * startup_timeout (retrying with backoff). Returns 0, or -1 with the set and the last reason in `err`. */
int gw_credrt_fetch(struct gw_credrt *c, char *err, size_t err_cap);

/* gw_credrt_start starts the refresh thread over the sets, and the files watcher (one thread, inotify on the
 * directories of `from: files` sets with `watch: true`, which re-reads a set 100 ms after the last change in its
 * directory and publishes it when it reads whole); gw_credrt_stop stops both (waiting at most one attempt's total
 * timeout). Returns 0, or -1 with a reason. */
int gw_credrt_start(struct gw_credrt *c, char *err, size_t err_cap);
void gw_credrt_stop(struct gw_credrt *c);

/* gw_credrt_free stops the refresher if it runs and frees the sets. NULL is allowed. */
void gw_credrt_free(struct gw_credrt *c);

/* gw_credrt_renewing returns the number of sets of `cfg` that are fetched (not static). */
size_t gw_credrt_renewing(const struct cfg_config *cfg);

/* gw_credrt_static_expired returns NULL, or a reason in `buf` naming the first static set of `cfg` whose credentials
 * have expired at `now`: a reload refuses such a configuration. */
const char *gw_credrt_static_expired(const struct cfg_config *cfg, int64_t now, char *buf, size_t cap);

/* gw_credrt_metrics appends the credential metrics: oss_gateway_credentials_expiry_seconds{set} (seconds left; +Inf
 * for keys without an expiry, 0 for a set that has none) and oss_gateway_credentials_refresh_total{set,result}. */
void gw_credrt_metrics(const struct gw_credrt *c, int64_t now, struct sgn_buf *b);

/* gw_credrt_health returns NULL when every set can sign, else a one-line reason in `buf` (the set, how soon, the last
 * refresh error): a set has none valid, or has less than GW_CREDS_HEALTH_MARGIN seconds left and cannot be renewed (it
 * is static, or its last refresh attempt failed). */
const char *gw_credrt_health(const struct gw_credrt *c, int64_t now, char *buf, size_t cap);

/* gw_credrt_expiration returns when credentials index `i` of the config expire at `now` (0: never), or -1 when the
 * set has none valid. */
int64_t gw_credrt_expiration(const struct gw_credrt *c, size_t i, int64_t now);

#endif
