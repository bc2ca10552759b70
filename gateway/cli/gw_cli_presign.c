/* gw_cli_presign.c: `oss-gateway presign`, the signer from the command line. */
#include "gw_cli.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "gw_handler.h"
#include "gw_key.h"
#include "sgn_vector.h"
#include "sgn.h"

/* The JSON documents hold secrets: wipe every block jansson frees (it allocates with plain malloc). */
static void wiping_free(void *p)
{
    if (p != NULL) {
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
    }
}

static int emit(FILE *out, const char *id, const char *field, const char *value)
{
    json_t *o = json_object();
    int rc = -1;
    if (o == NULL) {
        return -1;
    }
    if (json_object_set_new(o, "id", id != NULL ? json_string(id) : json_null()) == 0 &&
        json_object_set_new(o, field, json_string(value)) == 0 && json_dumpf(o, out, JSON_COMPACT) == 0 &&
        fputc('\n', out) != EOF) {
        rc = 0;
    }
    json_decref(o);
    return rc;
}

int gw_cli_presign_jsonl(FILE *in, FILE *out)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int status = 0;

    json_set_alloc_funcs(malloc, wiping_free);
    while ((len = getline(&line, &cap, in)) > 0) {
        struct sgn_vector v;
        char err[256];
        char url[32768];
        size_t url_len;
        int rc;

        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
            len--;
        }
        if (len == 0) {
            continue;
        }
        if (sgn_vector_parse(&v, line, (size_t)len, err, sizeof(err)) != 0) {
            rc = emit(out, v.id, "error", err);
            status = 1;
        } else {
            enum sgn_status st = sgn_presign(url, sizeof(url), &url_len, &v.params);
            if (st == SGN_OK) {
                rc = emit(out, v.id, "url", url);
            } else {
                rc = emit(out, v.id, "error", sgn_strerror(st));
                status = 1;
            }
        }
        sgn_vector_cleanup(&v);
        explicit_bzero(line, cap);
        if (rc != 0) {
            status = 2;
            break;
        }
    }
    free(line);
    if (ferror(in) || fflush(out) != 0) {
        return 2;
    }
    return status;
}

/* presign_route prints the URL a request for `key` (a raw object name) through a configured route would redirect to. */
static int presign_route(const char *config, const char *prefix, const char *method, const char *key)
{
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    struct gw_runtime *rt = NULL;
    struct gw_ctx *ctx = NULL;
    const struct cfg_route *route = NULL;
    struct gw_req req;
    char encoded[3 * SGN_MAX_KEY + 1];
    size_t enc_len;
    size_t key_len;
    size_t url_len;
    unsigned status;
    int rc = 1;

    gw_req_init(&req, NULL, NULL, "presign");
    if (cfg_load_file(&cfg, config, NULL, &err) != CFG_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    char reason[512];
    rt = gw_runtime_new(cfg, reason, sizeof(reason));
    if (rt == NULL || gw_credrt_fetch(rt->creds, reason, sizeof(reason)) != 0) {
        fprintf(stderr, "oss-gateway: %s\n", reason);
        goto cleanup;
    }
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        fputs("oss-gateway: out of memory\n", stderr);
        goto cleanup;
    }
    for (size_t i = 0; i < rt->cfg->n_routes && route == NULL; i++) {
        if (prefix == NULL || strcmp(rt->cfg->routes[i].prefix, prefix) == 0) {
            route = &rt->cfg->routes[i];
        }
    }
    if (route == NULL) {
        fprintf(stderr, "oss-gateway: %s: no route with prefix %s\n", config, prefix);
        goto cleanup;
    }
    /* The same rules as a request: encode, then decode and validate exactly as the server does. */
    size_t kp = route->key_prefix_len;
    const char *why = NULL;
    if (sgn_encode(encoded, sizeof(encoded), &enc_len, (struct sgn_view){key, strlen(key)}, true) != SGN_OK) {
        why = "key too long";
    } else {
        memcpy(req.key, route->key_prefix, kp);
        why = gw_key_decode(req.key + kp, SGN_MAX_KEY - kp, &key_len, encoded, enc_len);
    }
    if (why != NULL) {
        fprintf(stderr, "oss-gateway: %s\n", why);
        goto cleanup;
    }
    req.key[kp + key_len] = '\0';
    req.key_len = kp + key_len;
    req.route = route;
    req.method = (struct gw_view){method, strlen(method)};
    struct gw_stats *stats = calloc(1, sizeof(*stats));
    if (stats == NULL) {
        goto cleanup;
    }
    ctx->stats = stats;
    gw_ctx_set_runtime(ctx, rt);
    why = gw_presign_key(ctx, &req, (int64_t)time(NULL), &url_len, &status);
    if (why != NULL) {
        fprintf(stderr, "oss-gateway: %s\n", why);
    } else {
        printf("%s\n", ctx->url);
        rc = 0;
    }
    free(stats);
cleanup:
    if (ctx != NULL) {
        gw_ctx_wipe(ctx);
        free(ctx);
    }
    gw_runtime_unref(rt);
    return rc;
}

int gw_cli_presign(int argc, char **argv)
{
    const char *config = NULL;
    const char *prefix = NULL;
    const char *method = "GET";
    const char *key = NULL;

    if (argc == 1 && strcmp(argv[0], "--jsonl") == 0) {
        return gw_cli_presign_jsonl(stdin, stdout);
    }
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (strcmp(argv[i], "--route") == 0 && i + 1 < argc) {
            prefix = argv[++i];
        } else if (strcmp(argv[i], "--method") == 0 && i + 1 < argc) {
            method = argv[++i];
        } else if (key == NULL && argv[i][0] != '-') {
            key = argv[i];
        } else {
            key = NULL;
            config = NULL;
            break;
        }
    }
    if (config == NULL || key == NULL || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)) {
        fputs("usage: oss-gateway presign -c FILE [--route PREFIX] [--method GET|HEAD] KEY\n"
              "       oss-gateway presign --jsonl\n",
              stderr);
        return 2;
    }
    return presign_route(config, prefix, method, key);
}
