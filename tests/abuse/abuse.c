/* abuse.c: see abuse.h. */
#include "abuse.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

long abuse_rss_kib(pid_t pid)
{
    char path[64];
    char buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (gw_read_file(path, buf, sizeof(buf)) == 0) {
        return -1;
    }
    const char *p = strstr(buf, "\nVmRSS:");
    return p != NULL ? strtol(p + 7, NULL, 10) : -1;
}

long abuse_cpu_ticks(pid_t pid)
{
    char path[64];
    char buf[2048];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (gw_read_file(path, buf, sizeof(buf)) == 0) {
        return -1;
    }
    /* Field 2, the command, is in parentheses and may hold spaces: count fields after its closing one. */
    const char *p = strrchr(buf, ')');
    if (p == NULL) {
        return -1;
    }
    long utime = 0;
    long stime = 0;
    int field = 2;
    for (; *p != '\0' && field < 15; p++) {
        if (*p == ' ') {
            field++;
            if (field == 14) {
                utime = strtol(p + 1, NULL, 10);
            } else if (field == 15) {
                stime = strtol(p + 1, NULL, 10);
            }
        }
    }
    return field == 15 ? utime + stime : -1;
}

int abuse_fd_count(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL) {
        return -1;
    }
    int n = 0;
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n;
}

long abuse_raise_nofile(long want)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if ((long)rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || (long)rl.rlim_max >= want ? (rlim_t)want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return (long)rl.rlim_cur;
}

static int client_socket(const char *src, bool nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) {
        return -1;
    }
    if (src != NULL) {
        struct sockaddr_in sa = {.sin_family = AF_INET};
        inet_pton(AF_INET, src, &sa.sin_addr);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

int abuse_connect_nb(const char *src, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = client_socket(src, true);
    if (fd < 0) {
        return -1;
    }
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

int abuse_connect_from(const char *src, int port, int ms)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    int fd = client_socket(src, false);
    cr_assert(fd >= 0, "socket from %s: %s", src != NULL ? src : "any", strerror(errno));
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect from %s: %s", src != NULL ? src : "any",
                 strerror(errno));
    return fd;
}

bool abuse_is_closed(int fd, char *buf, size_t cap)
{
    char sink[4096];
    size_t len = buf != NULL ? strlen(buf) : 0;
    for (;;) {
        ssize_t n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (n == 0) {
            return true;
        }
        if (n < 0) {
            return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ENOTCONN;
        }
        if (buf != NULL && len + 1 < cap) {
            size_t take = (size_t)n < cap - 1 - len ? (size_t)n : cap - 1 - len;
            memcpy(buf + len, sink, take);
            len += take;
            buf[len] = '\0';
        }
    }
}

bool abuse_wait_serving(struct gw_proc *p, int ms)
{
    static char buf[65536];
    long long start = gw_mono_ns();
    while (gw_ms_since(start) < ms) {
        gw_read_file(p->err_path, buf, sizeof(buf));
        if (strstr(buf, " serving ") != NULL) {
            return true;
        }
        usleep(10000);
    }
    return false;
}

void abuse_spawn(struct gw_proc *p, const char *yaml, const char *const *env, long nofile, const char *const *wrapper)
{
    char buf[4096];
    gw_write_config(p, yaml);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        gw_child_setup(p, env);
        if (nofile > 0) {
            /* What `sh -c 'ulimit -n N; exec ...'` does. The descriptors this process holds are closed first, so the
             * gateway starts with only 0, 1 and 2 like a service would. */
            struct rlimit rl = {(rlim_t)nofile, (rlim_t)nofile};
            for (int fd = 3; fd < 65536; fd++) {
                close(fd);
            }
            if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
                _exit(125);
            }
        }
        const char *argv[16];
        size_t n = 0;
        for (size_t i = 0; wrapper != NULL && wrapper[i] != NULL && n < 10; i++) {
            argv[n++] = wrapper[i];
        }
        argv[n++] = GW_BINARY;
        argv[n++] = "-c";
        argv[n++] = p->config;
        argv[n] = NULL;
        execvp(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    p->pid = pid;
    p->port = gw_wait_port(p, 10000);
    if (p->port <= 0) {
        gw_read_file(p->err_path, buf, sizeof(buf));
        cr_assert_fail("the gateway did not start:\n%s", buf);
    }
    cr_assert(abuse_wait_serving(p, 10000), "the gateway did not report serving");
}

