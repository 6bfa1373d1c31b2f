/*
 * test_kb_editor.c - what editors rely on below the API: field validation
 * that names the field, saves that count revisions and refuse a stale
 * revision, revert, the line diff, locale fallback, the Markdown renderer
 * dropping raw HTML and script links, and the gap report's grouping.
 */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kb_store_env.h"
#include "sb_kb.h"
#include "sb_store.h"

struct env {
    char path[64];
    struct sb_store *st;
    struct sb_kb *kb;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    if (kb_store_env_open(e->path, "kbed", &e->st, &e->kb)) return -1;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    kb_store_env_close(e->path, e->st, e->kb);
    free(e);
    return 0;
}

static struct sb_kb_article sample(void)
{
    return (struct sb_kb_article){.slug = "gift-cards",
                                  .locale = "en",
                                  .title = "Gift cards",
                                  .summary = "Gift cards never expire.",
                                  .body = "line one\nline two\n",
                                  .status = "published",
                                  .author = "ana"};
}

static void expect_invalid(struct sb_kb *kb, const struct sb_kb_article *a, const char *field)
{
    struct sb_errbuf eb = {{0}};
    size_t n = strlen(field);
    assert_int_equal(sb_kb_validate(kb, a, &eb), SB_ERR_INVAL);
    if (strncmp(eb.msg, field, n) != 0 || eb.msg[n] != ':')
        fail_msg("expected an error about %s, got \"%s\"", field, eb.msg);
}

static void validation_names_the_field(void **state)
{
    struct env *e = *state;
    struct sb_kb_article a = sample();
    char big[SB_KB_MAX_BODY + 2];
    json_t *bad_examples = json_pack("[s, i]", "fine", 3);

    a.title = "";
    expect_invalid(e->kb, &a, "title");
    a = sample();
    a.locale = "tlh";
    expect_invalid(e->kb, &a, "locale");
    a = sample();
    a.slug = "Not A Slug";
    expect_invalid(e->kb, &a, "slug");
    a = sample();
    a.title = "Hi <script>alert(1)</script>";
    expect_invalid(e->kb, &a, "title");
    a = sample();
    a.summary = "Bold <b>is</b> typed";
    expect_invalid(e->kb, &a, "summary");
    a = sample();
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    a.body = big;
    expect_invalid(e->kb, &a, "body");
    a = sample();
    a.title = "caf\xC3";
    expect_invalid(e->kb, &a, "title");
    a = sample();
    a.examples = bad_examples;
    expect_invalid(e->kb, &a, "examples[1]");
    a = sample();
    a.status = "live";
    expect_invalid(e->kb, &a, "status");
    /* a < that is not a tag is fine: "a < b" and "<3" */
    a = sample();
    a.title = "Orders < $5 and <3 from us";
    assert_int_equal(sb_kb_validate(e->kb, &a, NULL), SB_OK);
    json_decref(bad_examples);
}

