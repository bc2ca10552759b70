/* The systemd notification protocol as the real binary speaks it to a fake NOTIFY_SOCKET: READY=1 with STATUS= once
 * it serves; RELOADING=1 with MONOTONIC_USEC= then READY=1 around a SIGHUP reload (also a failed one); STOPPING=1 on
 * SIGTERM; WATCHDOG=1 at half of WATCHDOG_USEC, and none when WATCHDOG_PID names another process. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "gw_sdtest.h"

static const char config[] = "workers: 2\n"
                             "log: {access: off, level: info}\n"
                             "credentials:\n  main: {from: env}\n"
                             "backends:\n  origin: {type: oss, region: cn-hangzhou, bucket: test-bucket,\n"
                             "           endpoint: \"127.0.0.1:9000\", addressing: path, scheme: http, credentials: main}\n"
                             "routes:\n  - {prefix: /files/, backend: origin, expires: 15m}\n";

static struct gw_proc gw;
static int nfd = -1;
static char notify_path[128];

static void setup(void)
{
    memset(&gw, 0, sizeof(gw));
    gw_write_config(&gw, config);
    nfd = gw_sd_notify_open(gw.dir, notify_path, sizeof(notify_path));
}

static void teardown(void)
{
    if (nfd >= 0) {
        close(nfd);
        unlink(notify_path);
        nfd = -1;
    }
    gw_stop(&gw, SIGKILL, 2000, NULL); /* only cleans up when the test already stopped it */
}

TestSuite(sd_notify, .init = setup, .fini = teardown, .timeout = 30);

static unsigned long long mono_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000ull;
}

/* next_state returns the next datagram that is not a bare WATCHDOG=1, recording the pings' arrival times. */
static bool next_state(char *buf, size_t cap, int ms, long long *ping_ns, int *n_pings, int max_pings)
{
    long long start = gw_mono_ns();
    for (;;) {
        long left = ms - gw_ms_since(start);
        if (left <= 0 || gw_sd_recv(nfd, buf, cap, (int)left) < 0) {
            return false;
        }
        if (strcmp(buf, "WATCHDOG=1") != 0) {
            return true;
        }
        if (*n_pings < max_pings) {
            ping_ns[(*n_pings)++] = gw_mono_ns();
        }
    }
}

Test(sd_notify, ready_reload_stopping_in_order_and_watchdog_at_half_the_interval)
{
    struct gw_sd_env env = {.notify_path = notify_path, .watchdog_usec = 1000000, .listen_fd = -1};
    char msg[1024];
    char err[4096];
    long long pings[64];
    int n_pings = 0;

    gw_sd_spawn(&gw, &env);
    cr_assert(next_state(msg, sizeof(msg), 5000, pings, &n_pings, 64), "no state message within 5 s");
    gw_read_file(gw.err_path, err, sizeof(err));
    cr_assert(gw_sd_has_line(msg, "READY=1"), "first state message: %s", msg);
    cr_assert(gw_sd_has_line(msg, "STATUS="), "READY=1 carries a STATUS=: %s", msg);
    cr_assert_not_null(strstr(err, "listening on 127.0.0.1:"), "READY=1 only after the listeners are up:\n%s", err);
    cr_assert_not_null(strstr(msg, "STATUS=serving: 1 route(s), 1 listener(s), 2 worker(s)"), "%s", msg);

    /* Collect the pings for 1.6 s: at 500 ms intervals that is 3 or 4 of them. */
    long long t0 = gw_mono_ns();
    while (gw_ms_since(t0) < 1600) {
        char m[256];
        if (gw_sd_recv(nfd, m, sizeof(m), 50) > 0 && n_pings < 64) {
            cr_assert_str_eq(m, "WATCHDOG=1", "nothing but pings while idle");
            pings[n_pings++] = gw_mono_ns();
        }
    }
    cr_assert_geq(n_pings, 3, "WATCHDOG=1 pings: %d", n_pings);
    for (int i = 1; i < n_pings; i++) {
        long gap_ms = (long)((pings[i] - pings[i - 1]) / 1000000);
        cr_assert(gap_ms >= 300 && gap_ms <= 850, "WATCHDOG=1 every ~500 ms (half of WATCHDOG_USEC=1s), got a %ld ms gap", gap_ms);
    }

    unsigned long long before = mono_usec();
    kill(gw.pid, SIGHUP);
    cr_assert(next_state(msg, sizeof(msg), 5000, pings, &n_pings, 64), "nothing after SIGHUP");
    unsigned long long after = mono_usec();
    cr_assert(gw_sd_has_line(msg, "RELOADING=1"), "SIGHUP: RELOADING=1 first, got: %s", msg);
    const char *mono = strstr(msg, "MONOTONIC_USEC=");
    cr_assert_not_null(mono, "RELOADING=1 carries MONOTONIC_USEC=: %s", msg);
    unsigned long long usec = strtoull(mono + strlen("MONOTONIC_USEC="), NULL, 10);
    cr_assert(usec >= before && usec <= after, "MONOTONIC_USEC=%llu is CLOCK_MONOTONIC at the reload (%llu..%llu)", usec, before,
              after);
    cr_assert(next_state(msg, sizeof(msg), 5000, pings, &n_pings, 64), "no READY=1 after RELOADING=1");
    cr_assert(gw_sd_has_line(msg, "READY=1") && gw_sd_has_line(msg, "STATUS="), "after the reload: %s", msg);
    cr_assert_not_null(strstr(msg, "1 reload(s), 0 failed"), "%s", msg);

    /* A config that does not load: still RELOADING=1 then READY=1, and the old config keeps serving. */
    FILE *f = fopen(gw.config, "a");
    cr_assert_not_null(f);
    fputs("bogus_key: 1\n", f);
    cr_assert_eq(fclose(f), 0);
    kill(gw.pid, SIGHUP);
    cr_assert(next_state(msg, sizeof(msg), 5000, pings, &n_pings, 64));
    cr_assert(gw_sd_has_line(msg, "RELOADING=1") && gw_sd_has_line(msg, "MONOTONIC_USEC="), "failed reload: %s", msg);
    cr_assert(next_state(msg, sizeof(msg), 5000, pings, &n_pings, 64));
    cr_assert(gw_sd_has_line(msg, "READY=1"), "a failed reload ends with READY=1 too: %s", msg);
    cr_assert_not_null(strstr(msg, "1 reload(s), 1 failed"), "the failed reload is counted as failed: %s", msg);

    kill(gw.pid, SIGTERM);
    cr_assert(next_state(msg, sizeof(msg), 5000, pings, &n_pings, 64), "nothing after SIGTERM");
    cr_assert(gw_sd_has_line(msg, "STOPPING=1"), "SIGTERM: STOPPING=1, got: %s", msg);
    cr_assert_eq(gw_sd_wait_exit(gw.pid, 5000), 0, "exit 0 after SIGTERM");
    gw.pid = 0;
    cr_assert_eq(gw_sd_recv(nfd, msg, sizeof(msg), 200), -1, "nothing after STOPPING=1, got: %s", msg);
}

