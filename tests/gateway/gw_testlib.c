/* gw_testlib.c: see gw_testlib.h. */
#include "gw_testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

long long gw_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long gw_ms_since(long long start_ns)
{
    return (long)((gw_mono_ns() - start_ns) / 1000000);
}

static void fmt(char *out, size_t cap, const char *a, const char *b)
{
    int n = snprintf(out, cap, "%s/%s", a, b);
    cr_assert(n > 0 && (size_t)n < cap);
}

void gw_write_config(struct gw_proc *p, const char *yaml)
{
    if (p->dir[0] == '\0') {
        memcpy(p->dir, "/tmp/gwtest.XXXXXX", 19);
        cr_assert_not_null(mkdtemp(p->dir));
        fmt(p->config, sizeof(p->config), p->dir, "gateway.yaml");
        fmt(p->out_path, sizeof(p->out_path), p->dir, "stdout");
        fmt(p->err_path, sizeof(p->err_path), p->dir, "stderr");
    }
    FILE *f = fopen(p->config, "w");
    cr_assert_not_null(f);
    /* A config with its own listen (a TLS listener) keeps it; the others listen on any free port of 127.0.0.1. */
    fprintf(f, "%s%s", strncmp(yaml, "listen:", 7) == 0 ? "" : "listen: [\"127.0.0.1:0\"]\n", yaml);
    cr_assert_eq(fclose(f), 0);
}

void gw_child_dies_with_parent(void)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() == 1) {
        _exit(126);
    }
}

void gw_child_setup(const struct gw_proc *p, const char *const *env)
{
    gw_child_dies_with_parent();
    int out = open(p->out_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    int err = open(p->err_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
        _exit(126);
    }
    setenv("OSS_ACCESS_KEY_ID", "test-access-key-id", 1);
    setenv("OSS_ACCESS_KEY_SECRET", "test-access-key-secret-0123456789", 1);
    unsetenv("OSS_SESSION_TOKEN");
    for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
        putenv((char *)(uintptr_t)env[i]);
    }
}

pid_t gw_spawn(struct gw_proc *p, const char *const *env, const char *const *args)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        gw_child_setup(p, env);
        if (args != NULL) {
            const char *argv[16] = {GW_BINARY};
            size_t n = 1;
            for (size_t i = 0; args[i] != NULL && n < 15; i++) {
                argv[n++] = args[i];
            }
            argv[n] = NULL;
            execv(GW_BINARY, (char *const *)(uintptr_t)argv);
        } else {
            execl(GW_BINARY, GW_BINARY, "-c", p->config, (char *)NULL);
        }
        _exit(127);
    }
    p->pid = pid;
    return pid;
}

int gw_wait_port(struct gw_proc *p, int ms)
{
    long long start = gw_mono_ns();
    char buf[8192];
    while (gw_ms_since(start) < ms) {
        gw_read_file(p->err_path, buf, sizeof(buf));
        const char *l = strstr(buf, "listening on 127.0.0.1:");
        if (l != NULL) {
            return (int)strtol(l + strlen("listening on 127.0.0.1:"), NULL, 10);
        }
        int status;
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            return -1;
        }
        usleep(10000);
    }
    return -1;
}

void gw_start(struct gw_proc *p, const char *yaml, const char *const *env)
{
    char buf[4096];
    gw_write_config(p, yaml);
    gw_spawn(p, env, NULL);
    p->port = gw_wait_port(p, 5000);
    if (p->port <= 0) {
        gw_read_file(p->err_path, buf, sizeof(buf));
        gw_stop(p, SIGKILL, 2000, NULL); /* never leave it running behind a failed test */
        cr_assert_fail("the gateway did not start:\n%s", buf);
    }
}

int gw_stop(struct gw_proc *p, int sig, int ms, long *elapsed_ms)
{
    long long start = gw_mono_ns();
    int status = -1;
    if (p->pid > 0) {
        kill(p->pid, sig);
        for (;;) {
            int st;
            pid_t r = waitpid(p->pid, &st, WNOHANG);
            if (r == p->pid) {
                status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                break;
            }
            if (gw_ms_since(start) > ms) {
                kill(p->pid, SIGKILL);
                waitpid(p->pid, &st, 0);
                status = -1;
                break;
            }
            usleep(5000);
        }
        p->pid = 0;
    }
    if (elapsed_ms != NULL) {
        *elapsed_ms = gw_ms_since(start);
    }
    if (p->dir[0] != '\0') {
        unlink(p->config);
        unlink(p->out_path);
        unlink(p->err_path);
        rmdir(p->dir);
    }
    return status;
}

int gw_connect(int port, int ms)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s", strerror(errno));
    return fd;
}

int gw_connect_error(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int err = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
    close(fd);
    return err;
}

void gw_send(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return; /* the server may close first (a rejected request); the reply says what happened */
        }
        s += n;
        len -= (size_t)n;
    }
}

size_t gw_recv_all(int fd, char *buf, size_t cap, int ms)
{
    return gw_recv_until(fd, buf, cap, NULL, ms);
}

size_t gw_recv_until(int fd, char *buf, size_t cap, const char *needle, int ms)
{
    size_t len = 0;
    long long start = gw_mono_ns();
    buf[0] = '\0';
    while (len + 1 < cap && (needle == NULL || strstr(buf, needle) == NULL)) {
        struct pollfd pfd = {fd, POLLIN, 0};
        long left = ms - gw_ms_since(start);
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
            break;
        }
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        buf[len] = '\0';
    }
    buf[len] = '\0';
    return len;
}

size_t gw_exchange(int port, const char *req, char *buf, size_t cap)
{
    int fd = gw_connect(port, 5000);
    gw_send(fd, req, strlen(req));
    size_t n = gw_recv_all(fd, buf, cap, 5000);
    close(fd);
    return n;
}

int gw_status(const char *buf)
{
    if (strncmp(buf, "HTTP/1.1 ", 9) != 0) {
        return -1;
    }
    return (int)strtol(buf + 9, NULL, 10);
}

bool gw_header(const char *buf, const char *name, char *out, size_t cap)
{
    const char *end = strstr(buf, "\r\n\r\n");
    size_t nl = strlen(name);
    for (const char *p = strstr(buf, "\r\n"); p != NULL && (end == NULL || p < end); p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char *v = p + 2 + nl + 1;
            while (*v == ' ') {
                v++;
            }
            const char *e = strstr(v, "\r\n");
            size_t n = e != NULL ? (size_t)(e - v) : strlen(v);
            if (n >= cap) {
                n = cap - 1;
            }
            memcpy(out, v, n);
            out[n] = '\0';
            return true;
        }
    }
    return false;
}

size_t gw_read_file(const char *path, char *buf, size_t cap)
{
    size_t n = 0;
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        n = fread(buf, 1, cap - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return n;
}

int gw_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}
