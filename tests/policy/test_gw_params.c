/* test_gw_params.c: every accepted form and every refusal of the `params:` policy (gateway/policy/gw_params.h). */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "gw_params.h"

static const struct sgn_view styles[] = {SGN_VIEW_LIT("thumb"), SGN_VIEW_LIT("preview")};

static struct gw_param_policy pol_styles(void)
{
    return (struct gw_param_policy){.process = GW_PROCESS_STYLES, .styles = styles, .n_styles = 2};
}

static struct gw_param_policy pol_image(uint32_t ops)
{
    return (struct gw_param_policy){.process = GW_PROCESS_IMAGE, .image_ops = ops};
}

static struct gw_param_policy pol_all(void)
{
    return (struct gw_param_policy){
        .process = GW_PROCESS_IMAGE, .image_ops = (1u << GW_IMG_N) - 1, .version_id = true, .response = (1u << GW_RESP_N) - 1};
}

static struct gw_params out;

static const char *apply(const struct gw_param_policy *pol, const char *q)
{
    memset(&out, 0x5a, sizeof(out));
    return gw_params_apply(pol, q, strlen(q), &out);
}

/* value returns the passed value of `name` as a NUL-terminated copy, or NULL. */
static const char *value(const char *name)
{
    static char v[GW_PARAMS_BUF];
    for (size_t i = 0; i < out.n; i++) {
        if (out.pairs[i].name.len == strlen(name) && memcmp(out.pairs[i].name.base, name, strlen(name)) == 0) {
            memcpy(v, out.pairs[i].value.base, out.pairs[i].value.len);
            v[out.pairs[i].value.len] = '\0';
            return v;
        }
    }
    return NULL;
}

static void accepts(const struct gw_param_policy *pol, const char *q, const char *name, const char *want)
{
    const char *r = apply(pol, q);
    cr_assert_null(r, "%s refused: %s", q, r);
    const char *got = value(name);
    cr_assert_not_null(got, "%s: %s not passed", q, name);
    cr_assert_str_eq(got, want, "%s", q);
}

static void refuses(const struct gw_param_policy *pol, const char *q, const char *needle)
{
    const char *r = apply(pol, q);
    cr_assert_not_null(r, "%s accepted", q);
    cr_assert(strstr(r, needle) != NULL, "%s: reason \"%s\" lacks \"%s\"", q, r, needle);
    cr_assert_eq(r, out.reason);
}

Test(gw_params, nothing_allowed_passes_nothing_and_ignores_everything)
{
    struct gw_param_policy none = {0};
    cr_assert_null(apply(&none, "x-oss-process=%zz&versionId=&response-content-type=%00&x=1&&=&%"));
    cr_assert_eq(out.n, 0);
    cr_assert_null(gw_params_apply(&none, NULL, 0, &out));
    cr_assert_eq(out.n, 0);
}

Test(gw_params, unlisted_parameters_are_ignored_on_a_policy_route)
{
    struct gw_param_policy p = pol_styles();
    cr_assert_null(apply(&p, "versionId=%%%&response-content-type=bad&x-oss-process=style/thumb&utm_source=x"), "%s", out.reason);
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(value("x-oss-process"), "style/thumb");
}

Test(gw_params, styles)
{
    struct gw_param_policy p = pol_styles();
    accepts(&p, "x-oss-process=style/thumb", "x-oss-process", "style/thumb");
    accepts(&p, "x-oss-process=style%2Fpreview", "x-oss-process", "style/preview");
    accepts(&p, "x%2Doss-process=style/thumb", "x-oss-process", "style/thumb");
    refuses(&p, "x-oss-process=style/other", "style not allowed");
    refuses(&p, "x-oss-process=style/thum", "style not allowed");
    refuses(&p, "x-oss-process=style/thumbs", "style not allowed");
    refuses(&p, "x-oss-process=style/", "style not allowed");
    refuses(&p, "x-oss-process=style/thumb/resize,w_1", "style not allowed");
    refuses(&p, "x-oss-process=image/resize,w_100", "only style/<name>");
    refuses(&p, "x-oss-process=Style/thumb", "only style/<name>");
    refuses(&p, "x-oss-process=style", "only style/<name>");
}

