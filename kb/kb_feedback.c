/*
 * kb_feedback.c - what customers tell us about the knowledge base: the
 * "did this help?" votes (from the bot and the help center), the
 * questions the bot was asked with how it went, grouped into the
 * content-gap report, the articles customers chose when the bot was
 * unsure, and the phrasings that found an article, suggested to editors
 * as example questions. Votes and hand-offs also feed kb_learn.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "sb_util.h"

#define MAX_QUESTION_BYTES 1000
#define NORM_BYTES 400

/* Why a customer's vote stored nothing: voted already, or never shown.
 * Rare: prepared per call. */
static enum sb_err refused_vote(struct sb_kb *kb, int64_t article_id, int64_t conversation_id,
                                struct sb_errbuf *eb)
{
    static const char sql[] = "SELECT 1 FROM kb_feedback WHERE conversation_id=?1"
                              " AND article_id=?2 AND source='bot'";
    sqlite3_stmt *s = NULL;
    bool voted;

    if (sqlite3_prepare_v2(kb->db, sql, -1, &s, NULL) != SQLITE_OK)
        return sb_fail(eb, SB_ERR_DB, "kb: %s", sqlite3_errmsg(kb->db));
    sqlite3_bind_int64(s, 1, conversation_id);
    sqlite3_bind_int64(s, 2, article_id);
    voted = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    if (voted)
        return sb_fail(eb, SB_ERR_EXISTS,
                       "article_id: this conversation has already voted on article %lld",
                       (long long)article_id);
    return sb_fail(eb, SB_ERR_NOT_FOUND,
                   "article_id: article %lld was not shown in this conversation",
                   (long long)article_id);
}

static enum sb_err customer_vote(struct sb_kb *kb, int64_t article_id, bool helpful,
                                 int64_t conversation_id, struct sb_errbuf *eb)
{
    sqlite3_stmt *s = kb->stmt[KB_VOTE_SHOWN];
    enum sb_err rc;

    if (conversation_id <= 0) return sb_fail(eb, SB_ERR_INVAL, "a bot vote needs a conversation");
    sqlite3_bind_int64(s, 1, article_id);
    sqlite3_bind_int(s, 2, helpful ? 1 : 0);
    sqlite3_bind_int64(s, 3, sb_now_ms());
    sqlite3_bind_int64(s, 4, conversation_id);
    rc = kb_step(kb, s, eb);
    if (!rc && sqlite3_changes(kb->db) == 0) rc = refused_vote(kb, article_id, conversation_id, eb);
    return rc;
}

static enum sb_err agent_vote(struct sb_kb *kb, int64_t article_id, bool helpful,
                              int64_t conversation_id, struct sb_errbuf *eb)
{
    sqlite3_stmt *s = kb->stmt[KB_VOTE];
    enum sb_err rc;

    sqlite3_bind_int64(s, 1, article_id);
    sqlite3_bind_text(s, 2, "agent", -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, helpful ? 1 : 0);
    if (conversation_id > 0)
        sqlite3_bind_int64(s, 4, conversation_id);
    else
        sqlite3_bind_null(s, 4);
    sqlite3_bind_int64(s, 5, sb_now_ms());
    rc = kb_step(kb, s, eb);
    if (!rc && sqlite3_changes(kb->db) == 0)
        rc = sb_fail(eb, SB_ERR_NOT_FOUND, "article_id: no such article");
    return rc;
}

enum sb_err sb_kb_vote(struct sb_kb *kb, int64_t article_id, const char *source, bool helpful,
                       int64_t conversation_id, struct sb_errbuf *eb)
{
    enum sb_err rc;

    if (strcmp(source, "bot") == 0)
        rc = customer_vote(kb, article_id, helpful, conversation_id, eb);
    else if (strcmp(source, "agent") == 0)
        rc = agent_vote(kb, article_id, helpful, conversation_id, eb);
    else
        return sb_fail(eb, SB_ERR_INVAL, "source: must be bot or agent");
    if (!rc) kb_learn_signals_changed(kb);
    return rc;
}

enum sb_err sb_kb_note_shown(struct sb_kb *kb, int64_t conversation_id, int64_t article_id)
{
    sqlite3_stmt *s = kb->stmt[KB_SHOWN_ADD];

