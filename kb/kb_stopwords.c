/*
 * kb_stopwords.c - words too common to be evidence for an article, per
 * language (en, pt, ro, es, fr, de, it), looked up after folding (see
 * kb_text.c). English is always checked too because customers mix it into
 * every language. Negations are stop words as well: a bag of words cannot
 * tell "received" from "not received" anyway, and keeping them only adds
 * a term every article shares.
 */
#include <pthread.h>
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

static const char *const stop_es[] = {
    "a",       "al",     "algo",     "como",   "con",  "cual", "cuando", "de",   "del",     "donde",
    "el",      "ella",   "en",       "es",     "esa",  "ese",  "esta",   "este", "estoy",   "favor",
    "gracias", "hola",   "hacer",    "la",     "las",  "le",   "lo",     "los",  "me",      "mi",
    "mis",     "muy",    "necesito", "no",     "nos",  "o",    "para",   "pero", "por",     "puedo",
    "que",     "quiero", "se",       "si",     "sin",  "son",  "su",     "sus",  "también", "te",
    "tengo",   "tiene",  "tu",       "un",     "una",  "uno",  "usted",  "y",    "ya",      "yo",
    "qué",     "cómo",   "dónde",    "cuándo", "cuál", "sí",   "tú",     "está", "él",
};

static const char *const stop_fr[] = {
    "a",   "à",     "au",  "aux",  "avec", "bonjour", "ce",    "ces",      "comment", "dans",
    "de",  "des",   "du",  "elle", "en",   "est",     "et",    "être",     "faire",   "il",
    "je",  "j",     "l",   "la",   "le",   "les",     "leur",  "lui",      "ma",      "mais",
    "me",  "merci", "mes", "moi",  "mon",  "n",       "ne",    "nous",     "on",      "ou",
    "où",  "par",   "pas", "pour", "puis", "qu",      "quand", "que",      "quel",    "quelle",
    "qui", "s",     "sa",  "se",   "ses",  "son",     "suis",  "sur",      "ta",      "te",
    "tes", "toi",   "ton", "tu",   "un",   "une",     "veux",  "voudrais", "vous",    "votre",
    "vos", "y",     "c",   "d",    "m",    "t",       "plaît", "svp",      "ai",      "avez",
};

static const char *const stop_de[] = {
    "aber",  "also", "am",     "an",    "auch",  "auf",   "bei",    "bin",    "bitte",  "da",
    "dann",  "das",  "dass",   "dein",  "dem",   "den",   "der",    "des",    "die",    "dies",
    "diese", "du",   "ein",    "eine",  "einem", "einen", "einer",  "er",     "es",     "für",
    "hallo", "hat",  "habe",   "haben", "ich",   "ihr",   "ihre",   "im",     "in",     "ist",
    "ja",    "kann", "kein",   "keine", "mein",  "meine", "meinem", "meinen", "meiner", "mich",
    "mir",   "mit",  "möchte", "nicht", "noch",  "nur",   "oder",   "sie",    "sind",   "so",
    "um",    "und",  "uns",    "von",   "vom",   "was",   "wann",   "warum",  "wie",    "wir",
    "wo",    "zu",   "zum",    "zur",   "danke", "wurde", "werden", "wird",
};

static const char *const stop_it[] = {
    "a",    "ad",     "al",    "alla",   "alle",   "anche", "che",    "chi",    "ciao",
    "come", "con",    "cosa",  "da",     "dal",    "dalla", "del",    "della",  "dei",
    "devo", "di",     "dove",  "e",      "è",      "gli",   "grazie", "ha",     "ho",
    "i",    "il",     "in",    "io",     "la",     "le",    "lo",     "ma",     "mi",
    "mia",  "mie",    "miei",  "mio",    "ne",     "nel",   "nella",  "non",    "o",
    "per",  "perché", "posso", "quando", "quale",  "qual",  "quello", "questa", "questo",
    "se",   "si",     "sono",  "su",     "sul",    "sua",   "suo",    "ti",     "tu",
    "un",   "una",    "uno",   "vorrei", "voglio", "l",     "c",      "sei",    "favore",
};

#define MAX_STOP 128
#define STOP_BYTES 24

/* Folded, sorted copies built on first use: customers type "nao" as often
 * as "não", and the words we look up are folded the same way. */
struct stop_list {
    const char *lang;
    const char *const *raw;
    size_t n;
    char word[MAX_STOP][STOP_BYTES];
    const char *sorted[MAX_STOP];
};

#define LIST(code, words)                                                                          \
    {                                                                                              \
        code, words, SB_ARRAY_LEN(words), {{0}},                                                   \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

/* English first: it is checked for every language. */
static struct stop_list lists[] = {
    LIST("en", stop_en), LIST("pt", stop_pt), LIST("ro", stop_ro), LIST("es", stop_es),
    LIST("fr", stop_fr), LIST("de", stop_de), LIST("it", stop_it),
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
    for (size_t l = 0; l < SB_ARRAY_LEN(lists); l++) {
        struct stop_list *sl = &lists[l];
        if (sl->n > MAX_STOP) sl->n = MAX_STOP;
        for (size_t i = 0; i < sl->n; i++) {
            kb_fold(sl->raw[i], strlen(sl->raw[i]), sl->word[i], STOP_BYTES);
            sl->sorted[i] = sl->word[i];
        }
        qsort(sl->sorted, sl->n, sizeof(sl->sorted[0]), cmp_elems);
    }
}

static bool in_list(const struct stop_list *sl, const char *w)
{
    return bsearch(w, sl->sorted, sl->n, sizeof(sl->sorted[0]), cmp) != NULL;
}

bool kb_is_stopword(const char *locale, const char *w, size_t len)
{
    /* FTS5 tokenizers may run on any thread that has a connection. */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    char word[64], lang[16];

    if (len >= sizeof(word)) return false;
    memcpy(word, w, len);
    word[len] = '\0';
    pthread_once(&once, prepare_lists);
    if (in_list(&lists[0], word)) return true;
    kb_language_of(locale, lang, sizeof(lang));
    for (size_t l = 1; l < SB_ARRAY_LEN(lists); l++)
        if (strcmp(lists[l].lang, lang) == 0) return in_list(&lists[l], word);
    return false;
}
