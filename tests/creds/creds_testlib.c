/* creds_testlib.c: see creds_testlib.h. */
#define _GNU_SOURCE /* accept4, strcasestr */
#include "creds_testlib.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long long ct_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(fd, 16), 0);
    socklen_t al = sizeof(a);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static bool wait_readable(int fd, struct ct_server *s)
{
    while (!s->stop) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, 50);
        if (n > 0) {
            return true;
        }
        if (n < 0 && errno != EINTR) {
            return false;
        }
    }
    return false;
}

static void read_request(struct ct_server *s, int c)
{
    size_t len = 0;
    for (;;) {
        if (!wait_readable(c, s)) {
            return;
        }
        ssize_t n = recv(c, s->request + len, sizeof(s->request) - 1 - len, 0);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        s->request[len] = '\0';
        char *end = strstr(s->request, "\r\n\r\n");
        if (end != NULL) {
            const char *cl = strcasestr(s->request, "\r\nContent-Length:");
            size_t want = (size_t)(end + 4 - s->request);
            if (cl != NULL && cl < end) {
                want += strtoul(cl + 17, NULL, 10);
            }
            if (len >= want || len == sizeof(s->request) - 1) {
                break;
            }
        }
    }
    s->request_len = len;
}

static void send_bytes(int c, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static void *serve(void *arg)
{
    struct ct_server *s = arg;
    while (!s->stop) {
        if (!wait_readable(s->fd, s)) {
            break;
        }
        int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            continue;
        }
        s->n_conns++;
        read_request(s, c);
        if (s->silent) {
            while (!s->stop) {
                sleep_ms(20);
            }
        }
        for (int waited = 0; waited < s->delay_ms && !s->stop; waited += 20) {
            sleep_ms(20);
        }
        size_t n = s->response_len > 0 ? s->response_len : (s->response != NULL ? strlen(s->response) : 0);
        if (s->trickle_ms > 0) {
            for (size_t i = 0; i < n && !s->stop; i++) {
                send_bytes(c, s->response + i, 1);
                sleep_ms(s->trickle_ms);
            }
        } else if (n > 0) {
            send_bytes(c, s->response, n);
        }
        static const char junk[16384] = {0};
        for (size_t sent = 0; sent < s->big_body && !s->stop; sent += sizeof(junk)) {
            ssize_t w = send(c, junk, sizeof(junk), MSG_NOSIGNAL);
            if (w <= 0) {
                break;
            }
        }
        close(c);
    }
    return NULL;
}

void ct_server_start(struct ct_server *s)
{
    s->stop = false;
    s->fd = listen_loopback(&s->port);
    cr_assert_eq(pthread_create(&s->thread, NULL, serve, s), 0);
}

void ct_server_stop(struct ct_server *s)
{
    s->stop = true;
    pthread_join(s->thread, NULL);
    close(s->fd);
}

void ct_pki_remove(void)
{
    const char *dir = ct_pki();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

const char *ct_pki(void)
{
    static char dir[64];
    if (dir[0] != '\0') {
        return dir;
    }
    snprintf(dir, sizeof(dir), "/tmp/gw-creds-pki-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "sh %s/tests/creds/gen-certs.sh %s", GW_SOURCE_DIR, dir);
    cr_assert_eq(system(cmd), 0, "gen-certs.sh failed");
    return dir;
}

pid_t ct_s_server(const char *dir, const char *cert, const char *key, int *port, const char *const *extra)
{
    /* Pick a free port: bind port 0, read it, close; s_server binds it right after (a race another test could lose
     * only by binding the same ephemeral port within milliseconds). */
    int probe = listen_loopback(port);
    close(probe);
    char accept_arg[32];
    snprintf(accept_arg, sizeof(accept_arg), "127.0.0.1:%d", *port);
    const char *argv[24] = {"openssl", "s_server", "-quiet", "-HTTP", "-accept", accept_arg, "-cert", cert, "-key", key};
    size_t n = 10;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 23; i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* Die with the test process, even when an assertion ends it before ct_kill. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || chdir(dir) != 0) {
            _exit(126);
        }
        FILE *null = freopen("/dev/null", "w", stdout);
        (void)null;
        char *args[24];
        for (size_t i = 0; i <= n; i++) {
            args[i] = argv[i] != NULL ? strdup(argv[i]) : NULL;
        }
        execvp("openssl", args);
        _exit(127);
    }
    long long deadline = ct_mono_ms() + 5000;
    while (ct_mono_ms() < deadline) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {
            .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons((uint16_t)*port)};
        int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
        close(fd);
        if (rc == 0) {
            return pid;
        }
        sleep_ms(20);
    }
    ct_kill(pid);
    cr_assert_fail("openssl s_server did not start on port %d", *port);
    return -1;
}

void ct_kill(pid_t pid)
{
    if (pid <= 0) {
        return;
    }
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            return;
        }
        sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}
