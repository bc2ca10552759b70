/* cfg_units.h: value rules that the schema and the gateway share, as pure functions over one scalar. They report a
 * one-line message and the byte offset in the value it is about, so the caller can print `file:line:col: message`
 * with col = the scalar's column + offset. */
#ifndef CFG_UNITS_H
#define CFG_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_TRAFFIC_LIMIT_MIN 245760u    /* bit/s, OSS x-oss-traffic-limit's lower bound (240kbit) */
#define CFG_TRAFFIC_LIMIT_MAX 838860800u /* bit/s, its upper bound (800mbit) */

/* cfg_parse_traffic_limit reads a route's `traffic_limit` (`len` bytes at `s`): decimal digits and a unit, `bit`,
 * `kbit`, `mbit`, `byte`, `kbyte` or `mbyte`, with k = 1024 and m = 1024 * 1024 as in the config's sizes, so `1mbit`
 * is 1048576 bit/s and `100kbyte` is 819200 bit/s. The result must be within CFG_TRAFFIC_LIMIT_MIN..MAX (OSS refuses
 * other values). Returns true and sets `*out_bps`, or false with a message in `msg` (capacity `msg_cap`) and the
 * offset of the offending byte in `*out_off`. A bare number is refused: bits and bytes differ eightfold. */
bool cfg_parse_traffic_limit(const char *s, size_t len, uint64_t *out_bps, char *msg, size_t msg_cap, size_t *out_off);

#endif
