/*
 * test_kb_text.c - kb/kb_text.c, kb_stem.c, kb_stopwords.c and
 * kb_fts_tokenizer.c: one word pipeline for articles and questions
 * (lowercase, stop words per language, Snowball stems, diacritics
 * folded), its bounds on hostile input, and the "sb" FTS5 tokenizer that
 * kb_fts is built with (the language of each row, the migration that
 * repopulates kb_fts, FTS5's own integrity check).
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

#include "kb_int.h"
#include "sb_kb.h"
#include "sb_log.h"
#include "sb_store.h"
#include "store_undo.h"
#include "sb_util.h"

/* ---- helpers ---- */

static struct kb_stemmers stem;

/* The one search term of a word in locale ("" for a stop word), in a
 * static buffer. */
static const char *term(const char *locale, const char *word)
{
    static char out[KB_MAX_TERM_BYTES + 1];
    struct kb_terms q;

    out[0] = '\0';
    if (kb_query_terms(&stem, word, locale, &q) == 1) memcpy(out, q.term[0], sizeof(out));
    return out;
}

/* Every word of words (NULL-terminated) has the same term as the first. */
static void assert_same_term(const char *locale, const char *const *words)
{
    char first[KB_MAX_TERM_BYTES + 1];

    snprintf(first, sizeof(first), "%s", term(locale, words[0]));
    assert_true(first[0] != '\0');
    for (int i = 1; words[i]; i++)
        if (strcmp(term(locale, words[i]), first) != 0)
            fail_msg("%s: '%s' -> '%s' but '%s' -> '%s'", locale, words[0], first, words[i],
                     term(locale, words[i]));
}

static bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : 4;
        for (int k = 1; k < n; k++)
            if ((p[k] & 0xC0) != 0x80) return false;
        p += n;
    }
    return true;
}

/* Terms of hostile text: bounded in number and size, valid UTF-8, and
 * never anything FTS5 could read as syntax. */
static void assert_safe_terms(const char *text, const char *locale)
{
    struct kb_terms q;
    int n = kb_query_terms(&stem, text, locale, &q);

    assert_true(n >= 0 && n <= KB_MAX_TERMS);
    for (int t = 0; t < n; t++) {
        size_t len = strlen(q.term[t]);
        assert_true(len > 0 && len <= KB_MAX_TERM_BYTES);
        assert_true(valid_utf8(q.term[t]));
        for (size_t i = 0; i < len; i++)
            assert_null(strchr("\"'*:^()+-{}[],; \t\r\n", q.term[t][i]));
    }
}

static int teardown_stem(void **state)
{
    (void)state;
    kb_stemmers_cleanup(&stem);
    return 0;
}

/* ---- stems meet across inflections, per language ---- */

static void english_inflections_share_a_stem(void **state)
{
    static const char *const order[] = {"orders", "ordered", "ordering", "order", NULL};
    static const char *const refund[] = {"refunds", "Refunded", "REFUND", NULL};
    (void)state;
    assert_same_term("en", order);
    assert_same_term("en", refund);
    assert_string_equal(term("en", "orders"), "order");
}

static void portuguese_inflections_and_spellings_share_a_stem(void **state)
{
    static const char *const devolucao[] = {"devolu\xC3\xA7\xC3\xB5"
                                            "es",
                                            "devolu\xC3\xA7\xC3\xA3o",
                                            "devolucoes",
                                            "devolucao",
                                            "DEVOLU\xC3\x87\xC3\x83O",
                                            NULL};
    static const char *const devolver[] = {"devolver", "devolvido", "devolvemos", "devolveu", NULL};
    static const char *const acao[] = {"a\xC3\xA7\xC3\xA3o", "acao", NULL};
    (void)state;
    assert_same_term("pt-BR", devolucao);
    assert_same_term("pt-PT", devolver);
    assert_same_term("pt", acao);
    assert_string_equal(term("pt-BR", "devolu\xC3\xA7\xC3\xA3o"), "devolu");
}

