/* test_cfg_units.c: traffic_limit's rule (conf/cfg_units.h, private). */
#include <string.h>

#include <criterion/criterion.h>

#include "cfg_units.h"

static bool tl(const char *s, uint64_t *bps, char *msg, size_t *off)
{
    return cfg_parse_traffic_limit(s, strlen(s), bps, msg, 200, off);
}

Test(cfg_units, traffic_limit_accepts_every_unit)
{
    static const struct {
        const char *in;
        uint64_t bps;
    } ok[] = {{"1mbit", 1048576},    {"100kbyte", 819200},   {"245760bit", 245760},   {"240kbit", 245760},
              {"30720byte", 245760}, {"800mbit", 838860800}, {"100mbyte", 838860800}, {"838860800bit", 838860800},
              {"10mbyte", 83886080}, {"250kbit", 256000}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t bps = 0;
        char msg[200] = "";
        size_t off = 99;
        cr_assert(tl(ok[i].in, &bps, msg, &off), "%s: %s", ok[i].in, msg);
        cr_assert_eq(bps, ok[i].bps, "%s", ok[i].in);
    }
}

Test(cfg_units, traffic_limit_refusals_say_where_and_why)
{
    static const struct {
        const char *in;
        size_t off;
        const char *needle;
    } bad[] = {
        {"", 0, "expected a number"},
        {"mbit", 0, "expected a number"},
        {"1048576", 7, "a unit is required"},
        {"1 mbit", 1, "unknown unit"},
        {"1Mbit", 1, "unknown unit"},
        {"1gbit", 1, "unknown unit"},
        {"1mbits", 1, "unknown unit"},
        {"-1mbit", 0, "expected a number"},
        {"245759bit", 0, "245759 bit/s is outside"},
        {"239kbit", 0, "244736 bit/s is outside"},
        {"801mbit", 0, "839909376 bit/s is outside"},
        {"838860801bit", 0, "838860801 bit/s is outside"},
        {"0kbit", 0, "0 bit/s is outside"},
        {"99999999999999999999mbit", 0, "number too large"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t bps = 7;
        char msg[200] = "";
        size_t off = 99;
        cr_assert_not(tl(bad[i].in, &bps, msg, &off), "%s accepted", bad[i].in);
        cr_assert_eq(bps, 7, "%s", bad[i].in);
        cr_assert_eq(off, bad[i].off, "%s: offset %zu", bad[i].in, off);
        cr_assert(strstr(msg, bad[i].needle) != NULL, "%s: %s", bad[i].in, msg);
        cr_assert(strncmp(msg, "traffic_limit: ", 15) == 0, "%s", msg);
    }
}

Test(cfg_units, traffic_limit_message_fits_a_small_buffer)
{
    uint64_t bps;
    char msg[8];
    size_t off;
    cr_assert_not(cfg_parse_traffic_limit("1", 1, &bps, msg, sizeof(msg), &off));
    cr_assert_eq(strlen(msg), sizeof(msg) - 1);
}
