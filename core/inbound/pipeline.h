/*
 * pipeline.h - the path of one inbound message (pipeline.c): stored,
 * answered by the bot unless a person owns the conversation, committed,
 * then published. It knows nothing of HTTP or the server: what it works
 * with comes in struct pipeline_deps, which the server fills.
 */
#ifndef PIPELINE_H
#define PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "send.h"
#include "sb.h"
#include "sb_store.h"

struct handoff_state;
struct sb_host;
struct sb_kb;
struct sb_words;

/* What the pipeline works with, all borrowed for its life. The counters
 * are the server's metrics. */
struct pipeline_deps {
    struct sb_store *store;
    struct sb_kb *kb;              /* the bot's questions, articles shown, hand-offs */
    struct sb_host *host;          /* the plugins' intents */
    const struct sb_words *words;  /* what the customer is told (web/locales) */
    struct handoff_state *handoff; /* the live agents (handoff.h) */
    uint64_t *messages_in;         /* customer messages stored */
    struct sb_sender send;         /* the one send path (send.h): store, replies counted */
    uint64_t *duplicates;          /* messages answered from their first copy */
    uint64_t *handoffs;            /* hand-offs the bot asked for */
};

/* ------- Interface to code in pipeline.c ------- */

/* One normalised inbound message for an existing conversation. */
struct sb_inbound {
    const char *channel;
    const char *text;
    const char *provider_id; /* dedupe key, unique per channel, or NULL */
    const char *client_id;
    const char *payload;
    const char *locale;  /* overrides the conversation's for this turn, or NULL */
    json_t *attachments; /* borrowed array of attachment objects, or NULL */
    json_t *meta;        /* what the channel keeps with the message (borrowed), or NULL */
};

/* Persists the message, runs the bot unless a person owns the
 * conversation, persists the replies, commits, then publishes. *result is
 * the answer's JSON text (malloc'd), {status, message_id, duplicate,
 * replies}, each reply the text of its event's message. conv is updated in
 * place. */
enum sb_err sb_pipeline_handle(const struct pipeline_deps *pl, struct sb_conv *conv,
                               const struct sb_inbound *in, char **result, struct sb_errbuf *eb);

/* A channel's message (core/channels/accept.c), inside the caller's unit:
 * stored like sb_pipeline_handle's, deduplicated on its provider id, with
 * its turn locale kept, and its bot turn queued (inbound_turns) to run
 * after the unit is durable, by sb_pipeline_turn(). *dup: stored before,
 * nothing written. SB_ERR_INVAL outside a unit. */
enum sb_err sb_pipeline_accept(const struct pipeline_deps *pl, struct sb_conv *conv,
                               const struct sb_inbound *in, int64_t *id, bool *dup);

/* Runs the queued turn of message msg_id in a unit of its own: what
 * follows a customer message in sb_pipeline_handle (the bot, a reopening,
 * the SLA, the delivered mark), and the turn leaves the queue. */
enum sb_err sb_pipeline_turn(const struct pipeline_deps *pl, int64_t msg_id, struct sb_errbuf *eb);

/* What the website widget knows about a new conversation. */
struct sb_web_start {
    const char *site_id;  /* or NULL */
    const char *page_url; /* or NULL */
    bool verified;        /* external_id is "<site>:<user_id>", checked by HMAC */
};

/* Creates a conversation and records its first event; web may be NULL. */
enum sb_err sb_pipeline_start(const struct pipeline_deps *pl, const char *channel,
                              const char *external_id, const char *locale, const char *token_hash,
                              const struct sb_web_start *web, struct sb_conv *out);

#endif
