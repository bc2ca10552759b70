/* gw_proxyproto.c: PROXY protocol v1 and v2 (haproxy doc/proxy-protocol.txt, sections 2.1 and 2.2). */
#include "gw_proxyproto.h"

#include <string.h>

static const uint8_t v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
static const char v1_sig[6] = {'P', 'R', 'O', 'X', 'Y', ' '};

static enum gw_pp_status fail(const char **reason, const char *why)
{
    *reason = why;
    return GW_PP_ERROR;
}

/* parse_port reads a v1 port: decimal 0..65535, no leading zeros (section 2.1). */
static bool parse_port(uint16_t *out, const uint8_t *s, size_t n)
{
    if (n == 0 || n > 5 || (n > 1 && s[0] == '0')) {
        return false;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    if (v > 65535) {
        return false;
    }
    *out = (uint16_t)v;
    return true;
}

/* next_field returns the length of the field at s[*pos] up to the next single space (or end), and moves past it. */
static size_t next_field(const uint8_t *s, size_t n, size_t *pos, const uint8_t **field)
{
    size_t start = *pos;
    size_t i = start;
    while (i < n && s[i] != ' ') {
        i++;
    }
    *field = s + start;
    *pos = i < n ? i + 1 : i;
    return i - start;
}

static enum gw_pp_status parse_v1(struct gw_pp_result *out, const char **reason, const uint8_t *p, size_t len)
{
    size_t max = len < GW_PP_V1_MAX ? len : GW_PP_V1_MAX;
    size_t crlf = 0;
    bool found = false;
    for (size_t i = 0; i < max; i++) {
        if (p[i] == '\n') {
            if (i == 0 || p[i - 1] != '\r') {
                return fail(reason, "PROXY v1 line ends in LF without CR");
            }
            crlf = i - 1;
            found = true;
            break;
        }
        if (p[i] == '\r' && i + 1 < max && p[i + 1] != '\n') {
            return fail(reason, "PROXY v1 line holds a bare CR");
        }
    }
    if (!found) {
        return len >= GW_PP_V1_MAX ? fail(reason, "PROXY v1 line longer than 107 bytes") : GW_PP_NEED_MORE;
    }
    /* the line is p[0..crlf), then CRLF */
    const uint8_t *line = p + sizeof v1_sig;
    size_t n = crlf - sizeof v1_sig;
    size_t pos = 0;
    const uint8_t *f;
    size_t flen = next_field(line, n, &pos, &f);
    memset(out, 0, sizeof *out);
    out->version = 1;
    out->header_len = crlf + 2;
    if (flen == 7 && memcmp(f, "UNKNOWN", 7) == 0) {
        /* section 2.1: after UNKNOWN the receiver ignores the rest of the line */
        if (n > 7 && line[7] != ' ') {
            return fail(reason, "PROXY v1 UNKNOWN not followed by a space or the CRLF");
        }
        return GW_PP_DONE;
    }
    bool v4;
    if (flen == 4 && memcmp(f, "TCP4", 4) == 0) {
        v4 = true;
    } else if (flen == 4 && memcmp(f, "TCP6", 4) == 0) {
        v4 = false;
    } else {
        return fail(reason, "PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN");
    }
    const uint8_t *fs[4];
    size_t fl[4];
    for (int k = 0; k < 4; k++) {
        if (pos >= n) {
            return fail(reason, "PROXY v1 line lacks an address or port");
        }
        fl[k] = next_field(line, n, &pos, &fs[k]);
        if (fl[k] == 0) {
            return fail(reason, "PROXY v1 fields must be separated by single spaces");
        }
    }
    if (pos != n || line[n - 1] == ' ') {
        return fail(reason, "PROXY v1 line has extra fields");
    }
    for (int k = 0; k < 2; k++) {
        struct gw_addr *a = k == 0 ? &out->src : &out->dst;
        bool is_v6 = memchr(fs[k], ':', fl[k]) != NULL;
        if (is_v6 == v4 || !gw_addr_parse(a, (const char *)fs[k], fl[k])) {
            return fail(reason,
                        v4 ? "PROXY v1 TCP4 address is not an IPv4 address" : "PROXY v1 TCP6 address is not an IPv6 address");
        }
    }
    if (!parse_port(&out->src_port, fs[2], fl[2]) || !parse_port(&out->dst_port, fs[3], fl[3])) {
        return fail(reason, "PROXY v1 port is not a decimal 0..65535 without leading zeros");
    }
    out->has_addr = true;
    return GW_PP_DONE;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static enum gw_pp_status parse_v2(struct gw_pp_result *out, const char **reason, const uint8_t *p, size_t len)
{
    if (len >= 13 && (p[12] >> 4) != 2) {
        return fail(reason, "PROXY v2 version is not 2");
    }
    if (len >= 13 && (p[12] & 0x0f) > 1) {
        return fail(reason, "PROXY v2 command is neither LOCAL nor PROXY");
    }
    if (len >= 14) {
        unsigned fam = p[13] >> 4;
        unsigned proto = p[13] & 0x0f;
        if (fam > 3 || proto > 2 || (fam == 0) != (proto == 0)) {
            /* the ten defined bytes: 0x00, and 0x11..0x32 with family 1..3 and transport 1..2 */
            return fail(reason, "PROXY v2 address family or transport is not one the spec defines");
        }
    }
    if (len < 16) {
        return GW_PP_NEED_MORE;
    }
    size_t plen = be16(p + 14);
    if (plen > GW_PP_V2_MAX_PAYLOAD) {
        return fail(reason, "PROXY v2 header longer than 1040 bytes");
    }
    bool local = (p[12] & 0x0f) == 0;
    unsigned fam = p[13] >> 4;
    size_t need = fam == 1 ? 12 : fam == 2 ? 36 : fam == 3 ? 216 : 0;
    if (plen < need) {
        return fail(reason, "PROXY v2 length too short for its address family");
    }
    if (len - 16 < plen) {
        return GW_PP_NEED_MORE; /* section 2.2: parse nothing before the whole block is in */
    }
    const uint8_t *b = p + 16;
    memset(out, 0, sizeof *out);
    out->version = 2;
    out->header_len = 16 + plen;
    out->local = local;
    out->udp = (p[13] & 0x0f) == 2;
    /* TLVs follow the address block whatever the command: walk them so a truncated one is refused */
    size_t i = need;
    while (i < plen) {
        if (plen - i < 3) {
            return fail(reason, "PROXY v2 TLV header truncated");
        }
        size_t vlen = be16(b + i + 1);
        if (vlen > plen - i - 3) {
            return fail(reason, "PROXY v2 TLV overruns the header");
        }
        i += 3 + vlen;
        out->n_tlv++;
    }
    if (local) {
        return GW_PP_DONE; /* section 2.2: a LOCAL connection's addresses are ignored */
    }
    if (fam == 1) {
        gw_addr_from_v4(&out->src, b);
        gw_addr_from_v4(&out->dst, b + 4);
        out->src_port = be16(b + 8);
        out->dst_port = be16(b + 10);
        out->has_addr = true;
    } else if (fam == 2) {
        gw_addr_from_v6(&out->src, b);
        gw_addr_from_v6(&out->dst, b + 16);
        out->src_port = be16(b + 32);
        out->dst_port = be16(b + 34);
        out->has_addr = true;
    }
    return GW_PP_DONE;
}

enum gw_pp_status gw_pp_parse(struct gw_pp_result *out, const char **reason, const uint8_t *p, size_t len)
{
    if (len == 0) {
        return GW_PP_NEED_MORE;
    }
    if (p[0] == 'P') {
        size_t n = len < sizeof v1_sig ? len : sizeof v1_sig;
        if (memcmp(p, v1_sig, n) != 0) {
            return fail(reason, "no PROXY protocol header (bad v1 signature)");
        }
        return len < sizeof v1_sig ? GW_PP_NEED_MORE : parse_v1(out, reason, p, len);
    }
    if (p[0] == 0x0D) {
        size_t n = len < sizeof v2_sig ? len : sizeof v2_sig;
        if (memcmp(p, v2_sig, n) != 0) {
            return fail(reason, "no PROXY protocol header (bad v2 signature)");
        }
        return len < sizeof v2_sig ? GW_PP_NEED_MORE : parse_v2(out, reason, p, len);
    }
    return fail(reason, "no PROXY protocol header");
}
