/*
 * kb_search.c - from customer text to ranked articles with a confidence.
 *
 * sb_kb_search() scores the in-memory index (kb_index.c); sb_kb_search_fts()
 * asks SQLite FTS5 the same question, for comparison and for full-text
 * search pages. Either way customer text is only ever words (kb_text.c):
 * for FTS5 each word is quoted and the words are joined with OR, so no
 * operator can reach the query parser. Confidence blends how much of the
 * question an article covers with how strongly BM25 ranks it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "sb_log.h"
#include "sb_util.h"

/* Where BM25 saturates: a score of BM25_HALF gives half of the BM25 share. */
#define BM25_HALF 1.0

/* Customer text as an FTS5 query: its search terms (kb_text.c), each
 * quoted, joined by OR. Terms hold only letters and digits, so quoting
 * cannot be broken and no operator reaches the query parser; the output
 * is still bounded by cap. */
static int build_query(struct kb_stemmers *st, const char *text, const char *locale, char *out,
                       size_t cap)
{
    struct kb_terms q;
    size_t o = 0;
    int written = 0;

    out[0] = '\0';
    kb_query_terms(st, text, locale, &q);
    for (int t = 0; t < q.n; t++) {
        int w = snprintf(out + o, cap - o, "%s\"%s\"", written ? " OR " : "", q.term[t]);
        if (w < 0 || (size_t)w >= cap - o) {
            out[o] = '\0';
            break;
        }
        o += (size_t)w;
        written++;
    }
    return written;
}

int sb_kb_build_query(const char *text, const char *locale, char *out, size_t cap)
{
    /* No handle here: stemmers for this call only (cheap to make). */
    struct kb_stemmers st = {0};
    int n = build_query(&st, text, locale, out, cap);
    kb_stemmers_cleanup(&st);
    return n;
}

/* sb_coverage(kb_fts, w0, w1, ...): how much of the question this row
 * covers. Each query term scores the weight of the best column it occurs in
 * (a word in the title or an example question is stronger evidence than
 * one in the body); the result is the mean over terms, in 0..1. */
static void coverage_fn(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                        int nval, sqlite3_value **vals)
{
    int nphrase = api->xPhraseCount(fts);
    double total = 0;

    for (int p = 0; p < nphrase; p++) {
        Fts5PhraseIter it;
        int col = -1, off = 0;
        double best = 0;
        for (api->xPhraseFirst(fts, p, &it, &col, &off); col >= 0;
             api->xPhraseNext(fts, &it, &col, &off)) {
            double w = col < nval ? sqlite3_value_double(vals[col]) : 1.0;
            if (w > best) best = w;
        }
        total += best;
    }
    sqlite3_result_double(ctx, nphrase ? total / nphrase : 0.0);
}

enum sb_err kb_register_functions(sqlite3 *db)
{
    fts5_api *api = kb_fts5_api(db);
    if (!api) return SB_ERR_DB;
    if (api->xCreateFunction(api, "sb_coverage", NULL, coverage_fn, NULL) != SQLITE_OK)
        return SB_ERR_DB;
    /* The store registered it already when it opened db itself. */
    return sb_kb_register_tokenizer(db);
}

/* The customer's own locale first, then confidence: another region's
 * version of an article is a fallback, not a competitor. */
static int by_confidence(const void *a, const void *b)
{
    const struct sb_kb_hit *x = a, *y = b;
    if (x->exact_locale != y->exact_locale) return x->exact_locale ? -1 : 1;
    if (x->confidence != y->confidence) return x->confidence < y->confidence ? 1 : -1;
    return x->bm25 < y->bm25 ? 1 : (x->bm25 > y->bm25 ? -1 : 0);
}

static void set_hit(struct sb_kb_hit *h, const char *slug, const char *hit_locale,
                    const char *title, const char *summary, double bm25, double coverage,
                    const char *locale)
{
    sb_utf8_copy(h->slug, sizeof(h->slug), slug);
    sb_utf8_copy(h->locale, sizeof(h->locale), hit_locale);
    sb_utf8_copy(h->title, sizeof(h->title), title);
    h->summary = strdup(summary ? summary : "");
    h->bm25 = bm25;
    h->coverage = coverage;
    h->confidence = coverage * (bm25 / (bm25 + BM25_HALF));
    if (!(h->confidence >= 0)) h->confidence = 0;
    h->exact_locale = strcmp(h->locale, locale) == 0;
}

/* Sorts candidates (exact locale first, then confidence), keeps one hit
 * per article (another region's version of a slug already listed goes)
 * and at most limit. */
