/*
 * send.c - the one send path (send.h): an outbound message's row, its
 * event and the caller's answer, from one serialization.
 */
#include <inttypes.h>
#include <string.h>

#include "send.h"
#include "store_channel.h"

/* A message's texts are small; the cap only stops a runaway. */
#define SEND_LIMIT (64 * 1024 * 1024)
#define MESSAGE_MEMBER "\"message\":"

void sb_replies_init(struct sb_replies *r, int64_t reply_to)
{
    r->reply_to = reply_to;
    r->n = 0;
    sb_buf_init(&r->text, SEND_LIMIT);
}

void sb_replies_cleanup(struct sb_replies *r)
{
    sb_buf_cleanup(&r->text);
    r->n = 0;
}

enum sb_err sb_replies_add(struct sb_replies *r, const char *json, size_t len)
{
    enum sb_err rc = r->n ? sb_buf_append(&r->text, ",", 1) : SB_OK;
    if (!rc) rc = sb_buf_append(&r->text, json, len);
    if (!rc) r->n++;
    return rc;
}

enum sb_err sb_conv_message_event(struct sb_store *st, struct sb_conv *conv, const char *type,
                                  const struct sb_message_view *m, struct sb_replies *replies)
{
    static const size_t member = sizeof(MESSAGE_MEMBER) - 1;
    struct sb_buf ev;
    enum sb_err rc;

    sb_buf_init(&ev, SEND_LIMIT);
    rc = sb_buf_append(&ev, MESSAGE_MEMBER, member);
    if (!rc) rc = sb_message_json(&ev, m);
    if (!rc) rc = sb_store_event_add_raw(st, conv, type, ev.data, ev.len);
    if (!rc && replies) rc = sb_replies_add(replies, ev.data + member, ev.len - member);
    sb_buf_cleanup(&ev);
    return rc;
}

/* The row's extra column: {"links","quick_replies"[,"attachments"]
 * [,"agent"][,"canned_id"][,"template"]}, from the arrays already written for the
 * event (the transcript reads them back, store_conv.c). */
static enum sb_err extra_text(struct sb_buf *out, const struct sb_outgoing *msg, const char *links,
                              const char *quick_replies, const char *attachments)
{
    enum sb_err rc = sb_buf_printf(out, "{\"links\":%s,\"quick_replies\":%s", links, quick_replies);
    if (!rc && json_array_size(msg->attachments))
        rc = sb_buf_printf(out, ",\"attachments\":%s", attachments);
    if (!rc && msg->agent_name) {
        rc = sb_buf_printf(out, ",\"agent\":{\"id\":%" PRId64 ",\"name\":", msg->agent_id);
        if (!rc) rc = sb_json_string(out, msg->agent_name);
        if (!rc) rc = sb_buf_append(out, "}", 1);
    }
    if (!rc && msg->canned_id) rc = sb_buf_printf(out, ",\"canned_id\":%" PRId64, msg->canned_id);
    if (!rc && msg->template_) {
        rc = sb_buf_append(out, ",\"template\":", 12);
        if (!rc) rc = sb_json_append(out, msg->template_, "null");
    }
    if (!rc) rc = sb_buf_append(out, "}", 1);
    return rc;
}

enum sb_err sb_conv_send(const struct sb_sender *s, struct sb_conv *conv,
                         const struct sb_outgoing *msg, struct sb_replies *replies, int64_t *id)
{
    struct sb_msg_in m = {.conv_id = conv->id,
                          .direction = "out",
                          .author = msg->author,
                          .channel = msg->channel ? msg->channel : conv->channel,
                          .text = msg->text,
                          .client_id = msg->client_id,
                          .reply_to = replies ? replies->reply_to : 0,
                          .created_at = sb_now_ms()};
    struct sb_buf lt, qt, at, extra;
    int64_t mid = 0;
    bool dup;
    enum sb_err rc;

    /* the arrays are written once, for the row and for the event */
    sb_buf_init(&lt, SEND_LIMIT);
    sb_buf_init(&qt, SEND_LIMIT);
    sb_buf_init(&at, SEND_LIMIT);
    sb_buf_init(&extra, SEND_LIMIT);
    rc = sb_json_append(&lt, msg->links, "[]");
    if (!rc) rc = sb_json_append(&qt, msg->quick_replies, "[]");
    if (!rc) rc = sb_json_append(&at, msg->attachments, "[]");
    if (!rc) rc = extra_text(&extra, msg, lt.data, qt.data, at.data);
    m.extra = extra.data;
    /* no provider id: an outbound row is never a duplicate */
    if (!rc) rc = sb_store_msg_add(s->store, &m, &mid, &dup);
    if (!rc) {
        struct sb_message_view v = {.id = mid,
                                    .direction = "out",
                                    .author = msg->author,
                                    .text = msg->text,
                                    .links = lt.data,
                                    .quick_replies = qt.data,
                                    .attachments = at.data,
                                    .client_id = msg->client_id,
                                    .created_at = m.created_at,
                                    .agent_id = msg->agent_id,
                                    .agent_name = msg->agent_name};
        rc = sb_conv_message_event(s->store, conv, "message/outbound", &v, replies);
    }
    if (!rc) {
        /* The outbox: every message for a channel that pushes (all but
         * the web, whose browsers read the answer and the event stream)
         * is queued in the unit that stored it, and its dispatcher woken
         * once the unit is durable (store_channel.h): a rollback sends
         * nothing and a commit never loses a send. */
        if (strcmp(m.channel, "web") != 0)
            rc = sb_store_outbox_add(s->store, conv->id, mid, m.channel, m.created_at);
    }
    if (!rc) {
        if (s->messages_out) (*s->messages_out)++;
        if (id) *id = mid;
    }
    sb_buf_cleanup(&lt);
    sb_buf_cleanup(&qt);
    sb_buf_cleanup(&at);
    sb_buf_cleanup(&extra);
    return rc;
}
