/* gw_ipcount.h: connection counts per client address, shared by all workers (one lock; a hash table of the
 * addresses that have a connection open). */
#ifndef GW_IPCOUNT_H
#define GW_IPCOUNT_H

#include <stdbool.h>
#include <stdint.h>

/* gw_ipcount_add counts one more connection of `addr` and returns true, or returns false (and counts nothing) when the
 * address already has `max` connections or the table cannot grow. */
bool gw_ipcount_add(const uint8_t addr[16], uint32_t max);

/* gw_ipcount_del counts one connection of `addr` less. */
void gw_ipcount_del(const uint8_t addr[16]);

#endif
