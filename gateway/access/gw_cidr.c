/* gw_cidr.c: prefixes compiled into sorted disjoint ranges; a lookup is a binary search. */
#include "gw_cidr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 gw_u128;

static gw_u128 addr_to_u128(const struct gw_addr *a)
{
    gw_u128 v = 0;
    for (size_t i = 0; i < 16; i++) {
        v = (v << 8) | a->b[i];
    }
    return v;
}

static void u128_to_addr(struct gw_addr *a, gw_u128 v)
{
    for (size_t i = 16; i-- > 0;) {
        a->b[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

/* host_mask is the mask of the bits below a prefix of length `len` (all ones for /0, zero for /128). */
static gw_u128 host_mask(unsigned len)
{
    if (len == 0) {
        return ~(gw_u128)0;
    }
    return ((gw_u128)1 << (128 - len)) - 1;
}

static void set_err(char *err, size_t err_cap, const char *s, size_t len, const char *what)
{
    if (err_cap == 0) {
        return;
    }
    int shown = len > GW_CIDR_TEXT_MAX ? GW_CIDR_TEXT_MAX : (int)len;
    int n = snprintf(err, err_cap, "\"%.*s%s\": %s", shown, s, len > GW_CIDR_TEXT_MAX ? "..." : "", what);
    if (n < 0) {
        err[0] = '\0';
    }
}

bool gw_cidr_parse(struct gw_cidr *out, const char *s, size_t len, char *err, size_t err_cap)
{
    if (len == 0) {
        set_err(err, err_cap, s, len, "empty address");
        return false;
    }
    if (len > GW_CIDR_TEXT_MAX) {
        set_err(err, err_cap, s, len, "too long for a CIDR");
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        /* a printable quote keeps the message one line; control bytes never get that far */
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e) {
            set_err(err, err_cap, "", 0, "a CIDR holds only printable ASCII, no spaces");
            return false;
        }
    }
    const char *slash = memchr(s, '/', len);
    size_t alen = slash != NULL ? (size_t)(slash - s) : len;
    struct gw_addr a;
    if (!gw_addr_parse(&a, s, alen)) {
        set_err(err, err_cap, s, len, "not an IPv4 or IPv6 address (expected a.b.c.d/n or x:x::x/n)");
        return false;
    }
    bool v4 = memchr(s, ':', alen) == NULL;
    unsigned max = v4 ? 32 : 128;
    unsigned plen = max;
    if (slash != NULL) {
        const char *p = slash + 1;
        size_t n = len - alen - 1;
        if (n == 0 || n > 3 || (n > 1 && p[0] == '0')) {
            set_err(err, err_cap, s, len, "prefix length is not a decimal number without leading zeros");
            return false;
        }
        plen = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] < '0' || p[i] > '9') {
                set_err(err, err_cap, s, len, "prefix length is not a decimal number without leading zeros");
                return false;
            }
            plen = plen * 10 + (unsigned)(p[i] - '0');
        }
        if (plen > max) {
            set_err(err, err_cap, s, len, v4 ? "IPv4 prefix length above 32" : "IPv6 prefix length above 128");
            return false;
        }
    }
    unsigned len128 = v4 ? plen + 96 : plen;
    gw_u128 v = addr_to_u128(&a);
    if ((v & host_mask(len128)) != 0) {
        struct gw_addr net;
        char text[GW_ADDR_TEXT_MAX];
        char what[GW_CIDR_ERR_MAX];
        u128_to_addr(&net, v & ~host_mask(len128));
        gw_addr_format(text, &net);
        int n = snprintf(what, sizeof what, "host bits set below the /%u prefix (did you mean %s/%u?)", plen, text, plen);
        set_err(err, err_cap, s, len, n < 0 ? "host bits set below the prefix" : what);
        return false;
    }
    out->addr = a;
    out->len = len128;
    return true;
}

