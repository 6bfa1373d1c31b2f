/*
 * store_agent.c - the SQL behind store_agent.h: the agent API's lists and
 * writes, the agents' event streams' reads and the access rule's check.
 * Statements come from the store's statement cache (stmt_cache.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "store_agent.h"
#include "store_int.h"

static int64_t col_opt(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, i);
}

static json_t *col_int_or_null(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? json_null()
                                                    : json_integer(sqlite3_column_int64(s, i));
}

static void bind_viewer(sqlite3_stmt *s, int64_t user, bool all)
{
    int at = sqlite3_bind_parameter_index(s, ":viewer");
    if (at) sqlite3_bind_int64(s, at, user);
    at = sqlite3_bind_parameter_index(s, ":all");
    if (at) sqlite3_bind_int(s, at, all);
}

/* Ends a list: the list, or NULL (freed) when the step failed. */
static json_t *list_done(struct sb_store *st, sqlite3_stmt *s, int r, json_t *list)
{
    store_release(st, s);
    if (r == SQLITE_DONE) return list;
    sb_error("store: %s", sqlite3_errmsg(st->db));
    json_decref(list);
    return NULL;
}

#define SLA_COLS                                                                                   \
    "c.first_response_due, c.first_response_warn, c.first_response_at, c.next_response_due,"       \
    " c.next_response_warn, c.resolution_due, c.resolution_warn"

/* The SLA_COLS from col on: [{kind, due_at, warn_at, met}] of the kinds
 * that have a due time. */
static json_t *sla_raw(sqlite3_stmt *s, int col)
{
    static const char *const kinds[] = {"first_response", "next_response", "resolution"};
    json_t *arr = json_array();
    for (int k = 0; k < 3; k++) {
        int dcol = k == 0 ? col : k == 1 ? col + 3 : col + 5;
        int64_t due = col_opt(s, dcol), warn = col_opt(s, dcol + 1);
        bool met = k == 0 && col_opt(s, col + 2);
        if (!due) continue;
        json_array_append_new(arr,
                              json_pack("{s:s, s:I, s:I, s:b}", "kind", kinds[k], "due_at",
                                        (json_int_t)due, "warn_at", (json_int_t)warn, "met", met));
    }
    return arr;
}

/* ------- the agent API ------- */

json_t *sb_store_agent_profile(struct sb_store *st, int64_t user)
{
    sqlite3_stmt *s = store_prep(
        st, "SELECT p.status, p.capacity, p.skills, (SELECT json_group_array(team_id) FROM"
            " team_members m WHERE m.user_id = ?1) FROM agent_profiles p WHERE p.user_id = ?1");
    json_t *out;
    if (!s) return NULL;
    sqlite3_bind_int64(s, 1, user);
    if (sqlite3_step(s) == SQLITE_ROW)
        out = json_pack("{s:s, s:f, s:o, s:o}", "status", store_col(s, 0), "capacity",
                        sqlite3_column_double(s, 1), "skills", json_loads(store_col(s, 2), 0, NULL),
                        "teams", json_loads(store_col(s, 3), 0, NULL));
    else
        out = json_pack("{s:s, s:f, s:[], s:[]}", "status", "offline", "capacity", 4.0, "skills",
                        "teams");
    store_release(st, s);
    return out;
}

enum sb_err sb_store_agent_status_set(struct sb_store *st, int64_t user, const char *status,
                                      int64_t now)
{
    sqlite3_stmt *s =
        store_prep(st, "INSERT INTO agent_profiles(user_id, status, status_changed_at)"
                       " VALUES(?1, ?2, ?3) ON CONFLICT(user_id) DO UPDATE SET"
                       " status = excluded.status, status_changed_at = excluded.status_changed_at");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, user);
    sqlite3_bind_text(s, 2, status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, now);
    return store_done(st, s);
}

