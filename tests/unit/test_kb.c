/*
 * test_kb.c - kb/kb.c, kb_search.c, kb_import.c and kb_stopwords.c: article
 * upsert and change detection, the index of published articles only,
 * turning customer text into a safe FTS5 query (stop words, hostile
 * input, bounds), search by locale with fallback to other regions of the
 * language, confidence, article lookup, and the all-or-nothing import of a
 * folder of Markdown files. Articles are written here, not taken from the
 * demo knowledge base.
 */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sb_kb.h"
#include "sb_log.h"
#include "sb_store.h"
#include "sb_util.h"

struct env {
    char dir[64];
    struct sb_store *st;
    struct sb_kb *kb;
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int open_env(struct env *e)
{
    struct sb_errbuf eb = {{0}};
    char db[128];

    memset(e, 0, sizeof(*e));
    snprintf(e->dir, sizeof(e->dir), "/tmp/sb-kb-test-XXXXXX");
    if (!mkdtemp(e->dir)) return -1;
    snprintf(db, sizeof(db), "%s/test.db", e->dir);
    if (sb_store_open(db, "NORMAL", &e->st, &eb) != SB_OK ||
        sb_kb_open(sb_store_db(e->st), &e->kb, &eb) != SB_OK ||
        sb_kb_set_locales(e->kb, "en,pt-BR,pt-PT,ro,es", &eb) != SB_OK) {
        fprintf(stderr, "kb env: %s\n", eb.msg);
        return -1;
    }
    return 0;
}

static void close_env(struct env *e)
{
    sb_kb_close(e->kb);
    sb_store_close(e->st);
    rm_tree(e->dir);
}

static void upsert(struct env *e, const struct sb_kb_article *a, enum sb_kb_change want)
{
    struct sb_errbuf eb = {{0}};
    enum sb_kb_change got = (enum sb_kb_change) - 1;
    assert_int_equal(sb_kb_upsert(e->kb, a, &got, &eb), SB_OK);
    assert_int_equal(got, want);
}

/* A small help centre in three locales. */
static void add_articles(struct env *e)
{
    json_t *ex_track = json_pack("[s,s,s]", "where is my parcel", "package tracking number",
                                 "has my order shipped");
    json_t *ex_refund = json_pack("[s,s]", "money back", "refund not received yet");
    json_t *ex_pw = json_pack("[s]", "forgot my password");
    json_t *ex_rastr = json_pack("[s,s]", "onde est\xC3\xA1 minha encomenda", "rastreio do pacote");
    json_t *ex_ro = json_pack("[s,s]", "unde este coletul meu", "nu g\xC4\x83sesc comanda");
    json_t *tags = json_pack("[s,s]", "orders", "tracking");
    const struct sb_kb_article arts[] = {
        {.slug = "track-order",
         .locale = "en",
         .title = "How do I track my order?",
         .summary = "Use the tracking link in your shipping confirmation email.",
         .body = "Open the shipping email and click Track package. Updates can take a day.",
         .category = "orders",
         .status = "published",
         .tags = tags,
         .examples = ex_track},
        {.slug = "refund-status",
         .locale = "en",
         .title = "When will I get my refund?",
         .summary = "Refunds reach your card within five business days of approval.",
         .body = "We refund to the original payment method once the return is checked.",
         .category = "payments",
         .status = "published",
         .examples = ex_refund},
        {.slug = "reset-password",
         .locale = "en",
         .title = "How do I reset my password?",
         .summary = "Click Forgot password on the sign-in page and follow the email.",
         .body = "The reset link expires after one hour.",
         .category = "account",
         .status = "published",
         .examples = ex_pw},
        {.slug = "track-order",
         .locale = "pt-BR",
         .title = "Como rastrear meu pedido?",
         .summary = "Use o link de rastreamento no e-mail de confirma\xC3\xA7\xC3\xA3o de envio.",
         .body = "Abra o e-mail de envio e clique em Rastrear pacote.",
         .category = "orders",
         .status = "published",
         .examples = ex_rastr},
        {.slug = "track-order",
         .locale = "ro",
         .title = "Cum \xC3\xAEmi urm\xC4\x83resc comanda?",
         .summary = "Folosi\xC8\x9Bi linkul de urm\xC4\x83rire din e-mailul de expediere.",
         .body =
             "Deschide\xC8\x9Bi e-mailul \xC8\x99i ap\xC4\x83sa\xC8\x9Bi Urm\xC4\x83rire colet.",
         .category = "orders",
         .status = "published",
         .examples = ex_ro},
    };

    for (size_t i = 0; i < SB_ARRAY_LEN(arts); i++)
        upsert(e, &arts[i], SB_KB_ADDED);
    json_decref(ex_track);
    json_decref(ex_refund);
    json_decref(ex_pw);
    json_decref(ex_rastr);
    json_decref(ex_ro);
    json_decref(tags);
}

static int setup_empty(void **state)
{
    struct env *e = malloc(sizeof(*e));
    sb_log_set_level(SB_LOG_WARN);
    if (!e || open_env(e)) return -1;
    *state = e;
    return 0;
}

static int setup_articles(void **state)
{
    if (setup_empty(state)) return -1;
    add_articles(*state);
    return 0;
}

static int teardown(void **state)
{
    close_env(*state);
    free(*state);
    return 0;
}

/* Search helper: returns the number of hits, and the index of slug@locale
 * among them in *pos (-1 when absent). */
static int search(struct env *e, const char *text, const char *locale, const char *slug,
                  const char *want_locale, int *pos)
{
    struct sb_kb_result r;
    int n;

    assert_int_equal(sb_kb_search(e->kb, text, locale, SB_KB_MAX_HITS, &r), SB_OK);
    n = r.n;
    if (pos) {
        *pos = -1;
        for (int i = 0; i < r.n; i++)
            if (strcmp(r.hit[i].slug, slug) == 0 && strcmp(r.hit[i].locale, want_locale) == 0) {
                *pos = i;
                break;
            }
    }
    sb_kb_result_cleanup(&r);
    return n;
}

static int64_t count_rows(struct env *e, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    assert_int_equal(sqlite3_prepare_v2(sb_store_db(e->st), sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* ---- upsert ---- */

static void upsert_reports_added_unchanged_then_changed(void **state)
{
    struct env *e = *state;
    json_t *tags = json_pack("[s]", "shipping");
    json_t *tags2 = json_pack("[s,s]", "shipping", "costs");
    struct sb_kb_article a = {.slug = "shipping-costs",
                              .locale = "en",
                              .title = "How much is shipping?",
                              .summary = "Shipping is free over 50 dollars.",
                              .body = "Standard delivery takes three days.",
                              .category = "shipping",
                              .status = "published",
                              .tags = tags};

    upsert(e, &a, SB_KB_ADDED);
    upsert(e, &a, SB_KB_UNCHANGED);
    a.summary = "Shipping is free over 40 dollars.";
    upsert(e, &a, SB_KB_CHANGED);
    upsert(e, &a, SB_KB_UNCHANGED);
    a.body = "Standard delivery takes two days.";
    upsert(e, &a, SB_KB_CHANGED);
    a.tags = tags2;
    upsert(e, &a, SB_KB_CHANGED);
    a.category = "orders";
    upsert(e, &a, SB_KB_CHANGED);
    a.title = "What does shipping cost?";
    upsert(e, &a, SB_KB_CHANGED);
    a.status = "draft";
    upsert(e, &a, SB_KB_CHANGED);
    upsert(e, &a, SB_KB_UNCHANGED);
    /* Same slug in another locale is another article. */
    a.locale = "ro";
    upsert(e, &a, SB_KB_ADDED);
    assert_int_equal(count_rows(e, "SELECT count(*) FROM kb_articles WHERE slug='shipping-costs'"),
                     2);
    json_decref(tags);
    json_decref(tags2);
}

static void upsert_with_null_status_is_a_draft(void **state)
{
    struct env *e = *state;
    struct sb_kb_article a = {.slug = "nostatus",
                              .locale = "en",
                              .title = "Quokka care instructions",
                              .summary = "Quokkas like shade."};

    upsert(e, &a, SB_KB_ADDED);
    upsert(e, &a, SB_KB_UNCHANGED);
    a.status = "draft";
    upsert(e, &a, SB_KB_UNCHANGED);
    assert_int_equal(search(e, "quokka", "en", NULL, NULL, NULL), 0);
    assert_null(sb_kb_article_get(e->kb, "en", "nostatus"));
}

static void upsert_changed_article_is_searchable_by_new_text_only(void **state)
{
    struct env *e = *state;
    struct sb_kb_article a = {.slug = "gift-cards",
                              .locale = "en",
                              .title = "Gift cards",
                              .summary = "Gift cards never expire.",
                              .status = "published"};
    int pos;

    upsert(e, &a, SB_KB_ADDED);
    assert_int_equal(search(e, "expire", "en", "gift-cards", "en", &pos), 1);
    assert_int_equal(pos, 0);
    a.summary = "Gift cards are valid for ten years.";
    upsert(e, &a, SB_KB_CHANGED);
    assert_int_equal(search(e, "expire", "en", NULL, NULL, NULL), 0);
    assert_int_equal(search(e, "valid years", "en", "gift-cards", "en", &pos), 1);
    /* Exactly one index row per published article. */
    assert_int_equal(count_rows(e, "SELECT count(*) FROM kb_fts"), 1);
}

static void draft_articles_are_not_found_and_unpublishing_removes_from_search(void **state)
{
    struct env *e = *state;
    struct sb_kb_article a = {.slug = "zebra-stock",
                              .locale = "en",
                              .title = "Zebra print cushions",
                              .summary = "Zebra cushions are back in stock.",
                              .status = "draft"};
    int pos;

    upsert(e, &a, SB_KB_ADDED);
    assert_int_equal(search(e, "zebra cushions", "en", NULL, NULL, NULL), 0);
    assert_null(sb_kb_article_get(e->kb, "en", "zebra-stock"));

    a.status = "published";
    upsert(e, &a, SB_KB_CHANGED);
    assert_int_equal(search(e, "zebra cushions", "en", "zebra-stock", "en", &pos), 1);
    assert_int_equal(pos, 0);
    json_decref(sb_kb_article_get(e->kb, "en", "zebra-stock"));

    a.status = "draft";
    upsert(e, &a, SB_KB_CHANGED);
    assert_int_equal(search(e, "zebra cushions", "en", NULL, NULL, NULL), 0);
    assert_null(sb_kb_article_get(e->kb, "en", "zebra-stock"));

    a.status = "archived";
    upsert(e, &a, SB_KB_CHANGED);
    assert_int_equal(search(e, "zebra cushions", "en", NULL, NULL, NULL), 0);
    /* The other articles are untouched. */
    assert_int_equal(search(e, "track order", "en", "track-order", "en", &pos) > 0, 1);
    assert_int_equal(pos, 0);
}

/* ---- sb_kb_build_query ---- */

/* True when q is a list of n quoted terms (lowercase ASCII letters, digits
 * or non-ASCII bytes) joined by " OR ": never a prefix query or an
 * operator. */
static bool query_is_safe(const char *q, int n)
{
    const char *p = q;
    int terms = 0;

    if (n == 0) return q[0] == '\0';
    for (;;) {
        const char *start;
        if (*p != '"') return false;
        start = ++p;
        while (*p && *p != '"') {
            unsigned char c = (unsigned char)*p;
            if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
            p++;
        }
        if (*p != '"' || p == start) return false;
        p++;
        terms++;
        if (*p == '\0') break;
        if (strncmp(p, " OR ", 4) != 0) return false;
        p += 4;
    }
    return terms == n;
}

static void build_query_drops_stop_words_and_quotes_terms(void **state)
{
    char q[4096];
    (void)state;

    assert_int_equal(sb_kb_build_query("Where is my order?", "en", q, sizeof(q)), 1);
    assert_string_equal(q, "\"order\"");
    assert_int_equal(sb_kb_build_query("TRACK the Order, please!", "en", q, sizeof(q)), 2);
    assert_string_equal(q, "\"track\" OR \"order\"");
    assert_int_equal(sb_kb_build_query("how do i get it", "en", q, sizeof(q)), 0);
    assert_string_equal(q, "");
    assert_int_equal(sb_kb_build_query("", "en", q, sizeof(q)), 0);
    assert_string_equal(q, "");
}

static void build_query_uses_stop_words_of_the_locale_language(void **state)
{
    char q[4096];
    (void)state;

    /* "onde", "meu" are Portuguese stop words; English ones apply too. */
    assert_int_equal(sb_kb_build_query("onde meu pacote is", "pt-BR", q, sizeof(q)), 1);
    assert_string_equal(q, "\"pacot\"");
    /* In English, the Portuguese words are terms. */
    assert_int_equal(sb_kb_build_query("onde meu pacote is", "en", q, sizeof(q)), 3);
    assert_true(query_is_safe(q, 3));
    /* Romanian: "unde", "este", "mea" are stop words. */
    assert_int_equal(sb_kb_build_query("unde este comanda mea", "ro", q, sizeof(q)), 1);
    assert_string_equal(q, "\"comand\"");
}

/* Changed with the Snowball tokenizer: terms are exact stems of the
 * locale's language (tests/unit/test_kb_text.c has the languages), no
 * longer prefixes cut at max(4, n-3) characters. */
static void build_query_stems_words_and_dedupes(void **state)
{
    char q[4096];
    (void)state;

    assert_int_equal(sb_kb_build_query("orders", "en", q, sizeof(q)), 1);
    assert_string_equal(q, "\"order\"");
    assert_int_equal(sb_kb_build_query("tracking", "en", q, sizeof(q)), 1);
    assert_string_equal(q, "\"track\"");
    /* Portuguese stemmer, then diacritics folded. */
    assert_int_equal(sb_kb_build_query("confirma\xC3\xA7\xC3\xA3o", "pt-BR", q, sizeof(q)), 1);
    assert_string_equal(q, "\"confirm\"");
    /* Repeats and case variants give one term. */
    assert_int_equal(sb_kb_build_query("track Track TRACK", "en", q, sizeof(q)), 1);
    assert_string_equal(q, "\"track\"");
}

static void word_order_does_not_narrow_the_query(void **state)
{
    struct env *e = *state;
    struct sb_kb_article a = {.slug = "tracking-codes",
                              .locale = "en",
                              .title = "Tracking codes explained",
                              .summary = "Your tracking code is in the dispatch email.",
                              .status = "published"};
    char q1[256];
    int pos;

    upsert(e, &a, SB_KB_ADDED);
    /* "tracking" and "track" are one stem, whichever comes first. */
    assert_int_equal(sb_kb_build_query("tracking track", "en", q1, sizeof(q1)), 1);
    assert_string_equal(q1, "\"track\"");
    assert_true(search(e, "tracking track", "en", "tracking-codes", "en", &pos) > 0);
    assert_true(search(e, "track tracking", "en", "tracking-codes", "en", &pos) > 0);
}

static void build_query_respects_small_output_buffer(void **state)
{
    char q[16];
    int n;
    (void)state;

    memset(q, 'Z', sizeof(q));
    n = sb_kb_build_query("alpha beta gamma delta", "en", q, sizeof(q));
    assert_true(memchr(q, '\0', sizeof(q)) != NULL);
    assert_true(query_is_safe(q, n));
    assert_true(n < 4);
}

static const char *const hostile[] = {
    "\"",
    "\"\"\"\"",
    "*",
    "NEAR(",
    "NEAR(a b, 5)",
    "AND",
    "OR OR OR",
    "NOT",
    "title:foo",
    "col:",
    "{title}: x",
    "^start",
    "a* b*",
    "(((((",
    ")",
    "+-",
    "'; DROP TABLE kb_articles; --",
    "\xF0\x9F\x98\x80\xF0\x9F\x93\xA6\xE2\x9D\xA4\xEF\xB8\x8F", /* emoji only */
    "\xEF\xBF\xBF",                                             /* U+FFFF alone */
    "track\xEF\xBF\xBForder\xEF\xBF\xBE",                       /* U+FFFF, U+FFFE between words */
    "\xF4\x8F\xBF\xBF\xEF\xB7\x90",                             /* U+10FFFF, U+FDD0 */
    "order\" OR \"refund",
    "order\"*",
    "\"track\" NOT \"order\"",
    "- track",
    "title : track",
    "NEAR(\"track\" \"order\", 0)",
    "track AND OR NOT order",
    "\\\"\\'\\",
    "%_%",
    "\t\r\n\v\f",
    "x\xC3", /* invalid UTF-8 at the end */
    "\xE0\x83\x80\xE0\x83\x80\xE0\x83\x80\xE0\x83\x80\xE0\x83\x80\xE0\x83\x80",
    "\xCD\xBE\xCD\xBE\xCD\xBE\xCD\xBE\xCD\xBE\xCD\xBE", /* U+037E Greek question mark */
    "\xE3\x83\xBB\xE3\x83\xBB\xE3\x83\xBB\xE3\x83\xBB\xE3\x83\xBB\xE3\x83\xBB", /* U+30FB */
};

static void hostile_text_gives_safe_query_and_search_succeeds(void **state)
{
    struct env *e = *state;
    char q[4096];

    for (size_t i = 0; i < SB_ARRAY_LEN(hostile); i++) {
        struct sb_kb_result r;
        int n = sb_kb_build_query(hostile[i], "en", q, sizeof(q));
        if (!query_is_safe(q, n)) fail_msg("input %zu: unsafe query [%s]", i, q);
        assert_int_equal(sb_kb_search(e->kb, hostile[i], "en", 5, &r), SB_OK);
        assert_int_equal(r.terms, n);
        assert_true(r.n >= 0 && r.n <= 5);
        sb_kb_result_cleanup(&r);
        /* Every locale's stop-word path too. */
        assert_int_equal(sb_kb_search(e->kb, hostile[i], "pt-BR", 5, &r), SB_OK);
        sb_kb_result_cleanup(&r);
        assert_int_equal(sb_kb_search(e->kb, hostile[i], "ro", 5, &r), SB_OK);
        sb_kb_result_cleanup(&r);
        /* The same text through SQLite FTS5 itself: the built query must
         * parse (SB_OK, not a syntax error) and find the same hit count
         * bound. */
        assert_int_equal(sb_kb_search_fts(e->kb, hostile[i], "en", 5, &r), SB_OK);
        assert_int_equal(r.terms, n);
        assert_true(r.n >= 0 && r.n <= 5);
        sb_kb_result_cleanup(&r);
    }
    /* The table survived the "injection". */
    assert_int_equal(count_rows(e, "SELECT count(*) FROM kb_articles"), 5);
}

static void hostile_text_terms_are_plain_words(void **state)
{
    char q[4096];
    (void)state;

    assert_int_equal(sb_kb_build_query("\"", "en", q, sizeof(q)), 0);
    assert_int_equal(sb_kb_build_query("AND", "en", q, sizeof(q)), 0);
    assert_int_equal(sb_kb_build_query("OR OR OR", "en", q, sizeof(q)), 0);
    assert_int_equal(sb_kb_build_query("(((((", "en", q, sizeof(q)), 0);
    assert_int_equal(sb_kb_build_query("NOT", "en", q, sizeof(q)), 1);
    assert_string_equal(q, "\"not\"");
    assert_int_equal(sb_kb_build_query("NEAR(a b, 5)", "en", q, sizeof(q)), 3);
    assert_string_equal(q, "\"near\" OR \"b\" OR \"5\"");
    assert_int_equal(sb_kb_build_query("title:foo", "en", q, sizeof(q)), 2);
    assert_string_equal(q, "\"titl\" OR \"foo\"");
    assert_int_equal(sb_kb_build_query("'; DROP TABLE kb_articles; --", "en", q, sizeof(q)), 4);
    assert_string_equal(q, "\"drop\" OR \"tabl\" OR \"kb\" OR \"articl\"");
    assert_int_equal(sb_kb_build_query("track\xEF\xBF\xBForder", "en", q, sizeof(q)), 2);
    assert_string_equal(q, "\"track\" OR \"order\"");
    assert_int_equal(sb_kb_build_query("\xF0\x9F\x98\x80 \xF0\x9F\x93\xA6", "en", q, sizeof(q)), 0);
}

static void hundred_kilobytes_of_one_letter_gives_no_terms_and_no_hits(void **state)
{
    struct env *e = *state;
    size_t len = 100 * 1024;
    char *text = malloc(len + 1);
    char q[4096];
    struct sb_kb_result r;

    assert_non_null(text);
    memset(text, 'o', len);
    text[len] = '\0';
    assert_int_equal(sb_kb_build_query(text, "en", q, sizeof(q)), 0);
    assert_string_equal(q, "");
    assert_int_equal(sb_kb_search(e->kb, text, "en", 5, &r), SB_OK);
    assert_int_equal(r.terms, 0);
    assert_int_equal(r.n, 0);
    sb_kb_result_cleanup(&r);
    free(text);
}

static void ten_thousand_distinct_words_are_bounded_to_32_terms(void **state)
{
    struct env *e = *state;
    size_t cap = 10000 * 5 + 1, o = 0;
    char *text = malloc(cap);
    char q[8192];
    struct sb_kb_result r;
    int n;

    assert_non_null(text);
    for (int i = 0; i < 10000; i++) {
        /* "qaaa", "qaab", ...: four letters, none a stop word */
        text[o++] = 'q';
        text[o++] = (char)('a' + (i / 676) % 26);
        text[o++] = (char)('a' + (i / 26) % 26);
        text[o++] = (char)('a' + i % 26);
        text[o++] = ' ';
    }
    text[o] = '\0';
    n = sb_kb_build_query(text, "en", q, sizeof(q));
    assert_int_equal(n, 32);
    assert_true(query_is_safe(q, n));
    assert_int_equal(strncmp(q, "\"qaaa\" OR \"qaab\"", 16), 0);
    assert_int_equal(sb_kb_search(e->kb, text, "en", 5, &r), SB_OK);
    assert_int_equal(r.terms, 32);
    assert_int_equal(r.n, 0);
    sb_kb_result_cleanup(&r);
    free(text);
}

/* ---- search ---- */

static void search_finds_article_in_its_locale(void **state)
{
    struct env *e = *state;
    int pos;

    assert_true(search(e, "How can I track my order?", "en", "track-order", "en", &pos) > 0);
    assert_int_equal(pos, 0);
    assert_true(search(e, "I forgot my password", "en", "reset-password", "en", &pos) > 0);
    assert_int_equal(pos, 0);
    assert_true(search(e, "when do I get the refund", "en", "refund-status", "en", &pos) > 0);
    assert_int_equal(pos, 0);
    assert_true(search(e, "Quero rastrear meu pedido", "pt-BR", "track-order", "pt-BR", &pos) > 0);
    assert_int_equal(pos, 0);
    assert_true(search(e, "unde este comanda mea", "ro", "track-order", "ro", &pos) > 0);
    assert_int_equal(pos, 0);
    /* Diacritics are folded: "urmaresc" finds "urmăresc". */
    assert_true(search(e, "cum urmaresc coletul", "ro", "track-order", "ro", &pos) > 0);
    assert_int_equal(pos, 0);
}

static void search_does_not_cross_languages(void **state)
{
    struct env *e = *state;
    struct sb_kb_result r;

    assert_int_equal(search(e, "rastrear pedido", "en", NULL, NULL, NULL), 0);
    assert_int_equal(search(e, "password", "pt-BR", NULL, NULL, NULL), 0);
    assert_int_equal(search(e, "track order", "fr", NULL, NULL, NULL), 0);
    /* "ro" must not pick up "rom" or any other language starting with "ro". */
    assert_int_equal(sb_kb_search(e->kb, "comanda", "rom", 5, &r), SB_OK);
    assert_int_equal(r.n, 0);
    sb_kb_result_cleanup(&r);
    assert_int_equal(sb_kb_search(e->kb, "rastrear pedido", "pt-BR", 5, &r), SB_OK);
    assert_true(r.n >= 1);
    for (int k = 0; k < r.n; k++)
        assert_int_equal(strncmp(r.hit[k].locale, "pt", 2), 0);
    sb_kb_result_cleanup(&r);
}

static void search_falls_back_from_other_region_to_same_language(void **state)
{
    struct env *e = *state;
    int pos;

    assert_true(search(e, "rastrear pedido", "pt-PT", "track-order", "pt-BR", &pos) > 0);
    assert_int_equal(pos, 0);
    assert_true(search(e, "rastrear pedido", "pt", "track-order", "pt-BR", &pos) > 0);
    assert_int_equal(pos, 0);
    assert_true(search(e, "track order", "en-GB", "track-order", "en", &pos) > 0);
    assert_int_equal(pos, 0);
}

static void search_prefers_exact_locale_over_other_region(void **state)
{
    struct env *e = *state;
    json_t *ex = json_pack("[s]", "onde est\xC3\xA1 a minha encomenda");
    /* Both articles contain every query word in the title; the European
     * Portuguese one is a little longer, so BM25 alone ranks it lower. */
    struct sb_kb_article br = {.slug = "parcel-track",
                               .locale = "pt-BR",
                               .title = "Rastrear encomenda",
                               .summary = "Use o link de rastreamento.",
                               .status = "published"};
    struct sb_kb_article pt = {.slug = "parcel-track",
                               .locale = "pt-PT",
                               .title = "Como posso rastrear a minha encomenda?",
                               .summary = "Utilize a liga\xC3\xA7\xC3\xA3o de seguimento que "
                                          "enviamos por correio eletr\xC3\xB3nico.",
                               .body = "A primeira atualiza\xC3\xA7\xC3\xA3o pode demorar um dia.",
                               .status = "published",
                               .examples = ex};
    struct sb_kb_result r;
    char first_slug[128], first_locale[36];

    upsert(e, &br, SB_KB_ADDED);
    upsert(e, &pt, SB_KB_ADDED);

    assert_int_equal(sb_kb_search(e->kb, "rastrear encomenda", "pt-BR", 5, &r), SB_OK);
    assert_true(r.n >= 1);
    assert_string_equal(r.hit[0].locale, "pt-BR");
    assert_string_equal(r.hit[0].slug, "parcel-track");
    sb_kb_result_cleanup(&r);

    json_decref(ex);
    assert_int_equal(sb_kb_search(e->kb, "rastrear encomenda", "pt-PT", 5, &r), SB_OK);
    assert_true(r.n >= 1);
    snprintf(first_slug, sizeof(first_slug), "%s", r.hit[0].slug);
    snprintf(first_locale, sizeof(first_locale), "%s", r.hit[0].locale);
    sb_kb_result_cleanup(&r);
    assert_string_equal(first_slug, "parcel-track");
    /* The customer writing from Portugal is shown the Portugal article first,
     * not the Brazilian variant of the same article. */
    assert_string_equal(first_locale, "pt-PT");
}

static void check_confidence_sorted(struct env *e, const char *text, const char *locale)
{
    struct sb_kb_result r;

    assert_int_equal(sb_kb_search(e->kb, text, locale, SB_KB_MAX_HITS, &r), SB_OK);
    for (int i = 0; i < r.n; i++) {
        assert_true(r.hit[i].confidence >= 0.0 && r.hit[i].confidence <= 1.0);
        assert_true(r.hit[i].coverage >= 0.0 && r.hit[i].coverage <= 1.0);
        assert_true(r.hit[i].bm25 >= 0.0);
        assert_non_null(r.hit[i].summary);
        assert_true(r.hit[i].id > 0);
        if (i > 0) assert_true(r.hit[i - 1].confidence >= r.hit[i].confidence);
    }
    sb_kb_result_cleanup(&r);
}

static void confidence_is_between_0_and_1_and_hits_are_sorted(void **state)
{
    struct env *e = *state;
    struct sb_kb_result r;

    check_confidence_sorted(e, "track order refund password email shipping", "en");
    check_confidence_sorted(e, "email", "en");
    check_confidence_sorted(e, "order order order order", "en");
    check_confidence_sorted(e, "link e-mail envio", "pt-BR");
    check_confidence_sorted(e, "e-mail comanda", "ro");

    /* Several articles match "email"; a full match scores higher than a
     * partial one. */
    assert_int_equal(sb_kb_search(e->kb, "email", "en", SB_KB_MAX_HITS, &r), SB_OK);
    assert_true(r.n >= 2);
    sb_kb_result_cleanup(&r);
    assert_int_equal(sb_kb_search(e->kb, "track my order", "en", SB_KB_MAX_HITS, &r), SB_OK);
    assert_true(r.n >= 1);
    assert_string_equal(r.hit[0].slug, "track-order");
    assert_true(r.hit[0].confidence > 0.3);
    assert_true(r.hit[0].coverage > 0.99);
    assert_string_equal(r.hit[0].title, "How do I track my order?");
    assert_string_equal(r.hit[0].summary,
                        "Use the tracking link in your shipping confirmation email.");
    sb_kb_result_cleanup(&r);
}

static void search_limit_caps_hits_and_frees_the_rest(void **state)
{
    struct env *e = *state;
    struct sb_kb_result r;

    assert_int_equal(sb_kb_search(e->kb, "email password order refund", "en", 1, &r), SB_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.terms, 4);
    for (int i = r.n; i < SB_KB_MAX_HITS; i++)
        assert_null(r.hit[i].summary);
    sb_kb_result_cleanup(&r);
    assert_int_equal(r.n, 0);
    /* limit below 1 is one hit, above the maximum is the maximum */
    assert_int_equal(sb_kb_search(e->kb, "email password order refund", "en", 0, &r), SB_OK);
    assert_int_equal(r.n, 1);
    sb_kb_result_cleanup(&r);
    assert_int_equal(sb_kb_search(e->kb, "email password order refund", "en", 1000, &r), SB_OK);
    assert_true(r.n >= 3 && r.n <= SB_KB_MAX_HITS);
    sb_kb_result_cleanup(&r);
}

static void long_non_ascii_title_in_hit_stays_valid_utf8(void **state)
{
    struct env *e = *state;
    char title[512];
    size_t o = 0;
    struct sb_kb_article a = {.slug = "long-title",
                              .locale = "pt-BR",
                              .title = title,
                              .summary = "Resumo curto.",
                              .status = "published"};
    struct sb_kb_result r;
    bool valid;
    size_t len;

    /* "Devolução " then 140 x "ç": 300+ bytes, more than hit.title holds. */
    o += (size_t)snprintf(title, sizeof(title), "Devolu\xC3\xA7\xC3\xA3o ");
    for (int i = 0; i < 140; i++) {
        title[o++] = '\xC3';
        title[o++] = '\xA7';
    }
    title[o] = '\0';
    assert_true(sb_utf8_valid(title, o));
    upsert(e, &a, SB_KB_ADDED);

    assert_int_equal(sb_kb_search(e->kb, "devolucao", "pt-BR", 5, &r), SB_OK);
    assert_int_equal(r.n, 1);
    len = strlen(r.hit[0].title);
    valid = sb_utf8_valid(r.hit[0].title, len);
    sb_kb_result_cleanup(&r);
    /* Truncation must not cut a character in half: the title goes to
     * plugins and from there into JSON replies. */
    assert_true(len > 0 && len < sizeof(r.hit[0].title));
    assert_true(valid);
}

/* ---- sb_kb_article_get ---- */

static void article_get_returns_published_article_with_fallback(void **state)
{
    struct env *e = *state;
    json_t *a;

    a = sb_kb_article_get(e->kb, "en", "track-order");
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "slug")), "track-order");
    assert_string_equal(json_string_value(json_object_get(a, "locale")), "en");
    assert_string_equal(json_string_value(json_object_get(a, "title")), "How do I track my order?");
    assert_string_equal(json_string_value(json_object_get(a, "category")), "orders");
    assert_non_null(json_string_value(json_object_get(a, "summary")));
    assert_non_null(json_string_value(json_object_get(a, "body")));
    json_decref(a);

    a = sb_kb_article_get(e->kb, "pt-PT", "track-order");
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "locale")), "pt-BR");
    json_decref(a);

    a = sb_kb_article_get(e->kb, "ro-MD", "track-order");
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "locale")), "ro");
    json_decref(a);

    assert_null(sb_kb_article_get(e->kb, "fr", "track-order"));
    assert_null(sb_kb_article_get(e->kb, "en", "no-such-slug"));
    assert_null(sb_kb_article_get(e->kb, "pt-BR", "reset-password"));
}

