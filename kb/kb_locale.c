/*
 * kb_locale.c - the locales articles may be written in, and the best one
 * we have for the locale a customer wants (the fallback rule of words.h).
 */
#include <stdio.h>
#include <string.h>

#include "kb_int.h"
#include "words.h"

static bool locale_shape_ok(const char *s, size_t n)
{
    /* "en", "pt-BR", "zh-Hant-TW": letters and digits in parts of 1-8. */
    size_t part = 0;
    if (n < 2 || n > 35) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '-') {
            if (part == 0) return false;
            part = 0;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9')) {
            if (++part > 8) return false;
        } else {
            return false;
        }
    }
    return part > 0;
}

enum sb_err sb_kb_set_locales(struct sb_kb *kb, const char *list, struct sb_errbuf *eb)
{
    char tmp[KB_MAX_LOCALES][36];
    int n = 0;
    const char *p = list;

    while (*p) {
        size_t len = strcspn(p, ",");
        const char *start = p;
        while (len && *start == ' ') {
            start++;
            len--;
        }
        while (len && start[len - 1] == ' ')
            len--;
        if (len) {
            if (!locale_shape_ok(start, len))
                return sb_fail(eb, SB_ERR_INVAL, "locales: '%.*s' is not a locale like pt-BR",
                               (int)(len > 40 ? 40 : len), start);
            if (n == KB_MAX_LOCALES)
                return sb_fail(eb, SB_ERR_INVAL, "locales: more than %d", KB_MAX_LOCALES);
            memcpy(tmp[n], start, len);
            tmp[n][len] = '\0';
            n++;
        }
        p += strcspn(p, ",");
        if (*p) p++;
    }
    if (n == 0) return sb_fail(eb, SB_ERR_INVAL, "locales: the list is empty");
    memcpy(kb->locale, tmp, sizeof(tmp));
    kb->nlocales = n;
    return SB_OK;
}

bool sb_kb_locale_known(const struct sb_kb *kb, const char *locale)
{
    for (int i = 0; i < kb->nlocales; i++)
        if (strcmp(kb->locale[i], locale) == 0) return true;
    return false;
}

const char *sb_kb_default_locale(const struct sb_kb *kb)
{
    return kb->locale[0];
}

json_t *sb_kb_locales_json(const struct sb_kb *kb)
{
    json_t *arr = json_array();
    for (int i = 0; i < kb->nlocales; i++)
        json_array_append_new(arr, json_string(kb->locale[i]));
    return arr;
}

/* The one fallback rule (words.h) over the configured locales in their
 * order: pt-PT -> pt -> pt-BR -> last. */
bool kb_locale_best(const struct sb_kb *kb, const char *wish, const char *last, int *best)
{
    const char *have[KB_MAX_LOCALES];
    size_t i;

    for (int k = 0; k < kb->nlocales; k++)
        have[k] = kb->locale[k];
    if (!sb_locale_chain(wish, have, (size_t)kb->nlocales, last, &i, 1)) return false;
    *best = (int)i;
    return true;
}

void sb_kb_resolve_locale(const struct sb_kb *kb, const char *wish, char *out, size_t cap)
{
    int best = 0;
    kb_locale_best(kb, wish, kb->locale[0], &best);
    snprintf(out, cap, "%s", kb->locale[best]);
}
