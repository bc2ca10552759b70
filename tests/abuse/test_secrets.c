/* Secrets: a load run (h2load, plus hostile single requests and a reload) with debug logging and the access log in a
 * file, against OSS V4, OSS V1 and S3 routes with session tokens. Afterwards no signature, credential parameter, key id,
 * secret or token may appear in the gateway's stdout, stderr or access log. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "abuse.h"

#define OSS_ID "LTAI5tSecretsTestKeyId"
#define OSS_SECRET "OssSecretsTestSecretValue0123456789"
#define OSS_TOKEN "CAISOssSecretsTestSessionToken/abc+def="
#define AWS_ID "AKIASECRETSTESTKEYID"
#define AWS_SECRET "AwsSecretsTestSecretValue/0123456789"
#define AWS_TOKEN "AwsSecretsTestSessionToken+xyz/="

static const char *const env[] = {
    "OSS_ACCESS_KEY_ID=" OSS_ID,
    "OSS_ACCESS_KEY_SECRET=" OSS_SECRET,
    "OSS_SESSION_TOKEN=" OSS_TOKEN,
    "AWS_ACCESS_KEY_ID=" AWS_ID,
    "AWS_SECRET_ACCESS_KEY=" AWS_SECRET,
    "AWS_SESSION_TOKEN=" AWS_TOKEN,
    NULL,
};

/* Each is searched for in every output; the token and key id also in their URL-encoded forms. */
static const char *const forbidden[] = {
    "x-oss-signature",
    "x-oss-credential",
    "x-oss-security-token",
    "Signature=",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
    "security-token",
    "OSSAccessKeyId",
    OSS_ID,
    OSS_SECRET,
    "OssSecretsTestSecretValue",
    "OssSecretsTestSessionToken",
    AWS_ID,
    "AwsSecretsTestSecretValue",
    "AwsSecretsTestSessionToken",
    "Bearer-secret-value",
    NULL,
};

static const char *const hostile[] = {
    "GET /files/a?x-oss-signature=client-sent&Signature=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "GET /files/a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer Bearer-secret-value\r\nConnection: close\r\n\r\n",
    "HEAD /s3/b.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "GET /v1/%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "GET /files/a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
    "POST /files/a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    "GET /files/a HTTP/1.1\r\nHost: x\r\nX-Bad: a\rb\r\n\r\n",
    "GET /files/a HTTP/1.1\r\nHost: x\r\n", /* left open: 408 at the header deadline */
};

static void check_clean(const char *what, const char *text)
{
    for (size_t i = 0; forbidden[i] != NULL; i++) {
        const char *hit = strstr(text, forbidden[i]);
        cr_assert_null(hit, "%s contains \"%s\": ...%.120s", what, forbidden[i], hit);
    }
}

/* run starts the gateway (access log to a file, or to stdout), loads it, then reads every output before they are
 * removed. */
static struct gw_proc gw;
static char log_path[256];
static char h2_out[256];

static void stop(void)
{
    if (log_path[0] != '\0') {
        unlink(log_path);
        unlink(h2_out);
    }
    abuse_cleanup(&gw);
}

