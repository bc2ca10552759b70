/* gw_key.h: turning the rest of a request path into an object key, and the key's download file name. Pure functions. */
#ifndef GW_KEY_H
#define GW_KEY_H

#include <stddef.h>

/* gw_key_decode percent-decodes `in` (`len` bytes) exactly once into `out` (at most `cap` bytes, no NUL added) and
 * validates the result (docs/design.md, Request handling). Returns NULL and sets `*out_len` on success, else a static
 * one-line reason: empty key, bad escape, NUL or control byte, backslash, invalid UTF-8, an empty, "." or ".." segment,
 * or longer than `cap`. */
const char *gw_key_decode(char *out, size_t cap, size_t *out_len, const char *in, size_t len);

/* gw_key_disposition writes a Content-Disposition value for the key's last segment into `out` (capacity `cap`,
 * NUL-terminated): `TYPE; filename="<ASCII fallback>"; filename*=UTF-8''<encoded>` (RFC 6266, RFC 8187), where TYPE is
 * "attachment" or "inline". The key must have passed gw_key_decode. Returns the length, or 0 if it does not fit. */
size_t gw_key_disposition(char *out, size_t cap, const char *type, const char *key, size_t key_len);

#endif