static void article_get_prefers_exact_locale(void **state)
{
    struct env *e = *state;
    struct sb_kb_article pt = {.slug = "track-order",
                               .locale = "pt-PT",
                               .title = "Como seguir a encomenda?",
                               .summary =
                                   "Siga a liga\xC3\xA7\xC3\xA3o no correio eletr\xC3\xB3nico.",
                               .status = "published"};
    json_t *a;

    upsert(e, &pt, SB_KB_ADDED);
    a = sb_kb_article_get(e->kb, "pt-PT", "track-order");
    assert_string_equal(json_string_value(json_object_get(a, "locale")), "pt-PT");
    json_decref(a);
    a = sb_kb_article_get(e->kb, "pt-BR", "track-order");
    assert_string_equal(json_string_value(json_object_get(a, "locale")), "pt-BR");
    json_decref(a);
    /* Bare language: the bare-language article if any, else some region. */
    a = sb_kb_article_get(e->kb, "pt", "track-order");
    assert_non_null(a);
    assert_int_equal(strncmp(json_string_value(json_object_get(a, "locale")), "pt-", 3), 0);
    json_decref(a);
}

/* ---- import ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

static void join_path(char *out, size_t cap, const char *parent, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", parent, name);
    assert_true(n > 0 && (size_t)n < cap);
}

static void make_dir(char *out, size_t cap, const char *parent, const char *name)
{
    join_path(out, cap, parent, name);
    assert_int_equal(mkdir(out, 0700), 0);
}

static const char md_track[] = "---\n"
                               "title: \"How do I follow my parcel?\"\n"
                               "slug: follow-parcel\n"
                               "locale: en\n"
                               "category: orders\n"
                               "tags: [orders, tracking]\n"
                               "status: published\n"
                               "summary: \"Open the carrier link in the dispatch email.\"\n"
                               "examples:\n"
                               "  - where is my parcel\n"
                               "  - parcel not arrived\n"
                               "---\n"
                               "## Follow your parcel\n\nOpen the dispatch email.\n";

static const char md_gift[] = "---\n"
                              "title: \"Do gift vouchers expire?\"\n"
                              "slug: gift-vouchers\n"
                              "locale: en\n"
                              "category: payments\n"
                              "tags: [payments]\n"
                              "status: published\n"
                              "summary: \"Gift vouchers are valid for two years.\"\n"
                              "examples:\n"
                              "  - voucher expired\n"
                              "---\n"
                              "Vouchers can be used on any product.\n";

static const char md_pt[] = "---\n"
                            "title: \"Como acompanho minha encomenda?\"\n"
                            "slug: follow-parcel\n"
                            "locale: pt-BR\n"
                            "category: orders\n"
                            "tags: [pedidos]\n"
                            "status: published\n"
                            "summary: \"Abra o link da transportadora no e-mail de despacho.\"\n"
                            "examples:\n"
                            "  - cad\xC3\xAA minha encomenda\n"
                            "---\n"
                            "Abra o e-mail de despacho.\n";

static const char md_ro_draft[] = "---\n"
                                  "title: \"Cum urm\xC4\x83resc coletul?\"\n"
                                  "slug: follow-parcel\n"
                                  "locale: ro\n"
                                  "status: draft\n"
                                  "summary: \"Deschide\xC8\x9Bi linkul curierului.\"\n"
                                  "---\n";

/* Writes the good set: en/ (two), pt-BR/ (one), ro/ (one draft), plus files
 * the import must skip. */
