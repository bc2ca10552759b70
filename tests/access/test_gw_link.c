/* test_gw_link.c: signed share links. Every expected signature is computed here by `openssl dgst -hmac` (an
 * independent HMAC) over the message built by this test from the format documented in gw_link.h, not from our code. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_link.h"

#define NOW 1800000000LL

static const uint8_t secret1[] = "link-secret-one-0123456789";
static const uint8_t secret2[] = "link-secret-two-abcdefghij";

static struct gw_link_key key(const char *id, const uint8_t *secret, size_t secret_len)
{
    struct gw_link_key k = {id, strlen(id), secret, secret_len};
    return k;
}

/* field appends T ":" len ":" V "\n" to the message, as gw_link.h documents it. */
static size_t field(char *m, size_t off, char tag, const char *v, size_t len)
{
    int n = snprintf(m + off, 64, "%c:%zu:", tag, len);
    cr_assert(n > 0);
    off += (size_t)n;
    memcpy(m + off, v, len);
    off += len;
    m[off++] = '\n';
    return off;
}

/* openssl_sig returns (in `out`, 44 bytes) the base64url HMAC-SHA256 of `msg` under `secret`, by the openssl CLI. */
static void openssl_sig(char *out, const uint8_t *secret, size_t secret_len, const char *msg, size_t msg_len)
{
    char path[] = "/tmp/gw_link_msgXXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, msg, msg_len), (ssize_t)msg_len);
    close(fd);
    char hex[2 * 256 + 1];
    cr_assert(secret_len <= 256);
    for (size_t i = 0; i < secret_len; i++) {
        snprintf(hex + 2 * i, 3, "%02x", secret[i]);
    }
    hex[2 * secret_len] = '\0';
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "openssl dgst -sha256 -mac HMAC -macopt hexkey:%s -binary %s | base64 -w0 | tr '+/' '-_' | tr -d '=\\n'", hex, path);
    FILE *p = popen(cmd, "r");
    cr_assert(p != NULL);
    size_t n = fread(out, 1, 43, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0);
    unlink(path);
    cr_assert_eq(n, 43, "openssl gave %zu characters", n);
}

static void expected(char *out, const struct gw_link_key *k, const char *prefix, const char *obj, size_t obj_len, const char *e)
{
    static char m[4096];
    size_t off = 0;
    memcpy(m, "oss-gateway-link-v1\n", 20);
    off = 20;
    off = field(m, off, 'k', k->id, k->id_len);
    off = field(m, off, 'r', prefix, strlen(prefix));
    off = field(m, off, 'o', obj, obj_len);
    off = field(m, off, 'e', e, strlen(e));
    openssl_sig(out, k->secret, k->secret_len, m, off);
}

static void check_vector(const struct gw_link_key *k, const char *prefix, const char *obj, size_t obj_len, int64_t e,
                         const char *e_text)
{
    char want[44];
    char q[GW_LINK_QUERY_LEN_MAX];
    char want_q[256];
    size_t q_len = 0;
    expected(want, k, prefix, obj, obj_len, e_text);
    cr_assert_eq(gw_link_sign(q, sizeof q, &q_len, k, prefix, strlen(prefix), obj, obj_len, e), GW_LINK_OK);
    snprintf(want_q, sizeof want_q, "e=%s&k=%.*s&s=%s", e_text, (int)k->id_len, k->id, want);
    cr_assert_str_eq(q, want_q);
    cr_assert_eq(q_len, strlen(want_q));
    cr_assert_eq(gw_link_verify(NULL, k, 1, prefix, strlen(prefix), obj, obj_len, q, q_len, e), GW_LINK_OK);
}

Test(gw_link, matches_openssl_hmac_for_plain_key)
{
    struct gw_link_key k = key("k1", secret1, sizeof secret1 - 1);
    check_vector(&k, "/private/", "secret/report.pdf", 17, 1800003600, "1800003600");
}

Test(gw_link, matches_openssl_hmac_for_key_with_newlines_colons_and_binary)
{
    static const char obj[] = "a:3:\nb\x00\xff/\xc3\xa9t\xc3\xa9 %2F.txt";
    struct gw_link_key k = key("rot-2027_a", secret2, sizeof secret2 - 1);
    check_vector(&k, "/p/", obj, sizeof obj - 1, 0, "0");
    check_vector(&k, "/", obj, sizeof obj - 1, 9999999999999LL, "9999999999999");
}

