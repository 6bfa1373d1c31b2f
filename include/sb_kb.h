/*
 * sb_kb.h - the knowledge base: articles, the FTS5 index of the published
 * ones, search with a confidence score, and import of Markdown files.
 *
 * struct sb_kb borrows the sqlite3 handle of the store (same thread) and
 * keeps its own prepared statements. Strings passed in are borrowed.
 */
#ifndef SB_KB_H
#define SB_KB_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "sb.h"

struct sb_kb;

enum sb_err sb_kb_open(sqlite3 *db, struct sb_kb **out, struct sb_errbuf *eb);
void sb_kb_close(struct sb_kb *kb); /* NULL-safe */

struct sb_kb_article {
    const char *slug, *locale, *title, *summary, *body, *category, *status;
    json_t *tags;     /* array of strings, borrowed, may be NULL */
    json_t *examples; /* array of strings, borrowed, may be NULL */
};

enum sb_kb_change { SB_KB_UNCHANGED, SB_KB_ADDED, SB_KB_CHANGED };

/* Inserts or updates the article (locale, slug) and its index entry. */
enum sb_err sb_kb_upsert(struct sb_kb *kb, const struct sb_kb_article *a, enum sb_kb_change *change,
                         struct sb_errbuf *eb);

#define SB_KB_MAX_HITS 10

struct sb_kb_hit {
    int64_t id;
    char slug[128];
    char locale[36];
    char title[256];
    char *summary;     /* owned */
    double bm25;       /* higher is better */
    double coverage;   /* share of query terms found in the article, 0..1 */
    double confidence; /* 0..1 */
    bool exact_locale; /* in the locale asked for, not a fallback region */
};

struct sb_kb_result {
    int n;
    int terms; /* number of search terms taken from the text */
    struct sb_kb_hit hit[SB_KB_MAX_HITS];
};

/* Searches published articles in locale (falling back to other regions of
 * the same language) for customer text, from an in-memory index that is
 * rebuilt when articles change. Any text is safe: it is only ever cut
 * into words. Hits are sorted: the exact locale first, then confidence. */
enum sb_err sb_kb_search(struct sb_kb *kb, const char *text, const char *locale, int limit,
                         struct sb_kb_result *out);
void sb_kb_result_cleanup(struct sb_kb_result *r);

/* The same search answered by SQLite FTS5 (BM25 with the same column
 * weights): the baseline the answer engine is measured against. */
enum sb_err sb_kb_search_fts(struct sb_kb *kb, const char *text, const char *locale, int limit,
                             struct sb_kb_result *out);

/* Turns customer text into an FTS5 query of quoted terms joined by OR.
 * Returns the number of terms (0 = nothing searchable). out is always
 * NUL-terminated. Exposed for tests. */
int sb_kb_build_query(const char *text, const char *locale, char *out, size_t cap);

/* A published article as JSON {slug, locale, title, summary, body,
 * category}, or NULL. Falls back within the language like search. */
json_t *sb_kb_article_get(struct sb_kb *kb, const char *locale, const char *slug);

/* Articles as a JSON array of {slug, locale, title, status, updated_at},
 * filtered by locale and status when given (NULL = any). */
json_t *sb_kb_list(struct sb_kb *kb, const char *locale, const char *status);

/* Imports every *.md file under dir (Markdown with YAML front matter).
 * Counts go to the out-parameters; a bad file is reported in eb and stops
 * the import before anything is committed. */
enum sb_err sb_kb_import_dir(struct sb_kb *kb, const char *dir, int *added, int *changed,
                             int *unchanged, struct sb_errbuf *eb);

#endif
