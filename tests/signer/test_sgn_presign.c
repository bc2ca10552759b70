/* The signer's rules one by one: the worked example of docs/oss-v4-presign.md section 5, each validation rule, buffer
 * bounds, the signing-key cache, encoding and time formatting. */
#include <string.h>

#include <criterion/criterion.h>

#include "sgn.h"

#define V(s) SGN_VIEW_LIT(s)

static const struct sgn_pair disposition = {V("response-content-disposition"),
                                            V("attachment; filename=\"r\xc3\xa9sum\xc3\xa9.pdf\"")};

/* The worked example, case pub-043. */
static struct sgn_params example(void)
{
    struct sgn_params p;
    memset(&p, 0, sizeof(p));
    p.mode = SGN_MODE_OSS_V4;
    p.method = V("GET");
    p.https = true;
    p.endpoint = V("oss-cn-hangzhou.aliyuncs.com");
    p.region = V("cn-hangzhou");
    p.bucket = V("examplebucket");
    p.key = V("reports/Q1 2024/r\xc3\xa9sum\xc3\xa9.pdf");
    p.addressing = SGN_ADDR_VIRTUAL;
    p.time = 1709251199; /* 2024-02-29T23:59:59Z */
    p.expires = 3600;
    p.access_key_id = V("AKIDEXAMPLE");
    p.secret = V("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    p.security_token = V("CAISEXAMPLEtoken+with/slash=");
    p.query = &disposition;
    p.n_query = 1;
    return p;
}

static const char example_url[] =
    "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/reports/Q1%202024/r%C3%A9sum%C3%A9.pdf?response-content-disposition="
    "attachment%3B%20filename%3D%22r%C3%A9sum%C3%A9.pdf%22&x-oss-credential=AKIDEXAMPLE%2F20240229%2Fcn-hangzhou%2Foss%"
    "2Faliyun_v4_request&x-oss-date=20240229T235959Z&x-oss-expires=3600&x-oss-security-token=CAISEXAMPLEtoken%2Bwith%"
    "2Fslash%3D&x-oss-signature=b886f47877bc879a9aaf52a9e073758a91a14e7c7ca45a239d7702aa1d0ccef1&x-oss-signature-version="
    "OSS4-HMAC-SHA256";

static enum sgn_status sign(const struct sgn_params *p)
{
    char url[16384];
    size_t len;
    return sgn_presign(url, sizeof(url), &len, p);
}

Test(sgn_presign, worked_example_intermediates)
{
    struct sgn_params p = example();
    static char canonical[4096];
    struct sgn_trace t = {.canonical = canonical, .canonical_cap = sizeof(canonical)};
    char url[4096];
    size_t len;

    cr_assert_eq(sgn_presign_trace(url, sizeof(url), &len, &p, &t), SGN_OK);
    cr_assert_str_eq(t.signing_key_hex, "1529f4a1deecef9cb7b7a6cfc4f40c8194b7ec549a2756a3e7b208bedd617da9");
    cr_assert_str_eq(t.string_to_sign, "OSS4-HMAC-SHA256\n20240229T235959Z\n20240229/cn-hangzhou/oss/aliyun_v4_request\n"
                                       "1206fa0fed8ff9a1752ba290446a3a956b9a85e515d43864dee1b8e35496b1e0");
    cr_assert_str_eq(t.signature, "b886f47877bc879a9aaf52a9e073758a91a14e7c7ca45a239d7702aa1d0ccef1");
    cr_assert_str_eq(url, example_url);
    cr_assert_eq(len, strlen(example_url));
}

Test(sgn_presign, buffer_exactly_fits_and_one_byte_short_fails)
{
    struct sgn_params p = example();
    size_t need = strlen(example_url) + 1;
    char url[4096];
    size_t len = 99;

    cr_assert_eq(sgn_presign(url, need, &len, &p), SGN_OK);
    cr_assert_str_eq(url, example_url);
    cr_assert_eq(sgn_presign(url, need - 1, &len, &p), SGN_ERR_NO_SPACE);
    cr_assert_eq(len, 0);
    cr_assert_str_eq(url, "", "a failed call leaves an empty string, not a truncated URL");
    cr_assert_eq(sgn_presign(url, 1, &len, &p), SGN_ERR_NO_SPACE);
    cr_assert_eq(sgn_presign(NULL, 0, &len, &p), SGN_ERR_NO_SPACE);
}

Test(sgn_presign, expires_bounds)
{
    struct sgn_params p = example();
    p.expires = 0;
    cr_assert_eq(sign(&p), SGN_ERR_EXPIRES);
    p.expires = 604801;
    cr_assert_eq(sign(&p), SGN_ERR_EXPIRES);
    p.expires = 604800;
    cr_assert_eq(sign(&p), SGN_OK);
    p.expires = 1;
    cr_assert_eq(sign(&p), SGN_OK);
    p.mode = SGN_MODE_OSS_V1;
    p.expires = 604801;
    cr_assert_eq(sign(&p), SGN_ERR_EXPIRES);
    p.mode = SGN_MODE_S3_V4;
    cr_assert_eq(sign(&p), SGN_ERR_EXPIRES);
}

Test(sgn_presign, key_bounds)
{
    static char big[SGN_MAX_KEY + 1];
    struct sgn_params p = example();
    memset(big, 'k', sizeof(big));
    p.key = (struct sgn_view){big, 0};
    cr_assert_eq(sign(&p), SGN_ERR_KEY);
    p.key = (struct sgn_view){big, SGN_MAX_KEY + 1};
    cr_assert_eq(sign(&p), SGN_ERR_KEY);
    p.key = (struct sgn_view){big, SGN_MAX_KEY};
    cr_assert_eq(sign(&p), SGN_OK);
}

Test(sgn_presign, bucket_rules)
{
    static const char *const bad[] = {"ab",
                                      "Examplebucket",
                                      "-bucket",
                                      "bucket-",
                                      "bu_cket",
                                      "bucket.dots",
                                      "a123456789012345678901234567890123456789012345678901234567890123",
                                      "buc ket"};
    struct sgn_params p = example();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p.bucket = (struct sgn_view){bad[i], strlen(bad[i])};
        cr_assert_eq(sign(&p), SGN_ERR_BUCKET, "bucket '%s' was accepted", bad[i]);
    }
    p.bucket = V("abc");
    cr_assert_eq(sign(&p), SGN_OK);
    p.bucket = V("my.s3.bucket");
    p.mode = SGN_MODE_S3_V4;
    cr_assert_eq(sign(&p), SGN_OK, "S3 allows dots");
}

