/*
 * kb.c - the knowledge-base handle, its statements, saving articles (with
 * a revision per change and the optimistic-concurrency check) and the
 * editor's reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "sb_util.h"

#define ARTICLE_COLS                                                                               \
    "id, slug, locale, title, summary, body, category, tags, examples, status, group_key,"         \
    " author, revision, created_at, updated_at, answer_threshold"

static const char *const kb_sql[KB__COUNT] = {
    [KB_FIND] = "SELECT id FROM kb_articles WHERE locale=?1 AND slug=?2",
    [KB_LOAD] = "SELECT " ARTICLE_COLS " FROM kb_articles WHERE id=?1",
    [KB_INSERT] = "INSERT INTO kb_articles(slug, locale, title, summary, body, category, tags,"
                  " examples, status, group_key, author, revision, created_at, updated_at,"
                  " answer_threshold)"
                  " VALUES(?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15)",
    [KB_UPDATE] = "UPDATE kb_articles SET slug=?2, locale=?3, title=?4, summary=?5, body=?6,"
                  " category=?7, tags=?8, examples=?9, status=?10, group_key=?11, author=?12,"
                  " revision=?13, updated_at=?14, answer_threshold=?15 WHERE id=?1",
    [KB_FTS_DELETE] = "DELETE FROM kb_fts WHERE rowid=?1",
    /* Each indexed column starts with char(31) locale char(31): the "sb"
     * tokenizer stems by that language (kb_fts_tokenizer.c). */
    [KB_FTS_INSERT] = "INSERT INTO kb_fts(rowid, title, summary, body, examples, locale)"
                      " VALUES(?1, char(31)||?6||char(31)||?2, char(31)||?6||char(31)||?3,"
                      " char(31)||?6||char(31)||?4, char(31)||?6||char(31)||?5, ?6)",
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
    [KB_GET] = "SELECT slug, locale, title, summary, body, category FROM kb_articles"
               " WHERE slug=?1 AND status='published' AND (locale=?2 OR locale=?3"
               "   OR locale LIKE ?3 || '-%')"
               " ORDER BY locale=?2 DESC, locale=?3 DESC LIMIT 1",
    [KB_REV_INSERT] = "INSERT INTO kb_revisions(article_id, revision, slug, title, summary, body,"
                      " category, tags, examples, status, author, note, created_at)"
                      " SELECT id, revision, slug, title, summary, body, category, tags, examples,"
                      " status, author, ?2, updated_at FROM kb_articles WHERE id=?1",
    [KB_REV_LIST] = "SELECT revision, author, note, status, title, created_at FROM kb_revisions"
                    " WHERE article_id=?1 ORDER BY revision DESC LIMIT 1000",
    [KB_REV_LOAD] = "SELECT r.article_id, r.slug, a.locale, r.title, r.summary, r.body, r.category,"
                    " r.tags, r.examples, r.status, a.group_key, r.author, r.revision,"
                    " r.created_at, r.created_at FROM kb_revisions r"
                    " JOIN kb_articles a ON a.id = r.article_id"
                    " WHERE r.article_id=?1 AND r.revision=?2",
    [KB_DELETE] = "DELETE FROM kb_articles WHERE id=?1",
    [KB_TRANSLATIONS] = "SELECT id, locale, slug, title, status FROM kb_articles"
                        " WHERE group_key=?1 ORDER BY locale LIMIT 100",
    /* Named categories and the ones articles use without a name yet. */
    [KB_CATEGORIES] = "SELECT u.slug, COALESCE(c.name, u.slug), COALESCE(c.description, ''),"
                      " COALESCE(c.position, 1000),"
                      " (SELECT COUNT(*) FROM kb_articles a WHERE a.locale=?1"
                      "    AND a.category=u.slug AND a.status='published')"
                      " FROM (SELECT slug FROM kb_categories WHERE locale=?1"
                      "       UNION SELECT category FROM kb_articles"
                      "       WHERE locale=?1 AND category<>'') AS u"
                      " LEFT JOIN kb_categories c ON c.locale=?1 AND c.slug=u.slug"
                      " ORDER BY 4, 1",
    [KB_CATEGORY_SET] = "INSERT INTO kb_categories(locale, slug, name, description, position)"
                        " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(locale, slug) DO UPDATE"
                        " SET name=excluded.name, description=excluded.description,"
                        " position=excluded.position",
    [KB_VOTE] = "INSERT INTO kb_feedback(article_id, source, helpful, conversation_id, created_at)"
                " SELECT id, ?2, ?3, ?4, ?5 FROM kb_articles WHERE id=?1",
    /* A customer's vote: only on an article the conversation was shown,
     * and only its first (kb_feedback.c says which refusal it was). */
    [KB_VOTE_SHOWN] = "INSERT INTO kb_feedback(article_id, source, helpful, conversation_id,"
                      " created_at) SELECT article_id, 'bot', ?2, conversation_id, ?3"
                      " FROM kb_shown WHERE conversation_id=?4 AND article_id=?1"
                      " AND NOT EXISTS(SELECT 1 FROM kb_feedback WHERE conversation_id=?4"
                      "   AND article_id=?1 AND source='bot')",
    /* A help-center vote: one per page view (the unique index on view). */
    [KB_VOTE_VIEW] = "INSERT OR IGNORE INTO kb_feedback(article_id, source, helpful, view, voter,"
                     " created_at) SELECT id, 'help', ?2, ?3, ?4, ?5 FROM kb_articles"
                     " WHERE id=?1 AND status='published'",
    [KB_SHOWN_ADD] = "INSERT OR IGNORE INTO kb_shown(conversation_id, article_id, created_at)"
                     " SELECT ?1, id, ?3 FROM kb_articles WHERE id=?2 AND status='published'",
    [KB_HELPFULNESS] = "SELECT a.id, a.slug, a.locale, a.title, SUM(f.helpful), SUM(1-f.helpful),"
                       " SUM(f.source='bot' AND f.helpful=1), SUM(f.source='bot' AND f.helpful=0),"
                       " SUM(f.source='help' AND f.helpful=1),"
                       " SUM(f.source='help' AND f.helpful=0),"
                       " SUM(f.source='agent' AND f.helpful=1)"
                       " FROM kb_feedback f JOIN kb_articles a ON a.id = f.article_id"
                       " WHERE (?1 IS NULL OR a.locale=?1) GROUP BY a.id"
                       " ORDER BY 6 DESC, 5 ASC, a.id LIMIT 1000",
    [KB_QUERY_LOG] = "INSERT INTO kb_queries(conversation_id, locale, text, norm, article_id,"
                     " confidence, outcome, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [KB_QUERY_HANDOFF] = "UPDATE kb_queries SET outcome='handoff' WHERE id=(SELECT MAX(id)"
                         " FROM kb_queries WHERE conversation_id=?1)",
    /* One row per folded question: the most recent wording stands for it. */
    [KB_GAPS] = "SELECT (SELECT q2.text FROM kb_queries q2 WHERE q2.norm=q.norm"
                "   ORDER BY q2.id DESC LIMIT 1),"
                " q.norm, COUNT(*), MAX(q.locale), SUM(q.outcome='unsure'), SUM(q.outcome='none'),"
                " SUM(q.outcome='handoff'), MAX(q.created_at), MAX(q.confidence),"
                " (SELECT q3.article_id FROM kb_queries q3 WHERE q3.norm=q.norm"
                "   AND q3.article_id IS NOT NULL ORDER BY q3.confidence DESC LIMIT 1)"
                " FROM kb_queries q"
                " WHERE q.outcome<>'answered' AND q.created_at>=?2 AND (?1 IS NULL OR q.locale=?1)"
                " GROUP BY q.norm ORDER BY 3 DESC, 8 DESC LIMIT ?3",
};

