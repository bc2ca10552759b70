/* test_gw_cidr.c: CIDR parsing, the compiled longest-prefix set (checked against a brute-force scan), and the
 * allow/deny policy. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_cidr.h"

static struct gw_cidr cidr(const char *s)
{
    struct gw_cidr c;
    char err[GW_CIDR_ERR_MAX];
    cr_assert(gw_cidr_parse(&c, s, strlen(s), err, sizeof err), "%s: %s", s, err);
    return c;
}

static struct gw_addr addr(const char *s)
{
    struct gw_addr a;
    cr_assert(gw_addr_parse(&a, s, strlen(s)), "%s", s);
    return a;
}

static void parse_fails(const char *s, const char *want)
{
    struct gw_cidr c;
    char err[GW_CIDR_ERR_MAX];
    cr_assert_not(gw_cidr_parse(&c, s, strlen(s), err, sizeof err), "%s parsed", s);
    cr_assert_str_eq(err, want);
}

Test(gw_cidr, parses_edges)
{
    cr_assert_eq(cidr("0.0.0.0/0").len, 96);
    cr_assert_eq(cidr("10.0.0.66/32").len, 128);
    cr_assert_eq(cidr("10.0.0.66").len, 128);
    cr_assert_eq(cidr("::/0").len, 0);
    cr_assert_eq(cidr("2001:db8::1/128").len, 128);
    cr_assert_eq(cidr("2001:db8::1").len, 128);
    cr_assert_eq(cidr("2001:db8::/32").len, 32);
    cr_assert_eq(cidr("::ffff:10.0.0.0/104").len, 104);
}

Test(gw_cidr, refuses_with_precise_messages)
{
    parse_fails("10.0.0.1/8", "\"10.0.0.1/8\": host bits set below the /8 prefix (did you mean 10.0.0.0/8?)");
    parse_fails("2001:db8::1/32", "\"2001:db8::1/32\": host bits set below the /32 prefix (did you mean 2001:db8::/32?)");
    parse_fails("10.0.0.0/33", "\"10.0.0.0/33\": IPv4 prefix length above 32");
    parse_fails("::/129", "\"::/129\": IPv6 prefix length above 128");
    parse_fails("10.0.0.0/08", "\"10.0.0.0/08\": prefix length is not a decimal number without leading zeros");
    parse_fails("10.0.0.0/", "\"10.0.0.0/\": prefix length is not a decimal number without leading zeros");
    parse_fails("10.0.0.0/+8", "\"10.0.0.0/+8\": prefix length is not a decimal number without leading zeros");
    parse_fails("010.0.0.0/8", "\"010.0.0.0/8\": not an IPv4 or IPv6 address (expected a.b.c.d/n or x:x::x/n)");
    parse_fails("10.0.0/8", "\"10.0.0/8\": not an IPv4 or IPv6 address (expected a.b.c.d/n or x:x::x/n)");
    parse_fails("fe80::1%eth0", "\"fe80::1%eth0\": not an IPv4 or IPv6 address (expected a.b.c.d/n or x:x::x/n)");
    parse_fails("10.0.0.0 /8", "\"\": a CIDR holds only printable ASCII, no spaces");
    parse_fails("", "\"\": empty address");
    char big[100];
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    parse_fails(big, "\"1111111111111111111111111111111111111111111111111111111111111111...\": too long for a CIDR");
}

Test(gw_cidr, v4_mapped_clients_meet_v4_rules)
{
    struct gw_cidr ten = cidr("10.0.0.0/8");
    struct gw_addr a = addr("::ffff:10.1.2.3");
    cr_assert(gw_cidr_contains(&ten, &a));
    a = addr("10.255.255.255");
    cr_assert(gw_cidr_contains(&ten, &a));
    a = addr("11.0.0.0");
    cr_assert_not(gw_cidr_contains(&ten, &a));
    struct gw_cidr mapped = cidr("::ffff:10.0.0.0/104");
    a = addr("10.9.9.9");
    cr_assert(gw_cidr_contains(&mapped, &a));
    /* IPv4 /0 is every IPv4 client and no IPv6 one; ::/0 is everyone */
    struct gw_cidr v4all = cidr("0.0.0.0/0");
    struct gw_cidr all = cidr("::/0");
    struct gw_addr v6 = addr("2001:db8::1");
    cr_assert_not(gw_cidr_contains(&v4all, &v6));
    cr_assert(gw_cidr_contains(&all, &v6));
    cr_assert(gw_cidr_contains(&all, &a));
    /* the IPv4-compatible (deprecated) ::a.b.c.d is not IPv4 */
    struct gw_addr compat = addr("::10.1.2.3");
    cr_assert_not(gw_cidr_contains(&ten, &compat));
}

