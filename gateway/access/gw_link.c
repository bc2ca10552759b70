/* gw_link.c: signed share links. The message format is in gw_link.h and must not change. */
#include "gw_link.h"

#include <stdio.h>
#include <string.h>

#include "gw_hex.h"

#include "sgn_crypto.h"

#define LINK_MAGIC "oss-gateway-link-v1\n"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const char *gw_link_strerror(enum gw_link_status st)
{
    switch (st) {
    case GW_LINK_OK:
        return "ok";
    case GW_LINK_ERR_MISSING:
        return "share link: e, k or s parameter missing";
    case GW_LINK_ERR_DUPLICATE:
        return "share link: e, k or s parameter given twice";
    case GW_LINK_ERR_ENCODING:
        return "share link: e, k or s badly percent-encoded or too long";
    case GW_LINK_ERR_EXPIRY_FORM:
        return "share link: e is not a Unix time";
    case GW_LINK_ERR_KEY_ID_FORM:
        return "share link: k is not a key id";
    case GW_LINK_ERR_SIG_FORM:
        return "share link: s is not a signature";
    case GW_LINK_ERR_UNKNOWN_KEY:
        return "share link: unknown key id";
    case GW_LINK_ERR_SIGNATURE:
        return "share link: bad signature";
    case GW_LINK_ERR_EXPIRED:
        return "share link: expired";
    case GW_LINK_ERR_TOO_LONG:
        return "share link: query too long";
    case GW_LINK_ERR_ARG:
        return "share link: invalid signing arguments";
    }
    return "share link: invalid";
}

