/* gw_siphash.h: SipHash-2-4 (Aumasson and Bernstein, 2012), the keyed hash of the gateway's bounded tables (rate
 * buckets, the existence-check cache), so that a client cannot choose keys that collide. Pure; no allocation. */
#ifndef GW_SIPHASH_H
#define GW_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* gw_load64le reads 8 bytes as a little-endian integer (how SipHash reads its key and message words). */
uint64_t gw_load64le(const uint8_t *p);

/* gw_siphash24 hashes `len` bytes of `in` under the key (k0, k1), the key's two little-endian halves. */
uint64_t gw_siphash24(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len);

#endif
