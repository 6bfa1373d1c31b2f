/*
 * kb_public.c - the reads of the public help center: a locale's categories
 * with their published articles, and the article to show for a (locale,
 * slug) with the fallback through its translations.
 *
 * Uses the store's connection (same thread) with statements of its own,
 * prepared on first use and kept in kb->pub until sb_kb_close(), so a
 * handle that never serves the help center (the CLI) prepares none. Only
 * published articles ever leave this file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kb_int.h"
#include "words.h"

#define PUB_MEMBERS_MAX 100 /* translations of one article looked at */

enum pub_stmt {
    PUB_CATEGORIES,
    PUB_CATEGORY_KNOWN,
    PUB_ARTICLE,
    PUB_MEMBERS,
    PUB_BY_ID,
    PUB_TRANSLATIONS,
    PUB__COUNT
};

struct kb_public {
    sqlite3_stmt *stmt[PUB__COUNT];
};

/* The article columns (see article_json) and the category name: the
 * visitor's locale's name first (?1), else the article's own locale's. */
#define PUB_ARTICLE_COLS                                                                           \
    "a.id, a.slug, a.locale, a.group_key, a.title, a.summary, a.body, a.category, a.updated_at,"   \
    " COALESCE(NULLIF(c1.name, ''), NULLIF(c2.name, ''), '')"                                      \
    " FROM kb_articles a"                                                                          \
    " LEFT JOIN kb_categories c1 ON c1.locale = ?1 AND c1.slug = a.category"                       \
    " LEFT JOIN kb_categories c2 ON c2.locale = a.locale AND c2.slug = a.category"

static const char *const pub_sql[PUB__COUNT] = {
    /* Rows come grouped by category (position, then name), articles without
     * one last; the status index (status, locale) serves the filter. */
    [PUB_CATEGORIES] =
        "SELECT a.category, COALESCE(c.name, ''), COALESCE(c.description, ''), a.slug, a.title,"
        " a.summary FROM kb_articles a"
        " LEFT JOIN kb_categories c ON c.locale = a.locale AND c.slug = a.category"
        " WHERE a.status = 'published' AND a.locale = ?1 AND (?2 IS NULL OR a.category = ?2)"
        " ORDER BY a.category = '', COALESCE(c.position, 1000),"
        " COALESCE(NULLIF(c.name, ''), a.category) COLLATE NOCASE, a.category,"
        " a.title COLLATE NOCASE, a.id LIMIT 5000",
    /* A category with no article in this locale still has a page when it
     * is named here or used by a published article elsewhere. */
    [PUB_CATEGORY_KNOWN] =
        "SELECT name, description FROM kb_categories WHERE locale = ?1 AND slug = ?2"
        " UNION ALL SELECT '', '' FROM (SELECT 1 FROM kb_articles"
        "   WHERE category = ?2 AND status = 'published' LIMIT 1) LIMIT 1",
    [PUB_ARTICLE] = "SELECT " PUB_ARTICLE_COLS
                    " WHERE a.locale = ?1 AND a.slug = ?2 AND a.status = 'published'",
    /* The published members of the slug's translation group (the visitor's
     * locale's article first, even a draft, since its group says what it
     * translates), by locale name: find_translation picks one by the rule. */
    [PUB_MEMBERS] =
        "SELECT locale, id FROM kb_articles WHERE status = 'published' AND group_key = ("
        "   SELECT g.group_key FROM kb_articles g WHERE g.slug = ?2"
        "   ORDER BY g.locale = ?1 DESC, g.status = 'published' DESC, g.id LIMIT 1)"
        " ORDER BY locale, id LIMIT 100", /* PUB_MEMBERS_MAX */
    [PUB_BY_ID] = "SELECT " PUB_ARTICLE_COLS " WHERE a.id = ?2 AND a.status = 'published'",
    /* parenthesised: clang takes two adjacent literals in an array for a missing comma */
    [PUB_TRANSLATIONS] =
        ("SELECT locale, slug, title FROM kb_articles"
         " WHERE group_key = ?1 AND status = 'published' ORDER BY locale LIMIT 100"),
};

void kb_public_free(struct kb_public *pub)
{
    if (!pub) return;
    for (int i = 0; i < PUB__COUNT; i++)
        sqlite3_finalize(pub->stmt[i]);
    free(pub);
}

/* The statement, prepared on first use and reset with no bindings; NULL
 * when it cannot be prepared (out of memory, or a schema without the
 * migrations). */
static sqlite3_stmt *pub_stmt(struct sb_kb *kb, enum pub_stmt which)
{
    sqlite3_stmt **s;

    if (!kb->pub && !(kb->pub = calloc(1, sizeof(*kb->pub)))) return NULL;
    s = &kb->pub->stmt[which];
    if (!*s && sqlite3_prepare_v3(kb->db, pub_sql[which], -1, SQLITE_PREPARE_PERSISTENT, s, NULL) !=
                   SQLITE_OK) {
        sqlite3_finalize(*s);
        *s = NULL;
        return NULL;
    }
    sqlite3_reset(*s);
    sqlite3_clear_bindings(*s);
    return *s;
}

