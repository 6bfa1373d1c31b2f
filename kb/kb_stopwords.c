/*
 * kb_stopwords.c - words too common to be evidence for an article, per
 * language, looked up after folding (see kb_text.c). English is always
 * checked too because customers mix it into every language.
 */
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"

static const char *const stop_en[] = {
    "a",     "about", "am",    "an",   "and",   "any",    "are",   "as",     "at",    "be",
    "been",  "but",   "by",    "can",  "could", "did",    "do",    "does",   "doing", "for",
    "from",  "get",   "got",   "had",  "has",   "have",   "hello", "help",   "hi",    "how",
    "i",     "if",    "im",    "in",   "is",    "it",     "its",   "just",   "know",  "me",
    "my",    "need",  "of",    "on",   "or",    "please", "s",     "should", "so",    "t",
    "that",  "the",   "their", "them", "then",  "there",  "this",  "to",     "u",     "want",
    "was",   "we",    "what",  "when", "where", "which",  "who",   "why",    "will",  "with",
    "would", "you",   "your",
};

static const char *const stop_pt[] = {
    "a",     "ao",     "aos",    "as",    "até",   "com",  "como", "da",    "das",  "de",
    "do",    "dos",    "e",      "ela",   "ele",   "em",   "essa", "esse",  "esta", "este",
    "estou", "eu",     "faço",   "favor", "fazer", "isso", "já",   "lhe",   "me",   "meu",
    "meus",  "minha",  "minhas", "na",    "nas",   "no",   "nos",  "não",   "o",    "olá",
    "onde",  "os",     "ou",     "para",  "pela",  "pelo", "por",  "posso", "pra",  "preciso",
    "qual",  "quando", "que",    "quero", "se",    "seu",  "sua",  "são",   "tem",  "um",
    "uma",   "vocês",  "você",   "é",
};

static const char *const stop_ro[] = {
    "a",    "al", "ale", "am",   "care", "ce",     "cu",   "cum",   "când", "da",
    "dacă", "de", "din", "este", "eu",   "fi",     "la",   "mea",   "meu",  "mele",
    "mi",   "mă", "nu",  "o",    "pe",   "pentru", "pot",  "sa",    "sau",  "se",
    "sunt", "să", "un",  "una",  "unde", "unei",   "unui", "vreau", "și",   "în",
};

#define MAX_STOP 128
#define STOP_BYTES 24

/* Folded, sorted copies built on first use: customers type "nao" as often
 * as "não", and the words we look up are folded the same way. */
struct stop_list {
    const char *const *raw;
    size_t n;
    char word[MAX_STOP][STOP_BYTES];
    const char *sorted[MAX_STOP];
};

static struct stop_list lists[3] = {
    {stop_en, SB_ARRAY_LEN(stop_en), {{0}}, {0}},
    {stop_pt, SB_ARRAY_LEN(stop_pt), {{0}}, {0}},
    {stop_ro, SB_ARRAY_LEN(stop_ro), {{0}}, {0}},
};

static int cmp(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

static int cmp_elems(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void prepare_lists(void)
{
    static bool ready;
    if (ready) return;
    for (size_t l = 0; l < SB_ARRAY_LEN(lists); l++) {
        struct stop_list *sl = &lists[l];
        for (size_t i = 0; i < sl->n && i < MAX_STOP; i++) {
            kb_fold(sl->raw[i], strlen(sl->raw[i]), sl->word[i], STOP_BYTES);
            sl->sorted[i] = sl->word[i];
        }
        qsort(sl->sorted, sl->n, sizeof(sl->sorted[0]), cmp_elems);
    }
    ready = true;
}

static bool in_list(const struct stop_list *sl, const char *w)
{
    return bsearch(w, sl->sorted, sl->n, sizeof(sl->sorted[0]), cmp) != NULL;
}

bool kb_is_stopword(const char *locale, const char *w, size_t len)
{
    char word[64];

    if (len >= sizeof(word)) return false;
    memcpy(word, w, len);
    word[len] = '\0';
    prepare_lists();
    if (in_list(&lists[0], word)) return true;
    if (strncmp(locale, "pt", 2) == 0) return in_list(&lists[1], word);
    if (strncmp(locale, "ro", 2) == 0) return in_list(&lists[2], word);
    return false;
}
