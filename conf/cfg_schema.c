/* cfg_schema.c: the schema, as tables for cfg_engine.c: one row per key, in the order the keys are read (a row may
 * use what the rows above it stored: `region` reads `type`), plus the readers and checks of its own and the checks
 * across keys. cfg_build reads the top table (defaults for what is absent, then each key, then each table's checks
 * across its keys, nginx's merge_conf order) and resolves credentials last, so that no secret is read for a config
 * that is wrong anyway. A new key is a row here and a line in docs/configuration.md. */
#include "cfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg_engine.h"
#include "cfg_internal.h"

/* What the top table fills: the config, and the credential sets still to be resolved. */
struct doc {
    struct cfg_config cfg;
    struct cfg_cred_spec *specs;
    size_t n_specs;
};

static bool is_alnum(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* ---- listen ---- */

/* "IPv4:port" or "[IPv6]:port", numeric only. */
static enum cfg_status read_listen(struct cfg_read *r, const struct cfg_node *v, const char *path, void *obj)
{
    struct cfg_listen *out = obj;
    char show_buf[CFG_SHOW_CAP];
    char host[64];
    unsigned char addr[16];
    const char *s = v->value;
    const char *colon = NULL;
    size_t host_len = 0;
    uint64_t port = 0;
    enum cfg_status st = cfg_want_string(r, v, path, 128);

    if (st != CFG_OK) {
        return st;
    }
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':') {
            return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is not [IPv6]:port, like [::1]:8080", path, CFG_SHOW(v));
        }
        host_len = (size_t)(close - s - 1);
        if (host_len == 0 || host_len >= sizeof(host)) {
            return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is not [IPv6]:port, like [::1]:8080", path, CFG_SHOW(v));
        }
        memcpy(host, s + 1, host_len);
        colon = close + 1;
        out->ipv6 = true;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s has no port; write IPv4:port or [IPv6]:port, like 0.0.0.0:8080", path,
                            CFG_SHOW(v));
        }
        host_len = (size_t)(colon - s);
        if (host_len == 0 || host_len >= sizeof(host) || memchr(s, ':', host_len) != NULL) {
            return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is not IPv4:port; write IPv6 as [::1]:8080", path, CFG_SHOW(v));
        }
        memcpy(host, s, host_len);
        out->ipv6 = false;
    }
    host[host_len] = '\0';
    if (inet_pton(out->ipv6 ? AF_INET6 : AF_INET, host, addr) != 1) {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is not a numeric %s address", path, host, out->ipv6 ? "IPv6" : "IPv4");
    }
    const char *ps = colon + 1;
    size_t pl = v->len - (size_t)(ps - s);
    if (!cfg_parse_uint(ps, pl, &port) || port > 65535) {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: port '%.*s' is not a number in 0..65535", path, (int)pl, ps);
    }
    out->port = (uint16_t)port;
    return cfg_strndup(host, host_len, &out->host);
}

static enum cfg_status listen_unique(struct cfg_read *r, const void *items, size_t idx, const struct cfg_node *v, const char *path)
{
    const struct cfg_listen *l = items;
    const struct cfg_node *addr = v->type == CFG_NODE_MAP ? cfg_map_get(v, "address") : v;

    for (size_t j = 0; j < idx; j++) {
        if (l[j].port == l[idx].port && l[j].ipv6 == l[idx].ipv6 && strcmp(l[j].host, l[idx].host) == 0) {
            return cfg_fail(r, CFG_ERR_SCHEMA, addr, "%s: %s is listed twice", path, addr->value);
        }
    }
    return CFG_OK;
}

/* check_tls_file opens the file named by `v` (a TLS certificate chain, or a private key when `secret`) to see that it
 * is a regular file the gateway can read; a private key must not be readable by group or others (the rule of inline
 * secrets), unless it lies in $CREDENTIALS_DIRECTORY (systemd LoadCredential=, which the service alone can read).
 * Parsing the PEM is the gateway's, at start and at each reload. */
static enum cfg_status check_tls_file(struct cfg_read *r, const struct cfg_node *v, const char *where, const char *key, bool secret)
{
    struct stat sb;
    int fd = open(v->value, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0) {
        return cfg_fail(r, CFG_ERR_IO, v, "%s.%s: cannot open %s: %s", where, key, v->value, strerror(errno));
    }
    int rc = fstat(fd, &sb);
    close(fd);
    if (rc != 0 || !S_ISREG(sb.st_mode)) {
        return cfg_fail(r, CFG_ERR_IO, v, "%s.%s: %s is not a regular file", where, key, v->value);
    }
    if (!secret || (sb.st_mode & CFG_SECRET_MODE_BITS) == 0) {
        return CFG_OK;
    }
    const char *dir = cfg_getenv(r->env, "CREDENTIALS_DIRECTORY");
    size_t dl = dir != NULL ? strlen(dir) : 0;
    while (dl > 1 && dir[dl - 1] == '/') {
        dl--;
    }
    if (dl > 1 && dir[0] == '/' && strncmp(v->value, dir, dl) == 0 && v->value[dl] == '/' && strstr(v->value, "/../") == NULL) {
        return CFG_OK;
    }
    return cfg_fail(r, CFG_ERR_CREDENTIALS, v,
                    "%s.%s: private key %s has mode %04o, readable by group or others (chmod 600 it, or load it with "
                    "systemd LoadCredential=)",
                    where, key, v->value, (unsigned)(sb.st_mode & 07777));
}

static const char *check_abs_path(const struct cfg_node *v, char *buf, size_t cap)
{
    return v->value[0] == '/' ? NULL : cfg_why(buf, cap, v, "is not an absolute path");
}

static enum cfg_status tls_cert_finish(struct cfg_read *r, const struct cfg_entry *e)
{
    enum cfg_status st = check_tls_file(r, cfg_map_get(e->map, "cert"), e->where, "cert", false);

