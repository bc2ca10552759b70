/* cfg_engine.h: the table-driven reader that cfg_schema.c describes the configuration with. Private to conf/.
 *
 * A struct cfg_table lists the keys of one mapping, one struct cfg_row per key, in the order they are read: the row
 * names the key, how its value is read (a string, a number in a unit, an enum, a bool, a nested table, a list, a
 * mapping of names, a scalar or a mapping, or a reader of its own), where in the table's struct the result goes,
 * its bounds and check, and its default in the file's own notation ("15m", "8k", "/healthz"). cfg_read_table walks
 * one mapping against a table: unknown and duplicate keys, wrong node types, missing values and bounds are refused
 * with `file:line:col: path: message`, absent keys get their default, and the table's `finish` hook then runs the
 * checks across its keys. Adding a key is adding a row (and its line in docs/configuration.md). */
#ifndef CFG_ENGINE_H
#define CFG_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "cfg_internal.h"

#define CFG_MAX_ROWS 32  /* keys of one table */
#define CFG_PATH_CAP 160 /* "backends.<64-byte name>.credentials" and the like */
#define CFG_SHOW_CAP 64  /* a value as a message shows it: at most 60 bytes and "..." */

/* The state of one cfg_build: where the text came from, the environment, and where messages go. */
struct cfg_read {
    const struct cfg_source *src;
    const struct cfg_env *env;
    struct cfg_error *err;
};

enum cfg_kind {
    CFG_STRING,        /* char *, an owned copy: a scalar, not null, at most `max` bytes, no control byte */
    CFG_COUNT,         /* a whole number in [min, max]; an unsigned field of `size` bytes */
    CFG_SIZE,          /* bytes: 8192, 8k, 1m; in [min, max] bytes */
    CFG_MS,            /* a duration kept in milliseconds, [min, max] ms */
    CFG_SECONDS,       /* a duration in whole seconds, [min, max] s */
    CFG_ENUM,          /* one of `names`; stores values[i] (or i) into a field of `size` bytes */
    CFG_BOOL,          /* true or false, into a bool */
    CFG_NODE,          /* a scalar kept as its node (const struct cfg_node *) for a later stage; a string when `max` > 0 */
    CFG_REF,           /* a name of something elsewhere (at most `max` bytes), checked here, resolved by a later stage */
    CFG_CUSTOM,        /* read by `read` */
    CFG_MAP,           /* a mapping read by the table `sub` into the struct at `at` */
    CFG_LIST,          /* a sequence of `item`s: array at `at`, its length (size_t) at `count_at`, min..max items */
    CFG_NAMED,         /* a mapping of names to `item`s (names: 1..64 of A-Za-z0-9-_), stored like CFG_LIST */
    CFG_SCALAR_OR_MAP, /* a scalar read by `read`, or a mapping read by the table `sub` into the struct at `at` */
};

/* Row flags. */
#define CFG_REQUIRED 1u     /* an absent key is an error, reported when the row's turn comes */
#define CFG_NULL_DEFAULT 2u /* null means the default (or nothing when there is none) */
#define CFG_OFF 4u          /* CFG_STRING: null or `off` leaves the field NULL, whatever the default */
#define CFG_ONE_OR_LIST 8u  /* CFG_LIST: one item without the sequence (a scalar, or a mapping if items can be) is a list of one */
#define CFG_HAS_LEN 16u     /* CFG_STRING: also store the length (size_t) at `len_at` */

struct cfg_table;
struct cfg_row;

/* What a finish hook is told about the mapping it just read. */
struct cfg_entry {
    void *obj;                  /* the struct the table filled */
    const struct cfg_node *map; /* the mapping */
    const struct cfg_node *at;  /* where errors about the entry point: its name in a CFG_NAMED, else the mapping */
    const char *where;          /* its path in messages: "routes[0]", "backends.main", "" at the top */
    size_t idx;                 /* its index in a CFG_LIST or CFG_NAMED */
};

/* cfg_read_fn reads `v` (at `path` in messages) into `obj`, the struct the row belongs to. */
typedef enum cfg_status (*cfg_read_fn)(struct cfg_read *r, const struct cfg_node *v, const char *path, void *obj);
/* cfg_check_fn looks at a value that was read: NULL when it is good, else the message after "path: ", which it may
 * write into `buf` (see cfg_why). */
typedef const char *(*cfg_check_fn)(const struct cfg_node *v, char *buf, size_t cap);
/* cfg_finish_fn runs the checks across the keys of one entry, after every row was read or defaulted. */
typedef enum cfg_status (*cfg_finish_fn)(struct cfg_read *r, const struct cfg_entry *e);
/* cfg_item_fn checks item `idx` of a CFG_LIST against the ones before it (`items` is the array). */
typedef enum cfg_status (*cfg_item_fn)(struct cfg_read *r, const void *items, size_t idx, const struct cfg_node *v,
                                       const char *path);