json_t *sb_store_agent_queue(struct sb_store *st, int64_t user, bool all)
{
    sqlite3_stmt *s = store_prep(
        st,
        "SELECT c.public_id, ifnull(c.team, 'default'), c.priority, c.channel, c.locale,"
        " ifnull(k.name, ''), ifnull(c.queued_at, c.updated_at), ifnull(c.offered_to, 0),"
        " ifnull(c.offer_expires_at, 0), (SELECT body FROM messages m WHERE"
        " m.conversation_id = c.id AND m.direction = 'in' ORDER BY m.id DESC LIMIT 1), " SLA_COLS
        " FROM conversations c JOIN contacts k ON k.id = c.contact_id"
        " WHERE c.status = 'queued' AND (?2 OR c.offered_to = ?1 OR c.team IN"
        " (SELECT team_id FROM team_members WHERE user_id = ?1))"
        " ORDER BY c.priority DESC, ifnull(c.first_response_due, 9e18), c.queued_at, c.id"
        " LIMIT 500");
    json_t *list;
    int r;
    if (!s) return NULL;
    list = json_array();
    sqlite3_bind_int64(s, 1, user);
    sqlite3_bind_int(s, 2, all);
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t off = sqlite3_column_int64(s, 7);
        const char *pv = store_col(s, 9);
        json_t *item = json_pack(
            "{s:s, s:s, s:i, s:s, s:s, s:{s:s}, s:I, s:o, s:o, s:s#, s:o}", "id", store_col(s, 0),
            "team", store_col(s, 1), "priority", sqlite3_column_int(s, 2), "channel",
            store_col(s, 3), "locale", store_col(s, 4), "contact", "name", store_col(s, 5),
            "queued_at", (json_int_t)sqlite3_column_int64(s, 6), "offered_to",
            off ? json_integer(off) : json_null(), "offer_expires_at",
            off ? json_integer(sqlite3_column_int64(s, 8)) : json_null(), "preview", pv,
            (int)(strlen(pv) > 140 ? 140 : strlen(pv)), "sla", sla_raw(s, 10));
        if (item) json_array_append_new(list, item);
    }
    return list_done(st, s, r, list);
}

json_t *sb_store_agent_visible(struct sb_store *st, int64_t user, bool all, const char *status)
{
    sqlite3_stmt *s =
        store_prep(st, "SELECT c.public_id, c.status, c.locale, c.channel,"
                       " c.created_at, c.updated_at, c.team FROM conversations c"
                       " WHERE (:status IS NULL OR c.status = :status) AND " AGENT_SEES(
                           "c") " ORDER BY c.updated_at DESC LIMIT 500");
    json_t *list;
    int r;
    if (!s) return NULL;
    bind_viewer(s, user, all);
    if (status)
        sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":status"), status, -1,
                          SQLITE_TRANSIENT);
    list = json_array();
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        json_t *item = json_pack(
            "{s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "id", store_col(s, 0), "status", store_col(s, 1),
            "locale", store_col(s, 2), "channel", store_col(s, 3), "created_at",
            (json_int_t)sqlite3_column_int64(s, 4), "updated_at",
            (json_int_t)sqlite3_column_int64(s, 5), "team",
            sqlite3_column_type(s, 6) == SQLITE_NULL ? json_null() : json_string(store_col(s, 6)));
        if (item) json_array_append_new(list, item);
    }
    return list_done(st, s, r, list);
}

