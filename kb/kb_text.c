/*
 * kb_text.c - words and search terms out of text, the same way for
 * articles (the in-memory index, the FTS5 tokenizer) and for customer
 * questions.
 *
 * A word is a run of letters and digits, so FTS5 operators, quotes and
 * emoji are separators. A search term is a word lowercased and folded
 * (diacritics removed), dropped when it is a stop word of the locale's
 * language (kb_stopwords.c), then stemmed by that language's Snowball
 * stemmer (kb_stem.c, which first puts back the accents of the endings
 * the stemmer keys on) and folded again: "Devoluções", "devolucoes",
 * "devolução" -> "devolu"; "urmăresc", "urmaresc" -> "urmar".
 *
 * Why fold before stemming, when Snowball's Portuguese, Romanian, Spanish
 * and French rules match accented suffixes: customers often type without
 * diacritics, and stemming the word as typed gives "devolu" for
 * "devolução" but "devoluca" for "devolucao". Folding first makes both
 * spellings one term by construction, and restoring the few endings that
 * are almost always accented (-ção, -ções, -ência, -ável, -ión, -ează,
 * -eşte, ...) keeps most of what the stemmer does with accents. Measured
 * on AIA-BDE (855 Portuguese FAQs, their 2,642 dev paraphrases as
 * questions, once as written and once with diacritics stripped),
 * in-memory engine top-1: stem as typed 81.5% / 80.6%; fold first 81.4%
 * / 81.4%; fold first with endings restored 81.4% / 81.4%, with the best
 * top-3 (90.7%). FTS5: 73.5% / 70.7%, 73.4% / 73.4%, 73.7% / 73.7%.
 */
#include <string.h>

#include "kb_int.h"

/* ------- UTF-8 ------- */

/* Decodes one UTF-8 sequence; returns its length or 0 if malformed. */
static size_t decode(const unsigned char *s, size_t left, uint32_t *cp)
{
    size_t n;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2;
        *cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3;
        *cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4;
        *cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n > left) return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        *cp = (*cp << 6) | (s[k] & 0x3F);
    }
    return n;
}

static size_t encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ------- Characters ------- */

static bool is_word_cp(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    if (cp == 0x37E || cp == 0x387 || cp == 0x30FB || (cp >= 0x4DC0 && cp <= 0x4DFF))
        return false; /* punctuation and symbols inside the blocks below */
    /* Latin-1 letters (not x/÷), Latin Extended, Greek, Cyrillic, Latin
     * Extended Additional, and the CJK/Hangul blocks. */
    return (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) ||
           (cp >= 0x370 && cp <= 0x52F) || (cp >= 0x1E00 && cp <= 0x1EFF) ||
           (cp >= 0x3040 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7A3);
}

/* In [lo, hi], is cp the capital of a capital/small pair? Unicode lays
 * out most Latin, Cyrillic and Latin Extended Additional pairs as
 * neighbours, the capital on the even (or, in some runs, odd) code. */
static bool pair_upper(uint32_t cp, uint32_t lo, uint32_t hi, bool even)
{
    return cp >= lo && cp <= hi && ((cp & 1) == 0) == even;
}

static uint32_t lower_latin_ext(uint32_t cp)
{
    switch (cp) {
    case 0x130:
        return 'i'; /* İ */
    case 0x178:
        return 0xFF; /* Ÿ */
    case 0x17F:
        return 's'; /* long s */
    case 0x1C4:
    case 0x1C5:
        return 0x1C6; /* DŽ Dž */
    case 0x1C7:
    case 0x1C8:
        return 0x1C9; /* LJ Lj */
    case 0x1CA:
    case 0x1CB:
        return 0x1CC; /* NJ Nj */
    case 0x1F1:
    case 0x1F2:
        return 0x1F3; /* DZ Dz */
    case 0x1AF:
        return 0x1B0; /* Ư */
    }
    if (pair_upper(cp, 0x100, 0x137, true) || pair_upper(cp, 0x139, 0x148, false) ||
        pair_upper(cp, 0x14A, 0x177, true) || pair_upper(cp, 0x179, 0x17E, false) ||
        pair_upper(cp, 0x1A0, 0x1A5, true) || pair_upper(cp, 0x1CD, 0x1DC, false) ||
        pair_upper(cp, 0x1DE, 0x1EF, true) || pair_upper(cp, 0x1F8, 0x21F, true) ||
        pair_upper(cp, 0x222, 0x233, true) || pair_upper(cp, 0x246, 0x24F, true))
        return cp + 1;
    return cp;
}

