/*
 * help_center.c - the public help center: server-rendered HTML pages of the
 * published articles (home, category, search, article), the "was this
 * helpful?" form, and the redirect from /help to the visitor's language.
 *
 * Reads come from kb_public.c (sb_kb_public_*), search from sb_kb_search()
 * so the pages find what the bot finds, bodies from sb_kb_render_markdown()
 * (cmark in safe mode) and votes go to sb_kb_vote_view() with the page
 * view's token (help_view.c). Every other piece of
 * text from the database is escaped here. Pages need no JavaScript, and
 * http_text()'s CSP forbids inline script and style, so the look comes
 * from web/help/help.css, served at /static/help/help.css.
 *
 * URLs: /help/{locale}[/...] where locale is one of the knowledge base's
 * locales as spelled there; any other locale-shaped segment redirects to
 * the locale it resolves to (pt-PT -> pt-BR, de -> the default), and
 * anything else is a 404 page.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "help_view.h"
#include "sb_log.h"
#include "http.h"
#include "server.h"
#include "words.h"
#include "ratelimit.h"
#include "sb_kb.h"

#include "help_parse.h" /* what the fuzz targets call */

#define LOCALE_CAP HELP_LOCALE_CAP
#define SEARCH_MAX_BYTES HELP_SEARCH_MAX_BYTES
#define SNIPPET_BYTES 240
#define PAGE_LIMIT (4 * 1024 * 1024)
#define LOCATION_LIMIT 4096
#define ACCEPT_MAX_RANGES 16
#define HELP_CSS "/static/help/help.css"

/* ------------------------------------------------------------------ */
/* UI strings                                                         */
/* ------------------------------------------------------------------ */

struct ui_text {
    const char *self_name; /* the language, as named in a sentence of its own; NULL: none */
    const char *site, *home_h1, *skip, *languages, *breadcrumb, *home, *footer;
    const char *search_label, *search_button, *search_h1, *search_prompt;
    const char *results_before, *results_after, *no_results, *browse_all;
    const char *other, *category_empty, *empty_kb;
    const char *missing_before, *missing_after; /* around the language's name */
    const char *updated, *helpful, *yes, *no, *thanks;
    const char *not_found_h1, *not_found_p, *bad_request_h1, *bad_request_p;
    const char *error_h1, *error_p;
    const char *vote_refused_h1, *vote_refused_p, *vote_limited_p;
};

/* Each field is the catalogue's "help.<field>" (web/locales, words.h). */
#define UI(field)                                                                                  \
    {                                                                                              \
        "help." #field, offsetof(struct ui_text, field)                                            \
    }
static const struct {
    const char *key;
    size_t offset;
} ui_keys[] = {
    UI(site),
    UI(home_h1),
    UI(skip),
    UI(languages),
    UI(breadcrumb),
    UI(home),
    UI(footer),
    UI(search_label),
    UI(search_button),
    UI(search_h1),
    UI(search_prompt),
    UI(results_before),
    UI(results_after),
    UI(no_results),
    UI(browse_all),
    UI(other),
    UI(category_empty),
    UI(empty_kb),
    UI(missing_before),
    UI(missing_after),
    UI(updated),
    UI(helpful),
    UI(yes),
    UI(no),
    UI(thanks),
    UI(not_found_h1),
    UI(not_found_p),
    UI(bad_request_h1),
    UI(bad_request_p),
    UI(error_h1),
    UI(error_p),
    UI(vote_refused_h1),
    UI(vote_refused_p),
    UI(vote_limited_p),
};
#undef UI

/* The UI strings for locale by the one fallback rule (words.h). Borrowed
 * from words. */
static void ui_fill(struct ui_text *t, const struct sb_words *words, const char *locale)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(ui_keys); i++)
        *(const char **)((char *)t + ui_keys[i].offset) =
            sb_words_text(words, locale, ui_keys[i].key);
    /* only the locale's own language names itself in a sentence: a page in
     * English for de says "Deutsch", not "English" (put_missing_note) */
    t->self_name = sb_words_own(words, locale, "help.self_name");
}

/* "Português (Brasil)" for pt-BR, the language's name for other regions
 * (words.h); the locale itself when no catalogue names it. */
static const char *locale_name(const struct sb_words *words, const char *locale)
{
    const char *name = sb_words_locale_name(words, locale);
    return name ? name : locale;
}

/* ------------------------------------------------------------------ */
/* Input shapes                                                       */
/* ------------------------------------------------------------------ */

static bool is_alpha(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_alnum(char ch)
{
    return is_alpha(ch) || (ch >= '0' && ch <= '9');
}

/* A BCP 47 shape: a language of 2-3 letters, then subtags of 1-8 letters
 * or digits ("pt-BR", "zh-Hant-TW"). Keeps words like "search" or
 * "favicon.ico" from being taken for a locale. */
static bool looks_like_locale(const char *s)
{
    size_t n = 0, part = 0;
    bool first = true;

    for (; s[n]; n++) {
        if (s[n] == '-') {
            if (part == 0 || (first && part < 2)) return false;
            first = false;
            part = 0;
        } else if (first ? is_alpha(s[n]) : is_alnum(s[n])) {
            if (++part > (first ? 3u : 8u)) return false;
        } else {
            return false;
        }
    }
    return n < LOCALE_CAP && part > 0 && (!first || part >= 2);
}

/* Slugs and categories: lowercase letters, digits and '-' (as the editor
 * validation requires), so anything else can skip the database. */
static bool looks_like_slug(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '-'))
            return false;
    return n > 0 && n <= SB_KB_MAX_SLUG;
}

/* ------------------------------------------------------------------ */
/* Writing HTML                                                       */
/* ------------------------------------------------------------------ */

struct page {
    struct sb_server *srv;
    struct sb_buf b;
    bool failed;             /* an append hit the cap or ran out of memory */
    struct ui_text text;     /* strings of ui */
    const struct ui_text *t; /* &text */
    const char *ui;          /* locale of the UI strings and of the links */
    const char *lang;        /* locale of the content: <html lang> */
};

static void page_init(struct page *p, struct sb_server *srv, const char *ui, const char *lang,
                      size_t limit)
{
    memset(p, 0, sizeof(*p));
    p->srv = srv;
    p->ui = ui;
    p->lang = lang;
    ui_fill(&p->text, srv->words, ui);
    p->t = &p->text;
    sb_buf_init(&p->b, limit);
}

