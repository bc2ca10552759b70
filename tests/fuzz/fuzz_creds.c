/* fuzz_creds.c: libFuzzer target for the credential-response parsers: gw_creds_parse and, when the first byte has its
 * high bit set, first the outbound client's HTTP response parser (gw_fetch_parse_response), whose body then goes to
 * gw_creds_parse. The low bits of the first byte pick the format (ECS metadata, STS, credentials URI). Deterministic:
 * `now` is fixed. Checks that an accepted set is within its bounds and valid at `now`, that a rejected one leaves
 * nothing behind and says why, and that the HTTP parser never reports more body than it was given room for. */
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "gw_fetch.h"
#include "gw_creds.h"
#include "sgn.h"

#define NOW 1796688000 /* 2026-12-08T00:00:00Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    enum gw_creds_format f = (enum gw_creds_format)((data[0] & 0x7f) % 3);
    const char *body = (const char *)data + 1;
    size_t body_len = size - 1;
    static char http_body[GW_FETCH_MAX_BODY];
    if (data[0] & 0x80) {
        /* The bytes as received; the body cap is small so that the fuzzer reaches the over-the-cap paths. */
        size_t cap = 4096;
        int status = 0;
        char herr[256] = "";
        enum gw_fetch_parse st = gw_fetch_parse_response(body, body_len, (data[0] & 0x40) != 0, false, &status, http_body, cap,
                                                         &body_len, herr, sizeof(herr));
        if (st != GW_FETCH_PARSE_DONE) {
            CHECK(st == GW_FETCH_PARSE_MORE || (herr[0] != '\0' && strchr(herr, '\n') == NULL));
            return 0;
        }
        CHECK(status >= 200 && status <= 599 && body_len <= cap);
        body = http_body;
    }
    struct gw_creds c;
    char err[256];
    err[0] = '\0';
    if (gw_creds_parse(&c, f, body, body_len, NOW, err, sizeof(err)) == 0) {
        CHECK(c.access_key_id_len >= 1 && c.access_key_id_len <= SGN_MAX_ID && strlen(c.access_key_id) == c.access_key_id_len);
        CHECK(c.secret_len >= 1 && c.secret_len <= SGN_MAX_SECRET && strlen(c.secret) == c.secret_len);
        CHECK(c.token_len >= 1 && c.token_len <= SGN_MAX_TOKEN && strlen(c.token) == c.token_len);
        CHECK(c.expiration > NOW && c.expiration - NOW <= GW_CREDS_MAX_LIFETIME);
        CHECK(gw_creds_lifetime_left(&c, NOW) == c.expiration - NOW);
        int64_t at = gw_creds_refresh_at(NOW, c.expiration, 600, 60);
        CHECK(at >= NOW && at < c.expiration);
        gw_creds_cleanup(&c);
    } else {
        CHECK(c.secret == NULL && c.access_key_id == NULL && c.token == NULL);
        CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
    }
    return 0;
}
