/*
 * cors.c - who may call the customer and widget API from a browser on
 * another site, and who may frame our HTML pages (docs/widget.md, "CORS"
 * and "Framing"). The allowed origins are the sites' origins (one index
 * lookup in the store per request) and the server's own URL.
 *
 * No credentials are involved: the visitor token travels in the
 * Authorization header, so Access-Control-Allow-Credentials is never sent.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "server.h"
#include "site.h"

bool cors_path(const char *path)
{
    if (strncmp(path, "/api/v1/conversations", 21) == 0) return path[21] == '\0' || path[21] == '/';
    return strncmp(path, "/api/v1/widget/", 15) == 0;
}

bool cors_own_origin(struct sb_server *srv, const char *origin)
{
    char own[SITE_ORIGIN_MAX + 1];
    return site_origin_of_url(srv->public_url, own, sizeof(own)) && strcmp(own, origin) == 0;
}

/* A page of this very server, whatever name the browser used for it
 * (127.0.0.1 or localhost, or a proxy's): the Origin is the scheme and the
 * Host the request was sent to. Only browsers enforce CORS, and a browser
 * cannot lie about either. */
static bool same_host(struct sb_server *srv, struct MHD_Connection *c, const char *origin)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    char want[SITE_ORIGIN_MAX + 16], norm[SITE_ORIGIN_MAX + 1];

    if (!host || strlen(host) > SITE_ORIGIN_MAX) return false;
    snprintf(want, sizeof(want), "%s://%s", principal_https(srv, c) ? "https" : "http", host);
    return site_origin_normalise(want, norm, sizeof(norm)) && strcmp(norm, origin) == 0;
}

void cors_request(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r)
{
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");

    r->origin[0] = '\0';
    r->origin_own = false;
    r->origin_allowed = false;
    if (!origin || !site_origin_normalise(origin, r->origin, sizeof(r->origin))) {
        /* "null" (sandboxed frames, file:) or garbage: never allowed. */
        if (origin) snprintf(r->origin, sizeof(r->origin), "null");
        return;
    }
    /* every path: staff sign-in checks it too (api_auth.c) */
    r->origin_own = cors_own_origin(srv, r->origin) || same_host(srv, c, r->origin);
    if (!cors_path(r->path)) return;
    r->origin_allowed = r->origin_own || sb_store_origin_allowed(srv->store, r->origin, NULL);
    if (!r->origin_allowed) return;
    /* The browser compares byte for byte: echo what it sent. */
    http_req_header(r, "Access-Control-Allow-Origin", origin);
    http_req_header(r, "Vary", "Origin");
}

bool cors_site_allows(struct sb_server *srv, struct http_req *r, const char *site_id)
{
    if (!r->origin[0]) return true; /* not a browser: nothing to enforce */
    if (strcmp(r->origin, "null") == 0) return false;
    return r->origin_own || sb_store_origin_allowed(srv->store, r->origin, site_id);
}

enum MHD_Result cors_preflight(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r)
{
    if (!r->origin_allowed)
        return http_error(srv, c, 403, "origin_not_allowed",
                          "this origin is not one of any site's origins");
    http_req_header(r, "Access-Control-Allow-Methods", "GET, POST");
    http_req_header(r, "Access-Control-Allow-Headers",
                    "Authorization, Content-Type, Last-Event-ID, X-Filename");
    http_req_header(r, "Access-Control-Max-Age", "600");
    return http_empty(srv, c, 204);
}

void cors_frame_ancestors(struct sb_server *srv, struct sb_buf *out)
{
    json_t *origins = sb_store_origins_all(srv->store), *o;
    size_t i;

    sb_buf_printf(out, "'self'");
    json_array_foreach(origins, i, o) sb_buf_printf(out, " %s", json_string_value(o));
    json_decref(origins);
}