enum sb_err sb_kb_open(sqlite3 *db, struct sb_kb **out, struct sb_errbuf *eb)
{
    struct sb_kb *kb = calloc(1, sizeof(*kb));
    enum sb_err rc;

    if (!kb) return SB_ERR_NOMEM;
    kb->db = db;
    sb_kb_set_locales(kb, "en,pt-BR,ro", NULL);
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
    kb_rebuild_wait(kb);
    kb_stemmers_cleanup(&kb->stem);
    kb_index_free(kb->index);
    kb_public_free(kb->pub);
    kb_synonyms_free(kb->synonyms);
    kb_learn_free(kb->learn);
    for (int i = 0; i < KB__COUNT; i++)
        sqlite3_finalize(kb->stmt[i]);
    free(kb);
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static const char *col_text(sqlite3_stmt *s, int col)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    return t ? t : "";
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

enum sb_err kb_step(struct sb_kb *kb, sqlite3_stmt *s, struct sb_errbuf *eb)
{
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    /* the store turns on extended codes: SQLITE_CONSTRAINT_UNIQUE etc. */
    if ((r & 0xff) == SQLITE_CONSTRAINT)
        return sb_fail(eb, SB_ERR_EXISTS, "slug: is already used in that locale");
    if (r != SQLITE_DONE) return sb_fail(eb, SB_ERR_DB, "kb: %s", sqlite3_errmsg(kb->db));
    return SB_OK;
}

static json_t *string_list(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    if (!json_is_array(v)) {
        json_decref(v);
        v = json_array();
    }
    return v;
}

json_t *kb_row_json(sqlite3_stmt *s, bool with_body)
{
    json_t *a = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "id",
                          (json_int_t)sqlite3_column_int64(s, KC_ID), "slug", col_text(s, KC_SLUG),
                          "locale", col_text(s, KC_LOCALE), "group", col_text(s, KC_GROUP), "title",
                          col_text(s, KC_TITLE), "summary", col_text(s, KC_SUMMARY), "category",
                          col_text(s, KC_CATEGORY), "status", col_text(s, KC_STATUS), "author",
                          col_text(s, KC_AUTHOR), "revision",
                          (json_int_t)sqlite3_column_int64(s, KC_REVISION), "created_at",
                          (json_int_t)sqlite3_column_int64(s, KC_CREATED), "updated_at",
                          (json_int_t)sqlite3_column_int64(s, KC_UPDATED));
    if (!a) return NULL;
    json_object_set_new(a, "tags", string_list(col_text(s, KC_TAGS)));
    /* Revisions do not keep the threshold, so their rows stop before it. */
    if (sqlite3_column_count(s) > KC_THRESHOLD)
        json_object_set_new(a, "answer_threshold",
                            sqlite3_column_type(s, KC_THRESHOLD) == SQLITE_NULL
                                ? json_null()
                                : json_real(sqlite3_column_double(s, KC_THRESHOLD)));
    if (with_body) {
        json_object_set_new(a, "body", json_string(col_text(s, KC_BODY)));
        json_object_set_new(a, "examples", string_list(col_text(s, KC_EXAMPLES)));
    }
    return a;
}

