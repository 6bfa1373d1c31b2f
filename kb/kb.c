/*
 * kb.c - the knowledge-base handle, article upsert and the index of
 * published articles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "sb_util.h"

static const char *const kb_sql[KB__COUNT] = {
    [KB_FIND] = "SELECT id, title, summary, body, category, tags, examples, status"
                " FROM kb_articles WHERE locale=?1 AND slug=?2",
    [KB_INSERT] = "INSERT INTO kb_articles(slug, locale, title, summary, body, category, tags,"
                  " examples, status, created_at, updated_at)"
                  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
    [KB_UPDATE] = "UPDATE kb_articles SET title=?3, summary=?4, body=?5, category=?6, tags=?7,"
                  " examples=?8, status=?9, updated_at=?10 WHERE locale=?2 AND slug=?1",
    [KB_FTS_DELETE] = "DELETE FROM kb_fts WHERE rowid=?1",
    [KB_FTS_INSERT] = "INSERT INTO kb_fts(rowid, title, summary, body, examples, locale)"
                      " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    /* Ranked by the table's rank (BM25 with column weights, see the
     * migration) inside FTS5, so only the best rows reach the join and the
     * coverage function. Coverage weights: title and examples 1, summary
     * 0.7, body 0.4. The locale filter takes the customer's locale and the
     * other regions of its language; kb_search.c puts the exact one first. */
    [KB_SEARCH] = "SELECT a.id, a.slug, a.locale, a.title, a.summary, m.score, m.coverage"
                  " FROM (SELECT rowid AS id, -rank AS score,"
                  "         sb_coverage(kb_fts, 1.0, 0.7, 0.4, 1.0) AS coverage"
                  "       FROM kb_fts WHERE kb_fts MATCH ?1"
                  "         AND (locale = ?2 OR locale = ?3 OR locale LIKE ?3 || '-%')"
                  "       ORDER BY rank LIMIT ?4) AS m"
                  " JOIN kb_articles a ON a.id = m.id",
    [KB_DATA_VERSION] = "PRAGMA data_version",
    [KB_LIST] = "SELECT slug, locale, title, status, updated_at FROM kb_articles"
                " WHERE (?1 IS NULL OR locale = ?1) AND (?2 IS NULL OR status = ?2)"
                " ORDER BY locale, slug LIMIT 5000",
    [KB_GET] = "SELECT slug, locale, title, summary, body, category FROM kb_articles"
               " WHERE slug=?1 AND status='published' AND (locale=?2 OR locale=?3"
               "   OR locale LIKE ?3 || '-%')"
               " ORDER BY locale=?2 DESC, locale=?3 DESC LIMIT 1",
};

enum sb_err sb_kb_open(sqlite3 *db, struct sb_kb **out, struct sb_errbuf *eb)
{
    struct sb_kb *kb = calloc(1, sizeof(*kb));
    enum sb_err rc;

    if (!kb) return SB_ERR_NOMEM;
    kb->db = db;
    rc = kb_register_functions(db);
    if (rc) {
        sb_fail(eb, rc, "kb: cannot register FTS5 functions: %s", sqlite3_errmsg(db));
        goto fail;
    }
    for (int i = 0; i < KB__COUNT; i++) {
        if (sqlite3_prepare_v3(db, kb_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &kb->stmt[i], NULL) !=
            SQLITE_OK) {
            rc = sb_fail(eb, SB_ERR_DB, "kb: prepare %d: %s", i, sqlite3_errmsg(db));
            goto fail;
        }
    }
    *out = kb;
    return SB_OK;
fail:
    sb_kb_close(kb);
    return rc;
}

void sb_kb_close(struct sb_kb *kb)
{
    if (!kb) return;
    kb_index_free(kb->index);
    for (int i = 0; i < KB__COUNT; i++)
        sqlite3_finalize(kb->stmt[i]);
    free(kb);
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static bool col_eq(sqlite3_stmt *s, int col, const char *v)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    return strcmp(t ? t : "", v) == 0;
}

/* Example questions go into one FTS column, one per line. */
static char *join_lines(json_t *arr)
{
    struct sb_buf b;
    size_t i;
    json_t *v;

    sb_buf_init(&b, 1 << 20);
    sb_buf_append(&b, "", 0);
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v)) continue;
        if (b.len) sb_buf_append(&b, "\n", 1);
        sb_buf_append(&b, json_string_value(v), json_string_length(v));
    }
    return b.data;
}

