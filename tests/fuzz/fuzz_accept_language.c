/*
 * fuzz_accept_language.c - the Accept-Language header as the help center
 * reads it to send /help to the visitor's language: the ranges
 * (help_accept_language, core/help/help_center.c), then the first one whose
 * language the knowledge base knows (sb_kb_match_locale, kb/kb_locale.c),
 * as visitor_locale() does.
 *
 * Besides crashes it checks: at most the ranges asked for, sorted by q
 * (highest first), each q in 1..1000 and each tag short enough and made of
 * letters, digits, '-' or a lone '*'; a matched locale is a known one.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_env.h"
#include "help_parse.h"

#define MAX_RANGES 16 /* ACCEPT_MAX_RANGES in core/help/help_center.c */

static void broken(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_accept_language: %s: '%s'\n", what, detail);
    abort();
}

static void check_range(const struct lang_range *r)
{
    size_t n = strnlen(r->tag, sizeof(r->tag));

    if (n == 0 || n >= sizeof(r->tag)) broken("tag of a bad length", "");
    if (r->q < 1 || r->q > 1000) broken("q out of range", r->tag);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)r->tag[i]) && r->tag[i] != '-' && !(r->tag[i] == '*' && n == 1))
            broken("tag with a byte no language tag has", r->tag);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_kb *kb = fuzz_kb();
    /* A header value ends at its first NUL, as libmicrohttpd hands it over. */
    char *h = strndup((const char *)data, size);
    struct lang_range ranges[MAX_RANGES + 1];
    int n;

    /* One slot more than asked for: writing it is an overflow ASan can't see. */
    memset(&ranges[MAX_RANGES], 0x5a, sizeof(ranges[MAX_RANGES]));
    n = help_accept_language(h, ranges, MAX_RANGES);
    if (n < 0 || n > MAX_RANGES) broken("more ranges than asked for", h);
    if (ranges[MAX_RANGES].q != 0x5a5a5a5a) broken("wrote past the ranges asked for", h);
    for (int i = 0; i < n; i++) {
        char out[HELP_LOCALE_CAP];
        check_range(&ranges[i]);
        if (i > 0 && ranges[i - 1].q < ranges[i].q) broken("ranges not sorted by q", h);
        if (strcmp(ranges[i].tag, "*") == 0) break;
        if (sb_kb_match_locale(kb, ranges[i].tag, out, sizeof(out))) {
            if (!sb_kb_locale_known(kb, out)) broken("matched a locale not known", out);
            break;
        }
    }
    free(h);
    return 0;
}
