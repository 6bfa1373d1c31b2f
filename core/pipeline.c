/*
 * pipeline.c - the path of one inbound message, after its channel plugin
 * normalised it: persist (deduplicated), let the bot answer unless a
 * person owns the conversation, persist the replies and any handoff, commit,
 * and only then publish to the event streams.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "handoff.h"
#include "server.h"

/* What the customer is told when a person takes over, per language. */
static const char *handoff_notice(const char *locale)
{
    if (strncmp(locale, "pt", 2) == 0)
        return "Vou passar sua conversa para uma pessoa da nossa equipe. Ela vai responder aqui "
               "mesmo, e você não precisa repetir nada.";
    if (strncmp(locale, "ro", 2) == 0)
        return "Vă transfer conversația unui coleg din echipa noastră. Vă va răspunde aici și nu "
               "trebuie să repetați nimic.";
    return "I'm passing your conversation to a person on our team. They will reply right here, "
           "and you won't need to repeat anything.";
}

/* attachments may be NULL (none). */
static json_t *message_json(int64_t id, const char *direction, const char *author, const char *text,
                            json_t *links, json_t *quick_replies, json_t *attachments,
                            const char *client_id, int64_t created_at)
{
    json_t *m =
        json_pack("{s:I, s:s, s:s, s:s, s:O, s:O, s:s?, s:I}", "id", (json_int_t)id, "direction",
                  direction, "author", author, "text", text, "links", links, "quick_replies",
                  quick_replies, "client_id", client_id, "created_at", (json_int_t)created_at);
    json_object_set_new(m, "attachments", attachments ? json_incref(attachments) : json_array());
    return m;
}

static enum sb_err add_event(struct sb_server *srv, struct sb_conv *conv, const char *type,
                             json_t *payload)
{
    enum sb_err rc = sb_store_event_add(srv->store, conv, type, payload);
    json_decref(payload);
    return rc;
}

/* Stores one outbound message and its event; appends it to replies. */
static enum sb_err add_outbound(struct sb_server *srv, struct sb_conv *conv, const char *channel,
                                const char *author, const char *text, json_t *links,
                                json_t *quick_replies, int64_t reply_to, json_t *replies)
{
    json_t *extra = json_pack("{s:O, s:O}", "links", links, "quick_replies", quick_replies);
    char *extra_text = json_dumps(extra, JSON_COMPACT);
    struct sb_msg_in m = {.conv_id = conv->id,
                          .direction = "out",
                          .author = author,
                          .channel = channel,
                          .text = text,
                          .extra = extra_text,
                          .reply_to = reply_to,
                          .created_at = sb_now_ms()};
    int64_t id;
    bool dup;
    enum sb_err rc;
    json_t *msg;

    json_decref(extra);
    if (!extra_text) return SB_ERR_NOMEM;
    rc = sb_store_msg_add(srv->store, &m, &id, &dup);
    free(extra_text);
    if (rc) return rc;
    msg = message_json(id, "out", author, text, links, quick_replies, NULL, NULL, m.created_at);
    json_array_append(replies, msg);
    srv->metrics.messages_out++;
    return add_event(srv, conv, "message/outbound", json_pack("{s:o}", "message", msg));
}

/* The articles a bot reply links to (links[].article_id) are what the
 * customer was shown: only those may get their "did this help?" vote. */
static enum sb_err note_shown_articles(struct sb_server *srv, int64_t conv_id, json_t *reply)
{
    enum sb_err rc = SB_OK;
    json_t *link;
    size_t i;

    json_array_foreach(json_object_get(reply, "links"), i, link)
    {
        json_t *id = json_object_get(link, "article_id");
        if (!json_is_integer(id) || json_integer_value(id) <= 0) continue;
        rc = sb_kb_note_shown(srv->kb, conv_id, json_integer_value(id));
        if (rc) break;
    }
    return rc;
}

