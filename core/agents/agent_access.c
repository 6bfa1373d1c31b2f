/*
 * agent_access.c - the viewer of an agent request and the check of one
 * conversation against AGENT_SEES (agent_access.h has the rule).
 */
#include "agent_access.h"
#include "handoff_int.h"

struct agent_viewer agent_viewer_of(const struct http_req *r)
{
    struct agent_viewer v = {0, false};
    v.all = (r->who.roles & (SB_ROLE_SUPERVISOR | SB_ROLE_ADMIN)) != 0;
    if (r->who.kind == PRINCIPAL_SESSION) v.user = r->who.user.id;
    return v;
}

void agent_viewer_bind(sqlite3_stmt *s, const struct agent_viewer *v)
{
    int at = sqlite3_bind_parameter_index(s, ":viewer");
    if (at) sqlite3_bind_int64(s, at, v->user);
    at = sqlite3_bind_parameter_index(s, ":all");
    if (at) sqlite3_bind_int(s, at, v->all);
}

bool agent_sees_conv(struct sb_server *srv, const struct agent_viewer *v, int64_t conv_id)
{
    sqlite3_stmt *s;
    bool yes;
    if (v->all) return true;
    s = ho_prep(srv, "SELECT 1 FROM conversations c WHERE c.id = :conv AND " AGENT_SEES("c"));
    if (!s) return false;
    sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":conv"), conv_id);
    agent_viewer_bind(s, v);
    yes = sqlite3_step(s) == SQLITE_ROW;
    ho_release(srv, s);
    return yes;
}
