/*
 * test_kb_import.c - kb_import.c, kb_export.c and kb_import_faq.c: YAML
 * quoting that libyaml reads back byte for byte, the RFC 4180 CSV reader
 * (quotes, "" escapes, line breaks in quotes, line numbers, errors),
 * slugs made from titles, front matter edge cases (CRLF, byte-order mark,
 * nulls, the body kept exactly), errors that name the file, line and
 * field, the export/import round trip, and the FAQ import's slug
 * collisions and re-runs. The end-to-end side (CLI, running server) is in
 * tests/e2e/test_kb_cli.py.
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

#include <yaml.h>

#include "kb_files.h"
#include "sb_store.h"

/* ---- YAML quoting ---- */

/* Quotes s as the value of key k, parses that with libyaml and returns the
 * scalar read back (malloc'd), or NULL when libyaml refused it. */
static char *yaml_round_trip(const char *s, size_t len, size_t *out_len)
{
    struct sb_buf b;
    yaml_parser_t p;
    yaml_document_t doc;
    yaml_node_t *root, *v;
    char *out = NULL;

    sb_buf_init(&b, 1 << 20);
    assert_int_equal(sb_buf_append(&b, "k: ", 3), SB_OK);
    assert_int_equal(kb_yaml_quote(&b, s, len), SB_OK);
    assert_int_equal(sb_buf_append(&b, "\n", 1), SB_OK);
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)b.data, b.len);
    if (yaml_parser_load(&p, &doc)) {
        root = yaml_document_get_root_node(&doc);
        assert_non_null(root);
        assert_int_equal(root->type, YAML_MAPPING_NODE);
        v = yaml_document_get_node(&doc, root->data.mapping.pairs.start->value);
        assert_int_equal(v->type, YAML_SCALAR_NODE);
        out = malloc(v->data.scalar.length + 1);
        memcpy(out, v->data.scalar.value, v->data.scalar.length);
        out[v->data.scalar.length] = '\0';
        *out_len = v->data.scalar.length;
        yaml_document_delete(&doc);
    } else {
        fprintf(stderr, "libyaml: %s in [%s]\n", p.problem, b.data);
    }
    yaml_parser_delete(&p);
    sb_buf_cleanup(&b);
    return out;
}

static void assert_round_trips(const char *s, size_t len)
{
    size_t got_len = 0;
    char *got = yaml_round_trip(s, len, &got_len);

    if (!got) fail_msg("libyaml refused the quoted form of [%.*s]", (int)len, s);
    if (got_len != len || memcmp(got, s, len) != 0)
        fail_msg("[%.*s] came back as [%s]", (int)len, s, got);
    free(got);
}

static void yaml_quote_round_trips_tricky_titles(void **state)
{
    static const char *const tricky[] = {
        "",
        "How do I \"quote\" this?",
        "Refunds: how long?",
        "# not a comment",
        "Price #1 and C# code",
        "  leading and trailing spaces  ",
        "yes",
        "no",
        "null",
        "~",
        "- not a list",
        "[not, a, flow]",
        "{not: a map}",
        "&anchor *alias !tag %directive @at `tick` |pipe >fold",
        "'single quotes' and \"double\"",
        "back\\slash \\n \\\" \\u0041 \\x41",
        "line one\nline two\n\nline four",
        "crlf\r\nline and a lone \r carriage return",
        "tab\there\tand\t",
        "Ação, reembolso — já! Îmi șterg contul? 日本語 😀",
        "---",
        "...",
        "key: value # comment",
        "\xC2\x85 NEL, \xE2\x80\xA8 LS, \xE2\x80\xA9 PS, \xEF\xBB\xBF BOM",
        "\xC2\x80\xC2\x9F C1 controls, \x7F DEL",
        "\xEF\xBF\xBE \xEF\xBF\xBF noncharacters",
        "\xF4\x8F\xBF\xBF the last code point",
    };
    (void)state;
    for (size_t i = 0; i < SB_ARRAY_LEN(tricky); i++)
        assert_round_trips(tricky[i], strlen(tricky[i]));
}

