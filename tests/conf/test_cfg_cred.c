/* test_cfg_cred.c: credential sets from the environment, from files and inline, and that no error shows a secret. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "cfg.h"

#define NAME "t.yaml"
#define SECRET "S3cr3t-Value-Never-Shown"

struct kv {
    const char *k;
    const char *v;
};

/* A small mutable environment: tests add variables, including ones that point at a temporary directory. */
struct env_table {
    struct kv kv[16];
    size_t n;
};

static const char *fake_getenv(void *ctx, const char *name)
{
    const struct env_table *t = ctx;

    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->kv[i].k, name) == 0) {
            return t->kv[i].v;
        }
    }
    return NULL;
}

static void env_set(struct env_table *t, const char *k, const char *v)
{
    cr_assert(t->n < 16);
    t->kv[t->n].k = k;
    t->kv[t->n].v = v;
    t->n++;
}

static struct env_table *oss_env(struct env_table *t)
{
    t->n = 0;
    env_set(t, "OSS_ACCESS_KEY_ID", "oss-id");
    env_set(t, "OSS_ACCESS_KEY_SECRET", SECRET);
    env_set(t, "AWS_ACCESS_KEY_ID", "aws-id");
    env_set(t, "AWS_SECRET_ACCESS_KEY", "aws-" SECRET);
    return t;
}

#define BACK "backends:\n  b: {region: cn-hangzhou, bucket: my-bucket}\n"
#define ROUTE "routes:\n  - {prefix: /files/, backend: b}\n"
#define TAIL BACK ROUTE

static enum cfg_status load(const char *yaml, struct env_table *t, struct cfg_config **out, struct cfg_error *err)
{
    struct cfg_env env = {fake_getenv, t};

    return cfg_load_buffer(out, NAME, yaml, strlen(yaml), &env, err);
}

static void expect_error(const char *yaml, struct env_table *t, enum cfg_status want, const char *msg)
{
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    enum cfg_status st = load(yaml, t, &cfg, &err);

    cr_assert_str_eq(err.msg, msg);
    cr_assert_eq(st, want, "status %d, want %d", (int)st, (int)want);
    cr_assert(cfg == NULL);
    cr_assert(strstr(err.msg, "S3cr3t") == NULL);
}

static struct cfg_config *expect_ok(const char *yaml, struct env_table *t)
{
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    enum cfg_status st = load(yaml, t, &cfg, &err);

    cr_assert_eq(st, CFG_OK, "%s", err.msg);
    return cfg;
}

static void assert_secret(const struct cfg_credentials *c, const char *want)
{
    cr_assert_eq(c->secret_len, strlen(want));
    cr_assert(memcmp(c->secret, want, c->secret_len) == 0);
}

/* ---- from: env ---- */

Test(cfg_cred, env_reads_oss_names)
{
    struct env_table t;
    struct cfg_config *cfg = expect_ok("credentials:\n  default: {from: env}\n" TAIL, oss_env(&t));

    cr_assert_eq(cfg->n_credentials, 1);
    const struct cfg_credentials *c = cfg->backends[0].credentials;
    cr_assert_str_eq(c->name, "default");
    cr_assert_str_eq(c->access_key_id, "oss-id");
    assert_secret(c, SECRET);
    cr_assert(c->security_token == NULL);
    cr_assert_eq(c->expiration, 0);
    cfg_free(cfg);
}

Test(cfg_cred, env_reads_session_token)
{
    struct env_table t;
    env_set(oss_env(&t), "OSS_SESSION_TOKEN", "sts-token");
    struct cfg_config *cfg = expect_ok("credentials:\n  default: {from: env}\n" TAIL, &t);

    cr_assert_str_eq(cfg->credentials[0].security_token, "sts-token");
    cfg_free(cfg);
}

Test(cfg_cred, env_empty_token_means_none)
{
    struct env_table t;
    env_set(oss_env(&t), "OSS_SESSION_TOKEN", "");
    struct cfg_config *cfg = expect_ok("credentials:\n  default: {from: env}\n" TAIL, &t);

    cr_assert(cfg->credentials[0].security_token == NULL);
    cfg_free(cfg);
}

Test(cfg_cred, env_reads_aws_names_for_s3)
{
    struct env_table t;
    env_set(oss_env(&t), "AWS_SESSION_TOKEN", "aws-token");
    struct cfg_config *cfg = expect_ok("credentials:\n  default: {from: env}\n"
                                       "backends:\n  b: {type: s3, region: us-east-1, bucket: my-bucket}\n" ROUTE,
                                       &t);

    cr_assert_str_eq(cfg->credentials[0].access_key_id, "aws-id");
    assert_secret(&cfg->credentials[0], "aws-" SECRET);
    cr_assert_str_eq(cfg->credentials[0].security_token, "aws-token");
    cfg_free(cfg);
}

