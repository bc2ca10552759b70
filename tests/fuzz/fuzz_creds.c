/* fuzz_creds.c: libFuzzer target for the credential-response parser (gw_creds_parse). The first byte picks the format
 * (ECS metadata, STS, credentials URI); the rest is the body. Deterministic: `now` is fixed. Checks that an accepted
 * set is within its bounds and valid at `now`, and that a rejected one leaves nothing behind and says why. */
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "gw_creds.h"
#include "sgn.h"

#define NOW 1796688000 /* 2026-12-08T00:00:00Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    enum gw_creds_format f = (enum gw_creds_format)(data[0] % 3);
    struct gw_creds c;
    char err[256];
    err[0] = '\0';
    if (gw_creds_parse(&c, f, (const char *)data + 1, size - 1, NOW, err, sizeof(err)) == 0) {
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