/* Column text as a JSON string. Text is taken as stored: rows written
 * around the validation (straight into the database) must still render,
 * and the help center escapes every byte it prints anyway. */
static json_t *col_json(sqlite3_stmt *s, int col)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    return json_stringn_nocheck(t ? t : "", t ? (size_t)sqlite3_column_bytes(s, col) : 0);
}

/* Sets key to the text of col; false when out of memory. */
static bool set_col(json_t *obj, const char *key, sqlite3_stmt *s, int col)
{
    return json_object_set_new(obj, key, col_json(s, col)) == 0;
}

bool sb_kb_match_locale(const struct sb_kb *kb, const char *wish, char *out, size_t cap)
{
    int best;

    /* the fallback rule without its last resort */
    if (!wish || !*wish || !kb_locale_best(kb, wish, NULL, &best)) return false;
    snprintf(out, cap, "%s", kb->locale[best]);
    return true;
}

/* {slug, name, description, articles: []} from a PUB_CATEGORIES row. */
static json_t *category_json(sqlite3_stmt *s)
{
    json_t *cat = json_object();
    if (!cat || !set_col(cat, "slug", s, 0) || !set_col(cat, "name", s, 1) ||
        !set_col(cat, "description", s, 2) ||
        json_object_set_new(cat, "articles", json_array()) != 0) {
        json_decref(cat);
        return NULL;
    }
    return cat;
}

/* {slug, title, summary} from a PUB_CATEGORIES row. */
static json_t *list_item_json(sqlite3_stmt *s)
{
    json_t *a = json_object();
    if (!a || !set_col(a, "slug", s, 3) || !set_col(a, "title", s, 4) ||
        !set_col(a, "summary", s, 5)) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* Appends the row to list: to the last category when it is the row's,
 * else to a new one. */
static enum sb_err add_category_row(json_t *list, sqlite3_stmt *s)
{
    json_t *last = json_array_get(list, json_array_size(list) - 1);
    const char *slug = (const char *)sqlite3_column_text(s, 0);

    if (!last || strcmp(json_string_value(json_object_get(last, "slug")), slug ? slug : "") != 0) {
        last = category_json(s);
        if (json_array_append_new(list, last) != 0) return SB_ERR_NOMEM;
    }
    if (json_array_append_new(json_object_get(last, "articles"), list_item_json(s)) != 0)
        return SB_ERR_NOMEM;
    return SB_OK;
}

/* The one item of a known category without articles in locale. */
static enum sb_err empty_category(struct sb_kb *kb, const char *locale, const char *category,
                                  json_t *list)
{
    sqlite3_stmt *s = pub_stmt(kb, PUB_CATEGORY_KNOWN);
    enum sb_err rc = SB_ERR_NOT_FOUND;
    int r;

    if (!s) return SB_ERR_DB;
    sqlite3_bind_text(s, 1, locale, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, category, -1, SQLITE_STATIC);
    r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        json_t *cat = json_pack("{s:s, s:o, s:o, s:[]}", "slug", category, "name", col_json(s, 0),
                                "description", col_json(s, 1), "articles");
        rc = json_array_append_new(list, cat) == 0 ? SB_OK : SB_ERR_NOMEM;
    } else if (r != SQLITE_DONE) {
        rc = SB_ERR_DB;
    }
    sqlite3_reset(s);
    return rc;
}

enum sb_err sb_kb_public_categories(struct sb_kb *kb, const char *locale, const char *category,
                                    json_t **out)
{
    sqlite3_stmt *s = pub_stmt(kb, PUB_CATEGORIES);
    json_t *list = json_array();
    enum sb_err rc = SB_OK;
    int r;

    *out = NULL;
    if (!list) return SB_ERR_NOMEM;
    if (!s) {
        json_decref(list);
        return SB_ERR_DB;
    }
    sqlite3_bind_text(s, 1, locale, -1, SQLITE_STATIC);
    if (category) sqlite3_bind_text(s, 2, category, -1, SQLITE_STATIC);
    while (!rc && (r = sqlite3_step(s)) == SQLITE_ROW)
        rc = add_category_row(list, s);
    if (!rc && r != SQLITE_DONE) rc = SB_ERR_DB;
    sqlite3_reset(s);
    if (!rc && category && json_array_size(list) == 0)
        rc = empty_category(kb, locale, category, list);
    if (rc) {
        json_decref(list);
        return rc;
    }
    *out = list;
    return SB_OK;
}