Test(cfg_cred, env_explicit_names_serve_both_kinds)
{
    struct env_table t;
    oss_env(&t);
    env_set(&t, "MY_ID", "my-id");
    env_set(&t, "MY_SECRET", "my-secret");
    env_set(&t, "MY_TOKEN", "my-token");
    struct cfg_config *cfg =
        expect_ok("credentials:\n  default: {from: env, id_var: MY_ID, secret_var: MY_SECRET, token_var: MY_TOKEN}\n"
                  "backends:\n  b: {region: cn-hangzhou, bucket: my-bucket}\n"
                  "  s: {type: s3, region: us-east-1, bucket: my-bucket}\n" ROUTE,
                  &t);

    cr_assert_eq(cfg->n_credentials, 1);
    cr_assert(cfg->backends[0].credentials == cfg->backends[1].credentials);
    cr_assert_str_eq(cfg->credentials[0].access_key_id, "my-id");
    assert_secret(&cfg->credentials[0], "my-secret");
    cr_assert_str_eq(cfg->credentials[0].security_token, "my-token");
    cfg_free(cfg);
}

Test(cfg_cred, env_refuses_set_used_by_both_kinds)
{
    struct env_table t;
    expect_error("credentials:\n  default: {from: env}\n"
                 "backends:\n  b: {region: cn-hangzhou, bucket: my-bucket}\n"
                 "  s: {type: s3, region: us-east-1, bucket: my-bucket}\n" ROUTE,
                 oss_env(&t), CFG_ERR_SCHEMA,
                 "t.yaml:2:3: credentials.default: used by both OSS and S3 backends (backends.s among them), which read "
                 "different variables; set id_var and secret_var, or use two sets");
}

Test(cfg_cred, env_missing_variable_points_at_the_set)
{
    struct env_table t = {.n = 0};
    env_set(&t, "OSS_ACCESS_KEY_ID", "oss-id");
    expect_error("credentials:\n  default: {from: env}\n" TAIL, &t, CFG_ERR_CREDENTIALS,
                 "t.yaml:2:3: credentials.default: environment variable OSS_ACCESS_KEY_SECRET is not set");
    t.n = 0;
    expect_error("credentials:\n  default: {from: env}\n" TAIL, &t, CFG_ERR_CREDENTIALS,
                 "t.yaml:2:3: credentials.default: environment variable OSS_ACCESS_KEY_ID is not set");
}

Test(cfg_cred, env_empty_variable)
{
    struct env_table t = {.n = 0};
    env_set(&t, "OSS_ACCESS_KEY_ID", "oss-id");
    env_set(&t, "OSS_ACCESS_KEY_SECRET", "");
    expect_error("credentials:\n  default: {from: env}\n" TAIL, &t, CFG_ERR_CREDENTIALS,
                 "t.yaml:2:3: credentials.default: environment variable OSS_ACCESS_KEY_SECRET is empty");
}

Test(cfg_cred, env_names_go_together)
{
    struct env_table t;
    expect_error("credentials:\n  default: {from: env, id_var: MY_ID}\n" TAIL, oss_env(&t), CFG_ERR_SCHEMA,
                 "t.yaml:2:3: credentials.default: id_var and secret_var go together (token_var needs both)");
    expect_error("credentials:\n  default: {from: env, id_var: 'MY ID', secret_var: S}\n" TAIL, oss_env(&t), CFG_ERR_SCHEMA,
                 "t.yaml:2:32: credentials.default.id_var: MY ID is not an environment variable name");
}

Test(cfg_cred, keys_must_match_from)
{
    struct env_table t;
    expect_error("credentials:\n  default: {from: env, dir: /run}\n" TAIL, oss_env(&t), CFG_ERR_SCHEMA,
                 "t.yaml:2:24: credentials.default: key 'dir' does not go with from: env");
    expect_error(
        "credentials:\n  default: {dir: /run}\n" TAIL, oss_env(&t), CFG_ERR_SCHEMA,
        "t.yaml:2:3: credentials.default: missing key 'from' (env, files, inline, ecs_ram_role, oidc, assume_role or uri)");
    expect_error("credentials:\n  default: {from: vault}\n" TAIL, oss_env(&t), CFG_ERR_SCHEMA,
                 "t.yaml:2:19: credentials.default.from: vault is not env, files, inline, ecs_ram_role, oidc, assume_role or uri");
    expect_error("credentials:\n  default: {from: env, password: x}\n" TAIL, oss_env(&t), CFG_ERR_SCHEMA,
                 "t.yaml:2:24: credentials.default: unknown key 'password'");
}

Test(cfg_cred, unused_set_is_not_resolved)
{
    struct env_table t;
    struct cfg_config *cfg = expect_ok(
        "credentials:\n  default: {from: env}\n  spare: {from: env, id_var: UNSET_A, secret_var: UNSET_B}\n" TAIL, oss_env(&t));

    cr_assert_eq(cfg->n_credentials, 1);
    cr_assert_str_eq(cfg->credentials[0].name, "default");
    cfg_free(cfg);
}