static void run(bool access_file)
{
    static char yaml[4096];
    static char out[1 << 22];
    static char url[6][128];
    static char h2[8192];

    memset(&gw, 0, sizeof(gw));
    gw_write_config(&gw, ""); /* creates the temporary directory */
    snprintf(log_path, sizeof(log_path), "%s/access.log", gw.dir);
    snprintf(h2_out, sizeof(h2_out), "%s/h2load.out", gw.dir);
    snprintf(yaml, sizeof(yaml),
             "workers: 2\n"
             "log: {access: %s, level: debug}\n"
             "limits: {header_timeout: 1s, max_connections_per_ip: 1000}\n"
             "credentials:\n  oss: {from: env}\n  aws: {from: env}\n"
             "backends:\n"
             "  v4: {type: oss, region: cn-hangzhou, bucket: test-bucket, endpoint: \"127.0.0.1:9000\", addressing: path,\n"
             "       scheme: http, credentials: oss}\n"
             "  v1: {type: oss-v1, region: cn-hangzhou, bucket: test-bucket, credentials: oss}\n"
             "  s3: {type: s3, region: us-east-1, bucket: test-bucket, credentials: aws}\n"
             "routes:\n"
             "  - {prefix: /files/, backend: v4, expires: 15m, disposition: attachment}\n"
             "  - {prefix: /v1/, backend: v1, expires: 15m}\n"
             "  - {prefix: /s3/, backend: s3, expires: 15m, sign_window: 5m}\n",
             access_file ? log_path : "stdout");
    abuse_spawn(&gw, yaml, env, 0, NULL);

    const char *paths[6] = {"/files/dir/a%20b.txt", "/v1/c.bin", "/s3/d/e.iso", "/files/%E6%96%87.pdf", "/metrics", "/nope"};
    for (int i = 0; i < 6; i++) {
        snprintf(url[i], sizeof(url[i]), "http://127.0.0.1:%d%s", gw.port, paths[i]);
    }
    const char *argv[] = {
        "h2load", "--h1", "-n",   "3000", "-c",   "8",    "-m", "4", "-H", "Authorization: Bearer Bearer-secret-value",
        url[0],   url[1], url[2], url[3], url[4], url[5], NULL};
    int st = abuse_run(argv, h2_out, 60000);
    gw_read_file(h2_out, h2, sizeof(h2));
    unlink(h2_out);
    cr_assert_eq(st, 0, "h2load: %s", h2);
    const char *status_line = strstr(h2, "status codes:");
    cr_assert_not_null(status_line, "%s", h2);

    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        static char buf[65536];
        gw_exchange(gw.port, hostile[i], buf, sizeof(buf));
    }
    /* A reload reads the credentials again, and logs. */
    kill(gw.pid, SIGHUP);
    long long t0 = gw_mono_ns();
    do {
        usleep(50000);
        gw_read_file(gw.err_path, out, sizeof(out));
    } while (strstr(out, "reloaded") == NULL && gw_ms_since(t0) < 5000);
    cr_assert_not_null(strstr(out, "reloaded"), "%s", out);
    /* Stop by hand and read the outputs; gw_stop then only reaps and removes them. */
    kill(gw.pid, SIGTERM);
    t0 = gw_mono_ns();
    do {
        usleep(50000);
        gw_read_file(gw.err_path, out, sizeof(out));
    } while (strstr(out, "<5>stopped") == NULL && gw_ms_since(t0) < 6000);
    size_t n_err = strlen(out);
    int n_debug = gw_count(out, "<7>");
    check_clean("stderr", out);
    size_t n_out = gw_read_file(gw.out_path, out, sizeof(out));
    check_clean("stdout", out);
    if (access_file) {
        cr_assert_eq(n_out, 0, "stdout is empty with the access log in a file: %.200s", out);
        gw_read_file(log_path, out, sizeof(out));
        check_clean("the access log", out);
        unlink(log_path);
    }
    int lines = gw_count(out, "\n");
    int redirects = gw_count(out, "\"status\":302");
    cr_assert_eq(gw_stop(&gw, SIGTERM, 6000, NULL), 0);

    printf("secrets (access log to %s): h2load %.*s; access log %d lines (%d redirects), stdout %zu bytes, stderr %zu bytes "
           "(%d debug lines): no signature, credential parameter, key id, secret or token\n",
           access_file ? "a file" : "stdout", (int)strcspn(status_line, "\n"), status_line, lines, redirects, n_out, n_err,
           n_debug);
    fflush(stdout);
    cr_assert(lines >= 3000, "every request is logged (%d lines)", lines);
    cr_assert(redirects >= 1500, "the load run signed URLs (%d redirects)", redirects);
}

Test(abuse_secrets, access_log_file_stdout_and_stderr_stay_clean, .fini = stop, .timeout = 120)
{
    run(true);
}

Test(abuse_secrets, access_log_on_stdout_stays_clean, .fini = stop, .timeout = 120)
{
    run(false);
}
