/*
 * kb_vec.c - nearest neighbours among example questions.
 *
 * Every example question (and every title) is a sparse TF-IDF vector of
 * word unigrams, word bigrams and character 3-5-grams of its folded
 * words. A customer's question becomes the same kind of vector, and the
 * articles are scored by the cosine of their closest examples. Character
 * n-grams match inflections and typos ("refunded"/"refund", "recieve")
 * without a stemmer; bigrams keep some word order ("card declined" vs
 * "declined card" still share unigrams); stop words are kept because in
 * short questions they carry intent ("where is" vs "how do I").
 *
 * Features are 64-bit FNV-1a hashes of the n-gram text (collisions are
 * rare enough to ignore at this size) mapped to dense ids; postings per
 * feature list (example, weight). Features in more than a quarter of the
 * examples are skipped at query time: they cost the most and say the
 * least.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"

#define CHAR_MIN_N 3
#define CHAR_MAX_N 5
#define MAX_WORDS 64

/* Relative weights of the feature kinds, before TF-IDF. */
#define W_WORD 1.0
#define W_BIGRAM 1.0
#define W_CHAR 0.35
/* An article's neighbour score is the mean of its best K examples'
 * cosines (a k-NN vote; missing ones count 0, but an article with fewer
 * than K examples is averaged over what it has): one lucky example of a
 * wrong article loses to several good ones of the right article. K = 5
 * was best on the dev splits of BANKING77, HWU64 and CLINC150 (top-1
 * 86.9/84.2/88.7% against 84.4/81.6/85.6% for K = 1); dividing by the
 * examples an article has took AIA-BDE (1-3 per FAQ) from 72.0 to 79.0%. */
#define K_NEIGHBOURS 5

/* Cost bounds of one query at large sizes. Postings are walked from the
 * rarest feature on until POSTING_BUDGET entries have been visited; when
 * features are left over (long postings of common n-grams), the
 * RESCORE_CANDIDATES examples with the best partial scores get their
 * exact cosines from the forward index and the others are dropped. The
 * rare features carry most of a cosine (their idf is highest), so the
 * best examples are almost always among the candidates. On the dev
 * splits (9,000-15,000 examples) top-1 and in-scope accuracy stay within
 * 0.1 point of exact scoring; CLINC150's out-of-scope recall is 71%
 * against 74%. At 100,000 examples the neighbours take 0.65 ms of CPU
 * per question at the median instead of 1.6 ms (BENCHMARKS.md). */
#define POSTING_BUDGET 10000
#define RESCORE_CANDIDATES 200

struct vfeat {
    uint32_t df;
    uint32_t npost, cap;
    struct vpost *post;
};

struct vpost {
    uint32_t example;
    float w;
};

struct kb_vec {
    struct kb_featmap map; /* feature key -> index into feats, and the count */
    struct vfeat *feats;
    uint32_t *example_doc;  /* example -> document */
    uint32_t *doc_examples; /* document -> how many examples it has */
    uint32_t ndocs_cap;
    float *example_norm;
    uint32_t nexamples, examples_cap;
    bool finished;
    /* scratch for one query */
    float *doc_top; /* K best cosines per document */
    float *score;
    uint32_t *touched;
    /* Each example's features as well (a forward index, CSR layout), to
     * finish the cosines of a query's best candidates exactly without
     * walking the long postings of common features; see kb_vec_search. */
    uint32_t *fwd_start; /* example e's features: fwd_feat[fwd_start[e] .. fwd_start[e + 1]) */
    /* Features and weights in two arrays: the rescore reads every feature
     * id of a candidate but the weight only of those in the query, so the
     * ids alone are the memory it streams through. */
    uint32_t *fwd_feat;
    float *fwd_w;
    float *qweight;         /* feature -> the query's weight, zero between queries */
    uint64_t *qbits;        /* feature -> whether the query has it, zero between queries */
    struct qfeat *qf;       /* the query's features, scratch */
    struct qfeat *qf_tmp;   /* sort_by_df's scratch */
    struct kb_scored *cand; /* scratch for keep_best, nexamples long */
    uint32_t posting_budget, rescore_candidates; /* POSTING_BUDGET, RESCORE_CANDIDATES */
};