Test(gw_link, matches_openssl_hmac_for_secret_longer_than_a_block)
{
    uint8_t longsecret[100];
    for (size_t i = 0; i < sizeof longsecret; i++) {
        longsecret[i] = (uint8_t)(i * 7 + 1);
    }
    struct gw_link_key k = key("long", longsecret, sizeof longsecret);
    check_vector(&k, "/share/", "x", 1, 1234567890, "1234567890");
}

Test(gw_link, extension_params_follow_the_documented_format)
{
    struct gw_link_key k = key("k1", secret1, sizeof secret1 - 1);
    struct gw_link_param ps[2] = {{"x-oss-process", 13, "image/resize,w_100", 18}, {"z", 1, "", 0}};
    char got[GW_LINK_SIG_LEN + 1] = {0};
    char base[GW_LINK_SIG_LEN + 1] = {0};
    char want[44];
    static char m[512];
    size_t off = 20;
    memcpy(m, "oss-gateway-link-v1\n", 20);
    off = field(m, off, 'k', "k1", 2);
    off = field(m, off, 'r', "/img/", 5);
    off = field(m, off, 'o', "a.jpg", 5);
    off = field(m, off, 'e', "100", 3);
    off = field(m, off, 'q', "x-oss-process", 13);
    off = field(m, off, 'v', "image/resize,w_100", 18);
    off = field(m, off, 'q', "z", 1);
    off = field(m, off, 'v', "", 0);
    openssl_sig(want, k.secret, k.secret_len, m, off);
    cr_assert_eq(gw_link_mac(got, &k, "/img/", 5, "a.jpg", 5, 100, ps, 2), GW_LINK_OK);
    cr_assert_str_eq(got, want);
    /* no parameters: the base message, unchanged by the extension */
    cr_assert_eq(gw_link_mac(base, &k, "/img/", 5, "a.jpg", 5, 100, NULL, 0), GW_LINK_OK);
    expected(want, &k, "/img/", "a.jpg", 5, "100");
    cr_assert_str_eq(base, want);
    /* out of canonical order: refused */
    struct gw_link_param rev[2] = {ps[1], ps[0]};
    cr_assert_eq(gw_link_mac(got, &k, "/img/", 5, "a.jpg", 5, 100, rev, 2), GW_LINK_ERR_ARG);
}

struct fixture {
    struct gw_link_key keys[2];
    char q[GW_LINK_QUERY_LEN_MAX];
    size_t q_len;
};

static void mint(struct fixture *f, int which, const char *prefix, const char *obj, int64_t e)
{
    f->keys[0] = key("k1", secret1, sizeof secret1 - 1);
    f->keys[1] = key("k2", secret2, sizeof secret2 - 1);
    cr_assert_eq(gw_link_sign(f->q, sizeof f->q, &f->q_len, &f->keys[which], prefix, strlen(prefix), obj, strlen(obj), e),
                 GW_LINK_OK);
}

static enum gw_link_status verify_q(const struct fixture *f, size_t n_keys, const char *prefix, const char *obj, const char *q,
                                    int64_t now)
{
    return gw_link_verify(NULL, f->keys, n_keys, prefix, strlen(prefix), obj, strlen(obj), q, strlen(q), now);
}

Test(gw_link, rotation_accepts_both_keys_and_refuses_a_removed_one)
{
    struct fixture f;
    mint(&f, 0, "/private/", "a.pdf", NOW + 60);
    cr_assert_eq(verify_q(&f, 2, "/private/", "a.pdf", f.q, NOW), GW_LINK_OK);
    struct fixture g;
    mint(&g, 1, "/private/", "a.pdf", NOW + 60);
    cr_assert_eq(verify_q(&g, 2, "/private/", "a.pdf", g.q, NOW), GW_LINK_OK);
    /* k1 removed: only k2 configured */
    struct gw_link_key only2[1] = {g.keys[1]};
    cr_assert_eq(gw_link_verify(NULL, only2, 1, "/private/", 9, "a.pdf", 5, f.q, f.q_len, NOW), GW_LINK_ERR_UNKNOWN_KEY);
    cr_assert_str_eq(gw_link_strerror(GW_LINK_ERR_UNKNOWN_KEY), "share link: unknown key id");
}

