/*
 * store_web.c - what the website widget adds to a conversation: visitor
 * tokens (several per conversation, SHA-256 only), the site, page and
 * verified identity, read marks, the queue position and expected wait,
 * the verified user's conversations, and attachment records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "sb_util.h"
#include "store_int.h"

#define QUEUE_WAIT_SAMPLE 50

static const char *const web_sql[WS__COUNT] = {
    [WS_TOKEN_ADD] = "INSERT INTO conversation_tokens(token_hash, conversation_id, created_at)"
                     " VALUES(?1, ?2, ?3)",
    [WS_CONV_WEB] = "UPDATE conversations SET site_id = ?2, page_url = ?3, verified = ?4"
                    " WHERE id = ?1",
    [WS_IDENTITY_VERIFIED] =
        "UPDATE identities SET verified_by = ?3 WHERE channel = ?1 AND external_id = ?2",
    [WS_CONV_INFO] = "SELECT c.site_id, c.verified, c.read_customer, c.read_agent, c.status,"
                     " c.priority, ifnull(c.queued_at, 0), u.name, c.page_url"
                     " FROM conversations c LEFT JOIN users u ON u.id = c.assignee"
                     " WHERE c.id = ?1",
    /* 1 = next: those ahead by priority, then by queue time, then by id. */
    [WS_QUEUE_POS] = "SELECT count(*) FROM conversations WHERE status = 'queued' AND"
                     " (priority > ?2 OR (priority = ?2 AND (ifnull(queued_at, 0) < ?3 OR"
                     " (ifnull(queued_at, 0) = ?3 AND id <= ?1))))",
    [WS_QUEUE_WAITS] = "SELECT waited_ms FROM queue_waits ORDER BY id DESC LIMIT ?1",
    [WS_READ_CUSTOMER] = "UPDATE conversations SET read_customer = ?2"
                         " WHERE id = ?1 AND read_customer < ?2",
    [WS_READ_AGENT] = "UPDATE conversations SET read_agent = ?2 WHERE id = ?1 AND read_agent < ?2",
    [WS_MSG_OF_CONV] = "SELECT 1 FROM messages WHERE id = ?2 AND conversation_id = ?1",
    [WS_ATT_ADD] = "INSERT INTO attachments(public_id, conversation_id, name, type, size, sha256,"
                   " created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [WS_ATT_GET] = "SELECT public_id, name, type, size, sha256, ifnull(message_id, 0)"
                   " FROM attachments WHERE conversation_id = ?1 AND public_id = ?2",
    [WS_ATT_LINK] = "UPDATE attachments SET message_id = ?3"
                    " WHERE conversation_id = ?1 AND public_id = ?2 AND message_id IS NULL",
    [WS_USER_CONVS] =
        "SELECT c.id, c.public_id, c.status, c.locale,"
        " max(c.updated_at, ifnull((SELECT max(m.created_at) FROM messages m"
        "   WHERE m.conversation_id = c.id), 0)) AS activity"
        " FROM identities i JOIN conversations c ON c.contact_id = i.contact_id"
        " WHERE i.channel = 'web' AND i.external_id = ?1 AND c.site_id = ?2 AND c.verified = 1"
        " ORDER BY activity DESC, c.id DESC LIMIT ?3",
    [WS_LAST_MSG] = "SELECT max(id) FROM messages WHERE conversation_id = ?1",
};

enum sb_err store_web_prepare(struct sb_store *st, struct sb_errbuf *eb)
{
    return store_prep_table(st, web_sql, WS__COUNT, st->wstmt, eb);
}