struct qfeat {
    uint32_t f, df;
    float q;
};

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Adds w to key's weight: an open-addressing table over the bag (a
 * linear scan was quadratic in a long question's few hundred features). */
static void bag_add(struct kb_features *b, uint64_t key, float w)
{
    uint32_t mask = 2 * KB_MAX_FEATURES - 1, i = (uint32_t)(key ^ key >> 32) & mask;
    while (b->slot[i]) {
        if (b->key[b->slot[i] - 1] == key) {
            b->w[b->slot[i] - 1] += w;
            return;
        }
        i = (i + 1) & mask;
    }
    if (b->n < KB_MAX_FEATURES) {
        b->key[b->n] = key;
        b->w[b->n++] = w;
        b->slot[i] = (uint16_t)b->n;
    }
}

/* Character n-grams of " word " (boundaries marked), counted in bytes of
 * folded text: diacritics are already gone, so bytes are mostly letters. */
static void char_grams(struct kb_features *b, const char *w, size_t wl)
{
    char buf[KB_MAX_TERM_BYTES + 3];
    size_t n = wl + 2;
    buf[0] = ' ';
    memcpy(buf + 1, w, wl);
    buf[wl + 1] = ' ';
    for (size_t g = CHAR_MIN_N; g <= CHAR_MAX_N; g++)
        for (size_t i = 0; i + g <= n; i++)
            bag_add(b, fnv(fnv(14695981039346656037ull, "c", 1), buf + i, g), (float)W_CHAR);
}

void kb_features(const char *text, struct kb_features *b)
{
    size_t len = strlen(text), pos = 0, wl, prev_len = 0;
    char word[KB_MAX_TERM_BYTES + 1], prev[KB_MAX_TERM_BYTES + 1];
    int nwords = 0;

    b->n = 0;
    b->id_map = NULL;
    memset(b->slot, 0, sizeof(b->slot));
    while (nwords < MAX_WORDS && kb_next_word(text, len, &pos, word, sizeof(word), &wl)) {
        uint64_t h = fnv(14695981039346656037ull, "w", 1);
        bag_add(b, fnv(h, word, wl), (float)W_WORD);
        if (nwords) {
            uint64_t hb = fnv(fnv(fnv(14695981039346656037ull, "b", 1), prev, prev_len), " ", 1);
            bag_add(b, fnv(hb, word, wl), (float)W_BIGRAM);
        }
        char_grams(b, word, wl);
        memcpy(prev, word, wl + 1);
        prev_len = wl;
        nwords++;
    }
}

static int32_t find_feat(const struct kb_vec *v, uint64_t key)
{
    return kb_featmap_find(&v->map, key);
}

static int32_t add_feat(struct kb_vec *v, uint64_t key)
{
    void *values = v->feats; /* a void * to hand over, not a cast of &feats */
    int32_t f = kb_featmap_add(&v->map, key, &values, sizeof(*v->feats));
    v->feats = values;
    return f;
}

struct kb_vec *kb_vec_new(void)
{
    struct kb_vec *v = calloc(1, sizeof(struct kb_vec));
    if (v) kb_vec_set_budget(v, POSTING_BUDGET, RESCORE_CANDIDATES);
    return v;
}

void kb_vec_set_budget(struct kb_vec *v, uint32_t postings, uint32_t candidates)
{
    v->posting_budget = postings;
    v->rescore_candidates = candidates ? candidates : 1;
}

void kb_vec_free(struct kb_vec *v)
{
    if (!v) return;
    for (uint32_t f = 0; f < v->map.n; f++)
        free(v->feats[f].post);
    free(v->feats);
    kb_featmap_free(&v->map);
    free(v->example_doc);
    free(v->doc_examples);
    free(v->example_norm);
    free(v->score);
    free(v->touched);
    free(v->doc_top);
    free(v->fwd_start);
    free(v->fwd_feat);
    free(v->fwd_w);
    free(v->qweight);
    free(v->qbits);
    free(v->qf);
    free(v->qf_tmp);
    free(v->cand);
    free(v);
}