    return st != CFG_OK ? st : check_tls_file(r, cfg_map_get(e->map, "key"), e->where, "key", true);
}

static const struct cfg_row tls_cert_rows[] = {
    {"cert", CFG_STRING, CFG_REQUIRED, .max = CFG_MAX_PATH, .check = check_abs_path, CFG_AT(struct cfg_tls_cert, cert)},
    {"key", CFG_STRING, CFG_REQUIRED, .max = CFG_MAX_PATH, .check = check_abs_path, CFG_AT(struct cfg_tls_cert, key)},
};
static const struct cfg_table tls_cert_table = {CFG_ROWS(tls_cert_rows), .finish = tls_cert_finish};
static const struct cfg_row tls_cert_item = {.kind = CFG_MAP, .sub = &tls_cert_table};

static const struct cfg_row tls_rows[] = {
    {"certificates", CFG_LIST, CFG_REQUIRED, .item = &tls_cert_item, .item_size = sizeof(struct cfg_tls_cert),
     CFG_AT(struct cfg_tls, certs), .count_at = offsetof(struct cfg_tls, n_certs), .min = 1, .max = CFG_MAX_TLS_CERTS,
     .noun = "certificate", .nouns = "certificates"},
};
static const struct cfg_table tls_table = {CFG_ROWS(tls_rows)};

static const struct cfg_row listen_rows[] = {
    {"address", CFG_CUSTOM, CFG_REQUIRED, .read = read_listen},
    {"tls", CFG_MAP, .sub = &tls_table, CFG_AT(struct cfg_listen, tls)},
};
static const struct cfg_table listen_table = {CFG_ROWS(listen_rows)};
static const struct cfg_row listen_item = {.kind = CFG_SCALAR_OR_MAP, .read = read_listen, .sub = &listen_table};

/* ---- workers ---- */

static enum cfg_status read_workers(struct cfg_read *r, const struct cfg_node *v, const char *path, void *obj)
{
    struct doc *d = obj;
    char show_buf[CFG_SHOW_CAP];
    uint64_t n = 0;
    enum cfg_status st = cfg_want_scalar(r, v, path);

    if (st != CFG_OK) {
        return st;
    }
    if (strcmp(v->value, "auto") == 0) {
        d->cfg.workers = 0;
        return CFG_OK;
    }
    if (v->len > 0 && (v->value[0] < '0' || v->value[0] > '9')) {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is not auto or a number in 1..%d", path, CFG_SHOW(v), CFG_MAX_WORKERS);
    }
    st = cfg_read_number(r, v, path, CFG_COUNT, 1, CFG_MAX_WORKERS, &n);
    if (st == CFG_OK) {
        d->cfg.workers = (uint32_t)n;
    }
    return st;
}

/* ---- limits ---- */

static enum cfg_status limits_finish(struct cfg_read *r, const struct cfg_entry *e)
{
    const struct cfg_limits *l = e->obj;
    const struct cfg_node *at = cfg_map_get(e->map, "max_uri_bytes");
    char a[32];
    char b[32];

    if (l->max_uri_bytes > l->max_header_bytes) {
        cfg_fmt_size(a, sizeof(a), l->max_uri_bytes);
        cfg_fmt_size(b, sizeof(b), l->max_header_bytes);
        return cfg_fail(r, CFG_ERR_SCHEMA, at != NULL ? at : cfg_map_get(e->map, "max_header_bytes"),
                        "limits.max_uri_bytes: %s is larger than limits.max_header_bytes (%s)", a, b);
    }
    return CFG_OK;
}

static const struct cfg_row limits_rows[] = {
    {"max_connections", CFG_COUNT, .min = 1, .max = 1000000, .def = "10000", CFG_AT(struct cfg_limits, max_connections)},
    {"max_connections_per_ip", CFG_COUNT, .min = 1, .max = 1000000, .def = "256",
     CFG_AT(struct cfg_limits, max_connections_per_ip)},
    {"header_timeout", CFG_MS, .min = 100, .max = 3600000, .def = "10s", CFG_AT(struct cfg_limits, header_timeout_ms)},
    {"idle_timeout", CFG_MS, .min = 100, .max = 3600000, .def = "10s", CFG_AT(struct cfg_limits, idle_timeout_ms)},
    {"shutdown_timeout", CFG_MS, .min = 0, .max = 3600000, .def = "5s", CFG_AT(struct cfg_limits, shutdown_timeout_ms)},
    {"max_header_bytes", CFG_SIZE, .min = 256, .max = 1024 * 1024, .def = "8k", CFG_AT(struct cfg_limits, max_header_bytes)},
    {"max_uri_bytes", CFG_SIZE, .min = 64, .max = 1024 * 1024, .def = "4k", CFG_AT(struct cfg_limits, max_uri_bytes)},
    {"max_headers", CFG_COUNT, .min = 1, .max = 10000, .def = "100", CFG_AT(struct cfg_limits, max_headers)},
    {"max_requests_per_conn", CFG_COUNT, .min = 1, .max = 1000000000, .def = "1000",
     CFG_AT(struct cfg_limits, max_requests_per_conn)},
};
static const struct cfg_table limits_table = {CFG_ROWS(limits_rows), .finish = limits_finish};

/* ---- log ---- */

static enum cfg_status read_access(struct cfg_read *r, const struct cfg_node *v, const char *path, void *obj)
{
    struct cfg_log *log = obj;
    char show_buf[CFG_SHOW_CAP];
    enum cfg_status st = cfg_want_string(r, v, path, CFG_MAX_STRING);

    if (st != CFG_OK) {
        return st;
    }
    if (strcmp(v->value, "stdout") == 0) {
        log->access = CFG_ACCESS_STDOUT;
    } else if (strcmp(v->value, "off") == 0) {
        log->access = CFG_ACCESS_OFF;
    } else if (v->value[0] == '/') {
        log->access = CFG_ACCESS_FILE;
        return cfg_strndup(v->value, v->len, &log->access_path);
    } else {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is not stdout, off or an absolute path", path, CFG_SHOW(v));
    }
    return CFG_OK;
}

