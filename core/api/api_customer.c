/*
 * api_customer.c - the customer API of the web channel: start a
 * conversation, post a message, read the transcript, follow the events.
 *
 * A conversation's visitor token alone grants access to it; only its
 * SHA-256 is stored, compared in constant time.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attachments.h"
#include "sb_log.h"
#include "api.h"
#include "http.h"
#include "pipeline.h"
#include "server.h"
#include "sse.h"
#include "lua_host.h"
#include "sb_kb.h"

#define MAX_CLIENT_ID 128
#define MAX_PAYLOAD 256
#define MAX_PAGE_URL 2000

static const char *bearer_token(struct MHD_Connection *c, bool allow_query)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0) return h + 7;
    if (allow_query) return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    return NULL;
}

bool api_visitor_conv(struct sb_server *srv, struct MHD_Connection *c, const char *id,
                      bool allow_query_token, struct sb_conv *conv, enum MHD_Result *ret)
{
    const char *token = bearer_token(c, allow_query_token);
    char hash[65];
    bool token_ok = false;
    enum sb_err rc;

    if (strlen(id) > 64) {
        *ret = http_error(srv, c, 404, "not_found", "no such conversation");
        return false;
    }
    if (token && *token) sb_sha256_hex(token, strlen(token), hash);
    /* A conversation may have several tokens (one per device). */
    rc = sb_store_conv_get_visitor(srv->store, id, token && *token ? hash : NULL, conv, &token_ok);
    if (rc == SB_ERR_NOT_FOUND) {
        *ret = http_error(srv, c, 404, "not_found", "no such conversation");
        return false;
    }
    if (rc) {
        *ret = http_error(srv, c, 500, "internal", "could not read the conversation");
        return false;
    }
    if (!token || !*token) {
        sb_conv_cleanup(conv);
        *ret = http_error(srv, c, 401, "unauthorized",
                          "send the conversation token as 'Authorization: Bearer <token>'");
        return false;
    }
    if (!token_ok) {
        sb_conv_cleanup(conv);
        *ret = http_error(srv, c, 403, "forbidden",
                          "this token does not grant access to this conversation");
        return false;
    }
    return true;
}

/* page_url: an http(s) URL of at most 2,000 bytes, no spaces or control
 * characters. */
static bool page_url_valid(json_t *v)
{
    const unsigned char *s;
    if (!json_is_string(v) || json_string_length(v) > MAX_PAGE_URL) return false;
    s = (const unsigned char *)json_string_value(v);
    if (strlen((const char *)s) != json_string_length(v)) return false;
    if (strncasecmp((const char *)s, "https://", 8) != 0 &&
        strncasecmp((const char *)s, "http://", 7) != 0)
        return false;
    for (; *s; s++)
        if (*s <= 0x20 || *s == 0x7f) return false;
    return true;
}

static enum MHD_Result api_conversation_create(struct sb_server *srv, struct MHD_Connection *c,
                                               struct http_req *r, const char *params[2])
{
    char locale[36], token[65], hash[65], visitor[33];
    const char *want = srv->cfg.default_locale, *page_url = NULL;
    struct widget_who who = {0};
    struct sb_conv conv;
    enum MHD_Result ret;
    json_t *body = NULL, *v;
    enum sb_err rc;
    (void)params;

