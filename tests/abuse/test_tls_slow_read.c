/* Slow read over TLS: as test_slow_read.c, on a TLS listener. The answers the client does not take back up in
 * BoringSSL's write buffer as well as in the kernel; the gateway must stop reading all the same, and its deadline must
 * close the connection (a reset), which the unsent-output logic decides from the connection's pending output. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "abuse.h"
#include "gw_tls.h"

#define DEADLINE_MS 2000
#define PUSH_MS 6000

static struct gw_proc gw;
static char pki[64];

static void stop(void)
{
    abuse_cleanup(&gw);
    if (pki[0] != '\0') {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki);
        cr_expect_eq(system(cmd), 0);
    }
}

Test(abuse_tls_slow_read, a_tls_client_that_never_reads_is_bounded_and_closed, .fini = stop, .timeout = 60)
{
    static const char req[] = "GET /files/some/object/key.bin HTTP/1.1\r\nHost: x\r\n\r\n";
    char cmd[256], config[2048], err[256], ca[128];

    memcpy(pki, "/tmp/gwtls.XXXXXX", 18);
    cr_assert_not_null(mkdtemp(pki));
    snprintf(cmd, sizeof(cmd), "sh '%s/tests/tls/gen-certs.sh' '%s'", GW_SOURCE_DIR, pki);
    cr_assert_eq(system(cmd), 0, "gen-certs.sh failed");
    snprintf(ca, sizeof(ca), "%s/ca.crt", pki);
    snprintf(config, sizeof(config),
             "listen: [{address: \"127.0.0.1:0\", tls: {certificates: [{cert: %s/a.crt, key: %s/a.key}]}}]\n" ABUSE_BASE
             "log: {access: off}\n"
             "limits: {header_timeout: 2s, idle_timeout: 2s, max_requests_per_conn: 1000000}\n" ABUSE_ROUTES,
             pki, pki);
    abuse_spawn(&gw, config, NULL, 0, NULL);
    usleep(200000);
    long rss0 = abuse_rss_kib(gw.pid);
    int fds0 = abuse_fd_count(gw.pid);

    struct gw_tls_ctx *ctx = gw_tls_client_ctx_new(ca, err, sizeof(err));
    cr_assert_not_null(ctx, "%s", err);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    cr_assert(fd >= 0);
    int small = 1024;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)gw.port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    cr_assert(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EINPROGRESS);
    struct gw_tls_conn *tc = gw_tls_client_new(ctx, fd, "localhost", err, sizeof(err));
    cr_assert_not_null(tc, "%s", err);
    long long t0 = gw_mono_ns();
    enum gw_tls_io io;
    while ((io = gw_tls_handshake(tc)) == GW_TLS_WANT_READ || io == GW_TLS_WANT_WRITE) {
        cr_assert(gw_ms_since(t0) < 5000, "no handshake within 5 s");
        struct pollfd p = {fd, io == GW_TLS_WANT_READ ? POLLIN : POLLOUT, 0};
        (void)poll(&p, 1, 100);
    }
    cr_assert_eq(io, GW_TLS_OK, "handshake: %s", gw_tls_conn_error(tc));

    /* Push requests (each whole: a retried SSL_write gets the same data) until the gateway takes nothing. */
    t0 = gw_mono_ns();
    long long last_progress = t0;
    size_t sent = 0;
    long rss_max = rss0;
    bool reset = false;
    while (gw_ms_since(t0) < PUSH_MS && gw_ms_since(last_progress) < 1000) {
        size_t n = 0;
        io = gw_tls_write(tc, req, sizeof(req) - 1, &n);
        if (io == GW_TLS_OK) {
            sent += n;
            last_progress = gw_mono_ns();
            continue;
        }
        if (io != GW_TLS_WANT_WRITE && io != GW_TLS_WANT_READ) {
            reset = true;
            break;
        }
        long rss = abuse_rss_kib(gw.pid);
        rss_max = rss > rss_max ? rss : rss_max;
        usleep(20000);
    }
    long stalled_after = gw_ms_since(t0);
    long rss = abuse_rss_kib(gw.pid);
    rss_max = rss > rss_max ? rss : rss_max;

    struct abuse_push push = {sent, sizeof(req) - 1, stalled_after, reset, rss0, rss_max, fds0};
    abuse_slow_read_verdict(&gw, "TLS slow read", &push, PUSH_MS, DEADLINE_MS, GW_SANITIZED);
    gw_tls_conn_free(tc);
    gw_tls_ctx_free(ctx);
    close(fd);
    cr_assert_eq(gw_stop(&gw, SIGTERM, 6000, NULL), 0);
}
