/*
 * test_kb_model.c - the learned question -> article model (kb/kb_model.c):
 * it separates classes whose examples share most words, gives the same
 * answer every time it is trained on the same examples, keeps to the
 * question's language, and survives empty, huge and hostile text; and
 * through a real store, sb_kb_search answers with it.
 */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kb_int.h"
#include "kb_store_env.h"
#include "sb_kb.h"
#include "sb_store.h"

/* Two classes that share "top up", "card" and "my": only "cash" or
 * "bank transfer" (0) against "pending" or "still" (1) tell them apart. */
static const char *const class0[] = {
    "how do I top up my card with cash",    "can I top up my card by bank transfer",
    "top up my card with cash at a shop",   "I want to top up by bank transfer",
    "where can I top up my card with cash",
};
static const char *const class1[] = {
    "my card top up is still pending",
    "why is my top up pending",
    "top up pending on my card for hours",
    "the top up on my card is still not there",
    "my top up has been pending since yesterday",
};

static const uint8_t one_lang[4] = {0, 0, 0, 0};

static struct kb_model *trained(const uint8_t *doc_lang)
{
    struct kb_model *m = kb_model_new();
    assert_non_null(m);
    for (size_t i = 0; i < sizeof(class0) / sizeof(class0[0]); i++) {
        assert_int_equal(kb_model_add(m, 0, class0[i]), SB_OK);
        assert_int_equal(kb_model_add(m, 1, class1[i]), SB_OK);
    }
    assert_int_equal(kb_model_train(m, doc_lang), SB_OK);
    return m;
}

static uint32_t best(struct kb_model *m, const char *q, double *prob)
{
    struct kb_nn_hit h[4];
    int n = kb_model_search(m, q, one_lang, 0, h, 4);
    assert_true(n >= 1);
    for (int i = 1; i < n; i++)
        assert_true(h[i - 1].cosine >= h[i].cosine);
    if (prob) *prob = h[0].cosine;
    return h[0].doc;
}

static void separates_classes_that_share_words(void **state)
{
    struct kb_model *m = trained(one_lang);
    double p;
    (void)state;
    assert_int_equal(best(m, "is my top up still pending", &p), 1);
    assert_true(p > 0.5);
    assert_int_equal(best(m, "top up my card with cash please", &p), 0);
    assert_true(p > 0.5);
    assert_int_equal(best(m, "top up by bank transfer", NULL), 0);
    assert_int_equal(best(m, "pending top up", NULL), 1);
    kb_model_free(m);
}

static void same_examples_give_the_same_model(void **state)
{
    static const char *const q[] = {"top up", "card", "pending cash", "still there?", "my"};
    struct kb_model *a = trained(one_lang), *b = trained(one_lang);
    (void)state;
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        struct kb_nn_hit ha[4], hb[4];
        int na = kb_model_search(a, q[i], one_lang, 0, ha, 4);
        int nb = kb_model_search(b, q[i], one_lang, 0, hb, 4);
        assert_int_equal(na, nb);
        for (int k = 0; k < na; k++) {
            assert_int_equal(ha[k].doc, hb[k].doc);
            assert_true(ha[k].cosine == hb[k].cosine); /* bit for bit */
        }
    }
    kb_model_free(a);
    kb_model_free(b);
}

/* Documents 2 and 3 are in another language: a question in language 0
 * never gets them, and probabilities are over language 0 only. */
static void scores_only_the_questions_language(void **state)
{
    static const uint8_t langs[4] = {0, 0, 1, 1};
    struct kb_model *m = kb_model_new();
    struct kb_nn_hit h[4];
    double sum = 0;
    int n;
    (void)state;
    for (size_t i = 0; i < sizeof(class0) / sizeof(class0[0]); i++) {
        assert_int_equal(kb_model_add(m, 0, class0[i]), SB_OK);
        assert_int_equal(kb_model_add(m, 1, class1[i]), SB_OK);
        assert_int_equal(kb_model_add(m, 2, class0[i]), SB_OK); /* same words, other language */
    }
    assert_int_equal(kb_model_add(m, 3, "carregar o cartão com dinheiro"), SB_OK);
    assert_int_equal(kb_model_train(m, langs), SB_OK);
    n = kb_model_search(m, "top up my card with cash", langs, 0, h, 4);
    assert_true(n >= 1 && n <= 2);
    for (int i = 0; i < n; i++) {
        assert_true(h[i].doc < 2);
        sum += h[i].cosine;
    }
    assert_int_equal(h[0].doc, 0);
    assert_true(sum > 1.0 - 1e-9 && sum < 1.0 + 1e-9);
    n = kb_model_search(m, "carregar cartão dinheiro", langs, 1, h, 4);
    assert_true(n >= 1);
    assert_int_equal(h[0].doc, 3);
    kb_model_free(m);
}