static enum gw_ip_verdict check(const struct gw_ip_policy *p, const char *a)
{
    struct gw_addr x = addr(a);
    return gw_ip_policy_check(p, &x);
}

static struct gw_ip_policy *policy(const char *const *allow, size_t na, const char *const *deny, size_t nd)
{
    struct gw_cidr a[16];
    struct gw_cidr d[16];
    for (size_t i = 0; i < na; i++) {
        a[i] = cidr(allow[i]);
    }
    for (size_t i = 0; i < nd; i++) {
        d[i] = cidr(deny[i]);
    }
    struct gw_ip_policy *p = gw_ip_policy_new(a, na, d, nd);
    cr_assert(p != NULL);
    return p;
}

Test(gw_cidr, policy_of_the_issue_contract)
{
    const char *allow[] = {"10.0.0.0/8"};
    const char *deny[] = {"10.0.0.66/32"};
    struct gw_ip_policy *p = policy(allow, 1, deny, 1);
    cr_assert_eq(check(p, "10.0.0.65"), GW_IP_ALLOW);
    cr_assert_eq(check(p, "10.0.0.66"), GW_IP_DENY_RULE);
    cr_assert_eq(check(p, "::ffff:10.0.0.66"), GW_IP_DENY_RULE);
    cr_assert_eq(check(p, "10.0.0.67"), GW_IP_ALLOW);
    cr_assert_eq(check(p, "11.0.0.1"), GW_IP_DENY_DEFAULT);
    cr_assert_eq(check(p, "2001:db8::1"), GW_IP_DENY_DEFAULT);
    cr_assert_str_eq(gw_ip_verdict_reason(GW_IP_DENY_RULE), "client address denied by the route's deny list");
    cr_assert_str_eq(gw_ip_verdict_reason(GW_IP_DENY_DEFAULT), "client address not in the route's allow list");
    gw_ip_policy_free(p);
}

Test(gw_cidr, defaults_tie_and_nesting)
{
    const char *deny_only[] = {"192.0.2.0/24"};
    struct gw_ip_policy *p = policy(NULL, 0, deny_only, 1);
    cr_assert_eq(check(p, "192.0.2.7"), GW_IP_DENY_RULE);
    cr_assert_eq(check(p, "192.0.3.7"), GW_IP_ALLOW); /* only deny: everyone else allowed */
    gw_ip_policy_free(p);

    const char *tie[] = {"192.0.2.0/24"};
    p = policy(tie, 1, tie, 1);
    cr_assert_eq(check(p, "192.0.2.7"), GW_IP_DENY_RULE); /* the same prefix in both: deny wins */
    gw_ip_policy_free(p);

    /* deny a subnet, re-allow part of it, allow everyone else */
    const char *allow[] = {"0.0.0.0/0", "::/0", "10.1.0.0/16", "10.1.2.0/24"};
    const char *deny[] = {"10.0.0.0/8", "10.1.2.128/25", "2001:db8::/32"};
    p = policy(allow, 4, deny, 3);
    cr_assert_eq(check(p, "9.255.255.255"), GW_IP_ALLOW);
    cr_assert_eq(check(p, "10.0.0.0"), GW_IP_DENY_RULE);
    cr_assert_eq(check(p, "10.0.255.255"), GW_IP_DENY_RULE);
    cr_assert_eq(check(p, "10.1.0.0"), GW_IP_ALLOW);
    cr_assert_eq(check(p, "10.1.2.127"), GW_IP_ALLOW);
    cr_assert_eq(check(p, "10.1.2.128"), GW_IP_DENY_RULE);
    cr_assert_eq(check(p, "10.1.2.255"), GW_IP_DENY_RULE);
    cr_assert_eq(check(p, "10.1.3.0"), GW_IP_ALLOW);
    cr_assert_eq(check(p, "10.2.0.0"), GW_IP_DENY_RULE);
    cr_assert_eq(check(p, "11.0.0.0"), GW_IP_ALLOW);
    cr_assert_eq(check(p, "255.255.255.255"), GW_IP_ALLOW);
    cr_assert_eq(check(p, "2001:db8:ffff::1"), GW_IP_DENY_RULE);
    cr_assert_eq(check(p, "2001:db9::1"), GW_IP_ALLOW);
    cr_assert_eq(check(p, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), GW_IP_ALLOW);
    cr_assert_eq(check(p, "::"), GW_IP_ALLOW);
    gw_ip_policy_free(p);

    /* ::/0 denied covers IPv4 clients too; a v4 /0 allow is longer and wins for them */
    const char *deny_all[] = {"::/0"};
    p = policy(NULL, 0, deny_all, 1);
    cr_assert_eq(check(p, "1.2.3.4"), GW_IP_DENY_RULE);
    gw_ip_policy_free(p);
    const char *v4all[] = {"0.0.0.0/0"};
    p = policy(v4all, 1, deny_all, 1);
    cr_assert_eq(check(p, "1.2.3.4"), GW_IP_ALLOW);
    cr_assert_eq(check(p, "2001:db8::1"), GW_IP_DENY_RULE);
    gw_ip_policy_free(p);

    p = policy(NULL, 0, NULL, 0);
    cr_assert_eq(check(p, "1.2.3.4"), GW_IP_ALLOW);
    gw_ip_policy_free(p);
}

