/* Key decoding: decoded exactly once, and every rejection rule of docs/design.md. */
#include <string.h>

#include <criterion/criterion.h>

#include "gw_handler.h"
#include "gw_key.h"

static const char *decode(const char *in, char *out, size_t cap, size_t *len)
{
    return gw_key_decode(out, cap, len, in, strlen(in));
}

static void ok(const char *in, const char *want)
{
    char out[1024];
    size_t len;
    const char *why = decode(in, out, sizeof(out), &len);
    cr_assert_null(why, "%s rejected: %s", in, why);
    cr_assert_eq(len, strlen(want));
    cr_assert_eq(memcmp(out, want, len), 0, "%s decoded wrongly", in);
}

static void bad(const char *in, const char *reason)
{
    char out[1024];
    size_t len = 7;
    const char *why = decode(in, out, sizeof(out), &len);
    cr_assert_not_null(why, "%s accepted", in);
    cr_assert_str_eq(why, reason, "%s", in);
    cr_assert_eq(len, 0);
}

Test(gw_key, decodes_once)
{
    ok("a%20b", "a b");
    ok("a+b", "a+b");
    ok("100%25", "100%");
    ok("%2541", "%41"); /* not decoded twice */
    ok("dir/sub/file.txt", "dir/sub/file.txt");
    ok("dir%2Ffile", "dir/file");
    ok("r%C3%A9sum%C3%A9.pdf", "r\xc3\xa9sum\xc3\xa9.pdf");
    ok("%e6%97%a5%e6%9c%ac", "\xe6\x97\xa5\xe6\x9c\xac");
    ok("%F0%9F%98%80", "\xf0\x9f\x98\x80");
    ok("...", "...");
    ok(".hidden/..x", ".hidden/..x");
}

Test(gw_key, rejections)
{
    bad("", "empty key");
    bad("a%2", "bad percent-escape in key");
    bad("a%zz", "bad percent-escape in key");
    bad("a%", "bad percent-escape in key");
    bad("a%00b", "NUL byte in key");
    bad("a%0d%0aSet-Cookie:x", "control character in key");
    bad("a%7f", "control character in key");
    bad("a\\b", "backslash in key");
    bad("a%5cb", "backslash in key");
    bad("a/../b", "dot segment in key");
    bad("a/%2e%2e/b", "dot segment in key");
    bad("./a", "dot segment in key");
    bad("a/.", "dot segment in key");
    bad("..", "dot segment in key");
    bad("a//b", "empty path segment in key");
    bad("/a", "empty path segment in key");
    bad("a/", "empty path segment in key");
    bad("%C3", "invalid UTF-8 in key");
    bad("%C0%AF", "invalid UTF-8 in key");       /* overlong '/' */
    bad("%ED%A0%80", "invalid UTF-8 in key");    /* a surrogate */
    bad("%F4%90%80%80", "invalid UTF-8 in key"); /* above U+10FFFF */
    bad("%E0%80%AF", "invalid UTF-8 in key");    /* overlong */
    bad("%FF", "invalid UTF-8 in key");
}

Test(gw_key, length_bound)
{
    char in[2048];
    char out[1023];
    size_t len;
    memset(in, 'k', 1024);
    in[1024] = '\0';
    cr_assert_str_eq(gw_key_decode(out, sizeof(out), &len, in, 1024), "key too long");
    cr_assert_null(gw_key_decode(out, sizeof(out), &len, in, 1023));
    cr_assert_eq(len, 1023);
    /* 341 escaped bytes decode to 341: the bound is on the decoded key */
    for (int i = 0; i < 341; i++) {
        memcpy(in + 3 * i, "%41", 3);
    }
    cr_assert_null(gw_key_decode(out, 341, &len, in, 3 * 341));
    cr_assert_str_eq(gw_key_decode(out, 340, &len, in, 3 * 341), "key too long");
}

Test(gw_key, disposition)
{
    char out[512];
    const char *k = "reports/r\xc3\xa9sum\xc3\xa9 \"v2\".pdf";
    size_t n = gw_key_disposition(out, sizeof(out), "attachment", k, strlen(k));
    cr_assert_str_eq(out, "attachment; filename=\"r_sum_ _v2_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.pdf");
    cr_assert_eq(n, strlen(out));
    n = gw_key_disposition(out, sizeof(out), "inline", "plain.txt", 9);
    cr_assert_str_eq(out, "inline; filename=\"plain.txt\"; filename*=UTF-8''plain.txt");
    cr_assert_eq(gw_key_disposition(out, 20, "attachment", "plain.txt", 9), 0);
}

Test(gw_key, disposition_of_the_longest_name_fits)
{
    /* The worst case for the length: 1023 bytes that all need escaping and all stay in the ASCII fallback. */
    static char key[1023];
    static char out[GW_DISPOSITION_MAX];
    memset(key, '!', sizeof(key));
    size_t n = gw_key_disposition(out, sizeof(out), "attachment", key, sizeof(key));
    cr_assert_gt(n, 4000);
    cr_assert_leq(n, SGN_MAX_VALUE, "the signer takes it as a parameter value");
    cr_assert_eq(gw_key_disposition(out, n, "attachment", key, sizeof(key)), 0, "one byte short (the NUL) fails");
}
