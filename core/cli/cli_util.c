/*
 * cli_util.c - what the operator subcommands (cli_*.c) share: their
 * options, printing a JSON result, reading a JSON file named on the command line, and ending
 * a change with its audit entry, durably.
 *
 * Uses: the store (sb_store.h, sb_audit), sb_read_file, jansson.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth.h"
#include "cli.h"
#include "sb_store.h"
#include "sb_util.h"

static bool bare_word(const char *arg, const char **const pos[], int npos)
{
    for (int k = 0; k < npos; k++)
        if (!*pos[k]) {
            *pos[k] = arg;
            return true;
        }
    return false;
}

bool cli_parse_opts(int argc, char **argv, int first, const struct cli_opt *opts,
                    const char **const pos[], int npos, const char **data)
{
    for (const struct cli_opt *o = opts; o->name; o++) {
        if (o->value) *o->value = NULL;
        if (o->count) *o->count = 0;
    }
    for (int k = 0; k < npos; k++)
        *pos[k] = NULL;
    *data = getenv("SWITCHBOARD_DATA") ? getenv("SWITCHBOARD_DATA") : "data";
    for (int i = first; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        const struct cli_opt *o = opts;

        if (argv[i][0] != '-' || argv[i][1] != '-') {
            if (!bare_word(argv[i], pos, npos)) return false;
            continue;
        }
        while (o->name && strcmp(o->name, argv[i]) != 0)
            o++;
        if (!v || !o->name) return false;
        if (o->value)
            *o->value = v;
        else if (*o->count < o->cap)
            o->list[(*o->count)++] = v;
        else
            return false;
        i++;
    }
    return true;
}

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
