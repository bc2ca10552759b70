/* A gateway whose workers cannot be created or started exits with status 1 and frees what it set up. pthread_create fails for
 * real: a 64 GiB stack limit makes every thread's stack larger than the machine's memory, so its mapping fails (EAGAIN)
 * after the workers, their loops and their listeners exist. Under ASan (GW_SANITIZE) LeakSanitizer checks the exit:
 * the path once left every created worker allocated. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "gw_testlib.h"

#define CONFIG                                                                                                                     \
    "workers: 3\n"                                                                                                                 \
    "log: {access: off, level: info}\n"                                                                                            \
    "credentials:\n  main: {from: env}\n"                                                                                          \
    "backends:\n  origin: {type: oss, region: cn-hangzhou, bucket: test-bucket, endpoint: \"127.0.0.1:9000\",\n"                   \
    "           addressing: path, scheme: http, credentials: main}\n"                                                              \
    "routes:\n  - {prefix: /files/, backend: origin, expires: 15m}\n"

static struct gw_proc gw;

static void stop(void)
{
    if (gw.pid > 0 || gw.dir[0] != '\0') {
        gw_stop(&gw, SIGKILL, 5000, NULL);
    }
}

Test(gw_start, workers_that_cannot_start_are_freed_and_the_exit_says_why, .fini = stop, .timeout = 30)
{
    static char err[65536];
    struct rlimit old;
    struct rlimit huge;

    gw_write_config(&gw, CONFIG);
    cr_assert_eq(getrlimit(RLIMIT_STACK, &old), 0);
    huge = old;
    huge.rlim_cur = old.rlim_max != RLIM_INFINITY && old.rlim_max < (64ull << 30) ? old.rlim_max : 64ull << 30;
    cr_assert_eq(setrlimit(RLIMIT_STACK, &huge), 0); /* the child inherits it; restored at once */
    gw_spawn(&gw, NULL, NULL);
    cr_assert_eq(setrlimit(RLIMIT_STACK, &old), 0);

    int status = -1;
    long long t0 = gw_mono_ns();
    while (gw_ms_since(t0) < 20000 && waitpid(gw.pid, &status, WNOHANG) == 0) {
        usleep(10000);
    }
    cr_assert(WIFEXITED(status), "the gateway did not exit by itself (status %d)", status);
    gw.pid = 0;
    gw_read_file(gw.err_path, err, sizeof(err));
    cr_assert(strstr(err, "cannot start worker thread 0") != NULL, "not the thread start that failed:\n%s", err);
    cr_assert(strstr(err, "LeakSanitizer") == NULL, "leaks after a failed start:\n%s", err);
    cr_assert_eq(WEXITSTATUS(status), 1, "exit status %d:\n%s", WEXITSTATUS(status), err);
    cr_assert(strstr(err, "listening on") != NULL, "the failure must come after the listeners:\n%s", err);
}

/* The other failing step: a descriptor limit that leaves room for the listener and some workers' event loops but not
 * for all eight. Where the limit falls decides which allocation fails, so the test walks a range of limits: each run
 * must exit with status 1, never crash (a worker whose event base could not be made once crashed its cleanup), and
 * some must fail creating a worker after others were made. (When the limit hits the pipe libevent makes for signals,
 * libevent itself exits with status 1.) LeakSanitizer cannot look under such a limit; test_gw_start's other test is
 * the leak check. */
Test(gw_start, a_worker_that_cannot_be_created_frees_the_others, .fini = stop, .timeout = 120)
{
    static char err[65536];
    static char yaml[sizeof(CONFIG)];
    /* Under ASan, LeakSanitizer needs descriptors of its own at exit (/proc/PID/task): under these limits it would
     * abort the run it was meant to check. The other test is the leak check. */
    static const char *const no_lsan[] = {"ASAN_OPTIONS=detect_leaks=0:abort_on_error=1", NULL};
    struct rlimit old;
    int later = 0;

    memcpy(yaml, CONFIG, sizeof(CONFIG));
    memcpy(strstr(yaml, "workers: 3"), "workers: 8", 10);
    gw_write_config(&gw, yaml);
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    for (rlim_t limit = 10; limit < 200; limit++) {
        struct rlimit few = old;
        few.rlim_cur = limit;
        cr_assert_eq(truncate(gw.err_path, 0) == 0 || errno == ENOENT, true);
        cr_assert_eq(setrlimit(RLIMIT_NOFILE, &few), 0); /* the child inherits it; restored at once */
        gw_spawn(&gw, no_lsan, NULL);
        cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);

        int status = -1;
        bool serving = false;
        long long t0 = gw_mono_ns();
        while (gw_ms_since(t0) < 20000 && waitpid(gw.pid, &status, WNOHANG) == 0) {
            gw_read_file(gw.err_path, err, sizeof(err));
            if (strstr(err, " serving ") != NULL) {
                serving = true; /* the limit is high enough for everything */
                break;
            }
            usleep(10000);
        }
        if (serving) {
            cr_assert_eq(gw_stop(&gw, SIGTERM, 6000, NULL), 0);
            break;
        }
        gw_read_file(gw.err_path, err, sizeof(err));
        if (!WIFEXITED(status)) {
            kill(gw.pid, SIGKILL); /* stopped by its PID, whatever state it is in */
            waitpid(gw.pid, NULL, 0);
        }
        gw.pid = 0;
        cr_assert(WIFEXITED(status), "limit %lu: the gateway did not exit by itself (status %d):\n%s", (unsigned long)limit, status,
                  err);
        if (WEXITSTATUS(status) == 126) {
            continue; /* too few descriptors to even start it (gw_child_setup) */
        }
        cr_assert_eq(WEXITSTATUS(status), 1, "limit %lu: exit status %d:\n%s", (unsigned long)limit, WEXITSTATUS(status), err);
        const char *w = strstr(err, "cannot create worker ");
        later += w != NULL && w[strlen("cannot create worker ")] != '0';
    }
    cr_assert(later > 0, "no limit made a later worker's creation fail");
}
