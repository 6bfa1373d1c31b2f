/*
 * kb_stopwords.c - words too common to be evidence for an article, per
 * language. Lists are lowercase; they are sorted once on first use (byte
 * order, as strcmp sees UTF-8) for bsearch. English is always checked too
 * because customers mix it into every language.
 */
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"

static const char *stop_en[] = {
    "a",     "about", "am",    "an",   "and",   "any",    "are",   "as",     "at",    "be",
    "been",  "but",   "by",    "can",  "could", "did",    "do",    "does",   "doing", "for",
    "from",  "get",   "got",   "had",  "has",   "have",   "hello", "help",   "hi",    "how",
    "i",     "if",    "im",    "in",   "is",    "it",     "its",   "just",   "know",  "me",
    "my",    "need",  "of",    "on",   "or",    "please", "s",     "should", "so",    "t",
    "that",  "the",   "their", "them", "then",  "there",  "this",  "to",     "u",     "want",
    "was",   "we",    "what",  "when", "where", "which",  "who",   "why",    "will",  "with",
    "would", "you",   "your",
};

static const char *stop_pt[] = {
    "a",     "ao",     "aos",    "as",    "até",   "com",  "como", "da",    "das",  "de",
    "do",    "dos",    "e",      "ela",   "ele",   "em",   "essa", "esse",  "esta", "este",
    "estou", "eu",     "faço",   "favor", "fazer", "isso", "já",   "lhe",   "me",   "meu",
    "meus",  "minha",  "minhas", "na",    "nas",   "no",   "nos",  "não",   "o",    "olá",
    "onde",  "os",     "ou",     "para",  "pela",  "pelo", "por",  "posso", "pra",  "preciso",
    "qual",  "quando", "que",    "quero", "se",    "seu",  "sua",  "são",   "tem",  "um",
    "uma",   "vocês",  "você",   "é",
};

static const char *stop_ro[] = {
    "a",    "al", "ale", "am",   "care", "ce",     "cu",   "cum",   "când", "da",
    "dacă", "de", "din", "este", "eu",   "fi",     "la",   "mea",   "meu",  "mele",
    "mi",   "mă", "nu",  "o",    "pe",   "pentru", "pot",  "sa",    "sau",  "se",
    "sunt", "să", "un",  "una",  "unde", "unei",   "unui", "vreau", "și",   "în",
};

static int cmp(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

static int cmp_elems(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool in_list(const char **list, size_t n, const char *w)
{
    return bsearch(w, list, n, sizeof(list[0]), cmp) != NULL;
}

static void sort_lists(void)
{
    static bool sorted;
    if (sorted) return;
    qsort(stop_en, SB_ARRAY_LEN(stop_en), sizeof(stop_en[0]), cmp_elems);
    qsort(stop_pt, SB_ARRAY_LEN(stop_pt), sizeof(stop_pt[0]), cmp_elems);
    qsort(stop_ro, SB_ARRAY_LEN(stop_ro), sizeof(stop_ro[0]), cmp_elems);
    sorted = true;
}

bool kb_is_stopword(const char *locale, const char *w, size_t len)
{
    char word[64];

    if (len >= sizeof(word)) return false;
    sort_lists();
    memcpy(word, w, len);
    word[len] = '\0';
    if (in_list(stop_en, SB_ARRAY_LEN(stop_en), word)) return true;
    if (strncmp(locale, "pt", 2) == 0) return in_list(stop_pt, SB_ARRAY_LEN(stop_pt), word);
    if (strncmp(locale, "ro", 2) == 0) return in_list(stop_ro, SB_ARRAY_LEN(stop_ro), word);
    return false;
}
