/*
 * store_conv.c - contacts, conversations, messages, handoffs and the
 * per-conversation event log.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "sb_util.h"
#include "store_int.h"

static void copy_col(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

void sb_conv_cleanup(struct sb_conv *c)
{
    if (!c) return;
    json_decref(c->attrs);
    c->attrs = NULL;
}

/* token_ok: NULL, or where column 9 (ST_CONV_GET_VISITOR's) goes */
static enum sb_err read_conv(struct sb_store *st, sqlite3_stmt *s, struct sb_conv *out,
                             bool *token_ok)
{
    int r = sqlite3_step(s);
    enum sb_err rc = SB_OK;

    memset(out, 0, sizeof(*out));
    if (r == SQLITE_ROW) {
        const char *attrs = (const char *)sqlite3_column_text(s, 8);
        out->id = sqlite3_column_int64(s, 0);
        out->contact_id = sqlite3_column_int64(s, 1);
        copy_col(out->public_id, sizeof(out->public_id), s, 2);
        copy_col(out->channel, sizeof(out->channel), s, 3);
        copy_col(out->locale, sizeof(out->locale), s, 4);
        copy_col(out->status, sizeof(out->status), s, 5);
        copy_col(out->token_hash, sizeof(out->token_hash), s, 6);
        out->last_seq = sqlite3_column_int64(s, 7);
        if (token_ok) *token_ok = sqlite3_column_int(s, 9) != 0;
        out->attrs = attrs ? json_loads(attrs, 0, NULL) : NULL;
        if (!json_is_object(out->attrs)) {
            json_decref(out->attrs);
            out->attrs = json_object();
        }
    } else if (r == SQLITE_DONE) {
        rc = SB_ERR_NOT_FOUND;
    } else {
        sb_error("store: %s", sqlite3_errmsg(st->db));
        rc = SB_ERR_DB;
    }
    sqlite3_reset(s);
    return rc;
}

enum sb_err sb_store_conv_get(struct sb_store *st, const char *public_id, struct sb_conv *out)
{
    sqlite3_stmt *s = store_stmt(st, ST_CONV_GET);
    sqlite3_bind_text(s, 1, public_id, -1, SQLITE_STATIC);
    return read_conv(st, s, out, NULL);
}

enum sb_err sb_store_conv_get_visitor(struct sb_store *st, const char *public_id,
                                      const char *token_hash, struct sb_conv *out, bool *token_ok)
{
    sqlite3_stmt *s = store_stmt(st, ST_CONV_GET_VISITOR);
    *token_ok = false;
    sqlite3_bind_text(s, 1, public_id, -1, SQLITE_STATIC);
    /* The lookup is by a hash of a 256-bit random token: timing tells an
     * attacker nothing about a token they do not already hold. */
    if (token_hash) sqlite3_bind_text(s, 2, token_hash, -1, SQLITE_STATIC);
    return read_conv(st, s, out, token_ok);
}

enum sb_err sb_store_conv_get_by_id(struct sb_store *st, int64_t id, struct sb_conv *out)
{
    sqlite3_stmt *s = store_stmt(st, ST_CONV_GET_ID);
    sqlite3_bind_int64(s, 1, id);
    return read_conv(st, s, out, NULL);
}

static enum sb_err contact_for_identity(struct sb_store *st, const char *channel,
                                        const char *external_id, int64_t now, int64_t *contact)
{
    sqlite3_stmt *s = store_stmt(st, ST_IDENTITY_FIND);
    enum sb_err rc;

    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, external_id, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW) {
        *contact = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return SB_OK;
    }
    sqlite3_reset(s);

    s = store_stmt(st, ST_CONTACT_ADD);
    sqlite3_bind_int64(s, 1, now);
    rc = store_step_done(st, s);
    if (rc) return rc;
    *contact = sqlite3_last_insert_rowid(st->db);

    s = store_stmt(st, ST_IDENTITY_ADD);
    sqlite3_bind_int64(s, 1, *contact);
    sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, external_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    return store_step_done(st, s);
}

enum sb_err sb_store_conv_create(struct sb_store *st, const char *channel, const char *external_id,
                                 const char *locale, const char *token_hash, struct sb_conv *out)
{
    int64_t now = sb_now_ms(), contact = 0, id;
    char pub[33];
    sqlite3_stmt *s;
    enum sb_err rc;

    rc = sb_random_hex(pub, 16);
    if (rc) return rc;
    rc = contact_for_identity(st, channel, external_id, now, &contact);
    if (rc) return rc;
    s = store_stmt(st, ST_CONV_ADD);
    sqlite3_bind_text(s, 1, pub, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, contact);
    sqlite3_bind_text(s, 3, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, locale, -1, SQLITE_STATIC);
    if (token_hash) sqlite3_bind_text(s, 5, token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, now);
    rc = store_step_done(st, s);
    if (rc) return rc;
    id = sqlite3_last_insert_rowid(st->db);
    /* Every visitor token is in conversation_tokens; a conversation may
     * gain more (one per device, docs/widget.md). */
    if (token_hash) rc = sb_store_conv_token_add(st, id, token_hash);
    if (rc) return rc;
    return sb_store_conv_get_by_id(st, id, out);
}

