/*
 * agent_access.c - the viewer of an agent request and the check of one
 * conversation against AGENT_SEES (agent_access.h has the rule; the
 * store runs it, store/store_agent.c).
 */
#include "agent_access.h"
#include "handoff_int.h"
#include "server.h"
#include "store_agent.h"

struct agent_viewer agent_viewer_of(const struct http_req *r)
{
    struct agent_viewer v = {0, false};
    v.all = (r->who.roles & (SB_ROLE_SUPERVISOR | SB_ROLE_ADMIN)) != 0;
    if (r->who.kind == PRINCIPAL_SESSION) v.user = r->who.user.id;
    return v;
}

bool agent_sees_conv(struct sb_server *srv, const struct agent_viewer *v, int64_t conv_id)
{
    return v->all || sb_store_agent_sees(srv->store, v->user, v->all, conv_id);
}
