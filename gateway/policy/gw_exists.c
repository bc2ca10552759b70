/* gw_exists.c: the existence-check cache. A chained hash table for lookup and a doubly linked list in recency order
 * for eviction. Entries in flight sit in the table but not in the list, so they are never evicted (their pointer is
 * held by the caller's HEAD) and the list's tail is always an evictable entry: eviction is O(1). */
#include "gw_exists.h"

#include <stdlib.h>
#include <string.h>

#include "gw_siphash.h"

struct gw_exists_entry {
    struct gw_exists_entry *chain;       /* next in the hash bucket */
    struct gw_exists_entry *prev, *next; /* recency list, most recent first; unused while pending */
    uint64_t hash;
    uint64_t expires_ms;
    bool pending;
    bool exists;
    void **waiters;
    size_t n_waiters, cap_waiters;
    size_t id_len;
    unsigned char id[]; /* u32 backend length, backend, u32 key length, key, params */
};

struct gw_exists_cache {
    struct gw_exists_entry **buckets;
    size_t mask;
    size_t n, cap, max_waiters;
    struct gw_exists_entry *head, *tail;
    uint64_t pos_ttl_ms, neg_ttl_ms;
    uint64_t k0, k1;
    struct gw_exists_stats stats;
};

struct gw_exists_cache *gw_exists_new(size_t cap, uint64_t pos_ttl_ms, uint64_t neg_ttl_ms, size_t max_waiters,
                                      const uint8_t seed[16])
{
    if (cap == 0 || max_waiters == 0 || cap > SIZE_MAX / 4) {
        return NULL;
    }
    struct gw_exists_cache *c = calloc(1, sizeof(*c));
    size_t nb = 16;
    while (nb < cap * 2) {
        nb *= 2;
    }
    if (c == NULL || (c->buckets = calloc(nb, sizeof(*c->buckets))) == NULL) {
        free(c);
        return NULL;
    }
    c->mask = nb - 1;
    c->cap = cap;
    c->max_waiters = max_waiters;
    c->pos_ttl_ms = pos_ttl_ms;
    c->neg_ttl_ms = neg_ttl_ms;
    c->k0 = gw_load64le(seed);
    c->k1 = gw_load64le(seed + 8);
    return c;
}

static void lru_unlink(struct gw_exists_cache *c, struct gw_exists_entry *e)
{
    if (e->prev != NULL) {
        e->prev->next = e->next;
    } else {
        c->head = e->next;
    }
    if (e->next != NULL) {
        e->next->prev = e->prev;
    } else {
        c->tail = e->prev;
    }
    e->prev = e->next = NULL;
}

static void lru_push(struct gw_exists_cache *c, struct gw_exists_entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head != NULL) {
        c->head->prev = e;
    } else {
        c->tail = e;
    }
    c->head = e;
}

/* drop removes `e` from the table (and the list, when not pending) and frees it. */
static void drop(struct gw_exists_cache *c, struct gw_exists_entry *e)
{
    struct gw_exists_entry **pp = &c->buckets[e->hash & c->mask];
    while (*pp != e) {
        pp = &(*pp)->chain;
    }
    *pp = e->chain;
    if (!e->pending) {
        lru_unlink(c, e);
    }
    c->n--;
    free(e->waiters);
    free(e);
}

void gw_exists_free(struct gw_exists_cache *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i <= c->mask; i++) {
        for (struct gw_exists_entry *e = c->buckets[i], *next; e != NULL; e = next) {
            next = e->chain;
            free(e->waiters);
            free(e);
        }
    }
    free(c->buckets);
    free(c);
}

static bool add_waiter(struct gw_exists_cache *c, struct gw_exists_entry *e, void *waiter)
{
    if (e->n_waiters == e->cap_waiters) {
        if (e->cap_waiters == c->max_waiters) {
            return false;
        }
        size_t ncap = e->cap_waiters == 0 ? 4 : e->cap_waiters * 2;
        if (ncap > c->max_waiters) {
            ncap = c->max_waiters;
        }
        void **w = realloc(e->waiters, ncap * sizeof(*w));
        if (w == NULL) {
            return false;
        }
        e->waiters = w;
        e->cap_waiters = ncap;
    }
    e->waiters[e->n_waiters++] = waiter;
    return true;
}