struct cfg_row {
    const char *key;
    enum cfg_kind kind;
    unsigned flags;
    size_t at;                   /* offset of the field in the table's struct */
    size_t size;                 /* its size (numbers, enums) */
    size_t len_at;               /* CFG_HAS_LEN */
    const char *def;             /* default in the file's notation, read by this row when the key is absent */
    uint64_t min;                /* numbers: bounds in the row's unit; lists: item counts */
    uint64_t max;                /* ... strings, CFG_NODE, CFG_REF: bytes */
    const char *const *names;    /* CFG_ENUM, NULL-terminated */
    const int *values;           /* CFG_ENUM: what each name stores; NULL = its index */
    unsigned when;               /* in a table with a selector: a bit per selector value this key goes with; 0 = any */
    cfg_check_fn check;          /* scalars, after the read */
    cfg_read_fn read;            /* CFG_CUSTOM, CFG_SCALAR_OR_MAP */
    const struct cfg_table *sub; /* CFG_MAP, CFG_SCALAR_OR_MAP */
    const struct cfg_row *item;  /* CFG_LIST, CFG_NAMED: one item, read into the array element (its `at` is 0) */
    size_t item_size;            /* CFG_LIST, CFG_NAMED */
    size_t count_at;             /* CFG_LIST, CFG_NAMED */
    const char *noun;            /* CFG_LIST, CFG_NAMED: "route", for "needs at least one route" */
    const char *nouns;           /* CFG_LIST: "routes", for "more than 256 routes" */
    cfg_item_fn item_check;      /* CFG_LIST */
};

struct cfg_table {
    const struct cfg_row *rows;
    size_t n_rows;
    const char *selector; /* key of a CFG_ENUM row (read before the rows it selects) whose value decides which keys
                             with a `when` may appear, as `from:` does for a credential set */
    cfg_finish_fn finish; /* NULL = none */
};

/* Field helpers for rows: `.at` and `.size` of a member. */
#define CFG_AT(type, member) .at = offsetof(type, member), .size = sizeof(((type *)0)->member)
#define CFG_ROWS(array) .rows = (array), .n_rows = sizeof(array) / sizeof((array)[0])

/* cfg_read_table reads the mapping `map` into `obj` by `t`. `at` and `where` as in struct cfg_entry. */
enum cfg_status cfg_read_table(struct cfg_read *r, const struct cfg_table *t, void *obj, const struct cfg_node *map,
                               const struct cfg_node *at, const char *where, size_t idx);

/* cfg_fail formats `file:line:col: message` at `at` (1:1 when NULL) into r->err and returns `st`. */
enum cfg_status cfg_fail(struct cfg_read *r, enum cfg_status st, const struct cfg_node *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* cfg_shown returns the value of `n` as a message shows it, cut to 60 bytes in `buf`. Never for credential values. */
const char *cfg_shown(const struct cfg_node *n, char *buf, size_t cap);
#define CFG_SHOW(n) cfg_shown((n), show_buf, sizeof(show_buf))

/* cfg_why writes "<shown value> <tail>" into `buf` and returns it: the usual message of a cfg_check_fn. */
const char *cfg_why(char *buf, size_t cap, const struct cfg_node *v, const char *tail);

/* cfg_kind_name: "a mapping", "a sequence" or "a scalar". cfg_is_null: an unquoted empty, ~ or null. */
const char *cfg_kind_name(const struct cfg_node *n);
bool cfg_is_null(const struct cfg_node *n);

/* cfg_join writes "where.key" ("key" at the top) into `out` and returns it (`where` if it does not fit). */
const char *cfg_join(char *out, size_t cap, const char *where, const char *key);

/* cfg_map_get returns the value of `key` in the mapping `map`, or NULL (also when `map` is NULL or not a mapping).
 * After cfg_read_table a key occurs at most once. */
const struct cfg_node *cfg_map_get(const struct cfg_node *map, const char *key);

/* The readers the rows use, for the schema's own readers: cfg_want_scalar and cfg_want_string check a value (a
 * string is a scalar, not null, at most `max` bytes, without a control byte); cfg_read_number reads one in the unit
 * of `kind` (CFG_COUNT, CFG_SIZE, CFG_MS or CFG_SECONDS) and checks [min, max]. */
enum cfg_status cfg_want_scalar(struct cfg_read *r, const struct cfg_node *v, const char *path);
enum cfg_status cfg_want_string(struct cfg_read *r, const struct cfg_node *v, const char *path, size_t max);
enum cfg_status cfg_read_number(struct cfg_read *r, const struct cfg_node *v, const char *path, enum cfg_kind kind, uint64_t min,
                                uint64_t max, uint64_t *out);

#endif
