/*
 * fuzz_kb_import.c - one article file of `kb import` (Markdown with YAML
 * front matter): kb_article_parse() (kb/kb_import.c: the '---' split,
 * UTF-8 check, libyaml, the known keys), then the checks an import makes
 * before its transaction (kb_items_check: sb_kb_validate against a real
 * knowledge base), within the import's file size limit.
 *
 * Besides crashes it checks that every refusal says why, and that an
 * accepted file gives an article with a body and the line of each field.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_env.h"
#include "kb_files.h"

#define MAX_FILE_BYTES (1 << 20) /* kb/kb_import.c */

static void broken(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_kb_import: %s: '%s'\n", what, detail);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_kb *kb = fuzz_kb();
    struct sb_errbuf eb = {{0}};
    struct kb_items items = {0};
    json_t *art = NULL, *lines = NULL;
    enum sb_err rc;

    if (size > MAX_FILE_BYTES) return 0;
    rc = kb_article_parse("fuzz.md", (const char *)data, size, &art, &lines, &eb);
    if (rc) {
        if (!eb.msg[0]) broken("refused without a message", sb_strerror(rc));
        return 0;
    }
    if (!json_is_string(json_object_get(art, "body")) ||
        !json_is_integer(json_object_get(lines, "body")))
        broken("an accepted file without a body or its line", "");
    rc = kb_items_add(&items, strdup("fuzz.md"), art, lines, false);
    if (rc) broken("kb_items_add failed", sb_strerror(rc));
    rc = kb_items_check(kb, &items, &eb);
    if (rc && !eb.msg[0]) broken("refused by the checks without a message", sb_strerror(rc));
    kb_items_cleanup(&items);
    return 0;
}
