/* test_cfg_engine.c: the row types of cfg_engine.c that the schema does not use yet (a scalar or a mapping, lists of
 * scalars, bools, a selector over nested keys), on a toy schema shaped like the keys planned next. Private headers. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cfg_engine.h"

#define NAME "t.yaml"

struct toy_tls {
    char *cert;
    bool h2;
};

struct toy_listen {
    char *address;
    struct toy_tls tls;
    bool proxy_protocol;
    uint32_t hsts_s;
};

struct toy_source {
    int from;
    char *uri;
    char *role;
    uint32_t duration_s;
};

struct toy {
    struct toy_listen *listen;
    size_t n_listen;
    char **proxies;
    size_t n_proxies;
    struct toy_source *sources;
    size_t n_sources;
    bool strict;
};

static enum cfg_status read_address(struct cfg_read *r, const struct cfg_node *v, const char *path, void *obj)
{
    struct toy_listen *l = obj;
    enum cfg_status st = cfg_want_string(r, v, path, 64);

    if (st != CFG_OK) {
        return st;
    }
    return cfg_strndup(v->value, v->len, &l->address);
}

static const struct cfg_row tls_rows[] = {
    {"cert", CFG_STRING, CFG_REQUIRED, .max = 256, CFG_AT(struct toy_tls, cert)},
    {"h2", CFG_BOOL, .def = "true", CFG_AT(struct toy_tls, h2)},
};
static const struct cfg_table tls_table = {CFG_ROWS(tls_rows)};

static const struct cfg_row listen_rows[] = {
    {"address", CFG_CUSTOM, CFG_REQUIRED, .read = read_address},
    {"tls", CFG_MAP, .sub = &tls_table, CFG_AT(struct toy_listen, tls)},
    {"proxy_protocol", CFG_BOOL, .def = "false", CFG_AT(struct toy_listen, proxy_protocol)},
    {"hsts", CFG_SECONDS, .def = "0s", .max = 365 * 86400, CFG_AT(struct toy_listen, hsts_s)},
};
static const struct cfg_table listen_table = {CFG_ROWS(listen_rows)};
static const struct cfg_row listen_item = {.kind = CFG_SCALAR_OR_MAP, .read = read_address, .sub = &listen_table};
static const struct cfg_row proxy_item = {.kind = CFG_STRING, .max = 64};

static const char *const from_names[] = {"uri", "assume_role", NULL};
static const struct cfg_row source_rows[] = {
    {"from", CFG_ENUM, CFG_REQUIRED, .names = from_names, CFG_AT(struct toy_source, from)},
    {"uri", CFG_STRING, .when = 1u << 0, .max = 256, CFG_AT(struct toy_source, uri)},
    {"role", CFG_STRING, .when = 1u << 1, .max = 256, CFG_AT(struct toy_source, role)},
    {"duration", CFG_SECONDS, .when = 1u << 1, .def = "1h", .min = 900, .max = 43200, CFG_AT(struct toy_source, duration_s)},
};
static const struct cfg_table source_table = {CFG_ROWS(source_rows), .selector = "from"};
static const struct cfg_row source_item = {.kind = CFG_MAP, .sub = &source_table};

static const struct cfg_row toy_rows[] = {
    {"listen", CFG_LIST, CFG_ONE_OR_LIST | CFG_REQUIRED, .item = &listen_item, .item_size = sizeof(struct toy_listen),
     CFG_AT(struct toy, listen), .count_at = offsetof(struct toy, n_listen), .min = 1, .max = 4, .noun = "address",
     .nouns = "addresses"},
    {"trusted_proxies", CFG_LIST, .item = &proxy_item, .item_size = sizeof(char *), CFG_AT(struct toy, proxies),
     .count_at = offsetof(struct toy, n_proxies), .min = 0, .max = 3, .noun = "proxy", .nouns = "proxies"},
    {"sources", CFG_NAMED, .item = &source_item, .item_size = sizeof(struct toy_source), CFG_AT(struct toy, sources),
     .count_at = offsetof(struct toy, n_sources), .max = 8, .noun = "source"},
    {"strict", CFG_BOOL, .def = "true", CFG_AT(struct toy, strict)},
};
static const struct cfg_table toy_table = {CFG_ROWS(toy_rows)};

static void toy_free(struct toy *t)
{
    for (size_t i = 0; i < t->n_listen; i++) {
        free(t->listen[i].address);
        free(t->listen[i].tls.cert);
    }
    free(t->listen);
    for (size_t i = 0; i < t->n_proxies; i++) {
        free(t->proxies[i]);
    }
    free(t->proxies);
    for (size_t i = 0; i < t->n_sources; i++) {
        free(t->sources[i].uri);
        free(t->sources[i].role);
    }
    free(t->sources);
}

/* Reads `yaml` into `t` (zeroed first); the message is left in `err`. */
static enum cfg_status toy_read(const char *yaml, struct toy *t, struct cfg_error *err)
{
    struct cfg_source src = {.name = NAME};
    struct cfg_read r = {.src = &src, .err = err};
    struct cfg_node *root = NULL;
    enum cfg_status st = cfg_parse_tree(&root, NAME, yaml, strlen(yaml), err);

    memset(t, 0, sizeof(*t));
    err->msg[0] = '\0';
    if (st == CFG_OK) {
        st = cfg_read_table(&r, &toy_table, t, root, root, "", 0);
    }
    cfg_node_free(root);
    return st;
}

static void expect_error(const char *yaml, const char *msg)
{
    struct toy t;
    struct cfg_error err;

    cr_assert_eq(toy_read(yaml, &t, &err), CFG_ERR_SCHEMA, "accepted: %s", yaml);
    cr_assert_str_eq(err.msg, msg);
    toy_free(&t);
}