static void yaml_quote_round_trips_every_ascii_byte(void **state)
{
    char s[4];
    (void)state;
    for (int c = 1; c < 0x80; c++) {
        s[0] = 'a';
        s[1] = (char)c;
        s[2] = 'b';
        assert_round_trips(s, 3);
        assert_round_trips(s + 1, 1);
    }
}

static void yaml_quote_round_trips_long_text(void **state)
{
    size_t n = 20000;
    char *s = malloc(n + 1);
    (void)state;
    for (size_t i = 0; i < n; i++)
        s[i] = "ab \"\\:#\n\t"[i % 9];
    s[n] = '\0';
    assert_round_trips(s, n);
    free(s);
}

static void expect_quoted(const char *in, const char *want)
{
    struct sb_buf b;
    sb_buf_init(&b, 4096);
    assert_int_equal(kb_yaml_quote(&b, in, strlen(in)), SB_OK);
    assert_string_equal(b.data, want);
    sb_buf_cleanup(&b);
}

static void yaml_quote_escapes_only_what_it_must(void **state)
{
    (void)state;
    expect_quoted("plain", "\"plain\"");
    expect_quoted("", "\"\"");
    expect_quoted("a\"b\\c", "\"a\\\"b\\\\c\"");
    expect_quoted("t\tn\nr\r", "\"t\\tn\\nr\\r\"");
    expect_quoted("\x01\x1F\x7F", "\"\\u0001\\u001F\\u007F\"");
    expect_quoted("\xC2\x85", "\"\\u0085\"");
    expect_quoted("\xE2\x80\xA8\xE2\x80\xA9", "\"\\u2028\\u2029\"");
    expect_quoted("\xEF\xBB\xBF", "\"\\uFEFF\"");
    /* Printable Unicode stays as it is: the files stay readable. */
    expect_quoted("Ação: 日本", "\"Ação: 日本\"");
    expect_quoted("#: -", "\"#: -\"");
}

static void yaml_quote_refuses_invalid_utf8(void **state)
{
    static const char *const bad[] = {"\xC3", "\xFF", "a\xE2\x80", "\x80"};
    (void)state;
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        struct sb_buf b;
        sb_buf_init(&b, 4096);
        assert_int_equal(kb_yaml_quote(&b, bad[i], strlen(bad[i])), SB_ERR_INVAL);
        sb_buf_cleanup(&b);
    }
}

/* ---- CSV ---- */

/* Reads all records of text; returns them as one array of arrays. */
static json_t *csv_all(const char *text, size_t len)
{
    struct kb_csv c;
    struct sb_errbuf eb = {{0}};
    json_t *all = json_array(), *rec;

    kb_csv_init(&c, text, len);
    for (;;) {
        if (kb_csv_next(&c, &rec, &eb) != SB_OK) fail_msg("CSV error: %s", eb.msg);
        if (!rec) break;
        json_array_append_new(all, rec);
    }
    return all;
}

static void assert_csv(const char *text, const char *want_json)
{
    json_t *got = csv_all(text, strlen(text));
    json_t *want = json_loads(want_json, 0, NULL);
    assert_non_null(want);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT);
        fail_msg("CSV [%s] gave %s, want %s", text, g, want_json);
    }
    json_decref(got);
    json_decref(want);
}

static void csv_reads_plain_records_with_lf_or_crlf(void **state)
{
    (void)state;
    assert_csv("question,answer\nhi,hello\n", "[[\"question\",\"answer\"],[\"hi\",\"hello\"]]");
    assert_csv("question,answer\r\nhi,hello\r\n", "[[\"question\",\"answer\"],[\"hi\",\"hello\"]]");
    /* no line break after the last record */
    assert_csv("a,b\nc,d", "[[\"a\",\"b\"],[\"c\",\"d\"]]");
    /* spaces belong to the field (RFC 4180) */
    assert_csv(" a , b \n", "[[\" a \",\" b \"]]");
}