enum sb_err kb_vec_add(struct kb_vec *v, uint32_t doc, const char *text)
{
    struct kb_features *b;
    uint32_t e;

    if (v->finished) return SB_ERR_INVAL;
    b = malloc(sizeof(*b));
    if (!b) return SB_ERR_NOMEM;
    kb_features(text, b);
    if (b->n == 0) {
        free(b);
        return SB_OK;
    }
    if (v->nexamples == v->examples_cap) {
        uint32_t cap = v->examples_cap ? v->examples_cap * 2 : 1024;
        uint32_t *d = realloc(v->example_doc, cap * sizeof(*d));
        if (!d) goto nomem;
        v->example_doc = d;
        v->examples_cap = cap;
    }
    e = v->nexamples++;
    v->example_doc[e] = doc;
    if (doc >= v->ndocs_cap) {
        uint32_t cap = v->ndocs_cap ? v->ndocs_cap : 256;
        uint32_t *p;
        while (cap <= doc)
            cap *= 2;
        p = realloc(v->doc_examples, cap * sizeof(*p));
        if (!p) goto nomem;
        memset(p + v->ndocs_cap, 0, (cap - v->ndocs_cap) * sizeof(*p));
        v->doc_examples = p;
        v->ndocs_cap = cap;
    }
    v->doc_examples[doc]++;
    for (int i = 0; i < b->n; i++) {
        int32_t f = add_feat(v, b->key[i]);
        struct vfeat *vf;
        if (f < 0) goto nomem;
        vf = &v->feats[f];
        if (vf->npost == vf->cap) {
            uint32_t cap = vf->cap ? vf->cap * 2 : 4;
            struct vpost *p = realloc(vf->post, cap * sizeof(*p));
            if (!p) goto nomem;
            vf->post = p;
            vf->cap = cap;
        }
        vf->post[vf->npost++] = (struct vpost){e, b->w[i]};
        vf->df++;
    }
    free(b);
    return SB_OK;
nomem:
    free(b);
    return SB_ERR_NOMEM;
}

/* Features in more than a quarter of the examples are not searched. */
static uint32_t df_limit(const struct kb_vec *v)
{
    return v->nexamples / 4 > 50 ? v->nexamples / 4 : v->nexamples;
}

static double idf(const struct kb_vec *v, uint32_t df)
{
    return log((1.0 + v->nexamples) / (1.0 + df)) + 1.0;
}

/* The postings transposed: per example, its (feature, weight) pairs,
 * without the features a query never searches (df_limit): they would
 * only lengthen every candidate's list. */
static enum sb_err build_forward_index(struct kb_vec *v)
{
    size_t total = 0;
    uint32_t *fill, limit = df_limit(v);

    v->fwd_start = calloc((size_t)v->nexamples + 1, sizeof(*v->fwd_start));
    v->qweight = calloc(v->map.n ? v->map.n : 1, sizeof(*v->qweight));
    v->qbits = calloc(v->map.n / 64 + 1, sizeof(*v->qbits));
    v->qf = malloc(KB_MAX_FEATURES * sizeof(*v->qf));
    v->qf_tmp = malloc(KB_MAX_FEATURES * sizeof(*v->qf_tmp));
    v->cand = malloc(((size_t)v->nexamples + 1) * sizeof(*v->cand));
    if (!v->fwd_start || !v->qweight || !v->qbits || !v->qf || !v->qf_tmp || !v->cand)
        return SB_ERR_NOMEM;
    for (uint32_t f = 0; f < v->map.n; f++) {
        if (v->feats[f].df > limit) continue;
        total += v->feats[f].npost;
        for (uint32_t p = 0; p < v->feats[f].npost; p++)
            v->fwd_start[v->feats[f].post[p].example + 1]++;
    }
    if (total > UINT32_MAX) return SB_ERR_NOMEM;
    for (uint32_t e = 0; e < v->nexamples; e++)
        v->fwd_start[e + 1] += v->fwd_start[e];
    v->fwd_feat = malloc((total ? total : 1) * sizeof(*v->fwd_feat));
    v->fwd_w = malloc((total ? total : 1) * sizeof(*v->fwd_w));
    fill = malloc(((size_t)v->nexamples + 1) * sizeof(*fill));
    if (!v->fwd_feat || !v->fwd_w || !fill) {
        free(fill);
        return SB_ERR_NOMEM;
    }
    memcpy(fill, v->fwd_start, ((size_t)v->nexamples + 1) * sizeof(*fill));
    for (uint32_t f = 0; f < v->map.n; f++)
        for (uint32_t p = 0; p < v->feats[f].npost && v->feats[f].df <= limit; p++) {
            const struct vpost *po = &v->feats[f].post[p];
            v->fwd_feat[fill[po->example]] = f;
            v->fwd_w[fill[po->example]++] = po->w;
        }
    free(fill);
    return SB_OK;
}

