/* Slowloris: 300 connections that trickle a request head, one header line every 400 ms, never finishing it. The header
 * deadline (2 s, from each connection's start) must close every one of them, with a 408, and the gateway must keep
 * serving others meanwhile. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "abuse.h"

#define N_CONN 300
#define TIMEOUT_MS 2000
#define SLACK_MS 1500 /* timer granularity, a loaded machine */

static const char config[] =
    ABUSE_BASE "log: {access: off}\n"
               "limits: {header_timeout: 2s, idle_timeout: 10s, max_connections_per_ip: 1000}\n" ABUSE_ROUTES;

static struct gw_proc gw;

static void stop(void)
{
    abuse_cleanup(&gw);
}

Test(abuse_slowloris, every_trickling_connection_is_closed_at_the_header_deadline, .fini = stop, .timeout = 60)
{
    static int fds[N_CONN];
    static long long started[N_CONN];
    static long closed_after[N_CONN];
    static char got[N_CONN][64];
    static char buf[65536];

    abuse_raise_nofile(N_CONN + 64);
    abuse_spawn(&gw, config, NULL, 0, NULL);
    for (int i = 0; i < N_CONN; i++) {
        fds[i] = abuse_connect_from(NULL, gw.port, 1000);
        started[i] = gw_mono_ns();
        gw_send(fds[i], "GET /files/a HTTP/1.1\r\nHost: x\r\n", 32);
        closed_after[i] = -1;
        got[i][0] = '\0';
    }

    long long t0 = gw_mono_ns();
    int n_closed = 0;
    int served = 0;
    int tick = 0;
    while (n_closed < N_CONN && gw_ms_since(t0) < TIMEOUT_MS + 2 * SLACK_MS) {
        usleep(100000);
        if (++tick % 4 == 0) {
            for (int i = 0; i < N_CONN; i++) {
                if (closed_after[i] < 0) {
                    gw_send(fds[i], "X-Trickle: a\r\n", 14);
                }
            }
            /* An honest client is still served while the trickle goes on. */
            if (abuse_get("127.0.0.2", gw.port, "/files/honest", buf, sizeof(buf)) == 302) {
                served++;
            }
        }
        for (int i = 0; i < N_CONN; i++) {
            if (closed_after[i] < 0 && abuse_is_closed(fds[i], got[i], sizeof(got[i]))) {
                closed_after[i] = gw_ms_since(started[i]);
                n_closed++;
            }
        }
    }

    long max_ms = 0;
    long min_ms = -1;
    int n408 = 0;
    for (int i = 0; i < N_CONN; i++) {
        if (closed_after[i] > max_ms) {
            max_ms = closed_after[i];
        }
        if (closed_after[i] >= 0 && (min_ms < 0 || closed_after[i] < min_ms)) {
            min_ms = closed_after[i];
        }
        if (strncmp(got[i], "HTTP/1.1 408 ", 13) == 0) {
            n408++;
        }
        close(fds[i]);
    }
    printf("slowloris: %d/%d trickling connections closed (%d with 408), after %ld..%ld ms (header_timeout %d ms); "
           "%d honest requests served meanwhile\n",
           n_closed, N_CONN, n408, min_ms, max_ms, TIMEOUT_MS, served);
    fflush(stdout);
    cr_assert_eq(n_closed, N_CONN, "%d of %d connections still open", N_CONN - n_closed, N_CONN);
    cr_assert_eq(n408, N_CONN, "each gets 408 Request Timeout");
    cr_assert(min_ms >= TIMEOUT_MS - 100, "not closed before the deadline: %ld ms", min_ms);
    cr_assert(max_ms <= TIMEOUT_MS + SLACK_MS, "closed by the deadline: %ld ms", max_ms);
    cr_assert(served > 0, "the gateway served other clients during the attack");
    cr_assert_eq(gw_stop(&gw, SIGTERM, 6000, NULL), 0);
}
