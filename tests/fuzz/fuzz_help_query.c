/*
 * fuzz_help_query.c - the help center's search text, from a raw query
 * string: the q argument found and percent-decoded as libmicrohttpd does
 * (split at '&' and '=', MHD_http_unescape), then help_search_text()
 * (core/help/help_center.c) checks its UTF-8 and cuts it between characters.
 *
 * Besides crashes it checks the promise made to the search and the page:
 * accepted text is valid UTF-8, at most HELP_SEARCH_MAX_BYTES long, and a
 * prefix of what was sent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "help_parse.h"
#include "sb_util.h"

static void broken(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_help_query: %s: '%s'\n", what, detail);
    abort();
}

/* The value of q in query (modified in place), decoded; NULL when absent. */
static char *query_q(char *query, size_t *n)
{
    for (char *arg = strtok(query, "&"); arg; arg = strtok(NULL, "&")) {
        char *eq = strchr(arg, '=');
        if (!eq || eq - arg != 1 || arg[0] != 'q') continue;
        *n = MHD_http_unescape(eq + 1);
        return eq + 1;
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *query = strndup((const char *)data, size);
    char out[HELP_SEARCH_MAX_BYTES + 1];
    size_t n = 0, len;
    char *v = query_q(query, &n);

    if (v && help_search_text(v, n, out)) {
        len = strlen(out);
        if (len > HELP_SEARCH_MAX_BYTES) broken("search text over the limit", out);
        if (!sb_utf8_valid(out, len)) broken("search text not valid UTF-8", out);
        if (len > n || memcmp(out, v, len) != 0) broken("search text not a prefix of q", out);
    }
    free(query);
    return 0;
}
