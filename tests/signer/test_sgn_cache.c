/* The signer's two caches, through the public API: the signing key with its HMAC midstates, and the backend's
 * canonical-request prefix (struct sgn_prefix). Each is shown to be used when it matches (a tampered cache changes
 * the signature), ignored when it does not (the URL is the uncached one), and to give the uncached result when intact.
 * Every vector is also signed both ways by test_sgn_vectors.c. Also the constant-time compare, sgn_ct_equal. */
#include <string.h>

#include <criterion/criterion.h>

#include "sgn.h"

#define V(s) SGN_VIEW_LIT(s)

/* Case pub-001 of tests/vectors/oss-v4-presign.jsonl. */
static struct sgn_params base(void)
{
    struct sgn_params p;
    memset(&p, 0, sizeof(p));
    p.mode = SGN_MODE_OSS_V4;
    p.method = V("GET");
    p.https = true;
    p.endpoint = V("oss-cn-hangzhou.aliyuncs.com");
    p.region = V("cn-hangzhou");
    p.bucket = V("examplebucket");
    p.key = V("hello.txt");
    p.addressing = SGN_ADDR_VIRTUAL;
    p.time = 1715761800; /* 2024-05-15T08:30:00Z */
    p.expires = 3600;
    p.access_key_id = V("AKIDEXAMPLE");
    p.secret = V("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    return p;
}

static const char pub001_signature[] = "0453cf0b276f4be4b77256cf32be784d507254f136d2f9f4adc8c5db31bfbe31";

struct signed_url {
    char url[4096];
    size_t len;
};

static struct signed_url sign(const struct sgn_params *p)
{
    struct signed_url s;
    cr_assert_eq(sgn_presign(s.url, sizeof(s.url), &s.len, p), SGN_OK);
    return s;
}

static bool has_signature(const struct signed_url *s, const char *sig)
{
    return strstr(s->url, sig) != NULL;
}

/* cached_is_plain signs `p` without caches, then with a derived signing key and a prefix state, and requires the same
 * URL; returns it. `prefix_len` is the prefix's expected length. */
static struct signed_url cached_is_plain(struct sgn_params p, size_t prefix_len)
{
    struct sgn_signing_key key;
    struct sgn_prefix prefix;

