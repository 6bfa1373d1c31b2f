/*
 * sb_re.h - PCRE2 patterns compiled once and cached, matched with limits
 * so a hostile pattern or subject cannot hang the event loop.
 */
#ifndef SB_RE_H
#define SB_RE_H

#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "sb.h"

struct sb_re_cache;

#define SB_RE_MAX_PATTERN 4096
#define SB_RE_MAX_CAPTURES 32

/* max_entries bounds memory; when full the cache starts over. */
enum sb_err sb_re_cache_new(size_t max_entries, uint32_t match_limit, struct sb_re_cache **out);
void sb_re_cache_free(struct sb_re_cache *c); /* NULL-safe */

/* Flags from text: i (caseless), m (multiline), s (dotall), x (extended).
 * Patterns are always UTF with Unicode properties. */
enum sb_err sb_re_flags(const char *text, uint32_t *flags, struct sb_errbuf *eb);

/* The compiled pattern, borrowed from the cache (valid until the next
 * sb_re_get that may evict, i.e. use it at once). */
enum sb_err sb_re_get(struct sb_re_cache *c, const char *pattern, size_t len, uint32_t flags,
                      pcre2_code **out, struct sb_errbuf *eb);

struct sb_re_match {
    int ncap;                         /* captures incl. the whole match */
    size_t start[SB_RE_MAX_CAPTURES]; /* byte offsets; SIZE_MAX when unset */
    size_t end[SB_RE_MAX_CAPTURES];
};

/* Matches code against subject from byte offset `from`. Returns SB_OK with
 * m->ncap > 0 on a match, SB_OK with ncap 0 on no match, SB_ERR_LIMIT when
 * the match limit was hit, SB_ERR_INVAL for a bad subject. */
enum sb_err sb_re_exec(struct sb_re_cache *c, pcre2_code *code, const char *subject, size_t len,
                       size_t from, struct sb_re_match *m);

/* Convenience: compile-or-get then exec. */
enum sb_err sb_re_search(struct sb_re_cache *c, const char *pattern, uint32_t flags,
                         const char *subject, size_t len, struct sb_re_match *m,
                         struct sb_errbuf *eb);

#endif