static const char *const level_names[] = {"err", "warning", "notice", "info", "debug", NULL};
static const int level_values[] = {CFG_LEVEL_ERR, CFG_LEVEL_WARNING, CFG_LEVEL_NOTICE, CFG_LEVEL_INFO, CFG_LEVEL_DEBUG};

static const struct cfg_row log_rows[] = {
    {"access", CFG_CUSTOM, .read = read_access, .def = "stdout"},
    {"level", CFG_ENUM, .names = level_names, .values = level_values, .def = "info", CFG_AT(struct cfg_log, level)},
};
static const struct cfg_table log_table = {CFG_ROWS(log_rows)};

/* ---- health, metrics ---- */

static const char *check_special_path(const struct cfg_node *v, char *buf, size_t cap)
{
    if (cfg_path_valid(v->value, v->len)) {
        return NULL;
    }
    return cfg_why(buf, cap, v,
                   "is not an absolute URL path (letters, digits, -._~!$&'()*+,;=:@ and '/', no empty, . or .. segment), or off");
}

/* ---- credentials ---- */

static const char *check_env_name(const struct cfg_node *v, char *buf, size_t cap)
{
    bool ok = v->len > 0 && v->len <= CFG_MAX_NAME && !(v->value[0] >= '0' && v->value[0] <= '9');

    for (size_t j = 0; ok && j < v->len; j++) {
        ok = is_alnum(v->value[j]) || v->value[j] == '_';
    }
    return ok ? NULL : cfg_why(buf, cap, v, "is not an environment variable name");
}

static const char *check_absolute(const struct cfg_node *v, char *buf, size_t cap)
{
    (void)buf;
    (void)cap;
    return v->value[0] == '/' ? NULL : "must be an absolute path";
}

static const char *check_role_arn(const struct cfg_node *v, char *buf, size_t cap)
{
    const char *why = cfg_role_arn_why(v->value, v->len);

    return why == NULL ? NULL : cfg_why(buf, cap, v, why);
}

static const char *check_oidc_provider_arn(const struct cfg_node *v, char *buf, size_t cap)
{
    const char *why = cfg_oidc_provider_arn_why(v->value, v->len);

    return why == NULL ? NULL : cfg_why(buf, cap, v, why);
}

static const char *check_url(const struct cfg_node *v, char *buf, size_t cap)
{
    const char *why = cfg_http_url_why(v->value, v->len);

    return why == NULL ? NULL : cfg_why(buf, cap, v, why);
}

/* host[:port] (https is implied), or https://host[:port] with an optional trailing '/'. */
static const char *check_sts_endpoint(const struct cfg_node *v, char *buf, size_t cap)
{
    const char *s = v->value;
    size_t len = v->len;

    if (len > 7 && memcmp(s, "http://", 7) == 0) {
        return cfg_why(buf, cap, v, "must use https: STS requests carry credentials");
    }
    if (len > 8 && memcmp(s, "https://", 8) == 0) {
        s += 8;
        len -= 8;
        if (len > 0 && s[len - 1] == '/') {
            len--;
        }
    }
    return cfg_endpoint_valid(s, len) ? NULL
                                      : cfg_why(buf, cap, v, "is not host[:port] or https://host[:port], like sts.aliyuncs.com");
}

static bool name_chars(const struct cfg_node *v, size_t min, size_t max, const char *extra)
{
    if (v->len < min || v->len > max) {
        return false;
    }
    for (size_t j = 0; j < v->len; j++) {
        if (!is_alnum(v->value[j]) && strchr(extra, v->value[j]) == NULL) {
            return false;
        }
    }
    return true;
}

static const char *check_role_name(const struct cfg_node *v, char *buf, size_t cap)
{
    return name_chars(v, 1, 64, "._-") ? NULL : cfg_why(buf, cap, v, "is not a RAM role name (1..64 of A-Z a-z 0-9 . _ -)");
}

static const char *check_session_name(const struct cfg_node *v, char *buf, size_t cap)
{
    return name_chars(v, 2, 64, ".@_-") ? NULL : cfg_why(buf, cap, v, "is not a session name (2..64 of A-Z a-z 0-9 . @ _ -)");
}

static const char *check_external_id(const struct cfg_node *v, char *buf, size_t cap)
{
    return name_chars(v, 2, 1224, "=,.@:/_+-") ? NULL
                                               : cfg_why(buf, cap, v, "is not an external id (2..1224 of A-Z a-z 0-9 =,.@:/_+-)");
}

/* The keys a renewing source needs that have no default. oidc's come from the environment when absent, and are
 * checked by cfg_cred_resolve. */
static enum cfg_status renew_finish(struct cfg_read *r, const struct cfg_entry *e, struct cfg_cred_spec *spec)
{
    if (spec->from == CFG_FROM_ASSUME_ROLE && (spec->role_arn == NULL || spec->base == NULL)) {
        return cfg_fail(r, CFG_ERR_SCHEMA, e->at, "%s: missing key '%s' (from: assume_role)", e->where,
                        spec->role_arn == NULL ? "role_arn" : "base");
    }
    if (spec->from == CFG_FROM_ASSUME_ROLE && strcmp(spec->base->value, e->at->value) == 0) {
        return cfg_fail(r, CFG_ERR_SCHEMA, spec->base, "%s.base: a set cannot be its own base", e->where);
    }
    return CFG_OK;
}

static enum cfg_status cred_finish(struct cfg_read *r, const struct cfg_entry *e)
{
    struct cfg_cred_spec *spec = e->obj;

