/* sgn_rpc.h: the RPC-style request signature of Alibaba Cloud's POP APIs (STS AssumeRole and friends),
 * SignatureMethod=HMAC-SHA1, SignatureVersion=1.0.
 *
 * Like sgn.h it is pure: no I/O, no clock, no heap, no RNG. The caller puts every parameter that the request carries
 * (the query's common parameters, including Timestamp and SignatureNonce it chose, and the form body's) into one
 * array, without Signature, and sends the same values.
 *
 *   canonical    = join("&", sorted by name (bytewise): enc(name) "=" enc(value))
 *   StringToSign = METHOD "&" enc("/") "&" enc(canonical)
 *   Signature    = base64(HMAC-SHA1(secret "&", StringToSign))
 *
 * enc() is RFC 3986 percent-encoding that keeps only A-Z a-z 0-9 - _ . ~ with upper-case hex, which is what the
 * official SDKs produce (credentials-go: url.Values.Encode, then "+" -> "%20", "*" -> "%2A", "%7E" -> "~"). */
#ifndef SGN_RPC_H
#define SGN_RPC_H

#include <stddef.h>

#include "sgn.h"

#define SGN_RPC_MAX_PARAMS 32 /* parameters in one request */
#define SGN_RPC_SIG_CAP 29    /* base64 of a 20-byte MAC (28 characters) plus the NUL */

/* struct sgn_rpc_param is one request parameter, raw (not encoded). */
struct sgn_rpc_param {
    struct sgn_view name;
    struct sgn_view value;
};

/* sgn_rpc_sign writes the base64 Signature of a request with `method` ("GET" or "POST") and the `n_params`
 * parameters `params` (any order) under the access key `secret` into `out` (NUL-terminated). Borrows everything,
 * keeps nothing, wipes the key material it derived. SGN_ERR_METHOD for a method that is not 1..SGN_MAX_METHOD
 * upper-case letters; SGN_ERR_PARAMS for more than SGN_RPC_MAX_PARAMS parameters, an empty or over-long
 * (SGN_MAX_NAME) name, a value over SGN_MAX_VALUE bytes, a repeated name or a parameter named Signature;
 * SGN_ERR_CREDENTIALS for an empty secret or one over SGN_MAX_SECRET bytes. */
SGN_MUST_USE enum sgn_status sgn_rpc_sign(char out[SGN_RPC_SIG_CAP], struct sgn_view method, const struct sgn_rpc_param *params,
                                          size_t n_params, struct sgn_view secret);

#endif
