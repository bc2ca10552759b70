/* gw_creds.c: parsing credential responses and the renewal arithmetic (gw_creds.h). */
#include "gw_creds.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_errbuf.h"
#include "sgn.h"

/* printable copies at most `cap - 1` bytes of a service's text into `out` for an error line: control and non-ASCII
 * bytes become '?', so a hostile body cannot forge log lines. Only called for fields that are not secret. */
static void printable(char *out, size_t cap, const char *s, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[n] = '\0';
}

/* member_string finds the string member `name` of `obj`: 1 when present, 0 when absent and not `required`, -1 with a
 * reason otherwise. */
static int member_string(const json_t **out, const json_t *obj, const char *name, bool required, char *err, size_t err_cap)
{
    *out = json_object_get(obj, name);
    if (*out == NULL && !required) {
        return 0;
    }
    if (*out == NULL) {
        gw_errf(err, err_cap, "response has no %s", name);
        return -1;
    }
    if (!json_is_string(*out)) {
        gw_errf(err, err_cap, "%s is not a string", name);
        return -1;
    }
    return 1;
}

/* dup_field copies the string member `name` of `obj` into `*out` when it is 1..max bytes of printable ASCII without
 * spaces (what access key ids, secrets and STS tokens are made of). */
static int dup_field(char **out, size_t *out_len, const json_t *obj, const char *name, size_t max, char *err, size_t err_cap)
{
    const json_t *v;
    if (member_string(&v, obj, name, true, err, err_cap) < 0) {
        return -1;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len == 0 || len > max) {
        gw_errf(err, err_cap, "%s is %zu bytes, not 1..%zu", name, len, max);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] <= 0x20 || s[i] >= 0x7f) {
            gw_errf(err, err_cap, "%s has a byte outside printable ASCII at offset %zu", name, i);
            return -1;
        }
    }
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        gw_errf(err, err_cap, "out of memory");
        return -1;
    }
    memcpy(copy, s, len + 1);
    *out = copy;
    *out_len = len;
    return 0;
}

static int get_time(int64_t *out, const json_t *obj, const char *name, bool required, char *err, size_t err_cap)
{
    const json_t *v;
    *out = 0;
    int found = member_string(&v, obj, name, required, err, err_cap);
    if (found <= 0) {
        return found;
    }
    if (!sgn_parse_datetime(out, (struct sgn_view){json_string_value(v), json_string_length(v)})) {
        char shown[48];
        printable(shown, sizeof(shown), json_string_value(v), json_string_length(v));
        gw_errf(err, err_cap, "%s \"%s\" is not a UTC time YYYY-MM-DDTHH:MM:SSZ", name, shown);
        return -1;
    }
    return 0;
}

/* check_code accepts a body whose "Code" is "Success" (ECS metadata, and a credentials URI that sends one). */
static int check_code(const json_t *root, bool required, char *err, size_t err_cap)
{
    const json_t *code;
    int found = member_string(&code, root, "Code", required, err, err_cap);
    if (found <= 0) {
        return found;
    }
    if (strcmp(json_string_value(code), "Success") != 0 || json_string_length(code) != 7) {
        char shown[64];
        printable(shown, sizeof(shown), json_string_value(code), json_string_length(code));
        gw_errf(err, err_cap, "Code is \"%s\", not \"Success\"", shown);
        return -1;
    }
    return 0;
}

/* sts_error describes an STS error body {"Code","Message","RequestId"} (or says the credentials are missing). */
static void sts_error(const json_t *root, char *err, size_t err_cap)
{
    const json_t *code = json_object_get(root, "Code");
    const json_t *msg = json_object_get(root, "Message");
    const json_t *rid = json_object_get(root, "RequestId");
    if (!json_is_string(code)) {
        gw_errf(err, err_cap, "STS response has no Credentials and no error Code");
        return;
    }
    char c[64], m[160], r[64];
    printable(c, sizeof(c), json_string_value(code), json_string_length(code));
    printable(m, sizeof(m), json_is_string(msg) ? json_string_value(msg) : "", json_is_string(msg) ? json_string_length(msg) : 0);
    printable(r, sizeof(r), json_is_string(rid) ? json_string_value(rid) : "-", json_is_string(rid) ? json_string_length(rid) : 1);
    gw_errf(err, err_cap, "STS error %s: %s (RequestId %s)", c, m, r);
}

