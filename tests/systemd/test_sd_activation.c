/* Socket activation as systemd does it: the test holds the listening socket and hands it to each gateway process as
 * fd 3 with LISTEN_FDS=1 and LISTEN_PID=<that process>. Connections that arrive while no process accepts wait in the
 * socket's backlog, so restarting the gateway under load loses no request, and SIGTERM lets requests in flight
 * finish. Loopback only; every process is stopped by its PID. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "gw_sdtest.h"

static const char config[] = "workers: 2\n"
                             "log: {access: off, level: info}\n"
                             "limits: {shutdown_timeout: 5s}\n"
                             "credentials:\n  main: {from: env}\n"
                             "backends:\n  origin: {type: oss, region: cn-hangzhou, bucket: test-bucket,\n"
                             "           endpoint: \"127.0.0.1:9000\", addressing: path, scheme: http, credentials: main}\n"
                             "routes:\n  - {prefix: /files/, backend: origin, expires: 15m}\n";

static struct gw_proc gw;
static int nfd = -1;
static int lfd = -1;
static int port;
static char notify_path[128];
static char msg[1024];

static void setup(void)
{
    memset(&gw, 0, sizeof(gw));
    gw_write_config(&gw, config);
    nfd = gw_sd_notify_open(gw.dir, notify_path, sizeof(notify_path));
    lfd = gw_sd_listen(4096, &port);
}

static void teardown(void)
{
    if (nfd >= 0) {
        close(nfd);
        unlink(notify_path);
        nfd = -1;
    }
    if (lfd >= 0) {
        close(lfd);
        lfd = -1;
    }
    gw_stop(&gw, SIGKILL, 2000, NULL); /* only cleans up when the test already stopped it */
}

TestSuite(sd_activation, .init = setup, .fini = teardown, .timeout = 60);

/* start spawns a gateway on the held socket and waits for its READY=1. */
static void start(void)
{
    struct gw_sd_env env = {.notify_path = notify_path, .listen_fd = lfd};
    char err[4096];
    gw_sd_spawn(&gw, &env);
    if (!gw_sd_wait(nfd, "READY=1", msg, sizeof(msg), 5000, NULL)) {
        gw_read_file(gw.err_path, err, sizeof(err));
        cr_assert_fail("no READY=1 within 5 s:\n%s", err);
    }
}

/* stop sends SIGTERM and waits for the exit; returns the milliseconds it took. */
static long stop(void)
{
    long long t0 = gw_mono_ns();
    kill(gw.pid, SIGTERM);
    int st = gw_sd_wait_exit(gw.pid, 6000);
    long ms = gw_ms_since(t0);
    gw.pid = 0;
    cr_assert_eq(st, 0, "exit status after SIGTERM: %d", st);
    return ms;
}

/* wait_progress waits (at most 3 s) until the load has completed `n` more requests. */
static void wait_progress(struct gw_load *l, long n)
{
    long target = atomic_load(&l->ok) + n;
    long long t0 = gw_mono_ns();
    while (atomic_load(&l->ok) < target && atomic_load(&l->failed) == 0 && gw_ms_since(t0) < 3000) {
        usleep(1000);
    }
}

