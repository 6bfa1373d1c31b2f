/*
 * store_channel.c - the channels' tables (store_channel.h): the customer
 * behind an identity, the outbox and the inbound turns. Statements are
 * string literals cached by the store's statement cache (store_prep).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_util.h"
#include "store_channel.h"
#include "store_int.h"

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

/* Steps s expecting at most one row with one integer; *out stays as it was
 * when there is no row. */
static enum sb_err one_int(struct sb_store *st, sqlite3_stmt *s, int64_t *out, bool *found)
{
    int r;
    if (!s) return SB_ERR_DB;
    r = sqlite3_step(s);
    if (found) *found = r == SQLITE_ROW;
    if (r == SQLITE_ROW) *out = sqlite3_column_int64(s, 0);
    store_release(st, s);
    return r == SQLITE_ROW || r == SQLITE_DONE ? SB_OK : SB_ERR_DB;
}

/* ------- the customer on a channel ------- */

static enum sb_err contact_of(struct sb_store *st, const char *channel, const char *external_id,
                              const char *name, int64_t now, int64_t *contact)
{
    sqlite3_stmt *s = store_prep(st, "SELECT contact_id FROM identities"
                                     " WHERE channel = ?1 AND external_id = ?2");
    bool found = false;
    enum sb_err rc;

    if (!s) return SB_ERR_DB;
    bind_text(s, 1, channel);
    bind_text(s, 2, external_id);
    rc = one_int(st, s, contact, &found);
    if (rc || found) return rc;

    s = store_prep(st, "INSERT INTO contacts(name, created_at) VALUES(?1, ?2)");
    if (!s) return SB_ERR_DB;
    bind_text(s, 1, name);
    sqlite3_bind_int64(s, 2, now);
    rc = store_done(st, s);
    if (rc) return rc;
    *contact = sqlite3_last_insert_rowid(st->db);
    s = store_prep(st, "INSERT INTO identities(contact_id, channel, external_id, created_at)"
                       " VALUES(?1, ?2, ?3, ?4)");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, *contact);
    bind_text(s, 2, channel);
    bind_text(s, 3, external_id);
    sqlite3_bind_int64(s, 4, now);
    return store_done(st, s);
}

enum sb_err sb_store_channel_conv(struct sb_store *st, const char *channel, const char *external_id,
                                  const char *name, const char *locale, struct sb_conv *out,
                                  bool *created)
{
    int64_t now = sb_now_ms(), contact = 0, conv = 0;
    bool found = false;
    sqlite3_stmt *s;
    enum sb_err rc;

    *created = false;
    rc = contact_of(st, channel, external_id, name, now, &contact);
    if (rc) return rc;
    s = store_prep(st, "SELECT id FROM conversations WHERE contact_id = ?1 AND channel = ?2"
                       " ORDER BY id DESC LIMIT 1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, contact);
    bind_text(s, 2, channel);
    rc = one_int(st, s, &conv, &found);
    if (rc) return rc;
    if (found) return sb_store_conv_get_by_id(st, conv, out);
    *created = true;
    /* sb_store_conv_create finds the identity made above */
    return sb_store_conv_create(st, channel, external_id, locale, NULL, out);
}

enum sb_err sb_store_channel_recipient(struct sb_store *st, int64_t conv_id, const char *channel,
                                       char *out, size_t cap)
{
    sqlite3_stmt *s = store_prep(st, "SELECT i.external_id FROM conversations c"
                                     " JOIN identities i ON i.contact_id = c.contact_id"
                                     " WHERE c.id = ?1 AND i.channel = ?2"
                                     " ORDER BY i.id LIMIT 1");
    enum sb_err rc = SB_ERR_NOT_FOUND;
    int r;

    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv_id);
    bind_text(s, 2, channel);
    r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        snprintf(out, cap, "%s", store_col(s, 0));
        rc = SB_OK;
    } else if (r != SQLITE_DONE) {
        rc = SB_ERR_DB;
    }
    store_release(st, s);
    return rc;
}

/* ------- the outbox ------- */

void sb_store_on_outbox(struct sb_store *st, sb_store_event_hook fn, void *arg)
{
    st->on_outbox = fn;
    st->on_outbox_arg = arg;
}

