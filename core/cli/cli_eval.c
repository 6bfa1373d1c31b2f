/*
 * cli_eval.c - `switchboard kb eval`: how well the answer engine answers a
 * public dataset, in a throwaway knowledge base.
 *
 *   kb eval KIND TRAIN TEST [--examples FILE] [--engine index|fts]
 *           [--threshold T] [--locale L] [--limit-per-intent N] [--misses]
 *
 * The knowledge base lives in a data directory made under $TMPDIR (else
 * /tmp) and removed at exit, also on SIGINT, SIGTERM, SIGHUP and SIGPIPE
 * (`kb eval ... --misses | head`), so runs never touch a real one and
 * leave nothing behind. stdout has human-readable lines, then one JSON
 * object on the last line for scripts (scripts/bench-answers.sh). Exit
 * codes: 0 done, 1 failed (the database), 2 usage or a dataset that
 * cannot be read.
 *
 * Uses: the evaluation of kb/ (sb_kb_eval_*, kb/eval/kb_eval.h), the store.
 * Built into the sbeval library with kb_eval.c, not into sbcore: a tool,
 * not serving code.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "kb_eval.h"
#include "sb_config.h"
#include "sb_kb.h"
#include "sb_log.h"
#include "sb_store.h"

static const char eval_usage[] =
    "usage: switchboard kb eval KIND TRAIN TEST [--examples FILE] [--engine index|fts]\n"
    "                           [--threshold T] [--locale L] [--limit-per-intent N] [--misses]\n"
    "  KIND: banking77 | hwu64 (CSV), clinc150 (JSON), aia-bde (FAQs as JSON lines,\n"
    "        queries as TSV), ro-intents (Rasa NLU JSON); see include/sb_kb.h\n"
    "  --engine fts: the plain SQLite FTS5 BM25 baseline instead of the answer engine\n"
    "  --threshold: the confidence needed to answer (default: the server's, 0.5)\n"
    "  --misses: print every query the engine got wrong\n"
    "  --dump FILE: write one line per query (oos, right, the first and second hits'\n"
    "    fused scores and confidences, the first hit's example vote, coverage and\n"
    "    in-scope factor), tab-separated, for bench/fit_calibration.py and\n"
    "    bench/fit_oos_gate.py\n";

struct eval_args {
    struct sb_kb_eval_opts o;
    const char *engine, *locale;
    double threshold;
    bool misses;
    const char *dump; /* --dump FILE: one line per query, for calibration */
};

/* ---- arguments ---- */

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "switchboard: kb eval: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", eval_usage);
    return 2;
}

static bool parse_threshold(const char *s, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0 && v <= 1)) return false;
    *out = v;
    return true;
}

static bool parse_count(const char *s, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 1000000) return false;
    *out = (int)v;
    return true;
}

/* One option with its value at argv[i + 1]; returns 0 or the exit code. */
static int parse_valued(struct eval_args *a, const char *opt, const char *val)
{
    if (strcmp(opt, "--examples") == 0) {
        a->o.examples = val;
    } else if (strcmp(opt, "--engine") == 0) {
        if (strcmp(val, "index") != 0 && strcmp(val, "fts") != 0)
            return usage_error("--engine must be index or fts, not '%s'", val);
        a->engine = val;
    } else if (strcmp(opt, "--threshold") == 0) {
        if (!parse_threshold(val, &a->threshold))
            return usage_error("--threshold must be a number from 0 to 1, not '%s'", val);
    } else if (strcmp(opt, "--locale") == 0) {
        a->locale = val;
    } else if (strcmp(opt, "--limit-per-intent") == 0) {
        if (!parse_count(val, &a->o.limit_per_intent))
            return usage_error("--limit-per-intent must be a whole number above 0, not '%s'", val);
    } else {
        return usage_error("unknown option '%s'", opt);
    }
    return 0;
}

