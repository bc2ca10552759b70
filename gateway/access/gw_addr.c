/* gw_addr.c: the 128-bit address space of the access checks. */
#include "gw_addr.h"

#include <arpa/inet.h>
#include <string.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void gw_addr_from_v4(struct gw_addr *out, const uint8_t v4[4])
{
    memcpy(out->b, v4_mapped_prefix, sizeof v4_mapped_prefix);
    memcpy(out->b + 12, v4, 4);
}

void gw_addr_from_v6(struct gw_addr *out, const uint8_t v6[16])
{
    memcpy(out->b, v6, 16);
}

bool gw_addr_is_v4(const struct gw_addr *a)
{
    return memcmp(a->b, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0;
}

bool gw_addr_parse(struct gw_addr *out, const char *s, size_t len)
{
    char buf[GW_ADDR_TEXT_MAX];
    uint8_t raw[16];

    if (len == 0 || len >= sizeof buf || memchr(s, '\0', len) != NULL) {
        return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    /* glibc's inet_pton(AF_INET) takes only four decimal octets and refuses leading zeros, unlike inet_aton, which
     * would read "010.1" as octal and short forms: exactly the strictness a config and a header need. */
    if (memchr(buf, ':', len) == NULL) {
        if (inet_pton(AF_INET, buf, raw) != 1) {
            return false;
        }
        gw_addr_from_v4(out, raw);
        return true;
    }
    if (inet_pton(AF_INET6, buf, raw) != 1) {
        return false;
    }
    gw_addr_from_v6(out, raw);
    return true;
}

void gw_addr_format(char out[GW_ADDR_TEXT_MAX], const struct gw_addr *a)
{
    const char *r;

    if (gw_addr_is_v4(a)) {
        r = inet_ntop(AF_INET, a->b + 12, out, GW_ADDR_TEXT_MAX);
    } else {
        r = inet_ntop(AF_INET6, a->b, out, GW_ADDR_TEXT_MAX);
    }
    if (r == NULL) { /* cannot happen with a 46-byte buffer; keep the output a string anyway */
        out[0] = '\0';
    }
}

bool gw_addr_equal(const struct gw_addr *a, const struct gw_addr *b)
{
    return memcmp(a->b, b->b, sizeof a->b) == 0;
}
