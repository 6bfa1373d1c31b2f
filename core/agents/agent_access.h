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

#include "store_agent.h" /* struct agent_viewer, AGENT_SEES */

/* True when v may see conversation conv_id (false too on a store error). */
bool agent_sees_conv(struct sb_store *st, const struct agent_viewer *v, int64_t conv_id);

#endif
