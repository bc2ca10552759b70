/* gw_exists.h: the existence check's cache (issue 15, a route's `check: {exists: true, cache: 30s,
 * negative_cache: 10s}`). A bounded LRU keyed by (backend, key, passed parameters) holding "exists" or "missing" with
 * its own TTL each, and a single-flight state per key: while one HEAD for a key is in flight, later lookups queue as
 * waiters (opaque pointers) instead of sending another. Pure: no I/O, no clock (the caller passes a monotonic time in
 * milliseconds), not thread-safe (one per event loop). The network part (sending the HEAD) is the caller's. */
#ifndef GW_EXISTS_H
#define GW_EXISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sgn.h"

#define GW_EXISTS_KEY_MAX 16384 /* bytes of backend + key + canonical parameters; longer is never cached */

struct gw_exists_cache;
struct gw_exists_entry;

/* enum gw_exists_answer is what a lookup tells the caller to do. */
enum gw_exists_answer {
    GW_EXISTS_YES,   /* cached: the object exists; redirect */
    GW_EXISTS_NO,    /* cached: the object is missing; 404 */
    GW_EXISTS_CHECK, /* not cached: the caller sends the HEAD and then calls gw_exists_complete(entry); the waiter
                      * passed in is the first of the entry's waiters */
    GW_EXISTS_WAIT,  /* a HEAD for this key is in flight: the waiter was queued, gw_exists_complete will hand it back */
    GW_EXISTS_BUSY,  /* cannot be cached or coalesced now (every entry is in flight, too many waiters, the identity is
                      * over GW_EXISTS_KEY_MAX, out of memory): the caller decides as for a failed check */
};

/* enum gw_exists_result is how a HEAD ended. FAILED (a store error or timeout) is not cached. */
enum gw_exists_result { GW_EXISTS_FOUND, GW_EXISTS_MISSING, GW_EXISTS_FAILED };

/* struct gw_exists_stats counts lookups by answer, and evictions, since gw_exists_new (for the metrics). */
struct gw_exists_stats {
    uint64_t hits_yes, hits_no, checks, waits, busy, evictions;
};

/* gw_exists_waiter_fn is called by gw_exists_complete once per waiter, with the result. */
typedef void (*gw_exists_waiter_fn)(void *arg, void *waiter, enum gw_exists_result result);

/* gw_exists_new returns a new cache of at most `cap` entries (> 0), keeping "exists" for `pos_ttl_ms` and "missing"
 * for `neg_ttl_ms` (0: not kept), queueing at most `max_waiters` (> 0) per key. `seed` keys the hash (SipHash-2-4), so
 * clients cannot pick keys that collide; pass random bytes. NULL when out of memory or an argument is 0. Free with
 * gw_exists_free. */
struct gw_exists_cache *gw_exists_new(size_t cap, uint64_t pos_ttl_ms, uint64_t neg_ttl_ms, size_t max_waiters,
                                      const uint8_t seed[16]);

/* gw_exists_free releases `c` and every entry; NULL is allowed. Waiters still queued are dropped without a call: the
 * caller finishes its in-flight checks first. */
void gw_exists_free(struct gw_exists_cache *c);

/* gw_exists_lookup looks up (backend, key, params) at time `now_ms`; `params` is gw_params_canon's form (len 0 when
 * none passed). On GW_EXISTS_CHECK and GW_EXISTS_WAIT, `waiter` (not NULL) is queued and `*out_entry` set to the
 * in-flight entry, which stays valid until gw_exists_complete. The bytes are copied; nothing is borrowed. */
enum gw_exists_answer gw_exists_lookup(struct gw_exists_cache *c, struct sgn_view backend, struct sgn_view key,
                                       struct sgn_view params, uint64_t now_ms, void *waiter, struct gw_exists_entry **out_entry);

/* gw_exists_cancel removes `waiter` from `e`'s queue (its client went away); false if it was not queued. The check
 * itself goes on and completes the entry for the others. */
bool gw_exists_cancel(struct gw_exists_entry *e, void *waiter);

/* gw_exists_complete ends the in-flight check of `e` with `result` at `now_ms`: FOUND and MISSING are cached with their
 * TTL, FAILED drops the entry. Then `fn(arg, waiter, result)` is called for each queued waiter, in queue order; `fn`
 * may call gw_exists_lookup (the entry is no longer in flight), and `e` must not be used after this call. */
void gw_exists_complete(struct gw_exists_cache *c, struct gw_exists_entry *e, enum gw_exists_result result, uint64_t now_ms,
                        gw_exists_waiter_fn fn, void *arg);

/* gw_exists_stats returns the counters and, in *out_entries, the number of entries (cached and in flight). */
struct gw_exists_stats gw_exists_stats(const struct gw_exists_cache *c, size_t *out_entries);

#endif