static void csv_reads_quoted_fields_with_commas_quotes_and_line_breaks(void **state)
{
    (void)state;
    assert_csv("\"a,b\",\"say \"\"hi\"\"\"\n", "[[\"a,b\",\"say \\\"hi\\\"\"]]");
    assert_csv("\"line 1\nline 2\",x\n", "[[\"line 1\\nline 2\",\"x\"]]");
    assert_csv("\"crlf\r\ninside\",x\r\n", "[[\"crlf\\r\\ninside\",\"x\"]]");
    assert_csv("\"\",\"\"\"\"\n", "[[\"\",\"\\\"\"]]");
    assert_csv("\"only\"", "[[\"only\"]]");
}

static void csv_keeps_empty_fields_and_skips_blank_lines(void **state)
{
    (void)state;
    assert_csv(",,\n", "[[\"\",\"\",\"\"]]");
    assert_csv("a,\n", "[[\"a\",\"\"]]");
    assert_csv("\n\na\n\r\n\nb\n\n", "[[\"a\"],[\"b\"]]");
    assert_csv("", "[]");
    assert_csv("\n\n", "[]");
}

static void csv_skips_a_byte_order_mark(void **state)
{
    (void)state;
    assert_csv("\xEF\xBB\xBFquestion,answer\n", "[[\"question\",\"answer\"]]");
}

static void csv_counts_lines_across_quoted_line_breaks(void **state)
{
    const char *text = "h1,h2\n\"a\nb\nc\",x\n\ny,z\n";
    struct kb_csv c;
    struct sb_errbuf eb = {{0}};
    json_t *rec;
    size_t lines[3];
    (void)state;

    kb_csv_init(&c, text, strlen(text));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(kb_csv_next(&c, &rec, &eb), SB_OK);
        assert_non_null(rec);
        lines[i] = c.rec_line;
        json_decref(rec);
    }
    assert_int_equal(kb_csv_next(&c, &rec, &eb), SB_OK);
    assert_null(rec);
    assert_int_equal(lines[0], 1);
    assert_int_equal(lines[1], 2);
    assert_int_equal(lines[2], 6);
}

static void expect_csv_error(const char *text, size_t want_line, const char *msg_part)
{
    struct kb_csv c;
    struct sb_errbuf eb = {{0}};
    json_t *rec = NULL;
    enum sb_err rc = SB_OK;

    kb_csv_init(&c, text, strlen(text));
    while (rc == SB_OK) {
        rc = kb_csv_next(&c, &rec, &eb);
        if (rc == SB_OK && !rec) fail_msg("CSV [%s] was accepted", text);
        json_decref(rec);
        rec = NULL;
    }
    assert_int_equal(rc, SB_ERR_INVAL);
    if (!strstr(eb.msg, msg_part)) fail_msg("message [%s] lacks [%s]", eb.msg, msg_part);
    assert_int_equal(c.rec_line, want_line);
}

static void csv_errors_name_the_line(void **state)
{
    (void)state;
    expect_csv_error("a,b\nc,\"open\nstill open\n", 2, "not closed");
    expect_csv_error("a,b\nc,d\ne,f\"g\n", 3, "quote inside an unquoted field");
    expect_csv_error("a,b\n\"q\"x,d\n", 2, "after a closing quote");
}

/* ---- slugs ---- */

static void slug_from_title(const char *title, const char *want)
{
    char out[SB_KB_MAX_SLUG + 1];
    kb_slug_from_title(title, out, sizeof(out));
    assert_string_equal(out, want);
}

static void slugs_fold_to_ascii_words_joined_by_dashes(void **state)
{
    (void)state;
    slug_from_title("How do I track my order?", "how-do-i-track-my-order");
    slug_from_title("  Ação & reembolso: já!  ", "acao-reembolso-ja");
    slug_from_title("Cum îmi resetez parola?", "cum-imi-resetez-parola");
    slug_from_title("Ștergeți-mi datele", "stergeti-mi-datele");
    slug_from_title("Top 10 FAQ's", "top-10-faq-s");
    slug_from_title("", "faq");
    slug_from_title("???", "faq");
    slug_from_title("日本語", "faq");
}

