/*
 * pipeline.c - the path of one inbound message, after its channel plugin
 * normalised it: persist (deduplicated), let the bot answer unless a
 * person owns the conversation, persist the replies and any handoff, commit,
 * and only then publish to the event streams. Every reply, the bot's or
 * the hand-off's, goes through the one send path (conv/send.h), which
 * links it to the message it answers: a retry is answered from those links.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff.h"
#include "lua_host.h"
#include "message_json.h"
#include "send.h"
#include "sb_kb.h"
#include "sb_log.h"
#include "pipeline.h"
#include "store_channel.h"
#include "words.h"

/* An answer's texts are small; the cap only stops a runaway. */
#define ANSWER_LIMIT (64 * 1024 * 1024)

/* Moves the messages of a JSON array (sb_store_replies) into r. */
static enum sb_err replies_take(struct sb_replies *r, json_t *arr)
{
    enum sb_err rc = SB_OK;
    struct sb_buf one;
    json_t *v;
    size_t i;

    sb_buf_init(&one, ANSWER_LIMIT);
    json_array_foreach(arr, i, v)
    {
        sb_buf_reset(&one);
        rc = sb_json_append(&one, v, "null");
        if (!rc) rc = sb_replies_add(r, one.data, one.len);
        if (rc) break;
    }
    sb_buf_cleanup(&one);
    return rc;
}

/* The answer: {"status","message_id","duplicate","replies"}, malloc'd. */
static char *answer_text(const struct sb_conv *conv, int64_t id, bool duplicate,
                         struct sb_replies *r)
{
    struct sb_buf b;
    enum sb_err rc;

    sb_buf_init(&b, ANSWER_LIMIT);
    rc = sb_buf_append(&b, "{\"status\":", 10);
    if (!rc) rc = sb_json_string(&b, conv->status);
    if (!rc)
        rc = sb_buf_printf(&b, ",\"message_id\":%lld,\"duplicate\":%s,\"replies\":[", (long long)id,
                           duplicate ? "true" : "false");
    if (!rc) rc = sb_buf_append(&b, r->text.data ? r->text.data : "", r->text.len);
    if (!rc) rc = sb_buf_append(&b, "]}", 2);
    if (rc) {
        sb_buf_cleanup(&b);
        return NULL;
    }
    return b.data;
}

static enum sb_err add_event(const struct pipeline_deps *pl, struct sb_conv *conv, const char *type,
                             json_t *payload)
{
    enum sb_err rc = sb_store_event_add(pl->store, conv, type, payload);
    json_decref(payload);
    return rc;
}

/* The articles a bot reply links to (links[].article_id) are what the
 * customer was shown: only those may get their "did this help?" vote. */
static enum sb_err note_shown_articles(const struct pipeline_deps *pl, int64_t conv_id,
                                       json_t *reply)
{
    enum sb_err rc = SB_OK;
    json_t *link;
    size_t i;

    json_array_foreach(json_object_get(reply, "links"), i, link)
    {
        json_t *id = json_object_get(link, "article_id");
        if (!json_is_integer(id) || json_integer_value(id) <= 0) continue;
        rc = sb_kb_note_shown(pl->kb, conv_id, json_integer_value(id));
        if (rc) break;
    }
    return rc;
}

