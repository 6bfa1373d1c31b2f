/*
 * kb_text.c - words out of text, the same way for articles and for
 * customer questions: letters and digits only (so FTS5 operators, quotes
 * and emoji are separators), lowercase, with Latin diacritics folded
 * ("Devolução" -> "devolucao", "urmăresc" -> "urmaresc").
 */
#include <string.h>

#include "kb_int.h"

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

/* Lowercase, diacritics removed. */
static uint32_t fold(uint32_t cp)
{
    if (cp >= 'A' && cp <= 'Z') return cp + 32;
    if (cp >= 0xC0 && cp <= 0x17F && latin_fold[cp - 0xC0] != '_')
        return (uint32_t)latin_fold[cp - 0xC0];
    if (cp == 0x218 || cp == 0x219) return 's'; /* Ș ș (Romanian) */
    if (cp == 0x21A || cp == 0x21B) return 't'; /* Ț ț */
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 0x20;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;
    if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
    return cp;
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

bool kb_next_word(const char *text, size_t len, size_t *pos, char *word, size_t cap, size_t *wl)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = *pos;

    for (;;) {
        uint32_t cp;
        size_t n, o = 0;
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
        while (i < len && (n = decode(s + i, len - i, &cp)) > 0 && is_word_cp(cp)) {
            char buf[4];
            size_t k = encode(fold(cp), buf);
            if (o + k < cap)
                for (size_t j = 0; j < k; j++)
                    word[o++] = buf[j];
            else
                too_long = true;
            i += n;
        }
        word[o] = '\0';
        /* A word longer than cap is noise (100 KB of one letter), not a
         * term; skip it and look further. */
        if (!too_long) {
            *pos = i;
            *wl = o;
            return true;
        }
    }
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
        k = encode(fold(cp), buf);
        if (o + k >= cap) break;
        memcpy(out + o, buf, k);
        o += k;
        i += n;
    }
    out[o] = '\0';
    return o;
}

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

int kb_query_terms(const char *text, const char *locale, struct kb_terms *out)
{
    size_t len = strlen(text), pos = 0, wl;
    char word[KB_MAX_TERM_BYTES + 1];

    out->n = 0;
    while (out->n < KB_MAX_TERMS && kb_next_word(text, len, &pos, word, sizeof(word), &wl)) {
        size_t chars, prefix;
        bool dup = false;

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
        /* "track" and "tracking" -> track*: the prefix search covers the
         * exact one, whichever came first. */
        for (int t = 0; t < out->n && !dup; t++) {
            if (strcmp(out->term[t], word) == 0) {
                out->prefix[t] = out->prefix[t] || prefix;
                dup = true;
            }
        }
        if (dup) continue;
        memcpy(out->term[out->n], word, wl + 1);
        out->prefix[out->n++] = prefix > 0;
    }
    return out->n;
}
