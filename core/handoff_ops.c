/*
 * handoff_ops.c - the transitions agents cause (accept, decline, claim,
 * transfer, resolve, return to bot, replies meeting SLAs) and the durable
 * timers (offer expiries, SLA warnings and breaches, teams opening and
 * closing), all read from and written to the store and mirrored into the
 * router (docs/agents.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff_int.h"
#include "sb_log.h"

enum sb_err ho_conv_row(struct sb_server *srv, int64_t id, struct ho_conv *out)
{
    sqlite3_stmt *s = ho_prep(srv, "SELECT status, ifnull(team, 'default'), ifnull(assignee, 0),"
                                   " ifnull(offered_to, 0), ifnull(offer_expires_at, 0), priority"
                                   " FROM conversations WHERE id = ?1");
    enum sb_err rc = SB_ERR_NOT_FOUND;
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) == SQLITE_ROW) {
        snprintf(out->status, sizeof(out->status), "%s", ho_col(s, 0));
        snprintf(out->team, sizeof(out->team), "%s", ho_col(s, 1));
        out->assignee = sqlite3_column_int64(s, 2);
        out->offered_to = sqlite3_column_int64(s, 3);
        out->offer_expires_at = sqlite3_column_int64(s, 4);
        out->priority = sqlite3_column_int(s, 5);
        rc = SB_OK;
    }
    ho_release(srv, s);
    return rc;
}

static enum sb_err set_status(struct sb_server *srv, struct sb_conv *conv, const char *status)
{
    enum sb_err rc = sb_store_conv_set_status(srv->store, conv->id, status);
    if (!rc) snprintf(conv->status, sizeof(conv->status), "%s", status);
    return rc;
}

enum sb_err ho_assign(struct sb_server *srv, struct sb_conv *conv, int64_t agent)
{
    char name[256];
    sqlite3_stmt *s;
    struct sb_router *r;
    enum sb_err rc = set_status(srv, conv, SB_STATUS_ASSIGNED);
    if (rc) return rc;
    s = ho_prep(srv, "UPDATE conversations SET assignee = ?2, last_assignee = ?2,"
                     " offered_to = NULL, offer_expires_at = NULL WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv->id);
    sqlite3_bind_int64(s, 2, agent);
    rc = ho_done(srv, s);
    if (rc) return rc;
    s = ho_prep(srv, "UPDATE agent_profiles SET last_assigned_at = ?2 WHERE user_id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, agent);
    sqlite3_bind_int64(s, 2, sb_now_ms());
    rc = ho_done(srv, s);
    if (rc) return rc;
    rc = ho_router(srv, &r);
    if (!rc) rc = sb_router_hold(r, agent, conv->id, ho_weight(srv, conv->channel));
    if (rc) return rc;
    ho_user_name(srv, agent, name, sizeof(name));
    return ho_event(srv, conv, "conversation/assigned",
                    json_pack("{s:{s:I, s:s}}", "agent", "id", (json_int_t)agent, "name", name));
}

enum sb_err ho_accept(struct sb_server *srv, struct sb_conv *conv, int64_t agent,
                      struct sb_errbuf *eb)
{
    struct ho_conv c;
    enum sb_err rc = ho_conv_row(srv, conv->id, &c);
    if (rc) return rc;
    if (strcmp(c.status, SB_STATUS_QUEUED) != 0 || c.offered_to != agent)
        return sb_fail(eb, SB_ERR_CONFLICT, "this conversation is not offered to you");
    if (c.offer_expires_at <= sb_now_ms()) return sb_fail(eb, SB_ERR_CONFLICT, "the offer expired");
    return ho_assign(srv, conv, agent);
}

/* Clears conv's offer, and its assignee too unless keep_assignee. */
static enum sb_err clear_offer(struct sb_server *srv, int64_t conv, bool keep_assignee)
{
    sqlite3_stmt *s = ho_prep(srv, keep_assignee ? "UPDATE conversations SET offered_to = NULL,"
                                                   " offer_expires_at = NULL WHERE id = ?1"
                                                 : "UPDATE conversations SET assignee = NULL,"
                                                   " offered_to = NULL, offer_expires_at = NULL"
                                                   " WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    return ho_done(srv, s);
}

/* The offer of conv to agent ends without an assignment: agent skipped. */
static enum sb_err skip_offer(struct sb_server *srv, int64_t conv, int64_t agent)
{
    sqlite3_stmt *s;
    struct sb_router *r;
    enum sb_err rc = clear_offer(srv, conv, true);
    if (rc) return rc;
    s = ho_prep(srv, "INSERT OR IGNORE INTO offer_skips(conversation_id, user_id) VALUES(?1, ?2)");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    sqlite3_bind_int64(s, 2, agent);
    rc = ho_done(srv, s);
    if (!rc) rc = ho_router(srv, &r);
    if (rc) return rc;
    sb_router_skip(r, conv, agent);
    return SB_OK;
}

enum sb_err ho_decline(struct sb_server *srv, struct sb_conv *conv, int64_t agent,
                       struct sb_errbuf *eb)
{
    struct ho_conv c;
    enum sb_err rc = ho_conv_row(srv, conv->id, &c);
    if (rc) return rc;
    if (strcmp(c.status, SB_STATUS_QUEUED) != 0 || c.offered_to != agent)
        return sb_fail(eb, SB_ERR_CONFLICT, "this conversation is not offered to you");
    rc = skip_offer(srv, conv->id, agent);
    if (!rc)
        rc = ho_event(srv, conv, "conversation/queued",
                      json_pack("{s:s, s:i, s:i, s:s}", "team", c.team, "priority", c.priority,
                                "position", ho_position(srv, conv->id), "reason", "declined"));
    if (!rc) rc = handoff_route(srv);
    return rc;
}

enum sb_err ho_claim(struct sb_server *srv, struct sb_conv *conv, int64_t agent, bool supervisor,
                     struct sb_errbuf *eb)
{
    struct ho_conv c;
    struct ho_team *t;
    enum sb_err rc = ho_conv_row(srv, conv->id, &c);
    if (rc) return rc;
    if (strcmp(c.status, SB_STATUS_QUEUED) != 0 || (c.offered_to && c.offered_to != agent))
        return sb_fail(eb, SB_ERR_CONFLICT, "someone else has this conversation");
    t = ho_team(srv, c.team);
    if (!supervisor && !(t && t->allow_pick))
        return sb_fail(eb, SB_ERR_FORBIDDEN, "team %s does not allow picking from the queue",
                       c.team);
    if (c.offered_to != agent && !ho_agent_has_room(srv, agent, conv->channel) && !supervisor)
        return sb_fail(eb, SB_ERR_CONFLICT, "you are at capacity (or not online)");
    if (sb_router_agent_load(ho_router_view(srv), agent) < 0) {
        rc = ho_agent_load(srv, agent);
        if (rc) return rc;
    }
    return ho_assign(srv, conv, agent);
}

/* conv leaves whoever holds it or was offered it in the router. */
static enum sb_err router_forget(struct sb_server *srv, int64_t conv)
{
    struct sb_router *r;
    enum sb_err rc = ho_router(srv, &r);
    if (!rc) sb_router_remove(r, conv); /* SB_ERR_NOT_FOUND: nothing to forget */
    return rc;
}

/* conv leaves its people: the offer (and the assignee unless kept) and
 * the agents skipped for it. */
static enum sb_err clear_people(struct sb_server *srv, int64_t conv, bool keep_assignee)
{
    sqlite3_stmt *s;
    enum sb_err rc = clear_offer(srv, conv, keep_assignee);
    if (rc) return rc;
    s = ho_prep(srv, "DELETE FROM offer_skips WHERE conversation_id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    return ho_done(srv, s);
}

enum sb_err ho_resolve(struct sb_server *srv, struct sb_conv *conv, const char *by, int64_t article,
                       struct sb_errbuf *eb)
{
    json_t *qr, *ev;
    sqlite3_stmt *s;
    enum sb_err rc;
    if (strcmp(conv->status, SB_STATUS_QUEUED) != 0 && strcmp(conv->status, SB_STATUS_ASSIGNED))
        return sb_fail(eb, SB_ERR_CONFLICT, "the conversation is %s", conv->status);
    /* The article that solved it: a helpful signal from an agent for the
     * answer engine (bounded per conversation like the customers' votes),
     * and the customer's questions become suggested example questions. */
    if (article) {
        rc = sb_kb_vote(srv->kb, article, "agent", true, conv->id, eb);
        if (rc == SB_ERR_NOT_FOUND) return sb_fail(eb, SB_ERR_INVAL, "article_id: no such article");
        if (rc) return rc;
    }
    rc = set_status(srv, conv, SB_STATUS_RESOLVED);
    if (!rc) rc = clear_people(srv, conv->id, true);
    if (rc) return rc;
    s = ho_prep(srv, "UPDATE conversations SET resolved_at = ?2, resolved_by = ?3,"
                     " resolved_article = ?4 WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv->id);
    sqlite3_bind_int64(s, 2, sb_now_ms());
    sqlite3_bind_text(s, 3, by, -1, SQLITE_STATIC);
    if (article) sqlite3_bind_int64(s, 4, article);
    rc = ho_done(srv, s);
    if (!rc) rc = router_forget(srv, conv->id);
    if (rc) return rc;
    ev = json_pack("{s:s}", "by", by);
    if (article) json_object_set_new(ev, "article_id", json_integer(article));
    rc = ho_event(srv, conv, "conversation/resolved", ev);
    if (rc) return rc;
    qr = json_array();
    for (int n = 1; n <= 5; n++) {
        char title[8], payload[16];
        snprintf(title, sizeof(title), "%d", n);
        snprintf(payload, sizeof(payload), "/rate %d", n);
        json_array_append_new(qr, json_pack("{s:s, s:s}", "title", title, "payload", payload));
    }
    rc = ho_system_message(srv, conv, ho_rate_text(conv->locale), qr, NULL);
    json_decref(qr);
    if (!rc) rc = handoff_route(srv);
    return rc;
}

enum sb_err ho_return_to_bot(struct sb_server *srv, struct sb_conv *conv, const char *by,
                             struct sb_errbuf *eb)
{
    enum sb_err rc;
    if (strcmp(conv->status, SB_STATUS_QUEUED) != 0 && strcmp(conv->status, SB_STATUS_ASSIGNED))
        return sb_fail(eb, SB_ERR_CONFLICT, "the conversation is %s", conv->status);
    rc = set_status(srv, conv, SB_STATUS_BOT);
    if (!rc) rc = clear_people(srv, conv->id, false);
    if (!rc) rc = router_forget(srv, conv->id);
    if (rc) return rc;
    rc = ho_event(srv, conv, "conversation/returned_to_bot",
                  json_pack("{s:s, s:s}", "by", by, "status", SB_STATUS_BOT));
    if (!rc) rc = handoff_route(srv);
    return rc;
}

enum sb_err ho_transfer(struct sb_server *srv, struct sb_conv *conv, int64_t from, const char *team,
                        int64_t to_agent, const char *note, struct sb_errbuf *eb)
{
    struct ho_conv c;
    sqlite3_stmt *s;
    struct sb_router *r;
    enum sb_err rc = ho_conv_row(srv, conv->id, &c);
    if (rc) return rc;
    if (strcmp(c.status, SB_STATUS_QUEUED) != 0 && strcmp(c.status, SB_STATUS_ASSIGNED))
        return sb_fail(eb, SB_ERR_CONFLICT, "the conversation is %s", c.status);
    if (team && !ho_team(srv, team)) return sb_fail(eb, SB_ERR_NOT_FOUND, "no such team");
    if (to_agent) {
        sqlite3_stmt *q = ho_prep(srv, "SELECT 1 FROM agent_profiles WHERE user_id = ?1");
        bool known;
        if (!q) return SB_ERR_DB;
        sqlite3_bind_int64(q, 1, to_agent);
        known = sqlite3_step(q) == SQLITE_ROW;
        ho_release(srv, q);
        if (!known) return sb_fail(eb, SB_ERR_NOT_FOUND, "no such agent");
    }
    if (strcmp(c.status, SB_STATUS_QUEUED) != 0) rc = set_status(srv, conv, SB_STATUS_QUEUED);
    if (!rc) rc = clear_people(srv, conv->id, false);
    if (!rc) rc = router_forget(srv, conv->id);
    if (rc) return rc;
    if (team) {
        s = ho_prep(srv, "UPDATE conversations SET team = ?2 WHERE id = ?1");
        if (!s) return SB_ERR_DB;
        sqlite3_bind_int64(s, 1, conv->id);
        sqlite3_bind_text(s, 2, team, -1, SQLITE_STATIC);
        rc = ho_done(srv, s);
        if (rc) return rc;
    }
    rc = ho_event(srv, conv, "conversation/transferred",
                  json_pack("{s:I, s:s?, s:o?, s:s?}", "from", (json_int_t)from, "to_team", team,
                            "to_agent", to_agent ? json_integer(to_agent) : NULL, "note", note));
    if (rc) return rc;
    if (to_agent) {
        rc = ho_enqueue_row(srv, conv->id);
        if (!rc) rc = ho_agent_load(srv, to_agent);
        if (!rc) rc = ho_router(srv, &r);
        if (!rc) rc = sb_router_hold(r, to_agent, conv->id, ho_weight(srv, conv->channel));
        if (!rc) rc = ho_offer(srv, conv->id, to_agent, true);
    } else {
        rc = ho_queue_in(srv, conv, team ? team : c.team, NULL);
    }
    if (!rc) rc = handoff_route(srv);
    return rc;
}

enum sb_err ho_replied(struct sb_server *srv, int64_t conv)
{
    sqlite3_stmt *s = ho_prep(srv, "UPDATE conversations SET first_response_at ="
                                   " ifnull(first_response_at, ?2), next_response_due = NULL,"
                                   " next_response_warn = NULL WHERE id = ?1");
    if (!s) return SB_ERR_DB;
    sqlite3_bind_int64(s, 1, conv);
    sqlite3_bind_int64(s, 2, sb_now_ms());
    return ho_done(srv, s);
}

/* ------------------------------------------------------------------ */
/* timers                                                               */

static void expire_offers(struct sb_server *srv, int64_t now)
{
    for (;;) {
        sqlite3_stmt *s = ho_prep(srv, "SELECT id, offered_to FROM conversations"
                                       " WHERE offered_to IS NOT NULL AND status = 'queued'"
                                       " AND offer_expires_at <= ?1 ORDER BY offer_expires_at"
                                       " LIMIT 1");
        int64_t id, agent;
        struct sb_conv conv;
        struct ho_conv c;
        enum sb_err rc;
        if (!s) return;
        sqlite3_bind_int64(s, 1, now);
        if (sqlite3_step(s) != SQLITE_ROW) {
            ho_release(srv, s);
            return;
        }
        id = sqlite3_column_int64(s, 0);
        agent = sqlite3_column_int64(s, 1);
        ho_release(srv, s);
        if (sb_store_begin(srv->store)) return;
        rc = sb_store_conv_get_by_id(srv->store, id, &conv);
        if (!rc) {
            rc = skip_offer(srv, id, agent);
            if (!rc) rc = ho_conv_row(srv, id, &c);
            if (!rc)
                rc = ho_event(srv, &conv, "conversation/queued",
                              json_pack("{s:s, s:i, s:i, s:s, s:I}", "team", c.team, "priority",
                                        c.priority, "position", ho_position(srv, id), "reason",
                                        "offer_expired", "agent", (json_int_t)agent));
            if (!rc) rc = handoff_route(srv);
            sb_conv_cleanup(&conv);
        }
        if (rc || sb_store_commit(srv->store)) {
            sb_store_rollback(srv->store);
            sb_error("handoff: expiring an offer of conversation %lld failed", (long long)id);
            return;
        }
    }
}

static const char *const kind_col[SB_SLA_KINDS] = {"first_response", "next_response", "resolution"};

/* Fires the warnings (breach = false) or breaches of kind due at now. */
static void sla_fire(struct sb_server *srv, enum sb_sla_kind kind, bool breach, int64_t now)
{
    char sql[512];
    const char *flag = breach ? "sla_breached" : "sla_warned";
    int bit = 1 << kind;
    /* first response counts until the first reply; the others until
     * they are cleared (met) or the conversation leaves a person */
    snprintf(sql, sizeof(sql),
             "SELECT id, %s_due FROM conversations WHERE status IN ('queued', 'assigned')"
             " AND %s_%s IS NOT NULL AND %s_%s <= ?1 AND (%s & %d) = 0 %s LIMIT 200",
             kind_col[kind], kind_col[kind], breach ? "due" : "warn", kind_col[kind],
             breach ? "due" : "warn", flag, bit,
             kind == SB_SLA_FIRST_RESPONSE ? "AND first_response_at IS NULL" : "");
    for (;;) {
        sqlite3_stmt *s = ho_prep_built(srv, sql);
        int64_t ids[200], dues[200];
        int n = 0;
        if (!s) return;
        sqlite3_bind_int64(s, 1, now);
        while (n < 200 && sqlite3_step(s) == SQLITE_ROW) {
            ids[n] = sqlite3_column_int64(s, 0);
            dues[n++] = sqlite3_column_int64(s, 1);
        }
        ho_release(srv, s);
        if (!n || sb_store_begin(srv->store)) return;
        for (int i = 0; i < n; i++) {
            struct sb_conv conv;
            char upd[128];
            enum sb_err rc;
            snprintf(upd, sizeof(upd), "UPDATE conversations SET %s = %s | %d WHERE id = ?1", flag,
                     flag, bit);
            s = ho_prep_built(srv, upd);
            if (s) sqlite3_bind_int64(s, 1, ids[i]);
            rc = ho_done(srv, s);
            if (!rc) rc = sb_store_conv_get_by_id(srv->store, ids[i], &conv);
            if (!rc) {
                rc = ho_event(srv, &conv, breach ? "sla/breached" : "sla/warning",
                              json_pack("{s:s, s:I}", "kind", sb_sla_kind_name(kind), "due_at",
                                        (json_int_t)dues[i]));
                sb_conv_cleanup(&conv);
            }
            if (rc) {
                sb_store_rollback(srv->store);
                return;
            }
            if (breach)
                srv->metrics.sla_breaches[kind]++;
            else
                srv->metrics.sla_warnings[kind]++;
        }
        if (sb_store_commit(srv->store)) {
            sb_store_rollback(srv->store);
            return;
        }
        if (n < 200) return;
    }
}

static void teams_tick(struct sb_server *srv, int64_t now)
{
    struct handoff_state *h = srv->handoff;
    bool opened = false;
    for (int i = 0; i < h->nteams; i++) {
        struct ho_team *t = &h->teams[i];
        bool open = t->hours ? sb_hours_is_open(t->hours, now) : true;
        if (open == t->open) continue;
        t->open = open;
        sb_router_team_open(h->router, t->id, open);
        sb_info("team %s %s", t->id, open ? "opens" : "closes");
        opened |= open;
    }
    if (opened && !sb_store_begin(srv->store)) {
        if (handoff_route(srv) || sb_store_commit(srv->store)) sb_store_rollback(srv->store);
    }
}

void handoff_timers(struct sb_server *srv)
{
    int64_t now = sb_now_ms();
    if (!srv->handoff) return;
    teams_tick(srv, now);
    expire_offers(srv, now);
    for (int k = 0; k < SB_SLA_KINDS; k++) {
        sla_fire(srv, (enum sb_sla_kind)k, false, now);
        sla_fire(srv, (enum sb_sla_kind)k, true, now);
    }
}