static void finish_hits(struct sb_kb_result *out, int fetched, int limit)
{
    qsort(out->hit, (size_t)fetched, sizeof(out->hit[0]), by_confidence);
    out->n = 0;
    for (int i = 0; i < fetched; i++) {
        bool keep = out->n < limit;
        for (int j = 0; j < out->n && keep; j++)
            if (strcmp(out->hit[j].slug, out->hit[i].slug) == 0) keep = false;
        if (keep) {
            if (i != out->n) {
                struct sb_kb_hit tmp = out->hit[out->n];
                out->hit[out->n] = out->hit[i];
                out->hit[i] = tmp;
            }
            out->n++;
        }
    }
    for (int i = out->n; i < fetched; i++) {
        free(out->hit[i].summary);
        out->hit[i].summary = NULL;
    }
}

static void adopt(struct sb_kb *kb, struct kb_index *ix, int64_t version, double ms)
{
    if (kb->background)
        kb_dispose(&kb->disposal, kb->index);
    else
        kb_index_free(kb->index);
    kb->index = ix;
    kb->data_version = version;
    kb->build_ms = ms;
}

/* Swaps in a finished background build, waiting up to wait_ms for it (-1:
 * until it is done). A failed one leaves the old index, and the next
 * rebuild runs in place, where its error reaches the caller. */
static void collect(struct sb_kb *kb, int wait_ms)
{
    struct kb_index *ix;
    enum sb_err rc;
    double ms;

    if (!kb->rebuild || !kb_rebuild_finish(kb->rebuild, wait_ms, &ix, &rc, &ms)) return;
    kb->rebuild = NULL;
    if (rc) {
        sb_warn("kb: building the search index failed (%s); rebuilding in place next time",
                sb_strerror(rc));
        kb->background = false;
        return;
    }
    adopt(kb, ix, kb->rebuild_version, ms);
    sb_info("kb: search index rebuilt in the background in %.0f ms", ms);
}

/* Reads the articles here and builds their index on a thread. */
static bool start_background(struct sb_kb *kb, int64_t version)
{
    struct kb_rows *rows;

    if (kb_rows_read(kb->db, &rows) || kb_rebuild_start(rows, &kb->rebuild)) return false;
    kb->rebuild_version = version;
    kb->rebuild_awaited = false;
    kb->index_stale = false; /* what made it stale was read */
    return true;
}

static int64_t current_version(struct sb_kb *kb)
{
    sqlite3_stmt *s = kb->stmt[KB_DATA_VERSION];
    int64_t version = -1;

    sqlite3_reset(s);
    if (sqlite3_step(s) == SQLITE_ROW) version = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return version;
}

void sb_kb_background_rebuilds(struct sb_kb *kb, int in_place_ms)
{
    kb->background = true;
    kb->in_place_ms = in_place_ms;
    if (!kb->index && !kb->rebuild) start_background(kb, current_version(kb));
}

void sb_kb_tick(struct sb_kb *kb)
{
    int64_t version;

    if (!kb->background) return;
    collect(kb, 0);
    /* Without an index the first build is still running (or failed, and
     * the next search builds in place): that is the searches' business. */
    if (kb->rebuild || !kb->index) return;
    /* Another process wrote (kb import, kb import-faq): build now, on the
     * thread, so the next question neither waits for an in-place build
     * nor sees the old articles for longer than the build takes. Edits
     * through this connection (index_stale) are left to the next search,
     * which rebuilds a quick index in place so an edit is answered from
     * at once; a quick build started here is waited for by the next
     * search just the same (rebuild_awaited). */
    version = current_version(kb);
    if (version != kb->data_version && start_background(kb, version))
        kb->rebuild_awaited = kb->build_ms < kb->in_place_ms;
}

void kb_rebuild_wait(struct sb_kb *kb)
{
    collect(kb, -1);
    kb_dispose_wait(&kb->disposal);
}

/* Rebuilds the in-memory index when articles changed: through this
 * connection (upsert marks it stale) or another one, such as `kb import`
 * running beside the server (PRAGMA data_version moves). With background
 * rebuilds on, a slow rebuild runs on a thread while searches use the
 * old index; the first search with no index at all (the first build,
 * started with the server) waits for it up to in_place_ms, the stall
 * allowed, and later ones until it is in do not wait. */
