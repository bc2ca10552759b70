/* test_gw_proxyproto.c: PROXY protocol v1 and v2 headers built byte by byte from haproxy's doc/proxy-protocol.txt. */
#include <criterion/criterion.h>
#include <string.h>

#include "gw_proxyproto.h"

static enum gw_pp_status parse(struct gw_pp_result *r, const char **why, const void *p, size_t n)
{
    *why = NULL;
    return gw_pp_parse(r, why, p, n);
}

static void addr_is(const struct gw_addr *a, const char *want)
{
    char text[GW_ADDR_TEXT_MAX];
    gw_addr_format(text, a);
    cr_assert_str_eq(text, want);
}

/* every proper prefix of a valid header asks for more */
static void prefixes_need_more(const void *p, size_t header_len)
{
    struct gw_pp_result r;
    const char *why;
    for (size_t n = 0; n < header_len; n++) {
        cr_assert_eq(parse(&r, &why, p, n), GW_PP_NEED_MORE, "prefix of %zu bytes: %s", n, why ? why : "");
    }
}

static void v1_fails(const char *line, const char *reason)
{
    struct gw_pp_result r;
    const char *why;
    cr_assert_eq(parse(&r, &why, line, strlen(line)), GW_PP_ERROR, "%s", line);
    cr_assert_str_eq(why, reason, "%s", line);
}

Test(gw_proxyproto, v1_tcp4_and_tcp6)
{
    const char *h = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET / HTTP/1.1\r\n";
    size_t hl = strlen("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n");
    struct gw_pp_result r;
    const char *why;
    cr_assert_eq(parse(&r, &why, h, strlen(h)), GW_PP_DONE);
    cr_assert_eq(r.header_len, hl);
    cr_assert_eq(r.version, 1);
    cr_assert(r.has_addr);
    addr_is(&r.src, "192.0.2.1");
    addr_is(&r.dst, "198.51.100.2");
    cr_assert_eq(r.src_port, 56324);
    cr_assert_eq(r.dst_port, 443);
    prefixes_need_more(h, hl);

    h = "PROXY TCP6 2001:db8::1 2001:db8::2 0 65535\r\n";
    cr_assert_eq(parse(&r, &why, h, strlen(h)), GW_PP_DONE);
    addr_is(&r.src, "2001:db8::1");
    cr_assert_eq(r.src_port, 0);
    cr_assert_eq(r.dst_port, 65535);
}

Test(gw_proxyproto, v1_unknown_uses_the_connection_addresses)
{
    struct gw_pp_result r;
    const char *why;
    const char *h = "PROXY UNKNOWN\r\n";
    cr_assert_eq(parse(&r, &why, h, strlen(h)), GW_PP_DONE);
    cr_assert_not(r.has_addr);
    cr_assert_eq(r.header_len, 15);
    /* the longest line the spec allows: 107 bytes */
    const char *longest =
        "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
    cr_assert_eq(strlen(longest), GW_PP_V1_MAX);
    cr_assert_eq(parse(&r, &why, longest, strlen(longest)), GW_PP_DONE);
    cr_assert_eq(r.header_len, 107);
    prefixes_need_more(longest, 107);
}

