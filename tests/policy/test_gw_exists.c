/* test_gw_exists.c: the existence-check cache: TTLs, LRU bounds, single flight (gateway/policy/gw_exists.h). */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "gw_exists.h"

static const uint8_t seed[16] = "0123456789abcdef";

static struct sgn_view v(const char *s)
{
    return (struct sgn_view){s, strlen(s)};
}

struct log {
    void *w[64];
    enum gw_exists_result r[64];
    size_t n;
};

static void record(void *arg, void *waiter, enum gw_exists_result result)
{
    struct log *l = arg;
    cr_assert_lt(l->n, 64);
    l->w[l->n] = waiter;
    l->r[l->n++] = result;
}

static enum gw_exists_answer look(struct gw_exists_cache *c, const char *key, uint64_t now, void *w, struct gw_exists_entry **e)
{
    return gw_exists_lookup(c, v("main"), v(key), v(""), now, w, e);
}

Test(gw_exists, positive_and_negative_ttls)
{
    struct gw_exists_cache *c = gw_exists_new(8, 30000, 10000, 16, seed);
    struct gw_exists_entry *e = NULL;
    struct log l = {0};
    int a, b;
    cr_assert_eq(look(c, "a.jpg", 1000, &a, &e), GW_EXISTS_CHECK);
    gw_exists_complete(c, e, GW_EXISTS_FOUND, 1000, record, &l);
    cr_assert_eq(l.n, 1);
    cr_assert_eq(l.w[0], &a);
    cr_assert_eq(l.r[0], GW_EXISTS_FOUND);
    cr_assert_eq(look(c, "a.jpg", 1000, &a, &e), GW_EXISTS_YES);
    cr_assert_eq(look(c, "a.jpg", 30999, &a, &e), GW_EXISTS_YES);
    cr_assert_eq(look(c, "a.jpg", 31000, &a, &e), GW_EXISTS_CHECK, "expired after 30 s");
    gw_exists_complete(c, e, GW_EXISTS_MISSING, 31000, record, &l);
    cr_assert_eq(look(c, "a.jpg", 40999, &b, &e), GW_EXISTS_NO);
    cr_assert_eq(look(c, "a.jpg", 41000, &b, &e), GW_EXISTS_CHECK, "negative entry expired after 10 s");
    gw_exists_complete(c, e, GW_EXISTS_FAILED, 41000, record, &l);
    cr_assert_eq(l.r[l.n - 1], GW_EXISTS_FAILED);
    size_t n;
    gw_exists_stats(c, &n);
    cr_assert_eq(n, 0, "a failed check is not cached");
    cr_assert_eq(look(c, "a.jpg", 41001, &b, &e), GW_EXISTS_CHECK);
    gw_exists_complete(c, e, GW_EXISTS_FOUND, 41001, record, &l);
    struct gw_exists_stats st = gw_exists_stats(c, &n);
    cr_assert_eq(n, 1);
    cr_assert_eq(st.hits_yes, 2);
    cr_assert_eq(st.hits_no, 1);
    cr_assert_eq(st.checks, 4);
    gw_exists_free(c);
}

Test(gw_exists, zero_negative_ttl_keeps_nothing)
{
    struct gw_exists_cache *c = gw_exists_new(8, 1000, 0, 16, seed);
    struct gw_exists_entry *e = NULL;
    struct log l = {0};
    int a;
    cr_assert_eq(look(c, "k", 5, &a, &e), GW_EXISTS_CHECK);
    gw_exists_complete(c, e, GW_EXISTS_MISSING, 5, record, &l);
    cr_assert_eq(look(c, "k", 5, &a, &e), GW_EXISTS_CHECK);
    gw_exists_complete(c, e, GW_EXISTS_FOUND, UINT64_MAX - 10, record, &l);
    cr_assert_eq(look(c, "k", UINT64_MAX - 1, &a, &e), GW_EXISTS_YES, "expiry saturates instead of wrapping");
    gw_exists_free(c);
}

