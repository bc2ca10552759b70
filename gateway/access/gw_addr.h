/* gw_addr.h: one client address type for the access checks. IPv4 addresses are held as IPv4-mapped IPv6
 * (::ffff:a.b.c.d, RFC 4291 section 2.5.5.2), so that a v4 client, a v4-mapped v6 client and a v4 CIDR all meet in
 * one 128-bit space. Pure: no sockets, no heap. */
#ifndef GW_ADDR_H
#define GW_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* struct gw_addr is an address in network byte order, always 16 bytes (v4 mapped as above). */
struct gw_addr {
    uint8_t b[16];
};

/* GW_ADDR_TEXT_MAX bounds the textual forms gw_addr_parse accepts and gw_addr_format writes (with the NUL). */
#define GW_ADDR_TEXT_MAX 46

/* gw_addr_from_v4 and gw_addr_from_v6 fill `out` from 4 or 16 network-order bytes. */
void gw_addr_from_v4(struct gw_addr *out, const uint8_t v4[4]);
void gw_addr_from_v6(struct gw_addr *out, const uint8_t v6[16]);

/* gw_addr_is_v4 says whether `a` is IPv4-mapped (and so prints as dotted quad). */
bool gw_addr_is_v4(const struct gw_addr *a);

/* gw_addr_parse reads exactly `len` bytes of `s` as a dotted-quad IPv4 address (no leading zeros) or an RFC 4291
 * IPv6 address (no zone, no brackets). Returns false for anything else, or when `len` >= GW_ADDR_TEXT_MAX. */
bool gw_addr_parse(struct gw_addr *out, const char *s, size_t len);

/* gw_addr_format writes `a` as text (dotted quad for v4-mapped, RFC 5952 otherwise) into `out` (capacity at least
 * GW_ADDR_TEXT_MAX), NUL-terminated. */
void gw_addr_format(char out[GW_ADDR_TEXT_MAX], const struct gw_addr *a);

/* gw_addr_equal compares two addresses. */
bool gw_addr_equal(const struct gw_addr *a, const struct gw_addr *b);

#endif
