/*
 * accept.c - the core's side of sb.accept and sb.status: what a channel
 * plugin hands over after it checked the provider's signature.
 *
 * sb.accept: the fields are checked (a refusal is returned to the plugin
 * with its reason, nothing stored), attachments are stored by content
 * like the widget's uploads, then in one unit: the customer's identity on
 * the channel, their conversation, the message deduplicated on the
 * provider's id, and its bot turn queued. The plugin's route answers the
 * provider once that unit is durable (the group commit), and the turn
 * runs after (channels.c).
 *
 * sb.status: the provider's receipt for a message we sent becomes the
 * event the widget's read marks make, so agents see one thing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attachments.h"
#include "channels.h"
#include "sb_log.h"
#include "sb_util.h"
#include "store_channel.h"

#define ID_MAX 200      /* from, provider_id */
#define PAYLOAD_MAX 255 /* what stored_inbound keeps */
#define NAME_MAX_BYTES 200

/* A string field of msg: "" when absent, NULL (with the reason in eb) when
 * of the wrong type or too long. Integers are taken as their digits,
 * since providers' ids are often numbers. */
static const char *field(json_t *msg, const char *key, size_t max, char *buf, size_t cap,
                         bool required, struct sb_errbuf *eb)
{
    json_t *v = json_object_get(msg, key);
    if (json_is_integer(v) && buf) {
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (!v || json_is_null(v)) {
        if (required) sb_fail(eb, SB_ERR_INVAL, "%s is required", key);
        return required ? NULL : "";
    }
    if (!json_is_string(v)) {
        sb_fail(eb, SB_ERR_INVAL, "%s must be a string", key);
        return NULL;
    }
    if (json_string_length(v) > max) {
        sb_fail(eb, SB_ERR_INVAL, "%s is longer than %zu bytes", key, max);
        return NULL;
    }
    if (required && json_string_length(v) == 0) {
        sb_fail(eb, SB_ERR_INVAL, "%s must not be empty", key);
        return NULL;
    }
    return json_string_value(v);
}

/* Stores the files of list (their bytes in "data") and records them on
 * conv: the objects messages carry {id, name, type, size, url} into out.
 * A file of a type or size the widget would refuse is left out and said
 * in note (the message itself is kept: a customer's words are never
 * dropped for their attachment). */
static enum sb_err store_files(const struct channels_deps *d, const struct sb_conv *conv,
                               json_t *list, json_t *out, struct sb_buf *note, struct sb_errbuf *eb)
{
    json_t *f;
    size_t i;

    json_array_foreach(list, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        json_t *data = json_object_get(f, "data");
        const char *type = attachment_type(json_string_value(json_object_get(f, "content_type")));
        size_t len = json_string_length(data);
        struct sb_attachment a = {0};
        char url[160];
        enum sb_err rc;

        if (i >= ATTACHMENTS_PER_MESSAGE || !type || len == 0 || len > d->max_attachment ||
            !attachment_sniff(type, json_string_value(data), len)) {
            sb_buf_printf(note, "%s[attachment not accepted: %.80s (%.40s, %zu bytes)]",
                          note->len ? " " : "", name ? name : "attachment",
                          json_string_value(json_object_get(f, "content_type")), len);
            continue;
        }
        sb_utf8_copy(a.name, sizeof(a.name), name && *name ? name : "attachment");
        snprintf(a.type, sizeof(a.type), "%s", type);
        a.size = (int64_t)len;
        memcpy(a.id, "att_", 4);
        rc = sb_random_hex(a.id + 4, 16);
        if (!rc) rc = attachment_store(d->data_dir, json_string_value(data), len, a.sha256, eb);
        if (!rc) rc = sb_store_att_add(d->store, conv->id, &a);
        if (rc) return rc;
        snprintf(url, sizeof(url), "/api/v1/conversations/%s/attachments/%s", conv->public_id,
                 a.id);
        json_array_append_new(out,
                              json_pack("{s:s, s:s, s:s, s:I, s:s}", "id", a.id, "name", a.name,
                                        "type", a.type, "size", (json_int_t)a.size, "url", url));
    }
    return SB_OK;
}

struct accept_fields {
    const char *from, *provider_id, *text, *payload, *name;
    char locale[36];
    json_t *meta, *files;
    char from_buf[32], pid_buf[32];
};

static enum sb_err read_fields(const struct channels_deps *d, json_t *msg, struct accept_fields *f,
                               struct sb_errbuf *eb)
{
    const char *locale;

    f->from = field(msg, "from", ID_MAX, f->from_buf, sizeof(f->from_buf), true, eb);
    if (!f->from) return SB_ERR_INVAL;
    f->provider_id = field(msg, "provider_id", ID_MAX, f->pid_buf, sizeof(f->pid_buf), true, eb);
    if (!f->provider_id) return SB_ERR_INVAL;
    f->text = field(msg, "text", d->max_text, NULL, 0, false, eb);
    if (!f->text) return SB_ERR_INVAL;
    f->payload = field(msg, "payload", PAYLOAD_MAX, NULL, 0, false, eb);
    if (!f->payload) return SB_ERR_INVAL;
    f->name = field(msg, "name", NAME_MAX_BYTES, NULL, 0, false, eb);
    if (!f->name) return SB_ERR_INVAL;
    locale = field(msg, "locale", 35, NULL, 0, false, eb);
    if (!locale) return SB_ERR_INVAL;
    f->locale[0] = 0;
    if (*locale && !sb_locale_normalise(locale, f->locale, sizeof(f->locale)))
        f->locale[0] = 0; /* a provider's odd language tag is no reason to refuse */
    f->meta = json_object_get(msg, "meta");
    if (f->meta && !json_is_object(f->meta))
        return sb_fail(eb, SB_ERR_INVAL, "meta must be a table of values");
    f->files = json_object_get(msg, "attachments");
    if (f->files && !json_is_array(f->files))
        return sb_fail(eb, SB_ERR_INVAL, "attachments must be a list");
    if (!*f->text && !json_array_size(f->files) && !*f->payload)
        return sb_fail(eb, SB_ERR_INVAL, "a message needs text, a payload or an attachment");
    return SB_OK;
}

/* In the open unit: the conversation, the files, the message. */
static enum sb_err accept_in_unit(const struct channels_deps *d, const char *channel,
                                  const struct accept_fields *f, int64_t *id, bool *dup,
                                  struct sb_errbuf *eb)
{
    struct sb_conv conv = {0};
    struct sb_inbound in = {0};
    struct sb_buf text;
    json_t *files = json_array();
    bool created = false;
    enum sb_err rc;

    sb_buf_init(&text, d->max_text + 4096);
    rc = sb_store_channel_conv(d->store, channel, f->from, *f->name ? f->name : NULL,
                               f->locale[0] ? f->locale : d->default_locale, &conv, &created);
    if (!rc && created) {
        json_t *ev = json_pack("{s:s, s:s, s:s}", "channel", channel, "locale", conv.locale,
                               "status", conv.status);
        rc = sb_store_event_add(d->store, &conv, "conversation/started", ev);
        json_decref(ev);
    }
    if (!rc) rc = sb_buf_append(&text, f->text, strlen(f->text));
    if (!rc && json_array_size(f->files)) {
        struct sb_buf note;
        sb_buf_init(&note, 4096);
        rc = store_files(d, &conv, f->files, files, &note, eb);
        if (!rc && note.len) rc = sb_buf_printf(&text, "%s%s", text.len ? "\n" : "", note.data);
        sb_buf_cleanup(&note);
    }
    if (!rc) {
        in.channel = channel;
        in.text = text.data ? text.data : "";
        in.provider_id = f->provider_id;
        in.payload = *f->payload ? f->payload : NULL;
        in.locale = f->locale[0] ? f->locale : NULL;
        in.attachments = json_array_size(files) ? files : NULL;
        in.meta = f->meta;
        rc = sb_pipeline_accept(d->pl, &conv, &in, id, dup);
    }
    sb_buf_cleanup(&text);
    json_decref(files);
    sb_conv_cleanup(&conv);
    return rc;
}

enum sb_err channels_accept(void *arg, const char *channel, json_t *msg, int64_t *id, bool *dup,
                            struct sb_errbuf *eb)
{
    struct sb_channels *c = arg;
    const struct channels_deps *d = channels_deps(c);
    struct accept_fields f = {0};
    bool own;
    enum sb_err rc = read_fields(d, msg, &f, eb);

    if (rc) {
        d->metrics->refused++;
        return rc;
    }
    /* A provider's retry: nothing to store, no second turn. */
    rc = sb_store_msg_by_provider(d->store, channel, f.provider_id, id);
    if (rc) return sb_fail(eb, rc, "the message could not be looked up");
    if (*id) {
        *dup = true;
        d->metrics->duplicates++;
        return SB_OK;
    }
    rc = sb_store_begin_own(d->store, &own);
    if (rc) return sb_fail(eb, rc, "the message could not be stored");
    rc = sb_store_end_own(d->store, own, accept_in_unit(d, channel, &f, id, dup, eb));
    if (rc) {
        sb_error("channel %s: message %s not stored: %s", channel, f.provider_id,
                 eb->msg[0] ? eb->msg : sb_strerror(rc));
        return sb_fail(eb, rc, "the message could not be stored");
    }
    if (*dup) {
        d->metrics->duplicates++;
    } else {
        d->metrics->accepted++;
        channels_wake_turns(c);
    }
    return SB_OK;
}

/* ------- receipts ------- */

static enum sb_err receipt_event(const struct channels_deps *d, struct sb_conv *conv,
                                 const char *status, int64_t outbox_id, int64_t msg_id,
                                 const char *reason)
{
    enum sb_err rc = SB_OK;
    json_t *ev = NULL;
    bool moved = true;

    if (strcmp(status, "delivered") == 0) {
        ev = json_pack("{s:I, s:s}", "up_to", (json_int_t)msg_id, "by", "customer");
        rc = sb_store_event_add(d->store, conv, "message/delivered", ev);
    } else if (strcmp(status, "read") == 0) {
        rc = sb_store_read_mark(d->store, conv->id, "customer", msg_id, &moved);
        ev = json_pack("{s:I, s:s}", "up_to", (json_int_t)msg_id, "by", "customer");
        if (!rc && moved) rc = sb_store_event_add(d->store, conv, "message/read", ev);
    } else {
        /* the provider took the message, then could not deliver it */
        char why[300];
        snprintf(why, sizeof(why), "%s", reason && *reason ? reason : "the provider failed it");
        rc = sb_store_outbox_dead(d->store, outbox_id, 0, why, sb_now_ms());
        ev = json_pack("{s:I, s:s}", "id", (json_int_t)msg_id, "reason", why);
        if (!rc) rc = sb_store_event_add(d->store, conv, "message/failed", ev);
        if (!rc) d->metrics->dead++;
    }
    json_decref(ev);
    return rc;
}

enum sb_err channels_status(void *arg, const char *channel, json_t *st, bool *known,
                            struct sb_errbuf *eb)
{
    struct sb_channels *c = arg;
    const struct channels_deps *d = channels_deps(c);
    const char *pid = json_string_value(json_object_get(st, "provider_id"));
    const char *status = json_string_value(json_object_get(st, "status"));
    const char *reason = json_string_value(json_object_get(st, "reason"));
    int64_t outbox_id = 0, conv_id = 0, msg_id = 0;
    struct sb_conv conv = {0};
    bool own;
    enum sb_err rc;

    *known = false;
    if (!pid || !*pid) return sb_fail(eb, SB_ERR_INVAL, "provider_id must be a string");
    if (!status ||
        (strcmp(status, "delivered") && strcmp(status, "read") && strcmp(status, "failed")))
        return sb_fail(eb, SB_ERR_INVAL, "status must be delivered, read or failed");
    rc = sb_store_outbox_by_provider(d->store, channel, pid, &outbox_id, &conv_id, &msg_id);
    if (rc == SB_ERR_NOT_FOUND) return SB_OK; /* not one of ours, or long gone */
    if (rc) return sb_fail(eb, rc, "the receipt could not be looked up");
    rc = sb_store_begin_own(d->store, &own);
    if (rc) return sb_fail(eb, rc, "the receipt could not be stored");
    rc = sb_store_conv_get_by_id(d->store, conv_id, &conv);
    if (!rc) rc = receipt_event(d, &conv, status, outbox_id, msg_id, reason);
    rc = sb_store_end_own(d->store, own, rc);
    sb_conv_cleanup(&conv);
    if (rc) {
        return sb_fail(eb, rc, "the receipt could not be stored");
    }
    *known = true;
    d->metrics->receipts++;
    return SB_OK;
}
