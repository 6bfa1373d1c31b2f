/*
 * agent_access.h - which conversations (and so which transcripts,
 * contacts, notes and bot turns) a staff member may see through the agent
 * API (docs/agents.md, "Who sees what"):
 *
 *   - supervisors and admins (sessions or tokens): every conversation;
 *   - an agent: the conversations of their teams, and those they handled,
 *     that is assigned to them now or before, or offered to them now;
 *   - an API token with the agent role is nobody's: it sees none.
 *
 * The rule is written once, as SQL (AGENT_SEES), so a list filters in its
 * query and one conversation is checked with the same text. The agents'
 * event stream (api_agent_events.c, agent_feed.c) pushes a narrower set:
 * every event it sends is of a conversation this rule lets the agent see.
 * Something an agent may not see answers 404, never 403: whether it
 * exists is not theirs to know either.
 */
#ifndef SB_AGENT_ACCESS_H
#define SB_AGENT_ACCESS_H

#include <stdbool.h>
#include <stdint.h>

struct sb_server;
struct http_req;

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

/* The viewer of a request admitted to an agent route. */
struct agent_viewer agent_viewer_of(const struct http_req *r);

/* True when v may see conversation conv_id (false too on a store error). */
bool agent_sees_conv(struct sb_server *srv, const struct agent_viewer *v, int64_t conv_id);

#endif
