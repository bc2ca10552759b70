/* sgn_vector.h: signing cases in the shared test-vector format (docs/oss-v4-presign.md section 9), read from one JSON
 * line into sgn_params. Used by `oss-gateway presign --jsonl` and by the signer's vector tests. */
#ifndef SGN_VECTOR_H
#define SGN_VECTOR_H

#include <stddef.h>

#include "sgn.h"

#define SGN_VECTOR_MAX_LINE (1024 * 1024)

/* struct sgn_vector is one parsed case. Every view points into the parsed JSON document, which the vector owns: release
 * it with sgn_vector_cleanup. The expected fields are NULL when the line does not carry them. */
struct sgn_vector {
    const char *id; /* NULL when the line has none */
    struct sgn_params params;
    struct sgn_pair query[SGN_MAX_PARAMS];
    struct sgn_pair headers[SGN_MAX_HEADERS];
    struct sgn_view additional[SGN_MAX_HEADERS];
    const char *url_strict;
    const char *signature;
    const char *canonical_request;
    const char *string_to_sign;
    const char *signing_key_hex;
    void *doc; /* the JSON document */
};

/* sgn_vector_parse parses one line: a vector (`{"id":..., "input":{...}, ...}`) or a bare input object. On failure
 * returns -1 with a one-line reason in `err` (the id, if one was read, is still set). Always call sgn_vector_cleanup. */
int sgn_vector_parse(struct sgn_vector *v, const char *line, size_t len, char *err, size_t err_cap);

void sgn_vector_cleanup(struct sgn_vector *v);

#endif
