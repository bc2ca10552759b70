/* gw_log.h: the gateway's diagnostics (stderr, sd-daemon `<N>` level prefixes, one line an event) and its access log
 * (JSON lines to stdout or a file, buffered per worker and written whole lines at a time). */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "sgn_buf.h"

enum gw_level {
    GW_LOG_ERR = 3,
    GW_LOG_WARNING = 4,
    GW_LOG_NOTICE = 5,
    GW_LOG_INFO = 6,
    GW_LOG_DEBUG = 7,
};

extern atomic_int gw_log_max_level;

/* gw_log checks the level before evaluating its arguments. Never pass a secret, a presigned URL or its signature. */
#define gw_log(level, ...)                                                                                                         \
    do {                                                                                                                           \
        if ((int)(level) <= atomic_load_explicit(&gw_log_max_level, memory_order_relaxed)) {                                       \
            gw_log_emit((level), __VA_ARGS__);                                                                                     \
        }                                                                                                                          \
    } while (0)

void gw_log_emit(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* gw_log_libevent routes libevent's own messages through gw_log. */
void gw_log_libevent(void);

/* gw_access_open makes the access log go to stdout (path NULL, enabled), a file (opened O_APPEND, created 0640), or
 * nowhere (enabled false). The previous target is closed once no worker writes to it. Returns -1 with errno when the
 * file cannot be opened, keeping the previous target. Safe to call while workers run (a reload reopens the file, which
 * is also how rotation works). */
int gw_access_open(bool enabled, const char *path);

/* gw_access_enabled is true when access lines are wanted. */
bool gw_access_enabled(void);

/* gw_access_write writes `len` bytes of whole lines to the access log under its lock. */
void gw_access_write(const char *buf, size_t len);

/* gw_access_close closes the access log file (at exit). */
void gw_access_close(void);

/* gw_json_str appends `s` as a JSON string with quotes; bytes >= 0x80 are escaped as \u00XX unless `utf8` (the caller
 * knows `s` is valid UTF-8). */
void gw_json_str(struct sgn_buf *b, const char *s, size_t len, bool utf8);

#endif