json_t *sb_store_agent_mine(struct sb_store *st, int64_t user, const char *status)
{
    sqlite3_stmt *s = store_prep(
        st, "SELECT c.public_id, c.status, ifnull(c.team, 'default'), c.channel, c.locale,"
            " ifnull(k.name, ''), c.updated_at, (SELECT count(*) FROM messages m WHERE"
            " m.conversation_id = c.id AND m.direction = 'in' AND m.id > ifnull((SELECT up_to"
            " FROM agent_reads a WHERE a.conversation_id = c.id AND a.user_id = ?1), 0)),"
            " (SELECT body FROM messages m WHERE m.conversation_id = c.id ORDER BY m.id DESC"
            " LIMIT 1), c.csat, " SLA_COLS
            " FROM conversations c JOIN contacts k ON k.id = c.contact_id"
            " WHERE (c.assignee = ?1 OR c.offered_to = ?1) AND (?2 IS NULL OR c.status = ?2)"
            " AND (?2 IS NOT NULL OR c.status IN ('queued', 'assigned'))"
            " ORDER BY c.updated_at DESC LIMIT 500");
    json_t *list;
    int r;
    if (!s) return NULL;
    sqlite3_bind_int64(s, 1, user);
    if (status) sqlite3_bind_text(s, 2, status, -1, SQLITE_TRANSIENT);
    list = json_array();
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        json_t *item = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:I, s:i, s:s, s:o, s:o}", "id", store_col(s, 0),
            "status", store_col(s, 1), "team", store_col(s, 2), "channel", store_col(s, 3),
            "locale", store_col(s, 4), "contact", "name", store_col(s, 5), "updated_at",
            (json_int_t)sqlite3_column_int64(s, 6), "unread", sqlite3_column_int(s, 7), "preview",
            store_col(s, 8), "csat", col_int_or_null(s, 9), "sla", sla_raw(s, 10));
        if (item) json_array_append_new(list, item);
    }
    return list_done(st, s, r, list);
}

json_t *sb_store_bot_turns(struct sb_store *st, int64_t conv)
{
    sqlite3_stmt *s = store_prep(
        st, "SELECT q.text, q.outcome, q.confidence, a.title, a.slug, q.created_at, a.id FROM"
            " kb_queries q LEFT JOIN kb_articles a ON a.id = q.article_id"
            " WHERE q.conversation_id = ?1 ORDER BY q.id LIMIT 500");
    json_t *arr = json_array();
    if (!s) return arr;
    sqlite3_bind_int64(s, 1, conv);
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *o = store_col(s, 1);
        json_t *hits = json_array();
        if (sqlite3_column_type(s, 3) != SQLITE_NULL)
            json_array_append_new(hits, json_pack("{s:I, s:s, s:s, s:f}", "id",
                                                  (json_int_t)sqlite3_column_int64(s, 6), "title",
                                                  store_col(s, 3), "slug", store_col(s, 4),
                                                  "confidence", sqlite3_column_double(s, 2)));
        json_array_append_new(arr, json_pack("{s:s, s:o, s:s, s:I}", "searched", store_col(s, 0),
                                             "hits", hits, "decision",
                                             strcmp(o, "answered") == 0 ? "answer"
                                             : strcmp(o, "unsure") == 0 ? "clarify"
                                                                        : "handoff",
                                             "at", (json_int_t)sqlite3_column_int64(s, 5)));
    }
    store_release(st, s);
    return arr;
}

json_t *sb_store_notes(struct sb_store *st, int64_t conv)
{
    sqlite3_stmt *s = store_prep(st, "SELECT n.id, n.author, ifnull(u.name, ''), n.text,"
                                     " n.created_at FROM notes n LEFT JOIN users u ON"
                                     " u.id = n.author WHERE n.conversation_id = ?1 ORDER BY n.id");
    json_t *arr = json_array();
    if (!s) return arr;
    sqlite3_bind_int64(s, 1, conv);
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:I, s:{s:I, s:s}, s:s, s:I}", "id",
                                             (json_int_t)sqlite3_column_int64(s, 0), "author", "id",
                                             (json_int_t)sqlite3_column_int64(s, 1), "name",
                                             store_col(s, 2), "text", store_col(s, 3), "created_at",
                                             (json_int_t)sqlite3_column_int64(s, 4)));
    store_release(st, s);
    return arr;
}