static void long_titles_give_slugs_cut_at_a_dash(void **state)
{
    char title[600], out[SB_KB_MAX_SLUG + 1];
    size_t n = 0;
    (void)state;

    while (n + 12 < sizeof(title))
        n += (size_t)snprintf(title + n, sizeof(title) - n, "question %zu ", n);
    kb_slug_from_title(title, out, sizeof(out));
    assert_true(strlen(out) <= SB_KB_MAX_SLUG);
    assert_true(strlen(out) > SB_KB_MAX_SLUG / 2);
    assert_int_not_equal(out[strlen(out) - 1], '-');
    /* cut between words: the slug is a prefix of the full one, then a '-' */
    kb_slug_from_title("abcdefghij", out, 6);
    assert_string_equal(out, "abcde");
}

/* ---- files against a database ---- */

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

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    struct sb_errbuf eb = {{0}};
    char db[128];

    snprintf(e->dir, sizeof(e->dir), "/tmp/sb-kbimp-test-XXXXXX");
    if (!mkdtemp(e->dir)) return -1;
    snprintf(db, sizeof(db), "%s/test.db", e->dir);
    if (sb_store_open(db, "NORMAL", &e->st, &eb) || sb_kb_open(sb_store_db(e->st), &e->kb, &eb)) {
        fprintf(stderr, "env: %s\n", eb.msg);
        return -1;
    }
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    sb_kb_close(e->kb);
    sb_store_close(e->st);
    nftw(e->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(e);
    return 0;
}

static void put(struct env *e, const char *rel, const char *text, size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", e->dir, rel);
    for (char *p = strchr(path + strlen(e->dir) + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        mkdir(path, 0700);
        *p = '/';
    }
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void puts_file(struct env *e, const char *rel, const char *text)
{
    put(e, rel, text, strlen(text));
}

static int count(struct env *e, const char *sql)
{
    sqlite3_stmt *s;
    int n = -1;
    assert_int_equal(sqlite3_prepare_v2(sb_store_db(e->st), sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return n;
}

static json_t *article(struct env *e, const char *locale, const char *slug)
{
    int64_t id = sb_kb_article_id(e->kb, locale, slug);
    return id ? sb_kb_article_json(e->kb, id) : NULL;
}

static enum sb_err import(struct env *e, const char *rel, struct sb_kb_import_stats *s,
                          struct sb_errbuf *eb)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", e->dir, rel);
    return sb_kb_import_tree(e->kb, path, NULL, s, eb);
}

static void front_matter_accepts_crlf_bom_and_nulls_and_keeps_the_body(void **state)
{
    struct env *e = *state;
    struct sb_kb_import_stats s = {0};
    struct sb_errbuf eb = {{0}};
    json_t *a;

    puts_file(e, "kb/en/crlf.md",
              "\xEF\xBB\xBF---\r\ntitle: \"Windows file\"\r\nslug: crlf\r\nlocale: en\r\n"
              "summary:\r\ntags: ~\r\n---\r\nBody\r\nwith CRLF\r\n");
    puts_file(e, "kb/en/empty.md", "---\ntitle: Empty body\nslug: empty\nlocale: en\n---\n");
    puts_file(e, "kb/en/dashes.md",
              "---\ntitle: Dashes\nslug: dashes\nlocale: en\nstatus: published\n---\n"
              "---\n\nA rule above, a fence below.\n---\n");
    assert_int_equal(import(e, "kb", &s, &eb), SB_OK);
    assert_int_equal(s.added, 3);

    a = article(e, "en", "crlf");
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "body")), "Body\r\nwith CRLF\r\n");
    assert_string_equal(json_string_value(json_object_get(a, "summary")), "");
    assert_string_equal(json_string_value(json_object_get(a, "status")), "draft");
    assert_string_equal(json_string_value(json_object_get(a, "group")), "crlf");
    assert_int_equal(json_array_size(json_object_get(a, "tags")), 0);
    json_decref(a);
    a = article(e, "en", "empty");
    assert_string_equal(json_string_value(json_object_get(a, "body")), "");
    json_decref(a);
    a = article(e, "en", "dashes");
    assert_string_equal(json_string_value(json_object_get(a, "body")),
                        "---\n\nA rule above, a fence below.\n---\n");
    json_decref(a);
}

