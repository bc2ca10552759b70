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
static const char lower_hex[] = "0123456789abcdef";

void sgn_buf_enc(struct sgn_buf *b, struct sgn_view v, bool keep_slash)
{
    const unsigned char *p = (const unsigned char *)v.base;
    const unsigned char *end = p + v.len;

    while (p < end && !b->overflow) {
        /* Copy the longest run that needs no escaping in one append: most keys are plain ASCII. */
        const unsigned char *run = p;
        while (p < end && (sgn_unreserved[*p] || (keep_slash && *p == '/'))) {
            p++;
        }
        if (p > run) {
            sgn_buf_append(b, (const char *)run, (size_t)(p - run));
        }
        if (p < end) {
            char esc[3] = {'%', upper_hex[*p >> 4], upper_hex[*p & 15]};
            sgn_buf_append(b, esc, 3);
            p++;
        }
    }
}

void sgn_buf_hex(struct sgn_buf *b, const unsigned char *p, size_t n)
{
    char chunk[64];

    while (n > 0) {
        size_t take = n < sizeof(chunk) / 2 ? n : sizeof(chunk) / 2;
        for (size_t i = 0; i < take; i++) {
            chunk[2 * i] = lower_hex[p[i] >> 4];
            chunk[2 * i + 1] = lower_hex[p[i] & 15];
        }
        sgn_buf_append(b, chunk, 2 * take);
        p += take;
        n -= take;
    }
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

/* enc_next yields the next byte of enc(v): `pos` walks the input, `esc` holds the rest of a pending %XX. */
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
