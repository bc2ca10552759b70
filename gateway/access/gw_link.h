/* gw_link.h: signed share links (issue 14): `?e=EXPIRY&k=KEYID&s=SIGNATURE` on a route's URL.
 *
 * THE SIGNED MESSAGE (a contract with every link already handed out: never change it, only extend it as below)
 *
 * s = base64url-without-padding(HMAC-SHA256(secret of key `k`, M)), exactly 43 characters, where M is the bytes
 *
 *     "oss-gateway-link-v1\n"
 *     field("k", key id) field("r", route prefix) field("o", object key) field("e", expiry)
 *     [ field("q", parameter name) field("v", parameter value) ]...      (issue 15; none today)
 *
 * and field(T, V) = T ":" decimal(length of V in bytes) ":" V "\n".
 *   - key id: the `k` parameter as decoded, 1..32 bytes of [A-Za-z0-9_-] (so the MAC also binds the key id);
 *   - route prefix: the route's configured `prefix`, as written in the config (e.g. "/private/");
 *   - object key: the object key exactly as the gateway decodes it from the request path after the prefix (the bytes
 *     it would sign for OSS, before any key_prefix is applied), which may hold any byte, including '\n' and ':';
 *   - expiry: the `e` parameter, a Unix time in seconds written in decimal without sign or leading zeros
 *     (0..9999999999999; "0" itself is allowed).
 * The length prefix makes every field's end unambiguous whatever bytes it holds, and the one-letter tags make the
 * order fixed, so two different (key id, prefix, key, expiry) tuples never give the same M.
 * Extension (issue 15, parameters a link fixes, such as x-oss-process): each fixed parameter adds a "q" then a "v"
 * field, in ascending byte order of name (then value), after "e". A link without fixed parameters keeps exactly the
 * bytes above, so links minted before the extension stay valid; a verifier that knows of fixed parameters must take
 * them from the link itself (a parameter naming them), never guess.
 *
 * Validity: a link is valid while now <= e (nginx secure_link's rule: the second named by e is still good). The
 * link's e is independent of the presigned URL's own `expires`.
 *
 * Pure: no clock (the caller passes `now`), no heap, no I/O. HMAC and the constant-time compare go through the
 * signer's crypto seam (sgn_crypto.h). */
#ifndef GW_LINK_H
#define GW_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_LINK_KEY_ID_MAX 32
#define GW_LINK_SIG_LEN 43                 /* base64url of 32 bytes, no padding */
#define GW_LINK_EXPIRY_MAX 9999999999999LL /* 13 digits: year 318857, far beyond any sane link */
#define GW_LINK_PARAM_RAW_MAX 128          /* bound on the raw (percent-encoded) value of e, k or s in a query */
#define GW_LINK_QUERY_MAX 8192             /* bound on the query gw_link_verify reads */
/* GW_LINK_QUERY_LEN_MAX is a sufficient capacity for gw_link_sign's output "e=..&k=..&s=..", NUL included. */
#define GW_LINK_QUERY_LEN_MAX (2 + 13 + 3 + GW_LINK_KEY_ID_MAX + 3 + GW_LINK_SIG_LEN + 1)

/* struct gw_link_key is one configured link key: its id and secret (both borrowed from the config). */
struct gw_link_key {
    const char *id;
    size_t id_len;
    const uint8_t *secret;
    size_t secret_len;
};

/* struct gw_link_param is one parameter a link fixes (the issue 15 extension of the message; pass none today). */
struct gw_link_param {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* enum gw_link_status: each failure has its own one-line reason, gw_link_strerror, meant for a 403 body. */
enum gw_link_status {
    GW_LINK_OK = 0,
    GW_LINK_ERR_MISSING,     /* e, k or s absent */
    GW_LINK_ERR_DUPLICATE,   /* e, k or s given twice */
    GW_LINK_ERR_ENCODING,    /* bad percent-encoding in e, k or s, or a raw value over GW_LINK_PARAM_RAW_MAX */
    GW_LINK_ERR_EXPIRY_FORM, /* e is not a decimal Unix time */
    GW_LINK_ERR_KEY_ID_FORM, /* k is not 1..32 of [A-Za-z0-9_-] */
    GW_LINK_ERR_SIG_FORM,    /* s is not 43 base64url characters */
    GW_LINK_ERR_UNKNOWN_KEY, /* k names no configured key (removed by rotation, or never existed) */
    GW_LINK_ERR_SIGNATURE,   /* s does not match: altered link, another route, or a foreign key */
    GW_LINK_ERR_EXPIRED,     /* authentic, but now > e */
    GW_LINK_ERR_TOO_LONG,    /* query over GW_LINK_QUERY_MAX */
    GW_LINK_ERR_ARG,         /* sign: bad key id, expiry or output space (a caller's error, not a client's) */
};

/* gw_link_strerror is the one-line reason for `st` (never names a secret). */
const char *gw_link_strerror(enum gw_link_status st);

/* gw_link_key_id_valid says whether `id` is a well-formed key id (1..32 of [A-Za-z0-9_-]); the config checks it. */
bool gw_link_key_id_valid(const char *id, size_t id_len);

/* gw_link_mac computes the 43-character signature of the message above into `out` (not NUL-terminated).
 * `params` (n_params, may be 0 and NULL) must already be in the canonical order; GW_LINK_ERR_ARG otherwise or on a
 * malformed key id or expiry. */
enum gw_link_status gw_link_mac(char out[GW_LINK_SIG_LEN], const struct gw_link_key *key, const char *prefix, size_t prefix_len,
                                const char *obj, size_t obj_len, int64_t expires, const struct gw_link_param *params,
                                size_t n_params);

/* gw_link_sign writes the query "e=EXPIRY&k=KEYID&s=SIG" (no '?', NUL-terminated) for object key `obj` under route
 * `prefix` into `out` (capacity `out_cap`; GW_LINK_QUERY_LEN_MAX suffices), its length into `*out_len`. The caller
 * puts the route prefix and the percent-encoded key in front (the key id and signature need no encoding). */
enum gw_link_status gw_link_sign(char *out, size_t out_cap, size_t *out_len, const struct gw_link_key *key, const char *prefix,
                                 size_t prefix_len, const char *obj, size_t obj_len, int64_t expires);

/* struct gw_link_claim is what a query claims, after parsing (not yet verified). */
struct gw_link_claim {
    int64_t expires;
    char key_id[GW_LINK_KEY_ID_MAX + 1];
    size_t key_id_len;
    char sig[GW_LINK_SIG_LEN + 1];
};

/* gw_link_parse reads e, k and s from the raw query `q` (`q_len` bytes, without '?'): parameters split on '&', name
 * and value on the first '=', percent-decoded strictly (%XX with hex digits; '+' is not a space). Other parameters
 * are ignored; e, k or s twice is GW_LINK_ERR_DUPLICATE. Fills `out` on GW_LINK_OK. */
enum gw_link_status gw_link_parse(struct gw_link_claim *out, const char *q, size_t q_len);

/* gw_link_verify checks the query `q` of a request for object key `obj` on route `prefix` against the `n_keys`
 * configured keys at Unix time `now`. Order: parse, key id known, signature (constant time), expiry; so EXPIRED is
 * only said of an authentic link. On GW_LINK_OK and when `claim` is not NULL, `*claim` holds what was verified. */
enum gw_link_status gw_link_verify(struct gw_link_claim *claim, const struct gw_link_key *keys, size_t n_keys, const char *prefix,
                                   size_t prefix_len, const char *obj, size_t obj_len, const char *q, size_t q_len, int64_t now);

#endif
