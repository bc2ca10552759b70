/* sgn.h: presigned object-store URLs (OSS V4, OSS V1, S3 SigV4).
 *
 * A pure library: no I/O, no clock, no heap, no global state. The caller passes the signing time and the storage for
 * the URL. See docs/oss-v4-presign.md for the algorithm; section numbers in the sources refer to it. */
#ifndef SGN_H
#define SGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SGN_MUST_USE __attribute__((warn_unused_result))

#define SGN_MAX_KEY 1023          /* object name, bytes (OSS and S3 limit) */
#define SGN_MAX_EXPIRES 604800    /* 7 days */
#define SGN_MAX_PARAMS 16         /* extra signed query parameters */
#define SGN_MAX_HEADERS 16        /* signed headers */
#define SGN_MAX_REGION 64         /* region id, bytes */
#define SGN_MAX_ENDPOINT 255      /* host[:port], bytes */
#define SGN_MAX_NAME 128          /* a query parameter or header name, bytes */
#define SGN_MAX_VALUE 8192        /* a query parameter or header value, bytes */
#define SGN_MAX_ID 256            /* access key id, bytes */
#define SGN_MAX_SECRET 256        /* access key secret, bytes */
#define SGN_MAX_TOKEN 8192        /* security token, bytes */
#define SGN_MAX_METHOD 16         /* method, bytes */
#define SGN_MIN_TIME 0            /* 1970-01-01T00:00:00Z */
#define SGN_MAX_TIME 253402300799 /* 9999-12-31T23:59:59Z */

enum sgn_status {
    SGN_OK = 0,
    SGN_ERR_NO_SPACE,    /* the output buffer is too small */
    SGN_ERR_MODE,        /* unknown mode or addressing */
    SGN_ERR_METHOD,      /* method empty, too long or not upper-case letters */
    SGN_ERR_ENDPOINT,    /* endpoint empty, too long or not host[:port] */
    SGN_ERR_REGION,      /* region empty, too long or not [a-z0-9-] */
    SGN_ERR_BUCKET,      /* bucket not 3..63 of [a-z0-9-] without a leading or trailing '-' */
    SGN_ERR_KEY,         /* key empty or over SGN_MAX_KEY bytes */
    SGN_ERR_EXPIRES,     /* expires outside 1..SGN_MAX_EXPIRES */
    SGN_ERR_TIME,        /* time outside SGN_MIN_TIME..SGN_MAX_TIME */
    SGN_ERR_CREDENTIALS, /* access key id or secret empty or too long, token too long */
    SGN_ERR_PARAMS,      /* too many, or too long, query parameters or headers, or a reserved name */
};

/* sgn_strerror returns a static one-line description of `st`. */
const char *sgn_strerror(enum sgn_status st);

enum sgn_mode {
    SGN_MODE_OSS_V4 = 0, /* OSS4-HMAC-SHA256 */
    SGN_MODE_OSS_V1,     /* HMAC-SHA1, OSSAccessKeyId/Expires/Signature */
    SGN_MODE_S3_V4,      /* AWS4-HMAC-SHA256 */
};

enum sgn_addressing {
    SGN_ADDR_VIRTUAL = 0, /* bucket.endpoint/key */
    SGN_ADDR_PATH,        /* endpoint/bucket/key */
    SGN_ADDR_CNAME,       /* endpoint/key */
};

/* struct sgn_view is `len` bytes at `base`, not NUL-terminated. */
struct sgn_view {
    const char *base;
    size_t len;
};

#define SGN_VIEW_LIT(s) ((struct sgn_view){(s), sizeof(s) - 1})

/* struct sgn_pair is a query parameter or header. A query parameter with `value.base == NULL` is a bare name; an empty
 * value is signed as a bare name too (section 3, step 3). */
struct sgn_pair {
    struct sgn_view name;
    struct sgn_view value;
};

/* struct sgn_hash is opaque storage for one SHA-256 or SHA-1 context of libcrypto (sgn_crypto.c checks at compile
 * time that the library's context fits). It names no library type, so this header stays free of them. */
struct sgn_hash {
    _Alignas(16) unsigned char state[128];
};

/* struct sgn_signing_key is a derived signing key (section 3, step 5) for one (mode, secret, day, region), with the
 * HMAC-SHA256 midstates of that key: the hash states after its inner and outer pad blocks, so that each signature made
 * with it hashes two blocks fewer. Derive it once with sgn_signing_key_derive and pass it in sgn_params.signing_key:
 * the signer uses it when mode, day and region match the request and derives its own otherwise, so a stale cache is
 * slower, never wrong. It holds key material: wipe it with sgn_signing_key_wipe when done. */
struct sgn_signing_key {
    enum sgn_mode mode;
    char day[8]; /* YYYYMMDD */
    uint8_t region_len;
    char region[SGN_MAX_REGION];
    uint8_t key[32];
    struct sgn_hash ipad; /* SHA-256 state after (key ^ 0x36...) */
    struct sgn_hash opad; /* SHA-256 state after (key ^ 0x5c...) */
};