Test(gw_exists, single_flight_coalesces_and_hands_back_every_waiter)
{
    struct gw_exists_cache *c = gw_exists_new(4, 1000, 1000, 8, seed);
    struct gw_exists_entry *e = NULL, *e2 = NULL;
    struct log l = {0};
    int w[10];
    cr_assert_eq(look(c, "k", 0, &w[0], &e), GW_EXISTS_CHECK);
    for (size_t i = 1; i < 8; i++) {
        cr_assert_eq(look(c, "k", 0, &w[i], &e2), GW_EXISTS_WAIT);
        cr_assert_eq(e2, e);
    }
    cr_assert_eq(look(c, "k", 0, &w[8], &e2), GW_EXISTS_BUSY, "waiter cap");
    cr_assert(gw_exists_cancel(e, &w[3]));
    cr_assert_not(gw_exists_cancel(e, &w[3]));
    cr_assert_not(gw_exists_cancel(e, &w[9]));
    gw_exists_complete(c, e, GW_EXISTS_MISSING, 0, record, &l);
    cr_assert_eq(l.n, 7);
    size_t k = 0;
    for (size_t i = 0; i < 8; i++) {
        if (i != 3) {
            cr_assert_eq(l.w[k], &w[i], "queue order");
            cr_assert_eq(l.r[k++], GW_EXISTS_MISSING);
        }
    }
    cr_assert_eq(look(c, "k", 1, &w[0], &e), GW_EXISTS_NO);
    struct gw_exists_stats st = gw_exists_stats(c, &k);
    cr_assert_eq(st.checks, 1);
    cr_assert_eq(st.waits, 7);
    cr_assert_eq(st.busy, 1);
    gw_exists_free(c);
}

struct relookup {
    struct gw_exists_cache *c;
    enum gw_exists_answer got;
};

static void relook(void *arg, void *waiter, enum gw_exists_result result)
{
    struct relookup *r = arg;
    struct gw_exists_entry *e;
    (void)waiter;
    (void)result;
    r->got = look(r->c, "k", 0, waiter, &e);
}

Test(gw_exists, a_waiter_may_look_up_again_from_its_callback)
{
    struct relookup r = {gw_exists_new(2, 1000, 1000, 4, seed), GW_EXISTS_BUSY};
    struct gw_exists_entry *e;
    int a;
    cr_assert_eq(look(r.c, "k", 0, &a, &e), GW_EXISTS_CHECK);
    gw_exists_complete(r.c, e, GW_EXISTS_FOUND, 0, relook, &r);
    cr_assert_eq(r.got, GW_EXISTS_YES);
    gw_exists_free(r.c);
}

Test(gw_exists, lru_evicts_the_least_recent_and_never_an_entry_in_flight)
{
    struct gw_exists_cache *c = gw_exists_new(3, 1000, 1000, 4, seed);
    struct gw_exists_entry *e[4];
    struct log l = {0};
    int w;
    cr_assert_eq(look(c, "a", 0, &w, &e[0]), GW_EXISTS_CHECK);
    cr_assert_eq(look(c, "b", 0, &w, &e[1]), GW_EXISTS_CHECK);
    cr_assert_eq(look(c, "c", 0, &w, &e[2]), GW_EXISTS_CHECK);
    cr_assert_eq(look(c, "d", 0, &w, &e[3]), GW_EXISTS_BUSY, "all three in flight");
    gw_exists_complete(c, e[0], GW_EXISTS_FOUND, 0, record, &l);
    gw_exists_complete(c, e[1], GW_EXISTS_FOUND, 0, record, &l);
    cr_assert_eq(look(c, "a", 1, &w, &e[3]), GW_EXISTS_YES); /* a is now more recent than b */
    cr_assert_eq(look(c, "d", 1, &w, &e[3]), GW_EXISTS_CHECK, "evicts b, not the pending c");
    cr_assert_eq(look(c, "a", 1, &w, &e[0]), GW_EXISTS_YES);
    cr_assert_eq(look(c, "c", 1, &w, &e[0]), GW_EXISTS_WAIT);
    cr_assert_eq(e[0], e[2]);
    size_t n;
    struct gw_exists_stats st = gw_exists_stats(c, &n);
    cr_assert_eq(n, 3);
    cr_assert_eq(st.evictions, 1);
    gw_exists_complete(c, e[2], GW_EXISTS_FOUND, 1, record, &l);
    gw_exists_complete(c, e[3], GW_EXISTS_FOUND, 1, record, &l);
    cr_assert_eq(look(c, "b", 2, &w, &e[1]), GW_EXISTS_CHECK, "b was evicted");
    gw_exists_complete(c, e[1], GW_EXISTS_FOUND, 2, record, &l);
    gw_exists_stats(c, &n);
    cr_assert_eq(n, 3);
    gw_exists_free(c);
}

