/* cfg_cred.c: resolving a credential set from the environment, a directory of one-value files (systemd
 * LoadCredential=) or the config itself. Messages name the variable, file or key and never show a value. */
#include "cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg_internal.h"

#define CFG_MAX_EXPIRATION 64 /* "2026-01-01T00:00:00.000000000Z" and some slack */

struct rctx {
    const struct cfg_source *src;
    const struct cfg_cred_spec *spec;
    const struct cfg_env *env;
    struct cfg_error *err;
    char where[CFG_MAX_NAME + 16];
};

static enum cfg_status fail(struct rctx *r, enum cfg_status st, const struct cfg_node *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum cfg_status fail(struct rctx *r, enum cfg_status st, const struct cfg_node *at, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cfg_error_vset(r->err, r->src->name, at->line, at->col, fmt, ap);
    va_end(ap);
    return st;
}

/* A value as read: `what` names it in messages (a variable, a file or a key). */
static enum cfg_status check_value(struct rctx *r, const struct cfg_node *at, const char *what, const char *v, size_t len,
                                   size_t max)
{
    if (len == 0) {
        return fail(r, CFG_ERR_CREDENTIALS, at, "%s: %s is empty", r->where, what);
    }
    if (len > max) {
        return fail(r, CFG_ERR_CREDENTIALS, at, "%s: %s is longer than %zu bytes", r->where, what, max);
    }
    if (cfg_has_ctl(v, len)) {
        return fail(r, CFG_ERR_CREDENTIALS, at, "%s: %s contains a control character", r->where, what);
    }
    return CFG_OK;
}

static enum cfg_status copy_secret(const char *v, size_t len, struct cfg_credentials *out)
{
    uint8_t *p = malloc(len);

    if (p == NULL) {
        return CFG_ERR_NOMEM;
    }
    memcpy(p, v, len);
    out->secret = p;
    out->secret_len = len;
    return CFG_OK;
}

/* The three values of a set, wherever they came from, each checked and copied. `token` may be NULL. */
static enum cfg_status store(struct rctx *r, const struct cfg_node *at, struct cfg_credentials *out, const char *const what[3],
                             const char *id, size_t id_len, const char *secret, size_t secret_len, const char *token,
                             size_t token_len)
{
    enum cfg_status st = check_value(r, at, what[0], id, id_len, CFG_MAX_KEY_ID);

    if (st == CFG_OK) {
        st = check_value(r, at, what[1], secret, secret_len, CFG_MAX_SECRET);
    }
    if (st == CFG_OK && token != NULL) {
        st = check_value(r, at, what[2], token, token_len, CFG_MAX_TOKEN);
    }
    if (st == CFG_OK) {
        st = cfg_strndup(id, id_len, &out->access_key_id);
    }
    if (st == CFG_OK) {
        st = copy_secret(secret, secret_len, out);
    }
    if (st == CFG_OK && token != NULL) {
        st = cfg_strndup(token, token_len, &out->security_token);
    }
    return st;
}

static enum cfg_status from_env(struct rctx *r, struct cfg_credentials *out, const struct cfg_env *env)
{
    const struct cfg_cred_spec *s = r->spec;
    const char *names[3];
    char what[3][CFG_MAX_NAME + 32];
    const char *const whatp[3] = {what[0], what[1], what[2]};
    const char *vals[3];

    if (s->id_var != NULL) {
        names[0] = s->id_var->value;
        names[1] = s->secret_var->value;
        names[2] = s->token_var != NULL ? s->token_var->value : NULL;
    } else if (s->used_s3) {
        names[0] = "AWS_ACCESS_KEY_ID";
        names[1] = "AWS_SECRET_ACCESS_KEY";
        names[2] = "AWS_SESSION_TOKEN";
    } else {
        names[0] = "OSS_ACCESS_KEY_ID";
        names[1] = "OSS_ACCESS_KEY_SECRET";
        names[2] = "OSS_SESSION_TOKEN";
    }
    for (size_t i = 0; i < 3; i++) {
        vals[i] = names[i] != NULL ? cfg_getenv(env, names[i]) : NULL;
        if (snprintf(what[i], sizeof(what[i]), "environment variable %s", names[i] != NULL ? names[i] : "") < 0) {
            what[i][0] = '\0';
        }
    }
    for (size_t i = 0; i < 2; i++) {
        if (vals[i] == NULL) {
            return fail(r, CFG_ERR_CREDENTIALS, s->name, "%s: %s is not set", r->where, what[i]);
        }
    }
    if (vals[2] != NULL && vals[2][0] == '\0') {
        vals[2] = NULL; /* an empty token variable means no STS token, as the SDKs read it */
    }
    return store(r, s->name, out, whatp, vals[0], strlen(vals[0]), vals[1], strlen(vals[1]), vals[2],
                 vals[2] != NULL ? strlen(vals[2]) : 0);
}

/* Reads the one-value file `dir`/`file` into a new buffer of `*out_len` bytes (one trailing newline dropped), which
 * the caller wipes and frees. `*out` stays NULL when the file does not exist and `required` is false. */
static enum cfg_status read_one(struct rctx *r, const char *dir, const char *file, size_t max, bool required, char **out,
                                size_t *out_len, char *path, size_t path_cap)
{
    size_t dl = strlen(dir);
    const char *sep = dl > 0 && dir[dl - 1] == '/' ? "" : "/";
    size_t cap = max + 2; /* the value, a newline, and one byte to see that the file is too long */
    size_t len = 0;
    char *buf = NULL;
    int fd = -1;
    struct stat sb;
    enum cfg_status st = CFG_OK;

    *out = NULL;
    int w = snprintf(path, path_cap, "%s%s%s", dir, sep, file);
    if (w < 0 || (size_t)w >= path_cap) {
        return fail(r, CFG_ERR_CREDENTIALS, r->spec->name, "%s: the credential directory path is too long", r->where);
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT && !required) {
            return CFG_OK;
        }
        if (errno == ENOENT) {
            return fail(r, CFG_ERR_CREDENTIALS, r->spec->name, "%s: %s does not exist", r->where, path);
        }
        return fail(r, CFG_ERR_IO, r->spec->name, "%s: cannot open %s: %s", r->where, path, strerror(errno));
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = fail(r, CFG_ERR_IO, r->spec->name, "%s: %s is not a regular file", r->where, path);
        goto cleanup;
    }
    buf = malloc(cap);
    if (buf == NULL) {
        st = CFG_ERR_NOMEM;
        goto cleanup;
    }
    while (len < cap) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            st = fail(r, CFG_ERR_IO, r->spec->name, "%s: cannot read %s: %s", r->where, path, strerror(errno));
            goto cleanup;
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
    }
    if (len > 0 && buf[len - 1] == '\n') {
        len--;
    }
    if (len > max) {
        st = fail(r, CFG_ERR_CREDENTIALS, r->spec->name, "%s: %s is longer than %zu bytes", r->where, path, max);
        goto cleanup;
    }
    if (len == 0) {
        st = fail(r, CFG_ERR_CREDENTIALS, r->spec->name, "%s: %s is empty", r->where, path);
        goto cleanup;
    }
    *out = buf; /* the caller owns it now */
    *out_len = len;
    buf = NULL;
