/*
 * kb_index.c - the answer engine's in-memory index of published articles.
 *
 * FTS5 finds articles well but ranks slowly for a chat bot: BM25 over an
 * OR of a customer's words touches most of a large knowledge base, at
 * about 3 us a row in SQLite. Here the same words (kb_text.c) go into
 * posting lists in memory, and a question is scored in C: BM25 over four
 * weighted fields (title 4, summary 2, body 1, example questions 3) plus
 * coverage, the share of the question's terms an article contains,
 * weighted by the best field each term occurs in. The index is rebuilt
 * from the store when articles change (kb.c decides when).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"

#define NFIELDS 4
static const double field_weight[NFIELDS] = {4.0, 2.0, 1.0, 3.0};
static const double field_coverage[NFIELDS] = {1.0, 0.7, 0.4, 1.0};
#define BM25_K1 1.2
#define BM25_B 0.75

struct posting {
    uint32_t doc;
    uint16_t tf[NFIELDS];
    /* from tf once the index is built: the field-weighted term frequency
     * and the best field's coverage weight, so a query does not redo it */
    float wtf, cov;
};

struct term {
    char *text; /* folded word, owned */
    struct posting *post;
    uint32_t npost, cap;
};

#define MAX_LANGS 64 /* fewer than UINT8_MAX, which marks "no language" */

struct kb_index {
    struct kb_doc *docs;
    uint32_t ndocs;
    uint8_t *doc_lang; /* language id per document */
    char langs[MAX_LANGS][16];
    uint32_t lang_docs[MAX_LANGS];
    double lang_avglen[MAX_LANGS];
    float *doc_norm; /* BM25's length normalisation per document, precomputed */
    int nlangs;
    struct term *terms;
    uint32_t nterms, terms_cap;
    uint32_t *hash; /* open addressing: term index + 1, 0 = empty */
    uint32_t hash_cap;
    /* scratch for one search, ndocs long */
    double *score, *cov, *tf_sum, *tf_cov;
    uint32_t *stamp, *touched, *term_docs;
    uint32_t cur_stamp;
    /* example questions as phrases (every word, stop words too), for the
     * exact-phrasing match: open addressing on hash_str(phrase) */
    struct phrase *phrases;
    uint32_t nphrases, phrases_cap;
    struct kb_vec *vec;      /* example questions and titles as vectors */
    struct kb_model *model;  /* and as training data for the model */
    struct kb_stemmers stem; /* for the articles' search terms (kb_stem.c) */
    double *nn_score;        /* scratch for kb_index_neighbours, ndocs long */
    uint32_t *nn_docs;
    uint8_t *nn_count;
};

struct phrase {
    char *text; /* NULL = empty slot */
    uint32_t doc;
};

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int32_t find_term(const struct kb_index *ix, const char *w)
{
    uint32_t mask = ix->hash_cap - 1, i = hash_str(w) & mask;
    while (ix->hash[i]) {
        uint32_t t = ix->hash[i] - 1;
        if (strcmp(ix->terms[t].text, w) == 0) return (int32_t)t;
        i = (i + 1) & mask;
    }
    return -1;
}

static enum sb_err grow_hash(struct kb_index *ix)
{
    uint32_t cap = ix->hash_cap ? ix->hash_cap * 2 : 4096;
    uint32_t *h = calloc(cap, sizeof(*h));
    if (!h) return SB_ERR_NOMEM;
    free(ix->hash);
    ix->hash = h;
    ix->hash_cap = cap;
    for (uint32_t t = 0; t < ix->nterms; t++) {
        uint32_t i = hash_str(ix->terms[t].text) & (cap - 1);
        while (h[i])
            i = (i + 1) & (cap - 1);
        h[i] = t + 1;
    }
    return SB_OK;
}

static enum sb_err add_word(struct kb_index *ix, const char *w, size_t wl, uint32_t doc, int field)
{
    int32_t t = find_term(ix, w);
    struct term *tm;

