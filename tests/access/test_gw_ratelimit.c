/* test_gw_ratelimit.c: token bucket arithmetic, client keys, LRU eviction at the bound, and exactness across
 * threads. Time is passed in; nothing sleeps. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "gw_ratelimit.h"

static const uint8_t seed[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static struct gw_addr addr(const char *s)
{
    struct gw_addr a;
    cr_assert(gw_addr_parse(&a, s, strlen(s)), "%s", s);
    return a;
}

static bool take(struct gw_rl *rl, const struct gw_rl_rate *r, const char *client, uint64_t now, uint32_t *retry)
{
    struct gw_addr a = addr(client);
    *retry = 0;
    return gw_rl_take(rl, r, 0, &a, now, retry);
}

Test(gw_ratelimit, burst_then_steady_refill)
{
    struct gw_rl *rl = gw_rl_new(100, 4, seed);
    struct gw_rl_rate r = {5, 1000, 5};
    uint32_t ra;
    for (int i = 0; i < 5; i++) {
        cr_assert(take(rl, &r, "192.0.2.1", 1000, &ra), "request %d", i);
    }
    cr_assert_not(take(rl, &r, "192.0.2.1", 1000, &ra));
    cr_assert_eq(ra, 1);
    cr_assert_not(take(rl, &r, "192.0.2.1", 1199, &ra)); /* one token per 200 ms */
    cr_assert(take(rl, &r, "192.0.2.1", 1200, &ra));
    cr_assert_not(take(rl, &r, "192.0.2.1", 1200, &ra));
    /* another client is served meanwhile */
    cr_assert(take(rl, &r, "192.0.2.2", 1200, &ra));
    /* a long pause refills to the burst, not beyond */
    for (int i = 0; i < 5; i++) {
        cr_assert(take(rl, &r, "192.0.2.1", 1000000, &ra));
    }
    cr_assert_not(take(rl, &r, "192.0.2.1", 1000000, &ra));
    gw_rl_free(rl);
}

Test(gw_ratelimit, fractional_rate_and_retry_after)
{
    struct gw_rl *rl = gw_rl_new(100, 1, seed);
    struct gw_rl_rate r = {2, 3000, 1}; /* one token per 1.5 s */
    uint32_t ra;
    cr_assert(take(rl, &r, "192.0.2.1", 0, &ra));
    cr_assert_not(take(rl, &r, "192.0.2.1", 0, &ra));
    cr_assert_eq(ra, 2); /* 1500 ms, rounded up */
    cr_assert_not(take(rl, &r, "192.0.2.1", 1499, &ra));
    cr_assert_eq(ra, 1);
    cr_assert(take(rl, &r, "192.0.2.1", 1500, &ra));
    /* Retry-After rounds the wait up: 3 tokens per 3001 ms is one per 1000.33 ms, so 2 s, not 1 */
    struct gw_rl_rate odd = {3, 3001, 1};
    cr_assert(take(rl, &odd, "192.0.2.5", 0, &ra));
    cr_assert_not(take(rl, &odd, "192.0.2.5", 0, &ra));
    cr_assert_eq(ra, 2);
    cr_assert_not(take(rl, &odd, "192.0.2.5", 1000, &ra));
    cr_assert(take(rl, &odd, "192.0.2.5", 1001, &ra));
    /* 1 per minute: Retry-After counts down */
    struct gw_rl_rate slow = {1, 60000, 1};
    cr_assert(take(rl, &slow, "192.0.2.9", 0, &ra));
    cr_assert_not(take(rl, &slow, "192.0.2.9", 0, &ra));
    cr_assert_eq(ra, 60);
    cr_assert_not(take(rl, &slow, "192.0.2.9", 30000, &ra));
    cr_assert_eq(ra, 30);
    cr_assert_not(take(rl, &slow, "192.0.2.9", 59001, &ra));
    cr_assert_eq(ra, 1);
    cr_assert(take(rl, &slow, "192.0.2.9", 60000, &ra));
    /* extreme values do not overflow */
    struct gw_rl_rate big = {GW_RL_REQUESTS_MAX, GW_RL_PER_MS_MAX, GW_RL_BURST_MAX};
    cr_assert(take(rl, &big, "192.0.2.10", 0, &ra));
    cr_assert(take(rl, &big, "192.0.2.10", UINT64_MAX, &ra));
    gw_rl_free(rl);
}

