/* gw_errpage.c: splitting and rendering error page templates, and the Accept check. Pure. */
#include "gw_errpage.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_ascii.h"

enum part_kind { PART_TEXT, PART_STATUS, PART_REASON, PART_REQUEST_ID };

struct part {
    enum part_kind kind;
    size_t off, len; /* PART_TEXT: the run in text */
};

struct gw_errpage {
    char *text;
    size_t n_parts;
    struct part parts[2 * GW_ERRPAGE_PARTS_MAX + 1];
};

static const struct {
    const char *name;
    enum part_kind kind;
} vars[] = {{"{{status}}", PART_STATUS}, {"{{reason}}", PART_REASON}, {"{{request_id}}", PART_REQUEST_ID}};

static void where(const char *text, size_t at, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < at; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

const char *gw_errpage_parse(struct gw_errpage **out, const char *text, size_t len, size_t *err_line, size_t *err_col)
{
    const char *reason = NULL;
    size_t at = 0;
    struct gw_errpage *t = calloc(1, sizeof(*t));
    if (t == NULL || (t->text = malloc(len + 1)) == NULL) {
        gw_errpage_free(t);
        *err_line = 0;
        *err_col = 0;
        return "out of memory";
    }
    memcpy(t->text, text, len);
    t->text[len] = '\0';
    size_t run = 0, n_vars = 0;
    for (size_t i = 0; i < len && reason == NULL; i++) {
        if (text[i] == '\0') {
            reason = "NUL byte in template";
            at = i;
            break;
        }
        if (text[i] != '{' || i + 1 >= len || text[i + 1] != '{') {
            continue;
        }
        size_t v = 0;
        while (v < sizeof(vars) / sizeof(vars[0]) &&
               (len - i < strlen(vars[v].name) || memcmp(text + i, vars[v].name, strlen(vars[v].name)) != 0)) {
            v++;
        }
        if (v == sizeof(vars) / sizeof(vars[0])) {
            reason = "unknown placeholder (use {{status}}, {{reason}} or {{request_id}})";
            at = i;
            break;
        }
        if (++n_vars > GW_ERRPAGE_PARTS_MAX) {
            reason = "too many placeholders";
            at = i;
            break;
        }
        if (i > run) {
            t->parts[t->n_parts++] = (struct part){PART_TEXT, run, i - run};
        }
        t->parts[t->n_parts++] = (struct part){vars[v].kind, 0, 0};
        i += strlen(vars[v].name) - 1;
        run = i + 1;
    }
    if (reason != NULL) {
        where(text, at, err_line, err_col);
        gw_errpage_free(t);
        return reason;
    }
    if (len > run) {
        t->parts[t->n_parts++] = (struct part){PART_TEXT, run, len - run};
    }
    *out = t;
    return NULL;
}

void gw_errpage_free(struct gw_errpage *t)
{
    if (t == NULL) {
        return;
    }
    free(t->text);
    free(t);
}

static void html_escape(struct sgn_buf *out, struct sgn_view v)
{
    size_t run = 0;
    for (size_t i = 0; i < v.len; i++) {
        const char *ent = NULL;
        switch (v.base[i]) {
        case '&':
            ent = "&amp;";
            break;
        case '<':
            ent = "&lt;";
            break;
        case '>':
            ent = "&gt;";
            break;
        case '"':
            ent = "&quot;";
            break;
        case '\'':
            ent = "&#39;";
            break;
        default:
            continue;
        }
        sgn_buf_append(out, v.base + run, i - run);
        sgn_buf_append(out, ent, strlen(ent));
        run = i + 1;
    }
    sgn_buf_append(out, v.base + run, v.len - run);
}

void gw_errpage_render(struct sgn_buf *out, const struct gw_errpage *t, unsigned status, struct sgn_view reason,
                       struct sgn_view request_id)
{
    for (size_t i = 0; i < t->n_parts; i++) {
        const struct part *p = &t->parts[i];
        switch (p->kind) {
        case PART_TEXT:
            sgn_buf_append(out, t->text + p->off, p->len);
            break;
        case PART_STATUS:
            sgn_buf_u64(out, status);
            break;
        case PART_REASON:
            html_escape(out, reason);
            break;
        case PART_REQUEST_ID:
            html_escape(out, request_id);
            break;
        }
    }
}

const struct gw_errpage *gw_errpages_find(const struct gw_errpages *set, unsigned status)
{
    if (status >= GW_ERRPAGE_STATUS_MIN && status <= GW_ERRPAGE_STATUS_MAX &&
        set->by_status[status - GW_ERRPAGE_STATUS_MIN] != NULL) {
        return set->by_status[status - GW_ERRPAGE_STATUS_MIN];
    }
    return set->fallback;
}

static bool eq_nocase(const char *s, size_t n, const char *lit)
{
    return gw_ascii_eq_nocase(s, n, lit, strlen(lit));
}

static const char *trim(const char *s, const char *end, const char **out_end)
{
    while (s < end && (*s == ' ' || *s == '\t')) {
        s++;
    }
    while (end > s && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }
    *out_end = end;
    return s;
}

/* parse_q reads a weight: "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")] (RFC 9110 section 12.4.2), in thousandths. */
static bool parse_q(const char *s, size_t n, unsigned *out)
{
    if (n == 0 || n > 5 || (s[0] != '0' && s[0] != '1') || (n > 1 && s[1] != '.')) {
        return false;
    }
    unsigned v = (unsigned)(s[0] - '0') * 1000, scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9' || (s[0] == '1' && s[i] != '0')) {
            return false;
        }
        v += (unsigned)(s[i] - '0') * scale;
    }
    *out = v;
    return true;
}

bool gw_accept_prefers_html(struct sgn_view accept)
{
    if (accept.base == NULL) {
        return false;
    }
    const char *p = accept.base, *end = accept.base + accept.len;
    bool have_html = false;
    unsigned html_q = 0, other_q = 0;
    for (size_t n = 0; p < end && n < 64; n++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *elem_end = comma != NULL ? comma : end;
        const char *semi = memchr(p, ';', (size_t)(elem_end - p));
        const char *type_end;
        const char *type = trim(p, semi != NULL ? semi : elem_end, &type_end);
        unsigned q = 1000;
        bool ok = true;
        for (const char *par = semi; par != NULL && ok;) {
            const char *next = memchr(par + 1, ';', (size_t)(elem_end - par - 1));
            const char *pe;
            const char *ps = trim(par + 1, next != NULL ? next : elem_end, &pe);
            if (pe - ps >= 2 && gw_ascii_lower((unsigned char)ps[0]) == 'q' && ps[1] == '=') {
                ok = parse_q(ps + 2, (size_t)(pe - ps - 2), &q);
            }
            par = next;
        }
        p = comma != NULL ? comma + 1 : end;
        size_t tn = (size_t)(type_end - type);
        if (!ok || tn == 0 || memchr(type, '*', tn) != NULL) {
            continue; /* a malformed range is dropped; wildcards never say "HTML" */
        }
        if (eq_nocase(type, tn, "text/html")) {
            if (!have_html || q > html_q) {
                html_q = q;
            }
            have_html = true;
        } else if (q > other_q) {
            other_q = q;
        }
    }
    return have_html && html_q > 0 && html_q >= other_q;
}
