/* test_gw_errpage.c: template splitting, rendering, the loader and the Accept check (gateway/policy/gw_errpage.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "gw_errpage.h"

static struct sgn_view v(const char *s)
{
    return (struct sgn_view){s, strlen(s)};
}

static char page[GW_ERRPAGE_MAX * 2];

static const char *render(const char *tmpl, unsigned status, const char *reason, const char *id)
{
    struct gw_errpage *t = NULL;
    size_t line, col;
    const char *r = gw_errpage_parse(&t, tmpl, strlen(tmpl), &line, &col);
    cr_assert_null(r, "%s: %s", tmpl, r);
    struct sgn_buf b;
    sgn_buf_init(&b, page, sizeof(page));
    gw_errpage_render(&b, t, status, v(reason), v(id));
    cr_assert_not(b.overflow);
    gw_errpage_free(t);
    return page;
}

Test(gw_errpage, renders_and_escapes)
{
    cr_assert_str_eq(render("", 404, "x", "y"), "");
    cr_assert_str_eq(render("plain", 404, "x", "y"), "plain");
    cr_assert_str_eq(render("{{status}}", 404, "x", "y"), "404");
    cr_assert_str_eq(render("<h1>{{status}} {{reason}}</h1><p>{{request_id}}</p>{{status}}", 503, "busy", "r-1"),
                     "<h1>503 busy</h1><p>r-1</p>503");
    cr_assert_str_eq(render("[{{reason}}]", 400, "<script>alert('x')</script> & \"q\"", "a<b"),
                     "[&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;]");
    cr_assert_str_eq(render("{{request_id}}", 400, "", "<>&"), "&lt;&gt;&amp;");
}

Test(gw_errpage, lone_braces_and_css_pass)
{
    cr_assert_str_eq(render("body { color: red } a{b}", 404, "", ""), "body { color: red } a{b}");
    cr_assert_str_eq(render("x{", 404, "", ""), "x{");
}

Test(gw_errpage, refusals_say_where)
{
    static const struct {
        const char *text;
        size_t line, col;
        const char *needle;
    } bad[] = {
        {"{{statu}}", 1, 1, "unknown placeholder"}, {"ok\n  {{Status}}", 2, 3, "unknown placeholder"},
        {"a\nb\nc{{", 3, 2, "unknown placeholder"}, {"{{ status }}", 1, 1, "unknown placeholder"},
        {"{{status}", 1, 1, "unknown placeholder"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct gw_errpage *t = NULL;
        size_t line = 0, col = 0;
        const char *r = gw_errpage_parse(&t, bad[i].text, strlen(bad[i].text), &line, &col);
        cr_assert_not_null(r, "%s accepted", bad[i].text);
        cr_assert(strstr(r, bad[i].needle) != NULL, "%s", r);
        cr_assert_eq(line, bad[i].line, "%s: line %zu", bad[i].text, line);
        cr_assert_eq(col, bad[i].col, "%s: col %zu", bad[i].text, col);
        cr_assert_null(t);
    }
    struct gw_errpage *t = NULL;
    size_t line, col;
    cr_assert_str_eq(gw_errpage_parse(&t, "ab\0c", 4, &line, &col), "NUL byte in template");
    cr_assert_eq(col, 3);
    static char many[(GW_ERRPAGE_PARTS_MAX + 1) * 10 + 1];
    for (size_t i = 0; i <= GW_ERRPAGE_PARTS_MAX; i++) {
        memcpy(many + 10 * i, "{{status}}", 10);
    }
    cr_assert_null(gw_errpage_parse(&t, many, GW_ERRPAGE_PARTS_MAX * 10, &line, &col));
    gw_errpage_free(t);
    t = NULL;
    cr_assert_str_eq(gw_errpage_parse(&t, many, (GW_ERRPAGE_PARTS_MAX + 1) * 10, &line, &col), "too many placeholders");
    cr_assert_eq(col, GW_ERRPAGE_PARTS_MAX * 10 + 1);
}

static char dir[64];

static void write_file(const char *name, const char *text, size_t len)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

static void setup_dir(void)
{
    memcpy(dir, "/tmp/gw_errpage_XXXXXX", 23);
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown_dir(void)
{
    static const char *const names[] = {"default.html", "404.html", "503.html", "410.html", "599.html", "400.html"};
    char path[128];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
        rmdir(path);
    }
    rmdir(dir);
}

static const char *rendered(const struct gw_errpages *set, unsigned status)
{
    struct sgn_buf b;
    sgn_buf_init(&b, page, sizeof(page));
    gw_errpage_render(&b, gw_errpages_find(set, status), status, v("why"), v("id"));
    return page;
}

Test(gw_errpage, loads_a_directory, .init = setup_dir, .fini = teardown_dir)
{
    write_file("default.html", "D{{status}}", 11);
    write_file("404.html", "N{{reason}}", 11);
    write_file("599.html", "L", 1);
    struct gw_errpages *set = NULL;
    char err[256] = "";
    cr_assert(gw_errpages_load(&set, dir, err, sizeof(err)), "%s", err);
    cr_assert_str_eq(rendered(set, 404), "Nwhy");
    cr_assert_str_eq(rendered(set, 599), "L");
    cr_assert_str_eq(rendered(set, 500), "D500");
    cr_assert_str_eq(rendered(set, 403), "D403");
    cr_assert_str_eq(rendered(set, 302), "D302");
    cr_assert_str_eq(rendered(set, 600), "D600");
    gw_errpages_free(set);
    gw_errpages_free(NULL);
}

Test(gw_errpage, load_refusals_name_the_file, .init = setup_dir, .fini = teardown_dir)
{
    struct gw_errpages *set = NULL;
    char err[512] = "", want[512];

    cr_assert_not(gw_errpages_load(&set, dir, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s/default.html: %s", dir, strerror(ENOENT));
    cr_assert_str_eq(err, want);

    write_file("default.html", "ok", 2);
    write_file("404.html", "line\n {{oops}}", 14);
    cr_assert_not(gw_errpages_load(&set, dir, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s/404.html:2:2: unknown placeholder (use {{status}}, {{reason}} or {{request_id}})", dir);
    cr_assert_str_eq(err, want);

    write_file("404.html", "fine", 4);
    static char big[GW_ERRPAGE_MAX + 1];
    memset(big, 'x', sizeof(big));
    write_file("503.html", big, GW_ERRPAGE_MAX);
    cr_assert(gw_errpages_load(&set, dir, err, sizeof(err)), "%s", err);
    gw_errpages_free(set);
    set = NULL;
    write_file("503.html", big, GW_ERRPAGE_MAX + 1);
    cr_assert_not(gw_errpages_load(&set, dir, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s/503.html: 65537 bytes, at most 65536 allowed", dir);
    cr_assert_str_eq(err, want);
    write_file("503.html", "", 0);

    char path[128];
    snprintf(path, sizeof(path), "%s/410.html", dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    cr_assert_not(gw_errpages_load(&set, dir, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s/410.html: not a regular file", dir);
    cr_assert_str_eq(err, want);
    rmdir(path);

    if (geteuid() != 0) { /* root reads anything */
        write_file("400.html", "x", 1);
        snprintf(path, sizeof(path), "%s/400.html", dir);
        cr_assert_eq(chmod(path, 0), 0);
        cr_assert_not(gw_errpages_load(&set, dir, err, sizeof(err)));
        snprintf(want, sizeof(want), "%s/400.html: %s", dir, strerror(EACCES));
        cr_assert_str_eq(err, want);
    }
    cr_assert_null(set);
}