Test(gw_ratelimit, clock_going_backwards_grants_nothing_and_never_locks_out)
{
    struct gw_rl *rl = gw_rl_new(10, 1, seed);
    struct gw_rl_rate r = {5, 1000, 2};
    uint32_t ra;
    cr_assert(take(rl, &r, "192.0.2.1", 100000, &ra));
    cr_assert(take(rl, &r, "192.0.2.1", 100000, &ra));
    cr_assert_not(take(rl, &r, "192.0.2.1", 100000, &ra));
    cr_assert_not(take(rl, &r, "192.0.2.1", 50000, &ra)); /* stepped back 50 s: no tokens from it */
    cr_assert_not(take(rl, &r, "192.0.2.1", 50199, &ra));
    cr_assert(take(rl, &r, "192.0.2.1", 50200, &ra)); /* rebased: refills from the new time */
    gw_rl_free(rl);
}

Test(gw_ratelimit, keys_ipv4_by_address_and_ipv6_by_slash_64)
{
    struct gw_rl *rl = gw_rl_new(100, 2, seed);
    struct gw_rl_rate r = {1, 1000, 1};
    uint32_t ra;
    cr_assert(take(rl, &r, "2001:db8:1:2::1", 0, &ra));
    cr_assert_not(take(rl, &r, "2001:db8:1:2:ffff:ffff:ffff:ffff", 0, &ra)); /* same /64 */
    cr_assert(take(rl, &r, "2001:db8:1:3::1", 0, &ra));                      /* next /64 */
    cr_assert(take(rl, &r, "10.0.0.1", 0, &ra));
    cr_assert(take(rl, &r, "10.0.0.2", 0, &ra));            /* IPv4: each address */
    cr_assert_not(take(rl, &r, "::ffff:10.0.0.1", 0, &ra)); /* v4-mapped is the same client */
    struct gw_addr k;
    struct gw_addr c = addr("::ffff:10.0.0.1");
    gw_rl_key_of(&k, &c);
    cr_assert(gw_addr_equal(&k, &c)); /* the /64 rule does not zero a v4 address */
    /* scopes (routes) are separate buckets */
    struct gw_addr a = addr("10.0.0.1");
    cr_assert(gw_rl_take(rl, &r, 7, &a, 0, &ra));
    cr_assert_not(gw_rl_take(rl, &r, 7, &a, 0, &ra));
    gw_rl_free(rl);
}

