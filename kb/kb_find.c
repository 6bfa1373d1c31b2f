/*
 * kb_find.c - the editors' article list: filters on locale, status,
 * category, tag and group, and a text filter over every field. Drafts are
 * included, so this reads kb_articles, not the search index.
 */
#include <stdio.h>
#include <string.h>

#include "kb_int.h"
#include "sb_util.h"

#define MAX_WORDS 8

/* Appends a LIKE pattern for one word, %, _ and \ escaped. */
static void like_pattern(char *out, size_t cap, const char *w, size_t n)
{
    size_t o = 0;
    out[o++] = '%';
    for (size_t i = 0; i < n && o + 3 < cap; i++) {
        if (w[i] == '%' || w[i] == '_' || w[i] == '\\') out[o++] = '\\';
        out[o++] = w[i];
    }
    out[o++] = '%';
    out[o] = '\0';
}

json_t *sb_kb_find(struct sb_kb *kb, const struct sb_kb_filter *f)
{
    char sql[2048], words[MAX_WORDS][130];
    int nwords = 0, limit = f->limit > 0 && f->limit <= 5000 ? f->limit : 500;
    size_t used;
    sqlite3_stmt *s = NULL;
    json_t *arr = json_array();

    used = (size_t)snprintf(
        sql, sizeof(sql),
        "SELECT id, slug, locale, title, summary, body, category, tags, examples, status,"
        " group_key, author, revision, created_at, updated_at FROM kb_articles"
        " WHERE (?1 IS NULL OR locale=?1) AND (?2 IS NULL OR status=?2)"
        " AND (?3 IS NULL OR category=?3) AND (?5 IS NULL OR group_key=?5)"
        " AND (?4 IS NULL OR EXISTS(SELECT 1 FROM json_each(tags) WHERE value=?4))");
    for (const char *p = f->q ? f->q : ""; *p && nwords < MAX_WORDS;) {
        size_t n;
        p += strspn(p, " \t\r\n");
        n = strcspn(p, " \t\r\n");
        if (n == 0) break;
        if (n > 120) n = 120;
        like_pattern(words[nwords], sizeof(words[0]), p, n);
        used += (size_t)snprintf(sql + used, sizeof(sql) - used,
                                 " AND (title || ' ' || slug || ' ' || summary || ' ' || body"
                                 " || ' ' || examples || ' ' || tags) LIKE ?%d ESCAPE '\\'",
                                 7 + nwords);
        nwords++;
        p += strcspn(p, " \t\r\n");
    }
    snprintf(sql + used, sizeof(sql) - used, " ORDER BY updated_at DESC, id DESC LIMIT ?6");
    if (sqlite3_prepare_v2(kb->db, sql, -1, &s, NULL) != SQLITE_OK) return arr;
    if (f->locale) sqlite3_bind_text(s, 1, f->locale, -1, SQLITE_STATIC);
    if (f->status) sqlite3_bind_text(s, 2, f->status, -1, SQLITE_STATIC);
    if (f->category) sqlite3_bind_text(s, 3, f->category, -1, SQLITE_STATIC);
    if (f->tag) sqlite3_bind_text(s, 4, f->tag, -1, SQLITE_STATIC);
    if (f->group) sqlite3_bind_text(s, 5, f->group, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 6, limit);
    for (int i = 0; i < nwords; i++)
        sqlite3_bind_text(s, 7 + i, words[i], -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, kb_row_json(s, false));
    sqlite3_finalize(s);
    return arr;
}
