/*
 * api_admin_agents.c - the admin API of live agents (docs/agents.md):
 * teams, agent profiles, routing rules, SLA policies and canned
 * responses. Checks are agent_config.c's and canned.c's (errors name the
 * field); the SQL is store_agent_admin.c's. Every change is written with
 * its audit entry in one unit of work and answered once it is durable;
 * then the routing state is told (sb_agents_config_changed, handoff.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_admin.h"
#include "api_change.h"
#include "handoff.h"
#include "sb_log.h"
#include "http_errors.h"
#include "agent_events.h"
#include "http.h"
#include "server.h"
#include "store_agent_admin.h"

/* Ends a unit begun by the caller: on rc == SB_OK writes the audit entry
 * and commits, then answers status with answer (owned) and tells routing
 * about what changed; otherwise rolls back and answers the error. eb holds
 * the detail of a 404/409 from the store. */
static enum MHD_Result finish(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                              enum sb_err rc, const struct sb_errbuf *eb, const char *action,
                              const char *target, const char *detail, unsigned status,
                              json_t *answer, const char *what)
{
    rc = api_change_end(srv, r, rc, action, target, detail);
    if (rc) {
        json_decref(answer);
        return http_error_of(srv, c, rc, eb ? eb->msg : NULL, "the change was not stored; retry",
                             NULL);
    }
    if (what) {
        sb_agents_config_changed(srv->handoff, what);
        agent_events_teams_changed(srv);
    }
    return http_json(srv, c, status, answer);
}

/* ---------- teams ---------- */

static enum MHD_Result api_admin_teams(struct sb_server *srv, struct MHD_Connection *c,
                                       struct http_req *r, const char *params[2])
{
    (void)r;
    (void)params;
    return http_json(srv, c, 200, json_pack("{s:o}", "teams", agent_store_teams(srv->store)));
}

static enum MHD_Result api_admin_team(struct sb_server *srv, struct MHD_Connection *c,
                                      struct http_req *r, const char *params[2])
{
    json_t *team;
    (void)r;
    if (!team_id_valid(params[0]) || agent_store_team_get(srv->store, params[0], &team))
        return http_error(srv, c, 404, "not_found", "no such team");
    return http_json(srv, c, 200, json_pack("{s:o}", "team", team));
}

static enum MHD_Result api_admin_team_put(struct sb_server *srv, struct MHD_Connection *c,
                                          struct http_req *r, const char *params[2])
{
    struct sb_errbuf eb = {{0}};
    json_t *body, *team = NULL, *answer = NULL;
    enum MHD_Result ret;
    bool created = false;
    enum sb_err rc;

    if (!team_id_valid(params[0]))
        return http_error(srv, c, 400, "invalid_field", "id: must be 1 to %d of a-z, 0-9 and -",
                          TEAM_ID_MAX);
    body = http_body_object(srv, c, r, &ret);
    if (!body) return ret;
    rc = team_validate(body, params[0], NULL, &team, &eb);
    json_decref(body);
    if (!api_change_begin(srv, c, rc, &eb, team, "the team was not stored; retry", &ret))
        return ret;
    rc = agent_store_team_put(srv->store, team, &created);
    json_decref(team);
    if (!rc) rc = agent_store_team_get(srv->store, params[0], &answer);
    return finish(srv, c, r, rc, &eb, created ? "team.create" : "team.replace", params[0], NULL,
                  created ? 201 : 200, json_pack("{s:o*}", "team", answer), "teams");
}

static enum MHD_Result api_admin_team_delete(struct sb_server *srv, struct MHD_Connection *c,
                                             struct http_req *r, const char *params[2])
{
    struct sb_errbuf eb = {{0}};
    enum sb_err rc;

