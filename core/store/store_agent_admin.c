/*
 * store_agent_admin.c - the SQL behind agent_admin.h: the customer card,
 * canned responses, the supervisor overview, and the admin's teams, agent
 * profiles, routing rules and SLA policies (tables of migration 7).
 *
 * These are admin and read paths, far from hot; their statements come from
 * the store's statement cache like every store file's outside the message
 * path's numbered ones. Writers run inside the caller's unit of work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_users.h"
#include "sb_log.h"
#include "sb_util.h"
#include "store_agent_admin.h"
#include "store_int.h"

#define PREVIEW_MAX 200 /* bytes of a last-message preview */
#define CONTACT_CONVS_MAX 200
#define CONTACT_NOTES_MAX 500

/* Binds :viewer and :all of a statement that uses AGENT_SEES. */
static void agent_viewer_bind(sqlite3_stmt *s, const struct agent_viewer *v)
{
    int at = sqlite3_bind_parameter_index(s, ":viewer");
    if (at) sqlite3_bind_int64(s, at, v->user);
    at = sqlite3_bind_parameter_index(s, ":all");
    if (at) sqlite3_bind_int(s, at, v->all);
}

/* Every statement here is a literal: the store's cache keeps it prepared
 * (store/stmt_cache.c). */
static sqlite3_stmt *prep(struct sb_store *st, const char *sql)
{
    return store_prep(st, sql);
}

/* Steps a statement that returns no rows and releases it. */
static enum sb_err done(struct sb_store *st, sqlite3_stmt *s)
{
    return store_done(st, s);
}

static const char *col_text(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    return t ? (const char *)t : "";
}

static json_t *col_str_or_null(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? json_null() : json_string(col_text(s, col));
}

/* A JSON column (stored by us), or fallback when absent or damaged. */
static json_t *col_json(sqlite3_stmt *s, int col, json_t *fallback)
{
    json_t *v = NULL;
    if (sqlite3_column_type(s, col) != SQLITE_NULL) v = json_loads(col_text(s, col), 0, NULL);
    if (!v) return fallback;
    json_decref(fallback);
    return v;
}

static enum sb_err bind_json(sqlite3_stmt *s, int i, const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text) return SB_ERR_NOMEM;
    sqlite3_bind_text(s, i, text, -1, free);
    return SB_OK;
}

static bool exists(struct sb_store *st, const char *sql, const char *text, int64_t num)
{
    sqlite3_stmt *s = prep(st, sql);
    bool found;
    if (!s) return false;
    if (text)
        sqlite3_bind_text(s, 1, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_int64(s, 1, num);
    found = sqlite3_step(s) == SQLITE_ROW;
    store_release(st, s);
    return found;
}

/* A preview of at most PREVIEW_MAX bytes, cut at a character boundary. */
static json_t *preview(const char *text)
{
    size_t n = strlen(text);
    if (n <= PREVIEW_MAX) return json_string(text);
    return json_stringn(text, sb_utf8_cut(text, n, PREVIEW_MAX));
}

/* ---------- the customer card ---------- */

/* The row id of the contact ref names, when v may see it: ref is the
 * contact's public id (v sees one of its conversations) or the public id
 * of a conversation v sees. 0 otherwise. */
static int64_t contact_visible(struct sb_store *st, const char *ref, const struct agent_viewer *v)
{
    sqlite3_stmt *s =
        prep(st, "SELECT k.id FROM contacts k WHERE k.public_id = :ref AND EXISTS"
                 " (SELECT 1 FROM conversations c WHERE c.contact_id = k.id AND " AGENT_SEES(
                     "c") ") UNION ALL SELECT c.contact_id FROM conversations c"
                          " WHERE c.public_id = :ref AND " AGENT_SEES("c"));
    int64_t id = 0;
    if (!s) return 0;
    sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":ref"), ref, -1, SQLITE_TRANSIENT);
    agent_viewer_bind(s, v);
    if (sqlite3_step(s) == SQLITE_ROW) id = sqlite3_column_int64(s, 0);
    store_release(st, s);
    return id;
}

/* Statements with AGENT_SEES name every parameter: a "?2" after it would
 * share a number with one of its own. */
static void bind_contact_limit(sqlite3_stmt *s, int64_t contact, int limit)
{
    sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":contact"), contact);
    sqlite3_bind_int(s, sqlite3_bind_parameter_index(s, ":limit"), limit);
}

