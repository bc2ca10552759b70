/* gw_ratelimit.c: a sharded, fixed-size table of token buckets with per-shard LRU eviction. */
#include "gw_ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gw_siphash.h"

#define NIL UINT32_MAX

struct entry {
    uint8_t key[16];
    uint32_t scope;
    uint32_t hash;
    uint32_t chain; /* next entry in the same hash bucket */
    uint32_t prev;  /* LRU neighbours: prev is more recent */
    uint32_t next;
    uint32_t per_ms;  /* the unit `level` is counted in: one token = per_ms units */
    uint64_t level;   /* tokens * per_ms */
    uint64_t last_ms; /* time of the last refill */
};

struct shard {
    pthread_mutex_t lock;
    struct entry *e; /* cap entries */
    uint32_t *heads; /* n_heads chain heads */
    uint32_t cap;
    uint32_t used;
    uint32_t n_heads; /* a power of two */
    uint32_t mru;     /* most recently used */
    uint32_t lru;     /* least recently used: evicted first */
    uint64_t evictions;
};

struct gw_rl {
    uint64_t k0, k1; /* SipHash key */
    unsigned n_shards;
    size_t capacity;
    size_t bytes;
    struct shard shards[];
};

bool gw_rl_rate_valid(const struct gw_rl_rate *r)
{
    return r->requests >= 1 && r->requests <= GW_RL_REQUESTS_MAX && r->per_ms >= 1 && r->per_ms <= GW_RL_PER_MS_MAX &&
           r->burst >= 1 && r->burst <= GW_RL_BURST_MAX;
}

struct gw_rl *gw_rl_new(size_t capacity, unsigned n_shards, const uint8_t seed[16])
{
    if (capacity < 1 || capacity > GW_RL_CAPACITY_MAX || n_shards < 1 || n_shards > GW_RL_SHARDS_MAX) {
        return NULL;
    }
    unsigned s = 1;
    while (s * 2 <= n_shards && s * 2 <= capacity) {
        s *= 2;
    }
    struct gw_rl *rl = calloc(1, sizeof *rl + s * sizeof rl->shards[0]);
    if (rl == NULL) {
        return NULL;
    }
    rl->k0 = gw_load64le(seed);
    rl->k1 = gw_load64le(seed + 8);
    rl->n_shards = s;
    rl->capacity = capacity;
    rl->bytes = sizeof *rl + s * sizeof rl->shards[0];
    for (unsigned i = 0; i < s; i++) {
        struct shard *sh = &rl->shards[i];
        sh->cap = (uint32_t)(capacity / s + (i < capacity % s ? 1 : 0));
        sh->n_heads = 1;
        while (sh->n_heads < 2 * sh->cap) { /* load factor at most 1/2 */
            sh->n_heads *= 2;
        }
        sh->e = calloc(sh->cap, sizeof *sh->e);
        sh->heads = malloc(sh->n_heads * sizeof *sh->heads);
        if (sh->e == NULL || sh->heads == NULL || pthread_mutex_init(&sh->lock, NULL) != 0) {
            free(sh->e);
            free(sh->heads);
            sh->e = NULL;
            sh->heads = NULL;
            rl->n_shards = i; /* free what was set up */
            gw_rl_free(rl);
            return NULL;
        }
        memset(sh->heads, 0xff, sh->n_heads * sizeof *sh->heads);
        sh->used = 0;
        sh->mru = NIL;
        sh->lru = NIL;
        rl->bytes += sh->cap * sizeof *sh->e + sh->n_heads * sizeof *sh->heads;
    }
    return rl;
}

void gw_rl_free(struct gw_rl *rl)
{
    if (rl == NULL) {
        return;
    }
    for (unsigned i = 0; i < rl->n_shards; i++) {
        pthread_mutex_destroy(&rl->shards[i].lock);
        free(rl->shards[i].e);
        free(rl->shards[i].heads);
    }
    free(rl);
}

void gw_rl_key_of(struct gw_addr *out, const struct gw_addr *client)
{
    *out = *client;
    if (!gw_addr_is_v4(client)) {
        memset(out->b + 8, 0, 8);
    }
}

static void lru_unlink(struct shard *sh, uint32_t i)
{
    struct entry *e = &sh->e[i];
    if (e->prev != NIL) {
        sh->e[e->prev].next = e->next;
    } else {
        sh->mru = e->next;
    }
    if (e->next != NIL) {
        sh->e[e->next].prev = e->prev;
    } else {
        sh->lru = e->prev;
    }
}

static void lru_push_front(struct shard *sh, uint32_t i)
{
    struct entry *e = &sh->e[i];
    e->prev = NIL;
    e->next = sh->mru;
    if (sh->mru != NIL) {
        sh->e[sh->mru].prev = i;
    }
    sh->mru = i;
    if (sh->lru == NIL) {
        sh->lru = i;
    }
}