Test(sgn_presign, region_endpoint_method_rules)
{
    struct sgn_params p = example();
    p.region = V("");
    cr_assert_eq(sign(&p), SGN_ERR_REGION);
    p.region = V("CN-Hangzhou");
    cr_assert_eq(sign(&p), SGN_ERR_REGION);
    p = example();
    p.endpoint = V("");
    cr_assert_eq(sign(&p), SGN_ERR_ENDPOINT);
    p.endpoint = V("https://oss-cn-hangzhou.aliyuncs.com");
    cr_assert_eq(sign(&p), SGN_ERR_ENDPOINT);
    p.endpoint = V("evil.example/x?");
    cr_assert_eq(sign(&p), SGN_ERR_ENDPOINT);
    p.endpoint = V("user@host");
    cr_assert_eq(sign(&p), SGN_ERR_ENDPOINT);
    p.endpoint = V("[::1]:9000");
    cr_assert_eq(sign(&p), SGN_OK);
    p = example();
    p.method = V("get");
    cr_assert_eq(sign(&p), SGN_ERR_METHOD);
    p.method = V("");
    cr_assert_eq(sign(&p), SGN_ERR_METHOD);
    p.method = V("GETGETGETGETGETGE");
    cr_assert_eq(sign(&p), SGN_ERR_METHOD);
    p = example();
    p.mode = (enum sgn_mode)7;
    cr_assert_eq(sign(&p), SGN_ERR_MODE);
    p = example();
    p.addressing = (enum sgn_addressing)9;
    cr_assert_eq(sign(&p), SGN_ERR_MODE);
}

