/* gw_ratelimit.h: per-client token buckets, `rate_limit: {requests: R, per: P, burst: B}`.
 *
 * Arithmetic (exact, integers only): a bucket holds up to B tokens and gains R tokens every P milliseconds, i.e. one
 * token per P/R ms, fractional rates included (requests: 2, per: 3s is one token per 1.5 s). Internally one token is
 * P "units" and a bucket gains R units per ms, so nothing is rounded. A new client starts with a full bucket. A
 * request takes one token or is refused with Retry-After = the whole seconds until one token is back (at least 1).
 * The clock is the caller's monotonic `now_ms`; if it steps back, the bucket gains nothing and rebases on the new
 * time (it never locks a client out; it can at most grant the tokens of the backward step, never more than B).
 * A bucket whose rate changed (a reload) keeps its fill, rescaled to the new unit and capped at the new B.
 *
 * Clients: keyed by (scope, address) where the address is an IPv4 address or the /64 of an IPv6 address (one
 * subscriber usually holds a whole /64), and scope is the caller's number for the route (or 0 for the top-level
 * limit), so one table with one memory bound serves every route.
 *
 * Threads: ONE table shared by all worker threads, split into shards, each with its own mutex, its own LRU list and
 * capacity/n_shards entries. A client always hashes to the same shard whatever worker accepted its connection, so
 * its rate is exact with `workers: N` (per-worker tables would let a client that lands on N workers get N times the
 * rate, and `rate/N` per worker would throttle one that lands on one). The hot path is one hash, one uncontended
 * lock of a shard among many, a hash-chain walk and a few stores: O(1), no allocation. LRU is per shard, so the
 * entry evicted is the least recently used of its shard, which approximates the global LRU closely when shards hold
 * thousands of entries. The hash is SipHash-2-4 under a caller-provided secret seed, so clients cannot aim many
 * addresses at one chain or one shard.
 *
 * Memory: fixed at creation (gw_rl_memory_bytes); nothing is allocated afterwards. Eviction forgets the evicted
 * client's bucket: if more distinct clients than the capacity are active at once, an evicted client comes back with
 * a full bucket, so the capacity should exceed the clients active within burst/rate seconds. */
#ifndef GW_RATELIMIT_H
#define GW_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_addr.h"

#define GW_RL_DEFAULT_CAPACITY 100000
#define GW_RL_CAPACITY_MAX 100000000u
#define GW_RL_REQUESTS_MAX 1000000u
#define GW_RL_BURST_MAX 1000000u
#define GW_RL_PER_MS_MAX 86400000u /* one day */
#define GW_RL_SHARDS_MAX 1024u

/* struct gw_rl_rate is one rate: `requests` tokens per `per_ms` milliseconds, at most `burst` stored. */
struct gw_rl_rate {
    uint32_t requests; /* 1..GW_RL_REQUESTS_MAX */
    uint32_t per_ms;   /* 1..GW_RL_PER_MS_MAX */
    uint32_t burst;    /* 1..GW_RL_BURST_MAX */
};

/* gw_rl_rate_valid says whether every field of `r` is within its range (the config checks this). */
bool gw_rl_rate_valid(const struct gw_rl_rate *r);

struct gw_rl;

/* gw_rl_new creates a table for at most `capacity` clients (1..GW_RL_CAPACITY_MAX) in `n_shards` shards (1..1024,
 * rounded down to a power of two and to at most `capacity`); the total capacity is exactly `capacity` (the first
 * shards take one more each when it does not divide). `seed` keys the hash; pass 16 random bytes. NULL on a bad
 * argument or when out of memory. Free with gw_rl_free (no other thread may use it then). */
struct gw_rl *gw_rl_new(size_t capacity, unsigned n_shards, const uint8_t seed[16]);

/* gw_rl_free releases `rl`; NULL is fine. */
void gw_rl_free(struct gw_rl *rl);

/* gw_rl_key_of turns a client address into its bucket address: the address itself for IPv4 (v4-mapped), the /64
 * for IPv6. gw_rl_take applies it; exposed for logs and tests. */
void gw_rl_key_of(struct gw_addr *out, const struct gw_addr *client);

/* gw_rl_take takes one token from the bucket of (`scope`, `client`) under `rate` at `now_ms` (monotonic). Returns
 * true when the request may proceed; false when refused, with `*retry_after_s` (1 or more) set. A new client may
 * evict the least recently used bucket of its shard. `rate` must be valid (gw_rl_rate_valid); an invalid one
 * refuses with Retry-After 1. Thread-safe. */
bool gw_rl_take(struct gw_rl *rl, const struct gw_rl_rate *rate, uint32_t scope, const struct gw_addr *client, uint64_t now_ms,
                uint32_t *retry_after_s);

/* gw_rl_count is the number of buckets in use (<= capacity); gw_rl_capacity the bound; gw_rl_evictions how many
 * buckets were evicted so far. */
size_t gw_rl_count(struct gw_rl *rl);
size_t gw_rl_capacity(const struct gw_rl *rl);
uint64_t gw_rl_evictions(struct gw_rl *rl);

/* gw_rl_memory_bytes is the memory the table holds, fixed at creation. */
size_t gw_rl_memory_bytes(const struct gw_rl *rl);

#endif
