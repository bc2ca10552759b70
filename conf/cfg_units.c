/* cfg_units.c: shared value rules (cfg_units.h). */
#include "cfg_units.h"

#include <stdio.h>
#include <string.h>

static bool fail(char *msg, size_t msg_cap, size_t *out_off, size_t off, const char *text)
{
    int n = snprintf(msg, msg_cap, "%s", text);
    if (n < 0 && msg_cap > 0) {
        msg[0] = '\0';
    }
    *out_off = off;
    return false;
}

bool cfg_parse_traffic_limit(const char *s, size_t len, uint64_t *out_bps, char *msg, size_t msg_cap, size_t *out_off)
{
    static const struct {
        const char *unit;
        uint64_t bits;
    } units[] = {{"bit", 1}, {"kbit", 1024}, {"mbit", 1024 * 1024}, {"byte", 8}, {"kbyte", 8 * 1024}, {"mbyte", 8 * 1024 * 1024}};
    size_t nd = 0;
    uint64_t v = 0;
    while (nd < len && s[nd] >= '0' && s[nd] <= '9') {
        if (nd == 10) { /* more digits than any value in range could need */
            return fail(msg, msg_cap, out_off, 0, "traffic_limit: number too large (at most 838860800 bit/s, 800mbit)");
        }
        v = v * 10 + (uint64_t)(s[nd] - '0');
        nd++;
    }
    if (nd == 0) {
        return fail(msg, msg_cap, out_off, 0, "traffic_limit: expected a number and a unit, e.g. 1mbit or 100kbyte");
    }
    if (nd == len) {
        return fail(msg, msg_cap, out_off, nd, "traffic_limit: a unit is required: bit, kbit, mbit, byte, kbyte or mbyte");
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (len - nd == strlen(units[i].unit) && memcmp(s + nd, units[i].unit, len - nd) == 0) {
            uint64_t bps = v * units[i].bits; /* v < 10^10, bits <= 2^23: no overflow */
            if (bps < CFG_TRAFFIC_LIMIT_MIN || bps > CFG_TRAFFIC_LIMIT_MAX) {
                int n = snprintf(msg, msg_cap,
                                 "traffic_limit: %llu bit/s is outside OSS's range 245760..838860800 bit/s "
                                 "(240kbit..800mbit)",
                                 (unsigned long long)bps);
                if (n < 0 && msg_cap > 0) {
                    msg[0] = '\0';
                }
                *out_off = 0;
                return false;
            }
            *out_bps = bps;
            return true;
        }
    }
    return fail(msg, msg_cap, out_off, nd, "traffic_limit: unknown unit (use bit, kbit, mbit, byte, kbyte or mbyte)");
}
