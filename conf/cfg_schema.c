/* cfg_schema.c: the schema. Checks the node tree and builds the config: defaults first, then each key, then the
 * checks across fields (nginx's merge_conf order), and credentials last so that no secret is read for a config that
 * is wrong anyway. */
#include "cfg.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_internal.h"

#define PATH_CAP 160 /* "backends.<64-byte name>.credentials" and the like */

struct backend_nodes {
    const struct cfg_node *name;
    const struct cfg_node *credentials; /* value, or NULL for the default set */
    size_t spec;                        /* index into ctx.specs */
};

struct route_nodes {
    const struct cfg_node *prefix;
    const struct cfg_node *backend;
    const struct cfg_node *sign_window;
    const struct cfg_node *cache;
};

struct ctx {
    const struct cfg_source *src;
    const struct cfg_env *env;
    struct cfg_error *err;
    struct cfg_config *cfg;
    struct cfg_cred_spec *specs;
    size_t n_specs;
    struct backend_nodes *bnodes;
    struct route_nodes *rnodes;
    const struct cfg_node *health; /* value nodes, NULL when absent */
    const struct cfg_node *metrics;
};

/* One key of a fixed-schema mapping and, after walk_map, where it was found. */
struct field {
    const char *key;
    const struct cfg_node *k;
    const struct cfg_node *v;
};

