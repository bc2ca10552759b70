/* test_gw_creds.c: the credential response parsers and the renewal arithmetic (gateway/creds/gw_creds.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_creds.h"

/* 2026-12-08T00:00:00Z */
#define NOW 1796688000

static int parse(struct gw_creds *c, enum gw_creds_format f, const char *body, char *err, size_t cap)
{
    return gw_creds_parse(c, f, body, strlen(body), NOW, err, cap);
}

#define ECS_OK                                                                                                                     \
    "{\"AccessKeyId\":\"STS.NUh5Ua\",\"AccessKeySecret\":\"9PgZ4s/x+y\",\"Expiration\":\"2026-12-08T06:00:00Z\","                  \
    "\"SecurityToken\":\"CAIS+tok/en==\",\"LastUpdated\":\"2026-12-08T00:00:00Z\",\"Code\":\"Success\"}"

Test(gw_creds, ecs_success)
{
    struct gw_creds c;
    char err[256] = "";
    cr_assert_eq(parse(&c, GW_CREDS_ECS, ECS_OK, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(c.access_key_id, "STS.NUh5Ua");
    cr_assert_eq(c.access_key_id_len, 10);
    cr_assert_str_eq(c.secret, "9PgZ4s/x+y");
    cr_assert_str_eq(c.token, "CAIS+tok/en==");
    cr_assert_eq(c.expiration, NOW + 6 * 3600);
    cr_assert_eq(c.last_updated, NOW);
    cr_assert_eq(gw_creds_lifetime_left(&c, NOW + 100), 6 * 3600 - 100);
    cr_assert_eq(gw_creds_lifetime_left(&c, NOW + 6 * 3600), 0);
    struct gw_creds d;
    cr_assert_eq(gw_creds_copy(&d, &c), 0);
    cr_assert_str_eq(d.secret, c.secret);
    cr_assert_neq(d.secret, c.secret);
    gw_creds_cleanup(&c);
    cr_assert_null(c.secret);
    gw_creds_cleanup(&d);
    gw_creds_cleanup(NULL);
}

struct bad_case {
    enum gw_creds_format f;
    const char *body;
    const char *reason; /* a substring of the error */
};

Test(gw_creds, rejects_each_defect_with_its_reason)
{
    static const struct bad_case cases[] = {
        {GW_CREDS_ECS, "", "not JSON"},
        {GW_CREDS_ECS, "{\"Code\":\"Success\"", "not JSON"},
        {GW_CREDS_ECS, "[1]", "not a JSON object"},
        {GW_CREDS_ECS, "<html>404</html>", "not JSON"},
        {GW_CREDS_ECS,
         "{\"AccessKeyId\":\"a\",\"AccessKeySecret\":\"b\",\"SecurityToken\":\"c\",\"Expiration\":\"2026-12-08T06:00:00Z\"}",
         "no Code"},
        {GW_CREDS_ECS, "{\"Code\":\"Failed\"}", "Code is \"Failed\""},
        {GW_CREDS_ECS, "{\"Code\":\"Success\\u0000x\"}", "not JSON"},
        {GW_CREDS_ECS,
         "{\"Code\":\"Success\",\"AccessKeySecret\":\"b\",\"SecurityToken\":\"c\",\"Expiration\":\"2026-12-08T06:00:00Z\"}",
         "no AccessKeyId"},
        {GW_CREDS_ECS,
         "{\"Code\":\"Success\",\"AccessKeyId\":\"a\",\"SecurityToken\":\"c\",\"Expiration\":\"2026-12-08T06:00:00Z\"}",
         "no AccessKeySecret"},
        {GW_CREDS_ECS,
         "{\"Code\":\"Success\",\"AccessKeyId\":\"a\",\"AccessKeySecret\":\"b\",\"Expiration\":\"2026-12-08T06:00:00Z\"}",
         "no SecurityToken"},
        {GW_CREDS_ECS, "{\"Code\":\"Success\",\"AccessKeyId\":\"a\",\"AccessKeySecret\":\"b\",\"SecurityToken\":\"c\"}",
         "no Expiration"},
        {GW_CREDS_ECS,
         "{\"Code\":\"Success\",\"AccessKeyId\":7,\"AccessKeySecret\":\"b\",\"SecurityToken\":\"c\",\"Expiration\":\"x\"}",
         "AccessKeyId is not a string"},
        {GW_CREDS_ECS,
         "{\"Code\":\"Success\",\"AccessKeyId\":\"\",\"AccessKeySecret\":\"b\",\"SecurityToken\":\"c\",\"Expiration\":\"x\"}",
         "AccessKeyId is 0 bytes"},
        {GW_CREDS_ECS,
         "{\"Code\":\"Success\",\"AccessKeyId\":\"a b\",\"AccessKeySecret\":\"b\",\"SecurityToken\":\"c\",\"Expiration\":\"x\"}",
         "AccessKeyId has a byte outside printable ASCII"},
        {GW_CREDS_ECS,
         "{\"Code\":\"Success\",\"AccessKeyId\":\"a\",\"AccessKeySecret\":\"b\\n\",\"SecurityToken\":\"c\",\"Expiration\":\"x\"}",
         "AccessKeySecret has a byte"},
        {GW_CREDS_ECS,
         "{\"Code\":\"Success\",\"AccessKeyId\":\"a\",\"AccessKeySecret\":\"b\",\"SecurityToken\":\"c\",\"Expiration\":\"2026-12-"
         "08 06:00:00\"}",
         "is not a UTC time"},
        {GW_CREDS_ECS,
         "{\"Code\":\"Success\",\"AccessKeyId\":\"a\",\"AccessKeySecret\":\"b\",\"SecurityToken\":\"c\",\"Expiration\":\"2026-02-"
         "30T06:00:00Z\"}",
         "is not a UTC time"},
        {GW_CREDS_ECS,
         "{\"Code\":\"Success\",\"AccessKeyId\":\"a\",\"AccessKeySecret\":\"b\",\"SecurityToken\":\"c\",\"Expiration\":\"2026-12-"
         "07T23:59:00Z\"}",
         "expired 60 s ago"},
        {GW_CREDS_ECS,
         "{\"Code\":\"Success\",\"AccessKeyId\":\"a\",\"AccessKeySecret\":\"b\",\"SecurityToken\":\"c\",\"Expiration\":\"2026-12-"
         "08T00:00:00Z\"}",
         "expired 0 s ago"},
        {GW_CREDS_ECS,
         "{\"Code\":\"Success\",\"AccessKeyId\":\"a\",\"AccessKeySecret\":\"b\",\"SecurityToken\":\"c\",\"Expiration\":\"2027-12-"
         "08T00:00:00Z\"}",
         "ahead, over 604800"},
        {GW_CREDS_ECS,
         "{\"Code\":\"Success\",\"AccessKeyId\":\"a\",\"AccessKeySecret\":\"b\",\"SecurityToken\":\"c\",\"Expiration\":\"2026-12-"
         "08T06:00:00Z\","
         "\"LastUpdated\":\"yesterday\"}",
         "LastUpdated \"yesterday\" is not"},
        {GW_CREDS_ECS, "{\"Code\":\"Success\",\"Code\":\"Success\"}", "not JSON"},
        {GW_CREDS_STS, "{\"RequestId\":\"R1\",\"Code\":\"NoPermission\",\"Message\":\"You are not authorized\\n\"}",
         "STS error NoPermission: You are not authorized? (RequestId R1)"},
        {GW_CREDS_STS, "{\"RequestId\":\"R1\"}", "no Credentials and no error Code"},
        {GW_CREDS_STS, "{\"Credentials\":[]}", "Credentials is not an object"},
        {GW_CREDS_STS,
         "{\"Credentials\":{\"AccessKeyId\":\"a\",\"AccessKeySecret\":\"b\",\"Expiration\":\"2026-12-08T06:00:00Z\"}}",
         "no SecurityToken"},
        {GW_CREDS_URI, "{\"Code\":\"Error\"}", "Code is \"Error\""},
        {GW_CREDS_URI, "{\"AccessKeyId\":\"a\",\"AccessKeySecret\":\"b\",\"SecurityToken\":\"c\"}", "no Expiration"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gw_creds c;
        char err[256] = "";
        cr_assert_eq(parse(&c, cases[i].f, cases[i].body, err, sizeof(err)), -1, "case %zu accepted", i);
        cr_assert_not_null(strstr(err, cases[i].reason), "case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].reason);
        cr_assert_null(c.secret);
    }
}

Test(gw_creds, errors_never_quote_secrets)
{
    /* A secret with a byte out of range is reported by name and offset only. */
    struct gw_creds c;
    char err[256] = "";
    const char *body = "{\"Code\":\"Success\",\"AccessKeyId\":\"a\",\"AccessKeySecret\":\"SeCrEtVaLuE\\t\",\"SecurityToken\":\"c\","
                       "\"Expiration\":\"2026-12-08T06:00:00Z\"}";
    cr_assert_eq(parse(&c, GW_CREDS_ECS, body, err, sizeof(err)), -1);
    cr_assert_null(strstr(err, "SeCrEt"), "%s", err);
}

Test(gw_creds, sts_and_uri_success)
{
    struct gw_creds c;
    char err[256] = "";
    const char *sts = "{\"RequestId\":\"6894B13B\",\"AssumedRoleUser\":{\"Arn\":\"acs:ram::1:role/r/s\",\"AssumedRoleId\":\"3:s\"},"
                      "\"Credentials\":{\"SecurityToken\":\"CAIS\",\"AccessKeyId\":\"STS.L4\",\"AccessKeySecret\":\"wyLT\","
                      "\"Expiration\":\"2026-12-08T01:00:00Z\"},\"SourceIdentity\":\"x\"}";
    cr_assert_eq(parse(&c, GW_CREDS_STS, sts, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(c.access_key_id, "STS.L4");
    cr_assert_eq(c.expiration, NOW + 3600);
    cr_assert_eq(c.last_updated, 0);
    gw_creds_cleanup(&c);
    const char *uri =
        "{\"AccessKeyId\":\"id\",\"AccessKeySecret\":\"sk\",\"SecurityToken\":\"tk\",\"Expiration\":\"2026-12-08T00:00:01Z\"}";
    cr_assert_eq(parse(&c, GW_CREDS_URI, uri, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.expiration, NOW + 1);
    gw_creds_cleanup(&c);
}

Test(gw_creds, length_bounds)
{
    /* The bounds are the signer's: SGN_MAX_ID, SGN_MAX_SECRET, SGN_MAX_TOKEN (8192), and the body cap. */
    static char body[GW_CREDS_MAX_BODY + 2];
    char tok[8194];
    memset(tok, 'T', sizeof(tok));
    tok[8192] = '\0';
    struct gw_creds c;
    char err[256] = "";
    int n = snprintf(body, sizeof(body),
                     "{\"Code\":\"Success\",\"AccessKeyId\":\"a\",\"AccessKeySecret\":\"b\",\"SecurityToken\":\"%s\","
                     "\"Expiration\":\"2026-12-08T06:00:00Z\"}",
                     tok);
    cr_assert_eq(gw_creds_parse(&c, GW_CREDS_ECS, body, (size_t)n, NOW, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.token_len, 8192);
    gw_creds_cleanup(&c);
    tok[8192] = 'T';
    tok[8193] = '\0';
    n = snprintf(body, sizeof(body),
                 "{\"Code\":\"Success\",\"AccessKeyId\":\"a\",\"AccessKeySecret\":\"b\",\"SecurityToken\":\"%s\","
                 "\"Expiration\":\"2026-12-08T06:00:00Z\"}",
                 tok);
    cr_assert_eq(gw_creds_parse(&c, GW_CREDS_ECS, body, (size_t)n, NOW, err, sizeof(err)), -1);
    cr_assert_not_null(strstr(err, "SecurityToken is 8193 bytes, not 1..8192"), "%s", err);
    memset(body, ' ', sizeof(body));
    cr_assert_eq(gw_creds_parse(&c, GW_CREDS_ECS, body, GW_CREDS_MAX_BODY + 1, NOW, err, sizeof(err)), -1);
    cr_assert_not_null(strstr(err, "over 65536"), "%s", err);
}

Test(gw_creds, refresh_at)
{
    /* One hour of credentials, routes need 10 min plus a 5 min margin: the earlier of 15 min before expiry (45 min in)
     * and 80 % (48 min in). */
    cr_assert_eq(gw_creds_refresh_at(1000, 1000 + 3600, 600, 300), 1000 + 2700);
    /* Short needs: 80 % wins. */
    cr_assert_eq(gw_creds_refresh_at(1000, 1000 + 3600, 60, 60), 1000 + 2880);
    /* Needs as long as the lifetime: never before 10 % of it. */
    cr_assert_eq(gw_creds_refresh_at(1000, 1000 + 3600, 3600, 300), 1000 + 360);
    cr_assert_eq(gw_creds_refresh_at(1000, 1000 + 3600, 3000, 300), 1000 + 360);
    cr_assert_eq(gw_creds_refresh_at(1000, 1000 + 3600, 3000, 0), 1000 + 600);
    /* Degenerate inputs. */
    cr_assert_eq(gw_creds_refresh_at(1000, 1000, 60, 60), 1000);
    cr_assert_eq(gw_creds_refresh_at(1000, 900, 60, 60), 1000);
    cr_assert_eq(gw_creds_refresh_at(1000, 1010, -5, -5), 1008);
    cr_assert_eq(gw_creds_refresh_at(1000, 1001, 0, 0), 1000);
    cr_assert_eq(gw_creds_refresh_at(1000, 1007, 0, 0), 1005);
    cr_assert_eq(gw_creds_refresh_at(0, INT64_MAX, INT64_MAX, INT64_MAX), INT64_MAX / 10);
}

Test(gw_creds, backoff)
{
    /* Equal jitter: attempt n waits in [cap/2, cap], cap = min(2^n s, 60 s), never under 1 s. */
    cr_assert_eq(gw_creds_backoff_ms(0, 0), 1000);
    cr_assert_eq(gw_creds_backoff_ms(0, 500), 1000);
    cr_assert_eq(gw_creds_backoff_ms(1, 0), 1000);
    cr_assert_eq(gw_creds_backoff_ms(1, 1000), 2000);
    cr_assert_eq(gw_creds_backoff_ms(1, 1001), 1000);
    cr_assert_eq(gw_creds_backoff_ms(3, 4000), 8000);
    cr_assert_eq(gw_creds_backoff_ms(3, 0), 4000);
    for (unsigned a = 0; a < 100; a++) {
        for (uint32_t r = 0; r < 70000; r += 997) {
            uint32_t ms = gw_creds_backoff_ms(a, r * 2654435761u);
            cr_assert(ms >= 1000 && ms <= 60000, "attempt %u: %u ms", a, ms);
        }
    }
    cr_assert_eq(gw_creds_backoff_ms(6, 0), 30000);
    cr_assert_eq(gw_creds_backoff_ms(6, 30000), 60000);
    cr_assert_eq(gw_creds_backoff_ms(1000, 30000), 60000);
}
