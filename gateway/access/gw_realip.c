/* gw_realip.c: the client address from X-Forwarded-For or Forwarded; the rule is in gw_realip.h. */
#include "gw_realip.h"

#include <stdbool.h>
#include <string.h>

struct hop {
    bool ok;
    struct gw_addr a;
};

/* struct hops keeps the last GW_REALIP_MAX_HOPS entries seen, left to right; `n` counts all of them. */
struct hops {
    struct hop h[GW_REALIP_MAX_HOPS];
    size_t n;
};

static void push(struct hops *r, bool ok, const struct gw_addr *a)
{
    struct hop *h = &r->h[r->n % GW_REALIP_MAX_HOPS];
    h->ok = ok;
    if (ok) {
        h->a = *a;
    }
    r->n++;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_ows(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_ows((*s)[*n - 1])) {
        (*n)--;
    }
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0 || n > 5) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

/* parse_node reads IPv4, IPv6, [IPv6], IPv4:port or [IPv6]:port. */
static bool parse_node(struct gw_addr *out, const char *s, size_t n)
{
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (close == NULL) {
            return false;
        }
        size_t alen = (size_t)(close - s) - 1;
        size_t rest = n - alen - 2;
        if (rest != 0 && (close[1] != ':' || !all_digits(close + 2, rest - 1))) {
            return false;
        }
        return memchr(s + 1, ':', alen) != NULL && gw_addr_parse(out, s + 1, alen);
    }
    const char *colon = memchr(s, ':', n);
    if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon - s) - 1) == NULL) {
        /* exactly one colon: IPv4:port (an IPv6 address has at least two) */
        size_t alen = (size_t)(colon - s);
        return all_digits(colon + 1, n - alen - 1) && memchr(s, '.', alen) != NULL && gw_addr_parse(out, s, alen);
    }
    return gw_addr_parse(out, s, n);
}

static void xff_element(struct hops *r, const char *s, size_t n)
{
    struct gw_addr a;
    trim(&s, &n);
    bool ok = parse_node(&a, s, n);
    push(r, ok, &a);
}

/* forwarded_element finds the one for= pair of an RFC 7239 element and reads its node. */
static void forwarded_element(struct hops *r, const char *s, size_t n)
{
    struct gw_addr a;
    char val[GW_ADDR_TEXT_MAX + 16];
    size_t val_len = 0;
    int n_for = 0;
    bool bad = false;
    size_t i = 0;
    while (i <= n && !bad) {
        /* one pair: up to ';' outside quotes */
        size_t start = i;
        bool q = false;
        while (i < n && (q || s[i] != ';')) {
            if (q && s[i] == '\\' && i + 1 < n) {
                i++;
            } else if (s[i] == '"') {
                q = !q;
            }
            i++;
        }
        const char *p = s + start;
        size_t plen = i - start;
        i++;
        trim(&p, &plen);
        if (plen < 4 ||
            !((p[0] == 'f' || p[0] == 'F') && (p[1] == 'o' || p[1] == 'O') && (p[2] == 'r' || p[2] == 'R') && p[3] == '=')) {
            continue;
        }
        if (++n_for > 1) {
            bad = true;
            break;
        }
        p += 4;
        plen -= 4;
        if (plen >= 2 && p[0] == '"' && p[plen - 1] == '"') {
            for (size_t k = 1; k + 1 < plen; k++) {
                if (p[k] == '\\' && k + 2 < plen) {
                    k++;
                } else if (p[k] == '"' || p[k] == '\\') {
                    bad = true;
                    break;
                }
                if (val_len >= sizeof val) {
                    bad = true;
                    break;
                }
                val[val_len++] = p[k];
            }
        } else if (memchr(p, ':', plen) != NULL || memchr(p, '[', plen) != NULL) {
            bad = true; /* section 6: an IPv6 node or a port makes the value a quoted-string */
        } else if (plen <= sizeof val) {
            memcpy(val, p, plen);
            val_len = plen;
        } else {
            bad = true;
        }
    }
    /* "unknown" and obfuscated "_x" identifiers are not addresses: parse_node refuses them */
    bool ok = !bad && n_for == 1 && parse_node(&a, val, val_len);
    push(r, ok, &a);
}

static void split_line(struct hops *r, enum gw_realip_header which, const char *s, size_t n)
{
    if (n > GW_REALIP_HEADER_MAX) {
        push(r, false, NULL);
        return;
    }
    size_t i = 0;
    while (i <= n) {
        size_t start = i;
        bool q = false;
        while (i < n && (q || s[i] != ',')) {
            if (which == GW_REALIP_FORWARDED && q && s[i] == '\\' && i + 1 < n) {
                i++;
            } else if (which == GW_REALIP_FORWARDED && s[i] == '"') {
                q = !q;
            }
            i++;
        }
        if (which == GW_REALIP_XFF) {
            xff_element(r, s + start, i - start);
        } else {
            forwarded_element(r, s + start, i - start);
        }
        i++;
    }
}

static bool trusted_addr(const struct gw_cidr_set *t, const struct gw_addr *a)
{
    return t != NULL && gw_cidr_set_lookup(t, a) != 0;
}

void gw_realip_resolve(struct gw_addr *out, const struct gw_addr *peer, const struct gw_cidr_set *trusted,
                       enum gw_realip_header which, const struct gw_realip_value *values, size_t n_values)
{
    struct hops r;
    r.n = 0;
    *out = *peer;
    if (!trusted_addr(trusted, peer) || n_values == 0) {
        return;
    }
    for (size_t i = 0; i < n_values; i++) {
        split_line(&r, which, values[i].base, values[i].len);
    }
    size_t have = r.n < GW_REALIP_MAX_HOPS ? r.n : GW_REALIP_MAX_HOPS;
    for (size_t k = 0; k < have; k++) {
        const struct hop *h = &r.h[(r.n - 1 - k) % GW_REALIP_MAX_HOPS];
        if (!h->ok) {
            return; /* stop at a bad entry: the last trusted address stands */
        }
        *out = h->a;
        if (!trusted_addr(trusted, &h->a)) {
            return;
        }
    }
    /* every address trusted: the leftmost stands; past GW_REALIP_MAX_HOPS, the last one examined */
}