Test(gw_link, each_failure_has_its_own_reason)
{
    struct fixture f;
    mint(&f, 0, "/private/", "a.pdf", NOW);
    struct gw_link_claim c;
    cr_assert_eq(gw_link_verify(&c, f.keys, 2, "/private/", 9, "a.pdf", 5, f.q, f.q_len, NOW), GW_LINK_OK);
    cr_assert_eq(c.expires, NOW);
    cr_assert_str_eq(c.key_id, "k1");
    cr_assert_eq(verify_q(&f, 2, "/private/", "a.pdf", f.q, NOW + 1), GW_LINK_ERR_EXPIRED);
    cr_assert_eq(verify_q(&f, 2, "/other/", "a.pdf", f.q, NOW), GW_LINK_ERR_SIGNATURE);
    cr_assert_eq(verify_q(&f, 2, "/private/", "b.pdf", f.q, NOW), GW_LINK_ERR_SIGNATURE);
    /* the same key id with another secret: a foreign signature */
    struct gw_link_key foreign = key("k1", secret2, sizeof secret2 - 1);
    cr_assert_eq(gw_link_verify(NULL, &foreign, 1, "/private/", 9, "a.pdf", 5, f.q, f.q_len, NOW), GW_LINK_ERR_SIGNATURE);
    const char *reasons[12];
    for (int st = 0; st <= GW_LINK_ERR_ARG; st++) {
        reasons[st] = gw_link_strerror((enum gw_link_status)st);
        cr_assert(strchr(reasons[st], '\n') == NULL);
        for (int j = 0; j < st; j++) {
            cr_assert(strcmp(reasons[st], reasons[j]) != 0, "status %d and %d share a reason", st, j);
        }
    }
}

Test(gw_link, every_flipped_signature_character_is_refused)
{
    struct fixture f;
    mint(&f, 0, "/private/", "a.pdf", NOW + 10);
    char *s = strstr(f.q, "&s=") + 3;
    for (size_t i = 0; i < GW_LINK_SIG_LEN; i++) {
        char saved = s[i];
        s[i] = saved == 'A' ? 'B' : 'A';
        cr_assert_eq(verify_q(&f, 2, "/private/", "a.pdf", f.q, NOW), GW_LINK_ERR_SIGNATURE, "flip at %zu", i);
        s[i] = saved;
    }
    /* the last character's two low bits are padding: another spelling of the same MAC is still refused */
    char saved = s[42];
    const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t idx = (size_t)(strchr(alpha, saved) - alpha);
    s[42] = alpha[idx ^ 1];
    cr_assert_eq(verify_q(&f, 2, "/private/", "a.pdf", f.q, NOW), GW_LINK_ERR_SIGNATURE);
    s[42] = saved;
}