static enum sb_err refresh_index(struct sb_kb *kb)
{
    int64_t version = current_version(kb), t0;
    struct kb_index *ix;
    enum sb_err rc;
    /* The first build, and a quick one the tick started (where the
     * question would otherwise have built in place), are worth waiting
     * for; a slow one is not: the old index answers meanwhile. */
    bool wait = (!kb->index && !kb->fts_fallback) || kb->rebuild_awaited;

    kb->rebuild_awaited = false;
    collect(kb, wait ? kb->in_place_ms : 0);
    if (kb->index && !kb->index_stale && version == kb->data_version) return SB_OK;
    if (kb->rebuild) return SB_OK; /* one at a time: the next change gets the next build */
    if (kb->background && kb->index && kb->build_ms >= kb->in_place_ms &&
        start_background(kb, version))
        return SB_OK;
    t0 = sb_mono_ns();
    rc = kb_index_build(kb->db, &ix);
    if (rc) return rc; /* keep answering from the old index */
    adopt(kb, ix, version, (double)(sb_mono_ns() - t0) / 1e6);
    kb->index_stale = false;
    return SB_OK;
}

/* A question worded exactly like one of an article's example questions
 * (same words in the same order, case, accents and punctuation aside) is
 * that article: the editor said so. Word statistics cannot see this when
 * the question is mostly stop words ("where is my order" leaves only
 * "order", which every order article shares). */
#define EXAMPLE_MATCH_CONFIDENCE 0.95
#define MAX_PHRASE_DOCS 4

static int add_example_matches(struct sb_kb *kb, const char *text, const char *lang,
                               const char *locale, int n, struct sb_kb_result *out)
{
    char phrase[KB_MAX_PHRASE_BYTES];
    uint32_t docs[MAX_PHRASE_DOCS];
    int m;

    if (!kb_phrase(text, phrase, sizeof(phrase))) return n;
    m = kb_index_phrase_docs(kb->index, phrase, lang, docs, MAX_PHRASE_DOCS);
    for (int k = 0; k < m; k++) {
        const struct kb_doc *d = kb_index_doc(kb->index, docs[k]);
        struct sb_kb_hit *h = NULL;
        for (int i = 0; i < n && !h; i++)
            if (out->hit[i].id == d->id) h = &out->hit[i];
        if (!h) {
            if (n == SB_KB_MAX_HITS) { /* make room: the weakest candidate goes */
                qsort(out->hit, (size_t)n, sizeof(out->hit[0]), by_confidence);
                free(out->hit[--n].summary);
            }
            h = &out->hit[n++];
            h->id = d->id;
            set_hit(h, d->slug, d->locale, d->title, d->summary, 0, 1, locale);
        }
        h->coverage = 1;
        if (h->confidence < EXAMPLE_MATCH_CONFIDENCE) h->confidence = EXAMPLE_MATCH_CONFIDENCE;
    }
    return n;
}

/* How the three views of a question combine into one score: the k-NN
 * vote of the example questions (kb_vec.c), the article-level BM25
 * confidence (coverage times saturated BM25) and the learned model's
 * probability (kb_model.c). Weights from the dev splits of
 * scripts/bench-answers.sh (BANKING77, HWU64, CLINC150; AIA-BDE checked),
 * the same for every knowledge base: 0.75 / 0.35 / 0.5 scaled to sum to
 * 1 (0.25 for BM25 or 0.6 for the neighbours did no better). */
#define W_NEIGHBOUR 0.47
#define W_ARTICLE 0.22
#define W_MODEL 0.31
/* A neighbour that shares no word with the question (BM25 did not find
 * it) must be at least this close to count: a few shared character
 * n-grams are noise, not a candidate. */
#define NEIGHBOUR_FLOOR 0.3

static void fuse(struct sb_kb_hit *h, double cosine, double prob)
{
    double c = W_NEIGHBOUR * cosine + W_ARTICLE * h->confidence + W_MODEL * prob;
    h->confidence = c > 1 ? 1 : c;
}

/* The fused score is a ranking, not a probability. Confidence is the
 * probability that the answer is right, from a logistic model of the
 * score s and its margin m over the best other article (m and sqrt(m):
 * a near tie is much less certain than a linear margin term says),
 * fitted once on the dev splits of BANKING77, HWU64 and CLINC150 with
 * CLINC's out-of-scope questions counted as wrong answers: 5,121
 * questions, expected calibration error 0.008 over ten bins (refit when
 * the model joined the fused score). The same
 * for every knowledge base, so kb_answer_threshold 0.5 means "more likely
 * right than wrong". Refit with `kb eval --dump` and
 * bench/fit_calibration.py. */