    spec->name = e->at;
    if (spec->from == CFG_FROM_ENV &&
        ((spec->id_var == NULL) != (spec->secret_var == NULL) || (spec->token_var != NULL && spec->id_var == NULL))) {
        return cfg_fail(r, CFG_ERR_SCHEMA, e->at, "%s: id_var and secret_var go together (token_var needs both)", e->where);
    }
    if (spec->from != CFG_FROM_INLINE) {
        return renew_finish(r, e, spec);
    }
    if (!r->src->is_file) {
        return cfg_fail(r, CFG_ERR_CREDENTIALS, e->at,
                        "%s: inline secrets are only accepted by cfg_load_file, from a file that group and others "
                        "cannot read; use from: env or from: files",
                        e->where);
    }
    if ((r->src->mode & CFG_SECRET_MODE_BITS) != 0) {
        return cfg_fail(r, CFG_ERR_CREDENTIALS, e->at,
                        "%s: inline secrets need a config file that group and others cannot read, but %s has mode "
                        "%04o (chmod 600 it, or use from: env or from: files)",
                        e->where, r->src->name, (unsigned)r->src->mode);
    }
    if (spec->access_key_id == NULL || spec->access_key_secret == NULL) {
        return cfg_fail(r, CFG_ERR_SCHEMA, e->at, "%s: missing key '%s'", e->where,
                        spec->access_key_id == NULL ? "access_key_id" : "access_key_secret");
    }
    return CFG_OK;
}

static const char *const from_names[] = {"env", "files", "inline", "ecs_ram_role", "oidc", "assume_role", "uri", NULL};
#define ENV (1u << CFG_FROM_ENV)
#define FILES (1u << CFG_FROM_FILES)
#define INLINE (1u << CFG_FROM_INLINE)
#define ECS (1u << CFG_FROM_ECS_RAM_ROLE)
#define OIDC (1u << CFG_FROM_OIDC)
#define ASSUME (1u << CFG_FROM_ASSUME_ROLE)
#define URI (1u << CFG_FROM_URI)
#define RENEWING (ECS | OIDC | ASSUME | URI)
#define SPEC(member) CFG_AT(struct cfg_cred_spec, member)
/* The values are only checked as scalars here; cfg_cred_resolve checks their contents without showing them. The
 * renewing sources' values are not secret, so their checks quote them. */
static const struct cfg_row cred_rows[] = {
    {"from", CFG_ENUM, CFG_REQUIRED, .names = from_names, SPEC(from)},
    {"id_var", CFG_NODE, .when = ENV, .check = check_env_name, SPEC(id_var)},
    {"secret_var", CFG_NODE, .when = ENV, .check = check_env_name, SPEC(secret_var)},
    {"token_var", CFG_NODE, .when = ENV, .check = check_env_name, SPEC(token_var)},
    {"dir", CFG_NODE, .when = FILES, .max = CFG_MAX_STRING, .check = check_absolute, SPEC(dir)},
    {"watch", CFG_BOOL, .when = FILES, .def = "false", SPEC(watch)},
    {"access_key_id", CFG_NODE, .when = INLINE, SPEC(access_key_id)},
    {"access_key_secret", CFG_NODE, .when = INLINE, SPEC(access_key_secret)},
    {"security_token", CFG_NODE, .when = INLINE, SPEC(security_token)},
    {"role_name", CFG_NODE, .when = ECS, .max = 64, .check = check_role_name, SPEC(role_name)},
    {"metadata_url", CFG_NODE, .when = ECS, .max = 1024, .check = check_url, SPEC(metadata_url)},
    {"disable_imds_v1", CFG_BOOL, .when = ECS, .def = "true", SPEC(disable_imds_v1)},
    {"role_arn", CFG_NODE, .when = OIDC | ASSUME, .max = 1024, .check = check_role_arn, SPEC(role_arn)},
    {"oidc_provider_arn", CFG_NODE, .when = OIDC, .max = 1024, .check = check_oidc_provider_arn, SPEC(oidc_provider_arn)},
    {"oidc_token_file", CFG_NODE, .when = OIDC, .max = CFG_MAX_STRING, .check = check_absolute, SPEC(oidc_token_file)},
    {"base", CFG_NODE, .when = ASSUME, .max = CFG_MAX_NAME, SPEC(base)},
    {"role_session_name", CFG_NODE, .when = OIDC | ASSUME, .max = 64, .check = check_session_name, SPEC(role_session_name)},
    {"duration", CFG_SECONDS, .when = OIDC | ASSUME, .def = "1h", .min = 900, .max = 43200, SPEC(duration_s)},
    {"external_id", CFG_NODE, .when = ASSUME, .max = 1224, .check = check_external_id, SPEC(external_id)},
    {"policy", CFG_NODE, .when = OIDC | ASSUME, .max = 2048, SPEC(policy)},
    {"sts_endpoint", CFG_NODE, .when = OIDC | ASSUME, .max = 1024, .check = check_sts_endpoint, SPEC(sts_endpoint)},
    {"url", CFG_NODE, .when = URI, .max = 1024, .check = check_url, SPEC(url)},
    {"ca_file", CFG_NODE, .when = RENEWING, .max = CFG_MAX_STRING, .check = check_absolute, SPEC(ca_file)},
    {"startup_timeout", CFG_MS, .when = RENEWING, .min = 1000, .max = 600000, SPEC(startup_timeout_ms)},
};
static const struct cfg_table cred_table = {CFG_ROWS(cred_rows), .selector = "from", .finish = cred_finish};
static const struct cfg_row cred_item = {.kind = CFG_MAP, .sub = &cred_table};

/* ---- backends ---- */

/* After `type`, which decides whether an `oss-` prefix is dropped. */
static enum cfg_status read_region(struct cfg_read *r, const struct cfg_node *v, const char *path, void *obj)
{
    struct cfg_backend *b = obj;
    char show_buf[CFG_SHOW_CAP];
    bool oss = b->type != CFG_BACKEND_S3;
    enum cfg_status st = cfg_want_string(r, v, path, 64);

