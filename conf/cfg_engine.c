/* cfg_engine.c: reading a node tree by the tables of cfg_schema.c (see cfg_engine.h), and the error messages. */
#include "cfg_engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

void cfg_error_vset(struct cfg_error *err, const char *name, size_t line, size_t col, const char *fmt, va_list ap)
{
    size_t cap = sizeof(err->msg);
    int n;

    if (line > 0) {
        n = snprintf(err->msg, cap, "%s:%zu:%zu: ", name, line, col);
    } else {
        n = snprintf(err->msg, cap, "%s: ", name);
    }
    if (n < 0) {
        err->msg[0] = '\0';
        return;
    }
    if ((size_t)n >= cap - 1) {
        return; /* the name alone filled the buffer; it stays cut at the end */
    }
    size_t used = (size_t)n;
    int m = vsnprintf(err->msg + used, cap - used, fmt, ap);
    if (m < 0) {
        err->msg[used] = '\0';
    }
    /* Keep the message on one line whatever a value held. */
    for (size_t i = 0; err->msg[i] != '\0'; i++) {
        unsigned char c = (unsigned char)err->msg[i];
        if (c < 0x20 || c == 0x7f) {
            err->msg[i] = '?';
        }
    }
}

void cfg_error_set(struct cfg_error *err, const char *name, size_t line, size_t col, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cfg_error_vset(err, name, line, col, fmt, ap);
    va_end(ap);
}

enum cfg_status cfg_fail(struct cfg_read *r, enum cfg_status st, const struct cfg_node *at, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cfg_error_vset(r->err, r->src->name, at != NULL ? at->line : 1, at != NULL ? at->col : 1, fmt, ap);
    va_end(ap);
    return st;
}

const char *cfg_shown(const struct cfg_node *n, char *buf, size_t cap)
{
    if (n->len < cap) {
        return n->value;
    }
    int w = snprintf(buf, cap, "%.*s...", (int)(cap - 4), n->value);
    return w < 0 ? "?" : buf;
}

const char *cfg_why(char *buf, size_t cap, const struct cfg_node *v, const char *tail)
{
    char show_buf[CFG_SHOW_CAP];

    if (snprintf(buf, cap, "%s %s", CFG_SHOW(v), tail) < 0 && cap > 0) {
        buf[0] = '\0';
    }
    return buf;
}

const char *cfg_kind_name(const struct cfg_node *n)
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

const char *cfg_join(char *out, size_t cap, const char *where, const char *key)
{
    int w = where[0] != '\0' ? snprintf(out, cap, "%s.%s", where, key) : snprintf(out, cap, "%s", key);

    if (w < 0 || (size_t)w >= cap) {
        return where;
    }
    return out;
}

bool cfg_is_null(const struct cfg_node *n)
{
    if (n->type != CFG_NODE_SCALAR || !n->plain) {
        return false;
    }
    return n->len == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 || strcmp(n->value, "Null") == 0 ||
           strcmp(n->value, "NULL") == 0;
}

const struct cfg_node *cfg_map_get(const struct cfg_node *map, const char *key)
{
    if (map == NULL || map->type != CFG_NODE_MAP) {
        return NULL;
    }
    for (size_t i = 0; i + 1 < map->n_items; i += 2) {
        if (map->items[i]->type == CFG_NODE_SCALAR && strcmp(map->items[i]->value, key) == 0) {
            return map->items[i + 1];
        }
    }
    return NULL;
}

enum cfg_status cfg_want_scalar(struct cfg_read *r, const struct cfg_node *v, const char *path)
{
    if (v->type != CFG_NODE_SCALAR) {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: expected a scalar, got %s", path, cfg_kind_name(v));
    }
    return CFG_OK;
}

enum cfg_status cfg_want_string(struct cfg_read *r, const struct cfg_node *v, const char *path, size_t max)
{
    enum cfg_status st = cfg_want_scalar(r, v, path);

    if (st != CFG_OK) {
        return st;
    }
    if (cfg_is_null(v)) {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: missing value", path);
    }
    if (v->len > max) {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: longer than %zu bytes", path, max);
    }
    if (cfg_has_ctl(v->value, v->len)) {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: contains a control character", path);
    }
    return CFG_OK;
}