#define CAL_SCORE 4.534
#define CAL_MARGIN 4.053
#define CAL_SQRT_MARGIN 5.943
#define CAL_BIAS (-2.731)

/* Is the question about this knowledge base at all? The calibration above
 * learns from the big dev sets, where out-of-scope questions are 2% of
 * the data and barely move the fit, and where a softmax over 77 or 150
 * articles stays modest; over the 10-20 articles of a small knowledge
 * base the model is sure of almost anything. A second logistic model,
 * P(in scope), reads what says "we have seen this before": the example
 * questions' vote for the hit (v) and the share of the question's terms
 * the article has (coverage). It is fitted class-balanced on in-scope
 * questions and CLINC150's oos_train questions over the full set and over
 * 15-intent subsets with 10 examples each, then its bias raised by 5 so
 * that in-scope accuracy on the dev sets stays within half a point
 * (bench/fit_oos_gate.py). The answer's confidence is multiplied by it. */
#define GATE_NEIGHBOURS 13.083
#define GATE_COVERAGE 5.492
#define GATE_BIAS (-0.571)

static double in_scope(const struct sb_kb_hit *h)
{
    double z = GATE_NEIGHBOURS * h->neighbours + GATE_COVERAGE * h->coverage + GATE_BIAS;
    return 1.0 / (1.0 + exp(-z));
}

static void calibrate(struct sb_kb_hit *hit, int n)
{
    double raw[SB_KB_MAX_HITS];
    for (int i = 0; i < n; i++)
        raw[i] = hit[i].confidence;
    for (int i = 0; i < n; i++) {
        double best_other = 0, m, z;
        for (int j = 0; j < n; j++)
            if (j != i && raw[j] > best_other) best_other = raw[j];
        m = raw[i] > best_other ? raw[i] - best_other : 0;
        hit[i].score = raw[i];
        z = CAL_SCORE * raw[i] + CAL_MARGIN * m + CAL_SQRT_MARGIN * sqrt(m) + CAL_BIAS;
        hit[i].in_scope = in_scope(&hit[i]);
        hit[i].confidence = hit[i].in_scope / (1.0 + exp(-z));
    }
}

/* Adds the example-question neighbours to the BM25 candidates and fuses
 * the scores of every candidate. */
static int add_neighbours(struct sb_kb *kb, const char *text, const char *lang, const char *locale,
                          int n, struct sb_kb_result *out)
{
    struct kb_nn_hit nn[SB_KB_MAX_HITS], mh[SB_KB_MAX_HITS];
    double cos_of[SB_KB_MAX_HITS] = {0}, prob_of[SB_KB_MAX_HITS] = {0};
    /* the question is read into features once, for both (20 KiB: heap) */
    struct kb_features *q = malloc(sizeof(*q));
    int m = 0, nm = 0;

    if (q) {
        kb_features(text, q);
        m = kb_index_neighbours(kb->index, q, lang, nn, SB_KB_MAX_HITS);
        nm = kb_index_model(kb->index, q, lang, mh, SB_KB_MAX_HITS);
        free(q);
    }

    for (int k = 0; k < m; k++) {
        const struct kb_doc *d = kb_index_doc(kb->index, nn[k].doc);
        int i = 0;
        while (i < n && out->hit[i].id != d->id)
            i++;
        if (i == n) {
            /* BM25's own candidates stay; weak strangers do not enter */
            if (n == SB_KB_MAX_HITS || nn[k].cosine < NEIGHBOUR_FLOOR) continue;
            out->hit[n].id = d->id;
            set_hit(&out->hit[n], d->slug, d->locale, d->title, d->summary, 0, 0, locale);
            n++;
        }
        cos_of[i] = nn[k].cosine;
    }
    for (int k = 0; k < nm; k++) {
        const struct kb_doc *d = kb_index_doc(kb->index, mh[k].doc);
        int i = 0;
        while (i < n && out->hit[i].id != d->id)
            i++;
        /* the model ranks what the words found; its own candidates would
         * be guesses from a few shared character n-grams (a draft's
         * "zebra cushions" found published articles), and the softmax
         * over a few makes any guess look sure */
        if (i < n) prob_of[i] = mh[k].cosine;
    }
    for (int i = 0; i < n; i++) {
        out->hit[i].neighbours = cos_of[i];
        fuse(&out->hit[i], cos_of[i], prob_of[i]);
    }
    calibrate(out->hit, n);
    /* What customers told us: votes and hand-offs after an answer move an
     * article's confidence within small bounds (kb_learn.c). */
    for (int i = 0; i < n; i++) {
        double c = out->hit[i].confidence + sb_kb_adjustment(kb, out->hit[i].id);
        out->hit[i].confidence = c < 0 ? 0 : (c > 1 ? 1 : c);
    }
    return n;
}