Test(gw_params, process_value_rules)
{
    struct gw_param_policy p = pol_styles();
    refuses(&p, "x-oss-process", "needs a value");
    refuses(&p, "x-oss-process=", "needs a value");
    refuses(&p, "x-oss-process=style/thumb&x-oss-process=style/thumb", "given twice");
    refuses(&p, "x-oss-process=style/thumb&x-oss-proces%73=style/preview", "given twice");
    refuses(&p, "x-oss-process=style%2", "bad percent-escape");
    refuses(&p, "x-oss-process=style%zzthumb", "bad percent-escape");
    refuses(&p, "x-oss-process=style/th%0Aumb", "not printable");
    refuses(&p, "x-oss-process=style/th%C3%A9", "not printable");
    char big[GW_PROCESS_MAX + 40] = "x-oss-process=style/";
    memset(big + strlen(big), 'a', GW_PROCESS_MAX);
    refuses(&p, big, "too long");
}

Test(gw_params, any)
{
    struct gw_param_policy p = {.process = GW_PROCESS_ANY};
    accepts(&p, "x-oss-process=video/snapshot,t_1000,f_jpg", "x-oss-process", "video/snapshot,t_1000,f_jpg");
    accepts(&p, "x-oss-process=a+b", "x-oss-process", "a+b");
    refuses(&p, "x-oss-process=a%7Fb", "not printable");
    char ok[GW_PROCESS_MAX + 20] = "x-oss-process=";
    memset(ok + strlen(ok), 'a', GW_PROCESS_MAX);
    cr_assert_null(apply(&p, ok));
    cr_assert_eq(out.pairs[0].value.len, GW_PROCESS_MAX);
}

static const char *const image_ok[] = {
    "image/resize,w_100",
    "image/resize,m_lfit,w_100,h_100",
    "image/resize,m_mfit,l_16384",
    "image/resize,m_fill,s_1,limit_0",
    "image/resize,m_pad,w_100,h_50,color_FF00aa",
    "image/resize,m_fixed,w_1,h_1,limit_1",
    "image/resize,p_50",
    "image/resize,p_1000",
    "image/crop,w_100,h_100",
    "image/crop,x_10,y_10,w_0,h_16384,g_se",
    "image/crop,g_center",
    "image/format,jpg",
    "image/format,png",
    "image/format,webp",
    "image/format,bmp",
    "image/format,gif",
    "image/format,tiff",
    "image/format,heic",
    "image/format,avif",
    "image/quality,q_1",
    "image/quality,Q_100",
    "image/rotate,0",
    "image/rotate,360",
    "image/watermark,text_SGVsbG8gV29ybGQ",
    "image/watermark,text_SGVsbG8=,type_d3F5LXplbmhlaQ,color_000000,size_30,shadow_50,t_90,g_se,x_10,y_10,voffset_-1000",
    "image/watermark,image_cGFuZGEucG5nP3gtb3NzLXByb2Nlc3M9aW1hZ2UvcmVzaXplLFBfMzA,P_30,order_1,align_2,interval_1000",
    "image/watermark,text_a-b_c,rotate_360,fill_1",
    "image/auto-orient,0",
    "image/auto-orient,1",
    "image/circle,r_100",
    "image/indexcrop,x_100,i_0",
    "image/indexcrop,y_16384,i_1000",
    "image/rounded-corners,r_30",
    "image/blur,r_3,s_2",
    "image/bright,-100",
    "image/bright,100",
    "image/bright,0",
    "image/contrast,-50",
    "image/sharpen,50",
    "image/sharpen,399",
    "image/interlace,1",
    "image/info",
    "image/average-hue",
    "image/resize,w_100/format,webp/quality,q_80/interlace,1",
    "image/resize,w_1/resize,w_2",
};

Test(gw_params, image_every_accepted_form)
{
    struct gw_param_policy p = pol_image((1u << GW_IMG_N) - 1);
    for (size_t i = 0; i < sizeof(image_ok) / sizeof(image_ok[0]); i++) {
        char q[1200] = "x-oss-process=";
        memcpy(q + strlen(q), image_ok[i], strlen(image_ok[i]) + 1);
        accepts(&p, q, "x-oss-process", image_ok[i]);
    }
}