/* The bot's turn; what it sends answers the message replies->reply_to. */
static enum sb_err run_bot(const struct pipeline_deps *pl, struct sb_conv *conv,
                           const struct sb_inbound *in, struct sb_replies *replies)
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
    sb_host_run_intents(pl->host, &turn);

    json_array_foreach(turn.replies, i, r)
    {
        struct sb_outgoing out = {.author = "bot",
                                  .text = json_string_value(json_object_get(r, "text")),
                                  .links = json_object_get(r, "links"),
                                  .quick_replies = json_object_get(r, "quick_replies"),
                                  .channel = in->channel};
        rc = sb_conv_send(&pl->send, conv, &out, replies, NULL);
        if (!rc) rc = note_shown_articles(pl, conv->id, r);
        if (rc) goto out;
    }
    if (turn.attrs_changed) {
        rc = sb_store_conv_set_attrs(pl->store, conv->id, conv->attrs);
        if (rc) goto out;
    }
    if (turn.kb_searched) {
        /* the best hit's own threshold: an article may ask for more */
        const char *outcome = turn.kb_hits && turn.kb_confidence >= turn.kb_threshold ? "answered"
                              : turn.kb_hits                                          ? "unsure"
                                                                                      : "none";
        rc = sb_kb_log_query(pl->kb, conv->id, turn.locale, in->text, turn.kb_article_id,
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
        struct sb_outgoing notice = {
            .author = "system",
            .text = sb_words_text(pl->words, turn.locale, "conv.handoff_notice"),
            .channel = in->channel};
        rc = sb_store_handoff(pl->store, conv->id, turn.handoff_reason,
                              turn.handoff_team[0] ? turn.handoff_team : NULL);
        /* The question before a hand-off was not resolved by the bot,
         * whatever it answered: the gap report counts it. */
        if (!rc) rc = sb_kb_mark_handoff(pl->kb, conv->id);
        if (!rc) {
            snprintf(conv->status, sizeof(conv->status), "%s", SB_STATUS_QUEUED);
            (*pl->handoffs)++;
            rc = add_event(pl, conv, "conversation/handoff",
                           json_pack("{s:s, s:s?, s:s}", "reason", turn.handoff_reason, "team",
                                     turn.handoff_team[0] ? turn.handoff_team : NULL, "status",
                                     SB_STATUS_QUEUED));
        }
        if (!rc) rc = sb_conv_send(&pl->send, conv, &notice, replies, NULL);
        if (!rc)
            rc = handoff_queue(pl->handoff, conv, turn.handoff_team[0] ? turn.handoff_team : NULL,
                               replies);
    }
out:
    sb_turn_cleanup(&turn);
    return rc;
}

/* The customer's message, as its event and the transcript show it. */
static enum sb_err add_inbound_event(const struct pipeline_deps *pl, struct sb_conv *conv,
                                     const struct sb_inbound *in, int64_t id, int64_t created_at)
{
    struct sb_buf att;
    enum sb_err rc;

    sb_buf_init(&att, ANSWER_LIMIT);
    rc = sb_json_append(&att, in->attachments, "[]");
    if (!rc) {
        struct sb_message_view v = {.id = id,
                                    .direction = "in",
                                    .author = "customer",
                                    .text = in->text,
                                    .attachments = att.data,
                                    .client_id = in->client_id,
                                    .created_at = created_at};
        rc = sb_conv_message_event(pl->store, conv, "message/inbound", &v, NULL);
    }
    sb_buf_cleanup(&att);
    return rc;
}

/* Marks the uploaded files as carried by message msg_id. */
static enum sb_err link_attachments(const struct pipeline_deps *pl, struct sb_conv *conv,
                                    json_t *list, int64_t msg_id)
{
    enum sb_err rc = SB_OK;
    json_t *a;
    size_t i;
    json_array_foreach(list, i, a)
    {
        rc = sb_store_att_link(pl->store, conv->id, json_string_value(json_object_get(a, "id")),
                               msg_id);
        if (rc) break;
    }
    return rc;
}

/* The message's extra: its payload, attachments, turn locale and the
 * channel's meta, as JSON text (malloc'd) or NULL when it has none. */
static enum sb_err inbound_extra(const struct sb_inbound *in, bool keep_locale, char **out)
{
    json_t *extra;
    *out = NULL;
    if (!in->payload && !json_array_size(in->attachments) && !(keep_locale && in->locale) &&
        !in->meta)
        return SB_OK;
    extra = json_object();
    if (!extra) return SB_ERR_NOMEM;
    if (in->payload) json_object_set_new(extra, "payload", json_string(in->payload));
    if (json_array_size(in->attachments)) json_object_set(extra, "attachments", in->attachments);
    if (keep_locale && in->locale) json_object_set_new(extra, "locale", json_string(in->locale));
    if (in->meta) json_object_set(extra, "meta", in->meta);
    *out = json_dumps(extra, JSON_COMPACT);
    json_decref(extra);
    return *out ? SB_OK : SB_ERR_NOMEM;
}

/* Stores the customer's message, deduplicated, inside the open unit: its
 * row, its event and its attachments. *dup: it was stored before (by its
 * provider id) and nothing was written; *id is the stored one. */