static uint32_t lower_greek(uint32_t cp)
{
    if (cp == 0x386) return 0x3AC;                  /* Ά */
    if (cp >= 0x388 && cp <= 0x38A) return cp + 37; /* Έ Ή Ί */
    if (cp == 0x38C) return 0x3CC;                  /* Ό */
    if (cp == 0x38E || cp == 0x38F) return cp + 63; /* Ύ Ώ */
    if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 32;
    if (cp == 0x3C2) return 0x3C3; /* final sigma: one letter for search */
    return cp;
}

static uint32_t lower_cyrillic(uint32_t cp)
{
    if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
    if (cp == 0x4C0) return 0x4CF;
    if (pair_upper(cp, 0x460, 0x481, true) || pair_upper(cp, 0x48A, 0x4BF, true) ||
        pair_upper(cp, 0x4C1, 0x4CE, false) || pair_upper(cp, 0x4D0, 0x52F, true))
        return cp + 1;
    return cp;
}

/* Simple Unicode lowercase for the scripts knowledge bases are written in
 * here; other characters stay as they are. */
static uint32_t lower(uint32_t cp)
{
    if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
    if (cp >= 0x100 && cp <= 0x24F) return lower_latin_ext(cp);
    if (cp >= 0x370 && cp <= 0x3FF) return lower_greek(cp);
    if (cp >= 0x400 && cp <= 0x52F) return lower_cyrillic(cp);
    if (pair_upper(cp, 0x1E00, 0x1E95, true) || pair_upper(cp, 0x1EA0, 0x1EFF, true)) return cp + 1;
    return cp;
}

/* Base letter for U+00C0..U+017F; '_' keeps the character as it is. */
static const char latin_fold[] = "aaaaaa_ceeeeiiii"
                                 "dnooooo_ouuuuy__"
                                 "aaaaaa_ceeeeiiii"
                                 "dnooooo_ouuuuy_y"
                                 "aaaaaaccccccccdd"
                                 "ddeeeeeeeeeegggg"
                                 "gggghhhhiiiiiiii"
                                 "ii__jjkkklllllll"
                                 "lllnnnnnnnnnoooo"
                                 "oo__rrrrrrssssss"
                                 "sstttttttuuuuuuu"
                                 "uuuuwwyyyzzzzzzs";

/* Small letters of Latin Extended-B with a diacritic, and their base. */
static const struct {
    uint16_t cp;
    char base;
} latin_b_fold[] = {
    {0x1A1, 'o'}, {0x1B0, 'u'}, {0x1CE, 'a'}, {0x1D0, 'i'}, {0x1D2, 'o'}, {0x1D4, 'u'},
    {0x1D6, 'u'}, {0x1D8, 'u'}, {0x1DA, 'u'}, {0x1DC, 'u'}, {0x1E7, 'g'}, {0x1E9, 'k'},
    {0x1EB, 'o'}, {0x1F5, 'g'}, {0x1F9, 'n'}, {0x1FB, 'a'}, {0x1FF, 'o'}, {0x201, 'a'},
    {0x203, 'a'}, {0x205, 'e'}, {0x207, 'e'}, {0x209, 'i'}, {0x20B, 'i'}, {0x20D, 'o'},
    {0x20F, 'o'}, {0x211, 'r'}, {0x213, 'r'}, {0x215, 'u'}, {0x217, 'u'}, {0x219, 's'},
    {0x21B, 't'}, {0x21F, 'h'}, {0x227, 'a'}, {0x229, 'e'}, {0x22B, 'o'}, {0x22D, 'o'},
    {0x22F, 'o'}, {0x231, 'o'}, {0x233, 'y'},
};

/* A lowercase letter without its diacritics: Latin (ș and ş alike give
 * s), Greek tonos and dialytika, Cyrillic ё. */
static uint32_t unmark(uint32_t cp)
{
    if (cp < 0xC0) return cp;
    if (cp <= 0x17F) return latin_fold[cp - 0xC0] != '_' ? (uint32_t)latin_fold[cp - 0xC0] : cp;
    if (cp <= 0x24F) {
        for (size_t i = 0; i < SB_ARRAY_LEN(latin_b_fold); i++)
            if (latin_b_fold[i].cp == cp) return (uint32_t)latin_b_fold[i].base;
        return cp;
    }
    switch (cp) {
    case 0x3AC:
        return 0x3B1; /* ά */
    case 0x3AD:
        return 0x3B5; /* έ */
    case 0x3AE:
        return 0x3B7; /* ή */
    case 0x3AF:
    case 0x3CA:
    case 0x390:
        return 0x3B9; /* ί ϊ ΐ */
    case 0x3CC:
        return 0x3BF; /* ό */
    case 0x3CD:
    case 0x3CB:
    case 0x3B0:
        return 0x3C5; /* ύ ϋ ΰ */
    case 0x3CE:
        return 0x3C9; /* ώ */
    case 0x451:
        return 0x435; /* ё */
    }
    return cp;
}