static const struct {
    const char *value, *needle;
} image_bad[] = {
    {"image/", "empty image operation"},
    {"image/resize,w_100/", "empty image operation"},
    {"image//resize,w_1", "empty image operation"},
    {"image/unknown,w_1", "unknown image operation"},
    {"image/Resize,w_1", "unknown image operation"},
    {"image/resize", "required argument is missing"},
    {"image/resize,m_lfit", "required argument is missing"},
    {"image/resize,w_0", "w_ out of form or range"},
    {"image/resize,w_16385", "w_ out of form or range"},
    {"image/resize,w_0100", "w_ out of form or range"},
    {"image/resize,w_-1", "w_ out of form or range"},
    {"image/resize,w_1e3", "w_ out of form or range"},
    {"image/resize,w_", "w_ out of form or range"},
    {"image/resize,w_1234567", "w_ out of form or range"},
    {"image/resize,m_stretch,w_1", "m_ out of form or range"},
    {"image/resize,w_1,limit_2", "limit_ out of form or range"},
    {"image/resize,w_1,color_fff", "color_ out of form or range"},
    {"image/resize,w_1,color_gggggg", "color_ out of form or range"},
    {"image/resize,p_1001", "p_ out of form or range"},
    {"image/resize,w_1,w_2", "w_ given twice"},
    {"image/resize,w_1,z_2", "unknown argument"},
    {"image/resize,w100", "without a key_ prefix"},
    {"image/resize,w_1,", "empty or overlong argument"},
    {"image/resize,,w_1", "empty or overlong argument"},
    {"image/crop,g_middle", "g_ out of form or range"},
    {"image/crop,x_-1", "x_ out of form or range"},
    {"image/format,jpeg", "value out of form or range"},
    {"image/format,JPG", "value out of form or range"},
    {"image/format", "required argument is missing"},
    {"image/format,png,jpg", "takes one value"},
    {"image/quality,q_0", "q_ out of form or range"},
    {"image/quality,q_101", "q_ out of form or range"},
    {"image/quality,q_50,Q_50", "conflicting arguments"},
    {"image/quality", "required argument is missing"},
    {"image/rotate,361", "value out of form or range"},
    {"image/rotate,-1", "value out of form or range"},
    {"image/watermark,t_50", "required argument is missing"},
    {"image/watermark,text_SGVs+bG8", "text_ out of form or range"},
    {"image/watermark,text_SGVs/bG8", "unknown image operation"},
    {"image/watermark,text_=", "text_ out of form or range"},
    {"image/watermark,text_a===", "text_ out of form or range"},
    {"image/watermark,text_a=b", "text_ out of form or range"},
    {"image/watermark,text_a,voffset_1001", "voffset_ out of form or range"},
    {"image/watermark,text_a,t_101", "t_ out of form or range"},
    {"image/watermark,image_a,P_0", "P_ out of form or range"},
    {"image/auto-orient,2", "value out of form or range"},
    {"image/circle", "required argument is missing"},
    {"image/circle,r_0", "r_ out of form or range"},
    {"image/indexcrop,i_1", "required argument is missing"},
    {"image/indexcrop,x_1,y_1", "conflicting arguments"},
    {"image/rounded-corners,r_4097", "r_ out of form or range"},
    {"image/blur,r_3", "required argument is missing"},
    {"image/blur,r_51,s_1", "r_ out of form or range"},
    {"image/bright,101", "value out of form or range"},
    {"image/bright,-0", "value out of form or range"},
    {"image/contrast,-101", "value out of form or range"},
    {"image/sharpen,49", "value out of form or range"},
    {"image/sharpen,400", "value out of form or range"},
    {"image/interlace,01", "value out of form or range"},
    {"image/info,a_1", "takes no argument"},
    {"image/average-hue,1", "takes no argument"},
    {"style/thumb", "only image/..."},
    {"video/snapshot,t_1", "only image/..."},
};

Test(gw_params, image_every_refusal)
{
    struct gw_param_policy p = pol_image((1u << GW_IMG_N) - 1);
    for (size_t i = 0; i < sizeof(image_bad) / sizeof(image_bad[0]); i++) {
        char q[400] = "x-oss-process=";
        memcpy(q + strlen(q), image_bad[i].value, strlen(image_bad[i].value) + 1);
        refuses(&p, q, image_bad[i].needle);
    }
}

Test(gw_params, image_only_listed_operations)
{
    struct gw_param_policy p = pol_image(1u << GW_IMG_RESIZE | 1u << GW_IMG_FORMAT);
    accepts(&p, "x-oss-process=image/resize,w_100/format,webp", "x-oss-process", "image/resize,w_100/format,webp");
    refuses(&p, "x-oss-process=image/resize,w_100/watermark,text_YQ", "\"watermark\" is not allowed");
    refuses(&p, "x-oss-process=image/blur,r_1,s_1", "\"blur\" is not allowed");
    refuses(&p, "x-oss-process=style/thumb", "only image/...");
}

