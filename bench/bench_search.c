/*
 * bench_search.c - what one question costs the answer engine's search
 * (sb_kb_search), and whether a change to it keeps every answer the same.
 * Builds the same throwaway knowledge base as `switchboard kb eval` from
 * a dataset, searches every test query once and, with --dump, writes
 * every hit of every query with its scores in full precision (%a), so
 * two builds can be compared bit for bit with cmp; then searches all the
 * queries PASSES more times and prints one JSON line with the thread CPU
 * time per question (best and median pass).
 *
 *   build/bench_search KIND TRAIN TEST [--examples FILE] [--passes N]
 *                      [--dump FILE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kb_eval.h"
#include "sb_kb.h"
#include "sb_log.h"
#include "sb_store.h"

struct counter {
    FILE *dump;
    long queries;
};

static void each(void *arg, bool oos, bool right, const struct sb_kb_result *res)
{
    struct counter *c = arg;
    c->queries++;
    if (!c->dump) return;
    fprintf(c->dump, "%d %d %d", oos, right, res->n);
    for (int i = 0; i < res->n; i++) {
        const struct sb_kb_hit *h = &res->hit[i];
        fprintf(c->dump, " | %lld %s %a %a %a %a %a %a", (long long)h->id, h->slug, h->bm25,
                h->coverage, h->score, h->neighbours, h->in_scope, h->confidence);
    }
    fputc('\n', c->dump);
}

static double thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_search KIND TRAIN TEST [--examples FILE] [--passes N] "
                    "[--dump FILE]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct sb_kb_eval_opts o = {0};
    struct sb_kb_eval *ev = NULL;
    struct sb_kb_eval_stats st;
    struct sb_errbuf eb = {{0}};
    struct sb_store *store = NULL;
    struct sb_kb *kb = NULL;
    struct counter c = {0};
    struct sb_kb_eval_run run = {.threshold = 0.5, .each = each, .arg = &c};
    const char *dump = NULL, *locale;
    char dir[] = "/tmp/bench_search.XXXXXX", path[sizeof(dir) + 32];
    int passes = 10, rc = 1;
    double *ns;

    if (argc < 4) return usage();
    o.kind = argv[1];
    o.train = argv[2];
    o.test = argv[3];
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--examples") == 0 && i + 1 < argc)
            o.examples = argv[++i];
        else if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc)
            passes = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc)
            dump = argv[++i];
        else
            return usage();
    }
    locale = sb_kb_eval_locale(o.kind);
    if (!locale || passes < 1) return usage();
    ns = calloc((size_t)passes, sizeof(*ns));
    sb_log_set_level(SB_LOG_WARN);
    if (!ns || !mkdtemp(dir)) return 1;
    snprintf(path, sizeof(path), "%s/switchboard.db", dir);
    if (sb_kb_eval_load(&o, &ev, &eb) || sb_store_open(path, "NORMAL", &store, &eb) ||
        sb_kb_open(sb_store_db(store), &kb, &eb) || sb_kb_set_locales(kb, locale, &eb) ||
        sb_kb_eval_build(ev, kb, locale, &st, &eb)) {
        fprintf(stderr, "bench_search: %s\n", eb.msg);
        goto out;
    }
    c.dump = dump ? fopen(dump, "w") : NULL;
    if (dump && !c.dump) {
        fprintf(stderr, "bench_search: %s: cannot write\n", dump);
        goto out;
    }
    /* the first pass builds the index and writes the dump */
    if (sb_kb_eval_score(ev, kb, locale, &run, &st, &eb)) goto fail;
    if (c.dump) fclose(c.dump);
    c.dump = NULL;
    for (int p = 0; p < passes; p++) {
        long before = c.queries;
        double t0 = thread_ns();
        if (sb_kb_eval_score(ev, kb, locale, &run, &st, &eb)) goto fail;
        /* sb_kb_eval_score searches the first query once more, untallied */
        ns[p] = (thread_ns() - t0) / (double)(c.queries - before + 1);
    }
    qsort(ns, (size_t)passes, sizeof(*ns), by_value);
    printf("{\"kind\":\"%s\",\"articles\":%d,\"examples\":%d,\"queries\":%ld,\"passes\":%d,"
           "\"best_us\":%.2f,\"median_us\":%.2f}\n",
           o.kind, st.articles, st.examples, c.queries / (passes + 1), passes, ns[0] / 1e3,
           ns[passes / 2] / 1e3);
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "bench_search: %s\n", eb.msg);
out:
    sb_kb_close(kb);
    sb_store_close(store);
    sb_kb_eval_free(ev);
    free(ns);
    unlink(path);
    snprintf(path, sizeof(path), "%s/switchboard.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/switchboard.db-shm", dir);
    unlink(path);
    rmdir(dir);
    return rc;
}
