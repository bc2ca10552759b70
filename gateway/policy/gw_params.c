/* gw_params.c: the `params:` pass-through policy (issue 15). The image operations and their ranges follow OSS's
 * "Image processing parameters" pages (resize, crop, format, quality, rotate, watermark, ...). */
#include "gw_params.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gw_hex.h"

#include "gw_ascii.h"
#include "gw_key.h"

/* Parameter slots, in no particular order; output is sorted by name at the end. */
enum { SLOT_PROCESS = GW_RESP_N, SLOT_VERSION, SLOT_N };

static const char *const resp_names[GW_RESP_N] = {
    [GW_RESP_CONTENT_TYPE] = "response-content-type",         [GW_RESP_CONTENT_DISPOSITION] = "response-content-disposition",
    [GW_RESP_CACHE_CONTROL] = "response-cache-control",       [GW_RESP_EXPIRES] = "response-expires",
    [GW_RESP_CONTENT_LANGUAGE] = "response-content-language", [GW_RESP_CONTENT_ENCODING] = "response-content-encoding",
};

enum arg_kind { ARG_INT, ARG_WORD, ARG_HEX6, ARG_B64 };

struct arg_spec {
    const char *key; /* without the '_'; NULL for an operation's bare value (format,webp) */
    enum arg_kind kind;
    long min, max;            /* ARG_INT */
    const char *const *words; /* ARG_WORD, NULL-terminated */
};

struct op_spec {
    const char *name;
    const struct arg_spec *args;
    size_t n_args;
    unsigned all_of;      /* bits of args that must all be present */
    unsigned any_of;      /* bits of args of which at least one must be present */
    unsigned at_most_one; /* bits of args of which at most one may be present */
};

static const char *const resize_modes[] = {"lfit", "mfit", "fill", "pad", "fixed", NULL};
static const char *const gravities[] = {"nw", "north", "ne", "west", "center", "east", "sw", "south", "se", NULL};
static const char *const formats[] = {"jpg", "png", "webp", "bmp", "gif", "tiff", "heic", "avif", NULL};
static const char *const bits[] = {"0", "1", NULL};

#define INT(k, lo, hi)                                                                                                             \
    {                                                                                                                              \
        (k), ARG_INT, (lo), (hi), NULL                                                                                             \
    }
#define WORD(k, w)                                                                                                                 \
    {                                                                                                                              \
        (k), ARG_WORD, 0, 0, (w)                                                                                                   \
    }
#define HEX6(k)                                                                                                                    \
    {                                                                                                                              \
        (k), ARG_HEX6, 0, 0, NULL                                                                                                  \
    }
#define B64(k)                                                                                                                     \
    {                                                                                                                              \
        (k), ARG_B64, 0, 0, NULL                                                                                                   \
    }
#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct arg_spec resize_args[] = {WORD("m", resize_modes), INT("w", 1, 16384), INT("h", 1, 16384), INT("l", 1, 16384),
                                              INT("s", 1, 16384),      INT("limit", 0, 1), HEX6("color"),      INT("p", 1, 1000)};
static const struct arg_spec crop_args[] = {INT("w", 0, 16384), INT("h", 0, 16384), INT("x", 0, 16384), INT("y", 0, 16384),
                                            WORD("g", gravities)};
static const struct arg_spec format_args[] = {WORD(NULL, formats)};
static const struct arg_spec quality_args[] = {INT("q", 1, 100), INT("Q", 1, 100)};
static const struct arg_spec rotate_args[] = {INT(NULL, 0, 360)};
static const struct arg_spec watermark_args[] = {INT("t", 0, 100),
                                                 WORD("g", gravities),
                                                 INT("x", 0, 4096),
                                                 INT("y", 0, 4096),
                                                 INT("voffset", -1000, 1000),
                                                 B64("text"),
                                                 B64("type"),
                                                 HEX6("color"),
                                                 INT("size", 1, 1000),
                                                 INT("shadow", 0, 100),
                                                 INT("rotate", 0, 360),
                                                 INT("fill", 0, 1),
                                                 B64("image"),
                                                 INT("P", 1, 100),
                                                 INT("order", 0, 1),
                                                 INT("align", 0, 2),
                                                 INT("interval", 0, 1000)};