static void fmt_num(char *out, size_t cap, enum cfg_kind k, uint64_t v)
{
    switch (k) {
    case CFG_SIZE:
        cfg_fmt_size(out, cap, v);
        return;
    case CFG_MS:
        cfg_fmt_duration_ms(out, cap, v);
        return;
    case CFG_SECONDS:
        cfg_fmt_duration_ms(out, cap, v * 1000);
        return;
    default:
        break;
    }
    if (snprintf(out, cap, "%llu", (unsigned long long)v) < 0 && cap > 0) {
        out[0] = '\0';
    }
}

/* The one helper every number goes through: parse by `k`, then check [min, max] in its unit. */
enum cfg_status cfg_read_number(struct cfg_read *r, const struct cfg_node *v, const char *path, enum cfg_kind k, uint64_t min,
                                uint64_t max, uint64_t *out)
{
    char show_buf[CFG_SHOW_CAP];
    char lo[32];
    char hi[32];
    uint64_t n = 0;
    enum cfg_status st = cfg_want_string(r, v, path, 64);

    if (st != CFG_OK) {
        return st;
    }
    if (k == CFG_COUNT && !cfg_parse_uint(v->value, v->len, &n)) {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is not a whole number", path, CFG_SHOW(v));
    }
    if (k == CFG_SIZE && !cfg_parse_size(v->value, v->len, &n)) {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is not a size (like 8192, 8k or 1m)", path, CFG_SHOW(v));
    }
    if (k == CFG_MS || k == CFG_SECONDS) {
        enum cfg_dur_result dr = cfg_parse_duration_ms(v->value, v->len, &n);
        if (dr == CFG_DUR_NO_UNIT) {
            return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s has no unit; write a duration like 90s, 15m, 2h or 7d", path,
                            CFG_SHOW(v));
        }
        if (dr != CFG_DUR_OK) {
            return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is not a duration (like 500ms, 90s, 15m, 2h or 7d)", path, CFG_SHOW(v));
        }
        if (k == CFG_SECONDS) {
            if (n % 1000 != 0) {
                return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is not a whole number of seconds", path, CFG_SHOW(v));
            }
            n /= 1000;
        }
    }
    if (n < min || n > max) {
        fmt_num(lo, sizeof(lo), k, min);
        fmt_num(hi, sizeof(hi), k, max);
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is outside %s..%s", path, CFG_SHOW(v), lo, hi);
    }
    *out = n;
    return CFG_OK;
}

/* "a, b or c" */
static void list_names(char *out, size_t cap, const char *const *names)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; names[i] != NULL; i++) {
        const char *sep = i == 0 ? "" : (names[i + 1] == NULL ? " or " : ", ");
        int w = snprintf(out + used, cap - used, "%s%s", sep, names[i]);
        if (w < 0 || (size_t)w >= cap - used) {
            break;
        }
        used += (size_t)w;
    }
}

static enum cfg_status read_enum(struct cfg_read *r, const struct cfg_row *row, const struct cfg_node *v, const char *path,
                                 size_t *out)
{
    char show_buf[CFG_SHOW_CAP];
    char list[256];
    enum cfg_status st = cfg_want_string(r, v, path, CFG_MAX_STRING);

    if (st != CFG_OK) {
        return st;
    }
    for (size_t i = 0; row->names[i] != NULL; i++) {
        if (strcmp(v->value, row->names[i]) == 0) {
            *out = i;
            return CFG_OK;
        }
    }
    list_names(list, sizeof(list), row->names);
    return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is not %s", path, CFG_SHOW(v), list);
}

/* Stores `v` into the unsigned or enum field of `size` bytes at `p`. */
static void store_uint(void *p, size_t size, uint64_t v)
{
    if (size == sizeof(uint8_t)) {
        uint8_t x = (uint8_t)v;
        memcpy(p, &x, sizeof(x));
    } else if (size == sizeof(uint16_t)) {
        uint16_t x = (uint16_t)v;
        memcpy(p, &x, sizeof(x));
    } else if (size == sizeof(uint32_t)) {
        uint32_t x = (uint32_t)v;
        memcpy(p, &x, sizeof(x));
    } else {
        memcpy(p, &v, sizeof(v));
    }
}