enum sb_err kb_vec_finish(struct kb_vec *v)
{
    double *norm2 = calloc(v->nexamples ? v->nexamples : 1, sizeof(double));
    if (!norm2) return SB_ERR_NOMEM;
    v->example_norm = calloc(v->nexamples ? v->nexamples : 1, sizeof(float));
    v->score = calloc(v->nexamples ? v->nexamples : 1, sizeof(float));
    /* one spare slot: score_examples writes before it counts */
    v->touched = calloc((size_t)v->nexamples + 1, sizeof(uint32_t));
    v->doc_top = calloc((size_t)(v->ndocs_cap ? v->ndocs_cap : 1) * K_NEIGHBOURS, sizeof(float));
    if (!v->example_norm || !v->score || !v->touched || !v->doc_top) {
        free(norm2);
        return SB_ERR_NOMEM;
    }
    for (uint32_t f = 0; f < v->map.n; f++) {
        struct vfeat *vf = &v->feats[f];
        double w_idf = idf(v, vf->df);
        for (uint32_t p = 0; p < vf->npost; p++) {
            double w = vf->post[p].w * w_idf;
            vf->post[p].w = (float)w;
            norm2[vf->post[p].example] += w * w;
        }
    }
    for (uint32_t e = 0; e < v->nexamples; e++)
        v->example_norm[e] = norm2[e] > 0 ? (float)(1.0 / sqrt(norm2[e])) : 0;
    /* Fold the example norms into the postings: a query is then a plain
     * dot product. */
    for (uint32_t f = 0; f < v->map.n; f++)
        for (uint32_t p = 0; p < v->feats[f].npost; p++)
            v->feats[f].post[p].w *= v->example_norm[v->feats[f].post[p].example];
    free(norm2);
    if (build_forward_index(v) != SB_OK) return SB_ERR_NOMEM;
    v->finished = true;
    return SB_OK;
}

/* Sorts qf[0..n) by df, rarest first, stably (equal dfs keep the order
 * of the question's features: the walk adds in this order, so the order
 * of ties decides the last bits of the scores). A radix sort by bytes,
 * as many as the largest df has (two for 65,536 examples): qsort's
 * merge sort, which gave the same order, was 3% of a search's
 * instructions and 15% of its mispredicted branches. */
static void sort_by_df(struct qfeat *qf, struct qfeat *tmp, uint32_t n)
{
    struct qfeat *src = qf, *dst = tmp, *t;
    uint32_t max = 0;

    for (uint32_t i = 0; i < n; i++)
        max = qf[i].df > max ? qf[i].df : max;
    for (unsigned shift = 0; shift < 32 && max >> shift; shift += 8) {
        uint32_t start[257] = {0};
        for (uint32_t i = 0; i < n; i++)
            start[(src[i].df >> shift & 255) + 1]++;
        for (unsigned b = 0; b < 256; b++)
            start[b + 1] += start[b];
        for (uint32_t i = 0; i < n; i++)
            dst[start[src[i].df >> shift & 255]++] = src[i];
        t = src;
        src = dst;
        dst = t;
    }
    if (src != qf) memcpy(qf, src, n * sizeof(*qf));
}