    if (t < 0) {
        if (ix->nterms + 1 > ix->hash_cap / 2 && grow_hash(ix)) return SB_ERR_NOMEM;
        if (ix->nterms == ix->terms_cap) {
            uint32_t cap = ix->terms_cap ? ix->terms_cap * 2 : 1024;
            struct term *p = realloc(ix->terms, cap * sizeof(*p));
            if (!p) return SB_ERR_NOMEM;
            ix->terms = p;
            ix->terms_cap = cap;
        }
        tm = &ix->terms[ix->nterms];
        memset(tm, 0, sizeof(*tm));
        tm->text = malloc(wl + 1);
        if (!tm->text) return SB_ERR_NOMEM;
        memcpy(tm->text, w, wl + 1);
        t = (int32_t)ix->nterms++;
        uint32_t i = hash_str(w) & (ix->hash_cap - 1);
        while (ix->hash[i])
            i = (i + 1) & (ix->hash_cap - 1);
        ix->hash[i] = (uint32_t)t + 1;
    }
    tm = &ix->terms[t];
    /* Documents arrive in order, so a document's posting is the last one. */
    if (!tm->npost || tm->post[tm->npost - 1].doc != doc) {
        if (tm->npost == tm->cap) {
            uint32_t cap = tm->cap ? tm->cap * 2 : 4;
            struct posting *p = realloc(tm->post, cap * sizeof(*p));
            if (!p) return SB_ERR_NOMEM;
            tm->post = p;
            tm->cap = cap;
        }
        memset(&tm->post[tm->npost], 0, sizeof(tm->post[0]));
        tm->post[tm->npost++].doc = doc;
    }
    if (tm->post[tm->npost - 1].tf[field] < UINT16_MAX) tm->post[tm->npost - 1].tf[field]++;
    return SB_OK;
}

/* Indexes the search terms of a field (kb_text.c: stemmed by the
 * article's locale, as questions are); stop words are not indexed but
 * count towards the length BM25 normalises by. */
static enum sb_err add_field(struct kb_index *ix, uint32_t doc, int field, const char *text)
{
    size_t len = text ? strlen(text) : 0, pos = 0, tl;
    char term[KB_MAX_TERM_BYTES + 1];
    while (
        kb_next_term(&ix->stem, ix->docs[doc].locale, text, len, &pos, term, sizeof(term), &tl)) {
        enum sb_err rc = tl ? add_word(ix, term, tl, doc, field) : SB_OK;
        if (rc) return rc;
        ix->docs[doc].len++;
    }
    return SB_OK;
}

static char *dup_col(sqlite3_stmt *s, int col)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    return strdup(t ? t : "");
}

size_t kb_phrase(const char *text, char *out, size_t cap)
{
    size_t len = strlen(text), pos = 0, used = 0, wl;
    char word[KB_MAX_TERM_BYTES + 1];

    out[0] = '\0';
    while (kb_next_word(text, len, &pos, word, sizeof(word), &wl)) {
        if (used + wl + 2 > cap) return 0; /* too long to be a phrasing */
        if (used) out[used++] = ' ';
        memcpy(out + used, word, wl + 1);
        used += wl;
    }
    return used;
}

static enum sb_err grow_phrases(struct kb_index *ix)
{
    uint32_t cap = ix->phrases_cap ? ix->phrases_cap * 2 : 256;
    struct phrase *p = calloc(cap, sizeof(*p));
    if (!p) return SB_ERR_NOMEM;
    for (uint32_t i = 0; i < ix->phrases_cap; i++) {
        uint32_t j;
        if (!ix->phrases[i].text) continue;
        j = hash_str(ix->phrases[i].text) & (cap - 1);
        while (p[j].text)
            j = (j + 1) & (cap - 1);
        p[j] = ix->phrases[i];
    }
    free(ix->phrases);
    ix->phrases = p;
    ix->phrases_cap = cap;
    return SB_OK;
}

static enum sb_err add_phrase(struct kb_index *ix, uint32_t doc, const char *example)
{
    char norm[KB_MAX_PHRASE_BYTES];
    uint32_t j;

    if (!kb_phrase(example, norm, sizeof(norm))) return SB_OK;
    if ((ix->nphrases + 1) * 2 > ix->phrases_cap && grow_phrases(ix)) return SB_ERR_NOMEM;
    j = hash_str(norm) & (ix->phrases_cap - 1);
    while (ix->phrases[j].text) {
        if (ix->phrases[j].doc == doc && strcmp(ix->phrases[j].text, norm) == 0) return SB_OK;
        j = (j + 1) & (ix->phrases_cap - 1);
    }
    ix->phrases[j].text = strdup(norm);
    if (!ix->phrases[j].text) return SB_ERR_NOMEM;
    ix->phrases[j].doc = doc;
    ix->nphrases++;
    return SB_OK;
}

