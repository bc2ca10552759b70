/* gw_realip.h: the real client address behind trusted proxies, from X-Forwarded-For or Forwarded (RFC 7239).
 *
 * Rule (nginx realip with real_ip_recursive on, and the "rightmost untrusted address wins"):
 *   1. If the peer (the TCP peer, or the PROXY protocol source) is not in `trusted_proxies`, it is the client and
 *      every forwarding header is ignored: a client cannot name itself by sending the header directly.
 *   2. Otherwise walk the header's addresses from right (added by the nearest proxy) to left. Each trusted address is
 *      a proxy of ours: keep walking. The first untrusted address is the client.
 *   3. If the walk meets an entry that is not an address (garbage, "unknown", an obfuscated RFC 7239 identifier, an
 *      empty list element) or the list is longer than GW_REALIP_MAX_HOPS, it stops and the client is the last
 *      trusted address seen (the proxy that appended the bad entry): what lies left of a bad entry was written by
 *      someone we cannot vouch for.
 *   4. If every address is trusted, the client is the leftmost one (nginx does the same).
 * Several header lines of the same name are one list, in order (RFC 9110 section 5.3); pass them in order.
 *
 * One header only: the caller says which one its proxies write (haproxy `option forwardfor` and Alibaba SLB write
 * X-Forwarded-For). Reading both would let a client put an address in the header the proxy does not touch.
 *
 * Entry forms accepted in X-Forwarded-For: IPv4, IPv6, "[IPv6]", "IPv4:port", "[IPv6]:port", with optional spaces
 * or tabs around. In Forwarded: the for= parameter of each element (case-insensitive name), as a token (IPv4) or a
 * quoted-string ("[IPv6]", with optional :port; "IPv4:port"); an unquoted IPv6 or port (section 6 requires quotes),
 * an element without for= or with two, "unknown" and obfuscated "_x" identifiers are bad entries. Pure. */
#ifndef GW_REALIP_H
#define GW_REALIP_H

#include <stddef.h>

#include "gw_addr.h"
#include "gw_cidr.h"

#define GW_REALIP_MAX_HOPS 32     /* addresses examined at most */
#define GW_REALIP_HEADER_MAX 8192 /* bytes examined at most per header line */

enum gw_realip_header {
    GW_REALIP_XFF = 0,   /* X-Forwarded-For */
    GW_REALIP_FORWARDED, /* Forwarded, RFC 7239 */
};

/* struct gw_realip_value is one header line's value (borrowed, not NUL-terminated). */
struct gw_realip_value {
    const char *base;
    size_t len;
};

/* gw_realip_resolve writes the client address into `*out` per the rule above. `trusted` is a set whose non-zero tags
 * mean trusted (NULL: nothing is trusted), `values` the `n_values` lines of header `which`, in order. */
void gw_realip_resolve(struct gw_addr *out, const struct gw_addr *peer, const struct gw_cidr_set *trusted,
                       enum gw_realip_header which, const struct gw_realip_value *values, size_t n_values);

#endif