enum sb_err sb_store_note_add(struct sb_store *st, int64_t conv, int64_t author, const char *text,
                              int64_t now, int64_t *id)
{
    sqlite3_stmt *s = store_prep(st, "INSERT INTO notes(conversation_id, author, text, created_at)"
                                     " VALUES(?1, ?2, ?3, ?4)");
    enum sb_err rc;
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    sqlite3_bind_int64(s, 2, author);
    sqlite3_bind_text(s, 3, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    rc = store_done(st, s);
    if (!rc) *id = sqlite3_last_insert_rowid(st->db);
    return rc;
}

enum sb_err sb_store_conv_agent_fields(struct sb_store *st, int64_t conv, json_t *out)
{
    sqlite3_stmt *s = store_prep(st, "SELECT c.csat, k.public_id, ifnull(c.skills, '[]'), " SLA_COLS
                                     " FROM conversations c JOIN contacts k ON k.id = c.contact_id"
                                     " WHERE c.id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    if (sqlite3_step(s) == SQLITE_ROW) {
        json_t *skills = json_loads(store_col(s, 2), 0, NULL);
        json_object_set_new(out, "csat", col_int_or_null(s, 0));
        json_object_set_new(out, "contact_id", json_string(store_col(s, 1)));
        /* what an agent must have to be offered it (rules, route hook) */
        json_object_set_new(out, "skills", json_is_array(skills) ? skills : json_array());
        if (!json_is_array(skills)) json_decref(skills);
        json_object_set_new(out, "sla", sla_raw(s, 3));
    }
    store_release(st, s);
    return SB_OK;
}

int64_t sb_store_last_inbound_at(struct sb_store *st, int64_t conv)
{
    /* newest first along messages_conversation: stops at the first one in */
    sqlite3_stmt *s = store_prep(st, "SELECT created_at FROM messages WHERE conversation_id = ?1"
                                     " AND direction = 'in' ORDER BY id DESC LIMIT 1");
    int64_t at = 0;
    if (!s) return 0;
    sqlite3_bind_int64(s, 1, conv);
    if (sqlite3_step(s) == SQLITE_ROW) at = sqlite3_column_int64(s, 0);
    store_release(st, s);
    return at;
}

int64_t sb_store_reply_by_client_id(struct sb_store *st, int64_t conv, const char *client_id)
{
    sqlite3_stmt *s = store_prep(st, "SELECT id FROM messages WHERE conversation_id = ?1"
                                     " AND direction = 'out' AND client_id = ?2");
    int64_t id = 0;
    if (!s) return 0;
    sqlite3_bind_int64(s, 1, conv);
    sqlite3_bind_text(s, 2, client_id, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW) id = sqlite3_column_int64(s, 0);
    store_release(st, s);
    return id;
}

enum sb_err sb_store_agent_read(struct sb_store *st, int64_t conv, int64_t user, int64_t up_to)
{
    sqlite3_stmt *s = store_prep(st, "INSERT INTO agent_reads(conversation_id, user_id, up_to)"
                                     " VALUES(?1, ?2, ?3) ON CONFLICT DO UPDATE SET"
                                     " up_to = max(up_to, excluded.up_to)");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    sqlite3_bind_int64(s, 2, user);
    sqlite3_bind_int64(s, 3, up_to);
    return store_done(st, s);
}

bool sb_store_agent_sees(struct sb_store *st, int64_t user, bool all, int64_t conv)
{
    sqlite3_stmt *s =
        store_prep(st, "SELECT 1 FROM conversations c WHERE c.id = :conv AND " AGENT_SEES("c"));
    bool yes;
    if (!s) return false;
    bind_viewer(s, user, all);
    sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":conv"), conv);
    yes = sqlite3_step(s) == SQLITE_ROW;
    store_release(st, s);
    return yes;
}

/* ------- the agents' event streams ------- */