    sqlite3_bind_int64(s, 1, conversation_id);
    sqlite3_bind_int64(s, 2, article_id);
    sqlite3_bind_int64(s, 3, sb_now_ms());
    return kb_step(kb, s, NULL);
}

enum sb_err sb_kb_vote_view(struct sb_kb *kb, int64_t article_id, bool helpful, const char *view,
                            const char *voter, struct sb_errbuf *eb)
{
    sqlite3_stmt *s = kb->stmt[KB_VOTE_VIEW];
    enum sb_err rc;

    if (!view || !*view) return sb_fail(eb, SB_ERR_INVAL, "view: is required");
    sqlite3_bind_int64(s, 1, article_id);
    sqlite3_bind_int(s, 2, helpful ? 1 : 0);
    sqlite3_bind_text(s, 3, view, -1, SQLITE_STATIC);
    if (voter)
        sqlite3_bind_text(s, 4, voter, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 4);
    sqlite3_bind_int64(s, 5, sb_now_ms());
    rc = kb_step(kb, s, eb);
    if (rc) return rc;
    if (sqlite3_changes(kb->db) == 0) {
        /* OR IGNORE: the view's vote is in already, or no such article */
        json_t *a = sb_kb_article_json(kb, article_id);
        bool published =
            a && strcmp(json_string_value(json_object_get(a, "status")), "published") == 0;
        json_decref(a);
        return published ? sb_fail(eb, SB_ERR_EXISTS, "view: this page view has already voted")
                         : sb_fail(eb, SB_ERR_NOT_FOUND, "article_id: no such article");
    }
    kb_learn_signals_changed(kb);
    return SB_OK;
}

json_t *sb_kb_helpfulness(struct sb_kb *kb, const char *locale)
{
    static const char *const keys[] = {"up",      "down",      "bot_up",        "bot_down",
                                       "help_up", "help_down", "agent_resolved"};
    sqlite3_stmt *s = kb->stmt[KB_HELPFULNESS];
    json_t *arr = json_array();

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (locale) sqlite3_bind_text(s, 1, locale, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *row =
            json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)sqlite3_column_int64(s, 0), "slug",
                      (const char *)sqlite3_column_text(s, 1), "locale",
                      (const char *)sqlite3_column_text(s, 2), "title",
                      (const char *)sqlite3_column_text(s, 3));
        for (int i = 0; i < (int)SB_ARRAY_LEN(keys); i++)
            json_object_set_new(row, keys[i], json_integer(sqlite3_column_int64(s, 4 + i)));
        json_array_append_new(arr, row);
    }
    sqlite3_reset(s);
    return arr;
}

/* The folded words of a question without stop words, so "Where is my
 * order?" and "where's my order" land in one group. */
static void normalise(const char *text, const char *locale, char *out, size_t cap)
{
    size_t len = strlen(text), pos = 0, used = 0, wl;
    char word[KB_MAX_TERM_BYTES + 1];

    out[0] = '\0';
    while (kb_next_word(text, len, &pos, word, sizeof(word), &wl)) {
        if (kb_is_stopword(locale, word, wl)) continue;
        if (used + wl + 2 > cap) break;
        if (used) out[used++] = ' ';
        memcpy(out + used, word, wl);
        used += wl;
        out[used] = '\0';
    }
    /* A question made only of stop words still gets a group of its own. */
    if (!used) kb_fold(text, len, out, cap);
}

enum sb_err sb_kb_log_query(struct sb_kb *kb, int64_t conversation_id, const char *locale,
                            const char *text, int64_t article_id, double confidence,
                            const char *outcome)
{
    sqlite3_stmt *s = kb->stmt[KB_QUERY_LOG];
    char norm[NORM_BYTES];
    size_t len = strlen(text);

    len = sb_utf8_cut(text, len, MAX_QUESTION_BYTES);
    normalise(text, locale, norm, sizeof(norm));
    sqlite3_bind_int64(s, 1, conversation_id);
    sqlite3_bind_text(s, 2, locale, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, text, (int)len, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, norm, -1, SQLITE_STATIC);
    if (article_id > 0)
        sqlite3_bind_int64(s, 5, article_id);
    else
        sqlite3_bind_null(s, 5);
    sqlite3_bind_double(s, 6, confidence);
    sqlite3_bind_text(s, 7, outcome, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 8, sb_now_ms());
    return kb_step(kb, s, NULL);
}