    if (!team_id_valid(params[0])) return http_error(srv, c, 404, "not_found", "no such team");
    rc = sb_store_begin(srv->store);
    if (rc) return http_error(srv, c, 503, "not_stored", "the team was not deleted; retry");
    rc = agent_store_team_delete(srv->store, params[0], &eb);
    if (rc == SB_ERR_NOT_FOUND) snprintf(eb.msg, sizeof(eb.msg), "no such team");
    return finish(srv, c, r, rc, &eb, "team.delete", params[0], NULL, 200,
                  json_pack("{s:s}", "status", "deleted"), "teams");
}

/* ---------- agent profiles ---------- */

static enum MHD_Result api_admin_agent(struct sb_server *srv, struct MHD_Connection *c,
                                       struct http_req *r, const char *params[2])
{
    json_t *profile;
    int64_t id;
    (void)r;
    if (!sb_parse_id(params[0], &id) || agent_store_profile_get(srv->store, id, &profile))
        return http_error(srv, c, 404, "not_found", "no such agent (a user with the agent role)");
    return http_json(srv, c, 200, json_pack("{s:o}", "agent", profile));
}

static enum MHD_Result api_admin_agent_put(struct sb_server *srv, struct MHD_Connection *c,
                                           struct http_req *r, const char *params[2])
{
    struct sb_errbuf eb = {{0}};
    json_t *change, *answer = NULL;
    enum MHD_Result ret;
    enum sb_err rc;
    char *detail;
    int64_t id;

    if (!sb_parse_id(params[0], &id))
        return http_error(srv, c, 404, "not_found", "no such agent (a user with the agent role)");
    if (!api_change_begin_body(srv, c, r, agent_profile_validate, &change, &eb,
                               "the profile was not stored; retry", &ret))
        return ret;
    if (agent_store_profile_get(srv->store, id, &answer) != SB_OK) {
        rc = SB_ERR_NOT_FOUND;
        snprintf(eb.msg, sizeof(eb.msg), "no such agent (a user with the agent role)");
    } else {
        json_decref(answer);
        answer = NULL;
        rc = agent_store_profile_put(srv->store, id, change, &eb);
        /* In the same unit: offers to an agent who is no longer online go
         * back to the queue, and routing runs with the new profile. */
        if (!rc && srv->handoff) rc = handoff_agent_changed(srv->handoff, id);
        if (rc == SB_ERR_NOT_FOUND) {
            /* a team that does not exist: a field error (eb names it) */
            sb_store_rollback(srv->store);
            json_decref(change);
            return http_error(srv, c, 400, "invalid_field", "%s", eb.msg);
        }
    }
    if (!rc) rc = agent_store_profile_get(srv->store, id, &answer);
    detail = json_dumps(change, JSON_COMPACT);
    json_decref(change);
    ret = finish(srv, c, r, rc, &eb, "agent.update", params[0], detail, 200,
                 json_pack("{s:o*}", "agent", answer), "agents");
    free(detail);
    return ret;
}

/* ---------- routing rules and SLA policies ---------- */

static enum MHD_Result api_admin_rules(struct sb_server *srv, struct MHD_Connection *c,
                                       struct http_req *r, const char *params[2])
{
    (void)r;
    (void)params;
    return http_json(srv, c, 200, json_pack("{s:o}", "rules", agent_store_rules(srv->store)));
}

static enum MHD_Result api_admin_rules_put(struct sb_server *srv, struct MHD_Connection *c,
                                           struct http_req *r, const char *params[2])
{
    struct sb_errbuf eb = {{0}};
    json_t *rules;
    enum MHD_Result ret;
    enum sb_err rc;
    char detail[32];
    (void)params;

    if (!api_change_begin_body(srv, c, r, routing_rules_validate, &rules, &eb,
                               "the rules were not stored; retry", &ret))
        return ret;
    rc = agent_store_rules_put(srv->store, rules, &eb);
    snprintf(detail, sizeof(detail), "%zu rules", json_array_size(rules));
    json_decref(rules);
    if (rc == SB_ERR_NOT_FOUND) {
        /* an unknown team is a field error of this request */
        sb_store_rollback(srv->store);
        return http_error(srv, c, 400, "invalid_field", "%s", eb.msg);
    }
    return finish(srv, c, r, rc, &eb, "routing_rules.replace", NULL, detail, 200,
                  rc ? NULL : json_pack("{s:o}", "rules", agent_store_rules(srv->store)), "rules");
}

