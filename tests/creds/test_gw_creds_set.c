/* test_gw_creds_set.c: credential sets against the fakes (fakes.js: ECS metadata over HTTP, STS over HTTPS with a
 * test CA) on loopback: obtaining, renewing ahead, keeping the old credentials through failures, backing off, never
 * handing out expired ones, surviving hostile answers within the timeouts, and AssumeRole requests whose signature
 * the fake checks with the official @alicloud/openapi-util. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "creds_testlib.h"
#include "gw_creds_set.h"
#include "gw_fetch.h"

#define ROLE_ARN "acs:ram::123456789012:role/oss-gateway"
#define OIDC_ARN "acs:ram::123456789012:oidc-provider/ack-rrsa-c1"
#define OIDC_TOKEN "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.c2ln"
#define AK_ID "LTAI5tBaseKeyId00"
#define AK_SECRET "base/secret+value"

struct fakes {
    pid_t pid;
    int md_port, sts_port;
    char md_url[64], sts_url[64], ca[128], token_file[128];
};

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static void fakes_start(struct fakes *f, int lifetime, int rotate)
{
    const char *pki = ct_pki();
    int out[2], in[2];
    cr_assert_eq(pipe(out), 0);
    cr_assert_eq(pipe(in), 0);
    char life[16], rot[16], script[256];
    snprintf(life, sizeof(life), "%d", lifetime);
    snprintf(rot, sizeof(rot), "%d", rotate);
    snprintf(script, sizeof(script), "%s/tests/creds/fakes.js", GW_SOURCE_DIR);
    f->pid = fork();
    cr_assert_geq(f->pid, 0);
    if (f->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        char *argv[] = {strdup("node"),
                        strdup(script),
                        strdup("--pki"),
                        strdup(pki),
                        strdup("--lifetime"),
                        strdup(life),
                        strdup("--rotate"),
                        strdup(rot),
                        strdup("--access-keys"),
                        strdup("{\"" AK_ID "\":\"" AK_SECRET "\"}"),
                        strdup("--oidc-token"),
                        strdup(OIDC_TOKEN),
                        strdup("--oidc-provider-arn"),
                        strdup(OIDC_ARN),
                        NULL};
        execvp("node", argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    /* stdin stays open in the parent: the fakes exit when it closes (also if this test dies). */
    char line[256] = "";
    size_t len = 0;
    long long deadline = ct_mono_ms() + 10000;
    while (strchr(line, '\n') == NULL && ct_mono_ms() < deadline && len < sizeof(line) - 1) {
        struct pollfd p = {.fd = out[0], .events = POLLIN};
        if (poll(&p, 1, 100) > 0) {
            ssize_t n = read(out[0], line + len, sizeof(line) - 1 - len);
            if (n <= 0) {
                break;
            }
            len += (size_t)n;
            line[len] = '\0';
        }
    }
    cr_assert_eq(sscanf(line, "{\"metadata\":%d,\"sts\":%d}", &f->md_port, &f->sts_port), 2, "fakes did not start: %s", line);
    snprintf(f->md_url, sizeof(f->md_url), "http://127.0.0.1:%d", f->md_port);
    snprintf(f->sts_url, sizeof(f->sts_url), "https://localhost:%d", f->sts_port);
    snprintf(f->ca, sizeof(f->ca), "%s/ca.crt", pki);
    snprintf(f->token_file, sizeof(f->token_file), "%s/oidc-token", pki);
    FILE *fp = fopen(f->token_file, "w");
    cr_assert_not_null(fp);
    fputs(OIDC_TOKEN, fp);
    fclose(fp);
}

static void fakes_stop(struct fakes *f)
{
    ct_kill(f->pid);
    ct_pki_remove();
}