static enum sb_err store_inbound(const struct pipeline_deps *pl, struct sb_conv *conv,
                                 const struct sb_inbound *in, bool keep_locale, int64_t *id,
                                 bool *dup)
{
    struct sb_msg_in m = {.conv_id = conv->id,
                          .direction = "in",
                          .author = "customer",
                          .channel = in->channel,
                          .text = in->text,
                          .provider_id = in->provider_id,
                          .client_id = in->client_id,
                          .created_at = sb_now_ms()};
    char *extra_text = NULL;
    enum sb_err rc = inbound_extra(in, keep_locale, &extra_text);

    m.extra = extra_text;
    if (!rc) rc = sb_store_msg_add(pl->store, &m, id, dup);
    free(extra_text);
    if (rc || *dup) return rc;
    (*pl->messages_in)++;
    rc = add_inbound_event(pl, conv, in, *id, m.created_at);
    if (!rc) rc = link_attachments(pl, conv, in->attachments, *id);
    return rc;
}

/* Everything that follows a new customer message, inside its unit: a
 * rating, a reopening, the next-response SLA of an assigned conversation
 * (handoff.c), then the bot's answer unless a person owns it, and the
 * "delivered" mark. What is sent answers replies->reply_to. */
static enum sb_err respond(const struct pipeline_deps *pl, struct sb_conv *conv,
                           const struct sb_inbound *in, struct sb_replies *replies)
{
    int64_t id = replies->reply_to;
    bool bot = true;
    enum sb_err rc = handoff_inbound(pl->handoff, conv, in->text, in->payload, replies, &bot);
    if (rc) return rc;
    /* A customer writing to a resolved conversation later opens it again
     * to the bot. */
    if (bot && strcmp(conv->status, SB_STATUS_RESOLVED) == 0) {
        rc = sb_store_conv_set_status(pl->store, conv->id, SB_STATUS_BOT);
        if (!rc)
            rc = add_event(pl, conv, "conversation/reopened",
                           json_pack("{s:s}", "status", SB_STATUS_BOT));
        if (rc) return rc;
        snprintf(conv->status, sizeof(conv->status), "%s", SB_STATUS_BOT);
    }
    /* The bot speaks only while no person owns the conversation, and reads
     * only text (a file alone waits for a person or the next message). */
    if (bot && strcmp(conv->status, SB_STATUS_BOT) == 0) {
        if (in->text[strspn(in->text, " \t\r\n")]) rc = run_bot(pl, conv, in, replies);
        /* The widget shows the message as delivered once the bot had it. */
        if (!rc)
            rc = add_event(pl, conv, "message/delivered",
                           json_pack("{s:I}", "up_to", (json_int_t)id));
    } else if (strcmp(conv->status, SB_STATUS_QUEUED) == 0 ||
               strcmp(conv->status, SB_STATUS_ASSIGNED) == 0) {
        /* With a person the message is delivered once it is in the team's
         * queue or the agent's inbox, which is now; "read" follows when
         * the agent opens it. */
        rc = add_event(pl, conv, "message/delivered", json_pack("{s:I}", "up_to", (json_int_t)id));
    }
    return rc;
}

enum sb_err sb_pipeline_handle(const struct pipeline_deps *pl, struct sb_conv *conv,
                               const struct sb_inbound *in, char **result, struct sb_errbuf *eb)
{
    struct sb_replies replies;
    int64_t id = 0;
    bool dup = false;
    enum sb_err rc;

    sb_replies_init(&replies, 0);
    rc = sb_store_begin(pl->store);
    if (rc) goto fail;
    rc = store_inbound(pl, conv, in, false, &id, &dup);
    if (rc) goto fail;
    if (dup) {
        /* A retried delivery: answer exactly what the first one got. */
        json_t *stored;
        sb_store_rollback(pl->store);
        (*pl->duplicates)++;
        stored = sb_store_replies(pl->store, conv->id, id);
        rc = replies_take(&replies, stored);
        json_decref(stored);
        *result = rc ? NULL : answer_text(conv, id, true, &replies);
        if (!*result) {
            rc = SB_ERR_NOMEM;
            goto fail_after_rollback;
        }
        goto done;
    }
    /* everything sent from here on answers this message (sb_conv_send) */
    replies.reply_to = id;
    rc = respond(pl, conv, in, &replies);
    if (rc) goto fail;
    /* written before the commit: nothing after the commit may fail */
    *result = answer_text(conv, id, false, &replies);
    if (!*result) {
        rc = SB_ERR_NOMEM;
        goto fail;
    }
    rc = sb_store_commit(pl->store);
    if (rc) {
        free(*result);
        *result = NULL;
        goto fail;
    }
done:
    sb_replies_cleanup(&replies);
    return SB_OK;
fail:
    sb_store_rollback(pl->store); /* and with it the router's changes (handoff.c) */
fail_after_rollback:
    sb_replies_cleanup(&replies);
    return sb_fail(eb, rc, "pipeline: %s", sb_strerror(rc));
}