int kb_index_phrase_docs(const struct kb_index *ix, const char *phrase, const char *lang,
                         uint32_t *docs, int max)
{
    int n = 0;
    if (!ix->phrases_cap || !*phrase) return 0;
    for (uint32_t j = hash_str(phrase) & (ix->phrases_cap - 1); ix->phrases[j].text;
         j = (j + 1) & (ix->phrases_cap - 1)) {
        uint32_t d = ix->phrases[j].doc;
        if (n < max && strcmp(ix->phrases[j].text, phrase) == 0 &&
            strcmp(ix->docs[d].lang, lang) == 0)
            docs[n++] = d;
    }
    return n;
}

/* Example questions are stored as a JSON array; index them as one field,
 * and each one as a phrase. */
static enum sb_err add_examples(struct kb_index *ix, uint32_t doc, const char *json_text)
{
    json_t *arr = json_loads(json_text ? json_text : "[]", 0, NULL);
    size_t i;
    json_t *v;
    enum sb_err rc = SB_OK;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v)) continue;
        rc = add_field(ix, doc, 3, json_string_value(v));
        if (!rc) rc = add_phrase(ix, doc, json_string_value(v));
        if (!rc) rc = kb_vec_add(ix->vec, doc, json_string_value(v));
        if (!rc) rc = kb_model_add(ix->model, doc, json_string_value(v));
        if (rc) break;
    }
    json_decref(arr);
    return rc;
}

/* The published articles as read from the database: what a build needs,
 * so that the build itself can run on another thread (kb_rebuild.c). */
struct kb_row {
    struct kb_doc doc; /* id and the strings the index keeps; lang and len still to do */
    char *body, *examples;
};

struct kb_rows {
    struct kb_row *row;
    uint32_t n;
};

static void free_doc_strings(struct kb_doc *d)
{
    free(d->slug);
    free(d->locale);
    free(d->title);
    free(d->summary);
}

void kb_rows_free(struct kb_rows *r)
{
    if (!r) return;
    for (uint32_t i = 0; i < r->n; i++) {
        free_doc_strings(&r->row[i].doc);
        free(r->row[i].body);
        free(r->row[i].examples);
    }
    free(r->row);
    free(r);
}

enum sb_err kb_rows_read(sqlite3 *db, struct kb_rows **out)
{
    static const char sql[] = "SELECT id, slug, locale, title, summary, body, examples"
                              " FROM kb_articles WHERE status = 'published' ORDER BY id";
    struct kb_rows *r = calloc(1, sizeof(*r));
    sqlite3_stmt *s = NULL;
    uint32_t cap = 0;
    enum sb_err rc = r ? SB_OK : SB_ERR_NOMEM;
    int step = SQLITE_DONE;