static enum cfg_status fail(struct ctx *c, enum cfg_status st, const struct cfg_node *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum cfg_status fail(struct ctx *c, enum cfg_status st, const struct cfg_node *at, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cfg_error_vset(c->err, c->src->name, at != NULL ? at->line : 1, at != NULL ? at->col : 1, fmt, ap);
    va_end(ap);
    return st;
}

/* A value as a message shows it: cut to 60 bytes. Never used on credential values. */
static const char *shown(const struct cfg_node *n, char *buf, size_t cap)
{
    if (n->len < cap) {
        return n->value;
    }
    int w = snprintf(buf, cap, "%.*s...", (int)(cap - 4), n->value);
    return w < 0 ? "?" : buf;
}
#define SHOW_CAP 64
#define SHOW(n) shown((n), show_buf, sizeof(show_buf))

static const char *kind(const struct cfg_node *n)
{
    switch (n->type) {
    case CFG_NODE_MAP:
        return "a mapping";
    case CFG_NODE_SEQ:
        return "a sequence";
    case CFG_NODE_SCALAR:
        break;
    }
    return "a scalar";
}

/* Writes "where.key" (or "key" at the top) into `out`; names are at most CFG_MAX_NAME bytes, so it fits. */
static const char *join(char *out, size_t cap, const char *where, const char *key)
{
    int w = where[0] != '\0' ? snprintf(out, cap, "%s.%s", where, key) : snprintf(out, cap, "%s", key);

    if (w < 0 || (size_t)w >= cap) {
        return where;
    }
    return out;
}

static bool is_null(const struct cfg_node *n)
{
    if (n->type != CFG_NODE_SCALAR || !n->plain) {
        return false;
    }
    return n->len == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 || strcmp(n->value, "Null") == 0 ||
           strcmp(n->value, "NULL") == 0;
}

static enum cfg_status walk_map(struct ctx *c, const struct cfg_node *map, const char *where, struct field *fields, size_t n_fields)
{
    char show_buf[SHOW_CAP];

    if (map->type != CFG_NODE_MAP) {
        return fail(c, CFG_ERR_SCHEMA, map, "%s: expected a mapping, got %s", where[0] != '\0' ? where : "top level",
                    is_null(map) ? "nothing" : kind(map));
    }
    for (size_t i = 0; i + 1 < map->n_items; i += 2) {
        const struct cfg_node *k = map->items[i];
        size_t j = 0;
        if (k->type != CFG_NODE_SCALAR) {
            return fail(c, CFG_ERR_SCHEMA, k, "%s%skeys must be scalars, not %s", where, where[0] != '\0' ? ": " : "", kind(k));
        }
        while (j < n_fields && strcmp(fields[j].key, k->value) != 0) {
            j++;
        }
        if (j == n_fields) {
            return fail(c, CFG_ERR_SCHEMA, k, "%s%sunknown key '%s'", where, where[0] != '\0' ? ": " : "", SHOW(k));
        }
        if (fields[j].k != NULL) {
            return fail(c, CFG_ERR_SCHEMA, k, "%s%sduplicate key '%s' (first at line %zu)", where, where[0] != '\0' ? ": " : "",
                        k->value, fields[j].k->line);
        }
        fields[j].k = k;
        fields[j].v = map->items[i + 1];
    }
    return CFG_OK;
}

/* A mapping of names (credential sets, backends): at most `max`, unique names of [A-Za-z0-9_-]. */
static enum cfg_status walk_named(struct ctx *c, const struct cfg_node *map, const char *where, size_t max)
{
    char show_buf[SHOW_CAP];

    if (map->type != CFG_NODE_MAP) {
        return fail(c, CFG_ERR_SCHEMA, map, "%s: expected a mapping of names, got %s", where, is_null(map) ? "nothing" : kind(map));
    }
    for (size_t i = 0; i + 1 < map->n_items; i += 2) {
        const struct cfg_node *k = map->items[i];
        if (i / 2 >= max) {
            return fail(c, CFG_ERR_SCHEMA, k, "%s: more than %zu entries", where, max);
        }
        if (k->type != CFG_NODE_SCALAR) {
            return fail(c, CFG_ERR_SCHEMA, k, "%s: keys must be scalars, not %s", where, kind(k));
        }
        bool ok = k->len > 0 && k->len <= CFG_MAX_NAME;
        for (size_t j = 0; ok && j < k->len; j++) {
            char ch = k->value[j];
            ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
        }
        if (!ok) {
            return fail(c, CFG_ERR_SCHEMA, k, "%s: '%s' is not a name (1 to %d of A-Z, a-z, 0-9, '-', '_')", where, SHOW(k),
                        CFG_MAX_NAME);
        }
        for (size_t j = 0; j < i; j += 2) {
            if (strcmp(map->items[j]->value, k->value) == 0) {
                return fail(c, CFG_ERR_SCHEMA, k, "%s: duplicate key '%s' (first at line %zu)", where, k->value,
                            map->items[j]->line);
            }
        }
    }
    return CFG_OK;
}

static enum cfg_status want_scalar(struct ctx *c, const struct cfg_node *v, const char *path)
{
    if (v->type != CFG_NODE_SCALAR) {
        return fail(c, CFG_ERR_SCHEMA, v, "%s: expected a scalar, got %s", path, kind(v));
    }
    return CFG_OK;
}

/* A string value: a scalar, not null, at most `max` bytes, no control byte. Borrowed from the tree. */
static enum cfg_status want_string(struct ctx *c, const struct cfg_node *v, const char *path, size_t max)
{
    enum cfg_status st = want_scalar(c, v, path);

    if (st != CFG_OK) {
        return st;
    }
    if (is_null(v)) {
        return fail(c, CFG_ERR_SCHEMA, v, "%s: missing value", path);
    }
    if (v->len > max) {
        return fail(c, CFG_ERR_SCHEMA, v, "%s: longer than %zu bytes", path, max);
    }
    if (cfg_has_ctl(v->value, v->len)) {
        return fail(c, CFG_ERR_SCHEMA, v, "%s: contains a control character", path);
    }
    return CFG_OK;
}

static enum cfg_status get_string(struct ctx *c, const struct cfg_node *v, const char *path, size_t max, char **out)
{
    enum cfg_status st = want_string(c, v, path, max);

    if (st != CFG_OK) {
        return st;
    }
    return cfg_strndup(v->value, v->len, out);
}

static enum cfg_status get_enum(struct ctx *c, const struct cfg_node *v, const char *path, const char *const *names, size_t n_names,
                                size_t *out)
{
    char show_buf[SHOW_CAP];
    char list[256];
    size_t used = 0;
    enum cfg_status st = want_string(c, v, path, CFG_MAX_STRING);

    if (st != CFG_OK) {
        return st;
    }
    for (size_t i = 0; i < n_names; i++) {
        if (strcmp(v->value, names[i]) == 0) {
            *out = i;
            return CFG_OK;
        }
    }
    list[0] = '\0';
    for (size_t i = 0; i < n_names; i++) {
        const char *sep = i == 0 ? "" : (i + 1 == n_names ? " or " : ", ");
        int w = snprintf(list + used, sizeof(list) - used, "%s%s", sep, names[i]);
        if (w < 0 || (size_t)w >= sizeof(list) - used) {
            break;
        }
        used += (size_t)w;
    }
    return fail(c, CFG_ERR_SCHEMA, v, "%s: %s is not %s", path, SHOW(v), list);
}

enum num_kind {
    NUM_PLAIN,  /* a count */
    NUM_SIZE,   /* bytes: 8192, 8k, 1m */
    NUM_MS,     /* a duration, kept in milliseconds */
    NUM_SECONDS /* a duration in whole seconds */
};

static void fmt_num(char *out, size_t cap, enum num_kind k, uint64_t v)
{
    switch (k) {
    case NUM_SIZE:
        cfg_fmt_size(out, cap, v);
        return;
    case NUM_MS:
        cfg_fmt_duration_ms(out, cap, v);
        return;
    case NUM_SECONDS:
        cfg_fmt_duration_ms(out, cap, v * 1000);
        return;
    case NUM_PLAIN:
        break;
    }
    if (snprintf(out, cap, "%llu", (unsigned long long)v) < 0 && cap > 0) {
        out[0] = '\0';
    }
}

/* get_number is the one helper every number goes through: parse by `k`, then check [min, max] in its unit. */
static enum cfg_status get_number(struct ctx *c, const struct cfg_node *v, const char *path, enum num_kind k, uint64_t min,
                                  uint64_t max, uint64_t *out)
{
    char show_buf[SHOW_CAP];
    char lo[32];
    char hi[32];
    uint64_t n = 0;
    enum cfg_status st = want_string(c, v, path, 64);

    if (st != CFG_OK) {
        return st;
    }
    if (k == NUM_PLAIN && !cfg_parse_uint(v->value, v->len, &n)) {
        return fail(c, CFG_ERR_SCHEMA, v, "%s: %s is not a whole number", path, SHOW(v));
    }
    if (k == NUM_SIZE && !cfg_parse_size(v->value, v->len, &n)) {
        return fail(c, CFG_ERR_SCHEMA, v, "%s: %s is not a size (like 8192, 8k or 1m)", path, SHOW(v));
    }
    if (k == NUM_MS || k == NUM_SECONDS) {
        enum cfg_dur_result dr = cfg_parse_duration_ms(v->value, v->len, &n);
        if (dr == CFG_DUR_NO_UNIT) {
            return fail(c, CFG_ERR_SCHEMA, v, "%s: %s has no unit; write a duration like 90s, 15m, 2h or 7d", path, SHOW(v));
        }
        if (dr != CFG_DUR_OK) {
            return fail(c, CFG_ERR_SCHEMA, v, "%s: %s is not a duration (like 500ms, 90s, 15m, 2h or 7d)", path, SHOW(v));
        }
        if (k == NUM_SECONDS) {
            if (n % 1000 != 0) {
                return fail(c, CFG_ERR_SCHEMA, v, "%s: %s is not a whole number of seconds", path, SHOW(v));
            }
            n /= 1000;
        }
    }
    if (n < min || n > max) {
        fmt_num(lo, sizeof(lo), k, min);
        fmt_num(hi, sizeof(hi), k, max);
        return fail(c, CFG_ERR_SCHEMA, v, "%s: %s is outside %s..%s", path, SHOW(v), lo, hi);
    }
    *out = n;
    return CFG_OK;
}

static enum cfg_status get_u32(struct ctx *c, const struct cfg_node *v, const char *path, enum num_kind k, uint64_t min,
                               uint64_t max, uint32_t *out)
{
    uint64_t n = 0;
    enum cfg_status st = get_number(c, v, path, k, min, max > UINT32_MAX ? UINT32_MAX : max, &n);

    if (st == CFG_OK) {
        *out = (uint32_t)n;
    }
    return st;
}

/* listen: "IPv4:port" or "[IPv6]:port", numeric only. */
static enum cfg_status parse_listen(struct ctx *c, const struct cfg_node *v, const char *path, struct cfg_listen *out)
{
    char show_buf[SHOW_CAP];
    char host[64];
    unsigned char addr[16];
    const char *s = v->value;
    const char *colon = NULL;
    size_t host_len = 0;
    uint64_t port = 0;
    enum cfg_status st = want_string(c, v, path, 128);

    if (st != CFG_OK) {
        return st;
    }
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':') {
            return fail(c, CFG_ERR_SCHEMA, v, "%s: %s is not [IPv6]:port, like [::1]:8080", path, SHOW(v));
        }
        host_len = (size_t)(close - s - 1);
        if (host_len == 0 || host_len >= sizeof(host)) {
            return fail(c, CFG_ERR_SCHEMA, v, "%s: %s is not [IPv6]:port, like [::1]:8080", path, SHOW(v));
        }
        memcpy(host, s + 1, host_len);
        colon = close + 1;
        out->ipv6 = true;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            return fail(c, CFG_ERR_SCHEMA, v, "%s: %s has no port; write IPv4:port or [IPv6]:port, like 0.0.0.0:8080", path,
                        SHOW(v));
        }
        host_len = (size_t)(colon - s);
        if (host_len == 0 || host_len >= sizeof(host) || memchr(s, ':', host_len) != NULL) {
            return fail(c, CFG_ERR_SCHEMA, v, "%s: %s is not IPv4:port; write IPv6 as [::1]:8080", path, SHOW(v));
        }
        memcpy(host, s, host_len);
        out->ipv6 = false;
    }
    host[host_len] = '\0';
    if (inet_pton(out->ipv6 ? AF_INET6 : AF_INET, host, addr) != 1) {
        return fail(c, CFG_ERR_SCHEMA, v, "%s: %s is not a numeric %s address", path, host, out->ipv6 ? "IPv6" : "IPv4");
    }
    const char *ps = colon + 1;
    size_t pl = v->len - (size_t)(ps - s);
    if (!cfg_parse_uint(ps, pl, &port) || port > 65535) {
        return fail(c, CFG_ERR_SCHEMA, v, "%s: port '%.*s' is not a number in 0..65535", path, (int)pl, ps);
    }
    out->port = (uint16_t)port;
    return cfg_strndup(host, host_len, &out->host);
}

