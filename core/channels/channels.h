/*
 * channels.h - the seam channel plugins plug into (core/channels/): what
 * the core does with what a provider sent (accept.c: sb.accept and
 * sb.status), the bot's turns that follow an accepted message (run after
 * the webhook was acknowledged), the outbox dispatcher that delivers
 * every outbound message through its channel's plugin with retries
 * (outbox.c), and the channels that poll their provider (channels.c).
 *
 * It knows the store, the pipeline and the plugin host, not HTTP: the
 * server runs it from its loop (channels_run after each flush,
 * channels_tick every second). Everything runs on the loop thread.
 */
#ifndef CHANNELS_H
#define CHANNELS_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline.h"

struct sb_channels;
struct sb_host;

/* Counters for /metrics. */
struct channel_metrics {
    uint64_t accepted;   /* messages stored from a channel */
    uint64_t duplicates; /* provider retries of a stored message */
    uint64_t refused;    /* sb.accept calls refused (bad field, too big) */
    uint64_t turns;      /* bot turns run after an accepted message */
    uint64_t sent;       /* outbox messages the provider accepted */
    uint64_t retries;    /* attempts that will be tried again */
    uint64_t dead;       /* dead letters */
    uint64_t receipts;   /* delivery / read statuses applied */
    uint64_t polls;      /* poll calls finished */
};

struct channels_deps {
    struct sb_store *store;
    struct sb_host *host;
    const struct pipeline_deps *pl; /* the one message path (pipeline.h) */
    const char *data_dir;           /* attachments live under it */
    const char *default_locale;
    size_t max_text, max_attachment;
    int max_attempts;   /* a message is a dead letter after this many attempts */
    int64_t max_age_ms; /* or once it is this old */
    struct channel_metrics *metrics;
};

/* deps is copied; what it points to is borrowed for the seam's life.
 * Installs the core's side of sb.accept / sb.status in the host and the
 * outbox hook in the store. */
enum sb_err channels_new(const struct channels_deps *deps, struct sb_channels **out);
/* Before the host and the store close: calls in flight are forgotten
 * (their ends tell nobody), the hooks removed. Then channels_free. */
void channels_stop(struct sb_channels *c); /* NULL-safe */
void channels_free(struct sb_channels *c); /* NULL-safe */

/* After start-up: the turns and deliveries a restart left are due. */
void channels_start(struct sb_channels *c);

/* Runs what is due (queued turns, a bounded batch; deliveries; polls).
 * True when work is left for the next loop turn (do not sleep). */
bool channels_run(struct sb_channels *c);

/* Once a second: retries fall due, stopped pollers restart. */
void channels_tick(struct sb_channels *c);

/* An agent's retry of a dead letter: message msg_id of conv_id back in
 * the queue, in the caller's unit. *found false when it is not a dead
 * letter of that conversation. */
enum sb_err channels_retry(struct sb_channels *c, struct sb_conv *conv, int64_t msg_id,
                           bool *found);

/* Outbox rows by state, for /metrics. */
void channels_outbox_counts(struct sb_channels *c, int64_t *pending, int64_t *dead);

/* ------- private to core/channels/ ------- */

/* accept.c: the core's side of sb.accept and sb.status. */
enum sb_err channels_accept(void *arg, const char *channel, json_t *msg, int64_t *id, bool *dup,
                            struct sb_errbuf *eb);
enum sb_err channels_status(void *arg, const char *channel, json_t *st, bool *known,
                            struct sb_errbuf *eb);

/* outbox.c: starts the deliveries that are due. */
void outbox_kick(struct sb_channels *c);
void outbox_forget(struct sb_channels *c);

/* channels.c, for accept.c and outbox.c */
const struct channels_deps *channels_deps(struct sb_channels *c);
/* Wakes the turn runner / the dispatcher at the next channels_run(). */
void channels_wake_turns(struct sb_channels *c);
void channels_wake_outbox(struct sb_channels *c);
struct outbox_state *channels_outbox(struct sb_channels *c);

#endif
