/* cfg.h: the gateway's configuration, loaded from one YAML file (plus environment and credential files) into one
 * validated, immutable value.
 *
 * A config is built whole by cfg_load_file() or cfg_load_buffer() and never edited afterwards; a reload builds a new
 * one beside the old. Every string in it is owned by the config and NUL-terminated. Secrets are wiped by cfg_free().
 * Nothing here logs or exits: failures come back as an enum cfg_status plus a `file:line:col: message` text. */
#ifndef CFG_H
#define CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_MUST_USE __attribute__((warn_unused_result))

/* Bounds on the input. */
#define CFG_MAX_FILE_BYTES (1024 * 1024) /* a larger file is refused */
#define CFG_MAX_DEPTH 16                 /* nesting of mappings and sequences */
#define CFG_MAX_STRING 4096              /* any scalar, in bytes */
#define CFG_MAX_LISTEN 16
#define CFG_MAX_TLS_CERTS 16 /* certificates of one TLS listener */
#define CFG_MAX_PATH 4095    /* a certificate or key file path, bytes */
#define CFG_MAX_CREDENTIALS 64
#define CFG_MAX_BACKENDS 64
#define CFG_MAX_ROUTES 256
#define CFG_MAX_PREFIX 256     /* route prefix and health/metrics paths, bytes */
#define CFG_MAX_KEY_PREFIX 512 /* route key_prefix, bytes */
#define CFG_MAX_SECRET 256     /* access key secret, bytes */
#define CFG_MAX_TOKEN 8192     /* STS security token, bytes */
#define CFG_MAX_WORKERS 256
#define CFG_MAX_EXPIRES 604800 /* 7 days, the stores' limit for a presigned URL */

enum cfg_status {
    CFG_OK = 0,
    CFG_ERR_IO,          /* the file (or a credential file) could not be read */
    CFG_ERR_SYNTAX,      /* not well-formed YAML, or a bound on the input was hit */
    CFG_ERR_SCHEMA,      /* well-formed, but a key, type or value is not allowed */
    CFG_ERR_CREDENTIALS, /* a credential set could not be resolved or is unsafe */
    CFG_ERR_NOMEM,
};

/* cfg_strerror returns a static description of `st`. */
const char *cfg_strerror(enum cfg_status st);

/* struct cfg_error receives a one-line `file:line:col: message` (1-based line and column), or `file: message` when no
 * position applies. It never contains a secret. */
struct cfg_error {
    char msg[512];
};

enum cfg_backend_type {
    CFG_BACKEND_OSS = 0, /* OSS signature V4, OSS4-HMAC-SHA256 (the default) */
    CFG_BACKEND_OSS_V1,  /* legacy OSS V1, HMAC-SHA1 */
    CFG_BACKEND_S3,      /* S3-compatible, AWS SigV4 */
};

enum cfg_addressing {
    CFG_ADDR_VIRTUAL = 0, /* bucket.endpoint/key (default) */
    CFG_ADDR_PATH,        /* endpoint/bucket/key */
    CFG_ADDR_CNAME,       /* endpoint/key, the endpoint is the bucket's custom domain */
};

enum cfg_disposition {
    CFG_DISP_NONE = 0,   /* sign no response-content-disposition (default) */
    CFG_DISP_ATTACHMENT, /* attachment; filename="..."; filename*=UTF-8''... from the key's last segment */
    CFG_DISP_INLINE,     /* the same with inline */
};

enum cfg_access_log {
    CFG_ACCESS_STDOUT = 0, /* default */
    CFG_ACCESS_OFF,
    CFG_ACCESS_FILE, /* cfg_log.access_path */
};

/* Syslog levels, as sd-daemon's `<N>` prefixes use them. */
enum cfg_log_level {
    CFG_LEVEL_ERR = 3,
    CFG_LEVEL_WARNING = 4,
    CFG_LEVEL_NOTICE = 5,
    CFG_LEVEL_INFO = 6, /* default */
    CFG_LEVEL_DEBUG = 7,
};

/* struct cfg_tls_cert is one certificate of a TLS listener: absolute paths of a PEM chain (leaf first) and of its PEM
 * private key. conf/ only checks that both are regular files and that the key is not readable by group or others
 * (unless under $CREDENTIALS_DIRECTORY); the gateway parses them when it starts and at each reload. */
struct cfg_tls_cert {
    char *cert;
    char *key;
};