Test(cfg_cred, env_null_uses_process_environment)
{
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    static const char yaml[] = "credentials:\n  default: {from: env, id_var: GW_TEST_ID, secret_var: GW_TEST_SECRET}\n" TAIL;

    cr_assert_eq(setenv("GW_TEST_ID", "proc-id", 1), 0);
    cr_assert_eq(setenv("GW_TEST_SECRET", "proc-secret", 1), 0);
    cr_assert_eq(cfg_load_buffer(&cfg, NAME, yaml, strlen(yaml), NULL, &err), CFG_OK, "%s", err.msg);
    cr_assert_str_eq(cfg->credentials[0].access_key_id, "proc-id");
    cfg_free(cfg);
}

/* ---- from: files ---- */

static void write_file(const char *dir, const char *name, const char *content, mode_t mode)
{
    char path[512];
    int w = snprintf(path, sizeof(path), "%s/%s", dir, name);
    cr_assert(w > 0 && (size_t)w < sizeof(path));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    cr_assert(fd >= 0, "open %s", path);
    size_t len = strlen(content);
    cr_assert_eq(write(fd, content, len), (ssize_t)len);
    cr_assert_eq(fchmod(fd, mode), 0);
    cr_assert_eq(close(fd), 0);
}

/* Removes what these tests write into a temporary directory, then the directory. */
static void remove_dir(const char *dir)
{
    static const char *const names[] = {"access_key_id", "access_key_secret", "security_token", "expiration", "gw.yaml"};
    char path[512];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int w = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        cr_assert(w > 0 && (size_t)w < sizeof(path));
        (void)unlink(path);
    }
    cr_assert_eq(rmdir(dir), 0);
}

static char *make_dir(char *tmpl)
{
    char *d = mkdtemp(tmpl);
    cr_assert(d != NULL);
    return d;
}

/* Builds "credentials:\n  default: {from: files, dir: DIR}\n" + TAIL. */
static void files_yaml(char *out, size_t cap, const char *dir)
{
    int w = snprintf(out, cap, "credentials:\n  default: {from: files, dir: '%s'}\n" TAIL, dir);
    cr_assert(w > 0 && (size_t)w < cap);
}

Test(cfg_cred, files_read_every_value)
{
    char tmpl[] = "/tmp/cfg-cred-XXXXXX";
    char *dir = make_dir(tmpl);
    char yaml[512];
    struct env_table t = {.n = 0};

    write_file(dir, "access_key_id", "file-id\n", 0600);
    write_file(dir, "access_key_secret", SECRET "\n", 0600);
    write_file(dir, "security_token", "file-token", 0600);
    write_file(dir, "expiration", "2026-01-01T00:00:00Z\n", 0600);
    files_yaml(yaml, sizeof(yaml), dir);
    struct cfg_config *cfg = expect_ok(yaml, &t);
    const struct cfg_credentials *c = &cfg->credentials[0];
    cr_assert_str_eq(c->access_key_id, "file-id");
    assert_secret(c, SECRET);
    cr_assert_str_eq(c->security_token, "file-token");
    cr_assert_eq(c->expiration, 1767225600);
    cfg_free(cfg);
    remove_dir(dir);
}

Test(cfg_cred, files_default_to_credentials_directory)
{
    char tmpl[] = "/tmp/cfg-cred-XXXXXX";
    char *dir = make_dir(tmpl);
    struct env_table t = {.n = 0};

    write_file(dir, "access_key_id", "file-id", 0600);
    write_file(dir, "access_key_secret", SECRET, 0600);
    env_set(&t, "CREDENTIALS_DIRECTORY", dir);
    struct cfg_config *cfg = expect_ok("credentials:\n  default: {from: files}\n" TAIL, &t);
    cr_assert_str_eq(cfg->credentials[0].access_key_id, "file-id");
    cr_assert(cfg->credentials[0].security_token == NULL);
    cr_assert_eq(cfg->credentials[0].expiration, 0);
    cfg_free(cfg);
    remove_dir(dir);
}

Test(cfg_cred, files_need_credentials_directory)
{
    struct env_table t = {.n = 0};
    expect_error("credentials:\n  default: {from: files}\n" TAIL, &t, CFG_ERR_CREDENTIALS,
                 "t.yaml:2:3: credentials.default: from: files without dir reads $CREDENTIALS_DIRECTORY (systemd "
                 "LoadCredential=), which is not set");
    expect_error("credentials:\n  default: {from: files, dir: run/creds}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:31: credentials.default.dir: must be an absolute path");
}