enum sb_err sb_store_outbox_add(struct sb_store *st, int64_t conv_id, int64_t msg_id,
                                const char *channel, int64_t now)
{
    sqlite3_stmt *s = store_prep(st, "INSERT INTO outbox(conversation_id, message_id, channel,"
                                     " next_at, created_at) VALUES(?1, ?2, ?3, ?4, ?4)");
    enum sb_err rc;
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv_id);
    sqlite3_bind_int64(s, 2, msg_id);
    bind_text(s, 3, channel);
    sqlite3_bind_int64(s, 4, now);
    rc = store_done(st, s);
    /* the dispatcher may only see the row once it cannot be taken back */
    if (!rc && st->on_outbox)
        rc =
            sb_store_effect(st, SB_EFFECT_DURABLE, st->on_outbox, st->on_outbox_arg, conv_id, NULL);
    return rc;
}

int sb_store_outbox_due(struct sb_store *st, int64_t now, struct sb_outbox_item *out, int max)
{
    /* The head of each conversation's queue (its oldest pending row), when
     * it is due: a later message never overtakes one still being retried. */
    sqlite3_stmt *s = store_prep(st, "SELECT o.id, o.conversation_id, o.message_id, o.channel,"
                                     " o.attempts, o.created_at FROM outbox o"
                                     " WHERE o.state = 'pending' AND o.next_at <= ?1"
                                     " AND o.id = (SELECT min(p.id) FROM outbox p"
                                     "   WHERE p.conversation_id = o.conversation_id"
                                     "   AND p.state = 'pending')"
                                     " ORDER BY o.id LIMIT ?2");
    int n = 0, r;

    if (!s) return -1;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int(s, 2, max);
    while ((r = sqlite3_step(s)) == SQLITE_ROW && n < max) {
        struct sb_outbox_item *it = &out[n++];
        it->id = sqlite3_column_int64(s, 0);
        it->conv_id = sqlite3_column_int64(s, 1);
        it->msg_id = sqlite3_column_int64(s, 2);
        snprintf(it->channel, sizeof(it->channel), "%s", store_col(s, 3));
        it->attempts = sqlite3_column_int(s, 4);
        it->created_at = sqlite3_column_int64(s, 5);
    }
    store_release(st, s);
    return r == SQLITE_ROW || r == SQLITE_DONE ? n : -1;
}

enum sb_err sb_store_outbox_sent(struct sb_store *st, int64_t id, int attempts,
                                 const char *provider_id, int64_t now)
{
    sqlite3_stmt *s = store_prep(st, "UPDATE outbox SET state = 'sent', attempts = ?2,"
                                     " provider_id = ?3, done_at = ?4, last_error = NULL"
                                     " WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, attempts);
    bind_text(s, 3, provider_id);
    sqlite3_bind_int64(s, 4, now);
    return store_done(st, s);
}

enum sb_err sb_store_outbox_retry(struct sb_store *st, int64_t id, int attempts, int64_t next_at,
                                  const char *error)
{
    sqlite3_stmt *s = store_prep(st, "UPDATE outbox SET attempts = ?2, next_at = ?3,"
                                     " last_error = ?4 WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, attempts);
    sqlite3_bind_int64(s, 3, next_at);
    bind_text(s, 4, error);
    return store_done(st, s);
}

enum sb_err sb_store_outbox_dead(struct sb_store *st, int64_t id, int attempts, const char *error,
                                 int64_t now)
{
    sqlite3_stmt *s = store_prep(st, "UPDATE outbox SET state = 'dead', attempts = ?2,"
                                     " last_error = ?3, done_at = ?4 WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, attempts);
    bind_text(s, 3, error);
    sqlite3_bind_int64(s, 4, now);
    return store_done(st, s);
}

enum sb_err sb_store_outbox_requeue(struct sb_store *st, int64_t conv_id, int64_t msg_id,
                                    int64_t now, bool *found)
{
    sqlite3_stmt *s = store_prep(st, "UPDATE outbox SET state = 'pending', attempts = 0,"
                                     " next_at = ?3, done_at = NULL"
                                     " WHERE conversation_id = ?1 AND message_id = ?2"
                                     " AND state = 'dead'");
    enum sb_err rc;
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv_id);
    sqlite3_bind_int64(s, 2, msg_id);
    sqlite3_bind_int64(s, 3, now);
    rc = store_done(st, s);
    *found = !rc && sqlite3_changes(st->db) > 0;
    return rc;
}

enum sb_err sb_store_msg_by_provider(struct sb_store *st, const char *channel,
                                     const char *provider_id, int64_t *id)
{
    sqlite3_stmt *s =
        store_prep(st, "SELECT id FROM messages WHERE channel = ?1 AND provider_id = ?2");
    if (!s) return SB_ERR_DB;
    *id = 0;
    bind_text(s, 1, channel);
    bind_text(s, 2, provider_id);
    return one_int(st, s, id, NULL);
}

enum sb_err sb_store_outbox_by_provider(struct sb_store *st, const char *channel,
                                        const char *provider_id, int64_t *outbox_id,
                                        int64_t *conv_id, int64_t *msg_id)
{
    sqlite3_stmt *s = store_prep(st, "SELECT conversation_id, message_id, id FROM outbox"
                                     " WHERE channel = ?1 AND provider_id = ?2"
                                     " ORDER BY id DESC LIMIT 1");
    enum sb_err rc = SB_ERR_NOT_FOUND;
    int r;
    if (!s) return SB_ERR_DB;
    bind_text(s, 1, channel);
    bind_text(s, 2, provider_id);
    r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        *conv_id = sqlite3_column_int64(s, 0);
        *msg_id = sqlite3_column_int64(s, 1);
        *outbox_id = sqlite3_column_int64(s, 2);
        rc = SB_OK;
    } else if (r != SQLITE_DONE) {
        rc = SB_ERR_DB;
    }
    store_release(st, s);
    return rc;
}

enum sb_err sb_store_outbox_counts(struct sb_store *st, int64_t *pending, int64_t *dead)
{
    sqlite3_stmt *s = store_prep(st, "SELECT (SELECT count(*) FROM outbox WHERE state = 'pending'),"
                                     " (SELECT count(*) FROM outbox WHERE state = 'dead')");
    int r;
    if (!s) return SB_ERR_DB;
    *pending = *dead = 0;
    r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        *pending = sqlite3_column_int64(s, 0);
        *dead = sqlite3_column_int64(s, 1);
    }
    store_release(st, s);
    return r == SQLITE_ROW ? SB_OK : SB_ERR_DB;
}