static void write_good_tree(const char *root)
{
    char en[256], pt[256], ro[256];

    make_dir(en, sizeof(en), root, "en");
    make_dir(pt, sizeof(pt), root, "pt-BR");
    make_dir(ro, sizeof(ro), root, "ro");
    write_file(en, "follow-parcel.md", md_track);
    write_file(en, "gift-vouchers.md", md_gift);
    write_file(pt, "follow-parcel.md", md_pt);
    write_file(ro, "follow-parcel.md", md_ro_draft);
    write_file(root, "README.md", "# Not an article\n");
    write_file(root, "notes.txt", "not markdown\n");
    write_file(en, ".hidden.md", "garbage that would not parse\n");
}

static void import_counts_added_changed_unchanged(void **state)
{
    struct env *e = *state;
    struct sb_errbuf eb = {{0}};
    char root[256], en[256];
    int added = -1, changed = -1, unchanged = -1, pos;
    json_t *a;

    make_dir(root, sizeof(root), e->dir, "kb");
    write_good_tree(root);

    assert_int_equal(sb_kb_import_dir(e->kb, root, &added, &changed, &unchanged, &eb), SB_OK);
    assert_int_equal(added, 4);
    assert_int_equal(changed, 0);
    assert_int_equal(unchanged, 0);
    assert_int_equal(count_rows(e, "SELECT count(*) FROM kb_articles"), 4);

    a = sb_kb_article_get(e->kb, "en", "follow-parcel");
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "title")),
                        "How do I follow my parcel?");
    assert_string_equal(json_string_value(json_object_get(a, "body")),
                        "## Follow your parcel\n\nOpen the dispatch email.\n");
    json_decref(a);
    assert_true(search(e, "where is my parcel", "en", "follow-parcel", "en", &pos) > 0);
    assert_int_equal(pos, 0);
    assert_true(search(e, "acompanho encomenda", "pt-BR", "follow-parcel", "pt-BR", &pos) > 0);
    assert_int_equal(pos, 0);
    /* The draft is stored but not published. */
    assert_null(sb_kb_article_get(e->kb, "ro", "follow-parcel"));

    /* Re-import of the same files changes nothing. */
    assert_int_equal(sb_kb_import_dir(e->kb, root, &added, &changed, &unchanged, &eb), SB_OK);
    assert_int_equal(added, 0);
    assert_int_equal(changed, 0);
    assert_int_equal(unchanged, 4);

    /* One edited, one new. */
    join_path(en, sizeof(en), root, "en");
    {
        char text[sizeof(md_gift) + 16];
        const char *from = strstr(md_gift, "two years");
        assert_non_null(from);
        snprintf(text, sizeof(text), "%.*sthree years%s", (int)(from - md_gift), md_gift,
                 from + strlen("two years"));
        write_file(en, "gift-vouchers.md", text);
    }
    write_file(en, "z-new.md",
               "---\ntitle: Opening hours\nslug: opening-hours\nlocale: en\nstatus: published\n"
               "summary: We answer chats from nine to five.\n---\n");
    assert_int_equal(sb_kb_import_dir(e->kb, root, &added, &changed, &unchanged, &eb), SB_OK);
    assert_int_equal(added, 1);
    assert_int_equal(changed, 1);
    assert_int_equal(unchanged, 3);
    a = sb_kb_article_get(e->kb, "en", "gift-vouchers");
    assert_string_equal(json_string_value(json_object_get(a, "summary")),
                        "Gift vouchers are valid for three years.");
    json_decref(a);
    assert_true(search(e, "opening hours", "en", "opening-hours", "en", &pos) > 0);
}

