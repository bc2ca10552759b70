/* gw_creds_set.h: credential sets that renew themselves (issue 11), off the request path.
 *
 * A set holds its current credentials as an immutable, reference-counted snapshot. Workers read it without a lock:
 * gw_creds_set_acquire takes a reference in a few atomic operations and never waits; the refresh thread swaps in a
 * new snapshot atomically and frees the old one when its last reader releases it (the pattern of the config reload,
 * gw_runtime_ref/unref, made safe against a reader that loads the pointer just as it is replaced).
 *
 * One refresh thread (gw_creds_refresher) serves all sets: each attempt has a connect and a total timeout, so a slow
 * or hostile server delays renewals of other sets by at most the total timeout; one attempt per set at a time (single
 * flight); failures are retried with jittered exponential backoff (1 s .. 60 s). Renewal is due at
 * gw_creds_refresh_at: ahead of the longest URL lifetime the set backs (gw_creds_set_need), at the latest at 80 %.
 * Until new credentials arrive the old ones stay, and gw_creds_set_acquire never returns expired ones.
 *
 * Sources (struct gw_creds_source_config): ecs_ram_role (IMDSv2: PUT /latest/api/token with
 * X-aliyun-ecs-metadata-token-ttl-seconds, role discovery, disable_imds_v1), oidc (AssumeRoleWithOIDC, token file
 * read at each attempt), assume_role (AssumeRole signed with a base set's current credentials, sgn_rpc.h), uri (GET a
 * credentials URI) and static (fixed keys: a base for assume_role, and the existing key sources in phase 2). */
#ifndef GW_CREDS_SET_H
#define GW_CREDS_SET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_creds.h"

#define GW_CREDS_MAX_SETS 64
#define GW_CREDS_DEFAULT_METADATA_URL "http://100.100.100.200"
#define GW_CREDS_DEFAULT_STS_URL "https://sts.aliyuncs.com"
#define GW_CREDS_METADATA_TOKEN_TTL 21600 /* seconds, as the SDKs ask */

enum gw_creds_source_kind {
    GW_CREDS_SRC_STATIC = 0,
    GW_CREDS_SRC_ECS_RAM_ROLE,
    GW_CREDS_SRC_OIDC,
    GW_CREDS_SRC_ASSUME_ROLE,
    GW_CREDS_SRC_URI,
};

struct gw_creds_set;

/* struct gw_creds_source_config describes where a set gets its credentials. Strings are borrowed by gw_creds_set_new,
 * which copies what it keeps; NULL means the default or "none". Phase 2 fills it from the config (and, for oidc, the
 * ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE defaults). */
struct gw_creds_source_config {
    enum gw_creds_source_kind kind;
    /* static */
    const struct gw_creds *static_creds; /* copied; expiration 0 means never */
    /* ecs_ram_role */
    const char *metadata_url; /* default GW_CREDS_DEFAULT_METADATA_URL */
    const char *role_name;    /* NULL: discovered at each attempt */
    bool disable_imds_v1;     /* true: fail when the token cannot be had, instead of asking without one */
    /* oidc and assume_role */
    const char *sts_url; /* default GW_CREDS_DEFAULT_STS_URL; e.g. https://sts-vpc.cn-hangzhou.aliyuncs.com */
    const char *role_arn;
    const char *role_session_name; /* default "oss-gateway" */
    unsigned duration_s;           /* 900..43200, default 3600 */
    const char *policy;            /* optional */
    const char *oidc_provider_arn; /* oidc */
    const char *oidc_token_file;   /* oidc: read at each attempt, at most 16 KiB */
    struct gw_creds_set *base;     /* assume_role: borrowed, must outlive this set */
    const char *external_id;       /* assume_role, optional */
    /* uri */
    const char *url;
    /* outbound */
    const char *ca_file;         /* https: NULL means the system bundle */
    unsigned connect_timeout_ms; /* default 1000 */
    unsigned total_timeout_ms;   /* per attempt, default 5000 */
};

/* struct gw_creds_snap is one immutable set of credentials; readers hold a reference while they sign with it. */
struct gw_creds_snap {
    atomic_long refs;
    struct gw_creds creds;
    int64_t obtained; /* Unix seconds */
    uint64_t serial;  /* unique in the process, never 0: tells a reader that caches derived keys that they changed */
};