Test(sd_activation, uses_the_socket_from_systemd_and_makes_it_non_blocking)
{
    char buf[8192];
    char err[8192];
    char want[64];

    cr_assert_eq(fcntl(lfd, F_GETFL) & O_NONBLOCK, 0, "a .socket unit hands over a blocking socket");
    start();
    gw_read_file(gw.err_path, err, sizeof(err));
    cr_assert_not_null(strstr(err, "using 1 socket(s) from systemd"), "%s", err);
    int n = snprintf(want, sizeof(want), "listening on 127.0.0.1:%d\n", port);
    cr_assert(n > 0 && (size_t)n < sizeof(want));
    cr_assert_not_null(strstr(err, want), "the held socket, not the config's 127.0.0.1:0:\n%s", err);
    cr_assert_eq(gw_count(err, "listening on"), 1, "%s", err);
    cr_assert_neq(fcntl(lfd, F_GETFL) & O_NONBLOCK, 0, "the gateway sets the inherited socket non-blocking");
    gw_exchange(port, "GET /files/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof(buf));
    cr_assert_eq(gw_status(buf), 302, "%s", buf);
    stop();
}

Test(sd_activation, a_socket_that_does_not_listen_is_refused)
{
    char err[4096];
    close(lfd);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* never bound nor listening */
    cr_assert(lfd >= 0);
    struct gw_sd_env env = {.notify_path = notify_path, .listen_fd = lfd};
    gw_sd_spawn(&gw, &env);
    cr_assert_eq(gw_sd_wait_exit(gw.pid, 5000), 1);
    gw.pid = 0;
    gw_read_file(gw.err_path, err, sizeof(err));
    cr_assert_not_null(strstr(err, "fd 3 is not a listening stream socket"), "%s", err);
    cr_assert_eq(gw_sd_recv(nfd, msg, sizeof(msg), 0), -1, "no READY=1 from a gateway that could not start: %s", msg);
}

Test(sd_activation, restarts_8_times_under_load_without_a_failed_request)
{
    struct gw_load load;
    long worst_ms = 0;

    start();
    gw_load_start(&load, port, "/files/restart/a.bin", 3);
    wait_progress(&load, 100);
    for (int i = 0; i < 8; i++) {
        long ms = stop();
        worst_ms = ms > worst_ms ? ms : worst_ms;
        start();
        wait_progress(&load, 100);
    }
    gw_load_stop(&load);
    long ok = atomic_load(&load.ok);
    long failed = atomic_load(&load.failed);
    cr_log_info("8 restarts under load: %ld requests answered, %ld failed, slowest stop %ld ms", ok, failed, worst_ms);
    fprintf(stderr, "sd_activation: 8 restarts under load: %ld requests answered, %ld failed, slowest stop %ld ms\n", ok, failed,
            worst_ms);
    cr_assert_eq(failed, 0, "%ld of %ld requests failed; first: %s", failed, ok + failed, load.first_error);
    cr_assert_geq(ok, 900, "the load ran throughout: %ld requests", ok);
    stop();
}

Test(sd_activation, sigterm_under_load_finishes_in_flight_requests_and_exits_0_within_5s)
{
    enum { N_SLOW = 8 };
    struct gw_load load;
    int slow[N_SLOW];
    char buf[8192];
    char req[128];

    start();
    gw_load_start(&load, port, "/files/drain/a.bin", 2);
    wait_progress(&load, 100);
    /* Requests in flight: the request line and a header are in, the end of the head is not. */
    for (int i = 0; i < N_SLOW; i++) {
        slow[i] = gw_connect(port, 5000);
        int n = snprintf(req, sizeof(req), "GET /files/slow/%d HTTP/1.1\r\nHost: x\r\n", i);
        cr_assert(n > 0 && (size_t)n < sizeof(req));
        gw_send(slow[i], req, (size_t)n);
    }
    wait_progress(&load, 50); /* the gateway's loops have turned since: the partial heads are read */

    long long t0 = gw_mono_ns();
    kill(gw.pid, SIGTERM);
    cr_assert(gw_sd_wait(nfd, "STOPPING=1", msg, sizeof(msg), 5000, NULL), "STOPPING=1 after SIGTERM");
    for (int i = 0; i < N_SLOW; i++) {
        gw_send(slow[i], "Accept: */*\r\n\r\n", 15);
        size_t n = gw_recv_all(slow[i], buf, sizeof(buf), 5000);
        close(slow[i]);
        cr_assert_gt(n, 0, "in-flight request %d got no answer", i);
        cr_assert_eq(gw_status(buf), 302, "in-flight request %d: %s", i, buf);
    }
    int st = gw_sd_wait_exit(gw.pid, 5000);
    long ms = gw_ms_since(t0);
    gw.pid = 0;
    cr_assert_eq(st, 0, "exit status %d", st);
    cr_assert_lt(ms, 5000, "exit within 5 s of SIGTERM: %ld ms", ms);

    /* Connections that came in after the drain began waited in the socket; the next process answers them. */
    start();
    wait_progress(&load, 100);
    gw_load_stop(&load);
    long ok = atomic_load(&load.ok);
    long failed = atomic_load(&load.failed);
    fprintf(stderr, "sd_activation: SIGTERM under load: exit 0 after %ld ms; %ld requests answered, %ld failed\n", ms, ok, failed);
    cr_assert_eq(failed, 0, "%ld of %ld requests failed; first: %s", failed, ok + failed, load.first_error);
    stop();
}

Test(sd_activation, the_drain_leaves_the_socket_from_systemd_listening)
{
    char buf[8192];
    const char *head_req = "HEAD /files/a HTTP/1.1\r\nHost: x\r\n\r\n";

    /* One worker, so that the idle connection closing shows that the drain has begun (gw_worker.c stops accepting
     * first); deadlines far beyond the test's, so that only the drain closes anything. */
    gw_write_config(&gw, "workers: 1\n"
                         "log: {access: off, level: info}\n"
                         "limits: {header_timeout: 1m, idle_timeout: 1m, shutdown_timeout: 1m}\n"
                         "credentials:\n  main: {from: env}\n"
                         "backends:\n  origin: {type: oss, region: cn-hangzhou, bucket: test-bucket,\n"
                         "           endpoint: \"127.0.0.1:9000\", addressing: path, scheme: http, credentials: main}\n"
                         "routes:\n  - {prefix: /files/, backend: origin, expires: 15m}\n");
    start();
    int idle = gw_connect(port, 5000);
    gw_send(idle, head_req, strlen(head_req));
    gw_recv_until(idle, buf, sizeof(buf), "\r\n\r\n", 5000);
    cr_assert_eq(gw_status(buf), 302, "%s", buf);
    int in_flight = gw_connect(port, 5000);
    gw_send(in_flight, "GET /files/b HTTP/1.1\r\nHost: x\r\n", 32);
    /* Only the gateway's copy keeps the socket open now: closing it would refuse connections the next instance must
     * get. (systemd keeps its own copy, so there the socket would survive anyway: this makes the rule observable.) */
    close(lfd);
    lfd = -1;

    kill(gw.pid, SIGTERM);
    cr_assert_eq(gw_recv_all(idle, buf, sizeof(buf), 5000), 0, "the drain closes the idle keep-alive connection");
    close(idle);
    cr_assert_eq(gw_connect_error(port), 0, "the socket from systemd still listens during the drain: %s",
                 strerror(gw_connect_error(port)));
    gw_send(in_flight, "\r\n", 2);
    gw_recv_all(in_flight, buf, sizeof(buf), 5000);
    close(in_flight);
    cr_assert_eq(gw_status(buf), 302, "the request in flight is answered: %s", buf);
    cr_assert_eq(gw_sd_wait_exit(gw.pid, 5000), 0);
    gw.pid = 0;
}
