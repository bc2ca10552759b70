/* gw_sdtest.c: see gw_sdtest.h. */
#include "gw_sdtest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

extern char **environ;

int gw_sd_notify_open(const char *dir, char *path, size_t cap)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int n = snprintf(path, cap, "%s/notify", dir);
    cr_assert(n > 0 && (size_t)n < cap && (size_t)n < sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, (size_t)n + 1);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    unlink(path);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind %s: %s", path, strerror(errno));
    return fd;
}

long gw_sd_recv(int fd, char *buf, size_t cap, int ms)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, ms) <= 0) {
        return -1;
    }
    ssize_t n = recv(fd, buf, cap - 1, 0);
    if (n < 0) {
        return -1;
    }
    buf[n] = '\0';
    return (long)n;
}

bool gw_sd_has_line(const char *msg, const char *line)
{
    size_t n = strlen(line);
    bool prefix = n > 0 && line[n - 1] == '=';
    for (const char *p = msg; *p != '\0';) {
        const char *e = strchr(p, '\n');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        if ((prefix ? len >= n : len == n) && memcmp(p, line, n) == 0) {
            return true;
        }
        p += len;
        if (*p == '\n') {
            p++;
        }
    }
    return false;
}

bool gw_sd_wait(int fd, const char *line, char *buf, size_t cap, int ms, int *pings)
{
    long long start = gw_mono_ns();
    for (;;) {
        long left = ms - gw_ms_since(start);
        if (left <= 0 || gw_sd_recv(fd, buf, cap, (int)left) < 0) {
            return false;
        }
        if (gw_sd_has_line(buf, line)) {
            return true;
        }
        if (pings != NULL && gw_sd_has_line(buf, "WATCHDOG=1")) {
            (*pings)++;
        }
    }
}

int gw_sd_listen(int backlog, int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    cr_assert_eq(listen(fd, backlog), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* ---- spawning: everything is prepared before fork, the child only fills in its PID ---- */

#define PID_DIGITS 20

struct spawn_env {
    char *envp[256];
    size_t n;
    char strs[8][160];
    size_t n_strs;
};

static char *env_add(struct spawn_env *s, const char *name, const char *value)
{
    cr_assert(s->n_strs < 8 && s->n + 1 < 256);
    char *p = s->strs[s->n_strs++];
    int n = snprintf(p, 160, "%s=%s", name, value);
    cr_assert(n > 0 && n < 160);
    s->envp[s->n++] = p;
    s->envp[s->n] = NULL;
    return p + strlen(name) + 1;
}

static bool is_ours(const char *var)
{
    static const char *const names[] = {
        "NOTIFY_SOCKET=",  "WATCHDOG_USEC=",     "WATCHDOG_PID=",          "LISTEN_FDS=",       "LISTEN_PID=",
        "LISTEN_FDNAMES=", "OSS_ACCESS_KEY_ID=", "OSS_ACCESS_KEY_SECRET=", "OSS_SESSION_TOKEN="};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strncmp(var, names[i], strlen(names[i])) == 0) {
            return true;
        }
    }
    return false;
}

/* put_pid writes `pid` right-aligned over the PID_DIGITS-wide field `f` (async-signal-safe: no libc formatting). */
static void put_pid(char *f, pid_t pid)
{
    char tmp[PID_DIGITS];
    size_t n = 0;
    unsigned long v = (unsigned long)pid;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 && n < PID_DIGITS);
    for (size_t i = 0; i < n; i++) {
        f[i] = tmp[n - 1 - i];
    }
    f[n] = '\0';
}