/* struct cfg_tls is a listener's `tls:` mapping; n_certs == 0 means a plain listener. */
struct cfg_tls {
    struct cfg_tls_cert *certs; /* the first is the default for an unknown or missing SNI name */
    size_t n_certs;
};

/* struct cfg_listen is one `listen:` entry: "0.0.0.0:8080", "[::1]:8080", "127.0.0.1:0" (port 0 = any free port, for
 * tests), or a mapping {address: ..., tls: {certificates: [{cert: FILE, key: FILE}, ...]}}. `host` is a numeric IPv4
 * or IPv6 address without brackets, checked with inet_pton. */
struct cfg_listen {
    char *host;
    uint16_t port;
    bool ipv6;
    struct cfg_tls tls;
};

/* struct cfg_limits: all limits the server enforces. Defaults in brackets. */
struct cfg_limits {
    uint32_t max_connections;        /* global open-connection cap [10000], 1..1000000 */
    uint32_t max_connections_per_ip; /* per client address [256], 1..1000000 */
    uint32_t header_timeout_ms;      /* whole request head deadline from its first byte [10s], 100ms..1h */
    uint32_t idle_timeout_ms;        /* idle keep-alive [10s], 100ms..1h */
    uint32_t shutdown_timeout_ms;    /* SIGTERM drain [5s], 0..1h */
    uint32_t max_header_bytes;       /* request line plus headers [8k], 256..1m */
    uint32_t max_uri_bytes;          /* request target [4k], 64..max_header_bytes */
    uint32_t max_headers;            /* header fields [100], 1..10000 */
    uint32_t max_requests_per_conn;  /* keep-alive requests on one connection [1000], 1..1000000000 */
};

/* Where a credential set's keys come from: read once at load time (env, files, inline), or fetched and renewed by
 * the gateway (issue 11; conf/ only describes the source, gateway/creds fetches). */
enum cfg_cred_source {
    CFG_CRED_STATIC = 0,   /* from: env, files or inline; the keys are in the struct */
    CFG_CRED_ECS_RAM_ROLE, /* ECS instance metadata (IMDSv2) */
    CFG_CRED_OIDC,         /* STS AssumeRoleWithOIDC (RRSA on ACK) */
    CFG_CRED_ASSUME_ROLE,  /* STS AssumeRole signed with another set */
    CFG_CRED_URI,          /* a credentials URI */
};

#define CFG_DEFAULT_METADATA_URL "http://100.100.100.200"
#define CFG_DEFAULT_STS_URL "https://sts.aliyuncs.com"
#define CFG_DEFAULT_SESSION_NAME "oss-gateway"

struct cfg_credentials;

/* struct cfg_cred_renew: the keys of a renewing source. Strings are owned; NULL = not given (where a default is
 * documented, the default has been filled in: metadata_url, sts_url, role_session_name, and the oidc and uri
 * environment variables). */
struct cfg_cred_renew {
    char *role_name;    /* ecs_ram_role; NULL = discovered */
    char *metadata_url; /* ecs_ram_role */
    bool disable_imds_v1;
    char *role_arn;                     /* oidc, assume_role */
    char *oidc_provider_arn;            /* oidc */
    char *oidc_token_file;              /* oidc */
    char *role_session_name;            /* oidc, assume_role */
    uint32_t duration_s;                /* oidc, assume_role: 900..43200 */
    char *sts_url;                      /* oidc, assume_role: https://host[:port] from sts_endpoint */
    char *external_id;                  /* assume_role */
    char *policy;                       /* oidc, assume_role */
    const struct cfg_credentials *base; /* assume_role: points into cfg_config.credentials, earlier than this set */
    char *url;                          /* uri */
    char *ca_file;                      /* https: NULL = the system bundle */
    bool watch;                         /* files: the gateway re-reads `dir` when its files change (inotify) */
    char *dir;                          /* files with watch: the directory read */
};

/* struct cfg_credentials is one named credential set. Static sets are resolved at load time; renewing ones carry
 * their source in `renew` and no keys. */
struct cfg_credentials {
    char *name;
    enum cfg_cred_source source;
    char *access_key_id;
    uint8_t *secret; /* not NUL-terminated; wiped by cfg_free() */
    size_t secret_len;
    char *security_token; /* NULL without STS */
    int64_t expiration;   /* Unix seconds when the credentials expire; 0 = no known expiry */
    struct cfg_cred_renew renew;
    uint32_t startup_timeout_ms; /* renewing sets: the set's own, else cfg_config.startup_timeout_ms */
};

