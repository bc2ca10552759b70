/* sgn_vector.c: JSON signing cases to sgn_params, on jansson. */
#include "sgn_vector.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

static int fail(char *err, size_t cap, const char *what, const char *name)
{
    int n = snprintf(err, cap, "%s%s%s", name != NULL ? name : "", name != NULL ? ": " : "", what);
    if (n < 0 || (size_t)n >= cap) {
        err[cap - 1] = '\0';
    }
    return -1;
}

static struct sgn_view view_of(json_t *s)
{
    return (struct sgn_view){json_string_value(s), json_string_length(s)};
}

static int get_string(json_t *in, const char *name, bool required, struct sgn_view *out, char *err, size_t cap)
{
    json_t *s = json_object_get(in, name);
    if (s == NULL || json_is_null(s)) {
        if (required) {
            return fail(err, cap, "missing", name);
        }
        *out = (struct sgn_view){NULL, 0};
        return 0;
    }
    if (!json_is_string(s)) {
        return fail(err, cap, "must be a string", name);
    }
    *out = view_of(s);
    return 0;
}

static int get_bool(json_t *in, const char *name, bool *out, char *err, size_t cap)
{
    json_t *b = json_object_get(in, name);
    if (b == NULL || json_is_null(b)) {
        *out = false;
        return 0;
    }
    if (!json_is_boolean(b)) {
        return fail(err, cap, "must be true or false", name);
    }
    *out = json_is_true(b);
    return 0;
}

static int get_pairs(json_t *in, const char *name, struct sgn_pair *out, size_t max, size_t *n_out, char *err, size_t cap)
{
    json_t *obj = json_object_get(in, name);
    const char *k;
    json_t *val;
    size_t n = 0;

    *n_out = 0;
    if (obj == NULL || json_is_null(obj)) {
        return 0;
    }
    if (!json_is_object(obj)) {
        return fail(err, cap, "must be an object of strings", name);
    }
    json_object_foreach(obj, k, val)
    {
        if (!json_is_string(val)) {
            return fail(err, cap, "values must be strings", name);
        }
        if (n == max) {
            return fail(err, cap, "too many entries", name);
        }
        out[n].name = (struct sgn_view){k, strlen(k)};
        out[n].value = view_of(val);
        n++;
    }
    *n_out = n;
    return 0;
}

static const char *const input_keys[] = {"mode",
                                         "method",
                                         "scheme",
                                         "endpoint",
                                         "region",
                                         "bucket",
                                         "key",
                                         "cname",
                                         "path_style",
                                         "expires",
                                         "time",
                                         "access_key_id",
                                         "access_key_secret",
                                         "security_token",
                                         "query",
                                         "headers",
                                         "additional_headers",
                                         "id",
                                         NULL};

static int check_keys(json_t *in, bool bare, char *err, size_t cap)
{
    const char *k;
    json_t *val;
    json_object_foreach(in, k, val)
    {
        bool known = false;
        for (const char *const *p = input_keys; *p != NULL && !known; p++) {
            known = strcmp(*p, k) == 0 && (bare || strcmp(k, "id") != 0);
        }
        if (!known) {
            return fail(err, cap, "unknown field", k);
        }
    }
    return 0;
}