Test(cfg_cred, files_missing_secret)
{
    char tmpl[] = "/tmp/cfg-cred-XXXXXX";
    char *dir = make_dir(tmpl);
    char yaml[512];
    char want[512];
    struct env_table t = {.n = 0};

    write_file(dir, "access_key_id", "file-id", 0600);
    files_yaml(yaml, sizeof(yaml), dir);
    cr_assert(snprintf(want, sizeof(want), "t.yaml:2:3: credentials.default: %s/access_key_secret does not exist", dir) > 0);
    expect_error(yaml, &t, CFG_ERR_CREDENTIALS, want);
    remove_dir(dir);
}

Test(cfg_cred, files_refuse_empty_long_and_control_values)
{
    char tmpl[] = "/tmp/cfg-cred-XXXXXX";
    char *dir = make_dir(tmpl);
    char yaml[512];
    char want[512];
    char big[400];
    struct env_table t = {.n = 0};

    files_yaml(yaml, sizeof(yaml), dir);
    write_file(dir, "access_key_id", "file-id", 0600);
    write_file(dir, "access_key_secret", "\n", 0600);
    cr_assert(snprintf(want, sizeof(want), "t.yaml:2:3: credentials.default: %s/access_key_secret is empty", dir) > 0);
    expect_error(yaml, &t, CFG_ERR_CREDENTIALS, want);

    memset(big, 'S', sizeof(big) - 1);
    memcpy(big, "S3cr3t", 6);
    big[sizeof(big) - 1] = '\0';
    write_file(dir, "access_key_secret", big, 0600);
    cr_assert(snprintf(want, sizeof(want), "t.yaml:2:3: credentials.default: %s/access_key_secret is longer than 256 bytes", dir) >
              0);
    expect_error(yaml, &t, CFG_ERR_CREDENTIALS, want);

    write_file(dir, "access_key_secret", SECRET "\r\n", 0600);
    cr_assert(snprintf(want, sizeof(want), "t.yaml:2:3: credentials.default: %s/access_key_secret contains a control character",
                       dir) > 0);
    expect_error(yaml, &t, CFG_ERR_CREDENTIALS, want);

    write_file(dir, "access_key_secret", SECRET, 0600);
    write_file(dir, "expiration", "2026-01-01 00:00:00", 0600);
    cr_assert(snprintf(want, sizeof(want),
                       "t.yaml:2:3: credentials.default: %s/expiration is not an RFC 3339 UTC time like 2026-01-01T00:00:00Z",
                       dir) > 0);
    expect_error(yaml, &t, CFG_ERR_CREDENTIALS, want);
    remove_dir(dir);
}

/* ---- inline ---- */

#define INLINE_YAML "credentials:\n  default: {from: inline, access_key_id: inline-id, access_key_secret: " SECRET "}\n" TAIL

static enum cfg_status load_file_mode(const char *yaml, mode_t mode, struct cfg_config **out, struct cfg_error *err, char *path,
                                      size_t path_cap)
{
    char tmpl[] = "/tmp/cfg-inline-XXXXXX";
    char *dir = make_dir(tmpl);
    struct env_table t = {.n = 0};
    struct cfg_env env = {fake_getenv, &t};

    write_file(dir, "gw.yaml", yaml, mode);
    cr_assert(snprintf(path, path_cap, "%s/gw.yaml", dir) > 0);
    enum cfg_status st = cfg_load_file(out, path, &env, err);
    remove_dir(dir);
    return st;
}

Test(cfg_cred, inline_accepted_from_private_file)
{
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    char path[256];

    cr_assert_eq(load_file_mode(INLINE_YAML, 0600, &cfg, &err, path, sizeof(path)), CFG_OK, "%s", err.msg);
    cr_assert_str_eq(cfg->credentials[0].access_key_id, "inline-id");
    assert_secret(&cfg->credentials[0], SECRET);
    cr_assert_str_eq(cfg->path, path);
    cfg_free(cfg);
}

Test(cfg_cred, inline_refused_from_readable_file)
{
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    char path[256];
    char want[512];

    cr_assert_eq(load_file_mode(INLINE_YAML, 0644, &cfg, &err, path, sizeof(path)), CFG_ERR_CREDENTIALS);
    cr_assert(snprintf(want, sizeof(want),
                       "%s:2:3: credentials.default: inline secrets need a config file that group and others cannot "
                       "read, but %s has mode 0644 (chmod 600 it, or use from: env or from: files)",
                       path, path) > 0);
    cr_assert_str_eq(err.msg, want);
    cr_assert(strstr(err.msg, "S3cr3t") == NULL);
    cr_assert(cfg == NULL);
    cr_assert_eq(load_file_mode(INLINE_YAML, 0640, &cfg, &err, path, sizeof(path)), CFG_ERR_CREDENTIALS);
    cr_assert_eq(load_file_mode(INLINE_YAML, 0604, &cfg, &err, path, sizeof(path)), CFG_ERR_CREDENTIALS);
}

