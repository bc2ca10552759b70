/* gw_key.c: key decoding and validation, and the download file name. */
#include "gw_key.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "gw_hex.h"

#include "sgn.h"

/* utf8_valid checks RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned char lo = 0x80;
        unsigned char hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            lo = c == 0xe0 ? 0xa0 : 0x80;
            hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;
        } else {
            return false;
        }
        if (n - i - 1 < need) {
            return false;
        }
        if (s[i + 1] < lo || s[i + 1] > hi) {
            return false;
        }
        for (size_t k = 2; k <= need; k++) {
            if (s[i + k] < 0x80 || s[i + k] > 0xbf) {
                return false;
            }
        }
        i += need + 1;
    }
    return true;
}

const char *gw_key_decode(char *out, size_t cap, size_t *out_len, const char *in, size_t len)
{
    size_t o = 0;
    size_t seg_start = 0;

    *out_len = 0;
    if (len == 0) {
        return "empty key";
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%') {
            int h = i + 2 < len ? gw_hexval((unsigned char)in[i + 1]) : -1;
            int l = h >= 0 ? gw_hexval((unsigned char)in[i + 2]) : -1;
            if (l < 0) {
                return "bad percent-escape in key";
            }
            c = (unsigned char)(h << 4 | l);
            i += 2;
        }
        if (c == 0) {
            return "NUL byte in key";
        }
        if (c < 0x20 || c == 0x7f) {
            return "control character in key";
        }
        if (c == '\\') {
            return "backslash in key";
        }
        if (o == cap) {
            return "key too long";
        }
        out[o++] = (char)c;
        if (c == '/') {
            size_t seg = o - 1 - seg_start;
            if (seg == 0) {
                return "empty path segment in key";
            }
            if ((seg == 1 && out[seg_start] == '.') || (seg == 2 && out[seg_start] == '.' && out[seg_start + 1] == '.')) {
                return "dot segment in key";
            }
            seg_start = o;
        }
    }
    size_t seg = o - seg_start;
    if (seg == 0) {
        return "empty path segment in key";
    }
    if ((seg == 1 && out[seg_start] == '.') || (seg == 2 && out[seg_start] == '.' && out[seg_start + 1] == '.')) {
        return "dot segment in key";
    }
    if (!utf8_valid((const unsigned char *)out, o)) {
        return "invalid UTF-8 in key";
    }
    *out_len = o;
    return NULL;
}

size_t gw_key_disposition(char *out, size_t cap, const char *type, const char *key, size_t key_len)
{
    const char *name = key;
    size_t name_len = key_len;
    size_t o = 0;
    size_t tlen = strlen(type);
    size_t enc_len;

    for (size_t i = key_len; i > 0; i--) {
        if (key[i - 1] == '/') {
            name = key + i;
            name_len = key_len - i;
            break;
        }
    }
    /* type + `; filename="` + fallback + `"; filename*=UTF-8''` + encoded + NUL */
    if (cap < tlen + 12 + name_len + 20 + 1) {
        return 0;
    }
    memcpy(out, type, tlen);
    o = tlen;
    memcpy(out + o, "; filename=\"", 12);
    o += 12;
    /* The fallback for old clients: one '_' per non-ASCII character, and no quote or backslash to escape. */
    for (size_t i = 0; i < name_len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 0x80) {
            if ((c & 0xc0) == 0xc0) {
                out[o++] = '_';
            }
        } else if (c == '"' || c == '\\') {
            out[o++] = '_';
        } else {
            out[o++] = (char)c;
        }
    }
    memcpy(out + o, "\"; filename*=UTF-8''", 20);
    o += 20;
    if (sgn_encode(out + o, cap - o, &enc_len, (struct sgn_view){name, name_len}, false) != SGN_OK) {
        out[0] = '\0';
        return 0;
    }
    return o + enc_len;
}
