/*
 * channels.c - the seam's state and its place in the loop: the bot's
 * turns queued by accepted messages (run after the flush that made the
 * message durable, so the provider's webhook is answered first), the
 * outbox dispatcher's wake-ups, and the channels that poll.
 */
#include <stdlib.h>
#include <string.h>

#include "channels.h"
#include "lua_host.h"
#include "outbox_state.h"
#include "sb_log.h"
#include "store_channel.h"

/* Turns run per loop turn: the rest wait one loop turn, so a burst of
 * webhooks is acknowledged while its turns are answered. */
#define TURNS_PER_RUN 32
#define MAX_POLLERS 8
#define POLL_RETRY_MS 5000

struct poller {
    char channel[32];
    bool running, stopped;
    int64_t restart_at; /* ms */
    struct sb_channels *owner;
};

struct sb_channels {
    struct channels_deps deps;
    struct sb_channel_ops ops;
    struct outbox_state outbox;
    bool turns_woken, outbox_woken;
    bool polls_due; /* a poll ended or a second passed: see which pollers to start */
    struct poller pollers[MAX_POLLERS];
    int npollers;
    unsigned ticks;
};

const struct channels_deps *channels_deps(struct sb_channels *c)
{
    return &c->deps;
}

struct outbox_state *channels_outbox(struct sb_channels *c)
{
    return &c->outbox;
}

void channels_wake_turns(struct sb_channels *c)
{
    c->turns_woken = true;
}

void channels_wake_outbox(struct sb_channels *c)
{
    c->outbox_woken = true;
}

/* The store's outbox hook: a queued message became durable. */
static void outbox_queued(void *arg, int64_t conv_id)
{
    (void)conv_id;
    channels_wake_outbox(arg);
}

enum sb_err channels_new(const struct channels_deps *deps, struct sb_channels **out)
{
    struct sb_channels *c = calloc(1, sizeof(*c));
    if (!c) return SB_ERR_NOMEM;
    c->deps = *deps;
    c->ops =
        (struct sb_channel_ops){.arg = c, .accept = channels_accept, .status = channels_status};
    sb_host_set_channel_ops(deps->host, &c->ops);
    sb_store_on_outbox(deps->store, outbox_queued, c);
    *out = c;
    return SB_OK;
}

void channels_stop(struct sb_channels *c)
{
    if (!c) return;
    sb_host_set_channel_ops(c->deps.host, NULL);
    sb_store_on_outbox(c->deps.store, NULL, NULL);
    outbox_forget(c);
    for (int i = 0; i < c->npollers; i++)
        c->pollers[i].owner = NULL; /* a poll still waiting must not come back to us */
}

void channels_free(struct sb_channels *c)
{
    free(c);
}

void channels_start(struct sb_channels *c)
{
    c->turns_woken = c->outbox_woken = true;
    channels_tick(c);
}

/* ---------- turns ---------- */

/* Runs up to TURNS_PER_RUN queued turns; true when more are queued. */
static bool run_turns(struct sb_channels *c)
{
    int64_t ids[TURNS_PER_RUN];
    int n = sb_store_turns_pending(c->deps.store, ids, TURNS_PER_RUN);

    for (int i = 0; i < n; i++) {
        struct sb_errbuf eb = {{0}};
        if (sb_pipeline_turn(c->deps.pl, ids[i], &eb)) {
            /* left queued: the next wake (at the latest the next tick)
             * tries again */
            sb_error("channels: %s", eb.msg);
            return false;
        }
        c->deps.metrics->turns++;
    }
    return n == TURNS_PER_RUN;
}

/* ---------- pollers ---------- */

static struct poller *poller_for(struct sb_channels *c, const char *channel)
{
    for (int i = 0; i < c->npollers; i++)
        if (strcmp(c->pollers[i].channel, channel) == 0) return &c->pollers[i];
    if (c->npollers == MAX_POLLERS) return NULL;
    struct poller *p = &c->pollers[c->npollers++];
    memset(p, 0, sizeof(*p));
    strncpy(p->channel, channel, sizeof(p->channel) - 1);
    p->owner = c;
    return p;
}

/* A poll call ended: poll again at once, after a pause when it failed
 * (an error, or nil, "reason": a provider that refuses connections must
 * not be asked in a tight loop), never when it said false (the channel is
 * not in poll mode). */
static void poll_done(void *arg, enum sb_err rc, json_t *results, const char *err)
{
    struct poller *p = arg;
    json_t *first = json_array_get(results, 0);
    if (!p->owner) return;
    p->running = false;
    p->owner->polls_due = true;
    p->owner->deps.metrics->polls++;
    if (rc || (json_is_null(first) && json_is_string(json_array_get(results, 1)))) {
        const char *why =
            rc ? (err ? err : sb_strerror(rc)) : json_string_value(json_array_get(results, 1));
        sb_warn("channel %s: poll failed: %s", p->channel, why ? why : "returned nil");
        p->restart_at = sb_now_ms() + POLL_RETRY_MS;
    } else if (json_is_false(first)) {
        p->stopped = true;
    } else {
        p->restart_at = 0;
    }
}

static void start_polls(struct sb_channels *c)
{
    const char *names[MAX_POLLERS];
    int n = sb_host_channel_names(c->deps.host, names, MAX_POLLERS, true);
    int64_t now = sb_now_ms();

    for (int i = 0; i < n; i++) {
        struct poller *p = poller_for(c, names[i]);
        if (!p || p->running || p->stopped || p->restart_at > now) continue;
        p->running = true;
        if (sb_host_channel_poll(c->deps.host, p->channel, poll_done, p) != SB_OK) {
            p->running = false;
            p->restart_at = now + POLL_RETRY_MS;
        }
    }
}

/* ---------- the loop ---------- */

bool channels_run(struct sb_channels *c)
{
    bool more = false;
    if (c->turns_woken) {
        c->turns_woken = false;
        more = run_turns(c);
        if (more) c->turns_woken = true;
    }
    if (c->outbox_woken) {
        c->outbox_woken = false;
        outbox_kick(c);
    }
    /* not on every loop turn: only when a poll ended or a tick passed */
    if (c->polls_due) {
        c->polls_due = false;
        start_polls(c);
    }
    return more;
}

void channels_tick(struct sb_channels *c)
{
    /* retries fall due; a turn left by a failed unit is tried again */
    c->outbox_woken = true;
    c->turns_woken = true;
    c->polls_due = true;
    /* a reload may have changed a channel's mode: ask the stopped again */
    if (++c->ticks % 30 == 0)
        for (int i = 0; i < c->npollers; i++)
            c->pollers[i].stopped = false;
}

enum sb_err channels_retry(struct sb_channels *c, struct sb_conv *conv, int64_t msg_id, bool *found)
{
    enum sb_err rc = sb_store_outbox_requeue(c->deps.store, conv->id, msg_id, sb_now_ms(), found);
    if (!rc && *found) {
        json_t *ev = json_pack("{s:I}", "id", (json_int_t)msg_id);
        rc = sb_store_event_add(c->deps.store, conv, "message/retry", ev);
        json_decref(ev);
        if (!rc)
            rc =
                sb_store_effect(c->deps.store, SB_EFFECT_DURABLE, outbox_queued, c, conv->id, NULL);
    }
    return rc;
}

void channels_outbox_counts(struct sb_channels *c, int64_t *pending, int64_t *dead)
{
    if (sb_store_outbox_counts(c->deps.store, pending, dead)) *pending = *dead = 0;
}