bool gw_cidr_contains(const struct gw_cidr *c, const struct gw_addr *a)
{
    gw_u128 m = ~host_mask(c->len);
    return (addr_to_u128(a) & m) == (addr_to_u128(&c->addr) & m);
}

struct range {
    gw_u128 lo; /* inclusive */
    gw_u128 hi; /* inclusive */
    uint8_t tag;
};

struct gw_cidr_set {
    size_t n;
    struct range r[]; /* sorted by lo, disjoint */
};

struct item {
    gw_u128 lo;
    gw_u128 hi;
    unsigned len;
    uint8_t tag;
};

static int item_cmp(const void *pa, const void *pb)
{
    const struct item *a = pa;
    const struct item *b = pb;
    if (a->lo != b->lo) {
        return a->lo < b->lo ? -1 : 1;
    }
    if (a->len != b->len) { /* the wider prefix first: it encloses the narrower one */
        return a->len < b->len ? -1 : 1;
    }
    return (int)a->tag - (int)b->tag; /* on an exact tie the higher tag comes last and replaces the lower */
}

/* emit appends [lo, hi] with `tag`, merging with the previous range when adjacent with the same tag. Tag 0 (no
 * prefix) is not stored: a lookup that finds no range answers 0. */
static void emit(struct gw_cidr_set *s, gw_u128 lo, gw_u128 hi, uint8_t tag)
{
    if (tag == 0) {
        return;
    }
    if (s->n > 0 && s->r[s->n - 1].tag == tag && s->r[s->n - 1].hi + 1 == lo) {
        s->r[s->n - 1].hi = hi;
        return;
    }
    s->r[s->n].lo = lo;
    s->r[s->n].hi = hi;
    s->r[s->n].tag = tag;
    s->n++;
}

struct gw_cidr_set *gw_cidr_set_new(const struct gw_cidr_entry *entries, size_t n)
{
    struct item *items = NULL;
    struct item *stack = NULL;
    struct gw_cidr_set *s = NULL;
    struct gw_cidr_set *ret = NULL;

    if (n > GW_CIDR_SET_MAX) {
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        if (entries[i].tag == 0 || entries[i].cidr.len > 128) {
            goto cleanup;
        }
    }
    /* Prefixes are laminar (two are disjoint or one holds the other), so n prefixes cut the space into at most 2n+1
     * pieces. */
    s = malloc(sizeof *s + (2 * n + 1) * sizeof s->r[0]);
    items = malloc((n > 0 ? n : 1) * sizeof *items);
    stack = malloc((n > 0 ? n : 1) * sizeof *stack);
    if (s == NULL || items == NULL || stack == NULL) {
        goto cleanup;
    }
    s->n = 0;
    for (size_t i = 0; i < n; i++) {
        gw_u128 m = host_mask(entries[i].cidr.len);
        items[i].lo = addr_to_u128(&entries[i].cidr.addr) & ~m;
        items[i].hi = items[i].lo | m;
        items[i].len = entries[i].cidr.len;
        items[i].tag = entries[i].tag;
    }
    qsort(items, n, sizeof *items, item_cmp);

    /* Sweep from low to high addresses with a stack of the prefixes that enclose the cursor; the top is the longest.
     * `cursor` is the first address not yet emitted; `done` is set once the top of the space has been emitted. */
    size_t depth = 0;
    gw_u128 cursor = 0;
    bool done = false;
    for (size_t i = 0; i < n; i++) {
        const struct item *it = &items[i];
        if (depth > 0 && stack[depth - 1].lo == it->lo && stack[depth - 1].len == it->len) {
            stack[depth - 1].tag = it->tag; /* the same prefix again: the higher tag, sorted last, wins */
            continue;
        }
        while (depth > 0 && stack[depth - 1].hi < it->lo) {
            const struct item *top = &stack[depth - 1];
            if (!done && cursor <= top->hi) {
                emit(s, cursor, top->hi, top->tag);
                cursor = top->hi + 1; /* top->hi < it->lo, so no wrap */
            }
            depth--;
        }
        if (!done && cursor < it->lo) {
            emit(s, cursor, it->lo - 1, depth > 0 ? stack[depth - 1].tag : 0);
            cursor = it->lo;
        }
        stack[depth++] = *it;
    }
    while (depth > 0) {
        const struct item *top = &stack[depth - 1];
        if (!done && cursor <= top->hi) {
            emit(s, cursor, top->hi, top->tag);
            if (top->hi == ~(gw_u128)0) {
                done = true;
            } else {
                cursor = top->hi + 1;
            }
        }
        depth--;
    }
    ret = s;
    s = NULL;
cleanup:
    free(stack);
    free(items);
    free(s);
    return ret;
}

