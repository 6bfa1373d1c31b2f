/*
 * fuzz_kb_import_faq.c - a file of `kb import-faq`: CSV (RFC 4180, with
 * a header row) or JSON lines, read and checked by kb_faq_check()
 * (kb/kb_import_faq.c) as sb_kb_import_faq does before its transaction,
 * against a real knowledge base.
 *
 * Input: the first byte picks the format (odd: JSON lines, even: CSV),
 * the rest is the file. Besides crashes it checks that every refusal
 * says why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_env.h"
#include "kb_files.h"

#define MAX_FAQ_BYTES (8 << 20) /* kb/kb_import_faq.c */

static void broken(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_kb_import_faq: %s: '%s'\n", what, detail);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_kb *kb = fuzz_kb();
    struct sb_kb_import_opts opts = {.locale = "en"};
    struct sb_errbuf eb = {{0}};
    const char *path;
    size_t rows = 0;
    enum sb_err rc;

    if (size == 0 || size - 1 > MAX_FAQ_BYTES) return 0;
    path = data[0] & 1 ? "faq.jsonl" : "faq.csv";
    rc = kb_faq_check(kb, path, &opts, (const char *)data + 1, size - 1, &rows, &eb);
    if (rc && !eb.msg[0]) broken("refused without a message", sb_strerror(rc));
    if (!rc && rows > size) broken("more articles than bytes", path);
    return 0;
}