struct cfg_backend {
    char *name;
    enum cfg_backend_type type;
    char *region;   /* without an `oss-` prefix (stripped when configured with one) */
    char *bucket;   /* 3..63 of [a-z0-9-], not starting or ending with '-' */
    char *endpoint; /* host[:port], no scheme */
    enum cfg_addressing addressing;
    bool https;                                /* scheme: https (default) or http */
    const struct cfg_credentials *credentials; /* points into cfg_config.credentials */
};

struct cfg_route {
    char *prefix; /* starts and ends with '/', e.g. "/files/" */
    size_t prefix_len;
    const struct cfg_backend *backend; /* points into cfg_config.backends */
    char *key_prefix;                  /* prepended to the decoded key; "" by default */
    size_t key_prefix_len;
    uint32_t expires_s;     /* URL validity [15m], 1..604800 */
    uint32_t sign_window_s; /* quantisation of the signing time [0 = sign every request]; expires+window <= 7d */
    enum cfg_disposition disposition;
    char *content_type;       /* signed as response-content-type; NULL = none */
    uint32_t cache_max_age_s; /* 0 = "Cache-Control: no-store"; else "private, max-age=N", N < expires_s */
    uint16_t status;          /* 302 (default) or 307 */
    char *referrer_policy;    /* Referrer-Policy header value; NULL = none */
};

struct cfg_log {
    enum cfg_access_log access;
    char *access_path; /* with CFG_ACCESS_FILE */
    enum cfg_log_level level;
};

struct cfg_config {
    char *path; /* the file it was loaded from (or the buffer's name) */
    struct cfg_listen *listen;
    size_t n_listen;
    uint32_t workers; /* 0 = auto (one per CPU) */
    struct cfg_limits limits;
    struct cfg_log log;
    struct cfg_credentials *credentials; /* a set comes after the set it is based on (assume_role `base`) */
    size_t n_credentials;
    uint32_t startup_timeout_ms; /* [10s] how long start-up waits for the first credentials of a renewing set */
    struct cfg_backend *backends;
    size_t n_backends;
    struct cfg_route *routes; /* no prefix is a prefix of another */
    size_t n_routes;
    char *health_path;  /* NULL = disabled; default "/healthz" */
    char *metrics_path; /* NULL = disabled; default "/metrics" */
};

/* cfg_getenv_fn looks up an environment variable; returns NULL when unset. */
typedef const char *(*cfg_getenv_fn)(void *ctx, const char *name);

/* struct cfg_env is where credentials come from outside the file. NULL fields mean the process's own: getenv(3). */
struct cfg_env {
    cfg_getenv_fn getenv_fn;
    void *ctx;
};

/* cfg_load_file reads the YAML file at `path` (at most CFG_MAX_FILE_BYTES) and builds a config. On CFG_OK `*out` is a new
 * config (free with cfg_free); otherwise `*out` is NULL and `err` holds the message. `env` may be NULL. */
CFG_MUST_USE enum cfg_status cfg_load_file(struct cfg_config **out, const char *path, const struct cfg_env *env,
                                           struct cfg_error *err);

/* cfg_load_buffer is cfg_load_file on `len` bytes at `buf`; `name` stands for the file name in messages and decides
 * nothing else (inline secrets are refused unless cfg_load_file checked the file's mode). */
CFG_MUST_USE enum cfg_status cfg_load_buffer(struct cfg_config **out, const char *name, const char *buf, size_t len,
                                             const struct cfg_env *env, struct cfg_error *err);

/* cfg_free wipes every secret in `cfg` and frees it. NULL is allowed. */
void cfg_free(struct cfg_config *cfg);

/* cfg_cred_read_files reads the one-value files of a `from: files` set named `name` from `dir` into `out` (zeroed
 * first), with the checks loading makes; messages start with `dir` and never show a value. On failure `out` is
 * cleaned up. For a watched set (cfg_cred_renew.watch) re-reading its files. */
CFG_MUST_USE enum cfg_status cfg_cred_read_files(struct cfg_credentials *out, const char *name, const char *dir,
                                                 struct cfg_error *err);

/* cfg_credentials_cleanup wipes and frees what `c` holds and zeroes it. */
void cfg_credentials_cleanup(struct cfg_credentials *c);

/* cfg_route_match returns the route whose prefix starts `path` (`len` bytes, not NUL-terminated), or NULL. */
const struct cfg_route *cfg_route_match(const struct cfg_config *cfg, const char *path, size_t len);

#endif
