/*
 * agent_access.c - the check of one conversation against AGENT_SEES
 * (agent_access.h has the rule; the store runs it, store/store_agent.c).
 * The viewer of a request is the API's (api/agent_viewer.c).
 */
#include "agent_access.h"
#include "store_agent.h"

bool agent_sees_conv(struct sb_store *st, const struct agent_viewer *v, int64_t conv_id)
{
    return v->all || sb_store_agent_sees(st, v->user, v->all, conv_id);
}