static json_t *contact_identities(struct sb_store *st, int64_t id)
{
    sqlite3_stmt *s = prep(st, "SELECT channel, external_id, verified_by, created_at"
                               " FROM identities WHERE contact_id = ?1 ORDER BY id");
    json_t *arr = json_array();
    if (!s) return arr;
    sqlite3_bind_int64(s, 1, id);
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:b, s:I}", "channel", col_text(s, 0),
                                             "external_id", col_text(s, 1), "verified_by",
                                             col_str_or_null(s, 2), "verified",
                                             sqlite3_column_type(s, 2) != SQLITE_NULL, "created_at",
                                             (json_int_t)sqlite3_column_int64(s, 3)));
    store_release(st, s);
    return arr;
}

static json_t *contact_conversations(struct sb_store *st, int64_t id, const struct agent_viewer *v)
{
    sqlite3_stmt *s =
        prep(st, "SELECT c.public_id, c.channel, c.status, c.team, c.locale, c.created_at,"
                 " c.updated_at, c.assignee, u.name, m.body, m.author, m.created_at,"
                 " c.offered_to IS NOT NULL, c.csat"
                 " FROM conversations c LEFT JOIN users u ON u.id = c.assignee"
                 " LEFT JOIN messages m ON m.id ="
                 "   (SELECT max(id) FROM messages WHERE conversation_id = c.id)"
                 " WHERE c.contact_id = :contact AND " AGENT_SEES(
                     "c") " ORDER BY c.updated_at DESC, c.id DESC LIMIT :limit");
    json_t *arr = json_array();
    if (!s) return arr;
    bind_contact_limit(s, id, CONTACT_CONVS_MAX);
    agent_viewer_bind(s, v);
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *last = json_null(), *assignee = json_null();
        if (sqlite3_column_type(s, 9) != SQLITE_NULL)
            last = json_pack("{s:o, s:s, s:I}", "text", preview(col_text(s, 9)), "author",
                             col_text(s, 10), "at", (json_int_t)sqlite3_column_int64(s, 11));
        if (sqlite3_column_type(s, 7) != SQLITE_NULL)
            assignee = json_pack("{s:I, s:o}", "id", (json_int_t)sqlite3_column_int64(s, 7), "name",
                                 col_str_or_null(s, 8));
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:s, s:b, s:o, s:s, s:I, s:I, s:o, s:o}", "id",
                                        col_text(s, 0), "channel", col_text(s, 1), "status",
                                        col_text(s, 2), "offered", sqlite3_column_int(s, 12),
                                        "team", col_str_or_null(s, 3), "locale", col_text(s, 4),
                                        "created_at", (json_int_t)sqlite3_column_int64(s, 5),
                                        "updated_at", (json_int_t)sqlite3_column_int64(s, 6),
                                        "last_message", last, "assignee", assignee));
        json_object_set_new(json_array_get(arr, json_array_size(arr) - 1), "csat",
                            sqlite3_column_type(s, 13) == SQLITE_NULL
                                ? json_null()
                                : json_integer(sqlite3_column_int(s, 13)));
    }
    store_release(st, s);
    return arr;
}

static json_t *contact_notes(struct sb_store *st, int64_t id, const struct agent_viewer *v)
{
    sqlite3_stmt *s = prep(st, "SELECT n.id, c.public_id, n.author, u.name, n.text, n.created_at"
                               " FROM notes n JOIN conversations c ON c.id = n.conversation_id"
                               " LEFT JOIN users u ON u.id = n.author"
                               " WHERE c.contact_id = :contact AND " AGENT_SEES(
                                   "c") " ORDER BY n.created_at DESC, n.id DESC LIMIT :limit");
    json_t *arr = json_array();
    if (!s) return arr;
    bind_contact_limit(s, id, CONTACT_NOTES_MAX);
    agent_viewer_bind(s, v);
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:I, s:s, s:{s:I, s:o}, s:s, s:I}", "id",
                                             (json_int_t)sqlite3_column_int64(s, 0),
                                             "conversation_id", col_text(s, 1), "author", "id",
                                             (json_int_t)sqlite3_column_int64(s, 2), "name",
                                             col_str_or_null(s, 3), "text", col_text(s, 4),
                                             "created_at", (json_int_t)sqlite3_column_int64(s, 5)));
    store_release(st, s);
    return arr;
}

