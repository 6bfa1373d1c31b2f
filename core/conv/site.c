/*
 * site.c - the rules of a site's fields (docs/widget.md, "Sites"): ids,
 * origins, colours, locales, greetings and proactive rules, each error
 * naming its field; and the views given to browsers and to staff.
 * Uses jansson and sb_locale_normalise(); stores nothing itself.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_util.h"
#include "site.h"

#define NAME_MAX_BYTES 100
#define TITLE_MAX_BYTES 60
#define TEXT_MAX_BYTES 500
#define URL_GLOB_MAX 500
#define ARTICLE_MAX 100
#define MAX_ORIGINS 50
#define MAX_RULES 20
#define MAX_LOCALE_TEXTS 20

bool site_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > SITE_ID_MAX) return false;
    for (; *id; id++)
        if (!((*id >= 'a' && *id <= 'z') || (*id >= '0' && *id <= '9') || *id == '-')) return false;
    return true;
}

static bool host_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
}

bool site_origin_normalise(const char *in, char *out, size_t cap)
{
    char low[SITE_ORIGIN_MAX + 1];
    size_t n = strlen(in), hostlen = 0;
    const char *host, *p;

    if (n == 0 || n > SITE_ORIGIN_MAX || n >= cap) return false;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)in[i]);
    if (strncmp(low, "https://", 8) == 0)
        host = low + 8;
    else if (strncmp(low, "http://", 7) == 0)
        host = low + 7;
    else
        return false;
    for (p = host; *p && *p != ':'; p++) {
        if (!host_char(*p)) return false;
        hostlen++;
    }
    if (hostlen == 0 || host[0] == '.' || host[0] == '-' || host[hostlen - 1] == '.') return false;
    if (*p == ':') {
        char *end;
        long port;
        if (!isdigit((unsigned char)p[1])) return false;
        errno = 0;
        port = strtol(p + 1, &end, 10);
        if (errno || *end || port < 1 || port > 65535 || p[1] == '0') return false;
    }
    memcpy(out, low, n + 1);
    return true;
}

bool site_origin_of_url(const char *url, char *out, size_t cap)
{
    const char *host = strstr(url, "://");
    char buf[SITE_ORIGIN_MAX + 1];
    size_t n;

    if (!host) return false;
    n = (size_t)(host + 3 - url) + strcspn(host + 3, "/?#");
    if (n > SITE_ORIGIN_MAX) return false;
    memcpy(buf, url, n);
    buf[n] = '\0';
    return site_origin_normalise(buf, out, cap);
}

/* A one-line text of 1..max bytes without control characters. */
static bool plain_text(json_t *v, size_t max)
{
    const unsigned char *s;
    size_t n;
    if (!json_is_string(v)) return false;
    n = json_string_length(v);
    s = (const unsigned char *)json_string_value(v);
    if (n == 0 || n > max || strlen((const char *)s) != n) return false;
    for (; *s; s++)
        if (*s < 0x20 || *s == 0x7f) return false;
    return true;
}

/* A message: 1..max bytes, line breaks allowed, no other control chars. */
static bool message_text(json_t *v, size_t max)
{
    const unsigned char *s;
    size_t n;
    if (!json_is_string(v)) return false;
    n = json_string_length(v);
    s = (const unsigned char *)json_string_value(v);
    if (n == 0 || n > max || strlen((const char *)s) != n) return false;
    for (; *s; s++)
        if ((*s < 0x20 && *s != '\n' && *s != '\t') || *s == 0x7f) return false;
    return true;
}

static bool slug_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ARTICLE_MAX) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')) return false;
    return true;
}

/* {"en": "...", "pt-BR": "..."} -> a new object with normalised locales. */
static enum sb_err locale_texts(json_t *v, const char *field, bool required, json_t **out,
                                struct sb_errbuf *eb)
{
    const char *key;
    json_t *text, *res;