static void saves_count_revisions_and_refuse_stale_ones(void **state)
{
    struct env *e = *state;
    struct sb_kb_article a = sample();
    struct sb_errbuf eb = {{0}};
    struct sb_kb_saved s1, s2, s3;
    json_t *list, *art;

    assert_int_equal(sb_kb_save(e->kb, &a, 0, 0, &s1, &eb), SB_OK);
    assert_int_equal(s1.change, SB_KB_ADDED);
    assert_int_equal(s1.revision, 1);
    assert_int_equal(sb_kb_save(e->kb, &a, s1.id, 1, &s2, &eb), SB_OK);
    assert_int_equal(s2.change, SB_KB_UNCHANGED); /* no new revision for nothing */
    assert_int_equal(s2.revision, 1);
    a.body = "line one\nline 2\n";
    a.author = "bea";
    assert_int_equal(sb_kb_save(e->kb, &a, s1.id, 1, &s2, &eb), SB_OK);
    assert_int_equal(s2.revision, 2);
    /* Ana still has revision 1 open */
    a.body = "ana's text";
    a.author = "ana";
    assert_int_equal(sb_kb_save(e->kb, &a, s1.id, 1, &s3, &eb), SB_ERR_CONFLICT);
    assert_non_null(strstr(eb.msg, "bea"));
    art = sb_kb_article_json(e->kb, s1.id);
    assert_string_equal(json_string_value(json_object_get(art, "body")), "line one\nline 2\n");
    json_decref(art);
    list = sb_kb_revisions(e->kb, s1.id);
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);

    assert_int_equal(sb_kb_revert(e->kb, s1.id, 1, 2, "cy", &s3, &eb), SB_OK);
    assert_int_equal(s3.revision, 3);
    art = sb_kb_article_json(e->kb, s1.id);
    assert_string_equal(json_string_value(json_object_get(art, "body")), "line one\nline two\n");
    assert_string_equal(json_string_value(json_object_get(art, "author")), "cy");
    json_decref(art);
    assert_int_equal(sb_kb_revert(e->kb, s1.id, 42, 3, "cy", &s3, &eb), SB_ERR_NOT_FOUND);
}

static void diff_marks_changed_lines_only(void **state)
{
    struct env *e = *state;
    struct sb_kb_article a = sample();
    struct sb_kb_saved s1, s2;
    json_t *d, *fields, *body = NULL;
    size_t i;
    json_t *f;
    static const char *const want[][2] = {{" ", "line one"}, {"-", "line two"}, {"+", "line 2"}};

    a.slug = "diffed";
    assert_int_equal(sb_kb_save(e->kb, &a, 0, 0, &s1, NULL), SB_OK);
    a.body = "line one\nline 2\n";
    assert_int_equal(sb_kb_save(e->kb, &a, s1.id, 1, &s2, NULL), SB_OK);
    d = sb_kb_diff(e->kb, s1.id, 1, 2);
    assert_non_null(d);
    fields = json_object_get(d, "fields");
    json_array_foreach(fields, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "field"));
        assert_int_equal(json_is_true(json_object_get(f, "changed")), strcmp(name, "body") == 0);
        if (strcmp(name, "body") == 0) body = json_object_get(f, "lines");
    }
    assert_non_null(body);
    assert_int_equal(json_array_size(body), 3);
    for (i = 0; i < 3; i++) {
        json_t *l = json_array_get(body, i);
        assert_string_equal(json_string_value(json_object_get(l, "op")), want[i][0]);
        assert_string_equal(json_string_value(json_object_get(l, "text")), want[i][1]);
    }
    json_decref(d);
    assert_null(sb_kb_diff(e->kb, s1.id, 1, 9));
}

static void markdown_drops_raw_html_and_script_links(void **state)
{
    static const char md[] =
        "# Hi\n\n**bold** <b onclick=x>raw</b>\n\n<script>alert(1)</script>\n\n"
        "[a](javascript:alert(1)) [b](https://ok.example/x)\n";
    char *html = sb_kb_render_markdown(md, sizeof(md) - 1);
    (void)state;
    assert_non_null(html);
    assert_non_null(strstr(html, "<h1>Hi</h1>"));
    assert_non_null(strstr(html, "<strong>bold</strong>"));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "onclick"));
    assert_null(strstr(html, "javascript:"));
    assert_non_null(strstr(html, "href=\"https://ok.example/x\""));
    free(html);
}

/* ---- issue 14: the body filter; what matters is the rendered HTML ---- */

/* Hostile bodies: each saves (it is Markdown like any other) and renders
 * to nothing active. */