/* struct sgn_prefix is the SHA-256 state after the start of a V4 canonical request that depends only on the backend
 * and the method: "METHOD\n/bucket/" (OSS, and S3 with path addressing) or "METHOD\n/" (S3 otherwise). A caller that
 * signs many URLs for one backend fills it once with sgn_prefix_init (gateway: once per configuration) and passes it in
 * sgn_params.prefix; the signer resumes from it when its text is exactly the request's prefix and hashes the prefix
 * itself otherwise, so a stale one is slower, never wrong. It saves a whole SHA-256 block when the prefix is 64 bytes
 * or longer (a long bucket name), else only the copying. Holds no secret. */
struct sgn_prefix {
    uint8_t len;
    char text[SGN_MAX_METHOD + 2 + 63 + 1];
    struct sgn_hash hash;
};

struct sgn_params {
    enum sgn_mode mode;
    struct sgn_view method; /* "GET", "HEAD", ... */
    bool https;
    struct sgn_view endpoint; /* host[:port] */
    struct sgn_view region;   /* without the "oss-" prefix */
    struct sgn_view bucket;
    struct sgn_view key; /* UTF-8 object name, raw (not encoded) */
    enum sgn_addressing addressing;
    int64_t time;     /* signing instant, Unix seconds, UTC */
    uint32_t expires; /* seconds of validity from `time`, 1..SGN_MAX_EXPIRES */
    struct sgn_view access_key_id;
    struct sgn_view secret;         /* access key secret */
    struct sgn_view security_token; /* base == NULL or len == 0: none */
    const struct sgn_pair *query;   /* extra signed query parameters, e.g. response-content-disposition */
    size_t n_query;
    const struct sgn_pair *headers; /* headers the client will send; only the signable ones are signed */
    size_t n_headers;
    const struct sgn_view *additional_headers; /* OSS V4: extra header names to sign */
    size_t n_additional_headers;
    const struct sgn_signing_key *signing_key; /* optional cache, see struct sgn_signing_key */
    const struct sgn_prefix *prefix;           /* optional, V4 only, see struct sgn_prefix */
};

/* struct sgn_trace receives the intermediate values of one signing, for tests and debugging. `canonical` is caller
 * storage of `canonical_cap` bytes; the other fields are filled in place. V1 fills only string_to_sign and signature. */
struct sgn_trace {
    char *canonical;
    size_t canonical_cap;
    size_t canonical_len;
    char string_to_sign[8192 + 2048];
    size_t string_to_sign_len;
    char signing_key_hex[65];
    char signature[65];
};

/* sgn_presign writes the presigned URL for `p` into `out` (capacity `out_cap`, NUL-terminated) and its length, without
 * the NUL, into `*out_len`. Borrows `p`, keeps nothing. On failure `out` holds an empty string. */
SGN_MUST_USE enum sgn_status sgn_presign(char *out, size_t out_cap, size_t *out_len, const struct sgn_params *p);

/* sgn_presign_trace is sgn_presign that also fills `trace` (which may be NULL). */
SGN_MUST_USE enum sgn_status sgn_presign_trace(char *out, size_t out_cap, size_t *out_len, const struct sgn_params *p,
                                               struct sgn_trace *trace);

/* sgn_signing_key_derive derives the signing key of `mode` for `secret`, the UTC day of `time` and `region`. For
 * SGN_MODE_OSS_V1 there is nothing to derive (V1 signs with the secret) and it returns SGN_ERR_MODE. */
SGN_MUST_USE enum sgn_status sgn_signing_key_derive(struct sgn_signing_key *out, enum sgn_mode mode, struct sgn_view secret,
                                                    struct sgn_view region, int64_t time);

/* sgn_signing_key_wipe clears `k` so that no key material stays in memory. NULL is allowed. */
void sgn_signing_key_wipe(struct sgn_signing_key *k);

/* sgn_prefix_init fills `out` for the mode, method, bucket and addressing of `p` (the other fields are not read).
 * SGN_ERR_MODE for SGN_MODE_OSS_V1, which has no canonical request; SGN_ERR_METHOD or SGN_ERR_BUCKET for a method or
 * bucket that sgn_presign would refuse; `out` is then cleared, and a cleared prefix matches no request. */
SGN_MUST_USE enum sgn_status sgn_prefix_init(struct sgn_prefix *out, const struct sgn_params *p);

/* sgn_ct_equal compares `len` bytes at `a` and `b` in a time that depends only on `len`; true when they are equal. For
 * comparing a signature or MAC a client presents with the expected one, never memcmp. */
bool sgn_ct_equal(const void *a, const void *b, size_t len);

/* sgn_encode writes enc(in) (section 2: every byte but A-Z a-z 0-9 - . _ ~ as %XX, and '/' kept when `keep_slash`) into
 * `out` (capacity `out_cap`, NUL-terminated) and its length into `*out_len`. SGN_ERR_NO_SPACE if it does not fit. */
SGN_MUST_USE enum sgn_status sgn_encode(char *out, size_t out_cap, size_t *out_len, struct sgn_view in, bool keep_slash);

/* sgn_format_datetime writes `time` as YYYYMMDDTHHMMSSZ plus a NUL into `out`. SGN_ERR_TIME outside the range. */
SGN_MUST_USE enum sgn_status sgn_format_datetime(char out[17], int64_t time);

/* sgn_parse_datetime parses an ISO 8601 UTC instant "YYYY-MM-DDTHH:MM:SSZ" (the vectors' form) into Unix seconds.
 * Returns false unless the text is exactly that form and a valid date. */
bool sgn_parse_datetime(int64_t *out, struct sgn_view text);

#endif
