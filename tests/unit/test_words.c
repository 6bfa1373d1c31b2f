/*
 * test_words.c - base/words.c: the one locale fallback rule
 * (sb_locale_chain), catalogues read from a folder, a key missing in one
 * locale taken from the next along the rule, placeholders, and the
 * catalogues that must be refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "words.h"

/* ---- the rule ---- */

static const char *const have[] = {"en", "pt-BR", "pt-PT", "ro"};

/* The chain for wish as "a b c" of locale names. */
static const char *chain(const char *wish, const char *const *h, size_t n, const char *last)
{
    static char out[128];
    size_t order[8], k = sb_locale_chain(wish, h, n, last, order, 8), o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < k; i++)
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i ? " " : "", h[order[i]]);
    return out;
}

static void exact_then_language_then_en(void **state)
{
    (void)state;
    assert_string_equal(chain("pt-PT", have, 4, "en"), "pt-PT pt-BR en");
    assert_string_equal(chain("pt-BR", have, 4, "en"), "pt-BR pt-PT en");
    assert_string_equal(chain("ro", have, 4, "en"), "ro en");
    assert_string_equal(chain("en", have, 4, "en"), "en");
}

static void case_and_underscore_do_not_matter(void **state)
{
    (void)state;
    assert_string_equal(chain("pt_pt", have, 4, "en"), "pt-PT pt-BR en");
    assert_string_equal(chain("RO", have, 4, "en"), "ro en");
}

static void a_region_without_a_catalogue_takes_its_language(void **state)
{
    (void)state;
    /* pt-AO: the language's locales in the order given */
    assert_string_equal(chain("pt-AO", have, 4, "en"), "pt-BR pt-PT en");
    assert_string_equal(chain("ro-MD", have, 4, "en"), "ro en");
    /* a bare language comes before its other regions */
    static const char *const with_pt[] = {"en", "pt-BR", "pt"};
    assert_string_equal(chain("pt-PT", with_pt, 3, "en"), "pt pt-BR en");
}

static void an_unknown_language_gets_only_the_last(void **state)
{
    (void)state;
    assert_string_equal(chain("de-CH", have, 4, "en"), "en");
    assert_string_equal(chain(NULL, have, 4, "ro"), "ro");
    assert_string_equal(chain("de", have, 4, NULL), "");
    /* "p" is not the language of pt-BR */
    assert_string_equal(chain("p", have, 4, NULL), "");
}

static void the_chain_stops_at_cap(void **state)
{
    size_t order[1];
    (void)state;
    assert_int_equal(sb_locale_chain("pt-PT", have, 4, "en", order, 1), 1);
    assert_int_equal(order[0], 2);
}

static void same_language_is_the_part_before_the_region(void **state)
{
    (void)state;
    assert_true(sb_locale_same_language("pt-BR", "pt_PT"));
    assert_true(sb_locale_same_language("PT", "pt-AO"));
    assert_false(sb_locale_same_language("pt-BR", "en"));
    assert_false(sb_locale_same_language("p", "pt")); /* not a prefix match */
}

/* The table a client looks a tag up in, and then its language. */
static const char *by_table(json_t *table, const char *tag)
{
    char lang[16];
    const char *hit = json_string_value(json_object_get(table, tag));
    if (hit) return hit;
    snprintf(lang, sizeof(lang), "%.*s", (int)strcspn(tag, "-"), tag);
    return json_string_value(json_object_get(table, lang));
}

static void the_table_answers_every_tag_as_the_rule_does(void **state)
{
    static const char *const tags[] = {"en", "en-us", "pt", "pt-pt", "pt-br", "pt-ao",
                                       "ro", "ro-md", "de", "de-ch", "p",     "english"};
    static const char *const with_pt[] = {"en", "pt-PT", "pt"};
    json_t *table = sb_locale_table(have, 4);
    (void)state;
    assert_non_null(table);
    /* a key per locale and per language, lower case */
    assert_int_equal(json_object_size(table), 5);
    assert_string_equal(json_string_value(json_object_get(table, "pt-pt")), "pt-PT");
    assert_string_equal(json_string_value(json_object_get(table, "pt")), "pt-BR");
    assert_null(json_object_get(table, "pt-PT"));
    for (size_t i = 0; i < SB_ARRAY_LEN(tags); i++) {
        size_t best;
        bool some = sb_locale_chain(tags[i], have, 4, NULL, &best, 1) == 1;
        const char *got = by_table(table, tags[i]);
        if (!some) {
            assert_null(got);
            continue;
        }
        assert_non_null(got);
        assert_string_equal(got, have[best]);
    }
    json_decref(table);
    /* a bare language offered is its own answer, before its regions */
    table = sb_locale_table(with_pt, 3);
    assert_string_equal(by_table(table, "pt-br"), "pt");
    assert_string_equal(by_table(table, "pt-pt"), "pt-PT");
    json_decref(table);
}

