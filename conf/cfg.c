/* cfg.c: freeing a config, matching routes, status texts. */
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
    cfg_config_cleanup(cfg);
    free(cfg);
}

void cfg_credentials_cleanup(struct cfg_credentials *c)
{
    free(c->name);
    free_str_wiped(c->access_key_id);
    cfg_wipe_free(c->secret, c->secret_len);
    free_str_wiped(c->security_token);
    free(c->renew.role_name);
    free(c->renew.metadata_url);
    free(c->renew.role_arn);
    free(c->renew.oidc_provider_arn);
    free(c->renew.oidc_token_file);
    free(c->renew.role_session_name);
    free(c->renew.sts_url);
    free(c->renew.external_id);
    free(c->renew.policy);
    free(c->renew.url);
    free(c->renew.ca_file);
    free(c->renew.dir);
    *c = (struct cfg_credentials){.name = NULL};
}

void cfg_config_cleanup(struct cfg_config *cfg)
{
    for (size_t i = 0; i < cfg->n_listen; i++) {
        free(cfg->listen[i].host);
        for (size_t j = 0; j < cfg->listen[i].tls.n_certs; j++) {
            free(cfg->listen[i].tls.certs[j].cert);
            free(cfg->listen[i].tls.certs[j].key);
        }
        free(cfg->listen[i].tls.certs);
    }
    free(cfg->listen);
    free(cfg->log.access_path);
    for (size_t i = 0; i < cfg->n_credentials; i++) {
        cfg_credentials_cleanup(&cfg->credentials[i]);
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