Test(gw_proxyproto, v1_malformed)
{
    v1_fails("GET / HTTP/1.1\r\n", "no PROXY protocol header");
    v1_fails("PROXZ", "no PROXY protocol header (bad v1 signature)");
    v1_fails("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\n", "PROXY v1 line ends in LF without CR");
    v1_fails("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\rX", "PROXY v1 line holds a bare CR");
    v1_fails("PROXY TCP4 192.0.2.1  198.51.100.2 56324 443\r\n", "PROXY v1 fields must be separated by single spaces");
    v1_fails("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443 \r\n", "PROXY v1 line has extra fields");
    v1_fails("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443 1\r\n", "PROXY v1 line has extra fields");
    v1_fails("PROXY TCP4 192.0.2.1 198.51.100.2 56324\r\n", "PROXY v1 line lacks an address or port");
    v1_fails("PROXY TCP4 192.0.2.1 198.51.100.2 056324 443\r\n", "PROXY v1 port is not a decimal 0..65535 without leading zeros");
    v1_fails("PROXY TCP4 192.0.2.1 198.51.100.2 01 443\r\n", "PROXY v1 port is not a decimal 0..65535 without leading zeros");
    v1_fails("PROXY TCP4 192.0.2.1 198.51.100.2 1 00\r\n", "PROXY v1 port is not a decimal 0..65535 without leading zeros");
    v1_fails("PROXY TCP4 192.0.2.1 198.51.100.2 65536 443\r\n", "PROXY v1 port is not a decimal 0..65535 without leading zeros");
    v1_fails("PROXY TCP4 192.0.2.1 198.51.100.2 -1 443\r\n", "PROXY v1 port is not a decimal 0..65535 without leading zeros");
    v1_fails("PROXY TCP4 2001:db8::1 198.51.100.2 1 443\r\n", "PROXY v1 TCP4 address is not an IPv4 address");
    v1_fails("PROXY TCP4 192.0.2.01 198.51.100.2 1 443\r\n", "PROXY v1 TCP4 address is not an IPv4 address");
    v1_fails("PROXY TCP6 192.0.2.1 2001:db8::2 1 443\r\n", "PROXY v1 TCP6 address is not an IPv6 address");
    v1_fails("PROXY TCP5 192.0.2.1 198.51.100.2 1 443\r\n", "PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN");
    v1_fails("PROXY tcp4 192.0.2.1 198.51.100.2 1 443\r\n", "PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN");
    v1_fails("PROXY UNKNOWNX\r\n", "PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN");
    v1_fails("PROXY \r\n", "PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN");
    /* no CRLF within 107 bytes */
    char big[200];
    memset(big, 'A', sizeof big);
    memcpy(big, "PROXY UNKNOWN ", 14);
    struct gw_pp_result r;
    const char *why;
    cr_assert_eq(parse(&r, &why, big, 106), GW_PP_NEED_MORE);
    cr_assert_eq(parse(&r, &why, big, 107), GW_PP_ERROR);
    cr_assert_str_eq(why, "PROXY v1 line longer than 107 bytes");
    big[106] = '\r';
    big[107] = '\n';
    cr_assert_eq(parse(&r, &why, big, 200), GW_PP_ERROR); /* CRLF at 107..108: one byte too far */
}

static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* v2 builds a v2 header: signature, ver_cmd, fam, then `body` of `body_len` bytes with its length. */
static size_t v2(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const uint8_t *body, size_t body_len)
{
    memcpy(out, sig, 12);
    out[12] = ver_cmd;
    out[13] = fam;
    out[14] = (uint8_t)(body_len >> 8);
    out[15] = (uint8_t)body_len;
    memcpy(out + 16, body, body_len);
    return 16 + body_len;
}

Test(gw_proxyproto, v2_proxy_inet_with_tlvs)
{
    const uint8_t body[] = {192,  0,    2,    1,   198, 51, 100, 2, 0xDC, 0x04, 0x01, 0xBB, /* 56324 -> 443 */
                            0x01, 0x00, 0x02, 'h', '2',                                     /* PP2_TYPE_ALPN */
                            0x04, 0x00, 0x00,                                               /* PP2_TYPE_NOOP, empty */
                            0xE1, 0x00, 0x03, 'v', 'p', 'c'};                               /* a vendor TLV */
    uint8_t h[256];
    size_t n = v2(h, 0x21, 0x11, body, sizeof body);
    h[n] = 'G'; /* the request follows */
    struct gw_pp_result r;
    const char *why;
    cr_assert_eq(parse(&r, &why, h, n + 1), GW_PP_DONE, "%s", why ? why : "");
    cr_assert_eq(r.header_len, n);
    cr_assert_eq(r.version, 2);
    cr_assert_not(r.local);
    cr_assert(r.has_addr);
    addr_is(&r.src, "192.0.2.1");
    addr_is(&r.dst, "198.51.100.2");
    cr_assert_eq(r.src_port, 56324);
    cr_assert_eq(r.dst_port, 443);
    cr_assert_eq(r.n_tlv, 3);
    prefixes_need_more(h, n);
}