static void expect_file_error(struct env *e, const char *text, size_t len, const char *want)
{
    struct sb_kb_import_stats s = {0};
    struct sb_errbuf eb = {{0}};
    char root[128];
    enum sb_err rc;

    snprintf(root, sizeof(root), "%s/bad", e->dir);
    puts_file(e, "bad/en/a-good.md", "---\ntitle: Good\nslug: good\nlocale: en\n---\n");
    put(e, "bad/en/b.md", text, len);
    rc = sb_kb_import_tree(e->kb, root, NULL, &s, &eb);
    assert_true(rc == SB_ERR_INVAL || rc == SB_ERR_LIMIT);
    if (!strstr(eb.msg, want)) fail_msg("message [%s] lacks [%s]", eb.msg, want);
    assert_int_equal(count(e, "SELECT count(*) FROM kb_articles"), 0);
    assert_int_equal(count(e, "SELECT count(*) FROM kb_revisions"), 0);
    assert_int_equal(sqlite3_get_autocommit(sb_store_db(e->st)), 1);
}

#define BAD(text, want) expect_file_error(e, text, sizeof(text) - 1, want)

static void file_errors_name_file_line_and_field(void **state)
{
    struct env *e = *state;
    BAD("---\nslug: b\nlocale: en\n---\n", "bad/en/b.md: title: is required");
    BAD("---\ntitle: \"open\nslug: b\nlocale: en\n---\n", "b.md:2: title: YAML:");
    BAD("---\ntitle: B\nslug: b\nlocale: en\nsummary: \"caf\xC3\"\n---\n",
        "b.md:5: summary: is not valid UTF-8");
    BAD("---\ntitle: B\nslug: b\nlocale: en\n---\nok\n\xFF\n", "b.md:7: body: is not valid UTF-8");
    BAD("---\ntitle: B\nslug: b\nlocale: xx\n---\n", "b.md:4: locale: 'xx' is not one of");
    BAD("---\ntitle: B <script>\nslug: b\nlocale: en\n---\n", "b.md:2: title: HTML");
    BAD("---\ntitle: B\nslug: good\nlocale: en\n---\n",
        "b.md:3: slug: 'good' in locale en is also used by");
    BAD("---\ntitle: B\nslug: b\nlocale: en\ncolour: red\n---\n", "b.md:5: unknown key 'colour'");
    BAD("---\ntitle: B\ntitle: C\nslug: b\nlocale: en\n---\n", "b.md:3: title: is given twice");
    BAD("---\ntitle: B\nslug: b\nlocale: en\ntags: orders\n---\n",
        "b.md:5: tags: must be a list of text");
    BAD("---\ntitle: B\nslug: b\nlocale: en\ntags: [a, '']\n---\n", "b.md:5: tags[1]:");
    BAD("title: B\n", "b.md:1: must start with a '---' line");
    BAD("---\ntitle: B\n", "b.md: the front matter has no closing '---' line");
}

static void file_over_the_caps_is_refused(void **state)
{
    struct env *e = *state;
    size_t n = (1 << 20) + 10;
    char *big = malloc(n);
    const char *head = "---\ntitle: B\nslug: b\nlocale: en\n---\n";

    memcpy(big, head, strlen(head));
    memset(big + strlen(head), 'a', n - strlen(head));
    expect_file_error(e, big, SB_KB_MAX_BODY + 100, "b.md:6: body: is over 65536 bytes");
    expect_file_error(e, big, n, "b.md: larger than 1048576 bytes");
    free(big);
}