Test(cfg_engine, scalar_or_mapping_items)
{
    struct toy t;
    struct cfg_error err;

    cr_assert_eq(toy_read("listen:\n"
                          "  - 0.0.0.0:80\n"
                          "  - {address: '[::]:443', tls: {cert: /etc/c.pem}, proxy_protocol: true, hsts: 180d}\n",
                          &t, &err),
                 CFG_OK, "%s", err.msg);
    cr_assert_eq(t.n_listen, 2);
    cr_assert_str_eq(t.listen[0].address, "0.0.0.0:80");
    cr_assert(t.listen[0].tls.cert == NULL);
    cr_assert(!t.listen[0].proxy_protocol);
    cr_assert_str_eq(t.listen[1].address, "[::]:443");
    cr_assert_str_eq(t.listen[1].tls.cert, "/etc/c.pem");
    cr_assert(t.listen[1].tls.h2); /* a default inside a nested mapping */
    cr_assert(t.listen[1].proxy_protocol);
    cr_assert_eq(t.listen[1].hsts_s, 180 * 86400);
    cr_assert(t.strict);
    toy_free(&t);
}

Test(cfg_engine, one_item_without_a_sequence)
{
    struct toy t;
    struct cfg_error err;

    cr_assert_eq(toy_read("listen: {address: 127.0.0.1:8443, tls: {cert: c, h2: false}}\nstrict: false\n", &t, &err), CFG_OK, "%s",
                 err.msg);
    cr_assert_eq(t.n_listen, 1);
    cr_assert_str_eq(t.listen[0].address, "127.0.0.1:8443");
    cr_assert(!t.listen[0].tls.h2);
    cr_assert(!t.strict);
    toy_free(&t);
}

Test(cfg_engine, nested_errors_name_the_path)
{
    expect_error("listen: [a, {tls: {cert: c}}]\n", "t.yaml:1:13: listen[1]: missing key 'address'");
    expect_error("listen: [{address: a, tls: {cert: c, key: k}}]\n", "t.yaml:1:38: listen[0].tls: unknown key 'key'");
    expect_error("listen: [{address: a, proxy_protocol: yes}]\n",
                 "t.yaml:1:39: listen[0].proxy_protocol: yes is not true or false");
    expect_error("listen: {address: a, hsts: 2y}\n",
                 "t.yaml:1:28: listen.hsts: 2y is not a duration (like 500ms, 90s, 15m, 2h or 7d)");
    expect_error("listen: [[a]]\n", "t.yaml:1:10: listen[0]: expected a scalar, got a sequence");
    expect_error("listen: ~\n", "t.yaml:1:9: listen: missing value");
    expect_error("listen: [a, b, c, d, e]\n", "t.yaml:1:22: listen: more than 4 addresses");
}

Test(cfg_engine, lists_of_scalars)
{
    struct toy t;
    struct cfg_error err;

    cr_assert_eq(toy_read("listen: a\ntrusted_proxies: [10.0.0.0/8, 192.168.0.1]\n", &t, &err), CFG_OK, "%s", err.msg);
    cr_assert_eq(t.n_proxies, 2);
    cr_assert_str_eq(t.proxies[0], "10.0.0.0/8");
    cr_assert_str_eq(t.proxies[1], "192.168.0.1");
    toy_free(&t);
    cr_assert_eq(toy_read("listen: a\ntrusted_proxies: []\n", &t, &err), CFG_OK, "%s", err.msg);
    cr_assert_eq(t.n_proxies, 0);
    toy_free(&t);
    expect_error("listen: a\ntrusted_proxies: [x, {a: b}]\n", "t.yaml:2:22: trusted_proxies[1]: expected a scalar, got a mapping");
    expect_error("listen: a\ntrusted_proxies: x\n", "t.yaml:2:18: trusted_proxies: expected a sequence, got a scalar");
}

Test(cfg_engine, selector_decides_the_keys)
{
    struct toy t;
    struct cfg_error err;

    cr_assert_eq(toy_read("listen: a\nsources:\n  web: {from: uri, uri: 'http://169.254.170.2/creds'}\n"
                          "  sts: {from: assume_role, role: 'acs:ram::1:role/r'}\n",
                          &t, &err),
                 CFG_OK, "%s", err.msg);
    cr_assert_eq(t.n_sources, 2);
    cr_assert_eq(t.sources[0].from, 0);
    cr_assert_str_eq(t.sources[0].uri, "http://169.254.170.2/creds");
    cr_assert_eq(t.sources[1].from, 1);
    cr_assert_eq(t.sources[1].duration_s, 3600);
    toy_free(&t);
    expect_error("listen: a\nsources:\n  web: {from: uri, role: r}\n",
                 "t.yaml:3:20: sources.web: key 'role' does not go with from: uri");
    expect_error("listen: a\nsources:\n  web: {uri: u}\n", "t.yaml:3:3: sources.web: missing key 'from' (uri or assume_role)");
    expect_error("listen: a\nsources:\n  sts: {from: assume_role, duration: 5m}\n",
                 "t.yaml:3:38: sources.sts.duration: 5m is outside 15m..12h");
}

Test(cfg_engine, top_level_rules)
{
    expect_error("strict: true\n", "t.yaml:1:1: missing key 'listen'");
    expect_error("listen: a\nlisten: b\n", "t.yaml:2:1: duplicate key 'listen' (first at line 1)");
    expect_error("- a\n", "t.yaml:1:1: top level: expected a mapping, got a sequence");
}
