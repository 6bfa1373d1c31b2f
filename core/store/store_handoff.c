/*
 * store_handoff.c - the SQL behind store_handoff.h: the live-agent state
 * machine's reads and writes (docs/agents.md). Statements come from the
 * store's statement cache (stmt_cache.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_handoff.h"
#include "store_int.h"

#include "sb_log.h"

static void log_error(struct sb_store *st)
{
    sb_error("store: %s", sqlite3_errmsg(st->db));
}

/* Steps s (bound by the caller) for one row; SB_ERR_NOT_FOUND for none. */
static enum sb_err row(struct sb_store *st, sqlite3_stmt *s)
{
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) return SB_OK;
    if (r == SQLITE_DONE) return SB_ERR_NOT_FOUND;
    log_error(st);
    return SB_ERR_DB;
}

static enum sb_err stepped(struct sb_store *st, int r)
{
    if (r == SQLITE_DONE) return SB_OK;
    log_error(st);
    return SB_ERR_DB;
}

/* ------- a conversation's hand-off columns ------- */

enum sb_err sb_store_handoff_row(struct sb_store *st, int64_t conv, struct sb_handoff_row *out)
{
    sqlite3_stmt *s = store_prep(st, "SELECT status, ifnull(team, 'default'), ifnull(assignee, 0),"
                                     " ifnull(offered_to, 0), ifnull(offer_expires_at, 0), priority"
                                     " FROM conversations WHERE id = ?1");
    enum sb_err rc;
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    rc = row(st, s);
    if (!rc) {
        snprintf(out->status, sizeof(out->status), "%s", store_col(s, 0));
        snprintf(out->team, sizeof(out->team), "%s", store_col(s, 1));
        out->assignee = sqlite3_column_int64(s, 2);
        out->offered_to = sqlite3_column_int64(s, 3);
        out->offer_expires_at = sqlite3_column_int64(s, 4);
        out->priority = sqlite3_column_int(s, 5);
    }
    store_release(st, s);
    return rc;
}

enum sb_err sb_store_queue_row(struct sb_store *st, int64_t conv, struct sb_queue_row *out)
{
    sqlite3_stmt *s = store_prep(st, "SELECT team, priority, ifnull(first_response_due, 0),"
                                     " ifnull(queued_at, updated_at), channel, skills"
                                     " FROM conversations WHERE id = ?1");
    enum sb_err rc;
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    rc = row(st, s);
    if (!rc) {
        snprintf(out->team, sizeof(out->team), "%s", store_col(s, 0));
        out->priority = sqlite3_column_int(s, 1);
        out->first_response_due = sqlite3_column_int64(s, 2);
        out->queued_at = sqlite3_column_int64(s, 3);
        snprintf(out->channel, sizeof(out->channel), "%s", store_col(s, 4));
        out->skills = json_loads(store_col(s, 5), 0, NULL);
    }
    store_release(st, s);
    return rc;
}

enum sb_err sb_store_inbound_row(struct sb_store *st, int64_t conv, struct sb_inbound_row *out)
{
    sqlite3_stmt *s =
        store_prep(st, "SELECT ifnull(resolved_at, 0), ifnull(last_assignee, 0), ifnull(team,"
                       " 'default'), priority, ifnull(next_response_due, 0) FROM conversations"
                       " WHERE id = ?1");
    enum sb_err rc;
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    rc = row(st, s);
    if (!rc) {
        out->resolved_at = sqlite3_column_int64(s, 0);
        out->last_assignee = sqlite3_column_int64(s, 1);
        snprintf(out->team, sizeof(out->team), "%s", store_col(s, 2));
        out->priority = sqlite3_column_int(s, 3);
        out->next_response_due = sqlite3_column_int64(s, 4);
    }
    store_release(st, s);
    return rc;
}

