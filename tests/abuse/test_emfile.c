/* Descriptor exhaustion: the gateway runs under `ulimit -n 128` and 200 clients connect and stay. Out of descriptors,
 * it must not spin on the always-ready listening socket (under 5% CPU over 2 s, from utime + stime in /proc/PID/stat),
 * must not flood its log (about one line a second), and must serve again once the clients go away. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "abuse.h"

#define N_CONN 200
#define NOFILE 128
#define MEASURE_MS 2000

static const char config[] =
    ABUSE_BASE "log: {access: off}\n"
               "limits: {max_connections_per_ip: 1000, header_timeout: 60s, idle_timeout: 60s}\n" ABUSE_ROUTES;

static int count_lines(const char *path, const char *needle)
{
    static char buf[1 << 20];
    gw_read_file(path, buf, sizeof(buf));
    return gw_count(buf, needle);
}

static struct gw_proc gw;

static void stop(void)
{
    abuse_cleanup(&gw);
}

Test(abuse_emfile, out_of_descriptors_the_gateway_idles_logs_little_and_recovers, .fini = stop, .timeout = 60)
{
    static int fds[N_CONN];
    static char buf[65536];

    abuse_raise_nofile(N_CONN + 64);
    abuse_spawn(&gw, config, NULL, NOFILE, NULL);
    int gw_fds0 = abuse_fd_count(gw.pid);
    for (int i = 0; i < N_CONN; i++) {
        fds[i] = abuse_connect_nb("127.0.0.1", gw.port);
        cr_assert(fds[i] >= 0);
    }
    /* Let it take what it can and run into the limit. */
    long long t0 = gw_mono_ns();
    while (count_lines(gw.err_path, "accept:") == 0 && gw_ms_since(t0) < 5000) {
        usleep(50000);
    }
    usleep(500000);
    int gw_fds = abuse_fd_count(gw.pid);
    int lines0 = count_lines(gw.err_path, "accept:");
    long cpu0 = abuse_cpu_ticks(gw.pid);
    long long m0 = gw_mono_ns();
    usleep(MEASURE_MS * 1000);
    long cpu1 = abuse_cpu_ticks(gw.pid);
    long elapsed_ms = gw_ms_since(m0);
    int lines1 = count_lines(gw.err_path, "accept:");
    long hz = sysconf(_SC_CLK_TCK);
    double cpu_pct = 100.0 * (double)(cpu1 - cpu0) / (double)hz / ((double)elapsed_ms / 1000.0);
    double lines_per_s = (double)(lines1 - lines0) / ((double)elapsed_ms / 1000.0);

    /* The clients leave; the gateway must serve again. */
    for (int i = 0; i < N_CONN; i++) {
        close(fds[i]);
    }
    long long r0 = gw_mono_ns();
    int st = -1;
    while (gw_ms_since(r0) < 10000) {
        st = abuse_get("127.0.0.2", gw.port, "/files/after-emfile", buf, sizeof(buf));
        if (st == 302) {
            break;
        }
        usleep(100000);
    }
    long recover_ms = gw_ms_since(r0);
    gw_read_file(gw.err_path, buf, sizeof(buf));
    const char *first = strstr(buf, "accept:");
    char sample[120] = "";
    if (first != NULL) {
        const char *eol = strchr(first, '\n');
        size_t n = eol != NULL ? (size_t)(eol - first) : strlen(first);
        snprintf(sample, sizeof(sample), "%.*s", (int)(n < 100 ? n : 100), first);
    }
    printf("EMFILE: ulimit -n %d, %d clients, gateway at %d descriptors (%d at start); CPU %.1f%% over %ld ms (%ld ticks); "
           "%d accept-error log line(s) in that time (%.1f/s), %d in all (\"%s\"); a 302 again %ld ms after the clients "
           "left\n",
           NOFILE, N_CONN, gw_fds, gw_fds0, cpu_pct, elapsed_ms, cpu1 - cpu0, lines1 - lines0, lines_per_s, lines1, sample,
           recover_ms);
    fflush(stdout);
    cr_assert(lines0 > 0, "the gateway never ran out of descriptors (%d open)", gw_fds);
    if (!GW_SANITIZED) {
        cr_assert(cpu_pct < 5.0, "CPU %.1f%% while out of descriptors", cpu_pct);
    }
    cr_assert(lines1 - lines0 <= (int)(elapsed_ms / 1000) + 1, "%d log lines in %ld ms", lines1 - lines0, elapsed_ms);
    cr_assert_eq(st, 302, "serves again after the descriptors free up: %s", buf);
    cr_assert_eq(gw_stop(&gw, SIGTERM, 6000, NULL), 0);
}