static enum cfg_status parse_listens(struct ctx *c, const struct cfg_node *v)
{
    struct cfg_config *cfg = c->cfg;
    char path[PATH_CAP];
    size_t n = 1;
    enum cfg_status st;

    if (v == NULL) {
        cfg->listen = calloc(1, sizeof(*cfg->listen));
        if (cfg->listen == NULL) {
            return CFG_ERR_NOMEM;
        }
        cfg->n_listen = 1;
        cfg->listen[0].port = 8080;
        return cfg_strndup("0.0.0.0", 7, &cfg->listen[0].host);
    }
    if (v->type == CFG_NODE_MAP) {
        return fail(c, CFG_ERR_SCHEMA, v, "listen: expected an address or a sequence of addresses, got a mapping");
    }
    if (v->type == CFG_NODE_SEQ) {
        n = v->n_items;
        if (n == 0) {
            return fail(c, CFG_ERR_SCHEMA, v, "listen: needs at least one address");
        }
        if (n > CFG_MAX_LISTEN) {
            return fail(c, CFG_ERR_SCHEMA, v->items[CFG_MAX_LISTEN], "listen: more than %d addresses", CFG_MAX_LISTEN);
        }
    }
    cfg->listen = calloc(n, sizeof(*cfg->listen));
    if (cfg->listen == NULL) {
        return CFG_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct cfg_node *item = v->type == CFG_NODE_SEQ ? v->items[i] : v;
        if (v->type == CFG_NODE_SEQ) {
            if (snprintf(path, sizeof(path), "listen[%zu]", i) < 0) {
                path[0] = '\0';
            }
        } else {
            memcpy(path, "listen", 7);
        }
        st = parse_listen(c, item, path, &cfg->listen[i]);
        cfg->n_listen = i + 1; /* so that cfg_free frees the host */
        if (st != CFG_OK) {
            return st;
        }
        for (size_t j = 0; j < i; j++) {
            if (cfg->listen[j].port == cfg->listen[i].port && cfg->listen[j].ipv6 == cfg->listen[i].ipv6 &&
                strcmp(cfg->listen[j].host, cfg->listen[i].host) == 0) {
                return fail(c, CFG_ERR_SCHEMA, item, "%s: %s is listed twice", path, item->value);
            }
        }
    }
    return CFG_OK;
}

static enum cfg_status parse_workers(struct ctx *c, const struct cfg_node *v)
{
    uint32_t n = 0;
    enum cfg_status st;

    if (v == NULL) {
        return CFG_OK;
    }
    st = want_scalar(c, v, "workers");
    if (st != CFG_OK) {
        return st;
    }
    if (strcmp(v->value, "auto") == 0) {
        c->cfg->workers = 0;
        return CFG_OK;
    }
    if (v->len > 0 && (v->value[0] < '0' || v->value[0] > '9')) {
        char show_buf[SHOW_CAP];
        return fail(c, CFG_ERR_SCHEMA, v, "workers: %s is not auto or a number in 1..%d", SHOW(v), CFG_MAX_WORKERS);
    }
    st = get_u32(c, v, "workers", NUM_PLAIN, 1, CFG_MAX_WORKERS, &n);
    if (st == CFG_OK) {
        c->cfg->workers = n;
    }
    return st;
}

static enum cfg_status parse_limits(struct ctx *c, const struct cfg_node *v)
{
    struct cfg_limits *l = &c->cfg->limits;
    struct field f[] = {
        {.key = "max_connections"},      {.key = "max_connections_per_ip"}, {.key = "header_timeout"}, {.key = "idle_timeout"},
        {.key = "shutdown_timeout"},     {.key = "max_header_bytes"},       {.key = "max_uri_bytes"},  {.key = "max_headers"},
        {.key = "max_requests_per_conn"}};
    struct {
        uint32_t *out;
        enum num_kind kind;
        uint64_t min;
        uint64_t max;
    } spec[] = {
        {&l->max_connections, NUM_PLAIN, 1, 1000000},          {&l->max_connections_per_ip, NUM_PLAIN, 1, 1000000},
        {&l->header_timeout_ms, NUM_MS, 100, 3600000},         {&l->idle_timeout_ms, NUM_MS, 100, 3600000},
        {&l->shutdown_timeout_ms, NUM_MS, 0, 3600000},         {&l->max_header_bytes, NUM_SIZE, 256, 1024 * 1024},
        {&l->max_uri_bytes, NUM_SIZE, 64, 1024 * 1024},        {&l->max_headers, NUM_PLAIN, 1, 10000},
        {&l->max_requests_per_conn, NUM_PLAIN, 1, 1000000000},
    };
    char path[PATH_CAP];
    char a[32];
    char b[32];
    enum cfg_status st;

    if (v == NULL) {
        return CFG_OK;
    }
    st = walk_map(c, v, "limits", f, sizeof(f) / sizeof(f[0]));
    if (st != CFG_OK) {
        return st;
    }
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        if (f[i].v == NULL) {
            continue;
        }
        st = get_u32(c, f[i].v, join(path, sizeof(path), "limits", f[i].key), spec[i].kind, spec[i].min, spec[i].max, spec[i].out);
        if (st != CFG_OK) {
            return st;
        }
    }
    if (l->max_uri_bytes > l->max_header_bytes) {
        cfg_fmt_size(a, sizeof(a), l->max_uri_bytes);
        cfg_fmt_size(b, sizeof(b), l->max_header_bytes);
        return fail(c, CFG_ERR_SCHEMA, f[6].v != NULL ? f[6].v : f[5].v,
                    "limits.max_uri_bytes: %s is larger than limits.max_header_bytes (%s)", a, b);
    }
    return CFG_OK;
}

static enum cfg_status parse_log(struct ctx *c, const struct cfg_node *v)
{
    static const char *const levels[] = {"err", "warning", "notice", "info", "debug"};
    struct field f[] = {{.key = "access"}, {.key = "level"}};
    struct cfg_log *log = &c->cfg->log;
    size_t idx = 0;
    enum cfg_status st;

