/* Header flood: 8 MiB of header lines on one connection, as fast as the gateway takes them. It must answer 431 once
 * max_header_bytes is exceeded and close; its memory must grow by less than 5 MiB (VmRSS from /proc). Then the same
 * with one request line of 8 MiB (414). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "abuse.h"

#define FLOOD (8 * 1024 * 1024)

static const char config[] = ABUSE_BASE "log: {access: off}\n"
                                        "limits: {header_timeout: 10s}\n" ABUSE_ROUTES;

/* flood sends `head`, then filler up to FLOOD bytes, reading the answer meanwhile; returns the bytes the gateway took
 * before it stopped taking them (it closed, or reset). */
static size_t flood(int port, const char *head, const char *line, char *answer, size_t cap, long *rss_max, pid_t pid)
{
    static char chunk[64 * 1024];
    size_t line_len = strlen(line);
    for (size_t i = 0; i < sizeof(chunk); i++) {
        chunk[i] = line[i % line_len];
    }
    int fd = abuse_connect_from(NULL, port, 200);
    gw_send(fd, head, strlen(head));
    size_t sent = strlen(head);
    size_t got = 0;
    answer[0] = '\0';
    long long t0 = gw_mono_ns();
    while (sent < FLOOD && gw_ms_since(t0) < 20000) {
        size_t n = FLOOD - sent < sizeof(chunk) ? FLOOD - sent : sizeof(chunk);
        ssize_t k = send(fd, chunk, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k > 0) {
            sent += (size_t)k;
        } else if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            break; /* reset by the gateway: it closed with our bytes unread */
        }
        /* After its answer the gateway half-closes and drains what still comes: keep flooding until it resets. */
        ssize_t r = got + 1 < cap ? recv(fd, answer + got, cap - 1 - got, MSG_DONTWAIT) : -1;
        if (r > 0) {
            got += (size_t)r;
            answer[got] = '\0';
        }
        long rss = abuse_rss_kib(pid);
        if (rss > *rss_max) {
            *rss_max = rss;
        }
        if (k <= 0 && r <= 0) {
            struct pollfd p = {fd, POLLOUT, 0};
            poll(&p, 1, 50);
        }
    }
    close(fd);
    return sent;
}

static struct gw_proc gw;

static void stop(void)
{
    abuse_cleanup(&gw);
}

static void run(const char *what, const char *head, const char *line, int want_status)
{
    static char answer[65536];
    static char buf[65536];

    memset(&gw, 0, sizeof(gw));
    abuse_spawn(&gw, config, NULL, 0, NULL);
    cr_assert_eq(abuse_get(NULL, gw.port, "/files/warm", buf, sizeof(buf)), 302);
    usleep(200000);
    long rss0 = abuse_rss_kib(gw.pid);
    long rss_max = rss0;
    size_t sent = flood(gw.port, head, line, answer, sizeof(answer), &rss_max, gw.pid);
    usleep(200000);
    long rss1 = abuse_rss_kib(gw.pid);
    if (rss1 > rss_max) {
        rss_max = rss1;
    }
    printf("%s: client sent %zu of %d bytes; answer \"%.*s\"; gateway RSS %ld -> max %ld KiB (+%ld KiB)\n", what, sent, FLOOD,
           (int)strcspn(answer, "\r\n"), answer, rss0, rss_max, rss_max - rss0);
    fflush(stdout);
    cr_assert_eq(gw_status(answer), want_status, "%s: %s", what, answer);
    cr_assert_not_null(strstr(answer, "Connection: close"));
    if (!GW_SANITIZED) {
        cr_assert(rss_max - rss0 < 5 * 1024, "%s: memory grew by %ld KiB", what, rss_max - rss0);
    }
    cr_assert_eq(abuse_get(NULL, gw.port, "/files/after", buf, sizeof(buf)), 302, "still serving");
    cr_assert_eq(gw_stop(&gw, SIGTERM, 6000, NULL), 0);
}

Test(abuse_header_flood, eight_mib_of_headers_get_431_and_memory_stays_flat, .fini = stop, .timeout = 60)
{
    run("header flood", "GET /files/a HTTP/1.1\r\nHost: x\r\n", "X-Flood: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
        431);
}

Test(abuse_header_flood, one_header_line_of_eight_mib_gets_431, .fini = stop, .timeout = 60)
{
    run("one long header", "GET /files/a HTTP/1.1\r\nHost: x\r\nX-Long: ", "b", 431);
}

Test(abuse_header_flood, a_request_line_of_eight_mib_gets_414, .fini = stop, .timeout = 60)
{
    run("long request line", "GET /files/", "c", 414);
}
