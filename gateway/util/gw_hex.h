/* gw_hex.h: the value of one hex digit, for the percent-decoders (keys, share links, query parameters). */
#ifndef GW_HEX_H
#define GW_HEX_H

/* gw_hexval returns 0..15 for '0'-'9', 'a'-'f' and 'A'-'F', else -1. */
static inline int gw_hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

#endif