    if (!json_is_object(v))
        return sb_fail(eb, SB_ERR_INVAL, "%s: must be an object of locale -> text", field);
    if (required && json_object_size(v) == 0)
        return sb_fail(eb, SB_ERR_INVAL, "%s: needs at least one locale", field);
    if (json_object_size(v) > MAX_LOCALE_TEXTS)
        return sb_fail(eb, SB_ERR_INVAL, "%s: at most %d locales", field, MAX_LOCALE_TEXTS);
    res = json_object();
    json_object_foreach(v, key, text)
    {
        char loc[36];
        if (!sb_locale_normalise(key, loc, sizeof(loc))) {
            json_decref(res);
            return sb_fail(eb, SB_ERR_INVAL, "%s.%.40s: not a locale like \"en\" or \"pt-BR\"",
                           field, key);
        }
        if (!message_text(text, TEXT_MAX_BYTES)) {
            json_decref(res);
            return sb_fail(eb, SB_ERR_INVAL, "%s.%s: must be a text of 1 to %d bytes", field, loc,
                           TEXT_MAX_BYTES);
        }
        json_object_set(res, loc, text);
    }
    *out = res;
    return SB_OK;
}

static enum sb_err check_rule(json_t *rule, size_t i, json_t **out, struct sb_errbuf *eb)
{
    static const char *const known[] = {"url", "after_s", "message", "article"};
    json_t *url = json_object_get(rule, "url"), *after = json_object_get(rule, "after_s");
    json_t *article = json_object_get(rule, "article"), *msg = NULL;
    char field[48];
    const char *key;
    json_t *v;
    enum sb_err rc;

    if (!json_is_object(rule))
        return sb_fail(eb, SB_ERR_INVAL, "proactive[%zu]: must be an object", i);
    json_object_foreach(rule, key, v)
    {
        bool ok = false;
        for (size_t k = 0; k < SB_ARRAY_LEN(known); k++)
            if (strcmp(key, known[k]) == 0) ok = true;
        if (!ok) return sb_fail(eb, SB_ERR_INVAL, "proactive[%zu].%.40s: unknown field", i, key);
    }
    if (!plain_text(url, URL_GLOB_MAX))
        return sb_fail(eb, SB_ERR_INVAL,
                       "proactive[%zu].url: must be a glob over the page URL of 1 to %d bytes", i,
                       URL_GLOB_MAX);
    if (!json_is_integer(after) || json_integer_value(after) < 1 ||
        json_integer_value(after) > 3600)
        return sb_fail(eb, SB_ERR_INVAL, "proactive[%zu].after_s: must be a whole number 1-3600",
                       i);
    if (article && !json_is_null(article) &&
        (!json_is_string(article) || !slug_valid(json_string_value(article))))
        return sb_fail(eb, SB_ERR_INVAL,
                       "proactive[%zu].article: must be an article slug like \"payment-methods\"",
                       i);
    snprintf(field, sizeof(field), "proactive[%zu].message", i);
    if (!json_object_get(rule, "message"))
        return sb_fail(eb, SB_ERR_INVAL, "%s: is required", field);
    rc = locale_texts(json_object_get(rule, "message"), field, true, &msg, eb);
    if (rc) return rc;
    *out = json_pack("{s:O, s:O, s:o}", "url", url, "after_s", after, "message", msg);
    if (article && json_is_string(article)) json_object_set(*out, "article", article);
    return SB_OK;
}

static enum sb_err check_origins(json_t *v, json_t *site, struct sb_errbuf *eb)
{
    json_t *arr, *o;
    size_t i;

