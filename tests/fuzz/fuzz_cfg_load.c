/* fuzz_cfg_load.c: libFuzzer target for cfg_load_buffer. Deterministic: the environment is a fixed table, and only
 * cfg_load_buffer is called (no file, no clock). Checks invariants, not just the absence of a crash. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "fuzz_check.h"

#define NAME "fuzz.yaml"

static const char *fake_getenv(void *ctx, const char *name)
{
    static const char *const vars[][2] = {
        {"OSS_ACCESS_KEY_ID", "fuzz-oss-id"},         {"OSS_ACCESS_KEY_SECRET", "fuzz-oss-secret"},
        {"OSS_SESSION_TOKEN", "fuzz-oss-token"},      {"AWS_ACCESS_KEY_ID", "fuzz-aws-id"},
        {"AWS_SECRET_ACCESS_KEY", "fuzz-aws-secret"}, {"CREDENTIALS_DIRECTORY", "/nonexistent/fuzz-credentials"},
    };

    (void)ctx;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        if (strcmp(vars[i][0], name) == 0) {
            return vars[i][1];
        }
    }
    return NULL;
}

/* memmem without _GNU_SOURCE. */
static bool contains(const uint8_t *data, size_t size, const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; n <= size && i <= size - n; i++) {
        if (memcmp(data + i, s, n) == 0) {
            return true;
        }
    }
    return false;
}

static void check_config(const struct cfg_config *cfg)
{
    if (cfg == NULL || cfg->n_routes == 0 || cfg->n_backends == 0 || cfg->n_listen == 0) {
        abort();
    }
    for (size_t i = 0; i < cfg->n_routes; i++) {
        const struct cfg_route *r = &cfg->routes[i];
        if (r->backend < cfg->backends || r->backend >= cfg->backends + cfg->n_backends) {
            abort();
        }
        if (r->prefix == NULL || r->prefix[0] != '/' || r->prefix_len != strlen(r->prefix) || r->prefix[r->prefix_len - 1] != '/' ||
            r->key_prefix == NULL || r->key_prefix_len != strlen(r->key_prefix)) {
            abort();
        }
        if (r->expires_s < 1 || r->expires_s > CFG_MAX_EXPIRES || (uint64_t)r->expires_s + r->sign_window_s > CFG_MAX_EXPIRES ||
            (r->cache_max_age_s != 0 && r->cache_max_age_s >= r->expires_s) || (r->status != 302 && r->status != 307)) {
            abort();
        }
        /* Prefixes never overlap, so each route matches its own prefix. */
        if (cfg_route_match(cfg, r->prefix, r->prefix_len) != r) {
            abort();
        }
    }
    for (size_t i = 0; i < cfg->n_backends; i++) {
        const struct cfg_credentials *c = cfg->backends[i].credentials;
        if (c < cfg->credentials || c >= cfg->credentials + cfg->n_credentials || c->secret_len == 0 ||
            cfg->backends[i].endpoint == NULL || cfg->backends[i].bucket == NULL || cfg->backends[i].region == NULL) {
            abort();
        }
    }
    if (cfg->limits.max_uri_bytes > cfg->limits.max_header_bytes) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cfg_env env = {fake_getenv, NULL};
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    enum cfg_status st = cfg_load_buffer(&cfg, NAME, (const char *)data, size, &env, &err);

    if (st == CFG_OK) {
        check_config(cfg);
    } else {
        size_t len = strnlen(err.msg, sizeof(err.msg));
        if (cfg != NULL || len == 0 || len == sizeof(err.msg) || strncmp(err.msg, NAME, strlen(NAME)) != 0) {
            abort();
        }
        /* The secrets from the environment never reach a message (unless the input itself holds the text). */
        static const char *const secrets[] = {"fuzz-oss-secret", "fuzz-aws-secret"};
        for (size_t i = 0; i < 2; i++) {
            if (strstr(err.msg, secrets[i]) != NULL && !contains(data, size, secrets[i])) {
                abort();
            }
        }
    }
    cfg_free(cfg);
    return 0;
}