static void romanian_inflections_and_spellings_share_a_stem(void **state)
{
    static const char *const comenzi[] = {"comenzile", "comenzi", "comenzii", NULL};
    static const char *const comanda[] = {"comanda", "comand\xC4\x83", "COMAND\xC4\x82", NULL};
    static const char *const urmaresc[] = {"urm\xC4\x83resc", "urmaresc", "urm\xC4\x83ri", NULL};
    static const char *const livrare[] = {"livrarea", "livrare", "LIVRAREA", NULL};
    static const char *const livrarii[] = {"livr\xC4\x83rii", "livrarii", NULL};
    (void)state;
    assert_same_term("ro", comenzi);
    assert_same_term("ro", comanda);
    assert_same_term("ro", urmaresc);
    assert_same_term("ro", livrare);
    assert_same_term("ro", livrarii);
}

/* ş ţ (cedilla, U+015F U+0163) and ș ț (comma below, U+0219 U+021B) are
 * both in use; Snowball's Romanian stemmer knows only the first. */
static void romanian_cedilla_and_comma_below_meet(void **state)
{
    static const char *const info[] = {"informa\xC5\xA3ii", "informa\xC8\x9Bii", "informatii",
                                       "informa\xC5\xA3ia", NULL};
    static const char *const porneste[] = {"porne\xC5\x9Fte", "porne\xC8\x99te", "porneste",
                                           "porne\xC8\x99ti", NULL};
    static const char *const plati[] = {"pl\xC4\x83\xC5\xA3i", "pl\xC4\x83\xC8\x9Bi", "plati",
                                        "PL\xC4\x82\xC8\x9AI", NULL};
    (void)state;
    assert_same_term("ro", info);
    assert_same_term("ro", porneste);
    assert_same_term("ro", plati);
}

static void spanish_french_german_italian_stems_meet(void **state)
{
    static const char *const es[] = {"devoluciones", "devoluci\xC3\xB3n", "devolucion", NULL};
    static const char *const fr[] = {"commandes", "command\xC3\xA9", "commande",
                                     "command\xC3\xA9"
                                     "es",
                                     NULL};
    static const char *const de[] = {"Bestellungen", "Bestellung", "bestellungen", NULL};
    static const char *const de_umlaut[] = {"R\xC3\xBC"
                                            "ckerstattung",
                                            "Ruckerstattung", NULL};
    static const char *const it[] = {"ordini", "ordine", "ordinato", NULL};
    static const char *const it_accent[] = {"qualit\xC3\xA0", "qualita", NULL};
    (void)state;
    assert_same_term("es", es);
    assert_same_term("fr-FR", fr);
    assert_same_term("de-DE", de);
    assert_same_term("de", de_umlaut);
    assert_same_term("it", it);
    assert_same_term("it", it_accent);
}

/* A language without a stemmer still gets lowercase and folding. */
static void unknown_language_is_folded_but_not_stemmed(void **state)
{
    (void)state;
    assert_string_equal(term("xx", "Orders"), "orders");
    assert_string_equal(term("xx", "Ca\xC8\x98"), "cas");
    assert_false(kb_stem_known("xx"));
    assert_true(kb_stem_known("pt-BR"));
}