    if (r->body.len) {
        body = http_body_object(srv, c, r, &ret);
        if (!body) return ret;
        v = json_object_get(body, "locale");
        if (v && !json_is_null(v)) {
            if (!json_is_string(v)) {
                ret = http_error(srv, c, 400, "invalid_field",
                                 "locale must be a string like \"pt-BR\"");
                goto out;
            }
            want = json_string_value(v);
        }
        v = json_object_get(body, "page_url");
        if (v && !json_is_null(v)) {
            if (!page_url_valid(v)) {
                ret = http_error(srv, c, 400, "invalid_field",
                                 "page_url: must be an http or https URL of at most %d bytes",
                                 MAX_PAGE_URL);
                goto out;
            }
            page_url = json_string_value(v);
        }
    }
    if (!sb_locale_normalise(want, locale, sizeof(locale))) {
        ret = http_error(srv, c, 400, "invalid_field", "locale must look like \"en\" or \"pt-BR\"");
        goto out;
    }
    /* site, and user_id + user_hash: identity verification (api_widget.c);
     * a wrong hash answers 403 here, before anything is stored. */
    if (body && !widget_who_read(srv, c, r, body, false, &who, &ret)) goto out;
    if (sb_random_hex(token, 32) || sb_random_hex(visitor, 16)) {
        ret = http_error(srv, c, 500, "internal", "no randomness available");
        goto out;
    }
    sb_sha256_hex(token, strlen(token), hash);
    /* A verified user is one contact on every device and visit; anyone
     * else is a new visitor each time. */
    rc = sb_pipeline_start(&srv->pipeline, "web", who.verified ? who.external_id : visitor, locale,
                           hash,
                           &(struct sb_web_start){.site_id = who.site ? who.site_id : NULL,
                                                  .page_url = page_url,
                                                  .verified = who.verified},
                           &conv);
    if (rc) {
        ret = http_error(srv, c, 500, "internal", "could not create the conversation");
        goto out;
    }
    ret = http_json(srv, c, 201,
                    json_pack("{s:s, s:s, s:s, s:s, s:o, s:b}", "id", conv.public_id, "token",
                              token, "locale", conv.locale, "status", conv.status, "site",
                              who.site ? json_string(who.site_id) : json_null(), "verified",
                              who.verified));
    sb_conv_cleanup(&conv);
out:
    widget_who_cleanup(&who);
    json_decref(body);
    return ret;
}

/* Checks the channel plugin's normalised message; answers the error itself. */
static bool valid_inbound(struct sb_server *srv, struct MHD_Connection *c, json_t *msg,
                          bool has_attachments, enum MHD_Result *ret)
{
    json_t *text = json_object_get(msg, "text");
    json_t *cid = json_object_get(msg, "client_id");
    json_t *payload = json_object_get(msg, "payload");
    json_t *locale = json_object_get(msg, "locale");
    const char *t;
    size_t len;

    if (!json_is_string(text)) {
        *ret = http_error(srv, c, 400, "invalid_field", "text must be a string");
        return false;
    }
    t = json_string_value(text);
    len = json_string_length(text);
    if (len > srv->cfg.max_text) {
        *ret = http_error(srv, c, 400, "text_too_long", "text is longer than %zu bytes",
                          srv->cfg.max_text);
        return false;
    }
    if ((!has_attachments && strspn(t, " \t\r\n") == len) || strlen(t) != len) {
        *ret = http_error(srv, c, 400, "invalid_field", "text must not be empty");
        return false;
    }
    if (cid && !json_is_null(cid) &&
        (!json_is_string(cid) || json_string_length(cid) == 0 ||
         json_string_length(cid) > MAX_CLIENT_ID)) {
        *ret =
            http_error(srv, c, 400, "invalid_field",
                       "client_id must be a non-empty string of at most %d bytes", MAX_CLIENT_ID);
        return false;
    }
    if (payload && !json_is_null(payload) &&
        (!json_is_string(payload) || json_string_length(payload) > MAX_PAYLOAD)) {
        *ret = http_error(srv, c, 400, "invalid_field", "payload must be a short string");
        return false;
    }
    if (locale && !json_is_null(locale) && !json_is_string(locale)) {
        *ret = http_error(srv, c, 400, "invalid_field", "locale must be a string");
        return false;
    }
    return true;
}

/* The attachment ids of a normalised message -> *out, the attachment
 * objects (at most 5, each uploaded to this conversation, none twice);
 * answers the error itself. *out is NULL when there are none. */
static bool message_attachments(struct sb_server *srv, struct MHD_Connection *c,
                                const struct sb_conv *conv, json_t *msg, json_t **out,
                                enum MHD_Result *ret)
{
    json_t *ids = json_object_get(msg, "attachments"), *id, *objs;
    size_t i, j;

