/* sgn_crypto.c: SHA-256, SHA-1 and HMAC for the signer, on libcrypto's low-level digest functions. HMAC is composed
 * here (RFC 2104) rather than taken from HMAC()/HMAC_CTX because those allocate on every call. */
#include "sgn_crypto.h"

#include <string.h>

#ifndef SGN_BORINGSSL
#define OPENSSL_SUPPRESS_DEPRECATED /* OpenSSL 3 deprecates SHA256_Init; it is still the allocation-free way */
#endif
#include <openssl/crypto.h>
#include <openssl/sha.h>

#define SGN_BLOCK 64 /* SHA-256 and SHA-1 share the 64-byte block */

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((struct sgn_hash *)0)->state), "SHA256_CTX fits struct sgn_hash");
_Static_assert(sizeof(SHA_CTX) <= sizeof(((struct sgn_hash *)0)->state), "SHA_CTX fits struct sgn_hash");
_Static_assert(_Alignof(SHA256_CTX) <= 16 && _Alignof(SHA_CTX) <= 16, "contexts fit the alignment");

static SHA256_CTX *sha256_ctx(struct sgn_hash *h)
{
    return (SHA256_CTX *)(void *)h->state;
}

static SHA_CTX *sha1_ctx(struct sgn_hash *h)
{
    return (SHA_CTX *)(void *)h->state;
}

void sgn_sha256_init(struct sgn_hash *h)
{
    SHA256_Init(sha256_ctx(h));
}

void sgn_sha256_update(struct sgn_hash *h, const void *data, size_t len)
{
    SHA256_Update(sha256_ctx(h), data, len);
}

void sgn_sha256_final(struct sgn_hash *h, uint8_t out[SGN_SHA256_LEN])
{
    SHA256_Final(out, sha256_ctx(h));
}

static void hash_init(struct sgn_hash *h, int sha1)
{
    if (sha1) {
        SHA1_Init(sha1_ctx(h));
    } else {
        SHA256_Init(sha256_ctx(h));
    }
}

static void hash_update(struct sgn_hash *h, int sha1, const void *data, size_t len)
{
    if (sha1) {
        SHA1_Update(sha1_ctx(h), data, len);
    } else {
        SHA256_Update(sha256_ctx(h), data, len);
    }
}

static void hash_final(struct sgn_hash *h, int sha1, uint8_t *out)
{
    if (sha1) {
        SHA1_Final(out, sha1_ctx(h));
    } else {
        SHA256_Final(out, sha256_ctx(h));
    }
}

static void hmac_init(struct sgn_hmac *h, int sha1, const void *key, size_t key_len)
{
    uint8_t block[SGN_BLOCK];
    uint8_t pad[SGN_BLOCK];

    memset(block, 0, sizeof(block));
    if (key_len > SGN_BLOCK) {
        hash_init(&h->inner, sha1);
        hash_update(&h->inner, sha1, key, key_len);
        hash_final(&h->inner, sha1, block);
    } else if (key_len > 0) {
        memcpy(block, key, key_len);
    }
    h->sha1 = sha1;
    for (size_t i = 0; i < SGN_BLOCK; i++) {
        pad[i] = (uint8_t)(block[i] ^ 0x36);
    }
    hash_init(&h->inner, sha1);
    hash_update(&h->inner, sha1, pad, SGN_BLOCK);
    for (size_t i = 0; i < SGN_BLOCK; i++) {
        pad[i] = (uint8_t)(block[i] ^ 0x5c);
    }
    hash_init(&h->outer, sha1);
    hash_update(&h->outer, sha1, pad, SGN_BLOCK);
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(pad, sizeof(pad));
}

void sgn_hmac_sha256_init(struct sgn_hmac *h, const void *key, size_t key_len)
{
    hmac_init(h, 0, key, key_len);
}

void sgn_hmac_sha1_init(struct sgn_hmac *h, const void *key, size_t key_len)
{
    hmac_init(h, 1, key, key_len);
}

void sgn_hmac_update(struct sgn_hmac *h, const void *data, size_t len)
{
    hash_update(&h->inner, h->sha1, data, len);
}

void sgn_hmac_final(struct sgn_hmac *h, uint8_t *out)
{
    uint8_t inner[SGN_SHA256_LEN];
    size_t n = h->sha1 ? SGN_SHA1_LEN : SGN_SHA256_LEN;

    hash_final(&h->inner, h->sha1, inner);
    hash_update(&h->outer, h->sha1, inner, n);
    hash_final(&h->outer, h->sha1, out);
    OPENSSL_cleanse(inner, sizeof(inner));
    OPENSSL_cleanse(h, sizeof(*h));
}

void sgn_hmac_sha256(uint8_t out[SGN_SHA256_LEN], const void *key, size_t key_len, const void *msg, size_t msg_len)
{
    struct sgn_hmac h;

    sgn_hmac_sha256_init(&h, key, key_len);
    sgn_hmac_update(&h, msg, msg_len);
    sgn_hmac_final(&h, out);
}

void sgn_hmac_sha256_pads(struct sgn_hash *ipad, struct sgn_hash *opad, const void *key, size_t key_len)
{
    struct sgn_hmac h;

    hmac_init(&h, 0, key, key_len);
    *ipad = h.inner;
    *opad = h.outer;
    OPENSSL_cleanse(&h, sizeof(h));
}

void sgn_hmac_sha256_resume(uint8_t out[SGN_SHA256_LEN], const struct sgn_hash *ipad, const struct sgn_hash *opad, const void *msg,
                            size_t msg_len)
{
    struct sgn_hmac h;

    h.inner = *ipad; /* a context is plain data in BoringSSL and OpenSSL alike: a copy resumes it */
    h.outer = *opad;
    h.sha1 = 0;
    sgn_hmac_update(&h, msg, msg_len);
    sgn_hmac_final(&h, out);
}

void sgn_cleanse(void *p, size_t len)
{
    OPENSSL_cleanse(p, len);
}

bool sgn_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}