enum sb_err sb_store_conv_set_status(struct sb_store *st, int64_t conv_id, const char *status)
{
    sqlite3_stmt *s = store_stmt(st, ST_CONV_STATUS);
    sqlite3_bind_int64(s, 1, conv_id);
    sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, sb_now_ms());
    return store_step_done(st, s);
}

enum sb_err sb_store_conv_set_attrs(struct sb_store *st, int64_t conv_id, json_t *attrs)
{
    sqlite3_stmt *s = store_stmt(st, ST_CONV_ATTRS);
    char *text = json_dumps(attrs, JSON_COMPACT);
    enum sb_err rc;

    if (!text) return SB_ERR_NOMEM;
    sqlite3_bind_int64(s, 1, conv_id);
    sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, sb_now_ms());
    rc = store_step_done(st, s);
    free(text);
    return rc;
}

enum sb_err sb_store_handoff(struct sb_store *st, int64_t conv_id, const char *reason,
                             const char *team)
{
    json_t *transcript = sb_store_transcript(st, conv_id, 0);
    char *text = transcript ? json_dumps(transcript, JSON_COMPACT) : NULL;
    sqlite3_stmt *s;
    enum sb_err rc;

    json_decref(transcript);
    if (!text) return SB_ERR_NOMEM;
    s = store_stmt(st, ST_HANDOFF_ADD);
    sqlite3_bind_int64(s, 1, conv_id);
    sqlite3_bind_text(s, 2, reason, -1, SQLITE_STATIC);
    if (team) sqlite3_bind_text(s, 3, team, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, sb_now_ms());
    rc = store_step_done(st, s);
    free(text);
    if (rc) return rc;
    return sb_store_conv_set_status(st, conv_id, SB_STATUS_QUEUED);
}

static void bind_opt(sqlite3_stmt *s, int col, const char *v)
{
    if (v)
        sqlite3_bind_text(s, col, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, col);
}

enum sb_err sb_store_msg_add(struct sb_store *st, const struct sb_msg_in *m, int64_t *id, bool *dup)
{
    sqlite3_stmt *s = store_stmt(st, ST_MSG_ADD);
    enum sb_err rc;

    sqlite3_bind_int64(s, 1, m->conv_id);
    sqlite3_bind_text(s, 2, m->direction, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, m->author, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, m->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, m->text, -1, SQLITE_STATIC);
    bind_opt(s, 6, m->extra);
    bind_opt(s, 7, m->provider_id);
    bind_opt(s, 8, m->client_id);
    if (m->reply_to)
        sqlite3_bind_int64(s, 9, m->reply_to);
    else
        sqlite3_bind_null(s, 9);
    sqlite3_bind_int64(s, 10, m->created_at ? m->created_at : sb_now_ms());
    rc = store_step_done(st, s);
    if (rc) return rc;
    *dup = sqlite3_changes(st->db) == 0;
    if (!*dup) {
        *id = sqlite3_last_insert_rowid(st->db);
        return SB_OK;
    }
    s = store_stmt(st, ST_MSG_FIND);
    sqlite3_bind_text(s, 1, m->channel, -1, SQLITE_STATIC);
    bind_opt(s, 2, m->provider_id);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return SB_ERR_DB;
    }
    *id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return SB_OK;
}

/* Row layout shared by ST_MSG_GET, ST_MSG_LIST and ST_MSG_REPLIES. */
static json_t *msg_row_json(sqlite3_stmt *s)
{
    const char *extra = (const char *)sqlite3_column_text(s, 4);
    const char *client_id = (const char *)sqlite3_column_text(s, 5);
    json_t *m = json_object();
    json_t *x = extra ? json_loads(extra, 0, NULL) : NULL;

    json_object_set_new(m, "id", json_integer(sqlite3_column_int64(s, 0)));
    json_object_set_new(m, "direction", json_string((const char *)sqlite3_column_text(s, 1)));
    json_object_set_new(m, "author", json_string((const char *)sqlite3_column_text(s, 2)));
    json_object_set_new(m, "text", json_string((const char *)sqlite3_column_text(s, 3)));
    json_object_set_new(m, "links", json_incref(json_object_get(x, "links")) ?: json_array());
    json_object_set_new(m, "quick_replies",
                        json_incref(json_object_get(x, "quick_replies")) ?: json_array());
    json_object_set_new(m, "attachments",
                        json_incref(json_object_get(x, "attachments")) ?: json_array());
    json_object_set_new(m, "client_id", client_id ? json_string(client_id) : json_null());
    json_object_set_new(m, "created_at", json_integer(sqlite3_column_int64(s, 6)));
    /* who wrote an agent's message {id, name}, as its event says */
    if (json_is_object(json_object_get(x, "agent")))
        json_object_set(m, "agent", json_object_get(x, "agent"));
    /* a pushed channel's delivery: "pending", "sent" or "dead" and why */
    if (sqlite3_column_type(s, 7) == SQLITE_TEXT) {
        const char *d = (const char *)sqlite3_column_text(s, 7), *bar = strchr(d, '|');
        json_object_set_new(m, "delivery",
                            json_pack("{s:s%, s:s?}", "state", d, (size_t)(bar ? bar - d : 0),
                                      "error", bar && bar[1] ? bar + 1 : NULL));
    }
    if (json_is_object(json_object_get(x, "template")))
        json_object_set(m, "template", json_object_get(x, "template"));
    json_decref(x);
    return m;
}

