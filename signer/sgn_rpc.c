/* sgn_rpc.c: the POP RPC signature (sgn_rpc.h). The string to sign is fed to the HMAC as it is produced, in small
 * pieces, so that nothing depends on a buffer size and nothing is allocated. */
#include "sgn_rpc.h"

#include <string.h>

#include "sgn_buf.h"
#include "sgn_crypto.h"

static const char hex_upper[] = "0123456789ABCDEF";

/* feed_enc2 hashes enc(enc(v)): the canonical string holds enc(v), and the string to sign encodes it once more, so an
 * unreserved byte stays itself and any other byte c becomes "%25" followed by c's two hex digits. */
static void feed_enc2(struct sgn_hmac *h, struct sgn_view v)
{
    char chunk[96];
    size_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.base[i];
        if (n > sizeof(chunk) - 5) {
            sgn_hmac_update(h, chunk, n);
            n = 0;
        }
        if (sgn_unreserved[c]) {
            chunk[n++] = (char)c;
            continue;
        }
        memcpy(chunk + n, "%25", 3);
        chunk[n + 3] = hex_upper[c >> 4];
        chunk[n + 4] = hex_upper[c & 15];
        n += 5;
    }
    sgn_hmac_update(h, chunk, n);
}

static int view_cmp(struct sgn_view a, struct sgn_view b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n > 0 ? memcmp(a.base, b.base, n) : 0;
    if (c != 0) {
        return c;
    }
    return (a.len > b.len) - (a.len < b.len);
}

static enum sgn_status check_params(const struct sgn_rpc_param *params, size_t n)
{
    if (n > SGN_RPC_MAX_PARAMS) {
        return SGN_ERR_PARAMS;
    }
    for (size_t i = 0; i < n; i++) {
        struct sgn_view name = params[i].name;
        if (name.len == 0 || name.len > SGN_MAX_NAME || name.base == NULL || params[i].value.len > SGN_MAX_VALUE ||
            (params[i].value.len > 0 && params[i].value.base == NULL) || view_cmp(name, SGN_VIEW_LIT("Signature")) == 0) {
            return SGN_ERR_PARAMS;
        }
    }
    return SGN_OK;
}

/* base64_mac encodes the 20-byte MAC: six full groups of three bytes and a final group of two ("=" padded). */
static void base64_mac(char out[SGN_RPC_SIG_CAP], const uint8_t mac[SGN_SHA1_LEN])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < 18; i += 3) {
        uint32_t g = (uint32_t)mac[i] << 16 | (uint32_t)mac[i + 1] << 8 | mac[i + 2];
        for (int s = 18; s >= 0; s -= 6) {
            out[o++] = alphabet[g >> s & 63];
        }
    }
    uint32_t last = (uint32_t)mac[18] << 16 | (uint32_t)mac[19] << 8;
    out[o++] = alphabet[last >> 18 & 63];
    out[o++] = alphabet[last >> 12 & 63];
    out[o++] = alphabet[last >> 6 & 63];
    out[o++] = '=';
    out[o] = '\0';
}

enum sgn_status sgn_rpc_sign(char out[SGN_RPC_SIG_CAP], struct sgn_view method, const struct sgn_rpc_param *params, size_t n_params,
                             struct sgn_view secret)
{
    if (method.len == 0 || method.len > SGN_MAX_METHOD || method.base == NULL) {
        return SGN_ERR_METHOD;
    }
    for (size_t i = 0; i < method.len; i++) {
        if (method.base[i] < 'A' || method.base[i] > 'Z') {
            return SGN_ERR_METHOD;
        }
    }
    if (secret.len == 0 || secret.len > SGN_MAX_SECRET || secret.base == NULL) {
        return SGN_ERR_CREDENTIALS;
    }
    enum sgn_status st = check_params(params, n_params);
    if (st != SGN_OK) {
        return st;
    }

    /* Sort indexes by name (insertion sort: at most SGN_RPC_MAX_PARAMS); equal names are an error, as the SDKs keep
     * parameters in a map and a request with two values would be signed differently by each side. */
    unsigned char order[SGN_RPC_MAX_PARAMS];
    for (size_t i = 0; i < n_params; i++) {
        size_t j = i;
        while (j > 0) {
            int c = view_cmp(params[order[j - 1]].name, params[i].name);
            if (c == 0) {
                return SGN_ERR_PARAMS;
            }
            if (c < 0) {
                break;
            }
            order[j] = order[j - 1];
            j--;
        }
        order[j] = (unsigned char)i;
    }

    /* The key is secret "&": the SDKs append the (empty) token secret of the OAuth-like scheme. */
    char key[SGN_MAX_SECRET + 1];
    memcpy(key, secret.base, secret.len);
    key[secret.len] = '&';
    struct sgn_hmac h;
    sgn_hmac_sha1_init(&h, key, secret.len + 1);
    sgn_cleanse(key, sizeof(key));

    sgn_hmac_update(&h, method.base, method.len);
    sgn_hmac_update(&h, "&%2F&", 5);
    for (size_t k = 0; k < n_params; k++) {
        const struct sgn_rpc_param *p = &params[order[k]];
        if (k > 0) {
            sgn_hmac_update(&h, "%26", 3); /* enc("&") */
        }
        feed_enc2(&h, p->name);
        sgn_hmac_update(&h, "%3D", 3); /* enc("=") */
        feed_enc2(&h, p->value);
    }
    uint8_t mac[SGN_SHA1_LEN];
    sgn_hmac_final(&h, mac);
    base64_mac(out, mac);
    sgn_cleanse(mac, sizeof(mac));
    return SGN_OK;
}