static int parse_eval_args(int argc, char **argv, struct eval_args *a)
{
    struct sb_config defaults;

    sb_config_defaults(&defaults);
    memset(a, 0, sizeof(*a));
    a->engine = "index";
    a->threshold = defaults.kb_answer_threshold; /* what the server answers with */
    if (argc >= 4 && (strcmp(argv[3], "--help") == 0 || strcmp(argv[3], "-h") == 0)) {
        fputs(eval_usage, stdout);
        return -1;
    }
    if (argc < 6) return usage_error("%s", "KIND, TRAIN and TEST are required");
    a->o.kind = argv[3];
    a->o.train = argv[4];
    a->o.test = argv[5];
    for (int i = 6; i < argc; i++) {
        int rc;
        if (strcmp(argv[i], "--misses") == 0) {
            a->misses = true;
            continue;
        }
        if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc) {
            a->dump = argv[++i];
            continue;
        }
        if (argv[i][0] != '-') return usage_error("unexpected argument '%s'", argv[i]);
        if (i + 1 >= argc) return usage_error("%s needs a value", argv[i]);
        rc = parse_valued(a, argv[i], argv[i + 1]);
        if (rc) return rc;
        i++;
    }
    if (!sb_kb_eval_locale(a->o.kind))
        return usage_error("unknown KIND '%s' (banking77, hwu64, clinc150, aia-bde, ro-intents)",
                           a->o.kind);
    if (!a->locale) a->locale = sb_kb_eval_locale(a->o.kind);
    return 0;
}

/* ---- the throwaway data directory ---- */

static const char *const db_files[] = {"switchboard.db", "switchboard.db-wal", "switchboard.db-shm",
                                       "switchboard.db-journal"};

/* Filled before the handlers are installed and never changed after, so the
 * handler only reads them. */
static char tmp_dir[SB_PATH_MAX];
static char tmp_files[SB_ARRAY_LEN(db_files)][SB_PATH_MAX + 32];

static void remove_tmp(void)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(db_files); i++)
        unlink(tmp_files[i]);
    rmdir(tmp_dir);
}

/* unlink, rmdir and _exit are async-signal-safe. */
static void on_signal(int sig)
{
    remove_tmp();
    _exit(128 + sig);
}

/* Makes the directory with the signals that remove it blocked until the
 * handlers are in place and know every path: a signal in between would
 * otherwise leave the directory behind. */
static int make_tmp(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    const char *base = getenv("TMPDIR");
    struct sigaction sa;
    sigset_t block, old;
    int rc = 0;

    if (!base || !*base) base = "/tmp";
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&block);
    for (size_t i = 0; i < SB_ARRAY_LEN(sigs); i++)
        sigaddset(&block, sigs[i]);
    sigprocmask(SIG_BLOCK, &block, &old);
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/switchboard-eval-XXXXXX", base);
    if (!mkdtemp(tmp_dir)) {
        fprintf(stderr, "switchboard: kb eval: %s: %s\n", tmp_dir, strerror(errno));
        rc = 1;
    }
    for (size_t i = 0; i < SB_ARRAY_LEN(db_files) && !rc; i++)
        snprintf(tmp_files[i], sizeof(tmp_files[i]), "%s/%s", tmp_dir, db_files[i]);
    for (size_t i = 0; i < SB_ARRAY_LEN(sigs) && !rc; i++)
        sigaction(sigs[i], &sa, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* ---- the report ---- */

static void print_miss(void *arg, const char *query, const char *want, const struct sb_kb_hit *got,
                       bool answered)
{
    (void)arg;
    printf("miss: %-28s -> %-28s %.3f %s  %s\n", want ? want : "(out of scope)",
           got ? got->slug : "(nothing)", got ? got->confidence : 0.0,
           answered ? "answered" : "unsure  ", query);
}

/* oos right score1 score2 confidence1 confidence2 vote1 coverage1
 * in_scope1: what the calibrations need of each query
 * (bench/fit_calibration.py, bench/fit_oos_gate.py) */
static void dump_query(void *arg, bool oos, bool right, const struct sb_kb_result *res)
{
    FILE *f = arg;
    const struct sb_kb_hit *h = res->n ? &res->hit[0] : NULL;
    fprintf(f, "%d\t%d\t%.5f\t%.5f\t%.5f\t%.5f\t%.5f\t%.5f\t%.5f\n", oos, right, h ? h->score : 0.0,
            res->n > 1 ? res->hit[1].score : 0.0, h ? h->confidence : 0.0,
            res->n > 1 ? res->hit[1].confidence : 0.0, h ? h->neighbours : 0.0,
            h ? h->coverage : 0.0, h ? h->in_scope : 1.0);
}

static void print_pct(const char *label, int k, int n)
{
    if (n)
        printf("%s %.2f%%", label, 100.0 * k / n);
    else
        printf("%s -", label);
}

static void print_report(const struct eval_args *a, const struct sb_kb_eval_stats *s)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:f}", "kind", a->o.kind, "engine", a->engine, "locale",
                          a->locale, "threshold", a->threshold);
    json_t *scores;
    char *line;

    printf("kb eval %s: engine %s, locale %s, threshold %.2f\n", a->o.kind, a->engine, a->locale,
           a->threshold);
    printf("knowledge base: %d articles, %d example questions (%d cut to %d bytes; skipped: %d "
           "invalid, %d repeated, %d over %d per article) in %.1f ms\n",
           s->articles, s->examples, s->cut, SB_KB_MAX_ITEM, s->skipped_invalid,
           s->skipped_repeated, s->skipped_over, SB_KB_MAX_EXAMPLES, s->build_ms);
    if (s->articles_skipped)
        printf("warning: %d articles skipped; the first: %s\n", s->articles_skipped, s->note);
    if (s->unused) printf("warning: %d --examples rows name no article\n", s->unused);
    printf("test: %d in-scope queries, %d out-of-scope\n", s->n, s->n_oos);
    if (s->no_article) printf("warning: %d test queries name no article\n", s->no_article);
    print_pct("top-1", s->top1, s->n);
    print_pct("  top-3", s->top3, s->n);
    print_pct("  in-scope accuracy", s->answered_right, s->n);
    print_pct("  answered wrong", s->answered_wrong, s->n);
    print_pct("  out-of-scope recall", s->oos_declined, s->n_oos);
    printf("\nlatency: first search (index build) %.1f ms, p50 %.3f ms, p99 %.3f ms\n", s->index_ms,
           s->p50_ms, s->p99_ms);
    scores = sb_kb_eval_json(s);
    if (j && scores) json_object_update(j, scores);
    line = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    printf("%s\n", line ? line : "{}");
    free(line);
    json_decref(scores);
    json_decref(j);
}