static void survives_empty_huge_and_hostile_text(void **state)
{
    static const char *const hostile[] = {
        "",
        "   ",
        "?!.,;",
        "\"top\" OR up NEAR(card) * ^pending",
        "\xff\xfe\xc3(\x80\x80",
        "top\x01up\x7f card",
        "🙂🙂🙂 top up 🙂",
    };
    size_t big = 1 << 20;
    char *huge = malloc(big + 1);
    struct kb_model *m = kb_model_new(), *empty = kb_model_new();
    struct kb_nn_hit h[4];
    (void)state;
    assert_non_null(huge);
    for (size_t i = 0; i < big; i++)
        huge[i] = "top up pending cash "[i % 20];
    huge[big] = '\0';
    /* adding: nothing to learn is not an error; a bad document is */
    assert_int_equal(kb_model_add(m, 0, NULL), SB_OK);
    assert_int_equal(kb_model_add(m, UINT32_MAX, "x"), SB_ERR_INVAL);
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
        assert_int_equal(kb_model_add(m, (uint32_t)(i % 2), hostile[i]), SB_OK);
    assert_int_equal(kb_model_add(m, 0, huge), SB_OK);
    for (size_t i = 0; i < sizeof(class0) / sizeof(class0[0]); i++) {
        assert_int_equal(kb_model_add(m, 0, class0[i]), SB_OK);
        assert_int_equal(kb_model_add(m, 1, class1[i]), SB_OK);
    }
    /* searching before training finds nothing; adding after it is refused */
    assert_int_equal(kb_model_search(m, "top up", one_lang, 0, h, 4), 0);
    assert_int_equal(kb_model_train(m, one_lang), SB_OK);
    assert_int_equal(kb_model_add(m, 0, "late"), SB_ERR_INVAL);
    assert_int_equal(kb_model_train(m, one_lang), SB_ERR_INVAL);
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        int n = kb_model_search(m, hostile[i], one_lang, 0, h, 4);
        assert_true(n >= 0 && n <= 2);
        for (int k = 0; k < n; k++)
            assert_true(h[k].cosine >= 0 && h[k].cosine <= 1);
    }
    assert_true(kb_model_search(m, huge, one_lang, 0, h, 4) <= 2);
    assert_int_equal(kb_model_search(m, NULL, one_lang, 0, h, 4), 0);
    assert_int_equal(kb_model_search(m, "top up", one_lang, 0, h, 0), 0);
    assert_int_equal(kb_model_search(m, "top up", one_lang, 7, h, 4), 0); /* no such language */
    assert_int_equal(best(m, "still pending", NULL), 1);
    /* a model of nothing */
    assert_int_equal(kb_model_train(empty, one_lang), SB_OK);
    assert_int_equal(kb_model_search(empty, "top up", one_lang, 0, h, 4), 0);
    kb_model_free(empty);
    kb_model_free(m);
    kb_model_free(NULL);
    free(huge);
}

/* ------- through a real store ------- */

struct env {
    char path[64];
    struct sb_store *st;
    struct sb_kb *kb;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    if (!e) return -1;
    if (kb_store_env_open(e->path, "kbmodel", &e->st, &e->kb)) return -1;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    kb_store_env_close(e->path, e->st, e->kb);
    free(e);
    return 0;
}