Test(gw_params, image_operation_count_and_argument_caps)
{
    struct gw_param_policy p = pol_image((1u << GW_IMG_N) - 1);
    char q[GW_PROCESS_MAX] = "x-oss-process=image";
    for (size_t i = 0; i < GW_PROCESS_OPS_MAX; i++) {
        memcpy(q + strlen(q), "/info", 6);
    }
    cr_assert_null(apply(&p, q));
    memcpy(q + strlen(q), "/info", 6);
    refuses(&p, q, "too many image operations");
    char wm[GW_PROCESS_MAX] = "x-oss-process=image/watermark,text_";
    memset(wm + strlen(wm), 'Q', GW_PARAM_ARG_MAX - 5);
    cr_assert_null(apply(&p, wm), "%s", out.reason);
    memcpy(wm + strlen(wm), "Q", 2);
    refuses(&p, wm, "empty or overlong argument");
}

Test(gw_params, image_op_and_response_names)
{
    cr_assert_eq(gw_image_op_by_name("rounded-corners", 15), GW_IMG_ROUNDED_CORNERS);
    cr_assert_eq(gw_image_op_by_name("average-hue", 11), GW_IMG_AVERAGE_HUE);
    cr_assert_eq(gw_image_op_by_name("resizes", 7), GW_IMG_N);
    cr_assert_eq(gw_image_op_by_name("resiz", 5), GW_IMG_N);
    cr_assert_eq(gw_response_param_by_name("response-expires", 16), GW_RESP_EXPIRES);
    cr_assert_eq(gw_response_param_by_name("response-expire", 15), GW_RESP_N);
}

Test(gw_params, version_id)
{
    struct gw_param_policy p = {.version_id = true};
    accepts(&p, "versionId=null", "versionId", "null");
    accepts(&p, "versionId=CAEQNhiBgMDJgZCA0BYiIDc4MGZjZGI2OTBjOTRmNTE5NmU5NmFmZjgwYzc1", "versionId",
            "CAEQNhiBgMDJgZCA0BYiIDc4MGZjZGI2OTBjOTRmNTE5NmU5NmFmZjgwYzc1");
    accepts(&p, "versionId=a%2Bb%2Fc%3D", "versionId", "a+b/c=");
    accepts(&p, "versionId=3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo", "versionId",
            "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo");
    accepts(&p, "versionId=v1.2_3-4", "versionId", "v1.2_3-4");
    refuses(&p, "versionId=", "needs a value");
    refuses(&p, "versionId", "needs a value");
    refuses(&p, "versionId=a%20b", "versionId: malformed");
    refuses(&p, "versionId=a%26b", "versionId: malformed");
    refuses(&p, "versionId=a&versionId=a", "given twice");
    char big[GW_PARAM_ARG_MAX + 20] = "versionId=";
    memset(big + strlen(big), 'a', GW_PARAM_ARG_MAX + 1);
    refuses(&p, big, "too long");
    /* another spelling is another (ignored) parameter */
    cr_assert_null(apply(&p, "versionid=%zz&VersionId=x"));
    cr_assert_eq(out.n, 0);
}

static struct gw_param_policy pol_resp(enum gw_response_param r)
{
    return (struct gw_param_policy){.response = 1u << r};
}

Test(gw_params, each_response_override_is_allowed_individually)
{
    struct gw_param_policy p = pol_resp(GW_RESP_CONTENT_TYPE);
    cr_assert_null(apply(&p, "response-content-type=text/plain&response-cache-control=no-cache&response-expires=x"));
    cr_assert_eq(out.n, 1);
    cr_assert_str_eq(value("response-content-type"), "text/plain");
}

