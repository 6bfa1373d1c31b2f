/*
 * routes.c - every route the server answers: the tables of the files of
 * api/ and help/, each of which lists its own routes and who may call them.
 * A route that is in no table does not exist. http.c tries the tables in
 * this order and, within one, routes in their order: a more specific
 * pattern comes before the one that would also match ("/help/{}/search"
 * before "/help/{}/{}").
 */
#include "routes.h"

extern const struct route api_misc_routes[];           /* core/api/api_misc.c */
extern const struct route api_widget_routes[];         /* core/api/api_widget.c */
extern const struct route help_center_routes[];        /* core/help/help_center.c */
extern const struct route api_static_routes[];         /* core/api/api_static.c */
extern const struct route api_customer_routes[];       /* core/api/api_customer.c */
extern const struct route api_conversation_routes[];   /* core/api/api_conversation.c */
extern const struct route api_attachments_routes[];    /* core/api/api_attachments.c */
extern const struct route api_auth_routes[];           /* core/api/api_auth.c */
extern const struct route api_agent_routes[];          /* core/api/api_agent.c */
extern const struct route api_agent_read_routes[];     /* core/api/api_agent_read.c */
extern const struct route api_kb_routes[];             /* core/api/api_kb.c */
extern const struct route api_agent_events_routes[];   /* core/api/api_agent_events.c */
extern const struct route api_admin_routes[];          /* core/api/api_admin.c */
extern const struct route api_sites_routes[];          /* core/api/api_sites.c */
extern const struct route api_admin_agents_routes[];   /* core/api/api_admin_agents.c */
extern const struct route api_admin_channels_routes[]; /* core/api/api_admin_channels.c */
extern const struct route api_channels_routes[];       /* core/api/api_channels.c */

const struct route *const sb_route_tables[] = {
    api_misc_routes,           api_widget_routes,   help_center_routes,
    api_static_routes,         api_customer_routes, api_conversation_routes,
    api_attachments_routes,    api_auth_routes,     api_agent_routes,
    api_agent_read_routes,     api_kb_routes,       api_agent_events_routes,
    api_admin_routes,          api_sites_routes,    api_admin_agents_routes,
    api_admin_channels_routes, api_channels_routes, NULL,
};