cleanup:
    cfg_wipe_free(buf, cap);
    if (fd >= 0) {
        close(fd);
    }
    return st;
}

static enum cfg_status from_files(struct rctx *r, struct cfg_credentials *out, const struct cfg_env *env)
{
    static const char *const files[4] = {"access_key_id", "access_key_secret", "security_token", "expiration"};
    static const size_t max[4] = {CFG_MAX_KEY_ID, CFG_MAX_SECRET, CFG_MAX_TOKEN, CFG_MAX_EXPIRATION};
    const struct cfg_cred_spec *s = r->spec;
    const char *dir = s->dir != NULL ? s->dir->value : cfg_getenv(env, "CREDENTIALS_DIRECTORY");
    char *vals[4] = {NULL, NULL, NULL, NULL};
    size_t lens[4] = {0, 0, 0, 0};
    size_t caps[4] = {0, 0, 0, 0};
    char paths[4][PATH_MAX];
    const char *const whatp[3] = {paths[0], paths[1], paths[2]};
    enum cfg_status st = CFG_OK;

    if (dir == NULL || dir[0] == '\0') {
        return fail(r, CFG_ERR_CREDENTIALS, s->name,
                    "%s: from: files without dir reads $CREDENTIALS_DIRECTORY (systemd LoadCredential=), which is "
                    "not set",
                    r->where);
    }
    if (dir[0] != '/') {
        return fail(r, CFG_ERR_CREDENTIALS, s->name, "%s: $CREDENTIALS_DIRECTORY is not an absolute path", r->where);
    }
    for (size_t i = 0; i < 4; i++) {
        caps[i] = max[i] + 2;
        st = read_one(r, dir, files[i], max[i], i < 2, &vals[i], &lens[i], paths[i], sizeof(paths[i]));
        if (st != CFG_OK) {
            goto cleanup;
        }
    }
    st = store(r, s->name, out, whatp, vals[0], lens[0], vals[1], lens[1], vals[2], lens[2]);
    if (st == CFG_OK && vals[3] != NULL && !cfg_parse_rfc3339_utc(vals[3], lens[3], &out->expiration)) {
        st = fail(r, CFG_ERR_CREDENTIALS, s->name, "%s: %s is not an RFC 3339 UTC time like 2026-01-01T00:00:00Z", r->where,
                  paths[3]);
    }
    out->renew.watch = s->watch;
    if (st == CFG_OK && s->watch) {
        st = cfg_strndup(dir, strlen(dir), &out->renew.dir);
    }
cleanup:
    for (size_t i = 0; i < 4; i++) {
        cfg_wipe_free(vals[i], caps[i]);
    }
    return st;
}