    if (st != CFG_OK) {
        return st;
    }
    const char *rs = v->value;
    size_t rl = v->len;
    if (oss && rl > 4 && memcmp(rs, "oss-", 4) == 0) {
        rs += 4; /* "oss-cn-hangzhou" names the same region as "cn-hangzhou" */
        rl -= 4;
    }
    if (!cfg_region_valid(rs, rl)) {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is not a region like %s", path, CFG_SHOW(v),
                        oss ? "cn-hangzhou" : "us-east-1");
    }
    return cfg_strndup(rs, rl, &b->region);
}

static const char *check_bucket(const struct cfg_node *v, char *buf, size_t cap)
{
    if (cfg_bucket_valid(v->value, v->len)) {
        return NULL;
    }
    return cfg_why(buf, cap, v, "is not a valid bucket name (3 to 63 of a-z, 0-9 and '-', not starting or ending with '-')");
}

static const char *check_endpoint(const struct cfg_node *v, char *buf, size_t cap)
{
    char show_buf[CFG_SHOW_CAP];
    const char *sep = strstr(v->value, "://");

    if (sep != NULL) {
        int w = snprintf(buf, cap, "%s has a scheme; write the host alone and set scheme: %.*s", CFG_SHOW(v), (int)(sep - v->value),
                         v->value);
        return w < 0 ? "has a scheme" : buf;
    }
    return cfg_endpoint_valid(v->value, v->len) ? NULL : cfg_why(buf, cap, v, "is not host[:port] (lowercase, no path)");
}

static enum cfg_status backend_finish(struct cfg_read *r, const struct cfg_entry *e)
{
    struct cfg_backend *b = e->obj;
    bool oss = b->type != CFG_BACKEND_S3;
    char ep[128];
    enum cfg_status st = cfg_strndup(e->at->value, e->at->len, &b->name);

    if (st != CFG_OK || b->endpoint != NULL) {
        return st;
    }
    if (b->addressing == CFG_ADDR_CNAME) {
        return cfg_fail(r, CFG_ERR_SCHEMA, e->at, "%s: addressing: cname needs an endpoint (the bucket's own domain)", e->where);
    }
    int w = oss ? snprintf(ep, sizeof(ep), "oss-%s.aliyuncs.com", b->region)
                : snprintf(ep, sizeof(ep), "s3.%s.amazonaws.com", b->region);
    if (w < 0 || (size_t)w >= sizeof(ep)) {
        return cfg_fail(r, CFG_ERR_SCHEMA, e->at, "%s: cannot derive an endpoint from the region", e->where);
    }
    return cfg_strndup(ep, (size_t)w, &b->endpoint);
}

static const char *const type_names[] = {"oss", "oss-v1", "s3", NULL};
static const char *const addressing_names[] = {"virtual", "path", "cname", NULL};
static const char *const scheme_names[] = {"https", "http", NULL};
static const int scheme_https[] = {true, false};

static const struct cfg_row backend_rows[] = {
    {"type", CFG_ENUM, .names = type_names, .def = "oss", CFG_AT(struct cfg_backend, type)},
    {"region", CFG_CUSTOM, CFG_REQUIRED, .read = read_region},
    {"bucket", CFG_STRING, CFG_REQUIRED, .max = 64, .check = check_bucket, CFG_AT(struct cfg_backend, bucket)},
    {"addressing", CFG_ENUM, .names = addressing_names, .def = "virtual", CFG_AT(struct cfg_backend, addressing)},
    {"scheme", CFG_ENUM, .names = scheme_names, .values = scheme_https, .def = "https", CFG_AT(struct cfg_backend, https)},
    {"endpoint", CFG_STRING, .max = CFG_MAX_HOST + 8, .check = check_endpoint, CFG_AT(struct cfg_backend, endpoint)},
    {"credentials", CFG_REF, .max = CFG_MAX_NAME}, /* resolved by resolve_credentials */
};
static const struct cfg_table backend_table = {CFG_ROWS(backend_rows), .finish = backend_finish};
static const struct cfg_row backend_item = {.kind = CFG_MAP, .sub = &backend_table};

/* ---- routes ---- */

static const char *check_prefix(const struct cfg_node *v, char *buf, size_t cap)
{
    if (v->value[0] != '/' || v->value[v->len - 1] != '/') {
        return cfg_why(buf, cap, v, "must start and end with '/', like /files/");
    }
    if (!cfg_path_valid(v->value, v->len)) {
        return cfg_why(buf, cap, v,
                       "is not a plain URL path (letters, digits, -._~!$&'()*+,;=:@ and '/', no empty, . or .. segment)");
    }
    return NULL;
}

static const char *check_key_prefix(const struct cfg_node *v, char *buf, size_t cap)
{
    return v->value[0] == '/' ? cfg_why(buf, cap, v, "must not start with '/' (object keys do not)") : NULL;
}

static const char *check_media_type(const struct cfg_node *v, char *buf, size_t cap)
{
    return cfg_media_type_valid(v->value, v->len) ? NULL : cfg_why(buf, cap, v, "is not a media type like text/plain");
}

static const char *check_status(const struct cfg_node *v, char *buf, size_t cap)
{
    bool ok = strcmp(v->value, "302") == 0 || strcmp(v->value, "307") == 0;

    return ok ? NULL : cfg_why(buf, cap, v, "is not 302 or 307");
}

static const char *check_referrer_policy(const struct cfg_node *v, char *buf, size_t cap)
{
    return cfg_referrer_policy_valid(v->value) ? NULL : cfg_why(buf, cap, v, "is not a Referrer-Policy token (like no-referrer)");
}

