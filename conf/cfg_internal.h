/* cfg_internal.h: what the files of conf/ share. Not installed, not for other modules.
 *
 * cfg_load.c turns YAML text into a small tree of struct cfg_node (the only file that sees libyaml), cfg_schema.c
 * describes the schema as tables (one row per key) that cfg_engine.c (cfg_engine.h) checks the tree against while it
 * builds the struct cfg_config, cfg_cred.c resolves credential sets, and cfg_value.c holds the pure value parsers that
 * the tests call directly. */
#ifndef CFG_INTERNAL_H
#define CFG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

/* Bounds not in cfg.h: the whole schema fits in far fewer nodes (256 routes of 10 keys is about 5,400). */
#define CFG_MAX_NODES 32768
#define CFG_MAX_NAME 64    /* credential set and backend names */
#define CFG_MAX_KEY_ID 256 /* access key id, bytes */
#define CFG_MAX_HOST 253   /* endpoint host */
#define CFG_MAX_CONTENT_TYPE 256

enum cfg_node_type {
    CFG_NODE_SCALAR = 0,
    CFG_NODE_MAP,
    CFG_NODE_SEQ,
};

/* struct cfg_node is one YAML node with its 1-based position. A mapping holds its keys and values alternately in
 * `items`. A scalar's `value` is NUL-terminated and holds no NUL byte; it is wiped when the tree is freed, since an
 * inline secret is a scalar. */
struct cfg_node {
    enum cfg_node_type type;
    bool plain; /* an unquoted scalar: only these can be null */
    size_t line;
    size_t col;
    char *value;
    size_t len;
    struct cfg_node **items;
    size_t n_items;
    size_t cap_items;
};

/* The mode bits that make a file with a secret unsafe: readable by group or others. */
#define CFG_SECRET_MODE_BITS 0044

/* Where the text came from, which decides whether inline secrets are allowed. */
struct cfg_source {
    const char *name;
    bool is_file;
    uint32_t mode; /* st_mode & 07777 when is_file */
};

enum cfg_cred_from {
    CFG_FROM_ENV = 0,
    CFG_FROM_FILES,
    CFG_FROM_INLINE,
    CFG_FROM_ECS_RAM_ROLE,
    CFG_FROM_OIDC,
    CFG_FROM_ASSUME_ROLE,
    CFG_FROM_URI,
};

/* struct cfg_cred_spec is one `credentials:` entry after the schema checks, still unresolved: the nodes it names
 * (NULL when absent) and which kinds of backend use it. */
struct cfg_cred_spec {
    const struct cfg_node *name; /* the key naming the set: errors about the set point here */
    enum cfg_cred_from from;
    const struct cfg_node *id_var;
    const struct cfg_node *secret_var;
    const struct cfg_node *token_var;
    const struct cfg_node *dir;
    const struct cfg_node *access_key_id;
    const struct cfg_node *access_key_secret;
    const struct cfg_node *security_token;
    /* renewing sources (cfg_cred_renew): the nodes given, NULL when absent */
    const struct cfg_node *role_name;
    const struct cfg_node *metadata_url;
    bool disable_imds_v1;
    const struct cfg_node *role_arn;
    const struct cfg_node *oidc_provider_arn;
    const struct cfg_node *oidc_token_file;
    const struct cfg_node *role_session_name;
    uint32_t duration_s;
    const struct cfg_node *sts_endpoint;
    const struct cfg_node *base;
    const struct cfg_node *external_id;
    const struct cfg_node *policy;
    const struct cfg_node *url;
    const struct cfg_node *ca_file;
    uint32_t startup_timeout_ms; /* 0 = not given */
    bool watch;                  /* files */
    bool used_oss;               /* by an oss or oss-v1 backend */
    bool used_s3;
    bool used_base; /* as the base of an assume_role set in use */
    size_t depth;   /* assume_role: 1 + its base's depth; else 0 */
};

/* cfg_cred_resolve reads the values of `spec` from the environment, the credential files or the tree into `out`
 * (whose fields must be zero; on failure what was filled is freed by cfg_free). Messages name variables, files and
 * keys, never a value (cfg_cred.c). */
enum cfg_status cfg_cred_resolve(struct cfg_credentials *out, const struct cfg_source *src, const struct cfg_cred_spec *spec,
                                 const struct cfg_env *env, struct cfg_error *err);

/* Checks of renewing-source values, shared by the schema (values from the file) and cfg_cred_resolve (values from
 * the environment). Each returns NULL when `s` (`len` bytes) is good, else what it is not ("is not a RAM role ARN
 * like ..."). */
const char *cfg_role_arn_why(const char *s, size_t len);
const char *cfg_oidc_provider_arn_why(const char *s, size_t len);
const char *cfg_http_url_why(const char *s, size_t len);