pid_t gw_sd_spawn(struct gw_proc *p, const struct gw_sd_env *e)
{
    static struct spawn_env s;
    char wd[32];
    char blank[PID_DIGITS + 1];
    char *watchdog_pid = NULL;
    char *listen_pid = NULL;
    const char *argv[] = {GW_BINARY, "-c", p->config, NULL};

    memset(&s, 0, sizeof(s));
    memset(blank, '0', PID_DIGITS);
    blank[PID_DIGITS] = '\0';
    for (char **v = environ; *v != NULL && s.n + 16 < 256; v++) {
        if (!is_ours(*v)) {
            s.envp[s.n++] = *v;
        }
    }
    env_add(&s, "OSS_ACCESS_KEY_ID", "test-access-key-id");
    env_add(&s, "OSS_ACCESS_KEY_SECRET", "test-access-key-secret-0123456789");
    if (e->notify_path != NULL) {
        env_add(&s, "NOTIFY_SOCKET", e->notify_path);
    }
    if (e->watchdog_usec > 0) {
        int n = snprintf(wd, sizeof(wd), "%ld", e->watchdog_usec);
        cr_assert(n > 0 && (size_t)n < sizeof(wd));
        env_add(&s, "WATCHDOG_USEC", wd);
        if (e->watchdog_pid_other) {
            env_add(&s, "WATCHDOG_PID", "1");
        } else {
            watchdog_pid = env_add(&s, "WATCHDOG_PID", blank);
        }
    }
    if (e->listen_fd >= 0) {
        env_add(&s, "LISTEN_FDS", "1");
        listen_pid = env_add(&s, "LISTEN_PID", blank);
    }

    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        gw_child_dies_with_parent();
        pid_t self = getpid();
        int out = open(p->out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        int err = open(p->err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
            _exit(126);
        }
        if (watchdog_pid != NULL) {
            put_pid(watchdog_pid, self);
        }
        if (listen_pid != NULL) {
            put_pid(listen_pid, self);
            /* dup2 clears close-on-exec on fd 3; when the socket already is fd 3, clear it by hand. */
            if (e->listen_fd == 3 ? fcntl(3, F_SETFD, 0) != 0 : dup2(e->listen_fd, 3) != 3) {
                _exit(126);
            }
        }
        execve(GW_BINARY, (char *const *)(uintptr_t)argv, s.envp);
        _exit(127);
    }
    p->pid = pid;
    return pid;
}

int gw_sd_wait_exit(pid_t pid, int ms)
{
    long long start = gw_mono_ns();
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        if (gw_ms_since(start) > ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        usleep(2000);
    }
}

/* ---- load ---- */

static void load_fail(struct gw_load *l, const char *what, int err)
{
    atomic_fetch_add(&l->failed, 1);
    if (!atomic_flag_test_and_set(&l->error_set)) {
        int n = snprintf(l->first_error, sizeof(l->first_error), "%s: %s", what, err != 0 ? strerror(err) : "-");
        (void)n;
    }
}

/* one_request sends one GET on a new connection and reads the answer up to the server's close. */
static void one_request(struct gw_load *l)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)l->port)};
    struct timeval tv = {5, 0};
    char req[256];
    char buf[8192];
    size_t len = 0;

    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n", l->path);
    if (n < 0 || (size_t)n >= sizeof(req)) {
        load_fail(l, "request too long", 0);
        return;
    }
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        load_fail(l, "socket", errno);
        return;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        load_fail(l, "connect", errno);
        close(fd);
        return;
    }
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != (ssize_t)n) {
        load_fail(l, "send", errno);
        close(fd);
        return;
    }
    for (;;) {
        ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            load_fail(l, len == 0 ? "recv, nothing read" : "recv, answer cut short", errno);
            close(fd);
            return;
        }
        if (r == 0 || len + (size_t)r >= sizeof(buf) - 1) {
            len += (size_t)r;
            break;
        }
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    const char *body = strstr(buf, "\r\n\r\n");
    const char *cl = strstr(buf, "\r\nContent-Length: ");
    if (strncmp(buf, "HTTP/1.1 302 ", 13) != 0 || body == NULL || cl == NULL || strtoul(cl + 18, NULL, 10) != strlen(body + 4)) {
        load_fail(l, len == 0 ? "closed without an answer" : "not a complete 302", 0);
        return;
    }
    atomic_fetch_add(&l->ok, 1);
}

static void *load_main(void *arg)
{
    struct gw_load *l = arg;
    while (!atomic_load(&l->stop)) {
        one_request(l);
    }
    return NULL;
}

void gw_load_start(struct gw_load *l, int port, const char *path, size_t n_threads)
{
    memset(l, 0, sizeof(*l));
    atomic_flag_clear(&l->error_set);
    l->port = port;
    l->path = path;
    cr_assert(n_threads <= 16);
    for (l->n_threads = 0; l->n_threads < n_threads; l->n_threads++) {
        cr_assert_eq(pthread_create(&l->threads[l->n_threads], NULL, load_main, l), 0);
    }
}

void gw_load_stop(struct gw_load *l)
{
    atomic_store(&l->stop, true);
    for (size_t i = 0; i < l->n_threads; i++) {
        pthread_join(l->threads[i], NULL);
    }
    l->n_threads = 0;
}