static uint64_t max_of(size_t size)
{
    return size >= sizeof(uint64_t) ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;
}

static enum cfg_status read_value(struct cfg_read *r, const struct cfg_row *row, void *obj, const struct cfg_node *v,
                                  const char *path, size_t *chosen);

static enum cfg_status apply_default(struct cfg_read *r, const struct cfg_row *row, void *obj, const char *path);

/* A mapping of names (credential sets, backends): at most `max`, unique names of [A-Za-z0-9_-]. */
static enum cfg_status walk_named(struct cfg_read *r, const struct cfg_node *map, const char *where, uint64_t max)
{
    char show_buf[CFG_SHOW_CAP];

    if (map->type != CFG_NODE_MAP) {
        return cfg_fail(r, CFG_ERR_SCHEMA, map, "%s: expected a mapping of names, got %s", where,
                        cfg_is_null(map) ? "nothing" : cfg_kind_name(map));
    }
    for (size_t i = 0; i + 1 < map->n_items; i += 2) {
        const struct cfg_node *k = map->items[i];
        if (i / 2 >= max) {
            return cfg_fail(r, CFG_ERR_SCHEMA, k, "%s: more than %zu entries", where, (size_t)max);
        }
        if (k->type != CFG_NODE_SCALAR) {
            return cfg_fail(r, CFG_ERR_SCHEMA, k, "%s: keys must be scalars, not %s", where, cfg_kind_name(k));
        }
        bool ok = k->len > 0 && k->len <= CFG_MAX_NAME;
        for (size_t j = 0; ok && j < k->len; j++) {
            char ch = k->value[j];
            ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
        }
        if (!ok) {
            return cfg_fail(r, CFG_ERR_SCHEMA, k, "%s: '%s' is not a name (1 to %d of A-Z, a-z, 0-9, '-', '_')", where, CFG_SHOW(k),
                            CFG_MAX_NAME);
        }
        for (size_t j = 0; j < i; j += 2) {
            if (strcmp(map->items[j]->value, k->value) == 0) {
                return cfg_fail(r, CFG_ERR_SCHEMA, k, "%s: duplicate key '%s' (first at line %zu)", where, k->value,
                                map->items[j]->line);
            }
        }
    }
    return CFG_OK;
}

/* One item of a list or a mapping of names, at element `idx` of the array. */
static enum cfg_status read_item(struct cfg_read *r, const struct cfg_row *row, char *items, size_t idx, const struct cfg_node *at,
                                 const struct cfg_node *v, const char *path)
{
    void *item = items + idx * row->item_size;

    if (row->item->kind == CFG_MAP) {
        return cfg_read_table(r, row->item->sub, item, v, at, path, idx);
    }
    return read_value(r, row->item, item, v, path, NULL);
}

/* Allocates the array of `n` items for a CFG_LIST or CFG_NAMED row. */
static enum cfg_status new_items(const struct cfg_row *row, void *obj, size_t n, char **out)
{
    char *items = calloc(n + 1, row->item_size);

    if (items == NULL) {
        return CFG_ERR_NOMEM;
    }
    memcpy((char *)obj + row->at, &items, sizeof(items));
    *out = items;
    return CFG_OK;
}

static void set_count(const struct cfg_row *row, void *obj, size_t n)
{
    memcpy((char *)obj + row->count_at, &n, sizeof(n));
}

static enum cfg_status read_named(struct cfg_read *r, const struct cfg_row *row, void *obj, const struct cfg_node *v,
                                  const char *path)
{
    char where[CFG_PATH_CAP];
    char *items = NULL;
    size_t n;
    enum cfg_status st = walk_named(r, v, path, row->max);

    if (st != CFG_OK) {
        return st;
    }
    n = v->n_items / 2;
    if (n < row->min) {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: needs at least one %s", path, row->noun);
    }
    st = new_items(row, obj, n, &items);
    for (size_t i = 0; st == CFG_OK && i < n; i++) {
        set_count(row, obj, i + 1); /* so that cfg_free frees what the item holds */
        const struct cfg_node *name = v->items[2 * i];
        st = read_item(r, row, items, i, name, v->items[2 * i + 1], cfg_join(where, sizeof(where), path, name->value));
    }
    return st;
}

