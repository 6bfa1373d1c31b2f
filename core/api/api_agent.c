/*
 * api_agent.c - the agent API of the state machine (docs/agents.md,
 * "Agent API"): the agent's profile and status, the queue, their
 * conversations with unread counts, one conversation with its whole
 * story, and the transitions (accept, decline, claim, reply, notes,
 * transfer, resolve, return to bot, typing, read); and the test clock.
 * The transitions themselves are in handoff_ops.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_access.h"
#include "http_errors.h"
#include "handoff_int.h"
#include "agent_events.h"
#include "api.h"
#include "channels.h"
#include "http.h"
#include "server.h"
#include "sse.h"
#include "reply_window.h"
#include "store_agent.h"
#include "sb_log.h"

#define NOTE_MAX 8192

/* The signed-in agent's user id; tokens have none (403). */
static bool agent_of(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                     int64_t *id, enum MHD_Result *ret)
{
    if (r->who.kind != PRINCIPAL_SESSION || r->who.user.id <= 0) {
        *ret = http_error(srv, c, 400, "not_a_person",
                          "this acts as a signed-in agent; an API token is not one");
        return false;
    }
    *id = r->who.user.id;
    return true;
}

static bool is_supervisor(struct http_req *r)
{
    return (r->who.roles & (SB_ROLE_SUPERVISOR | SB_ROLE_ADMIN)) != 0;
}

/* Loads the conversation of the path and checks the agent may see it
 * (agent_access.h); one they may not see is as unknown as one that does
 * not exist. */
static bool conv_of(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                    const char *id, struct sb_conv *conv, struct sb_handoff_row *row,
                    enum MHD_Result *ret)
{
    struct agent_viewer v = agent_viewer_of(r);
    if (strlen(id) > 64 || sb_store_conv_get(srv->store, id, conv)) {
        *ret = http_error(srv, c, 404, "not_found", "no such conversation");
        return false;
    }
    if (!agent_sees_conv(srv->store, &v, conv->id) || ho_conv_row(srv->handoff, conv->id, row)) {
        sb_conv_cleanup(conv);
        *ret = http_error(srv, c, 404, "not_found", "no such conversation");
        return false;
    }
    return true;
}

/* A transition refused by the team's rules is someone else's conversation
 * (403 not_yours, docs/agents.md); a resolve naming an unknown article is
 * well-formed but unprocessable (422). */
static const struct http_err_row transition_errors[] = {
    {SB_ERR_FORBIDDEN, 403, "not_yours"},
    {SB_ERR_INVAL, 422, "invalid_field"},
    {SB_OK, 0, NULL},
};

/* Answers the result of a transition run in its own unit: ok_text
 * (compact JSON from malloc, owned; NULL: the conversation's id and
 * status), or the error. */
static enum MHD_Result finish_text(struct sb_server *srv, struct MHD_Connection *c,
                                   struct sb_conv *conv, enum sb_err rc, struct sb_errbuf *eb,
                                   char *ok_text)
{
    srv->handoff->current = NULL;
    if (!rc) rc = sb_store_commit(srv->store);
    if (rc) {
        sb_store_rollback(srv->store); /* the router's copy goes with it */
        free(ok_text);
        return http_error_of(srv, c, rc, eb->msg, NULL, transition_errors);
    }
    if (ok_text) return http_json_text(srv, c, 200, ok_text);
    return http_json(srv, c, 200,
                     json_pack("{s:s, s:s}", "id", conv->public_id, "status", conv->status));
}

/* The same with the answer as JSON (owned; NULL: id and status). */
static enum MHD_Result finish(struct sb_server *srv, struct MHD_Connection *c, struct sb_conv *conv,
                              enum sb_err rc, struct sb_errbuf *eb, json_t *ok_body)
{
    char *text = ok_body && !rc ? json_dumps(ok_body, JSON_COMPACT) : NULL;
    if (ok_body && !rc && !text) rc = SB_ERR_NOMEM;
    json_decref(ok_body);
    return finish_text(srv, c, conv, rc, eb, text);
}

/* ------------------------------------------------------------------ */
/* me                                                                   */

static json_t *profile_json(struct sb_server *srv, int64_t me)
{
    json_t *out = sb_store_agent_profile(srv->store, me);
    if (out) {
        int64_t load = sb_router_agent_load(ho_router_view(srv->handoff), me);
        json_object_set_new(out, "load", json_real(load > 0 ? (double)load / 1000.0 : 0.0));
    }
    return out ? out : json_null();
}