/* fakes_mode switches the fake metadata service's behaviour through its control endpoint. */
static void fakes_control(struct fakes *f, const char *json)
{
    char url[96], err[256];
    snprintf(url, sizeof(url), "%s/__control", f->md_url);
    struct gw_fetch_request req = {.method = "POST", .url = url, .body = json, .body_len = strlen(json), .total_timeout_ms = 3000};
    struct gw_fetch_response r;
    cr_assert_eq(gw_fetch(&r, &req, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(r.status, 204);
    gw_fetch_response_cleanup(&r);
}

static struct gw_creds_set *ecs_set(struct fakes *f, unsigned total_ms, const char *role)
{
    struct gw_creds_source_config cfg = {.kind = GW_CREDS_SRC_ECS_RAM_ROLE,
                                         .metadata_url = f->md_url,
                                         .role_name = role,
                                         .disable_imds_v1 = true,
                                         .total_timeout_ms = total_ms};
    char err[256];
    struct gw_creds_set *s = gw_creds_set_new("ecs", &cfg, err, sizeof(err));
    cr_assert_not_null(s, "%s", err);
    return s;
}

struct reader {
    struct gw_creds_set *set;
    atomic_bool stop;
    atomic_long reads, misses, expired;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    while (!atomic_load(&r->stop)) {
        int64_t now = now_s();
        struct gw_creds_snap *snap = gw_creds_set_acquire(r->set, now);
        if (snap == NULL) {
            atomic_fetch_add(&r->misses, 1);
            continue;
        }
        if (snap->creds.expiration <= now || snap->creds.secret_len == 0) {
            atomic_fetch_add(&r->expired, 1);
        }
        atomic_fetch_add(&r->reads, 1);
        gw_creds_snap_release(snap);
    }
    return NULL;
}

Test(gw_creds_set, ecs_obtains_and_renews_ahead_while_readers_read)
{
    struct fakes f;
    fakes_start(&f, 6, 3); /* credentials change every 3 s and live 6 s from their period's start */
    struct gw_creds_set *s = ecs_set(&f, 2000, NULL);
    char err[256];
    cr_assert_null(gw_creds_set_acquire(s, now_s()), "credentials before any fetch");
    cr_assert_eq(gw_creds_set_fetch_once(s, err, sizeof(err)), 0, "%s", err);
    struct gw_creds_snap *first = gw_creds_set_acquire(s, now_s());
    cr_assert_not_null(first);
    cr_assert_eq(strncmp(first->creds.access_key_id, "STS.", 4), 0);
    cr_assert_eq(strncmp(first->creds.token, "CAIS", 4), 0);
    cr_assert(first->creds.expiration > now_s() && first->creds.expiration <= now_s() + 6);

    struct reader rd = {.set = s};
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(pthread_create(&th[i], NULL, reader_main, &rd), 0);
    }
    struct gw_creds_set *sets[] = {s};
    struct gw_creds_refresher *r = gw_creds_refresher_start(sets, 1, err, sizeof(err));
    cr_assert_not_null(r, "%s", err);
    /* Poll for two renewals that changed the keys (each set lives 3..6 s, renewed at 80 % of what was left). */
    char last_id[64];
    snprintf(last_id, sizeof(last_id), "%s", first->creds.access_key_id);
    int changes = 0;
    long long deadline = ct_mono_ms() + 15000;
    while (changes < 2 && ct_mono_ms() < deadline) {
        struct gw_creds_snap *snap = gw_creds_set_acquire(s, now_s());
        cr_assert_not_null(snap, "no valid credentials at some point");
        if (strcmp(snap->creds.access_key_id, last_id) != 0) {
            snprintf(last_id, sizeof(last_id), "%s", snap->creds.access_key_id);
            changes++;
        }
        gw_creds_snap_release(snap);
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&rd.stop, true);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
    }
    gw_creds_refresher_stop(r);
    /* The first snapshot is still ours to read although it was replaced. */
    cr_assert_eq(strncmp(first->creds.access_key_id, "STS.", 4), 0);
    gw_creds_snap_release(first);
    struct gw_creds_stats st;
    gw_creds_set_stats(s, &st);
    cr_assert_geq(changes, 2, "keys changed %d times", changes);
    cr_assert_eq(atomic_load(&rd.misses), 0);
    cr_assert_eq(atomic_load(&rd.expired), 0);
    cr_assert_gt(atomic_load(&rd.reads), 1000);
    cr_assert_geq(st.refresh_ok, 3);
    gw_creds_set_free(s);
    fakes_stop(&f);
}