static enum cfg_status from_inline(struct rctx *r, struct cfg_credentials *out)
{
    const struct cfg_cred_spec *s = r->spec;
    const struct cfg_node *nodes[3] = {s->access_key_id, s->access_key_secret, s->security_token};
    static const char *const keys[3] = {"access_key_id", "access_key_secret", "security_token"};
    static const size_t max[3] = {CFG_MAX_KEY_ID, CFG_MAX_SECRET, CFG_MAX_TOKEN};
    char what[32];
    enum cfg_status st = CFG_OK;

    if (nodes[0] == NULL || nodes[1] == NULL) {
        return CFG_ERR_CREDENTIALS; /* cfg_build has already refused this with a message */
    }
    /* Checked one by one so that each message points at its own key. */
    for (size_t i = 0; i < 3; i++) {
        if (nodes[i] == NULL) {
            continue;
        }
        if (snprintf(what, sizeof(what), "%s", keys[i]) < 0) {
            what[0] = '\0';
        }
        st = check_value(r, nodes[i], what, nodes[i]->value, nodes[i]->len, max[i]);
        if (st != CFG_OK) {
            return st;
        }
    }
    st = cfg_strndup(nodes[0]->value, nodes[0]->len, &out->access_key_id);
    if (st == CFG_OK) {
        st = copy_secret(nodes[1]->value, nodes[1]->len, out);
    }
    if (st == CFG_OK && nodes[2] != NULL) {
        st = cfg_strndup(nodes[2]->value, nodes[2]->len, &out->security_token);
    }
    return st;
}

static enum cfg_status copy_node(const struct cfg_node *n, char **out)
{
    return n != NULL ? cfg_strndup(n->value, n->len, out) : CFG_OK;
}