static void search_answers_with_the_model(void **state)
{
    struct env *e = *state;
    json_t *ex0 = json_array(), *ex1 = json_array();
    struct sb_kb_result r;
    struct sb_kb_saved s;

    for (size_t i = 0; i < sizeof(class0) / sizeof(class0[0]); i++) {
        json_array_append_new(ex0, json_string(class0[i]));
        json_array_append_new(ex1, json_string(class1[i]));
    }
    struct sb_kb_article a0 = {.slug = "top-up-methods",
                               .locale = "en",
                               .title = "Ways to top up",
                               .summary = "Cash or bank transfer.",
                               .body = "",
                               .status = "published",
                               .examples = ex0};
    struct sb_kb_article a1 = {.slug = "top-up-pending",
                               .locale = "en",
                               .title = "A top up is pending",
                               .summary = "Top ups can take a day.",
                               .body = "",
                               .status = "published",
                               .examples = ex1};
    assert_int_equal(sb_kb_save(e->kb, &a0, 0, 0, &s, NULL), SB_OK);
    assert_int_equal(sb_kb_save(e->kb, &a1, 0, 0, &s, NULL), SB_OK);
    assert_int_equal(sb_kb_search(e->kb, "my top up is still pending, why?", "en", 3, &r), SB_OK);
    assert_true(r.n >= 1);
    assert_string_equal(r.hit[0].slug, "top-up-pending");
    sb_kb_result_cleanup(&r);
    assert_int_equal(sb_kb_search(e->kb, "can i top up with cash", "en", 3, &r), SB_OK);
    assert_true(r.n >= 1);
    assert_string_equal(r.hit[0].slug, "top-up-methods");
    sb_kb_result_cleanup(&r);
    json_decref(ex0);
    json_decref(ex1);
}

/* kb_select_best: the first k hold scores at least as good as all the
 * others, also with many ties (near-identical examples). */
static void selects_the_best_with_ties(void **state)
{
    enum { N = 5000 };
    static struct kb_scored a[N];
    uint32_t ks[] = {0, 1, 7, 200, 2500, 4999, 5000, 6000};
    (void)state;
    for (size_t t = 0; t < sizeof(ks) / sizeof(ks[0]); t++) {
        uint32_t k = ks[t], seen = 0;
        float worst_in = 1e30f, best_out = -1e30f;
        for (uint32_t i = 0; i < N; i++)
            a[i] = (struct kb_scored){i, (float)((i * 7919u) % 13u)}; /* 13 distinct values */
        kb_select_best(a, N, k);
        for (uint32_t i = 0; i < N; i++) {
            if (i < k && a[i].score < worst_in) worst_in = a[i].score;
            if (i >= k && a[i].score > best_out) best_out = a[i].score;
            seen ^= a[i].id;
        }
        if (k > 0 && k < N) assert_true(worst_in >= best_out);
        /* a permutation: the XOR of 0..4999 is 4999 ^ ... computed the same way */
        uint32_t expect = 0;
        for (uint32_t i = 0; i < N; i++)
            expect ^= i;
        assert_int_equal(seen, expect);
    }
}

/* With far more examples than the posting budget, the candidates that
 * the budgeted search keeps get exactly the score of an unbudgeted
 * search (the forward index finishes the common words), and the same
 * document wins. */