enum sb_err agent_store_contact(struct sb_store *st, const char *ref, const struct agent_viewer *v,
                                json_t **out)
{
    int64_t id = contact_visible(st, ref, v);
    sqlite3_stmt *s;
    json_t *card;
    if (id <= 0) return SB_ERR_NOT_FOUND;
    s = prep(st, "SELECT name, attrs, created_at, public_id FROM contacts WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) != SQLITE_ROW) {
        store_release(st, s);
        return SB_ERR_NOT_FOUND;
    }
    card = json_pack("{s:s, s:o, s:o, s:I}", "id", col_text(s, 3), "name", col_str_or_null(s, 0),
                     "attributes", col_json(s, 1, json_object()), "created_at",
                     (json_int_t)sqlite3_column_int64(s, 2));
    store_release(st, s);
    if (!card) return SB_ERR_NOMEM;
    json_object_set_new(card, "identities", contact_identities(st, id));
    json_object_set_new(card, "conversations", contact_conversations(st, id, v));
    json_object_set_new(card, "notes", contact_notes(st, id, v));
    *out = card;
    return SB_OK;
}

/* ---------- canned responses ---------- */

static json_t *canned_row(sqlite3_stmt *s)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:I}", "id",
                     (json_int_t)sqlite3_column_int64(s, 0), "shortcut", col_text(s, 1), "locale",
                     col_text(s, 2), "title", col_text(s, 3), "text", col_text(s, 4), "team",
                     col_str_or_null(s, 5), "updated_at", (json_int_t)sqlite3_column_int64(s, 6));
}

json_t *agent_store_canned_list(struct sb_store *st, const char *locale, const char *q,
                                int64_t user_id)
{
    sqlite3_stmt *s =
        prep(st, "SELECT id, shortcut, locale, title, text, team, updated_at"
                 " FROM canned_responses WHERE (?1 IS NULL OR locale = ?1)"
                 " AND (?2 IS NULL OR instr(lower(shortcut), lower(?2)) > 0"
                 "   OR instr(lower(title), lower(?2)) > 0 OR instr(lower(text), lower(?2)) > 0)"
                 " AND (?3 = 0 OR team IS NULL"
                 "   OR team IN (SELECT team_id FROM team_members WHERE user_id = ?3))"
                 " ORDER BY shortcut, locale, team IS NOT NULL, team LIMIT 500");
    json_t *arr = json_array();
    if (!s) return arr;
    if (locale) sqlite3_bind_text(s, 1, locale, -1, SQLITE_TRANSIENT);
    if (q && *q) sqlite3_bind_text(s, 2, q, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, user_id);
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, canned_row(s));
    store_release(st, s);
    return arr;
}

enum sb_err agent_store_canned_get(struct sb_store *st, int64_t id, json_t **out)
{
    sqlite3_stmt *s = prep(st, "SELECT id, shortcut, locale, title, text, team, updated_at"
                               " FROM canned_responses WHERE id = ?1");
    enum sb_err rc = SB_ERR_NOT_FOUND;
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) == SQLITE_ROW) {
        *out = canned_row(s);
        rc = *out ? SB_OK : SB_ERR_NOMEM;
    }
    store_release(st, s);
    return rc;
}

bool agent_store_canned_allowed(struct sb_store *st, const json_t *c, int64_t user_id)
{
    const char *team = json_string_value(json_object_get(c, "team"));
    sqlite3_stmt *s;
    bool ok;
    if (!team || user_id == 0) return true;
    s = prep(st, "SELECT 1 FROM team_members WHERE team_id = ?1 AND user_id = ?2");
    if (!s) return false;
    sqlite3_bind_text(s, 1, team, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, user_id);
    ok = sqlite3_step(s) == SQLITE_ROW;
    store_release(st, s);
    return ok;
}

enum sb_err agent_store_canned_put(struct sb_store *st, int64_t *id, const json_t *c)
{
    const char *team = json_string_value(json_object_get(c, "team"));
    const char *shortcut = json_string_value(json_object_get(c, "shortcut"));
    const char *locale = json_string_value(json_object_get(c, "locale"));
    sqlite3_stmt *s;
    bool taken;