static const char *const hostile_bodies[] = {
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript&colon;alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java&#9;script:alert(1))",
    "[x](<java script:alert(1)>)",
    "[x](&#0;javascript:alert(1))",
    "[x]( javascript:alert(1) \"t\")",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "[ref]\n\n[ref]: <&#106;avascript:alert(1)> \"t\"",
    "<img src=x onerror\t=alert(1)>",
    "<img src=x onerror=alert(1)>",
    "Hi <img src=x\nonerror=alert(1)> there",
    "<iframe src=\"https://evil.example/\"></iframe>",
    "<script>alert(1)</script>",
    "<SCRIPT>alert(1)</SCRIPT>",
    "<svg onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<object data=x></object><embed src=x><form action=x><base href=x>",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "[x](\"onmouseover=alert(1) \"t\")",
    "[x\"onmouseover=alert(1)](https://ok.example/ \"a\\\" onmouseover=\\\"alert(1)\")",
};

/* The value of an attribute as a browser reads it: entities decoded,
 * ASCII whitespace and control characters dropped, lowercased. */
static void attr_value(const char *v, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        unsigned long ch = (unsigned char)v[i];
        if (v[i] == '&') {
            const char *semi = memchr(v + i, ';', n - i);
            if (semi && v[i + 1] == '#') {
                ch = v[i + 2] == 'x' || v[i + 2] == 'X' ? strtoul(v + i + 3, NULL, 16)
                                                        : strtoul(v + i + 2, NULL, 10);
                i = (size_t)(semi - v);
            } else if (semi && strncmp(v + i, "&amp;", 5) == 0) {
                i += 4;
            } else if (semi) {
                ch = '?'; /* a named entity: never a letter of a scheme here */
                i = (size_t)(semi - v);
            }
        }
        if (ch <= ' ') continue;
        out[o++] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    out[o] = '\0';
}

/* Fails the test when html has a tag or attribute that runs script:
 * script, iframe and other active elements, on* handlers, style, and
 * javascript:, vbscript: or data: (but images) URLs. cmark escapes every
 * '<' of text, so each '<' here starts a real tag or comment. */
