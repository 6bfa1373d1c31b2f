/*
 * words.c - the locale catalogues and the fallback rule (words.h). Uses
 * jansson to read the files, sb_read_file() and sb_locale_normalise().
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sb_util.h"
#include "words.h"

#define WORDS_MAX_LOCALES 64
#define WORDS_FILE_MAX (1024 * 1024)
#define WORDS_LOCALE_MAX 36

struct catalogue {
    char locale[WORDS_LOCALE_MAX];
    json_t *texts; /* owned: {"key": "text"} */
};

struct sb_words {
    struct catalogue cat[WORDS_MAX_LOCALES]; /* sorted by locale */
    size_t n;
    const char *names[WORDS_MAX_LOCALES]; /* cat[i].locale, for sb_locale_chain */
};

/* ---------- the rule ---------- */

static size_t language_len(const char *locale)
{
    return strcspn(locale, "-_");
}

static int tag_char(char ch)
{
    return ch == '_' ? '-' : tolower((unsigned char)ch);
}

/* Equal ignoring case, with '-' and '_' the same. */
static bool same_tag(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tag_char(*a) != tag_char(*b)) return false;
    return *a == *b;
}

bool sb_locale_same_language(const char *a, const char *b)
{
    size_t la = language_len(a);
    return la == language_len(b) && strncasecmp(a, b, la) == 0;
}

static bool taken(const size_t *order, size_t k, size_t i)
{
    for (size_t j = 0; j < k; j++)
        if (order[j] == i) return true;
    return false;
}

size_t sb_locale_chain(const char *wish, const char *const *have, size_t n, const char *last,
                       size_t *order, size_t cap)
{
    size_t k = 0;

#define TAKE(i)                                                                                    \
    do {                                                                                           \
        if (k < cap && !taken(order, k, (i))) order[k++] = (i);                                    \
    } while (0)
    if (wish && *wish) {
        for (size_t i = 0; i < n; i++)
            if (same_tag(have[i], wish)) TAKE(i);
        for (size_t i = 0; i < n; i++)
            if (!have[i][language_len(have[i])] && sb_locale_same_language(have[i], wish)) TAKE(i);
        for (size_t i = 0; i < n; i++)
            if (sb_locale_same_language(have[i], wish)) TAKE(i);
    }
    if (last)
        for (size_t i = 0; i < n; i++)
            if (same_tag(have[i], last)) TAKE(i);
#undef TAKE
    return k;
}

/* key (lower case) -> what the rule picks for it among have, if anything */
static bool table_put(json_t *table, const char *key, size_t len, const char *const *have, size_t n)
{
    char tag[WORDS_LOCALE_MAX];
    size_t best;

    if (len >= sizeof(tag)) return true; /* no locale that long is offered */
    for (size_t i = 0; i < len; i++)
        tag[i] = (char)tag_char(key[i]);
    tag[len] = '\0';
    if (json_object_get(table, tag) || !sb_locale_chain(tag, have, n, NULL, &best, 1)) return true;
    return json_object_set_new(table, tag, json_string(have[best])) == 0;
}

json_t *sb_locale_table(const char *const *have, size_t n)
{
    json_t *table = json_object();
    bool ok = table != NULL;

    for (size_t i = 0; ok && i < n; i++)
        ok = table_put(table, have[i], strlen(have[i]), have, n) &&
             table_put(table, have[i], language_len(have[i]), have, n);
    if (!ok) {
        json_decref(table);
        return NULL;
    }
    return table;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool sb_locale_pick(const char **have, size_t n, const char *wish, const char *also, size_t *best)
{
    qsort(have, n, sizeof(have[0]), by_name);
    return sb_locale_chain(wish, have, n, also, best, 1) ||
           sb_locale_chain(NULL, have, n, SB_WORDS_LAST, best, 1);
}

const char *sb_locale_pick_text(json_t *obj, const char *wish, const char *also)
{
    const char *have[WORDS_MAX_LOCALES], *key;
    size_t n = 0, best;
    json_t *v;

    json_object_foreach(obj, key, v)
    {
        if (n < WORDS_MAX_LOCALES) have[n++] = key;
    }
    if (!sb_locale_pick(have, n, wish, also, &best)) return NULL;
    return json_string_value(json_object_get(obj, have[best]));
}

/* ---------- the catalogues ---------- */

static int by_locale(const void *a, const void *b)
{
    return strcmp(((const struct catalogue *)a)->locale, ((const struct catalogue *)b)->locale);
}

/* name is "<locale>.json"; true with the locale in out when it is one. */
static bool catalogue_name(const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    char tag[WORDS_LOCALE_MAX];

    if (n < 6 || n - 5 >= sizeof(tag) || strcmp(name + n - 5, ".json") != 0) return false;
    memcpy(tag, name, n - 5);
    tag[n - 5] = '\0';
    /* the file name is the tag as written (pt-BR.json), nothing else */
    return sb_locale_normalise(tag, out, cap) && strcmp(out, tag) == 0;
}

static enum sb_err load_one(const char *dir, const char *name, struct catalogue *c,
                            struct sb_errbuf *eb)
{
    char path[1200];
    char *data = NULL;
    size_t len = 0;
    json_error_t jerr;
    const char *key;
    json_t *v;
    enum sb_err rc;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    rc = sb_read_file(path, WORDS_FILE_MAX, &data, &len, eb);
    if (rc) return rc;
    c->texts = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    free(data);
    if (!json_is_object(c->texts))
        return sb_fail(eb, SB_ERR_INVAL, "%s: not a JSON object (%s, line %d)", path, jerr.text,
                       jerr.line);
    json_object_foreach(c->texts, key, v)
    {
        if (!json_is_string(v))
            return sb_fail(eb, SB_ERR_INVAL, "%s: \"%.60s\" must be a string", path, key);
    }
    return SB_OK;
}

enum sb_err sb_words_load(const char *dir, struct sb_words **out, struct sb_errbuf *eb)
{
    struct sb_words *w = calloc(1, sizeof(*w));
    struct dirent *de;
    enum sb_err rc = SB_OK;
    DIR *d;

    *out = NULL;
    if (!w) return sb_fail(eb, SB_ERR_NOMEM, "words: out of memory");
    d = opendir(dir);
    if (!d) {
        free(w);
        return sb_fail(eb, SB_ERR_IO, "%s: cannot read the locale catalogues", dir);
    }
    while (!rc && (de = readdir(d))) {
        char locale[WORDS_LOCALE_MAX];
        if (!catalogue_name(de->d_name, locale, sizeof(locale))) continue;
        if (w->n == WORDS_MAX_LOCALES) {
            rc = sb_fail(eb, SB_ERR_LIMIT, "%s: more than %d catalogues", dir, WORDS_MAX_LOCALES);
            break;
        }
        snprintf(w->cat[w->n].locale, sizeof(w->cat[w->n].locale), "%s", locale);
        rc = load_one(dir, de->d_name, &w->cat[w->n], eb);
        w->n++;
    }
    closedir(d);
    qsort(w->cat, w->n, sizeof(w->cat[0]), by_locale);
    for (size_t i = 0; i < w->n; i++)
        w->names[i] = w->cat[i].locale;
    if (!rc) {
        size_t last;
        if (!sb_locale_chain(NULL, w->names, w->n, SB_WORDS_LAST, &last, 1))
            rc = sb_fail(eb, SB_ERR_INVAL, "%s: no %s.json, the catalogue of last resort", dir,
                         SB_WORDS_LAST);
    }
    if (rc) {
        sb_words_free(w);
        return rc;
    }
    *out = w;
    return SB_OK;
}

void sb_words_free(struct sb_words *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->n; i++)
        json_decref(w->cat[i].texts);
    free(w);
}

