/*
 * api_widget.c - what the website widget loads besides the customer API
 * (docs/widget.md): the script itself, a site's public settings, a
 * verified user's conversations on a new device, and the demo shop pages
 * that carry the widget. Also the identity check (site, user_id,
 * user_hash) that POST /api/v1/conversations shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_kb.h"
#include "sb_log.h"
#include "api.h"
#include "http.h"
#include "server.h"
#include "site.h"
#include "words.h"

#define WIDGET_JS_MAX (2 * 1024 * 1024)
#define SESSION_CONVERSATIONS 20
#define USER_ID_MAX 200

/* Where widget.js takes what the server fills in. */
#define WORDS_MARK "/*sb:words*/{}"
#define LOCALES_MARK "/*sb:locales*/{}"

/* js (owned, *len bytes) with mark replaced by text (borrowed; NULL when
 * it could not be made). Returns the new text (owned; js is freed), js
 * itself when it has no mark, or NULL when out of memory (js is freed). */
static char *fill_mark(char *js, size_t *len, const char *mark, const char *text)
{
    char *at = strstr(js, mark);
    size_t mlen = strlen(mark), tlen = 0, head = 0;
    char *out = NULL;

    if (!at) return js;
    if (text) {
        tlen = strlen(text);
        head = (size_t)(at - js);
        out = malloc(*len - mlen + tlen + 1);
    }
    if (out) {
        memcpy(out, js, head);
        memcpy(out + head, text, tlen);
        memcpy(out + head + tlen, at + mlen, *len - head - mlen);
        *len = *len - mlen + tlen;
        out[*len] = '\0';
    }
    free(js);
    return out;
}

/* {locale: {key: text}} for each locale the widget offers, every
 * "widget.*" key resolved by the one fallback rule (words.h), so the
 * widget keeps no copy of its own. */
static json_t *widget_words(struct sb_server *srv)
{
    static const char *const locales[] = {SITE_WIDGET_LOCALES};
    json_t *all = json_object();

    for (size_t i = 0; all && i < SB_ARRAY_LEN(locales); i++)
        json_object_set_new(all, locales[i], sb_words_json(srv->words, locales[i], "widget."));
    return all;
}

/* {"offered": [locale, ...], "names": {locale: its name in itself},
 * "of": {tag: locale}, "last": SB_WORDS_LAST}: the widget's language menu,
 * and which offered locale a browser's or a page's locale stands for, made
 * by the one rule (sb_locale_table), so the widget maps none itself. */
static json_t *widget_locales(struct sb_server *srv)
{
    static const char *const locales[] = {SITE_WIDGET_LOCALES};
    json_t *offered = json_array(), *names = json_object();

    for (size_t i = 0; offered && names && i < SB_ARRAY_LEN(locales); i++) {
        const char *name = sb_words_locale_name(srv->words, locales[i]);
        json_array_append_new(offered, json_string(locales[i]));
        json_object_set_new(names, locales[i], json_string(name ? name : locales[i]));
    }
    return json_pack("{s:o*, s:o*, s:o*, s:s}", "offered", offered, "names", names, "of",
                     sb_locale_table(locales, SB_ARRAY_LEN(locales)), "last", SB_WORDS_LAST);
}

/* value's compact JSON (owned), value taken; NULL when out of memory. */
static char *dump_taken(json_t *value)
{
    char *text = value ? json_dumps(value, JSON_COMPACT) : NULL;
    json_decref(value);
    return text;
}

/* js with the widget's words and locales filled in (fill_mark); both are
 * made once per server, not for every page that loads the widget. */
static char *with_words(struct sb_server *srv, char *js, size_t *len)
{
    if (!srv->widget_words) srv->widget_words = dump_taken(widget_words(srv));
    if (!srv->widget_locales) srv->widget_locales = dump_taken(widget_locales(srv));
    js = fill_mark(js, len, WORDS_MARK, srv->widget_words);
    return js ? fill_mark(js, len, LOCALES_MARK, srv->widget_locales) : NULL;
}

enum MHD_Result api_widget_js(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                              const char *params[2])
{
    char path[SB_PATH_MAX + 32], hash[65], etag[40];
    struct sb_errbuf eb;
    const char *inm;
    enum MHD_Result ret;
    char *data = NULL;
    size_t len = 0;
    (void)r;
    (void)params;