    if (team && !agent_store_team_exists(st, team)) return SB_ERR_NOT_FOUND;
    if (*id && !exists(st, "SELECT 1 FROM canned_responses WHERE id = ?1", NULL, *id))
        return SB_ERR_NOT_FOUND;
    /* UNIQUE(shortcut, locale, team) lets NULL teams repeat: check here. */
    s = prep(st, "SELECT 1 FROM canned_responses WHERE shortcut = ?1 AND locale = ?2"
                 " AND team IS ?3 AND id != ?4");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_text(s, 1, shortcut, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, locale, -1, SQLITE_TRANSIENT);
    if (team) sqlite3_bind_text(s, 3, team, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, *id);
    taken = sqlite3_step(s) == SQLITE_ROW;
    store_release(st, s);
    if (taken) return SB_ERR_EXISTS;
    s = prep(st, *id ? "UPDATE canned_responses SET shortcut = ?2, locale = ?3, title = ?4,"
                       " text = ?5, team = ?6, updated_at = ?7 WHERE id = ?1"
                     : "INSERT INTO canned_responses(shortcut, locale, title, text, team,"
                       " created_at, updated_at) VALUES(?2, ?3, ?4, ?5, ?6, ?7, ?7)");
    if (!s) return SB_ERR_DB;
    if (*id) sqlite3_bind_int64(s, 1, *id);
    sqlite3_bind_text(s, 2, shortcut, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, locale, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, json_string_value(json_object_get(c, "title")), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 5, json_string_value(json_object_get(c, "text")), -1, SQLITE_TRANSIENT);
    if (team) sqlite3_bind_text(s, 6, team, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 7, sb_now_ms());
    if (done(st, s)) return SB_ERR_DB;
    if (!*id) *id = sqlite3_last_insert_rowid(st->db);
    return SB_OK;
}

enum sb_err agent_store_canned_delete(struct sb_store *st, int64_t id)
{
    sqlite3_stmt *s;
    if (!exists(st, "SELECT 1 FROM canned_responses WHERE id = ?1", NULL, id))
        return SB_ERR_NOT_FOUND;
    s = prep(st, "DELETE FROM canned_responses WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    return done(st, s);
}

/* ---------- the supervisor overview ---------- */

/* {user id: [team ids]} of every member. */
static json_t *teams_by_user(struct sb_store *st)
{
    sqlite3_stmt *s = prep(st, "SELECT user_id, team_id FROM team_members ORDER BY team_id");
    json_t *map = json_object();
    if (!s) return map;
    while (sqlite3_step(s) == SQLITE_ROW) {
        char key[24];
        json_t *list;
        snprintf(key, sizeof(key), "%lld", (long long)sqlite3_column_int64(s, 0));
        list = json_object_get(map, key);
        if (!list) {
            list = json_array();
            json_object_set_new(map, key, list);
        }
        json_array_append_new(list, json_string(col_text(s, 1)));
    }
    store_release(st, s);
    return map;
}

/* {user id: load}: the weights of what each agent holds or is offered. */
static json_t *loads(struct sb_store *st, agent_weight_fn weight, void *arg)
{
    sqlite3_stmt *s = prep(st, "SELECT who, channel, count(*) FROM ("
                               " SELECT assignee AS who, channel FROM conversations"
                               "  WHERE status = 'assigned' AND assignee IS NOT NULL"
                               " UNION ALL SELECT offered_to, channel FROM conversations"
                               "  WHERE status = 'queued' AND offered_to IS NOT NULL)"
                               " GROUP BY who, channel");
    json_t *map = json_object();
    if (!s) return map;
    while (sqlite3_step(s) == SQLITE_ROW) {
        char key[24];
        double w = weight ? weight(col_text(s, 1), arg) : 1.0;
        snprintf(key, sizeof(key), "%lld", (long long)sqlite3_column_int64(s, 0));
        json_object_set_new(map, key,
                            json_real(json_real_value(json_object_get(map, key)) +
                                      w * (double)sqlite3_column_int64(s, 2)));
    }
    store_release(st, s);
    return map;
}

static json_t *overview_agents(struct sb_store *st, agent_weight_fn weight, void *arg)
{
    sqlite3_stmt *s = prep(st, "SELECT u.id, u.name, u.email, ifnull(p.status, 'offline'),"
                               " ifnull(p.capacity, 4) FROM users u"
                               " LEFT JOIN agent_profiles p ON p.user_id = u.id"
                               " WHERE (u.roles & ?1) != 0 AND u.active = 1 ORDER BY u.name, u.id");
    json_t *arr = json_array(), *teams = teams_by_user(st), *load = loads(st, weight, arg);
    if (s) {
        sqlite3_bind_int(s, 1, SB_ROLE_AGENT);
        while (sqlite3_step(s) == SQLITE_ROW) {
            char key[24];
            json_t *t;
            snprintf(key, sizeof(key), "%lld", (long long)sqlite3_column_int64(s, 0));
            t = json_object_get(teams, key);
            json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:f, s:f, s:o}", "id",
                                                 (json_int_t)sqlite3_column_int64(s, 0), "name",
                                                 col_text(s, 1), "email", col_text(s, 2), "status",
                                                 col_text(s, 3), "load",
                                                 json_real_value(json_object_get(load, key)),
                                                 "capacity", sqlite3_column_double(s, 4), "teams",
                                                 t ? json_incref(t) : json_array()));
        }
        store_release(st, s);
    }
    json_decref(teams);
    json_decref(load);
    return arr;
}