Test(sd_notify, no_watchdog_pings_for_another_pid_or_without_watchdog_usec)
{
    struct gw_sd_env env = {.notify_path = notify_path, .watchdog_usec = 200000, .watchdog_pid_other = true, .listen_fd = -1};
    char msg[1024];
    int pings = 0;

    gw_sd_spawn(&gw, &env);
    cr_assert(gw_sd_wait(nfd, "READY=1", msg, sizeof(msg), 5000, &pings));
    cr_assert_eq(gw_sd_recv(nfd, msg, sizeof(msg), 600), -1, "WATCHDOG_PID=1 is not us: no pings, got: %s", msg);
    cr_assert_eq(pings, 0);
    kill(gw.pid, SIGTERM);
    cr_assert(gw_sd_wait(nfd, "STOPPING=1", msg, sizeof(msg), 5000, &pings));
    cr_assert_eq(gw_sd_wait_exit(gw.pid, 5000), 0);
    gw.pid = 0;

    env.watchdog_usec = 0;
    gw_sd_spawn(&gw, &env);
    cr_assert(gw_sd_wait(nfd, "READY=1", msg, sizeof(msg), 5000, &pings));
    cr_assert_eq(gw_sd_recv(nfd, msg, sizeof(msg), 600), -1, "no WATCHDOG_USEC: no pings, got: %s", msg);
    cr_assert_eq(pings, 0);
}

Test(sd_notify, a_long_drain_neither_withholds_pings_nor_logs_stuck_workers)
{
    struct gw_sd_env env = {.notify_path = notify_path, .watchdog_usec = 1000000, .listen_fd = -1};
    char msg[1024];
    char buf[8192];
    char err[8192];

    gw_sd_spawn(&gw, &env);
    cr_assert(gw_sd_wait(nfd, "READY=1", msg, sizeof(msg), 5000, NULL));
    gw_read_file(gw.err_path, err, sizeof(err));
    const char *at = strstr(err, "listening on 127.0.0.1:");
    cr_assert_not_null(at);
    int port = (int)strtol(at + strlen("listening on 127.0.0.1:"), NULL, 10);
    /* A request in flight keeps one worker draining for 3 s; the other worker's loop ends at once. */
    static const char head[] = "GET /files/slow HTTP/1.1\r\nHost: x\r\n";
    int fd = gw_connect(port, 8000);
    gw_send(fd, head, sizeof(head) - 1);
    cr_assert(gw_sd_wait(nfd, "WATCHDOG=1", msg, sizeof(msg), 2000, NULL), "a loop turn after the partial head");
    kill(gw.pid, SIGTERM);
    cr_assert(gw_sd_wait(nfd, "STOPPING=1", msg, sizeof(msg), 5000, NULL));
    int pings = 0;
    cr_assert(!gw_sd_wait(nfd, "READY=1", msg, sizeof(msg), 3000, &pings), "no READY=1 while stopping");
    cr_assert_geq(pings, 4, "pings go on during the drain: %d in 3 s", pings);
    gw_send(fd, "\r\n", 2);
    gw_recv_all(fd, buf, sizeof(buf), 5000);
    close(fd);
    cr_assert_eq(gw_status(buf), 302, "%s", buf);
    cr_assert_eq(gw_sd_wait_exit(gw.pid, 5000), 0);
    gw.pid = 0;
    gw_read_file(gw.err_path, err, sizeof(err));
    cr_assert_null(strstr(err, "withholding"), "a drained worker is not a stuck one:\n%s", err);
}

Test(sd_notify, sigint_stops_like_sigterm)
{
    struct gw_sd_env env = {.notify_path = notify_path, .listen_fd = -1};
    char msg[1024];

    gw_sd_spawn(&gw, &env);
    cr_assert(gw_sd_wait(nfd, "READY=1", msg, sizeof(msg), 5000, NULL));
    kill(gw.pid, SIGINT);
    cr_assert(gw_sd_wait(nfd, "STOPPING=1", msg, sizeof(msg), 5000, NULL));
    cr_assert_eq(gw_sd_wait_exit(gw.pid, 5000), 0);
    gw.pid = 0;
}
