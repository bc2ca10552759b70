/* cfg_load.c: reading the file and turning YAML text into a tree of struct cfg_node. The only file that includes
 * <yaml.h>.
 *
 * libyaml's event parser is used rather than its document loader: the loader would expand aliases into shared nodes
 * and keep duplicate keys, and only sees the depth once a whole document is built. Here every anchor or alias is
 * refused on its first event (so a "billion laughs" document costs nothing), and the depth is counted on the start
 * events, so a 100,000-deep document stops after CFG_MAX_DEPTH + 1 of them. */
#include "cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "cfg_internal.h"

void cfg_node_free(struct cfg_node *n)
{
    if (n == NULL) {
        return;
    }
    for (size_t i = 0; i < n->n_items; i++) {
        cfg_node_free(n->items[i]);
    }
    free(n->items);
    cfg_wipe_free(n->value, n->len);
    free(n);
}

struct tree_builder {
    const char *name;
    struct cfg_error *err;
    struct cfg_node *root;
    struct cfg_node *stack[CFG_MAX_DEPTH];
    size_t depth;
    size_t n_nodes;
};

static enum cfg_status fail_at(struct tree_builder *tb, enum cfg_status st, yaml_mark_t mark, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum cfg_status fail_at(struct tree_builder *tb, enum cfg_status st, yaml_mark_t mark, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cfg_error_vset(tb->err, tb->name, mark.line + 1, mark.column + 1, fmt, ap);
    va_end(ap);
    return st;
}

/* Appends `child` to the collection on top of the stack (or makes it the root); takes ownership of `child`. */
static enum cfg_status attach(struct tree_builder *tb, struct cfg_node *child)
{
    if (tb->depth == 0) {
        if (tb->root != NULL) {
            cfg_node_free(child); /* cannot happen: one document, one root */
            return CFG_ERR_SYNTAX;
        }
        tb->root = child;
        return CFG_OK;
    }
    struct cfg_node *parent = tb->stack[tb->depth - 1];
    if (parent->n_items == parent->cap_items) {
        size_t cap = parent->cap_items == 0 ? 8 : parent->cap_items * 2;
        struct cfg_node **items = realloc(parent->items, cap * sizeof(struct cfg_node *));
        if (items == NULL) {
            cfg_node_free(child);
            return CFG_ERR_NOMEM;
        }
        parent->items = items;
        parent->cap_items = cap;
    }
    parent->items[parent->n_items++] = child;
    return CFG_OK;
}

static enum cfg_status new_node(struct tree_builder *tb, const yaml_event_t *ev, enum cfg_node_type type, struct cfg_node **out)
{
    if (tb->n_nodes >= CFG_MAX_NODES) {
        return fail_at(tb, CFG_ERR_SYNTAX, ev->start_mark, "more than %d nodes", CFG_MAX_NODES);
    }
    struct cfg_node *n = calloc(1, sizeof(*n));
    if (n == NULL) {
        return CFG_ERR_NOMEM;
    }
    tb->n_nodes++;
    n->type = type;
    n->line = ev->start_mark.line + 1;
    n->col = ev->start_mark.column + 1;
    *out = n;
    return CFG_OK;
}

static enum cfg_status on_scalar(struct tree_builder *tb, const yaml_event_t *ev)
{
    struct cfg_node *n = NULL;
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;

    if (len > CFG_MAX_STRING) {
        return fail_at(tb, CFG_ERR_SYNTAX, ev->start_mark, "a value longer than %d bytes", CFG_MAX_STRING);
    }
    if (memchr(v, '\0', len) != NULL) {
        return fail_at(tb, CFG_ERR_SYNTAX, ev->start_mark, "a value contains a NUL byte");
    }
    enum cfg_status st = new_node(tb, ev, CFG_NODE_SCALAR, &n);
    if (st != CFG_OK || n == NULL) {
        return st != CFG_OK ? st : CFG_ERR_NOMEM;
    }
    n->value = malloc(len + 1);
    if (n->value == NULL) {
        cfg_node_free(n);
        return CFG_ERR_NOMEM;
    }
    memcpy(n->value, v, len);
    n->value[len] = '\0';
    n->len = len;
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    return attach(tb, n);
}

static enum cfg_status on_start(struct tree_builder *tb, const yaml_event_t *ev, enum cfg_node_type type)
{
    struct cfg_node *n = NULL;

    if (tb->depth >= CFG_MAX_DEPTH) {
        return fail_at(tb, CFG_ERR_SYNTAX, ev->start_mark, "nesting deeper than %d levels", CFG_MAX_DEPTH);
    }
    enum cfg_status st = new_node(tb, ev, type, &n);
    if (st != CFG_OK || n == NULL) {
        return st != CFG_OK ? st : CFG_ERR_NOMEM;
    }
    st = attach(tb, n);
    if (st != CFG_OK) {
        return st;
    }
    tb->stack[tb->depth++] = n; /* the parent (or root) owns it; the stack only borrows */
    return CFG_OK;
}

/* Refuses anchors, aliases and tags before anything is built from the event. */
static enum cfg_status check_event(struct tree_builder *tb, const yaml_event_t *ev)
{
    const yaml_char_t *anchor = NULL;
    const yaml_char_t *tag = NULL;

    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return fail_at(tb, CFG_ERR_SYNTAX, ev->start_mark, "aliases (*%s) are not allowed", (const char *)ev->data.alias.anchor);
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        break;
    default:
        return CFG_OK;
    }
    if (anchor != NULL) {
        return fail_at(tb, CFG_ERR_SYNTAX, ev->start_mark, "anchors (&%s) are not allowed", (const char *)anchor);
    }
    if (tag != NULL) {
        return fail_at(tb, CFG_ERR_SYNTAX, ev->start_mark, "tags (%s) are not allowed", (const char *)tag);
    }
    return CFG_OK;
}