static json_t *overview_queues(struct sb_store *st, int64_t now)
{
    /* A conversation queued before it had a team is in the default one. */
    sqlite3_stmt *s =
        prep(st, "SELECT t.id, t.name,"
                 " count(c.id) - count(c.offered_to), count(c.offered_to), min(c.queued_at)"
                 " FROM teams t LEFT JOIN conversations c"
                 "   ON c.status = 'queued' AND ifnull(c.team, 'default') = t.id"
                 " GROUP BY t.id ORDER BY t.id");
    json_t *arr = json_array();
    if (!s) return arr;
    while (sqlite3_step(s) == SQLITE_ROW) {
        int64_t oldest = sqlite3_column_int64(s, 4);
        int64_t wait =
            sqlite3_column_type(s, 4) == SQLITE_NULL || oldest > now ? 0 : (now - oldest) / 1000;
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:I, s:I}", "team", col_text(s, 0),
                                             "name", col_text(s, 1), "waiting",
                                             (json_int_t)sqlite3_column_int64(s, 2), "offered",
                                             (json_int_t)sqlite3_column_int64(s, 3),
                                             "oldest_wait_s", (json_int_t)wait));
    }
    store_release(st, s);
    return arr;
}

/* Open conversations by their worst SLA state: breached when a breach was
 * recorded or the first response is overdue (the timer may not have run
 * yet), warning when a warning was recorded, else ok. */
static json_t *overview_sla(struct sb_store *st, int64_t now)
{
    sqlite3_stmt *s = prep(st, "SELECT CASE"
                               " WHEN sla_breached != 0 OR (first_response_due IS NOT NULL"
                               "   AND first_response_at IS NULL AND first_response_due <= ?1)"
                               "   THEN 2 WHEN sla_warned != 0 THEN 1 ELSE 0 END AS state,"
                               " count(*) FROM conversations"
                               " WHERE status IN ('queued', 'assigned') GROUP BY state");
    json_int_t n[3] = {0, 0, 0};
    if (s) {
        sqlite3_bind_int64(s, 1, now);
        while (sqlite3_step(s) == SQLITE_ROW) {
            int state = sqlite3_column_int(s, 0);
            if (state >= 0 && state < 3) n[state] = sqlite3_column_int64(s, 1);
        }
        store_release(st, s);
    }
    return json_pack("{s:I, s:I, s:I}", "ok", n[0], "warning", n[1], "breached", n[2]);
}

json_t *agent_store_overview(struct sb_store *st, int64_t now, agent_weight_fn weight, void *arg)
{
    return json_pack("{s:o, s:o, s:o, s:I}", "agents", overview_agents(st, weight, arg), "queues",
                     overview_queues(st, now), "sla", overview_sla(st, now), "at", (json_int_t)now);
}

/* ---------- teams ---------- */

bool agent_store_team_exists(struct sb_store *st, const char *id)
{
    return exists(st, "SELECT 1 FROM teams WHERE id = ?1", id, 0);
}

static json_t *team_members(struct sb_store *st, const char *id)
{
    sqlite3_stmt *s = prep(st, "SELECT u.id, u.name FROM team_members m"
                               " JOIN users u ON u.id = m.user_id WHERE m.team_id = ?1"
                               " ORDER BY u.name, u.id");
    json_t *arr = json_array();
    if (!s) return arr;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr,
                              json_pack("{s:I, s:s}", "id", (json_int_t)sqlite3_column_int64(s, 0),
                                        "name", col_text(s, 1)));
    store_release(st, s);
    return arr;
}

