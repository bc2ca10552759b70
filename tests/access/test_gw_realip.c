/* test_gw_realip.c: the client address behind trusted proxies (X-Forwarded-For and RFC 7239 Forwarded). */
#include <criterion/criterion.h>
#include <string.h>

#include "gw_realip.h"

static struct gw_cidr_set *trusted;

static void setup(void)
{
    const char *list[] = {"10.0.0.0/8", "2001:db8:ffff::/48", "127.0.0.1"};
    struct gw_cidr_entry e[3];
    char err[GW_CIDR_ERR_MAX];
    for (int i = 0; i < 3; i++) {
        cr_assert(gw_cidr_parse(&e[i].cidr, list[i], strlen(list[i]), err, sizeof err), "%s", err);
        e[i].tag = 1;
    }
    trusted = gw_cidr_set_new(e, 3);
    cr_assert(trusted != NULL);
}

static void teardown(void)
{
    gw_cidr_set_free(trusted);
}

/* client resolves with up to two header lines and returns the address as text */
static const char *client(const char *peer, enum gw_realip_header which, const char *h1, const char *h2)
{
    static char text[GW_ADDR_TEXT_MAX];
    struct gw_addr p;
    struct gw_addr out;
    cr_assert(gw_addr_parse(&p, peer, strlen(peer)));
    struct gw_realip_value v[2];
    size_t n = 0;
    if (h1 != NULL) {
        v[n].base = h1;
        v[n++].len = strlen(h1);
    }
    if (h2 != NULL) {
        v[n].base = h2;
        v[n++].len = strlen(h2);
    }
    gw_realip_resolve(&out, &p, trusted, which, v, n);
    gw_addr_format(text, &out);
    return text;
}

#define XFF(peer, h, want) cr_assert_str_eq(client(peer, GW_REALIP_XFF, h, NULL), want, "XFF from %s", peer)
#define FWD(peer, h, want) cr_assert_str_eq(client(peer, GW_REALIP_FORWARDED, h, NULL), want, "Forwarded %s from %s", h, peer)

TestSuite(gw_realip, .init = setup, .fini = teardown);

Test(gw_realip, untrusted_peer_cannot_spoof)
{
    XFF("203.0.113.9", "1.2.3.4", "203.0.113.9");
    XFF("203.0.113.9", "10.0.0.1", "203.0.113.9");
    FWD("203.0.113.9", "for=1.2.3.4", "203.0.113.9");
    cr_assert_str_eq(client("10.0.0.5", GW_REALIP_XFF, NULL, NULL), "10.0.0.5"); /* trusted peer, no header */
}

Test(gw_realip, rightmost_untrusted_wins)
{
    XFF("10.0.0.5", "198.51.100.7", "198.51.100.7");
    /* the client sent its own XFF: its claim is left of its real address, which the proxy appended */
    XFF("10.0.0.5", "1.2.3.4, 198.51.100.7", "198.51.100.7");
    XFF("10.0.0.5", "1.2.3.4, 198.51.100.7, 10.0.0.9, 127.0.0.1", "198.51.100.7");
    /* a spoofed trusted address left of the real one does not matter either */
    XFF("10.0.0.5", "10.1.1.1, 198.51.100.7", "198.51.100.7");
    /* two header lines are one list, in order */
    cr_assert_str_eq(client("10.0.0.5", GW_REALIP_XFF, "1.2.3.4, 198.51.100.7", "10.0.0.9"), "198.51.100.7");
    cr_assert_str_eq(client("10.0.0.5", GW_REALIP_XFF, "198.51.100.7", "203.0.113.1"), "203.0.113.1");
    /* all trusted: the leftmost */
    XFF("10.0.0.5", "10.0.0.7, 10.0.0.8", "10.0.0.7");
    /* IPv6, brackets and ports */
    XFF("2001:db8:ffff::1", "2001:db8::7", "2001:db8::7");
    XFF("10.0.0.5", "[2001:db8::7]:4711", "2001:db8::7");
    XFF("10.0.0.5", "[2001:db8::7]", "2001:db8::7");
    XFF("10.0.0.5", "198.51.100.7:5555", "198.51.100.7");
    XFF("10.0.0.5", "\t198.51.100.7 ", "198.51.100.7");
    XFF("::ffff:10.0.0.5", "198.51.100.7", "198.51.100.7"); /* a v4-mapped peer is trusted like its v4 form */
}