json_t *sb_kb_article_json(struct sb_kb *kb, int64_t id)
{
    sqlite3_stmt *s = kb->stmt[KB_LOAD];
    json_t *a = NULL;

    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) == SQLITE_ROW) a = kb_row_json(s, true);
    sqlite3_reset(s);
    return a;
}

int64_t sb_kb_article_id(struct sb_kb *kb, const char *locale, const char *slug)
{
    sqlite3_stmt *s = kb->stmt[KB_FIND];
    int64_t id = 0;

    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, locale, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, slug, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW) id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return id;
}

/* The stored form of an article, for comparing and binding. */
struct stored {
    const char *slug, *locale, *title, *summary, *body, *category, *status, *group;
    char *tags, *examples;
    bool has_threshold; /* else answer_threshold is NULL */
    double threshold;
};

static bool same_threshold(sqlite3_stmt *s, const struct stored *v)
{
    if (sqlite3_column_type(s, KC_THRESHOLD) == SQLITE_NULL) return !v->has_threshold;
    return v->has_threshold && sqlite3_column_double(s, KC_THRESHOLD) == v->threshold;
}

/* The threshold a save stores: the new one, none, or (KEEP) the one the
 * row s holds, none for a new article (s NULL). */
static enum sb_err resolve_threshold(const struct sb_kb_article *a, sqlite3_stmt *s,
                                     struct stored *v, struct sb_errbuf *eb)
{
    switch (a->threshold_op) {
    case SB_KB_THRESHOLD_SET:
        if (!(a->answer_threshold >= 0 && a->answer_threshold <= 1)) /* NaN fails too */
            return sb_fail(eb, SB_ERR_INVAL,
                           "answer_threshold: must be a number from 0 to 1, or null");
        v->has_threshold = true;
        v->threshold = a->answer_threshold;
        return SB_OK;
    case SB_KB_THRESHOLD_NONE:
        v->has_threshold = false;
        return SB_OK;
    case SB_KB_THRESHOLD_KEEP:
        break;
    }
    v->has_threshold = s && sqlite3_column_type(s, KC_THRESHOLD) != SQLITE_NULL;
    v->threshold = v->has_threshold ? sqlite3_column_double(s, KC_THRESHOLD) : 0;
    return SB_OK;
}