/* ------- Words ------- */

/* The next word of text from *pos into word[cap], lowercased and, when
 * fold is set, without diacritics; *start gets its first byte. */
static bool next_word(const char *text, size_t len, size_t *pos, size_t *start, char *word,
                      size_t cap, size_t *wl, bool fold)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = *pos;

    for (;;) {
        uint32_t cp;
        size_t n, o = 0, first;
        bool too_long = false;

        /* skip separators */
        while (i < len) {
            n = decode(s + i, len - i, &cp);
            if (n && is_word_cp(cp)) break;
            i += n ? n : 1;
        }
        if (i >= len) {
            *pos = i;
            return false;
        }
        first = i;
        while (i < len && (n = decode(s + i, len - i, &cp)) > 0 && is_word_cp(cp)) {
            char buf[4];
            uint32_t c = lower(cp);
            size_t k = encode(fold ? unmark(c) : c, buf);
            if (o + k < cap) {
                memcpy(word + o, buf, k);
                o += k;
            } else {
                too_long = true;
            }
            i += n;
        }
        word[o] = '\0';
        /* A word longer than cap is noise (100 KB of one letter), not a
         * term; skip it and look further. */
        if (!too_long) {
            *pos = i;
            *start = first;
            *wl = o;
            return true;
        }
    }
}

bool kb_next_word(const char *text, size_t len, size_t *pos, char *word, size_t cap, size_t *wl)
{
    size_t start;
    return next_word(text, len, pos, &start, word, cap, wl, true);
}

bool kb_next_lower(const char *text, size_t len, size_t *pos, size_t *start, char *word, size_t cap,
                   size_t *wl)
{
    return next_word(text, len, pos, start, word, cap, wl, false);
}

size_t kb_fold(const char *in, size_t len, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = decode(s + i, len - i, &cp);
        char buf[4];
        size_t k;
        if (!n) break;
        k = encode(unmark(lower(cp)), buf);
        if (o + k >= cap) break;
        memcpy(out + o, buf, k);
        o += k;
        i += n;
    }
    out[o] = '\0';
    return o;
}

/* ------- Terms ------- */

size_t kb_term(struct kb_stemmers *st, const char *locale, const char *word, size_t wl, char *out,
               size_t cap)
{
    char folded[KB_MAX_TERM_BYTES + 1], stem[KB_MAX_TERM_BYTES + 1];
    size_t fl, sl;

    out[0] = '\0';
    /* Stop-word lists are folded: "nao" is as common as "não". */
    fl = kb_fold(word, wl, folded, sizeof(folded));
    if (fl == 0 || kb_is_stopword(locale, folded, fl)) return 0;
    sl = kb_stem(st, locale, folded, fl, stem, sizeof(stem));
    if (sl == 0) return kb_fold(folded, fl, out, cap);
    return kb_fold(stem, sl, out, cap);
}

bool kb_next_term(struct kb_stemmers *st, const char *locale, const char *text, size_t len,
                  size_t *pos, char *term, size_t cap, size_t *tl)
{
    char word[KB_MAX_TERM_BYTES + 1];
    size_t wl, start;

    if (!kb_next_lower(text, len, pos, &start, word, sizeof(word), &wl)) return false;
    *tl = kb_term(st, locale, word, wl, term, cap);
    return true;
}

int kb_query_terms(struct kb_stemmers *st, const char *text, const char *locale,
                   struct kb_terms *out)
{
    size_t len = strlen(text), pos = 0, tl;
    char term[KB_MAX_TERM_BYTES + 1];

    out->n = 0;
    while (out->n < KB_MAX_TERMS &&
           kb_next_term(st, locale, text, len, &pos, term, sizeof(term), &tl)) {
        bool dup = false;
        if (tl == 0) continue; /* a stop word */
        for (int t = 0; t < out->n && !dup; t++)
            dup = strcmp(out->term[t], term) == 0;
        if (!dup) memcpy(out->term[out->n++], term, tl + 1);
    }
    return out->n;
}