void gw_cidr_set_free(struct gw_cidr_set *s)
{
    free(s);
}

uint8_t gw_cidr_set_lookup(const struct gw_cidr_set *s, const struct gw_addr *a)
{
    gw_u128 v = addr_to_u128(a);
    /* the last range whose lo <= v */
    size_t lo = 0;
    size_t hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->r[mid].lo <= v) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0 || s->r[lo - 1].hi < v) {
        return 0;
    }
    return s->r[lo - 1].tag;
}

size_t gw_cidr_set_ranges(const struct gw_cidr_set *s)
{
    return s->n;
}

enum { TAG_ALLOW = 1, TAG_DENY = 2 };

struct gw_ip_policy {
    struct gw_cidr_set *set;
    bool allow_listed;
};

struct gw_ip_policy *gw_ip_policy_new(const struct gw_cidr *allow, size_t n_allow, const struct gw_cidr *deny, size_t n_deny)
{
    struct gw_cidr_entry *e = NULL;
    struct gw_ip_policy *p = NULL;
    struct gw_ip_policy *ret = NULL;

    if (n_allow > GW_CIDR_SET_MAX || n_deny > GW_CIDR_SET_MAX - n_allow) {
        return NULL;
    }
    size_t n = n_allow + n_deny;
    e = malloc((n > 0 ? n : 1) * sizeof *e);
    p = calloc(1, sizeof *p);
    if (e == NULL || p == NULL) {
        goto cleanup;
    }
    for (size_t i = 0; i < n_allow; i++) {
        e[i].cidr = allow[i];
        e[i].tag = TAG_ALLOW;
    }
    for (size_t i = 0; i < n_deny; i++) {
        e[n_allow + i].cidr = deny[i];
        e[n_allow + i].tag = TAG_DENY; /* the higher tag: deny wins a tie */
    }
    p->set = gw_cidr_set_new(e, n);
    if (p->set == NULL) {
        goto cleanup;
    }
    p->allow_listed = n_allow > 0;
    ret = p;
    p = NULL;
cleanup:
    gw_ip_policy_free(p);
    free(e);
    return ret;
}

void gw_ip_policy_free(struct gw_ip_policy *p)
{
    if (p == NULL) {
        return;
    }
    gw_cidr_set_free(p->set);
    free(p);
}

enum gw_ip_verdict gw_ip_policy_check(const struct gw_ip_policy *p, const struct gw_addr *a)
{
    switch (gw_cidr_set_lookup(p->set, a)) {
    case TAG_ALLOW:
        return GW_IP_ALLOW;
    case TAG_DENY:
        return GW_IP_DENY_RULE;
    default:
        return p->allow_listed ? GW_IP_DENY_DEFAULT : GW_IP_ALLOW;
    }
}

const char *gw_ip_verdict_reason(enum gw_ip_verdict v)
{
    switch (v) {
    case GW_IP_ALLOW:
        return "allowed";
    case GW_IP_DENY_RULE:
        return "client address denied by the route's deny list";
    case GW_IP_DENY_DEFAULT:
        return "client address not in the route's allow list";
    }
    return "client address denied";
}