/* Keeps the n touched examples with the best partial scores in
 * touched[0..n) and clears the others' scores. */
static uint32_t keep_best(struct kb_vec *v, uint32_t ntouched, uint32_t n)
{
    for (uint32_t t = 0; t < ntouched; t++)
        v->cand[t] = (struct kb_scored){v->touched[t], v->score[v->touched[t]]};
    kb_select_best(v->cand, ntouched, n);
    for (uint32_t t = 0; t < ntouched; t++) {
        if (t < n)
            v->touched[t] = v->cand[t].id;
        else
            v->score[v->cand[t].id] = 0;
    }
    return n;
}

/* Finishes the cosines of the candidates in touched[0..n) from the
 * forward index: the sum, in the order of the example's features, of the
 * products with the query's weights. Most of an example's features are
 * not the query's and whether one is, is a coin toss the branch predictor
 * loses: so the products of every feature are written and only those of
 * the query's features counted (a bit per feature, exact, in qbits), then
 * summed. The same products added in the same order as a sum over all
 * features (the others add +0): the cosines are the same to the bit. */
#define PREFETCH_AHEAD 2

static void prefetch_lists(const struct kb_vec *v, uint32_t e)
{
    for (uint32_t k = v->fwd_start[e]; k < v->fwd_start[e + 1]; k += 16) {
        __builtin_prefetch(&v->fwd_feat[k]);
        __builtin_prefetch(&v->fwd_w[k]);
    }
}

static void rescore(struct kb_vec *v, uint32_t n, uint32_t nq)
{
    float prod[KB_MAX_FEATURES];

    for (uint32_t i = 0; i < nq; i++) {
        uint32_t f = v->qf[i].f;
        v->qweight[f] = v->qf[i].q;
        v->qbits[f >> 6] |= 1ull << (f & 63);
    }
    for (uint32_t t = 0; t < n && t < PREFETCH_AHEAD; t++)
        prefetch_lists(v, v->touched[t]);
    for (uint32_t t = 0; t < n; t++) {
        uint32_t e = v->touched[t], m = 0, end = v->fwd_start[e + 1];
        float sc = 0;
        /* the candidates' lists are scattered (in L3 or memory at 10,000
         * examples): fetch the ones after next while this one is summed */
        if (t + PREFETCH_AHEAD < n) prefetch_lists(v, v->touched[t + PREFETCH_AHEAD]);
        for (uint32_t k = v->fwd_start[e]; k < end; k++) {
            uint32_t f = v->fwd_feat[k], in = (uint32_t)(v->qbits[f >> 6] >> (f & 63)) & 1;
            /* feature 0's weight stands in for the others': cached, and
             * its product is overwritten or left past m */
            prod[m] = v->qweight[f & (0u - in)] * v->fwd_w[k];
            m += in;
        }
        for (uint32_t i = 0; i < m; i++)
            sc += prod[i];
        v->score[e] = sc > 0 ? sc : 1e-30f; /* stays "touched" */
    }
    for (uint32_t i = 0; i < nq; i++) {
        uint32_t f = v->qf[i].f;
        v->qweight[f] = 0;
        v->qbits[f >> 6] = 0;
    }
}

/* Accumulates the query's dot product with the examples into v->score and
 * lists the examples it touched in v->touched; returns how many. */
