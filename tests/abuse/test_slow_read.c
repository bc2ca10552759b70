/* Slow read: a client pipelines requests as fast as the socket takes them and never reads an answer (a tiny receive
 * window). The gateway must stop reading once its answers back up (no unbounded buffering: its memory stays flat), and
 * must close the connection by its deadline rather than keep it forever. max_requests_per_conn is raised so that the
 * cut at 1000 requests (then a 2 s lingering close that drains whatever the client sends) is not what ends it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "abuse.h"

#define DEADLINE_MS 2000
#define PUSH_MS 6000 /* how long the client keeps trying to send */

static const char config[] =
    ABUSE_BASE "log: {access: off}\n"
               "limits: {header_timeout: 2s, idle_timeout: 2s, max_requests_per_conn: 1000000}\n" ABUSE_ROUTES;

static struct gw_proc gw;

static void stop(void)
{
    abuse_cleanup(&gw);
}

Test(abuse_slow_read, a_client_that_never_reads_is_bounded_and_closed, .fini = stop, .timeout = 60)
{
    static char buf[65536];
    static const char req[] = "GET /files/some/object/key.bin HTTP/1.1\r\nHost: x\r\n\r\n";

    abuse_spawn(&gw, config, NULL, 0, NULL);
    usleep(200000);
    long rss0 = abuse_rss_kib(gw.pid);
    int fds0 = abuse_fd_count(gw.pid);

    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    cr_assert(fd >= 0);
    int small = 1024;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)); /* before connect: a small advertised window */
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)gw.port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    cr_assert(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EINPROGRESS);

    /* Push requests; stop once the gateway has taken nothing for a while, or it closed, or time is up. */
    long long t0 = gw_mono_ns();
    long long last_progress = t0;
    size_t sent = 0;
    size_t off = 0;
    long rss_max = rss0;
    bool reset = false;
    while (gw_ms_since(t0) < PUSH_MS && gw_ms_since(last_progress) < 1000) {
        ssize_t n = send(fd, req + off, sizeof(req) - 1 - off, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            off = (off + (size_t)n) % (sizeof(req) - 1);
            last_progress = gw_mono_ns();
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            reset = true;
            break;
        }
        long rss = abuse_rss_kib(gw.pid);
        if (rss > rss_max) {
            rss_max = rss;
        }
        usleep(20000);
    }
    long stalled_after = gw_ms_since(t0);
    long rss = abuse_rss_kib(gw.pid);
    if (rss > rss_max) {
        rss_max = rss;
    }

    struct abuse_push push = {sent, sizeof(req) - 1, stalled_after, reset, rss0, rss_max, fds0};
    abuse_slow_read_verdict(&gw, "slow read", &push, PUSH_MS, DEADLINE_MS, GW_SANITIZED);
    close(fd);
    cr_assert(abuse_get("127.0.0.2", gw.port, "/files/after", buf, sizeof(buf)) == 302, "still serving: %s", buf);
    cr_assert_eq(gw_stop(&gw, SIGTERM, 6000, NULL), 0);
}
