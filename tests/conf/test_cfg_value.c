/* test_cfg_value.c: the value parsers of cfg_value.c (private header). */
#include <string.h>

#include <criterion/criterion.h>

#include "cfg_internal.h"

static enum cfg_dur_result dur(const char *s, uint64_t *ms)
{
    return cfg_parse_duration_ms(s, strlen(s), ms);
}

Test(cfg_value, duration_units)
{
    uint64_t ms = 0;

    cr_assert_eq(dur("500ms", &ms), CFG_DUR_OK);
    cr_assert_eq(ms, 500);
    cr_assert_eq(dur("90s", &ms), CFG_DUR_OK);
    cr_assert_eq(ms, 90000);
    cr_assert_eq(dur("15m", &ms), CFG_DUR_OK);
    cr_assert_eq(ms, 900000);
    cr_assert_eq(dur("2h", &ms), CFG_DUR_OK);
    cr_assert_eq(ms, 7200000);
    cr_assert_eq(dur("7d", &ms), CFG_DUR_OK);
    cr_assert_eq(ms, 604800000);
    cr_assert_eq(dur("0s", &ms), CFG_DUR_OK);
    cr_assert_eq(ms, 0);
}

Test(cfg_value, duration_rejects)
{
    uint64_t ms = 0;

    cr_assert_eq(dur("90", &ms), CFG_DUR_NO_UNIT);
    cr_assert_eq(dur("0", &ms), CFG_DUR_NO_UNIT);
    cr_assert_eq(dur("", &ms), CFG_DUR_BAD);
    cr_assert_eq(dur("s", &ms), CFG_DUR_BAD);
    cr_assert_eq(dur("-5s", &ms), CFG_DUR_BAD);
    cr_assert_eq(dur("5 s", &ms), CFG_DUR_BAD);
    cr_assert_eq(dur("5S", &ms), CFG_DUR_BAD);
    cr_assert_eq(dur("1.5h", &ms), CFG_DUR_BAD);
    cr_assert_eq(dur("1h30m", &ms), CFG_DUR_BAD);
    cr_assert_eq(dur("05m", &ms), CFG_DUR_BAD);
    cr_assert_eq(dur("5w", &ms), CFG_DUR_BAD);
    cr_assert_eq(dur("99999999999999999999d", &ms), CFG_DUR_BAD);
    cr_assert_eq(dur("999999999999999999d", &ms), CFG_DUR_BAD); /* overflows in milliseconds */
}

Test(cfg_value, sizes)
{
    uint64_t n = 0;

    cr_assert(cfg_parse_size("8192", 4, &n));
    cr_assert_eq(n, 8192);
    cr_assert(cfg_parse_size("8k", 2, &n));
    cr_assert_eq(n, 8192);
    cr_assert(cfg_parse_size("8K", 2, &n));
    cr_assert_eq(n, 8192);
    cr_assert(cfg_parse_size("1m", 2, &n));
    cr_assert_eq(n, 1048576);
    cr_assert(!cfg_parse_size("1g", 2, &n));
    cr_assert(!cfg_parse_size("8kb", 3, &n));
    cr_assert(!cfg_parse_size("k", 1, &n));
    cr_assert(!cfg_parse_size("", 0, &n));
    cr_assert(!cfg_parse_size("18446744073709551615k", 21, &n));
}

Test(cfg_value, uints)
{
    uint64_t n = 0;

    cr_assert(cfg_parse_uint("0", 1, &n));
    cr_assert_eq(n, 0);
    cr_assert(cfg_parse_uint("18446744073709551615", 20, &n));
    cr_assert_eq(n, UINT64_MAX);
    cr_assert(!cfg_parse_uint("18446744073709551616", 20, &n));
    cr_assert(!cfg_parse_uint("007", 3, &n));
    cr_assert(!cfg_parse_uint("+7", 2, &n));
    cr_assert(!cfg_parse_uint("", 0, &n));
    cr_assert(!cfg_parse_uint("0x10", 4, &n));
}

Test(cfg_value, formats)
{
    char b[32];

    cfg_fmt_duration_ms(b, sizeof(b), 604800000);
    cr_assert_str_eq(b, "7d");
    cfg_fmt_duration_ms(b, sizeof(b), 3600000);
    cr_assert_str_eq(b, "1h");
    cfg_fmt_duration_ms(b, sizeof(b), 90000);
    cr_assert_str_eq(b, "90s");
    cfg_fmt_duration_ms(b, sizeof(b), 100);
    cr_assert_str_eq(b, "100ms");
    cfg_fmt_duration_ms(b, sizeof(b), 0);
    cr_assert_str_eq(b, "0s");
    cfg_fmt_size(b, sizeof(b), 1048576);
    cr_assert_str_eq(b, "1m");
    cfg_fmt_size(b, sizeof(b), 8192);
    cr_assert_str_eq(b, "8k");
    cfg_fmt_size(b, sizeof(b), 256);
    cr_assert_str_eq(b, "256");
}