static const struct arg_spec bit_args[] = {WORD(NULL, bits)};
static const struct arg_spec radius_args[] = {INT("r", 1, 4096)};
static const struct arg_spec indexcrop_args[] = {INT("x", 1, 16384), INT("y", 1, 16384), INT("i", 0, 1000)};
static const struct arg_spec blur_args[] = {INT("r", 1, 50), INT("s", 1, 50)};
static const struct arg_spec level_args[] = {INT(NULL, -100, 100)};
static const struct arg_spec sharpen_args[] = {INT(NULL, 50, 399)};

#define OP(name, args, all, any, one)                                                                                              \
    {                                                                                                                              \
        (name), (args), N(args), (all), (any), (one)                                                                               \
    }

static const struct op_spec ops[GW_IMG_N] = {
    [GW_IMG_RESIZE] = OP("resize", resize_args, 0, 0x9e, 0), /* one of w_ h_ l_ s_ p_ */
    [GW_IMG_CROP] = OP("crop", crop_args, 0, 0, 0),
    [GW_IMG_FORMAT] = OP("format", format_args, 1, 0, 0),
    [GW_IMG_QUALITY] = OP("quality", quality_args, 0, 3, 3), /* q_ or Q_, not both */
    [GW_IMG_ROTATE] = OP("rotate", rotate_args, 1, 0, 0),
    [GW_IMG_WATERMARK] = OP("watermark", watermark_args, 0, (1u << 5) | (1u << 12), 0), /* text_ or image_ */
    [GW_IMG_AUTO_ORIENT] = OP("auto-orient", bit_args, 1, 0, 0),
    [GW_IMG_CIRCLE] = OP("circle", radius_args, 1, 0, 0),
    [GW_IMG_INDEXCROP] = OP("indexcrop", indexcrop_args, 0, 3, 3), /* x_ or y_, not both */
    [GW_IMG_ROUNDED_CORNERS] = OP("rounded-corners", radius_args, 1, 0, 0),
    [GW_IMG_BLUR] = OP("blur", blur_args, 3, 0, 0),
    [GW_IMG_BRIGHT] = OP("bright", level_args, 1, 0, 0),
    [GW_IMG_CONTRAST] = OP("contrast", level_args, 1, 0, 0),
    [GW_IMG_SHARPEN] = OP("sharpen", sharpen_args, 1, 0, 0),
    [GW_IMG_INTERLACE] = OP("interlace", bit_args, 1, 0, 0),
    [GW_IMG_INFO] = {"info", NULL, 0, 0, 0, 0},
    [GW_IMG_AVERAGE_HUE] = {"average-hue", NULL, 0, 0, 0, 0},
};

static bool view_is(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return len == n && memcmp(s, lit, n) == 0;
}

/* view_is_nocase compares with a literal, ASCII letters case-insensitively. */
static bool view_is_nocase(const char *s, size_t len, const char *lit)
{
    return gw_ascii_eq_nocase(s, len, lit, strlen(lit));
}

enum gw_image_op gw_image_op_by_name(const char *name, size_t len)
{
    for (size_t i = 0; i < GW_IMG_N; i++) {
        if (view_is(name, len, ops[i].name)) {
            return (enum gw_image_op)i;
        }
    }
    return GW_IMG_N;
}

enum gw_response_param gw_response_param_by_name(const char *name, size_t len)
{
    for (size_t i = 0; i < GW_RESP_N; i++) {
        if (view_is(name, len, resp_names[i])) {
            return (enum gw_response_param)i;
        }
    }
    return GW_RESP_N;
}