    if (v == NULL) {
        return CFG_OK;
    }
    st = walk_map(c, v, "log", f, 2);
    if (st != CFG_OK) {
        return st;
    }
    if (f[0].v != NULL) {
        const struct cfg_node *a = f[0].v;
        st = want_string(c, a, "log.access", CFG_MAX_STRING);
        if (st != CFG_OK) {
            return st;
        }
        if (strcmp(a->value, "stdout") == 0) {
            log->access = CFG_ACCESS_STDOUT;
        } else if (strcmp(a->value, "off") == 0) {
            log->access = CFG_ACCESS_OFF;
        } else if (a->value[0] == '/') {
            log->access = CFG_ACCESS_FILE;
            st = cfg_strndup(a->value, a->len, &log->access_path);
            if (st != CFG_OK) {
                return st;
            }
        } else {
            char show_buf[SHOW_CAP];
            return fail(c, CFG_ERR_SCHEMA, a, "log.access: %s is not stdout, off or an absolute path", SHOW(a));
        }
    }
    if (f[1].v != NULL) {
        st = get_enum(c, f[1].v, "log.level", levels, 5, &idx);
        if (st != CFG_OK) {
            return st;
        }
        log->level = (enum cfg_log_level)(CFG_LEVEL_ERR + (int)idx);
    }
    return CFG_OK;
}

/* health: and metrics: a path, or null / off to turn the endpoint off. */
static enum cfg_status parse_special_path(struct ctx *c, const struct cfg_node *v, const char *key, char **out)
{
    char show_buf[SHOW_CAP];
    enum cfg_status st;

    if (v == NULL) {
        return CFG_OK; /* keeps the default */
    }
    free(*out);
    *out = NULL;
    if (v->type == CFG_NODE_SCALAR && (is_null(v) || strcmp(v->value, "off") == 0)) {
        return CFG_OK;
    }
    st = want_string(c, v, key, CFG_MAX_PREFIX);
    if (st != CFG_OK) {
        return st;
    }
    if (!cfg_path_valid(v->value, v->len)) {
        return fail(c, CFG_ERR_SCHEMA, v,
                    "%s: %s is not an absolute URL path (letters, digits, -._~!$&'()*+,;=:@ and '/', no empty, . or "
                    ".. segment), or off",
                    key, SHOW(v));
    }
    return cfg_strndup(v->value, v->len, out);
}

static enum cfg_status parse_cred_set(struct ctx *c, const struct cfg_node *name, const struct cfg_node *v,
                                      struct cfg_cred_spec *spec)
{
    static const char *const froms[] = {"env", "files", "inline"};
    struct field f[] = {{.key = "from"}, {.key = "id_var"},        {.key = "secret_var"},        {.key = "token_var"},
                        {.key = "dir"},  {.key = "access_key_id"}, {.key = "access_key_secret"}, {.key = "security_token"}};
    /* which `from` each key goes with, by index into froms */
    static const int key_from[] = {-1, 0, 0, 0, 1, 2, 2, 2};
    char where[PATH_CAP];
    char path[PATH_CAP];
    size_t from = 0;
    enum cfg_status st;

    join(where, sizeof(where), "credentials", name->value);
    spec->name = name;
    st = walk_map(c, v, where, f, sizeof(f) / sizeof(f[0]));
    if (st != CFG_OK) {
        return st;
    }
    if (f[0].v == NULL) {
        return fail(c, CFG_ERR_SCHEMA, name, "%s: missing key 'from' (env, files or inline)", where);
    }
    st = get_enum(c, f[0].v, join(path, sizeof(path), where, "from"), froms, 3, &from);
    if (st != CFG_OK) {
        return st;
    }
    spec->from = (enum cfg_cred_from)from;
    for (size_t i = 1; i < sizeof(f) / sizeof(f[0]); i++) {
        if (f[i].k != NULL && key_from[i] != (int)from) {
            return fail(c, CFG_ERR_SCHEMA, f[i].k, "%s: key '%s' does not go with from: %s", where, f[i].key, froms[from]);
        }
        /* Values are only type-checked here; cfg_cred_resolve checks their contents without showing them. */
        if (f[i].v != NULL) {
            st = want_scalar(c, f[i].v, join(path, sizeof(path), where, f[i].key));
            if (st != CFG_OK) {
                return st;
            }
        }
    }
    spec->id_var = f[1].v;
    spec->secret_var = f[2].v;
    spec->token_var = f[3].v;
    spec->dir = f[4].v;
    spec->access_key_id = f[5].v;
    spec->access_key_secret = f[6].v;
    spec->security_token = f[7].v;

    if (spec->from == CFG_FROM_ENV) {
        for (size_t i = 1; i <= 3; i++) {
            const struct cfg_node *n = f[i].v;
            bool ok = n != NULL && n->len > 0 && n->len <= CFG_MAX_NAME && !(n->value[0] >= '0' && n->value[0] <= '9');
            for (size_t j = 0; ok && j < n->len; j++) {
                char ch = n->value[j];
                ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
            }
            if (n != NULL && !ok) {
                char show_buf[SHOW_CAP];
                return fail(c, CFG_ERR_SCHEMA, n, "%s: %s is not an environment variable name",
                            join(path, sizeof(path), where, f[i].key), SHOW(n));
            }
        }
        if ((spec->id_var == NULL) != (spec->secret_var == NULL) || (spec->token_var != NULL && spec->id_var == NULL)) {
            return fail(c, CFG_ERR_SCHEMA, name, "%s: id_var and secret_var go together (token_var needs both)", where);
        }
    }
    if (spec->from == CFG_FROM_FILES && spec->dir != NULL) {
        st = want_string(c, spec->dir, join(path, sizeof(path), where, "dir"), CFG_MAX_STRING);
        if (st != CFG_OK) {
            return st;
        }
        if (spec->dir->value[0] != '/') {
            return fail(c, CFG_ERR_SCHEMA, spec->dir, "%s: must be an absolute path", path);
        }
    }
    if (spec->from == CFG_FROM_INLINE) {
        if (!c->src->is_file) {
            return fail(c, CFG_ERR_CREDENTIALS, name,
                        "%s: inline secrets are only accepted by cfg_load_file, from a file that group and others "
                        "cannot read; use from: env or from: files",
                        where);
        }
        if ((c->src->mode & 0044) != 0) {
            return fail(c, CFG_ERR_CREDENTIALS, name,
                        "%s: inline secrets need a config file that group and others cannot read, but %s has mode "
                        "%04o (chmod 600 it, or use from: env or from: files)",
                        where, c->src->name, (unsigned)c->src->mode);
        }
        if (spec->access_key_id == NULL || spec->access_key_secret == NULL) {
            return fail(c, CFG_ERR_SCHEMA, name, "%s: missing key '%s'", where,
                        spec->access_key_id == NULL ? "access_key_id" : "access_key_secret");
        }
    }
    return CFG_OK;
}

static enum cfg_status parse_credentials(struct ctx *c, const struct cfg_node *v)
{
    enum cfg_status st;

    if (v == NULL) {
        return CFG_OK;
    }
    st = walk_named(c, v, "credentials", CFG_MAX_CREDENTIALS);
    if (st != CFG_OK) {
        return st;
    }
    c->specs = calloc(v->n_items / 2 + 1, sizeof(*c->specs));
    if (c->specs == NULL) {
        return CFG_ERR_NOMEM;
    }
    for (size_t i = 0; i + 1 < v->n_items; i += 2) {
        st = parse_cred_set(c, v->items[i], v->items[i + 1], &c->specs[c->n_specs]);
        if (st != CFG_OK) {
            return st;
        }
        c->n_specs++;
    }
    return CFG_OK;
}

