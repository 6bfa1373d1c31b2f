/*
 * agent_viewer.c - the viewer of an agent request: who the principal
 * admitted to an agent route is, for the rule of agent_access.h.
 */
#include "api.h"
#include "http.h"
#include "store_agent.h"

struct agent_viewer agent_viewer_of(const struct http_req *r)
{
    struct agent_viewer v = {0, false};
    v.all = (r->who.roles & (SB_ROLE_SUPERVISOR | SB_ROLE_ADMIN)) != 0;
    if (r->who.kind == PRINCIPAL_SESSION) v.user = r->who.user.id;
    return v;
}