static enum MHD_Result api_agent_me(struct sb_server *srv, struct MHD_Connection *c,
                                    struct http_req *r, const char *params[2])
{
    enum MHD_Result ret;
    int64_t me;
    (void)params;
    if (!agent_of(srv, c, r, &me, &ret)) return ret;
    return http_json(srv, c, 200,
                     json_pack("{s:{s:I, s:s, s:s, s:b}, s:o}", "user", "id", (json_int_t)me,
                               "name", r->who.user.name, "email", r->who.user.email, "supervisor",
                               is_supervisor(r), "profile", profile_json(srv, me)));
}

static enum MHD_Result api_agent_status(struct sb_server *srv, struct MHD_Connection *c,
                                        struct http_req *r, const char *params[2])
{
    enum MHD_Result ret;
    json_t *body, *st;
    const char *v;
    enum sb_err rc;
    int64_t me;
    (void)params;
    if (!agent_of(srv, c, r, &me, &ret)) return ret;
    body = http_body_object(srv, c, r, &ret);
    if (!body) return ret;
    st = json_object_get(body, "status");
    v = json_string_value(st);
    if (!v || (strcmp(v, "online") && strcmp(v, "away") && strcmp(v, "offline"))) {
        json_decref(body);
        return http_error(srv, c, 400, "invalid_field", "status: must be online, away or offline");
    }
    rc = sb_store_begin(srv->store);
    if (rc) {
        json_decref(body);
        return http_error(srv, c, 503, "not_stored", "busy; retry");
    }
    rc = sb_store_agent_status_set(srv->store, me, v, sb_now_ms());
    json_decref(body);
    if (!rc) rc = handoff_agent_changed(srv->handoff, me);
    if (!rc) agent_events_notify(srv);
    if (!rc) rc = sb_store_commit(srv->store);
    if (rc) {
        sb_store_rollback(srv->store); /* the router's copy goes with it */
        return http_error(srv, c, 503, "not_stored", "not stored; retry");
    }
    return http_json(srv, c, 200, json_pack("{s:o}", "profile", profile_json(srv, me)));
}

/* ------------------------------------------------------------------ */
/* lists                                                                */

/* The store's raw SLA times ({kind, due_at, warn_at, met}) of item
 * (a list entry or the conversation) get their state at now. */
static void sla_states(json_t *item, int64_t now)
{
    json_t *arr = json_object_get(item, "sla"), *e;
    size_t i;
    json_array_foreach(arr, i, e)
    {
        int64_t due = json_integer_value(json_object_get(e, "due_at"));
        int64_t warn = json_integer_value(json_object_get(e, "warn_at"));
        bool met = json_is_true(json_object_get(e, "met"));
        json_object_del(e, "met");
        json_object_set_new(
            e, "state",
            json_string(met ? "met" : sb_sla_state_name(sb_sla_state_at(warn, due, 0, now))));
    }
}

/* Every entry of list gets its SLA states; queue entries their wait. */
static json_t *with_states(json_t *list, int64_t now, bool waits)
{
    json_t *item;
    size_t i;
    json_array_foreach(list, i, item)
    {
        sla_states(item, now);
        if (waits) {
            int64_t qa = json_integer_value(json_object_get(item, "queued_at"));
            json_object_set_new(item, "wait_s", json_integer((now - qa) / 1000));
        }
    }
    return list;
}

static enum MHD_Result api_agent_queue(struct sb_server *srv, struct MHD_Connection *c,
                                       struct http_req *r, const char *params[2])
{
    enum MHD_Result ret;
    int64_t me, now = sb_now_ms();
    json_t *list;
    (void)params;
    if (!agent_of(srv, c, r, &me, &ret)) return ret;
    list = sb_store_agent_queue(srv->store, me, is_supervisor(r));
    if (!list) return http_error(srv, c, 500, "internal", "queue query failed");
    with_states(list, now, true);
    return http_json(srv, c, 200, json_pack("{s:o}", "queue", list));
}

/* Every conversation the caller may see (agent_access.h), most recently
 * active first; status NULL = any. */
static enum MHD_Result visible_list(struct sb_server *srv, struct MHD_Connection *c,
                                    struct http_req *r, const char *status)
{
    struct agent_viewer v = agent_viewer_of(r);
    json_t *list = sb_store_agent_visible(srv->store, v.user, v.all, status);
    if (!list) return http_error(srv, c, 500, "internal", "query failed");
    return http_json(srv, c, 200, json_pack("{s:o}", "conversations", list));
}