/* cfg_parse_tree parses `len` bytes at `buf` into a new tree in `*out` (NULL for an empty stream; free with
 * cfg_node_free), refusing anchors, aliases, tags, a second document and the bounds of cfg.h; `name` is for messages
 * (cfg_load.c). */
enum cfg_status cfg_parse_tree(struct cfg_node **out, const char *name, const char *buf, size_t len, struct cfg_error *err);

/* cfg_config_cleanup frees what `cfg` holds (wiping secrets), not `cfg` itself (cfg.c). */
void cfg_config_cleanup(struct cfg_config *cfg);

/* cfg_node_free wipes every scalar of the tree at `n` and frees it. NULL is allowed. */
void cfg_node_free(struct cfg_node *n);

/* cfg_build checks the tree `root` (NULL for an empty stream) and builds a config from it (cfg_schema.c). */
enum cfg_status cfg_build(struct cfg_config **out, const struct cfg_source *src, const struct cfg_node *root,
                          const struct cfg_env *env, struct cfg_error *err);

/* cfg_error_vset writes `name:line:col: message` into `err` (`name: message` when line is 0), truncating (cfg_engine.c). */
void cfg_error_vset(struct cfg_error *err, const char *name, size_t line, size_t col, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
void cfg_error_set(struct cfg_error *err, const char *name, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* cfg_wipe_free wipes `len` bytes at `p` and frees it. NULL is allowed. */
void cfg_wipe_free(void *p, size_t len);

/* cfg_strndup copies `len` bytes at `s` into a new NUL-terminated string in `*out`; CFG_ERR_NOMEM when out of memory. */
enum cfg_status cfg_strndup(const char *s, size_t len, char **out);

/* cfg_getenv looks `name` up through `env` (getenv(3) when env or its function is NULL). */
const char *cfg_getenv(const struct cfg_env *env, const char *name);

/* Value parsers (cfg_value.c). All take a pointer and a length and accept nothing around the value. */

/* cfg_parse_uint: decimal digits only, no sign, no leading zero (so "010" is not taken for octal or decimal). */
bool cfg_parse_uint(const char *s, size_t len, uint64_t *out);

enum cfg_dur_result {
    CFG_DUR_OK = 0,
    CFG_DUR_NO_UNIT, /* a bare number, which is refused for durations */
    CFG_DUR_BAD,
};
/* cfg_parse_duration_ms: a number and one unit, ms, s, m, h or d ("500ms", "90s", "15m", "2h", "7d"). */
enum cfg_dur_result cfg_parse_duration_ms(const char *s, size_t len, uint64_t *out_ms);

/* cfg_parse_size: bytes, or a number with k (1024) or m (1024 * 1024), either case ("8192", "8k", "1m"). */
bool cfg_parse_size(const char *s, size_t len, uint64_t *out);

/* cfg_fmt_duration_ms and cfg_fmt_size write the shortest exact form back ("7d", "100ms", "8k"); never fail. */
void cfg_fmt_duration_ms(char *out, size_t cap, uint64_t ms);
void cfg_fmt_size(char *out, size_t cap, uint64_t bytes);

/* cfg_bucket_valid: 3..63 of [a-z0-9-], neither starting nor ending with '-'. */
bool cfg_bucket_valid(const char *s, size_t len);

/* cfg_region_valid: 1..63 of [a-z0-9-], neither starting nor ending with '-'. */
bool cfg_region_valid(const char *s, size_t len);

/* cfg_endpoint_valid: host[:port], a lowercase DNS name or IPv4 address, or [IPv6]; port 1..65535; nothing else. */
bool cfg_endpoint_valid(const char *s, size_t len);

/* cfg_media_type_valid: type/subtype, optionally with parameters, printable ASCII only (it is signed into a URL and
 * sent back). */
bool cfg_media_type_valid(const char *s, size_t len);

/* cfg_referrer_policy_valid: one Referrer-Policy token (no-referrer, origin, ...); `s` is NUL-terminated. */
bool cfg_referrer_policy_valid(const char *s);

/* cfg_path_valid: starts with '/', only RFC 3986 pchar bytes without '%', no empty, "." or ".." segment. */
bool cfg_path_valid(const char *s, size_t len);

/* cfg_parse_rfc3339_utc: "2026-01-01T00:00:00Z", optionally with a fraction of a second (dropped), into Unix
 * seconds. Only UTC ('Z') is accepted. */
bool cfg_parse_rfc3339_utc(const char *s, size_t len, int64_t *out);

/* cfg_has_ctl: true when a byte of `s` is a control byte (below 0x20, or 0x7f). */
bool cfg_has_ctl(const char *s, size_t len);

#endif