    p.prefix = NULL;
    p.signing_key = NULL;
    struct signed_url plain = sign(&p);
    cr_assert_eq(sgn_prefix_init(&prefix, &p), SGN_OK);
    cr_assert_eq(prefix.len, prefix_len);
    cr_assert_eq(sgn_signing_key_derive(&key, p.mode, p.secret, p.region, p.time), SGN_OK);
    p.prefix = &prefix;
    p.signing_key = &key;
    struct signed_url cached = sign(&p);
    cr_assert_str_eq(cached.url, plain.url);
    sgn_signing_key_wipe(&key);
    return plain;
}

Test(sgn_cache, midstates_are_used_and_give_the_uncached_signature)
{
    struct sgn_params p = base();
    struct sgn_signing_key key;
    struct signed_url plain = sign(&p);
    cr_assert(has_signature(&plain, pub001_signature), "%s", plain.url);

    cr_assert_eq(sgn_signing_key_derive(&key, p.mode, p.secret, p.region, p.time), SGN_OK);
    p.signing_key = &key;
    struct signed_url cached = sign(&p);
    cr_assert_str_eq(cached.url, plain.url);

    /* The signature comes from the midstates, not from the raw key: spoiling the raw key changes nothing, spoiling a
     * midstate changes the signature. So the cached path above is the midstate path. */
    key.key[0] ^= 1;
    struct signed_url raw_spoiled = sign(&p);
    cr_assert_str_eq(raw_spoiled.url, plain.url);
    key.key[0] ^= 1;
    key.ipad.state[0] ^= 1;
    struct signed_url inner_spoiled = sign(&p);
    cr_assert(!has_signature(&inner_spoiled, pub001_signature), "a spoiled inner midstate must show");
    key.ipad.state[0] ^= 1;
    key.opad.state[0] ^= 1;
    struct signed_url outer_spoiled = sign(&p);
    cr_assert(!has_signature(&outer_spoiled, pub001_signature), "a spoiled outer midstate must show");
    sgn_signing_key_wipe(&key);
}

Test(sgn_cache, s3_midstates_give_the_uncached_signature)
{
    struct sgn_params p = base();
    p.mode = SGN_MODE_S3_V4;
    p.endpoint = V("s3.us-west-2.amazonaws.com");
    p.region = V("us-west-2");
    struct signed_url plain = cached_is_plain(p, strlen("GET\n/"));
    cr_assert(has_signature(&plain, "252c4bfa642e6e5e2859c2154ec0f6c7929cc9da643dc005cfb34bb12c0e8293"), "%s",
              plain.url); /* s3-002 */
}

/* prefix_is_ignored requires `p` to sign the same with `prefix` as without it. */
static void prefix_is_ignored(struct sgn_params p, const struct sgn_prefix *prefix, const char *why)
{
    p.prefix = NULL;
    struct signed_url plain = sign(&p);
    p.prefix = prefix;
    struct signed_url with = sign(&p);
    cr_assert_str_eq(with.url, plain.url, "%s", why);
}

Test(sgn_cache, prefix_is_used_when_it_matches_and_ignored_otherwise)
{
    struct sgn_params p = base();
    struct sgn_prefix prefix;
    struct signed_url plain = sign(&p);

    cr_assert_eq(sgn_prefix_init(&prefix, &p), SGN_OK);
    cr_assert_eq(prefix.len, strlen("GET\n/examplebucket/"));
    cr_assert_eq(memcmp(prefix.text, "GET\n/examplebucket/", prefix.len), 0);
    p.prefix = &prefix;
    struct signed_url with = sign(&p);
    cr_assert_str_eq(with.url, plain.url);

    /* Used: a spoiled hash state shows in the signature. */
    prefix.hash.state[0] ^= 1;
    struct signed_url spoiled = sign(&p);
    cr_assert(!has_signature(&spoiled, pub001_signature), "a matching prefix must be used");
    prefix.hash.state[0] ^= 1;

    /* Ignored: the same (spoiled) prefix for another method, bucket or mode. */
    prefix.hash.state[0] ^= 1;
    struct sgn_params head = p;
    head.method = V("HEAD");
    prefix_is_ignored(head, &prefix, "a GET prefix must not sign a HEAD");
    struct sgn_params other = p;
    other.bucket = V("examplebucket2");
    prefix_is_ignored(other, &prefix, "another bucket's prefix must not be used");
    /* S3 with virtual hosting signs "/key": the OSS prefix "GET\n/examplebucket/" is not its prefix. */
    struct sgn_params s3 = p;
    s3.mode = SGN_MODE_S3_V4;
    prefix_is_ignored(s3, &prefix, "an OSS prefix must not sign an S3 virtual-hosted URL");
}

Test(sgn_cache, prefix_of_a_whole_block_gives_the_uncached_url)
{
    /* "HEAD\n/" and a 63-byte bucket: the prefix is 70 bytes, so the state holds one compressed block. */
    struct sgn_params p = base();
    p.method = V("HEAD");
    p.bucket = V("a23456789-123456789-123456789-123456789-123456789-123456789-123");
    p.addressing = SGN_ADDR_PATH;
    for (int mode = SGN_MODE_OSS_V4; mode <= SGN_MODE_S3_V4; mode++) {
        if (mode == SGN_MODE_OSS_V1) {
            continue;
        }
        p.mode = (enum sgn_mode)mode;
        (void)cached_is_plain(p, 70);
    }
}

Test(sgn_cache, prefix_init_refuses_what_signing_refuses)
{
    struct sgn_params p = base();
    struct sgn_prefix prefix;

    p.mode = SGN_MODE_OSS_V1;
    cr_assert_eq(sgn_prefix_init(&prefix, &p), SGN_ERR_MODE);
    cr_assert_eq(prefix.len, 0, "a refused prefix is cleared");
    p = base();
    p.method = V("get");
    cr_assert_eq(sgn_prefix_init(&prefix, &p), SGN_ERR_METHOD);
    p = base();
    p.bucket = V("Bad_Bucket");
    cr_assert_eq(sgn_prefix_init(&prefix, &p), SGN_ERR_BUCKET);
    cr_assert_eq(prefix.len, 0);

    /* A cleared prefix matches no request. */
    p = base();
    struct signed_url plain = sign(&p);
    p.prefix = &prefix;
    struct signed_url with = sign(&p);
    cr_assert_str_eq(with.url, plain.url);
}

Test(sgn_cache, ct_equal)
{
    static const char a[] = "0453cf0b276f4be4b77256cf32be784d507254f136d2f9f4adc8c5db31bfbe31";
    char b[sizeof(a)];

    memcpy(b, a, sizeof(a));
    cr_assert(sgn_ct_equal(a, b, 64));
    cr_assert(sgn_ct_equal(a, b, 0));
    b[63] = '0';
    cr_assert(!sgn_ct_equal(a, b, 64), "a difference in the last byte");
    cr_assert(sgn_ct_equal(a, b, 63));
    memcpy(b, a, sizeof(a));
    b[0] = '1';
    cr_assert(!sgn_ct_equal(a, b, 64), "a difference in the first byte");
}
