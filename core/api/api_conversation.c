/*
 * api_conversation.c - what the widget asks about a conversation besides
 * its messages (docs/widget.md): its state (agent, queue position,
 * expected wait, read marks), the customer's read receipts, and typing
 * hints, which are forwarded to open event streams and never stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "agent_events.h"
#include "api.h"
#include "http.h"
#include "server.h"
#include "sse.h"
#include "ratelimit.h"

static enum MHD_Result api_conversation_get(struct sb_server *srv, struct MHD_Connection *c,
                                            struct http_req *r, const char *params[2])
{
    struct sb_conv_web w;
    struct sb_conv conv;
    enum MHD_Result ret;
    json_t *queue = json_null();
    (void)r;

    if (!api_visitor_conv(srv, c, params[0], false, &conv, &ret)) return ret;
    if (sb_store_conv_web(srv->store, conv.id, &w)) {
        sb_conv_cleanup(&conv);
        return http_error(srv, c, 500, "internal", "could not read the conversation");
    }
    if (strcmp(conv.status, SB_STATUS_QUEUED) == 0 && w.queue_position > 0)
        queue = json_pack("{s:I, s:o}", "position", (json_int_t)w.queue_position, "expected_wait_s",
                          w.expected_wait_ms < 0 ? json_null()
                                                 : json_integer((w.expected_wait_ms + 999) / 1000));
    ret = http_json(
        srv, c, 200,
        json_pack("{s:s, s:s, s:s, s:o, s:b, s:o, s:o, s:{s:I, s:I}}", "id", conv.public_id,
                  "status", conv.status, "locale", conv.locale, "site",
                  w.site_id[0] ? json_string(w.site_id) : json_null(), "verified", w.verified,
                  "agent", w.agent_name[0] ? json_pack("{s:s}", "name", w.agent_name) : json_null(),
                  "queue", queue, "read_up_to", "customer", (json_int_t)w.read_customer, "agent",
                  (json_int_t)w.read_agent));
    sb_conv_cleanup(&conv);
    return ret;
}

bool api_read_up_to(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                    int64_t conv_id, int64_t *up_to, enum MHD_Result *ret)
{
    json_t *body = http_body_object(srv, c, r, ret), *up;
    if (!body) return false;
    up = json_object_get(body, "up_to");
    if (!json_is_integer(up) || json_integer_value(up) <= 0) {
        *ret = http_error(srv, c, 400, "invalid_field", "up_to: must be a message id");
    } else if (!sb_store_msg_in_conv(srv->store, conv_id, json_integer_value(up))) {
        *ret = http_error(srv, c, 400, "invalid_field",
                          "up_to: %lld is not a message of this conversation",
                          (long long)json_integer_value(up));
    } else {
        *up_to = json_integer_value(up);
        json_decref(body);
        return true;
    }
    json_decref(body);
    return false;
}

/* POST .../read {"up_to": MESSAGE_ID}: the customer has seen everything up
 * to that message. Marks only move forward. */
static enum MHD_Result api_read(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                                const char *params[2])
{
    struct sb_conv_web w;
    struct sb_conv conv;
    enum MHD_Result ret;
    enum sb_err rc;
    bool moved = false;
    int64_t up_to;

    if (!api_visitor_conv(srv, c, params[0], false, &conv, &ret)) return ret;
    if (!api_read_up_to(srv, c, r, conv.id, &up_to, &ret)) goto out;
    rc = sb_store_begin(srv->store);
    if (!rc) rc = sb_store_read_mark(srv->store, conv.id, "customer", up_to, &moved);
    if (!rc && moved) {
        json_t *ev = json_pack("{s:I, s:s}", "up_to", (json_int_t)up_to, "by", "customer");
        rc = sb_store_event_add(srv->store, &conv, "message/read", ev);
        json_decref(ev);
    }
    if (!rc) rc = sb_store_commit(srv->store);
    if (rc) {
        sb_store_rollback(srv->store);
        ret = http_error(srv, c, 503, "not_stored", "the read mark was not stored; retry");
        goto out;
    }
    if (sb_store_conv_web(srv->store, conv.id, &w)) {
        ret = http_error(srv, c, 500, "internal", "could not read the conversation");
        goto out;
    }
    ret = http_json(srv, c, 200,
                    json_pack("{s:{s:I, s:I}}", "read_up_to", "customer",
                              (json_int_t)w.read_customer, "agent", (json_int_t)w.read_agent));
out:
    sb_conv_cleanup(&conv);
    return ret;
}

/* POST .../typing {"typing": true|false}: forwarded at most once a second
 * per conversation, as an event without id that is not stored. */
static enum MHD_Result api_typing(struct sb_server *srv, struct MHD_Connection *c,
                                  struct http_req *r, const char *params[2])
{
    struct sb_conv conv;
    enum MHD_Result ret;
    json_t *body, *typing, *ev;
    char key[64];
    int retry = 0;
    bool forward;

    if (!api_visitor_conv(srv, c, params[0], false, &conv, &ret)) return ret;
    body = http_body_object(srv, c, r, &ret);
    if (!body) goto out;
    typing = json_object_get(body, "typing");
    if (!json_is_boolean(typing)) {
        ret = http_error(srv, c, 400, "invalid_field", "typing: must be true or false");
        goto out;
    }
    snprintf(key, sizeof(key), "typing:%s", conv.public_id);
    forward = sb_limits_take(srv->limits, key, 1.0, 1.0, sb_now_ms(), &retry);
    if (forward) {
        ev = json_pack("{s:s, s:s, s:b}", "type", "typing", "author", "customer", "typing",
                       json_is_true(typing));
        sse_push(srv, conv.id, "typing", ev);
        agent_events_push(srv, conv.id, "typing", ev);
        json_decref(ev);
    }
    ret = http_json(srv, c, 200, json_pack("{s:b}", "forwarded", forward));
out:
    json_decref(body);
    sb_conv_cleanup(&conv);
    return ret;
}

/* The routes this file answers and who may call them (core/server/routes.c
 * lists every file's table; http.c dispatches them in that order). */
const struct route api_conversation_routes[] = {
    {"GET", "/api/v1/conversations/{}", api_conversation_get, ROUTE_VISITOR_TOKEN, true},
    {"POST", "/api/v1/conversations/{}/read", api_read, ROUTE_VISITOR_TOKEN, true},
    {"POST", "/api/v1/conversations/{}/typing", api_typing, ROUTE_VISITOR_TOKEN, true},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};
