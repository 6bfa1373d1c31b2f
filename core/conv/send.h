/*
 * send.h - the one send path: every message the customer is sent (the
 * bot's replies, an agent's reply, the system's notices) is stored by
 * sb_conv_send(), which writes the message's row and its event
 * "message/outbound" with one serialization (message_json.h) and hands the
 * same JSON text to whoever answers the request that caused it.
 *
 * Callers: the pipeline (core/inbound/pipeline.c, the bot and the hand-off
 * notice), the hand-off state machine (core/agents/handoff.c, system
 * messages) and the agent API (core/api/api_agent.c, the agent's reply).
 * It queues delivery to the customer's channel in the outbox.
 *
 * Uses the store only; knows nothing of HTTP, the server or the hand-off.
 */
#ifndef SB_SEND_H
#define SB_SEND_H

#include <stdint.h>

#include <jansson.h>

#include "message_json.h"
#include "sb.h"
#include "sb_store.h"
#include "sb_util.h"

/* What a message is sent with, borrowed for the sender's life. A value:
 * each owner of a send path (the pipeline, the hand-off state) keeps one
 * built from the same parts. */
struct sb_sender {
    struct sb_store *store;
    uint64_t *messages_out; /* the server's counter of replies; NULL: not counted */
};

/* The messages that answer one inbound message, for the answer to its
 * sender: their JSON objects, comma-separated (the inside of the answer's
 * "replies" array), each the very text of its event. */
struct sb_replies {
    int64_t reply_to; /* the inbound message answered; 0: none */
    struct sb_buf text;
    size_t n;
};

void sb_replies_init(struct sb_replies *r, int64_t reply_to);
void sb_replies_cleanup(struct sb_replies *r);
/* Appends one message object (len bytes of JSON, borrowed). */
enum sb_err sb_replies_add(struct sb_replies *r, const char *json, size_t len);

/* One outbound message. Everything borrowed. */
struct sb_outgoing {
    const char *author; /* "bot", "agent" or "system" */
    const char *text;
    const json_t *links, *quick_replies, *attachments; /* JSON arrays; NULL is [] */
    const char *channel;                               /* NULL: the conversation's */
    const char *client_id; /* the sender's own id, so a retry finds it; NULL: none */
    /* author "agent": who wrote it, shown with the message; NULL: nobody */
    const char *agent_name;
    int64_t agent_id;
    int64_t canned_id; /* the canned response it started from; 0: none */
    /* a provider's approved template {name, language, params} the channel
     * sends instead of free text (WhatsApp outside its 24-hour window);
     * text is what it says. NULL: none */
    const json_t *template_;
};

/* Stores msg in conv: its row and its event "message/outbound" (conv's
 * last_seq moves), counts it, and for a channel that pushes (all but the
 * web) queues its delivery in the outbox (store_channel.h). Inside a
 * store unit; the event's wake-ups run after the commit (the store's
 * event hook).
 *
 * replies: the answer being built to the inbound message
 * replies->reply_to: the message is linked to that message (reply_to, so
 * a retry of it is answered with the same messages, sb_store_replies())
 * and its JSON text is appended to replies. NULL: the message answers
 * nothing (a notice of the agents' doing). *id (may be NULL) is the new
 * message's id. SB_ERR_NOMEM, SB_ERR_LIMIT, SB_ERR_DB. */
enum sb_err sb_conv_send(const struct sb_sender *s, struct sb_conv *conv,
                         const struct sb_outgoing *msg, struct sb_replies *replies, int64_t *id);

/* Stores the event {"message": m, ...} of type (one of the core's names)
 * in conv, m serialized once; with replies set, the same text is appended
 * to them. sb_conv_send() uses it; the pipeline too, for the customer's
 * own message. */
enum sb_err sb_conv_message_event(struct sb_store *st, struct sb_conv *conv, const char *type,
                                  const struct sb_message_view *m, struct sb_replies *replies);

#endif