/* cache: no-store, "private, max-age=N" (N seconds), or a duration (private, max-age of that duration). */
static enum cfg_status read_cache(struct cfg_read *r, const struct cfg_node *v, const char *path, void *obj)
{
    struct cfg_route *route = obj;
    char show_buf[CFG_SHOW_CAP];
    static const char pm[] = "private, max-age=";
    static const char pm2[] = "private,max-age=";
    uint64_t n = 0;
    enum cfg_status st = cfg_want_string(r, v, path, 64);

    if (st != CFG_OK) {
        return st;
    }
    if (strcmp(v->value, "no-store") == 0) {
        route->cache_max_age_s = 0;
        return CFG_OK;
    }
    bool ok = false;
    if (v->len > sizeof(pm) - 1 && memcmp(v->value, pm, sizeof(pm) - 1) == 0) {
        ok = cfg_parse_uint(v->value + sizeof(pm) - 1, v->len - (sizeof(pm) - 1), &n);
    } else if (v->len > sizeof(pm2) - 1 && memcmp(v->value, pm2, sizeof(pm2) - 1) == 0) {
        ok = cfg_parse_uint(v->value + sizeof(pm2) - 1, v->len - (sizeof(pm2) - 1), &n);
    } else if (cfg_parse_duration_ms(v->value, v->len, &n) == CFG_DUR_OK) {
        if (n % 1000 != 0) {
            return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is not a whole number of seconds", path, CFG_SHOW(v));
        }
        n /= 1000;
        ok = true;
    }
    if (!ok) {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is not no-store, \"private, max-age=N\" or a duration like 5m", path,
                        CFG_SHOW(v));
    }
    if (n == 0) {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: a max-age of 0 is written no-store", path);
    }
    if (n > CFG_MAX_EXPIRES) {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is outside 1s..7d", path, CFG_SHOW(v));
    }
    route->cache_max_age_s = (uint32_t)n;
    return CFG_OK;
}

static enum cfg_status route_finish(struct cfg_read *r, const struct cfg_entry *e)
{
    const struct cfg_route *route = e->obj;
    char a[32];
    char b[32];

    if ((uint64_t)route->expires_s + route->sign_window_s > CFG_MAX_EXPIRES) {
        cfg_fmt_duration_ms(a, sizeof(a), (uint64_t)route->expires_s * 1000);
        cfg_fmt_duration_ms(b, sizeof(b), (uint64_t)route->sign_window_s * 1000);
        return cfg_fail(r, CFG_ERR_SCHEMA, cfg_map_get(e->map, "sign_window"),
                        "%s.sign_window: expires %s plus sign_window %s is more than 7d", e->where, a, b);
    }
    if (route->cache_max_age_s != 0 && route->cache_max_age_s >= route->expires_s) {
        cfg_fmt_duration_ms(a, sizeof(a), (uint64_t)route->cache_max_age_s * 1000);
        cfg_fmt_duration_ms(b, sizeof(b), (uint64_t)route->expires_s * 1000);
        return cfg_fail(r, CFG_ERR_SCHEMA, cfg_map_get(e->map, "cache"),
                        "%s.cache: max-age %s must be shorter than expires %s, or a cached redirect outlives its URL", e->where, a,
                        b);
    }
    return CFG_OK;
}

static const char *const disposition_names[] = {"none", "attachment", "inline", NULL};

static const struct cfg_row route_rows[] = {
    {"prefix", CFG_STRING, CFG_REQUIRED | CFG_HAS_LEN, .max = CFG_MAX_PREFIX, .check = check_prefix,
     .len_at = offsetof(struct cfg_route, prefix_len), CFG_AT(struct cfg_route, prefix)},
    {"backend", CFG_REF, CFG_REQUIRED, .max = CFG_MAX_NAME}, /* resolved by check_routes */
    {"key_prefix", CFG_STRING, CFG_NULL_DEFAULT | CFG_HAS_LEN, .def = "", .max = CFG_MAX_KEY_PREFIX, .check = check_key_prefix,
     .len_at = offsetof(struct cfg_route, key_prefix_len), CFG_AT(struct cfg_route, key_prefix)},
    {"expires", CFG_SECONDS, .def = "15m", .min = 1, .max = CFG_MAX_EXPIRES, CFG_AT(struct cfg_route, expires_s)},
    {"sign_window", CFG_SECONDS, .def = "0s", .min = 0, .max = CFG_MAX_EXPIRES, CFG_AT(struct cfg_route, sign_window_s)},
    {"disposition", CFG_ENUM, .names = disposition_names, .def = "none", CFG_AT(struct cfg_route, disposition)},
    {"content_type", CFG_STRING, CFG_NULL_DEFAULT, .max = CFG_MAX_CONTENT_TYPE, .check = check_media_type,
     CFG_AT(struct cfg_route, content_type)},
    {"cache", CFG_CUSTOM, .read = read_cache, .def = "no-store"},
    {"status", CFG_COUNT, .def = "302", .min = 0, .max = 999, .check = check_status, CFG_AT(struct cfg_route, status)},
    {"referrer_policy", CFG_STRING, CFG_NULL_DEFAULT, .max = 64, .check = check_referrer_policy,
     CFG_AT(struct cfg_route, referrer_policy)},
};
static const struct cfg_table route_table = {CFG_ROWS(route_rows), .finish = route_finish};
static const struct cfg_row route_item = {.kind = CFG_MAP, .sub = &route_table};

/* ---- checks across sections ---- */

static bool overlaps(const char *a, const char *b)
{
    size_t al = strlen(a);
    size_t bl = strlen(b);

    return memcmp(a, b, al < bl ? al : bl) == 0;
}

static enum cfg_status check_routes(struct cfg_read *r, struct cfg_config *cfg, const struct cfg_node *root)
{
    const struct cfg_node *routes = cfg_map_get(root, "routes");
    const struct cfg_node *metrics = cfg_map_get(root, "metrics");