/* Imports root (good tree + one bad file) and checks nothing was kept. */
static void expect_import_fails(struct env *e, const char *bad_name, const char *bad_text,
                                const char *msg_part)
{
    struct sb_errbuf eb = {{0}};
    char root[256], en[256];
    int added = -7, changed = -7, unchanged = -7;

    make_dir(root, sizeof(root), e->dir, "kb");
    write_good_tree(root);
    join_path(en, sizeof(en), root, "en");
    write_file(en, bad_name, bad_text);

    assert_int_equal(sb_kb_import_dir(e->kb, root, &added, &changed, &unchanged, &eb),
                     SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, bad_name));
    if (msg_part && !strstr(eb.msg, msg_part))
        fail_msg("message [%s] lacks [%s]", eb.msg, msg_part);
    /* Nothing committed: no articles, no index rows, nothing searchable. */
    assert_int_equal(count_rows(e, "SELECT count(*) FROM kb_articles"), 0);
    assert_int_equal(count_rows(e, "SELECT count(*) FROM kb_fts"), 0);
    assert_int_equal(search(e, "where is my parcel", "en", NULL, NULL, NULL), 0);
    assert_null(sb_kb_article_get(e->kb, "en", "follow-parcel"));
    /* And no transaction left open. */
    assert_int_equal(sqlite3_get_autocommit(sb_store_db(e->st)), 1);
}