    snprintf(path, sizeof(path), "%s/widget/widget.js", srv->cfg.web_dir);
    if (sb_read_file(path, WIDGET_JS_MAX, &data, &len, &eb))
        return http_error(srv, c, 404, "not_found", "the widget is not installed (web/widget)");
    data = with_words(srv, data, &len);
    if (!data) return http_error(srv, c, 503, "unavailable", "out of memory; retry");
    sb_sha256_hex(data, len, hash);
    snprintf(etag, sizeof(etag), "\"%.32s\"", hash);
    http_add_header(srv, "ETag", etag);
    /* Sites embed this on every page: let browsers keep it a little. */
    http_add_header(srv, "Cache-Control", "public, max-age=300");
    inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    if (inm && (strstr(inm, etag) || strcmp(inm, "*") == 0))
        ret = http_empty(srv, c, 304);
    else
        ret = http_bytes(srv, c, 200, "text/javascript; charset=utf-8", data, len);
    free(data);
    return ret;
}

static enum MHD_Result api_demo_home(struct sb_server *srv, struct MHD_Connection *c,
                                     struct http_req *r, const char *params[2])
{
    (void)r;
    (void)params;
    return api_static_file(srv, c, "demo", "index.html");
}

static enum MHD_Result api_demo_checkout(struct sb_server *srv, struct MHD_Connection *c,
                                         struct http_req *r, const char *params[2])
{
    (void)r;
    (void)params;
    return api_static_file(srv, c, "demo", "checkout.html");
}

/* {locale: {"greeting": text, "proactive": [text per rule]}} for each
 * locale the widget offers: the site's own texts picked by the fallback
 * rule (words.h) with the site's default locale before en; the greeting
 * without one of the site's is the catalogue's. */
static json_t *site_texts(struct sb_server *srv, json_t *site)
{
    static const char *const locales[] = {SITE_WIDGET_LOCALES};
    const char *deflt = json_string_value(json_object_get(site, "locale"));
    json_t *all = json_object(), *rules = json_object_get(site, "proactive"), *rule;
    size_t i;

    for (size_t l = 0; all && l < SB_ARRAY_LEN(locales); l++) {
        const char *g = sb_locale_pick_text(json_object_get(site, "greeting"), locales[l], deflt);
        json_t *pro = json_array();
        json_array_foreach(rules, i, rule)
        {
            const char *m =
                sb_locale_pick_text(json_object_get(rule, "message"), locales[l], deflt);
            json_array_append_new(pro, m ? json_string(m) : json_null());
        }
        json_object_set_new(
            all, locales[l],
            json_pack("{s:s, s:o}", "greeting",
                      g ? g : sb_words_text(srv->words, locales[l], "widget.greeting"), "proactive",
                      pro));
    }
    return all;
}

/* {locale: the locale its messages are sent in} for each locale the widget
 * offers: the knowledge base's locale for it by the one rule without a
 * last resort (pt-PT -> pt-BR while there are no pt-PT articles), else
 * the locale itself, whose words the bot then still speaks. */
static json_t *answer_locales(struct sb_server *srv)
{
    static const char *const locales[] = {SITE_WIDGET_LOCALES};
    json_t *all = json_object();
    char best[40];

    for (size_t i = 0; all && i < SB_ARRAY_LEN(locales); i++) {
        bool kb_has = sb_kb_match_locale(srv->kb, locales[i], best, sizeof(best));
        json_object_set_new(all, locales[i], json_string(kb_has ? best : locales[i]));
    }
    return all;
}

static enum MHD_Result api_widget_site(struct sb_server *srv, struct MHD_Connection *c,
                                       struct http_req *r, const char *params[2])
{
    json_t *site, *pub;
    enum MHD_Result ret;
    (void)r;

    if (!site_id_valid(params[0]) || sb_store_site_get(srv->store, params[0], &site))
        return http_error(srv, c, 404, "not_found", "no such site");
    pub = site_public_json(site);
    json_object_set_new(pub, "texts", site_texts(srv, site));
    json_object_set_new(pub, "answer_locales", answer_locales(srv));
    ret = http_json(srv, c, 200, pub);
    json_decref(site);
    return ret;
}

/* A user id as sites send it: 1..200 bytes, no control characters. */
static bool user_id_valid(json_t *v)
{
    const unsigned char *s;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > USER_ID_MAX)
        return false;
    s = (const unsigned char *)json_string_value(v);
    if (strlen((const char *)s) != json_string_length(v)) return false;
    for (; *s; s++)
        if (*s < 0x20 || *s == 0x7f) return false;
    return true;
}

static bool hash_matches(const char *secret, const char *user_id, const char *given)
{
    char want[65], low[65];
    size_t n = strlen(given);

    if (n != 64) return false;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)(given[i] >= 'A' && given[i] <= 'F' ? given[i] - 'A' + 'a' : given[i]);
    sb_hmac_sha256_hex(secret, strlen(secret), user_id, strlen(user_id), want);
    return sb_secure_equal(want, low, 64);
}