static void put_u32(unsigned char *p, size_t v)
{
    for (size_t i = 0; i < 4; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

enum gw_exists_answer gw_exists_lookup(struct gw_exists_cache *c, struct sgn_view backend, struct sgn_view key,
                                       struct sgn_view params, uint64_t now_ms, void *waiter, struct gw_exists_entry **out_entry)
{
    if (backend.len > GW_EXISTS_KEY_MAX || key.len > GW_EXISTS_KEY_MAX || params.len > GW_EXISTS_KEY_MAX ||
        8 + backend.len + key.len + params.len > GW_EXISTS_KEY_MAX) {
        c->stats.busy++;
        return GW_EXISTS_BUSY;
    }
    /* The identity is length-prefixed, so (backend, key, params) splits one way only. */
    unsigned char id[GW_EXISTS_KEY_MAX];
    size_t id_len = 0;
    put_u32(id, backend.len);
    memcpy(id + 4, backend.base, backend.len);
    put_u32(id + 4 + backend.len, key.len);
    memcpy(id + 8 + backend.len, key.base, key.len);
    if (params.len > 0) {
        memcpy(id + 8 + backend.len + key.len, params.base, params.len);
    }
    id_len = 8 + backend.len + key.len + params.len;
    uint64_t h = gw_siphash24(c->k0, c->k1, id, id_len);
    struct gw_exists_entry *e = c->buckets[h & c->mask];
    while (e != NULL && !(e->hash == h && e->id_len == id_len && memcmp(e->id, id, id_len) == 0)) {
        e = e->chain;
    }
    if (e != NULL && e->pending) {
        if (!add_waiter(c, e, waiter)) {
            c->stats.busy++;
            return GW_EXISTS_BUSY;
        }
        *out_entry = e;
        c->stats.waits++;
        return GW_EXISTS_WAIT;
    }
    if (e != NULL && now_ms < e->expires_ms) {
        lru_unlink(c, e);
        lru_push(c, e);
        if (e->exists) {
            c->stats.hits_yes++;
            return GW_EXISTS_YES;
        }
        c->stats.hits_no++;
        return GW_EXISTS_NO;
    }
    if (e != NULL) { /* expired: check again, in the same entry */
        lru_unlink(c, e);
    } else {
        if (c->n == c->cap) {
            if (c->tail == NULL) { /* every entry is in flight */
                c->stats.busy++;
                return GW_EXISTS_BUSY;
            }
            drop(c, c->tail);
            c->stats.evictions++;
        }
        e = calloc(1, sizeof(*e) + id_len);
        if (e == NULL) {
            c->stats.busy++;
            return GW_EXISTS_BUSY;
        }
        e->hash = h;
        e->id_len = id_len;
        memcpy(e->id, id, id_len);
        e->chain = c->buckets[h & c->mask];
        c->buckets[h & c->mask] = e;
        c->n++;
    }
    e->pending = true;
    e->n_waiters = 0;
    if (!add_waiter(c, e, waiter)) {
        e->pending = false; /* out of memory for the first waiter: forget the key */
        lru_push(c, e);
        drop(c, e);
        c->stats.busy++;
        return GW_EXISTS_BUSY;
    }
    *out_entry = e;
    c->stats.checks++;
    return GW_EXISTS_CHECK;
}

bool gw_exists_cancel(struct gw_exists_entry *e, void *waiter)
{
    for (size_t i = 0; i < e->n_waiters; i++) {
        if (e->waiters[i] == waiter) {
            memmove(&e->waiters[i], &e->waiters[i + 1], (e->n_waiters - i - 1) * sizeof(e->waiters[0]));
            e->n_waiters--;
            return true;
        }
    }
    return false;
}

void gw_exists_complete(struct gw_exists_cache *c, struct gw_exists_entry *e, enum gw_exists_result result, uint64_t now_ms,
                        gw_exists_waiter_fn fn, void *arg)
{
    void **waiters = e->waiters;
    size_t n = e->n_waiters;
    e->waiters = NULL;
    e->n_waiters = e->cap_waiters = 0;
    if (result == GW_EXISTS_FAILED) {
        e->pending = false;
        lru_push(c, e);
        drop(c, e);
    } else {
        e->pending = false;
        e->exists = result == GW_EXISTS_FOUND;
        uint64_t ttl = e->exists ? c->pos_ttl_ms : c->neg_ttl_ms;
        e->expires_ms = ttl > UINT64_MAX - now_ms ? UINT64_MAX : now_ms + ttl;
        lru_push(c, e);
    }
    for (size_t i = 0; i < n; i++) {
        fn(arg, waiters[i], result);
    }
    free(waiters);
}

struct gw_exists_stats gw_exists_stats(const struct gw_exists_cache *c, size_t *out_entries)
{
    *out_entries = c->n;
    return c->stats;
}