static enum sb_err step(struct sb_kb *kb, sqlite3_stmt *s, struct sb_errbuf *eb)
{
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r != SQLITE_DONE) return sb_fail(eb, SB_ERR_DB, "kb: %s", sqlite3_errmsg(kb->db));
    return SB_OK;
}

enum sb_err sb_kb_upsert(struct sb_kb *kb, const struct sb_kb_article *a, enum sb_kb_change *change,
                         struct sb_errbuf *eb)
{
    char *tags = NULL, *examples = NULL, *example_lines = NULL;
    sqlite3_stmt *s = kb->stmt[KB_FIND];
    const char *status = a->status ? a->status : "draft";
    int64_t id = 0;
    enum sb_err rc = SB_OK;
    json_t *empty = json_array();

    tags = json_dumps(a->tags ? a->tags : empty, JSON_COMPACT);
    examples = json_dumps(a->examples ? a->examples : empty, JSON_COMPACT);
    example_lines = join_lines(a->examples ? a->examples : empty);
    if (!tags || !examples || !example_lines) {
        rc = SB_ERR_NOMEM;
        goto out;
    }

    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, a->locale, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, a->slug, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW) {
        id = sqlite3_column_int64(s, 0);
        *change = (col_eq(s, 1, a->title) && col_eq(s, 2, or_empty(a->summary)) &&
                   col_eq(s, 3, or_empty(a->body)) && col_eq(s, 4, or_empty(a->category)) &&
                   col_eq(s, 5, tags) && col_eq(s, 6, examples) && col_eq(s, 7, status))
                      ? SB_KB_UNCHANGED
                      : SB_KB_CHANGED;
    } else {
        *change = SB_KB_ADDED;
    }
    sqlite3_reset(s);
    if (*change == SB_KB_UNCHANGED) goto out;
    kb->index_stale = true;

    s = kb->stmt[*change == SB_KB_ADDED ? KB_INSERT : KB_UPDATE];
    sqlite3_bind_text(s, 1, a->slug, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, a->locale, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, a->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, or_empty(a->summary), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, or_empty(a->body), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, or_empty(a->category), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, tags, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, examples, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 9, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 10, sb_now_ms());
    rc = step(kb, s, eb);
    if (rc) goto out;
    if (*change == SB_KB_ADDED) id = sqlite3_last_insert_rowid(kb->db);

    s = kb->stmt[KB_FTS_DELETE];
    sqlite3_bind_int64(s, 1, id);
    rc = step(kb, s, eb);
    if (rc || strcmp(status, "published") != 0) goto out;

    s = kb->stmt[KB_FTS_INSERT];
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, a->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, or_empty(a->summary), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, or_empty(a->body), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, example_lines, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, a->locale, -1, SQLITE_STATIC);
    rc = step(kb, s, eb);
out:
    free(tags);
    free(examples);
    free(example_lines);
    json_decref(empty);
    return rc;
}

/* "pt-BR" -> "pt"; the language part is what the fallback matches on. */
void kb_language_of(const char *locale, char *lang, size_t cap)
{
    size_t n = strcspn(locale, "-_");
    if (n >= cap) n = cap - 1;
    memcpy(lang, locale, n);
    lang[n] = '\0';
}

json_t *sb_kb_article_get(struct sb_kb *kb, const char *locale, const char *slug)
{
    sqlite3_stmt *s = kb->stmt[KB_GET];
    json_t *a = NULL;
    char lang[16];

    kb_language_of(locale, lang, sizeof(lang));
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, slug, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, locale, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, lang, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW) {
        static const char *const keys[] = {"slug",    "locale", "title",
                                           "summary", "body",   "category"};
        a = json_object();
        for (int i = 0; i < 6; i++)
            json_object_set_new(a, keys[i], json_string((const char *)sqlite3_column_text(s, i)));
    }
    sqlite3_reset(s);
    return a;
}

json_t *sb_kb_list(struct sb_kb *kb, const char *locale, const char *status)
{
    sqlite3_stmt *s = kb->stmt[KB_LIST];
    json_t *arr = json_array();

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (locale) sqlite3_bind_text(s, 1, locale, -1, SQLITE_STATIC);
    if (status) sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:I}", "slug",
                                             (const char *)sqlite3_column_text(s, 0), "locale",
                                             (const char *)sqlite3_column_text(s, 1), "title",
                                             (const char *)sqlite3_column_text(s, 2), "status",
                                             (const char *)sqlite3_column_text(s, 3), "updated_at",
                                             (json_int_t)sqlite3_column_int64(s, 4)));
    }
    sqlite3_reset(s);
    return arr;
}