#define TEAM_COLS                                                                                  \
    "SELECT id, name, timezone, hours, holidays, allow_pick, require_language, outside_hours,"     \
    " updated_at FROM teams"

static json_t *team_row(struct sb_store *st, sqlite3_stmt *s)
{
    json_t *t = json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:b, s:o, s:I}", "id", col_text(s, 0),
                          "name", col_text(s, 1), "timezone", col_text(s, 2), "hours",
                          col_json(s, 3, json_null()), "holidays", col_json(s, 4, json_array()),
                          "allow_pick", sqlite3_column_int(s, 5), "require_language",
                          sqlite3_column_int(s, 6), "outside_hours", col_json(s, 7, json_object()),
                          "updated_at", (json_int_t)sqlite3_column_int64(s, 8));
    if (t) json_object_set_new(t, "members", team_members(st, col_text(s, 0)));
    return t;
}

json_t *agent_store_teams(struct sb_store *st)
{
    sqlite3_stmt *s = prep(st, TEAM_COLS " ORDER BY id");
    json_t *arr = json_array();
    if (!s) return arr;
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, team_row(st, s));
    store_release(st, s);
    return arr;
}

enum sb_err agent_store_team_get(struct sb_store *st, const char *id, json_t **out)
{
    sqlite3_stmt *s = prep(st, TEAM_COLS " WHERE id = ?1");
    enum sb_err rc = SB_ERR_NOT_FOUND;
    if (!s) return SB_ERR_DB;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) == SQLITE_ROW) {
        *out = team_row(st, s);
        rc = *out ? SB_OK : SB_ERR_NOMEM;
    }
    store_release(st, s);
    return rc;
}

enum sb_err agent_store_team_put(struct sb_store *st, const json_t *team, bool *created)
{
    const char *id = json_string_value(json_object_get(team, "id"));
    const json_t *hours = json_object_get(team, "hours");
    sqlite3_stmt *s;
    enum sb_err rc;

    *created = !agent_store_team_exists(st, id);
    s = prep(st, "INSERT INTO teams(id, name, timezone, hours, holidays, allow_pick,"
                 " require_language, outside_hours, created_at, updated_at)"
                 " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"
                 " ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
                 " timezone = excluded.timezone, hours = excluded.hours,"
                 " holidays = excluded.holidays, allow_pick = excluded.allow_pick,"
                 " require_language = excluded.require_language,"
                 " outside_hours = excluded.outside_hours, updated_at = excluded.updated_at");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, json_string_value(json_object_get(team, "name")), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, json_string_value(json_object_get(team, "timezone")), -1,
                      SQLITE_TRANSIENT);
    rc = hours && !json_is_null(hours) ? bind_json(s, 4, hours) : SB_OK;
    if (!rc) rc = bind_json(s, 5, json_object_get(team, "holidays"));
    if (!rc) rc = bind_json(s, 8, json_object_get(team, "outside_hours"));
    if (rc) {
        store_release(st, s);
        return rc;
    }
    sqlite3_bind_int(s, 6, json_is_true(json_object_get(team, "allow_pick")));
    sqlite3_bind_int(s, 7, json_is_true(json_object_get(team, "require_language")));
    sqlite3_bind_int64(s, 9, sb_now_ms());
    return done(st, s);
}