Test(gw_proxyproto, v2_inet6_local_unspec_unix_udp)
{
    uint8_t body[216] = {0};
    uint8_t h[300];
    struct gw_pp_result r;
    const char *why;
    body[0] = 0x20;
    body[1] = 0x01;
    body[2] = 0x0d;
    body[3] = 0xb8;
    body[15] = 1;
    body[16] = 0x20;
    body[17] = 0x01;
    body[18] = 0x0d;
    body[19] = 0xb8;
    body[31] = 2;
    body[32] = 0x12;
    body[33] = 0x34;
    body[35] = 80;
    size_t n = v2(h, 0x21, 0x21, body, 36);
    cr_assert_eq(parse(&r, &why, h, n), GW_PP_DONE);
    addr_is(&r.src, "2001:db8::1");
    addr_is(&r.dst, "2001:db8::2");
    cr_assert_eq(r.src_port, 0x1234);
    cr_assert_eq(r.dst_port, 80);
    /* LOCAL (a health check): addresses present but ignored */
    n = v2(h, 0x20, 0x11, body, 12);
    cr_assert_eq(parse(&r, &why, h, n), GW_PP_DONE);
    cr_assert(r.local);
    cr_assert_not(r.has_addr);
    /* LOCAL with no address at all */
    n = v2(h, 0x20, 0x00, body, 0);
    cr_assert_eq(parse(&r, &why, h, n), GW_PP_DONE);
    cr_assert_eq(r.header_len, 16);
    cr_assert(r.local);
    /* PROXY UNSPEC: the receiver uses the connection's addresses */
    n = v2(h, 0x21, 0x00, body, 0);
    cr_assert_eq(parse(&r, &why, h, n), GW_PP_DONE);
    cr_assert_not(r.local);
    cr_assert_not(r.has_addr);
    /* UNIX stream: 216 bytes of paths, no IP address */
    n = v2(h, 0x21, 0x31, body, 216);
    cr_assert_eq(parse(&r, &why, h, n), GW_PP_DONE);
    cr_assert_not(r.has_addr);
    /* UDP over IPv4: reported */
    n = v2(h, 0x21, 0x12, body, 12);
    cr_assert_eq(parse(&r, &why, h, n), GW_PP_DONE);
    cr_assert(r.udp);
}

static void v2_fails(uint8_t ver_cmd, uint8_t fam, const uint8_t *body, size_t body_len, const char *reason)
{
    uint8_t h[2000];
    struct gw_pp_result r;
    const char *why;
    size_t n = v2(h, ver_cmd, fam, body, body_len);
    cr_assert_eq(parse(&r, &why, h, n), GW_PP_ERROR, "%02x %02x", ver_cmd, fam);
    cr_assert_str_eq(why, reason);
}

Test(gw_proxyproto, v2_malformed)
{
    uint8_t body[1100] = {0};
    v2_fails(0x11, 0x11, body, 12, "PROXY v2 version is not 2");
    v2_fails(0x31, 0x11, body, 12, "PROXY v2 version is not 2");
    v2_fails(0x22, 0x11, body, 12, "PROXY v2 command is neither LOCAL nor PROXY");
    v2_fails(0x21, 0x41, body, 12, "PROXY v2 address family or transport is not one the spec defines");
    v2_fails(0x21, 0x13, body, 12, "PROXY v2 address family or transport is not one the spec defines");
    v2_fails(0x21, 0x10, body, 12, "PROXY v2 address family or transport is not one the spec defines");
    v2_fails(0x21, 0x01, body, 12, "PROXY v2 address family or transport is not one the spec defines");
    v2_fails(0x21, 0x11, body, 11, "PROXY v2 length too short for its address family");
    v2_fails(0x21, 0x21, body, 35, "PROXY v2 length too short for its address family");
    v2_fails(0x21, 0x31, body, 215, "PROXY v2 length too short for its address family");
    v2_fails(0x21, 0x11, body, 1025, "PROXY v2 header longer than 1040 bytes");
    body[12] = 0x01; /* a TLV at offset 12 whose length runs past the block */
    body[13] = 0x00;
    body[14] = 0x05;
    v2_fails(0x21, 0x11, body, 12 + 3 + 4, "PROXY v2 TLV overruns the header");
    v2_fails(0x21, 0x11, body, 12 + 2, "PROXY v2 TLV header truncated");
    v2_fails(0x20, 0x11, body, 12 + 2, "PROXY v2 TLV header truncated"); /* LOCAL's TLVs are walked too */
    /* a bad signature is refused as soon as the first wrong byte arrives */
    uint8_t h[16];
    memcpy(h, sig, 12);
    h[4] = 0x01;
    struct gw_pp_result r;
    const char *why;
    cr_assert_eq(parse(&r, &why, h, 5), GW_PP_ERROR);
    cr_assert_str_eq(why, "no PROXY protocol header (bad v2 signature)");
    /* the largest accepted header */
    uint8_t hh[GW_PP_MAX];
    memset(body, 0, sizeof body);
    body[12] = 0x04; /* NOOP TLV filling the rest */
    body[13] = (uint8_t)((GW_PP_V2_MAX_PAYLOAD - 15) >> 8);
    body[14] = (uint8_t)(GW_PP_V2_MAX_PAYLOAD - 15);
    size_t n = v2(hh, 0x21, 0x11, body, GW_PP_V2_MAX_PAYLOAD);
    cr_assert_eq(n, GW_PP_MAX);
    cr_assert_eq(parse(&r, &why, hh, n), GW_PP_DONE);
    cr_assert_eq(r.n_tlv, 1);
}
