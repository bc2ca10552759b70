/* gw_ascii.h: ASCII case helpers shared by the policy files (HTTP names and tokens are case-insensitive ASCII; no
 * locale may change that, so <ctype.h> is not used). */
#ifndef GW_ASCII_H
#define GW_ASCII_H

#include <stdbool.h>
#include <stddef.h>

/* gw_ascii_lower lower-cases A-Z and leaves every other byte. */
static inline unsigned char gw_ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* gw_ascii_eq_nocase is true when `a` (`a_len` bytes) and `b` (`b_len` bytes) are equal ignoring ASCII case. */
static inline bool gw_ascii_eq_nocase(const char *a, size_t a_len, const char *b, size_t b_len)
{
    if (a_len != b_len) {
        return false;
    }
    for (size_t i = 0; i < a_len; i++) {
        if (gw_ascii_lower((unsigned char)a[i]) != gw_ascii_lower((unsigned char)b[i])) {
            return false;
        }
    }
    return true;
}

#endif