bool gw_link_key_id_valid(const char *id, size_t id_len)
{
    if (id_len == 0 || id_len > GW_LINK_KEY_ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < id_len; i++) {
        char c = id[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* expiry_format writes `e` in decimal into `buf` (at least 14 bytes), returns the length; 0 when out of range. */
static size_t expiry_format(char *buf, int64_t e)
{
    if (e < 0 || e > GW_LINK_EXPIRY_MAX) {
        return 0;
    }
    char tmp[20];
    size_t n = 0;
    uint64_t v = (uint64_t)e;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++) {
        buf[i] = tmp[n - 1 - i];
    }
    return n;
}

static void mac_field(struct sgn_hmac *h, char tag, const char *v, size_t len)
{
    char head[32];
    int n = snprintf(head, sizeof head, "%c:%zu:", tag, len);
    sgn_hmac_update(h, head, (size_t)n); /* at most 1+1+20+1 bytes: always fits */
    sgn_hmac_update(h, v, len);
    sgn_hmac_update(h, "\n", 1);
}

static int param_cmp(const struct gw_link_param *a, const struct gw_link_param *b)
{
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c = memcmp(a->name, b->name, n);
    if (c != 0 || a->name_len != b->name_len) {
        return c != 0 ? c : (a->name_len < b->name_len ? -1 : 1);
    }
    n = a->value_len < b->value_len ? a->value_len : b->value_len;
    c = memcmp(a->value, b->value, n);
    if (c != 0 || a->value_len != b->value_len) {
        return c != 0 ? c : (a->value_len < b->value_len ? -1 : 1);
    }
    return 0;
}

static void base64url_32(char out[GW_LINK_SIG_LEN], const uint8_t in[SGN_SHA256_LEN])
{
    size_t o = 0;
    size_t i = 0;
    for (; i + 3 <= SGN_SHA256_LEN; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
        out[o++] = b64url[v & 63];
    }
    /* 32 = 30 + 2: the last two bytes give three characters */
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
    out[o++] = b64url[v >> 18 & 63];
    out[o++] = b64url[v >> 12 & 63];
    out[o] = b64url[v >> 6 & 63];
}

enum gw_link_status gw_link_mac(char out[GW_LINK_SIG_LEN], const struct gw_link_key *key, const char *prefix, size_t prefix_len,
                                const char *obj, size_t obj_len, int64_t expires, const struct gw_link_param *params,
                                size_t n_params)
{
    char e[20];
    size_t e_len = expiry_format(e, expires);
    if (e_len == 0 || !gw_link_key_id_valid(key->id, key->id_len)) {
        return GW_LINK_ERR_ARG;
    }
    for (size_t i = 1; i < n_params; i++) {
        if (param_cmp(&params[i - 1], &params[i]) > 0) {
            return GW_LINK_ERR_ARG;
        }
    }
    struct sgn_hmac h;
    uint8_t mac[SGN_SHA256_LEN];
    sgn_hmac_sha256_init(&h, key->secret, key->secret_len);
    sgn_hmac_update(&h, LINK_MAGIC, sizeof LINK_MAGIC - 1);
    mac_field(&h, 'k', key->id, key->id_len);
    mac_field(&h, 'r', prefix, prefix_len);
    mac_field(&h, 'o', obj, obj_len);
    mac_field(&h, 'e', e, e_len);
    for (size_t i = 0; i < n_params; i++) {
        mac_field(&h, 'q', params[i].name, params[i].name_len);
        mac_field(&h, 'v', params[i].value, params[i].value_len);
    }
    sgn_hmac_final(&h, mac); /* wipes h */
    base64url_32(out, mac);
    sgn_cleanse(mac, sizeof mac);
    return GW_LINK_OK;
}

enum gw_link_status gw_link_sign(char *out, size_t out_cap, size_t *out_len, const struct gw_link_key *key, const char *prefix,
                                 size_t prefix_len, const char *obj, size_t obj_len, int64_t expires)
{
    char sig[GW_LINK_SIG_LEN];
    enum gw_link_status st = gw_link_mac(sig, key, prefix, prefix_len, obj, obj_len, expires, NULL, 0);
    if (st != GW_LINK_OK) {
        return st;
    }
    int n = snprintf(out, out_cap, "e=%lld&k=%.*s&s=%.*s", (long long)expires, (int)key->id_len, key->id, GW_LINK_SIG_LEN, sig);
    if (n < 0 || (size_t)n >= out_cap) {
        return GW_LINK_ERR_ARG;
    }
    *out_len = (size_t)n;
    return GW_LINK_OK;
}

/* pct_decode decodes `len` bytes of `s` into `out` (capacity `cap`); false on a bad escape or too little room. */
static bool pct_decode(char *out, size_t cap, size_t *out_len, const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = len - i < 3 ? -1 : gw_hexval(s[i + 1]);
            int lo = len - i < 3 ? -1 : gw_hexval(s[i + 2]);
            if (hi < 0 || lo < 0) {
                return false;
            }
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (o >= cap) {
            return false;
        }
        out[o++] = c;
    }
    *out_len = o;
    return true;
}

/* which_param says whether the (raw) name is e, k or s (each possibly percent-encoded): 0, 1, 2, or -1. */
static int which_param(const char *name, size_t len)
{
    char dec[3];
    size_t n;
    /* a name longer than 3 raw bytes ("%65" is 'e') cannot decode to one character */
    if (len > 3 || !pct_decode(dec, sizeof dec, &n, name, len) || n != 1) {
        return -1;
    }
    switch (dec[0]) {
    case 'e':
        return 0;
    case 'k':
        return 1;
    case 's':
        return 2;
    default:
        return -1;
    }
}

enum gw_link_status gw_link_parse(struct gw_link_claim *out, const char *q, size_t q_len)
{
    const char *val[3] = {NULL, NULL, NULL};
    size_t val_len[3] = {0, 0, 0};

    if (q_len > GW_LINK_QUERY_MAX) {
        return GW_LINK_ERR_TOO_LONG;
    }
    size_t i = 0;
    while (i <= q_len) {
        const char *amp = q_len > i ? memchr(q + i, '&', q_len - i) : NULL;
        size_t end = amp != NULL ? (size_t)(amp - q) : q_len;
        const char *p = q + i;
        size_t plen = end - i;
        const char *eq = plen > 0 ? memchr(p, '=', plen) : NULL;
        size_t nlen = eq != NULL ? (size_t)(eq - p) : plen;
        int w = which_param(p, nlen);
        if (w >= 0) {
            if (val[w] != NULL) {
                return GW_LINK_ERR_DUPLICATE;
            }
            val[w] = eq != NULL ? eq + 1 : p + plen;
            val_len[w] = eq != NULL ? plen - nlen - 1 : 0;
        }
        i = end + 1;
    }
    if (val[0] == NULL || val[1] == NULL || val[2] == NULL) {
        return GW_LINK_ERR_MISSING;
    }
    char dec[3][GW_LINK_PARAM_RAW_MAX];
    size_t dec_len[3];
    for (int k = 0; k < 3; k++) {
        if (val_len[k] > GW_LINK_PARAM_RAW_MAX || !pct_decode(dec[k], sizeof dec[k], &dec_len[k], val[k], val_len[k])) {
            return GW_LINK_ERR_ENCODING;
        }
    }
    /* e: decimal, no sign, no leading zero, at most 13 digits */
    if (dec_len[0] == 0 || dec_len[0] > 13 || (dec_len[0] > 1 && dec[0][0] == '0')) {
        return GW_LINK_ERR_EXPIRY_FORM;
    }
    int64_t e = 0;
    for (size_t k = 0; k < dec_len[0]; k++) {
        if (dec[0][k] < '0' || dec[0][k] > '9') {
            return GW_LINK_ERR_EXPIRY_FORM;
        }
        e = e * 10 + (dec[0][k] - '0');
    }
    if (!gw_link_key_id_valid(dec[1], dec_len[1])) {
        return GW_LINK_ERR_KEY_ID_FORM;
    }
    if (dec_len[2] != GW_LINK_SIG_LEN) {
        return GW_LINK_ERR_SIG_FORM;
    }
    for (size_t k = 0; k < GW_LINK_SIG_LEN; k++) {
        if (memchr(b64url, dec[2][k], sizeof b64url - 1) == NULL || dec[2][k] == '\0') {
            return GW_LINK_ERR_SIG_FORM;
        }
    }
    out->expires = e;
    memcpy(out->key_id, dec[1], dec_len[1]);
    out->key_id[dec_len[1]] = '\0';
    out->key_id_len = dec_len[1];
    memcpy(out->sig, dec[2], GW_LINK_SIG_LEN);
    out->sig[GW_LINK_SIG_LEN] = '\0';
    return GW_LINK_OK;
}

enum gw_link_status gw_link_verify(struct gw_link_claim *claim, const struct gw_link_key *keys, size_t n_keys, const char *prefix,
                                   size_t prefix_len, const char *obj, size_t obj_len, const char *q, size_t q_len, int64_t now)
{
    struct gw_link_claim c;
    enum gw_link_status st = gw_link_parse(&c, q, q_len);
    if (st != GW_LINK_OK) {
        return st;
    }
    const struct gw_link_key *key = NULL;
    for (size_t i = 0; i < n_keys; i++) {
        /* key ids are public: an ordinary compare is fine */
        if (keys[i].id_len == c.key_id_len && memcmp(keys[i].id, c.key_id, c.key_id_len) == 0) {
            key = &keys[i];
            break;
        }
    }
    if (key == NULL) {
        return GW_LINK_ERR_UNKNOWN_KEY;
    }
    char want[GW_LINK_SIG_LEN];
    st = gw_link_mac(want, key, prefix, prefix_len, obj, obj_len, c.expires, NULL, 0);
    if (st != GW_LINK_OK) {
        return GW_LINK_ERR_SIGNATURE;
    }
    /* Comparing the base64url text, not decoded bytes, also refuses the non-canonical spellings of the last
     * character (its two low bits are padding), so one MAC has exactly one valid s. */
    int same = sgn_ct_equal(want, c.sig, GW_LINK_SIG_LEN);
    sgn_cleanse(want, sizeof want);
    if (same != 1) {
        return GW_LINK_ERR_SIGNATURE;
    }
    if (now > c.expires) {
        return GW_LINK_ERR_EXPIRED;
    }
    if (claim != NULL) {
        *claim = c;
    }
    return GW_LINK_OK;
}