    if (cfg->health_path != NULL && cfg->metrics_path != NULL && strcmp(cfg->health_path, cfg->metrics_path) == 0) {
        return cfg_fail(r, CFG_ERR_SCHEMA, metrics != NULL ? metrics : cfg_map_get(root, "health"),
                        "metrics: %s is also the health path", cfg->metrics_path);
    }
    for (size_t i = 0; i < cfg->n_routes; i++) {
        struct cfg_route *rt = &cfg->routes[i];
        const struct cfg_node *prefix = cfg_map_get(routes->items[i], "prefix");
        const struct cfg_node *backend = cfg_map_get(routes->items[i], "backend");
        char where[32];
        if (snprintf(where, sizeof(where), "routes[%zu]", i) < 0) {
            where[0] = '\0';
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->routes[j].prefix, rt->prefix) == 0) {
                return cfg_fail(r, CFG_ERR_SCHEMA, prefix, "%s.prefix: %s is also the prefix of routes[%zu]", where, rt->prefix, j);
            }
            if (overlaps(cfg->routes[j].prefix, rt->prefix)) {
                return cfg_fail(r, CFG_ERR_SCHEMA, prefix, "%s.prefix: %s overlaps routes[%zu].prefix %s", where, rt->prefix, j,
                                cfg->routes[j].prefix);
            }
        }
        const char *specials[] = {cfg->health_path, cfg->metrics_path};
        const char *names[] = {"health", "metrics"};
        for (size_t k = 0; k < 2; k++) {
            if (specials[k] != NULL && overlaps(specials[k], rt->prefix)) {
                return cfg_fail(r, CFG_ERR_SCHEMA, prefix, "%s.prefix: %s overlaps the %s path %s", where, rt->prefix, names[k],
                                specials[k]);
            }
        }
        size_t b = 0;
        while (b < cfg->n_backends && strcmp(cfg->backends[b].name, backend->value) != 0) {
            b++;
        }
        if (b == cfg->n_backends) {
            char show_buf[CFG_SHOW_CAP];
            return cfg_fail(r, CFG_ERR_SCHEMA, backend, "%s.backend: no backend named '%s'", where, CFG_SHOW(backend));
        }
        rt->backend = &cfg->backends[b];
    }
    return CFG_OK;
}

static size_t find_spec(const struct doc *d, const char *name)
{
    size_t s = 0;

    while (s < d->n_specs && strcmp(d->specs[s].name->value, name) != 0) {
        s++;
    }
    return s;
}

/* Follows each assume_role set's `base` chain: every name must exist, no chain may come back to where it started,
 * and a set in use makes its bases in use. Sets `depth`, so that bases can be placed before the sets using them. */
static enum cfg_status link_bases(struct cfg_read *r, struct doc *d)
{
    for (size_t s = 0; s < d->n_specs; s++) {
        struct cfg_cred_spec *spec = &d->specs[s];
        size_t cur = s;
        size_t depth = 0;
        bool in_use = spec->used_oss || spec->used_s3;
        while (d->specs[cur].from == CFG_FROM_ASSUME_ROLE) {
            const struct cfg_node *base = d->specs[cur].base;
            size_t next = find_spec(d, base->value);
            char show_buf[CFG_SHOW_CAP];
            if (next == d->n_specs) {
                return cfg_fail(r, CFG_ERR_SCHEMA, base, "credentials.%s.base: no credential set named '%s'",
                                d->specs[cur].name->value, CFG_SHOW(base));
            }
            if (next == s || depth >= d->n_specs) {
                return cfg_fail(r, CFG_ERR_SCHEMA, spec->base, "credentials.%s.base: the chain of bases comes back to '%s'",
                                spec->name->value, d->specs[next].name->value);
            }
            if (in_use) {
                d->specs[next].used_base = true;
            }
            cur = next;
            depth++;
        }
        spec->depth = depth;
    }
    return CFG_OK;
}

static bool spec_in_use(const struct cfg_cred_spec *spec)
{
    return spec->used_oss || spec->used_s3 || spec->used_base;
}

/* Ties each backend to its credential set, then resolves the sets in use (only those: an unused set is checked but
 * not read, and left out of the config), bases first. */
static enum cfg_status resolve_credentials(struct cfg_read *r, struct doc *d, const struct cfg_node *root)
{
    struct cfg_config *cfg = &d->cfg;
    const struct cfg_node *backends = cfg_map_get(root, "backends");
    size_t *set_of = calloc(cfg->n_backends + 1, sizeof(*set_of)); /* index into d->specs, per backend */
    size_t *slot = calloc(d->n_specs + 1, sizeof(*slot));          /* index into cfg->credentials, per set */
    size_t n_used = 0;
    size_t max_depth = 0;
    enum cfg_status st = CFG_OK;