Test(cfg_value, buckets)
{
    cr_assert(cfg_bucket_valid("abc", 3));
    cr_assert(cfg_bucket_valid("my-bucket-01", 12));
    cr_assert(!cfg_bucket_valid("ab", 2));
    cr_assert(!cfg_bucket_valid("-abc", 4));
    cr_assert(!cfg_bucket_valid("abc-", 4));
    cr_assert(!cfg_bucket_valid("aBc", 3));
    cr_assert(!cfg_bucket_valid("a_c", 3));
    cr_assert(!cfg_bucket_valid("a.c", 3));
    char b64[65];
    memset(b64, 'a', 64);
    b64[64] = '\0';
    cr_assert(cfg_bucket_valid(b64, 63));
    cr_assert(!cfg_bucket_valid(b64, 64));
}

Test(cfg_value, paths)
{
    cr_assert(cfg_path_valid("/", 1));
    cr_assert(cfg_path_valid("/files/", 7));
    cr_assert(cfg_path_valid("/healthz", 8));
    cr_assert(cfg_path_valid("/a.b/c~d/", 9));
    cr_assert(!cfg_path_valid("", 0));
    cr_assert(!cfg_path_valid("files/", 6));
    cr_assert(!cfg_path_valid("//", 2));
    cr_assert(!cfg_path_valid("/a//b/", 6));
    cr_assert(!cfg_path_valid("/./", 3));
    cr_assert(!cfg_path_valid("/a/../", 6));
    cr_assert(!cfg_path_valid("/a/..", 5));
    cr_assert(!cfg_path_valid("/a b/", 5));
    cr_assert(!cfg_path_valid("/a?b/", 5));
    cr_assert(!cfg_path_valid("/a%2f/", 6));
}

static bool t3339(const char *s, int64_t *out)
{
    return cfg_parse_rfc3339_utc(s, strlen(s), out);
}

Test(cfg_value, rfc3339)
{
    int64_t t = 0;

    cr_assert(t3339("1970-01-01T00:00:00Z", &t));
    cr_assert_eq(t, 0);
    cr_assert(t3339("2026-01-01T00:00:00Z", &t));
    cr_assert_eq(t, 1767225600);
    cr_assert(t3339("2024-02-29T12:34:56.789Z", &t));
    cr_assert_eq(t, 1709210096);
    cr_assert(!t3339("2023-02-29T00:00:00Z", &t));
    cr_assert(!t3339("2026-01-01T00:00:00+08:00", &t));
    cr_assert(!t3339("2026-01-01 00:00:00Z", &t));
    cr_assert(!t3339("2026-13-01T00:00:00Z", &t));
    cr_assert(!t3339("2026-01-01T24:00:00Z", &t));
    cr_assert(!t3339("2026-01-01T00:00:00.Z", &t));
    cr_assert(!t3339("2026-01-01T00:00:00", &t));
}

Test(cfg_value, control_bytes)
{
    cr_assert(!cfg_has_ctl("abc", 3));
    cr_assert(cfg_has_ctl("a\tc", 3));
    cr_assert(cfg_has_ctl("a\x7f", 2));
    cr_assert(!cfg_has_ctl("\xc3\xa9", 2)); /* UTF-8 is not a control byte */
}

static bool endpoint(const char *s)
{
    return cfg_endpoint_valid(s, strlen(s));
}

Test(cfg_value, endpoint_forms)
{
    cr_assert(endpoint("oss-cn-hangzhou.aliyuncs.com"));
    cr_assert(endpoint("127.0.0.1:9000"));
    cr_assert(endpoint("[::1]"));
    cr_assert(endpoint("[::1]:9000"));
    cr_assert(endpoint("cdn.example.com:65535"));
    cr_assert(!endpoint(""));
    cr_assert(!endpoint("Upper.example.com"));
    cr_assert(!endpoint("a..b"));
    cr_assert(!endpoint(".a"));
    cr_assert(!endpoint("a-"));
    cr_assert(!endpoint("host/path"));
    cr_assert(!endpoint("host:0"));
    cr_assert(!endpoint("host:65536"));
    cr_assert(!endpoint("host:"));
    cr_assert(!endpoint("[::1"));
    cr_assert(!endpoint("[::1]x"));
    cr_assert(!endpoint("[1.2.3.4]:80"));
}

Test(cfg_value, region_media_type_and_referrer_policy)
{
    cr_assert(cfg_region_valid("cn-hangzhou", 11));
    cr_assert(!cfg_region_valid("-cn", 3));
    cr_assert(!cfg_region_valid("cn-", 3));
    cr_assert(!cfg_region_valid("CN", 2));
    cr_assert(!cfg_region_valid("", 0));
    cr_assert(cfg_media_type_valid("text/plain; charset=utf-8", 25));
    cr_assert(!cfg_media_type_valid("text", 4));
    cr_assert(!cfg_media_type_valid("/plain", 6));
    cr_assert(!cfg_media_type_valid("text/", 5));
    cr_assert(!cfg_media_type_valid("text/;a", 7));
    cr_assert(!cfg_media_type_valid("text/pl\x01in", 10));
    cr_assert(cfg_referrer_policy_valid("strict-origin-when-cross-origin"));
    cr_assert(!cfg_referrer_policy_valid("never"));
}