    *out = NULL;
    if (!ids || json_is_null(ids)) return true;
    if (!json_is_array(ids) || json_array_size(ids) > ATTACHMENTS_PER_MESSAGE) {
        *ret = http_error(srv, c, 400, "invalid_field", "attachments: at most %d attachment ids",
                          ATTACHMENTS_PER_MESSAGE);
        return false;
    }
    objs = json_array();
    json_array_foreach(ids, i, id)
    {
        struct sb_attachment a;
        const char *s = json_string_value(id);
        if (!s || strlen(s) > 39 || sb_store_att_get(srv->store, conv->id, s, &a)) {
            json_decref(objs);
            *ret = http_error(srv, c, 400, "invalid_field",
                              "attachments[%zu]: no such attachment in this conversation", i);
            return false;
        }
        for (j = 0; j < i; j++) {
            if (strcmp(json_string_value(json_array_get(ids, j)), s) == 0) {
                json_decref(objs);
                *ret =
                    http_error(srv, c, 400, "invalid_field", "attachments[%zu]: listed twice", i);
                return false;
            }
        }
        json_array_append_new(objs, api_attachment_json(conv->public_id, &a));
    }
    *out = objs;
    return true;
}

static enum MHD_Result api_message_post(struct sb_server *srv, struct MHD_Connection *c,
                                        struct http_req *r, const char *params[2])
{
    struct sb_conv conv;
    struct sb_errbuf eb = {{0}};
    struct sb_inbound in = {0};
    enum MHD_Result ret;
    json_t *body, *request, *msg = NULL, *attachments = NULL;
    char provider_id[200], locale[36], *result = NULL;
    enum sb_err rc;

    if (!api_visitor_conv(srv, c, params[0], false, &conv, &ret)) return ret;
    body = http_body_object(srv, c, r, &ret);
    if (!body) goto out;
    request = json_pack("{s:s, s:s, s:o}", "conversation", conv.public_id, "locale", conv.locale,
                        "body", body);
    rc = sb_host_channel_inbound(srv->host, "web", request, &msg, &eb);
    json_decref(request);
    if (rc == SB_ERR_INVAL) {
        ret = http_error(srv, c, 400, "invalid_field", "%s", eb.msg);
        goto out;
    }
    if (rc) {
        ret = http_error(srv, c, 503, "channel_unavailable", "the web channel is not available");
        goto out;
    }
    if (!message_attachments(srv, c, &conv, msg, &attachments, &ret)) goto out;
    if (!valid_inbound(srv, c, msg, json_array_size(attachments) > 0, &ret)) goto out;

    in.channel = "web";
    in.attachments = attachments;
    in.text = json_string_value(json_object_get(msg, "text"));
    in.client_id = json_string_value(json_object_get(msg, "client_id"));
    in.payload = json_string_value(json_object_get(msg, "payload"));
    if (json_is_string(json_object_get(msg, "locale"))) {
        if (!sb_locale_normalise(json_string_value(json_object_get(msg, "locale")), locale,
                                 sizeof(locale))) {
            ret = http_error(srv, c, 400, "invalid_field",
                             "locale must look like \"en\" or \"pt-BR\"");
            goto out;
        }
        in.locale = locale;
    }
    /* Client ids are chosen by browsers, so they are only unique within
     * their conversation. */
    if (in.client_id) {
        snprintf(provider_id, sizeof(provider_id), "%s:%s", conv.public_id, in.client_id);
        in.provider_id = provider_id;
    }
    rc = sb_pipeline_handle(&srv->pipeline, &conv, &in, &result, &eb);
    if (rc) {
        sb_error("message for %s not stored: %s", conv.public_id, eb.msg);
        ret = http_error(srv, c, 503, "not_stored",
                         "the message could not be stored; retry with the same client_id");
        goto out;
    }
    ret = http_json_text(srv, c, 200, result);
out:
    json_decref(attachments);
    json_decref(msg);
    sb_conv_cleanup(&conv);
    return ret;
}

static enum MHD_Result api_transcript(struct sb_server *srv, struct MHD_Connection *c,
                                      struct http_req *r, const char *params[2])
{
    struct sb_conv conv;
    enum MHD_Result ret;
    json_t *msgs;
    (void)r;