static enum MHD_Result api_agent_conversations(struct sb_server *srv, struct MHD_Connection *c,
                                               struct http_req *r, const char *params[2])
{
    const char *status = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status");
    const char *mine = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "mine");
    enum MHD_Result ret;
    int64_t me, now = sb_now_ms();
    json_t *list;
    (void)params;
    if (status && strcmp(status, SB_STATUS_BOT) && strcmp(status, SB_STATUS_QUEUED) &&
        strcmp(status, SB_STATUS_ASSIGNED) && strcmp(status, SB_STATUS_RESOLVED))
        return http_error(srv, c, 400, "invalid_field",
                          "status must be bot, queued, assigned or resolved");
    if (mine && strcmp(mine, "1") && strcmp(mine, "0"))
        return http_error(srv, c, 400, "invalid_field", "mine must be 0 or 1");
    if (!mine || strcmp(mine, "1")) return visible_list(srv, c, r, status);
    if (!agent_of(srv, c, r, &me, &ret)) return ret;
    list = sb_store_agent_mine(srv->store, me, status);
    if (!list) return http_error(srv, c, 500, "internal", "query failed");
    with_states(list, now, false);
    return http_json(srv, c, 200, json_pack("{s:o}", "conversations", list));
}

static enum MHD_Result api_agent_conversation(struct sb_server *srv, struct MHD_Connection *c,
                                              struct http_req *r, const char *params[2])
{
    struct sb_conv_web w;
    struct sb_conv conv;
    struct sb_handoff_row row;
    enum MHD_Result ret;
    json_t *out;
    /* Reading needs the conversation to be one the caller may see
     * (agent_access.h); acting, mostly, to be theirs. */
    if (!conv_of(srv, c, r, params[0], &conv, &row, &ret)) return ret;
    if (sb_store_conv_web(srv->store, conv.id, &w)) memset(&w, 0, sizeof(w));
    /* The widget's site and page, and whether the identity was verified,
     * tell the agent where the customer is (docs/widget.md). */
    out = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:i, s:o, s:o, s:b, s:o, s:o, s:o}", "id", conv.public_id,
        "status", conv.status, "locale", conv.locale, "channel", conv.channel, "team", row.team,
        "priority", row.priority, "site", w.site_id[0] ? json_string(w.site_id) : json_null(),
        "page_url", w.page_url[0] ? json_string(w.page_url) : json_null(), "verified", w.verified,
        "messages", sb_store_transcript(srv->store, conv.id, 0), "bot",
        sb_store_bot_turns(srv->store, conv.id), "notes", sb_store_notes(srv->store, conv.id));
    json_object_set_new(out, "assignee", row.assignee ? json_integer(row.assignee) : json_null());
    json_object_set_new(out, "offered_to",
                        row.offered_to ? json_integer(row.offered_to) : json_null());
    if (out && sb_store_conv_agent_fields(srv->store, conv.id, out) == SB_OK)
        sla_states(out, sb_now_ms());
    if (out) {
        /* WhatsApp: free-form replies only within 24 h of the customer's
         * last message (reply_window.h); the console says so up front */
        struct reply_window rw;
        json_t *wj;
        reply_window_of(srv, &conv, sb_now_ms(), &rw);
        if ((wj = reply_window_json(&rw))) json_object_set_new(out, "reply_window", wj);
    }
    ret = http_json(srv, c, 200, out);
    sb_conv_cleanup(&conv);
    return ret;
}

/* ------------------------------------------------------------------ */
/* transitions                                                          */

enum act { ACT_ACCEPT, ACT_DECLINE, ACT_CLAIM, ACT_RESOLVE, ACT_RETURN };

/* Resolving may name the article that solved it: {"article_id": N}, an
 * empty body or {} name none. 0 with *ret answered on bad input. */
static bool resolved_article(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                             int64_t *article, enum MHD_Result *ret)
{
    json_t *body, *v;
    *article = 0;
    if (r->body.len == 0) return true;
    if (!(body = http_body_object(srv, c, r, ret))) return false;
    v = json_object_get(body, "article_id");
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            json_decref(body);
            *ret = http_error(srv, c, 400, "invalid_field",
                              "article_id: must be the id of a knowledge-base article");
            return false;
        }
        *article = json_integer_value(v);
    }
    json_decref(body);
    return true;
}