static bool is_region(const char *s, size_t len)
{
    if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) {
            return false;
        }
    }
    return true;
}

/* host[:port]: a lowercase DNS name or IPv4 address, or [IPv6]; port 1..65535. */
static bool is_endpoint(const char *s, size_t len)
{
    size_t host_len = len;
    const char *colon = NULL;
    uint64_t port = 0;

    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        char tmp[64];
        unsigned char addr[16];
        size_t hl = close != NULL ? (size_t)(close - s - 1) : 0;
        if (close == NULL || hl == 0 || hl >= sizeof(tmp)) {
            return false;
        }
        memcpy(tmp, s + 1, hl);
        tmp[hl] = '\0';
        if (inet_pton(AF_INET6, tmp, addr) != 1) {
            return false;
        }
        host_len = (size_t)(close - s) + 1;
        if (host_len == len) {
            return true;
        }
        colon = s + host_len;
        if (*colon != ':') {
            return false;
        }
    } else {
        colon = memchr(s, ':', len);
        if (colon != NULL) {
            host_len = (size_t)(colon - s);
        }
        if (host_len == 0 || host_len > CFG_MAX_HOST || s[0] == '.' || s[0] == '-' || s[host_len - 1] == '.' ||
            s[host_len - 1] == '-') {
            return false;
        }
        for (size_t i = 0; i < host_len; i++) {
            char ch = s[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.') ||
                (ch == '.' && s[i + 1] == '.')) {
                return false;
            }
        }
        if (colon == NULL) {
            return true;
        }
    }
    return cfg_parse_uint(colon + 1, len - host_len - 1, &port) && port >= 1 && port <= 65535;
}

static enum cfg_status parse_backend(struct ctx *c, size_t idx, const struct cfg_node *name, const struct cfg_node *v)
{
    static const char *const types[] = {"oss", "oss-v1", "s3"};
    static const char *const addrs[] = {"virtual", "path", "cname"};
    static const char *const schemes[] = {"https", "http"};
    struct field f[] = {{.key = "type"},       {.key = "region"}, {.key = "bucket"},     {.key = "endpoint"},
                        {.key = "addressing"}, {.key = "scheme"}, {.key = "credentials"}};
    struct cfg_backend *b = &c->cfg->backends[idx];
    char where[PATH_CAP];
    char path[PATH_CAP];
    char show_buf[SHOW_CAP];
    size_t e = 0;
    enum cfg_status st;

    join(where, sizeof(where), "backends", name->value);
    c->bnodes[idx].name = name;
    st = cfg_strndup(name->value, name->len, &b->name);
    if (st != CFG_OK) {
        return st;
    }
    st = walk_map(c, v, where, f, sizeof(f) / sizeof(f[0]));
    if (st != CFG_OK) {
        return st;
    }
    if (f[0].v != NULL) {
        st = get_enum(c, f[0].v, join(path, sizeof(path), where, "type"), types, 3, &e);
        if (st != CFG_OK) {
            return st;
        }
        b->type = (enum cfg_backend_type)e;
    }
    bool oss = b->type != CFG_BACKEND_S3;
    if (f[1].v != NULL) {
        const struct cfg_node *r = f[1].v;
        st = want_string(c, r, join(path, sizeof(path), where, "region"), 64);
        if (st != CFG_OK) {
            return st;
        }
        const char *rs = r->value;
        size_t rl = r->len;
        if (oss && rl > 4 && memcmp(rs, "oss-", 4) == 0) {
            rs += 4; /* "oss-cn-hangzhou" names the same region as "cn-hangzhou" */
            rl -= 4;
        }
        if (!is_region(rs, rl)) {
            return fail(c, CFG_ERR_SCHEMA, r, "%s: %s is not a region like %s", path, SHOW(r), oss ? "cn-hangzhou" : "us-east-1");
        }
        st = cfg_strndup(rs, rl, &b->region);
        if (st != CFG_OK) {
            return st;
        }
    }
    if (f[2].v == NULL) {
        return fail(c, CFG_ERR_SCHEMA, name, "%s: missing key 'bucket'", where);
    }
    st = want_string(c, f[2].v, join(path, sizeof(path), where, "bucket"), 64);
    if (st != CFG_OK) {
        return st;
    }
    if (!cfg_bucket_valid(f[2].v->value, f[2].v->len)) {
        return fail(c, CFG_ERR_SCHEMA, f[2].v,
                    "%s: %s is not a valid bucket name (3 to 63 of a-z, 0-9 and '-', not starting or ending with '-')", path,
                    SHOW(f[2].v));
    }
    st = cfg_strndup(f[2].v->value, f[2].v->len, &b->bucket);
    if (st != CFG_OK) {
        return st;
    }
    if (f[4].v != NULL) {
        st = get_enum(c, f[4].v, join(path, sizeof(path), where, "addressing"), addrs, 3, &e);
        if (st != CFG_OK) {
            return st;
        }
        b->addressing = (enum cfg_addressing)e;
    }
    b->https = true;
    if (f[5].v != NULL) {
        st = get_enum(c, f[5].v, join(path, sizeof(path), where, "scheme"), schemes, 2, &e);
        if (st != CFG_OK) {
            return st;
        }
        b->https = e == 0;
    }
    if (f[3].v != NULL) {
        const struct cfg_node *en = f[3].v;
        st = want_string(c, en, join(path, sizeof(path), where, "endpoint"), CFG_MAX_HOST + 8);
        if (st != CFG_OK) {
            return st;
        }
        const char *sep = strstr(en->value, "://");
        if (sep != NULL) {
            return fail(c, CFG_ERR_SCHEMA, en, "%s: %s has a scheme; write the host alone and set scheme: %.*s", path, SHOW(en),
                        (int)(sep - en->value), en->value);
        }
        if (!is_endpoint(en->value, en->len)) {
            return fail(c, CFG_ERR_SCHEMA, en, "%s: %s is not host[:port] (lowercase, no path)", path, SHOW(en));
        }
        st = cfg_strndup(en->value, en->len, &b->endpoint);
        if (st != CFG_OK) {
            return st;
        }
    }
    /* Cross-field checks of the backend. */
    if (b->region == NULL) {
        return fail(c, CFG_ERR_SCHEMA, name, "%s: missing key 'region'", where);
    }
    if (b->addressing == CFG_ADDR_CNAME && b->endpoint == NULL) {
        return fail(c, CFG_ERR_SCHEMA, name, "%s: addressing: cname needs an endpoint (the bucket's own domain)", where);
    }
    if (b->endpoint == NULL) {
        char ep[128];
        int w = oss ? snprintf(ep, sizeof(ep), "oss-%s.aliyuncs.com", b->region)
                    : snprintf(ep, sizeof(ep), "s3.%s.amazonaws.com", b->region);
        if (w < 0 || (size_t)w >= sizeof(ep)) {
            return fail(c, CFG_ERR_SCHEMA, name, "%s: cannot derive an endpoint from the region", where);
        }
        st = cfg_strndup(ep, (size_t)w, &b->endpoint);
        if (st != CFG_OK) {
            return st;
        }
    }
    c->bnodes[idx].credentials = f[6].v;
    if (f[6].v != NULL) {
        st = want_string(c, f[6].v, join(path, sizeof(path), where, "credentials"), CFG_MAX_NAME);
        if (st != CFG_OK) {
            return st;
        }
    }
    return CFG_OK;
}

