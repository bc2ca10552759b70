/* 20,000 pipelined requests on one connection, sent while the answers are read: the gateway answers exactly
 * max_requests_per_conn of them (default 1000), the last with `Connection: close`, then closes. */
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

#define N_REQ 20000
#define LIMIT 1000

static const char config[] = ABUSE_BASE "log: {access: off}\n" ABUSE_ROUTES; /* max_requests_per_conn: default */

static struct gw_proc gw;

static void stop(void)
{
    abuse_cleanup(&gw);
}

Test(abuse_pipeline, twenty_thousand_pipelined_requests_are_cut_at_the_limit, .fini = stop, .timeout = 60)
{
    static const char req[] = "GET /files/pipelined HTTP/1.1\r\nHost: x\r\n\r\n";
    const size_t req_len = sizeof(req) - 1;
    size_t total = req_len * N_REQ;
    char *out = malloc(total);
    size_t in_cap = 8 * 1024 * 1024;
    char *in = malloc(in_cap);
    cr_assert(out != NULL && in != NULL);
    for (size_t i = 0; i < N_REQ; i++) {
        memcpy(out + i * req_len, req, req_len);
    }

    abuse_spawn(&gw, config, NULL, 0, NULL);
    int fd = abuse_connect_from(NULL, gw.port, 5000);
    size_t sent = 0;
    size_t got = 0;
    bool eof = false;
    bool send_failed = false;
    long long t0 = gw_mono_ns();
    while (!eof && gw_ms_since(t0) < 20000) {
        struct pollfd p = {fd, (short)(POLLIN | (sent < total && !send_failed ? POLLOUT : 0)), 0};
        if (poll(&p, 1, 1000) <= 0) {
            continue;
        }
        if ((p.revents & POLLOUT) != 0) {
            ssize_t n = send(fd, out + sent, total - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                sent += (size_t)n;
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                send_failed = true;
            }
        }
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            ssize_t n = recv(fd, in + got, in_cap - 1 - got, MSG_DONTWAIT);
            if (n > 0) {
                got += (size_t)n;
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                eof = true;
            }
        }
    }
    in[got] = '\0';
    long ms = gw_ms_since(t0);
    close(fd);

    int answers = gw_count(in, "HTTP/1.1 ");
    int redirects = gw_count(in, "HTTP/1.1 302 Found\r\n");
    int closes = gw_count(in, "Connection: close\r\n");
    const char *last = NULL;
    for (const char *p = strstr(in, "HTTP/1.1 "); p != NULL; p = strstr(p + 1, "HTTP/1.1 ")) {
        last = p;
    }
    printf("pipelining: sent %zu of %d requests (%zu bytes); got %d answers (%d redirects), %d with Connection: close, "
           "then %s, in %ld ms\n",
           sent / req_len, N_REQ, sent, answers, redirects, closes, eof ? "the connection closed" : "NO close", ms);
    fflush(stdout);
    cr_assert_eq(answers, LIMIT, "exactly max_requests_per_conn answers");
    cr_assert_eq(redirects, LIMIT);
    cr_assert_eq(closes, 1, "only the last answer closes");
    cr_assert(last != NULL && strstr(last, "Connection: close\r\n") != NULL, "the last answer says close");
    cr_assert(eof, "the gateway closed the connection");
    free(out);
    free(in);
    cr_assert_eq(gw_stop(&gw, SIGTERM, 6000, NULL), 0);
}