Test(sgn_presign, credentials_and_time_rules)
{
    static char big[SGN_MAX_TOKEN + 1];
    struct sgn_params p = example();
    p.access_key_id = V("");
    cr_assert_eq(sign(&p), SGN_ERR_CREDENTIALS);
    p = example();
    p.secret = V("");
    cr_assert_eq(sign(&p), SGN_ERR_CREDENTIALS);
    p = example();
    memset(big, 't', sizeof(big));
    p.security_token = (struct sgn_view){big, sizeof(big)};
    cr_assert_eq(sign(&p), SGN_ERR_CREDENTIALS);
    p.security_token = (struct sgn_view){big, SGN_MAX_TOKEN};
    cr_assert_eq(sign(&p), SGN_OK);
    p = example();
    p.time = -1;
    cr_assert_eq(sign(&p), SGN_ERR_TIME);
    p.time = SGN_MAX_TIME;
    cr_assert_eq(sign(&p), SGN_ERR_TIME, "expiry would pass year 9999");
}

Test(sgn_presign, parameter_rules)
{
    struct sgn_pair many[SGN_MAX_PARAMS + 1];
    struct sgn_params p = example();
    for (size_t i = 0; i < SGN_MAX_PARAMS + 1; i++) {
        many[i] = (struct sgn_pair){V("response-cache-control"), V("no-cache")};
    }
    p.query = many;
    p.n_query = SGN_MAX_PARAMS + 1;
    cr_assert_eq(sign(&p), SGN_ERR_PARAMS);
    p.n_query = SGN_MAX_PARAMS;
    cr_assert_eq(sign(&p), SGN_OK);

    static char big[SGN_MAX_VALUE + 1];
    memset(big, 'v', sizeof(big));
    struct sgn_pair long_value = {V("response-content-disposition"), {big, SGN_MAX_VALUE + 1}};
    p.query = &long_value;
    p.n_query = 1;
    cr_assert_eq(sign(&p), SGN_ERR_PARAMS, "a value over SGN_MAX_VALUE");
    long_value.value.len = SGN_MAX_VALUE;
    cr_assert_eq(sign(&p), SGN_OK);

    struct sgn_pair reserved = {V("X-OSS-Signature"), V("forged")};
    p.query = &reserved;
    p.n_query = 1;
    cr_assert_eq(sign(&p), SGN_ERR_PARAMS, "a caller must not smuggle in a signature parameter");
    p.mode = SGN_MODE_S3_V4;
    reserved.name = V("x-amz-credential");
    cr_assert_eq(sign(&p), SGN_ERR_PARAMS);
    p.mode = SGN_MODE_OSS_V1;
    reserved.name = V("Signature");
    cr_assert_eq(sign(&p), SGN_ERR_PARAMS);

    struct sgn_pair crlf = {V("x-oss-meta"), V("a\r\nSet-Cookie: x")};
    p = example();
    p.headers = &crlf;
    p.n_headers = 1;
    cr_assert_eq(sign(&p), SGN_ERR_PARAMS, "no CR or LF can reach a signed header");
    crlf = (struct sgn_pair){V("bad name"), V("v")};
    cr_assert_eq(sign(&p), SGN_ERR_PARAMS);
}

Test(sgn_presign, stale_cached_key_is_not_used)
{
    struct sgn_params p = example();
    struct sgn_signing_key stale;
    char a[4096];
    char b[4096];
    size_t la;
    size_t lb;

    cr_assert_eq(sgn_signing_key_derive(&stale, SGN_MODE_OSS_V4, p.secret, p.region, p.time - 86400), SGN_OK);
    p.signing_key = &stale;
    cr_assert_eq(sgn_presign(a, sizeof(a), &la, &p), SGN_OK);
    cr_assert_str_eq(a, example_url, "yesterday's key must not sign today's URL");
    cr_assert_eq(sgn_signing_key_derive(&stale, SGN_MODE_OSS_V4, p.secret, V("cn-beijing"), p.time), SGN_OK);
    cr_assert_eq(sgn_presign(b, sizeof(b), &lb, &p), SGN_OK);
    cr_assert_str_eq(b, example_url, "another region's key must not be used");
    cr_assert_eq(sgn_signing_key_derive(&stale, SGN_MODE_OSS_V1, p.secret, p.region, p.time), SGN_ERR_MODE);
    sgn_signing_key_wipe(&stale);
}

