/* The process under load and under valgrind: SIGHUP reloads while h2load runs lose no request, and a run with
 * requests, a reload and a stop leaks nothing. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "gw_testlib.h"

#define CONFIG                                                                                                                     \
    "workers: 2\n"                                                                                                                 \
    "log: {access: off, level: info}\n"                                                                                            \
    "credentials:\n  main: {from: env}\n"                                                                                          \
    "backends:\n  origin: {type: oss, region: cn-hangzhou, bucket: test-bucket, endpoint: \"127.0.0.1:9000\",\n"                   \
    "           addressing: path, scheme: http, credentials: main}\n"

static char out[65536];

/* run_capture runs argv with stdout and stderr to `path`; returns its pid. */
static pid_t run_capture(const char *path, const char *const argv[])
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        gw_child_dies_with_parent();
        FILE *f = freopen(path, "w", stdout);
        if (f == NULL || dup2(1, 2) < 0) {
            _exit(126);
        }
        execvp(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    return pid;
}

static long field(const char *text, const char *before)
{
    const char *p = strstr(text, before);
    return p == NULL ? -1 : strtol(p + strlen(before), NULL, 10);
}

Test(gw_lifecycle, ten_reloads_under_load_lose_no_request, .timeout = 60)
{
    struct gw_proc gw = {0};
    char url[128];
    char log[] = "/tmp/gw-h2load-XXXXXX";
    int lfd = mkstemp(log);
    cr_assert(lfd >= 0);
    close(lfd);
    gw_start(&gw, CONFIG "routes:\n  - {prefix: /files/, backend: origin, expires: 15m}\n", NULL);
    int n = snprintf(url, sizeof(url), "http://127.0.0.1:%d/files/reload%%20test.bin", gw.port);
    cr_assert(n > 0);
    /* 16 keep-alive clients for 4 s; h2load counts any failed or errored request. */
    const char *const argv[] = {"h2load", "--h1", "-c", "16", "-D", "4", "-T", "5", url, NULL};
    pid_t load = run_capture(log, argv);
    for (int i = 0; i < 10; i++) {
        usleep(300000);
        gw_write_config(&gw, i % 2 == 0 ? CONFIG "routes:\n  - {prefix: /files/, backend: origin, expires: 10m}\n"
                                        : CONFIG "routes:\n  - {prefix: /files/, backend: origin, expires: 15m}\n");
        cr_assert_eq(kill(gw.pid, SIGHUP), 0);
    }
    int st;
    cr_assert_eq(waitpid(load, &st, 0), load);
    gw_read_file(log, out, sizeof(out));
    unlink(log);
    long total = field(out, "requests: ");
    long failed = field(out, "succeeded, ");
    long errored = field(out, "failed, ");
    long redirects = field(out, "2xx, ");
    char err[65536];
    gw_read_file(gw.err_path, err, sizeof(err));
    int reloads = gw_count(err, "<5>reloaded ");
    cr_assert_eq(gw_stop(&gw, SIGTERM, 6000, NULL), 0);
    printf("reload under load: %ld requests, %ld failed, %ld errored, %ld 3xx, %d reloads\n", total, failed, errored, redirects,
           reloads);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "h2load failed:\n%s", out);
    cr_assert(total > 1000, "the load ran: %s", out);
    cr_assert_eq(failed, 0, "%s", out);
    cr_assert_eq(errored, 0, "%s", out);
    cr_assert_eq(reloads, 10, "every SIGHUP reloaded:\n%s", err);
}

Test(gw_lifecycle, no_leak_under_valgrind, .timeout = 90)
{
    struct gw_proc gw = {0};
    char buf[8192];
    char vlog[] = "/tmp/gw-valgrind-XXXXXX";
    int vfd = mkstemp(vlog);
    cr_assert(vfd >= 0);
    close(vfd);
    char logopt[64];
    int n = snprintf(logopt, sizeof(logopt), "--log-file=%s", vlog);
    cr_assert(n > 0);
    gw_write_config(&gw, CONFIG "routes:\n  - {prefix: /files/, backend: origin, expires: 15m}\n"
                                "health: /healthz\nmetrics: /metrics\n");
    const char *args[] = {"--leak-check=full",
                          "--show-leak-kinds=definite,indirect,possible",
                          "--errors-for-leak-kinds=definite,indirect,possible",
                          "--error-exitcode=99",
                          logopt,
                          GW_BINARY,
                          "-c",
                          gw.config,
                          NULL};
    /* gw_spawn runs GW_BINARY: run valgrind through it with the gateway as its argument. */
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        gw_child_dies_with_parent();
        FILE *e = freopen(gw.err_path, "w", stderr);
        FILE *o = freopen(gw.out_path, "w", stdout);
        if (e == NULL || o == NULL) {
            _exit(126);
        }
        setenv("OSS_ACCESS_KEY_ID", "test-access-key-id", 1);
        setenv("OSS_ACCESS_KEY_SECRET", "test-access-key-secret-0123456789", 1);
        const char *argv[16] = {"valgrind"};
        for (int i = 0; args[i] != NULL; i++) {
            argv[i + 1] = args[i];
        }
        execvp("valgrind", (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    gw.pid = pid;
    gw.port = gw_wait_port(&gw, 30000);
    if (gw.port <= 0) {
        gw_stop(&gw, SIGKILL, 5000, NULL); /* never leave it running behind a failed test */
        unlink(vlog);
        cr_assert_fail("the gateway did not start under valgrind");
    }
    gw_exchange(gw.port, "GET /files/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof(buf));
    cr_assert_eq(gw_status(buf), 302);
    gw_exchange(gw.port, "GET /files/bad%00 HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf));
    cr_assert_eq(gw_status(buf), 400);
    int keep = gw_connect(gw.port, 5000); /* open at the stop: closed and freed by the drain */
    gw_send(keep, "GET /files/k HTTP/1.1\r\nHost: x\r\n\r\n", 35);
    gw_recv_all(keep, buf, sizeof(buf), 2000);
    gw_write_config(&gw, CONFIG "routes:\n  - {prefix: /dl/, backend: origin, expires: 1m, disposition: attachment}\n");
    kill(gw.pid, SIGHUP);
    long long start = gw_mono_ns();
    do {
        usleep(100000);
        gw_exchange(gw.port, "GET /dl/r%C3%A9sum%C3%A9.pdf HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof(buf));
    } while (gw_status(buf) != 302 && gw_ms_since(start) < 20000);
    cr_assert_eq(gw_status(buf), 302);
    gw_exchange(gw.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof(buf));
    int st = gw_stop(&gw, SIGTERM, 30000, NULL);
    close(keep);
    char report[65536];
    gw_read_file(vlog, report, sizeof(report));
    unlink(vlog);
    cr_assert_eq(st, 0, "valgrind found errors or leaks (exit %d):\n%s", st, report);
    cr_assert_not_null(strstr(report, "ERROR SUMMARY: 0 errors"), "%s", report);
}
