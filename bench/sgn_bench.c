/* sgn_bench.c: the signer micro-benchmark of issue 2 (not a test). One OSS V4 presign as the gateway does it: virtual
 * hosting, https, a cached signing key (with its HMAC midstates) and the backend's canonical-request prefix state, a ~40-byte key
 * with a space and non-ASCII bytes, no token, no extra parameters.
 *
 *   sgn_bench [--iterations N] [--rounds R]   time R rounds of N presigns; print the best and median ns per presign
 *   sgn_bench --count N                        run exactly N presigns and print nothing timed (for callgrind: the
 *                                              difference of two N removes the setup)
 *
 * Heap allocations are counted by interposing malloc, calloc, realloc and free (glibc's __libc_* versions do the
 * work); the count over the presign loop must be 0, and the program exits 1 otherwise. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sgn.h"

/* glibc's own allocator entry points, which the interposed ones forward to. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static unsigned long n_allocs;

void *malloc(size_t n)
{
    n_allocs++;
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    n_allocs++;
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    n_allocs++;
    return __libc_realloc(p, n);
}

void free(void *p)
{
    __libc_free(p);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? -1 : (x > y ? 1 : 0);
}

static bool parse_count(const char *s, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v == 0) {
        return false;
    }
    *out = v;
    return true;
}

/* Typical inputs: an AccessKey pair of Alibaba Cloud's shapes (24 and 30 bytes), a 41-byte object key. */
static const char key_id[] = "LTAI5tBenchmarkKeyId0001";
static const char secret[] = "bEnChMaRkSeCrEtOfThIrTyByTeS00";
static const char object_key[] = "reports/2024 q3/季度报告-final.pdf";

int main(int argc, char **argv)
{
    unsigned long iterations = 200000;
    unsigned long rounds = 7;
    unsigned long count = 0;
    static char url[4096];
    size_t url_len = 0;
    struct sgn_signing_key cached;
    struct sgn_prefix prefix;
    int64_t t0 = 1732800000; /* 2024-11-28T13:20:00Z; the day stays the same for every iteration */

    for (int i = 1; i < argc; i++) {
        bool ok = false;
        if (i + 1 < argc && strcmp(argv[i], "--iterations") == 0) {
            ok = parse_count(argv[++i], &iterations);
        } else if (i + 1 < argc && strcmp(argv[i], "--rounds") == 0) {
            ok = parse_count(argv[++i], &rounds);
        } else if (i + 1 < argc && strcmp(argv[i], "--count") == 0) {
            ok = parse_count(argv[++i], &count);
        }
        if (!ok) {
            fprintf(stderr, "usage: sgn_bench [--iterations N] [--rounds R] | --count N\n");
            return 2;
        }
    }

    struct sgn_params p = {
        .mode = SGN_MODE_OSS_V4,
        .method = SGN_VIEW_LIT("GET"),
        .https = true,
        .endpoint = SGN_VIEW_LIT("oss-cn-hangzhou.aliyuncs.com"),
        .region = SGN_VIEW_LIT("cn-hangzhou"),
        .bucket = SGN_VIEW_LIT("examplebucket"),
        .key = {object_key, sizeof(object_key) - 1},
        .addressing = SGN_ADDR_VIRTUAL,
        .time = t0,
        .expires = 900,
        .access_key_id = SGN_VIEW_LIT(key_id),
        .secret = SGN_VIEW_LIT(secret),
    };
    if (sgn_signing_key_derive(&cached, p.mode, p.secret, p.region, t0) != SGN_OK) {
        fprintf(stderr, "sgn_bench: cannot derive the signing key\n");
        return 1;
    }
    p.signing_key = &cached;
    if (sgn_prefix_init(&prefix, &p) != SGN_OK) {
        fprintf(stderr, "sgn_bench: cannot hash the canonical request's prefix\n");
        return 1;
    }
    p.prefix = &prefix;

    if (count > 0) {
        unsigned long before = n_allocs;
        for (unsigned long i = 0; i < count; i++) {
            p.time = t0 + (int64_t)(i % 3600); /* a new signature each time, as with sign_window 0 */
            if (sgn_presign(url, sizeof(url), &url_len, &p) != SGN_OK) {
                fprintf(stderr, "sgn_bench: presign failed\n");
                return 1;
            }
        }
        unsigned long allocs = n_allocs - before; /* before printf, which allocates stdout's buffer */
        printf("presigns %lu allocations %lu url_bytes %zu\n", count, allocs, url_len);
        sgn_signing_key_wipe(&cached);
        return allocs == 0 ? 0 : 1;
    }

    uint64_t *per = __libc_calloc(rounds, sizeof(*per));
    if (per == NULL) {
        return 1;
    }
    unsigned long allocs = 0;
    for (unsigned long r = 0; r < rounds; r++) {
        unsigned long before = n_allocs;
        uint64_t start = now_ns();
        for (unsigned long i = 0; i < iterations; i++) {
            p.time = t0 + (int64_t)(i % 3600);
            if (sgn_presign(url, sizeof(url), &url_len, &p) != SGN_OK) {
                fprintf(stderr, "sgn_bench: presign failed\n");
                return 1;
            }
        }
        per[r] = (now_ns() - start) * 1000 / iterations; /* picoseconds, for one decimal of ns */
        allocs += n_allocs - before;
    }
    qsort(per, rounds, sizeof(*per), cmp_u64);
    printf("url %.*s\n", (int)url_len, url);
    printf("url_bytes %zu\n", url_len);
    printf("ns_per_presign_best %.1f\nns_per_presign_median %.1f\n", (double)per[0] / 1000, (double)per[rounds / 2] / 1000);
    printf("rounds %lu iterations %lu allocations %lu\n", rounds, iterations, allocs);
    __libc_free(per);
    sgn_signing_key_wipe(&cached);
    return allocs == 0 ? 0 : 1;
}