Test(gw_link, parses_strictly)
{
    struct fixture f;
    mint(&f, 0, "/p/", "k", 100);
    const char *sig = strstr(f.q, "&s=") + 3;
    char q[512];
#define V(fmt, want)                                                                                                               \
    do {                                                                                                                           \
        snprintf(q, sizeof q, fmt, sig);                                                                                           \
        cr_assert_eq(verify_q(&f, 2, "/p/", "k", q, 50), want, "%s", q);                                                           \
    } while (0)
    V("e=100&k=k1&s=%s", GW_LINK_OK);
    V("x=1&e=100&&k=k1&y&s=%s&z=", GW_LINK_OK);
    V("%%65=100&k=%%6B%%31&%%73=%s", GW_LINK_OK); /* percent-encoded names and values */
    V("e=100&k=k1&s=%s&e=100", GW_LINK_ERR_DUPLICATE);
    V("e=100&%%65=100&k=k1&s=%s", GW_LINK_ERR_DUPLICATE);
    V("k=k1&s=%s", GW_LINK_ERR_MISSING);
    V("e=100&s=%s", GW_LINK_ERR_MISSING);
    V("e=100&k=k1&S=%s", GW_LINK_ERR_MISSING);
    V("e=100&k=k%%G1&s=%s", GW_LINK_ERR_ENCODING);
    V("e=100&k=k%%3&s=%s", GW_LINK_ERR_ENCODING);
    V("e=0100&k=k1&s=%s", GW_LINK_ERR_EXPIRY_FORM);
    V("e=-100&k=k1&s=%s", GW_LINK_ERR_EXPIRY_FORM);
    V("e=+100&k=k1&s=%s", GW_LINK_ERR_EXPIRY_FORM);
    V("e=&k=k1&s=%s", GW_LINK_ERR_EXPIRY_FORM);
    V("e=10000000000000&k=k1&s=%s", GW_LINK_ERR_EXPIRY_FORM);
    V("e=100&k=k1.&s=%s", GW_LINK_ERR_KEY_ID_FORM);
    V("e=100&k=&s=%s", GW_LINK_ERR_KEY_ID_FORM);
    V("e=100&k=k1&s=%sA", GW_LINK_ERR_SIG_FORM);
    V("e=100&k=k3&s=%s", GW_LINK_ERR_UNKNOWN_KEY);
    V("e=101&k=k1&s=%s", GW_LINK_ERR_SIGNATURE);
    V("e=100&k=k2&s=%s", GW_LINK_ERR_SIGNATURE);
#undef V
    cr_assert_eq(verify_q(&f, 2, "/p/", "k", "e=100&k=k1&s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+", 50), GW_LINK_ERR_SIG_FORM);
    cr_assert_eq(verify_q(&f, 2, "/p/", "k", "e=100&k=k1&s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%00", 50),
                 GW_LINK_ERR_SIG_FORM);
    char big[GW_LINK_PARAM_RAW_MAX + 20];
    memset(big, 'a', sizeof big);
    memcpy(big, "e=100&k=k1&s=", 13);
    big[sizeof big - 1] = '\0';
    cr_assert_eq(verify_q(&f, 2, "/p/", "k", big, 50), GW_LINK_ERR_ENCODING);
    static char huge[GW_LINK_QUERY_MAX + 2];
    memset(huge, 'x', sizeof huge - 1);
    cr_assert_eq(verify_q(&f, 2, "/p/", "k", huge, 50), GW_LINK_ERR_TOO_LONG);
}

Test(gw_link, fields_cannot_slide_into_each_other)
{
    struct gw_link_key k = key("k1", secret1, sizeof secret1 - 1);
    char a[GW_LINK_SIG_LEN];
    char b[GW_LINK_SIG_LEN];
    cr_assert_eq(gw_link_mac(a, &k, "/p/", 3, "ab", 2, 5, NULL, 0), GW_LINK_OK);
    cr_assert_eq(gw_link_mac(b, &k, "/p/a", 4, "b", 1, 5, NULL, 0), GW_LINK_OK);
    cr_assert(memcmp(a, b, sizeof a) != 0);
}

Test(gw_link, sign_refuses_bad_arguments)
{
    struct gw_link_key k = key("k 1", secret1, sizeof secret1 - 1);
    char q[GW_LINK_QUERY_LEN_MAX];
    size_t n = 0;
    cr_assert_eq(gw_link_sign(q, sizeof q, &n, &k, "/", 1, "a", 1, 5), GW_LINK_ERR_ARG);
    k = key("k1", secret1, sizeof secret1 - 1);
    cr_assert_eq(gw_link_sign(q, sizeof q, &n, &k, "/", 1, "a", 1, -1), GW_LINK_ERR_ARG);
    cr_assert_eq(gw_link_sign(q, sizeof q, &n, &k, "/", 1, "a", 1, GW_LINK_EXPIRY_MAX + 1), GW_LINK_ERR_ARG);
    cr_assert_eq(gw_link_sign(q, 10, &n, &k, "/", 1, "a", 1, 5), GW_LINK_ERR_ARG);
    /* the longest query fits GW_LINK_QUERY_LEN_MAX */
    k = key("abcdefghijklmnopqrstuvwxyz012345", secret1, sizeof secret1 - 1);
    cr_assert_eq(gw_link_sign(q, sizeof q, &n, &k, "/", 1, "a", 1, GW_LINK_EXPIRY_MAX), GW_LINK_OK);
    cr_assert_eq(n + 1, sizeof q);
}