static void import_with_unknown_key_fails_and_commits_nothing(void **state)
{
    expect_import_fails(*state, "z-bad.md",
                        "---\ntitle: Bad\nslug: bad\nlocale: en\nauthor: someone\n---\nbody\n",
                        "unknown key 'author'");
}

static void import_with_missing_title_fails_and_commits_nothing(void **state)
{
    expect_import_fails(*state, "z-bad.md",
                        "---\nslug: bad\nlocale: en\nstatus: published\nsummary: x\n---\nbody\n",
                        "title");
}

static void import_with_malformed_yaml_fails_and_commits_nothing(void **state)
{
    expect_import_fails(*state, "z-bad.md",
                        "---\ntitle: \"unterminated\nslug: bad\nlocale: en\ntags: [a, b\n---\n",
                        "YAML");
}

static void import_with_other_bad_front_matter_fails(void **state)
{
    static const char *const bad[] = {
        "no front matter at all\n",
        "---\ntitle: x\nslug: y\nlocale: en\n",                         /* no closing line */
        "---\n- a\n- b\n---\n",                                         /* not a mapping */
        "---\ntitle: x\nslug: y\nlocale: en\nstatus: live\n---\n",      /* bad status */
        "---\ntitle: x\nslug: y\nlocale: en\ntags: {a: b}\n---\n",      /* tags not a list */
        "---\ntitle: [x]\nslug: y\nlocale: en\n---\n",                  /* title not text */
        "---\ntitle: x\nslug: y\nlocale: en\nsummary: \"\xC3\"\n---\n", /* not UTF-8 */
    };
    struct env *e = *state;

    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        struct sb_errbuf eb = {{0}};
        char root[256], sub[256];
        int a = 0, c = 0, u = 0;

        snprintf(sub, sizeof(sub), "kb%zu", i);
        make_dir(root, sizeof(root), e->dir, sub);
        write_file(root, "a-good.md", md_gift);
        write_file(root, "b-bad.md", bad[i]);
        if (sb_kb_import_dir(e->kb, root, &a, &c, &u, &eb) == SB_OK)
            fail_msg("bad file %zu was accepted", i);
        assert_non_null(strstr(eb.msg, "b-bad.md"));
        assert_int_equal(count_rows(e, "SELECT count(*) FROM kb_articles"), 0);
    }
}