static const char *refuse(struct gw_params *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* refuse writes the reason for a 400 into out->reason; its arguments come from our tables only. A reason cut short
 * is still a reason, so truncation is not an error here. */
static const char *refuse(struct gw_params *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
    va_end(ap);
    if (n < 0) {
        out->reason[0] = '\0';
    }
    return out->reason;
}

/* pct_decode decodes `in` once into `out` (capacity `cap`). False on a bad escape or when it does not fit. */
static bool pct_decode(char *out, size_t cap, size_t *out_len, const char *in, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%') {
            if (len - i < 3 || gw_hexval((unsigned char)in[i + 1]) < 0 || gw_hexval((unsigned char)in[i + 2]) < 0) {
                return false;
            }
            c = (unsigned char)(gw_hexval((unsigned char)in[i + 1]) * 16 + gw_hexval((unsigned char)in[i + 2]));
            i += 2;
        }
        if (o == cap) {
            return false;
        }
        out[o++] = (char)c;
    }
    *out_len = o;
    return true;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(unsigned char c)
{
    return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* RFC 9110 section 5.6.2 tchar */
static bool is_tchar(unsigned char c)
{
    return is_alnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

/* parse_int reads an optionally negative decimal without leading zeros, at most 6 digits. */
static bool parse_int(const char *s, size_t len, long *out)
{
    bool neg = len > 0 && s[0] == '-';
    size_t i = neg ? 1 : 0;
    if (len == i || len - i > 6 || (s[i] == '0' && len - i > 1) || (neg && s[i] == '0')) {
        return false;
    }
    long v = 0;
    for (; i < len; i++) {
        if (!is_digit((unsigned char)s[i])) {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

static bool arg_ok(const struct arg_spec *a, const char *v, size_t len)
{
    switch (a->kind) {
    case ARG_INT: {
        long n;
        return parse_int(v, len, &n) && n >= a->min && n <= a->max;
    }
    case ARG_WORD:
        for (const char *const *w = a->words; *w != NULL; w++) {
            if (view_is(v, len, *w)) {
                return true;
            }
        }
        return false;
    case ARG_HEX6:
        for (size_t i = 0; i < len; i++) {
            if (gw_hexval((unsigned char)v[i]) < 0) {
                return false;
            }
        }
        return len == 6;
    case ARG_B64: {
        /* URL-safe base64 (RFC 4648 section 5), as OSS requires: '+' and '/' are refused; '=' padding only at the end */
        size_t pad = 0;
        while (pad < 2 && pad < len && v[len - 1 - pad] == '=') {
            pad++;
        }
        for (size_t i = 0; i < len - pad; i++) {
            unsigned char c = (unsigned char)v[i];
            if (!is_alnum(c) && c != '-' && c != '_') {
                return false;
            }
        }
        return len > pad && len <= GW_PARAM_ARG_MAX;
    }
    }
    return false;
}

/* check_op checks one `name,arg,arg...` of an image/ value. */
static const char *check_op(struct gw_params *out, const struct gw_param_policy *pol, const char *s, size_t len)
{
    const char *comma = memchr(s, ',', len);
    size_t nlen = comma != NULL ? (size_t)(comma - s) : len;
    enum gw_image_op op = gw_image_op_by_name(s, nlen);
    if (op == GW_IMG_N) {
        return refuse(out, "x-oss-process: unknown image operation");
    }
    const struct op_spec *spec = &ops[op];
    if ((pol->image_ops & (1u << op)) == 0) {
        return refuse(out, "x-oss-process: image operation \"%s\" is not allowed on this route", spec->name);
    }
    unsigned seen = 0;
    size_t i = nlen;
    while (i < len) {
        i++; /* the comma */
        const char *arg = s + i;
        const char *end = memchr(arg, ',', len - i);
        size_t alen = end != NULL ? (size_t)(end - arg) : len - i;
        i += alen;
        if (alen == 0 || alen > GW_PARAM_ARG_MAX) {
            return refuse(out, "x-oss-process: %s: empty or overlong argument", spec->name);
        }
        if (spec->n_args == 0) {
            return refuse(out, "x-oss-process: %s takes no argument", spec->name);
        }
        size_t k = 0;
        const char *val = arg;
        size_t vlen = alen;
        const char *us = memchr(arg, '_', alen);
        bool bare = spec->n_args > 0 && spec->args[0].key == NULL;
        if (!bare) {
            if (us == NULL) {
                return refuse(out, "x-oss-process: %s: argument without a key_ prefix", spec->name);
            }
            for (k = 0; k < spec->n_args; k++) {
                if (view_is(arg, (size_t)(us - arg), spec->args[k].key)) {
                    break;
                }
            }
            if (k == spec->n_args) {
                return refuse(out, "x-oss-process: %s: unknown argument", spec->name);
            }
            val = us + 1;
            vlen = alen - (size_t)(val - arg);
        } else if (seen != 0) {
            return refuse(out, "x-oss-process: %s takes one value", spec->name);
        }
        if ((seen & (1u << k)) != 0) {
            return refuse(out, "x-oss-process: %s: argument %s_ given twice", spec->name, spec->args[k].key);
        }
        seen |= 1u << k;
        if (!arg_ok(&spec->args[k], val, vlen)) {
            if (bare) {
                return refuse(out, "x-oss-process: %s: value out of form or range", spec->name);
            }
            return refuse(out, "x-oss-process: %s: argument %s_ out of form or range", spec->name, spec->args[k].key);
        }
    }
    if ((seen & spec->all_of) != spec->all_of || (spec->any_of != 0 && (seen & spec->any_of) == 0)) {
        return refuse(out, "x-oss-process: %s: a required argument is missing", spec->name);
    }
    unsigned one = seen & spec->at_most_one;
    if ((one & (one - 1)) != 0) {
        return refuse(out, "x-oss-process: %s: conflicting arguments", spec->name);
    }
    return NULL;
}

static const char *check_process(struct gw_params *out, const struct gw_param_policy *pol, const char *v, size_t len)
{
    if (!printable(v, len)) {
        return refuse(out, "x-oss-process: not printable ASCII");
    }
    if (pol->process == GW_PROCESS_ANY) {
        return NULL;
    }
    if (pol->process == GW_PROCESS_STYLES) {
        if (len < 6 || memcmp(v, "style/", 6) != 0) {
            return refuse(out, "x-oss-process: only style/<name> is allowed on this route");
        }
        for (size_t i = 0; i < pol->n_styles; i++) {
            if (len - 6 == pol->styles[i].len && memcmp(v + 6, pol->styles[i].base, len - 6) == 0) {
                return NULL;
            }
        }
        return refuse(out, "x-oss-process: style not allowed on this route");
    }
    if (len < 6 || memcmp(v, "image/", 6) != 0) {
        return refuse(out, "x-oss-process: only image/... is allowed on this route");
    }
    size_t n_ops = 0;
    size_t i = 6;
    do {
        const char *op = v + i;
        const char *slash = memchr(op, '/', len - i);
        size_t olen = slash != NULL ? (size_t)(slash - op) : len - i;
        if (olen == 0) {
            return refuse(out, "x-oss-process: empty image operation");
        }
        if (++n_ops > GW_PROCESS_OPS_MAX) {
            return refuse(out, "x-oss-process: too many image operations");
        }
        const char *r = check_op(out, pol, op, olen);
        if (r != NULL) {
            return r;
        }
        i += olen + 1;
    } while (i <= len);
    return NULL;
}

static bool check_version(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (!is_alnum(c) && c != '+' && c != '/' && c != '=' && c != '.' && c != '_' && c != '-') {
            return false;
        }
    }
    return len > 0 && len <= GW_PARAM_ARG_MAX;
}

/* struct cur walks a header value: OWS, tokens, quoted strings (RFC 9110 section 5.6). */
struct cur {
    const char *p, *end;
};

static void ows(struct cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t')) {
        c->p++;
    }
}

static bool token(struct cur *c, const char **out, size_t *out_len)
{
    const char *s = c->p;
    while (c->p < c->end && is_tchar((unsigned char)*c->p)) {
        c->p++;
    }
    *out = s;
    *out_len = (size_t)(c->p - s);
    return c->p > s;
}

/* quoted reads a quoted-string; when `out` is given, the unescaped text is written there (capacity `cap`). */
static bool quoted(struct cur *c, char *out, size_t cap, size_t *out_len)
{
    size_t o = 0;
    if (c->p == c->end || *c->p != '"') {
        return false;
    }
    c->p++;
    while (c->p < c->end && *c->p != '"') {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '\\') {
            if (c->end - c->p < 2) {
                return false;
            }
            ch = (unsigned char)*++c->p;
        }
        if ((ch < 0x20 && ch != '\t') || ch > 0x7e) {
            return false;
        }
        if (out != NULL) {
            if (o == cap) {
                return false;
            }
            out[o++] = (char)ch;
        }
        c->p++;
    }
    if (c->p == c->end) {
        return false;
    }
    c->p++;
    if (out_len != NULL) {
        *out_len = o;
    }
    return true;
}

/* token_or_quoted reads `token / quoted-string`. */
static bool token_or_quoted(struct cur *c)
{
    const char *t;
    size_t tl;
    if (c->p < c->end && *c->p == '"') {
        return quoted(c, NULL, 0, NULL);
    }
    return token(c, &t, &tl);
}

/* params reads *( OWS ";" OWS token "=" ( token / quoted-string ) ) to the end. */
static bool params_to_end(struct cur *c)
{
    for (;;) {
        ows(c);
        if (c->p == c->end) {
            return true;
        }
        const char *t;
        size_t tl;
        if (*c->p++ != ';') {
            return false;
        }
        ows(c);
        if (!token(c, &t, &tl) || c->p == c->end || *c->p++ != '=' || !token_or_quoted(c)) {
            return false;
        }
    }
}

static bool check_content_type(const char *v, size_t len)
{
    struct cur c = {v, v + len};
    const char *t;
    size_t tl;
    if (!token(&c, &t, &tl) || c.p == c.end || *c.p++ != '/' || !token(&c, &t, &tl)) {
        return false;
    }
    return params_to_end(&c);
}

enum list_elem { ELEM_TOKEN, ELEM_DIRECTIVE, ELEM_LANGUAGE };

/* check_list checks 1#elem (RFC 9110 section 5.6.1): elements separated by OWS "," OWS, none empty. */
static bool check_list(const char *v, size_t len, enum list_elem kind)
{
    struct cur c = {v, v + len};
    for (;;) {
        ows(&c);
        const char *t;
        size_t tl;
        if (kind == ELEM_LANGUAGE) {
            /* language-tag, simplified to its common shape: 1*8alphanum *("-" 1*8alphanum) (RFC 5646) */
            const char *s = c.p;
            size_t sub = 0;
            while (c.p < c.end && (is_alnum((unsigned char)*c.p) || *c.p == '-')) {
                if (*c.p == '-') {
                    if (sub == 0) {
                        return false;
                    }
                    sub = 0;
                } else if (++sub > 8) {
                    return false;
                }
                c.p++;
            }
            if (c.p == s || sub == 0) {
                return false;
            }
        } else if (!token(&c, &t, &tl)) {
            return false;
        } else if (kind == ELEM_DIRECTIVE && c.p < c.end && *c.p == '=') {
            c.p++;
            if (!token_or_quoted(&c)) {
                return false;
            }
        }
        ows(&c);
        if (c.p == c.end) {
            return true;
        }
        if (*c.p++ != ',') {
            return false;
        }
    }
}

/* check_imf_fixdate checks `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 section 5.6.7). */
static bool check_imf_fixdate(const char *v, size_t len)
{
    static const char days[] = "MonTueWedThuFriSatSun";
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    static const char shape[] = "aaa, 00 bbb 0000 00:00:00 GMT"; /* a: day name, b: month, 0: digit */
    if (len != sizeof(shape) - 1) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (shape[i] == '0' ? !is_digit((unsigned char)v[i]) : (shape[i] != 'a' && shape[i] != 'b' && v[i] != shape[i])) {
            return false;
        }
    }
    bool day = false, month = false;
    for (size_t i = 0; i < 7; i++) {
        day = day || memcmp(v, days + 3 * i, 3) == 0;
    }
    for (size_t i = 0; i < 12; i++) {
        month = month || memcmp(v + 8, months + 3 * i, 3) == 0;
    }
    int dd = (v[5] - '0') * 10 + v[6] - '0', hh = (v[17] - '0') * 10 + v[18] - '0';
    int mi = (v[20] - '0') * 10 + v[21] - '0', ss = (v[23] - '0') * 10 + v[24] - '0';
    return day && month && dd >= 1 && dd <= 31 && hh <= 23 && mi <= 59 && ss <= 60;
}

/* rebuild_disposition parses `attachment|inline [; filename=...] [; filename*=UTF-8''...]` and writes a fresh value
 * built by gw_key_disposition from the decoded, checked file name into `dst` (capacity `cap`). */
static const char *rebuild_disposition(struct gw_params *out, const char *v, size_t len, char *dst, size_t cap, size_t *out_len)
{
    struct cur c = {v, v + len};
    const char *t;
    size_t tl;
    char plain[GW_RESPONSE_MAX], name[GW_RESPONSE_MAX];
    size_t plain_len = 0, name_len = 0;
    bool have_plain = false, have_ext = false;
    if (!token(&c, &t, &tl) || !(view_is_nocase(t, tl, "attachment") || view_is_nocase(t, tl, "inline"))) {
        return refuse(out, "response-content-disposition: must start with attachment or inline");
    }
    const char *type = view_is_nocase(t, tl, "inline") ? "inline" : "attachment";
    for (;;) {
        ows(&c);
        if (c.p == c.end) {
            break;
        }
        if (*c.p++ != ';') {
            return refuse(out, "response-content-disposition: malformed");
        }
        ows(&c);
        if (!token(&c, &t, &tl) || c.p == c.end || *c.p++ != '=') {
            return refuse(out, "response-content-disposition: malformed parameter");
        }
        if (view_is_nocase(t, tl, "filename") && !have_plain) {
            have_plain = true;
            if (c.p < c.end && *c.p == '"') {
                if (!quoted(&c, plain, sizeof(plain), &plain_len)) {
                    return refuse(out, "response-content-disposition: malformed filename");
                }
            } else if (!token(&c, &t, &tl) || tl > sizeof(plain)) {
                return refuse(out, "response-content-disposition: malformed filename");
            } else {
                memcpy(plain, t, tl);
                plain_len = tl;
            }
        } else if (view_is_nocase(t, tl, "filename*") && !have_ext) {
            /* ext-value = charset "'" [ language ] "'" value-chars (RFC 8187 section 3.2); only UTF-8 */
            have_ext = true;
            if (!token(&c, &t, &tl)) {
                return refuse(out, "response-content-disposition: malformed filename*");
            }
            const char *q1 = memchr(t, '\'', tl);
            const char *q2 = q1 != NULL ? memchr(q1 + 1, '\'', tl - (size_t)(q1 + 1 - t)) : NULL;
            if (q2 == NULL || !view_is_nocase(t, (size_t)(q1 - t), "utf-8")) {
                return refuse(out, "response-content-disposition: filename* must be UTF-8''...");
            }
            const char *enc = q2 + 1;
            size_t enc_len = tl - (size_t)(enc - t);
            if (enc_len == 0 || gw_key_decode(name, sizeof(name), &name_len, enc, enc_len) != NULL) {
                return refuse(out, "response-content-disposition: filename* is not a valid file name");
            }
        } else {
            return refuse(out, "response-content-disposition: only one filename and one filename* are passed");
        }
    }
    /* With filename* present, filename is only the fallback for old clients: ignored (RFC 6266 section 4.3) and
     * rebuilt from filename*, so a rebuilt value parses back to itself. */
    if (have_plain && !have_ext) {
        if (memchr(plain, '%', plain_len) != NULL) {
            return refuse(out, "response-content-disposition: '%%' in filename (use filename*)");
        }
        if (plain_len == 0 || gw_key_decode(name, sizeof(name), &name_len, plain, plain_len) != NULL) {
            return refuse(out, "response-content-disposition: filename is not a valid file name");
        }
    }
    if (!have_plain && !have_ext) {
        size_t n = strlen(type);
        memcpy(dst, type, n);
        *out_len = n;
        return NULL;
    }
    if (memchr(name, '/', name_len) != NULL) {
        return refuse(out, "response-content-disposition: '/' in file name");
    }
    *out_len = gw_key_disposition(dst, cap, type, name, name_len);
    if (*out_len == 0) {
        return refuse(out, "response-content-disposition: file name too long");
    }
    return NULL;
}

static const char *check_response(struct gw_params *out, enum gw_response_param r, const char *v, size_t len, char *dst, size_t cap,
                                  size_t *out_len)
{
    const char *name = resp_names[r];
    bool ok = false;
    if (!printable(v, len)) {
        return refuse(out, "%s: not printable ASCII", name);
    }
    *out_len = len;
    switch (r) {
    case GW_RESP_CONTENT_TYPE:
        ok = check_content_type(v, len);
        break;
    case GW_RESP_CONTENT_DISPOSITION:
        return rebuild_disposition(out, v, len, dst, cap, out_len);
    case GW_RESP_CACHE_CONTROL:
        ok = check_list(v, len, ELEM_DIRECTIVE);
        break;
    case GW_RESP_EXPIRES:
        ok = check_imf_fixdate(v, len);
        break;
    case GW_RESP_CONTENT_LANGUAGE:
        ok = check_list(v, len, ELEM_LANGUAGE);
        break;
    case GW_RESP_CONTENT_ENCODING:
        ok = check_list(v, len, ELEM_TOKEN);
        break;
    case GW_RESP_N:
        break;
    }
    if (!ok) {
        return refuse(out, "%s: malformed value", name);
    }
    memmove(dst, v, len);
    return NULL;
}

static const char *slot_name(size_t slot)
{
    if (slot == SLOT_PROCESS) {
        return "x-oss-process";
    }
    if (slot == SLOT_VERSION) {
        return "versionId";
    }
    return resp_names[slot];
}

static bool slot_allowed(const struct gw_param_policy *pol, size_t slot)
{
    if (slot == SLOT_PROCESS) {
        return pol->process != GW_PROCESS_OFF;
    }
    if (slot == SLOT_VERSION) {
        return pol->version_id;
    }
    return (pol->response & (1u << slot)) != 0;
}

const char *gw_params_apply(const struct gw_param_policy *pol, const char *query, size_t len, struct gw_params *out)
{
    struct sgn_view vals[SLOT_N] = {{NULL, 0}};
    bool seen[SLOT_N] = {false};
    size_t used = 0;
    out->n = 0;
    out->reason[0] = '\0';
    size_t i = 0;
    while (i < len) {
        const char *part = query + i;
        const char *amp = memchr(part, '&', len - i);
        size_t plen = amp != NULL ? (size_t)(amp - part) : len - i;
        i += plen + 1;
        const char *eq = memchr(part, '=', plen);
        size_t raw_name_len = eq != NULL ? (size_t)(eq - part) : plen;
        char name[32];
        size_t name_len;
        if (plen == 0 || !pct_decode(name, sizeof(name), &name_len, part, raw_name_len)) {
            continue; /* not a name we pass, whatever it is */
        }
        size_t slot = SLOT_N;
        if (view_is(name, name_len, "x-oss-process")) {
            slot = SLOT_PROCESS;
        } else if (view_is(name, name_len, "versionId")) {
            slot = SLOT_VERSION;
        } else {
            enum gw_response_param r = gw_response_param_by_name(name, name_len);
            slot = r == GW_RESP_N ? SLOT_N : (size_t)r; /* GW_RESP_N is SLOT_PROCESS's number */
        }
        if (slot >= SLOT_N || !slot_allowed(pol, slot)) {
            continue;
        }
        const char *pname = slot_name(slot);
        if (seen[slot]) {
            return refuse(out, "%s given twice", pname);
        }
        seen[slot] = true;
        const char *raw = eq != NULL ? eq + 1 : part + plen;
        size_t raw_len = (size_t)(part + plen - raw);
        if (raw_len == 0) {
            return refuse(out, "%s needs a value", pname);
        }
        size_t cap = slot == SLOT_PROCESS                  ? GW_PROCESS_MAX
                     : slot == SLOT_VERSION                ? GW_PARAM_ARG_MAX
                     : slot == GW_RESP_CONTENT_DISPOSITION ? GW_DISPOSITION_IN_MAX
                                                           : GW_RESPONSE_MAX;
        char *dst = out->buf + used;
        size_t vlen;
        if (!pct_decode(dst, cap, &vlen, raw, raw_len)) {
            return refuse(out, "%s: bad percent-escape or too long", pname);
        }
        const char *r = NULL;
        if (slot == SLOT_PROCESS) {
            r = check_process(out, pol, dst, vlen);
        } else if (slot == SLOT_VERSION) {
            r = check_version(dst, vlen) ? NULL : refuse(out, "versionId: malformed");
        } else {
            /* decode into scratch at the end of buf, so a rebuilt disposition can be written at `dst` */
            char scratch[GW_DISPOSITION_IN_MAX];
            memcpy(scratch, dst, vlen);
            r = check_response(out, (enum gw_response_param)slot, scratch, vlen, dst, sizeof(out->buf) - used, &vlen);
        }
        if (r != NULL) {
            return r;
        }
        vals[slot] = (struct sgn_view){dst, vlen};
        used += vlen;
    }
    for (size_t s = 0; s < SLOT_N; s++) {
        if (!seen[s]) {
            continue;
        }
        struct sgn_pair p = {{slot_name(s), strlen(slot_name(s))}, vals[s]};
        size_t j = out->n++;
        while (j > 0 && sgn_view_cmp(out->pairs[j - 1].name, p.name) > 0) {
            out->pairs[j] = out->pairs[j - 1];
            j--;
        }
        out->pairs[j] = p;
    }
    return NULL;
}

void gw_params_canon(struct sgn_buf *b, const struct gw_params *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (i > 0) {
            sgn_buf_char(b, '&');
        }
        sgn_buf_view(b, p->pairs[i].name);
        sgn_buf_char(b, '=');
        sgn_buf_enc(b, p->pairs[i].value, false);
    }
}
