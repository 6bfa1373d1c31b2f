/*
 * outbox.c - the dispatcher: delivers the outbox's messages through their
 * channel's plugin (deliver(msg), a call that may wait on the provider).
 *
 * Only the oldest pending message of a conversation is ever attempted, and
 * one at a time, so the customer reads them in order. The plugin's answer
 * decides: sent (with the provider's id, for receipts), a transient
 * failure (retried with exponential backoff and jitter, at least the
 * provider's Retry-After), or a permanent one (a dead letter, shown to the
 * agents as "not delivered: <reason>" with a retry). Too many attempts or
 * too old also make a dead letter. Every outcome is written in a unit of
 * its own; a restart finds the rows as they were and goes on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attachments.h"
#include "channels.h"
#include "lua_host.h"
#include "outbox_state.h"
#include "sb_log.h"
#include "store_channel.h"

#define RETRY_FIRST_MS 2000
#define RETRY_CAP_MS (300 * 1000)
#define RETRY_AFTER_CAP_MS (3600 * 1000)
#define INACTIVE_RETRY_MS (60 * 1000)
#define REASON_MAX 300

struct outbox_call {
    struct sb_channels *c; /* NULL: the dispatcher is gone, forget the answer */
    struct sb_outbox_item it;
};

enum outcome_kind { OUT_SENT, OUT_RETRY, OUT_DEAD };

struct outcome {
    enum outcome_kind kind;
    bool counted; /* an attempt was made (a channel not running is no attempt) */
    int64_t retry_after_ms;
    char provider_id[200];
    char reason[REASON_MAX];
};

/* ---------- in flight ---------- */

static bool conv_busy(const struct outbox_state *os, int64_t conv_id)
{
    for (int i = 0; i < os->nbusy; i++)
        if (os->busy[i]->it.conv_id == conv_id) return true;
    return false;
}

static void busy_remove(struct outbox_state *os, struct outbox_call *call)
{
    for (int i = 0; i < os->nbusy; i++)
        if (os->busy[i] == call) {
            os->busy[i] = os->busy[--os->nbusy];
            return;
        }
}

void outbox_forget(struct sb_channels *c)
{
    struct outbox_state *os = channels_outbox(c);
    /* the calls still waiting end later, with nobody to tell */
    for (int i = 0; i < os->nbusy; i++)
        os->busy[i]->c = NULL;
    os->nbusy = 0;
}

/* ---------- the outcome ---------- */

/* Exponential from RETRY_FIRST_MS, capped, with ±20% jitter so retries
 * of many conversations after an outage do not come back in step; never
 * sooner than the provider asked. */
static int64_t backoff_ms(int attempts, int64_t retry_after_ms)
{
    int shift = attempts > 1 ? attempts - 1 : 0;
    int64_t d = shift > 12 ? RETRY_CAP_MS : (int64_t)RETRY_FIRST_MS << shift;
    if (d > RETRY_CAP_MS) d = RETRY_CAP_MS;
    d = d * (80 + random() % 41) / 100;
    if (retry_after_ms > RETRY_AFTER_CAP_MS) retry_after_ms = RETRY_AFTER_CAP_MS;
    return retry_after_ms > d ? retry_after_ms : d;
}

/* What deliver returned: true [, provider id] | nil, reason [, {retry_after=, permanent=}]. */
static void classify(enum sb_err rc, json_t *results, const char *err, struct outcome *o)
{
    json_t *first = json_array_get(results, 0), *second = json_array_get(results, 1);
    json_t *opts = json_array_get(results, 2), *ra = json_object_get(opts, "retry_after");

    memset(o, 0, sizeof(*o));
    o->counted = true;
    if (rc) {
        o->kind = OUT_RETRY;
        snprintf(o->reason, sizeof(o->reason), "plugin error: %s", err ? err : sb_strerror(rc));
        return;
    }
    if (json_is_true(first)) {
        o->kind = OUT_SENT;
        if (json_is_string(second))
            snprintf(o->provider_id, sizeof(o->provider_id), "%s", json_string_value(second));
        else if (json_is_integer(second))
            snprintf(o->provider_id, sizeof(o->provider_id), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(second));
        return;
    }
    o->kind = json_is_true(json_object_get(opts, "permanent")) ? OUT_DEAD : OUT_RETRY;
    snprintf(o->reason, sizeof(o->reason), "%s",
             json_is_string(second) ? json_string_value(second) : "the channel did not send it");
    if (json_is_number(ra) && json_number_value(ra) > 0)
        o->retry_after_ms = (int64_t)(json_number_value(ra) * 1000);
}