Test(gw_realip, malformed_entries_stop_the_walk)
{
    /* garbage right of everything: the trusted peer stands */
    XFF("10.0.0.5", "198.51.100.7, garbage", "10.0.0.5");
    /* garbage left of a trusted proxy: that proxy stands */
    XFF("10.0.0.5", "198.51.100.7, bogus, 10.0.0.9", "10.0.0.9");
    /* garbage left of the client does not matter */
    XFF("10.0.0.5", "bogus, 198.51.100.7", "198.51.100.7");
    XFF("10.0.0.5", "198.51.100.7, , 10.0.0.9", "10.0.0.9"); /* an empty element */
    XFF("10.0.0.5", "", "10.0.0.5");
    XFF("10.0.0.5", "198.51.100.7:", "10.0.0.5");
    XFF("10.0.0.5", "198.51.100.7:123456", "10.0.0.5");
    XFF("10.0.0.5", "[198.51.100.7]", "10.0.0.5"); /* brackets are for IPv6 */
    XFF("10.0.0.5", "[2001:db8::7", "10.0.0.5");
    XFF("10.0.0.5", "2001:db8::7:80", "2001:db8::7:80"); /* a valid IPv6 address, not v6+port */
    XFF("10.0.0.5", "unknown", "10.0.0.5");
    XFF("10.0.0.5", "198.51.100.007", "10.0.0.5");
}

/* chain writes "198.51.100.7" then `hops` times ", 10.0.0.1" into `out` (1024 bytes) */
static const char *chain(char *out, int hops)
{
    size_t off = 0;
    memcpy(out, "198.51.100.7", 12);
    off = 12;
    for (int i = 0; i < hops; i++) {
        memcpy(out + off, ", 10.0.0.1", 10);
        off += 10;
    }
    out[off] = '\0';
    return out;
}

Test(gw_realip, hop_bound)
{
    /* 40 trusted hops then the client: past GW_REALIP_MAX_HOPS the walk stops at the last trusted address seen */
    char h[1024];
    XFF("10.0.0.5", chain(h, 40), "10.0.0.1");
    /* within the bound the client is found */
    XFF("10.0.0.5", chain(h, GW_REALIP_MAX_HOPS - 1), "198.51.100.7");
    /* an over-long line is one bad entry */
    static char big[GW_REALIP_HEADER_MAX + 10];
    memset(big, ' ', sizeof big - 1);
    memcpy(big, "198.51.100.7", 12);
    XFF("10.0.0.5", big, "10.0.0.5");
}

Test(gw_realip, forwarded_rfc7239)
{
    FWD("10.0.0.5", "for=198.51.100.7", "198.51.100.7");
    FWD("10.0.0.5", "for=192.0.2.43, for=198.51.100.17;by=203.0.113.60;proto=http;host=example.com", "198.51.100.17");
    FWD("10.0.0.5", "For=\"[2001:db8:cafe::17]:4711\"", "2001:db8:cafe::17");
    FWD("10.0.0.5", "for=\"198.51.100.7:80\"", "198.51.100.7");
    FWD("10.0.0.5", "proto=https; for=198.51.100.7", "198.51.100.7");
    /* quoted commas and semicolons in other parameters do not split */
    FWD("10.0.0.5", "for=198.51.100.7;host=\"a,b;c\\\"d\", for=10.0.0.9", "198.51.100.7");
    /* unknown, obfuscated, missing or doubled for=: a bad entry */
    FWD("10.0.0.5", "for=198.51.100.7, for=unknown", "10.0.0.5");
    FWD("10.0.0.5", "for=198.51.100.7, for=_hidden, for=10.0.0.9", "10.0.0.9");
    FWD("10.0.0.5", "for=198.51.100.7, proto=http", "10.0.0.5");
    FWD("10.0.0.5", "for=198.51.100.7;for=1.2.3.4", "10.0.0.5");
    FWD("10.0.0.5", "for=2001:db8::7", "10.0.0.5"); /* RFC 7239 section 6: IPv6 is quoted and bracketed */
    FWD("10.0.0.5", "for=\"[2001:db8::7\"", "10.0.0.5");
    FWD("10.0.0.5", "for=\"198.51.100.7", "10.0.0.5");
    /* a client's Forwarded is ignored when X-Forwarded-For is the configured header, and vice versa */
    cr_assert_str_eq(client("10.0.0.5", GW_REALIP_XFF, "for=1.2.3.4", NULL), "10.0.0.5");
}

Test(gw_realip, nothing_trusted)
{
    struct gw_addr p;
    struct gw_addr out;
    cr_assert(gw_addr_parse(&p, "10.0.0.5", 8));
    struct gw_realip_value v = {"1.2.3.4", 7};
    gw_realip_resolve(&out, &p, NULL, GW_REALIP_XFF, &v, 1);
    cr_assert(gw_addr_equal(&out, &p));
}
