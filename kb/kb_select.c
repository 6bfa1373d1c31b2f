/*
 * kb_select.c - the k best of a list of scored ids, without sorting it.
 *
 * The neighbour search and the learned model both walk the postings of a
 * question's rarer features first and then finish only their best
 * candidates exactly; this picks those candidates. A quickselect with a
 * three-way partition: near-identical examples and articles tie a lot,
 * and a two-way partition degrades to quadratic time on ties.
 */
#include "kb_int.h"

static void swap(struct kb_scored *a, uint32_t i, uint32_t j)
{
    struct kb_scored t = a[i];
    a[i] = a[j];
    a[j] = t;
}

void kb_select_best(struct kb_scored *a, uint32_t n, uint32_t k)
{
    uint32_t lo = 0, hi = n;

    if (k >= n) return;
    while (hi - lo > 1) {
        float pivot = a[lo + (hi - lo) / 2].score;
        /* [lo, gt) above the pivot, [gt, i) equal, [lt, hi) below */
        uint32_t gt = lo, i = lo, lt = hi;
        while (i < lt) {
            if (a[i].score > pivot)
                swap(a, i++, gt++);
            else if (a[i].score < pivot)
                swap(a, i, --lt);
            else
                i++;
        }
        if (k < gt)
            hi = gt;
        else if (k <= lt)
            return; /* the k-th best is one of the equal ones */
        else
            lo = lt;
    }
}