static enum cfg_status read_list(struct cfg_read *r, const struct cfg_row *row, void *obj, const struct cfg_node *v,
                                 const char *path)
{
    bool takes_map = row->item->kind == CFG_MAP || row->item->kind == CFG_SCALAR_OR_MAP;
    bool one = (row->flags & CFG_ONE_OR_LIST) != 0 && (v->type == CFG_NODE_SCALAR || (v->type == CFG_NODE_MAP && takes_map));
    char item_path[CFG_PATH_CAP];
    char *items = NULL;
    size_t n = 1;
    enum cfg_status st;

    if (v->type != CFG_NODE_SEQ && !one) {
        if ((row->flags & CFG_ONE_OR_LIST) != 0) {
            const char *a = strchr("aeiou", row->noun[0]) != NULL ? "an" : "a";
            return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: expected %s %s or a sequence of %s, got %s", path, a, row->noun, row->nouns,
                            cfg_is_null(v) ? "nothing" : cfg_kind_name(v));
        }
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: expected a sequence, got %s", path,
                        cfg_is_null(v) ? "nothing" : cfg_kind_name(v));
    }
    if (!one) {
        n = v->n_items;
        if (n < row->min) {
            return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: needs at least one %s", path, row->noun);
        }
        if (n > row->max) {
            return cfg_fail(r, CFG_ERR_SCHEMA, v->items[row->max], "%s: more than %zu %s", path, (size_t)row->max, row->nouns);
        }
    }
    st = new_items(row, obj, n, &items);
    for (size_t i = 0; st == CFG_OK && i < n; i++) {
        const struct cfg_node *item = one ? v : v->items[i];
        if (one) {
            cfg_join(item_path, sizeof(item_path), "", path);
        } else if (snprintf(item_path, sizeof(item_path), "%s[%zu]", path, i) < 0) {
            item_path[0] = '\0';
        }
        set_count(row, obj, i + 1); /* so that cfg_free frees what the item holds */
        st = read_item(r, row, items, i, item, item, item_path);
        if (st == CFG_OK && row->item_check != NULL) {
            st = row->item_check(r, items, i, item, item_path);
        }
    }
    return st;
}

static enum cfg_status read_bool(struct cfg_read *r, const struct cfg_node *v, const char *path, bool *out)
{
    char show_buf[CFG_SHOW_CAP];
    enum cfg_status st = cfg_want_string(r, v, path, CFG_MAX_STRING);

    if (st != CFG_OK) {
        return st;
    }
    if (strcmp(v->value, "true") != 0 && strcmp(v->value, "false") != 0) {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s is not true or false", path, CFG_SHOW(v));
    }
    *out = v->value[0] == 't';
    return CFG_OK;
}

static enum cfg_status run_check(struct cfg_read *r, const struct cfg_row *row, const struct cfg_node *v, const char *path)
{
    char buf[512];
    const char *why = row->check != NULL ? row->check(v, buf, sizeof(buf)) : NULL;

    if (why != NULL) {
        return cfg_fail(r, CFG_ERR_SCHEMA, v, "%s: %s", path, why);
    }
    return CFG_OK;
}

static enum cfg_status read_string(struct cfg_read *r, const struct cfg_row *row, void *obj, const struct cfg_node *v,
                                   const char *path)
{
    char *field = (char *)obj + row->at;
    char *old = NULL;
    char *copy = NULL;
    enum cfg_status st;

    memcpy(&old, field, sizeof(old));
    free(old); /* a default being replaced (CFG_OFF) */
    memcpy(field, &copy, sizeof(copy));
    if ((row->flags & CFG_OFF) != 0 && v->type == CFG_NODE_SCALAR && (cfg_is_null(v) || strcmp(v->value, "off") == 0)) {
        return CFG_OK;
    }
    st = cfg_want_string(r, v, path, row->max);
    if (st == CFG_OK) {
        st = run_check(r, row, v, path);
    }
    if (st == CFG_OK) {
        st = cfg_strndup(v->value, v->len, &copy);
    }
    if (st != CFG_OK) {
        return st;
    }
    memcpy(field, &copy, sizeof(copy));
    if ((row->flags & CFG_HAS_LEN) != 0) {
        memcpy((char *)obj + row->len_at, &v->len, sizeof(v->len));
    }
    return CFG_OK;
}