static enum cfg_status parse_backends(struct ctx *c, const struct cfg_node *v)
{
    size_t n;
    enum cfg_status st;

    if (v == NULL) {
        return CFG_OK;
    }
    st = walk_named(c, v, "backends", CFG_MAX_BACKENDS);
    if (st != CFG_OK) {
        return st;
    }
    n = v->n_items / 2;
    if (n == 0) {
        return fail(c, CFG_ERR_SCHEMA, v, "backends: needs at least one backend");
    }
    c->cfg->backends = calloc(n, sizeof(*c->cfg->backends));
    c->bnodes = calloc(n, sizeof(*c->bnodes));
    if (c->cfg->backends == NULL || c->bnodes == NULL) {
        return CFG_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        c->cfg->n_backends = i + 1;
        st = parse_backend(c, i, v->items[2 * i], v->items[2 * i + 1]);
        if (st != CFG_OK) {
            return st;
        }
    }
    return CFG_OK;
}

static bool is_referrer_policy(const char *s)
{
    static const char *const tokens[] = {
        "no-referrer",   "no-referrer-when-downgrade",      "origin",    "origin-when-cross-origin", "same-origin",
        "strict-origin", "strict-origin-when-cross-origin", "unsafe-url"};
    for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        if (strcmp(s, tokens[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* type/subtype, optionally with parameters: printable ASCII only, since it is signed into a URL and sent back. */
static bool is_media_type(const char *s, size_t len)
{
    const char *slash = memchr(s, '/', len);

    if (slash == NULL || slash == s || slash + 1 == s + len || slash[1] == ';' || slash[1] == ' ') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch > 0x7e) {
            return false;
        }
    }
    return true;
}

/* cache: no-store, "private, max-age=N" (N seconds), or a duration (private, max-age of that duration). */
static enum cfg_status parse_cache(struct ctx *c, const struct cfg_node *v, const char *path, uint32_t *out)
{
    char show_buf[SHOW_CAP];
    static const char pm[] = "private, max-age=";
    static const char pm2[] = "private,max-age=";
    uint64_t n = 0;
    enum cfg_status st = want_string(c, v, path, 64);

    if (st != CFG_OK) {
        return st;
    }
    if (strcmp(v->value, "no-store") == 0) {
        *out = 0;
        return CFG_OK;
    }
    bool ok = false;
    if (v->len > sizeof(pm) - 1 && memcmp(v->value, pm, sizeof(pm) - 1) == 0) {
        ok = cfg_parse_uint(v->value + sizeof(pm) - 1, v->len - (sizeof(pm) - 1), &n);
    } else if (v->len > sizeof(pm2) - 1 && memcmp(v->value, pm2, sizeof(pm2) - 1) == 0) {
        ok = cfg_parse_uint(v->value + sizeof(pm2) - 1, v->len - (sizeof(pm2) - 1), &n);
    } else if (cfg_parse_duration_ms(v->value, v->len, &n) == CFG_DUR_OK) {
        if (n % 1000 != 0) {
            return fail(c, CFG_ERR_SCHEMA, v, "%s: %s is not a whole number of seconds", path, SHOW(v));
        }
        n /= 1000;
        ok = true;
    }
    if (!ok) {
        return fail(c, CFG_ERR_SCHEMA, v, "%s: %s is not no-store, \"private, max-age=N\" or a duration like 5m", path, SHOW(v));
    }
    if (n == 0) {
        return fail(c, CFG_ERR_SCHEMA, v, "%s: a max-age of 0 is written no-store", path);
    }
    if (n > CFG_MAX_EXPIRES) {
        return fail(c, CFG_ERR_SCHEMA, v, "%s: %s is outside 1s..7d", path, SHOW(v));
    }
    *out = (uint32_t)n;
    return CFG_OK;
}

static enum cfg_status parse_route(struct ctx *c, size_t idx, const struct cfg_node *v)
{
    static const char *const disps[] = {"none", "attachment", "inline"};
    struct field f[] = {{.key = "prefix"},      {.key = "backend"},        {.key = "key_prefix"},   {.key = "expires"},
                        {.key = "sign_window"}, {.key = "disposition"},    {.key = "content_type"}, {.key = "cache"},
                        {.key = "status"},      {.key = "referrer_policy"}};
    struct cfg_route *r = &c->cfg->routes[idx];
    struct route_nodes *rn = &c->rnodes[idx];
    char where[PATH_CAP];
    char path[PATH_CAP];
    char show_buf[SHOW_CAP];
    size_t e = 0;
    uint32_t status = 0;
    enum cfg_status st;

    if (snprintf(where, sizeof(where), "routes[%zu]", idx) < 0) {
        where[0] = '\0';
    }
    r->expires_s = 15 * 60;
    r->status = 302;
    st = walk_map(c, v, where, f, sizeof(f) / sizeof(f[0]));
    if (st != CFG_OK) {
        return st;
    }
    if (f[0].v == NULL || f[1].v == NULL) {
        return fail(c, CFG_ERR_SCHEMA, v, "%s: missing key '%s'", where, f[0].v == NULL ? "prefix" : "backend");
    }
    rn->prefix = f[0].v;
    st = get_string(c, f[0].v, join(path, sizeof(path), where, "prefix"), CFG_MAX_PREFIX, &r->prefix);
    if (st != CFG_OK) {
        return st;
    }
    r->prefix_len = f[0].v->len;
    if (r->prefix[0] != '/' || r->prefix[r->prefix_len - 1] != '/') {
        return fail(c, CFG_ERR_SCHEMA, f[0].v, "%s: %s must start and end with '/', like /files/", path, SHOW(f[0].v));
    }
    if (!cfg_path_valid(r->prefix, r->prefix_len)) {
        return fail(c, CFG_ERR_SCHEMA, f[0].v,
                    "%s: %s is not a plain URL path (letters, digits, -._~!$&'()*+,;=:@ and '/', no empty, . or .. "
                    "segment)",
                    path, SHOW(f[0].v));
    }
    rn->backend = f[1].v;
    st = want_string(c, f[1].v, join(path, sizeof(path), where, "backend"), CFG_MAX_NAME);
    if (st != CFG_OK) {
        return st;
    }
    if (f[2].v == NULL || is_null(f[2].v)) {
        st = cfg_strndup("", 0, &r->key_prefix);
    } else {
        st = get_string(c, f[2].v, join(path, sizeof(path), where, "key_prefix"), CFG_MAX_KEY_PREFIX, &r->key_prefix);
        if (st == CFG_OK && r->key_prefix[0] == '/') {
            return fail(c, CFG_ERR_SCHEMA, f[2].v, "%s: %s must not start with '/' (object keys do not)", path, SHOW(f[2].v));
        }
        r->key_prefix_len = f[2].v->len;
    }
    if (st != CFG_OK) {
        return st;
    }
    if (f[3].v != NULL) {
        st = get_u32(c, f[3].v, join(path, sizeof(path), where, "expires"), NUM_SECONDS, 1, CFG_MAX_EXPIRES, &r->expires_s);
        if (st != CFG_OK) {
            return st;
        }
    }
    rn->sign_window = f[4].v;
    if (f[4].v != NULL) {
        st = get_u32(c, f[4].v, join(path, sizeof(path), where, "sign_window"), NUM_SECONDS, 0, CFG_MAX_EXPIRES, &r->sign_window_s);
        if (st != CFG_OK) {
            return st;
        }
    }
    if (f[5].v != NULL) {
        st = get_enum(c, f[5].v, join(path, sizeof(path), where, "disposition"), disps, 3, &e);
        if (st != CFG_OK) {
            return st;
        }
        r->disposition = (enum cfg_disposition)e;
    }
    if (f[6].v != NULL && !is_null(f[6].v)) {
        st = get_string(c, f[6].v, join(path, sizeof(path), where, "content_type"), CFG_MAX_CONTENT_TYPE, &r->content_type);
        if (st != CFG_OK) {
            return st;
        }
        if (!is_media_type(r->content_type, f[6].v->len)) {
            return fail(c, CFG_ERR_SCHEMA, f[6].v, "%s: %s is not a media type like text/plain", path, SHOW(f[6].v));
        }
    }
    rn->cache = f[7].v;
    if (f[7].v != NULL) {
        st = parse_cache(c, f[7].v, join(path, sizeof(path), where, "cache"), &r->cache_max_age_s);
        if (st != CFG_OK) {
            return st;
        }
    }
    if (f[8].v != NULL) {
        st = get_u32(c, f[8].v, join(path, sizeof(path), where, "status"), NUM_PLAIN, 0, 999, &status);
        if (st != CFG_OK) {
            return st;
        }
        if (status != 302 && status != 307) {
            return fail(c, CFG_ERR_SCHEMA, f[8].v, "%s: %s is not 302 or 307", path, SHOW(f[8].v));
        }
        r->status = (uint16_t)status;
    }
    if (f[9].v != NULL && !is_null(f[9].v)) {
        st = get_string(c, f[9].v, join(path, sizeof(path), where, "referrer_policy"), 64, &r->referrer_policy);
        if (st != CFG_OK) {
            return st;
        }
        if (!is_referrer_policy(r->referrer_policy)) {
            return fail(c, CFG_ERR_SCHEMA, f[9].v, "%s: %s is not a Referrer-Policy token (like no-referrer)", path, SHOW(f[9].v));
        }
    }
    /* Cross-field checks of the route. */
    if ((uint64_t)r->expires_s + r->sign_window_s > CFG_MAX_EXPIRES) {
        char a[32];
        char b[32];
        cfg_fmt_duration_ms(a, sizeof(a), (uint64_t)r->expires_s * 1000);
        cfg_fmt_duration_ms(b, sizeof(b), (uint64_t)r->sign_window_s * 1000);
        return fail(c, CFG_ERR_SCHEMA, f[4].v, "%s.sign_window: expires %s plus sign_window %s is more than 7d", where, a, b);
    }
    if (r->cache_max_age_s != 0 && r->cache_max_age_s >= r->expires_s) {
        char a[32];
        char b[32];
        cfg_fmt_duration_ms(a, sizeof(a), (uint64_t)r->cache_max_age_s * 1000);
        cfg_fmt_duration_ms(b, sizeof(b), (uint64_t)r->expires_s * 1000);
        return fail(c, CFG_ERR_SCHEMA, f[7].v,
                    "%s.cache: max-age %s must be shorter than expires %s, or a cached redirect outlives its URL", where, a, b);
    }
    return CFG_OK;
}

static enum cfg_status parse_routes(struct ctx *c, const struct cfg_node *v)
{
    size_t n;
    enum cfg_status st;

    if (v == NULL) {
        return CFG_ERR_SCHEMA; /* cfg_build reports a missing key */
    }
    if (v->type != CFG_NODE_SEQ) {
        return fail(c, CFG_ERR_SCHEMA, v, "routes: expected a sequence, got %s", is_null(v) ? "nothing" : kind(v));
    }
    n = v->n_items;
    if (n == 0) {
        return fail(c, CFG_ERR_SCHEMA, v, "routes: needs at least one route");
    }
    if (n > CFG_MAX_ROUTES) {
        return fail(c, CFG_ERR_SCHEMA, v->items[CFG_MAX_ROUTES], "routes: more than %d routes", CFG_MAX_ROUTES);
    }
    c->cfg->routes = calloc(n, sizeof(*c->cfg->routes));
    c->rnodes = calloc(n, sizeof(*c->rnodes));
    if (c->cfg->routes == NULL || c->rnodes == NULL) {
        return CFG_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        c->cfg->n_routes = i + 1;
        st = parse_route(c, i, v->items[i]);
        if (st != CFG_OK) {
            return st;
        }
    }
    return CFG_OK;
}

static bool overlaps(const char *a, const char *b)
{
    size_t al = strlen(a);
    size_t bl = strlen(b);

    return memcmp(a, b, al < bl ? al : bl) == 0;
}

static enum cfg_status check_routes(struct ctx *c)
{
    struct cfg_config *cfg = c->cfg;

    if (cfg->health_path != NULL && cfg->metrics_path != NULL && strcmp(cfg->health_path, cfg->metrics_path) == 0) {
        return fail(c, CFG_ERR_SCHEMA, c->metrics != NULL ? c->metrics : c->health, "metrics: %s is also the health path",
                    cfg->metrics_path);
    }
    for (size_t i = 0; i < cfg->n_routes; i++) {
        struct cfg_route *r = &cfg->routes[i];
        const struct route_nodes *rn = &c->rnodes[i];
        char where[32];
        if (snprintf(where, sizeof(where), "routes[%zu]", i) < 0) {
            where[0] = '\0';
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->routes[j].prefix, r->prefix) == 0) {
                return fail(c, CFG_ERR_SCHEMA, rn->prefix, "%s.prefix: %s is also the prefix of routes[%zu]", where, r->prefix, j);
            }
            if (overlaps(cfg->routes[j].prefix, r->prefix)) {
                return fail(c, CFG_ERR_SCHEMA, rn->prefix, "%s.prefix: %s overlaps routes[%zu].prefix %s", where, r->prefix, j,
                            cfg->routes[j].prefix);
            }
        }
        const char *specials[] = {cfg->health_path, cfg->metrics_path};
        const char *names[] = {"health", "metrics"};
        for (size_t k = 0; k < 2; k++) {
            if (specials[k] != NULL && overlaps(specials[k], r->prefix)) {
                return fail(c, CFG_ERR_SCHEMA, rn->prefix, "%s.prefix: %s overlaps the %s path %s", where, r->prefix, names[k],
                            specials[k]);
            }
        }
        size_t b = 0;
        while (b < cfg->n_backends && strcmp(cfg->backends[b].name, rn->backend->value) != 0) {
            b++;
        }
        if (b == cfg->n_backends) {
            char show_buf[SHOW_CAP];
            return fail(c, CFG_ERR_SCHEMA, rn->backend, "%s.backend: no backend named '%s'", where, SHOW(rn->backend));
        }
        r->backend = &cfg->backends[b];
    }
    return CFG_OK;
}

