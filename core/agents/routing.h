/*
 * routing.h - the routing core: which waiting conversation is offered to
 * which agent (docs/agents.md, "Routing"). Pure in-memory logic with no
 * store, clock or server: the caller feeds it agents, queued conversations
 * and holds, calls sb_router_route() after every event, and writes the
 * offers it returns.
 *
 * Weights and capacities are kept in thousandths (0.5 -> 500) so loads add
 * up exactly and "load + weight <= capacity" never flips on rounding.
 *
 * Functions returning int return 0 (SB_OK) or an enum sb_err value.
 */
#ifndef ROUTING_H
#define ROUTING_H

#include <stdbool.h>
#include <stdint.h>

#include "sb.h"

struct sb_router;

struct sb_offer {
    int64_t conv, agent;
};

/* An empty router; NULL when out of memory. Free with sb_router_free
 * (NULL-safe). */
struct sb_router *sb_router_new(void);
void sb_router_free(struct sb_router *r);
/* A deep copy of r, which stays untouched: a unit of work changes the
 * copy and adopts it when it commits (handoff.c). NULL when out of
 * memory. */
struct sb_router *sb_router_clone(const struct sb_router *r);

/* Creates or updates agent: online flag, capacity, skills and teams
 * (borrowed strings, copied; teams are created on first mention, open).
 * The agent's load is not touched: it comes from holds and offers.
 * An agent set offline loses its outstanding offers (made by route and not
 * yet confirmed by sb_router_hold): they go back to their queues, not
 * skipped, as docs/agents.md asks; the caller clears offered_to on them.
 * SB_ERR_INVAL for a capacity below 0 or a NULL/empty name. */
int sb_router_agent_set(struct sb_router *r, int64_t agent, bool online, double capacity,
                        const char *const *skills, int nskills, const char *const *teams,
                        int nteams, int64_t last_assigned_at);

/* Queues conversation conv in team (created open on first mention), or
 * updates a queued one (its place in the queue follows the new values).
 * due_at <= 0 means no first-response due time: it sorts after every due
 * one. Skills are borrowed and copied. For a conversation that is offered
 * or held the values are only remembered: they are used if it comes back
 * to the queue after a skip. SB_ERR_INVAL for weight <= 0 or a bad name. */
int sb_router_enqueue(struct sb_router *r, int64_t conv, const char *team, int priority,
                      int64_t due_at, int64_t queued_at, double weight, const char *const *skills,
                      int nskills);

/* The conversation leaves the router whatever its state (returned to the
 * bot, closed while waiting): queue entry, offer or hold and skips are
 * forgotten; an offer's or hold's weight leaves the agent's load.
 * SB_ERR_NOT_FOUND when unknown. */
int sb_router_remove(struct sb_router *r, int64_t conv);

/* Agent holds conv with weight (accepted, claimed, or rebuilt at start):
 * it leaves the queue if queued; an offer of it to this agent becomes a
 * hold, an offer or hold by someone else is dropped from their load.
 * SB_ERR_NOT_FOUND for an unknown agent. */
int sb_router_hold(struct sb_router *r, int64_t agent, int64_t conv, double weight);

/* Agent no longer holds conv (resolved, transferred): its weight leaves
 * the load and the conversation is forgotten (to queue it elsewhere,
 * enqueue it again). SB_ERR_NOT_FOUND unless agent holds or was offered
 * conv. */
int sb_router_release(struct sb_router *r, int64_t agent, int64_t conv);

/* Agent declined conv or let its offer expire: agent is never offered conv
 * again (until it is removed or released). If agent held or was offered
 * conv, that ends and conv goes back to its queue with the values of its
 * last enqueue. Skips may come before the enqueue (they are kept). */
int sb_router_skip(struct sb_router *r, int64_t conv, int64_t agent);

/* A closed team's queue is not routed; opening it routes it at the next
 * sb_router_route. Offers and holds are untouched. */
void sb_router_team_open(struct sb_router *r, const char *team, bool open);

/* Decide: fills out[] with (conversation, agent) offers, at most max, in
 * the order they were decided; each one is already counted in the agent's
 * load, and sets the agent's last_assigned_at to now (ms). Returns how
 * many. When it returns max there may be more to offer: call it again.
 *
 * Queues are served by priority (high first), then due_at, queued_at, id;
 * a conversation nobody can take does not hold up those behind it, but a
 * later one never goes to an agent who could take an earlier one. Each
 * conversation goes to the eligible agent (online, in the team, every
 * skill, load + weight <= capacity, not skipped) with the lowest
 * load/capacity, then the oldest last_assigned_at, then the lowest id.
 * Only what changed since the last call is looked at, so an event costs
 * about one team's agents or one agent's queues, not the whole state. */
int sb_router_route(struct sb_router *r, int64_t now, struct sb_offer *out, int max);

/* Read-only views for tests, the supervisor overview and benchmarks. */
/* The agent's load in thousandths, or -1 when unknown. */
int64_t sb_router_agent_load(const struct sb_router *r, int64_t agent);
/* How many conversations are waiting in queues (not offered or held). */
int sb_router_queued(const struct sb_router *r);

#endif
