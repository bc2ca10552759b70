/* Slow read, many connections: clients from one address pipeline a few requests each and never read. Every answer fits
 * the socket's send buffer, so the gateway holds nothing itself; the kernel does, since the clients' windows are
 * closed. When the idle deadline closes these connections, a plain close() would leave each socket orphaned in
 * FIN-WAIT-1 with its unsent answers until the client goes away: kernel memory beyond every limit, invisible to the
 * connection counts. The gateway must reset them instead: a few seconds after the deadline no socket of its port is
 * left in FIN-WAIT-1, while the clients still hold theirs open. Half the clients close their sending side after the
 * requests: that end must not let the gateway close with its answers unsent either. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <criterion/criterion.h>

#include "abuse.h"

#define N_CONN 100
#define N_REQ 8 /* about 6 KiB of answers per connection: well inside a send buffer */

static const char config[] =
    ABUSE_BASE "log: {access: off}\n"
               "limits: {header_timeout: 1s, idle_timeout: 1s, max_requests_per_conn: 1000000}\n" ABUSE_ROUTES;

static struct gw_proc gw;
static int fds[N_CONN];

static void stop(void)
{
    for (int i = 0; i < N_CONN; i++) {
        if (fds[i] > 0) {
            close(fds[i]);
        }
    }
    abuse_cleanup(&gw);
}

Test(abuse_slow_read, closed_slow_readers_leave_no_orphan_sockets, .fini = stop, .timeout = 60)
{
    static const char one[] = "GET /files/some/object/key.bin HTTP/1.1\r\nHost: x\r\n\r\n";
    static char req[N_REQ * sizeof(one)];
    static char buf[65536];
    size_t req_len = 0;

    for (int i = 0; i < N_REQ; i++) {
        memcpy(req + req_len, one, sizeof(one) - 1);
        req_len += sizeof(one) - 1;
    }
    abuse_raise_nofile(N_CONN + 64);
    abuse_spawn(&gw, config, NULL, 0, NULL);
    cr_assert(abuse_fin_wait1(gw.port) == 0, "ss cannot run, or the port already has FIN-WAIT-1 sockets");
    int fds0 = abuse_fd_count(gw.pid);

    for (int i = 0; i < N_CONN; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert(fds[i] >= 0);
        int small = 1024;
        setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)); /* before connect: a small window */
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)gw.port)};
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        cr_assert_eq(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0, "connect %d: %s", i, strerror(errno));
        cr_assert_eq(send(fds[i], req, req_len, MSG_NOSIGNAL), (ssize_t)req_len);
        if (i % 2 == 1) {
            shutdown(fds[i], SHUT_WR); /* half of them say they are done: the gateway sees their end, not a deadline */
        }
    }

    /* The gateway takes every connection, answers everything, then closes each at its idle deadline. */
    long long t0 = gw_mono_ns();
    while (abuse_fd_count(gw.pid) < fds0 + N_CONN && gw_ms_since(t0) < 5000) {
        usleep(10000);
    }
    cr_assert(abuse_fd_count(gw.pid) >= fds0 + N_CONN, "the gateway did not take the %d connections", N_CONN);
    while (abuse_fd_count(gw.pid) > fds0 && gw_ms_since(t0) < 8000) {
        usleep(50000);
    }
    long closed_ms = gw_ms_since(t0);
    cr_assert(abuse_fd_count(gw.pid) <= fds0, "the connections are still open after %ld ms", closed_ms);

    /* A few seconds after the deadline, the kernel holds nothing for them either. */
    long long t1 = gw_mono_ns();
    int orphans = abuse_fin_wait1(gw.port);
    while (orphans != 0 && gw_ms_since(t1) < 3000) {
        usleep(100000);
        orphans = abuse_fin_wait1(gw.port);
    }
    printf("slow readers: %d connections closed %ld ms after the last request; %d socket(s) in FIN-WAIT-1 %ld ms later\n", N_CONN,
           closed_ms, orphans, gw_ms_since(t1));
    fflush(stdout);
    cr_assert_eq(orphans, 0, "%d orphaned socket(s) still hold unsent answers in FIN-WAIT-1", orphans);

    /* Each client sees its connection reset, not a clean end of a stream it never read. */
    int reset = 0;
    for (int i = 0; i < N_CONN; i++) {
        char sink[4096];
        ssize_t n;
        while ((n = recv(fds[i], sink, sizeof(sink), MSG_DONTWAIT)) > 0) {
        }
        reset += n < 0 && errno == ECONNRESET;
    }
    cr_assert_eq(reset, N_CONN, "only %d of %d connections were reset", reset, N_CONN);
    cr_assert(abuse_get("127.0.0.2", gw.port, "/files/after", buf, sizeof(buf)) == 302, "still serving: %s", buf);
    cr_assert_eq(gw_stop(&gw, SIGTERM, 6000, NULL), 0);
}
