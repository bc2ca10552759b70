/* gw_errbuf.h: the one-line error messages of gateway/net and gateway/creds, written into caller storage. */
#ifndef GW_ERRBUF_H
#define GW_ERRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* gw_errf formats a one-line reason into `err` (capacity `cap`, NUL-terminated, truncated to fit). */
static inline void gw_errf(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline void gw_errf(char *err, size_t cap, const char *fmt, ...)
{
    if (cap == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    if (n < 0) {
        err[0] = '\0';
    }
}

#endif