static void putn(struct page *p, const char *s, size_t n)
{
    if (n && sb_buf_append(&p->b, s, n) != SB_OK) p->failed = true;
}

static void put(struct page *p, const char *s)
{
    putn(p, s, strlen(s));
}

/* Text and attribute values: &<>"' escaped, so nothing from the database
 * can become markup or leave an attribute. */
static void put_escn(struct page *p, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        putn(p, s + run, i - run);
        put(p, rep);
        run = i + 1;
    }
    putn(p, s + run, n - run);
}

static void put_esc(struct page *p, const char *s)
{
    if (s) put_escn(p, s, strlen(s));
}

/* A URL path segment or query value: everything but unreserved characters
 * percent-encoded, which also leaves nothing to escape in an attribute. */
static void put_seg(struct page *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (is_alnum((char)ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            putn(p, s, 1);
        } else {
            char enc[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            putn(p, enc, 3);
        }
    }
}

/* [public_url]/help/{locale}[/seg1[/seg2]] */
static void put_help_url(struct page *p, bool absolute, const char *locale, const char *seg1,
                         const char *seg2)
{
    if (absolute) put_esc(p, p->srv->public_url);
    put(p, "/help/");
    put_seg(p, locale);
    if (seg1) {
        put(p, "/");
        put_seg(p, seg1);
    }
    if (seg2) {
        put(p, "/");
        put_seg(p, seg2);
    }
}

/* ` lang="ui"` on the page's own words when the content is in another
 * language (an article shown from a fallback locale). */
static void put_ui_lang(struct page *p)
{
    if (strcmp(p->ui, p->lang) == 0) return;
    put(p, " lang=\"");
    put_esc(p, p->ui);
    put(p, "\"");
}

/* text cut to at most max bytes, between words when one ends in the
 * second half, else between characters, with an ellipsis when cut. */
static void put_snippet(struct page *p, const char *text, size_t max)
{
    size_t n = strlen(text), cut, space;

    if (n <= max) {
        put_esc(p, text);
        return;
    }
    cut = sb_utf8_cut(text, n, max);
    for (space = cut; space > max / 2 && text[space] != ' '; space--)
        ;
    if (text[space] == ' ') cut = space;
    put_escn(p, text, cut);
    put(p, "…");
}

/* The category's name, else its slug made readable ("gift-cards" ->
 * "Gift cards", in buf[cap]), else the heading of articles without one.
 * Plain text, to be escaped. */
static const char *category_label(const struct ui_text *t, const char *name, const char *slug,
                                  char *buf, size_t cap)
{
    if (name && *name) return name;
    if (!slug || !*slug) return t->other;
    snprintf(buf, cap, "%s", slug);
    for (char *s = buf; *s; s++)
        if (*s == '-') *s = ' ';
    if (buf[0] >= 'a' && buf[0] <= 'z') buf[0] = (char)(buf[0] - 'a' + 'A');
    return buf;
}

/* Rendered Markdown. The page's only h1 is the title, so the body's "# "
 * headings become h2. cmark escapes every '<' and '>' of the text, so
 * "<h1>" in its output is always its own tag. */
static void put_body_html(struct page *p, const char *html)
{
    const char *s = html, *lt;

    while ((lt = strchr(s, '<'))) {
        size_t close = lt[1] == '/';
        putn(p, s, (size_t)(lt - s));
        if (strncmp(lt + 1 + close, "h1>", 3) == 0) {
            put(p, close ? "</h2>" : "<h2>");
            s = lt + 4 + close;
        } else {
            putn(p, lt, 1);
            s = lt + 1;
        }
    }
    put(p, s);
}

/* ------------------------------------------------------------------ */
/* The page shell                                                     */
/* ------------------------------------------------------------------ */

/* What the shell needs to know about a page. */
struct head {
    const char *title;       /* before the site name in <title>; NULL: the site alone */
    const char *description; /* <meta name="description">, or NULL */
    const char *seg1, *seg2; /* where the page is under /help/{locale}, for the switcher */
    const char *query;       /* the search box's text; kept by the switcher when set */
    json_t *translations;    /* article pages: [{locale, slug}]; NULL = every locale */
    bool index;              /* canonical and hreflang links; search and errors have none */
};

/* The page in one locale: /help/{locale}[/seg1[/seg2]]. */
struct version {
    const char *locale, *seg1, *seg2;
};

#define MAX_VERSIONS 100 /* sb_kb_public_article lists at most 100 translations */

/* The versions of the page: an article's published translations, or the
 * same page in every locale (from locales). Strings are borrowed. */
static size_t page_versions(const struct head *h, json_t *locales, struct version *out)
{
    json_t *list = h->translations ? h->translations : locales;
    size_t n = 0, i;
    json_t *v;

    json_array_foreach(list, i, v)
    {
        if (n == MAX_VERSIONS) break;
        if (h->translations)
            out[n] = (struct version){json_string_value(json_object_get(v, "locale")),
                                      json_string_value(json_object_get(v, "slug")), NULL};
        else
            out[n] = (struct version){json_string_value(v), h->seg1, h->seg2};
        if (out[n].locale && (!h->translations || out[n].seg1)) n++;
    }
    return n;
}

/* The locale of the version this page is: the content's for articles,
 * the visitor's for the others. */
static const char *page_here(const struct page *p, const struct head *h)
{
    return h->translations ? p->lang : p->ui;
}

static void put_head_link(struct page *p, const char *rel, const char *hreflang,
                          const struct version *v)
{
    put(p, "<link rel=\"");
    put(p, rel);
    if (hreflang) {
        put(p, "\" hreflang=\"");
        put_esc(p, hreflang);
    }
    put(p, "\" href=\"");
    put_help_url(p, true, v->locale, v->seg1, v->seg2);
    put(p, "\">\n");
}

/* The canonical URL, and an alternate per version with x-default on the
 * default locale's (else the first). */
static void put_head_links(struct page *p, const struct head *h, const struct version *vs, size_t n)
{
    const char *def = sb_kb_default_locale(p->srv->kb);
    const struct version *xdef = n ? &vs[0] : NULL;

    for (size_t i = 0; i < n; i++)
        if (strcmp(vs[i].locale, page_here(p, h)) == 0) put_head_link(p, "canonical", NULL, &vs[i]);
    for (size_t i = 0; i < n; i++) {
        put_head_link(p, "alternate", vs[i].locale, &vs[i]);
        if (strcmp(vs[i].locale, def) == 0) xdef = &vs[i];
    }
    if (xdef) put_head_link(p, "alternate", "x-default", xdef);
}

/* The locale switcher: a link per version, named in its own language; a
 * search keeps its text. */
static void put_switcher(struct page *p, const struct head *h, const struct version *vs, size_t n)
{
    put(p, "<nav class=\"locales\" aria-label=\"");
    put_esc(p, p->t->languages);
    put(p, "\"><ul>");
    for (size_t i = 0; i < n; i++) {
        put(p, "<li><a href=\"");
        put_help_url(p, false, vs[i].locale, vs[i].seg1, vs[i].seg2);
        if (h->query && *h->query) {
            put(p, "?q=");
            put_seg(p, h->query);
        }
        put(p, "\" hreflang=\"");
        put_esc(p, vs[i].locale);
        put(p, "\" lang=\"");
        put_esc(p, vs[i].locale);
        put(p, strcmp(vs[i].locale, page_here(p, h)) == 0 ? "\" aria-current=\"true\">" : "\">");
        put_esc(p, locale_name(p->srv->words, vs[i].locale));
        put(p, "</a></li>");
    }
    put(p, "</ul></nav>\n");
}

static void put_search_form(struct page *p, const char *query)
{
    put(p, "<form class=\"search\" role=\"search\" method=\"get\" action=\"");
    put_help_url(p, false, p->ui, "search", NULL);
    put(p, "\">\n<label class=\"visually-hidden\" for=\"q\">");
    put_esc(p, p->t->search_label);
    put(p, "</label>\n<input id=\"q\" type=\"search\" name=\"q\" maxlength=\"200\" "
           "autocomplete=\"off\" value=\"");
    put_esc(p, query ? query : "");
    put(p, "\">\n<button type=\"submit\">");
    put_esc(p, p->t->search_button);
    put(p, "</button>\n</form>\n");
}

/* From <!doctype html> to the end of the header. */
static void page_open(struct page *p, const struct head *h)
{
    json_t *locales = sb_kb_locales_json(p->srv->kb);
    struct version vs[MAX_VERSIONS];
    size_t n = page_versions(h, locales, vs);

    put(p, "<!doctype html>\n<html lang=\"");
    put_esc(p, p->lang);
    put(p, "\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    if (h->title) {
        put_esc(p, h->title);
        put(p, " · ");
    }
    put_esc(p, p->t->site);
    put(p, "</title>\n");
    if (h->description && *h->description) {
        put(p, "<meta name=\"description\" content=\"");
        put_esc(p, h->description);
        put(p, "\">\n");
    }
    if (h->index)
        put_head_links(p, h, vs, n);
    else
        put(p, "<meta name=\"robots\" content=\"noindex\">\n");
    put(p, "<link rel=\"stylesheet\" href=\"" HELP_CSS "\">\n</head>\n<body>\n"
           "<a class=\"skip-link\" href=\"#main\"");
    put_ui_lang(p);
    put(p, ">");
    put_esc(p, p->t->skip);
    put(p, "</a>\n<header class=\"site-header\"");
    put_ui_lang(p);
    put(p, ">\n<div class=\"wrap bar\">\n<a class=\"brand\" href=\"");
    put_help_url(p, false, p->ui, NULL, NULL);
    put(p, "\">");
    put_esc(p, p->t->site);
    put(p, "</a>\n");
    put_switcher(p, h, vs, n);
    put(p, "</div>\n<div class=\"wrap\">\n");
    put_search_form(p, h->query);
    put(p, "</div>\n</header>\n");
    json_decref(locales);
}

/* Home > [category >] current page. */
static void put_breadcrumbs(struct page *p, const char *cat_slug, const char *cat_label,
                            const char *current)
{
    put(p, "<nav class=\"wrap breadcrumbs\" aria-label=\"");
    put_esc(p, p->t->breadcrumb);
    put(p, "\"");
    put_ui_lang(p);
    put(p, "><ol>\n<li><a href=\"");
    put_help_url(p, false, p->ui, NULL, NULL);
    put(p, "\">");
    put_esc(p, p->t->home);
    put(p, "</a></li>\n");
    if (cat_slug && *cat_slug) {
        put(p, "<li><a href=\"");
        put_help_url(p, false, p->ui, "category", cat_slug);
        put(p, "\">");
        put_esc(p, cat_label);
        put(p, "</a></li>\n");
    }
    put(p, "<li aria-current=\"page\">");
    put_esc(p, current);
    put(p, "</li>\n</ol></nav>\n");
}

static void main_open(struct page *p)
{
    put(p, "<main id=\"main\" class=\"wrap\" tabindex=\"-1\">\n");
}

/* From the end of main to </html>. */
static void page_close(struct page *p)
{
    put(p, "</main>\n<footer class=\"site-footer\"");
    put_ui_lang(p);
    put(p, ">\n<div class=\"wrap\"><p><a href=\"");
    put_help_url(p, false, p->ui, NULL, NULL);
    put(p, "\">");
    put_esc(p, p->t->site);
    put(p, "</a> · ");
    put_esc(p, p->t->footer);
    put(p, "</p></div>\n</footer>\n</body>\n</html>\n");
}

/* "Browse all articles", linking home. */
static void put_home_link(struct page *p)
{
    put(p, "<p><a href=\"");
    put_help_url(p, false, p->ui, NULL, NULL);
    put(p, "\">");
    put_esc(p, p->t->browse_all);
    put(p, "</a></p>\n");
}

/* The plain 500 page in the words of p's locale (help.error_*), on a
 * buffer of its own: p could not be built, perhaps over its cap. Fills q;
 * false when even this failed (out of memory). */
static bool broken_page(const struct page *p, struct page *q)
{
    page_init(q, p->srv, p->ui, p->ui, 4096);
    put(q, "<!doctype html>\n<html lang=\"");
    put_esc(q, p->ui);
    put(q, "\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
    put_esc(q, q->t->error_h1);
    put(q, "</title>\n</head>\n<body>\n<main>\n<h1>");
    put_esc(q, q->t->error_h1);
    put(q, "</h1>\n<p>");
    put_esc(q, q->t->error_p);
    put(q, "</p>\n</main>\n</body>\n</html>\n");
    return !q->failed && q->b.data;
}

/* Sends the page (or, when it could not be built whole, a plain 500) and
 * frees it. */
static enum MHD_Result page_send(struct page *p, struct MHD_Connection *c, unsigned status)
{
    /* the last resort when there is no memory for the words' page */
    static const char broken[] = "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta "
                                 "charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n"
                                 "<main>\n<h1>Something went wrong</h1>\n</main>\n</body>\n"
                                 "</html>\n";
    enum MHD_Result ret;

    if (p->failed || !p->b.data) {
        struct page q;
        sb_error("help: a page could not be built (%zu bytes)", p->b.len);
        sb_buf_cleanup(&p->b);
        if (broken_page(p, &q))
            ret = http_text(p->srv, c, 500, "text/html; charset=utf-8", q.b.data, q.b.len);
        else
            ret = http_text(p->srv, c, 500, "text/html; charset=utf-8", broken, sizeof(broken) - 1);
        sb_buf_cleanup(&q.b);
    } else {
        ret = http_text(p->srv, c, status, "text/html; charset=utf-8", p->b.data, p->b.len);
    }
    sb_buf_cleanup(&p->b);
    return ret;
}

/* ------------------------------------------------------------------ */
/* Redirects and the visitor's locale                                 */
/* ------------------------------------------------------------------ */

/* http_add_header() caps values for cookies; a Location may carry a whole
 * search, so this answer is built here. */
static enum MHD_Result send_redirect(struct MHD_Connection *c, unsigned status,
                                     const char *location)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    if (!resp) return MHD_NO;
    http_common_headers(resp, "text/plain; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Redirects to /help/{locale}[/seg1[/seg2]][?key=value]. */
static enum MHD_Result redirect_help(struct sb_server *srv, struct MHD_Connection *c,
                                     unsigned status, const char *locale, const char *seg1,
                                     const char *seg2, const char *key, const char *value)
{
    struct page p;
    enum MHD_Result ret;

    page_init(&p, srv, locale, locale, LOCATION_LIMIT);
    put_help_url(&p, false, locale, seg1, seg2);
    if (key && value && *value) {
        put(&p, "?");
        put(&p, key);
        put(&p, "=");
        put_seg(&p, value);
    }
    if (p.failed || !p.b.data) {
        sb_buf_cleanup(&p.b);
        return http_error(srv, c, 500, "internal", "could not build the redirect");
    }
    ret = send_redirect(c, status, p.b.data);
    sb_buf_cleanup(&p.b);
    return ret;
}

/* A q-value ("0", "0.5", "1", "1.000") in thousandths; -1 when malformed. */
static int parse_qvalue(const char *s, size_t n)
{
    int q, digits = 0;

    if (n == 0 || (s[0] != '0' && s[0] != '1')) return -1;
    q = (s[0] - '0') * 1000;
    if (n == 1) return q;
    if (s[1] != '.') return -1;
    for (size_t i = 2; i < n; i++) {
        static const int scale[] = {100, 10, 1};
        if (s[i] < '0' || s[i] > '9' || digits == 3) return -1;
        q += (s[i] - '0') * scale[digits++];
    }
    return q > 1000 ? -1 : q;
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* One element of Accept-Language: "pt-PT", "pt;q=0.9", "*;q=0.1". False
 * for malformed elements and for q=0 (not acceptable), which are skipped. */
static bool parse_range(const char *s, size_t n, struct lang_range *out)
{
    size_t tl = 0;
    const char *tag;

    while (tl < n && s[tl] != ';')
        tl++;
    tag = s;
    trim(&tag, &tl);
    if (tl == 0 || tl >= sizeof(out->tag)) return false;
    for (size_t i = 0; i < tl; i++)
        if (!(is_alnum(tag[i]) || tag[i] == '-' || (tag[i] == '*' && tl == 1))) return false;
    memcpy(out->tag, tag, tl);
    out->tag[tl] = '\0';
    out->q = 1000;
    for (size_t i = (size_t)(tag - s) + tl; i < n;) {
        const char *param = s + i + 1;
        size_t pl = 0;
        while (i + 1 + pl < n && param[pl] != ';')
            pl++;
        trim(&param, &pl);
        if (pl >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=')
            out->q = parse_qvalue(param + 2, pl - 2);
        i = (size_t)(param - s) + pl;
        while (i < n && s[i] != ';')
            i++;
    }
    return out->q > 0;
}

/* The ranges of an Accept-Language header, highest q first; equal ones
 * keep the header's order. */
static int parse_accept_language(const char *h, struct lang_range *out, int max)
{
    int n = 0;

    while (*h && n < max) {
        size_t len = strcspn(h, ",");
        if (parse_range(h, len, &out[n])) n++;
        h += len;
        if (*h) h++;
    }
    for (int i = 1; i < n; i++) {
        struct lang_range r = out[i];
        int j = i;
        for (; j > 0 && out[j - 1].q < r.q; j--)
            out[j] = out[j - 1];
        out[j] = r;
    }
    return n;
}

/* The best known locale for the visitor: the first range of their
 * Accept-Language whose language we have, else the default. */
static void visitor_locale(struct sb_server *srv, struct MHD_Connection *c, char out[LOCALE_CAP])
{
    const char *h =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
    struct lang_range ranges[ACCEPT_MAX_RANGES];
    int n = h ? parse_accept_language(h, ranges, ACCEPT_MAX_RANGES) : 0;

    for (int i = 0; i < n; i++) {
        if (strcmp(ranges[i].tag, "*") == 0) break;
        if (sb_kb_match_locale(srv->kb, ranges[i].tag, out, LOCALE_CAP)) return;
    }
    snprintf(out, LOCALE_CAP, "%s", sb_kb_default_locale(srv->kb));
}

/* ------------------------------------------------------------------ */
/* Error pages                                                        */
/* ------------------------------------------------------------------ */

/* A 400, 404 or 5xx page in ui (NULL: the visitor's locale), with the
 * search form and a link home. */
/* Which words a plain notice page says. */
enum notice { NOTICE_ERROR, NOTICE_VOTE_REFUSED, NOTICE_VOTE_LIMITED };

/* A page with a heading and a sentence for status: an error, or why a
 * vote was not counted. ui NULL: the visitor's language. */
static enum MHD_Result notice_page(struct sb_server *srv, struct MHD_Connection *c, const char *ui,
                                   unsigned status, enum notice what)
{
    char loc[LOCALE_CAP];
    const char *h1, *text;
    struct page p;

    if (!ui) {
        visitor_locale(srv, c, loc);
        ui = loc;
    }
    page_init(&p, srv, ui, ui, PAGE_LIMIT);
    h1 = status == 404 ? p.t->not_found_h1 : status < 500 ? p.t->bad_request_h1 : p.t->error_h1;
    text = status == 404 ? p.t->not_found_p : status < 500 ? p.t->bad_request_p : p.t->error_p;
    if (what != NOTICE_ERROR) {
        h1 = p.t->vote_refused_h1;
        text = what == NOTICE_VOTE_LIMITED ? p.t->vote_limited_p : p.t->vote_refused_p;
    }
    page_open(&p, &(struct head){.title = h1});
    main_open(&p);
    put(&p, "<h1>");
    put_esc(&p, h1);
    put(&p, "</h1>\n<p>");
    put_esc(&p, text);
    put(&p, "</p>\n");
    put_home_link(&p);
    page_close(&p);
    return page_send(&p, c, status);
}

static enum MHD_Result error_page(struct sb_server *srv, struct MHD_Connection *c, const char *ui,
                                  unsigned status)
{
    return notice_page(srv, c, ui, status, NOTICE_ERROR);
}

/* The locale segment of a URL, for pages: fills loc and returns true for
 * a known locale; otherwise answers itself (a redirect to the locale it
 * resolves to, with seg1, seg2 and q kept, or a 404 page) and returns
 * false. */
static bool page_locale(struct sb_server *srv, struct MHD_Connection *c, const char *seg,
                        const char *seg1, const char *seg2, const char *q, char loc[LOCALE_CAP],
                        enum MHD_Result *ret)
{
    if (!looks_like_locale(seg)) {
        *ret = error_page(srv, c, NULL, 404);
        return false;
    }
    if (sb_kb_locale_known(srv->kb, seg)) {
        snprintf(loc, LOCALE_CAP, "%s", seg);
        return true;
    }
    sb_kb_resolve_locale(srv->kb, seg, loc, LOCALE_CAP);
    *ret = redirect_help(srv, c, 302, loc, seg1, seg2, q ? "q" : NULL, q);
    return false;
}

/* ------------------------------------------------------------------ */
/* Pages                                                              */
/* ------------------------------------------------------------------ */

/* <ul> of articles as links, with their summaries when detailed. */
static void put_article_list(struct page *p, json_t *articles, bool detailed)
{
    size_t i;
    json_t *a;

    put(p, detailed ? "<ul class=\"article-list detailed\">\n" : "<ul class=\"article-list\">\n");
    json_array_foreach(articles, i, a)
    {
        put(p, "<li><a href=\"");
        put_help_url(p, false, p->ui, json_string_value(json_object_get(a, "slug")), NULL);
        put(p, "\">");
        put_esc(p, json_string_value(json_object_get(a, "title")));
        put(p, "</a>");
        if (detailed) {
            put(p, "<p>");
            put_snippet(p, json_string_value(json_object_get(a, "summary")), SNIPPET_BYTES);
            put(p, "</p>");
        }
        put(p, "</li>\n");
    }
    put(p, "</ul>\n");
}

/* One category of the home page; n numbers the heading's id. */
static void put_home_category(struct page *p, json_t *cat, size_t n)
{
    const char *slug = json_string_value(json_object_get(cat, "slug"));
    const char *name = json_string_value(json_object_get(cat, "name"));
    const char *desc = json_string_value(json_object_get(cat, "description"));
    char label[SB_KB_MAX_CATEGORY + 1];

    sb_buf_printf(&p->b, "<section class=\"category\" aria-labelledby=\"cat-%zu\">\n", n);
    sb_buf_printf(&p->b, "<h2 id=\"cat-%zu\">", n);
    if (*slug) {
        put(p, "<a href=\"");
        put_help_url(p, false, p->ui, "category", slug);
        put(p, "\">");
    }
    put_esc(p, category_label(p->t, name, slug, label, sizeof(label)));
    put(p, *slug ? "</a></h2>\n" : "</h2>\n");
    if (desc && *desc) {
        put(p, "<p class=\"category-description\">");
        put_esc(p, desc);
        put(p, "</p>\n");
    }
    put_article_list(p, json_object_get(cat, "articles"), false);
    put(p, "</section>\n");
}

static enum MHD_Result help_center_root(struct sb_server *srv, struct MHD_Connection *c,
                                        struct http_req *r, const char *params[2])
{
    char loc[LOCALE_CAP];
    (void)r;
    (void)params;
    visitor_locale(srv, c, loc);
    return redirect_help(srv, c, 302, loc, NULL, NULL, NULL, NULL);
}

static enum MHD_Result help_center_home(struct sb_server *srv, struct MHD_Connection *c,
                                        struct http_req *r, const char *params[2])
{
    char loc[LOCALE_CAP];
    enum MHD_Result ret;
    json_t *cats, *cat;
    struct page p;
    enum sb_err rc;
    size_t i;
    (void)r;

    if (!page_locale(srv, c, params[0], NULL, NULL, NULL, loc, &ret)) return ret;
    rc = sb_kb_public_categories(srv->kb, loc, NULL, &cats);
    if (rc) {
        sb_error("help: categories of %s: %s", loc, sb_strerror(rc));
        return error_page(srv, c, loc, 500);
    }
    page_init(&p, srv, loc, loc, PAGE_LIMIT);
    page_open(&p, &(struct head){.description = p.t->home_h1, .index = true});
    main_open(&p);
    put(&p, "<h1>");
    put_esc(&p, p.t->home_h1);
    put(&p, "</h1>\n");
    if (json_array_size(cats) == 0) {
        put(&p, "<p>");
        put_esc(&p, p.t->empty_kb);
        put(&p, "</p>\n");
    } else {
        put(&p, "<div class=\"categories\">\n");
        json_array_foreach(cats, i, cat) put_home_category(&p, cat, i + 1);
        put(&p, "</div>\n");
    }
    page_close(&p);
    json_decref(cats);
    return page_send(&p, c, 200);
}

static enum MHD_Result help_center_category(struct sb_server *srv, struct MHD_Connection *c,
                                            struct http_req *r, const char *params[2])
{
    char loc[LOCALE_CAP], buf[SB_KB_MAX_CATEGORY + 1];
    const char *slug = params[1], *label, *desc;
    enum MHD_Result ret;
    json_t *list, *cat;
    struct page p;
    enum sb_err rc;
    (void)r;

    if (!looks_like_locale(params[0]) || !looks_like_slug(slug))
        return error_page(srv, c, NULL, 404);
    if (!page_locale(srv, c, params[0], "category", slug, NULL, loc, &ret)) return ret;
    rc = sb_kb_public_categories(srv->kb, loc, slug, &list);
    if (rc == SB_ERR_NOT_FOUND) return error_page(srv, c, loc, 404);
    if (rc) {
        sb_error("help: category %s/%s: %s", loc, slug, sb_strerror(rc));
        return error_page(srv, c, loc, 500);
    }
    cat = json_array_get(list, 0);
    desc = json_string_value(json_object_get(cat, "description"));
    page_init(&p, srv, loc, loc, PAGE_LIMIT);
    label = category_label(p.t, json_string_value(json_object_get(cat, "name")), slug, buf,
                           sizeof(buf));
    page_open(
        &p,
        &(struct head){
            .title = label, .description = desc, .seg1 = "category", .seg2 = slug, .index = true});
    put_breadcrumbs(&p, NULL, NULL, label);
    main_open(&p);
    put(&p, "<h1>");
    put_esc(&p, label);
    put(&p, "</h1>\n");
    if (desc && *desc) {
        put(&p, "<p class=\"lead\">");
        put_esc(&p, desc);
        put(&p, "</p>\n");
    }
    if (json_array_size(json_object_get(cat, "articles")) == 0) {
        put(&p, "<p>");
        put_esc(&p, p.t->category_empty);
        put(&p, "</p>\n");
        put_home_link(&p);
    } else {
        put_article_list(&p, json_object_get(cat, "articles"), true);
    }
    page_close(&p);
    json_decref(list);
    return page_send(&p, c, 200);
}

bool help_search_text(const char *v, size_t n, char out[SEARCH_MAX_BYTES + 1])
{
    out[0] = '\0';
    if (!sb_utf8_valid(v, n)) return false;
    n = sb_utf8_cut(v, n, SEARCH_MAX_BYTES);
    memcpy(out, v, n);
    out[n] = '\0';
    return true;
}

/* The q argument into out: valid UTF-8 (else false), cut to
 * SEARCH_MAX_BYTES between characters. */
static bool search_text(struct MHD_Connection *c, char out[SEARCH_MAX_BYTES + 1])
{
    const char *v = NULL;
    size_t n = 0;

    out[0] = '\0';
    /* The _n lookup sees past a decoded %00, which sb_utf8_valid refuses. */
    if (MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, "q", 1, &v, &n) != MHD_YES || !v)
        return true;
    return help_search_text(v, n, out);
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return false;
    return true;
}

/* The hits, each linking to the locale it was found in (another region's
 * article when the visitor's has none). */
static void put_hits(struct page *p, const struct sb_kb_result *res)
{
    put(p, "<ol class=\"results\">\n");
    for (int i = 0; i < res->n; i++) {
        const struct sb_kb_hit *h = &res->hit[i];
        put(p, "<li");
        if (strcmp(h->locale, p->ui) != 0) {
            put(p, " lang=\"");
            put_esc(p, h->locale);
            put(p, "\"");
        }
        put(p, "><a href=\"");
        put_help_url(p, false, h->locale, h->slug, NULL);
        put(p, "\">");
        put_esc(p, h->title);
        put(p, "</a><p>");
        put_snippet(p, h->summary ? h->summary : "", SNIPPET_BYTES);
        put(p, "</p></li>\n");
    }
    put(p, "</ol>\n");
}

static void put_search_results(struct page *p, const char *q, const struct sb_kb_result *res)
{
    if (blank(q)) {
        put(p, "<p>");
        put_esc(p, p->t->search_prompt);
        put(p, "</p>\n");
        return;
    }
    put(p, "<p class=\"results-for\">");
    put_esc(p, p->t->results_before);
    put(p, "<strong>");
    put_esc(p, q);
    put(p, "</strong>");
    put_esc(p, p->t->results_after);
    put(p, "</p>\n");
    if (res->n > 0) {
        put_hits(p, res);
        return;
    }
    put(p, "<p>");
    put_esc(p, p->t->no_results);
    put(p, "</p>\n");
    put_home_link(p);
}

static enum MHD_Result help_center_search(struct sb_server *srv, struct MHD_Connection *c,
                                          struct http_req *r, const char *params[2])
{
    char loc[LOCALE_CAP], q[SEARCH_MAX_BYTES + 1];
    struct sb_kb_result res;
    enum MHD_Result ret;
    struct page p;
    enum sb_err rc;
    (void)r;

    if (!looks_like_locale(params[0])) return error_page(srv, c, NULL, 404);
    if (!search_text(c, q))
        return error_page(srv, c, sb_kb_locale_known(srv->kb, params[0]) ? params[0] : NULL, 400);
    if (!page_locale(srv, c, params[0], "search", NULL, q, loc, &ret)) return ret;
    memset(&res, 0, sizeof(res));
    /* The bot's own search, so the page finds what the bot would answer. */
    if (!blank(q) && (rc = sb_kb_search(srv->kb, q, loc, SB_KB_MAX_HITS, &res)) != SB_OK) {
        sb_error("help: search in %s: %s", loc, sb_strerror(rc));
        sb_kb_result_cleanup(&res);
        return error_page(srv, c, loc, 500);
    }
    page_init(&p, srv, loc, loc, PAGE_LIMIT);
    page_open(&p, &(struct head){.title = p.t->search_h1, .seg1 = "search", .query = q});
    put_breadcrumbs(&p, NULL, NULL, p.t->search_h1);
    main_open(&p);
    put(&p, "<h1>");
    put_esc(&p, p.t->search_h1);
    put(&p, "</h1>\n");
    put_search_results(&p, q, &res);
    page_close(&p);
    sb_kb_result_cleanup(&res);
    return page_send(&p, c, 200);
}

/* "This article is not available in <language> yet." when the article
 * shown is not in the locale asked for. */
static void put_missing_note(struct page *p)
{
    const char *name;

    if (strcmp(p->ui, p->lang) == 0) return;
    /* Another region of the same language is named with its region; a
     * language is named as its own catalogue says it in a sentence, and
     * by its name when the page's words are another language's. */
    if (sb_locale_same_language(p->ui, p->lang) || !p->t->self_name)
        name = locale_name(p->srv->words, p->ui);
    else
        name = p->t->self_name;
    put(p, "<p class=\"note\" role=\"note\"");
    put_ui_lang(p);
    put(p, ">");
    put_esc(p, p->t->missing_before);
    put_esc(p, name);
    put_esc(p, p->t->missing_after);
    put(p, "</p>\n");
}

static void put_updated(struct page *p, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    char date[16];
    struct tm tm;

    if (ms <= 0 || !gmtime_r(&t, &tm) || !strftime(date, sizeof(date), "%Y-%m-%d", &tm)) return;
    put(p, "<p class=\"meta\"");
    put_ui_lang(p);
    put(p, ">");
    put_esc(p, p->t->updated);
    put(p, " <time datetime=\"");
    put(p, date);
    put(p, "\">");
    put(p, date);
    put(p, "</time></p>\n");
}

/* "Was this helpful?" with two buttons, or the thanks after a vote. The
 * form posts to the URL asked for, so the vote lands on the article this
 * page shows and the visitor comes back to the same page; it carries the
 * page view's token (help_view.h), without which a vote is not counted. */
static void put_feedback(struct page *p, const char *asked_slug, bool voted, const char *view)
{
    put(p, "<section class=\"feedback\"");
    put_ui_lang(p);
    if (voted) {
        put(p, ">\n<p class=\"thanks\" role=\"status\">");
        put_esc(p, p->t->thanks);
        put(p, "</p>\n</section>\n");
        return;
    }
    put(p, " aria-labelledby=\"feedback-title\">\n<h2 id=\"feedback-title\">");
    put_esc(p, p->t->helpful);
    put(p, "</h2>\n<form method=\"post\" action=\"");
    put_help_url(p, false, p->ui, asked_slug, "feedback");
    put(p, "\">\n<input type=\"hidden\" name=\"view\" value=\"");
    put_esc(p, view);
    put(p, "\">\n<button type=\"submit\" name=\"helpful\" value=\"yes\">");
    put_esc(p, p->t->yes);
    put(p, "</button>\n<button type=\"submit\" name=\"helpful\" value=\"no\">");
    put_esc(p, p->t->no);
    put(p, "</button>\n</form>\n</section>\n");
}

static const char *str_of(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* The page of article a (sb_kb_public_article) for a visitor of locale
 * ui who asked for asked_slug. */
static enum MHD_Result article_page(struct sb_server *srv, struct MHD_Connection *c, const char *ui,
                                    const char *asked_slug, json_t *a, bool voted)
{
    const char *title = str_of(a, "title"), *summary = str_of(a, "summary");
    const char *category = str_of(a, "category"), *body = str_of(a, "body");
    char buf[SB_KB_MAX_CATEGORY + 1], view[HELP_VIEW_TOKEN_CAP] = "";
    char *html;
    struct page p;

    if (!voted && help_view_make(srv->help_view_key, json_integer_value(json_object_get(a, "id")),
                                 sb_now_ms() / 1000, view))
        return error_page(srv, c, ui, 500);
    html = sb_kb_render_markdown(body, strlen(body));
    if (!html) return error_page(srv, c, ui, 500);
    page_init(&p, srv, ui, str_of(a, "locale"), PAGE_LIMIT);
    page_open(&p, &(struct head){.title = title,
                                 .description = summary,
                                 .translations = json_object_get(a, "translations"),
                                 .index = true});
    put_breadcrumbs(&p, category,
                    category_label(p.t, str_of(a, "category_name"), category, buf, sizeof(buf)),
                    title);
    main_open(&p);
    put_missing_note(&p);
    put(&p, "<article class=\"article\">\n<h1>");
    put_esc(&p, title);
    put(&p, "</h1>\n");
    if (*summary) {
        put(&p, "<p class=\"lead\">");
        put_esc(&p, summary);
        put(&p, "</p>\n");
    }
    put_updated(&p, json_integer_value(json_object_get(a, "updated_at")));
    put(&p, "<div class=\"article-body\">\n");
    put_body_html(&p, html);
    put(&p, "</div>\n</article>\n");
    put_feedback(&p, asked_slug, voted, view);
    page_close(&p);
    free(html);
    return page_send(&p, c, 200);
}

static enum MHD_Result help_center_article(struct sb_server *srv, struct MHD_Connection *c,
                                           struct http_req *r, const char *params[2])
{
    const char *voted = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "voted");
    char loc[LOCALE_CAP];
    enum MHD_Result ret;
    enum sb_err rc;
    json_t *a;
    (void)r;

    if (!looks_like_locale(params[0]) || !looks_like_slug(params[1]))
        return error_page(srv, c, NULL, 404);
    if (!page_locale(srv, c, params[0], params[1], NULL, NULL, loc, &ret)) return ret;
    rc = sb_kb_public_article(srv->kb, loc, params[1], &a);
    if (rc == SB_ERR_NOT_FOUND) return error_page(srv, c, loc, 404);
    if (rc) {
        sb_error("help: article %s/%s: %s", loc, params[1], sb_strerror(rc));
        return error_page(srv, c, loc, 500);
    }
    ret = article_page(srv, c, loc, params[1], a, voted && strcmp(voted, "1") == 0);
    json_decref(a);
    return ret;
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* The value of field name in an application/x-www-form-urlencoded body,
 * decoded into out[cap]; false when absent or longer than cap. */
static bool form_field(const char *body, size_t len, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name), pos = 0;

    while (body && pos < len) {
        size_t end = pos, o = 0;
        while (end < len && body[end] != '&')
            end++;
        if (end - pos > nlen && memcmp(body + pos, name, nlen) == 0 && body[pos + nlen] == '=') {
            for (size_t i = pos + nlen + 1; i < end; i++) {
                char ch = body[i];
                if (ch == '+') {
                    ch = ' ';
                } else if (ch == '%' && i + 2 < end && hex_value(body[i + 1]) >= 0 &&
                           hex_value(body[i + 2]) >= 0) {
                    ch = (char)(hex_value(body[i + 1]) * 16 + hex_value(body[i + 2]));
                    i += 2;
                }
                if (o + 1 >= cap) return false;
                out[o++] = ch;
            }
            out[o] = '\0';
            return true;
        }
        pos = end + 1;
    }
    return false;
}

/* Stores a vote in a unit of the store. A vote that is alone in its batch
 * is committed before the answer goes out; one that joins an open batch
 * is committed with it at the end of this loop turn (http.c holds back
 * JSON answers only, and flushing here would commit other requests' units
 * behind the loop's back). */
static enum sb_err record_vote(struct sb_server *srv, int64_t article_id, bool helpful,
                               const char *view, const char *voter, struct sb_errbuf *eb)
{
    bool batch_open = sb_store_pending(srv->store);
    enum sb_err rc = sb_store_begin(srv->store);

    if (rc) return sb_fail(eb, rc, "store: %s", sb_strerror(rc));
    rc = sb_kb_vote_view(srv->kb, article_id, helpful, view, voter, eb);
    if (rc) {
        sb_store_rollback(srv->store);
        return rc;
    }
    rc = sb_store_commit(srv->store);
    if (!rc && !batch_open) rc = sb_store_flush(srv->store);
    if (rc) return sb_fail(eb, rc, "store: %s", sb_strerror(rc));
    return SB_OK;
}

/* Votes per client address: the view token stops votes nobody was shown
 * the form for, but fetching the page is free, so this is what bounds
 * how many one place can cast. Answers the 429 page itself. */
static bool vote_admitted(struct sb_server *srv, struct MHD_Connection *c, const char *loc,
                          const char *voter, enum MHD_Result *ret)
{
    char key[48], v[16];
    int retry = 0;

    snprintf(key, sizeof(key), "helpvote:%s", voter);
    if (sb_limits_take(srv->limits, key, srv->cfg.help_vote_per_hour / 3600.0,
                       srv->cfg.help_vote_burst, sb_now_ms(), &retry))
        return true;
    snprintf(v, sizeof(v), "%d", retry);
    http_add_header(srv, "Retry-After", v);
    *ret = notice_page(srv, c, loc, 429, NOTICE_VOTE_LIMITED);
    return false;
}

static enum MHD_Result help_center_feedback(struct sb_server *srv, struct MHD_Connection *c,
                                            struct http_req *r, const char *params[2])
{
    char loc[LOCALE_CAP], value[8], token[HELP_VIEW_TOKEN_CAP], view[HELP_VIEW_ID_CAP];
    char voter[HELP_VIEW_VOTER_CAP];
    struct sb_errbuf eb = {{0}};
    enum MHD_Result ret;
    enum sb_err rc;
    int64_t id;
    json_t *a;

    if (!looks_like_locale(params[0]) || !looks_like_slug(params[1]))
        return error_page(srv, c, NULL, 404);
    /* A redirect would lose the form, so another spelling or region of a
     * locale is resolved in place. */
    sb_kb_resolve_locale(srv->kb, params[0], loc, sizeof(loc));
    help_view_voter(r->ip, voter);
    if (!vote_admitted(srv, c, loc, voter, &ret)) return ret;
    if (!form_field(r->body.data, r->body.len, "helpful", value, sizeof(value)) ||
        (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0))
        return error_page(srv, c, loc, 400);
    rc = sb_kb_public_article(srv->kb, loc, params[1], &a);
    if (rc == SB_ERR_NOT_FOUND) return error_page(srv, c, loc, 404);
    if (rc) {
        sb_error("help: article %s/%s: %s", loc, params[1], sb_strerror(rc));
        return error_page(srv, c, loc, 500);
    }
    id = json_integer_value(json_object_get(a, "id"));
    json_decref(a);
    /* No token, a forged one, another article's or a stale one: the
     * visitor was not shown this form (or long ago). */
    if (!form_field(r->body.data, r->body.len, "view", token, sizeof(token)) ||
        help_view_check(srv->help_view_key, token, id, sb_now_ms() / 1000, view))
        return notice_page(srv, c, loc, 400, NOTICE_VOTE_REFUSED);
    rc = record_vote(srv, id, strcmp(value, "yes") == 0, view, voter, &eb);
    if (rc == SB_ERR_EXISTS) return notice_page(srv, c, loc, 409, NOTICE_VOTE_REFUSED);
    if (rc == SB_ERR_NOT_FOUND) return error_page(srv, c, loc, 404);
    if (rc) {
        sb_error("help: vote on article %lld: %s", (long long)id, eb.msg);
        return error_page(srv, c, loc, 503);
    }
    return redirect_help(srv, c, 303, loc, params[1], NULL, "voted", "1");
}

/* For the fuzz targets (core/help/help_parse.h): the readers above as the
 * pages call them. */
int help_accept_language(const char *h, struct lang_range *out, int max)
{
    return parse_accept_language(h, out, max);
}

bool help_form_field(const char *body, size_t len, const char *name, char *out, size_t cap)
{
    return form_field(body, len, name, out, cap);
}

/* The routes this file answers and who may call them (core/server/routes.c
 * lists every file's table; http.c dispatches them in that order). */
const struct route help_center_routes[] = {
    /* the help center; "/help/{}/search" must come before "/help/{}/{}" */
    {"GET", "/help", help_center_root, ROUTE_PUBLIC, false},
    {"GET", "/help/", help_center_root, ROUTE_PUBLIC, false},
    {"GET", "/help/{}", help_center_home, ROUTE_PUBLIC, false},
    {"GET", "/help/{}/search", help_center_search, ROUTE_PUBLIC, false},
    {"GET", "/help/{}/category/{}", help_center_category, ROUTE_PUBLIC, false},
    {"GET", "/help/{}/{}", help_center_article, ROUTE_PUBLIC, false},
    {"POST", "/help/{}/{}/feedback", help_center_feedback, ROUTE_PUBLIC, true},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};