static enum sb_err write_outcome(struct sb_channels *c, const struct sb_outbox_item *it,
                                 struct outcome *o)
{
    const struct channels_deps *d = channels_deps(c);
    int attempts = it->attempts + (o->counted ? 1 : 0);
    int64_t now = sb_now_ms();
    struct sb_conv conv = {0};
    json_t *ev = NULL;
    enum sb_err rc;

    if (o->kind == OUT_RETRY &&
        (attempts >= d->max_attempts || now - it->created_at >= d->max_age_ms)) {
        char why[REASON_MAX + 40];
        snprintf(why, sizeof(why), "gave up after %d attempts: %s", attempts, o->reason);
        sb_utf8_copy(o->reason, sizeof(o->reason), why);
        o->kind = OUT_DEAD;
    }
    rc = sb_store_conv_get_by_id(d->store, it->conv_id, &conv);
    if (rc) return rc;
    switch (o->kind) {
    case OUT_SENT:
        rc = sb_store_outbox_sent(d->store, it->id, attempts,
                                  o->provider_id[0] ? o->provider_id : NULL, now);
        ev = json_pack("{s:I}", "id", (json_int_t)it->msg_id);
        if (!rc) rc = sb_store_event_add(d->store, &conv, "message/sent", ev);
        if (!rc) d->metrics->sent++;
        break;
    case OUT_RETRY:
        rc = sb_store_outbox_retry(d->store, it->id, attempts,
                                   now + backoff_ms(attempts, o->retry_after_ms), o->reason);
        if (!rc) d->metrics->retries++;
        break;
    case OUT_DEAD:
        rc = sb_store_outbox_dead(d->store, it->id, attempts, o->reason, now);
        ev = json_pack("{s:I, s:s}", "id", (json_int_t)it->msg_id, "reason", o->reason);
        if (!rc) rc = sb_store_event_add(d->store, &conv, "message/failed", ev);
        if (!rc) d->metrics->dead++;
        if (!rc)
            sb_warn("channel %s: message %lld not delivered: %s", it->channel,
                    (long long)it->msg_id, o->reason);
        break;
    }
    json_decref(ev);
    sb_conv_cleanup(&conv);
    return rc;
}

/* Writes the outcome in a unit of its own (or the open one). A failure
 * leaves the row pending: it is attempted again. */
static void record(struct sb_channels *c, const struct sb_outbox_item *it, struct outcome *o)
{
    struct sb_store *st = channels_deps(c)->store;
    bool own;
    enum sb_err rc = sb_store_begin_own(st, &own);

    if (!rc) rc = sb_store_end_own(st, own, write_outcome(c, it, o));
    if (rc) {
        sb_error("outbox: the outcome of message %lld was not stored: %s", (long long)it->msg_id,
                 sb_strerror(rc));
    }
}

static void deliver_done(void *arg, enum sb_err rc, json_t *results, const char *err)
{
    struct outbox_call *call = arg;
    struct sb_channels *c = call->c;
    struct outcome o;

    if (c) {
        classify(rc, results, err, &o);
        /* agents read the reason: never a token the plugin echoed */
        sb_host_channel_scrub(channels_deps(c)->host, call->it.channel, o.reason, sizeof(o.reason));
        record(c, &call->it, &o);
        busy_remove(channels_outbox(c), call);
        /* the conversation's next message may go now */
        outbox_kick(c);
    }
    free(call);
}

/* ---------- the message as the plugin gets it ---------- */

/* Adds each attachment's bytes ("data") and type to the message's list. */
static enum sb_err add_attachment_data(const struct channels_deps *d, int64_t conv_id, json_t *msg)
{
    json_t *a;
    size_t i;
    json_array_foreach(json_object_get(msg, "attachments"), i, a)
    {
        struct sb_attachment att;
        char path[SB_PATH_MAX + 120];
        char *data;
        FILE *f;
        size_t got;

        if (sb_store_att_get(d->store, conv_id, json_string_value(json_object_get(a, "id")), &att))
            return SB_ERR_NOT_FOUND;
        attachment_path(d->data_dir, att.sha256, path, sizeof(path));
        data = malloc((size_t)att.size + 1);
        f = data ? fopen(path, "rb") : NULL;
        got = f ? fread(data, 1, (size_t)att.size, f) : 0;
        if (f) fclose(f);
        if (got != (size_t)att.size) {
            free(data);
            return SB_ERR_IO;
        }
        json_object_set_new(a, "data", json_stringn_nocheck(data, got));
        json_object_set_new(a, "content_type", json_string(att.type));
        free(data);
    }
    return SB_OK;
}

