/*
 * handoff.h - the live-agent state machine (docs/agents.md): a handed-off
 * conversation is queued in a team, offered, assigned, transferred,
 * resolved, reopened or returned to the bot; the routing core
 * (routing.h) decides the offers; SLA due times and offer expiries are
 * durable timers kept in the conversations table.
 *
 * Everything runs on the loop thread. Functions that change a
 * conversation expect to be called inside a store unit (sb_store_begin)
 * unless they say otherwise; they add the events (the store's event hook
 * wakes the streams after commit) and change the unit's copy of the
 * router, which replaces the router when the unit commits: a rollback
 * leaves nothing to repair.
 */
#ifndef HANDOFF_H
#define HANDOFF_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "sb.h"
#include "sb_store.h"

struct sb_server;
struct sb_inbound;

/* Loads teams, agents, queued and assigned conversations into a new
 * router. SB_ERR_NOMEM / SB_ERR_DB with detail in eb. */
enum sb_err handoff_start(struct sb_server *srv, struct sb_errbuf *eb);
void handoff_stop(struct sb_server *srv);
/* Throws the router away and loads it again from the store: after an
 * admin changed the configuration, or a failed flush undid committed
 * units (the store's batch-lost hook). Outside a unit. */
void handoff_rebuild(struct sb_server *srv);

/* The bot handed conv off (status already queued): picks its team,
 * priority and skills (routing rules; hint = the plugin's team hint or
 * topic, may be NULL), sets the SLA due times, queues it, tells a customer
 * of a closed team when it opens, and routes. Inside a unit. */
enum sb_err handoff_queue(struct sb_server *srv, struct sb_conv *conv, const char *hint,
                          json_t *replies);

/* A customer message (stored, id msg_id) reached conv before the bot:
 * a rating of a resolved conversation is stored (*bot = false); a resolved
 * conversation within the reopen window is queued again (*bot = false);
 * queued/assigned ones start the next-response SLA. *bot says whether the
 * bot may answer. Inside a unit. */
enum sb_err handoff_inbound(struct sb_server *srv, struct sb_conv *conv, const char *text,
                            const char *payload, int64_t msg_id, json_t *replies, bool *bot);

/* Runs routing and writes its offers. Inside a unit. */
enum sb_err handoff_route(struct sb_server *srv);

/* Re-reads agent user_id's profile and teams into the router (after an
 * admin changed them) and routes. Inside a unit. */
enum sb_err handoff_agent_changed(struct sb_server *srv, int64_t user_id);

/* Fires every timer due at sb_now_ms(): offer expiries, SLA warnings and
 * breaches, teams opening and closing. Opens its own units. */
void handoff_timers(struct sb_server *srv);

/* The agents' event streams (api_agent_events.c): wake them once the
 * open unit's batch is durable (an after-commit effect); keep-alives. */
void agent_events_notify(struct sb_server *srv);
/* Team memberships changed: the streams read them again. */
void agent_events_teams_changed(struct sb_server *srv);
void agent_events_keepalive(struct sb_server *srv, unsigned tick);

#endif
