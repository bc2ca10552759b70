/* fuzz_link.c: libFuzzer target for the signed share link verifier (gw_link_verify) and signer (gw_link_sign).
 *
 * Input: byte 0 selects the mode.
 *   even: the rest is a raw query, verified for object "obj" on route "/p/" against two keys;
 *   odd:  bytes 1-8 give the expiry, byte 9 the key, then the object key up to the first 0x00 and the rest is extra
 *         query text; the link is minted for that object and the extra text appended after '&'.
 * Invariants: every answer is a status with a distinct one-line reason; a link verified re-signs to the same s, and
 * its e and k are the ones in the query; a minted link verifies (OK, or EXPIRED when its e is past, or DUPLICATE when
 * the extra text repeats e, k or s), and exactly OK when the extra text holds no 'e', 'k', 's' or '%'. Deterministic:
 * `now` is fixed, no RNG or globals. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "gw_link.h"
#include "fuzz_check.h"

#define NOW 1800000000LL
#define PREFIX "/p/"

static const uint8_t s1[] = "fuzz-link-secret-one";
static const uint8_t s2[] = "fuzz-link-secret-two-longer-than-the-first";

static void check_round_trip(const struct gw_link_key *keys, const struct gw_link_claim *c, const char *obj, size_t obj_len)
{
    const struct gw_link_key *k = NULL;
    for (int i = 0; i < 2; i++) {
        if (keys[i].id_len == c->key_id_len && memcmp(keys[i].id, c->key_id, c->key_id_len) == 0) {
            k = &keys[i];
        }
    }
    CHECK(k != NULL);
    CHECK(c->expires >= NOW);
    char q[GW_LINK_QUERY_LEN_MAX];
    size_t q_len = 0;
    CHECK(gw_link_sign(q, sizeof q, &q_len, k, PREFIX, sizeof PREFIX - 1, obj, obj_len, c->expires) == GW_LINK_OK);
    const char *s = strstr(q, "&s=");
    CHECK(s != NULL && strlen(s + 3) == GW_LINK_SIG_LEN && memcmp(s + 3, c->sig, GW_LINK_SIG_LEN) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct gw_link_key keys[2] = {{"k1", 2, s1, sizeof s1 - 1}, {"key_2-x", 7, s2, sizeof s2 - 1}};
    static char q[GW_LINK_QUERY_MAX + GW_LINK_QUERY_LEN_MAX + 2];
    struct gw_link_claim c;
    enum gw_link_status st;

    if (size < 1) {
        return 0;
    }
    if ((data[0] & 1) == 0) {
        const char *query = (const char *)data + 1;
        size_t len = size - 1;
        st = gw_link_verify(&c, keys, 2, PREFIX, sizeof PREFIX - 1, "obj", 3, query, len, NOW);
        const char *why = gw_link_strerror(st);
        CHECK(why != NULL && strchr(why, '\n') == NULL);
        CHECK(st >= GW_LINK_OK && st < GW_LINK_ERR_ARG);
        if (st == GW_LINK_OK) {
            check_round_trip(keys, &c, "obj", 3);
        }
        return 0;
    }
    if (size < 10) {
        return 0;
    }
    uint64_t e = 0;
    for (int i = 1; i <= 8; i++) {
        e = e << 8 | data[i];
    }
    int64_t expires = (int64_t)(e % ((uint64_t)GW_LINK_EXPIRY_MAX + 1));
    const struct gw_link_key *k = &keys[data[9] & 1];
    const char *obj = (const char *)data + 10;
    size_t rest = size - 10;
    const char *nul = memchr(obj, '\0', rest);
    size_t obj_len = nul != NULL ? (size_t)(nul - obj) : rest;
    const char *extra = nul != NULL ? nul + 1 : obj + rest;
    size_t extra_len = nul != NULL ? rest - obj_len - 1 : 0;
    if (extra_len > GW_LINK_QUERY_MAX) {
        extra_len = GW_LINK_QUERY_MAX;
    }
    size_t q_len = 0;
    CHECK(gw_link_sign(q, GW_LINK_QUERY_LEN_MAX, &q_len, k, PREFIX, sizeof PREFIX - 1, obj, obj_len, expires) == GW_LINK_OK);
    q[q_len++] = '&';
    memcpy(q + q_len, extra, extra_len);
    q_len += extra_len;
    st = gw_link_verify(&c, keys, 2, PREFIX, sizeof PREFIX - 1, obj, obj_len, q, q_len, NOW);
    bool plain = memchr(extra, 'e', extra_len) == NULL && memchr(extra, 'k', extra_len) == NULL &&
                 memchr(extra, 's', extra_len) == NULL && memchr(extra, '%', extra_len) == NULL;
    if (q_len > GW_LINK_QUERY_MAX) {
        CHECK(st == GW_LINK_ERR_TOO_LONG);
    } else if (expires < NOW) {
        CHECK(st == GW_LINK_ERR_EXPIRED || (!plain && st == GW_LINK_ERR_DUPLICATE));
    } else if (plain) {
        CHECK(st == GW_LINK_OK);
    } else {
        CHECK(st == GW_LINK_OK || st == GW_LINK_ERR_DUPLICATE);
    }
    if (st == GW_LINK_OK) {
        CHECK(c.expires == expires && c.key_id_len == k->id_len && memcmp(c.key_id, k->id, k->id_len) == 0);
        check_round_trip(keys, &c, obj, obj_len);
    }
    return 0;
}