    if (!json_is_array(v))
        return sb_fail(eb, SB_ERR_INVAL, "origins: must be an array of \"https://host[:port]\"");
    if (json_array_size(v) > MAX_ORIGINS)
        return sb_fail(eb, SB_ERR_INVAL, "origins: at most %d", MAX_ORIGINS);
    arr = json_array();
    json_object_set_new(site, "origins", arr);
    json_array_foreach(v, i, o)
    {
        char norm[SITE_ORIGIN_MAX + 1];
        json_t *seen;
        size_t j;
        if (!json_is_string(o) || strlen(json_string_value(o)) != json_string_length(o) ||
            !site_origin_normalise(json_string_value(o), norm, sizeof(norm)))
            return sb_fail(eb, SB_ERR_INVAL,
                           "origins[%zu]: must look like https://shop.example.com or "
                           "http://host:8080, without a path",
                           i);
        json_array_foreach(arr, j, seen)
        {
            if (strcmp(json_string_value(seen), norm) == 0)
                return sb_fail(eb, SB_ERR_INVAL, "origins[%zu]: listed twice", i);
        }
        json_array_append_new(arr, json_string(norm));
    }
    return SB_OK;
}

static bool color_valid(const char *s)
{
    if (strlen(s) != 7 || s[0] != '#') return false;
    for (int i = 1; i < 7; i++)
        if (!isxdigit((unsigned char)s[i])) return false;
    return true;
}

static enum sb_err check_fields(json_t *in, const char *id, json_t *site, struct sb_errbuf *eb)
{
    static const char *const known[] = {"id",    "name",     "origins", "secret",   "title",
                                        "color", "position", "locale",  "greeting", "proactive"};
    const char *key;
    json_t *v;

    json_object_foreach(in, key, v)
    {
        bool ok = false;
        for (size_t k = 0; k < SB_ARRAY_LEN(known); k++)
            if (strcmp(key, known[k]) == 0) ok = true;
        if (!ok) return sb_fail(eb, SB_ERR_INVAL, "%.40s: unknown field", key);
    }
    v = json_object_get(in, "id");
    if (v && (!json_is_string(v) || strcmp(json_string_value(v), id) != 0))
        return sb_fail(eb, SB_ERR_INVAL, "id: must be \"%s\" as in the URL, or left out", id);
    if (!plain_text(json_object_get(in, "name"), NAME_MAX_BYTES))
        return sb_fail(eb, SB_ERR_INVAL, "name: is required, a text of 1 to %d bytes",
                       NAME_MAX_BYTES);
    json_object_set(site, "name", json_object_get(in, "name"));
    if (!json_object_get(in, "origins"))
        return sb_fail(eb, SB_ERR_INVAL, "origins: is required (an array, may be empty)");
    return check_origins(json_object_get(in, "origins"), site, eb);
}

static enum sb_err check_looks(json_t *in, const char *default_locale, json_t *site,
                               struct sb_errbuf *eb)
{
    json_t *v;
    char buf[36];

    v = json_object_get(in, "secret");
    if (v) {
        size_t n = json_is_string(v) ? json_string_length(v) : 0;
        if (!plain_text(v, SITE_SECRET_MAX) || n < SITE_SECRET_MIN)
            return sb_fail(eb, SB_ERR_INVAL, "secret: must be a text of %d to %d bytes",
                           SITE_SECRET_MIN, SITE_SECRET_MAX);
        json_object_set(site, "secret", v);
    }
    v = json_object_get(in, "title");
    if (v && !plain_text(v, TITLE_MAX_BYTES))
        return sb_fail(eb, SB_ERR_INVAL, "title: must be a text of 1 to %d bytes", TITLE_MAX_BYTES);
    json_object_set_new(site, "title", v ? json_incref(v) : json_string("Support"));
    v = json_object_get(in, "color");
    if (v && (!json_is_string(v) || !color_valid(json_string_value(v))))
        return sb_fail(eb, SB_ERR_INVAL, "color: must look like #2457d6");
    if (v) {
        for (size_t i = 0; i < 7; i++)
            buf[i] = (char)tolower((unsigned char)json_string_value(v)[i]);
        buf[7] = '\0';
    }
    json_object_set_new(site, "color", json_string(v ? buf : "#2457d6"));
    v = json_object_get(in, "position");
    if (v && (!json_is_string(v) || (strcmp(json_string_value(v), "right") != 0 &&
                                     strcmp(json_string_value(v), "left") != 0)))
        return sb_fail(eb, SB_ERR_INVAL, "position: must be \"right\" or \"left\"");
    json_object_set_new(site, "position", v ? json_incref(v) : json_string("right"));
    v = json_object_get(in, "locale");
    if (v && (!json_is_string(v) || !sb_locale_normalise(json_string_value(v), buf, sizeof(buf))))
        return sb_fail(eb, SB_ERR_INVAL, "locale: must be a locale like \"en\" or \"pt-BR\"");
    if (!v && !sb_locale_normalise(default_locale, buf, sizeof(buf)))
        snprintf(buf, sizeof(buf), "en");
    json_object_set_new(site, "locale", json_string(buf));
    return SB_OK;
}

