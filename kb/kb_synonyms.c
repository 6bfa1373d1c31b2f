/*
 * kb_synonyms.c - synonyms per locale, kept by editors: "parcel" means
 * "package" and "order" to this shop's customers. A question that
 * contains a term (its words in a row, folded like everything else) is
 * searched with the synonyms added, so the article that says "package"
 * is found for "parcel" even with no example question saying so.
 *
 * The list is read into memory when it is first needed and again after
 * the database changes (the same PRAGMA data_version the index follows).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "sb_util.h"

#define MAX_SYNONYMS 20
#define MAX_TERM_BYTES 64

struct kb_syn {
    char lang[16];
    char *term;     /* folded words joined by one space */
    char *synonyms; /* the synonyms as one text, to append to a question */
};

struct kb_synonyms {
    struct kb_syn *entries;
    size_t n;
    int64_t version; /* data_version when read */
    bool loaded;     /* read at least once: an empty list is a list too */
};

static void free_entries(struct kb_synonyms *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->entries[i].term);
        free(s->entries[i].synonyms);
    }
    free(s->entries);
    s->entries = NULL;
    s->n = 0;
}

void kb_synonyms_free(struct kb_synonyms *s)
{
    if (!s) return;
    free_entries(s);
    free(s);
}

/* A text's folded words joined by single spaces, with a space at each
 * end so " term " matches whole words only. */
static char *folded_words(const char *text)
{
    size_t len = strlen(text), pos = 0, wl;
    char word[KB_MAX_TERM_BYTES + 1];
    struct sb_buf b;

    sb_buf_init(&b, 1 << 16);
    sb_buf_append(&b, " ", 1);
    while (kb_next_word(text, len, &pos, word, sizeof(word), &wl)) {
        sb_buf_append(&b, word, wl);
        sb_buf_append(&b, " ", 1);
    }
    return b.data;
}

static enum sb_err load(struct sb_kb *kb, struct kb_synonyms *s)
{
    sqlite3_stmt *st;
    size_t cap = 0;

    free_entries(s);
    if (sqlite3_prepare_v2(kb->db, "SELECT locale, term, synonyms FROM kb_synonyms", -1, &st,
                           NULL) != SQLITE_OK)
        return SB_ERR_DB;
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *list = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL), *v;
        struct sb_buf words;
        size_t i;
        struct kb_syn *e;

        if (s->n == cap) {
            struct kb_syn *p = realloc(s->entries, (cap ? cap * 2 : 64) * sizeof(*p));
            if (!p) {
                json_decref(list);
                break;
            }
            s->entries = p;
            cap = cap ? cap * 2 : 64;
        }
        e = &s->entries[s->n];
        kb_language_of((const char *)sqlite3_column_text(st, 0), e->lang, sizeof(e->lang));
        e->term = folded_words((const char *)sqlite3_column_text(st, 1));
        sb_buf_init(&words, 1 << 16);
        sb_buf_append(&words, "", 0);
        json_array_foreach(list, i, v)
        {
            sb_buf_append(&words, " ", 1);
            sb_buf_append(&words, json_string_value(v), json_string_length(v));
        }
        e->synonyms = words.data;
        json_decref(list);
        if (!e->term || !e->synonyms) {
            free(e->term);
            free(e->synonyms);
            continue;
        }
        s->n++;
    }
    sqlite3_finalize(st);
    s->version = kb->data_version;
    s->loaded = true;
    return SB_OK;
}

char *kb_synonyms_expand(struct sb_kb *kb, const char *text, const char *lang)
{
    struct sb_buf out;
    char *words;
    bool any = false;

    if (!kb->synonyms) kb->synonyms = calloc(1, sizeof(*kb->synonyms));
    if (!kb->synonyms) return NULL;
    if (kb->synonyms_stale || kb->synonyms->version != kb->data_version || !kb->synonyms->loaded) {
        if (load(kb, kb->synonyms)) return NULL;
        kb->synonyms_stale = false;
    }
    if (!kb->synonyms->n) return NULL;
    words = folded_words(text);
    if (!words) return NULL;
    sb_buf_init(&out, 1 << 16);
    sb_buf_append(&out, text, strlen(text));
    for (size_t i = 0; i < kb->synonyms->n; i++) {
        const struct kb_syn *e = &kb->synonyms->entries[i];
        if (strcmp(e->lang, lang) != 0 || strlen(e->term) < 3) continue;
        if (strstr(words, e->term)) {
            sb_buf_append(&out, e->synonyms, strlen(e->synonyms));
            any = true;
        }
    }
    free(words);
    if (!any) {
        sb_buf_cleanup(&out);
        return NULL;
    }
    return out.data;
}