static enum cfg_status read_value(struct cfg_read *r, const struct cfg_row *row, void *obj, const struct cfg_node *v,
                                  const char *path, size_t *chosen)
{
    char *field = (char *)obj + row->at;
    uint64_t n = 0;
    size_t idx = 0;
    bool b = false;
    enum cfg_status st;

    if ((row->flags & CFG_NULL_DEFAULT) != 0 && cfg_is_null(v)) {
        return row->def != NULL ? apply_default(r, row, obj, path) : CFG_OK;
    }
    switch (row->kind) {
    case CFG_STRING:
        return read_string(r, row, obj, v, path);
    case CFG_COUNT:
    case CFG_SIZE:
    case CFG_MS:
    case CFG_SECONDS:
        st = cfg_read_number(r, v, path, row->kind, row->min, row->max < max_of(row->size) ? row->max : max_of(row->size), &n);
        if (st == CFG_OK) {
            st = run_check(r, row, v, path);
        }
        if (st == CFG_OK) {
            store_uint(field, row->size, n);
        }
        return st;
    case CFG_ENUM:
        st = read_enum(r, row, v, path, &idx);
        if (st == CFG_OK) {
            store_uint(field, row->size, row->values != NULL ? (uint64_t)row->values[idx] : idx);
            if (chosen != NULL) {
                *chosen = idx;
            }
        }
        return st;
    case CFG_BOOL:
        st = read_bool(r, v, path, &b);
        if (st == CFG_OK) {
            memcpy(field, &b, sizeof(b));
        }
        return st;
    case CFG_NODE:
        st = row->max > 0 ? cfg_want_string(r, v, path, row->max) : cfg_want_scalar(r, v, path);
        if (st == CFG_OK) {
            st = run_check(r, row, v, path);
        }
        if (st == CFG_OK) {
            memcpy(field, &v, sizeof(v));
        }
        return st;
    case CFG_REF:
        return cfg_want_string(r, v, path, row->max);
    case CFG_CUSTOM:
        return row->read(r, v, path, obj);
    case CFG_MAP:
        return cfg_read_table(r, row->sub, field, v, v, path, 0);
    case CFG_SCALAR_OR_MAP:
        if (v->type == CFG_NODE_MAP) {
            return cfg_read_table(r, row->sub, field, v, v, path, 0);
        }
        return row->read(r, v, path, obj);
    case CFG_LIST:
        return read_list(r, row, obj, v, path);
    case CFG_NAMED:
        return read_named(r, row, obj, v, path);
    }
    return CFG_ERR_SCHEMA;
}

/* A default is read like a value from the file (quoted, so that "" is a string and not null); a bad default is a
 * bug that the tests of every default catch. */
static enum cfg_status apply_default(struct cfg_read *r, const struct cfg_row *row, void *obj, const char *path)
{
    char text[64];
    size_t len = strlen(row->def);
    struct cfg_node v = {.type = CFG_NODE_SCALAR, .value = text, .len = len};

    if (len >= sizeof(text)) {
        return cfg_fail(r, CFG_ERR_SCHEMA, NULL, "%s: default too long", path);
    }
    memcpy(text, row->def, len + 1);
    return read_value(r, row, obj, &v, path, NULL);
}

/* Applies the defaults of `t` and of the tables nested in it to `obj`, for a mapping that is absent. */
static enum cfg_status apply_defaults(struct cfg_read *r, const struct cfg_table *t, void *obj, const char *where)
{
    char path[CFG_PATH_CAP];
    enum cfg_status st = CFG_OK;

    for (size_t i = 0; st == CFG_OK && i < t->n_rows; i++) {
        const struct cfg_row *row = &t->rows[i];
        cfg_join(path, sizeof(path), where, row->key);
        if (row->kind == CFG_MAP) {
            st = apply_defaults(r, row->sub, (char *)obj + row->at, path);
        } else if (row->def != NULL) {
            st = apply_default(r, row, obj, path);
        }
    }
    return st;
}

struct found {
    const struct cfg_node *k;
    const struct cfg_node *v;
};