Test(sgn_presign, signing_is_deterministic_and_method_bound)
{
    struct sgn_params p = example();
    char get[4096];
    char again[4096];
    char head[4096];
    size_t n;
    size_t n_again;
    /* Different garbage in the two buffers: the same inputs must give the same bytes, whatever was there before. */
    memset(get, 0xa5, sizeof(get));
    memset(again, 0x5a, sizeof(again));
    cr_assert_eq(sgn_presign(get, sizeof(get), &n, &p), SGN_OK);
    cr_assert_eq(sgn_presign(again, sizeof(again), &n_again, &p), SGN_OK);
    cr_assert_eq(n_again, n);
    cr_assert_arr_eq(again, get, n + 1, "two runs on the same inputs must give the same URL");
    p.method = V("HEAD");
    cr_assert_eq(sgn_presign(head, sizeof(head), &n, &p), SGN_OK);
    cr_assert(strcmp(get, head) != 0, "a HEAD URL must carry its own signature");
}

Test(sgn_presign, encoding_rule)
{
    char out[64];
    size_t n;
    cr_assert_eq(sgn_encode(out, sizeof(out), &n, V("a b+c%d*e!'()~._-/"), false), SGN_OK);
    cr_assert_str_eq(out, "a%20b%2Bc%25d%2Ae%21%27%28%29~._-%2F");
    cr_assert_eq(sgn_encode(out, sizeof(out), &n, V("dir/sub dir/\xc3\xa9"), true), SGN_OK);
    cr_assert_str_eq(out, "dir/sub%20dir/%C3%A9");
    cr_assert_eq(n, strlen(out));
    cr_assert_eq(sgn_encode(out, 4, &n, V("abcd"), false), SGN_ERR_NO_SPACE);
    cr_assert_eq(sgn_encode(out, 5, &n, V("abcd"), false), SGN_OK);
    cr_assert_eq(sgn_encode(out, 3, &n, V(" "), false), SGN_ERR_NO_SPACE);
}

Test(sgn_presign, datetime_format_and_parse)
{
    char d[17];
    int64_t t;
    cr_assert_eq(sgn_format_datetime(d, 1709251199), SGN_OK);
    cr_assert_str_eq(d, "20240229T235959Z");
    cr_assert_eq(sgn_format_datetime(d, 0), SGN_OK);
    cr_assert_str_eq(d, "19700101T000000Z");
    cr_assert_eq(sgn_format_datetime(d, SGN_MAX_TIME), SGN_OK);
    cr_assert_str_eq(d, "99991231T235959Z");
    cr_assert_eq(sgn_format_datetime(d, SGN_MAX_TIME + 1), SGN_ERR_TIME);
    cr_assert(sgn_parse_datetime(&t, V("2024-02-29T23:59:59Z")));
    cr_assert_eq(t, 1709251199);
    cr_assert(sgn_parse_datetime(&t, V("2000-02-29T00:00:00Z")));
    cr_assert(!sgn_parse_datetime(&t, V("2023-02-29T00:00:00Z")));
    cr_assert(!sgn_parse_datetime(&t, V("1900-02-29T00:00:00Z")));
    cr_assert(!sgn_parse_datetime(&t, V("2024-04-31T00:00:00Z")));
    cr_assert(!sgn_parse_datetime(&t, V("2024-01-01T24:00:00Z")));
    cr_assert(!sgn_parse_datetime(&t, V("2024-01-01 00:00:00Z")));
    cr_assert(!sgn_parse_datetime(&t, V("2024-01-01T00:00:00+00:00")));
    for (int64_t s = 0; s < 4102444800; s += 86399 * 7) { /* round trip through 2100 */
        char text[21];
        cr_assert_eq(sgn_format_datetime(d, s), SGN_OK);
        memcpy(text, d, 4);
        text[4] = '-';
        memcpy(text + 5, d + 4, 2);
        text[7] = '-';
        memcpy(text + 8, d + 6, 2);
        text[10] = 'T';
        memcpy(text + 11, d + 9, 2);
        text[13] = ':';
        memcpy(text + 14, d + 11, 2);
        text[16] = ':';
        memcpy(text + 17, d + 13, 2);
        text[19] = 'Z';
        cr_assert(sgn_parse_datetime(&t, (struct sgn_view){text, 20}));
        cr_assert_eq(t, s);
    }
}

Test(sgn_presign, strerror_covers_every_status)
{
    for (int s = SGN_OK; s <= SGN_ERR_PARAMS; s++) {
        cr_assert(strcmp(sgn_strerror((enum sgn_status)s), "unknown error") != 0);
    }
    cr_assert_str_eq(sgn_strerror((enum sgn_status)99), "unknown error");
}
