/*
 * kb_int.h - private to kb/: the handle and helpers shared between files.
 */
#ifndef KB_INT_H
#define KB_INT_H

#include "sb_kb.h"

enum kb_stmt {
    KB_FIND,
    KB_INSERT,
    KB_UPDATE,
    KB_FTS_DELETE,
    KB_FTS_INSERT,
    KB_SEARCH,
    KB_GET,
    KB__COUNT
};

struct sb_kb {
    sqlite3 *db; /* borrowed from the store */
    sqlite3_stmt *stmt[KB__COUNT];
};

/* ------- Interface to code in kb.c ------- */

/* "pt-BR" -> "pt" into lang[cap]. */
void kb_language_of(const char *locale, char *lang, size_t cap);

/* ------- Interface to code in kb_stopwords.c ------- */

/* True when the lowercase word w (len bytes) is a stop word in the
 * language of locale (or in English, which customers mix in everywhere). */
bool kb_is_stopword(const char *locale, const char *w, size_t len);

/* ------- Interface to code in kb_search.c ------- */

/* Registers the sb_coverage() FTS5 auxiliary function on db. */
enum sb_err kb_register_functions(sqlite3 *db);

#endif