/* Ties each backend to its credential set, then resolves the sets in use (only those: an unused set is checked but
 * not read, and left out of the config). */
static enum cfg_status resolve_credentials(struct ctx *c)
{
    struct cfg_config *cfg = c->cfg;
    size_t *slot = NULL;
    size_t n_used = 0;
    enum cfg_status st = CFG_OK;

    for (size_t i = 0; i < cfg->n_backends; i++) {
        const struct backend_nodes *bn = &c->bnodes[i];
        const char *want = bn->credentials != NULL ? bn->credentials->value : "default";
        size_t s = 0;
        while (s < c->n_specs && strcmp(c->specs[s].name->value, want) != 0) {
            s++;
        }
        if (s == c->n_specs) {
            if (bn->credentials == NULL) {
                return fail(c, CFG_ERR_SCHEMA, bn->name, "backends.%s: no credentials key, and no credential set named 'default'",
                            bn->name->value);
            }
            return fail(c, CFG_ERR_SCHEMA, bn->credentials, "backends.%s.credentials: no credential set named '%s'",
                        bn->name->value, want);
        }
        c->bnodes[i].spec = s;
        struct cfg_cred_spec *spec = &c->specs[s];
        bool oss = cfg->backends[i].type != CFG_BACKEND_S3;
        if (spec->from == CFG_FROM_ENV && spec->id_var == NULL && (oss ? spec->used_s3 : spec->used_oss)) {
            return fail(c, CFG_ERR_SCHEMA, spec->name,
                        "credentials.%s: used by both OSS and S3 backends (backends.%s among them), which read "
                        "different variables; set id_var and secret_var, or use two sets",
                        spec->name->value, bn->name->value);
        }
        if (oss) {
            spec->used_oss = true;
        } else {
            spec->used_s3 = true;
        }
    }
    slot = calloc(c->n_specs + 1, sizeof(*slot));
    if (slot == NULL) {
        return CFG_ERR_NOMEM;
    }
    for (size_t s = 0; s < c->n_specs; s++) {
        if (c->specs[s].used_oss || c->specs[s].used_s3) {
            slot[s] = n_used++;
        }
    }
    cfg->credentials = calloc(n_used + 1, sizeof(*cfg->credentials));
    if (cfg->credentials == NULL) {
        st = CFG_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t s = 0; s < c->n_specs; s++) {
        if (!c->specs[s].used_oss && !c->specs[s].used_s3) {
            continue;
        }
        cfg->n_credentials = slot[s] + 1;
        st = cfg_cred_resolve(&cfg->credentials[slot[s]], c->src, &c->specs[s], c->env, c->err);
        if (st != CFG_OK) {
            goto cleanup;
        }
    }
    for (size_t i = 0; i < cfg->n_backends; i++) {
        cfg->backends[i].credentials = &cfg->credentials[slot[c->bnodes[i].spec]];
    }
cleanup:
    free(slot);
    return st;
}