Test(gw_creds_set, keeps_old_credentials_and_backs_off_through_failures)
{
    struct fakes f;
    fakes_start(&f, 60, 60);
    struct gw_creds_set *s = ecs_set(&f, 2000, NULL);
    char err[256];
    cr_assert_eq(gw_creds_set_fetch_once(s, err, sizeof(err)), 0, "%s", err);
    struct gw_creds_snap *old = gw_creds_set_acquire(s, now_s());
    cr_assert_not_null(old);
    gw_creds_set_need(s, 3600, 60); /* longer than the credentials: renew at 10 % of their life, within 6 s */
    fakes_control(&f, "{\"mode\":\"status500\"}");
    struct gw_creds_set *sets[] = {s};
    struct gw_creds_refresher *r = gw_creds_refresher_start(sets, 1, err, sizeof(err));
    cr_assert_not_null(r, "%s", err);
    struct gw_creds_stats st;
    long long deadline = ct_mono_ms() + 10000;
    do {
        gw_creds_set_stats(s, &st);
        struct gw_creds_snap *snap = gw_creds_set_acquire(s, now_s());
        cr_assert_not_null(snap, "old credentials dropped during failures");
        cr_assert_str_eq(snap->creds.access_key_id, old->creds.access_key_id);
        gw_creds_snap_release(snap);
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
    } while (st.refresh_failed < 1 && ct_mono_ms() < deadline);
    cr_assert_geq(st.refresh_failed, 1);
    cr_assert_not_null(strstr(st.last_error, "HTTP 500"), "%s", st.last_error);
    /* Backoff: 1 s, then 1..2 s, then 2..4 s: in the next 2.5 s at most 3 more attempts, at least 1. */
    unsigned long before = st.refresh_failed;
    struct timespec wait = {2, 500 * 1000000};
    nanosleep(&wait, NULL);
    gw_creds_set_stats(s, &st);
    cr_assert(st.refresh_failed - before >= 1 && st.refresh_failed - before <= 3, "%lu attempts in 2.5 s",
              st.refresh_failed - before);
    /* The service recovers: the next attempt succeeds (within the longest backoff so far, under 10 s). */
    fakes_control(&f, "{\"mode\":\"ok\"}");
    unsigned long ok_before = st.refresh_ok;
    deadline = ct_mono_ms() + 10000;
    do {
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
        gw_creds_set_stats(s, &st);
    } while (st.refresh_ok == ok_before && ct_mono_ms() < deadline);
    cr_assert_gt(st.refresh_ok, ok_before);
    cr_assert_str_eq(st.last_error, "");
    gw_creds_refresher_stop(r);
    gw_creds_snap_release(old);
    gw_creds_set_free(s);
    fakes_stop(&f);
}

Test(gw_creds_set, hostile_metadata_fails_within_the_timeout)
{
    struct fakes f;
    fakes_start(&f, 3600, 3600);
    struct gw_creds_set *s = ecs_set(&f, 1000, "oss-gateway-role"); /* the hostile answer is the credentials' */
    char err[256];
    cr_assert_eq(gw_creds_set_fetch_once(s, err, sizeof(err)), 0, "%s", err);
    static const char *const modes[][2] = {
        {"slow", "timed out"},   {"garbage", "not JSON"},   {"huge", "over 65536"}, {"code_failed", "Code is \"Failed\""},
        {"role404", "HTTP 404"}, {"status500", "HTTP 500"}, {"reset", "metadata"},
    };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        char json[64];
        snprintf(json, sizeof(json), "{\"mode\":\"%s\"}", modes[i][0]);
        fakes_control(&f, json);
        long long t0 = ct_mono_ms();
        cr_assert_eq(gw_creds_set_fetch_once(s, err, sizeof(err)), -1, "%s accepted", modes[i][0]);
        long long took = ct_mono_ms() - t0;
        cr_assert_lt(took, 1800, "%s took %lld ms", modes[i][0], took);
        cr_assert_not_null(strstr(err, modes[i][1]), "%s: \"%s\" lacks \"%s\"", modes[i][0], err, modes[i][1]);
        struct gw_creds_snap *snap = gw_creds_set_acquire(s, now_s());
        cr_assert_not_null(snap, "%s: old credentials lost", modes[i][0]);
        cr_assert_null(strstr(err, snap->creds.secret), "%s: secret in the error", modes[i][0]);
        gw_creds_snap_release(snap);
    }
    /* A role the instance does not have: 404 from the credentials endpoint. */
    fakes_control(&f, "{\"mode\":\"ok\"}");
    struct gw_creds_set *other = ecs_set(&f, 1000, "no-such-role");
    cr_assert_eq(gw_creds_set_fetch_once(other, err, sizeof(err)), -1);
    cr_assert_not_null(strstr(err, "role no-such-role: HTTP 404"), "%s", err);
    gw_creds_set_free(other);
    gw_creds_set_free(s);
    fakes_stop(&f);
}