/* gw_creds_set_new returns a set named `name` (1..63 bytes) with no credentials yet, or NULL with a reason in `err`
 * when the configuration is invalid (a missing role_arn, a bad URL, an unreadable ca_file, ...) or on out-of-memory.
 * A static set holds its credentials at once. Free with gw_creds_set_free after the refresher has stopped. */
struct gw_creds_set *gw_creds_set_new(const char *name, const struct gw_creds_source_config *cfg, char *err, size_t err_cap);
void gw_creds_set_free(struct gw_creds_set *s);

/* gw_creds_set_name returns the set's name. */
const char *gw_creds_set_name(const struct gw_creds_set *s);

/* gw_creds_set_need tells the set the longest `expires + sign_window` (seconds) of the routes that use it, and the
 * margin to keep on top; renewal is scheduled from them (gw_creds_refresh_at). Defaults: 0 and 60. Thread-safe. */
void gw_creds_set_need(struct gw_creds_set *s, int64_t need_s, int64_t margin_s);

/* gw_creds_set_acquire returns the current snapshot with a reference, or NULL when the set has none or it has
 * expired at `now` (Unix seconds). Lock-free; callable from any thread. Release with gw_creds_snap_release. */
struct gw_creds_snap *gw_creds_set_acquire(struct gw_creds_set *s, int64_t now);
void gw_creds_snap_release(struct gw_creds_snap *snap);

/* gw_creds_set_fetch_once makes one attempt now, in the calling thread, and publishes the result on success: start-up
 * (within `startup_timeout`) and tests use it, before gw_creds_refresher_start or after gw_creds_refresher_stop (one
 * publisher per set at a time). Returns 0, or -1 with a one-line reason (never a secret) in `err`. */
int gw_creds_set_fetch_once(struct gw_creds_set *s, char *err, size_t err_cap);

/* gw_creds_set_replace publishes a copy of `c` as a static set's new credentials (a watched `from: files` set whose
 * files changed) and counts it as a successful refresh. Returns 0, or -1 when `s` is not static or out of memory. One
 * publisher per set at a time. */
int gw_creds_set_replace(struct gw_creds_set *s, const struct gw_creds *c);

/* gw_creds_set_failed counts a failed refresh with its one-line reason (never a secret), for a publisher outside the
 * refresher (the files watcher). */
void gw_creds_set_failed(struct gw_creds_set *s, const char *err);

/* struct gw_creds_stats is what /metrics and /healthz report (phase 2). */
struct gw_creds_stats {
    unsigned long refresh_ok;
    unsigned long refresh_failed;
    int64_t expiration;   /* of the current snapshot, 0 when none */
    int64_t last_ok;      /* Unix seconds of the last success, 0 when none */
    char last_error[256]; /* of the last failure, "" when the last attempt succeeded */
};

/* gw_creds_set_stats copies the set's counters and last error. Thread-safe. */
void gw_creds_set_stats(struct gw_creds_set *s, struct gw_creds_stats *out);

/* gw_creds_log_fn is told of a failed refresh attempt of set `name` on the refresh thread: `err` is the one-line reason
 * (never a secret), `failures` the attempts failed in a row, `suppressed` how many failures were not reported since
 * the last report. Reports are rate-limited per set: the first failure of a streak, then at most one a minute. */
typedef void (*gw_creds_log_fn)(const char *name, const char *err, unsigned failures, unsigned long suppressed);

/* gw_creds_set_log sets the reporter of refresh failures for all sets (NULL: none). Call before the refresher starts. */
void gw_creds_set_log(gw_creds_log_fn fn);

struct gw_creds_refresher;

/* gw_creds_refresher_start starts the one refresh thread for `n_sets` sets (borrowed; at most GW_CREDS_MAX_SETS,
 * bases before the sets that use them). Returns NULL with a reason in `err` when the thread cannot start. */
struct gw_creds_refresher *gw_creds_refresher_start(struct gw_creds_set *const *sets, size_t n_sets, char *err, size_t err_cap);

/* gw_creds_refresher_stop wakes the thread, waits for the attempt in progress to end (at most its total timeout) and
 * frees the refresher. NULL is allowed. */
void gw_creds_refresher_stop(struct gw_creds_refresher *r);

#endif