static void categories_take_the_locale_of_the_articles_beside_them(void **state)
{
    struct env *e = *state;
    struct sb_kb_import_stats s = {0};
    struct sb_errbuf eb = {{0}};

    /* folder "help" is no locale: the articles say pt-BR */
    puts_file(e, "kb/help/a.md", "---\ntitle: A\nslug: a\nlocale: pt-BR\ncategory: orders\n---\n");
    puts_file(e, "kb/help/_categories.yaml",
              "orders:\n  name: \"Pedidos\"\n  description: Rastreio\n  position: 2\n");
    /* folder named after a locale, no articles in it */
    puts_file(e, "kb/ro/_categories.yaml", "\"orders\":\n  name: Comenzi\n");
    assert_int_equal(import(e, "kb", &s, &eb), SB_OK);
    assert_int_equal(s.categories, 2);
    assert_int_equal(count(e, "SELECT count(*) FROM kb_categories WHERE locale='pt-BR' AND "
                              "name='Pedidos' AND description='Rastreio' AND position=2"),
                     1);
    assert_int_equal(count(e, "SELECT count(*) FROM kb_categories WHERE locale='ro' AND "
                              "name='Comenzi' AND position=0"),
                     1);
    /* again: nothing to save */
    assert_int_equal(import(e, "kb", &s, &eb), SB_OK);
    assert_int_equal(s.categories, 0);
    assert_int_equal(s.unchanged, 1);

    /* no locale to be found */
    puts_file(e, "kb2/misc/_categories.yaml", "x:\n  name: X\n");
    assert_int_equal(import(e, "kb2", &s, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "misc/_categories.yaml: locale:"));
    puts_file(e, "kb3/en/_categories.yaml", "x:\n  name: X\n  position: first\n");
    assert_int_equal(import(e, "kb3", &s, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "_categories.yaml:3: x.position: must be a whole number"));
}

/* A title made to break naive YAML, exported and imported into a second
 * database: the same article comes back. */
static void export_then_import_gives_the_same_articles(void **state)
{
    struct env *e = *state;
    struct sb_kb_import_stats s = {0};
    struct sb_kb_export_stats x = {0};
    struct sb_errbuf eb = {{0}};
    struct sb_store *st2 = NULL;
    struct sb_kb *kb2 = NULL;
    char path[256], db2[256];
    json_t *tags = json_pack("[s, s]", "a: b", "#c");
    json_t *examples = json_pack("[s, s]", "  \"why?\"  ", "ação");
    struct sb_kb_article a = {.slug = "tricky",
                              .locale = "en",
                              .group = "tricky-group",
                              .title = " \"Quotes\": #1 - yes? ação ",
                              .summary = "line 1\nline 2\ttab \\ back",
                              .body = "",
                              .category = "orders",
                              .status = "archived",
                              .tags = tags,
                              .examples = examples,
                              .author = "test"};
    struct sb_kb_saved saved;
    json_t *before, *after;

    assert_int_equal(sb_kb_save(e->kb, &a, 0, 0, &saved, &eb), SB_OK);
    assert_int_equal(sb_kb_category_set(e->kb, "en", "orders", "Orders: \"all\"", "", 3, &eb),
                     SB_OK);
    snprintf(path, sizeof(path), "%s/out", e->dir);
    assert_int_equal(sb_kb_export_dir(e->kb, path, NULL, NULL, &x, &eb), SB_OK);
    assert_int_equal(x.articles, 1);
    assert_int_equal(x.category_files, 1);
    assert_int_equal(x.written, 2);
    /* exporting again rewrites nothing */
    assert_int_equal(sb_kb_export_dir(e->kb, path, NULL, NULL, &x, &eb), SB_OK);
    assert_int_equal(x.written, 0);

    snprintf(db2, sizeof(db2), "%s/second.db", e->dir);
    assert_int_equal(sb_store_open(db2, "NORMAL", &st2, &eb), SB_OK);
    assert_int_equal(sb_kb_open(sb_store_db(st2), &kb2, &eb), SB_OK);
    assert_int_equal(sb_kb_import_tree(kb2, path, NULL, &s, &eb), SB_OK);
    assert_int_equal(s.added, 1);
    before = article(e, "en", "tricky");
    after = sb_kb_article_json(kb2, sb_kb_article_id(kb2, "en", "tricky"));
    assert_non_null(after);
    for (const char *const *k = (const char *const[]){"title", "summary", "body", "category",
                                                      "status", "group", "tags", "examples", NULL};
         *k; k++)
        if (!json_equal(json_object_get(before, *k), json_object_get(after, *k)))
            fail_msg("%s differs after the round trip", *k);
    json_decref(before);
    json_decref(after);
    /* and the export of an import of the export is unchanged */
    assert_int_equal(sb_kb_import_tree(e->kb, path, NULL, &s, &eb), SB_OK);
    assert_int_equal(s.unchanged, 1);
    assert_int_equal(s.categories, 0);
    sb_kb_close(kb2);
    sb_store_close(st2);
    json_decref(tags);
    json_decref(examples);
}