    if (set_of == NULL || slot == NULL) {
        st = CFG_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < cfg->n_backends; i++) {
        const struct cfg_node *name = backends->items[2 * i];
        const struct cfg_node *ref = cfg_map_get(backends->items[2 * i + 1], "credentials");
        const char *want = ref != NULL ? ref->value : "default";
        size_t s = find_spec(d, want);
        if (s == d->n_specs) {
            st = ref == NULL
                     ? cfg_fail(r, CFG_ERR_SCHEMA, name, "backends.%s: no credentials key, and no credential set named 'default'",
                                name->value)
                     : cfg_fail(r, CFG_ERR_SCHEMA, ref, "backends.%s.credentials: no credential set named '%s'", name->value, want);
            goto cleanup;
        }
        set_of[i] = s;
        struct cfg_cred_spec *spec = &d->specs[s];
        bool oss = cfg->backends[i].type != CFG_BACKEND_S3;
        if (spec->from == CFG_FROM_ENV && spec->id_var == NULL && (oss ? spec->used_s3 : spec->used_oss)) {
            st = cfg_fail(r, CFG_ERR_SCHEMA, spec->name,
                          "credentials.%s: used by both OSS and S3 backends (backends.%s among them), which read "
                          "different variables; set id_var and secret_var, or use two sets",
                          spec->name->value, name->value);
            goto cleanup;
        }
        if (oss) {
            spec->used_oss = true;
        } else {
            spec->used_s3 = true;
        }
    }
    st = link_bases(r, d);
    if (st != CFG_OK) {
        goto cleanup;
    }
    for (size_t s = 0; s < d->n_specs; s++) {
        if (spec_in_use(&d->specs[s]) && d->specs[s].depth > max_depth) {
            max_depth = d->specs[s].depth;
        }
    }
    for (size_t depth = 0; depth <= max_depth; depth++) {
        for (size_t s = 0; s < d->n_specs; s++) {
            if (spec_in_use(&d->specs[s]) && d->specs[s].depth == depth) {
                slot[s] = n_used++;
            }
        }
    }
    cfg->credentials = calloc(n_used + 1, sizeof(*cfg->credentials));
    if (cfg->credentials == NULL) {
        st = CFG_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t depth = 0; depth <= max_depth; depth++) {
        for (size_t s = 0; s < d->n_specs; s++) {
            struct cfg_cred_spec *spec = &d->specs[s];
            if (!spec_in_use(spec) || spec->depth != depth) {
                continue;
            }
            struct cfg_credentials *c = &cfg->credentials[slot[s]];
            cfg->n_credentials = slot[s] + 1;
            if (spec->startup_timeout_ms == 0) {
                spec->startup_timeout_ms = cfg->startup_timeout_ms;
            }
            st = cfg_cred_resolve(c, r->src, spec, r->env, r->err);
            if (st != CFG_OK) {
                goto cleanup;
            }
            if (spec->from == CFG_FROM_ASSUME_ROLE) {
                c->renew.base = &cfg->credentials[slot[find_spec(d, spec->base->value)]];
            }
        }
    }
    for (size_t i = 0; i < cfg->n_backends; i++) {
        cfg->backends[i].credentials = &cfg->credentials[slot[set_of[i]]];
    }
cleanup:
    free(set_of);
    free(slot);
    return st;
}

static enum cfg_status top_finish(struct cfg_read *r, const struct cfg_entry *e)
{
    struct doc *d = e->obj;
    enum cfg_status st = check_routes(r, &d->cfg, e->map);

    if (st == CFG_OK) {
        st = resolve_credentials(r, d, e->map);
    }
    return st;
}

/* ---- the top level ---- */

#define LIST_OF(item_, type, member, n_member)                                                                                     \
    .item = &(item_), .item_size = sizeof(type), CFG_AT(struct doc, member), .count_at = offsetof(struct doc, n_member)

static const struct cfg_row top_rows[] = {
    {"listen", CFG_LIST, CFG_ONE_OR_LIST, LIST_OF(listen_item, struct cfg_listen, cfg.listen, cfg.n_listen), .def = "0.0.0.0:8080",
     .min = 1, .max = CFG_MAX_LISTEN, .noun = "address", .nouns = "addresses", .item_check = listen_unique},
    {"workers", CFG_CUSTOM, .read = read_workers, .def = "auto"},
    {"limits", CFG_MAP, .sub = &limits_table, CFG_AT(struct doc, cfg.limits)},
    {"log", CFG_MAP, .sub = &log_table, CFG_AT(struct doc, cfg.log)},
    {"health", CFG_STRING, CFG_OFF, .def = "/healthz", .max = CFG_MAX_PREFIX, .check = check_special_path,
     CFG_AT(struct doc, cfg.health_path)},
    {"metrics", CFG_STRING, CFG_OFF, .def = "/metrics", .max = CFG_MAX_PREFIX, .check = check_special_path,
     CFG_AT(struct doc, cfg.metrics_path)},
    {"startup_timeout", CFG_MS, .def = "10s", .min = 1000, .max = 600000, CFG_AT(struct doc, cfg.startup_timeout_ms)},
    {"credentials", CFG_NAMED, LIST_OF(cred_item, struct cfg_cred_spec, specs, n_specs), .min = 0, .max = CFG_MAX_CREDENTIALS,
     .noun = "credential set"},
    {"backends", CFG_NAMED, CFG_REQUIRED, LIST_OF(backend_item, struct cfg_backend, cfg.backends, cfg.n_backends), .min = 1,
     .max = CFG_MAX_BACKENDS, .noun = "backend"},
    {"routes", CFG_LIST, CFG_REQUIRED, LIST_OF(route_item, struct cfg_route, cfg.routes, cfg.n_routes), .min = 1,
     .max = CFG_MAX_ROUTES, .noun = "route", .nouns = "routes"},
};
static const struct cfg_table top_table = {CFG_ROWS(top_rows), .finish = top_finish};

enum cfg_status cfg_build(struct cfg_config **out, const struct cfg_source *src, const struct cfg_node *root,
                          const struct cfg_env *env, struct cfg_error *err)
{
    struct doc d = {.specs = NULL};
    struct cfg_read r = {.src = src, .env = env, .err = err};
    enum cfg_status st;

    *out = NULL;
    st = cfg_strndup(src->name, strlen(src->name), &d.cfg.path);
    if (st != CFG_OK) {
        goto cleanup;
    }
    if (root == NULL) {
        st = cfg_fail(&r, CFG_ERR_SCHEMA, NULL, "empty configuration; expected a mapping with backends and routes");
        goto cleanup;
    }
    st = cfg_read_table(&r, &top_table, &d, root, root, "", 0);
    if (st != CFG_OK) {
        goto cleanup;
    }
    *out = malloc(sizeof(**out));
    if (*out == NULL) {
        st = CFG_ERR_NOMEM;
        goto cleanup;
    }
    **out = d.cfg; /* the caller owns it now */
    d.cfg = (struct cfg_config){.path = NULL};
cleanup:
    cfg_config_cleanup(&d.cfg);
    free(d.specs);
    return st;
}
