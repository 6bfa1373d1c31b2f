/*
 * cli_util.c - what the operator subcommands (cli_*.c) share: printing a
 * JSON result, reading a JSON file named on the command line, and ending
 * a change with its audit entry, durably.
 *
 * Uses: the store (sb_store.h, sb_audit), sb_read_file, jansson.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "auth.h"
#include "cli.h"
#include "sb_store.h"
#include "sb_util.h"

int cli_print_json(json_t *v, size_t indent)
{
    char *text = v ? json_dumps(v, JSON_INDENT(indent)) : NULL;

    json_decref(v);
    if (!text) return 1;
    printf("%s\n", text);
    free(text);
    return 0;
}

json_t *cli_read_json(const char *path, size_t max)
{
    struct sb_errbuf eb = {{0}};
    json_error_t jerr;
    json_t *v;
    char *text = NULL;
    size_t len = 0;

    if (sb_read_file(path, max, &text, &len, &eb)) {
        fprintf(stderr, "switchboard: %s\n", eb.msg);
        return NULL;
    }
    v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!v) fprintf(stderr, "switchboard: %s:%d: %s\n", path, jerr.line, jerr.text);
    return v;
}

enum sb_err cli_audit_commit(struct sb_store *st, enum sb_err rc, const char *action,
                             const char *target, const char *detail)
{
    if (!rc) rc = sb_audit(st, "cli", action, target, "local", detail);
    if (!rc) rc = sb_store_commit(st);
    /* the CLI exits next: the change must be on disk before it says so */
    if (!rc) rc = sb_store_flush(st);
    if (rc) sb_store_rollback(st);
    return rc;
}