static void assert_inert(const char *html, const char *from)
{
    static const char *const active[] = {"script", "iframe", "object", "embed", "style", "form",
                                         "base",   "meta",   "link",   "svg",   "math",  "frame"};
    for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
        const char *q = p + 1, *end;
        char name[16] = "";
        size_t nl = 0;

        if (strncmp(q, "!--", 3) == 0) continue;
        if (*q == '/') q++;
        while (((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9')) &&
               nl + 1 < sizeof(name))
            name[nl++] = (char)(*q++ | 0x20);
        name[nl] = '\0';
        for (size_t i = 0; i < sizeof(active) / sizeof(active[0]); i++)
            if (strcmp(name, active[i]) == 0) fail_msg("<%s> from %s:\n%s", name, from, html);
        end = strchr(q, '>');
        if (!end) fail_msg("unclosed tag from %s:\n%s", from, html);
        while (q < end) {
            char an[32] = "", val[512];
            size_t al = 0;
            const char *v = NULL;
            size_t vl = 0;

            while (q < end && (*q == ' ' || *q == '/' || *q == '\n'))
                q++;
            while (q < end && *q != '=' && *q != ' ' && *q != '>' && al + 1 < sizeof(an))
                an[al++] = (char)(*q++ | 0x20);
            an[al] = '\0';
            if (q < end && *q == '=') {
                char quote = *++q;
                if (quote != '"') fail_msg("unquoted attribute %s from %s:\n%s", an, from, html);
                v = ++q;
                while (q < end && *q != '"')
                    q++;
                vl = (size_t)(q - v);
                q++;
            } else if (al == 0) {
                q++;
            }
            if (an[0] == 'o' && an[1] == 'n')
                fail_msg("event handler %s from %s:\n%s", an, from, html);
            if (strcmp(an, "style") == 0) fail_msg("style attribute from %s:\n%s", from, html);
            if (!v) continue;
            attr_value(v, vl, val, sizeof(val));
            /* a browser reads the scheme before any '%' decoding, so
             * "%EF%BF%BDjavascript:" is a harmless relative link */
            if (strncmp(val, "javascript:", 11) == 0 || strncmp(val, "vbscript:", 9) == 0)
                fail_msg("script URL in %s from %s:\n%s", an, from, html);
            if (strncmp(val, "data:", 5) == 0 && strcmp(name, "img") != 0)
                fail_msg("data: URL in %s from %s:\n%s", an, from, html);
        }
        p = end;
    }
}

static void hostile_bodies_save_and_render_inert(void **state)
{
    struct env *e = *state;
    struct sb_errbuf eb = {{0}};

    for (size_t i = 0; i < sizeof(hostile_bodies) / sizeof(hostile_bodies[0]); i++) {
        struct sb_kb_article a = sample();
        const char *md = hostile_bodies[i];
        char *html = sb_kb_render_markdown(md, strlen(md));

        a.body = md;
        if (sb_kb_validate(e->kb, &a, &eb)) fail_msg("%s refused: %s", md, eb.msg);
        assert_non_null(html);
        assert_inert(html, md);
        free(html);
    }
}

/* Issue 14: the old blocklist refused these. */
static void harmless_text_about_scripts_is_accepted_and_shown_as_text(void **state)
{
    static const struct {
        const char *md, *shown;
    } cases[] = {
        {"Note on JavaScript: enable it in your browser settings.",
         "<p>Note on JavaScript: enable it in your browser settings.</p>"},
        {"Add the widget to your site:\n\n```html\n<script src=\"https://shop.example/widget.js\" "
         "data-site=\"demo\" async></script>\n```\n",
         "<pre><code class=\"language-html\">&lt;script "
         "src=&quot;https://shop.example/widget.js&quot; "
         "data-site=&quot;demo&quot; async&gt;&lt;/script&gt;\n</code></pre>"},
        {"Set `img.onerror = retry` to try again.", "<code>img.onerror = retry</code>"},
        {"Links like javascript:void(0) do nothing.", "javascript:void(0) do nothing."},
    };
    struct env *e = *state;
    struct sb_errbuf eb = {{0}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sb_kb_article a = sample();
        char *html = sb_kb_render_markdown(cases[i].md, strlen(cases[i].md));

        a.body = cases[i].md;
        if (sb_kb_validate(e->kb, &a, &eb)) fail_msg("\"%s\" refused: %s", cases[i].md, eb.msg);
        assert_non_null(html);
        if (!strstr(html, cases[i].shown))
            fail_msg("\"%s\" rendered as\n%s\nwithout\n%s", cases[i].md, html, cases[i].shown);
        assert_inert(html, cases[i].md);
        free(html);
    }
    /* a plain-text field is never a link: the words are fine there too */
    {
        struct sb_kb_article a = sample();
        a.title = "Note on JavaScript: enable it";
        a.summary = "Turn on JavaScript: the checkout needs it.";
        assert_int_equal(sb_kb_validate(e->kb, &a, &eb), SB_OK);
    }
}

static void locale_fallback_chain(void **state)
{
    struct env *e = *state;
    char out[36];
    assert_int_equal(sb_kb_set_locales(e->kb, "en, pt-BR ,ro", NULL), SB_OK);
    sb_kb_resolve_locale(e->kb, "pt-PT", out, sizeof(out));
    assert_string_equal(out, "pt-BR");
    sb_kb_resolve_locale(e->kb, "pt", out, sizeof(out));
    assert_string_equal(out, "pt-BR");
    sb_kb_resolve_locale(e->kb, "RO", out, sizeof(out));
    assert_string_equal(out, "ro");
    sb_kb_resolve_locale(e->kb, "de-DE", out, sizeof(out));
    assert_string_equal(out, "en");
    assert_int_equal(sb_kb_set_locales(e->kb, "en,<x>", NULL), SB_ERR_INVAL);
    assert_int_equal(sb_kb_set_locales(e->kb, " , ", NULL), SB_ERR_INVAL);
    assert_true(sb_kb_locale_known(e->kb, "ro")); /* a refused list changes nothing */
}

static void gaps_group_wordings_and_count_handoffs(void **state)
{
    struct env *e = *state;
    json_t *gaps, *g;

    assert_int_equal(sb_kb_log_query(e->kb, 1, "en", "Where is my parcel?", 0, 0, "none"), SB_OK);
    assert_int_equal(sb_kb_log_query(e->kb, 2, "en", "where is my PARCEL", 0, 0.2, "unsure"),
                     SB_OK);
    assert_int_equal(sb_kb_mark_handoff(e->kb, 2), SB_OK);
    assert_int_equal(sb_kb_log_query(e->kb, 3, "en", "gift cards?", 1, 0.9, "answered"), SB_OK);
    gaps = sb_kb_gaps(e->kb, "en", 0, 10);
    assert_int_equal(json_array_size(gaps), 1); /* answered questions are no gap */
    g = json_array_get(gaps, 0);
    assert_int_equal(json_integer_value(json_object_get(g, "count")), 2);
    assert_string_equal(json_string_value(json_object_get(g, "question")), "where is my PARCEL");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(g, "outcomes"), "handoff")),
                     1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(g, "outcomes"), "none")),
                     1);
    json_decref(gaps);
}

