/* gw_creds.h: the pure part of renewing credentials (issue 11): parsing what the credential services answer, and the
 * arithmetic of when to renew and how long to wait after a failure. No I/O, no clock, no RNG: the caller passes the
 * time and the random value, so all of it is unit-tested and fuzzed (tests/creds, tests/fuzz/fuzz_creds_parse.c).
 *
 * Formats, as the services document them and the official SDKs (aliyun/credentials-go) read them:
 *   GW_CREDS_ECS  ECS metadata, GET /latest/meta-data/ram/security-credentials/<role>:
 *                 {"Code":"Success","AccessKeyId":..,"AccessKeySecret":..,"SecurityToken":..,
 *                  "Expiration":"2026-12-08T01:00:00Z","LastUpdated":"2026-12-07T19:00:00Z"}
 *   GW_CREDS_STS  STS AssumeRole and AssumeRoleWithOIDC (Format=JSON):
 *                 {"RequestId":..,"Credentials":{"AccessKeyId":..,"AccessKeySecret":..,"SecurityToken":..,
 *                  "Expiration":..},"AssumedRoleUser":{..}}, or on error {"RequestId":..,"Code":..,"Message":..}
 *   GW_CREDS_URI  a credentials URI (ALIBABA_CLOUD_CREDENTIALS_URI):
 *                 {"AccessKeyId":..,"AccessKeySecret":..,"SecurityToken":..,"Expiration":..}, "Code" optional
 * Parsing is strict: a body over GW_CREDS_MAX_BODY, invalid JSON, duplicate keys, a missing or non-string field, a
 * field out of its length bound or with bytes outside printable ASCII, a date not exactly YYYY-MM-DDTHH:MM:SSZ, an
 * expiry not after `now` or more than GW_CREDS_MAX_LIFETIME after it: each is an error with a one-line reason that
 * never quotes a secret. Unknown fields are ignored (the services add fields). */
#ifndef GW_CREDS_H
#define GW_CREDS_H

#include <stddef.h>
#include <stdint.h>

#define GW_CREDS_MAX_BODY 65536        /* bytes of a credential response (the outbound client's cap too) */
#define GW_CREDS_MAX_LIFETIME 604800   /* expiry at most 7 days ahead (STS: 12 h at most, ECS: 6 h) */
#define GW_CREDS_BACKOFF_MIN_MS 1000u  /* first retry after a failure */
#define GW_CREDS_BACKOFF_MAX_MS 60000u /* retries never wait longer */

/* struct gw_creds is one set of credentials. The three strings are heap-allocated, NUL-terminated, with their
 * lengths; `token_len` 0 means none (static keys). Release with gw_creds_cleanup, which wipes them. */
struct gw_creds {
    char *access_key_id;
    size_t access_key_id_len;
    char *secret;
    size_t secret_len;
    char *token;
    size_t token_len;
    int64_t expiration;   /* Unix seconds */
    int64_t last_updated; /* Unix seconds from the service, 0 when it did not say */
};

enum gw_creds_format {
    GW_CREDS_ECS = 0,
    GW_CREDS_STS,
    GW_CREDS_URI,
};

/* gw_creds_parse fills `out` from the response body `body` (`len` bytes, no NUL needed) in `format`, checking that
 * the credentials are valid at `now` (Unix seconds). Returns 0, or -1 with a one-line reason in `err` (capacity
 * `err_cap`) and `out` zeroed. For an STS error body the reason carries its Code, Message (shortened, control bytes
 * replaced) and RequestId. -1 also when out of memory. */
int gw_creds_parse(struct gw_creds *out, enum gw_creds_format format, const char *body, size_t len, int64_t now, char *err,
                   size_t err_cap);

/* gw_creds_copy makes `out` an independent copy of `in`. Returns 0, or -1 when out of memory (then `out` is zeroed). */
int gw_creds_copy(struct gw_creds *out, const struct gw_creds *in);

/* gw_creds_cleanup wipes and frees the strings of `c` and zeroes it. NULL and a zeroed struct are allowed. */
void gw_creds_cleanup(struct gw_creds *c);

/* gw_creds_refresh_at returns when (Unix seconds) to start renewing credentials obtained at `obtained` that expire at
 * `expires`, for routes whose longest `expires + sign_window` is `need_s`, with a safety margin `margin_s`: the
 * earlier of "what is left drops below need_s + margin_s" and 80 % of the lifetime. When the credentials are too short
 * to ever cover need_s + margin_s, renewing at once would only hammer the service for equally short ones, so the result
 * is never earlier than 10 % of the lifetime (and never before `obtained`); until then the caller caps URL lifetimes
 * at what is left. Inputs with `expires <= obtained` return `obtained`. */
int64_t gw_creds_refresh_at(int64_t obtained, int64_t expires, int64_t need_s, int64_t margin_s);

/* gw_creds_backoff_ms returns how long to wait before retry number `attempt` (0 for the first retry after a failure):
 * "equal jitter" exponential backoff, uniform in [cap/2, cap] with cap = min(1 s * 2^attempt, 60 s), and never below
 * GW_CREDS_BACKOFF_MIN_MS. `rnd` is a uniformly random value the caller draws. */
uint32_t gw_creds_backoff_ms(unsigned attempt, uint32_t rnd);

/* gw_creds_lifetime_left returns how many seconds of URL lifetime `c` can still back at `now`: its expiration minus
 * `now`, or 0 when expired (then it must not sign at all). */
int64_t gw_creds_lifetime_left(const struct gw_creds *c, int64_t now);

#endif