static enum MHD_Result act(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                           const char *id, enum act a)
{
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    struct sb_handoff_row row;
    enum MHD_Result ret;
    enum sb_err rc;
    int64_t me, article = 0;
    char by[64];
    if (!agent_of(srv, c, r, &me, &ret)) return ret;
    if (a == ACT_RESOLVE && !resolved_article(srv, c, r, &article, &ret)) return ret;
    if (!conv_of(srv, c, r, id, &conv, &row, &ret)) return ret;
    if ((a == ACT_RESOLVE || a == ACT_RETURN) && !is_supervisor(r) && row.assignee != me &&
        !(strcmp(row.status, SB_STATUS_QUEUED) == 0 && row.offered_to == 0)) {
        sb_conv_cleanup(&conv);
        return http_error(srv, c, 403, "not_yours",
                          "this conversation is assigned to someone else");
    }
    snprintf(by, sizeof(by), "agent:%lld", (long long)me);
    rc = sb_store_begin(srv->store);
    srv->handoff->current = &conv;
    if (!rc) switch (a) {
        case ACT_ACCEPT:
            rc = ho_accept(srv->handoff, &conv, me, &eb);
            break;
        case ACT_DECLINE:
            rc = ho_decline(srv->handoff, &conv, me, &eb);
            break;
        case ACT_CLAIM:
            rc = ho_claim(srv->handoff, &conv, me, is_supervisor(r), &eb);
            break;
        case ACT_RESOLVE:
            rc = ho_resolve(srv->handoff, &conv, by, article, &eb);
            break;
        case ACT_RETURN:
            rc = ho_return_to_bot(srv->handoff, &conv, by, &eb);
            break;
        }
    ret = finish(srv, c, &conv, rc, &eb, NULL);
    sb_conv_cleanup(&conv);
    return ret;
}

static enum MHD_Result api_agent_accept(struct sb_server *srv, struct MHD_Connection *c,
                                        struct http_req *r, const char *params[2])
{
    return act(srv, c, r, params[0], ACT_ACCEPT);
}
static enum MHD_Result api_agent_decline(struct sb_server *srv, struct MHD_Connection *c,
                                         struct http_req *r, const char *params[2])
{
    return act(srv, c, r, params[0], ACT_DECLINE);
}
static enum MHD_Result api_agent_claim(struct sb_server *srv, struct MHD_Connection *c,
                                       struct http_req *r, const char *params[2])
{
    return act(srv, c, r, params[0], ACT_CLAIM);
}
static enum MHD_Result api_agent_resolve(struct sb_server *srv, struct MHD_Connection *c,
                                         struct http_req *r, const char *params[2])
{
    return act(srv, c, r, params[0], ACT_RESOLVE);
}
static enum MHD_Result api_agent_return(struct sb_server *srv, struct MHD_Connection *c,
                                        struct http_req *r, const char *params[2])
{
    return act(srv, c, r, params[0], ACT_RETURN);
}

/* A string field of at most max bytes of valid UTF-8 (jansson checks
 * encoding), or NULL with the 400 answered. */
static const char *text_field(struct sb_server *srv, struct MHD_Connection *c, json_t *body,
                              const char *name, size_t max, bool required, enum MHD_Result *ret)
{
    json_t *v = json_object_get(body, name);
    if (!v && !required) return "";
    if (!json_is_string(v) || (required && json_string_length(v) == 0) ||
        json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v)) {
        *ret = http_error(srv, c, 400, "invalid_field", "%s: must be text of 1 to %zu bytes", name,
                          max);
        return NULL;
    }
    return json_string_value(v);
}

/* {"message": the one message sent, "duplicate": false}, malloc'd. */
static char *sent_answer(const struct sb_replies *sent)
{
    struct sb_buf b;
    enum sb_err rc;

    sb_buf_init(&b, SIZE_MAX);
    rc = sb_buf_append(&b, "{\"message\":", 11);
    if (!rc) rc = sb_buf_append(&b, sent->text.data, sent->text.len);
    if (!rc) rc = sb_buf_append(&b, ",\"duplicate\":false}", 19);
    if (rc) sb_buf_cleanup(&b);
    return rc ? NULL : b.data;
}

/* A reply names a template (its text filled in *filled, its send in *tpl)
 * or is free-form, which a channel with a reply window takes only while
 * it is open (reply_window.h). False with *ret answered when refused. */