static enum cfg_status parse_error(struct tree_builder *tb, const yaml_parser_t *p)
{
    const char *problem = p->problem != NULL ? p->problem : "malformed YAML";

    if (p->error == YAML_MEMORY_ERROR) {
        return CFG_ERR_NOMEM;
    }
    if (p->error == YAML_READER_ERROR) {
        cfg_error_set(tb->err, tb->name, 0, 0, "byte %zu: %s", p->problem_offset + 1, problem);
        return CFG_ERR_SYNTAX;
    }
    if (p->context != NULL) {
        return fail_at(tb, CFG_ERR_SYNTAX, p->problem_mark, "%s %s at %zu:%zu", problem, p->context, p->context_mark.line + 1,
                       p->context_mark.column + 1);
    }
    return fail_at(tb, CFG_ERR_SYNTAX, p->problem_mark, "%s", problem);
}

/* An inline secret passes through libyaml's own buffers: wipe them before yaml_parser_delete frees them. */
static void wipe_parser(yaml_parser_t *p)
{
    if (p->buffer.start != NULL) {
        explicit_bzero(p->buffer.start, (size_t)(p->buffer.end - p->buffer.start));
    }
    if (p->raw_buffer.start != NULL) {
        explicit_bzero(p->raw_buffer.start, (size_t)(p->raw_buffer.end - p->raw_buffer.start));
    }
}

static void wipe_event(yaml_event_t *ev)
{
    if (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.value != NULL) {
        explicit_bzero(ev->data.scalar.value, ev->data.scalar.length);
    }
    yaml_event_delete(ev);
}

enum cfg_status cfg_parse_tree(struct cfg_node **out, const char *name, const char *buf, size_t len, struct cfg_error *err)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    bool parser_ready = false;
    bool have_event = false;
    bool done = false;
    bool seen_document = false;
    struct tree_builder tb = {.name = name, .err = err};
    enum cfg_status st = CFG_OK;

    if (yaml_parser_initialize(&parser) != 1) {
        st = CFG_ERR_NOMEM;
        goto cleanup;
    }
    parser_ready = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

    while (!done) {
        if (yaml_parser_parse(&parser, &ev) != 1) {
            st = parse_error(&tb, &parser);
            goto cleanup;
        }
        have_event = true;
        st = check_event(&tb, &ev);
        if (st != CFG_OK) {
            goto cleanup;
        }
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (seen_document) {
                st = fail_at(&tb, CFG_ERR_SYNTAX, ev.start_mark, "only one YAML document is allowed");
                goto cleanup;
            }
            seen_document = true;
            break;
        case YAML_SCALAR_EVENT:
            st = on_scalar(&tb, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            st = on_start(&tb, &ev, CFG_NODE_SEQ);
            break;
        case YAML_MAPPING_START_EVENT:
            st = on_start(&tb, &ev, CFG_NODE_MAP);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (tb.depth > 0) {
                tb.depth--;
            }
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        if (st != CFG_OK) {
            goto cleanup;
        }
        wipe_event(&ev);
        have_event = false;
    }

    *out = tb.root; /* the caller owns it now */
    tb.root = NULL;
cleanup:
    if (have_event) {
        wipe_event(&ev);
    }
    if (parser_ready) {
        wipe_parser(&parser);
        yaml_parser_delete(&parser);
    }
    cfg_node_free(tb.root);
    return st;
}