enum sb_err agent_store_team_delete(struct sb_store *st, const char *id, struct sb_errbuf *eb)
{
    sqlite3_stmt *s;
    if (!agent_store_team_exists(st, id)) return SB_ERR_NOT_FOUND;
    if (strcmp(id, "default") == 0)
        return sb_fail(eb, SB_ERR_CONFLICT, "the default team is where unmatched hand-offs go");
    if (exists(st, "SELECT 1 FROM routing_rules WHERE team = ?1", id, 0))
        return sb_fail(eb, SB_ERR_CONFLICT, "a routing rule sends conversations to this team");
    if (exists(st, "SELECT 1 FROM canned_responses WHERE team = ?1", id, 0))
        return sb_fail(eb, SB_ERR_CONFLICT, "canned responses belong to this team");
    if (exists(st,
               "SELECT 1 FROM conversations WHERE team = ?1 AND status IN ('queued','assigned')",
               id, 0))
        return sb_fail(eb, SB_ERR_CONFLICT, "open conversations are in this team");
    s = prep(st, "DELETE FROM team_members WHERE team_id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
    if (done(st, s)) return SB_ERR_DB;
    s = prep(st, "DELETE FROM teams WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
    return done(st, s);
}

/* ---------- agent profiles ---------- */

static json_t *user_teams(struct sb_store *st, int64_t user_id)
{
    sqlite3_stmt *s = prep(st, "SELECT team_id FROM team_members WHERE user_id = ?1"
                               " ORDER BY team_id");
    json_t *arr = json_array();
    if (!s) return arr;
    sqlite3_bind_int64(s, 1, user_id);
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, json_string(col_text(s, 0)));
    store_release(st, s);
    return arr;
}

enum sb_err agent_store_profile_get(struct sb_store *st, int64_t user_id, json_t **out)
{
    sqlite3_stmt *s = prep(st, "SELECT u.email, u.name, u.roles, ifnull(p.status, 'offline'),"
                               " ifnull(p.capacity, 4), p.skills, ifnull(p.last_assigned_at, 0),"
                               " u.active FROM users u"
                               " LEFT JOIN agent_profiles p ON p.user_id = u.id WHERE u.id = ?1");
    enum sb_err rc = SB_ERR_NOT_FOUND;
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, user_id);
    if (sqlite3_step(s) == SQLITE_ROW && (sqlite3_column_int(s, 2) & SB_ROLE_AGENT)) {
        *out = json_pack("{s:I, s:s, s:s, s:b, s:s, s:f, s:o, s:I}", "user_id", (json_int_t)user_id,
                         "email", col_text(s, 0), "name", col_text(s, 1), "active",
                         sqlite3_column_int(s, 7), "status", col_text(s, 3), "capacity",
                         sqlite3_column_double(s, 4), "skills", col_json(s, 5, json_array()),
                         "last_assigned_at", (json_int_t)sqlite3_column_int64(s, 6));
        rc = *out ? SB_OK : SB_ERR_NOMEM;
    }
    store_release(st, s);
    if (!rc) json_object_set_new(*out, "teams", user_teams(st, user_id));
    return rc;
}

enum sb_err agent_store_profile_put(struct sb_store *st, int64_t user_id, const json_t *change,
                                    struct sb_errbuf *eb)
{
    const json_t *v, *teams = json_object_get(change, "teams");
    int64_t now = sb_now_ms();
    sqlite3_stmt *s;
    json_t *cur = NULL;
    size_t i;

    if (agent_store_profile_get(st, user_id, &cur))
        return sb_fail(eb, SB_ERR_NOT_FOUND, "no such agent (a user with the agent role)");
    json_decref(cur);
    json_array_foreach((json_t *)teams, i, v)
    {
        if (!agent_store_team_exists(st, json_string_value(v)))
            return sb_fail(eb, SB_ERR_NOT_FOUND, "teams[%zu]: no such team '%s'", i,
                           json_string_value(v));
    }
    s = prep(st, "INSERT INTO agent_profiles(user_id, status_changed_at) VALUES(?1, ?2)"
                 " ON CONFLICT(user_id) DO NOTHING");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_int64(s, 2, now);
    if (done(st, s)) return SB_ERR_DB;
    s = prep(st, "UPDATE agent_profiles SET"
                 " status_changed_at = CASE WHEN ?2 IS NOT NULL AND ?2 != status THEN ?5"
                 "   ELSE status_changed_at END,"
                 " status = ifnull(?2, status), capacity = ifnull(?3, capacity),"
                 " skills = ifnull(?4, skills) WHERE user_id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, user_id);
    if ((v = json_object_get(change, "status")))
        sqlite3_bind_text(s, 2, json_string_value(v), -1, SQLITE_TRANSIENT);
    if ((v = json_object_get(change, "capacity"))) sqlite3_bind_double(s, 3, json_number_value(v));
    if ((v = json_object_get(change, "skills")) && bind_json(s, 4, v)) {
        store_release(st, s);
        return SB_ERR_NOMEM;
    }
    sqlite3_bind_int64(s, 5, now);
    if (done(st, s)) return SB_ERR_DB;
    if (!teams) return SB_OK;
    s = prep(st, "DELETE FROM team_members WHERE user_id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, user_id);
    if (done(st, s)) return SB_ERR_DB;
    json_array_foreach((json_t *)teams, i, v)
    {
        s = prep(st, "INSERT INTO team_members(team_id, user_id) VALUES(?1, ?2)");
        if (!s) return SB_ERR_DB;
        sqlite3_bind_text(s, 1, json_string_value(v), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 2, user_id);
        if (done(st, s)) return SB_ERR_DB;
    }
    return SB_OK;
}

/* ---------- routing rules and SLA policies ---------- */

json_t *agent_store_rules(struct sb_store *st)
{
    sqlite3_stmt *s = prep(st, "SELECT id, position, match, team, priority, skills"
                               " FROM routing_rules ORDER BY position, id");
    json_t *arr = json_array();
    if (!s) return arr;
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:I, s:I, s:o, s:s, s:I, s:o}", "id",
                                             (json_int_t)sqlite3_column_int64(s, 0), "position",
                                             (json_int_t)sqlite3_column_int64(s, 1), "match",
                                             col_json(s, 2, json_object()), "team", col_text(s, 3),
                                             "priority", (json_int_t)sqlite3_column_int64(s, 4),
                                             "skills", col_json(s, 5, json_array())));
    store_release(st, s);
    return arr;
}