static void pick_text_follows_the_rule(void **state)
{
    json_t *obj = json_pack("{s:s, s:s, s:s}", "ro", "ro text", "en", "en text", "pt-BR", "br");
    (void)state;
    assert_string_equal(sb_locale_pick_text(obj, "pt-PT", NULL), "br");
    assert_string_equal(sb_locale_pick_text(obj, "ro-RO", NULL), "ro text");
    assert_string_equal(sb_locale_pick_text(obj, "fr", NULL), "en text");
    /* a site's own default comes before en */
    assert_string_equal(sb_locale_pick_text(obj, "fr", "ro"), "ro text");
    assert_string_equal(sb_locale_pick_text(obj, "pt-PT", "ro"), "br");
    assert_string_equal(sb_locale_pick_text(obj, "fr", "de"), "en text");
    json_object_del(obj, "en");
    assert_null(sb_locale_pick_text(obj, "fr", NULL));
    assert_null(sb_locale_pick_text(NULL, "fr", NULL));
    json_decref(obj);
}

/* ---- catalogues from a folder ---- */

struct folder {
    char dir[64];
};

static void put(struct folder *f, const char *name, const char *text)
{
    char path[128];
    FILE *fp;
    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void folder_open(struct folder *f)
{
    snprintf(f->dir, sizeof(f->dir), "/tmp/sb-words-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
}

static void folder_close(struct folder *f, const char *const *names, size_t n)
{
    char path[128];
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", f->dir, names[i]);
        unlink(path);
    }
    rmdir(f->dir);
}

static void a_key_missing_in_a_locale_comes_from_the_next_along_the_rule(void **state)
{
    static const char *const files[] = {"en.json", "pt-BR.json", "pt-PT.json", "README.txt"};
    struct folder f;
    struct sb_words *w = NULL;
    struct sb_errbuf eb = {{0}};
    (void)state;
    folder_open(&f);
    put(&f, "en.json", "{\"a\": \"A\", \"b\": \"B\", \"c\": \"C\", \"only.en\": \"E\"}");
    put(&f, "pt-BR.json", "{\"a\": \"A-br\", \"b\": \"B-br\"}");
    put(&f, "pt-PT.json", "{\"a\": \"A-pt\"}");
    put(&f, "README.txt", "not a catalogue");
    assert_int_equal(sb_words_load(f.dir, &w, &eb), SB_OK);
    assert_string_equal(sb_words_get(w, "pt-PT", "a"), "A-pt"); /* its own */
    assert_string_equal(sb_words_get(w, "pt-PT", "b"), "B-br"); /* pt-PT -> pt-BR */
    assert_string_equal(sb_words_get(w, "pt-PT", "c"), "C");    /* -> en */
    assert_string_equal(sb_words_get(w, "pt-AO", "a"), "A-br"); /* first pt-* by name */
    assert_string_equal(sb_words_get(w, "de", "a"), "A");
    assert_null(sb_words_get(w, "en", "nowhere"));
    assert_string_equal(sb_words_text(w, "en", "nowhere"), "nowhere");
    /* without the last resort: only the locale's own language */
    assert_string_equal(sb_words_own(w, "pt-PT", "b"), "B-br");
    assert_null(sb_words_own(w, "pt-PT", "c"));
    assert_null(sb_words_own(w, "de", "a"));
    assert_string_equal(sb_words_own(w, "en-GB", "c"), "C");
    assert_null(sb_words_get(NULL, "en", "a"));

    json_t *obj = sb_words_json(w, "pt-PT", "");
    assert_string_equal(json_string_value(json_object_get(obj, "b")), "B-br");
    assert_string_equal(json_string_value(json_object_get(obj, "only.en")), "E");
    assert_int_equal(json_object_size(obj), 4);
    json_decref(obj);
    obj = sb_words_json(w, "pt-BR", "only.");
    assert_string_equal(json_string_value(json_object_get(obj, "en")), "E");
    assert_int_equal(json_object_size(obj), 1);
    json_decref(obj);
    sb_words_free(w);
    folder_close(&f, files, 4);
}

static void placeholders_are_filled_and_cut_at_the_buffer(void **state)
{
    static const char *const files[] = {"en.json"};
    struct folder f;
    struct sb_words *w = NULL;
    struct sb_errbuf eb = {{0}};
    char out[64], tiny[8];
    (void)state;
    folder_open(&f);
    put(&f, "en.json", "{\"back\": \"back {day} at {time} {unknown}{day}\"}");
    assert_int_equal(sb_words_load(f.dir, &w, &eb), SB_OK);
    const char *names[] = {"day", "time"}, *values[] = {"Monday", "09:00"};
    assert_string_equal(sb_words_format(w, "en", "back", names, values, 2, out, sizeof(out)),
                        "back Monday at 09:00 {unknown}Monday");
    assert_string_equal(sb_words_format(w, "en", "back", names, values, 2, tiny, sizeof(tiny)),
                        "back Mo");
    sb_words_free(w);
    folder_close(&f, files, 1);
}

static void bad_catalogues_are_refused(void **state)
{
    static const char *const files[] = {"en.json", "ro.json"};
    struct folder f;
    struct sb_words *w = NULL;
    struct sb_errbuf eb = {{0}};
    (void)state;
    folder_open(&f);
    put(&f, "ro.json", "{\"a\": \"A\"}");
    assert_int_equal(sb_words_load(f.dir, &w, &eb), SB_ERR_INVAL); /* no en.json */
    assert_non_null(strstr(eb.msg, "en.json"));
    put(&f, "en.json", "{\"a\": 1}");
    assert_int_equal(sb_words_load(f.dir, &w, &eb), SB_ERR_INVAL); /* not a string */
    put(&f, "en.json", "[\"a\"]");
    assert_int_equal(sb_words_load(f.dir, &w, &eb), SB_ERR_INVAL);
    put(&f, "en.json", "{\"a\": \"x\", \"a\": \"y\"}");
    assert_int_equal(sb_words_load(f.dir, &w, &eb), SB_ERR_INVAL); /* a key twice */
    assert_null(w);
    folder_close(&f, files, 2);
    assert_int_equal(sb_words_load("/nonexistent/locales", &w, &eb), SB_ERR_IO);
}

/* The catalogues the server ships: each loads, names only keys en has
 * (a typo would never show), and a nameless customer is called as before
 * the catalogues (canned responses' {{customer.name}}). */
static void the_shipped_catalogues_load_and_add_no_unknown_keys(void **state)
{
    static const char *const locales[] = {"pt-BR", "pt-PT", "ro", "es", "fr",
                                          "de",    "it",    "nl", "pl"};
    static const char *const called[][2] = {
        {"en", "there"},  {"pt-BR", "cliente"}, {"pt-PT", "cliente"}, {"es", "cliente"},
        {"ro", "client"}, {"fr", "client"},     {"de", "there"}};
    struct sb_words *w = NULL;
    struct sb_errbuf eb = {{0}};
    char path[512];
    (void)state;
    assert_int_equal(sb_words_load(SB_SOURCE_DIR "/web/locales", &w, &eb), SB_OK);
    for (size_t i = 0; i < SB_ARRAY_LEN(locales); i++) {
        json_error_t jerr;
        const char *key;
        json_t *v, *cat;
        snprintf(path, sizeof(path), "%s/web/locales/%s.json", SB_SOURCE_DIR, locales[i]);
        cat = json_load_file(path, 0, &jerr);
        assert_non_null(cat);
        json_object_foreach(cat, key, v)
        {
            if (!sb_words_get(w, "en", key)) fail_msg("%s: \"%s\" is not in en.json", path, key);
        }
        json_decref(cat);
    }
    for (size_t i = 0; i < SB_ARRAY_LEN(called); i++)
        assert_string_equal(sb_words_text(w, called[i][0], "conv.customer"), called[i][1]);
    sb_words_free(w);
}

/* The language menus (help center, widget) name each locale in itself:
 * its own catalogue's "locale.name", else its language's "language.name",
 * never another language's. */
static void locales_are_named_in_themselves(void **state)
{
    static const char *const named[][2] = {{"en", "English"},
                                           {"en-GB", "English"},
                                           {"pt-BR", "Português (Brasil)"},
                                           {"pt-PT", "Português (Portugal)"},
                                           {"pt-AO", "Português"},
                                           {"pt", "Português"},
                                           {"ro", "Română"},
                                           {"de", "Deutsch"},
                                           {"es-MX", "Español"}};
    struct sb_words *w = NULL;
    struct sb_errbuf eb = {{0}};
    (void)state;
    assert_int_equal(sb_words_load(SB_SOURCE_DIR "/web/locales", &w, &eb), SB_OK);
    for (size_t i = 0; i < SB_ARRAY_LEN(named); i++)
        assert_string_equal(sb_words_locale_name(w, named[i][0]), named[i][1]);
    assert_null(sb_words_locale_name(w, "ja")); /* no catalogue: not "English" */
    assert_null(sb_words_locale_name(NULL, "en"));
    /* a language names itself in a sentence only in its own words */
    assert_string_equal(sb_words_own(w, "pt-PT", "help.self_name"), "português");
    assert_null(sb_words_own(w, "de", "help.self_name"));
    sb_words_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_then_language_then_en),
        cmocka_unit_test(case_and_underscore_do_not_matter),
        cmocka_unit_test(a_region_without_a_catalogue_takes_its_language),
        cmocka_unit_test(an_unknown_language_gets_only_the_last),
        cmocka_unit_test(the_chain_stops_at_cap),
        cmocka_unit_test(same_language_is_the_part_before_the_region),
        cmocka_unit_test(the_table_answers_every_tag_as_the_rule_does),
        cmocka_unit_test(pick_text_follows_the_rule),
        cmocka_unit_test(a_key_missing_in_a_locale_comes_from_the_next_along_the_rule),
        cmocka_unit_test(placeholders_are_filled_and_cut_at_the_buffer),
        cmocka_unit_test(bad_catalogues_are_refused),
        cmocka_unit_test(the_shipped_catalogues_load_and_add_no_unknown_keys),
        cmocka_unit_test(locales_are_named_in_themselves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