Test(gw_params, response_content_type)
{
    struct gw_param_policy p = pol_resp(GW_RESP_CONTENT_TYPE);
    accepts(&p, "response-content-type=image/png", "response-content-type", "image/png");
    accepts(&p, "response-content-type=text/plain;%20charset=utf-8", "response-content-type", "text/plain; charset=utf-8");
    accepts(&p, "response-content-type=text/plain;charset=%22utf-8%22;format=flowed", "response-content-type",
            "text/plain;charset=\"utf-8\";format=flowed");
    accepts(&p, "response-content-type=application/vnd.api+json", "response-content-type", "application/vnd.api+json");
    refuses(&p, "response-content-type=text", "malformed value");
    refuses(&p, "response-content-type=text/", "malformed value");
    refuses(&p, "response-content-type=/plain", "malformed value");
    refuses(&p, "response-content-type=text/plain;", "malformed value");
    refuses(&p, "response-content-type=text/plain;charset", "malformed value");
    refuses(&p, "response-content-type=text/plain;charset=%22utf-8", "malformed value");
    refuses(&p, "response-content-type=text/pl%20ain", "malformed value");
    refuses(&p, "response-content-type=text/plain%0D%0AX-Evil:%201", "not printable ASCII");
    refuses(&p, "response-content-type=text/plain%C3%A9", "not printable ASCII");
    char big[GW_RESPONSE_MAX + 40] = "response-content-type=a/";
    memset(big + strlen(big), 'a', GW_RESPONSE_MAX);
    refuses(&p, big, "too long");
}

