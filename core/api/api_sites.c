/*
 * api_sites.c - the admin API of sites (docs/widget.md, "Sites"): list,
 * read, create or replace, delete. Secrets leave the server masked, except
 * a generated one, which its creator sees once. Every change is written to
 * the audit log in the same unit of work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_change.h"
#include "sb_log.h"
#include "http_errors.h"
#include "api.h"
#include "http.h"
#include "server.h"
#include "site.h"

static enum MHD_Result api_admin_sites(struct sb_server *srv, struct MHD_Connection *c,
                                       struct http_req *r, const char *params[2])
{
    json_t *sites = sb_store_site_list(srv->store), *masked = json_array(), *s;
    size_t i;
    (void)r;
    (void)params;

    json_array_foreach(sites, i, s) json_array_append_new(masked, site_masked_json(s));
    json_decref(sites);
    return http_json(srv, c, 200, json_pack("{s:o}", "sites", masked));
}

static enum MHD_Result api_admin_site(struct sb_server *srv, struct MHD_Connection *c,
                                      struct http_req *r, const char *params[2])
{
    json_t *site;
    enum MHD_Result ret;
    (void)r;

    if (!site_id_valid(params[0]) || sb_store_site_get(srv->store, params[0], &site))
        return http_error(srv, c, 404, "not_found", "no such site");
    ret = http_json(srv, c, 200, json_pack("{s:o}", "site", site_masked_json(site)));
    json_decref(site);
    return ret;
}

enum sb_err site_secret_fill(struct sb_store *st, json_t *site, char fresh[65])
{
    const char *id = json_string_value(json_object_get(site, "id"));
    json_t *old = NULL;
    enum sb_err rc;

    fresh[0] = '\0';
    if (json_object_get(site, "secret")) return SB_OK;
    if (sb_store_site_get(st, id, &old) == SB_OK) {
        json_object_set(site, "secret", json_object_get(old, "secret"));
        json_decref(old);
        return SB_OK;
    }
    rc = sb_random_hex(fresh, 32);
    if (!rc) json_object_set_new(site, "secret", json_string(fresh));
    return rc;
}

static enum MHD_Result api_admin_site_put(struct sb_server *srv, struct MHD_Connection *c,
                                          struct http_req *r, const char *params[2])
{
    struct sb_errbuf eb = {{0}};
    char fresh[65];
    json_t *body, *site = NULL, *answer;
    enum MHD_Result ret;
    enum sb_err rc;
    bool created = false;

    if (!site_id_valid(params[0]))
        return http_error(srv, c, 400, "invalid_field", "id: must be 1 to %d of a-z, 0-9 and -",
                          SITE_ID_MAX);
    body = http_body_object(srv, c, r, &ret);
    if (!body) return ret;
    rc = site_validate(body, params[0], srv->cfg.default_locale, &site, &eb);
    json_decref(body);
    if (rc) return http_error(srv, c, 400, "invalid_field", "%s", eb.msg);
    rc = site_secret_fill(srv->store, site, fresh);
    if (!rc) rc = sb_store_begin(srv->store);
    if (!rc) {
        rc = sb_store_site_put(srv->store, site, &created);
        rc = api_change_end(srv, r, rc, created ? "site.create" : "site.replace", params[0], NULL);
    }
    if (rc) {
        json_decref(site);
        return http_error(srv, c, 503, "not_stored", "the site was not stored; retry");
    }
    answer = json_pack("{s:o}", "site", site_masked_json(site));
    /* A secret the server made is shown this once. */
    if (fresh[0]) json_object_set_new(answer, "secret", json_string(fresh));
    json_decref(site);
    return http_json(srv, c, created ? 201 : 200, answer);
}

static enum MHD_Result api_admin_site_delete(struct sb_server *srv, struct MHD_Connection *c,
                                             struct http_req *r, const char *params[2])
{
    enum sb_err rc;

    if (!site_id_valid(params[0])) return http_error(srv, c, 404, "not_found", "no such site");
    rc = sb_store_begin(srv->store);
    if (!rc)
        rc = api_change_end(srv, r, sb_store_site_delete(srv->store, params[0]), "site.delete",
                            params[0], NULL);
    if (rc)
        return http_error_of(srv, c, rc, rc == SB_ERR_NOT_FOUND ? "no such site" : NULL,
                             "the site was not deleted; retry", NULL);
    return http_json(srv, c, 200, json_pack("{s:s}", "status", "deleted"));
}

/* The routes this file answers and who may call them (core/server/routes.c
 * lists every file's table; http.c dispatches them in that order). */
const struct route api_sites_routes[] = {
    {"GET", "/api/v1/admin/sites", api_admin_sites, ROUTE_ADMIN, false},
    {"GET", "/api/v1/admin/sites/{}", api_admin_site, ROUTE_ADMIN, false},
    {"PUT", "/api/v1/admin/sites/{}", api_admin_site_put, ROUTE_ADMIN, false},
    {"DELETE", "/api/v1/admin/sites/{}", api_admin_site_delete, ROUTE_ADMIN, false},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};
