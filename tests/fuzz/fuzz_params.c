/* fuzz_params.c: the `params:` policy (gw_params_apply, gw_params_canon). The first input byte picks one of a few
 * policies, the rest is the raw query string. Whatever the input, the answer is a reason for a 400 or pairs that this
 * target checks again on its own: only allowed names, each once, sorted, every value printable and within its cap and
 * of the form the policy allows; and the canonical form, parsed back, gives the same pairs (a rebuilt disposition is
 * a fixed point). */
#include <string.h>

#include "fuzz_check.h"
#include "gw_params.h"

static const struct sgn_view styles[] = {SGN_VIEW_LIT("thumb"), SGN_VIEW_LIT("preview")};

static const struct gw_param_policy policies[] = {
    {.process = GW_PROCESS_STYLES, .styles = styles, .n_styles = 2},
    {.process = GW_PROCESS_IMAGE, .image_ops = 1u << GW_IMG_RESIZE | 1u << GW_IMG_FORMAT | 1u << GW_IMG_WATERMARK},
    {.process = GW_PROCESS_IMAGE, .image_ops = (1u << GW_IMG_N) - 1, .version_id = true},
    {.process = GW_PROCESS_ANY, .response = 1u << GW_RESP_CONTENT_DISPOSITION | 1u << GW_RESP_CONTENT_TYPE},
    {.version_id = true, .response = (1u << GW_RESP_N) - 1},
    {0},
};

static bool is(struct sgn_view v, const char *lit)
{
    return v.len == strlen(lit) && memcmp(v.base, lit, v.len) == 0;
}

static bool starts(struct sgn_view v, const char *lit)
{
    return v.len >= strlen(lit) && memcmp(v.base, lit, strlen(lit)) == 0;
}

static bool only(struct sgn_view v, const char *set)
{
    for (size_t i = 0; i < v.len; i++) {
        if (v.base[i] == '\0' || strchr(set, v.base[i]) == NULL) {
            return false;
        }
    }
    return true;
}

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* image_ops_ok checks `image/op[,arg...]/...`: each op allowed by `pol`, each argument made of the bytes OSS's
 * integers, words, colours and URL-safe base64 use. */
static bool image_ops_ok(const struct gw_param_policy *pol, struct sgn_view v)
{
    if (!starts(v, "image/")) {
        return false;
    }
    const char *p = v.base + 6, *end = v.base + v.len;
    size_t n = 0;
    while (p <= end) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *op_end = slash != NULL ? slash : end;
        const char *comma = memchr(p, ',', (size_t)(op_end - p));
        const char *name_end = comma != NULL ? comma : op_end;
        enum gw_image_op op = gw_image_op_by_name(p, (size_t)(name_end - p));
        if (op == GW_IMG_N || (pol->image_ops & (1u << op)) == 0 || ++n > GW_PROCESS_OPS_MAX) {
            return false;
        }
        if (!only((struct sgn_view){name_end, (size_t)(op_end - name_end)}, ALNUM ",_=-")) {
            return false;
        }
        p = op_end + 1;
    }
    return true;
}

static void check_pairs(const struct gw_param_policy *pol, const struct gw_params *out)
{
    CHECK(out->n <= GW_PARAMS_MAX);
    for (size_t i = 0; i < out->n; i++) {
        struct sgn_view name = out->pairs[i].name, val = out->pairs[i].value;
        CHECK(i == 0 || sgn_view_cmp(out->pairs[i - 1].name, name) < 0); /* sorted, so no name twice */
        CHECK(val.len > 0 && val.base >= out->buf && val.base + val.len <= out->buf + sizeof(out->buf));
        for (size_t k = 0; k < val.len; k++) {
            CHECK(val.base[k] >= 0x20 && val.base[k] <= 0x7e);
        }
        enum gw_response_param r = gw_response_param_by_name(name.base, name.len);
        if (is(name, "x-oss-process")) {
            CHECK(pol->process != GW_PROCESS_OFF && val.len <= GW_PROCESS_MAX);
            if (pol->process == GW_PROCESS_STYLES) {
                CHECK(is(val, "style/thumb") || is(val, "style/preview"));
            } else if (pol->process == GW_PROCESS_IMAGE) {
                CHECK(image_ops_ok(pol, val));
            }
        } else if (is(name, "versionId")) {
            CHECK(pol->version_id && val.len <= GW_PARAM_ARG_MAX && only(val, ALNUM "+/=._-"));
        } else {
            CHECK(r != GW_RESP_N && (pol->response & (1u << r)) != 0);
            if (r == GW_RESP_CONTENT_DISPOSITION) {
                CHECK(is(val, "attachment") || is(val, "inline") || starts(val, "attachment; filename=\"") ||
                      starts(val, "inline; filename=\""));
            } else {
                CHECK(val.len <= GW_RESPONSE_MAX);
            }
            if (r == GW_RESP_CONTENT_TYPE) {
                CHECK(memchr(val.base, '/', val.len) != NULL);
            }
        }
    }
}

static struct gw_params out, again;
static char canon[GW_PARAMS_CANON_MAX], canon2[GW_PARAMS_CANON_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    const struct gw_param_policy *pol = &policies[data[0] % (sizeof(policies) / sizeof(policies[0]))];
    const char *q = (const char *)data + 1;
    const char *reason = gw_params_apply(pol, q, size - 1, &out);
    if (reason != NULL) {
        size_t n = strnlen(reason, sizeof(out.reason));
        CHECK(n > 0 && n < sizeof(out.reason));
        CHECK(memchr(reason, '\n', n) == NULL && memchr(reason, '\r', n) == NULL);
        return 0;
    }
    check_pairs(pol, &out);
    struct sgn_buf b;
    sgn_buf_init(&b, canon, sizeof(canon));
    gw_params_canon(&b, &out);
    CHECK(!b.overflow);
    /* the canonical form is a query string the policy reads back to the same pairs */
    CHECK(gw_params_apply(pol, canon, b.len, &again) == NULL);
    CHECK(again.n == out.n);
    sgn_buf_init(&b, canon2, sizeof(canon2));
    gw_params_canon(&b, &again);
    CHECK(!b.overflow && strcmp(canon, canon2) == 0);
    return 0;
}
