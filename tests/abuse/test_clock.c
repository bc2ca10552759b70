/* Clock skew: the gateway runs under faketime 20 minutes behind and 2 hours ahead (and, as the control, on the real
 * clock). The URLs it hands out must carry the faked now as their date (within a few seconds), the configured expiry,
 * a signing-window start within the window, and credentials with a known expiration must cap a longer expiry so that
 * the URL ends when they do, or be refused once it has passed on the gateway's clock. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "abuse.h"

#define SLACK 5 /* seconds */

static char cred_dir[64];

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", cred_dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void remove_creds(void)
{
    static const char *const names[] = {"access_key_id", "access_key_secret", "expiration"};
    char path[128];
    if (cred_dir[0] == '\0') {
        return;
    }
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", cred_dir, names[i]);
        unlink(path);
    }
    rmdir(cred_dir);
    cred_dir[0] = '\0';
}

/* param copies the value of query parameter `name` of the Location in `resp`. */
static bool param(const char *resp, const char *name, char *out, size_t cap)
{
    char loc[8192];
    char needle[64];
    if (!gw_header(resp, "Location", loc, sizeof(loc))) {
        return false;
    }
    snprintf(needle, sizeof(needle), "?%s=", name);
    const char *p = strstr(loc, needle);
    if (p == NULL) {
        needle[0] = '&';
        p = strstr(loc, needle);
    }
    if (p == NULL) {
        return false;
    }
    p += strlen(needle);
    size_t n = strcspn(p, "&");
    if (n >= cap) {
        return false;
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

/* iso_time parses YYYYMMDDTHHMMSSZ. */
static time_t iso_time(const char *s)
{
    struct tm tm = {0};
    cr_assert_eq(strlen(s), 16, "date %s", s);
    cr_assert_eq(sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec), 6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

/* imf_time parses an IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". */
static time_t imf_time(const char *s)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct tm tm = {0};
    char mon[4];
    cr_assert_eq(sscanf(s, "%*3s, %2d %3s %4d %2d:%2d:%2d GMT", &tm.tm_mday, mon, &tm.tm_year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
                 6, "Date: %s", s);
    const char *m = strstr(months, mon);
    cr_assert(m != NULL && (m - months) % 3 == 0, "Date: %s", s);
    tm.tm_mon = (int)((m - months) / 3);
    tm.tm_year -= 1900;
    return timegm(&tm);
}

static struct gw_proc gw;

static void stop(void)
{
    remove_creds();
    abuse_cleanup(&gw);
}

static void run(const char *offset, long offset_s)
{
    static char yaml[4096];
    static char buf[65536];
    char v[128];
    char date_hdr[64];
    time_t real = time(NULL);
    time_t expiration = real + 3600;
    struct tm tm;
    char exp_text[64];

    memset(&gw, 0, sizeof(gw));
    memcpy(cred_dir, "/tmp/gwclock.XXXXXX", 20);
    cr_assert_not_null(mkdtemp(cred_dir));
    write_file("access_key_id", "clock-test-id\n");
    write_file("access_key_secret", "clock-test-secret\n");
    gmtime_r(&expiration, &tm);
    strftime(exp_text, sizeof(exp_text), "%Y-%m-%dT%H:%M:%SZ\n", &tm);
    write_file("expiration", exp_text);
    snprintf(yaml, sizeof(yaml),
             "workers: 1\nlog: {access: off}\n"
             "credentials:\n  main: {from: env}\n  aws: {from: env}\n  expiring: {from: files, dir: %s}\n"
             "backends:\n"
             "  v4: {type: oss, region: cn-hangzhou, bucket: test-bucket, credentials: main}\n"
             "  v1: {type: oss-v1, region: cn-hangzhou, bucket: test-bucket, credentials: main}\n"
             "  s3: {type: s3, region: us-east-1, bucket: test-bucket, credentials: aws}\n"
             "  exp: {type: oss, region: cn-hangzhou, bucket: test-bucket, credentials: expiring}\n"
             "routes:\n"
             "  - {prefix: /files/, backend: v4, expires: 15m}\n"
             "  - {prefix: /win/, backend: v4, expires: 15m, sign_window: 5m}\n"
             "  - {prefix: /v1/, backend: v1, expires: 10m}\n"
             "  - {prefix: /s3/, backend: s3, expires: 2h}\n"
             "  - {prefix: /exp/, backend: exp, expires: 15m}\n"
             "  - {prefix: /explong/, backend: exp, expires: 2h}\n",
             cred_dir);
    /* What `faketime -f OFFSET` sets up, minus its wrapper process (which would swallow our SIGTERM): libfaketime
     * preloaded with the offset. The monotonic clock stays real (timers); libfaketime may precede the ASan runtime. */
    static char preload[256];
    static char faketime[64];
    snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", GW_LIBFAKETIME);
    snprintf(faketime, sizeof(faketime), "FAKETIME=%s", offset);
    const char *env[] = {"AWS_ACCESS_KEY_ID=clock-aws-id",
                         "AWS_SECRET_ACCESS_KEY=clock-aws-secret",
                         "FAKETIME_DONT_FAKE_MONOTONIC=1",
                         "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:verify_asan_link_order=0",
                         offset_s != 0 ? preload : NULL, /* the real-clock run ends the list here */
                         faketime,
                         NULL};
    if (offset_s != 0) {
        cr_assert_eq(access(GW_LIBFAKETIME, R_OK), 0, "%s: install Debian's faketime", GW_LIBFAKETIME);
    }
    abuse_spawn(&gw, yaml, env, 0, NULL);

    time_t want = time(NULL) + offset_s;

    cr_assert_eq(abuse_get(NULL, gw.port, "/files/a.txt", buf, sizeof(buf)), 302, "%s", buf);
    cr_assert(gw_header(buf, "Date", date_hdr, sizeof(date_hdr)));
    long date_skew = (long)(imf_time(date_hdr) - want);
    cr_assert(param(buf, "x-oss-date", v, sizeof(v)));
    long v4_skew = (long)(iso_time(v) - want);
    cr_assert(param(buf, "x-oss-expires", v, sizeof(v)));
    long v4_expires = strtol(v, NULL, 10);

    cr_assert_eq(abuse_get(NULL, gw.port, "/win/a.txt", buf, sizeof(buf)), 302, "%s", buf);
    cr_assert(param(buf, "x-oss-date", v, sizeof(v)));
    long win_back = (long)(want - iso_time(v)); /* how far the window start lies behind now */
    cr_assert(param(buf, "x-oss-expires", v, sizeof(v)));
    long win_expires = strtol(v, NULL, 10);

    cr_assert_eq(abuse_get(NULL, gw.port, "/v1/a.txt", buf, sizeof(buf)), 302, "%s", buf);
    cr_assert(param(buf, "Expires", v, sizeof(v)));
    long v1_skew = strtol(v, NULL, 10) - 600 - (long)want;

    cr_assert_eq(abuse_get(NULL, gw.port, "/s3/a.txt", buf, sizeof(buf)), 302, "%s", buf);
    cr_assert(param(buf, "X-Amz-Date", v, sizeof(v)));
    long s3_skew = (long)(iso_time(v) - want);
    cr_assert(param(buf, "X-Amz-Expires", v, sizeof(v)));
    long s3_expires = strtol(v, NULL, 10);

    int exp_status = abuse_get(NULL, gw.port, "/exp/a.txt", buf, sizeof(buf));
    long exp_expires = -1;
    if (exp_status == 302) {
        cr_assert(param(buf, "x-oss-expires", v, sizeof(v)));
        exp_expires = strtol(v, NULL, 10);
    }
    /* 2h asked, but the credentials end sooner (in about 1h, or 1h20m on the clock 20 minutes behind): the URL ends
     * with them, to the second (and so does a route's Cache-Control max-age: tests/gateway/test_gw_regress.c). */
    int cap_status = abuse_get(NULL, gw.port, "/explong/a.txt", buf, sizeof(buf));
    long cap_expires = -1;
    long cap_end = -1; /* x-oss-date + x-oss-expires: when the URL stops working */
    if (cap_status == 302) {
        cr_assert(param(buf, "x-oss-expires", v, sizeof(v)));
        cap_expires = strtol(v, NULL, 10);
        cr_assert(param(buf, "x-oss-date", v, sizeof(v)));
        cap_end = (long)iso_time(v) + cap_expires;
    }
    cr_assert_eq(gw_stop(&gw, SIGTERM, 6000, NULL), 0);
    remove_creds();

    char exp_text2[64] = " (refused)";
    if (exp_status == 302) {
        snprintf(exp_text2, sizeof(exp_text2), " with x-oss-expires %ld", exp_expires);
    }
    char cap_text[64] = " (refused)";
    if (cap_status == 302) {
        snprintf(cap_text, sizeof(cap_text), " with x-oss-expires %ld", cap_expires);
    }
    printf("clock %s: skew from the faked now: Date %+lds, x-oss-date %+lds, V1 Expires-600 %+lds, X-Amz-Date %+lds; "
           "x-oss-expires %ld (15m), window start %lds back with x-oss-expires %ld (15m+5m), X-Amz-Expires %ld (2h); "
           "credentials expiring at real now+1h: 15m %d%s, 2h %d%s\n",
           offset_s != 0 ? offset : "real", date_skew, v4_skew, v1_skew, s3_skew, v4_expires, win_back, win_expires, s3_expires,
           exp_status, exp_text2, cap_status, cap_text);
    fflush(stdout);
    cr_assert(labs(date_skew) <= SLACK && labs(v4_skew) <= SLACK && labs(v1_skew) <= SLACK && labs(s3_skew) <= SLACK,
              "the dates follow the gateway's clock");
    cr_assert_eq(v4_expires, 900);
    cr_assert(win_back >= -SLACK && win_back < 300 + SLACK, "the window start is within the window: %ld s", win_back);
    cr_assert_eq(win_expires, 1200);
    cr_assert_eq(s3_expires, 7200);
    if (offset_s >= 3600) {
        cr_assert_eq(exp_status, 503, "credentials expired on the gateway's clock are refused");
        cr_assert_eq(cap_status, 503, "credentials expired on the gateway's clock are refused");
    } else {
        cr_assert_eq(exp_status, 302);
        cr_assert_eq(exp_expires, 900, "what is left of the credentials (%ld s) exceeds 15m", (long)(expiration - want));
        cr_assert_eq(cap_status, 302);
        cr_assert(cap_expires < 7200, "x-oss-expires %ld: capped below the route's 2h by the credentials", cap_expires);
        cr_assert_eq(cap_end, (long)expiration, "the URL ends when the credentials do: %+ld s off", cap_end - (long)expiration);
    }
}

Test(abuse_clock, real_clock, .fini = stop, .timeout = 30)
{
    run("+0", 0);
}

Test(abuse_clock, twenty_minutes_behind, .fini = stop, .timeout = 30)
{
    run("-20m", -1200);
}

Test(abuse_clock, two_hours_ahead, .fini = stop, .timeout = 30)
{
    run("+2h", 7200);
}