static bool template_or_window(struct sb_server *srv, struct MHD_Connection *c,
                               struct sb_conv *conv, const char *tpl_name, json_t *params,
                               char **filled, json_t **tpl, enum MHD_Result *ret)
{
    struct sb_errbuf eb = {{0}};
    struct reply_window w;
    json_t *templates;
    enum sb_err rc;

    if (!*tpl_name) {
        reply_window_of(srv, conv, sb_now_ms(), &w);
        if (!w.has || w.open) return true;
        *ret = http_error(srv, c, 409, "window_closed",
                          "the %s reply window is closed: only an approved template can be sent "
                          "(GET .../templates)",
                          conv->channel);
        return false;
    }
    templates = reply_window_templates(srv, conv->channel);
    rc = reply_window_render(templates, tpl_name, params, filled, tpl, &eb);
    json_decref(templates);
    if (rc == SB_ERR_NOT_FOUND || rc == SB_ERR_INVAL) {
        *ret = http_error(srv, c, rc == SB_ERR_INVAL ? 400 : 422, "invalid_field", "%s", eb.msg);
        return false;
    }
    if (rc) *ret = http_error(srv, c, 503, "not_stored", "out of memory; retry");
    return rc == SB_OK;
}

/* GET .../templates: the templates an agent may send on the conversation's
 * channel, and its reply window. */
static enum MHD_Result api_agent_templates(struct sb_server *srv, struct MHD_Connection *c,
                                           struct http_req *r, const char *params[2])
{
    struct sb_conv conv;
    struct sb_handoff_row row;
    struct reply_window w;
    enum MHD_Result ret;
    json_t *wj;

    if (!conv_of(srv, c, r, params[0], &conv, &row, &ret)) return ret;
    reply_window_of(srv, &conv, sb_now_ms(), &w);
    wj = reply_window_json(&w);
    ret = http_json(srv, c, 200,
                    json_pack("{s:o, s:o}", "templates", reply_window_templates(srv, conv.channel),
                              "reply_window", wj ? wj : json_null()));
    sb_conv_cleanup(&conv);
    return ret;
}

static enum MHD_Result api_agent_message(struct sb_server *srv, struct MHD_Connection *c,
                                         struct http_req *r, const char *params[2])
{
    struct sb_conv conv;
    struct sb_handoff_row row;
    struct sb_replies sent;
    enum MHD_Result ret;
    json_t *body = NULL, *canned, *att, *tpl = NULL;
    const char *text, *client_id, *tpl_name;
    char name[256], *answer, *filled = NULL;
    int64_t me, mid = 0;
    enum sb_err rc;

    if (!agent_of(srv, c, r, &me, &ret)) return ret;
    if (!conv_of(srv, c, r, params[0], &conv, &row, &ret)) return ret;
    body = http_body_object(srv, c, r, &ret);
    if (!body) goto out;
    if (!(tpl_name = text_field(srv, c, body, "template", 512, false, &ret))) goto out;
    /* a template send takes its text from the template */
    if (!(text = text_field(srv, c, body, "text", srv->cfg.max_text, !*tpl_name, &ret))) goto out;
    if (!(client_id = text_field(srv, c, body, "client_id", 64, true, &ret))) goto out;
    canned = json_object_get(body, "canned_id");
    if (canned && !json_is_null(canned) &&
        (!json_is_integer(canned) || json_integer_value(canned) <= 0)) {
        ret = http_error(srv, c, 400, "invalid_field", "canned_id: must be a canned response id");
        goto out;
    }
    att = json_object_get(body, "attachments");
    if (att && !json_is_null(att) && (!json_is_array(att) || json_array_size(att))) {
        ret = http_error(srv, c, 400, "invalid_field",
                         "attachments: agents cannot attach files yet (give [] or leave it out)");
        goto out;
    }
    if (strcmp(row.status, SB_STATUS_ASSIGNED) != 0) {
        ret =
            http_error(srv, c, 409, "conflict", "the conversation is %s, not assigned", row.status);
        goto out;
    }
    if (row.assignee != me && !is_supervisor(r)) {
        ret = http_error(srv, c, 403, "not_yours", "this conversation is assigned to someone else");
        goto out;
    }
    /* a retried send answers the message it stored the first time */
    mid = sb_store_reply_by_client_id(srv->store, conv.id, client_id);
    if (mid) {
        ret = http_json(
            srv, c, 200,
            json_pack("{s:o, s:b}", "message", sb_store_msg_json(srv->store, mid), "duplicate", 1));
        goto out;
    }
    if (!template_or_window(srv, c, &conv, tpl_name, json_object_get(body, "params"), &filled, &tpl,
                            &ret))
        goto out;
    if (filled) text = filled;
    ho_user_name(srv->handoff, me, name, sizeof(name));
    /* the agent's reply answers no customer message: its text comes back
     * alone, for {"message": ...} */
    sb_replies_init(&sent, 0);
    rc = sb_store_begin(srv->store);
    if (!rc) {
        struct sb_outgoing m = {.author = "agent",
                                .text = text,
                                .client_id = client_id,
                                .agent_id = me,
                                .agent_name = name,
                                .canned_id =
                                    json_is_integer(canned) ? json_integer_value(canned) : 0,
                                .template_ = tpl};
        rc = sb_conv_send(&srv->handoff->send, &conv, &m, &sent, NULL);
    }
    if (!rc) rc = ho_replied(srv->handoff, conv.id);
    answer = rc ? NULL : sent_answer(&sent);
    if (!rc && !answer) rc = SB_ERR_NOMEM;
    ret = finish_text(srv, c, &conv, rc, &(struct sb_errbuf){{0}}, answer);
    sb_replies_cleanup(&sent);
out:
    json_decref(tpl);
    free(filled);
    json_decref(body);
    sb_conv_cleanup(&conv);
    return ret;
}

