/* The limits no other test reaches: the global connection cap (the listener pauses at it and resumes below it), the
 * caps in /metrics, and the drain deadline (limits.shutdown_timeout) when a client never finishes its request. */
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "gw_testlib.h"

#define CONFIG(limits)                                                                                                             \
    "workers: 1\n"                                                                                                                 \
    "log: {access: off, level: info}\n"                                                                                            \
    "limits: " limits "\n"                                                                                                         \
    "credentials:\n  main: {from: env}\n"                                                                                          \
    "backends:\n  origin: {type: oss, region: cn-hangzhou, bucket: test-bucket, endpoint: \"127.0.0.1:9000\",\n"                   \
    "           addressing: path, scheme: http, credentials: main}\n"                                                              \
    "routes:\n  - {prefix: /files/, backend: origin, expires: 15m}\n"

static char buf[65536];

/* wait_metric asks /metrics until the gauge `name` has the value `want`, at most `ms`; returns whether it did. The
 * answer is left in buf. */
static bool wait_metric(int port, const char *name, long want, int ms)
{
    char needle[96];
    snprintf(needle, sizeof(needle), "\n%s %ld\n", name, want);
    long long start = gw_mono_ns();
    do {
        gw_exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof(buf));
        if (strstr(buf, needle) != NULL) {
            return true;
        }
        usleep(20000);
    } while (gw_ms_since(start) < ms);
    return false;
}

/* wait_open_connections waits until the gateway counts `want` open connections (the one asking included). */
static bool wait_open_connections(int port, long want, int ms)
{
    return wait_metric(port, "oss_gateway_open_connections", want, ms);
}

Test(gw_limits, listener_pauses_at_max_connections_and_resumes_below_it, .timeout = 30)
{
    struct gw_proc gw = {0};
    int held[5];
    const char *req = "GET /files/a HTTP/1.1\r\nHost: x\r\n\r\n";

    gw_start(&gw, CONFIG("{max_connections: 5, header_timeout: 20s, idle_timeout: 20s}"), NULL);
    for (int i = 0; i < 5; i++) {
        held[i] = gw_connect(gw.port, 5000);
        gw_send(held[i], req, strlen(req));
        gw_recv_all(held[i], buf, sizeof(buf), 300);
        cr_assert_eq(gw_status(buf), 302, "connection %d is served", i);
    }
    /* The sixth connects (the kernel queues it) but is not accepted, so not answered, while five are open. */
    int sixth = gw_connect(gw.port, 5000);
    gw_send(sixth, req, strlen(req));
    cr_assert_eq(gw_recv_all(sixth, buf, sizeof(buf), 500), 0, "answered above the cap: %s", buf);
    /* One closes: the listener resumes and the queued connection is answered. */
    close(held[0]);
    long long start = gw_mono_ns();
    struct pollfd pfd = {sixth, POLLIN, 0};
    cr_assert_eq(poll(&pfd, 1, 3000), 1, "no answer within 3 s of dropping below the cap");
    long ms = gw_ms_since(start);
    gw_recv_all(sixth, buf, sizeof(buf), 200);
    cr_assert_eq(gw_status(buf), 302, "served once below the cap: '%s'", buf);
    printf("max_connections 5: the sixth connection was served %ld ms after one closed\n", ms);
    cr_assert_lt(ms, 1000);
    /* Three held, the sixth and the one asking: the sixth waited, it was not turned away. */
    close(held[1]);
    cr_assert(wait_open_connections(gw.port, 5, 3000), "%s", buf);
    for (int i = 2; i < 5; i++) {
        close(held[i]);
    }
    close(sixth);
    cr_assert_eq(gw_stop(&gw, SIGTERM, 6000, NULL), 0);
}

Test(gw_limits, metrics_export_the_caps_and_follow_a_reload, .timeout = 30)
{
    struct gw_proc gw = {0};

    gw_start(&gw, CONFIG("{max_connections: 5, max_connections_per_ip: 3}"), NULL);
    cr_assert(wait_metric(gw.port, "oss_gateway_max_connections", 5, 0), "%s", buf);
    cr_assert_not_null(strstr(buf, "\n# TYPE oss_gateway_max_connections gauge\n"), "%s", buf);
    cr_assert(wait_metric(gw.port, "oss_gateway_max_connections_per_ip", 3, 0), "%s", buf);
    cr_assert_not_null(strstr(buf, "\n# TYPE oss_gateway_max_connections_per_ip gauge\n"), "%s", buf);
    /* The caps apply from a reload on (gw_worker.c reads the running configuration's), and so do the gauges. */
    gw_write_config(&gw, CONFIG("{max_connections: 7000, max_connections_per_ip: 400}"));
    kill(gw.pid, SIGHUP);
    cr_assert(wait_metric(gw.port, "oss_gateway_max_connections", 7000, 3000), "after the reload: %s", buf);
    cr_assert(wait_metric(gw.port, "oss_gateway_max_connections_per_ip", 400, 0), "after the reload: %s", buf);
    cr_assert_eq(gw_stop(&gw, SIGTERM, 6000, NULL), 0);
}

Test(gw_limits, drain_deadline_closes_a_request_that_never_completes, .timeout = 30)
{
    struct gw_proc gw = {0};

    gw_start(&gw, CONFIG("{shutdown_timeout: 1s, header_timeout: 30s}"), NULL);
    int slow = gw_connect(gw.port, 5000);
    gw_send(slow, "GET /files/a HTTP/1.1\r\nHost: x\r\n", 32); /* never finished */
    /* Accepted before the SIGTERM (a queued one would be reset with the listener): it and the one asking. */
    cr_assert(wait_open_connections(gw.port, 2, 3000), "%s", buf);
    long ms;
    int st = gw_stop(&gw, SIGTERM, 6000, &ms);
    cr_assert_eq(st, 0, "exit status %d", st);
    printf("shutdown_timeout 1s: exited %ld ms after SIGTERM with a request in flight\n", ms);
    cr_assert(ms >= 900 && ms < 3000, "waited for the deadline, then stopped: %ld ms", ms);
    cr_assert_eq(gw_recv_all(slow, buf, sizeof(buf), 1000), 0, "the unfinished request got no answer");
    close(slow);
}

Test(gw_limits, sigterm_storm_during_the_stop_still_exits_0, .timeout = 30)
{
    struct gw_proc gw = {0};
    int st = -1;
    int sent = 0;

    gw_start(&gw, CONFIG("{shutdown_timeout: 1s}"), NULL);
    /* A supervisor that keeps signalling: every signal, up to the very end of the exit, must be a clean stop. */
    long long start = gw_mono_ns();
    while (gw_ms_since(start) < 5000) {
        int raw;
        if (waitpid(gw.pid, &raw, WNOHANG) == gw.pid) {
            st = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
            gw.pid = 0;
            break;
        }
        kill(gw.pid, SIGTERM);
        sent++;
        usleep(200);
    }
    gw_stop(&gw, SIGKILL, 2000, NULL);
    printf("SIGTERM storm: %d signals, exit status %d\n", sent, st);
    cr_assert_eq(st, 0, "killed by a late signal instead of exiting 0 (status %d after %d signals)", st, sent);
}