static bool same_as_row(sqlite3_stmt *s, const struct stored *v)
{
    return strcmp(col_text(s, KC_SLUG), v->slug) == 0 &&
           strcmp(col_text(s, KC_LOCALE), v->locale) == 0 &&
           strcmp(col_text(s, KC_TITLE), v->title) == 0 &&
           strcmp(col_text(s, KC_SUMMARY), v->summary) == 0 &&
           strcmp(col_text(s, KC_BODY), v->body) == 0 &&
           strcmp(col_text(s, KC_CATEGORY), v->category) == 0 &&
           strcmp(col_text(s, KC_TAGS), v->tags) == 0 &&
           strcmp(col_text(s, KC_EXAMPLES), v->examples) == 0 &&
           strcmp(col_text(s, KC_STATUS), v->status) == 0 &&
           strcmp(col_text(s, KC_GROUP), v->group) == 0 && same_threshold(s, v);
}

/* Keeps kb_fts in step: only published articles are searchable. */
static enum sb_err reindex(struct sb_kb *kb, int64_t id, const struct stored *v, json_t *examples,
                           struct sb_errbuf *eb)
{
    sqlite3_stmt *s = kb->stmt[KB_FTS_DELETE];
    char *lines;
    enum sb_err rc;

    kb->index_stale = true;
    sqlite3_bind_int64(s, 1, id);
    rc = kb_step(kb, s, eb);
    if (rc || strcmp(v->status, "published") != 0) return rc;
    lines = join_lines(examples);
    if (!lines) return SB_ERR_NOMEM;
    s = kb->stmt[KB_FTS_INSERT];
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, v->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, v->summary, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, v->body, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, lines, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, v->locale, -1, SQLITE_STATIC);
    rc = kb_step(kb, s, eb);
    free(lines);
    return rc;
}

static enum sb_err write_row(struct sb_kb *kb, bool insert, int64_t id, int64_t revision,
                             const struct stored *v, const char *author, struct sb_errbuf *eb)
{
    sqlite3_stmt *s = kb->stmt[insert ? KB_INSERT : KB_UPDATE];
    if (!insert) sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, v->slug, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, v->locale, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, v->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, v->summary, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, v->body, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, v->category, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, v->tags, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 9, v->examples, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 10, v->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 11, v->group, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 12, author, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 13, revision);
    sqlite3_bind_int64(s, 14, sb_now_ms());
    if (v->has_threshold)
        sqlite3_bind_double(s, 15, v->threshold);
    else
        sqlite3_bind_null(s, 15);
    return kb_step(kb, s, eb);
}

static enum sb_err add_revision(struct sb_kb *kb, int64_t id, const char *note,
                                struct sb_errbuf *eb)
{
    sqlite3_stmt *s = kb->stmt[KB_REV_INSERT];
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, or_empty(note), -1, SQLITE_STATIC);
    return kb_step(kb, s, eb);
}