Test(gw_creds_set, imds_v1_only_with_disable_imds_v1_false)
{
    struct fakes f;
    fakes_start(&f, 3600, 3600);
    fakes_control(&f, "{\"tokenEndpoint\":false,\"imdsv2Required\":false}");
    char err[256];
    struct gw_creds_set *hardened = ecs_set(&f, 1000, NULL);
    cr_assert_eq(gw_creds_set_fetch_once(hardened, err, sizeof(err)), -1);
    cr_assert_not_null(strstr(err, "metadata token: HTTP 404"), "%s", err);
    struct gw_creds_source_config cfg = {.kind = GW_CREDS_SRC_ECS_RAM_ROLE, .metadata_url = f.md_url, .disable_imds_v1 = false};
    struct gw_creds_set *v1 = gw_creds_set_new("v1", &cfg, err, sizeof(err));
    cr_assert_not_null(v1, "%s", err);
    cr_assert_eq(gw_creds_set_fetch_once(v1, err, sizeof(err)), 0, "%s", err);
    /* A hardened instance refuses requests without a token even when the fallback is allowed. */
    fakes_control(&f, "{\"imdsv2Required\":true}");
    cr_assert_eq(gw_creds_set_fetch_once(v1, err, sizeof(err)), -1);
    cr_assert_not_null(strstr(err, "HTTP 403"), "%s", err);
    gw_creds_set_free(v1);
    gw_creds_set_free(hardened);
    fakes_stop(&f);
}