/* ------- inbound turns ------- */

enum sb_err sb_store_turn_add(struct sb_store *st, int64_t msg_id)
{
    sqlite3_stmt *s = store_prep(st, "INSERT OR IGNORE INTO inbound_turns(message_id) VALUES(?1)");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, msg_id);
    return store_done(st, s);
}

enum sb_err sb_store_turn_done(struct sb_store *st, int64_t msg_id)
{
    sqlite3_stmt *s = store_prep(st, "DELETE FROM inbound_turns WHERE message_id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, msg_id);
    return store_done(st, s);
}

int sb_store_turns_pending(struct sb_store *st, int64_t *out, int max)
{
    sqlite3_stmt *s =
        store_prep(st, "SELECT message_id FROM inbound_turns ORDER BY message_id LIMIT ?1");
    int n = 0, r;
    if (!s) return -1;
    sqlite3_bind_int(s, 1, max);
    while ((r = sqlite3_step(s)) == SQLITE_ROW && n < max)
        out[n++] = sqlite3_column_int64(s, 0);
    store_release(st, s);
    return r == SQLITE_ROW || r == SQLITE_DONE ? n : -1;
}

enum sb_err sb_store_inbound_get(struct sb_store *st, int64_t msg_id, struct sb_stored_inbound *out)
{
    sqlite3_stmt *s = store_prep(st, "SELECT conversation_id, channel, body,"
                                     " ifnull(json_extract(extra, '$.payload'), ''),"
                                     " ifnull(json_extract(extra, '$.locale'), '')"
                                     " FROM messages WHERE id = ?1 AND direction = 'in'");
    enum sb_err rc = SB_ERR_NOT_FOUND;
    int r;

    memset(out, 0, sizeof(*out));
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, msg_id);
    r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        out->conv_id = sqlite3_column_int64(s, 0);
        snprintf(out->channel, sizeof(out->channel), "%s", store_col(s, 1));
        out->text = strdup(store_col(s, 2));
        snprintf(out->payload, sizeof(out->payload), "%s", store_col(s, 3));
        snprintf(out->locale, sizeof(out->locale), "%s", store_col(s, 4));
        rc = out->text ? SB_OK : SB_ERR_NOMEM;
    } else if (r != SQLITE_DONE) {
        rc = SB_ERR_DB;
    }
    store_release(st, s);
    return rc;
}

void sb_stored_inbound_cleanup(struct sb_stored_inbound *in)
{
    free(in->text);
    in->text = NULL;
}