json_t *sb_store_msg_json(struct sb_store *st, int64_t msg_id)
{
    sqlite3_stmt *s = store_stmt(st, ST_MSG_GET);
    json_t *m = NULL;

    sqlite3_bind_int64(s, 1, msg_id);
    if (sqlite3_step(s) == SQLITE_ROW) m = msg_row_json(s);
    sqlite3_reset(s);
    return m;
}

static json_t *collect(sqlite3_stmt *s)
{
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, msg_row_json(s));
    sqlite3_reset(s);
    return arr;
}

json_t *sb_store_transcript(struct sb_store *st, int64_t conv_id, int limit)
{
    sqlite3_stmt *s = store_stmt(st, ST_MSG_LIST);
    sqlite3_bind_int64(s, 1, conv_id);
    sqlite3_bind_int64(s, 2, limit > 0 ? limit : -1);
    return collect(s);
}

json_t *sb_store_replies(struct sb_store *st, int64_t conv_id, int64_t inbound_id)
{
    sqlite3_stmt *s = store_stmt(st, ST_MSG_REPLIES);
    sqlite3_bind_int64(s, 1, conv_id);
    sqlite3_bind_int64(s, 2, inbound_id);
    return collect(s);
}

/* The event's row: {members, "seq", "type", "at": now}. */
static enum sb_err insert_event(struct sb_store *st, struct sb_conv *conv, const char *type,
                                const char *members, size_t len, int64_t now)
{
    int64_t seq = conv->last_seq + 1;
    struct sb_buf data;
    sqlite3_stmt *s;
    enum sb_err rc;

    /* seq, type and at after the payload's own members: the order the
     * events have always had */
    sb_buf_init(&data, SIZE_MAX);
    rc = sb_buf_append(&data, "{", 1);
    if (!rc) rc = sb_buf_append(&data, members, len);
    if (!rc)
        rc = sb_buf_printf(&data, "%s\"seq\":%lld,\"type\":\"%s\",\"at\":%lld}", len ? "," : "",
                           (long long)seq, type, (long long)now);
    if (rc) {
        sb_buf_cleanup(&data);
        return rc;
    }
    s = store_stmt(st, ST_EVENT_ADD);
    sqlite3_bind_int64(s, 1, conv->id);
    sqlite3_bind_int64(s, 2, seq);
    sqlite3_bind_text(s, 3, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, data.data, (int)data.len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, now);
    rc = store_step_done(st, s);
    sb_buf_cleanup(&data);
    if (!rc) conv->last_seq = seq;
    if (!rc) store_event_added(st, conv->id);
    return rc;
}

enum sb_err sb_store_event_add(struct sb_store *st, struct sb_conv *conv, const char *type,
                               json_t *payload)
{
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    size_t len = text ? strlen(text) : 0;
    int64_t now = sb_now_ms();
    enum sb_err rc;

    if (payload && !text) return SB_ERR_NOMEM;
    if (payload && (len < 2 || text[0] != '{')) {
        free(text);
        return SB_ERR_INVAL;
    }
    /* the members between the object's braces */
    rc = insert_event(st, conv, type, text ? text + 1 : "", len ? len - 2 : 0, now);
    free(text);
    if (!rc && payload) {
        /* the payload was made for this event: it becomes the event */
        json_object_set_new(payload, "seq", json_integer(conv->last_seq));
        json_object_set_new(payload, "type", json_string(type));
        json_object_set_new(payload, "at", json_integer(now));
    }
    return rc;
}

enum sb_err sb_store_event_add_raw(struct sb_store *st, struct sb_conv *conv, const char *type,
                                   const char *members, size_t len)
{
    return insert_event(st, conv, type, members, len, sb_now_ms());
}

enum sb_err sb_store_events_since(struct sb_store *st, int64_t conv_id, int64_t after_seq,
                                  int limit, sb_event_fn fn, void *arg)
{
    sqlite3_stmt *s = store_stmt(st, ST_EVENT_SINCE);
    int r;

    sqlite3_bind_int64(s, 1, conv_id);
    sqlite3_bind_int64(s, 2, after_seq);
    sqlite3_bind_int(s, 3, limit);
    sqlite3_bind_int64(s, 4, sb_store_committed_event_id(st));
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (fn(arg, sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
               (const char *)sqlite3_column_text(s, 2)))
            break;
    }
    sqlite3_reset(s);
    return (r == SQLITE_ROW || r == SQLITE_DONE) ? SB_OK : SB_ERR_DB;
}