Test(gw_creds_set, oidc_assume_role_and_uri)
{
    struct fakes f;
    fakes_start(&f, 3600, 3600);
    char err[256];
    struct gw_creds_source_config oc = {.kind = GW_CREDS_SRC_OIDC,
                                        .sts_url = f.sts_url,
                                        .role_arn = ROLE_ARN,
                                        .oidc_provider_arn = OIDC_ARN,
                                        .oidc_token_file = f.token_file,
                                        .ca_file = f.ca,
                                        .total_timeout_ms = 3000};
    struct gw_creds_set *oidc = gw_creds_set_new("rrsa", &oc, err, sizeof(err));
    cr_assert_not_null(oidc, "%s", err);
    cr_assert_eq(gw_creds_set_fetch_once(oidc, err, sizeof(err)), 0, "%s", err);
    /* The token file is read at each attempt: a rotated, wrong token is refused by STS with its code. */
    FILE *fp = fopen(f.token_file, "w");
    fputs("not-the-token", fp);
    fclose(fp);
    cr_assert_eq(gw_creds_set_fetch_once(oidc, err, sizeof(err)), -1);
    cr_assert_not_null(strstr(err, "AuthenticationFail.OIDCToken.Invalid"), "%s", err);
    cr_assert_null(strstr(err, "not-the-token"), "%s", err);

    /* AssumeRole signed with a base set's keys; the fake verifies the signature with @alicloud/openapi-util. */
    struct gw_creds key = {.access_key_id = (char *)(uintptr_t)AK_ID,
                           .access_key_id_len = strlen(AK_ID),
                           .secret = (char *)(uintptr_t)AK_SECRET,
                           .secret_len = strlen(AK_SECRET)};
    struct gw_creds_source_config bc = {.kind = GW_CREDS_SRC_STATIC, .static_creds = &key};
    struct gw_creds_set *base = gw_creds_set_new("base", &bc, err, sizeof(err));
    cr_assert_not_null(base, "%s", err);
    struct gw_creds_source_config ac = {.kind = GW_CREDS_SRC_ASSUME_ROLE,
                                        .sts_url = f.sts_url,
                                        .role_arn = ROLE_ARN,
                                        .base = base,
                                        .external_id = "abc def*~",
                                        .policy =
                                            "{\"Version\":\"1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"oss:GetObject\","
                                            "\"Resource\":\"acs:oss:*:*:bucket/a b+c\"}]}",
                                        .ca_file = f.ca,
                                        .total_timeout_ms = 3000};
    struct gw_creds_set *ar = gw_creds_set_new("assumed", &ac, err, sizeof(err));
    cr_assert_not_null(ar, "%s", err);
    cr_assert_eq(gw_creds_set_fetch_once(ar, err, sizeof(err)), 0, "%s", err);
    struct gw_creds_snap *snap = gw_creds_set_acquire(ar, now_s());
    cr_assert_not_null(snap);
    cr_assert_eq(snap->creds.expiration - now_s() <= 3600, 1);
    gw_creds_snap_release(snap);

    /* A wrong base secret: SignatureDoesNotMatch, reported with STS's code. */
    struct gw_creds bad = key;
    bad.secret = (char *)(uintptr_t) "wrong";
    bad.secret_len = 5;
    struct gw_creds_source_config bbc = {.kind = GW_CREDS_SRC_STATIC, .static_creds = &bad};
    struct gw_creds_set *bad_base = gw_creds_set_new("bad", &bbc, err, sizeof(err));
    ac.base = bad_base;
    struct gw_creds_set *ar2 = gw_creds_set_new("assumed2", &ac, err, sizeof(err));
    cr_assert_not_null(ar2, "%s", err);
    cr_assert_eq(gw_creds_set_fetch_once(ar2, err, sizeof(err)), -1);
    cr_assert_not_null(strstr(err, "SignatureDoesNotMatch"), "%s", err);

    /* The system CA bundle does not trust the test CA. */
    oc.ca_file = NULL;
    struct gw_creds_set *untrusted = gw_creds_set_new("untrusted", &oc, err, sizeof(err));
    cr_assert_eq(gw_creds_set_fetch_once(untrusted, err, sizeof(err)), -1);
    cr_assert_not_null(strstr(err, "certificate verify failed"), "%s", err);

    char uri[96];
    snprintf(uri, sizeof(uri), "%s/credentials-uri", f.md_url);
    struct gw_creds_source_config uc = {.kind = GW_CREDS_SRC_URI, .url = uri};
    struct gw_creds_set *us = gw_creds_set_new("uri", &uc, err, sizeof(err));
    cr_assert_not_null(us, "%s", err);
    cr_assert_eq(gw_creds_set_fetch_once(us, err, sizeof(err)), 0, "%s", err);

    gw_creds_set_free(us);
    gw_creds_set_free(untrusted);
    gw_creds_set_free(ar2);
    gw_creds_set_free(bad_base);
    gw_creds_set_free(ar);
    gw_creds_set_free(base);
    gw_creds_set_free(oidc);
    fakes_stop(&f);
}

Test(gw_creds_set, rejects_bad_configuration)
{
    char err[256];
    struct gw_creds_source_config c = {.kind = GW_CREDS_SRC_OIDC, .sts_url = "https://sts.aliyuncs.com"};
    cr_assert_null(gw_creds_set_new("x", &c, err, sizeof(err)));
    cr_assert_not_null(strstr(err, "role_arn is required"), "%s", err);
    c = (struct gw_creds_source_config){.kind = GW_CREDS_SRC_ECS_RAM_ROLE, .metadata_url = "ftp://x"};
    cr_assert_null(gw_creds_set_new("x", &c, err, sizeof(err)));
    cr_assert_not_null(strstr(err, "metadata_url"), "%s", err);
    c = (struct gw_creds_source_config){.kind = GW_CREDS_SRC_ECS_RAM_ROLE, .role_name = "a/b"};
    cr_assert_null(gw_creds_set_new("x", &c, err, sizeof(err)));
    c = (struct gw_creds_source_config){.kind = GW_CREDS_SRC_ASSUME_ROLE, .role_arn = ROLE_ARN};
    cr_assert_null(gw_creds_set_new("x", &c, err, sizeof(err)));
    cr_assert_not_null(strstr(err, "base is required"), "%s", err);
    c = (struct gw_creds_source_config){.kind = GW_CREDS_SRC_URI, .url = "http://127.0.0.1:1/"};
    cr_assert_null(gw_creds_set_new("", &c, err, sizeof(err)));
    c.duration_s = 100;
    cr_assert_null(gw_creds_set_new("x", &c, err, sizeof(err)));
    cr_assert_not_null(strstr(err, "duration"), "%s", err);
}