static void failed_import_keeps_previous_version_of_articles(void **state)
{
    struct env *e = *state;
    struct sb_errbuf eb = {{0}};
    char root[256], en[256];
    int added, changed, unchanged;
    json_t *a;

    make_dir(root, sizeof(root), e->dir, "kb");
    write_good_tree(root);
    assert_int_equal(sb_kb_import_dir(e->kb, root, &added, &changed, &unchanged, &eb), SB_OK);

    join_path(en, sizeof(en), root, "en");
    write_file(en, "follow-parcel.md",
               "---\ntitle: Rewritten\nslug: follow-parcel\nlocale: en\nstatus: draft\n---\n");
    write_file(en, "z-bad.md", "---\ntitle: Bad\nslug: bad\nlocale: en\ncolour: red\n---\n");
    assert_int_equal(sb_kb_import_dir(e->kb, root, &added, &changed, &unchanged, &eb),
                     SB_ERR_INVAL);
    a = sb_kb_article_get(e->kb, "en", "follow-parcel");
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "title")),
                        "How do I follow my parcel?");
    json_decref(a);
    assert_int_equal(count_rows(e, "SELECT count(*) FROM kb_articles"), 4);
    assert_int_equal(count_rows(e, "SELECT count(*) FROM kb_articles WHERE slug='bad'"), 0);
}

