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
#include "words.h"

enum sb_err ho_conv_row(struct handoff_state *ho, int64_t id, struct sb_handoff_row *out)
{
    return sb_store_handoff_row(ho->store, id, out);
}

static enum sb_err set_status(struct handoff_state *ho, struct sb_conv *conv, const char *status)
{
    enum sb_err rc = sb_store_conv_set_status(ho->store, conv->id, status);
    if (!rc) snprintf(conv->status, sizeof(conv->status), "%s", status);
    return rc;
}

enum sb_err ho_assign(struct handoff_state *ho, struct sb_conv *conv, int64_t agent)
{
    char name[256];
    struct sb_router *r;
    enum sb_err rc = set_status(ho, conv, SB_STATUS_ASSIGNED);
    if (!rc) rc = sb_store_assignee_set(ho->store, conv->id, agent, sb_now_ms());
    if (rc) return rc;
    rc = ho_router(ho, &r);
    if (!rc) rc = sb_router_hold(r, agent, conv->id, ho_weight(ho, conv->channel));
    if (rc) return rc;
    ho_user_name(ho, agent, name, sizeof(name));
    return ho_event(ho, conv, "conversation/assigned",
                    json_pack("{s:{s:I, s:s}}", "agent", "id", (json_int_t)agent, "name", name));
}

enum sb_err ho_accept(struct handoff_state *ho, struct sb_conv *conv, int64_t agent,
                      struct sb_errbuf *eb)
{
    struct sb_handoff_row c;
    enum sb_err rc = ho_conv_row(ho, conv->id, &c);
    if (rc) return rc;
    if (strcmp(c.status, SB_STATUS_QUEUED) != 0 || c.offered_to != agent)
        return sb_fail(eb, SB_ERR_CONFLICT, "this conversation is not offered to you");
    if (c.offer_expires_at <= sb_now_ms()) return sb_fail(eb, SB_ERR_CONFLICT, "the offer expired");
    return ho_assign(ho, conv, agent);
}

/* The offer of conv to agent ends without an assignment: agent skipped. */
static enum sb_err skip_offer(struct handoff_state *ho, int64_t conv, int64_t agent)
{
    struct sb_router *r;
    enum sb_err rc = sb_store_offer_clear(ho->store, conv, true);
    if (!rc) rc = sb_store_offer_skip_add(ho->store, conv, agent);
    if (!rc) rc = ho_router(ho, &r);
    if (rc) return rc;
    sb_router_skip(r, conv, agent);
    return SB_OK;
}

enum sb_err ho_decline(struct handoff_state *ho, struct sb_conv *conv, int64_t agent,
                       struct sb_errbuf *eb)
{
    struct sb_handoff_row c;
    enum sb_err rc = ho_conv_row(ho, conv->id, &c);
    if (rc) return rc;
    if (strcmp(c.status, SB_STATUS_QUEUED) != 0 || c.offered_to != agent)
        return sb_fail(eb, SB_ERR_CONFLICT, "this conversation is not offered to you");
    rc = skip_offer(ho, conv->id, agent);
    if (!rc)
        rc = ho_event(ho, conv, "conversation/queued",
                      json_pack("{s:s, s:i, s:i, s:s}", "team", c.team, "priority", c.priority,
                                "position", ho_position(ho, conv->id), "reason", "declined"));
    if (!rc) rc = handoff_route(ho);
    return rc;
}

enum sb_err ho_claim(struct handoff_state *ho, struct sb_conv *conv, int64_t agent, bool supervisor,
                     struct sb_errbuf *eb)
{
    struct sb_handoff_row c;
    struct ho_team *t;
    enum sb_err rc = ho_conv_row(ho, conv->id, &c);
    if (rc) return rc;
    if (strcmp(c.status, SB_STATUS_QUEUED) != 0 || (c.offered_to && c.offered_to != agent))
        return sb_fail(eb, SB_ERR_CONFLICT, "someone else has this conversation");
    t = ho_team(ho, c.team);
    if (!supervisor && !(t && t->allow_pick))
        return sb_fail(eb, SB_ERR_FORBIDDEN, "team %s does not allow picking from the queue",
                       c.team);
    if (c.offered_to != agent && !ho_agent_has_room(ho, agent, conv->channel) && !supervisor)
        return sb_fail(eb, SB_ERR_CONFLICT, "you are at capacity (or not online)");
    if (sb_router_agent_load(ho_router_view(ho), agent) < 0) {
        rc = ho_agent_load(ho, agent);
        if (rc) return rc;
    }
    return ho_assign(ho, conv, agent);
}

/* conv leaves whoever holds it or was offered it in the router. */
static enum sb_err router_forget(struct handoff_state *ho, int64_t conv)
{
    struct sb_router *r;
    enum sb_err rc = ho_router(ho, &r);
    if (!rc) sb_router_remove(r, conv); /* SB_ERR_NOT_FOUND: nothing to forget */
    return rc;
}