enum cfg_status cfg_build(struct cfg_config **out, const struct cfg_source *src, const struct cfg_node *root,
                          const struct cfg_env *env, struct cfg_error *err)
{
    struct field f[] = {{.key = "listen"},   {.key = "workers"}, {.key = "limits"}, {.key = "log"},    {.key = "credentials"},
                        {.key = "backends"}, {.key = "routes"},  {.key = "health"}, {.key = "metrics"}};
    struct ctx c = {.src = src, .env = env, .err = err};
    enum cfg_status st;

    *out = NULL;
    c.cfg = calloc(1, sizeof(*c.cfg));
    if (c.cfg == NULL) {
        st = CFG_ERR_NOMEM;
        goto cleanup;
    }
    /* Defaults. */
    struct cfg_config *cfg = c.cfg;
    cfg->workers = 0;
    cfg->limits = (struct cfg_limits){.max_connections = 10000,
                                      .max_connections_per_ip = 256,
                                      .header_timeout_ms = 10000,
                                      .idle_timeout_ms = 10000,
                                      .shutdown_timeout_ms = 5000,
                                      .max_header_bytes = 8192,
                                      .max_uri_bytes = 4096,
                                      .max_headers = 100,
                                      .max_requests_per_conn = 1000};
    cfg->log.access = CFG_ACCESS_STDOUT;
    cfg->log.level = CFG_LEVEL_INFO;
    st = cfg_strndup(src->name, strlen(src->name), &cfg->path);
    if (st == CFG_OK) {
        st = cfg_strndup("/healthz", 8, &cfg->health_path);
    }
    if (st == CFG_OK) {
        st = cfg_strndup("/metrics", 8, &cfg->metrics_path);
    }
    if (st != CFG_OK) {
        goto cleanup;
    }
    /* Keys. */
    if (root == NULL) {
        st = fail(&c, CFG_ERR_SCHEMA, NULL, "empty configuration; expected a mapping with backends and routes");
        goto cleanup;
    }
    st = walk_map(&c, root, "", f, sizeof(f) / sizeof(f[0]));
    if (st != CFG_OK) {
        goto cleanup;
    }
    c.health = f[7].v;
    c.metrics = f[8].v;
    st = parse_listens(&c, f[0].v);
    if (st == CFG_OK) {
        st = parse_workers(&c, f[1].v);
    }
    if (st == CFG_OK) {
        st = parse_limits(&c, f[2].v);
    }
    if (st == CFG_OK) {
        st = parse_log(&c, f[3].v);
    }
    if (st == CFG_OK) {
        st = parse_special_path(&c, f[7].v, "health", &cfg->health_path);
    }
    if (st == CFG_OK) {
        st = parse_special_path(&c, f[8].v, "metrics", &cfg->metrics_path);
    }
    if (st == CFG_OK) {
        st = parse_credentials(&c, f[4].v);
    }
    if (st == CFG_OK && f[5].v == NULL) {
        st = fail(&c, CFG_ERR_SCHEMA, root, "missing key 'backends'");
    }
    if (st == CFG_OK) {
        st = parse_backends(&c, f[5].v);
    }
    if (st == CFG_OK && f[6].v == NULL) {
        st = fail(&c, CFG_ERR_SCHEMA, root, "missing key 'routes'");
    }
    if (st == CFG_OK) {
        st = parse_routes(&c, f[6].v);
    }
    /* Checks across fields, then the credentials. */
    if (st == CFG_OK) {
        st = check_routes(&c);
    }
    if (st == CFG_OK) {
        st = resolve_credentials(&c);
    }
    if (st == CFG_OK) {
        *out = c.cfg; /* the caller owns it now */
        c.cfg = NULL;
    }
cleanup:
    cfg_free(c.cfg);
    free(c.specs);
    free(c.bnodes);
    free(c.rnodes);
    return st;
}