static void import_of_missing_dir_fails(void **state)
{
    struct env *e = *state;
    struct sb_errbuf eb = {{0}};
    char root[256];
    int a, c, u;

    snprintf(root, sizeof(root), "%s/does-not-exist", e->dir);
    assert_int_equal(sb_kb_import_dir(e->kb, root, &a, &c, &u, &eb), SB_ERR_IO);
    assert_int_equal(sqlite3_get_autocommit(sb_store_db(e->st)), 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_articles, teardown)
#define TE(f) cmocka_unit_test_setup_teardown(f, setup_empty, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(upsert_reports_added_unchanged_then_changed),
        TE(upsert_with_null_status_is_a_draft),
        TE(upsert_changed_article_is_searchable_by_new_text_only),
        T(draft_articles_are_not_found_and_unpublishing_removes_from_search),
        cmocka_unit_test(build_query_drops_stop_words_and_quotes_terms),
        cmocka_unit_test(build_query_uses_stop_words_of_the_locale_language),
        cmocka_unit_test(build_query_stems_words_and_dedupes),
        TE(word_order_does_not_narrow_the_query),
        cmocka_unit_test(build_query_respects_small_output_buffer),
        T(hostile_text_gives_safe_query_and_search_succeeds),
        cmocka_unit_test(hostile_text_terms_are_plain_words),
        T(hundred_kilobytes_of_one_letter_gives_no_terms_and_no_hits),
        T(ten_thousand_distinct_words_are_bounded_to_32_terms),
        T(search_finds_article_in_its_locale),
        T(search_does_not_cross_languages),
        T(search_falls_back_from_other_region_to_same_language),
        T(search_prefers_exact_locale_over_other_region),
        T(confidence_is_between_0_and_1_and_hits_are_sorted),
        T(search_limit_caps_hits_and_frees_the_rest),
        TE(long_non_ascii_title_in_hit_stays_valid_utf8),
        T(article_get_returns_published_article_with_fallback),
        T(article_get_prefers_exact_locale),
        TE(import_counts_added_changed_unchanged),
        TE(import_with_unknown_key_fails_and_commits_nothing),
        TE(import_with_missing_title_fails_and_commits_nothing),
        TE(import_with_malformed_yaml_fails_and_commits_nothing),
        TE(import_with_other_bad_front_matter_fails),
        TE(failed_import_keeps_previous_version_of_articles),
        TE(import_of_missing_dir_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