/* Greek and Cyrillic capitals lowercase; Greek tonos folds. */
static void greek_and_cyrillic_are_lowercased(void **state)
{
    (void)state;
    /* ΚΑΛΗΜΈΡΑ -> καλημερα */
    assert_string_equal(
        term("el", "\xCE\x9A\xCE\x91\xCE\x9B\xCE\x97\xCE\x9C\xCE\x88\xCE\xA1\xCE\x91"),
        "\xCE\xBA\xCE\xB1\xCE\xBB\xCE\xB7\xCE\xBC\xCE\xB5\xCF\x81\xCE\xB1");
    /* ПРИВЕТ -> привет (no Russian stemming for a word without a suffix) */
    assert_string_equal(term("xx", "\xD0\x9F\xD0\xA0\xD0\x98\xD0\x92\xD0\x95\xD0\xA2"),
                        "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
}

/* ---- stop words per language ---- */

static void stop_words_of_each_language_give_no_terms(void **state)
{
    static const struct {
        const char *locale, *text;
    } only_stop[] = {
        {"en", "Where is my ... and how do I get it?"},
        {"pt-BR", "onde est\xC3\xA1 o meu? n\xC3\xA3o, nao"},
        {"ro", "unde este \xC8\x99i c\xC3\xA2nd s\xC4\x83 nu"},
        {"es", "\xC2\xBF"
               "d\xC3\xB3nde est\xC3\xA1 mi? donde esta"},
        {"fr", "o\xC3\xB9 est mon, s'il vous pla\xC3\xAEt"},
        {"de", "wo ist mein, bitte"},
        {"it", "dove \xC3\xA8 il mio, per favore"},
    };
    struct kb_terms q;
    (void)state;

    for (size_t i = 0; i < SB_ARRAY_LEN(only_stop); i++)
        if (kb_query_terms(&stem, only_stop[i].text, only_stop[i].locale, &q) != 0)
            fail_msg("%s: '%s' left '%s'", only_stop[i].locale, only_stop[i].text, q.term[0]);
    /* Another language's stop words are words ("mein" in English). */
    assert_int_equal(kb_query_terms(&stem, "wo ist mein", "en", &q), 3);
    /* English ones apply everywhere: customers mix them in. */
    assert_int_equal(kb_query_terms(&stem, "the order", "de", &q), 1);
}

/* ---- hostile input ---- */

static void fts5_syntax_and_quotes_are_plain_words(void **state)
{
    static const char *const hostile[] = {
        "\"track\" NOT \"order\"",
        "NEAR(\"a\" \"b\", 0)",
        "title:foo OR body:bar",
        "{title summary}: x*",
        "^start AND -end",
        "'; DROP TABLE kb_fts; --",
        "\"\"\"\"",
        "a* b* c*",
        "(((((((",
        "\xE2\x80\x9Csmart quotes\xE2\x80\x9D",
    };
    (void)state;
    for (size_t i = 0; i < SB_ARRAY_LEN(hostile); i++) {
        assert_safe_terms(hostile[i], "en");
        assert_safe_terms(hostile[i], "ro");
    }
}

/* Every byte but NUL, and malformed UTF-8 (lone continuation bytes,
 * truncated and overlong sequences, surrogates). */
static void binary_and_invalid_utf8_give_safe_terms(void **state)
{
    static const char *const invalid[] = {
        "\x80\x80\x80order",    "ord\xC3",      "\xE0\x80\xAF",  "\xED\xA0\x80refund\xED\xBF\xBF",
        "\xF8\x88\x80\x80\x80", "\xFF\xFE\xFD", "a\xC3\xA7\xC3",
    };
    char bin[4096];
    (void)state;

    for (size_t i = 0; i < sizeof(bin) - 1; i++)
        bin[i] = (char)(1 + (i * 131 + i / 255) % 255);
    bin[sizeof(bin) - 1] = '\0';
    assert_safe_terms(bin, "en");
    assert_safe_terms(bin, "pt-BR");
    assert_safe_terms(bin, "ro");
    for (size_t i = 0; i < SB_ARRAY_LEN(invalid); i++)
        assert_safe_terms(invalid[i], "en");
}

static void hundred_kilobytes_of_one_letter_is_no_term(void **state)
{
    size_t len = 100 * 1024;
    char *text = malloc(len + 8);
    struct kb_terms q;
    (void)state;

    assert_non_null(text);
    memset(text, 'a', len);
    memcpy(text + len, " order", 7);
    /* The giant word is skipped, the word after it is still found. */
    assert_int_equal(kb_query_terms(&stem, text, "pt-BR", &q), 1);
    assert_string_equal(q.term[0], "order");
    memset(text, '\xC3', len); /* 100 KB of lead bytes without continuations */
    assert_safe_terms(text, "ro");
    free(text);
}

static void many_words_are_bounded_to_max_terms(void **state)
{
    char text[8192];
    size_t o = 0;
    struct kb_terms q;
    (void)state;

    for (int i = 0; i < 1000 && o + 8 < sizeof(text); i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o, "w%dz ", i);
    assert_int_equal(kb_query_terms(&stem, text, "en", &q), KB_MAX_TERMS);
}

/* ---- the "sb" FTS5 tokenizer ---- */

struct env {
    char dir[64];
    char path[128];
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

static int open_kb(struct env *e)
{
    struct sb_errbuf eb = {{0}};
    if (sb_store_open(e->path, "NORMAL", &e->st, &eb) != SB_OK ||
        sb_kb_open(sb_store_db(e->st), &e->kb, &eb) != SB_OK ||
        sb_kb_set_locales(e->kb, "en,pt-BR,ro,es,fr,de,it", &eb) != SB_OK) {
        fprintf(stderr, "kb env: %s\n", eb.msg);
        return -1;
    }
    return 0;
}

static void close_kb(struct env *e)
{
    sb_kb_close(e->kb);
    sb_store_close(e->st);
    e->kb = NULL;
    e->st = NULL;
}

static int setup_env(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    sb_log_set_level(SB_LOG_WARN);
    if (!e) return -1;
    snprintf(e->dir, sizeof(e->dir), "/tmp/sb-kb-text-XXXXXX");
    if (!mkdtemp(e->dir)) return -1;
    snprintf(e->path, sizeof(e->path), "%s/test.db", e->dir);
    if (open_kb(e)) return -1;
    *state = e;
    return 0;
}

static int teardown_env(void **state)
{
    struct env *e = *state;
    close_kb(e);
    nftw(e->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(e);
    return teardown_stem(state);
}

static void save(struct env *e, const char *slug, const char *locale, const char *title,
                 const char *body)
{
    struct sb_errbuf eb = {{0}};
    enum sb_kb_change ch;
    struct sb_kb_article a = {.slug = slug,
                              .locale = locale,
                              .title = title,
                              .summary = "",
                              .body = body,
                              .status = "published"};
    if (sb_kb_upsert(e->kb, &a, &ch, &eb) != SB_OK) fail_msg("save %s: %s", slug, eb.msg);
}

/* The first hit's slug of an FTS5 search ("" for none), static. */
static const char *fts_first(struct env *e, const char *text, const char *locale)
{
    static char slug[128];
    struct sb_kb_result r;

    assert_int_equal(sb_kb_search_fts(e->kb, text, locale, 3, &r), SB_OK);
    snprintf(slug, sizeof(slug), "%s", r.n ? r.hit[0].slug : "");
    sb_kb_result_cleanup(&r);
    return slug;
}

static int64_t query_int(struct env *e, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    assert_int_equal(sqlite3_prepare_v2(sb_store_db(e->st), sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void add_articles(struct env *e)
{
    save(e, "returns", "pt-BR",
         "Devolu\xC3\xA7\xC3\xB5"
         "es de produtos",
         "Como funcionam as devolu\xC3\xA7\xC3\xB5"
         "es.");
    save(e, "track", "en", "Tracking your orders", "Each order has a tracking link.");
    save(e, "track", "ro", "Urm\xC4\x83rirea comenzilor",
         "Pute\xC8\x9Bi urm\xC4\x83ri comenzile din cont.");
    save(e, "invoice", "ro", "Facturi \xC8\x99i pl\xC4\x83\xC8\x9Bi",
         "Informa\xC8\x9Bii despre facturi.");
    save(e, "returns", "es", "Devoluciones", "Plazo de devoluci\xC3\xB3n.");
    save(e, "returns", "de",
         "R\xC3\xBC"
         "cksendungen",
         "Bestellungen zur\xC3\xBC"
         "cksenden.");
}

static void fts_search_finds_article_by_an_inflected_form(void **state)
{
    struct env *e = *state;

    add_articles(e);
    assert_string_equal(fts_first(e, "devolu\xC3\xA7\xC3\xA3o", "pt-BR"), "returns");
    assert_string_equal(fts_first(e, "quero fazer uma devolucao", "pt-BR"), "returns");
    assert_string_equal(fts_first(e, "where is my order?", "en"), "track");
    assert_string_equal(fts_first(e, "cum urmaresc comanda", "ro"), "track");
    /* cedilla letters in the question, comma-below in the article */
    assert_string_equal(fts_first(e, "informa\xC5\xA3ia pl\xC4\x83\xC5\xA3ilor", "ro"), "invoice");
    assert_string_equal(fts_first(e, "devolucion", "es"), "returns");
    assert_string_equal(fts_first(e, "Bestellung", "de"), "returns");
    /* the in-memory engine agrees */
    {
        struct sb_kb_result r;
        assert_int_equal(sb_kb_search(e->kb, "devolucoes", "pt-BR", 3, &r), SB_OK);
        assert_true(r.n > 0);
        assert_string_equal(r.hit[0].slug, "returns");
        sb_kb_result_cleanup(&r);
    }
    /* FTS5 syntax in customer text is plain words, and the query parses. */
    assert_string_equal(fts_first(e, "\"orders\" NOT NEAR(tracking*", "en"), "track");
}

/* FTS5 deletes a row by tokenizing its stored text again: the language
 * must come out the same, even after the article moves to another
 * locale. FTS5's integrity check tokenizes every row and compares. */
static void fts_index_stays_consistent_across_updates_and_deletes(void **state)
{
    struct env *e = *state;
    struct sb_errbuf eb = {{0}};

    add_articles(e);
    save(e, "track", "en", "Tracking orders and parcels", "Ordering, shipped, delivered.");
    save(e, "moving", "en", "Depozitele noastre", "Depozite noi \xC3\xAEn ora\xC8\x99.");
    {
        struct sb_kb_article a = {.slug = "moving",
                                  .locale = "ro",
                                  .title = "Depozitele noastre",
                                  .summary = "",
                                  .body = "Depozite noi \xC3\xAEn ora\xC8\x99.",
                                  .status = "published"};
        struct sb_kb_saved saved;
        int64_t id = sb_kb_article_id(e->kb, "en", "moving");
        assert_int_equal(sb_kb_save(e->kb, &a, id, 0, &saved, &eb), SB_OK);
    }
    assert_string_equal(fts_first(e, "depozitul", "ro"), "moving");
    assert_int_equal(sb_kb_delete(e->kb, sb_kb_article_id(e->kb, "pt-BR", "returns"), &eb), SB_OK);
    assert_string_equal(fts_first(e, "devolucao", "pt-BR"), "");
    assert_int_equal(sqlite3_exec(sb_store_db(e->st),
                                  "INSERT INTO kb_fts(kb_fts) VALUES('integrity-check')", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
    /* 'rebuild' re-tokenizes the stored text: same index, same answers. */
    assert_int_equal(sqlite3_exec(sb_store_db(e->st),
                                  "INSERT INTO kb_fts(kb_fts) VALUES('rebuild')", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_string_equal(fts_first(e, "depozitul", "ro"), "moving");
    assert_string_equal(fts_first(e, "ordered", "en"), "track");
}

/* Text without the locale mark is stemmed by the tokenizer's argument. */
static void tokenizer_argument_is_the_language_of_unmarked_text(void **state)
{
    struct env *e = *state;
    sqlite3 *db = sb_store_db(e->st);

    assert_int_equal(sqlite3_exec(db,
                                  "CREATE VIRTUAL TABLE t_pt USING fts5(x, tokenize = 'sb pt');"
                                  "INSERT INTO t_pt VALUES('as devolu\xC3\xA7\xC3\xB5"
                                  "es');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(query_int(e, "SELECT count(*) FROM t_pt WHERE t_pt MATCH 'devolu'"), 1);
    /* query text is taken as terms: not stemmed again */
    assert_int_equal(query_int(e, "SELECT count(*) FROM t_pt WHERE t_pt MATCH 'devolucoes'"), 0);
    /* a bad argument is refused when the table is made */
    assert_int_not_equal(
        sqlite3_exec(db, "CREATE VIRTUAL TABLE t_bad USING fts5(x, tokenize = 'sb a b')", NULL,
                     NULL, NULL),
        SQLITE_OK);
    assert_int_not_equal(
        sqlite3_exec(db, "CREATE VIRTUAL TABLE t_bad USING fts5(x, tokenize = 'sb \"x;y\"')", NULL,
                     NULL, NULL),
        SQLITE_OK);
}

/* Migration 5 recreates kb_fts with the "sb" tokenizer and fills it from
 * the published articles: an index made at schema 4 (unicode61, words
 * not stemmed, examples one per line) is searchable by stems after. */
static void migration_5_reindexes_published_articles_with_stems(void **state)
{
    struct env *e = *state;
    json_t *ex = json_pack("[s,s]", "onde est\xC3\xA1 a minha encomenda", "rastrear pacotes");
    struct sb_kb_article a = {.slug = "rastreio",
                              .locale = "pt-BR",
                              .title = "Rastreamento",
                              .summary = "",
                              .body = "",
                              .status = "published",
                              .examples = ex};
    struct sb_errbuf eb = {{0}};
    enum sb_kb_change ch;
    sqlite3 *db;

    assert_int_equal(sb_kb_upsert(e->kb, &a, &ch, &eb), SB_OK);
    a.slug = "draft";
    a.status = "draft";
    assert_int_equal(sb_kb_upsert(e->kb, &a, &ch, &eb), SB_OK);
    json_decref(ex);
    /* back to schema 4: kb_fts as migration 1 made it */
    db = sb_store_db(e->st);
    assert_int_equal(
        sqlite3_exec(db,
                     "DROP TABLE kb_fts;"
                     "CREATE VIRTUAL TABLE kb_fts USING fts5(title, summary, body,"
                     " examples, locale UNINDEXED,"
                     " tokenize = 'unicode61 remove_diacritics 2');"
                     "INSERT INTO kb_fts(rowid, title, summary, body, examples, locale)"
                     " SELECT id, title, summary, body, examples, locale"
                     " FROM kb_articles WHERE status = 'published';" UNDO_MIGRATION_7
                     /* and without what migration 6 added */
                     "DROP TRIGGER conversations_queue_time;"
                     "DROP INDEX conversations_site;"
                     "DROP TABLE attachments; DROP TABLE queue_waits;"
                     "DROP TABLE conversation_tokens; DROP TABLE site_origins;"
                     "DROP TABLE sites;"
                     "ALTER TABLE conversations DROP COLUMN site_id;"
                     "ALTER TABLE conversations DROP COLUMN page_url;"
                     "ALTER TABLE conversations DROP COLUMN verified;"
                     "ALTER TABLE conversations DROP COLUMN priority;"
                     "ALTER TABLE conversations DROP COLUMN queued_at;"
                     "ALTER TABLE conversations DROP COLUMN read_customer;"
                     "ALTER TABLE conversations DROP COLUMN read_agent;"
                     "PRAGMA user_version = 4;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    close_kb(e);
    assert_int_equal(open_kb(e), 0);
    assert_int_equal(query_int(e, "PRAGMA user_version"), SB_STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(e, "SELECT count(*) FROM kb_fts"), 1);
    /* "pacote" in the question, "pacotes" in an example question */
    assert_string_equal(fts_first(e, "pacote", "pt-BR"), "rastreio");
    assert_string_equal(fts_first(e, "encomendas", "pt-BR"), "rastreio");
    assert_int_equal(query_int(e, "SELECT count(*) FROM kb_fts WHERE kb_fts MATCH 'rastreament'"),
                     1);
    assert_int_equal(sqlite3_exec(sb_store_db(e->st),
                                  "INSERT INTO kb_fts(kb_fts) VALUES('integrity-check')", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(english_inflections_share_a_stem),
        cmocka_unit_test(portuguese_inflections_and_spellings_share_a_stem),
        cmocka_unit_test(romanian_inflections_and_spellings_share_a_stem),
        cmocka_unit_test(romanian_cedilla_and_comma_below_meet),
        cmocka_unit_test(spanish_french_german_italian_stems_meet),
        cmocka_unit_test(unknown_language_is_folded_but_not_stemmed),
        cmocka_unit_test(greek_and_cyrillic_are_lowercased),
        cmocka_unit_test(stop_words_of_each_language_give_no_terms),
        cmocka_unit_test(fts5_syntax_and_quotes_are_plain_words),
        cmocka_unit_test(binary_and_invalid_utf8_give_safe_terms),
        cmocka_unit_test(hundred_kilobytes_of_one_letter_is_no_term),
        cmocka_unit_test(many_words_are_bounded_to_max_terms),
        cmocka_unit_test_setup_teardown(fts_search_finds_article_by_an_inflected_form, setup_env,
                                        teardown_env),
        cmocka_unit_test_setup_teardown(fts_index_stays_consistent_across_updates_and_deletes,
                                        setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(tokenizer_argument_is_the_language_of_unmarked_text,
                                        setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(migration_5_reindexes_published_articles_with_stems,
                                        setup_env, teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_stem);
}