Test(gw_errpage, shipped_default_set_loads)
{
    struct gw_errpages *set = NULL;
    char err[512] = "";
    cr_assert(gw_errpages_load(&set, GW_SOURCE_DIR "/conf/errors", err, sizeof(err)), "%s", err);
    static const unsigned shipped[] = {404, 403, 429, 502, 503};
    for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
        cr_assert_neq(gw_errpages_find(set, shipped[i]), gw_errpages_find(set, 599), "%u.html", shipped[i]);
    }
    struct sgn_buf b;
    sgn_buf_init(&b, page, sizeof(page));
    gw_errpage_render(&b, gw_errpages_find(set, 500), 500, v("store <error>"), v("req-1"));
    cr_assert_not(b.overflow);
    cr_assert(strstr(page, "<html lang=") != NULL);
    cr_assert(strstr(page, "500") != NULL);
    cr_assert(strstr(page, "store &lt;error&gt;") != NULL);
    cr_assert(strstr(page, "req-1") != NULL);
    cr_assert(strstr(page, "prefers-color-scheme") != NULL);
    cr_assert(strstr(page, "http://") == NULL && strstr(page, "https://") == NULL, "no external resources");
    gw_errpages_free(set);
}

static bool html(const char *accept)
{
    return gw_accept_prefers_html(v(accept));
}

Test(gw_errpage, accept_prefers_html)
{
    cr_assert(html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
    cr_assert(html("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
                   "application/signed-exchange;v=b3;q=0.7"));
    cr_assert(html("text/html"));
    cr_assert(html("TEXT/HTML"));
    cr_assert(html("text/html;level=1"));
    cr_assert(html(" text/html ; q=0.5 , */*;q=0.1"));
    cr_assert(html("text/html;q=1.000"));
    cr_assert(html("text/html;Q=0.001"));
    cr_assert(html("application/json;q=0.5, text/html"));
    cr_assert(html("text/html;q=0.5,text/html;q=0.9,application/json;q=0.8"));
    cr_assert(html("text/html;q=0.8,application/json;q=1.5"), "malformed q drops its range");
    cr_assert(html("text/html;q=0.8, */*"), "a wildcard never outranks an explicit text/html");
    cr_assert(html("text/html;q=0.5, text/*;q=0.9, image/png;q=0.4"));
}

Test(gw_errpage, accept_does_not_prefer_html)
{
    cr_assert_not(gw_accept_prefers_html((struct sgn_view){NULL, 0}));
    cr_assert_not(html(""));
    cr_assert_not(html("*/*"));
    cr_assert_not(html("text/*"));
    cr_assert_not(html("text/*;q=1, */*"));
    cr_assert_not(html("application/json"));
    cr_assert_not(html("text/plain"));
    cr_assert_not(html("text/html;q=0"));
    cr_assert_not(html("text/html;q=0.000"));
    cr_assert_not(html("text/html;q=0.5, application/json"));
    cr_assert_not(html("application/json, text/html;q=0.9"));
    cr_assert_not(html("text/html;q=2"));
    cr_assert_not(html("text/html;q=1.5"));
    cr_assert_not(html("text/html;q=0.1234"));
    cr_assert_not(html("text/html;q="));
    cr_assert_not(html("text/html;q=.5"));
    cr_assert_not(html("text/htmlx"));
    cr_assert_not(html("texthtml"));
}

Test(gw_accept, at_most_64_ranges_are_read)
{
    char a[64 * 12 + 20] = "";
    for (size_t i = 0; i < 64; i++) {
        memcpy(a + strlen(a), "image/png,", 11);
    }
    memcpy(a + strlen(a), "text/html", 10);
    cr_assert_not(html(a));
}
