/*
 * kb_stem.c - Snowball stemming (libstemmer) by the language of a locale,
 * so "orders", "ordered" and "ordering" are one search term, and
 * "devoluções" and "devolução" another.
 *
 * Provides kb_stem() and the stemmer set that owns the stemmers
 * (struct kb_stemmers, kb_int.h). Uses libstemmer's UTF-8 stemmers: a
 * stemmer keeps state between calls and is not thread-safe, so each
 * owner (the kb handle, the in-memory index, an FTS5 tokenizer instance)
 * has its own, made on the first word of that language.
 */
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>

#include "kb_int.h"

/* Languages with a Snowball stemmer, by ISO 639-1 code. The Nordic ones
 * and Russian are cheap to offer: the same library stems them. */
static const struct {
    const char *code, *algorithm;
} langs[KB_STEM_LANGS] = {
    {"en", "english"}, {"pt", "portuguese"}, {"ro", "romanian"},  {"es", "spanish"},
    {"fr", "french"},  {"de", "german"},     {"it", "italian"},   {"nl", "dutch"},
    {"sv", "swedish"}, {"da", "danish"},     {"nb", "norwegian"}, {"no", "norwegian"},
    {"fi", "finnish"}, {"ru", "russian"},    {"ca", "catalan"},   {"tr", "turkish"},
};

static int lang_index(const char *locale)
{
    char lang[16];
    kb_language_of(locale, lang, sizeof(lang));
    for (int i = 0; i < KB_STEM_LANGS; i++)
        if (strcmp(langs[i].code, lang) == 0) return i;
    return -1;
}

bool kb_stem_known(const char *locale)
{
    return lang_index(locale) >= 0;
}

/* The stemmer of language i, made on first use. A stemmer that cannot be
 * made is not tried again: its language's words stay whole, the same way
 * for every word this owner stems. */
static struct sb_stemmer *stemmer_of(struct kb_stemmers *st, int i)
{
    if (!st->stemmer[i] && !st->unavailable[i]) {
        st->stemmer[i] = sb_stemmer_new(langs[i].algorithm, "UTF_8");
        if (!st->stemmer[i]) st->unavailable[i] = true;
    }
    return st->stemmer[i];
}

/* Snowball's Romanian stemmer (libstemmer 2.2) knows only the cedilla
 * letters ş ţ; Romanian is written with comma-below ș ț as often, and
 * "informații" would keep its suffix. Every one of these letters is two
 * bytes long in UTF-8, so this rewrites in place. */
static void romanian_cedilla(char *w, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        unsigned char a = (unsigned char)w[i], b = (unsigned char)w[i + 1];
        if (a != 0xC8) continue;
        /* U+0219 ș (C8 99) -> U+015F ş (C5 9F); U+021B ț (C8 9B) -> U+0163 ţ (C5 A3) */
        if (b == 0x99) {
            w[i] = (char)0xC5;
            w[i + 1] = (char)0x9F;
        } else if (b == 0x9B) {
            w[i] = (char)0xC5;
            w[i + 1] = (char)0xA3;
        }
    }
}

/* Word endings customers type without their accents, and the accented
 * form the language's stemmer keys on: kb_stem gets folded words, so
 * "devolução" and "devolucao" both arrive as "devolucao" and go to the
 * Portuguese stemmer as "devolução" -> "devolu". Only endings that are
 * almost always accented, longest first per language. Romanian gets the
 * cedilla letters its stemmer knows. */
static const struct {
    const char *lang, *plain, *accented;
} endings[] = {
    {"pt", "coes", "ções"},   {"pt", "cao", "ção"},       {"pt", "oes", "ões"},
    {"pt", "aes", "ães"},     {"pt", "ao", "ão"},         {"pt", "encias", "ências"},
    {"pt", "encia", "ência"}, {"pt", "ancias", "âncias"}, {"pt", "ancia", "ância"},
    {"pt", "aveis", "áveis"}, {"pt", "iveis", "íveis"},   {"pt", "avel", "ável"},
    {"pt", "ivel", "ível"},   {"es", "logias", "logías"}, {"es", "logia", "logía"},
    {"es", "ion", "ión"},     {"fr", "ees", "ées"},       {"fr", "ee", "ée"},
    {"it", "ita", "ità"},     {"ro", "easca", "ească"},   {"ro", "eaza", "ează"},
    {"ro", "este", "eşte"},   {"ro", "esti", "eşti"},     {"ro", "tiune", "ţiune"},
    {"ro", "tiuni", "ţiuni"}, {"ro", "atie", "aţie"},     {"ro", "atia", "aţia"},
    {"ro", "atii", "aţii"},   {"ro", "itati", "ităţi"},   {"ro", "ati", "aţi"},
};

/* At least this many bytes stay before a restored ending ("nao" is a
 * stop word, "vita" is not "vità"). */
#define MIN_STEM_BYTES 3

/* word[0..*len) with its ending's accents put back, in place (buf holds
 * KB_MAX_TERM_BYTES + 1 bytes). */
static void restore_ending(const char *lang, char *word, size_t *len)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(endings); i++) {
        size_t pl = strlen(endings[i].plain), al = strlen(endings[i].accented);
        if (strcmp(endings[i].lang, lang) != 0 || *len < pl + MIN_STEM_BYTES ||
            memcmp(word + *len - pl, endings[i].plain, pl) != 0)
            continue;
        if (*len - pl + al > KB_MAX_TERM_BYTES) return;
        memcpy(word + *len - pl, endings[i].accented, al + 1);
        *len = *len - pl + al;
        return;
    }
}

size_t kb_stem(struct kb_stemmers *st, const char *locale, const char *word, size_t wl, char *out,
               size_t cap)
{
    char buf[KB_MAX_TERM_BYTES + 1];
    const sb_symbol *s = NULL;
    struct sb_stemmer *sm;
    int i = lang_index(locale), n = 0;

    if (cap == 0) return 0;
    if (wl >= sizeof(buf)) wl = 0; /* longer than any term: not ours to stem */
    memcpy(buf, word, wl);
    buf[wl] = '\0';
    sm = i >= 0 ? stemmer_of(st, i) : NULL;
    if (sm) {
        restore_ending(langs[i].code, buf, &wl);
        if (strcmp(langs[i].code, "ro") == 0) romanian_cedilla(buf, wl);
        s = sb_stemmer_stem(sm, (const sb_symbol *)buf, (int)wl);
        n = s ? sb_stemmer_length(sm) : 0;
    }
    /* No stemmer, or out of memory inside it: the word as it is. */
    if (!s || n <= 0 || (size_t)n >= cap) {
        s = (const sb_symbol *)buf;
        n = (int)(wl < cap ? wl : 0);
    }
    memcpy(out, s, (size_t)n);
    out[n] = '\0';
    return (size_t)n;
}

void kb_stemmers_cleanup(struct kb_stemmers *st)
{
    if (!st) return;
    for (int i = 0; i < KB_STEM_LANGS; i++) {
        sb_stemmer_delete(st->stemmer[i]);
        st->stemmer[i] = NULL;
        st->unavailable[i] = false;
    }
}