Test(gw_exists, identity_is_backend_key_and_params_unambiguously)
{
    struct gw_exists_cache *c = gw_exists_new(16, 1000, 1000, 4, seed);
    struct gw_exists_entry *e;
    struct log l = {0};
    int w;
    cr_assert_eq(gw_exists_lookup(c, v("ab"), v("c"), v(""), 0, &w, &e), GW_EXISTS_CHECK);
    gw_exists_complete(c, e, GW_EXISTS_FOUND, 0, record, &l);
    cr_assert_eq(gw_exists_lookup(c, v("ab"), v("c"), v(""), 0, &w, &e), GW_EXISTS_YES);
    cr_assert_eq(gw_exists_lookup(c, v("a"), v("bc"), v(""), 0, &w, &e), GW_EXISTS_CHECK);
    gw_exists_complete(c, e, GW_EXISTS_MISSING, 0, record, &l);
    cr_assert_eq(gw_exists_lookup(c, v("ab"), v("c"), v("versionId=1"), 0, &w, &e), GW_EXISTS_CHECK);
    gw_exists_complete(c, e, GW_EXISTS_MISSING, 0, record, &l);
    cr_assert_eq(gw_exists_lookup(c, v("ab"), v("c"), v(""), 0, &w, &e), GW_EXISTS_YES);
    cr_assert_eq(gw_exists_lookup(c, v("a"), v("bc"), v(""), 0, &w, &e), GW_EXISTS_NO);
    cr_assert_eq(gw_exists_lookup(c, v("ab"), v("c"), v("versionId=1"), 0, &w, &e), GW_EXISTS_NO);
    static char big[GW_EXISTS_KEY_MAX];
    memset(big, 'k', sizeof(big));
    cr_assert_eq(gw_exists_lookup(c, v("ab"), (struct sgn_view){big, GW_EXISTS_KEY_MAX - 8 - 2}, v(""), 0, &w, &e),
                 GW_EXISTS_CHECK);
    gw_exists_complete(c, e, GW_EXISTS_FOUND, 0, record, &l);
    cr_assert_eq(gw_exists_lookup(c, v("ab"), (struct sgn_view){big, GW_EXISTS_KEY_MAX - 8 - 1}, v(""), 0, &w, &e), GW_EXISTS_BUSY);
    gw_exists_free(c);
}

Test(gw_exists, many_keys_stay_bounded)
{
    struct gw_exists_cache *c = gw_exists_new(100, 1000, 1000, 4, seed);
    struct gw_exists_entry *e;
    struct log l = {0};
    int w;
    char key[16];
    for (unsigned i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof(key), "k%u", i);
        cr_assert_eq(gw_exists_lookup(c, v("m"), (struct sgn_view){key, (size_t)n}, v(""), i, &w, &e), GW_EXISTS_CHECK);
        l.n = 0;
        gw_exists_complete(c, e, i % 2 ? GW_EXISTS_FOUND : GW_EXISTS_MISSING, i, record, &l);
    }
    size_t n;
    struct gw_exists_stats st = gw_exists_stats(c, &n);
    cr_assert_eq(n, 100);
    cr_assert_eq(st.evictions, 4900);
    cr_assert_eq(gw_exists_lookup(c, v("m"), v("k4999"), v(""), 5000, &w, &e), GW_EXISTS_YES);
    cr_assert_eq(gw_exists_lookup(c, v("m"), v("k4998"), v(""), 5000, &w, &e), GW_EXISTS_NO);
    gw_exists_free(c);
}

Test(gw_exists, bad_arguments)
{
    cr_assert_null(gw_exists_new(0, 1, 1, 1, seed));
    cr_assert_null(gw_exists_new(1, 1, 1, 0, seed));
    gw_exists_free(NULL);
}