static enum sb_err run_bot(struct sb_server *srv, struct sb_conv *conv, const struct sb_inbound *in,
                           int64_t inbound_id, json_t *replies)
{
    struct sb_turn turn;
    enum sb_err rc = SB_OK;
    size_t i;
    json_t *r;

    sb_turn_init(&turn);
    turn.conv = conv;
    turn.text = in->text;
    turn.payload = in->payload;
    turn.locale = in->locale ? in->locale : conv->locale;
    turn.channel = in->channel;
    sb_host_run_intents(srv->host, &turn);

    json_array_foreach(turn.replies, i, r)
    {
        rc = add_outbound(
            srv, conv, in->channel, "bot", json_string_value(json_object_get(r, "text")),
            json_object_get(r, "links"), json_object_get(r, "quick_replies"), inbound_id, replies);
        if (!rc) rc = note_shown_articles(srv, conv->id, r);
        if (rc) goto out;
    }
    if (turn.attrs_changed) {
        rc = sb_store_conv_set_attrs(srv->store, conv->id, conv->attrs);
        if (rc) goto out;
    }
    if (turn.kb_searched) {
        /* the best hit's own threshold: an article may ask for more */
        const char *outcome = turn.kb_hits && turn.kb_confidence >= turn.kb_threshold ? "answered"
                              : turn.kb_hits                                          ? "unsure"
                                                                                      : "none";
        rc = sb_kb_log_query(srv->kb, conv->id, turn.locale, in->text, turn.kb_article_id,
                             turn.kb_confidence, outcome);
        if (rc) goto out;
    }
    /* Nobody answered (every plugin failed or none matched): a person is
     * better than silence. */
    if (json_array_size(turn.replies) == 0 && !turn.handoff) {
        turn.handoff = true;
        snprintf(turn.handoff_reason, sizeof(turn.handoff_reason), "no_handler");
    }
    if (turn.handoff) {
        json_t *empty = json_array();
        rc = sb_store_handoff(srv->store, conv->id, turn.handoff_reason,
                              turn.handoff_team[0] ? turn.handoff_team : NULL);
        /* The question before a hand-off was not resolved by the bot,
         * whatever it answered: the gap report counts it. */
        if (!rc) rc = sb_kb_mark_handoff(srv->kb, conv->id);
        if (!rc) {
            snprintf(conv->status, sizeof(conv->status), "%s", SB_STATUS_QUEUED);
            srv->metrics.handoffs++;
            rc = add_event(srv, conv, "conversation/handoff",
                           json_pack("{s:s, s:s?, s:s}", "reason", turn.handoff_reason, "team",
                                     turn.handoff_team[0] ? turn.handoff_team : NULL, "status",
                                     SB_STATUS_QUEUED));
        }
        if (!rc)
            rc = add_outbound(srv, conv, in->channel, "system", handoff_notice(turn.locale), empty,
                              empty, inbound_id, replies);
        if (!rc)
            rc = handoff_queue(srv->handoff, conv, turn.handoff_team[0] ? turn.handoff_team : NULL,
                               replies);
        json_decref(empty);
    }
out:
    sb_turn_cleanup(&turn);
    return rc;
}

/* Marks the uploaded files as carried by message msg_id. */
static enum sb_err link_attachments(struct sb_server *srv, struct sb_conv *conv, json_t *list,
                                    int64_t msg_id)
{
    enum sb_err rc = SB_OK;
    json_t *a;
    size_t i;
    json_array_foreach(list, i, a)
    {
        rc = sb_store_att_link(srv->store, conv->id, json_string_value(json_object_get(a, "id")),
                               msg_id);
        if (rc) break;
    }
    return rc;
}

