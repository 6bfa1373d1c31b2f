/*
 * cli_kb.c - `switchboard kb ...`: the knowledge base as files.
 *
 *   kb import DIR [-v] --data DATA [--config F]
 *   kb export DIR [--locale L] [--status S] --data DATA [--config F]
 *   kb import-faq FILE --locale L [--category C] [--status S] [-v] --data DATA
 *   kb search TEXT [--locale L] [--fts] --data DATA
 *
 * Each may run while the server runs on the same data directory: imports
 * wait for the database's write lock (the store's busy timeout) and the
 * server sees them on its next search (PRAGMA data_version). A progress
 * bar goes to stderr only when stderr is a terminal; stdout has the
 * report. Exit codes: 0 done, 1 failed (nothing imported), 2 usage.
 *
 * Uses: the import and export of kb/ (sb_kb.h), the config loader of
 * main.c (cli_load_config).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "sb_config.h"
#include "sb_kb.h"
#include "sb_log.h"
#include "sb_store.h"

#define BAR_WIDTH 30

static const char kb_usage[] =
    "usage:\n"
    "  switchboard kb import DIR [-v] --data DATA [--config F]\n"
    "  switchboard kb export DIR [--locale L] [--status S] --data DATA [--config F]\n"
    "  switchboard kb import-faq FILE --locale L [--category C] [--status S] [-v] --data DATA\n"
    "  switchboard kb search TEXT [--locale L] [--fts] --data DATA\n"
    "  switchboard kb eval KIND TRAIN TEST [--engine index|fts] ... (kb eval --help)\n"
    "(formats: docs/operating.md, \"Knowledge base as files\")\n";

/* Options of the kb commands, taken out of argv before the config flags
 * (--data, --config, ...) are read. */
struct kb_args {
    const char *locale, *status, *category;
    bool verbose, fts;
};

/* Removes argv[i] and, when it takes one, its value; false when the value
 * is missing. */
static bool take(int *argc, char **argv, int i, int n)
{
    if (i + n - 1 >= *argc) return false;
    memmove(&argv[i], &argv[i + n], (size_t)(*argc - i - n) * sizeof(*argv));
    *argc -= n;
    return true;
}

static int parse_kb_args(int *argc, char **argv, struct kb_args *a)
{
    static const char *const valued[] = {"--locale", "--status", "--category"};
    memset(a, 0, sizeof(*a));
    for (int i = 4; i < *argc;) {
        const char **slot[] = {&a->locale, &a->status, &a->category};
        bool found = false;
        if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
            a->verbose = take(argc, argv, i, 1);
            continue;
        }
        if (strcmp(argv[i], "--fts") == 0) {
            a->fts = take(argc, argv, i, 1);
            continue;
        }
        for (size_t k = 0; k < SB_ARRAY_LEN(valued); k++) {
            if (strcmp(argv[i], valued[k]) != 0) continue;
            if (i + 1 >= *argc) {
                fprintf(stderr, "switchboard: %s needs a value\n", valued[k]);
                return 2;
            }
            *slot[k] = argv[i + 1];
            take(argc, argv, i, 2);
            found = true;
        }
        if (!found) i++;
    }
    return 0;
}

/* ---- progress and report ---- */

struct report {
    bool tty; /* stderr is a terminal: draw the bar */
    bool verbose;
    int last; /* last percentage drawn */
    const char *label;
};

static void progress(void *arg, int done, int total)
{
    struct report *r = arg;
    int pct, filled;

    if (!r->tty || total <= 0) return;
    pct = (int)((long long)done * 100 / total);
    if (pct == r->last) return;
    r->last = pct;
    filled = pct * BAR_WIDTH / 100;
    fprintf(stderr, "\r%s [%.*s%*s] %3d%%", r->label, filled, "##############################",
            BAR_WIDTH - filled, "", pct);
    fflush(stderr);
}

static void progress_end(struct report *r)
{
    if (r->tty && r->last >= 0) fprintf(stderr, "\r\033[K");
}

static void item(void *arg, const char *where, const char *locale, const char *slug,
                 enum sb_kb_change change)
{
    struct report *r = arg;
    if (!r->verbose || change == SB_KB_UNCHANGED) return;
    printf("  %-7s %s (%s/%s)\n", change == SB_KB_ADDED ? "added" : "changed", where, locale, slug);
}

/* ---- the database ---- */

struct kb_db {
    struct sb_config cfg;
    struct sb_store *st;
    struct sb_kb *kb;
};

/* Loads the config (argv from index 4) and opens the store and the kb.
 * must_exist: refuse to create a database (export, search). */
static int open_kb(struct kb_db *d, int argc, char **argv, bool must_exist, const char *what)
{
    struct sb_errbuf eb = {{0}};
    char dbpath[SB_PATH_MAX + 32];
    struct stat sb;
    int rc = cli_load_config(&d->cfg, argc, argv, 4);

    if (rc) return rc;
    /* The report is the output; store notices (migrations) would be noise. */
    sb_log_set_level(SB_LOG_WARN);
    snprintf(dbpath, sizeof(dbpath), "%s/switchboard.db", d->cfg.data_dir);
    if (must_exist && stat(dbpath, &sb) != 0) {
        fprintf(stderr, "switchboard: %s: %s: no database there (--data)\n", what, dbpath);
        return 1;
    }
    if (mkdir(d->cfg.data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "switchboard: %s: %s\n", d->cfg.data_dir, strerror(errno));
        return 1;
    }
    if (sb_store_open(dbpath, d->cfg.synchronous, &d->st, &eb) ||
        sb_kb_open(sb_store_db(d->st), &d->kb, &eb) ||
        sb_kb_set_locales(d->kb, d->cfg.locales, &eb)) {
        fprintf(stderr, "switchboard: %s: %s\n", what, eb.msg);
        return 1;
    }
    return 0;
}

