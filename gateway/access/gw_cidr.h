/* gw_cidr.h: CIDR prefixes, immutable longest-prefix-match sets, and the allow/deny policy of `access:`.
 *
 * Address space: every prefix lives in the 128-bit space of gw_addr.h. An IPv4 CIDR a.b.c.d/n is the v6 prefix
 * ::ffff:a.b.c.d/(96+n), so a client that arrives as ::ffff:a.b.c.d matches IPv4 rules, 0.0.0.0/0 matches every
 * IPv4 client and only those, and a v6 rule that covers ::ffff:0:0/96 (::/0 does) also matches IPv4 clients.
 *
 * Host bits: "10.0.0.1/8" is rejected with a message that names the prefix meant ("did you mean 10.0.0.0/8?").
 * nginx accepts it with a warning and masks; a silent mask hides typos such as /8 for /28, so we refuse. A bare
 * address is a host prefix (/32 or /128).
 *
 * Lookup: a set is built once into sorted, disjoint, non-adjacent-equal ranges, each labelled with the tag of the
 * longest prefix covering it; a lookup is one binary search, O(log n), no allocation, safe from any number of threads
 * at once (the set is immutable after gw_cidr_set_new). */
#ifndef GW_CIDR_H
#define GW_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_addr.h"

/* GW_CIDR_TEXT_MAX bounds the text of one CIDR ("address/len"), NUL excluded. */
#define GW_CIDR_TEXT_MAX 64
/* GW_CIDR_ERR_MAX is a sufficient capacity for gw_cidr_parse's message. */
#define GW_CIDR_ERR_MAX 160
/* GW_CIDR_SET_MAX bounds the prefixes of one set (the config's lists): memory and build time stay bounded. */
#define GW_CIDR_SET_MAX 1000000

/* struct gw_cidr is one prefix in the 128-bit space: `len` is 0..128 (an IPv4 /n is 96+n). */
struct gw_cidr {
    struct gw_addr addr;
    unsigned len;
};

/* gw_cidr_parse reads exactly `len` bytes of `s`: "a.b.c.d/n" (n 0..32), "v6/n" (n 0..128), or a bare address.
 * The length has no leading zeros or sign. On failure returns false and writes a one-line message that quotes the
 * input (bounded) into `err` (capacity `err_cap`, NUL-terminated, GW_CIDR_ERR_MAX suffices). */
bool gw_cidr_parse(struct gw_cidr *out, const char *s, size_t len, char *err, size_t err_cap);

/* gw_cidr_contains says whether `a` lies inside `c`. */
bool gw_cidr_contains(const struct gw_cidr *c, const struct gw_addr *a);

/* struct gw_cidr_entry is one prefix with a tag 1..255 for gw_cidr_set_new. */
struct gw_cidr_entry {
    struct gw_cidr cidr;
    uint8_t tag;
};

struct gw_cidr_set;

/* gw_cidr_set_new builds an immutable set from `n` entries (borrowed; n <= GW_CIDR_SET_MAX, n may be 0). The same
 * prefix listed twice keeps the higher tag (tags are priorities on exact ties). Returns NULL when out of memory or
 * when n is too large or a tag is 0. Free with gw_cidr_set_free. */
struct gw_cidr_set *gw_cidr_set_new(const struct gw_cidr_entry *entries, size_t n);

/* gw_cidr_set_free releases `s`; NULL is fine. */
void gw_cidr_set_free(struct gw_cidr_set *s);

/* gw_cidr_set_lookup returns the tag of the longest prefix of `s` that contains `a`, or 0 when none does. */
uint8_t gw_cidr_set_lookup(const struct gw_cidr_set *s, const struct gw_addr *a);

/* gw_cidr_set_ranges is the number of disjoint ranges the set compiled into (at most 2n+1; for tests and metrics). */
size_t gw_cidr_set_ranges(const struct gw_cidr_set *s);

/* The allow/deny policy of a route, `access: {allow: [...], deny: [...]}`.
 *
 * Model: the longest prefix that contains the client decides. The same prefix in both lists: deny wins. No prefix
 * contains the client: the client is allowed when the allow list is empty, denied otherwise.
 *
 * Relation to nginx, where the first matching `allow`/`deny` line wins and a client no line matches is allowed:
 *   deny: [X]                  = nginx "deny X;"                       (everyone else allowed)
 *   allow: [X]                 = nginx "allow X; deny all;"            (the usual idiom)
 *   allow: [10/8], deny: [10.0.0.66/32] = nginx "deny 10.0.0.66; allow 10.0.0.0/8; deny all;"
 * Order-dependent nginx lists whose broader line shadows a narrower later one ("deny 10/8; allow 10.1/16;", where
 * 10.1/16 is still denied) have no equivalent: here the narrower prefix always wins, which is what such lists almost
 * always mean. To deny a subnet but allow a part of it and everyone else, list allow: [0.0.0.0/0, ::/0, part]. */
enum gw_ip_verdict {
    GW_IP_ALLOW = 0,
    GW_IP_DENY_RULE,    /* a deny prefix is the longest match */
    GW_IP_DENY_DEFAULT, /* no prefix matches and the allow list is not empty */
};

struct gw_ip_policy;

/* gw_ip_policy_new builds a policy from the two lists (borrowed). NULL when out of memory or too many prefixes.
 * Free with gw_ip_policy_free. */
struct gw_ip_policy *gw_ip_policy_new(const struct gw_cidr *allow, size_t n_allow, const struct gw_cidr *deny, size_t n_deny);

/* gw_ip_policy_free releases `p`; NULL is fine. */
void gw_ip_policy_free(struct gw_ip_policy *p);

/* gw_ip_policy_check decides for client `a`; O(log n), thread-safe. */
enum gw_ip_verdict gw_ip_policy_check(const struct gw_ip_policy *p, const struct gw_addr *a);

/* gw_ip_verdict_reason is the one-line 403 reason for a denial (or "allowed"). */
const char *gw_ip_verdict_reason(enum gw_ip_verdict v);

#endif