int gw_creds_parse(struct gw_creds *out, enum gw_creds_format format, const char *body, size_t len, int64_t now, char *err,
                   size_t err_cap)
{
    json_t *root = NULL;
    struct gw_creds c = {0};
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (len > GW_CREDS_MAX_BODY) {
        gw_errf(err, err_cap, "response body is %zu bytes, over %d", len, GW_CREDS_MAX_BODY);
        goto cleanup;
    }
    json_error_t jerr;
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        /* jansson's text names a position and a class of error; it never quotes more than a token of the input. */
        char shown[96];
        printable(shown, sizeof(shown), jerr.text, strnlen(jerr.text, sizeof(jerr.text)));
        gw_errf(err, err_cap, "response is not JSON: %s at line %d column %d", shown, jerr.line, jerr.column);
        goto cleanup;
    }
    if (!json_is_object(root)) {
        gw_errf(err, err_cap, "response is not a JSON object");
        goto cleanup;
    }
    const json_t *obj = root;
    switch (format) {
    case GW_CREDS_ECS:
        if (check_code(root, true, err, err_cap) != 0) {
            goto cleanup;
        }
        break;
    case GW_CREDS_URI:
        if (check_code(root, false, err, err_cap) != 0) {
            goto cleanup;
        }
        break;
    case GW_CREDS_STS:
        obj = json_object_get(root, "Credentials");
        if (obj == NULL) {
            sts_error(root, err, err_cap);
            goto cleanup;
        }
        if (!json_is_object(obj)) {
            gw_errf(err, err_cap, "STS Credentials is not an object");
            goto cleanup;
        }
        break;
    default:
        gw_errf(err, err_cap, "unknown credential format");
        goto cleanup;
    }
    if (dup_field(&c.access_key_id, &c.access_key_id_len, obj, "AccessKeyId", SGN_MAX_ID, err, err_cap) != 0 ||
        dup_field(&c.secret, &c.secret_len, obj, "AccessKeySecret", SGN_MAX_SECRET, err, err_cap) != 0 ||
        dup_field(&c.token, &c.token_len, obj, "SecurityToken", SGN_MAX_TOKEN, err, err_cap) != 0 ||
        get_time(&c.expiration, obj, "Expiration", true, err, err_cap) != 0 ||
        get_time(&c.last_updated, obj, "LastUpdated", false, err, err_cap) != 0) {
        goto cleanup;
    }
    if (c.expiration <= now) {
        gw_errf(err, err_cap, "credentials expired %lld s ago", (long long)(now - c.expiration));
        goto cleanup;
    }
    if (c.expiration - now > GW_CREDS_MAX_LIFETIME) {
        gw_errf(err, err_cap, "Expiration is %lld s ahead, over %d", (long long)(c.expiration - now), GW_CREDS_MAX_LIFETIME);
        goto cleanup;
    }
    *out = c;
    memset(&c, 0, sizeof(c));
    rc = 0;
cleanup:
    gw_creds_cleanup(&c);
    json_decref(root);
    return rc;
}

static void wipe_free(char *s, size_t len)
{
    if (s != NULL) {
        explicit_bzero(s, len);
        free(s);
    }
}

void gw_creds_cleanup(struct gw_creds *c)
{
    if (c == NULL) {
        return;
    }
    wipe_free(c->access_key_id, c->access_key_id_len);
    wipe_free(c->secret, c->secret_len);
    wipe_free(c->token, c->token_len);
    memset(c, 0, sizeof(*c));
}

static char *dup_bytes(const char *s, size_t len)
{
    if (s == NULL) {
        return NULL;
    }
    char *p = malloc(len + 1);
    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

int gw_creds_copy(struct gw_creds *out, const struct gw_creds *in)
{
    *out = *in;
    out->access_key_id = dup_bytes(in->access_key_id, in->access_key_id_len);
    out->secret = dup_bytes(in->secret, in->secret_len);
    out->token = dup_bytes(in->token, in->token_len);
    if ((in->access_key_id != NULL && out->access_key_id == NULL) || (in->secret != NULL && out->secret == NULL) ||
        (in->token != NULL && out->token == NULL)) {
        gw_creds_cleanup(out);
        return -1;
    }
    return 0;
}

int64_t gw_creds_refresh_at(int64_t obtained, int64_t expires, int64_t need_s, int64_t margin_s)
{
    if (expires <= obtained) {
        return obtained;
    }
    int64_t lifetime = expires - obtained;
    int64_t at = obtained + lifetime / 5 * 4 + lifetime % 5 * 4 / 5; /* floor(80 %) without overflow */
    if (need_s < 0) {
        need_s = 0;
    }
    if (margin_s < 0) {
        margin_s = 0;
    }
    if (need_s >= lifetime || margin_s >= lifetime - need_s) {
        at = obtained; /* raised to the floor below */
    } else if (expires - need_s - margin_s < at) {
        at = expires - need_s - margin_s;
    }
    int64_t floor = obtained + lifetime / 10;
    if (at < floor) {
        at = floor;
    }
    return at;
}

uint32_t gw_creds_backoff_ms(unsigned attempt, uint32_t rnd)
{
    uint32_t cap = GW_CREDS_BACKOFF_MAX_MS;
    if (attempt < 16 && (GW_CREDS_BACKOFF_MIN_MS << attempt) < GW_CREDS_BACKOFF_MAX_MS) {
        cap = GW_CREDS_BACKOFF_MIN_MS << attempt;
    }
    uint32_t ms = cap / 2 + rnd % (cap / 2 + 1);
    return ms < GW_CREDS_BACKOFF_MIN_MS ? GW_CREDS_BACKOFF_MIN_MS : ms;
}

int64_t gw_creds_lifetime_left(const struct gw_creds *c, int64_t now)
{
    return c->expiration > now ? c->expiration - now : 0;
}