enum sb_err sb_pipeline_accept(const struct pipeline_deps *pl, struct sb_conv *conv,
                               const struct sb_inbound *in, int64_t *id, bool *dup)
{
    enum sb_err rc;
    if (!sb_store_in_unit(pl->store)) return SB_ERR_INVAL;
    rc = store_inbound(pl, conv, in, true, id, dup);
    if (!rc && *dup) (*pl->duplicates)++;
    if (!rc && !*dup) rc = sb_store_turn_add(pl->store, *id);
    return rc;
}

enum sb_err sb_pipeline_turn(const struct pipeline_deps *pl, int64_t msg_id, struct sb_errbuf *eb)
{
    struct sb_stored_inbound stored;
    struct sb_replies replies;
    struct sb_conv conv = {0};
    struct sb_inbound in = {0};
    enum sb_err rc;

    sb_replies_init(&replies, msg_id);
    rc = sb_store_begin(pl->store);
    if (rc) goto out;
    rc = sb_store_inbound_get(pl->store, msg_id, &stored);
    if (rc == SB_ERR_NOT_FOUND) {
        /* nothing to answer: the turn is done */
        rc = sb_store_turn_done(pl->store, msg_id);
        if (!rc) rc = sb_store_commit(pl->store);
        goto out;
    }
    if (rc) goto out;
    rc = sb_store_conv_get_by_id(pl->store, stored.conv_id, &conv);
    if (!rc) {
        in.channel = stored.channel;
        in.text = stored.text;
        in.payload = stored.payload[0] ? stored.payload : NULL;
        in.locale = stored.locale[0] ? stored.locale : NULL;
        rc = respond(pl, &conv, &in, &replies);
    }
    if (!rc) rc = sb_store_turn_done(pl->store, msg_id);
    if (!rc) rc = sb_store_commit(pl->store);
    sb_stored_inbound_cleanup(&stored);
    sb_conv_cleanup(&conv);
out:
    if (rc) sb_store_rollback(pl->store);
    sb_replies_cleanup(&replies);
    return rc ? sb_fail(eb, rc, "turn of message %lld: %s", (long long)msg_id, sb_strerror(rc))
              : SB_OK;
}

enum sb_err sb_pipeline_start(const struct pipeline_deps *pl, const char *channel,
                              const char *external_id, const char *locale, const char *token_hash,
                              const struct sb_web_start *web, struct sb_conv *out)
{
    enum sb_err rc = sb_store_begin(pl->store);
    if (rc) return rc;
    rc = sb_store_conv_create(pl->store, channel, external_id, locale, token_hash, out);
    if (!rc && web) {
        rc = sb_store_conv_set_web(pl->store, out->id, web->site_id, web->page_url, web->verified);
        if (!rc && web->verified)
            rc = sb_store_identity_verified(pl->store, channel, external_id, "hmac");
        if (rc) sb_conv_cleanup(out);
    }
    if (!rc) {
        rc = add_event(pl, out, "conversation/started",
                       json_pack("{s:s, s:s, s:s}", "channel", channel, "locale", locale, "status",
                                 SB_STATUS_BOT));
        if (rc) sb_conv_cleanup(out);
    }
    if (!rc) rc = sb_store_commit(pl->store);
    if (rc) sb_store_rollback(pl->store);
    return rc;
}