/* ---- the run ---- */

struct eval_db {
    struct sb_store *st;
    struct sb_kb *kb;
};

static int open_db(struct eval_db *d, const char *locale)
{
    struct sb_errbuf eb = {{0}};
    char path[SB_PATH_MAX + 32];

    snprintf(path, sizeof(path), "%s/switchboard.db", tmp_dir);
    if (sb_store_open(path, "NORMAL", &d->st, &eb) || sb_kb_open(sb_store_db(d->st), &d->kb, &eb)) {
        fprintf(stderr, "switchboard: kb eval: %s\n", eb.msg);
        return 1;
    }
    if (sb_kb_set_locales(d->kb, locale, &eb)) {
        fprintf(stderr, "switchboard: kb eval: --locale %s: %s\n", locale, eb.msg);
        return 2;
    }
    return 0;
}

static int run(const struct eval_args *a, struct sb_kb_eval *ev)
{
    struct sb_kb_eval_run r = {.fts = strcmp(a->engine, "fts") == 0,
                               .threshold = a->threshold,
                               .miss = a->misses ? print_miss : NULL};
    FILE *dump = a->dump ? fopen(a->dump, "w") : NULL;
    struct sb_kb_eval_stats s;
    struct sb_errbuf eb = {{0}};
    struct eval_db d = {0};
    int rc = make_tmp();

    if (a->dump && !dump) {
        fprintf(stderr, "switchboard: kb eval: --dump %s: cannot write\n", a->dump);
        remove_tmp();
        return 2;
    }
    r.each = dump ? dump_query : NULL;
    r.arg = dump;
    if (rc) {
        if (dump) fclose(dump);
        return rc;
    }
    rc = open_db(&d, a->locale);
    if (!rc && (sb_kb_eval_build(ev, d.kb, a->locale, &s, &eb) ||
                sb_kb_eval_score(ev, d.kb, a->locale, &r, &s, &eb))) {
        fprintf(stderr, "switchboard: kb eval: %s\n", eb.msg);
        rc = 1;
    }
    if (!rc) print_report(a, &s);
    if (dump) fclose(dump);
    sb_kb_close(d.kb);
    sb_store_close(d.st);
    remove_tmp();
    return rc;
}

int cli_kb_eval(int argc, char **argv)
{
    struct eval_args a;
    struct sb_kb_eval *ev = NULL;
    struct sb_errbuf eb = {{0}};
    int rc = parse_eval_args(argc, argv, &a);

    if (rc) return rc < 0 ? 0 : rc; /* -1: --help was answered */
    /* Store notices (migrations) would be noise in a report. */
    sb_log_set_level(SB_LOG_WARN);
    if (sb_kb_eval_load(&a.o, &ev, &eb)) {
        fprintf(stderr, "switchboard: kb eval: %s\n", eb.msg);
        return 2;
    }
    rc = run(&a, ev);
    sb_kb_eval_free(ev);
    return rc;
}
