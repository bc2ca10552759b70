/* test_cfg_tls.c: `listen` entries as mappings with `tls: {certificates: [...]}`: the forms, and each error with its
 * exact `file:line:col: message`. conf/ checks paths and modes only; the PEM is the gateway's (tests/tls). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "cfg.h"

#define NAME "t.yaml"
#define TAIL                                                                                                                       \
    "credentials:\n  default: {from: env}\nbackends:\n  b: {region: cn-hangzhou, bucket: my-bucket}\nroutes:\n  - {prefix: "       \
    "/files/, backend: b}\n"

struct env_table {
    const char *creds_dir;
};

static const char *fake_getenv(void *ctx, const char *name)
{
    const struct env_table *t = ctx;
    if (strcmp(name, "OSS_ACCESS_KEY_ID") == 0) {
        return "id";
    }
    if (strcmp(name, "OSS_ACCESS_KEY_SECRET") == 0) {
        return "secret";
    }
    if (strcmp(name, "CREDENTIALS_DIRECTORY") == 0) {
        return t->creds_dir;
    }
    return NULL;
}

static char dir[64];
static char crt[128], key[128], key_open[128], sub[128], sub_key[128];
static struct env_table env_tab;
static struct cfg_env env = {fake_getenv, &env_tab};

static void touch(const char *path, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    cr_assert(fd >= 0, "open %s", path);
    cr_assert_eq(write(fd, "x\n", 2), 2);
    cr_assert_eq(fchmod(fd, mode), 0);
    cr_assert_eq(close(fd), 0);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/cfgtls.XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(crt, sizeof(crt), "%s/a.crt", dir);
    snprintf(key, sizeof(key), "%s/a.key", dir);
    snprintf(key_open, sizeof(key_open), "%s/open.key", dir);
    snprintf(sub, sizeof(sub), "%s/creds", dir);
    snprintf(sub_key, sizeof(sub_key), "%s/creds/b.key", dir);
    touch(crt, 0644);
    touch(key, 0600);
    touch(key_open, 0644);
    cr_assert_eq(mkdir(sub, 0700), 0);
    touch(sub_key, 0640);
    env_tab.creds_dir = NULL;
}

static void teardown(void)
{
    unlink(crt);
    unlink(key);
    unlink(key_open);
    unlink(sub_key);
    rmdir(sub);
    rmdir(dir);
}

TestSuite(cfg_tls, .init = setup, .fini = teardown);

/* Builds "listen:\n<entries>" TAIL with %s placeholders filled by the test's paths. */
static enum cfg_status load(const char *listen_yaml, struct cfg_config **cfg, struct cfg_error *err)
{
    char yaml[2048];
    int n = snprintf(yaml, sizeof(yaml), "listen:\n%s%s", listen_yaml, TAIL);
    cr_assert(n > 0 && (size_t)n < sizeof(yaml));
    return cfg_load_buffer(cfg, NAME, yaml, (size_t)n, &env, err);
}

static void expect_error(const char *listen_yaml, enum cfg_status want, const char *msg)
{
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    cr_assert_eq(load(listen_yaml, &cfg, &err), want, "%s", err.msg);
    cr_assert_null(cfg);
    cr_assert_str_eq(err.msg, msg);
}

Test(cfg_tls, plain_and_tls_entries)
{
    char y[1024];
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    snprintf(y, sizeof(y),
             "  - \"127.0.0.1:8080\"\n"
             "  - {address: \"[::]:443\", tls: {certificates: [{cert: %s, key: %s}, {cert: %s, key: %s}]}}\n"
             "  - {address: \"127.0.0.1:8081\"}\n",
             crt, key, crt, key);
    cr_assert_eq(load(y, &cfg, &err), CFG_OK, "%s", err.msg);
    cr_assert_eq(cfg->n_listen, 3);
    cr_assert_eq(cfg->listen[0].tls.n_certs, 0);
    cr_assert_str_eq(cfg->listen[1].host, "::");
    cr_assert_eq(cfg->listen[1].port, 443);
    cr_assert(cfg->listen[1].ipv6);
    cr_assert_eq(cfg->listen[1].tls.n_certs, 2);
    cr_assert_str_eq(cfg->listen[1].tls.certs[0].cert, crt);
    cr_assert_str_eq(cfg->listen[1].tls.certs[1].key, key);
    cr_assert_eq(cfg->listen[2].tls.n_certs, 0);
    cr_assert_eq(cfg->listen[2].port, 8081);
    cfg_free(cfg);
}

Test(cfg_tls, one_mapping_without_sequence)
{
    char y[512];
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    snprintf(y, sizeof(y), "  {address: \"127.0.0.1:8443\", tls: {certificates: [{cert: %s, key: %s}]}}\n", crt, key);
    cr_assert_eq(load(y, &cfg, &err), CFG_OK, "%s", err.msg);
    cr_assert_eq(cfg->n_listen, 1);
    cr_assert_eq(cfg->listen[0].tls.n_certs, 1);
    cfg_free(cfg);
}