static bool plain(const char *s, size_t n)
{
    return n > 0 && n <= MAX_TERM_BYTES && sb_utf8_valid(s, n) && !memchr(s, '<', n) &&
           !memchr(s, '\n', n);
}

json_t *sb_kb_synonyms(struct sb_kb *kb, const char *locale)
{
    sqlite3_stmt *st;
    json_t *arr = json_array();

    if (sqlite3_prepare_v2(kb->db,
                           "SELECT locale, term, synonyms, updated_at FROM kb_synonyms"
                           " WHERE ?1 IS NULL OR locale = ?1 ORDER BY locale, term LIMIT 5000",
                           -1, &st, NULL) != SQLITE_OK)
        return arr;
    if (locale) sqlite3_bind_text(st, 1, locale, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *list = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:o, s:I}", "locale",
                                        (const char *)sqlite3_column_text(st, 0), "term",
                                        (const char *)sqlite3_column_text(st, 1), "synonyms",
                                        json_is_array(list) ? list : json_array(), "updated_at",
                                        (json_int_t)sqlite3_column_int64(st, 3)));
        if (!json_is_array(list)) json_decref(list);
    }
    sqlite3_finalize(st);
    return arr;
}

enum sb_err sb_kb_synonyms_set(struct sb_kb *kb, const char *locale, const char *term,
                               json_t *synonyms, struct sb_errbuf *eb)
{
    sqlite3_stmt *st;
    size_t i;
    json_t *v;
    char *text;
    int r;

    if (!sb_kb_locale_known(kb, locale))
        return sb_fail(eb, SB_ERR_INVAL, "locale: not one of the knowledge base's locales");
    if (!plain(term, strlen(term)))
        return sb_fail(eb, SB_ERR_INVAL, "term: 1 to %d bytes of plain text", MAX_TERM_BYTES);
    if (!json_is_array(synonyms) || json_array_size(synonyms) > MAX_SYNONYMS)
        return sb_fail(eb, SB_ERR_INVAL, "synonyms: a list of at most %d", MAX_SYNONYMS);
    json_array_foreach(synonyms, i, v)
    {
        if (!json_is_string(v) || !plain(json_string_value(v), json_string_length(v)) ||
            strlen(json_string_value(v)) != json_string_length(v))
            return sb_fail(eb, SB_ERR_INVAL, "synonyms[%zu]: 1 to %d bytes of plain text", i,
                           MAX_TERM_BYTES);
    }
    kb->synonyms_stale = true;
    kb->index_stale = true; /* answers may change: the index is rebuilt */
    if (json_array_size(synonyms) == 0) {
        r = sqlite3_prepare_v2(kb->db, "DELETE FROM kb_synonyms WHERE locale=?1 AND term=?2", -1,
                               &st, NULL);
    } else {
        r = sqlite3_prepare_v2(kb->db,
                               "INSERT INTO kb_synonyms(locale, term, synonyms, updated_at)"
                               " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(locale, term) DO UPDATE"
                               " SET synonyms=excluded.synonyms, updated_at=excluded.updated_at",
                               -1, &st, NULL);
    }
    if (r != SQLITE_OK) return sb_fail(eb, SB_ERR_DB, "kb: %s", sqlite3_errmsg(kb->db));
    text = json_dumps(synonyms, JSON_COMPACT);
    sqlite3_bind_text(st, 1, locale, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, term, -1, SQLITE_STATIC);
    if (json_array_size(synonyms)) {
        sqlite3_bind_text(st, 3, text ? text : "[]", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, sb_now_ms());
    }
    r = sqlite3_step(st);
    sqlite3_finalize(st);
    free(text);
    if (r != SQLITE_DONE) return sb_fail(eb, SB_ERR_DB, "kb: %s", sqlite3_errmsg(kb->db));
    return SB_OK;
}
