/*
 * fuzz_kb_categories.c - a folder's _categories.yaml of `kb import`
 * (slug: {name, description, position}), read by kb_categories_parse()
 * (kb/kb_import.c: UTF-8 check, libyaml, the known keys, positions).
 *
 * Besides crashes it checks that every refusal says why, and that each
 * accepted category has a name and description (text) and a position
 * and line (whole numbers), as save_category() expects.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb_files.h"

#define MAX_FILE_BYTES (1 << 20) /* kb/kb_import.c */

static void broken(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_kb_categories: %s: '%s'\n", what, detail);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_errbuf eb = {{0}};
    json_t *cats = NULL, *entry;
    const char *slug;
    enum sb_err rc;

    if (size > MAX_FILE_BYTES) return 0;
    rc = kb_categories_parse("_categories.yaml", (const char *)data, size, &cats, &eb);
    if (rc) {
        if (!eb.msg[0]) broken("refused without a message", sb_strerror(rc));
        return 0;
    }
    json_object_foreach(cats, slug, entry)
    {
        if (!json_is_string(json_object_get(entry, "name")) ||
            !json_is_string(json_object_get(entry, "description")) ||
            !json_is_integer(json_object_get(entry, "position")) ||
            !json_is_integer(json_object_get(entry, "line")))
            broken("a category without its fields", slug);
    }
    json_decref(cats);
    return 0;
}