/* conv leaves its people: the offer (and the assignee unless kept) and
 * the agents skipped for it. */
static enum sb_err clear_people(struct handoff_state *ho, int64_t conv, bool keep_assignee)
{
    enum sb_err rc = sb_store_offer_clear(ho->store, conv, keep_assignee);
    return rc ? rc : sb_store_offer_skips_clear(ho->store, conv);
}

enum sb_err ho_resolve(struct handoff_state *ho, struct sb_conv *conv, const char *by,
                       int64_t article, struct sb_errbuf *eb)
{
    json_t *qr, *ev;
    enum sb_err rc;
    if (strcmp(conv->status, SB_STATUS_QUEUED) != 0 && strcmp(conv->status, SB_STATUS_ASSIGNED))
        return sb_fail(eb, SB_ERR_CONFLICT, "the conversation is %s", conv->status);
    /* The article that solved it: a helpful signal from an agent for the
     * answer engine (bounded per conversation like the customers' votes),
     * and the customer's questions become suggested example questions. */
    if (article) {
        rc = sb_kb_vote(ho->kb, article, "agent", true, conv->id, eb);
        if (rc == SB_ERR_NOT_FOUND) return sb_fail(eb, SB_ERR_INVAL, "article_id: no such article");
        if (rc) return rc;
    }
    rc = set_status(ho, conv, SB_STATUS_RESOLVED);
    if (!rc) rc = clear_people(ho, conv->id, true);
    if (rc) return rc;
    rc = sb_store_resolved_set(ho->store, conv->id, sb_now_ms(), by, article);
    if (!rc) rc = router_forget(ho, conv->id);
    if (rc) return rc;
    ev = json_pack("{s:s}", "by", by);
    if (article) json_object_set_new(ev, "article_id", json_integer(article));
    rc = ho_event(ho, conv, "conversation/resolved", ev);
    if (rc) return rc;
    qr = json_array();
    for (int n = 1; n <= 5; n++) {
        char title[8], payload[16];
        snprintf(title, sizeof(title), "%d", n);
        snprintf(payload, sizeof(payload), "/rate %d", n);
        json_array_append_new(qr, json_pack("{s:s, s:s}", "title", title, "payload", payload));
    }
    rc = ho_system_message(ho, conv, sb_words_text(ho->words, conv->locale, "conv.rate"), qr, NULL);
    json_decref(qr);
    if (!rc) rc = handoff_route(ho);
    return rc;
}

enum sb_err ho_return_to_bot(struct handoff_state *ho, struct sb_conv *conv, const char *by,
                             struct sb_errbuf *eb)
{
    enum sb_err rc;
    if (strcmp(conv->status, SB_STATUS_QUEUED) != 0 && strcmp(conv->status, SB_STATUS_ASSIGNED))
        return sb_fail(eb, SB_ERR_CONFLICT, "the conversation is %s", conv->status);
    rc = set_status(ho, conv, SB_STATUS_BOT);
    if (!rc) rc = clear_people(ho, conv->id, false);
    if (!rc) rc = router_forget(ho, conv->id);
    if (rc) return rc;
    rc = ho_event(ho, conv, "conversation/returned_to_bot",
                  json_pack("{s:s, s:s}", "by", by, "status", SB_STATUS_BOT));
    if (!rc) rc = handoff_route(ho);
    return rc;
}

enum sb_err ho_transfer(struct handoff_state *ho, struct sb_conv *conv, int64_t from,
                        const char *team, int64_t to_agent, const char *note, struct sb_errbuf *eb)
{
    struct sb_handoff_row c;
    struct sb_router *r;
    enum sb_err rc = ho_conv_row(ho, conv->id, &c);
    if (rc) return rc;
    if (strcmp(c.status, SB_STATUS_QUEUED) != 0 && strcmp(c.status, SB_STATUS_ASSIGNED))
        return sb_fail(eb, SB_ERR_CONFLICT, "the conversation is %s", c.status);
    if (team && !ho_team(ho, team)) return sb_fail(eb, SB_ERR_NOT_FOUND, "no such team");
    if (to_agent) {
        char status[16];
        double capacity;
        rc = sb_store_agent_avail(ho->store, to_agent, status, &capacity);
        if (rc == SB_ERR_NOT_FOUND) return sb_fail(eb, SB_ERR_NOT_FOUND, "no such agent");
        if (rc) return rc;
    }
    if (strcmp(c.status, SB_STATUS_QUEUED) != 0) rc = set_status(ho, conv, SB_STATUS_QUEUED);
    if (!rc) rc = clear_people(ho, conv->id, false);
    if (!rc) rc = router_forget(ho, conv->id);
    if (rc) return rc;
    if (team) {
        rc = sb_store_team_set(ho->store, conv->id, team);
        if (rc) return rc;
    }
    rc = ho_event(ho, conv, "conversation/transferred",
                  json_pack("{s:I, s:s?, s:o?, s:s?}", "from", (json_int_t)from, "to_team", team,
                            "to_agent", to_agent ? json_integer(to_agent) : NULL, "note", note));
    if (rc) return rc;
    if (to_agent) {
        rc = ho_enqueue_row(ho, conv->id);
        if (!rc) rc = ho_agent_load(ho, to_agent);
        if (!rc) rc = ho_router(ho, &r);
        if (!rc) rc = sb_router_hold(r, to_agent, conv->id, ho_weight(ho, conv->channel));
        if (!rc) rc = ho_offer(ho, conv->id, to_agent, true);
    } else {
        rc = ho_queue_in(ho, conv, team ? team : c.team, NULL);
    }
    if (!rc) rc = handoff_route(ho);
    return rc;
}