/* ---- FAQ ---- */

static enum sb_err faq(struct env *e, const char *rel, struct sb_kb_import_stats *s,
                       struct sb_errbuf *eb)
{
    struct sb_kb_import_opts o = {.locale = "en", .category = "general"};
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", e->dir, rel);
    return sb_kb_import_faq(e->kb, path, &o, s, eb);
}

static void faq_rows_become_published_articles_and_rerun_changes_nothing(void **state)
{
    struct env *e = *state;
    struct sb_kb_import_stats s = {0};
    struct sb_errbuf eb = {{0}};
    json_t *a;

    puts_file(e, "faq.csv",
              "question,answer,tags\n"
              "Where is my order?,\"Track it in My account, under Orders.\",\"orders, tracking\"\n"
              "\"Can I pay with \"\"cash\"\"?\",\"No.\nOnly cards.\",\n");
    assert_int_equal(faq(e, "faq.csv", &s, &eb), SB_OK);
    assert_int_equal(s.added, 2);
    a = article(e, "en", "where-is-my-order");
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "status")), "published");
    assert_string_equal(json_string_value(json_object_get(a, "summary")),
                        "Track it in My account, under Orders.");
    assert_string_equal(json_string_value(json_object_get(a, "body")),
                        "Track it in My account, under Orders.");
    assert_string_equal(json_string_value(json_object_get(a, "category")), "general");
    assert_string_equal(json_string_value(json_array_get(json_object_get(a, "examples"), 0)),
                        "Where is my order?");
    assert_string_equal(json_string_value(json_array_get(json_object_get(a, "tags"), 1)),
                        "tracking");
    json_decref(a);
    a = article(e, "en", "can-i-pay-with-cash");
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "body")), "No.\nOnly cards.");
    json_decref(a);

    assert_int_equal(faq(e, "faq.csv", &s, &eb), SB_OK);
    assert_int_equal(s.added + s.changed, 0);
    assert_int_equal(s.unchanged, 2);
    assert_int_equal(count(e, "SELECT count(*) FROM kb_revisions"), 2);
}

static void faq_slug_taken_by_another_article_gets_a_number(void **state)
{
    struct env *e = *state;
    struct sb_kb_import_stats s = {0};
    struct sb_errbuf eb = {{0}};
    struct sb_kb_article other = {
        .slug = "opening-hours", .locale = "en", .title = "Our opening hours", .status = "draft"};
    struct sb_kb_saved saved;
    json_t *a;

    assert_int_equal(sb_kb_save(e->kb, &other, 0, 0, &saved, &eb), SB_OK);
    puts_file(e, "faq.jsonl",
              "{\"question\": \"When are you open?\", \"title\": \"Opening hours\","
              " \"answer\": \"9 to 5.\", \"examples\": [\"hours?\", \"When are you open?\"]}\n"
              "\n"
              "{\"question\": \"Where are you?\", \"answer\": \"Main street.\","
              " \"slug\": \"opening-hours-2\"}\n");
    assert_int_equal(faq(e, "faq.jsonl", &s, &eb), SB_OK);
    assert_int_equal(s.added, 2);
    /* -2 is taken by the second row's own slug: the derived one gets -3 */
    a = article(e, "en", "opening-hours-3");
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "title")), "Opening hours");
    assert_int_equal(json_array_size(json_object_get(a, "examples")), 2);
    json_decref(a);
    a = article(e, "en", "opening-hours");
    assert_string_equal(json_string_value(json_object_get(a, "title")), "Our opening hours");
    json_decref(a);
    /* the re-run finds its own articles again */
    assert_int_equal(faq(e, "faq.jsonl", &s, &eb), SB_OK);
    assert_int_equal(s.unchanged, 2);
    assert_int_equal(count(e, "SELECT count(*) FROM kb_articles"), 3);
}

