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
#include "send.h"

struct sb_words;

struct handoff_state;
struct sb_config;
struct sb_host;
struct sb_kb;

/* What the state machine works with, all borrowed for its life: it knows
 * nothing of HTTP or the server. The counters are the server's metrics. */
struct handoff_deps {
    struct sb_store *store;
    struct sb_kb *kb;             /* votes of resolving agents */
    struct sb_host *host;         /* the plugins' route hook */
    const struct sb_config *cfg;  /* offers, reopening, SLA warnings, weights */
    const struct sb_words *words; /* what the customer is told (web/locales) */
    uint64_t *messages_out;       /* system messages count as replies */
    uint64_t *sla_warnings;       /* [3], by enum sb_sla_kind */
    uint64_t *sla_breaches;       /* [3] */
};

/* Loads teams, agents, queued and assigned conversations into a new
 * router; *out is the state (free with handoff_stop, also after a
 * failure). SB_ERR_NOMEM / SB_ERR_DB with detail in eb. */
enum sb_err handoff_start(const struct handoff_deps *deps, struct handoff_state **out,
                          struct sb_errbuf *eb);
void handoff_stop(struct handoff_state *ho); /* NULL-safe */
/* Throws the router away and loads it again from the store: after an
 * admin changed the configuration, or a failed flush undid committed
 * units (the store's batch-lost hook). Outside a unit. */
void handoff_rebuild(struct handoff_state *ho);

/* The bot handed conv off (status already queued): picks its team,
 * priority and skills (routing rules; hint = the plugin's team hint or
 * topic, may be NULL), sets the SLA due times, queues it, tells a customer
 * of a closed team when it opens, and routes. The notice answers the
 * customer's message replies->reply_to and joins replies (send.h; NULL:
 * no message is answered). Inside a unit. */
enum sb_err handoff_queue(struct handoff_state *ho, struct sb_conv *conv, const char *hint,
                          struct sb_replies *replies);

/* A customer message (stored, its id replies->reply_to) reached conv
 * before the bot: a rating of a resolved conversation is stored and
 * thanked for, the thanks joining replies (*bot = false); a resolved
 * conversation within the reopen window is queued again (*bot = false);
 * queued/assigned ones start the next-response SLA. *bot says whether the
 * bot may answer. Inside a unit. */
enum sb_err handoff_inbound(struct handoff_state *ho, struct sb_conv *conv, const char *text,
                            const char *payload, struct sb_replies *replies, bool *bot);

/* Runs routing and writes its offers. Inside a unit. */
enum sb_err handoff_route(struct handoff_state *ho);

/* Re-reads agent user_id's profile and teams into the router (after an
 * admin changed them) and routes. Inside a unit. */
enum sb_err handoff_agent_changed(struct handoff_state *ho, int64_t user_id);

/* Called after an admin or CLI change of teams, agents, routing rules or
 * SLA policies has been committed, so the routing state in memory follows
 * the store: reloads the router and routes. ho may be NULL (the CLI: the
 * server reads the store again at start or on SIGHUP). */
void sb_agents_config_changed(struct handoff_state *ho, const char *what);

/* Fires every timer due at sb_now_ms(): offer expiries, SLA warnings and
 * breaches, teams opening and closing. Opens its own units. */
void handoff_timers(struct handoff_state *ho);

#endif