enum sb_err sb_store_agent_events_each(struct sb_store *st, int64_t after, int64_t upto,
                                       void (*fn)(void *arg, const struct sb_agent_event *e),
                                       void *arg)
{
    sqlite3_stmt *q = store_prep(st, "SELECT e.id, e.type, e.data, c.public_id, c.assignee,"
                                     " c.offered_to, c.status, c.team, c.last_assignee,"
                                     " CASE e.type WHEN 'conversation/offered'"
                                     " THEN json_extract(e.data, '$.agent.id') END"
                                     " FROM events e JOIN conversations c"
                                     " ON c.id = e.conversation_id"
                                     " WHERE e.id > ?1 AND e.id <= ?2 ORDER BY e.id");
    int r;
    if (!q) return SB_ERR_DB;
    sqlite3_bind_int64(q, 1, after);
    sqlite3_bind_int64(q, 2, upto);
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        struct sb_agent_event e = {.id = sqlite3_column_int64(q, 0),
                                   .type = store_col(q, 1),
                                   .data = store_col(q, 2),
                                   .conversation = store_col(q, 3),
                                   .assignee = col_opt(q, 4),
                                   .offered_to = col_opt(q, 5),
                                   .status = store_col(q, 6),
                                   .team = store_col(q, 7),
                                   .last_assignee = col_opt(q, 8),
                                   .offered_agent = col_opt(q, 9)};
        fn(arg, &e);
    }
    store_release(st, q);
    return r == SQLITE_DONE ? SB_OK : SB_ERR_DB;
}

enum sb_err sb_store_agent_events_for(struct sb_store *st, int64_t user, bool supervisor,
                                      int64_t after, int64_t upto, int limit,
                                      bool (*fn)(void *arg, const struct sb_agent_event *e),
                                      void *arg, bool *done)
{
    /* The visibility test reads the conversations' current rows, which may
     * include an open batch's changes: it only chooses among events up to
     * upto, which the caller keeps durable. */
    sqlite3_stmt *q = store_prep(
        st, "SELECT e.id, e.type, e.data, c.public_id FROM events e JOIN conversations c"
            " ON c.id = e.conversation_id WHERE e.id > ?1 AND (?3 OR"
            " (e.type != 'conversation/offered' OR json_extract(e.data, '$.agent.id') = ?2)"
            " AND (e.type = 'conversation/offered' OR c.assignee = ?2 OR c.offered_to = ?2"
            " OR (c.status = 'queued' AND c.team IN (SELECT team_id FROM team_members"
            " WHERE user_id = ?2))"
            " OR e.type IN ('conversation/resolved', 'conversation/returned_to_bot',"
            " 'conversation/transferred', 'conversation/assigned', 'conversation/queued')"
            " AND c.last_assignee = ?2))"
            " AND e.id <= ?5 ORDER BY e.id LIMIT ?4");
    int r, n = 0;
    *done = false;
    if (!q) return SB_ERR_DB;
    sqlite3_bind_int64(q, 1, after);
    sqlite3_bind_int64(q, 2, user);
    sqlite3_bind_int(q, 3, supervisor);
    sqlite3_bind_int(q, 4, limit);
    sqlite3_bind_int64(q, 5, upto);
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        struct sb_agent_event e = {.id = sqlite3_column_int64(q, 0),
                                   .type = store_col(q, 1),
                                   .data = store_col(q, 2),
                                   .conversation = store_col(q, 3)};
        if (fn(arg, &e)) break;
        n++;
    }
    *done = r == SQLITE_DONE && n < limit;
    store_release(st, q);
    return r == SQLITE_DONE || r == SQLITE_ROW ? SB_OK : SB_ERR_DB;
}

int64_t sb_store_event_top(struct sb_store *st)
{
    sqlite3_stmt *s = store_stmt(st, ST_EVENT_MAX);
    int64_t top = 0;
    if (sqlite3_step(s) == SQLITE_ROW) top = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return top;
}

int sb_store_agent_teams(struct sb_store *st, int64_t user, char (*teams)[64], int max)
{
    sqlite3_stmt *q = store_prep(st, "SELECT team_id FROM team_members WHERE user_id = ?1");
    int n = 0;
    if (!q) return 0;
    sqlite3_bind_int64(q, 1, user);
    while (n < max && sqlite3_step(q) == SQLITE_ROW)
        snprintf(teams[n++], 64, "%s", store_col(q, 0));
    store_release(st, q);
    return n;
}
