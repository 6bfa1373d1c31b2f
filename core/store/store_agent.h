/*
 * store_agent.h - what the agent API (api_agent.c), the agents' event
 * streams (api_agent_events.c, agent_feed.c) and the access rule
 * (agent_access.c) read from and write to the store. Lists come back as
 * the JSON the API shows (owned by the caller); SLA times come raw
 * ({kind, due_at, warn_at, met}), since their state is agents' policy.
 *
 * Writers run inside the caller's unit of work. SB_ERR_DB on a failed
 * statement (logged).
 */
#ifndef STORE_AGENT_H
#define STORE_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "sb.h"
#include "sb_store.h"

/* ------- who sees what (agent_access.h has the rule) ------- */

/* Who looks: the user id (0 for a token: nobody) and whether they see all. */
struct agent_viewer {
    int64_t user;
    bool all;
};

/* True when the viewer bound with agent_viewer_bind() may see the
 * conversation row c (an alias of the conversations table). Uses the
 * parameters :viewer and :all; a statement that uses it names its other
 * parameters too (":conv"), since a "?N" after a named one may share its
 * number. conversation_agents holds every agent a
 * conversation was ever assigned to (a trigger fills it, store.c). */
#define AGENT_SEES(c)                                                                              \
    "(:all OR " c ".assignee = :viewer OR " c ".offered_to = :viewer OR " c                        \
    ".team IN (SELECT team_id FROM team_members WHERE user_id = :viewer) OR EXISTS (SELECT 1"      \
    " FROM conversation_agents h WHERE h.conversation_id = " c ".id AND h.user_id = :viewer))"

/* ------- the agent API ------- */

/* {status, capacity, skills, teams}; the defaults of an agent without a
 * profile; NULL when out of memory or on a store error. */
json_t *sb_store_agent_profile(struct sb_store *st, int64_t user);
enum sb_err sb_store_agent_status_set(struct sb_store *st, int64_t user, const char *status,
                                      int64_t now);
/* The queue user may work (all: every team's), best first, at most 500:
 * [{id, team, priority, channel, locale, contact{name}, queued_at,
 * offered_to, offer_expires_at, preview, sla}]; NULL on a store error. */
json_t *sb_store_agent_queue(struct sb_store *st, int64_t user, bool all);
/* The conversations viewer user (all: every one) may see, status NULL =
 * any, most recently active first, at most 500; NULL on a store error. */
json_t *sb_store_agent_visible(struct sb_store *st, int64_t user, bool all, const char *status);
/* user's own (assigned or offered) conversations with unread counts;
 * status NULL = queued and assigned; NULL on a store error. */
json_t *sb_store_agent_mine(struct sb_store *st, int64_t user, const char *status);
/* The bot's turns of conv: what it searched, its best hit, its decision. */
json_t *sb_store_bot_turns(struct sb_store *st, int64_t conv);
json_t *sb_store_notes(struct sb_store *st, int64_t conv);
enum sb_err sb_store_note_add(struct sb_store *st, int64_t conv, int64_t author, const char *text,
                              int64_t now, int64_t *id);
/* Adds csat, contact_id, skills and sla of conv to out. */
enum sb_err sb_store_conv_agent_fields(struct sb_store *st, int64_t conv, json_t *out);
/* When the customer last wrote in conv (ms), 0 when never: the start of a
 * channel's reply window (reply_window.h). */
int64_t sb_store_last_inbound_at(struct sb_store *st, int64_t conv);
/* The outbound message of conv sent with client_id, 0 when none. */
int64_t sb_store_reply_by_client_id(struct sb_store *st, int64_t conv, const char *client_id);
/* user has read conv up to message up_to (never moves back). */
enum sb_err sb_store_agent_read(struct sb_store *st, int64_t conv, int64_t user, int64_t up_to);
/* True when user (all: anyone) may see conv (agent_access.h's rule). */
bool sb_store_agent_sees(struct sb_store *st, int64_t user, bool all, int64_t conv);

/* ------- the agents' event streams ------- */

/* An event with the conversation columns the visibility rule reads;
 * strings are borrowed for the callback. */
struct sb_agent_event {
    int64_t id;
    const char *type, *data, *conversation; /* data: compact JSON object */
    const char *status, *team;
    int64_t assignee, offered_to, last_assignee, offered_agent; /* 0: none */
};
/* Every event with after < id <= upto, oldest first. */
enum sb_err sb_store_agent_events_each(struct sb_store *st, int64_t after, int64_t upto,
                                       void (*fn)(void *arg, const struct sb_agent_event *e),
                                       void *arg);
/* At most limit events after after (up to upto) that user (supervisor:
 * anyone) may follow, read from the table; fn returns true to stop.
 * *done is set when every event up to upto was looked at. */
enum sb_err sb_store_agent_events_for(struct sb_store *st, int64_t user, bool supervisor,
                                      int64_t after, int64_t upto, int limit,
                                      bool (*fn)(void *arg, const struct sb_agent_event *e),
                                      void *arg, bool *done);
/* The highest event id stored (durable or not). */
int64_t sb_store_event_top(struct sb_store *st);
/* user's teams, at most max. */
int sb_store_agent_teams(struct sb_store *st, int64_t user, char (*teams)[64], int max);

#endif
