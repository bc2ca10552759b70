/* cfg.c: freeing a config, matching routes, error texts. */
#include "cfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_internal.h"

const char *cfg_strerror(enum cfg_status st)
{
    switch (st) {
    case CFG_OK:
        return "success";
    case CFG_ERR_IO:
        return "cannot read the configuration or a credential file";
    case CFG_ERR_SYNTAX:
        return "malformed YAML or input too large";
    case CFG_ERR_SCHEMA:
        return "invalid configuration";
    case CFG_ERR_CREDENTIALS:
        return "credentials missing or unsafe";
    case CFG_ERR_NOMEM:
        return "out of memory";
    }
    return "unknown error";
}

void cfg_wipe_free(void *p, size_t len)
{
    if (p == NULL) {
        return;
    }
    explicit_bzero(p, len);
    free(p);
}

static void free_str_wiped(char *s)
{
    if (s != NULL) {
        cfg_wipe_free(s, strlen(s));
    }
}

void cfg_free(struct cfg_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    for (size_t i = 0; i < cfg->n_listen; i++) {
        free(cfg->listen[i].host);
    }
    free(cfg->listen);
    free(cfg->log.access_path);
    for (size_t i = 0; i < cfg->n_credentials; i++) {
        struct cfg_credentials *c = &cfg->credentials[i];
        free(c->name);
        free_str_wiped(c->access_key_id);
        cfg_wipe_free(c->secret, c->secret_len);
        free_str_wiped(c->security_token);
    }
    free(cfg->credentials);
    for (size_t i = 0; i < cfg->n_backends; i++) {
        struct cfg_backend *b = &cfg->backends[i];
        free(b->name);
        free(b->region);
        free(b->bucket);
        free(b->endpoint);
    }
    free(cfg->backends);
    for (size_t i = 0; i < cfg->n_routes; i++) {
        struct cfg_route *r = &cfg->routes[i];
        free(r->prefix);
        free(r->key_prefix);
        free(r->content_type);
        free(r->referrer_policy);
    }
    free(cfg->routes);
    free(cfg->health_path);
    free(cfg->metrics_path);
    free(cfg->path);
    free(cfg);
}

const struct cfg_route *cfg_route_match(const struct cfg_config *cfg, const char *path, size_t len)
{
    if (cfg == NULL || path == NULL) {
        return NULL;
    }
    /* Prefixes never overlap (cfg_build refuses it), so the first match is the only one. */
    for (size_t i = 0; i < cfg->n_routes; i++) {
        const struct cfg_route *r = &cfg->routes[i];
        if (len >= r->prefix_len && memcmp(path, r->prefix, r->prefix_len) == 0) {
            return r;
        }
    }
    return NULL;
}

void cfg_error_vset(struct cfg_error *err, const char *name, size_t line, size_t col, const char *fmt, va_list ap)
{
    size_t cap = sizeof(err->msg);
    int n;

    if (line > 0) {
        n = snprintf(err->msg, cap, "%s:%zu:%zu: ", name, line, col);
    } else {
        n = snprintf(err->msg, cap, "%s: ", name);
    }
    if (n < 0) {
        err->msg[0] = '\0';
        return;
    }
    if ((size_t)n >= cap - 1) {
        return; /* the name alone filled the buffer; it stays cut at the end */
    }
    size_t used = (size_t)n;
    int m = vsnprintf(err->msg + used, cap - used, fmt, ap);
    if (m < 0) {
        err->msg[used] = '\0';
    }
    /* Keep the message on one line whatever a value held. */
    for (size_t i = 0; err->msg[i] != '\0'; i++) {
        unsigned char c = (unsigned char)err->msg[i];
        if (c < 0x20 || c == 0x7f) {
            err->msg[i] = '?';
        }
    }
}

void cfg_error_set(struct cfg_error *err, const char *name, size_t line, size_t col, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cfg_error_vset(err, name, line, col, fmt, ap);
    va_end(ap);
}

const char *cfg_getenv(const struct cfg_env *env, const char *name)
{
    if (env == NULL || env->getenv_fn == NULL) {
        return getenv(name);
    }
    return env->getenv_fn(env->ctx, name);
}

enum cfg_status cfg_strndup(const char *s, size_t len, char **out)
{
    char *p = malloc(len + 1);

    if (p == NULL) {
        return CFG_ERR_NOMEM;
    }
    memcpy(p, s, len);
    p[len] = '\0';
    *out = p;
    return CFG_OK;
}