/* The index of the catalogue that has key along the rule for locale, or -1. */
static int source_of(const struct sb_words *w, const char *locale, const char *key)
{
    size_t order[WORDS_MAX_LOCALES], k;

    if (!w) return -1;
    k = sb_locale_chain(locale, w->names, w->n, SB_WORDS_LAST, order, SB_ARRAY_LEN(order));
    for (size_t i = 0; i < k; i++)
        if (json_object_get(w->cat[order[i]].texts, key)) return (int)order[i];
    return -1;
}

const char *sb_words_get(const struct sb_words *w, const char *locale, const char *key)
{
    int i = source_of(w, locale, key);
    return i < 0 ? NULL : json_string_value(json_object_get(w->cat[i].texts, key));
}

const char *sb_words_locale(const struct sb_words *w, const char *locale, const char *key)
{
    int i = source_of(w, locale, key);
    return i < 0 ? NULL : w->names[i];
}

const char *sb_words_own(const struct sb_words *w, const char *locale, const char *key)
{
    size_t order[WORDS_MAX_LOCALES], k;

    if (!w || !locale) return NULL;
    k = sb_locale_chain(locale, w->names, w->n, NULL, order, SB_ARRAY_LEN(order));
    for (size_t i = 0; i < k; i++) {
        const char *s = json_string_value(json_object_get(w->cat[order[i]].texts, key));
        if (s) return s;
    }
    return NULL;
}

const char *sb_words_locale_name(const struct sb_words *w, const char *locale)
{
    if (!w || !locale) return NULL;
    for (size_t i = 0; i < w->n; i++) {
        const char *s = json_string_value(json_object_get(w->cat[i].texts, "locale.name"));
        if (s && same_tag(w->names[i], locale)) return s;
    }
    return sb_words_own(w, locale, "language.name");
}

const char *sb_words_text(const struct sb_words *w, const char *locale, const char *key)
{
    const char *s = sb_words_get(w, locale, key);
    return s ? s : key;
}

const char *sb_words_format(const struct sb_words *w, const char *locale, const char *key,
                            const char *const *names, const char *const *values, size_t n,
                            char *out, size_t cap)
{
    const char *s = sb_words_text(w, locale, key);
    size_t o = 0;

    if (!cap) return out;
    while (*s && o + 1 < cap) {
        size_t i = n;
        if (*s == '{') {
            for (i = 0; i < n; i++) {
                size_t len = strlen(names[i]);
                if (strncmp(s + 1, names[i], len) == 0 && s[1 + len] == '}') break;
            }
        }
        if (i < n) {
            o += (size_t)snprintf(out + o, cap - o, "%s", values[i]);
            if (o >= cap) o = cap - 1;
            s += strlen(names[i]) + 2;
        } else {
            out[o++] = *s++;
        }
    }
    out[o] = '\0';
    return out;
}

json_t *sb_words_json(const struct sb_words *w, const char *locale, const char *prefix)
{
    json_t *obj = json_object();
    size_t plen = strlen(prefix);
    const char *key;
    json_t *v;

    if (!obj || !w) return obj;
    /* every key any catalogue has, so a key only en has still shows */
    for (size_t i = 0; i < w->n; i++) {
        json_object_foreach(w->cat[i].texts, key, v)
        {
            if (strncmp(key, prefix, plen) != 0 || json_object_get(obj, key + plen)) continue;
            json_object_set_new(obj, key + plen, json_string(sb_words_get(w, locale, key)));
        }
    }
    return obj;
}