enum sb_err sb_kb_mark_handoff(struct sb_kb *kb, int64_t conversation_id)
{
    sqlite3_stmt *s = kb->stmt[KB_QUERY_HANDOFF];
    kb_learn_signals_changed(kb);
    sqlite3_bind_int64(s, 1, conversation_id);
    return kb_step(kb, s, NULL);
}

static json_t *best_article(struct sb_kb *kb, sqlite3_stmt *s)
{
    json_t *a, *best;
    if (sqlite3_column_type(s, 9) == SQLITE_NULL) return json_null();
    a = sb_kb_article_json(kb, sqlite3_column_int64(s, 9));
    if (!a) return json_null();
    best = json_pack("{s:O, s:O, s:O, s:O, s:f}", "id", json_object_get(a, "id"), "slug",
                     json_object_get(a, "slug"), "locale", json_object_get(a, "locale"), "title",
                     json_object_get(a, "title"), "confidence", sqlite3_column_double(s, 8));
    json_decref(a);
    return best ? best : json_null();
}

json_t *sb_kb_gaps(struct sb_kb *kb, const char *locale, int64_t since_ms, int limit)
{
    sqlite3_stmt *s = kb->stmt[KB_GAPS];
    json_t *arr = json_array();

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (locale) sqlite3_bind_text(s, 1, locale, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, since_ms);
    sqlite3_bind_int(s, 3, limit > 0 && limit <= 1000 ? limit : 200);
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *row = json_pack("{s:s, s:s, s:I, s:s, s:{s:I, s:I, s:I}, s:I}", "question",
                                (const char *)sqlite3_column_text(s, 0), "norm",
                                (const char *)sqlite3_column_text(s, 1), "count",
                                (json_int_t)sqlite3_column_int64(s, 2), "locale",
                                (const char *)sqlite3_column_text(s, 3), "outcomes", "unsure",
                                (json_int_t)sqlite3_column_int64(s, 4), "none",
                                (json_int_t)sqlite3_column_int64(s, 5), "handoff",
                                (json_int_t)sqlite3_column_int64(s, 6), "last_at",
                                (json_int_t)sqlite3_column_int64(s, 7));
        if (!row) continue;
        json_object_set_new(row, "best", best_article(kb, s));
        json_array_append_new(arr, row);
    }
    sqlite3_reset(s);
    return arr;
}

/* A choice is logged as a copy of the question it answers (the
 * conversation's last one, when the bot was unsure about it), answered
 * with the chosen article. The unsure row stays: the question was a gap.
 * A question followed at once by the same question answered is how
 * sb_kb_suggestions recognises a choice. Rare: prepared per call. */
enum sb_err sb_kb_log_choice(struct sb_kb *kb, int64_t conversation_id, int64_t article_id)
{
    static const char sql[] =
        "INSERT INTO kb_queries(conversation_id, locale, text, norm, article_id, confidence,"
        " outcome, created_at)"
        " SELECT conversation_id, locale, text, norm, ?2, confidence, 'answered', ?3"
        " FROM kb_queries WHERE id = (SELECT MAX(id) FROM kb_queries WHERE conversation_id = ?1)"
        "   AND outcome = 'unsure'";
    sqlite3_stmt *s = NULL;
    enum sb_err rc;

    if (sqlite3_prepare_v2(kb->db, sql, -1, &s, NULL) != SQLITE_OK) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conversation_id);
    sqlite3_bind_int64(s, 2, article_id);
    sqlite3_bind_int64(s, 3, sb_now_ms());
    rc = kb_step(kb, s, NULL);
    sqlite3_finalize(s);
    return rc;
}

/* The folded forms of an article's example questions, as
 * normalise() makes them, for leaving out what is already there. */
