/*
 * kb_search.c - from customer text to ranked articles with a confidence.
 *
 * Customer text never reaches FTS5 as syntax: it is cut into words here,
 * each word is quoted, and the words are joined with OR. Confidence blends
 * how much of the question an article covers (sb_coverage, an FTS5
 * auxiliary function) with how strongly BM25 ranks it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"

#define MAX_TERMS 32
#define MAX_TERM_BYTES 64
/* Where BM25 saturates: a score of BM25_HALF gives half of the BM25 share. */
#define BM25_HALF 1.0

/* Length of the UTF-8 sequence at s if it is a letter or digit we index,
 * else 0. Symbols, punctuation, emoji and FTS5 operators are separators. */
static size_t word_char(const unsigned char *s, size_t left)
{
    uint32_t cp;
    size_t n;

    if (s[0] < 0x80) {
        unsigned char c = s[0];
        return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) ? 1 : 0;
    }
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2;
        cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3;
        cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n > left) return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    /* Latin-1 letters (not x/÷), Latin Extended, Greek, Cyrillic, and the
     * CJK/Hangul blocks; everything else separates words. */
    if (cp == 0x37E || cp == 0x387 || cp == 0x30FB || (cp >= 0x4DC0 && cp <= 0x4DFF))
        return 0; /* punctuation and symbols inside those blocks */
    if ((cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) || (cp >= 0x370 && cp <= 0x52F) ||
        (cp >= 0x1E00 && cp <= 0x1EFF) || (cp >= 0x3040 && cp <= 0x9FFF) ||
        (cp >= 0xAC00 && cp <= 0xD7A3))
        return n;
    return 0;
}

/* Number of UTF-8 characters in w[0..len). */
static size_t utf8_chars(const char *w, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)w[i] & 0xC0) != 0x80) n++;
    return n;
}

/* Byte length of the first `chars` characters of w. */
static size_t utf8_prefix(const char *w, size_t len, size_t chars)
{
    size_t i = 0, n = 0;
    while (i < len) {
        if (((unsigned char)w[i] & 0xC0) != 0x80) {
            if (n == chars) break;
            n++;
        }
        i++;
    }
    return i;
}

int sb_kb_build_query(const char *text, const char *locale, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text), i = 0, o = 0;
    char terms[MAX_TERMS][MAX_TERM_BYTES + 1];
    bool is_prefix[MAX_TERMS];
    int nterms = 0, written = 0;

    out[0] = '\0';
    while (i < len && nterms < MAX_TERMS) {
        char word[MAX_TERM_BYTES + 1];
        size_t wl = 0, k, prefix, chars;
        bool too_long = false, dup = false;

        while (i < len && !word_char(s + i, len - i))
            i++;
        while (i < len && (k = word_char(s + i, len - i)) > 0) {
            if (wl + k <= MAX_TERM_BYTES) {
                for (size_t j = 0; j < k; j++) {
                    unsigned char c = s[i + j];
                    word[wl++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
                }
            } else {
                too_long = true; /* a 100 KB "word" is noise, not a term */
            }
            i += k;
        }
        if (wl == 0 || too_long) continue;
        word[wl] = '\0';
        if (kb_is_stopword(locale, word, wl)) continue;

        /* Until the stemming tokenizer lands, a crude stem: long words are
         * cut to their first max(4, n-3) characters and searched as a
         * prefix, so "orders" finds "order" and "rastrear" "rastreio". */
        chars = utf8_chars(word, wl);
        prefix = chars >= 6 ? (chars - 3 > 4 ? chars - 3 : 4) : 0;
        if (prefix) {
            wl = utf8_prefix(word, wl, prefix);
            word[wl] = '\0';
        }
        /* "track" and "tracking" -> "track"*: the prefix search covers the
         * exact one, whichever came first. */
        for (int t = 0; t < nterms && !dup; t++) {
            if (strcmp(terms[t], word) == 0) {
                is_prefix[t] = is_prefix[t] || prefix;
                dup = true;
            }
        }
        if (dup) continue;
        memcpy(terms[nterms], word, wl + 1);
        is_prefix[nterms++] = prefix > 0;
    }
    /* Words hold only letters and digits, so quoting cannot be broken;
     * the output is still bounded by cap. */
    for (int t = 0; t < nterms; t++) {
        int w = snprintf(out + o, cap - o, "%s\"%s\"%s", written ? " OR " : "", terms[t],
                         is_prefix[t] ? "*" : "");
        if (w < 0 || (size_t)w >= cap - o) {
            out[o] = '\0';
            break;
        }
        o += (size_t)w;
        written++;
    }
    return written;
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

static fts5_api *fts5_api_of(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *s = NULL;

    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &s, NULL) != SQLITE_OK) return NULL;
    sqlite3_bind_pointer(s, 1, &api, "fts5_api_ptr", NULL);
    sqlite3_step(s);
    sqlite3_finalize(s);
    return api;
}

enum sb_err kb_register_functions(sqlite3 *db)
{
    fts5_api *api = fts5_api_of(db);
    if (!api) return SB_ERR_DB;
    if (api->xCreateFunction(api, "sb_coverage", NULL, coverage_fn, NULL) != SQLITE_OK)
        return SB_ERR_DB;
    return SB_OK;
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

/* Copies column col into dst[cap], cutting long text between characters so
 * what reaches plugins and JSON stays valid UTF-8. */
static void copy_text(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    size_t n = t ? strlen(t) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80)
            n--;
    }
    if (n) memcpy(dst, t, n);
    dst[n] = '\0';
}

enum sb_err sb_kb_search(struct sb_kb *kb, const char *text, const char *locale, int limit,
                         struct sb_kb_result *out)
{
    sqlite3_stmt *s = kb->stmt[KB_SEARCH];
    char query[MAX_TERMS * (MAX_TERM_BYTES + 8) + 1];
    char lang[16];
    int r, fetched = 0;

    memset(out, 0, sizeof(*out));
    if (limit < 1) limit = 1;
    if (limit > SB_KB_MAX_HITS) limit = SB_KB_MAX_HITS;
    out->terms = sb_kb_build_query(text, locale, query, sizeof(query));
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
        copy_text(h->slug, sizeof(h->slug), s, 1);
        copy_text(h->locale, sizeof(h->locale), s, 2);
        copy_text(h->title, sizeof(h->title), s, 3);
        h->summary = strdup(summary ? summary : "");
        h->bm25 = sqlite3_column_double(s, 5);
        h->coverage = sqlite3_column_double(s, 6);
        h->confidence = h->coverage * (h->bm25 / (h->bm25 + BM25_HALF));
        if (!(h->confidence >= 0)) h->confidence = 0;
        h->exact_locale = strcmp(h->locale, locale) == 0;
        fetched++;
    }
    sqlite3_reset(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        /* Cannot happen for queries we built, but a search failure is a
         * miss for the customer, never an error page. */
        sb_kb_result_cleanup(out);
        return SB_ERR_DB;
    }
    qsort(out->hit, (size_t)fetched, sizeof(out->hit[0]), by_confidence);
    /* One hit per article: drop other regions' versions of a slug already
     * listed, then anything past limit. */
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