enum sb_err sb_pipeline_handle(struct sb_server *srv, struct sb_conv *conv,
                               const struct sb_inbound *in, json_t **result, struct sb_errbuf *eb)
{
    struct sb_msg_in m = {.conv_id = conv->id,
                          .direction = "in",
                          .author = "customer",
                          .channel = in->channel,
                          .text = in->text,
                          .provider_id = in->provider_id,
                          .client_id = in->client_id,
                          .created_at = sb_now_ms()};
    json_t *replies = json_array(), *empty = json_array(), *extra = NULL;
    char *extra_text = NULL;
    int64_t id = 0;
    bool dup = false, bot = true;
    enum sb_err rc;

    if (in->payload || json_array_size(in->attachments)) {
        extra = json_object();
        if (in->payload) json_object_set_new(extra, "payload", json_string(in->payload));
        if (json_array_size(in->attachments))
            json_object_set(extra, "attachments", in->attachments);
        extra_text = json_dumps(extra, JSON_COMPACT);
        m.extra = extra_text;
    }
    rc = sb_store_begin(srv->store);
    if (rc) goto fail;
    rc = sb_store_msg_add(srv->store, &m, &id, &dup);
    if (rc) goto fail;
    if (dup) {
        /* A retried delivery: answer exactly what the first one got. */
        sb_store_rollback(srv->store);
        srv->metrics.duplicates++;
        json_decref(replies);
        replies = sb_store_replies(srv->store, conv->id, id);
        *result = json_pack("{s:s, s:I, s:b, s:o}", "status", conv->status, "message_id",
                            (json_int_t)id, "duplicate", 1, "replies", replies);
        goto done;
    }
    srv->metrics.messages_in++;
    rc = add_event(srv, conv, "message/inbound",
                   json_pack("{s:o}", "message",
                             message_json(id, "in", "customer", in->text, empty, empty,
                                          in->attachments, in->client_id, m.created_at)));
    if (rc) goto fail;
    rc = link_attachments(srv, conv, in->attachments, id);
    if (rc) goto fail;

    /* A rating, a reopening within the window, the next-response SLA of
     * an assigned conversation (handoff.c). */
    rc = handoff_inbound(srv->handoff, conv, in->text, in->payload, id, replies, &bot);
    if (rc) goto fail;
    /* A customer writing to a resolved conversation later opens it again
     * to the bot. */
    if (bot && strcmp(conv->status, SB_STATUS_RESOLVED) == 0) {
        rc = sb_store_conv_set_status(srv->store, conv->id, SB_STATUS_BOT);
        if (!rc)
            rc = add_event(srv, conv, "conversation/reopened",
                           json_pack("{s:s}", "status", SB_STATUS_BOT));
        if (rc) goto fail;
        snprintf(conv->status, sizeof(conv->status), "%s", SB_STATUS_BOT);
    }
    /* The bot speaks only while no person owns the conversation, and reads
     * only text (a file alone waits for a person or the next message). */
    if (bot && strcmp(conv->status, SB_STATUS_BOT) == 0) {
        if (in->text[strspn(in->text, " \t\r\n")]) rc = run_bot(srv, conv, in, id, replies);
        /* The widget shows the message as delivered once the bot had it. */
        if (!rc)
            rc = add_event(srv, conv, "message/delivered",
                           json_pack("{s:I}", "up_to", (json_int_t)id));
        if (rc) goto fail;
    } else if (strcmp(conv->status, SB_STATUS_QUEUED) == 0 ||
               strcmp(conv->status, SB_STATUS_ASSIGNED) == 0) {
        /* With a person the message is delivered once it is in the team's
         * queue or the agent's inbox, which is now; "read" follows when
         * the agent opens it. */
        rc = add_event(srv, conv, "message/delivered", json_pack("{s:I}", "up_to", (json_int_t)id));
        if (rc) goto fail;
    }
    rc = sb_store_commit(srv->store);
    if (rc) goto fail;
    *result = json_pack("{s:s, s:I, s:b, s:o}", "status", conv->status, "message_id",
                        (json_int_t)id, "duplicate", 0, "replies", replies);
done:
    json_decref(empty);
    json_decref(extra);
    free(extra_text);
    return SB_OK;
fail:
    sb_store_rollback(srv->store); /* and with it the router's changes (handoff.c) */
    json_decref(replies);
    json_decref(empty);
    json_decref(extra);
    free(extra_text);
    return sb_fail(eb, rc, "pipeline: %s", sb_strerror(rc));
}

enum sb_err sb_pipeline_start(struct sb_server *srv, const char *channel, const char *external_id,
                              const char *locale, const char *token_hash,
                              const struct sb_web_start *web, struct sb_conv *out)
{
    enum sb_err rc = sb_store_begin(srv->store);
    if (rc) return rc;
    rc = sb_store_conv_create(srv->store, channel, external_id, locale, token_hash, out);
    if (!rc && web) {
        rc = sb_store_conv_set_web(srv->store, out->id, web->site_id, web->page_url, web->verified);
        if (!rc && web->verified)
            rc = sb_store_identity_verified(srv->store, channel, external_id, "hmac");
        if (rc) sb_conv_cleanup(out);
    }
    if (!rc) {
        rc = add_event(srv, out, "conversation/started",
                       json_pack("{s:s, s:s, s:s}", "channel", channel, "locale", locale, "status",
                                 SB_STATUS_BOT));
        if (rc) sb_conv_cleanup(out);
    }
    if (!rc) rc = sb_store_commit(srv->store);
    if (rc) sb_store_rollback(srv->store);
    return rc;
}