void abuse_cleanup(struct gw_proc *p)
{
    if (p->pid > 0 || p->dir[0] != '\0') {
        gw_stop(p, SIGTERM, 5000, NULL);
    }
}

int abuse_run(const char *const *argv, const char *out_path, int ms)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        gw_child_dies_with_parent();
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (out < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) {
            _exit(126);
        }
        execvp(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    long long start = gw_mono_ns();
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        if (gw_ms_since(start) > ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        usleep(10000);
    }
}

int abuse_get(const char *src, int port, const char *path, char *buf, size_t cap)
{
    char req[1024];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    cr_assert(n > 0 && (size_t)n < sizeof(req));
    int fd = abuse_connect_from(src, port, 5000);
    gw_send(fd, req, (size_t)n);
    gw_recv_all(fd, buf, cap, 5000);
    close(fd);
    return gw_status(buf);
}

int abuse_fin_wait1(int port)
{
    char filter[64];
    char out[] = "/tmp/gw-abuse-ss-XXXXXX";
    static char buf[1 << 20];
    int fd = mkstemp(out);
    cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
    close(fd);
    snprintf(filter, sizeof(filter), "( sport = :%d )", port);
    const char *const argv[] = {"ss", "-Htn", "state", "fin-wait-1", filter, NULL};
    int st = abuse_run(argv, out, 5000);
    size_t len = gw_read_file(out, buf, sizeof(buf));
    unlink(out);
    if (st != 0) {
        return -1;
    }
    int n = 0;
    for (size_t i = 0; i < len; i++) {
        n += buf[i] == '\n';
    }
    return n;
}

long abuse_metric(int port, const char *name)
{
    static char buf[256 * 1024];
    char needle[256];
    abuse_get("127.0.0.2", port, "/metrics", buf, sizeof(buf));
    snprintf(needle, sizeof(needle), "\n%s ", name);
    const char *p = strstr(buf, needle);
    return p != NULL ? strtol(p + strlen(needle), NULL, 10) : -1;
}

void abuse_slow_read_verdict(const struct gw_proc *gw, const char *what, const struct abuse_push *push, long push_ms,
                             long deadline_ms, bool sanitized)
{
    long long t1 = gw_mono_ns();
    while (abuse_fd_count(gw->pid) > push->fds0 && gw_ms_since(t1) < deadline_ms + 4000) {
        usleep(50000);
    }
    long closed_ms = gw_ms_since(t1);
    int fds_now = abuse_fd_count(gw->pid);
    long grew = push->rss_max - push->rss0;

    printf("%s: client pushed %zu bytes (%zu requests) before the gateway stopped reading after %ld ms%s; "
           "gateway RSS %ld -> max %ld KiB (+%ld KiB); connection closed %ld ms after the stall\n",
           what, push->sent, push->sent / push->req_len, push->stalled_after_ms, push->reset ? " (reset)" : "", push->rss0,
           push->rss_max, grew, closed_ms);
    fflush(stdout);
    cr_assert(push->stalled_after_ms < push_ms, "the gateway kept reading a client that never reads (%zu bytes)", push->sent);
    cr_assert(push->sent < 16 * 1024 * 1024, "the gateway took %zu bytes from a client that reads nothing", push->sent);
    if (!sanitized) {
        cr_assert(grew < 5 * 1024, "memory grew by %ld KiB", grew);
    }
    cr_assert(fds_now <= push->fds0, "the connection is still open %ld ms after the stall", closed_ms);
}