/* One TLS listener with `key_path` as its key must be refused for the key's mode `mode`. */
static void expect_key_refused(const char *key_path, const char *mode)
{
    char y[512], msg[512];
    snprintf(y, sizeof(y), "  - {address: \"127.0.0.1:8443\", tls: {certificates: [{cert: %s, key: %s}]}}\n", crt, key_path);
    snprintf(msg, sizeof(msg),
             "t.yaml:2:%zu: listen[0].tls.certificates[0].key: private key %s has mode %s, readable by group or others "
             "(chmod 600 it, or load it with systemd LoadCredential=)",
             (size_t)(61 + strlen(crt) + 7), key_path, mode);
    expect_error(y, CFG_ERR_CREDENTIALS, msg);
}

Test(cfg_tls, key_readable_by_others_is_refused)
{
    expect_key_refused(key_open, "0644");
}

Test(cfg_tls, key_in_credentials_directory_is_accepted)
{
    char y[512], up[192];
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    expect_key_refused(sub_key, "0640"); /* without $CREDENTIALS_DIRECTORY */
    env_tab.creds_dir = sub;
    snprintf(y, sizeof(y), "  - {address: \"127.0.0.1:8443\", tls: {certificates: [{cert: %s, key: %s}]}}\n", crt, sub_key);
    cr_assert_eq(load(y, &cfg, &err), CFG_OK, "%s", err.msg);
    cfg_free(cfg);
    snprintf(up, sizeof(up), "%s/../open.key", sub); /* a path that leaves the directory with .. is not in it */
    expect_key_refused(up, "0644");
}

Test(cfg_tls, missing_files)
{
    char y[512], msg[512];
    snprintf(y, sizeof(y), "  - {address: \"127.0.0.1:8443\", tls: {certificates: [{cert: %s/none.crt, key: %s}]}}\n", dir, key);
    snprintf(msg, sizeof(msg),
             "t.yaml:2:61: listen[0].tls.certificates[0].cert: cannot open %s/none.crt: No such file or directory", dir);
    expect_error(y, CFG_ERR_IO, msg);
    snprintf(y, sizeof(y), "  - {address: \"127.0.0.1:8443\", tls: {certificates: [{cert: %s, key: %s}]}}\n", crt, dir);
    snprintf(msg, sizeof(msg), "t.yaml:2:%zu: listen[0].tls.certificates[0].key: %s is not a regular file",
             (size_t)(61 + strlen(crt) + 7), dir);
    expect_error(y, CFG_ERR_IO, msg);
}

Test(cfg_tls, schema_errors)
{
    expect_error("  - {address: \"127.0.0.1:8443\", tls: {certificates: [{cert: a.crt, key: /k}]}}\n", CFG_ERR_SCHEMA,
                 "t.yaml:2:61: listen[0].tls.certificates[0].cert: a.crt is not an absolute path");
    expect_error("  - {address: \"127.0.0.1:8443\", tls: {certificates: []}}\n", CFG_ERR_SCHEMA,
                 "t.yaml:2:53: listen[0].tls.certificates: needs at least one certificate");
    expect_error("  - {address: \"127.0.0.1:8443\", tls: {}}\n", CFG_ERR_SCHEMA,
                 "t.yaml:2:38: listen[0].tls: missing key 'certificates'");
    expect_error("  - {tls: {certificates: [{cert: /a, key: /b}]}}\n", CFG_ERR_SCHEMA,
                 "t.yaml:2:5: listen[0]: missing key 'address'");
    expect_error("  - {address: \"127.0.0.1:8443\", redirect_to_https: true}\n", CFG_ERR_SCHEMA,
                 "t.yaml:2:33: listen[0]: unknown key 'redirect_to_https'");
    expect_error("  - {address: \"127.0.0.1:8443\", tls: {certificates: [{cert: /a}]}}\n", CFG_ERR_SCHEMA,
                 "t.yaml:2:54: listen[0].tls.certificates[0]: missing key 'key'");
    expect_error("  - {address: \"127.0.0.1:8443\", tls: {certificates: [{cert: /a, key: /b}], ocsp: /c}}\n", CFG_ERR_SCHEMA,
                 "t.yaml:2:76: listen[0].tls: unknown key 'ocsp'");
    expect_error("  - \"127.0.0.1:8443\"\n  - {address: \"127.0.0.1:8443\"}\n", CFG_ERR_SCHEMA,
                 "t.yaml:3:15: listen[1]: 127.0.0.1:8443 is listed twice");
    expect_error("  - {address: \"127.0.0.1\"}\n", CFG_ERR_SCHEMA,
                 "t.yaml:2:15: listen[0].address: 127.0.0.1 has no port; write IPv4:port or [IPv6]:port, like 0.0.0.0:8080");
}