bool widget_who_read(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                     json_t *body, bool need_identity, struct widget_who *w, enum MHD_Result *ret)
{
    json_t *site = json_object_get(body, "site"), *uid = json_object_get(body, "user_id");
    json_t *uhash = json_object_get(body, "user_hash");
    const char *secret;

    memset(w, 0, sizeof(*w));
    if (site && json_is_null(site)) site = NULL;
    if (uhash && json_is_null(uhash)) uhash = NULL;
    if (!site && need_identity) {
        *ret = http_error(srv, c, 400, "invalid_field", "site: is required");
        return false;
    }
    if (site) {
        if (!json_is_string(site) || !site_id_valid(json_string_value(site)) ||
            sb_store_site_get(srv->store, json_string_value(site), &w->site)) {
            *ret = http_error(srv, c, 400, "invalid_field", "site: no such site");
            return false;
        }
        snprintf(w->site_id, sizeof(w->site_id), "%s", json_string_value(site));
        if (!cors_site_allows(srv, r, w->site_id)) {
            *ret = http_error(srv, c, 403, "origin_not_allowed", "the site '%s' does not run on %s",
                              w->site_id, r->origin);
            goto fail;
        }
    }
    if (!uhash) {
        if (need_identity) {
            *ret = http_error(srv, c, 400, "invalid_field", "user_id and user_hash are required");
            goto fail;
        }
        return true; /* a user_id without a hash is never linked */
    }
    if (!json_is_string(uhash)) {
        *ret = http_error(srv, c, 400, "invalid_field", "user_hash: must be a hex string");
        goto fail;
    }
    if (!user_id_valid(uid)) {
        *ret = http_error(srv, c, 400, "invalid_field",
                          "user_id: must be a text of 1 to %d bytes (with user_hash)", USER_ID_MAX);
        goto fail;
    }
    if (!w->site) {
        *ret = http_error(srv, c, 400, "invalid_field", "user_hash: needs a site");
        goto fail;
    }
    secret = json_string_value(json_object_get(w->site, "secret"));
    if (!secret || !hash_matches(secret, json_string_value(uid), json_string_value(uhash))) {
        *ret = http_error(srv, c, 403, "identity_invalid",
                          "user_hash is not the HMAC-SHA256 of user_id with this site's secret");
        goto fail;
    }
    w->verified = true;
    snprintf(w->external_id, sizeof(w->external_id), "%s:%s", w->site_id, json_string_value(uid));
    return true;
fail:
    widget_who_cleanup(w);
    return false;
}

void widget_who_cleanup(struct widget_who *w)
{
    json_decref(w->site);
    w->site = NULL;
}

/* POST /api/v1/widget/session {"site", "user_id", "user_hash"}: the
 * verified user's conversations on this site, each with a new visitor
 * token for this device. */
static enum MHD_Result api_widget_session(struct sb_server *srv, struct MHD_Connection *c,
                                          struct http_req *r, const char *params[2])
{
    struct widget_who w;
    enum MHD_Result ret;
    enum sb_err rc = SB_OK;
    json_t *body, *list = NULL, *conv;
    size_t i;
    (void)params;

    body = http_body_object(srv, c, r, &ret);
    if (!body) return ret;
    if (!widget_who_read(srv, c, r, body, true, &w, &ret)) goto out;
    list = sb_store_user_convs(srv->store, w.external_id, w.site_id, SESSION_CONVERSATIONS);
    if (json_array_size(list)) {
        rc = sb_store_begin(srv->store);
        json_array_foreach(list, i, conv)
        {
            char token[65], hash[65];
            if (rc) break;
            rc = sb_random_hex(token, 32);
            if (rc) break;
            sb_sha256_hex(token, strlen(token), hash);
            rc = sb_store_conv_token_add(srv->store,
                                         json_integer_value(json_object_get(conv, "db_id")), hash);
            json_object_del(conv, "db_id");
            json_object_set_new(conv, "token", json_string(token));
        }
        if (!rc) rc = sb_store_commit(srv->store);
        if (rc) sb_store_rollback(srv->store);
    }
    if (rc)
        ret = http_error(srv, c, 503, "not_stored", "the new tokens could not be stored; retry");
    else
        ret = http_json(srv, c, 200, json_pack("{s:O}", "conversations", list));
    widget_who_cleanup(&w);
out:
    json_decref(list);
    json_decref(body);
    return ret;
}

/* The routes this file answers and who may call them (core/server/routes.c
 * lists every file's table; http.c dispatches them in that order). */
const struct route api_widget_routes[] = {
    /* the demo shop and the widget (docs/widget.md) */
    {"GET", "/", api_demo_home, ROUTE_PUBLIC, false},
    {"GET", "/demo/checkout", api_demo_checkout, ROUTE_PUBLIC, false},
    {"GET", "/widget.js", api_widget_js, ROUTE_PUBLIC, false},
    {"GET", "/api/v1/widget/sites/{}", api_widget_site, ROUTE_PUBLIC, true},
    {"POST", "/api/v1/widget/session", api_widget_session, ROUTE_PUBLIC, true},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};