    if (!rc && sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) rc = SB_ERR_DB;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
        struct kb_row *w;
        if (r->n == cap) {
            cap = cap ? cap * 2 : 256;
            w = realloc(r->row, cap * sizeof(*w));
            if (!w) {
                rc = SB_ERR_NOMEM;
                break;
            }
            r->row = w;
        }
        w = &r->row[r->n++];
        memset(w, 0, sizeof(*w));
        w->doc.id = sqlite3_column_int64(s, 0);
        w->doc.slug = dup_col(s, 1);
        w->doc.locale = dup_col(s, 2);
        w->doc.title = dup_col(s, 3);
        w->doc.summary = dup_col(s, 4);
        w->body = dup_col(s, 5);
        w->examples = dup_col(s, 6);
        if (!w->doc.slug || !w->doc.locale || !w->doc.title || !w->doc.summary || !w->body ||
            !w->examples)
            rc = SB_ERR_NOMEM;
    }
    if (!rc && step != SQLITE_DONE) rc = SB_ERR_DB;
    sqlite3_finalize(s);
    if (rc) {
        kb_rows_free(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

/* Indexes the rows; the documents take their strings (the rows' are
 * cleared). */
static enum sb_err load_docs(struct kb_index *ix, struct kb_rows *rows)
{
    enum sb_err rc = SB_OK;

    ix->docs = calloc(rows->n ? rows->n : 1, sizeof(*ix->docs));
    if (!ix->docs) return SB_ERR_NOMEM;
    for (uint32_t i = 0; i < rows->n && !rc; i++) {
        struct kb_row *w = &rows->row[i];
        struct kb_doc *d = &ix->docs[ix->ndocs];
        uint32_t doc = ix->ndocs++;
        *d = w->doc;
        memset(&w->doc, 0, sizeof(w->doc));
        kb_language_of(d->locale, d->lang, sizeof(d->lang));
        rc = add_field(ix, doc, 0, d->title);
        if (!rc) rc = kb_vec_add(ix->vec, doc, d->title); /* a title is a phrasing too */
        if (!rc) rc = kb_model_add(ix->model, doc, d->title);
        if (!rc) rc = add_field(ix, doc, 1, d->summary);
        if (!rc) rc = add_field(ix, doc, 2, w->body);
        if (!rc) rc = add_examples(ix, doc, w->examples);
    }
    return rc;
}

static void weigh_postings(struct kb_index *ix)
{
    for (uint32_t t = 0; t < ix->nterms; t++)
        for (uint32_t p = 0; p < ix->terms[t].npost; p++) {
            struct posting *po = &ix->terms[t].post[p];
            double f = 0, c = 0;
            for (int k = 0; k < NFIELDS; k++) {
                if (!po->tf[k]) continue;
                f += field_weight[k] * po->tf[k];
                if (field_coverage[k] > c) c = field_coverage[k];
            }
            po->wtf = (float)f;
            po->cov = (float)c;
        }
}

enum sb_err kb_index_build(sqlite3 *db, struct kb_index **out)
{
    struct kb_rows *rows;
    enum sb_err rc = kb_rows_read(db, &rows);

    if (rc) return rc;
    rc = kb_index_build_rows(rows, out);
    kb_rows_free(rows);
    return rc;
}

enum sb_err kb_index_build_rows(struct kb_rows *rows, struct kb_index **out)
{
    struct kb_index *ix = calloc(1, sizeof(*ix));
    uint32_t n;
    enum sb_err rc;

    if (!ix) return SB_ERR_NOMEM;
    ix->vec = kb_vec_new();
    ix->model = kb_model_new();
    rc = ix->vec && ix->model ? grow_hash(ix) : SB_ERR_NOMEM;
    if (!rc) rc = load_docs(ix, rows);
    if (!rc) rc = kb_vec_finish(ix->vec);
    if (rc) goto fail;
    n = ix->ndocs ? ix->ndocs : 1;
    ix->score = calloc(n, sizeof(double));
    ix->cov = calloc(n, sizeof(double));
    ix->tf_sum = calloc(n, sizeof(double));
    ix->tf_cov = calloc(n, sizeof(double));
    ix->stamp = calloc(n, sizeof(uint32_t));
    ix->touched = calloc(n, sizeof(uint32_t));
    ix->term_docs = calloc(n, sizeof(uint32_t));
    ix->nn_score = calloc(n, sizeof(double));
    ix->nn_docs = calloc(n, sizeof(uint32_t));
    ix->nn_count = calloc(n, 1);
    if (!ix->nn_score || !ix->nn_docs || !ix->nn_count) {
        rc = SB_ERR_NOMEM;
        goto fail;
    }
    if (!ix->score || !ix->cov || !ix->tf_sum || !ix->tf_cov || !ix->stamp || !ix->touched ||
        !ix->term_docs) {
        rc = SB_ERR_NOMEM;
        goto fail;
    }
    ix->doc_lang = calloc(n, 1);
    if (!ix->doc_lang) {
        rc = SB_ERR_NOMEM;
        goto fail;
    }
    /* Per-language document counts and average lengths for BM25, and a
     * small id per document so scoring compares integers, not strings. */
    for (uint32_t d = 0; d < ix->ndocs; d++) {
        int l = 0;
        while (l < ix->nlangs && strcmp(ix->langs[l], ix->docs[d].lang) != 0)
            l++;
        if (l == ix->nlangs) {
            if (ix->nlangs == MAX_LANGS) {
                ix->doc_lang[d] = UINT8_MAX; /* past 64 languages: not searched */
                continue;
            }
            memcpy(ix->langs[l], ix->docs[d].lang, sizeof(ix->langs[l]));
            ix->nlangs++;
        }
        ix->doc_lang[d] = (uint8_t)l;
        ix->lang_docs[l]++;
        ix->lang_avglen[l] += ix->docs[d].len;
    }
    for (int l = 0; l < ix->nlangs; l++)
        ix->lang_avglen[l] = ix->lang_docs[l] ? ix->lang_avglen[l] / ix->lang_docs[l] : 1;
    weigh_postings(ix);
    ix->doc_norm = malloc((ix->ndocs ? ix->ndocs : 1) * sizeof(*ix->doc_norm));
    if (!ix->doc_norm) {
        rc = SB_ERR_NOMEM;
        goto fail;
    }
    for (uint32_t d = 0; d < ix->ndocs; d++) {
        double avg = ix->doc_lang[d] < ix->nlangs && ix->lang_avglen[ix->doc_lang[d]] > 0
                         ? ix->lang_avglen[ix->doc_lang[d]]
                         : 1;
        ix->doc_norm[d] = (float)(BM25_K1 * (1 - BM25_B + BM25_B * ix->docs[d].len / avg));
    }
    rc = kb_model_train(ix->model, ix->doc_lang);
    if (rc) goto fail;
    /* The model and the neighbours read the same texts in the same order,
     * so their maps normally agree and a question's features are looked
     * up once for both (kb_model_share_ids); checked, not assumed. */
    if (kb_featmap_same(kb_vec_featmap(ix->vec), kb_model_featmap(ix->model)))
        kb_model_share_ids(ix->model, kb_vec_featmap(ix->vec));
    *out = ix;
    return SB_OK;
fail:
    kb_index_free(ix);
    return rc;
}

void kb_index_free(struct kb_index *ix)
{
    if (!ix) return;
    for (uint32_t d = 0; d < ix->ndocs; d++)
        free_doc_strings(&ix->docs[d]);
    for (uint32_t t = 0; t < ix->nterms; t++) {
        free(ix->terms[t].text);
        free(ix->terms[t].post);
    }
    free(ix->docs);
    free(ix->doc_lang);
    free(ix->doc_norm);
    free(ix->terms);
    kb_stemmers_cleanup(&ix->stem);
    free(ix->hash);
    free(ix->score);
    free(ix->cov);
    free(ix->tf_sum);
    free(ix->tf_cov);
    free(ix->stamp);
    free(ix->touched);
    free(ix->term_docs);
    for (uint32_t i = 0; i < ix->phrases_cap; i++)
        free(ix->phrases[i].text);
    free(ix->phrases);
    kb_vec_free(ix->vec);
    kb_model_free(ix->model);
    free(ix->nn_score);
    free(ix->nn_docs);
    free(ix->nn_count);
    free(ix);
}

const struct kb_doc *kb_index_doc(const struct kb_index *ix, uint32_t doc)
{
    return doc < ix->ndocs ? &ix->docs[doc] : NULL;
}

struct term_pass {
    uint8_t lang;
    uint32_t ntouched; /* docs this query term occurs in */
};

/* Gathers, per document, the weighted term frequency and the best field
 * coverage weight of one query term (over all the words it stands for). */
static void gather(struct kb_index *ix, const struct term *tm, void *arg)
{
    struct term_pass *tp = arg;
    for (uint32_t p = 0; p < tm->npost; p++) {
        const struct posting *po = &tm->post[p];
        uint32_t d = po->doc;
        if (ix->doc_lang[d] != tp->lang) continue;
        if (ix->stamp[d] != ix->cur_stamp) {
            ix->stamp[d] = ix->cur_stamp;
            ix->tf_sum[d] = 0;
            ix->tf_cov[d] = 0;
            ix->term_docs[tp->ntouched++] = d;
        }
        ix->tf_sum[d] += po->wtf;
        if (po->cov > ix->tf_cov[d]) ix->tf_cov[d] = po->cov;
    }
}

int kb_index_search(struct kb_index *ix, const struct kb_terms *q, const char *lang,
                    struct kb_ix_hit *hits, int max)
{
    uint32_t ntouched = 0, ndocs_lang;
    int nhits = 0, l = 0;

    if (!ix->ndocs || q->n == 0) return 0;
    while (l < ix->nlangs && strcmp(ix->langs[l], lang) != 0)
        l++;
    if (l == ix->nlangs) return 0;
    ndocs_lang = ix->lang_docs[l];

    /* A fresh stamp per query term marks the documents it touched; a
     * wrapped counter clears all stamps once. */
    for (int t = 0; t < q->n; t++) {
        struct term_pass tp = {.lang = (uint8_t)l, .ntouched = 0};
        double idf;

        if (++ix->cur_stamp == 0) {
            memset(ix->stamp, 0, ix->ndocs * sizeof(uint32_t));
            ix->cur_stamp = 1;
        }
        int32_t tm = find_term(ix, q->term[t]);
        if (tm >= 0) gather(ix, &ix->terms[tm], &tp);
        if (!tp.ntouched) continue;
        /* Lucene's BM25 idf: positive even when a word is in most articles,
         * so a small knowledge base still ranks. */
        idf = log(1.0 + (ndocs_lang - tp.ntouched + 0.5) / (tp.ntouched + 0.5));
        for (uint32_t i = 0; i < tp.ntouched; i++) {
            uint32_t d = ix->term_docs[i];
            double f = ix->tf_sum[d];
            double norm = ix->doc_norm[d];
            if (ix->score[d] == 0 && ix->cov[d] == 0) ix->touched[ntouched++] = d;
            ix->score[d] += idf * f * (BM25_K1 + 1) / (f + norm);
            ix->cov[d] += ix->tf_cov[d];
        }
    }
    /* Keep the best max by score (insertion into a small sorted array),
     * and clear the accumulators for the next search. */
    for (uint32_t i = 0; i < ntouched; i++) {
        uint32_t d = ix->touched[i];
        struct kb_ix_hit h = {.doc = d, .bm25 = ix->score[d], .coverage = ix->cov[d] / q->n};
        ix->score[d] = 0;
        ix->cov[d] = 0;
        if (nhits == max && h.bm25 <= hits[nhits - 1].bm25) continue;
        int j = nhits < max ? nhits++ : max - 1;
        while (j > 0 && hits[j - 1].bm25 < h.bm25) {
            hits[j] = hits[j - 1];
            j--;
        }
        hits[j] = h;
    }
    return nhits;
}

static int lang_id(const struct kb_index *ix, const char *lang)
{
    for (int l = 0; l < ix->nlangs; l++)
        if (strcmp(ix->langs[l], lang) == 0) return l;
    return -1;
}

static int by_cosine(const void *a, const void *b)
{
    const struct kb_nn_hit *x = a, *y = b;
    return x->cosine < y->cosine ? 1 : (x->cosine > y->cosine ? -1 : 0);
}

int kb_index_neighbours(struct kb_index *ix, struct kb_features *q, const char *lang,
                        struct kb_nn_hit *hits, int max)
{
    int l = lang_id(ix, lang), n, out = 0;

    if (l < 0 || !ix->ndocs) return 0;
    n = kb_vec_search_features(ix->vec, q, ix->doc_lang, (uint8_t)l, ix->ndocs, ix->nn_score,
                               ix->nn_count, ix->nn_docs, (int)ix->ndocs);
    /* keep the best max; reset the scratch for the next query */
    for (int i = 0; i < n; i++) {
        uint32_t d = ix->nn_docs[i];
        struct kb_nn_hit h = {d, ix->nn_score[d]};
        ix->nn_score[d] = 0;
        if (out < max) {
            hits[out++] = h;
            if (out == max) qsort(hits, (size_t)out, sizeof(*hits), by_cosine);
        } else if (h.cosine > hits[max - 1].cosine) {
            int j = max - 1;
            while (j > 0 && hits[j - 1].cosine < h.cosine) {
                hits[j] = hits[j - 1];
                j--;
            }
            hits[j] = h;
        }
    }
    if (out < max) qsort(hits, (size_t)out, sizeof(*hits), by_cosine);
    return out;
}

int kb_index_model(struct kb_index *ix, const struct kb_features *q, const char *lang,
                   struct kb_nn_hit *hits, int max)
{
    int l = lang_id(ix, lang);
    if (l < 0 || !ix->ndocs) return 0;
    return kb_model_search_features(ix->model, q, ix->doc_lang, (uint8_t)l, hits, max);
}
