/*
 * store_channel.h - what the channels keep in the store (store_channel.c):
 * the customer behind an identity on a channel and their conversation, the
 * outbox of messages to deliver, and the inbound turns still to run.
 *
 * Like sb_store.h: strings passed in are borrowed, json_t results owned
 * by the caller. Writes belong inside a unit of work (sb_store_begin).
 */
#ifndef STORE_CHANNEL_H
#define STORE_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "sb_store.h"

/* ------- the customer on a channel ------- */

/* The conversation of the customer known on channel as external_id: their
 * latest one on that channel, else a new one (with a new contact and
 * identity when the identity is new; name, may be NULL, names a new
 * contact). *created tells which. The conversation may be resolved: the
 * pipeline reopens it when the customer writes. */
enum sb_err sb_store_channel_conv(struct sb_store *st, const char *channel, const char *external_id,
                                  const char *name, const char *locale, struct sb_conv *out,
                                  bool *created);

/* The customer's id on the conversation's channel (what the provider
 * calls them: a chat id, a phone number) into out[cap]; SB_ERR_NOT_FOUND
 * when the conversation has no identity there. */
enum sb_err sb_store_channel_recipient(struct sb_store *st, int64_t conv_id, const char *channel,
                                       char *out, size_t cap);

/* ------- the outbox ------- */

struct sb_outbox_item {
    int64_t id, conv_id, msg_id;
    char channel[32];
    int attempts;
    int64_t created_at;
};

/* Called, as a durable effect of the unit that queued a message (once the
 * batch holding it is on disk), with the conversation's id: the server
 * wakes its dispatcher. One hook; NULL removes it. */
void sb_store_on_outbox(struct sb_store *st, sb_store_event_hook fn, void *arg);

/* Queues message msg_id of conv_id for delivery on channel, due now. */
enum sb_err sb_store_outbox_add(struct sb_store *st, int64_t conv_id, int64_t msg_id,
                                const char *channel, int64_t now);

/* The messages due at now that may go: of each conversation only its
 * oldest pending message (message n+1 waits for n), and only if due.
 * Oldest first, at most max, into out; the count is returned (-1 on a
 * database error). */
int sb_store_outbox_due(struct sb_store *st, int64_t now, struct sb_outbox_item *out, int max);

/* The ends of an attempt. sent: provider_id (may be NULL) is the
 * provider's id of the message, for its receipts. retry: attempts made so
 * far and when to try again. dead: given up, with why. */
enum sb_err sb_store_outbox_sent(struct sb_store *st, int64_t id, int attempts,
                                 const char *provider_id, int64_t now);
enum sb_err sb_store_outbox_retry(struct sb_store *st, int64_t id, int attempts, int64_t next_at,
                                  const char *error);
enum sb_err sb_store_outbox_dead(struct sb_store *st, int64_t id, int attempts, const char *error,
                                 int64_t now);

/* A dead letter of conv_id (by message id) back in the queue, due now,
 * attempts from zero. *found false when it is not a dead letter there. */
enum sb_err sb_store_outbox_requeue(struct sb_store *st, int64_t conv_id, int64_t msg_id,
                                    int64_t now, bool *found);

/* The message a provider knows as provider_id on channel (from
 * sb_store_outbox_sent): its outbox row, conversation and id;
 * SB_ERR_NOT_FOUND. */
enum sb_err sb_store_outbox_by_provider(struct sb_store *st, const char *channel,
                                        const char *provider_id, int64_t *outbox_id,
                                        int64_t *conv_id, int64_t *msg_id);

/* The inbound message stored as provider_id on channel: *id, or 0. */
enum sb_err sb_store_msg_by_provider(struct sb_store *st, const char *channel,
                                     const char *provider_id, int64_t *id);

/* Rows by state, for /metrics. */
enum sb_err sb_store_outbox_counts(struct sb_store *st, int64_t *pending, int64_t *dead);

/* ------- inbound turns ------- */

/* The bot's turn for message msg_id is still to run / has run. */
enum sb_err sb_store_turn_add(struct sb_store *st, int64_t msg_id);
enum sb_err sb_store_turn_done(struct sb_store *st, int64_t msg_id);
/* The oldest turns still to run, at most max message ids into out; the
 * count, -1 on a database error. */
int sb_store_turns_pending(struct sb_store *st, int64_t *out, int max);

/* An inbound message for its turn: its conversation, text, payload and
 * locale (both "" when none) from the row. */
struct sb_stored_inbound {
    int64_t conv_id;
    char channel[32];
    char *text; /* malloc'd */
    char payload[256];
    char locale[36];
};
enum sb_err sb_store_inbound_get(struct sb_store *st, int64_t msg_id,
                                 struct sb_stored_inbound *out);
void sb_stored_inbound_cleanup(struct sb_stored_inbound *in);

#endif