static enum MHD_Result api_agent_note(struct sb_server *srv, struct MHD_Connection *c,
                                      struct http_req *r, const char *params[2])
{
    struct sb_conv conv;
    struct sb_handoff_row row;
    enum MHD_Result ret;
    json_t *body;
    const char *text;
    int64_t me, now = sb_now_ms(), note_id = 0;
    enum sb_err rc;
    char name[256];

    if (!agent_of(srv, c, r, &me, &ret)) return ret;
    if (!conv_of(srv, c, r, params[0], &conv, &row, &ret)) return ret;
    body = http_body_object(srv, c, r, &ret);
    if (!body) goto out;
    if (!(text = text_field(srv, c, body, "text", NOTE_MAX, true, &ret))) goto out;
    rc = sb_store_begin(srv->store);
    if (!rc) rc = sb_store_note_add(srv->store, conv.id, me, text, now, &note_id);
    ho_user_name(srv->handoff, me, name, sizeof(name));
    if (!rc) {
        json_t *note =
            json_pack("{s:I, s:{s:I, s:s}, s:s, s:I}", "id", (json_int_t)note_id, "author", "id",
                      (json_int_t)me, "name", name, "text", text, "created_at", (json_int_t)now);
        rc = ho_event(srv->handoff, &conv, "note/added", json_pack("{s:O}", "note", note));
        ret = finish(srv, c, &conv, rc, &(struct sb_errbuf){{0}},
                     rc ? NULL : json_pack("{s:o}", "note", note));
        if (rc) json_decref(note);
    } else {
        ret = finish(srv, c, &conv, rc, &(struct sb_errbuf){{0}}, NULL);
    }
out:
    json_decref(body);
    sb_conv_cleanup(&conv);
    return ret;
}

static enum MHD_Result api_agent_transfer(struct sb_server *srv, struct MHD_Connection *c,
                                          struct http_req *r, const char *params[2])
{
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    struct sb_handoff_row row;
    enum MHD_Result ret;
    json_t *body, *team, *agent;
    const char *note;
    int64_t me;
    enum sb_err rc;

    if (!agent_of(srv, c, r, &me, &ret)) return ret;
    if (!conv_of(srv, c, r, params[0], &conv, &row, &ret)) return ret;
    body = http_body_object(srv, c, r, &ret);
    if (!body) goto out;
    team = json_object_get(body, "team");
    agent = json_object_get(body, "agent_id");
    if (!(note = text_field(srv, c, body, "note", NOTE_MAX, false, &ret))) goto out;
    if ((team && agent) || (!team && !agent)) {
        ret = http_error(srv, c, 400, "invalid_field", "team or agent_id: give exactly one");
        goto out;
    }
    if (team &&
        (!json_is_string(team) || json_string_length(team) == 0 || json_string_length(team) > 63)) {
        ret = http_error(srv, c, 400, "invalid_field", "team: must be a team id");
        goto out;
    }
    if (agent && (!json_is_integer(agent) || json_integer_value(agent) <= 0)) {
        ret = http_error(srv, c, 400, "invalid_field", "agent_id: must be a user id");
        goto out;
    }
    if (!is_supervisor(r) && row.assignee != me) {
        ret = http_error(srv, c, 403, "not_yours", "only the assignee or a supervisor transfers");
        goto out;
    }
    rc = sb_store_begin(srv->store);
    srv->handoff->current = &conv;
    if (!rc)
        rc = ho_transfer(srv->handoff, &conv, me, team ? json_string_value(team) : NULL,
                         agent ? json_integer_value(agent) : 0, *note ? note : NULL, &eb);
    ret = finish(srv, c, &conv, rc, &eb, NULL);
out:
    json_decref(body);
    sb_conv_cleanup(&conv);
    return ret;
}

