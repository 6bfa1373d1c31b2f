/*
 * kb_diff.c - a readable line diff between two texts, for the article
 * history: the longest common subsequence of lines, after trimming the
 * common head and tail (most edits touch a few lines in the middle).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"

/* Beyond this many differing lines on each side the table would be too
 * big; the middle is shown as removed then added, which is still true. */
#define MAX_LCS_LINES 3000

struct lines {
    const char **at;
    size_t *len;
    size_t n;
};

static bool split_lines(const char *text, struct lines *out)
{
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        if (*p == '\n') cap++;
    out->at = malloc(cap * sizeof(*out->at));
    out->len = malloc(cap * sizeof(*out->len));
    out->n = 0;
    if (!out->at || !out->len) return false;
    if (!*text) return true;
    for (const char *p = text;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        out->at[out->n] = p;
        out->len[out->n] = n;
        out->n++;
        if (!nl) break;
        p = nl + 1;
        if (!*p) break; /* a final newline ends the last line, it adds none */
    }
    return true;
}

static bool line_eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
    return a->len[i] == b->len[j] && memcmp(a->at[i], b->at[j], a->len[i]) == 0;
}

static void emit(json_t *out, const char *op, const char *text, size_t len)
{
    json_array_append_new(out, json_pack("{s:s, s:s%}", "op", op, "text", text, len));
}

/* LCS of a[lo_a..hi_a) and b[lo_b..hi_b), emitted as = - + lines. */
static bool diff_middle(const struct lines *a, size_t lo_a, size_t hi_a, const struct lines *b,
                        size_t lo_b, size_t hi_b, json_t *out)
{
    size_t n = hi_a - lo_a, m = hi_b - lo_b, i = 0, j = 0;
    uint32_t *t;

    if (n > MAX_LCS_LINES || m > MAX_LCS_LINES) {
        for (size_t k = lo_a; k < hi_a; k++)
            emit(out, "-", a->at[k], a->len[k]);
        for (size_t k = lo_b; k < hi_b; k++)
            emit(out, "+", b->at[k], b->len[k]);
        return true;
    }
    /* t[i][j] = LCS length of a[i..] and b[j..] */
    t = calloc((n + 1) * (m + 1), sizeof(*t));
    if (!t) return false;
    for (size_t x = n; x-- > 0;)
        for (size_t y = m; y-- > 0;)
            t[x * (m + 1) + y] =
                line_eq(a, lo_a + x, b, lo_b + y)
                    ? t[(x + 1) * (m + 1) + y + 1] + 1
                    : (t[(x + 1) * (m + 1) + y] > t[x * (m + 1) + y + 1] ? t[(x + 1) * (m + 1) + y]
                                                                         : t[x * (m + 1) + y + 1]);
    while (i < n || j < m) {
        if (i < n && j < m && line_eq(a, lo_a + i, b, lo_b + j)) {
            emit(out, " ", a->at[lo_a + i], a->len[lo_a + i]);
            i++;
            j++;
        } else if (i < n && (j == m || t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1])) {
            /* removals before additions, the way people read a change */
            emit(out, "-", a->at[lo_a + i], a->len[lo_a + i]);
            i++;
        } else {
            emit(out, "+", b->at[lo_b + j], b->len[lo_b + j]);
            j++;
        }
    }
    free(t);
    return true;
}

json_t *kb_diff_lines(const char *text_a, const char *text_b, bool *changed)
{
    struct lines a = {0}, b = {0};
    json_t *out = json_array();
    size_t head = 0, tail = 0;

    *changed = strcmp(text_a, text_b) != 0;
    if (!split_lines(text_a, &a) || !split_lines(text_b, &b)) goto done;
    while (head < a.n && head < b.n && line_eq(&a, head, &b, head))
        head++;
    while (tail < a.n - head && tail < b.n - head &&
           line_eq(&a, a.n - 1 - tail, &b, b.n - 1 - tail))
        tail++;
    for (size_t k = 0; k < head; k++)
        emit(out, " ", a.at[k], a.len[k]);
    diff_middle(&a, head, a.n - tail, &b, head, b.n - tail, out);
    for (size_t k = a.n - tail; k < a.n; k++)
        emit(out, " ", a.at[k], a.len[k]);
done:
    free(a.at);
    free(a.len);
    free(b.at);
    free(b.len);
    return out;
}
