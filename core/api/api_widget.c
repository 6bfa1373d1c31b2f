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

#include "sb_log.h"
#include "api.h"
#include "http.h"
#include "server.h"
#include "site.h"
#include "words.h"

#define WIDGET_JS_MAX (2 * 1024 * 1024)
#define SESSION_CONVERSATIONS 20
#define USER_ID_MAX 200

/* Where widget.js takes its words: the server puts them there. */
#define WORDS_MARK "/*sb:words*/{}"

/* js (owned, len bytes) with WORDS_MARK replaced by {locale: {key: text}}
 * for each locale the widget offers, every "widget.*" key resolved by the
 * one fallback rule (words.h), so the widget keeps no copy of its own.
 * Returns the new text (owned; js is freed) or NULL when out of memory. */
static char *with_words(struct sb_server *srv, char *js, size_t *len)
{
    static const char *const locales[] = {SITE_WIDGET_LOCALES};
    char *mark = strstr(js, WORDS_MARK), *words, *out = NULL;
    json_t *all = json_object();
    size_t wlen, head;

    if (!mark || !all) {
        json_decref(all);
        return js;
    }
    for (size_t i = 0; i < SB_ARRAY_LEN(locales); i++)
        json_object_set_new(all, locales[i], sb_words_json(srv->words, locales[i], "widget."));
    words = json_dumps(all, JSON_COMPACT);
    json_decref(all);
    if (words) {
        wlen = strlen(words);
        head = (size_t)(mark - js);
        out = malloc(*len - strlen(WORDS_MARK) + wlen + 1);
    }
    if (out) {
        memcpy(out, js, head);
        memcpy(out + head, words, wlen);
        memcpy(out + head + wlen, mark + strlen(WORDS_MARK), *len - head - strlen(WORDS_MARK));
        *len = *len - strlen(WORDS_MARK) + wlen;
        out[*len] = '\0';
    }
    free(words);
    free(js);
    return out;
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