enum sb_err sb_store_queue_set(struct sb_store *st, int64_t conv, const char *team, int priority,
                               const char *skills, int64_t now)
{
    sqlite3_stmt *s =
        store_prep(st, "UPDATE conversations SET team = ?2, priority = ?3, skills = ?4,"
                       " assignee = NULL, offered_to = NULL, offer_expires_at = NULL,"
                       " first_response_at = NULL, next_response_due = NULL,"
                       " next_response_warn = NULL, sla_warned = 0, sla_breached = 0,"
                       " queued_at = ifnull(queued_at, ?5) WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    sqlite3_bind_text(s, 2, team, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, priority);
    sqlite3_bind_text(s, 4, skills, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, now);
    return store_done(st, s);
}

int sb_store_queue_position(struct sb_store *st, int64_t conv)
{
    sqlite3_stmt *s = store_prep(
        st, "SELECT count(*) FROM conversations o, conversations c WHERE c.id = ?1"
            " AND o.status = 'queued' AND o.team IS c.team AND (o.priority > c.priority OR"
            " (o.priority = c.priority AND (o.queued_at < c.queued_at OR"
            " (o.queued_at = c.queued_at AND o.id <= c.id))))");
    int n = 0;
    if (!s) return 0;
    sqlite3_bind_int64(s, 1, conv);
    if (sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int(s, 0);
    store_release(st, s);
    return n;
}

enum sb_err sb_store_team_set(struct sb_store *st, int64_t conv, const char *team)
{
    sqlite3_stmt *s = store_prep(st, "UPDATE conversations SET team = ?2 WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    sqlite3_bind_text(s, 2, team, -1, SQLITE_STATIC);
    return store_done(st, s);
}

static enum sb_err agent_assigned_at(struct sb_store *st, int64_t agent, int64_t now)
{
    sqlite3_stmt *s =
        store_prep(st, "UPDATE agent_profiles SET last_assigned_at = ?2 WHERE user_id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, agent);
    sqlite3_bind_int64(s, 2, now);
    return store_done(st, s);
}

enum sb_err sb_store_offer_set(struct sb_store *st, int64_t conv, int64_t agent, int64_t expires_at,
                               int64_t now)
{
    sqlite3_stmt *s = store_prep(st, "UPDATE conversations SET offered_to = ?2,"
                                     " offer_expires_at = ?3 WHERE id = ?1");
    enum sb_err rc;
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    sqlite3_bind_int64(s, 2, agent);
    sqlite3_bind_int64(s, 3, expires_at);
    rc = store_done(st, s);
    return rc ? rc : agent_assigned_at(st, agent, now);
}

enum sb_err sb_store_assignee_set(struct sb_store *st, int64_t conv, int64_t agent, int64_t now)
{
    sqlite3_stmt *s = store_prep(st, "UPDATE conversations SET assignee = ?2, last_assignee = ?2,"
                                     " offered_to = NULL, offer_expires_at = NULL WHERE id = ?1");
    enum sb_err rc;
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    sqlite3_bind_int64(s, 2, agent);
    rc = store_done(st, s);
    return rc ? rc : agent_assigned_at(st, agent, now);
}

enum sb_err sb_store_offer_clear(struct sb_store *st, int64_t conv, bool keep_assignee)
{
    sqlite3_stmt *s = store_prep(st, keep_assignee ? "UPDATE conversations SET offered_to = NULL,"
                                                     " offer_expires_at = NULL WHERE id = ?1"
                                                   : "UPDATE conversations SET assignee = NULL,"
                                                     " offered_to = NULL, offer_expires_at = NULL"
                                                     " WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    return store_done(st, s);
}

enum sb_err sb_store_offer_skip_add(struct sb_store *st, int64_t conv, int64_t agent)
{
    sqlite3_stmt *s = store_prep(
        st, "INSERT OR IGNORE INTO offer_skips(conversation_id, user_id) VALUES(?1, ?2)");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    sqlite3_bind_int64(s, 2, agent);
    return store_done(st, s);
}

enum sb_err sb_store_offer_skips_clear(struct sb_store *st, int64_t conv)
{
    sqlite3_stmt *s = store_prep(st, "DELETE FROM offer_skips WHERE conversation_id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    return store_done(st, s);
}

enum sb_err sb_store_offer_expired_next(struct sb_store *st, int64_t now, int64_t *conv,
                                        int64_t *agent)
{
    sqlite3_stmt *s = store_prep(st, "SELECT id, offered_to FROM conversations"
                                     " WHERE offered_to IS NOT NULL AND status = 'queued'"
                                     " AND offer_expires_at <= ?1 ORDER BY offer_expires_at"
                                     " LIMIT 1");
    enum sb_err rc;
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, now);
    rc = row(st, s);
    if (!rc) {
        *conv = sqlite3_column_int64(s, 0);
        *agent = sqlite3_column_int64(s, 1);
    }
    store_release(st, s);
    return rc;
}

enum sb_err sb_store_offers_to_each(struct sb_store *st, int64_t agent,
                                    void (*fn)(void *arg, int64_t conv), void *arg)
{
    sqlite3_stmt *s =
        store_prep(st, "SELECT id FROM conversations WHERE offered_to = ?1 AND status = 'queued'");
    int r;
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, agent);
    while ((r = sqlite3_step(s)) == SQLITE_ROW)
        fn(arg, sqlite3_column_int64(s, 0));
    store_release(st, s);
    return stepped(st, r);
}

enum sb_err sb_store_resolved_set(struct sb_store *st, int64_t conv, int64_t at, const char *by,
                                  int64_t article)
{
    sqlite3_stmt *s = store_prep(st, "UPDATE conversations SET resolved_at = ?2, resolved_by = ?3,"
                                     " resolved_article = ?4 WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    sqlite3_bind_int64(s, 2, at);
    sqlite3_bind_text(s, 3, by, -1, SQLITE_STATIC);
    if (article) sqlite3_bind_int64(s, 4, article);
    return store_done(st, s);
}

enum sb_err sb_store_reopened(struct sb_store *st, int64_t conv)
{
    sqlite3_stmt *s =
        store_prep(st, "UPDATE conversations SET reopen_count = reopen_count + 1,"
                       " resolved_at = NULL, resolved_by = NULL, assignee = NULL,"
                       " offered_to = NULL, offer_expires_at = NULL, first_response_at = NULL,"
                       " sla_warned = 0, sla_breached = 0 WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    return store_done(st, s);
}

enum sb_err sb_store_csat_set(struct sb_store *st, int64_t conv, int rating)
{
    sqlite3_stmt *s = store_prep(st, "UPDATE conversations SET csat = ?2 WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    sqlite3_bind_int(s, 2, rating);
    return store_done(st, s);
}

enum sb_err sb_store_replied(struct sb_store *st, int64_t conv, int64_t now)
{
    sqlite3_stmt *s = store_prep(st, "UPDATE conversations SET first_response_at ="
                                     " ifnull(first_response_at, ?2), next_response_due = NULL,"
                                     " next_response_warn = NULL WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    sqlite3_bind_int64(s, 2, now);
    return store_done(st, s);
}

/* ------- SLA due times ------- */

/* One literal per kind (and flag), so each is a cached statement. */
static const char *const sla_set_sql[3] = {
    "UPDATE conversations SET first_response_due = ?2, first_response_warn = ?3,"
    " sla_warned = sla_warned & ~?4, sla_breached = sla_breached & ~?4 WHERE id = ?1",
    "UPDATE conversations SET next_response_due = ?2, next_response_warn = ?3,"
    " sla_warned = sla_warned & ~?4, sla_breached = sla_breached & ~?4 WHERE id = ?1",
    "UPDATE conversations SET resolution_due = ?2, resolution_warn = ?3,"
    " sla_warned = sla_warned & ~?4, sla_breached = sla_breached & ~?4 WHERE id = ?1",
};

/* First response counts until the first reply; the others until they are
 * cleared (met) or the conversation leaves a person. [kind][breach] */
#define SLA_DUE(col, at, flag, bit, extra)                                                         \
    "SELECT id, " col "_due FROM conversations WHERE status IN ('queued', 'assigned')"             \
    " AND " col "_" at " IS NOT NULL AND " col "_" at " <= ?1 AND (" flag " & " bit ") = 0" extra  \
    " LIMIT ?2"
static const char *const sla_due_sql[3][2] = {
    {SLA_DUE("first_response", "warn", "sla_warned", "1", " AND first_response_at IS NULL"),
     SLA_DUE("first_response", "due", "sla_breached", "1", " AND first_response_at IS NULL")},
    {SLA_DUE("next_response", "warn", "sla_warned", "2", ""),
     SLA_DUE("next_response", "due", "sla_breached", "2", "")},
    {SLA_DUE("resolution", "warn", "sla_warned", "4", ""),
     SLA_DUE("resolution", "due", "sla_breached", "4", "")},
};
static const char *const sla_flag_sql[2] = {
    "UPDATE conversations SET sla_warned = sla_warned | ?2 WHERE id = ?1",
    "UPDATE conversations SET sla_breached = sla_breached | ?2 WHERE id = ?1",
};

enum sb_err sb_store_sla_set(struct sb_store *st, int64_t conv, int kind, int64_t due, int64_t warn)
{
    sqlite3_stmt *s;
    if (kind < 0 || kind > 2) return SB_ERR_INVAL;
    s = store_prep(st, sla_set_sql[kind]);
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    sqlite3_bind_int64(s, 2, due);
    sqlite3_bind_int64(s, 3, warn);
    sqlite3_bind_int(s, 4, 1 << kind);
    return store_done(st, s);
}

enum sb_err sb_store_sla_due_list(struct sb_store *st, int kind, bool breach, int64_t now,
                                  int64_t *ids, int64_t *dues, int max, int *n)
{
    sqlite3_stmt *s;
    int r = SQLITE_DONE;
    *n = 0;
    if (kind < 0 || kind > 2) return SB_ERR_INVAL;
    s = store_prep(st, sla_due_sql[kind][breach]);
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int(s, 2, max);
    while (*n < max && (r = sqlite3_step(s)) == SQLITE_ROW) {
        ids[*n] = sqlite3_column_int64(s, 0);
        dues[(*n)++] = sqlite3_column_int64(s, 1);
    }
    store_release(st, s);
    return *n == max ? SB_OK : stepped(st, r);
}

enum sb_err sb_store_sla_flag_set(struct sb_store *st, int64_t conv, int kind, bool breach)
{
    sqlite3_stmt *s;
    if (kind < 0 || kind > 2) return SB_ERR_INVAL;
    s = store_prep(st, sla_flag_sql[breach]);
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    sqlite3_bind_int(s, 2, 1 << kind);
    return store_done(st, s);
}

enum sb_err sb_store_sla_policies(struct sb_store *st, struct sb_sla_policy_row *out, int max,
                                  int *n)
{
    sqlite3_stmt *s = store_prep(st, "SELECT channel, priority, ifnull(first_response_min, -1),"
                                     " ifnull(next_response_min, -1), ifnull(resolution_min, -1)"
                                     " FROM sla_policies ORDER BY id LIMIT ?1");
    int r = SQLITE_DONE;
    *n = 0;
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int(s, 1, max);
    while (*n < max && (r = sqlite3_step(s)) == SQLITE_ROW) {
        struct sb_sla_policy_row *p = &out[(*n)++];
        snprintf(p->channel, sizeof(p->channel), "%s", store_col(s, 0));
        p->priority = sqlite3_column_int(s, 1);
        for (int k = 0; k < 3; k++)
            p->minutes[k] = sqlite3_column_int(s, 2 + k);
    }
    store_release(st, s);
    return *n == max ? SB_OK : stepped(st, r);
}

/* ------- routing inputs ------- */

enum sb_err sb_store_teams_each(struct sb_store *st,
                                void (*fn)(void *arg, const struct sb_team_row *t), void *arg)
{
    sqlite3_stmt *s = store_prep(st, "SELECT id, timezone, hours, holidays, allow_pick,"
                                     " require_language, outside_hours FROM teams ORDER BY id");
    int r;
    if (!s) return SB_ERR_DB;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        struct sb_team_row t = {.id = store_col(s, 0),
                                .timezone = store_col(s, 1),
                                .hours = store_col(s, 2),
                                .holidays = store_col(s, 3),
                                .allow_pick = sqlite3_column_int(s, 4),
                                .require_language = sqlite3_column_int(s, 5),
                                .outside = store_col(s, 6)};
        fn(arg, &t);
    }
    store_release(st, s);
    return stepped(st, r);
}

enum sb_err sb_store_agent_routing(struct sb_store *st, int64_t user, struct sb_agent_routing *out)
{
    sqlite3_stmt *s = store_prep(
        st,
        "SELECT p.status, p.capacity, p.skills, p.last_assigned_at,"
        " (SELECT json_group_array(team_id) FROM team_members m WHERE m.user_id = p.user_id),"
        " u.active FROM agent_profiles p JOIN users u ON u.id = p.user_id WHERE p.user_id = ?1");
    enum sb_err rc;
    memset(out, 0, sizeof(*out));
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, user);
    rc = row(st, s);
    if (!rc) {
        out->found = true;
        out->online = strcmp(store_col(s, 0), "online") == 0 && sqlite3_column_int(s, 5);
        out->capacity = sqlite3_column_double(s, 1);
        out->skills = json_loads(store_col(s, 2), 0, NULL);
        out->last_assigned_at = sqlite3_column_int64(s, 3);
        out->teams = json_loads(store_col(s, 4), 0, NULL);
    }
    store_release(st, s);
    return rc == SB_ERR_NOT_FOUND ? SB_OK : rc;
}

enum sb_err sb_store_agent_avail(struct sb_store *st, int64_t user, char status[16],
                                 double *capacity)
{
    sqlite3_stmt *s =
        store_prep(st, "SELECT status, capacity FROM agent_profiles WHERE user_id = ?1");
    enum sb_err rc;
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, user);
    rc = row(st, s);
    if (!rc) {
        snprintf(status, 16, "%s", store_col(s, 0));
        *capacity = sqlite3_column_double(s, 1);
    }
    store_release(st, s);
    return rc;
}

enum sb_err sb_store_agent_ids_each(struct sb_store *st, void (*fn)(void *arg, int64_t user),
                                    void *arg)
{
    sqlite3_stmt *s = store_prep(st, "SELECT user_id FROM agent_profiles ORDER BY user_id");
    int r;
    if (!s) return SB_ERR_DB;
    while ((r = sqlite3_step(s)) == SQLITE_ROW)
        fn(arg, sqlite3_column_int64(s, 0));
    store_release(st, s);
    return stepped(st, r);
}

enum sb_err sb_store_offer_skips_each(struct sb_store *st,
                                      void (*fn)(void *arg, int64_t conv, int64_t user), void *arg)
{
    sqlite3_stmt *s = store_prep(st, "SELECT conversation_id, user_id FROM offer_skips");
    int r;
    if (!s) return SB_ERR_DB;
    while ((r = sqlite3_step(s)) == SQLITE_ROW)
        fn(arg, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1));
    store_release(st, s);
    return stepped(st, r);
}

enum sb_err sb_store_handed_off_each(struct sb_store *st,
                                     enum sb_err (*fn)(void *arg, const struct sb_handed_off *c),
                                     void *arg)
{
    sqlite3_stmt *s =
        store_prep(st, "SELECT id, status, ifnull(offered_to, 0), ifnull(assignee, 0), channel"
                       " FROM conversations WHERE status IN ('queued', 'assigned') ORDER BY id");
    enum sb_err rc = SB_OK;
    int r = SQLITE_DONE;
    if (!s) return SB_ERR_DB;
    while (!rc && (r = sqlite3_step(s)) == SQLITE_ROW) {
        struct sb_handed_off c = {.id = sqlite3_column_int64(s, 0),
                                  .queued = strcmp(store_col(s, 1), "queued") == 0,
                                  .offered_to = sqlite3_column_int64(s, 2),
                                  .assignee = sqlite3_column_int64(s, 3),
                                  .channel = store_col(s, 4)};
        rc = fn(arg, &c);
    }
    store_release(st, s);
    return rc ? rc : stepped(st, r);
}

enum sb_err sb_store_rules_each(struct sb_store *st,
                                bool (*fn)(void *arg, const struct sb_rule_row *r), void *arg)
{
    sqlite3_stmt *s = store_prep(st, "SELECT match, team, priority, skills FROM routing_rules"
                                     " ORDER BY position, id");
    int r = SQLITE_DONE;
    if (!s) return SB_ERR_DB;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        struct sb_rule_row rule = {.match = store_col(s, 0),
                                   .team = store_col(s, 1),
                                   .priority = sqlite3_column_int(s, 2),
                                   .skills = store_col(s, 3)};
        if (fn(arg, &rule)) {
            r = SQLITE_DONE;
            break;
        }
    }
    store_release(st, s);
    return stepped(st, r);
}

json_t *sb_store_contact_attrs(struct sb_store *st, int64_t contact)
{
    sqlite3_stmt *s = store_prep(st, "SELECT attrs FROM contacts WHERE id = ?1");
    json_t *v = NULL;
    if (!s) return NULL;
    sqlite3_bind_int64(s, 1, contact);
    if (sqlite3_step(s) == SQLITE_ROW) v = json_loads(store_col(s, 0), 0, NULL);
    store_release(st, s);
    return v;
}

void sb_store_last_topic(struct sb_store *st, int64_t conv, char *out, size_t cap)
{
    sqlite3_stmt *s =
        store_prep(st, "SELECT a.slug FROM kb_queries q JOIN kb_articles a ON a.id = q.article_id"
                       " WHERE q.conversation_id = ?1 ORDER BY q.id DESC LIMIT 1");
    out[0] = '\0';
    if (!s) return;
    sqlite3_bind_int64(s, 1, conv);
    if (sqlite3_step(s) == SQLITE_ROW) snprintf(out, cap, "%s", store_col(s, 0));
    store_release(st, s);
}

void sb_store_user_name(struct sb_store *st, int64_t user, char *out, size_t cap)
{
    sqlite3_stmt *s = store_prep(st, "SELECT name FROM users WHERE id = ?1");
    out[0] = '\0';
    if (!s) return;
    sqlite3_bind_int64(s, 1, user);
    if (sqlite3_step(s) == SQLITE_ROW) snprintf(out, cap, "%s", store_col(s, 0));
    store_release(st, s);
}