    if (!api_visitor_conv(srv, c, params[0], false, &conv, &ret)) return ret;
    msgs = sb_store_transcript(srv->store, conv.id, 0);
    ret = http_json(srv, c, 200,
                    json_pack("{s:s, s:s, s:s, s:o}", "id", conv.public_id, "status", conv.status,
                              "locale", conv.locale, "messages", msgs));
    sb_conv_cleanup(&conv);
    return ret;
}

static enum MHD_Result api_events(struct sb_server *srv, struct MHD_Connection *c,
                                  struct http_req *r, const char *params[2])
{
    struct sb_conv conv;
    enum MHD_Result ret;
    const char *last = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
    long long after = 0;
    (void)r;

    if (!last) last = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "last_event_id");
    if (last && *last) {
        char *end;
        errno = 0;
        after = strtoll(last, &end, 10);
        if (errno || *end || after < 0)
            return http_error(srv, c, 400, "invalid_field",
                              "Last-Event-ID must be a non-negative integer");
    }
    if (!api_visitor_conv(srv, c, params[0], true, &conv, &ret)) return ret;
    ret = sse_start(srv, c, conv.id, after);
    sb_conv_cleanup(&conv);
    return ret;
}

/* POST /api/v1/conversations/{id}/feedback {"article_id", "helpful"}: the
 * customer's answer to "did this help?" for an article the bot posted.
 * Widgets with buttons call this; typed answers are counted by the
 * kb_answer plugin through sb.kb.vote. Only an article the bot answered
 * this conversation with, once (sb_kb_vote): a vote for any other id is
 * refused, so nobody can push articles around without being shown them. */
static enum MHD_Result api_feedback(struct sb_server *srv, struct MHD_Connection *c,
                                    struct http_req *r, const char *params[2])
{
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    enum MHD_Result ret;
    enum sb_err rc;
    json_t *body, *id, *helpful;

    if (!api_visitor_conv(srv, c, params[0], false, &conv, &ret)) return ret;
    body = http_body_object(srv, c, r, &ret);
    if (!body) goto out;
    id = json_object_get(body, "article_id");
    helpful = json_object_get(body, "helpful");
    if (!json_is_integer(id) || json_integer_value(id) <= 0 || !json_is_boolean(helpful)) {
        ret = http_error(srv, c, 400, "invalid_field",
                         "article_id (an integer) and helpful (true or false) are required");
        goto out;
    }
    rc = sb_store_begin(srv->store);
    if (!rc)
        rc =
            sb_kb_vote(srv->kb, json_integer_value(id), "bot", json_is_true(helpful), conv.id, &eb);
    if (!rc) rc = sb_store_commit(srv->store);
    if (rc) {
        sb_store_rollback(srv->store);
        if (rc == SB_ERR_NOT_FOUND)
            ret = http_error(srv, c, 404, "not_shown",
                             "article %lld was not shown in this conversation; nothing was stored",
                             (long long)json_integer_value(id));
        else if (rc == SB_ERR_EXISTS)
            ret = http_error(srv, c, 409, "already_voted",
                             "this conversation has already voted on article %lld",
                             (long long)json_integer_value(id));
        else
            ret = http_error(srv, c, 503, "not_stored", "the vote was not stored; retry");
        goto out;
    }
    ret = http_json(srv, c, 200, json_pack("{s:b}", "recorded", 1));
out:
    json_decref(body);
    sb_conv_cleanup(&conv);
    return ret;
}

/* The routes this file answers and who may call them (core/server/routes.c
 * lists every file's table; http.c dispatches them in that order). */
const struct route api_customer_routes[] = {
    /* customers */
    {"POST", "/api/v1/conversations", api_conversation_create, ROUTE_PUBLIC, true},
    {"POST", "/api/v1/conversations/{}/messages", api_message_post, ROUTE_VISITOR_TOKEN, true},
    {"GET", "/api/v1/conversations/{}/messages", api_transcript, ROUTE_VISITOR_TOKEN, true},
    {"GET", "/api/v1/conversations/{}/events", api_events, ROUTE_VISITOR_TOKEN, true},
    {"POST", "/api/v1/conversations/{}/feedback", api_feedback, ROUTE_VISITOR_TOKEN, true},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};
