/* sgn_encode.c: the percent-encoding of section 2 and small formatting helpers. */
#include "sgn.h"

#include <stdint.h>
#include <string.h>

#include "sgn_buf.h"

#define U1 1
/* clang-format off */
const unsigned char sgn_unreserved[256] = {
    ['A'] = U1, ['B'] = U1, ['C'] = U1, ['D'] = U1, ['E'] = U1, ['F'] = U1, ['G'] = U1, ['H'] = U1, ['I'] = U1,
    ['J'] = U1, ['K'] = U1, ['L'] = U1, ['M'] = U1, ['N'] = U1, ['O'] = U1, ['P'] = U1, ['Q'] = U1, ['R'] = U1,
    ['S'] = U1, ['T'] = U1, ['U'] = U1, ['V'] = U1, ['W'] = U1, ['X'] = U1, ['Y'] = U1, ['Z'] = U1,
    ['a'] = U1, ['b'] = U1, ['c'] = U1, ['d'] = U1, ['e'] = U1, ['f'] = U1, ['g'] = U1, ['h'] = U1, ['i'] = U1,
    ['j'] = U1, ['k'] = U1, ['l'] = U1, ['m'] = U1, ['n'] = U1, ['o'] = U1, ['p'] = U1, ['q'] = U1, ['r'] = U1,
    ['s'] = U1, ['t'] = U1, ['u'] = U1, ['v'] = U1, ['w'] = U1, ['x'] = U1, ['y'] = U1, ['z'] = U1,
    ['0'] = U1, ['1'] = U1, ['2'] = U1, ['3'] = U1, ['4'] = U1, ['5'] = U1, ['6'] = U1, ['7'] = U1, ['8'] = U1,
    ['9'] = U1, ['-'] = U1, ['.'] = U1, ['_'] = U1, ['~'] = U1,
};
/* clang-format on */

static const char upper_hex[] = "0123456789ABCDEF";
/* hex_pairs[2 * b], hex_pairs[2 * b + 1] are the lower-case hex digits of byte b: one lookup per byte. */
static const char hex_pairs[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
                                "303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
                                "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f"
                                "909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
                                "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
                                "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* enc_into writes enc(v) (encPath(v) when `keep_slash`) at `o`, which has room for 3 * v.len bytes, and returns the end. */
static char *enc_into(char *o, struct sgn_view v, bool keep_slash)
{
    const unsigned char *p = (const unsigned char *)v.base;
    const unsigned char *end = p + v.len;

    for (; p < end; p++) {
        unsigned char c = *p;
        if (sgn_unreserved[c] || (keep_slash && c == '/')) {
            *o++ = (char)c;
        } else {
            o[0] = '%';
            o[1] = upper_hex[c >> 4];
            o[2] = upper_hex[c & 15];
            o += 3;
        }
    }
    return o;
}

void sgn_buf_enc(struct sgn_buf *b, struct sgn_view v, bool keep_slash)
{
    if (b->overflow) {
        return;
    }
    /* The usual case: room for the worst case (every byte escaped), so write in place without a check per byte. */
    if (v.len < (b->cap - b->len) / 3) {
        char *end = enc_into(b->base + b->len, v, keep_slash);
        b->len = (size_t)(end - b->base);
        b->base[b->len] = '\0';
        return;
    }
    /* Near the end of the buffer: byte by byte, so that what fits is written and the overflow is exact. */
    for (size_t i = 0; i < v.len && !b->overflow; i++) {
        char one[3];
        size_t n = (size_t)(enc_into(one, (struct sgn_view){v.base + i, 1}, keep_slash) - one);
        sgn_buf_append(b, one, n);
    }
}

void sgn_hex(char *out, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        memcpy(out + 2 * i, hex_pairs + 2 * p[i], 2);
    }
    out[2 * n] = '\0';
}

void sgn_buf_hex(struct sgn_buf *b, const unsigned char *p, size_t n)
{
    if (b->overflow || 2 * n >= b->cap - b->len) {
        b->overflow = true;
        return;
    }
    sgn_hex(b->base + b->len, p, n);
    b->len += 2 * n;
}

void sgn_buf_u64(struct sgn_buf *b, uint64_t v)
{
    char digits[20];
    size_t i = sizeof(digits);

    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    sgn_buf_append(b, digits + i, sizeof(digits) - i);
}

/* enc_next yields the next byte of enc(v): `p` walks the input up to `end`, `esc` holds the `n_esc` hex digits still
 * to come of a pending %XX. */
struct enc_iter {
    const unsigned char *p;
    const unsigned char *end;
    char esc[2];
    int n_esc;
};

static int enc_next(struct enc_iter *it)
{
    if (it->n_esc > 0) {
        char c = it->esc[2 - it->n_esc];
        it->n_esc--;
        return (unsigned char)c;
    }
    if (it->p == it->end) {
        return -1;
    }
    unsigned char c = *it->p++;
    if (sgn_unreserved[c]) {
        return c;
    }
    it->esc[0] = upper_hex[c >> 4];
    it->esc[1] = upper_hex[c & 15];
    it->n_esc = 2;
    return '%';
}

int sgn_enc_cmp(struct sgn_view a, struct sgn_view b)
{
    struct enc_iter ia = {(const unsigned char *)a.base, (const unsigned char *)a.base + a.len, {0, 0}, 0};
    struct enc_iter ib = {(const unsigned char *)b.base, (const unsigned char *)b.base + b.len, {0, 0}, 0};

    for (;;) {
        int ca = enc_next(&ia);
        int cb = enc_next(&ib);
        if (ca != cb || ca < 0) {
            return ca - cb;
        }
    }
}

int sgn_view_cmp(struct sgn_view a, struct sgn_view b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n > 0 ? memcmp(a.base, b.base, n) : 0;

    if (c != 0) {
        return c;
    }
    return a.len < b.len ? -1 : (a.len > b.len ? 1 : 0);
}

enum sgn_status sgn_encode(char *out, size_t out_cap, size_t *out_len, struct sgn_view in, bool keep_slash)
{
    struct sgn_buf b;

    sgn_buf_init(&b, out, out_cap);
    sgn_buf_enc(&b, in, keep_slash);
    if (b.overflow) {
        if (out_cap > 0) {
            out[0] = '\0';
        }
        *out_len = 0;
        return SGN_ERR_NO_SPACE;
    }
    *out_len = b.len;
    return SGN_OK;
}
