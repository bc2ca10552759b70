/* gw_cli_presign.c: `oss-gateway presign`, the signer from the command line. */
#include "gw_cli.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gw_vector.h"
#include "sgn.h"

/* The JSON documents hold secrets: wipe every block jansson frees. */
static void *wiping_malloc(size_t n)
{
    return malloc(n);
}

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

    json_set_alloc_funcs(wiping_malloc, wiping_free);
    while ((len = getline(&line, &cap, in)) > 0) {
        struct gw_vector v;
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
        if (gw_vector_parse(&v, line, (size_t)len, err, sizeof(err)) != 0) {
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
        gw_vector_cleanup(&v);
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

int gw_cli_presign(int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "--jsonl") == 0) {
        return gw_cli_presign_jsonl(stdin, stdout);
    }
    fputs("usage: oss-gateway presign --jsonl\n", stderr);
    return 2;
}
