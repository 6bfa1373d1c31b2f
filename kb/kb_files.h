/*
 * kb_files.h - private to kb/: what the file imports and the export share.
 * Cut into banners by the file that implements each part, as in
 * kb_int.h.
 */
#ifndef KB_FILES_H
#define KB_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "kb_int.h"
#include "sb_util.h"

/* ------- Interface to code in kb_import.c ------- */

/* One article on its way in: read and checked before the transaction,
 * saved inside it. */
struct kb_item {
    char *where;              /* owned: "path" or "path:line", for messages */
    json_t *art;              /* owned: article fields (strings, tags/examples arrays) */
    json_t *lines;            /* owned, may be NULL: field -> line in the file */
    bool derive;              /* FAQ: the slug was made from the title, may get -2, -3 */
    enum sb_kb_change change; /* set by the save */
};

/* A growable list of items with a hard cap (KB_MAX_ITEMS). */
struct kb_items {
    struct kb_item *v;
    size_t n, cap;
};

#define KB_MAX_ITEMS 100000

/* Appends an item taking ownership of where (malloc'd), art and lines;
 * they are freed on failure too. */
enum sb_err kb_items_add(struct kb_items *l, char *where, json_t *art, json_t *lines, bool derive);
void kb_items_cleanup(struct kb_items *l);

/* The article fields of it as borrowed pointers into it->art. */
void kb_item_article(const struct kb_item *it, const char *author, const char *note,
                     struct sb_kb_article *a);

/* Re-labels a field error of sb_kb_validate or sb_kb_save ("title: is
 * required") with where and the field's line when known: "x.md:2: title:
 * ...". Returns rc. */
enum sb_err kb_item_fail(const struct kb_item *it, enum sb_err rc, struct sb_errbuf *eb);

/* Checks every item with sb_kb_validate and refuses two items with the
 * same (locale, slug), naming both. Items with derive set are checked for
 * their title only: their slug is settled in the transaction. */
enum sb_err kb_items_check(struct sb_kb *kb, struct kb_items *l, struct sb_errbuf *eb);

/* What an import adds to the transaction: prepare runs before each item
 * is saved (the FAQ import settles derived slugs there), extra after all
 * of them (the categories of the folder import) and counts its changes. */
struct kb_save_hooks {
    enum sb_err (*prepare)(struct sb_kb *kb, void *arg, struct kb_items *l, size_t i,
                           struct sb_errbuf *eb);
    enum sb_err (*extra)(struct sb_kb *kb, void *arg, int *changed, struct sb_errbuf *eb);
    void *arg;
};

/* The transaction: BEGIN IMMEDIATE, sb_kb_save of each item, the hooks,
 * COMMIT; on any error ROLLBACK. When nothing changed it ends with a
 * ROLLBACK too, so a re-import writes nothing at all. Progress is
 * reported as step0 + items saved of steps; opts->item is called for each
 * item after the commit. h and o may be NULL. */
enum sb_err kb_items_save(struct sb_kb *kb, struct kb_items *l, const struct kb_save_hooks *h,
                          const struct sb_kb_import_opts *o, int step0, int steps,
                          struct sb_kb_import_stats *out, struct sb_errbuf *eb);

/* One article file's text (text[0..len), borrowed; path names it in
 * messages): the YAML front matter between '---' lines, then the Markdown
 * body. art (owned) gets the fields with defaults for those left out,
 * lines (owned) the line of each; nothing is checked against the
 * knowledge base yet (kb_items_check does that). */
enum sb_err kb_article_parse(const char *path, const char *text, size_t len, json_t **art_out,
                             json_t **lines_out, struct sb_errbuf *eb);

/* A folder's _categories.yaml text (text[0..len), borrowed) into *out
 * (owned): slug -> {name, description, position, line}. */
enum sb_err kb_categories_parse(const char *path, const char *text, size_t len, json_t **out,
                                struct sb_errbuf *eb);

/* Copies the message in eb after a prefix: "prefix: message". */
enum sb_err kb_fail_prefix(struct sb_errbuf *eb, enum sb_err rc, const char *prefix);

/* The line (1-based) of the first byte of s[0..len) that is not valid
 * UTF-8, or 0 when all of it is. */
size_t kb_utf8_bad_line(const char *s, size_t len);

/* ------- Interface to code in kb_export.c ------- */

/* Appends s[0..len) as a YAML double-quoted scalar: \ and " escaped,
 * control characters, DEL, C1 controls, line and paragraph separators and
 * the byte-order mark as escapes, so libyaml reads back exactly s. s must
 * be valid UTF-8. */
enum sb_err kb_yaml_quote(struct sb_buf *b, const char *s, size_t len);

/* ------- Interface to code in kb_import_faq.c ------- */

/* An RFC 4180 reader over text[0..len): fields separated by commas,
 * records by CRLF or LF, quoted fields may hold commas, line breaks and
 * "" for a quote. A UTF-8 byte-order mark at the start is skipped. */
struct kb_csv {
    const char *text;
    size_t len, pos;
    size_t line;     /* line the next record starts on (1-based) */
    size_t rec_line; /* line the record last read started on */
};

void kb_csv_init(struct kb_csv *c, const char *text, size_t len);

/* The next record as an array of strings (owned, *out); *out is NULL at
 * the end. Blank lines are skipped. Errors (SB_ERR_INVAL, eb "CSV: ...",
 * with rec_line set to the line of the problem): an unclosed quote, a
 * quote inside an unquoted field, text after a closing quote. */
enum sb_err kb_csv_next(struct kb_csv *c, json_t **out, struct sb_errbuf *eb);

/* A slug from a title into out[cap] (cap > 1): Latin letters folded to
 * ASCII and lowercase, every other run of characters one '-', at most
 * SB_KB_MAX_SLUG bytes, cut at a '-' when possible; "faq" when nothing is
 * left. */
void kb_slug_from_title(const char *title, char *out, size_t cap);

/* Reads and checks the rows of a FAQ file's text (text[0..len), borrowed)
 * as sb_kb_import_faq does before its transaction: JSON lines when path
 * ends in .jsonl, else CSV; opts->locale is every row's locale. *rows gets
 * the number of articles read. Nothing is saved. */
enum sb_err kb_faq_check(struct sb_kb *kb, const char *path, const struct sb_kb_import_opts *opts,
                         const char *text, size_t len, size_t *rows, struct sb_errbuf *eb);

#endif
