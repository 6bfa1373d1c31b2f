/*
 * help_parse.h - private to core/: the help center's readers of what a
 * visitor sends (core/help/help_center.c), declared here so that the fuzz
 * targets (tests/fuzz/fuzz_help_*.c) call the same code the pages do.
 */
#ifndef HELP_PARSE_H
#define HELP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define HELP_LOCALE_CAP 36
#define HELP_SEARCH_MAX_BYTES 200 /* longer search text is cut */

/* One language range of an Accept-Language header. */
struct lang_range {
    char tag[HELP_LOCALE_CAP];
    int q; /* thousandths */
};

/* The ranges of Accept-Language header h (borrowed) into out[max],
 * highest q first, equal ones in the header's order; malformed ranges and
 * q=0 are skipped. Returns how many. */
int help_accept_language(const char *h, struct lang_range *out, int max);

/* The value of field name in an application/x-www-form-urlencoded body
 * (body[0..len), borrowed), decoded into out[cap]; false when absent or
 * longer than cap. */
bool help_form_field(const char *body, size_t len, const char *name, char *out, size_t cap);

/* The search text from the q argument (v[0..n) as libmicrohttpd decoded
 * it, borrowed) into out: false when it is not valid UTF-8, else cut to
 * HELP_SEARCH_MAX_BYTES between characters. */
bool help_search_text(const char *v, size_t n, char out[HELP_SEARCH_MAX_BYTES + 1]);

#endif