Test(cfg_cred, inline_refused_from_buffer)
{
    struct env_table t = {.n = 0};
    expect_error(INLINE_YAML, &t, CFG_ERR_CREDENTIALS,
                 "t.yaml:2:3: credentials.default: inline secrets are only accepted by cfg_load_file, from a file that "
                 "group and others cannot read; use from: env or from: files");
}

Test(cfg_cred, inline_value_errors_never_show_the_secret)
{
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    char path[256];
    char want[512];

    cr_assert_eq(load_file_mode("credentials:\n  default: {from: inline, access_key_id: x, access_key_secret: \"" SECRET
                                "\\t\"}\n" TAIL,
                                0600, &cfg, &err, path, sizeof(path)),
                 CFG_ERR_CREDENTIALS);
    cr_assert(snprintf(want, sizeof(want), "%s:2:64: credentials.default: access_key_secret contains a control character", path) >
              0);
    cr_assert_str_eq(err.msg, want);

    cr_assert_eq(load_file_mode("credentials:\n  default: {from: inline, access_key_id: x, access_key_secret: {v: " SECRET
                                "}}\n" TAIL,
                                0600, &cfg, &err, path, sizeof(path)),
                 CFG_ERR_SCHEMA);
    cr_assert(
        snprintf(want, sizeof(want), "%s:2:64: credentials.default.access_key_secret: expected a scalar, got a mapping", path) > 0);
    cr_assert_str_eq(err.msg, want);
    cr_assert(strstr(err.msg, "S3cr3t") == NULL);

    cr_assert_eq(
        load_file_mode("credentials:\n  default: {from: inline, access_key_id: x}\n" TAIL, 0600, &cfg, &err, path, sizeof(path)),
        CFG_ERR_SCHEMA);
    cr_assert(snprintf(want, sizeof(want), "%s:2:3: credentials.default: missing key 'access_key_secret'", path) > 0);
    cr_assert_str_eq(err.msg, want);
    cr_assert(cfg == NULL);
}

Test(cfg_cred, env_value_errors_never_show_the_secret)
{
    struct env_table t = {.n = 0};
    char big[400];

    memset(big, 'x', sizeof(big) - 1);
    memcpy(big, "S3cr3t", 6);
    big[sizeof(big) - 1] = '\0';
    env_set(&t, "OSS_ACCESS_KEY_ID", "id");
    env_set(&t, "OSS_ACCESS_KEY_SECRET", big);
    expect_error("credentials:\n  default: {from: env}\n" TAIL, &t, CFG_ERR_CREDENTIALS,
                 "t.yaml:2:3: credentials.default: environment variable OSS_ACCESS_KEY_SECRET is longer than 256 bytes");
    t.kv[1].v = SECRET "\n";
    expect_error("credentials:\n  default: {from: env}\n" TAIL, &t, CFG_ERR_CREDENTIALS,
                 "t.yaml:2:3: credentials.default: environment variable OSS_ACCESS_KEY_SECRET contains a control "
                 "character");
}

/* ---- renewing sources (issue 11): ecs_ram_role, oidc, assume_role, uri ---- */

#define ROLE "acs:ram::123456789012:role/gw"
#define PROVIDER "acs:ram::123456789012:oidc-provider/ack-rrsa"

Test(cfg_cred, ecs_ram_role_defaults)
{
    struct env_table t = {.n = 0};
    struct cfg_config *cfg = expect_ok("credentials:\n  default: {from: ecs_ram_role}\n" TAIL, &t);
    const struct cfg_credentials *c = cfg->backends[0].credentials;

    cr_assert_eq(c->source, CFG_CRED_ECS_RAM_ROLE);
    cr_assert(c->access_key_id == NULL);
    cr_assert(c->renew.role_name == NULL);
    cr_assert_str_eq(c->renew.metadata_url, "http://100.100.100.200");
    cr_assert(c->renew.disable_imds_v1);
    cr_assert(c->renew.ca_file == NULL);
    cr_assert_eq(c->startup_timeout_ms, 10000);
    cr_assert_eq(cfg->startup_timeout_ms, 10000);
    cfg_free(cfg);
}

Test(cfg_cred, ecs_ram_role_keys)
{
    struct env_table t = {.n = 0};
    struct cfg_config *cfg = expect_ok("startup_timeout: 20s\ncredentials:\n  default: {from: ecs_ram_role, role_name: gw-role, "
                                       "metadata_url: 'http://127.0.0.1:9/', disable_imds_v1: false, startup_timeout: 3s}\n" TAIL,
                                       &t);
    const struct cfg_credentials *c = cfg->backends[0].credentials;

    cr_assert_str_eq(c->renew.role_name, "gw-role");
    cr_assert_str_eq(c->renew.metadata_url, "http://127.0.0.1:9/");
    cr_assert(!c->renew.disable_imds_v1);
    cr_assert_eq(c->startup_timeout_ms, 3000);
    cr_assert_eq(cfg->startup_timeout_ms, 20000);
    cfg_free(cfg);
}