static void budgeted_neighbours_score_their_candidates_exactly(void **state)
{
    enum { DOCS = 2000, PER_DOC = 6 };
    struct kb_vec *exact = kb_vec_new(), *cheap = kb_vec_new();
    uint8_t *lang = calloc(DOCS, 1), *count = calloc(DOCS, 1);
    double *score = calloc(DOCS, sizeof(double)), *want = calloc(DOCS, sizeof(double));
    uint32_t *docs = calloc(DOCS, sizeof(uint32_t));
    char text[200];
    /* each phrasing is in a fifth of the examples: long postings, not so
     * common that they are skipped */
    static const char *common[] = {"how do i change the card on my account",
                                   "where is my parcel today", "can i pay with cash now",
                                   "why was my transfer declined", "what is the fee abroad"};
    (void)state;
    assert_non_null(exact);
    assert_non_null(cheap);
    kb_vec_set_budget(exact, UINT32_MAX, UINT32_MAX);
    kb_vec_set_budget(cheap, 500, 40);
    for (uint32_t d = 0; d < DOCS; d++)
        for (int e = 0; e < PER_DOC; e++) {
            snprintf(text, sizeof(text), "%s %s zq%u w%d", common[d % 5], common[(d / 5 + e) % 5],
                     d / 5, e);
            assert_int_equal(kb_vec_add(exact, d, text), SB_OK);
            assert_int_equal(kb_vec_add(cheap, d, text), SB_OK);
        }
    assert_int_equal(kb_vec_finish(exact), SB_OK);
    assert_int_equal(kb_vec_finish(cheap), SB_OK);
    for (uint32_t q = 1230; q < 1240; q++) {
        int n, best_exact = -1, best_cheap = -1;
        snprintf(text, sizeof(text), "%s zq%u", common[q % 5], q / 5);
        n = kb_vec_search(exact, text, lang, 0, DOCS, want, count, docs, DOCS);
        assert_true(n > 0);
        for (int i = 0; i < n; i++)
            if (best_exact < 0 || want[docs[i]] > want[best_exact]) best_exact = (int)docs[i];
        n = kb_vec_search(cheap, text, lang, 0, DOCS, score, count, docs, DOCS);
        assert_true(n > 0 && n < DOCS / 4); /* the budget did cut */
        for (int i = 0; i < n; i++) {
            uint32_t d = docs[i];
            if (best_cheap < 0 || score[d] > score[best_cheap]) best_cheap = (int)d;
            /* a candidate keeps fewer of its examples at most, never a
             * different cosine: the mean of what it kept is no higher */
            assert_true(score[d] <= want[d] + 1e-6);
        }
        assert_int_equal(best_cheap, best_exact);
        assert_true(fabs(score[best_cheap] - want[best_exact]) < 1e-6);
        for (int i = 0; i < n; i++)
            score[docs[i]] = 0;
        memset(want, 0, DOCS * sizeof(double)); /* the callers reset the scratch */
    }
    kb_vec_free(exact);
    kb_vec_free(cheap);
    free(lang);
    free(count);
    free(score);
    free(want);
    free(docs);
}

/* With thousands of articles the model walks a question's shortest
 * postings first and leaves out the longest: the article named by a
 * rare word still wins, although every article shares the phrasing. */
static void model_with_many_articles_trains_fully_and_walks_rare_features_first(void **state)
{
    enum { DOCS = 3000 };
    struct kb_model *m = kb_model_new();
    uint8_t *lang = calloc(DOCS, 1);
    struct kb_nn_hit h[4];
    char text[160];
    int n;
    (void)state;
    assert_non_null(m);
    /* each phrasing in a fifth of the examples: under the quarter that
     * is skipped outright, so only the budget leaves them out */
    static const char *common[] = {"please tell me how to change the plan",
                                   "where is my parcel today", "can i pay with cash now",
                                   "why was my transfer declined", "what is the fee abroad"};
    for (uint32_t d = 0; d < DOCS; d++)
        for (int e = 0; e < 3; e++) {
            snprintf(text, sizeof(text), "%s %s zq%u", common[(d + (uint32_t)e) % 5],
                     e == 0 ? "today" : (e == 1 ? "now" : "soon"), d);
            assert_int_equal(kb_model_add(m, d, text), SB_OK);
        }
    assert_int_equal(kb_model_train(m, lang), SB_OK);
    /* Training learned from every example in every epoch: each phrasing is
     * in 600 articles' examples, so without the posting cap of training
     * its budget ran out in the second epoch. */
    assert_true(kb_model_examples_seen(m) >= 4 * DOCS * 3);
    assert_int_equal(kb_model_examples_seen(m) % (DOCS * 3), 0);
    n = kb_model_search(m, "please tell me how to change the plan zq2718", lang, 0, h, 4);
    assert_true(n > 0);
    assert_int_equal(h[0].doc, 2718);
    kb_model_free(m);
    free(lang);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(selects_the_best_with_ties),
        cmocka_unit_test(budgeted_neighbours_score_their_candidates_exactly),
        cmocka_unit_test(model_with_many_articles_trains_fully_and_walks_rare_features_first),
        cmocka_unit_test(separates_classes_that_share_words),
        cmocka_unit_test(same_examples_give_the_same_model),
        cmocka_unit_test(scores_only_the_questions_language),
        cmocka_unit_test(survives_empty_huge_and_hostile_text),
        cmocka_unit_test_setup_teardown(search_answers_with_the_model, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