enum sb_err agent_store_rules_put(struct sb_store *st, const json_t *rules, struct sb_errbuf *eb)
{
    int64_t now = sb_now_ms();
    sqlite3_stmt *s;
    json_t *r;
    size_t i;

    json_array_foreach((json_t *)rules, i, r)
    {
        const char *team = json_string_value(json_object_get(r, "team"));
        if (!agent_store_team_exists(st, team))
            return sb_fail(eb, SB_ERR_NOT_FOUND, "rules[%zu].team: no such team '%s'", i, team);
    }
    if (done(st, prep(st, "DELETE FROM routing_rules"))) return SB_ERR_DB;
    json_array_foreach((json_t *)rules, i, r)
    {
        s = prep(st, "INSERT INTO routing_rules(position, match, team, priority, skills,"
                     " created_at, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6)");
        if (!s) return SB_ERR_DB;
        sqlite3_bind_int64(s, 1, (sqlite3_int64)i);
        if (bind_json(s, 2, json_object_get(r, "match")) ||
            bind_json(s, 5, json_object_get(r, "skills"))) {
            store_release(st, s);
            return SB_ERR_NOMEM;
        }
        sqlite3_bind_text(s, 3, json_string_value(json_object_get(r, "team")), -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 4, json_integer_value(json_object_get(r, "priority")));
        sqlite3_bind_int64(s, 6, now);
        if (done(st, s)) return SB_ERR_DB;
    }
    return SB_OK;
}

static json_t *col_minutes(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL
               ? json_null()
               : json_integer((json_int_t)sqlite3_column_int64(s, col));
}

json_t *agent_store_sla_policies(struct sb_store *st)
{
    sqlite3_stmt *s = prep(st, "SELECT channel, priority, first_response_min, next_response_min,"
                               " resolution_min FROM sla_policies ORDER BY channel, priority");
    json_t *arr = json_array();
    if (!s) return arr;
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:s, s:I, s:o, s:o, s:o}", "channel", col_text(s, 0),
                                             "priority", (json_int_t)sqlite3_column_int64(s, 1),
                                             "first_response_min", col_minutes(s, 2),
                                             "next_response_min", col_minutes(s, 3),
                                             "resolution_min", col_minutes(s, 4)));
    store_release(st, s);
    return arr;
}

enum sb_err agent_store_sla_policies_put(struct sb_store *st, const json_t *policies)
{
    static const char *const mins[] = {"first_response_min", "next_response_min", "resolution_min"};
    int64_t now = sb_now_ms();
    json_t *p;
    size_t i;

    if (done(st, prep(st, "DELETE FROM sla_policies"))) return SB_ERR_DB;
    json_array_foreach((json_t *)policies, i, p)
    {
        sqlite3_stmt *s = prep(st, "INSERT INTO sla_policies(channel, priority,"
                                   " first_response_min, next_response_min, resolution_min,"
                                   " updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
        if (!s) return SB_ERR_DB;
        sqlite3_bind_text(s, 1, json_string_value(json_object_get(p, "channel")), -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 2, json_integer_value(json_object_get(p, "priority")));
        for (int k = 0; k < 3; k++) {
            json_t *v = json_object_get(p, mins[k]);
            if (json_is_integer(v)) sqlite3_bind_int64(s, 3 + k, json_integer_value(v));
        }
        sqlite3_bind_int64(s, 6, now);
        if (done(st, s)) return SB_ERR_DB;
    }
    return SB_OK;
}