/* The article of a PUB_ARTICLE or PUB_BY_ID row. */
static json_t *article_json(sqlite3_stmt *s)
{
    static const char *const keys[] = {NULL,    "slug",    "locale", "group",
                                       "title", "summary", "body",   "category"};
    json_t *a = json_object();

    if (!a || json_object_set_new(a, "id", json_integer(sqlite3_column_int64(s, 0))) != 0 ||
        json_object_set_new(a, "updated_at", json_integer(sqlite3_column_int64(s, 8))) != 0 ||
        !set_col(a, "category_name", s, 9)) {
        json_decref(a);
        return NULL;
    }
    for (int i = 1; i < (int)SB_ARRAY_LEN(keys); i++) {
        if (!set_col(a, keys[i], s, i)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* The published article of slug in exactly locale into *out. */
static enum sb_err find_article(struct sb_kb *kb, const char *locale, const char *slug,
                                json_t **out)
{
    sqlite3_stmt *s = pub_stmt(kb, PUB_ARTICLE);
    enum sb_err rc = SB_ERR_NOT_FOUND;
    int r;

    if (!s) return SB_ERR_DB;
    sqlite3_bind_text(s, 1, locale, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, slug, -1, SQLITE_STATIC);
    r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        *out = article_json(s);
        rc = *out ? SB_OK : SB_ERR_NOMEM;
    } else if (r != SQLITE_DONE) {
        rc = SB_ERR_DB;
    }
    sqlite3_reset(s);
    return rc;
}

/* Sets a's "translations": the published articles of its group. */
static enum sb_err add_translations(struct sb_kb *kb, json_t *a)
{
    sqlite3_stmt *s = pub_stmt(kb, PUB_TRANSLATIONS);
    json_t *list = json_array();
    enum sb_err rc = SB_OK;
    int r;

    if (!s || !list) {
        json_decref(list);
        return s ? SB_ERR_NOMEM : SB_ERR_DB;
    }
    sqlite3_bind_text(s, 1, json_string_value(json_object_get(a, "group")), -1, SQLITE_STATIC);
    while (!rc && (r = sqlite3_step(s)) == SQLITE_ROW) {
        json_t *t = json_object();
        if (!t || !set_col(t, "locale", s, 0) || !set_col(t, "slug", s, 1) ||
            !set_col(t, "title", s, 2) || json_array_append(list, t) != 0)
            rc = SB_ERR_NOMEM;
        json_decref(t);
    }
    if (!rc && r != SQLITE_DONE) rc = SB_ERR_DB;
    sqlite3_reset(s);
    if (!rc && json_object_set_new(a, "translations", list) != 0) return SB_ERR_NOMEM;
    if (rc) json_decref(list);
    return rc;
}

/* The best published translation of slug's group for locale, by the one
 * fallback rule (words.h: the locale, its language, the language's other
 * locales by name, the default locale), else the first by locale name. */
static enum sb_err find_translation(struct sb_kb *kb, const char *locale, const char *slug,
                                    json_t **out)
{
    sqlite3_stmt *m = pub_stmt(kb, PUB_MEMBERS), *s = pub_stmt(kb, PUB_BY_ID);
    char names[PUB_MEMBERS_MAX][40];
    const char *have[PUB_MEMBERS_MAX];
    sqlite3_int64 ids[PUB_MEMBERS_MAX];
    size_t n = 0, best = 0;
    enum sb_err rc = SB_ERR_NOT_FOUND;
    int r = SQLITE_DONE;

    if (!m || !s) return SB_ERR_DB;
    sqlite3_bind_text(m, 1, locale, -1, SQLITE_STATIC);
    sqlite3_bind_text(m, 2, slug, -1, SQLITE_STATIC);
    while (n < PUB_MEMBERS_MAX && (r = sqlite3_step(m)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(m, 0);
        snprintf(names[n], sizeof(names[n]), "%s", name ? name : "");
        have[n] = names[n];
        ids[n++] = sqlite3_column_int64(m, 1);
    }
    if (n < PUB_MEMBERS_MAX && r != SQLITE_DONE) rc = SB_ERR_DB;
    sqlite3_reset(m);
    if (rc == SB_ERR_DB || n == 0) return rc;
    sb_locale_chain(locale, have, n, sb_kb_default_locale(kb), &best, 1);
    sqlite3_bind_text(s, 1, locale, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, ids[best]);
    r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        *out = article_json(s);
        rc = *out ? SB_OK : SB_ERR_NOMEM;
    } else if (r != SQLITE_DONE) {
        rc = SB_ERR_DB;
    }
    sqlite3_reset(s);
    return rc;
}

enum sb_err sb_kb_public_article(struct sb_kb *kb, const char *locale, const char *slug,
                                 json_t **out)
{
    json_t *a = NULL;
    enum sb_err rc;

    *out = NULL;
    rc = find_article(kb, locale, slug, &a);
    if (rc == SB_ERR_NOT_FOUND) rc = find_translation(kb, locale, slug, &a);
    if (!rc) rc = add_translations(kb, a);
    if (rc) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return SB_OK;
}