static enum MHD_Result api_agent_typing(struct sb_server *srv, struct MHD_Connection *c,
                                        struct http_req *r, const char *params[2])
{
    struct sb_conv conv;
    struct sb_handoff_row row;
    enum MHD_Result ret;
    json_t *body, *typing, *ev;
    int64_t me;

    if (!agent_of(srv, c, r, &me, &ret)) return ret;
    if (!conv_of(srv, c, r, params[0], &conv, &row, &ret)) return ret;
    body = http_body_object(srv, c, r, &ret);
    if (!body) goto out;
    typing = json_object_get(body, "typing");
    if (!json_is_boolean(typing)) {
        ret = http_error(srv, c, 400, "invalid_field", "typing: must be true or false");
        goto out;
    }
    ev = json_pack("{s:s, s:s, s:b}", "type", "typing", "author", "agent", "typing",
                   json_is_true(typing));
    sse_push(srv, conv.id, "typing", ev);
    json_decref(ev);
    ret = http_json(srv, c, 200, json_pack("{s:b}", "forwarded", 1));
out:
    json_decref(body);
    sb_conv_cleanup(&conv);
    return ret;
}

static enum MHD_Result api_agent_read(struct sb_server *srv, struct MHD_Connection *c,
                                      struct http_req *r, const char *params[2])
{
    struct sb_conv conv;
    struct sb_handoff_row row;
    enum MHD_Result ret;
    int64_t me, up_to;
    bool moved = false;
    enum sb_err rc;

    if (!agent_of(srv, c, r, &me, &ret)) return ret;
    if (!conv_of(srv, c, r, params[0], &conv, &row, &ret)) return ret;
    if (!api_read_up_to(srv, c, r, conv.id, &up_to, &ret)) goto out;
    rc = sb_store_begin(srv->store);
    if (!rc) rc = sb_store_agent_read(srv->store, conv.id, me, up_to);
    /* the customer sees it read when the assignee read it */
    if (!rc && (row.assignee == me || is_supervisor(r)))
        rc = sb_store_read_mark(srv->store, conv.id, "agent", up_to, &moved);
    if (!rc && moved)
        rc = ho_event(srv->handoff, &conv, "message/read",
                      json_pack("{s:I, s:s}", "up_to", (json_int_t)up_to, "by", "agent"));
    ret = finish(srv, c, &conv, rc, &(struct sb_errbuf){{0}},
                 json_pack("{s:I}", "read_up_to", (json_int_t)up_to));
out:
    sb_conv_cleanup(&conv);
    return ret;
}

/* POST .../messages/{id}/retry: a dead letter (a message its channel
 * could not deliver) goes back in the outbox, attempts from zero. */
static enum MHD_Result api_agent_retry(struct sb_server *srv, struct MHD_Connection *c,
                                       struct http_req *r, const char *params[2])
{
    struct sb_conv conv;
    struct sb_handoff_row row;
    enum MHD_Result ret;
    int64_t me, msg_id;
    bool found = false;
    enum sb_err rc;

    if (!agent_of(srv, c, r, &me, &ret)) return ret;
    if (!conv_of(srv, c, r, params[0], &conv, &row, &ret)) return ret;
    if (!sb_parse_id(params[1], &msg_id)) {
        ret = http_error(srv, c, 404, "not_found", "no such message");
        goto out;
    }
    rc = sb_store_begin(srv->store);
    if (!rc) rc = channels_retry(srv->channels, &conv, msg_id, &found);
    if (!rc && !found) {
        sb_store_rollback(srv->store);
        ret = http_error(srv, c, 409, "not_failed",
                         "message %lld of this conversation is not a failed delivery",
                         (long long)msg_id);
        goto out;
    }
    ret = finish(srv, c, &conv, rc, &(struct sb_errbuf){{0}},
                 json_pack("{s:I, s:s}", "id", (json_int_t)msg_id, "delivery", "pending"));
out:
    sb_conv_cleanup(&conv);
    return ret;
}

