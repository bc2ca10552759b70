/* gw_errpage.h: error pages for people (issue 15, top-level `error_pages: {dir: DIR}`). A template is split once, when
 * loaded, into literal runs and placeholders, so rendering is a few copies. The loader (gw_errpages_load, in
 * gw_errpage_load.c) reads files and runs at start and reload only; everything else here is pure. */
#ifndef GW_ERRPAGE_H
#define GW_ERRPAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "sgn.h"
#include "sgn_buf.h"

#define GW_ERRPAGE_MAX (64 * 1024) /* bytes of one template file */
#define GW_ERRPAGE_PARTS_MAX 64    /* placeholders in one template */
#define GW_ERRPAGE_STATUS_MIN 400
#define GW_ERRPAGE_STATUS_MAX 599

/* struct gw_errpage is one split template (opaque); struct gw_errpages is DIR's set, built by gw_errpages_load. Both
 * are immutable once built. */
struct gw_errpage;
struct gw_errpages {
    struct gw_errpage *by_status[GW_ERRPAGE_STATUS_MAX - GW_ERRPAGE_STATUS_MIN + 1]; /* NULL: no DIR/<status>.html */
    struct gw_errpage *fallback;                                                     /* DIR/default.html */
};

/* gw_errpage_parse splits `len` bytes of `text` into a new template in `*out` (free with gw_errpage_free). The
 * placeholders are `{{status}}`, `{{reason}}` and `{{request_id}}`; any other `{{` (an unknown name or one never
 * closed), a NUL byte or more than GW_ERRPAGE_PARTS_MAX placeholders is refused: returns a static reason and sets
 * `*err_line`, `*err_col` (1-based) to where it is. Returns "out of memory" when allocation fails. */
const char *gw_errpage_parse(struct gw_errpage **out, const char *text, size_t len, size_t *err_line, size_t *err_col);

/* gw_errpage_free releases `t`; NULL is allowed. */
void gw_errpage_free(struct gw_errpage *t);

/* gw_errpage_render appends `t` to `out` with `{{status}}` replaced by `status` in decimal and `{{reason}}`,
 * `{{request_id}}` by `reason`, `request_id`, HTML-escaped (& < > " ' become entities). The caller checks
 * out->overflow; GW_ERRPAGE_MAX plus six times the longest reason and request id is always enough. */
void gw_errpage_render(struct sgn_buf *out, const struct gw_errpage *t, unsigned status, struct sgn_view reason,
                       struct sgn_view request_id);

/* gw_errpages_find returns the template for `status`: DIR/<status>.html if it was loaded, else DIR/default.html. */
const struct gw_errpage *gw_errpages_find(const struct gw_errpages *set, unsigned status);

/* gw_errpages_load reads DIR/default.html (required) and every DIR/<status>.html that exists for status 400..599,
 * each a regular file of at most GW_ERRPAGE_MAX bytes, into a new set in `*out` (free with gw_errpages_free). On
 * failure returns false and writes one line into `err` (capacity `err_cap`) naming the file, and for a template
 * error its line and column: `DIR/404.html:3:7: unknown placeholder (use {{status}}, {{reason}} or {{request_id}})`.
 * Only a file that does not exist is skipped; any other error fails the load, so a reload keeps the old set. */
bool gw_errpages_load(struct gw_errpages **out, const char *dir, char *err, size_t err_cap);

/* gw_errpages_free releases `set` and its templates; NULL is allowed. */
void gw_errpages_free(struct gw_errpages *set);

/* gw_accept_prefers_html is true when an `Accept` value (`accept`, base NULL when absent) prefers text/html: it lists
 * `text/html` (with any parameters) with a q-value above 0, and no other type it names exactly has a higher q-value
 * (RFC 9110 section 12.5.1; q is 0..1 with up to three decimals, a malformed one drops its media range). Ranges with a
 * wildcard (any-type, `text/` any-subtype) never count as preferring HTML, so curl's any-type Accept keeps the one-line
 * text answer while a browser's `text/html,application/xhtml+xml,...;q=0.9` gets the page. At most 64 media ranges
 * are read; the rest are ignored. */
bool gw_accept_prefers_html(struct sgn_view accept);

#endif