static void chain_remove(struct shard *sh, uint32_t i)
{
    uint32_t *link = &sh->heads[sh->e[i].hash & (sh->n_heads - 1)];
    while (*link != i) { /* i is in this chain: it was inserted under the same hash */
        link = &sh->e[*link].chain;
    }
    *link = sh->e[i].chain;
}

/* refill_take applies the token bucket to `e` at `now`; see gw_ratelimit.h for the arithmetic. */
static bool refill_take(struct entry *e, const struct gw_rl_rate *r, uint64_t now, uint32_t *retry_after_s)
{
    uint64_t cap = (uint64_t)r->burst * r->per_ms;
    if (e->per_ms != r->per_ms) { /* the rate changed under a live bucket: same fill, new unit */
        e->level = (uint64_t)((unsigned __int128)e->level * r->per_ms / e->per_ms);
        e->per_ms = r->per_ms;
    }
    if (now > e->last_ms) {
        uint64_t dt = now - e->last_ms;
        if (dt > cap / r->requests) {
            e->level = cap;
        } else {
            e->level += dt * r->requests;
        }
    }
    e->last_ms = now; /* also when the clock stepped back: rebase rather than freeze */
    if (e->level > cap) {
        e->level = cap;
    }
    if (e->level >= r->per_ms) {
        e->level -= r->per_ms;
        return true;
    }
    uint64_t deficit = r->per_ms - e->level;
    uint64_t ms = (deficit + r->requests - 1) / r->requests;
    uint64_t secs = (ms + 999) / 1000;
    *retry_after_s = secs < 1 ? 1 : (uint32_t)secs; /* ms <= per_ms <= one day: fits */
    return false;
}

bool gw_rl_take(struct gw_rl *rl, const struct gw_rl_rate *rate, uint32_t scope, const struct gw_addr *client, uint64_t now_ms,
                uint32_t *retry_after_s)
{
    if (!gw_rl_rate_valid(rate)) {
        *retry_after_s = 1;
        return false;
    }
    struct gw_addr key;
    uint8_t m[24] = {0};
    gw_rl_key_of(&key, client);
    memcpy(m, key.b, 16);
    memcpy(m + 16, &scope, sizeof scope);
    uint64_t h = gw_siphash24(rl->k0, rl->k1, m, 24); /* the key, then the scope padded */
    struct shard *sh = &rl->shards[(h >> 32) & (rl->n_shards - 1)];
    uint32_t h32 = (uint32_t)h;

    pthread_mutex_lock(&sh->lock);
    uint32_t *head = &sh->heads[h32 & (sh->n_heads - 1)];
    uint32_t i = *head;
    while (i != NIL && !(sh->e[i].hash == h32 && sh->e[i].scope == scope && memcmp(sh->e[i].key, key.b, 16) == 0)) {
        i = sh->e[i].chain;
    }
    if (i != NIL) {
        lru_unlink(sh, i);
    } else {
        if (sh->used < sh->cap) {
            i = sh->used++;
        } else {
            i = sh->lru;
            lru_unlink(sh, i);
            chain_remove(sh, i);
            sh->evictions++;
        }
        struct entry *e = &sh->e[i];
        memcpy(e->key, key.b, 16);
        e->scope = scope;
        e->hash = h32;
        e->per_ms = rate->per_ms;
        e->level = (uint64_t)rate->burst * rate->per_ms; /* a new client starts full */
        e->last_ms = now_ms;
        head = &sh->heads[h32 & (sh->n_heads - 1)];
        e->chain = *head;
        *head = i;
    }
    lru_push_front(sh, i);
    bool ok = refill_take(&sh->e[i], rate, now_ms, retry_after_s);
    pthread_mutex_unlock(&sh->lock);
    return ok;
}

/* sum_shards adds up one counter of every shard, each read under its lock. */
static uint64_t sum_shards(struct gw_rl *rl, bool evictions)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < rl->n_shards; i++) {
        pthread_mutex_lock(&rl->shards[i].lock);
        n += evictions ? rl->shards[i].evictions : rl->shards[i].used;
        pthread_mutex_unlock(&rl->shards[i].lock);
    }
    return n;
}

size_t gw_rl_count(struct gw_rl *rl)
{
    return (size_t)sum_shards(rl, false);
}

size_t gw_rl_capacity(const struct gw_rl *rl)
{
    return rl->capacity;
}

uint64_t gw_rl_evictions(struct gw_rl *rl)
{
    return sum_shards(rl, true);
}

size_t gw_rl_memory_bytes(const struct gw_rl *rl)
{
    return rl->bytes;
}
