/* 5,000 connections from one address (127.0.0.1) against max_connections_per_ip: 100. The gateway keeps at most 100
 * of them and closes the rest at once; a client from a second address (127.0.0.2) still gets its 302 within 1 s while
 * the 5,000 are held open. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "abuse.h"

#define N_CONN 5000
#define PER_IP 100

static const char config[] = ABUSE_BASE "log: {access: off}\n"
                                        "limits: {max_connections: 10000, max_connections_per_ip: 100, header_timeout: 30s,\n"
                                        "         idle_timeout: 30s}\n" ABUSE_ROUTES;

static struct gw_proc gw;

static void stop(void)
{
    abuse_cleanup(&gw);
}

Test(abuse_per_ip, five_thousand_connections_from_one_address_hit_the_cap, .fini = stop, .timeout = 90)
{
    static int fds[N_CONN];
    static bool closed[N_CONN];
    static char buf[65536];

    long lim = abuse_raise_nofile(N_CONN + 256);
    cr_assert(lim >= N_CONN + 64, "this test needs %d descriptors; the hard limit allows %ld", N_CONN + 64, lim);
    abuse_spawn(&gw, config, NULL, 0, NULL);

    long long t0 = gw_mono_ns();
    int opened = 0;
    for (int i = 0; i < N_CONN; i++) {
        fds[i] = abuse_connect_nb("127.0.0.1", gw.port);
        cr_assert(fds[i] >= 0, "connection %d could not be started", i);
        opened++;
        /* Pace the handshakes so the listen backlog (4096) is not what refuses them. */
        if (i % 500 == 499) {
            usleep(50000);
        }
    }
    long open_ms = gw_ms_since(t0);

    /* Wait until the gateway has decided on all of them: closed ones show EOF or a reset. */
    int n_closed = 0;
    int stable = 0;
    long long t1 = gw_mono_ns();
    while (gw_ms_since(t1) < 15000 && stable < 10) {
        int before = n_closed;
        for (int i = 0; i < N_CONN; i++) {
            if (!closed[i] && abuse_is_closed(fds[i], NULL, 0)) {
                closed[i] = true;
                n_closed++;
            }
        }
        stable = n_closed == before && n_closed >= N_CONN - PER_IP ? stable + 1 : 0;
        usleep(100000);
    }
    long decide_ms = gw_ms_since(t1);
    long open_now = abuse_metric(gw.port, "oss_gateway_open_connections");
    long rejected = -1;
    {
        static char m[256 * 1024];
        abuse_get("127.0.0.2", gw.port, "/metrics", m, sizeof(m));
        const char *p = strstr(m, "oss_gateway_rejected_connections_total{reason=\"max_connections_per_ip\"} ");
        if (p != NULL) {
            rejected = strtol(strchr(p, '}') + 2, NULL, 10);
        }
    }

    /* A second address is served at once, while the 5,000 are still held. */
    long long t2 = gw_mono_ns();
    int st = abuse_get("127.0.0.2", gw.port, "/files/other-client", buf, sizeof(buf));
    long second_ms = gw_ms_since(t2);

    /* The first address gets nothing more while it sits at its cap. */
    int extra = abuse_connect_nb("127.0.0.1", gw.port);
    cr_assert(extra >= 0);
    struct pollfd p = {extra, POLLIN, 0};
    poll(&p, 1, 2000);
    bool extra_closed = abuse_is_closed(extra, NULL, 0);
    close(extra);

    for (int i = 0; i < N_CONN; i++) {
        close(fds[i]);
    }
    printf("per-ip cap: %d connections opened from 127.0.0.1 in %ld ms; %d closed by the gateway, %d kept (cap %d) after "
           "%ld ms; open_connections gauge %ld (incl. the metrics request), per_ip rejections %ld; a 302 for 127.0.0.2 "
           "in %ld ms; one more from 127.0.0.1 %s\n",
           opened, open_ms, n_closed, opened - n_closed, PER_IP, decide_ms, open_now, rejected, second_ms,
           extra_closed ? "closed" : "NOT closed");
    fflush(stdout);
    cr_assert_eq(opened - n_closed, PER_IP, "kept %d connections from one address, cap %d", opened - n_closed, PER_IP);
    cr_assert_eq(open_now, PER_IP + 1, "the gauge: the cap plus the metrics request");
    cr_assert_eq(st, 302, "the second address is served: %s", buf);
    cr_assert(second_ms < 1000, "the second address waited %ld ms", second_ms);
    cr_assert(extra_closed, "a connection over the cap is closed");
    cr_assert_eq(gw_stop(&gw, SIGTERM, 6000, NULL), 0);
}
