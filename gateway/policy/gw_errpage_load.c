/* gw_errpage_load.c: reading DIR's error page templates, at start and reload only (never per request). The one file
 * of gw_policy that does I/O. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw_errpage.h"

static bool fail(char *err, size_t err_cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool fail(char *err, size_t err_cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err, err_cap, fmt, ap);
    va_end(ap);
    if (n < 0 && err_cap > 0) {
        err[0] = '\0';
    }
    return false;
}

/* load_one reads `path` into a template. *missing is set, and true returned, when the file does not exist. */
static bool load_one(struct gw_errpage **out, bool *missing, const char *path, char *err, size_t err_cap)
{
    char *text = NULL;
    bool ok = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    *missing = false;
    if (fd < 0) {
        if (errno == ENOENT) {
            *missing = true;
            return true;
        }
        return fail(err, err_cap, "%s: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        ok = fail(err, err_cap, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) {
        ok = fail(err, err_cap, "%s: not a regular file", path);
        goto cleanup;
    }
    if (st.st_size > GW_ERRPAGE_MAX) {
        ok = fail(err, err_cap, "%s: %lld bytes, at most %d allowed", path, (long long)st.st_size, GW_ERRPAGE_MAX);
        goto cleanup;
    }
    /* read one byte more than allowed, in case the file grew since fstat */
    text = malloc(GW_ERRPAGE_MAX + 1);
    if (text == NULL) {
        ok = fail(err, err_cap, "%s: out of memory", path);
        goto cleanup;
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, text + len, GW_ERRPAGE_MAX + 1 - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            ok = fail(err, err_cap, "%s: %s", path, strerror(errno));
            goto cleanup;
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
        if (len > GW_ERRPAGE_MAX) {
            ok = fail(err, err_cap, "%s: more than %d bytes", path, GW_ERRPAGE_MAX);
            goto cleanup;
        }
    }
    size_t line, col;
    const char *reason = gw_errpage_parse(out, text, len, &line, &col);
    if (reason != NULL) {
        ok = line > 0 ? fail(err, err_cap, "%s:%zu:%zu: %s", path, line, col, reason) : fail(err, err_cap, "%s: %s", path, reason);
        goto cleanup;
    }
    ok = true;
cleanup:
    free(text);
    close(fd);
    return ok;
}

bool gw_errpages_load(struct gw_errpages **out, const char *dir, char *err, size_t err_cap)
{
    char path[4096];
    bool missing;
    struct gw_errpages *set = calloc(1, sizeof(*set));
    if (set == NULL) {
        return fail(err, err_cap, "%s: out of memory", dir);
    }
    int n = snprintf(path, sizeof(path), "%s/default.html", dir);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        gw_errpages_free(set);
        return fail(err, err_cap, "error_pages: directory name too long");
    }
    if (!load_one(&set->fallback, &missing, path, err, err_cap)) {
        gw_errpages_free(set);
        return false;
    }
    if (missing) {
        gw_errpages_free(set);
        return fail(err, err_cap, "%s: %s", path, strerror(ENOENT));
    }
    for (unsigned s = GW_ERRPAGE_STATUS_MIN; s <= GW_ERRPAGE_STATUS_MAX; s++) {
        n = snprintf(path, sizeof(path), "%s/%u.html", dir, s);
        if (n < 0 || (size_t)n >= sizeof(path) ||
            !load_one(&set->by_status[s - GW_ERRPAGE_STATUS_MIN], &missing, path, err, err_cap)) {
            gw_errpages_free(set);
            return n < 0 || (size_t)n >= sizeof(path) ? fail(err, err_cap, "error_pages: directory name too long") : false;
        }
    }
    *out = set;
    return true;
}

void gw_errpages_free(struct gw_errpages *set)
{
    if (set == NULL) {
        return;
    }
    for (size_t i = 0; i < sizeof(set->by_status) / sizeof(set->by_status[0]); i++) {
        gw_errpage_free(set->by_status[i]);
    }
    gw_errpage_free(set->fallback);
    free(set);
}