static json_t *example_norms(json_t *article)
{
    const char *locale = json_string_value(json_object_get(article, "locale"));
    json_t *set = json_object(), *v;
    char norm[NORM_BYTES];
    size_t i;

    json_array_foreach(json_object_get(article, "examples"), i, v)
    {
        if (!json_is_string(v)) continue;
        normalise(json_string_value(v), locale ? locale : "en", norm, sizeof(norm));
        json_object_set_new(set, norm, json_true());
    }
    return set;
}

/* One row per folded question; the bare columns (text, created_at) come
 * from the row with MAX(id), the latest wording. A helpful vote counts
 * when it is the same conversation's, for the article, at or after the
 * question; a choice is an answered question whose conversation's row
 * just before it is the same question, unsure (sb_kb_log_choice). */
static const char suggestions_sql[] =
    "WITH r AS MATERIALIZED ("
    "  SELECT q.id, q.norm, q.text, q.conversation_id AS conv, q.created_at,"
    "    EXISTS(SELECT 1 FROM kb_feedback f WHERE f.article_id = q.article_id"
    "      AND f.conversation_id = q.conversation_id AND f.source = 'bot' AND f.helpful = 1"
    "      AND f.created_at >= q.created_at) AS helpful,"
    "    EXISTS(SELECT 1 FROM kb_queries p WHERE p.id = (SELECT MAX(id) FROM kb_queries"
    "        WHERE conversation_id = q.conversation_id AND id < q.id)"
    "      AND p.outcome = 'unsure' AND p.text = q.text) AS chosen,"
    "    0 AS resolved"
    "  FROM kb_queries q"
    "  WHERE q.article_id = ?1 AND q.outcome = 'answered' AND q.created_at >= ?2"
    "    AND length(CAST(q.text AS BLOB)) <= ?3"
    /* what the customer asked the bot before an agent resolved the
     * conversation with this article, whatever the bot had found */
    "  UNION ALL"
    "  SELECT q.id, q.norm, q.text, q.conversation_id, q.created_at, 0, 0, 1"
    "  FROM kb_feedback f JOIN kb_queries q ON q.conversation_id = f.conversation_id"
    "  WHERE f.article_id = ?1 AND f.source = 'agent' AND f.helpful = 1"
    "    AND q.created_at <= f.created_at AND q.created_at >= ?2"
    "    AND length(CAST(q.text AS BLOB)) <= ?3)"
    " SELECT norm, text, created_at, MAX(id), COUNT(DISTINCT conv),"
    "   COUNT(DISTINCT CASE WHEN helpful THEN conv END),"
    "   COUNT(DISTINCT CASE WHEN chosen THEN conv END),"
    "   COUNT(DISTINCT CASE WHEN resolved THEN conv END)"
    " FROM r WHERE helpful OR chosen OR resolved GROUP BY norm ORDER BY 5 DESC, 4 DESC"
    " LIMIT 1000";

json_t *sb_kb_suggestions(struct sb_kb *kb, int64_t id, int64_t since_ms, int limit)
{
    json_t *article = sb_kb_article_json(kb, id), *known, *arr;
    sqlite3_stmt *s = NULL;

    if (!article) return NULL;
    if (limit <= 0 || limit > 1000) limit = 100;
    known = example_norms(article);
    arr = json_array();
    if (sqlite3_prepare_v2(kb->db, suggestions_sql, -1, &s, NULL) != SQLITE_OK) goto out;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, since_ms);
    sqlite3_bind_int(s, 3, SB_KB_MAX_ITEM); /* a longer one could not be an example */
    while (sqlite3_step(s) == SQLITE_ROW && (int)json_array_size(arr) < limit) {
        const char *norm = (const char *)sqlite3_column_text(s, 0);
        if (!norm || json_object_get(known, norm)) continue;
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "question",
                                             (const char *)sqlite3_column_text(s, 1), "norm", norm,
                                             "count", (json_int_t)sqlite3_column_int64(s, 4),
                                             "helpful", (json_int_t)sqlite3_column_int64(s, 5),
                                             "chosen", (json_int_t)sqlite3_column_int64(s, 6),
                                             "resolved", (json_int_t)sqlite3_column_int64(s, 7),
                                             "last_at", (json_int_t)sqlite3_column_int64(s, 2)));
    }
out:
    sqlite3_finalize(s);
    json_decref(known);
    json_decref(article);
    return arr;
}