sqlite3_stmt *store_wstmt(struct sb_store *st, enum web_stmt_id id)
{
    sqlite3_stmt *s = st->wstmt[id];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

enum sb_err sb_store_conv_token_add(struct sb_store *st, int64_t conv_id, const char *token_hash)
{
    sqlite3_stmt *s = store_wstmt(st, WS_TOKEN_ADD);
    sqlite3_bind_text(s, 1, token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, conv_id);
    sqlite3_bind_int64(s, 3, sb_now_ms());
    return store_step_done(st, s);
}

enum sb_err sb_store_conv_set_web(struct sb_store *st, int64_t conv_id, const char *site_id,
                                  const char *page_url, bool verified)
{
    sqlite3_stmt *s = store_wstmt(st, WS_CONV_WEB);
    sqlite3_bind_int64(s, 1, conv_id);
    if (site_id) sqlite3_bind_text(s, 2, site_id, -1, SQLITE_STATIC);
    if (page_url) sqlite3_bind_text(s, 3, page_url, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, verified ? 1 : 0);
    return store_step_done(st, s);
}

enum sb_err sb_store_identity_verified(struct sb_store *st, const char *channel,
                                       const char *external_id, const char *how)
{
    sqlite3_stmt *s = store_wstmt(st, WS_IDENTITY_VERIFIED);
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, external_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, how, -1, SQLITE_STATIC);
    return store_step_done(st, s);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The median of the last waits in the queue; -1 when nobody left it yet. */
static int64_t median_wait(struct sb_store *st)
{
    sqlite3_stmt *s = store_wstmt(st, WS_QUEUE_WAITS);
    int64_t w[QUEUE_WAIT_SAMPLE];
    size_t n = 0;

    sqlite3_bind_int(s, 1, QUEUE_WAIT_SAMPLE);
    while (n < QUEUE_WAIT_SAMPLE && sqlite3_step(s) == SQLITE_ROW)
        w[n++] = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (n == 0) return -1;
    qsort(w, n, sizeof(w[0]), cmp_i64);
    return n % 2 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2;
}

enum sb_err sb_store_conv_web(struct sb_store *st, int64_t conv_id, struct sb_conv_web *out)
{
    sqlite3_stmt *s = store_wstmt(st, WS_CONV_INFO);
    const unsigned char *t;
    int64_t priority, queued_at;
    bool queued;
    int r;

    memset(out, 0, sizeof(*out));
    out->expected_wait_ms = -1;
    sqlite3_bind_int64(s, 1, conv_id);
    r = sqlite3_step(s);
    if (r != SQLITE_ROW) {
        sqlite3_reset(s);
        return r == SQLITE_DONE ? SB_ERR_NOT_FOUND : SB_ERR_DB;
    }
    t = sqlite3_column_text(s, 0);
    snprintf(out->site_id, sizeof(out->site_id), "%s", t ? (const char *)t : "");
    out->verified = sqlite3_column_int(s, 1) != 0;
    out->read_customer = sqlite3_column_int64(s, 2);
    out->read_agent = sqlite3_column_int64(s, 3);
    queued = strcmp((const char *)sqlite3_column_text(s, 4), SB_STATUS_QUEUED) == 0;
    priority = sqlite3_column_int64(s, 5);
    queued_at = sqlite3_column_int64(s, 6);
    t = sqlite3_column_text(s, 7);
    snprintf(out->agent_name, sizeof(out->agent_name), "%s", t ? (const char *)t : "");
    t = sqlite3_column_text(s, 8);
    snprintf(out->page_url, sizeof(out->page_url), "%s", t ? (const char *)t : "");
    sqlite3_reset(s);
    if (!queued) return SB_OK;

    s = store_wstmt(st, WS_QUEUE_POS);
    sqlite3_bind_int64(s, 1, conv_id);
    sqlite3_bind_int64(s, 2, priority);
    sqlite3_bind_int64(s, 3, queued_at);
    if (sqlite3_step(s) == SQLITE_ROW) out->queue_position = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    out->expected_wait_ms = median_wait(st);
    return SB_OK;
}

enum sb_err sb_store_read_mark(struct sb_store *st, int64_t conv_id, const char *who, int64_t up_to,
                               bool *moved)
{
    sqlite3_stmt *s = store_wstmt(st, strcmp(who, "agent") == 0 ? WS_READ_AGENT : WS_READ_CUSTOMER);
    enum sb_err rc;

    sqlite3_bind_int64(s, 1, conv_id);
    sqlite3_bind_int64(s, 2, up_to);
    rc = store_step_done(st, s);
    *moved = !rc && sqlite3_changes(st->db) > 0;
    return rc;
}

bool sb_store_msg_in_conv(struct sb_store *st, int64_t conv_id, int64_t msg_id)
{
    sqlite3_stmt *s = store_wstmt(st, WS_MSG_OF_CONV);
    bool ok;
    sqlite3_bind_int64(s, 1, conv_id);
    sqlite3_bind_int64(s, 2, msg_id);
    ok = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_reset(s);
    return ok;
}

static json_t *last_message(struct sb_store *st, int64_t conv_id)
{
    sqlite3_stmt *s = store_wstmt(st, WS_LAST_MSG);
    int64_t id = 0;
    sqlite3_bind_int64(s, 1, conv_id);
    if (sqlite3_step(s) == SQLITE_ROW) id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return id ? sb_store_msg_json(st, id) : NULL;
}

json_t *sb_store_user_convs(struct sb_store *st, const char *external_id, const char *site_id,
                            int limit)
{
    sqlite3_stmt *s = store_wstmt(st, WS_USER_CONVS);
    json_t *arr = json_array(), *c;
    size_t i;

    sqlite3_bind_text(s, 1, external_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, site_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, limit);
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:I}", "db_id",
                                             (json_int_t)sqlite3_column_int64(s, 0), "id",
                                             (const char *)sqlite3_column_text(s, 1), "status",
                                             (const char *)sqlite3_column_text(s, 2), "locale",
                                             (const char *)sqlite3_column_text(s, 3), "updated_at",
                                             (json_int_t)sqlite3_column_int64(s, 4)));
    sqlite3_reset(s);
    json_array_foreach(arr, i, c)
    {
        json_t *m = last_message(st, json_integer_value(json_object_get(c, "db_id")));
        json_object_set_new(c, "last_message", m ? m : json_null());
    }
    return arr;
}