enum sb_err sb_kb_save(struct sb_kb *kb, const struct sb_kb_article *a, int64_t id,
                       int64_t expect_revision, struct sb_kb_saved *out, struct sb_errbuf *eb)
{
    sqlite3_stmt *s = kb->stmt[KB_LOAD];
    json_t *empty = json_array();
    struct stored v = {0};
    char group[SB_KB_MAX_SLUG + 1];
    int64_t current = 0;
    enum sb_err rc;

    memset(out, 0, sizeof(*out));
    rc = sb_kb_validate(kb, a, eb);
    if (!rc) rc = resolve_threshold(a, NULL, &v, eb); /* checks a SET value early */
    if (rc) goto out;
    if (id == 0) id = sb_kb_article_id(kb, a->locale, a->slug);

    v.slug = a->slug;
    v.locale = a->locale;
    v.title = a->title;
    v.summary = or_empty(a->summary);
    v.body = or_empty(a->body);
    v.category = or_empty(a->category);
    v.status = a->status ? a->status : "draft";
    v.tags = json_dumps(a->tags ? a->tags : empty, JSON_COMPACT);
    v.examples = json_dumps(a->examples ? a->examples : empty, JSON_COMPACT);
    if (!v.tags || !v.examples) {
        rc = SB_ERR_NOMEM;
        goto out;
    }

    group[0] = '\0';
    if (id) {
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, id);
        if (sqlite3_step(s) != SQLITE_ROW) {
            sqlite3_reset(s);
            rc = sb_fail(eb, SB_ERR_NOT_FOUND, "article %lld: not found", (long long)id);
            goto out;
        }
        current = sqlite3_column_int64(s, KC_REVISION);
        resolve_threshold(a, s, &v, eb);
        snprintf(group, sizeof(group), "%s", col_text(s, KC_GROUP));
        if (a->group && *a->group) snprintf(group, sizeof(group), "%s", a->group);
        v.group = group;
        if (expect_revision > 0 && expect_revision != current) {
            sb_fail(eb, SB_ERR_CONFLICT,
                    "revision: the article was saved by %.80s as revision %lld while you edited "
                    "revision %lld",
                    *col_text(s, KC_AUTHOR) ? col_text(s, KC_AUTHOR) : "someone",
                    (long long)current, (long long)expect_revision);
            sqlite3_reset(s);
            rc = SB_ERR_CONFLICT;
            goto out;
        }
        if (same_as_row(s, &v)) {
            sqlite3_reset(s);
            *out = (struct sb_kb_saved){id, current, SB_KB_UNCHANGED};
            goto out;
        }
        sqlite3_reset(s);
        rc = write_row(kb, false, id, current + 1, &v, or_empty(a->author), eb);
        if (!rc) *out = (struct sb_kb_saved){id, current + 1, SB_KB_CHANGED};
    } else {
        v.group = a->group && *a->group ? a->group : a->slug;
        rc = write_row(kb, true, 0, 1, &v, or_empty(a->author), eb);
        if (!rc) *out = (struct sb_kb_saved){sqlite3_last_insert_rowid(kb->db), 1, SB_KB_ADDED};
    }
    if (!rc) rc = add_revision(kb, out->id, a->note, eb);
    if (!rc) rc = reindex(kb, out->id, &v, a->examples ? a->examples : empty, eb);
    if (!rc) kb_learn_articles_changed(kb);
out:
    free(v.tags);
    free(v.examples);
    json_decref(empty);
    return rc;
}

enum sb_err sb_kb_upsert(struct sb_kb *kb, const struct sb_kb_article *a, enum sb_kb_change *change,
                         struct sb_errbuf *eb)
{
    struct sb_kb_saved saved;
    enum sb_err rc = sb_kb_save(kb, a, 0, 0, &saved, eb);
    *change = saved.change;
    return rc;
}

static bool article_exists(struct sb_kb *kb, int64_t id)
{
    sqlite3_stmt *s = kb->stmt[KB_LOAD];
    bool found;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, id);
    found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_reset(s);
    return found;
}

enum sb_err sb_kb_delete(struct sb_kb *kb, int64_t id, struct sb_errbuf *eb)
{
    sqlite3_stmt *s = kb->stmt[KB_FTS_DELETE];
    enum sb_err rc;

    if (!article_exists(kb, id))
        return sb_fail(eb, SB_ERR_NOT_FOUND, "article %lld: not found", (long long)id);
    kb->index_stale = true;
    sqlite3_bind_int64(s, 1, id);
    rc = kb_step(kb, s, eb);
    if (rc) return rc;
    s = kb->stmt[KB_DELETE];
    sqlite3_bind_int64(s, 1, id);
    rc = kb_step(kb, s, eb);
    if (!rc) kb_learn_articles_changed(kb);
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