Test(cfg_cred, oidc_from_environment)
{
    struct env_table t = {.n = 0};
    env_set(&t, "ALIBABA_CLOUD_ROLE_ARN", ROLE);
    env_set(&t, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", PROVIDER);
    env_set(&t, "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token");
    struct cfg_config *cfg = expect_ok("credentials:\n  default: {from: oidc}\n" TAIL, &t);
    const struct cfg_credentials *c = cfg->backends[0].credentials;

    cr_assert_eq(c->source, CFG_CRED_OIDC);
    cr_assert_str_eq(c->renew.role_arn, ROLE);
    cr_assert_str_eq(c->renew.oidc_provider_arn, PROVIDER);
    cr_assert_str_eq(c->renew.oidc_token_file, "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token");
    cr_assert_str_eq(c->renew.role_session_name, "oss-gateway");
    cr_assert_eq(c->renew.duration_s, 3600);
    cr_assert_str_eq(c->renew.sts_url, "https://sts.aliyuncs.com");
    cfg_free(cfg);
}

Test(cfg_cred, oidc_keys_win_over_environment)
{
    struct env_table t = {.n = 0};
    env_set(&t, "ALIBABA_CLOUD_ROLE_ARN", "not an arn");
    struct cfg_config *cfg = expect_ok("credentials:\n  default: {from: oidc, role_arn: '" ROLE "', oidc_provider_arn: '" PROVIDER
                                       "', oidc_token_file: /t/token, role_session_name: gw@pod-1, duration: 2h, policy: '{}', "
                                       "sts_endpoint: sts-vpc.cn-hangzhou.aliyuncs.com, ca_file: /etc/ca.pem}\n" TAIL,
                                       &t);
    const struct cfg_credentials *c = cfg->backends[0].credentials;

    cr_assert_str_eq(c->renew.role_arn, ROLE);
    cr_assert_str_eq(c->renew.role_session_name, "gw@pod-1");
    cr_assert_eq(c->renew.duration_s, 7200);
    cr_assert_str_eq(c->renew.policy, "{}");
    cr_assert_str_eq(c->renew.sts_url, "https://sts-vpc.cn-hangzhou.aliyuncs.com");
    cr_assert_str_eq(c->renew.ca_file, "/etc/ca.pem");
    cfg_free(cfg);
}

Test(cfg_cred, oidc_errors)
{
    struct env_table t = {.n = 0};
    expect_error("credentials:\n  default: {from: oidc}\n" TAIL, &t, CFG_ERR_CREDENTIALS,
                 "t.yaml:2:3: credentials.default: no role_arn key, and environment variable ALIBABA_CLOUD_ROLE_ARN is not set");
    env_set(&t, "ALIBABA_CLOUD_ROLE_ARN", "acs:ram::12:user/x");
    expect_error("credentials:\n  default: {from: oidc}\n" TAIL, &t, CFG_ERR_CREDENTIALS,
                 "t.yaml:2:3: credentials.default: environment variable ALIBABA_CLOUD_ROLE_ARN (for role_arn) is not a RAM "
                 "role ARN like acs:ram::123456789012:role/name");
    t.n = 0;
    env_set(&t, "ALIBABA_CLOUD_ROLE_ARN", ROLE);
    expect_error("credentials:\n  default: {from: oidc}\n" TAIL, &t, CFG_ERR_CREDENTIALS,
                 "t.yaml:2:3: credentials.default: no oidc_provider_arn key, and environment variable "
                 "ALIBABA_CLOUD_OIDC_PROVIDER_ARN is not set");
    env_set(&t, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", PROVIDER);
    expect_error("credentials:\n  default: {from: oidc}\n" TAIL, &t, CFG_ERR_CREDENTIALS,
                 "t.yaml:2:3: credentials.default: no oidc_token_file key, and environment variable "
                 "ALIBABA_CLOUD_OIDC_TOKEN_FILE is not set");
    env_set(&t, "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "token");
    expect_error("credentials:\n  default: {from: oidc}\n" TAIL, &t, CFG_ERR_CREDENTIALS,
                 "t.yaml:2:3: credentials.default: environment variable ALIBABA_CLOUD_OIDC_TOKEN_FILE (for "
                 "oidc_token_file) is not an absolute path");
    expect_error("credentials:\n  default: {from: oidc, role_arn: 'acs:ram::1:role'}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:35: credentials.default.role_arn: acs:ram::1:role is not a RAM role ARN like "
                 "acs:ram::123456789012:role/name");
    expect_error("credentials:\n  default: {from: oidc, oidc_provider_arn: '" ROLE "'}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:44: credentials.default.oidc_provider_arn: " ROLE
                 " is not an OIDC provider ARN like acs:ram::123456789012:oidc-provider/name");
    expect_error("credentials:\n  default: {from: oidc, duration: 10m}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:35: credentials.default.duration: 10m is outside 15m..12h");
    expect_error("credentials:\n  default: {from: oidc, role_session_name: 'a b'}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:44: credentials.default.role_session_name: a b is not a session name (2..64 of A-Z a-z 0-9 "
                 ". @ _ -)");
    expect_error("credentials:\n  default: {from: oidc, sts_endpoint: 'http://sts.aliyuncs.com'}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:39: credentials.default.sts_endpoint: http://sts.aliyuncs.com must use https: STS requests "
                 "carry credentials");
    expect_error("credentials:\n  default: {from: oidc, sts_endpoint: 'https://sts.aliyuncs.com/x'}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:39: credentials.default.sts_endpoint: https://sts.aliyuncs.com/x is not host[:port] or "
                 "https://host[:port], like sts.aliyuncs.com");
    expect_error("credentials:\n  default: {from: oidc, external_id: abc}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:25: credentials.default: key 'external_id' does not go with from: oidc");
}

Test(cfg_cred, assume_role_bases_first)
{
    struct env_table t;
    oss_env(&t);
    struct cfg_config *cfg = expect_ok(
        "credentials:\n  default: {from: assume_role, role_arn: '" ROLE
        "', base: mid, external_id: ext-1}\n  mid: {from: assume_role, role_arn: '" ROLE
        "', base: root, sts_endpoint: 'https://127.0.0.1:8443/'}\n  root: {from: env}\n  unused: {from: ecs_ram_role}\n" TAIL,
        &t);

    cr_assert_eq(cfg->n_credentials, 3);
    cr_assert_str_eq(cfg->credentials[0].name, "root");
    cr_assert_str_eq(cfg->credentials[1].name, "mid");
    cr_assert_str_eq(cfg->credentials[2].name, "default");
    cr_assert_eq(cfg->credentials[0].source, CFG_CRED_STATIC);
    cr_assert_str_eq(cfg->credentials[0].access_key_id, "oss-id");
    cr_assert_eq(cfg->credentials[1].renew.base, &cfg->credentials[0]);
    cr_assert_str_eq(cfg->credentials[1].renew.sts_url, "https://127.0.0.1:8443");
    cr_assert_eq(cfg->credentials[2].renew.base, &cfg->credentials[1]);
    cr_assert_str_eq(cfg->credentials[2].renew.external_id, "ext-1");
    cr_assert_eq(cfg->backends[0].credentials, &cfg->credentials[2]);
    cfg_free(cfg);
}

Test(cfg_cred, assume_role_errors)
{
    struct env_table t;
    oss_env(&t);
    expect_error("credentials:\n  default: {from: assume_role, base: root}\n  root: {from: env}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:3: credentials.default: missing key 'role_arn' (from: assume_role)");
    expect_error("credentials:\n  default: {from: assume_role, role_arn: '" ROLE "'}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:3: credentials.default: missing key 'base' (from: assume_role)");
    expect_error("credentials:\n  default: {from: assume_role, role_arn: '" ROLE "', base: default}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:81: credentials.default.base: a set cannot be its own base");
    expect_error("credentials:\n  default: {from: assume_role, role_arn: '" ROLE "', base: nowhere}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:81: credentials.default.base: no credential set named 'nowhere'");
    expect_error("credentials:\n  default: {from: assume_role, role_arn: '" ROLE
                 "', base: a}\n  a: {from: assume_role, role_arn: '" ROLE "', base: default}\n" TAIL,
                 &t, CFG_ERR_SCHEMA, "t.yaml:2:81: credentials.default.base: the chain of bases comes back to 'default'");
    expect_error("credentials:\n  default: {from: assume_role, role_arn: '" ROLE
                 "', base: root, url: 'http://x/'}\n  root: {from: env}\n" TAIL,
                 &t, CFG_ERR_SCHEMA, "t.yaml:2:87: credentials.default: key 'url' does not go with from: assume_role");
}

Test(cfg_cred, uri_and_common_errors)
{
    struct env_table t = {.n = 0};
    expect_error("credentials:\n  default: {from: uri}\n" TAIL, &t, CFG_ERR_CREDENTIALS,
                 "t.yaml:2:3: credentials.default: no url key, and environment variable ALIBABA_CLOUD_CREDENTIALS_URI is not set");
    env_set(&t, "ALIBABA_CLOUD_CREDENTIALS_URI", "ftp://x/");
    expect_error("credentials:\n  default: {from: uri}\n" TAIL, &t, CFG_ERR_CREDENTIALS,
                 "t.yaml:2:3: credentials.default: environment variable ALIBABA_CLOUD_CREDENTIALS_URI (for url) is not an "
                 "http:// or https:// URL");
    t.n = 0;
    env_set(&t, "ALIBABA_CLOUD_CREDENTIALS_URI", "http://127.0.0.1:8000/creds");
    struct cfg_config *cfg = expect_ok("credentials:\n  default: {from: uri}\n" TAIL, &t);
    cr_assert_eq(cfg->credentials[0].source, CFG_CRED_URI);
    cr_assert_str_eq(cfg->credentials[0].renew.url, "http://127.0.0.1:8000/creds");
    cfg_free(cfg);
    expect_error("credentials:\n  default: {from: uri, url: 'http://user@host/x'}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:29: credentials.default.url: http://user@host/x must not carry a user name or password");
    expect_error("credentials:\n  default: {from: uri, url: 'http://127.0.0.1:/x'}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:29: credentials.default.url: http://127.0.0.1:/x has a port that is not 1..65535");
    expect_error("credentials:\n  default: {from: uri, url: 'http://[::1:80/'}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:29: credentials.default.url: http://[::1:80/ has an IPv6 address without its closing ]");
    expect_error("credentials:\n  default: {from: uri, url: 'https:///x'}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:29: credentials.default.url: https:///x has no host");
    expect_error("credentials:\n  default: {from: ecs_ram_role, metadata_url: '100.100.100.200'}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:47: credentials.default.metadata_url: 100.100.100.200 is not an http:// or https:// URL");
    expect_error("credentials:\n  default: {from: ecs_ram_role, role_name: 'a/b'}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:44: credentials.default.role_name: a/b is not a RAM role name (1..64 of A-Z a-z 0-9 . _ -)");
    expect_error("credentials:\n  default: {from: ecs_ram_role, ca_file: ca.pem}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:42: credentials.default.ca_file: must be an absolute path");
    expect_error("credentials:\n  default: {from: ecs_ram_role, startup_timeout: 500ms}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:50: credentials.default.startup_timeout: 500ms is outside 1s..10m");
    expect_error("credentials:\n  default: {from: env, startup_timeout: 5s}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:24: credentials.default: key 'startup_timeout' does not go with from: env");
    expect_error("credentials:\n  default: {from: files, ca_file: /x}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:26: credentials.default: key 'ca_file' does not go with from: files");
    expect_error("startup_timeout: 11m\ncredentials:\n  default: {from: ecs_ram_role}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:1:18: startup_timeout: 11m is outside 1s..10m");
    expect_error("credentials:\n  default: {from: ecs_ram_role, disable_imds_v1: yes}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:50: credentials.default.disable_imds_v1: yes is not true or false");
    expect_error("credentials:\n  default: {from: nope}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:19: credentials.default.from: nope is not env, files, inline, ecs_ram_role, oidc, "
                 "assume_role or uri");
}

/* watch: true keeps the directory for the gateway's watcher, and cfg_cred_read_files re-reads it as loading does. */
Test(cfg_cred, files_watch_and_reread)
{
    char tmpl[] = "/tmp/cfg-cred-XXXXXX";
    char *dir = make_dir(tmpl);
    char yaml[512];
    struct env_table t = {.n = 0};
    struct cfg_error err;
    struct cfg_credentials c;

    write_file(dir, "access_key_id", "file-id", 0600);
    write_file(dir, "access_key_secret", SECRET, 0600);
    int w = snprintf(yaml, sizeof(yaml), "credentials:\n  default: {from: files, dir: '%s', watch: true}\n" TAIL, dir);
    cr_assert(w > 0 && (size_t)w < sizeof(yaml));
    struct cfg_config *cfg = expect_ok(yaml, &t);
    cr_assert(cfg->credentials[0].renew.watch);
    cr_assert_str_eq(cfg->credentials[0].renew.dir, dir);
    cfg_free(cfg);
    files_yaml(yaml, sizeof(yaml), dir);
    cfg = expect_ok(yaml, &t);
    cr_assert(!cfg->credentials[0].renew.watch);
    cr_assert(cfg->credentials[0].renew.dir == NULL);
    cfg_free(cfg);

    write_file(dir, "access_key_id", "new-id\n", 0600);
    write_file(dir, "security_token", "new-token", 0600);
    cr_assert_eq(cfg_cred_read_files(&c, "default", dir, &err), CFG_OK, "%s", err.msg);
    cr_assert_str_eq(c.access_key_id, "new-id");
    cr_assert_str_eq(c.security_token, "new-token");
    assert_secret(&c, SECRET);
    cfg_credentials_cleanup(&c);
    write_file(dir, "access_key_secret", "", 0600);
    cr_assert_eq(cfg_cred_read_files(&c, "default", dir, &err), CFG_ERR_CREDENTIALS);
    char want[600];
    w = snprintf(want, sizeof(want), "%s: credentials.default: %s/access_key_secret is empty", dir, dir);
    cr_assert(w > 0 && (size_t)w < sizeof(want));
    cr_assert_str_eq(err.msg, want);
    cr_assert(c.access_key_id == NULL);
    expect_error("credentials:\n  default: {from: env, watch: true}\n" TAIL, &t, CFG_ERR_SCHEMA,
                 "t.yaml:2:24: credentials.default: key 'watch' does not go with from: env");
    remove_dir(dir);
}
