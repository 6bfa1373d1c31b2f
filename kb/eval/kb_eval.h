/*
 * kb_eval.h - how well the answer engine answers, measured on public
 * intent and FAQ datasets (`switchboard kb eval`, core/cli/cli_eval.c): a
 * knowledge base
 * built from a dataset's training part, one published article per intent
 * (per FAQ for aia-bde) with the training utterances as its example
 * questions, then every query of the test part searched as a customer
 * would ask it. The label "oos" marks an out-of-scope question in every
 * format: never an article, a query the bot should not answer.
 *
 * KIND and its files (TRAIN, TEST; --examples takes TEST's format):
 *   banking77   CSV (RFC 4180) with the columns text, category
 *   hwu64       CSV with the columns text, intent
 *   clinc150    the CLINC150 JSON: TRAIN's "train" (its "oos_train" is
 *               no article); TEST's "test" + "oos_test" when it has them,
 *               else "val" + "oos_val"
 *   aia-bde     TRAIN: FAQs as JSON lines {id, question, answer} (the
 *               question is the title and an example question, the answer
 *               the summary and body); TEST: TSV with a header naming the
 *               columns faq_id and query
 *   ro-intents  Rasa NLU JSON: rasa_nlu_data.common_examples[{text, intent}]
 *
 * A tool, not serving code: kb_eval.c and cli_eval.c build into the sbeval
 * library, which only the switchboard binary links (for `kb eval`); the
 * server library sbcore knows nothing of it.
 */
#ifndef KB_EVAL_H
#define KB_EVAL_H

#include <stdbool.h>

#include <jansson.h>

#include "sb.h"
#include "sb_kb.h"

struct sb_kb_eval; /* a dataset in memory */

struct sb_kb_eval_opts {
    const char *kind;     /* one of the kinds above */
    const char *train;    /* path, borrowed */
    const char *test;     /* path, borrowed */
    const char *examples; /* NULL, or more example questions in TEST's format */
    int limit_per_intent; /* at most this many example questions per article,
                             the first ones in file order; 0 = all */
};

/* The locale a kind is written in ("en", "pt-PT", "ro"); NULL for a kind
 * that is not one of the above. */
const char *sb_kb_eval_locale(const char *kind);

/* Reads TRAIN, the --examples file and TEST into *out (owned, free with
 * sb_kb_eval_free). Errors: SB_ERR_INVAL, with eb naming the file and the
 * line ("train.csv:7: CSV: a quoted field is not closed") or, in JSON, the
 * element ("x.json: train[3]: must be a [text, label] pair"); SB_ERR_IO;
 * SB_ERR_LIMIT (a file over 64 MiB); SB_ERR_NOMEM. */
enum sb_err sb_kb_eval_load(const struct sb_kb_eval_opts *o, struct sb_kb_eval **out,
                            struct sb_errbuf *eb);
void sb_kb_eval_free(struct sb_kb_eval *ev); /* NULL-safe */

struct sb_kb_eval_stats {
    /* the knowledge base, set by sb_kb_eval_build */
    int articles;              /* saved */
    int articles_skipped;      /* refused by sb_kb_validate even after repairs */
    int examples;              /* example questions saved */
    int skipped_invalid;       /* example questions refused (HTML, control characters) */
    int skipped_repeated;      /* the same example question twice in one article */
    int skipped_over;          /* over SB_KB_MAX_EXAMPLES in one article */
    int cut;                   /* example questions cut to SB_KB_MAX_ITEM bytes */
    int unused;                /* --examples rows whose label has no article */
    char note[SB_ERRBUF_SIZE]; /* why the first article was skipped, or "" */
    double build_ms;           /* saving the articles (one transaction) */
    /* the test, set by sb_kb_eval_score */
    double index_ms;       /* the first search, which builds the engine's index */
    int n;                 /* in-scope queries */
    int n_oos;             /* out-of-scope queries */
    int no_article;        /* in-scope queries whose label has no article */
    int top1, top3;        /* in-scope queries with their article first, in the top 3 */
    int answered_right;    /* ... first with a confidence >= threshold */
    int answered_wrong;    /* in-scope queries answered with another article */
    int oos_declined;      /* out-of-scope queries not answered */
    double p50_ms, p99_ms; /* one search, every query */
};

/* Saves the dataset's articles (published, in locale) with sb_kb_save in
 * one transaction, into a knowledge base that should be empty. Article
 * text the validation refuses is repaired where that keeps its words (a
 * '<' that would open a tag gets a space after it, the body is dropped);
 * example questions it refuses are skipped and counted, never an error.
 * st is zeroed first. Errors: SB_ERR_DB, SB_ERR_NOMEM (nothing saved). */
enum sb_err sb_kb_eval_build(struct sb_kb_eval *ev, struct sb_kb *kb, const char *locale,
                             struct sb_kb_eval_stats *st, struct sb_errbuf *eb);

/* A query the engine got wrong: want is the slug of the article it should
 * have found (NULL: out of scope, nothing should have been answered), got
 * the first hit (NULL: nothing found), answered whether got clears the
 * threshold. */
typedef void (*sb_kb_eval_miss_fn)(void *arg, const char *query, const char *want,
                                   const struct sb_kb_hit *got, bool answered);

/* Every query's outcome, for calibrating confidence: oos (it should not
 * be answered), right (the first hit is its article), and the result. */
typedef void (*sb_kb_eval_each_fn)(void *arg, bool oos, bool right, const struct sb_kb_result *res);

struct sb_kb_eval_run {
    bool fts;                /* sb_kb_search_fts (the baseline) instead of sb_kb_search */
    double threshold;        /* confidence the bot needs to answer */
    sb_kb_eval_miss_fn miss; /* may be NULL */
    sb_kb_eval_each_fn each; /* may be NULL */
    void *arg;
};

/* Searches every test query in locale after sb_kb_eval_build and adds the
 * counts and latencies to st. Errors: SB_ERR_DB (a search failed),
 * SB_ERR_NOMEM. */
enum sb_err sb_kb_eval_score(struct sb_kb_eval *ev, struct sb_kb *kb, const char *locale,
                             const struct sb_kb_eval_run *run, struct sb_kb_eval_stats *st,
                             struct sb_errbuf *eb);

/* The scores as a new JSON object: top1, top3, in_scope_accuracy,
 * answered_wrong (shares of the in-scope queries, 0..1, null without
 * any), oos_recall (share of out-of-scope queries not answered, null
 * without any), p50_ms, p99_ms, n, n_oos, articles, examples, skipped,
 * cut, build_ms, index_ms. */
json_t *sb_kb_eval_json(const struct sb_kb_eval_stats *st);

#endif