static enum MHD_Result api_admin_sla(struct sb_server *srv, struct MHD_Connection *c,
                                     struct http_req *r, const char *params[2])
{
    (void)r;
    (void)params;
    return http_json(srv, c, 200,
                     json_pack("{s:o}", "policies", agent_store_sla_policies(srv->store)));
}

static enum MHD_Result api_admin_sla_put(struct sb_server *srv, struct MHD_Connection *c,
                                         struct http_req *r, const char *params[2])
{
    struct sb_errbuf eb = {{0}};
    json_t *policies;
    enum MHD_Result ret;
    enum sb_err rc;
    char detail[32];
    (void)params;

    if (!api_change_begin_body(srv, c, r, sla_policies_validate, &policies, &eb,
                               "the policies were not stored; retry", &ret))
        return ret;
    rc = agent_store_sla_policies_put(srv->store, policies);
    snprintf(detail, sizeof(detail), "%zu policies", json_array_size(policies));
    json_decref(policies);
    return finish(srv, c, r, rc, &eb, "sla_policies.replace", NULL, detail, 200,
                  rc ? NULL : json_pack("{s:o}", "policies", agent_store_sla_policies(srv->store)),
                  "sla");
}

/* ---------- canned responses ---------- */

static enum MHD_Result api_admin_canned_list(struct sb_server *srv, struct MHD_Connection *c,
                                             struct http_req *r, const char *params[2])
{
    const char *locale = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "locale");
    const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q");
    (void)r;
    (void)params;
    if (q && strlen(q) > 200)
        return http_error(srv, c, 400, "invalid_field", "q: at most 200 bytes");
    return http_json(
        srv, c, 200,
        json_pack("{s:o}", "canned",
                  agent_store_canned_list(srv->store, locale && *locale ? locale : NULL, q, 0)));
}

static enum MHD_Result api_admin_canned_get(struct sb_server *srv, struct MHD_Connection *c,
                                            struct http_req *r, const char *params[2])
{
    json_t *canned;
    int64_t id;
    (void)r;
    if (!sb_parse_id(params[0], &id) || agent_store_canned_get(srv->store, id, &canned))
        return http_error(srv, c, 404, "not_found", "no such canned response");
    return http_json(srv, c, 200, json_pack("{s:o}", "canned", canned));
}

/* POST (id 0: create) and PUT /{id} (replace). */
static enum MHD_Result canned_write(struct sb_server *srv, struct MHD_Connection *c,
                                    struct http_req *r, int64_t id)
{
    struct sb_errbuf eb = {{0}};
    json_t *body, *canned = NULL, *answer = NULL;
    enum MHD_Result ret;
    enum sb_err rc;
    char target[24];
    bool create = id == 0;

    body = http_body_object(srv, c, r, &ret);
    if (!body) return ret;
    rc = canned_validate(body, srv->kb, &canned, &eb);
    json_decref(body);
    if (!api_change_begin(srv, c, rc, &eb, canned, "the canned response was not stored; retry",
                          &ret))
        return ret;
    if (!create && agent_store_canned_get(srv->store, id, &answer) != SB_OK) {
        rc = SB_ERR_NOT_FOUND;
        snprintf(eb.msg, sizeof(eb.msg), "no such canned response");
    } else {
        rc = agent_store_canned_put(srv->store, &id, canned);
    }
    if (rc == SB_ERR_NOT_FOUND && !eb.msg[0]) {
        /* the team named is unknown: a field error */
        sb_store_rollback(srv->store);
        ret = http_error(srv, c, 400, "invalid_field", "team: no such team '%s'",
                         json_string_value(json_object_get(canned, "team")));
        json_decref(answer);
        json_decref(canned);
        return ret;
    }
    if (rc == SB_ERR_EXISTS)
        snprintf(eb.msg, sizeof(eb.msg),
                 "shortcut: '%s' is taken in locale %s for this team; change that one",
                 json_string_value(json_object_get(canned, "shortcut")),
                 json_string_value(json_object_get(canned, "locale")));
    json_decref(answer);
    answer = NULL;
    json_decref(canned);
    if (!rc) rc = agent_store_canned_get(srv->store, id, &answer);
    snprintf(target, sizeof(target), "%lld", (long long)id);
    return finish(srv, c, r, rc, &eb, create ? "canned.create" : "canned.replace", target, NULL,
                  create ? 201 : 200, json_pack("{s:o*}", "canned", answer), NULL);
}