static enum sb_err check_content(json_t *in, json_t *site, struct sb_errbuf *eb)
{
    json_t *v, *greeting = NULL, *rules, *rule;
    enum sb_err rc;
    size_t i;

    v = json_object_get(in, "greeting");
    if (v && !json_is_null(v)) {
        rc = locale_texts(v, "greeting", false, &greeting, eb);
        if (rc) return rc;
    }
    json_object_set_new(site, "greeting", greeting ? greeting : json_object());
    v = json_object_get(in, "proactive");
    if (v && !json_is_null(v) && !json_is_array(v))
        return sb_fail(eb, SB_ERR_INVAL, "proactive: must be an array of rules");
    if (json_array_size(v) > MAX_RULES)
        return sb_fail(eb, SB_ERR_INVAL, "proactive: at most %d rules", MAX_RULES);
    rules = json_array();
    json_object_set_new(site, "proactive", rules);
    json_array_foreach(v, i, rule)
    {
        json_t *ok = NULL;
        rc = check_rule(rule, i, &ok, eb);
        if (rc) return rc;
        json_array_append_new(rules, ok);
    }
    return SB_OK;
}

enum sb_err site_validate(json_t *in, const char *id, const char *default_locale, json_t **out,
                          struct sb_errbuf *eb)
{
    json_t *site;
    enum sb_err rc;

    if (!site_id_valid(id))
        return sb_fail(eb, SB_ERR_INVAL, "id: must be 1 to %d of a-z, 0-9 and -", SITE_ID_MAX);
    if (!json_is_object(in)) return sb_fail(eb, SB_ERR_INVAL, "the site must be a JSON object");
    site = json_pack("{s:s}", "id", id);
    rc = check_fields(in, id, site, eb);
    if (!rc) rc = check_looks(in, default_locale, site, eb);
    if (!rc) rc = check_content(in, site, eb);
    if (rc) {
        json_decref(site);
        return rc;
    }
    *out = site;
    return SB_OK;
}

json_t *site_public_json(json_t *site)
{
    static const char *const locales[] = {SITE_WIDGET_LOCALES};
    json_t *pub = json_object(), *arr = json_array();
    static const char *const keys[] = {"id",     "title",    "color",    "position",
                                       "locale", "greeting", "proactive"};

    for (size_t i = 0; i < SB_ARRAY_LEN(keys); i++) {
        json_t *v = json_object_get(site, keys[i]);
        json_object_set(pub, keys[i], v ? v : json_null());
    }
    for (size_t i = 0; i < SB_ARRAY_LEN(locales); i++)
        json_array_append_new(arr, json_string(locales[i]));
    json_object_set_new(pub, "locales", arr);
    return pub;
}

json_t *site_masked_json(json_t *site)
{
    json_t *copy = json_deep_copy(site);
    const char *secret = json_string_value(json_object_get(site, "secret"));
    char masked[16];

    if (!copy) return NULL;
    if (secret) {
        size_t n = strlen(secret);
        snprintf(masked, sizeof(masked), "\xE2\x80\xA6%s", n >= 4 ? secret + n - 4 : "");
        json_object_set_new(copy, "secret", json_string(masked));
    }
    return copy;
}