Test(gw_ratelimit, evicts_the_least_recently_used_at_the_bound)
{
    struct gw_rl *rl = gw_rl_new(4, 1, seed);
    struct gw_rl_rate r = {1, 60000, 1};
    uint32_t ra;
    const char *c[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"};
    for (int i = 0; i < 4; i++) {
        cr_assert(take(rl, &r, c[i], 0, &ra));
    }
    cr_assert_not(take(rl, &r, c[0], 1, &ra)); /* 192.0.2.1 is now the most recently used */
    cr_assert_eq(gw_rl_count(rl), 4);
    cr_assert(take(rl, &r, "192.0.2.5", 2, &ra)); /* evicts 192.0.2.2 */
    cr_assert_eq(gw_rl_count(rl), 4);
    cr_assert_eq(gw_rl_evictions(rl), 1);
    cr_assert_not(take(rl, &r, c[0], 3, &ra)); /* kept: still empty */
    cr_assert_not(take(rl, &r, c[2], 3, &ra)); /* kept */
    cr_assert(take(rl, &r, c[1], 3, &ra));     /* was evicted: back with a full bucket (documented) */
    gw_rl_free(rl);
}

Test(gw_ratelimit, memory_is_fixed_at_the_bound)
{
    struct gw_rl *rl = gw_rl_new(1000, 16, seed);
    cr_assert_eq(gw_rl_capacity(rl), 1000);
    size_t bytes = gw_rl_memory_bytes(rl);
    cr_assert_leq(bytes, 1000 * 64 + 4096 * 4 + 16 * 256, "%zu bytes", bytes);
    struct gw_rl_rate r = {1, 1000, 1};
    uint32_t ra;
    for (uint32_t i = 0; i < 20000; i++) {
        uint8_t v4[4] = {127, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        struct gw_addr a;
        gw_addr_from_v4(&a, v4);
        cr_assert(gw_rl_take(rl, &r, 0, &a, i, &ra));
    }
    cr_assert_eq(gw_rl_count(rl), 1000);
    cr_assert_eq(gw_rl_evictions(rl), 19000);
    cr_assert_eq(gw_rl_memory_bytes(rl), bytes);
    gw_rl_free(rl);
    /* the default capacity stays within a few MiB */
    rl = gw_rl_new(GW_RL_DEFAULT_CAPACITY, 64, seed);
    cr_assert_leq(gw_rl_memory_bytes(rl), (size_t)8 << 20, "%zu bytes", gw_rl_memory_bytes(rl));
    gw_rl_free(rl);
}

Test(gw_ratelimit, rate_change_keeps_the_fill)
{
    struct gw_rl *rl = gw_rl_new(10, 1, seed);
    struct gw_rl_rate r = {1, 1000, 4};
    uint32_t ra;
    cr_assert(take(rl, &r, "192.0.2.1", 0, &ra));
    cr_assert(take(rl, &r, "192.0.2.1", 0, &ra)); /* 2 of 4 left */
    struct gw_rl_rate slower = {1, 4000, 2};
    cr_assert(take(rl, &slower, "192.0.2.1", 0, &ra)); /* 2 left, capped at the new burst of 2 */
    cr_assert(take(rl, &slower, "192.0.2.1", 0, &ra));
    cr_assert_not(take(rl, &slower, "192.0.2.1", 0, &ra));
    cr_assert_eq(ra, 4);
    gw_rl_free(rl);
}

Test(gw_ratelimit, refuses_bad_arguments)
{
    cr_assert_null(gw_rl_new(0, 1, seed));
    cr_assert_null(gw_rl_new(10, 0, seed));
    cr_assert_null(gw_rl_new(10, GW_RL_SHARDS_MAX + 1, seed));
    struct gw_rl *rl = gw_rl_new(3, 64, seed); /* fewer entries than shards: shards shrink */
    cr_assert_eq(gw_rl_capacity(rl), 3);
    struct gw_rl_rate bad[] = {{0, 1000, 1}, {1, 0, 1}, {1, 1000, 0}, {1, GW_RL_PER_MS_MAX + 1, 1}};
    uint32_t ra;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_not(gw_rl_rate_valid(&bad[i]));
        cr_assert_not(take(rl, &bad[i], "192.0.2.1", 0, &ra));
        cr_assert_eq(ra, 1);
    }
    gw_rl_free(rl);
    gw_rl_free(NULL);
}

struct race {
    struct gw_rl *rl;
    int allowed;
};

static void *hammer(void *arg)
{
    struct race *r = arg;
    struct gw_rl_rate rate = {1, 1000000, 100};
    struct gw_addr a = addr("198.51.100.7");
    uint32_t ra;
    for (int i = 0; i < 1000; i++) {
        if (gw_rl_take(r->rl, &rate, 0, &a, 5, &ra)) {
            __atomic_add_fetch(&r->allowed, 1, __ATOMIC_RELAXED);
        }
    }
    return NULL;
}

Test(gw_ratelimit, one_client_on_many_workers_gets_exactly_its_burst)
{
    struct race r = {gw_rl_new(1000, 8, seed), 0};
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(pthread_create(&t[i], NULL, hammer, &r), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
    }
    cr_assert_eq(r.allowed, 100);
    gw_rl_free(r.rl);
}

static pthread_barrier_t start_line;

static void *churn(void *arg)
{
    struct gw_rl *rl = arg;
    struct gw_rl_rate rate = {1, 1000, 1};
    uint32_t ra;
    pthread_barrier_wait(&start_line); /* all threads at once, so they overlap */
    for (uint32_t i = 0; i < 200000; i++) {
        uint8_t v4[4] = {127, 1, (uint8_t)(i % 1000 >> 8), (uint8_t)(i % 1000)};
        struct gw_addr a;
        gw_addr_from_v4(&a, v4);
        (void)gw_rl_take(rl, &rate, 0, &a, i, &ra);
    }
    return NULL;
}

Test(gw_ratelimit, concurrent_eviction_keeps_the_table_whole)
{
    struct gw_rl *rl = gw_rl_new(100, 1, seed); /* one shard: every thread fights over one LRU list */
    pthread_t t[4];
    cr_assert_eq(pthread_barrier_init(&start_line, NULL, 4), 0);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(pthread_create(&t[i], NULL, churn, rl), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
    }
    pthread_barrier_destroy(&start_line);
    cr_assert_eq(gw_rl_count(rl), 100);
    /* the lists are still whole: 100 new clients each evict one entry and get a full bucket */
    struct gw_rl_rate rate = {1, 1000, 1};
    uint32_t ra;
    uint64_t before = gw_rl_evictions(rl);
    for (int i = 0; i < 100; i++) {
        uint8_t v4[4] = {10, 9, 0, (uint8_t)i};
        struct gw_addr a;
        gw_addr_from_v4(&a, v4);
        cr_assert(gw_rl_take(rl, &rate, 0, &a, 0, &ra));
    }
    cr_assert_eq(gw_rl_evictions(rl), before + 100);
    for (int i = 0; i < 100; i++) {
        uint8_t v4[4] = {10, 9, 0, (uint8_t)i};
        struct gw_addr a;
        gw_addr_from_v4(&a, v4);
        cr_assert_not(gw_rl_take(rl, &rate, 0, &a, 0, &ra), "client %d was lost", i);
    }
    gw_rl_free(rl);
}