static enum cfg_status walk_map(struct cfg_read *r, const struct cfg_table *t, const struct cfg_node *map, const char *where,
                                struct found *f)
{
    char show_buf[CFG_SHOW_CAP];
    const char *sep = where[0] != '\0' ? ": " : "";

    if (map->type != CFG_NODE_MAP) {
        return cfg_fail(r, CFG_ERR_SCHEMA, map, "%s: expected a mapping, got %s", where[0] != '\0' ? where : "top level",
                        cfg_is_null(map) ? "nothing" : cfg_kind_name(map));
    }
    for (size_t i = 0; i + 1 < map->n_items; i += 2) {
        const struct cfg_node *k = map->items[i];
        size_t j = 0;
        if (k->type != CFG_NODE_SCALAR) {
            return cfg_fail(r, CFG_ERR_SCHEMA, k, "%s%skeys must be scalars, not %s", where, sep, cfg_kind_name(k));
        }
        while (j < t->n_rows && strcmp(t->rows[j].key, k->value) != 0) {
            j++;
        }
        if (j == t->n_rows) {
            return cfg_fail(r, CFG_ERR_SCHEMA, k, "%s%sunknown key '%s'", where, sep, CFG_SHOW(k));
        }
        if (f[j].k != NULL) {
            return cfg_fail(r, CFG_ERR_SCHEMA, k, "%s%sduplicate key '%s' (first at line %zu)", where, sep, k->value, f[j].k->line);
        }
        f[j].k = k;
        f[j].v = map->items[i + 1];
    }
    return CFG_OK;
}

/* A required key that is absent, when its turn comes: "missing key 'from' (env, files or inline)" for an enum. */
static enum cfg_status missing(struct cfg_read *r, const struct cfg_row *row, const struct cfg_node *at, const char *where)
{
    const char *sep = where[0] != '\0' ? ": " : "";
    char list[256];

    if (row->kind == CFG_ENUM) {
        list_names(list, sizeof(list), row->names);
        return cfg_fail(r, CFG_ERR_SCHEMA, at, "%s%smissing key '%s' (%s)", where, sep, row->key, list);
    }
    return cfg_fail(r, CFG_ERR_SCHEMA, at, "%s%smissing key '%s'", where, sep, row->key);
}

enum cfg_status cfg_read_table(struct cfg_read *r, const struct cfg_table *t, void *obj, const struct cfg_node *map,
                               const struct cfg_node *at, const char *where, size_t idx)
{
    struct found f[CFG_MAX_ROWS] = {{NULL, NULL}};
    char path[CFG_PATH_CAP];
    const struct cfg_row *selector = NULL;
    size_t chosen = 0;
    enum cfg_status st;

    if (t->n_rows > CFG_MAX_ROWS) {
        return cfg_fail(r, CFG_ERR_SCHEMA, at, "%s: too many keys in the schema", where);
    }
    st = walk_map(r, t, map, where, f);
    for (size_t i = 0; st == CFG_OK && i < t->n_rows; i++) {
        const struct cfg_row *row = &t->rows[i];
        bool is_selector = t->selector != NULL && strcmp(row->key, t->selector) == 0;
        cfg_join(path, sizeof(path), where, row->key);
        if (f[i].k != NULL && row->when != 0 && selector != NULL && (row->when & (1u << chosen)) == 0) {
            return cfg_fail(r, CFG_ERR_SCHEMA, f[i].k, "%s: key '%s' does not go with %s: %s", where, row->key, selector->key,
                            selector->names[chosen]);
        }
        if (f[i].v == NULL && (row->flags & CFG_REQUIRED) != 0) {
            return missing(r, row, at, where);
        }
        if (f[i].v != NULL) {
            st = read_value(r, row, obj, f[i].v, path, is_selector ? &chosen : NULL);
        } else if (row->kind == CFG_MAP) {
            st = apply_defaults(r, row->sub, (char *)obj + row->at, path);
        } else if (row->def != NULL) {
            st = apply_default(r, row, obj, path);
        }
        if (is_selector && f[i].v != NULL) {
            selector = row;
        }
    }
    if (st == CFG_OK && t->finish != NULL) {
        struct cfg_entry e = {.obj = obj, .map = map, .at = at, .where = where, .idx = idx};
        st = t->finish(r, &e);
    }
    return st;
}