/* A deterministic generator, so a failure reproduces. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void mask(struct gw_addr *a, unsigned len)
{
    for (unsigned bit = len; bit < 128; bit++) {
        a->b[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
    }
}

static uint8_t brute(const struct gw_cidr_entry *e, size_t n, const struct gw_addr *a)
{
    int best_len = -1;
    uint8_t tag = 0;
    for (size_t i = 0; i < n; i++) {
        if (gw_cidr_contains(&e[i].cidr, a) &&
            ((int)e[i].cidr.len > best_len || ((int)e[i].cidr.len == best_len && e[i].tag > tag))) {
            best_len = (int)e[i].cidr.len;
            tag = e[i].tag;
        }
    }
    return tag;
}

Test(gw_cidr, set_matches_brute_force_on_thousands_of_nested_prefixes)
{
    enum { N = 3000, PROBES = 20000 };
    struct gw_cidr_entry *e = calloc(N, sizeof *e);
    cr_assert(e != NULL);
    /* addresses from a small pool of high bits so prefixes nest and collide often; v4-mapped and v6 both */
    for (size_t i = 0; i < N; i++) {
        struct gw_addr a;
        for (int k = 0; k < 16; k++) {
            a.b[k] = (uint8_t)rnd();
        }
        if (rnd() % 2) {
            memset(a.b, 0, 10);
            a.b[10] = a.b[11] = 0xff;
            a.b[12] = (uint8_t)(rnd() % 4);
        } else {
            a.b[0] = 0x20;
            a.b[1] = (uint8_t)(rnd() % 3);
        }
        unsigned len = (unsigned)(rnd() % 129);
        if (i < 4) {
            len = (unsigned)(i * 40 % 129); /* some very short prefixes, /0 included */
        }
        mask(&a, len);
        e[i].cidr.addr = a;
        e[i].cidr.len = len;
        e[i].tag = (uint8_t)(1 + rnd() % 3);
    }
    struct gw_cidr_set *s = gw_cidr_set_new(e, N);
    cr_assert(s != NULL);
    cr_assert_leq(gw_cidr_set_ranges(s), 2 * N + 1);
    for (size_t i = 0; i < PROBES; i++) {
        struct gw_addr a;
        if (i % 2 == 0) {
            /* an edge of a prefix, or one past it */
            const struct gw_cidr_entry *p = &e[rnd() % N];
            a = p->cidr.addr;
            if (rnd() % 2) {
                for (unsigned bit = p->cidr.len; bit < 128; bit++) {
                    a.b[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
                }
            }
            if (rnd() % 3 == 0) { /* step by one across the edge */
                int k = 15;
                if (rnd() % 2) {
                    while (k >= 0 && ++a.b[k] == 0) {
                        k--;
                    }
                } else {
                    while (k >= 0 && a.b[k]-- == 0) {
                        k--;
                    }
                }
            }
        } else {
            for (int k = 0; k < 16; k++) {
                a.b[k] = (uint8_t)rnd();
            }
            a.b[0] = (uint8_t)(rnd() % 2 ? 0 : 0x20);
        }
        cr_assert_eq(gw_cidr_set_lookup(s, &a), brute(e, N, &a), "probe %zu", i);
    }
    gw_cidr_set_free(s);
    free(e);
}

Test(gw_cidr, refuses_bad_entries)
{
    struct gw_cidr_entry e = {cidr("10.0.0.0/8"), 0};
    cr_assert_null(gw_cidr_set_new(&e, 1));
    e.tag = 1;
    e.cidr.len = 129;
    cr_assert_null(gw_cidr_set_new(&e, 1));
    struct gw_cidr_set *s = gw_cidr_set_new(NULL, 0);
    struct gw_addr a = addr("1.2.3.4");
    cr_assert_eq(gw_cidr_set_lookup(s, &a), 0);
    gw_cidr_set_free(s);
}