static enum MHD_Result api_admin_canned_create(struct sb_server *srv, struct MHD_Connection *c,
                                               struct http_req *r, const char *params[2])
{
    (void)params;
    return canned_write(srv, c, r, 0);
}

static enum MHD_Result api_admin_canned_put(struct sb_server *srv, struct MHD_Connection *c,
                                            struct http_req *r, const char *params[2])
{
    int64_t id;
    if (!sb_parse_id(params[0], &id))
        return http_error(srv, c, 404, "not_found", "no such canned response");
    return canned_write(srv, c, r, id);
}

static enum MHD_Result api_admin_canned_delete(struct sb_server *srv, struct MHD_Connection *c,
                                               struct http_req *r, const char *params[2])
{
    struct sb_errbuf eb = {{0}};
    enum sb_err rc;
    int64_t id;

    if (!sb_parse_id(params[0], &id))
        return http_error(srv, c, 404, "not_found", "no such canned response");
    rc = sb_store_begin(srv->store);
    if (rc) return http_error(srv, c, 503, "not_stored", "the canned response was not deleted");
    rc = agent_store_canned_delete(srv->store, id);
    if (rc == SB_ERR_NOT_FOUND) snprintf(eb.msg, sizeof(eb.msg), "no such canned response");
    return finish(srv, c, r, rc, &eb, "canned.delete", params[0], NULL, 200,
                  json_pack("{s:s}", "status", "deleted"), NULL);
}

/* The routes this file answers and who may call them (core/server/routes.c
 * lists every file's table; http.c dispatches them in that order). */
const struct route api_admin_agents_routes[] = {
    /* live agents' configuration (docs/agents.md) */
    {"GET", "/api/v1/admin/teams", api_admin_teams, ROUTE_ADMIN, false},
    {"GET", "/api/v1/admin/teams/{}", api_admin_team, ROUTE_ADMIN, false},
    {"PUT", "/api/v1/admin/teams/{}", api_admin_team_put, ROUTE_ADMIN, false},
    {"DELETE", "/api/v1/admin/teams/{}", api_admin_team_delete, ROUTE_ADMIN, false},
    {"GET", "/api/v1/admin/agents/{}", api_admin_agent, ROUTE_ADMIN, false},
    {"PUT", "/api/v1/admin/agents/{}", api_admin_agent_put, ROUTE_ADMIN, false},
    {"GET", "/api/v1/admin/routing-rules", api_admin_rules, ROUTE_ADMIN, false},
    {"PUT", "/api/v1/admin/routing-rules", api_admin_rules_put, ROUTE_ADMIN, false},
    {"GET", "/api/v1/admin/sla-policies", api_admin_sla, ROUTE_ADMIN, false},
    {"PUT", "/api/v1/admin/sla-policies", api_admin_sla_put, ROUTE_ADMIN, false},
    {"GET", "/api/v1/admin/canned", api_admin_canned_list, ROUTE_ADMIN, false},
    {"POST", "/api/v1/admin/canned", api_admin_canned_create, ROUTE_ADMIN, false},
    {"GET", "/api/v1/admin/canned/{}", api_admin_canned_get, ROUTE_ADMIN, false},
    {"PUT", "/api/v1/admin/canned/{}", api_admin_canned_put, ROUTE_ADMIN, false},
    {"DELETE", "/api/v1/admin/canned/{}", api_admin_canned_delete, ROUTE_ADMIN, false},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};