/* {id, conversation, to, locale, author, agent_name?, text, links,
 * quick_replies, attachments, template?, attempt}; NULL with why. */
static json_t *delivery(const struct channels_deps *d, const struct sb_outbox_item *it, char *why,
                        size_t cap)
{
    struct sb_conv conv = {0};
    char to[256];
    json_t *msg;

    if (sb_store_conv_get_by_id(d->store, it->conv_id, &conv)) {
        snprintf(why, cap, "the conversation is gone");
        return NULL;
    }
    if (sb_store_channel_recipient(d->store, it->conv_id, it->channel, to, sizeof(to))) {
        snprintf(why, cap, "the customer has no address on %s", it->channel);
        sb_conv_cleanup(&conv);
        return NULL;
    }
    msg = sb_store_msg_json(d->store, it->msg_id);
    if (!msg || add_attachment_data(d, it->conv_id, msg)) {
        snprintf(why, cap, "the message or its attachment could not be read");
        json_decref(msg);
        sb_conv_cleanup(&conv);
        return NULL;
    }
    json_object_del(msg, "delivery");
    json_object_del(msg, "client_id");
    json_object_set_new(msg, "conversation", json_string(conv.public_id));
    json_object_set_new(msg, "to", json_string(to));
    json_object_set_new(msg, "locale", json_string(conv.locale));
    json_object_set_new(msg, "attempt", json_integer(it->attempts + 1));
    if (json_is_object(json_object_get(msg, "agent")))
        json_object_set(msg, "agent_name", json_object_get(json_object_get(msg, "agent"), "name"));
    sb_conv_cleanup(&conv);
    return msg;
}

/* ---------- dispatching ---------- */

static void start(struct sb_channels *c, const struct sb_outbox_item *it)
{
    const struct channels_deps *d = channels_deps(c);
    struct outbox_state *os = channels_outbox(c);
    struct outbox_call *call;
    struct outcome o = {.counted = true};
    json_t *msg = delivery(d, it, o.reason, sizeof(o.reason));
    enum sb_err rc;

    if (!msg) {
        o.kind = OUT_DEAD;
        record(c, it, &o);
        return;
    }
    call = calloc(1, sizeof(*call));
    if (!call) {
        json_decref(msg);
        return; /* tried again at the next wake */
    }
    call->c = c;
    call->it = *it;
    os->busy[os->nbusy++] = call;
    /* deliver_done may run before this returns (a plugin that did not wait) */
    rc = sb_host_channel_deliver(d->host, it->channel, msg, deliver_done, call);
    json_decref(msg);
    if (rc == SB_OK) return;
    busy_remove(os, call);
    free(call);
    o.kind = OUT_RETRY;
    if (rc == SB_ERR_NOT_FOUND) {
        /* not configured or not loaded: wait for the operator, and do not
         * count it as an attempt (age still makes a dead letter) */
        o.counted = false;
        o.retry_after_ms = INACTIVE_RETRY_MS;
        snprintf(o.reason, sizeof(o.reason), "channel %s is not active", it->channel);
    } else {
        snprintf(o.reason, sizeof(o.reason), "could not call the channel: %s", sb_strerror(rc));
    }
    record(c, it, &o);
}

static void dispatch_round(struct sb_channels *c)
{
    struct outbox_state *os = channels_outbox(c);
    struct sb_outbox_item items[OUTBOX_IN_FLIGHT * 2];
    int n;

    if (os->nbusy >= OUTBOX_IN_FLIGHT) return;
    /* the busy conversations' heads come back too: ask for room beyond them */
    n = sb_store_outbox_due(channels_deps(c)->store, sb_now_ms(), items,
                            os->nbusy + OUTBOX_IN_FLIGHT);
    for (int i = 0; i < n && os->nbusy < OUTBOX_IN_FLIGHT; i++) {
        if (conv_busy(os, items[i].conv_id)) continue;
        start(c, &items[i]);
    }
}

void outbox_kick(struct sb_channels *c)
{
    struct outbox_state *os = channels_outbox(c);
    if (os->dispatching) {
        os->again = true;
        return;
    }
    os->dispatching = true;
    /* bounded: a row whose outcome cannot be stored stays due, and must
     * not spin the loop */
    for (int round = 0; round < 16; round++) {
        os->again = false;
        dispatch_round(c);
        if (!os->again) break;
    }
    os->dispatching = false;
}