Test(gw_params, response_content_disposition_is_rebuilt)
{
    struct gw_param_policy p = pol_resp(GW_RESP_CONTENT_DISPOSITION);
    const char *n = "response-content-disposition";
    accepts(&p, "response-content-disposition=attachment", n, "attachment");
    accepts(&p, "response-content-disposition=INLINE", n, "inline");
    accepts(&p, "response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22", n,
            "attachment; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt");
    accepts(&p, "response-content-disposition=inline;filename=report.pdf", n,
            "inline; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
    accepts(&p, "response-content-disposition=attachment;%20filename*=UTF-8''%25E2%2582%25AC%2520rates.txt", n,
            "attachment; filename=\"_ rates.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt");
    accepts(&p, "response-content-disposition=attachment;filename*=utf-8'en'a.txt;filename=b.txt", n,
            "attachment; filename=\"a.txt\"; filename*=UTF-8''a.txt");
    accepts(&p, "response-content-disposition=attachment;filename=%22q%5C%22.txt%22", n,
            "attachment; filename=\"q_.txt\"; filename*=UTF-8''q%22.txt");
    /* with filename*, filename is the old clients' fallback: ignored and rebuilt */
    accepts(&p, "response-content-disposition=attachment;filename=%22100%25.txt%22;filename*=UTF-8''100%2525.txt", n,
            "attachment; filename=\"100%.txt\"; filename*=UTF-8''100%25.txt");
    refuses(&p, "response-content-disposition=form-data", "must start with attachment or inline");
    refuses(&p, "response-content-disposition=attachment;", "malformed parameter");
    refuses(&p, "response-content-disposition=attachment%20x", "malformed");
    refuses(&p, "response-content-disposition=attachment;name=a", "only one filename");
    refuses(&p, "response-content-disposition=attachment;filename=a;filename=b", "only one filename");
    refuses(&p, "response-content-disposition=attachment;filename=%22a", "malformed filename");
    refuses(&p, "response-content-disposition=attachment;filename=", "malformed filename");
    refuses(&p, "response-content-disposition=attachment;filename=%22%22", "not a valid file name");
    refuses(&p, "response-content-disposition=attachment;filename=%22a%25b%22", "'%' in filename");
    refuses(&p, "response-content-disposition=attachment;filename=%22a/b%22", "'/' in file name");
    refuses(&p, "response-content-disposition=attachment;filename=%22..%22", "not a valid file name");
    refuses(&p, "response-content-disposition=attachment;filename=%22a%5C%5Cb%22", "not a valid file name");
    refuses(&p, "response-content-disposition=attachment;filename*=ISO-8859-1''a", "must be UTF-8");
    refuses(&p, "response-content-disposition=attachment;filename*=UTF-8''", "not a valid file name");
    refuses(&p, "response-content-disposition=attachment;filename*=UTF-8''%25FF", "not a valid file name");
    refuses(&p, "response-content-disposition=attachment;filename*=UTF-8''%2500", "not a valid file name");
    refuses(&p, "response-content-disposition=attachment;filename*=UTF-8''a%252Fb", "'/' in file name");
    refuses(&p, "response-content-disposition=attachment;filename*=UTF-8''a%25", "not a valid file name");
    refuses(&p, "response-content-disposition=attachment;filename=%22a%09b%22", "not printable ASCII");
}

Test(gw_params, response_content_disposition_longest_name_fits)
{
    struct gw_param_policy p = {.response = (1u << GW_RESP_N) - 1, .version_id = true, .process = GW_PROCESS_ANY};
    /* the longest disposition of non-ASCII bytes, next to every other parameter at its longest */
    static char q[16384];
    size_t n = 0;
    n += (size_t)snprintf(q + n, sizeof(q) - n, "response-content-disposition=attachment;filename*=UTF-8''");
    size_t room = GW_RESPONSE_MAX - strlen("attachment;filename*=UTF-8''");
    for (size_t i = 0; i + 6 <= room; i += 6) {
        n += (size_t)snprintf(q + n, sizeof(q) - n, "%%25C3%%25A9");
    }
    n += (size_t)snprintf(q + n, sizeof(q) - n, "&x-oss-process=");
    memset(q + n, 'a', GW_PROCESS_MAX);
    n += GW_PROCESS_MAX;
    n += (size_t)snprintf(q + n, sizeof(q) - n, "&versionId=");
    memset(q + n, 'v', GW_PARAM_ARG_MAX);
    n += GW_PARAM_ARG_MAX;
    n += (size_t)snprintf(q + n, sizeof(q) - n, "&response-cache-control=");
    memset(q + n, 'c', GW_RESPONSE_MAX);
    n += GW_RESPONSE_MAX;
    q[n] = '\0';
    const char *r = apply(&p, q);
    cr_assert_null(r, "%s", r);
    cr_assert_eq(out.n, 4);
    cr_assert(strstr(value("response-content-disposition"), "filename*=UTF-8''%C3%A9%C3%A9") != NULL);
}

Test(gw_params, rebuilt_disposition_passes_again_unchanged)
{
    /* found by fuzz_params: a long file name's rebuilt value outgrew the input cap, so a canonical form (what a share
     * link carries) was refused when read back */
    struct gw_param_policy p = pol_resp(GW_RESP_CONTENT_DISPOSITION);
    static char q[8192], canon[GW_PARAMS_CANON_MAX], again[GW_PARAMS_CANON_MAX];
    size_t n = (size_t)snprintf(q, sizeof(q), "response-content-disposition=inline;filename=%%22");
    memset(q + n, '*', GW_RESPONSE_MAX);
    memcpy(q + n + GW_RESPONSE_MAX, "%22", 4);
    cr_assert_null(apply(&p, q), "%s", out.reason);
    struct sgn_buf b;
    sgn_buf_init(&b, canon, sizeof(canon));
    gw_params_canon(&b, &out);
    cr_assert_null(gw_params_apply(&p, canon, b.len, &out), "%s", out.reason);
    sgn_buf_init(&b, again, sizeof(again));
    gw_params_canon(&b, &out);
    cr_assert_str_eq(again, canon);
    memset(q + n, '*', GW_RESPONSE_MAX + 1);
    memcpy(q + n + GW_RESPONSE_MAX + 1, "%22", 4);
    refuses(&p, q, "malformed filename");
}

Test(gw_params, response_cache_control)
{
    struct gw_param_policy p = pol_resp(GW_RESP_CACHE_CONTROL);
    const char *n = "response-cache-control";
    accepts(&p, "response-cache-control=no-cache", n, "no-cache");
    accepts(&p, "response-cache-control=public,%20max-age=3600", n, "public, max-age=3600");
    accepts(&p, "response-cache-control=private,no-cache=%22Set-Cookie%22", n, "private,no-cache=\"Set-Cookie\"");
    refuses(&p, "response-cache-control=max-age=", "malformed value");
    refuses(&p, "response-cache-control=,", "malformed value");
    refuses(&p, "response-cache-control=public,", "malformed value");
    refuses(&p, "response-cache-control=a%20b", "malformed value");
    refuses(&p, "response-cache-control=a;b", "malformed value");
}

Test(gw_params, response_expires)
{
    struct gw_param_policy p = pol_resp(GW_RESP_EXPIRES);
    const char *n = "response-expires";
    accepts(&p, "response-expires=Sun,%2006%20Nov%201994%2008:49:37%20GMT", n, "Sun, 06 Nov 1994 08:49:37 GMT");
    accepts(&p, "response-expires=Thu,%2031%20Dec%202037%2023:59:60%20GMT", n, "Thu, 31 Dec 2037 23:59:60 GMT");
    refuses(&p, "response-expires=Sun,%2006%20Nov%201994%2008:49:37%20UTC", "malformed value");
    refuses(&p, "response-expires=Sux,%2006%20Nov%201994%2008:49:37%20GMT", "malformed value");
    refuses(&p, "response-expires=Sun,%2006%20Noo%201994%2008:49:37%20GMT", "malformed value");
    refuses(&p, "response-expires=Sun,%2000%20Nov%201994%2008:49:37%20GMT", "malformed value");
    refuses(&p, "response-expires=Sun,%2032%20Nov%201994%2008:49:37%20GMT", "malformed value");
    refuses(&p, "response-expires=Sun,%2006%20Nov%201994%2024:49:37%20GMT", "malformed value");
    refuses(&p, "response-expires=Sun,%2006%20Nov%201994%2008:60:37%20GMT", "malformed value");
    refuses(&p, "response-expires=Sun,%2006%20Nov%201994%2008:49:61%20GMT", "malformed value");
    refuses(&p, "response-expires=Sunday,%2006-Nov-94%2008:49:37%20GMT", "malformed value");
    refuses(&p, "response-expires=0", "malformed value");
}

Test(gw_params, response_content_language)
{
    struct gw_param_policy p = pol_resp(GW_RESP_CONTENT_LANGUAGE);
    const char *n = "response-content-language";
    accepts(&p, "response-content-language=en", n, "en");
    accepts(&p, "response-content-language=zh-Hans-CN,%20en-US", n, "zh-Hans-CN, en-US");
    refuses(&p, "response-content-language=en-", "malformed value");
    refuses(&p, "response-content-language=-en", "malformed value");
    refuses(&p, "response-content-language=en--US", "malformed value");
    refuses(&p, "response-content-language=abcdefghi", "malformed value");
    refuses(&p, "response-content-language=en_US", "malformed value");
    refuses(&p, "response-content-language=en,", "malformed value");
}

Test(gw_params, response_content_encoding)
{
    struct gw_param_policy p = pol_resp(GW_RESP_CONTENT_ENCODING);
    const char *n = "response-content-encoding";
    accepts(&p, "response-content-encoding=gzip", n, "gzip");
    accepts(&p, "response-content-encoding=gzip,%20br", n, "gzip, br");
    refuses(&p, "response-content-encoding=gz%20ip", "malformed value");
    refuses(&p, "response-content-encoding=gzip;q=1", "malformed value");
    refuses(&p, "response-content-encoding=", "needs a value");
}

Test(gw_params, pairs_are_sorted_by_name_and_canonical_form_is_unambiguous)
{
    struct gw_param_policy p = pol_all();
    cr_assert_null(apply(&p, "x-oss-process=image/info&versionId=null&response-expires=Sun,%2006%20Nov%201994%2008:49:37%20GMT"
                             "&response-content-type=a/b&response-cache-control=no-store&response-content-language=en"
                             "&response-content-encoding=br&response-content-disposition=inline"));
    cr_assert_eq(out.n, 8);
    for (size_t i = 1; i < out.n; i++) {
        cr_assert_lt(sgn_view_cmp(out.pairs[i - 1].name, out.pairs[i].name), 0);
    }
    char buf[GW_PARAMS_CANON_MAX];
    struct sgn_buf b;
    sgn_buf_init(&b, buf, sizeof(buf));
    gw_params_canon(&b, &out);
    cr_assert_not(b.overflow);
    cr_assert_str_eq(buf, "response-cache-control=no-store&response-content-disposition=inline&response-content-encoding=br"
                          "&response-content-language=en&response-content-type=a%2Fb"
                          "&response-expires=Sun%2C%2006%20Nov%201994%2008%3A49%3A37%20GMT&versionId=null"
                          "&x-oss-process=image%2Finfo");

    /* '&' and '=' inside a value cannot fake another pair */
    struct gw_param_policy any = {.process = GW_PROCESS_ANY, .version_id = true};
    cr_assert_null(apply(&any, "x-oss-process=a%26versionId%3Dnull"));
    sgn_buf_init(&b, buf, sizeof(buf));
    gw_params_canon(&b, &out);
    cr_assert_str_eq(buf, "x-oss-process=a%26versionId%3Dnull");
    cr_assert_null(apply(&any, ""));
    sgn_buf_init(&b, buf, sizeof(buf));
    gw_params_canon(&b, &out);
    cr_assert_str_eq(buf, "");
}