static enum cfg_status load_source(struct cfg_config **out, const struct cfg_source *src, const char *buf, size_t len,
                                   const struct cfg_env *env, struct cfg_error *err)
{
    struct cfg_node *root = NULL;
    enum cfg_status st;

    if (len > CFG_MAX_FILE_BYTES) {
        cfg_error_set(err, src->name, 0, 0, "larger than %d bytes", CFG_MAX_FILE_BYTES);
        return CFG_ERR_SYNTAX;
    }
    st = cfg_parse_tree(&root, src->name, buf, len, err);
    if (st != CFG_OK) {
        goto cleanup;
    }
    st = cfg_build(out, src, root, env, err);
cleanup:
    if (st == CFG_ERR_NOMEM) {
        cfg_error_set(err, src->name, 0, 0, "out of memory");
    }
    cfg_node_free(root);
    return st;
}

enum cfg_status cfg_load_buffer(struct cfg_config **out, const char *name, const char *buf, size_t len, const struct cfg_env *env,
                                struct cfg_error *err)
{
    struct cfg_source src = {.name = name != NULL ? name : "(buffer)", .is_file = false};

    *out = NULL;
    err->msg[0] = '\0';
    if (buf == NULL && len > 0) {
        cfg_error_set(err, src.name, 0, 0, "no buffer");
        return CFG_ERR_IO;
    }
    return load_source(out, &src, buf != NULL ? buf : "", len, env, err);
}

enum cfg_status cfg_load_file(struct cfg_config **out, const char *path, const struct cfg_env *env, struct cfg_error *err)
{
    int fd = -1;
    char *buf = NULL;
    size_t cap = 0;
    size_t len = 0;
    struct stat sb;
    struct cfg_source src = {.name = path, .is_file = true};
    enum cfg_status st = CFG_OK;

    *out = NULL;
    err->msg[0] = '\0';
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        cfg_error_set(err, path, 0, 0, "cannot open: %s", strerror(errno));
        st = CFG_ERR_IO;
        goto cleanup;
    }
    if (fstat(fd, &sb) != 0) {
        cfg_error_set(err, path, 0, 0, "cannot stat: %s", strerror(errno));
        st = CFG_ERR_IO;
        goto cleanup;
    }
    if (!S_ISREG(sb.st_mode)) {
        cfg_error_set(err, path, 0, 0, "not a regular file");
        st = CFG_ERR_IO;
        goto cleanup;
    }
    if (sb.st_size > CFG_MAX_FILE_BYTES) {
        cfg_error_set(err, path, 0, 0, "larger than %d bytes", CFG_MAX_FILE_BYTES);
        st = CFG_ERR_SYNTAX;
        goto cleanup;
    }
    src.mode = (uint32_t)(sb.st_mode & 07777);
    /* One byte more than the cap tells a file that grew since fstat from one that fits. */
    cap = (size_t)CFG_MAX_FILE_BYTES + 1;
    buf = malloc(cap);
    if (buf == NULL) {
        cfg_error_set(err, path, 0, 0, "out of memory");
        st = CFG_ERR_NOMEM;
        goto cleanup;
    }
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            cfg_error_set(err, path, 0, 0, "cannot read: %s", strerror(errno));
            st = CFG_ERR_IO;
            goto cleanup;
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
        if (len == cap) {
            cfg_error_set(err, path, 0, 0, "larger than %d bytes", CFG_MAX_FILE_BYTES);
            st = CFG_ERR_SYNTAX;
            goto cleanup;
        }
    }
    st = load_source(out, &src, buf, len, env, err);
cleanup:
    cfg_wipe_free(buf, len); /* an inline secret was in it */
    if (fd >= 0) {
        close(fd);
    }
    return st;
}