static uint32_t score_examples(struct kb_vec *v, struct kb_features *b, double *qnorm2)
{
    uint32_t ntouched = 0, nq = 0, limit_df = df_limit(v), visited = 0, done;

    *qnorm2 = 0;
    for (int i = 0; i < b->n; i++) {
        int32_t f = find_feat(v, b->key[i]);
        double q = b->w[i] * idf(v, f < 0 ? 0 : v->feats[f].df);
        b->id[i] = f;
        *qnorm2 += q * q; /* unseen features still count in the query's length */
        if (f < 0 || v->feats[f].df > limit_df) continue;
        v->qf[nq++] = (struct qfeat){(uint32_t)f, v->feats[f].df, (float)q};
    }
    b->id_map = &v->map;
    sort_by_df(v->qf, v->qf_tmp, nq);
    for (done = 0; done < nq; done++) {
        const struct vfeat *vf = &v->feats[v->qf[done].f];
        float q = v->qf[done].q;
        if (done > 0 && visited + vf->npost > v->posting_budget) break;
        visited += vf->npost;
        for (uint32_t p = 0; p < vf->npost; p++) {
            const struct vpost *po = &vf->post[p];
            /* branch-free: whether an example was touched before is a coin
             * toss the predictor loses; the slot is overwritten if not */
            v->touched[ntouched] = po->example;
            ntouched += v->score[po->example] == 0;
            v->score[po->example] += q * po->w;
        }
    }
    if (done == nq) return ntouched;
    /* Common features left: finish the best candidates exactly. */
    if (ntouched > v->rescore_candidates) ntouched = keep_best(v, ntouched, v->rescore_candidates);
    rescore(v, ntouched, nq);
    return ntouched;
}

int kb_vec_search(struct kb_vec *v, const char *text, const uint8_t *doc_lang, uint8_t lang,
                  uint32_t ndocs, double *doc_score, uint8_t *doc_count, uint32_t *docs_out,
                  int max_docs)
{
    struct kb_features *b;
    int n;

    if (!v->finished || !v->nexamples) return 0;
    b = malloc(sizeof(*b));
    if (!b) return 0;
    kb_features(text, b);
    n = kb_vec_search_features(v, b, doc_lang, lang, ndocs, doc_score, doc_count, docs_out,
                               max_docs);
    free(b);
    return n;
}

const struct kb_featmap *kb_vec_featmap(const struct kb_vec *v)
{
    return &v->map;
}

int kb_vec_search_features(struct kb_vec *v, struct kb_features *b, const uint8_t *doc_lang,
                           uint8_t lang, uint32_t ndocs, double *doc_score, uint8_t *doc_count,
                           uint32_t *docs_out, int max_docs)
{
    uint32_t ntouched;
    double qnorm2;
    int ndocs_out = 0;

    if (!v->finished || !v->nexamples) return 0;
    ntouched = score_examples(v, b, &qnorm2);
    /* Per document: the mean of its best K examples' cosines, kept in a
     * small sorted array per document (no sort of all touched examples:
     * at 100,000 examples that sort was most of the time). */
    for (uint32_t t = 0; t < ntouched; t++) {
        uint32_t e = v->touched[t], d = v->example_doc[e];
        float sc = (float)(qnorm2 > 0 ? v->score[e] / sqrt(qnorm2) : 0), *top;
        uint8_t c;
        v->score[e] = 0;
        if (d >= ndocs || doc_lang[d] != lang || sc <= 0) continue;
        if (doc_score[d] == 0) {
            if (ndocs_out == max_docs) continue;
            docs_out[ndocs_out++] = d;
            doc_score[d] = 1e-30; /* seen */
            doc_count[d] = 0;
        }
        top = &v->doc_top[(size_t)d * K_NEIGHBOURS];
        c = doc_count[d];
        if (c == K_NEIGHBOURS && sc <= top[K_NEIGHBOURS - 1]) continue;
        if (c < K_NEIGHBOURS) c++;
        /* insert sc, keeping top[0..c) in descending order */
        uint8_t j = (uint8_t)(c - 1);
        while (j > 0 && top[j - 1] < sc) {
            top[j] = top[j - 1];
            j--;
        }
        top[j] = sc;
        doc_count[d] = c;
    }
    for (int i = 0; i < ndocs_out; i++) {
        uint32_t d = docs_out[i];
        const float *top = &v->doc_top[(size_t)d * K_NEIGHBOURS];
        /* an FAQ with two example questions is not penalised against an
         * intent with a hundred */
        uint32_t k = v->doc_examples[d] < K_NEIGHBOURS ? v->doc_examples[d] : K_NEIGHBOURS;
        double sum = 0;
        for (uint8_t j = 0; j < doc_count[d]; j++)
            sum += top[j];
        doc_score[d] = sum / k;
    }
    return ndocs_out;
}
