/* sgn_crypto.h: the signer's one seam to libcrypto (BoringSSL, or OpenSSL's libcrypto with GW_CRYPTO=openssl).
 * Only sgn_crypto.c includes the library's headers; these types are opaque, sized storage for its contexts so that
 * hashing and HMAC need no heap (libcrypto's EVP and HMAC_CTX paths allocate). */
#ifndef SGN_CRYPTO_H
#define SGN_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "sgn.h" /* struct sgn_hash: storage for one context */

#define SGN_SHA256_LEN 32
#define SGN_SHA1_LEN 20

void sgn_sha256_init(struct sgn_hash *h);
void sgn_sha256_update(struct sgn_hash *h, const void *data, size_t len);
void sgn_sha256_final(struct sgn_hash *h, uint8_t out[SGN_SHA256_LEN]);

/* struct sgn_hmac is an HMAC in progress (RFC 2104) over SHA-256 or SHA-1: the inner and outer hash contexts. */
struct sgn_hmac {
    struct sgn_hash inner;
    struct sgn_hash outer;
    int sha1;
};

/* sgn_hmac_sha256_init and sgn_hmac_sha1_init start an HMAC with `key` (any length; hashed first when longer than the
 * block). The caller wipes `h` with sgn_cleanse when the key is secret. */
void sgn_hmac_sha256_init(struct sgn_hmac *h, const void *key, size_t key_len);
void sgn_hmac_sha1_init(struct sgn_hmac *h, const void *key, size_t key_len);
void sgn_hmac_update(struct sgn_hmac *h, const void *data, size_t len);
/* sgn_hmac_final writes the MAC (32 bytes for SHA-256, 20 for SHA-1) into `out` and wipes `h`. */
void sgn_hmac_final(struct sgn_hmac *h, uint8_t *out);

/* sgn_hmac_sha256 is the one-shot HMAC-SHA256 of `msg` under `key`. */
void sgn_hmac_sha256(uint8_t out[SGN_SHA256_LEN], const void *key, size_t key_len, const void *msg, size_t msg_len);

/* sgn_hmac_sha256_pads writes the HMAC-SHA256 midstates of `key`: the SHA-256 states after its inner and outer pad
 * blocks. sgn_hmac_sha256_resume then computes the HMAC of `msg` from them, as sgn_hmac_sha256 would with `key`, but
 * without hashing the two pad blocks again. The midstates are key material: wipe them with sgn_cleanse. */
void sgn_hmac_sha256_pads(struct sgn_hash *ipad, struct sgn_hash *opad, const void *key, size_t key_len);
void sgn_hmac_sha256_resume(uint8_t out[SGN_SHA256_LEN], const struct sgn_hash *ipad, const struct sgn_hash *opad, const void *msg,
                            size_t msg_len);

/* sgn_cleanse overwrites `len` bytes at `p` in a way the compiler cannot remove. */
void sgn_cleanse(void *p, size_t len);

#endif
