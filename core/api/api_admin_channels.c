/*
 * api_admin_channels.c - GET /api/v1/admin/channels: every channel a
 * plugin provides, whether it is active (configured under "channels") and
 * its settings as the plugin's schema sees them, secrets shown as "set"
 * (or null when unset), never their values (sb_host_channels_json,
 * lua_settings.c). Read-only: settings live in the config file.
 */
#include "http.h"
#include "lua_host.h"
#include "server.h"

static enum MHD_Result api_admin_channels(struct sb_server *srv, struct MHD_Connection *c,
                                          struct http_req *r, const char *params[2])
{
    json_t *list = sb_host_channels_json(srv->host);
    (void)r;
    (void)params;
    if (!list) return http_error(srv, c, 500, "internal", "out of memory");
    return http_json(srv, c, 200, json_pack("{s:o}", "channels", list));
}

const struct route api_admin_channels_routes[] = {
    {"GET", "/api/v1/admin/channels", api_admin_channels, ROUTE_ADMIN, false},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};
