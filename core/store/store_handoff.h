/*
 * store_handoff.h - what the live-agent state machine (handoff.c,
 * handoff_ops.c) reads from and writes to the store: the hand-off columns
 * of conversations, offers and skips, SLA due times, the routing inputs
 * (teams, agent profiles, rules, SLA policies). Typed values only, so a
 * second backend can provide the same functions.
 *
 * Writers run inside the caller's unit of work (sb_store_begin). Strings
 * passed in are borrowed; json_t results are owned by the caller; strings
 * in the *_each callbacks' rows are borrowed for the call.
 * SB_ERR_DB on a failed statement (logged), SB_ERR_NOT_FOUND where said.
 */
#ifndef STORE_HANDOFF_H
#define STORE_HANDOFF_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "sb.h"
#include "sb_store.h"

/* ------- a conversation's hand-off columns ------- */

struct sb_handoff_row {
    char status[16];
    char team[64]; /* "default" when none */
    int64_t assignee, offered_to, offer_expires_at;
    int priority;
};
enum sb_err sb_store_handoff_row(struct sb_store *st, int64_t conv, struct sb_handoff_row *out);

/* What routing needs to queue conv. skills: owned array (NULL when bad). */
struct sb_queue_row {
    char team[64]; /* "" when none */
    char channel[32];
    int priority;
    int64_t first_response_due; /* 0: none */
    int64_t queued_at;
    json_t *skills;
};
enum sb_err sb_store_queue_row(struct sb_store *st, int64_t conv, struct sb_queue_row *out);

/* What a customer message to a handed-off conversation needs. */
struct sb_inbound_row {
    int64_t resolved_at, last_assignee, next_response_due; /* 0: none */
    char team[64];                                         /* "default" when none */
    int priority;
};
enum sb_err sb_store_inbound_row(struct sb_store *st, int64_t conv, struct sb_inbound_row *out);

/* Queues conv in team (status already queued): priority, skills (JSON
 * text), no assignee, offer or response times; queued_at kept or now. */
enum sb_err sb_store_queue_set(struct sb_store *st, int64_t conv, const char *team, int priority,
                               const char *skills, int64_t now);
/* 1-based place of conv in its team's queue (priority, then queue time). */
int sb_store_queue_position(struct sb_store *st, int64_t conv);
enum sb_err sb_store_team_set(struct sb_store *st, int64_t conv, const char *team);

/* conv is offered to agent until expires_at; the agent's last offer time. */
enum sb_err sb_store_offer_set(struct sb_store *st, int64_t conv, int64_t agent, int64_t expires_at,
                               int64_t now);
/* conv is assigned to agent (and last_assignee); the offer is cleared. */
enum sb_err sb_store_assignee_set(struct sb_store *st, int64_t conv, int64_t agent, int64_t now);
/* Clears conv's offer, and its assignee too unless keep_assignee. */
enum sb_err sb_store_offer_clear(struct sb_store *st, int64_t conv, bool keep_assignee);
enum sb_err sb_store_offer_skip_add(struct sb_store *st, int64_t conv, int64_t agent);
enum sb_err sb_store_offer_skips_clear(struct sb_store *st, int64_t conv);
/* The queued conversation whose offer expired first (by now):
 * SB_ERR_NOT_FOUND when none. */
enum sb_err sb_store_offer_expired_next(struct sb_store *st, int64_t now, int64_t *conv,
                                        int64_t *agent);
/* Calls fn for every queued conversation offered to agent. */
enum sb_err sb_store_offers_to_each(struct sb_store *st, int64_t agent,
                                    void (*fn)(void *arg, int64_t conv), void *arg);

enum sb_err sb_store_resolved_set(struct sb_store *st, int64_t conv, int64_t at, const char *by,
                                  int64_t article); /* article 0: none */
/* Reopened by its customer: resolution and people cleared, counted. */
enum sb_err sb_store_reopened(struct sb_store *st, int64_t conv);
enum sb_err sb_store_csat_set(struct sb_store *st, int64_t conv, int rating);
/* An agent replied: first response met, next response not due. */
enum sb_err sb_store_replied(struct sb_store *st, int64_t conv, int64_t now);

/* ------- SLA due times (kind: 0 first response, 1 next, 2 resolution) ------- */

enum sb_err sb_store_sla_set(struct sb_store *st, int64_t conv, int kind, int64_t due,
                             int64_t warn);
/* Up to max conversations with a person whose warning (breach false) or
 * due time (breach true) of kind is at or before now and not yet flagged. */
enum sb_err sb_store_sla_due_list(struct sb_store *st, int kind, bool breach, int64_t now,
                                  int64_t *ids, int64_t *dues, int max, int *n);
enum sb_err sb_store_sla_flag_set(struct sb_store *st, int64_t conv, int kind, bool breach);

struct sb_sla_policy_row {
    char channel[32]; /* "" = any */
    int priority;     /* -1 = any */
    int minutes[3];   /* <= 0: no target */
};
/* The SLA policies in order, at most max. */
enum sb_err sb_store_sla_policies(struct sb_store *st, struct sb_sla_policy_row *out, int max,
                                  int *n);

/* ------- routing inputs ------- */

struct sb_team_row {
    const char *id, *timezone, *hours, *holidays, *outside; /* JSON texts: hours may be "" */
    bool allow_pick, require_language;
};
enum sb_err sb_store_teams_each(struct sb_store *st,
                                void (*fn)(void *arg, const struct sb_team_row *t), void *arg);

/* An agent as routing sees them. skills, teams: owned arrays. */
struct sb_agent_routing {
    bool found;  /* has a profile */
    bool online; /* status online and the account active */
    double capacity;
    int64_t last_assigned_at;
    json_t *skills, *teams;
};
enum sb_err sb_store_agent_routing(struct sb_store *st, int64_t user, struct sb_agent_routing *out);
/* status ("online", "away", "offline") and capacity of an agent's
 * profile; SB_ERR_NOT_FOUND without one. */
enum sb_err sb_store_agent_avail(struct sb_store *st, int64_t user, char status[16],
                                 double *capacity);
enum sb_err sb_store_agent_ids_each(struct sb_store *st, void (*fn)(void *arg, int64_t user),
                                    void *arg);
enum sb_err sb_store_offer_skips_each(struct sb_store *st,
                                      void (*fn)(void *arg, int64_t conv, int64_t user), void *arg);
/* Every queued or assigned conversation, by id. */
struct sb_handed_off {
    int64_t id, offered_to, assignee; /* 0: none */
    bool queued;                      /* else assigned */
    const char *channel;
};
enum sb_err sb_store_handed_off_each(struct sb_store *st,
                                     enum sb_err (*fn)(void *arg, const struct sb_handed_off *c),
                                     void *arg);

/* Routing rules in order: fn returns true to stop. match and skills are
 * JSON texts. */
struct sb_rule_row {
    const char *match, *team, *skills;
    int priority;
};
enum sb_err sb_store_rules_each(struct sb_store *st,
                                bool (*fn)(void *arg, const struct sb_rule_row *r), void *arg);
/* A contact's attributes (owned object), NULL when unknown. */
json_t *sb_store_contact_attrs(struct sb_store *st, int64_t contact);
/* The slug of the article the bot last found for conv, "" when none. */
void sb_store_last_topic(struct sb_store *st, int64_t conv, char *out, size_t cap);
/* A user's name, "" when unknown. */
void sb_store_user_name(struct sb_store *st, int64_t user, char *out, size_t cap);

#endif