enum sb_err sb_kb_search(struct sb_kb *kb, const char *text, const char *locale, int limit,
                         struct sb_kb_result *out)
{
    struct kb_ix_hit ix_hits[SB_KB_MAX_HITS];
    struct kb_terms q;
    char lang[16], *expanded;
    int n = 0;
    enum sb_err rc;

    memset(out, 0, sizeof(*out));
    if (limit < 1) limit = 1;
    if (limit > SB_KB_MAX_HITS) limit = SB_KB_MAX_HITS;
    rc = refresh_index(kb);
    if (!kb->index && !rc && kb->rebuild) {
        /* the first build is still running: plain full-text search
         * meanwhile, rather than stall the server until it is done */
        if (!kb->fts_fallback)
            sb_info("kb: the search index is still being built; answering from full-text search");
        kb->fts_fallback = true;
        return sb_kb_search_fts(kb, text, locale, limit, out);
    }
    if (!kb->index) return rc;
    kb_language_of(locale, lang, sizeof(lang));
    /* The editors' synonyms widen the words searched; the exact-wording
     * match below still looks at what the customer wrote. */
    expanded = kb_synonyms_expand(kb, text, lang);
    out->terms = kb_query_terms(&kb->stem, expanded ? expanded : text, locale, &q);
    /* BM25 alone can favour one repeated word over a full match, so take
     * more candidates than asked and re-rank by confidence. */
    if (q.n) n = kb_index_search(kb->index, &q, lang, ix_hits, SB_KB_MAX_HITS);
    for (int i = 0; i < n; i++) {
        const struct kb_doc *d = kb_index_doc(kb->index, ix_hits[i].doc);
        out->hit[i].id = d->id;
        set_hit(&out->hit[i], d->slug, d->locale, d->title, d->summary, ix_hits[i].bm25,
                ix_hits[i].coverage, locale);
    }
    n = add_neighbours(kb, expanded ? expanded : text, lang, locale, n, out);
    n = add_example_matches(kb, text, lang, locale, n, out);
    finish_hits(out, n, limit);
    free(expanded);
    return SB_OK;
}

enum sb_err sb_kb_search_fts(struct sb_kb *kb, const char *text, const char *locale, int limit,
                             struct sb_kb_result *out)
{
    sqlite3_stmt *s = kb->stmt[KB_SEARCH];
    char query[KB_MAX_TERMS * (KB_MAX_TERM_BYTES + 8) + 1];
    char lang[16];
    int r, fetched = 0;

    memset(out, 0, sizeof(*out));
    if (limit < 1) limit = 1;
    if (limit > SB_KB_MAX_HITS) limit = SB_KB_MAX_HITS;
    out->terms = build_query(&kb->stem, text, locale, query, sizeof(query));
    if (out->terms == 0) return SB_OK;

    kb_language_of(locale, lang, sizeof(lang));
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, query, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, locale, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, lang, -1, SQLITE_STATIC);
    /* BM25 alone can favour one repeated word over a full match, so take
     * more candidates than asked and re-rank by confidence. */
    sqlite3_bind_int(s, 4, SB_KB_MAX_HITS);
    while ((r = sqlite3_step(s)) == SQLITE_ROW && fetched < SB_KB_MAX_HITS) {
        struct sb_kb_hit *h = &out->hit[fetched];
        const char *summary = (const char *)sqlite3_column_text(s, 4);
        h->id = sqlite3_column_int64(s, 0);
        set_hit(h, (const char *)sqlite3_column_text(s, 1), (const char *)sqlite3_column_text(s, 2),
                (const char *)sqlite3_column_text(s, 3), summary, sqlite3_column_double(s, 5),
                sqlite3_column_double(s, 6), locale);
        fetched++;
    }
    sqlite3_reset(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        /* Cannot happen for queries we built, but a search failure is a
         * miss for the customer, never an error page. */
        sb_kb_result_cleanup(out);
        return SB_ERR_DB;
    }
    finish_hits(out, fetched, limit);
    return SB_OK;
}

void sb_kb_result_cleanup(struct sb_kb_result *r)
{
    for (int i = 0; i < SB_KB_MAX_HITS; i++) {
        free(r->hit[i].summary);
        r->hit[i].summary = NULL;
    }
    r->n = 0;
}