enum sb_err ho_replied(struct handoff_state *ho, int64_t conv)
{
    return sb_store_replied(ho->store, conv, sb_now_ms());
}

/* ------------------------------------------------------------------ */
/* timers                                                               */

static void expire_offers(struct handoff_state *ho, int64_t now)
{
    for (;;) {
        int64_t id, agent;
        struct sb_conv conv;
        struct sb_handoff_row c;
        enum sb_err rc;
        if (sb_store_offer_expired_next(ho->store, now, &id, &agent)) return;
        if (sb_store_begin(ho->store)) return;
        rc = sb_store_conv_get_by_id(ho->store, id, &conv);
        if (!rc) {
            rc = skip_offer(ho, id, agent);
            if (!rc) rc = ho_conv_row(ho, id, &c);
            if (!rc)
                rc = ho_event(ho, &conv, "conversation/queued",
                              json_pack("{s:s, s:i, s:i, s:s, s:I}", "team", c.team, "priority",
                                        c.priority, "position", ho_position(ho, id), "reason",
                                        "offer_expired", "agent", (json_int_t)agent));
            if (!rc) rc = handoff_route(ho);
            sb_conv_cleanup(&conv);
        }
        if (rc || sb_store_commit(ho->store)) {
            sb_store_rollback(ho->store);
            sb_error("handoff: expiring an offer of conversation %lld failed", (long long)id);
            return;
        }
    }
}

/* Fires the warnings (breach = false) or breaches of kind due at now. */
static void sla_fire(struct handoff_state *ho, enum sb_sla_kind kind, bool breach, int64_t now)
{
    for (;;) {
        int64_t ids[200], dues[200];
        int n = 0;
        if (sb_store_sla_due_list(ho->store, (int)kind, breach, now, ids, dues, 200, &n) || !n ||
            sb_store_begin(ho->store))
            return;
        for (int i = 0; i < n; i++) {
            struct sb_conv conv;
            enum sb_err rc = sb_store_sla_flag_set(ho->store, ids[i], (int)kind, breach);
            if (!rc) rc = sb_store_conv_get_by_id(ho->store, ids[i], &conv);
            if (!rc) {
                rc = ho_event(ho, &conv, breach ? "sla/breached" : "sla/warning",
                              json_pack("{s:s, s:I}", "kind", sb_sla_kind_name(kind), "due_at",
                                        (json_int_t)dues[i]));
                sb_conv_cleanup(&conv);
            }
            if (rc) {
                sb_store_rollback(ho->store);
                return;
            }
            if (breach)
                ho->sla_breaches[kind]++;
            else
                ho->sla_warnings[kind]++;
        }
        if (sb_store_commit(ho->store)) {
            sb_store_rollback(ho->store);
            return;
        }
        if (n < 200) return;
    }
}

static void teams_tick(struct handoff_state *ho, int64_t now)
{
    bool opened = false;
    for (int i = 0; i < ho->nteams; i++) {
        struct ho_team *t = &ho->teams[i];
        bool open = t->hours ? sb_hours_is_open(t->hours, now) : true;
        if (open == t->open) continue;
        t->open = open;
        sb_router_team_open(ho->router, t->id, open);
        sb_info("team %s %s", t->id, open ? "opens" : "closes");
        opened |= open;
    }
    if (opened && !sb_store_begin(ho->store)) {
        if (handoff_route(ho) || sb_store_commit(ho->store)) sb_store_rollback(ho->store);
    }
}

void handoff_timers(struct handoff_state *ho)
{
    int64_t now = sb_now_ms();
    if (!ho) return;
    teams_tick(ho, now);
    expire_offers(ho, now);
    for (int k = 0; k < SB_SLA_KINDS; k++) {
        sla_fire(ho, (enum sb_sla_kind)k, false, now);
        sla_fire(ho, (enum sb_sla_kind)k, true, now);
    }
}
