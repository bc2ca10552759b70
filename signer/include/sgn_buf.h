/* sgn_buf.h: a bounded string builder over caller storage. Once an append does not fit, `overflow` stays set and
 * every later append is a no-op, so callers check once at the end (BoringSSL's CBB_init_fixed, curl's dynbuf). The
 * signer builds URLs with it; the gateway builds responses and log lines with the same code. */
#ifndef SGN_BUF_H
#define SGN_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "sgn.h"

struct sgn_buf {
    char *base;
    size_t len;
    size_t cap; /* including the byte kept for the NUL */
    bool overflow;
};

static inline void sgn_buf_init(struct sgn_buf *b, char *base, size_t cap)
{
    b->base = base;
    b->len = 0;
    b->cap = cap;
    b->overflow = cap == 0;
    if (cap > 0) {
        base[0] = '\0';
    }
}

static inline void sgn_buf_append(struct sgn_buf *b, const char *s, size_t n)
{
    if (b->overflow || n >= b->cap - b->len) { /* keep one byte for the NUL */
        b->overflow = true;
        return;
    }
    memcpy(b->base + b->len, s, n);
    b->len += n;
    b->base[b->len] = '\0';
}

static inline void sgn_buf_view(struct sgn_buf *b, struct sgn_view v)
{
    sgn_buf_append(b, v.base, v.len);
}

static inline void sgn_buf_char(struct sgn_buf *b, char c)
{
    sgn_buf_append(b, &c, 1);
}

#define sgn_buf_lit(b, s) sgn_buf_append((b), (s), sizeof(s) - 1)

/* sgn_unreserved is true for the bytes enc() copies unchanged: A-Z a-z 0-9 - . _ ~ (section 2). */
extern const unsigned char sgn_unreserved[256];

/* sgn_buf_enc appends enc(v), or encPath(v) when `keep_slash` (section 2). */
void sgn_buf_enc(struct sgn_buf *b, struct sgn_view v, bool keep_slash);

/* sgn_hex writes `n` bytes as lower-case hex and a NUL into `out` (room for 2 * n + 1 bytes). */
void sgn_hex(char *out, const unsigned char *p, size_t n);

/* sgn_buf_hex appends `n` bytes as lower-case hex. */
void sgn_buf_hex(struct sgn_buf *b, const unsigned char *p, size_t n);

/* sgn_buf_u64 appends `v` in decimal. */
void sgn_buf_u64(struct sgn_buf *b, uint64_t v);

/* sgn_enc_cmp compares enc(a) with enc(b) byte by byte, without writing them out: <0, 0 or >0. */
int sgn_enc_cmp(struct sgn_view a, struct sgn_view b);

/* sgn_view_cmp compares two byte strings as memcmp would order them, shorter first on a tie. */
int sgn_view_cmp(struct sgn_view a, struct sgn_view b);

#endif