/* Two order articles share the one content word of "where is my order";
 * the one that lists the question among its examples is the answer. */
static void example_question_wording_is_an_answer(void **state)
{
    struct env *e = *state;
    json_t *ex = json_pack("[s]", "Where is my order?");
    struct sb_kb_article track = {.slug = "track",
                                  .locale = "en",
                                  .title = "Track an order",
                                  .summary = "Use the tracking link.",
                                  .body = "order order",
                                  .status = "published",
                                  .examples = ex};
    struct sb_kb_article cancel = {.slug = "cancel",
                                   .locale = "en",
                                   .title = "Cancel an order",
                                   .summary = "Cancel an order within an hour.",
                                   .body = "order order order order",
                                   .status = "published"};
    struct sb_kb_result r;
    struct sb_kb_saved s;

    assert_int_equal(sb_kb_save(e->kb, &track, 0, 0, &s, NULL), SB_OK);
    assert_int_equal(sb_kb_save(e->kb, &cancel, 0, 0, &s, NULL), SB_OK);
    assert_int_equal(sb_kb_search(e->kb, "WHERE is my order", "en", 3, &r), SB_OK);
    assert_true(r.n >= 2);
    assert_string_equal(r.hit[0].slug, "track");
    assert_true(r.hit[0].confidence >= 0.9);
    assert_true(r.hit[1].confidence < 0.5);
    sb_kb_result_cleanup(&r);
    /* a near wording still finds it, through its neighbours, not the phrase */
    assert_int_equal(sb_kb_search(e->kb, "where is my order now", "en", 3, &r), SB_OK);
    assert_true(r.n >= 1);
    assert_string_equal(r.hit[0].slug, "track");
    sb_kb_result_cleanup(&r);
    /* and the phrase is per language */
    assert_int_equal(sb_kb_search(e->kb, "where is my order", "pt-BR", 3, &r), SB_OK);
    assert_int_equal(r.n, 0);
    sb_kb_result_cleanup(&r);
    json_decref(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(validation_names_the_field, setup, teardown),
        cmocka_unit_test_setup_teardown(saves_count_revisions_and_refuse_stale_ones, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(diff_marks_changed_lines_only, setup, teardown),
        cmocka_unit_test(markdown_drops_raw_html_and_script_links),
        cmocka_unit_test_setup_teardown(hostile_bodies_save_and_render_inert, setup, teardown),
        cmocka_unit_test_setup_teardown(harmless_text_about_scripts_is_accepted_and_shown_as_text,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(locale_fallback_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(gaps_group_wordings_and_count_handoffs, setup, teardown),
        cmocka_unit_test_setup_teardown(example_question_wording_is_an_answer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