static int parse_input(struct sgn_vector *v, json_t *in, bool bare, char *err, size_t cap)
{
    struct sgn_params *p = &v->params;
    struct sgn_view mode;
    struct sgn_view scheme;
    struct sgn_view time;
    bool cname;
    bool path_style;
    json_t *e;
    json_t *extra;

    if (!json_is_object(in)) {
        return fail(err, cap, "must be an object", "input");
    }
    if (check_keys(in, bare, err, cap) != 0) {
        return -1;
    }
    memset(p, 0, sizeof(*p));
    if (get_string(in, "mode", false, &mode, err, cap) != 0 || get_string(in, "method", true, &p->method, err, cap) != 0 ||
        get_string(in, "scheme", false, &scheme, err, cap) != 0 || get_string(in, "endpoint", true, &p->endpoint, err, cap) != 0 ||
        get_string(in, "region", true, &p->region, err, cap) != 0 || get_string(in, "bucket", true, &p->bucket, err, cap) != 0 ||
        get_string(in, "key", true, &p->key, err, cap) != 0 || get_string(in, "time", true, &time, err, cap) != 0 ||
        get_string(in, "access_key_id", true, &p->access_key_id, err, cap) != 0 ||
        get_string(in, "access_key_secret", true, &p->secret, err, cap) != 0 ||
        get_string(in, "security_token", false, &p->security_token, err, cap) != 0 ||
        get_bool(in, "cname", &cname, err, cap) != 0 || get_bool(in, "path_style", &path_style, err, cap) != 0) {
        return -1;
    }
    if (mode.base == NULL || strcmp(mode.base, "oss-v4") == 0) {
        p->mode = SGN_MODE_OSS_V4;
    } else if (strcmp(mode.base, "oss-v1") == 0) {
        p->mode = SGN_MODE_OSS_V1;
    } else if (strcmp(mode.base, "s3-v4") == 0) {
        p->mode = SGN_MODE_S3_V4;
    } else {
        return fail(err, cap, "must be oss-v4, oss-v1 or s3-v4", "mode");
    }
    if (scheme.base == NULL || strcmp(scheme.base, "https") == 0) {
        p->https = true;
    } else if (strcmp(scheme.base, "http") != 0) {
        return fail(err, cap, "must be http or https", "scheme");
    }
    if (cname && path_style) {
        return fail(err, cap, "cname and path_style exclude each other", "cname");
    }
    p->addressing = cname ? SGN_ADDR_CNAME : (path_style ? SGN_ADDR_PATH : SGN_ADDR_VIRTUAL);
    e = json_object_get(in, "expires");
    if (!json_is_integer(e)) {
        return fail(err, cap, "must be an integer", "expires");
    }
    json_int_t exp = json_integer_value(e);
    if (exp < 1 || exp > SGN_MAX_EXPIRES) {
        return fail(err, cap, sgn_strerror(SGN_ERR_EXPIRES), "expires");
    }
    p->expires = (uint32_t)exp;
    if (!sgn_parse_datetime(&p->time, time)) {
        return fail(err, cap, "must be YYYY-MM-DDTHH:MM:SSZ", "time");
    }
    if (get_pairs(in, "query", v->query, SGN_MAX_PARAMS, &p->n_query, err, cap) != 0 ||
        get_pairs(in, "headers", v->headers, SGN_MAX_HEADERS, &p->n_headers, err, cap) != 0) {
        return -1;
    }
    p->query = v->query;
    p->headers = v->headers;
    extra = json_object_get(in, "additional_headers");
    if (extra != NULL && !json_is_null(extra)) {
        size_t i;
        json_t *h;
        if (!json_is_array(extra) || json_array_size(extra) > SGN_MAX_HEADERS) {
            return fail(err, cap, "must be an array of at most 16 strings", "additional_headers");
        }
        json_array_foreach(extra, i, h)
        {
            if (!json_is_string(h)) {
                return fail(err, cap, "must be an array of strings", "additional_headers");
            }
            v->additional[i] = view_of(h);
        }
        p->additional_headers = v->additional;
        p->n_additional_headers = json_array_size(extra);
    }
    return 0;
}

static const char *opt_string(json_t *doc, const char *name)
{
    return json_string_value(json_object_get(doc, name)); /* NULL when absent or not a string */
}

int sgn_vector_parse(struct sgn_vector *v, const char *line, size_t len, char *err, size_t err_cap)
{
    json_error_t jerr;
    json_t *doc;
    json_t *in;

    memset(v, 0, sizeof(*v));
    if (len > SGN_VECTOR_MAX_LINE) {
        return fail(err, err_cap, "line longer than 1 MiB", NULL);
    }
    doc = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        char msg[200];
        int n = snprintf(msg, sizeof(msg), "invalid JSON at column %d: %s", jerr.column, jerr.text);
        if (n < 0) {
            msg[0] = '\0';
        }
        return fail(err, err_cap, msg, NULL);
    }
    v->doc = doc;
    if (!json_is_object(doc)) {
        return fail(err, err_cap, "a line must be a JSON object", NULL);
    }
    v->id = opt_string(doc, "id");
    in = json_object_get(doc, "input");
    if (in != NULL) {
        v->url_strict = opt_string(doc, "url_strict");
        v->signature = opt_string(doc, "signature");
        v->canonical_request = opt_string(doc, "canonical_request");
        v->string_to_sign = opt_string(doc, "string_to_sign");
        v->signing_key_hex = opt_string(doc, "signing_key_hex");
        return parse_input(v, in, false, err, err_cap);
    }
    return parse_input(v, doc, true, err, err_cap);
}

void sgn_vector_cleanup(struct sgn_vector *v)
{
    if (v != NULL && v->doc != NULL) {
        json_decref(v->doc);
        v->doc = NULL;
    }
}