/* A value from the file, else from the environment variable `var` (NULL: none), else `def` (NULL: required). */
static enum cfg_status key_or_env(struct rctx *r, const struct cfg_node *n, const char *key, const char *var, const char *def,
                                  const char *(*why)(const char *, size_t), char **out)
{
    const char *v = var != NULL ? cfg_getenv(r->env, var) : NULL;

    if (n != NULL) {
        return copy_node(n, out);
    }
    if (v != NULL && v[0] != '\0') {
        const char *bad = why(v, strlen(v));
        if (bad != NULL) {
            return fail(r, CFG_ERR_CREDENTIALS, r->spec->name, "%s: environment variable %s (for %s) %s", r->where, var, key, bad);
        }
        return cfg_strndup(v, strlen(v), out);
    }
    if (def != NULL) {
        return cfg_strndup(def, strlen(def), out);
    }
    if (var == NULL) {
        return fail(r, CFG_ERR_SCHEMA, r->spec->name, "%s: missing key '%s'", r->where, key);
    }
    return fail(r, CFG_ERR_CREDENTIALS, r->spec->name, "%s: no %s key, and environment variable %s is not set", r->where, key, var);
}

static const char *any_path(const char *s, size_t len)
{
    if (len == 0 || s[0] != '/') {
        return "is not an absolute path";
    }
    return cfg_has_ctl(s, len) || len > CFG_MAX_STRING ? "is not a usable path" : NULL;
}

/* sts_endpoint: host[:port] means https://host[:port]; a URL is kept without a trailing '/'. */
static enum cfg_status sts_url(const struct cfg_node *n, char **out)
{
    char buf[1100];
    size_t len;

    if (n == NULL) {
        return cfg_strndup(CFG_DEFAULT_STS_URL, strlen(CFG_DEFAULT_STS_URL), out);
    }
    len = n->len;
    if (len > 8 && memcmp(n->value, "https://", 8) == 0) {
        if (n->value[len - 1] == '/') {
            len--;
        }
        return cfg_strndup(n->value, len, out);
    }
    int w = snprintf(buf, sizeof(buf), "https://%s", n->value);
    if (w < 0 || (size_t)w >= sizeof(buf)) {
        return CFG_ERR_SCHEMA; /* the schema bounds the value to 1024 bytes */
    }
    return cfg_strndup(buf, (size_t)w, out);
}

static enum cfg_status from_renewing(struct rctx *r, struct cfg_credentials *out)
{
    const struct cfg_cred_spec *s = r->spec;
    struct cfg_cred_renew *n = &out->renew;
    enum cfg_status st = copy_node(s->ca_file, &n->ca_file);

    out->startup_timeout_ms = s->startup_timeout_ms;
    switch (s->from) {
    case CFG_FROM_ECS_RAM_ROLE:
        out->source = CFG_CRED_ECS_RAM_ROLE;
        n->disable_imds_v1 = s->disable_imds_v1;
        if (st == CFG_OK) {
            st = copy_node(s->role_name, &n->role_name);
        }
        if (st == CFG_OK) {
            st = key_or_env(r, s->metadata_url, "metadata_url", NULL, CFG_DEFAULT_METADATA_URL, NULL, &n->metadata_url);
        }
        return st;
    case CFG_FROM_OIDC:
    case CFG_FROM_ASSUME_ROLE:
        out->source = s->from == CFG_FROM_OIDC ? CFG_CRED_OIDC : CFG_CRED_ASSUME_ROLE;
        n->duration_s = s->duration_s;
        if (st == CFG_OK) {
            st = key_or_env(r, s->role_arn, "role_arn", s->from == CFG_FROM_OIDC ? "ALIBABA_CLOUD_ROLE_ARN" : NULL, NULL,
                            cfg_role_arn_why, &n->role_arn);
        }
        if (st == CFG_OK && s->from == CFG_FROM_OIDC) {
            st = key_or_env(r, s->oidc_provider_arn, "oidc_provider_arn", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", NULL,
                            cfg_oidc_provider_arn_why, &n->oidc_provider_arn);
        }
        if (st == CFG_OK && s->from == CFG_FROM_OIDC) {
            st = key_or_env(r, s->oidc_token_file, "oidc_token_file", "ALIBABA_CLOUD_OIDC_TOKEN_FILE", NULL, any_path,
                            &n->oidc_token_file);
        }
        if (st == CFG_OK) {
            st = key_or_env(r, s->role_session_name, "role_session_name", NULL, CFG_DEFAULT_SESSION_NAME, NULL,
                            &n->role_session_name);
        }
        if (st == CFG_OK) {
            st = sts_url(s->sts_endpoint, &n->sts_url);
        }
        if (st == CFG_OK) {
            st = copy_node(s->external_id, &n->external_id);
        }
        if (st == CFG_OK) {
            st = copy_node(s->policy, &n->policy);
        }
        return st;
    case CFG_FROM_URI:
        out->source = CFG_CRED_URI;
        if (st == CFG_OK) {
            st = key_or_env(r, s->url, "url", "ALIBABA_CLOUD_CREDENTIALS_URI", NULL, cfg_http_url_why, &n->url);
        }
        return st;
    default:
        return CFG_ERR_CREDENTIALS;
    }
}

