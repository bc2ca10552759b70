/* gw_log.c: diagnostics and the access log. */
#include "gw_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

atomic_int gw_log_max_level = GW_LOG_INFO;

void gw_log_emit(int level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n = snprintf(line, sizeof(line), "<%d>", level);
    if (n < 0) {
        return;
    }
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0) {
        return;
    }
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof(line) - 2) {
        len = sizeof(line) - 2; /* cut, but still one line */
    }
    for (size_t i = (size_t)n; i < len; i++) {
        if (line[i] == '\n' || line[i] == '\r') {
            line[i] = ' ';
        }
    }
    line[len++] = '\n';
    /* One write a line: lines from several threads never interleave. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

static void libevent_cb(int severity, const char *msg)
{
    /* Must not call into libevent from here. */
    int level = severity >= EVENT_LOG_ERR ? GW_LOG_ERR : (severity == EVENT_LOG_WARN ? GW_LOG_WARNING : GW_LOG_DEBUG);
    gw_log(level, "libevent: %s", msg);
}

void gw_log_libevent(void)
{
    event_set_log_callback(libevent_cb);
}

static pthread_mutex_t access_lock = PTHREAD_MUTEX_INITIALIZER;
static int access_fd = STDOUT_FILENO;
static atomic_bool access_on = true;

int gw_access_open(bool enabled, const char *path)
{
    int fd = STDOUT_FILENO;
    if (enabled && path != NULL) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
        if (fd < 0) {
            return -1;
        }
    }
    pthread_mutex_lock(&access_lock);
    int old = access_fd;
    access_fd = fd;
    atomic_store(&access_on, enabled);
    pthread_mutex_unlock(&access_lock);
    if (old != STDOUT_FILENO && old != fd) {
        close(old);
    }
    return 0;
}

bool gw_access_enabled(void)
{
    return atomic_load_explicit(&access_on, memory_order_relaxed);
}

void gw_access_write(const char *buf, size_t len)
{
    pthread_mutex_lock(&access_lock);
    while (len > 0) {
        ssize_t w = write(access_fd, buf, len);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break; /* a full disk or a closed pipe must not stop serving */
        }
        buf += w;
        len -= (size_t)w;
    }
    pthread_mutex_unlock(&access_lock);
}

void gw_access_close(void)
{
    pthread_mutex_lock(&access_lock);
    if (access_fd != STDOUT_FILENO) {
        close(access_fd);
    }
    access_fd = STDOUT_FILENO;
    pthread_mutex_unlock(&access_lock);
}

void gw_json_str(struct sgn_buf *b, const char *s, size_t len, bool utf8)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    sgn_buf_char(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f && (c < 0x80 || utf8)) {
            continue;
        }
        sgn_buf_append(b, s + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            sgn_buf_append(b, e, 2);
        } else {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            sgn_buf_append(b, e, 6);
        }
    }
    sgn_buf_append(b, s + run, len - run);
    sgn_buf_char(b, '"');
}