/* ------------------------------------------------------------------ */
/* the test clock                                                       */

static enum MHD_Result api_test_clock(struct sb_server *srv, struct MHD_Connection *c,
                                      struct http_req *r, const char *params[2])
{
    enum MHD_Result ret;
    json_t *body, *adv, *set;
    (void)params;
    if (!srv->cfg.test_clock) return http_error(srv, c, 404, "not_found", "no such route");
    body = http_body_object(srv, c, r, &ret);
    if (!body) return ret;
    adv = json_object_get(body, "advance_s");
    set = json_object_get(body, "set_ms");
    if ((adv && set) || (!adv && !set) || (adv && !json_is_number(adv)) ||
        (set && !json_is_integer(set))) {
        json_decref(body);
        return http_error(srv, c, 400, "invalid_field",
                          "advance_s (seconds) or set_ms (ms since the epoch): give one");
    }
    if (adv) {
        double s = json_number_value(adv);
        if (s < 0 || s > 10.0 * 365 * 86400) {
            json_decref(body);
            return http_error(srv, c, 400, "invalid_field", "advance_s: 0 to ten years");
        }
        sb_clock_advance_ms((int64_t)(s * 1000));
    } else {
        int64_t t = json_integer_value(set), now = sb_now_ms();
        if (t < now) {
            json_decref(body);
            return http_error(srv, c, 400, "invalid_field", "set_ms: the clock only goes forward");
        }
        sb_clock_advance_ms(t - now);
    }
    json_decref(body);
    handoff_timers(srv->handoff);
    return http_json(srv, c, 200, json_pack("{s:I}", "now", (json_int_t)sb_now_ms()));
}

/* The routes this file answers and who may call them (core/server/routes.c
 * lists every file's table; http.c dispatches them in that order). */
const struct route api_agent_routes[] = {
    /* agents */
    {"GET", "/api/v1/agent/conversations", api_agent_conversations, ROUTE_AGENT, false},
    {"GET", "/api/v1/agent/conversations/{}", api_agent_conversation, ROUTE_AGENT, false},
    /* live agents: the state machine (docs/agents.md) */
    {"GET", "/api/v1/agent/me", api_agent_me, ROUTE_AGENT, false},
    {"PUT", "/api/v1/agent/me/status", api_agent_status, ROUTE_AGENT, false},
    {"GET", "/api/v1/agent/queue", api_agent_queue, ROUTE_AGENT, false},
    {"POST", "/api/v1/agent/conversations/{}/accept", api_agent_accept, ROUTE_AGENT, false},
    {"POST", "/api/v1/agent/conversations/{}/decline", api_agent_decline, ROUTE_AGENT, false},
    {"POST", "/api/v1/agent/conversations/{}/claim", api_agent_claim, ROUTE_AGENT, false},
    {"POST", "/api/v1/agent/conversations/{}/messages", api_agent_message, ROUTE_AGENT, false},
    {"GET", "/api/v1/agent/conversations/{}/templates", api_agent_templates, ROUTE_AGENT, false},
    {"POST", "/api/v1/agent/conversations/{}/notes", api_agent_note, ROUTE_AGENT, false},
    {"POST", "/api/v1/agent/conversations/{}/transfer", api_agent_transfer, ROUTE_AGENT, false},
    {"POST", "/api/v1/agent/conversations/{}/resolve", api_agent_resolve, ROUTE_AGENT, false},
    {"POST", "/api/v1/agent/conversations/{}/return-to-bot", api_agent_return, ROUTE_AGENT, false},
    {"POST", "/api/v1/agent/conversations/{}/typing", api_agent_typing, ROUTE_AGENT, false},
    {"POST", "/api/v1/agent/conversations/{}/read", api_agent_read, ROUTE_AGENT, false},
    {"POST", "/api/v1/agent/conversations/{}/messages/{}/retry", api_agent_retry, ROUTE_AGENT,
     false},
    /* only with --test-clock (and SWITCHBOARD_TEST=1); 404 otherwise */
    {"POST", "/api/v1/test/clock", api_test_clock, ROUTE_ADMIN, false},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};