enum cfg_status cfg_cred_resolve(struct cfg_credentials *out, const struct cfg_source *src, const struct cfg_cred_spec *spec,
                                 const struct cfg_env *env, struct cfg_error *err)
{
    struct rctx r = {.src = src, .spec = spec, .env = env, .err = err};
    enum cfg_status st;

    if (snprintf(r.where, sizeof(r.where), "credentials.%s", spec->name->value) < 0) {
        r.where[0] = '\0';
    }
    st = cfg_strndup(spec->name->value, spec->name->len, &out->name);
    if (st != CFG_OK) {
        return st;
    }
    switch (spec->from) {
    case CFG_FROM_ENV:
        return from_env(&r, out, env);
    case CFG_FROM_FILES:
        return from_files(&r, out, env);
    case CFG_FROM_INLINE:
        return from_inline(&r, out);
    case CFG_FROM_ECS_RAM_ROLE:
    case CFG_FROM_OIDC:
    case CFG_FROM_ASSUME_ROLE:
    case CFG_FROM_URI:
        return from_renewing(&r, out);
    }
    return CFG_ERR_CREDENTIALS;
}

enum cfg_status cfg_cred_read_files(struct cfg_credentials *out, const char *name, const char *dir, struct cfg_error *err)
{
    char name_buf[CFG_MAX_NAME + 1];
    char dir_buf[PATH_MAX];
    struct cfg_source src = {.name = dir};
    struct cfg_node name_node = {.type = CFG_NODE_SCALAR, .value = name_buf, .len = strlen(name)};
    struct cfg_node dir_node = {.type = CFG_NODE_SCALAR, .value = dir_buf, .len = strlen(dir)};
    struct cfg_cred_spec spec = {.name = &name_node, .from = CFG_FROM_FILES, .dir = &dir_node};
    struct rctx r = {.src = &src, .spec = &spec, .err = err};
    enum cfg_status st;

    *out = (struct cfg_credentials){.name = NULL};
    if (name_node.len >= sizeof(name_buf) || dir_node.len >= sizeof(dir_buf)) {
        cfg_error_set(err, dir, 0, 0, "credentials.%.64s: name or directory too long", name);
        return CFG_ERR_CREDENTIALS;
    }
    memcpy(name_buf, name, name_node.len + 1);
    memcpy(dir_buf, dir, dir_node.len + 1);
    if (snprintf(r.where, sizeof(r.where), "credentials.%s", name) < 0) {
        r.where[0] = '\0';
    }
    st = from_files(&r, out, NULL);
    if (st != CFG_OK) {
        cfg_credentials_cleanup(out);
    }
    return st;
}