static void expect_faq_error(struct env *e, const char *name, const char *text, const char *want)
{
    struct sb_kb_import_stats s = {0};
    struct sb_errbuf eb = {{0}};

    puts_file(e, name, text);
    assert_int_equal(faq(e, name, &s, &eb), SB_ERR_INVAL);
    if (!strstr(eb.msg, want)) fail_msg("message [%s] lacks [%s]", eb.msg, want);
    assert_int_equal(count(e, "SELECT count(*) FROM kb_articles"), 0);
}

static void faq_errors_name_the_line_and_column(void **state)
{
    struct env *e = *state;
    expect_faq_error(e, "a.csv", "question,answer\nq1,a1\nq2,\n", "a.csv:3: answer: is required");
    expect_faq_error(e, "b.csv", "question,answer\n\"q1\nstill q1\",a1\n,a2\n",
                     "b.csv:4: question: is required");
    expect_faq_error(e, "c.csv", "question,answer\nq1,a1,extra\n",
                     "c.csv:2: CSV: 3 fields where the header has 2");
    expect_faq_error(e, "d.csv", "question,reply\n", "d.csv:1: 'reply' is not a column");
    expect_faq_error(e, "e.csv", "question,answer\nq1,\"a1\n", "e.csv:2: CSV: a quoted field");
    expect_faq_error(e, "f.csv", "question,answer\nq1,a1\nq1,a2\n",
                     "f.csv:3: title: is the same as on line 2");
    expect_faq_error(e, "g.csv", "question,answer\nq1,<b>bold</b>\n",
                     "g.csv:2: answer: HTML is not allowed");
    expect_faq_error(e, "h.jsonl", "{\"question\": \"q\", \"answer\": \"a\"}\n{\"question\": 1}\n",
                     "h.jsonl:2: question: must be text");
    expect_faq_error(e, "i.jsonl", "{\"question\": \"q\", \"answer\": \"a\", \"why\": 1}\n",
                     "i.jsonl:1: unknown key 'why'");
    expect_faq_error(e, "j.jsonl", "{\"question\": \"q\",\n", "j.jsonl:1: JSON:");
    expect_faq_error(e, "k.csv", "question,answer,slug\nq1,a1,same\nq2,a2,same\n",
                     "k.csv:3: slug: 'same' in locale en is also used by ");
}

#define TS(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(yaml_quote_round_trips_tricky_titles),
        cmocka_unit_test(yaml_quote_round_trips_every_ascii_byte),
        cmocka_unit_test(yaml_quote_round_trips_long_text),
        cmocka_unit_test(yaml_quote_escapes_only_what_it_must),
        cmocka_unit_test(yaml_quote_refuses_invalid_utf8),
        cmocka_unit_test(csv_reads_plain_records_with_lf_or_crlf),
        cmocka_unit_test(csv_reads_quoted_fields_with_commas_quotes_and_line_breaks),
        cmocka_unit_test(csv_keeps_empty_fields_and_skips_blank_lines),
        cmocka_unit_test(csv_skips_a_byte_order_mark),
        cmocka_unit_test(csv_counts_lines_across_quoted_line_breaks),
        cmocka_unit_test(csv_errors_name_the_line),
        cmocka_unit_test(slugs_fold_to_ascii_words_joined_by_dashes),
        cmocka_unit_test(long_titles_give_slugs_cut_at_a_dash),
        TS(front_matter_accepts_crlf_bom_and_nulls_and_keeps_the_body),
        TS(file_errors_name_file_line_and_field),
        TS(file_over_the_caps_is_refused),
        TS(categories_take_the_locale_of_the_articles_beside_them),
        TS(export_then_import_gives_the_same_articles),
        TS(faq_rows_become_published_articles_and_rerun_changes_nothing),
        TS(faq_slug_taken_by_another_article_gets_a_number),
        TS(faq_errors_name_the_line_and_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
