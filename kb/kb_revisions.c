/*
 * kb_revisions.c - the history of an article: every save is a revision;
 * list them, show one, compare two, and revert (an old revision saved as
 * the newest, so a revert is itself undoable).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "sb_util.h"

json_t *sb_kb_revisions(struct sb_kb *kb, int64_t id)
{
    sqlite3_stmt *s = kb->stmt[KB_REV_LIST];
    json_t *arr = json_array();

    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, id);
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:s, s:I}", "revision",
                                             (json_int_t)sqlite3_column_int64(s, 0), "author",
                                             (const char *)sqlite3_column_text(s, 1), "note",
                                             (const char *)sqlite3_column_text(s, 2), "status",
                                             (const char *)sqlite3_column_text(s, 3), "title",
                                             (const char *)sqlite3_column_text(s, 4), "created_at",
                                             (json_int_t)sqlite3_column_int64(s, 5)));
    sqlite3_reset(s);
    return arr;
}

json_t *sb_kb_revision(struct sb_kb *kb, int64_t id, int64_t revision)
{
    sqlite3_stmt *s = kb->stmt[KB_REV_LOAD];
    json_t *a = NULL;

    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, revision);
    if (sqlite3_step(s) == SQLITE_ROW) a = kb_row_json(s, true);
    sqlite3_reset(s);
    return a;
}

/* Lists are compared one item per line, so an added example question
 * shows as one added line. */
static char *field_text(json_t *a, const char *field)
{
    json_t *v = json_object_get(a, field);
    struct sb_buf b;
    size_t i;
    json_t *item;

    if (json_is_string(v)) return strdup(json_string_value(v));
    sb_buf_init(&b, 1 << 20);
    sb_buf_append(&b, "", 0);
    json_array_foreach(v, i, item)
    {
        if (i) sb_buf_append(&b, "\n", 1);
        sb_buf_append(&b, json_string_value(item), json_string_length(item));
    }
    return b.data;
}

json_t *sb_kb_diff(struct sb_kb *kb, int64_t id, int64_t from, int64_t to)
{
    static const char *const fields[] = {"title",   "slug", "status",   "category",
                                         "summary", "tags", "examples", "body"};
    json_t *a = sb_kb_revision(kb, id, from), *b = sb_kb_revision(kb, id, to), *out = NULL;
    json_t *list;

    if (!a || !b) goto done;
    list = json_array();
    for (size_t i = 0; i < SB_ARRAY_LEN(fields); i++) {
        char *ta = field_text(a, fields[i]), *tb = field_text(b, fields[i]);
        bool changed = false;
        json_t *lines = ta && tb ? kb_diff_lines(ta, tb, &changed) : json_array();
        json_array_append_new(list, json_pack("{s:s, s:b, s:o}", "field", fields[i], "changed",
                                              changed, "lines", lines));
        free(ta);
        free(tb);
    }
    out = json_pack("{s:I, s:I, s:o}", "from", (json_int_t)from, "to", (json_int_t)to, "fields",
                    list);
done:
    json_decref(a);
    json_decref(b);
    return out;
}

enum sb_err sb_kb_revert(struct sb_kb *kb, int64_t id, int64_t to_revision, int64_t expect_revision,
                         const char *author, struct sb_kb_saved *out, struct sb_errbuf *eb)
{
    json_t *old = sb_kb_revision(kb, id, to_revision);
    struct sb_kb_article a = {0};
    char note[64];
    enum sb_err rc;

    if (!old)
        return sb_fail(eb, SB_ERR_NOT_FOUND, "to: article %lld has no revision %lld", (long long)id,
                       (long long)to_revision);
    snprintf(note, sizeof(note), "revert to revision %lld", (long long)to_revision);
    a.slug = json_string_value(json_object_get(old, "slug"));
    a.locale = json_string_value(json_object_get(old, "locale"));
    a.title = json_string_value(json_object_get(old, "title"));
    a.summary = json_string_value(json_object_get(old, "summary"));
    a.body = json_string_value(json_object_get(old, "body"));
    a.category = json_string_value(json_object_get(old, "category"));
    a.status = json_string_value(json_object_get(old, "status"));
    a.tags = json_object_get(old, "tags");
    a.examples = json_object_get(old, "examples");
    a.author = author;
    a.note = note;
    rc = sb_kb_save(kb, &a, id, expect_revision, out, eb);
    json_decref(old);
    return rc;
}

json_t *sb_kb_translations(struct sb_kb *kb, const char *group)
{
    sqlite3_stmt *s = kb->stmt[KB_TRANSLATIONS];
    json_t *arr = json_array();

    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, group, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:s}", "id",
                                             (json_int_t)sqlite3_column_int64(s, 0), "locale",
                                             (const char *)sqlite3_column_text(s, 1), "slug",
                                             (const char *)sqlite3_column_text(s, 2), "title",
                                             (const char *)sqlite3_column_text(s, 3), "status",
                                             (const char *)sqlite3_column_text(s, 4)));
    sqlite3_reset(s);
    return arr;
}

json_t *sb_kb_categories(struct sb_kb *kb, const char *locale)
{
    sqlite3_stmt *s = kb->stmt[KB_CATEGORIES];
    json_t *arr = json_array();

    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, locale, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I, s:I}", "slug",
                                             (const char *)sqlite3_column_text(s, 0), "name",
                                             (const char *)sqlite3_column_text(s, 1), "description",
                                             (const char *)sqlite3_column_text(s, 2), "position",
                                             (json_int_t)sqlite3_column_int64(s, 3), "articles",
                                             (json_int_t)sqlite3_column_int64(s, 4)));
    sqlite3_reset(s);
    return arr;
}

enum sb_err sb_kb_category_set(struct sb_kb *kb, const char *locale, const char *slug,
                               const char *name, const char *description, int position,
                               struct sb_errbuf *eb)
{
    struct sb_kb_article probe = {
        .title = name, .slug = slug, .locale = locale, .summary = description, .category = slug};
    sqlite3_stmt *s = kb->stmt[KB_CATEGORY_SET];
    enum sb_err rc;

    /* The same rules as an article: slug-shaped, known locale, plain text. */
    rc = sb_kb_validate(kb, &probe, eb);
    if (rc) {
        /* Say "name" and "description", not the article's field names. */
        char tmp[SB_ERRBUF_SIZE];
        if (strncmp(eb->msg, "title:", 6) == 0) {
            snprintf(tmp, sizeof(tmp), "name:%s", eb->msg + 6);
            memcpy(eb->msg, tmp, sizeof(tmp));
        }
        if (strncmp(eb->msg, "summary:", 8) == 0) {
            snprintf(tmp, sizeof(tmp), "description:%s", eb->msg + 8);
            memcpy(eb->msg, tmp, sizeof(tmp));
        }
        return rc;
    }
    sqlite3_bind_text(s, 1, locale, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, slug, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, description ? description : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 5, position);
    return kb_step(kb, s, eb);
}