static void close_kb(struct kb_db *d)
{
    sb_kb_close(d->kb);
    sb_store_close(d->st);
}

static void print_stats(const char *what, const struct sb_kb_import_stats *s)
{
    printf("%s: %d added, %d changed, %d unchanged", what, s->added, s->changed, s->unchanged);
    if (s->categories) printf("; %d category names saved", s->categories);
    printf("\n");
}

/* ---- commands ---- */

static int cmd_import(int argc, char **argv, const struct kb_args *a, bool faq)
{
    const char *what = faq ? "kb import-faq" : "kb import";
    struct report r = {
        .tty = isatty(STDERR_FILENO), .verbose = a->verbose, .last = -1, .label = what};
    struct sb_kb_import_opts o = {.author = "cli",
                                  .progress = progress,
                                  .item = item,
                                  .arg = &r,
                                  .locale = a->locale,
                                  .category = a->category,
                                  .status = a->status};
    struct sb_kb_import_stats s = {0};
    struct sb_errbuf eb = {{0}};
    struct kb_db d = {0};
    enum sb_err err;
    int rc;

    if (!faq && (a->locale || a->status || a->category)) {
        fprintf(stderr, "switchboard: kb import: --locale, --status and --category are for "
                        "import-faq and export; the files say them\n");
        return 2;
    }
    rc = open_kb(&d, argc, argv, false, what);
    if (rc) goto out;
    err = faq ? sb_kb_import_faq(d.kb, argv[3], &o, &s, &eb)
              : sb_kb_import_tree(d.kb, argv[3], &o, &s, &eb);
    progress_end(&r);
    if (err) {
        fprintf(stderr, "switchboard: %s: %s\n", what, eb.msg);
        fprintf(stderr, "switchboard: %s: nothing was imported\n", what);
        rc = 1;
        goto out;
    }
    print_stats(what, &s);
out:
    close_kb(&d);
    return rc;
}

static int cmd_export(int argc, char **argv, const struct kb_args *a)
{
    struct sb_kb_export_stats s = {0};
    struct sb_errbuf eb = {{0}};
    struct kb_db d = {0};
    int rc;

    if (a->category || a->verbose) {
        fprintf(stderr, "switchboard: kb export: only --locale and --status filter the export\n");
        return 2;
    }
    rc = open_kb(&d, argc, argv, true, "kb export");
    if (rc) goto out;
    if (sb_kb_export_dir(d.kb, argv[3], a->locale, a->status, &s, &eb)) {
        fprintf(stderr, "switchboard: kb export: %s\n", eb.msg);
        rc = 1;
        goto out;
    }
    printf("kb export: %d articles, %d category files in %s (%d files written, %d unchanged)\n",
           s.articles, s.category_files, argv[3], s.written,
           s.articles + s.category_files - s.written);
out:
    close_kb(&d);
    return rc;
}

/* What the bot would find, with confidences, for editors and for tuning;
 * --fts asks SQLite FTS5 instead of the answer engine's index. */
static int cmd_search(int argc, char **argv, const struct kb_args *a)
{
    struct sb_kb_result res = {0};
    struct kb_db d = {0};
    const char *locale = a->locale ? a->locale : "en";
    int rc = open_kb(&d, argc, argv, true, "kb search");

    if (rc) goto out;
    if (a->fts)
        sb_kb_search_fts(d.kb, argv[3], locale, SB_KB_MAX_HITS, &res);
    else
        sb_kb_search(d.kb, argv[3], locale, SB_KB_MAX_HITS, &res);
    printf("terms: %d\n", res.terms);
    for (int i = 0; i < res.n; i++)
        printf("%.3f  coverage %.2f  bm25 %6.2f  %s/%s  %s\n", res.hit[i].confidence,
               res.hit[i].coverage, res.hit[i].bm25, res.hit[i].locale, res.hit[i].slug,
               res.hit[i].title);
    sb_kb_result_cleanup(&res);
out:
    close_kb(&d);
    return rc;
}

int cli_kb(int argc, char **argv)
{
    struct kb_args a;
    const char *sub = argc >= 3 ? argv[2] : "";
    int rc;

    if (argc < 4 || argv[3][0] == '-') {
        fputs(kb_usage, argc >= 3 && !strcmp(sub, "--help") ? stdout : stderr);
        return 2;
    }
    rc = parse_kb_args(&argc, argv, &a);
    if (rc) return rc;
    if (strcmp(sub, "import") == 0) return cmd_import(argc, argv, &a, false);
    if (strcmp(sub, "import-faq") == 0) return cmd_import(argc, argv, &a, true);
    if (strcmp(sub, "export") == 0) return cmd_export(argc, argv, &a);
    if (strcmp(sub, "search") == 0) return cmd_search(argc, argv, &a);
    fprintf(stderr, "switchboard: unknown kb command '%s'\n%s", sub, kb_usage);
    return 2;
}
