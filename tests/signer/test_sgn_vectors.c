/* The signer against every case of the shared vector files (tests/vectors/, rebuilt by tests/vectors/gen/ with the
 * official SDKs): the URL must equal url_strict byte for byte, and on a mismatch the first differing intermediate is
 * named. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sgn_vector.h"
#include "sgn.h"

static char canonical[64 * 1024];

/* first_diff reports where `got` first departs from `want`, or returns false when they are equal. */
static bool first_diff(const char *what, const char *got, size_t got_len, const char *want, char *msg, size_t cap)
{
    size_t want_len = strlen(want);
    size_t i = 0;
    while (i < got_len && i < want_len && got[i] == want[i]) {
        i++;
    }
    if (i == got_len && i == want_len) {
        return false;
    }
    int n = snprintf(msg, cap, "%s differs at byte %zu:\n  got:  %.*s\n  want: %s", what, i, (int)got_len, got, want);
    if (n < 0) {
        msg[0] = '\0';
    }
    return true;
}

static char canonical2[64 * 1024];

/* cached_is_uncached signs a V4 case again with a cached signing key (its HMAC midstates) and the backend's prefix
 * state, and requires every intermediate and the URL to equal the uncached run's (`url`, `trace`). */
static void cached_is_uncached(const char *name, struct sgn_vector *v, const char *url, const struct sgn_trace *trace)
{
    struct sgn_params p = v->params;
    struct sgn_signing_key key;
    struct sgn_prefix prefix;
    struct sgn_trace t2;
    char url2[16384];
    size_t url2_len;

    cr_assert_eq(sgn_signing_key_derive(&key, p.mode, p.secret, p.region, p.time), SGN_OK);
    cr_assert_eq(sgn_prefix_init(&prefix, &p), SGN_OK);
    p.signing_key = &key;
    p.prefix = &prefix;
    memset(&t2, 0, sizeof(t2));
    t2.canonical = canonical2;
    t2.canonical_cap = sizeof(canonical2);
    cr_assert_eq(sgn_presign_trace(url2, sizeof(url2), &url2_len, &p, &t2), SGN_OK);
    cr_assert_eq(t2.canonical_len, trace->canonical_len, "%s: %s: cached canonical request length", name, v->id);
    cr_assert_eq(memcmp(t2.canonical, trace->canonical, trace->canonical_len), 0, "%s: %s: cached canonical request", name, v->id);
    cr_assert_str_eq(t2.string_to_sign, trace->string_to_sign, "%s: %s: cached string to sign", name, v->id);
    cr_assert_str_eq(t2.signing_key_hex, trace->signing_key_hex, "%s: %s: cached signing key", name, v->id);
    cr_assert_str_eq(t2.signature, trace->signature, "%s: %s: cached signature", name, v->id);
    cr_assert_str_eq(url2, url, "%s: %s: cached key and prefix give another URL", name, v->id);
    sgn_signing_key_wipe(&key);
}

static size_t run_file(const char *name)
{
    char path[512];
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    size_t count = 0;
    int n = snprintf(path, sizeof(path), "%s/tests/vectors/%s", GW_SOURCE_DIR, name);
    cr_assert(n > 0 && (size_t)n < sizeof(path));
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);

    while ((len = getline(&line, &cap, f)) > 0) {
        struct sgn_vector v;
        struct sgn_trace trace;
        char err[256];
        char url[16384];
        char msg[8192];
        size_t url_len;

        if (sgn_vector_parse(&v, line, (size_t)len, err, sizeof(err)) != 0) {
            cr_assert_fail("%s: %s: %s", name, v.id != NULL ? v.id : "?", err);
        }
        cr_assert_not_null(v.url_strict, "%s: %s has no url_strict", name, v.id);
        memset(&trace, 0, sizeof(trace));
        trace.canonical = canonical;
        trace.canonical_cap = sizeof(canonical);
        enum sgn_status st = sgn_presign_trace(url, sizeof(url), &url_len, &v.params, &trace);
        cr_assert_eq(st, SGN_OK, "%s: %s: %s", name, v.id, sgn_strerror(st));

        /* Name the first intermediate that differs: that is where the bug is. */
        if (v.canonical_request != NULL &&
            first_diff("canonical_request", trace.canonical, trace.canonical_len, v.canonical_request, msg, sizeof(msg))) {
            cr_assert_fail("%s: %s: %s", name, v.id, msg);
        }
        if (v.string_to_sign != NULL &&
            first_diff("string_to_sign", trace.string_to_sign, trace.string_to_sign_len, v.string_to_sign, msg, sizeof(msg))) {
            cr_assert_fail("%s: %s: %s", name, v.id, msg);
        }
        if (v.signing_key_hex != NULL &&
            first_diff("signing_key_hex", trace.signing_key_hex, 64, v.signing_key_hex, msg, sizeof(msg))) {
            cr_assert_fail("%s: %s: %s", name, v.id, msg);
        }
        if (v.signature != NULL &&
            first_diff("signature", trace.signature, strlen(trace.signature), v.signature, msg, sizeof(msg))) {
            cr_assert_fail("%s: %s: %s", name, v.id, msg);
        }
        if (first_diff("url", url, url_len, v.url_strict, msg, sizeof(msg))) {
            cr_assert_fail("%s: %s: %s", name, v.id, msg);
        }
        cr_assert_eq(strlen(url), url_len);

        /* The same case through the plain entry point, and with a cached signing key, gives the same URL. */
        char url2[16384];
        size_t url2_len;
        cr_assert_eq(sgn_presign(url2, sizeof(url2), &url2_len, &v.params), SGN_OK);
        cr_assert_str_eq(url2, url);
        if (v.params.mode != SGN_MODE_OSS_V1) {
            struct sgn_signing_key key;
            cr_assert_eq(sgn_signing_key_derive(&key, v.params.mode, v.params.secret, v.params.region, v.params.time), SGN_OK);
            v.params.signing_key = &key;
            cr_assert_eq(sgn_presign(url2, sizeof(url2), &url2_len, &v.params), SGN_OK);
            cr_assert_str_eq(url2, url, "%s: %s: cached key gives another URL", name, v.id);
            sgn_signing_key_wipe(&key);
            v.params.signing_key = NULL;
            cached_is_uncached(name, &v, url, &trace);
        }
        sgn_vector_cleanup(&v);
        count++;
    }
    free(line);
    fclose(f);
    return count;
}

Test(sgn_vectors, oss_v4_all_cases_match_url_strict)
{
    cr_assert_eq(run_file("oss-v4-presign.jsonl"), 44);
}

Test(sgn_vectors, oss_v1_all_cases_match_url_strict)
{
    cr_assert_eq(run_file("oss-v1-presign.jsonl"), 12);
}

Test(sgn_vectors, s3_v4_all_cases_match_url_strict)
{
    cr_assert_eq(run_file("s3-v4-presign.jsonl"), 20);
}

Test(sgn_vectors, published_sdk_cases_match)
{
    cr_assert_eq(run_file("presign-published-vectors.jsonl"), 7);
}