enum sb_err sb_store_att_add(struct sb_store *st, int64_t conv_id, const struct sb_attachment *a)
{
    sqlite3_stmt *s = store_wstmt(st, WS_ATT_ADD);
    sqlite3_bind_text(s, 1, a->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, conv_id);
    sqlite3_bind_text(s, 3, a->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, a->type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, a->size);
    sqlite3_bind_text(s, 6, a->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, sb_now_ms());
    return store_step_done(st, s);
}

enum sb_err sb_store_att_get(struct sb_store *st, int64_t conv_id, const char *id,
                             struct sb_attachment *out)
{
    sqlite3_stmt *s = store_wstmt(st, WS_ATT_GET);
    int r;

    memset(out, 0, sizeof(*out));
    sqlite3_bind_int64(s, 1, conv_id);
    sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
    r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        snprintf(out->id, sizeof(out->id), "%s", (const char *)sqlite3_column_text(s, 0));
        snprintf(out->name, sizeof(out->name), "%s", (const char *)sqlite3_column_text(s, 1));
        snprintf(out->type, sizeof(out->type), "%s", (const char *)sqlite3_column_text(s, 2));
        out->size = sqlite3_column_int64(s, 3);
        snprintf(out->sha256, sizeof(out->sha256), "%s", (const char *)sqlite3_column_text(s, 4));
        out->message_id = sqlite3_column_int64(s, 5);
    }
    sqlite3_reset(s);
    if (r == SQLITE_ROW) return SB_OK;
    return r == SQLITE_DONE ? SB_ERR_NOT_FOUND : SB_ERR_DB;
}

enum sb_err sb_store_att_link(struct sb_store *st, int64_t conv_id, const char *id, int64_t msg_id)
{
    sqlite3_stmt *s = store_wstmt(st, WS_ATT_LINK);
    sqlite3_bind_int64(s, 1, conv_id);
    sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, msg_id);
    return store_step_done(st, s);
}
