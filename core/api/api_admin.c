/*
 * api_admin.c - the admin API: staff accounts, API tokens and the audit
 * log. Every change is written to the audit log in the same unit of work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_change.h"
#include "sb_log.h"
#include "http_errors.h"
#include "http.h"
#include "server.h"

/* What a refused account change says; NULL: the error's own words. */
static const char *refusal(enum sb_err rc, const char *action)
{
    if (rc == SB_ERR_NOT_FOUND)
        return strncmp(action, "token", 5) == 0 ? "no such token" : "no such user";
    if (rc == SB_ERR_EXISTS) return "a user with this e-mail exists";
    return NULL;
}

/* Runs one audited change: f does the work inside a unit of work. */
static enum MHD_Result audited(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                               enum sb_err rc_work, const char *action, const char *target,
                               const char *detail, unsigned status, json_t *answer)
{
    rc_work = api_change_end(srv, r, rc_work, action, target, detail);
    if (rc_work) {
        json_decref(answer);
        return http_error_of(srv, c, rc_work, refusal(rc_work, action),
                             "the change was not stored; retry", NULL);
    }
    return http_json(srv, c, status, answer);
}

static enum MHD_Result api_admin_users(struct sb_server *srv, struct MHD_Connection *c,
                                       struct http_req *r, const char *params[2])
{
    (void)r;
    (void)params;
    return http_json(srv, c, 200, json_pack("{s:o}", "users", sb_user_list(srv->store)));
}

/* roles: a JSON array of role names; 0 when empty or unknown. */
static unsigned roles_of(json_t *arr)
{
    unsigned mask = 0;
    size_t i;
    json_t *v;
    if (!json_is_array(arr) || json_array_size(arr) == 0) return 0;
    json_array_foreach(arr, i, v)
    {
        unsigned role = json_is_string(v) ? sb_role_parse(json_string_value(v)) : 0;
        if (!role) return 0;
        mask |= role;
    }
    return mask;
}

static enum MHD_Result api_admin_user_add(struct sb_server *srv, struct MHD_Connection *c,
                                          struct http_req *r, const char *params[2])
{
    char hash[SB_PASSWORD_HASH_MAX], roles_text[64], why[SB_PASSWORD_WHY];
    const char *email, *name, *password, *locale;
    struct sb_user u = {0};
    enum MHD_Result ret;
    enum sb_err rc;
    unsigned roles;
    json_t *body;
    (void)params;

    body = http_body_object(srv, c, r, &ret);
    if (!body) return ret;
    email = json_string_value(json_object_get(body, "email"));
    name = json_string_value(json_object_get(body, "name"));
    password = json_string_value(json_object_get(body, "password"));
    locale = json_string_value(json_object_get(body, "locale"));
    roles = roles_of(json_object_get(body, "roles"));
    if (!email || !strchr(email, '@') || strlen(email) > 254 || !password || !roles ||
        (name && strlen(name) > 127) || (locale && strlen(locale) > 35)) {
        json_decref(body);
        return http_error(srv, c, 400, "invalid_field",
                          "need email, password (at least %d characters) and roles from agent,"
                          " editor, admin, supervisor",
                          SB_PASSWORD_MIN);
    }
    if (!sb_password_acceptable(password, why)) {
        json_decref(body);
        return http_error(srv, c, 400, "weak_password", "password: %s", why);
    }
    if (sb_password_hash(password, srv->cfg.kdf_log2_n, hash)) {
        json_decref(body);
        return http_error(srv, c, 500, "internal", "could not hash the password");
    }
    snprintf(u.email, sizeof(u.email), "%s", email);
    snprintf(u.name, sizeof(u.name), "%s", name ? name : email);
    snprintf(u.locale, sizeof(u.locale), "%s", locale ? locale : "en");
    u.roles = roles;
    u.active = true;
    json_decref(body);
    sb_roles_format(roles, roles_text, sizeof(roles_text));
    rc = sb_store_begin(srv->store);
    if (!rc) rc = sb_user_add(srv->store, u.email, u.name, u.locale, roles, hash, &u.id);
    return audited(srv, c, r, rc, "user.add", u.email, roles_text, 201,
                   json_pack("{s:o}", "user", sb_user_json(&u)));
}

static enum MHD_Result set_active(struct sb_server *srv, struct MHD_Connection *c,
                                  struct http_req *r, const char *id_text, bool active)
{
    struct sb_user u;
    int64_t id;
    enum sb_err rc;

    if (!sb_parse_id(id_text, &id) || sb_user_by_id(srv->store, id, &u))
        return http_error(srv, c, 404, "not_found", "no such user");
    rc = sb_store_begin(srv->store);
    if (!rc) rc = sb_user_set_active(srv->store, id, active);
    u.active = active;
    return audited(srv, c, r, rc, active ? "user.enable" : "user.disable", u.email, NULL, 200,
                   json_pack("{s:o}", "user", sb_user_json(&u)));
}

static enum MHD_Result api_admin_user_disable(struct sb_server *srv, struct MHD_Connection *c,
                                              struct http_req *r, const char *params[2])
{
    return set_active(srv, c, r, params[0], false);
}

static enum MHD_Result api_admin_user_enable(struct sb_server *srv, struct MHD_Connection *c,
                                             struct http_req *r, const char *params[2])
{
    return set_active(srv, c, r, params[0], true);
}

static enum MHD_Result api_admin_user_password(struct sb_server *srv, struct MHD_Connection *c,
                                               struct http_req *r, const char *params[2])
{
    char hash[SB_PASSWORD_HASH_MAX], why[SB_PASSWORD_WHY];
    const char *password;
    struct sb_user u;
    enum MHD_Result ret;
    enum sb_err rc;
    int64_t id;
    json_t *body;

    if (!sb_parse_id(params[0], &id) || sb_user_by_id(srv->store, id, &u))
        return http_error(srv, c, 404, "not_found", "no such user");
    body = http_body_object(srv, c, r, &ret);
    if (!body) return ret;
    password = json_string_value(json_object_get(body, "password"));
    if (!password) {
        json_decref(body);
        return http_error(srv, c, 400, "invalid_field", "password must have at least %d characters",
                          SB_PASSWORD_MIN);
    }
    if (!sb_password_acceptable(password, why)) {
        json_decref(body);
        return http_error(srv, c, 400, "weak_password", "password: %s", why);
    }
    rc = sb_password_hash(password, srv->cfg.kdf_log2_n, hash);
    json_decref(body);
    if (rc) return http_error(srv, c, 500, "internal", "could not hash the password");
    rc = sb_store_begin(srv->store);
    if (!rc) rc = sb_user_set_password(srv->store, id, hash, true);
    return audited(srv, c, r, rc, "user.password", u.email, "reset by admin", 200,
                   json_pack("{s:s}", "status", "password_reset"));
}

static enum MHD_Result api_admin_tokens(struct sb_server *srv, struct MHD_Connection *c,
                                        struct http_req *r, const char *params[2])
{
    (void)r;
    (void)params;
    return http_json(srv, c, 200, json_pack("{s:o}", "tokens", sb_token_list(srv->store)));
}

static enum MHD_Result api_admin_token_add(struct sb_server *srv, struct MHD_Connection *c,
                                           struct http_req *r, const char *params[2])
{
    char secret[4 + 64 + 1], hash[65], detail[64];
    const char *name, *role_name;
    enum MHD_Result ret;
    enum sb_err rc;
    unsigned role;
    int64_t id = 0;
    json_t *body, *answer;
    (void)params;

    body = http_body_object(srv, c, r, &ret);
    if (!body) return ret;
    name = json_string_value(json_object_get(body, "name"));
    role_name = json_string_value(json_object_get(body, "role"));
    role = role_name ? sb_role_parse(role_name) : 0;
    if (!name || !*name || strlen(name) > 100 || !role) {
        json_decref(body);
        return http_error(srv, c, 400, "invalid_field",
                          "need a name and a role (agent, editor, admin or supervisor)");
    }
    memcpy(secret, "sbt_", 4);
    if (sb_random_hex(secret + 4, 32)) {
        json_decref(body);
        return http_error(srv, c, 500, "internal", "no randomness available");
    }
    sb_sha256_hex(secret, strlen(secret), hash);
    rc = sb_store_begin(srv->store);
    if (!rc)
        rc = sb_token_add(srv->store, hash, name, role,
                          r->who.kind == PRINCIPAL_SESSION ? r->who.user.id : 0, &id);
    snprintf(detail, sizeof(detail), "role %s", role_name);
    /* The secret is shown this once; only its hash is kept. */
    answer = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "name", name, "role",
                       role_name, "token", secret);
    ret = audited(srv, c, r, rc, "token.create", name, detail, 201, answer);
    json_decref(body);
    return ret;
}

static enum MHD_Result api_admin_token_revoke(struct sb_server *srv, struct MHD_Connection *c,
                                              struct http_req *r, const char *params[2])
{
    int64_t id;
    enum sb_err rc;
    if (!sb_parse_id(params[0], &id)) return http_error(srv, c, 404, "not_found", "no such token");
    rc = sb_store_begin(srv->store);
    if (!rc) rc = sb_token_revoke(srv->store, id);
    return audited(srv, c, r, rc, "token.revoke", params[0], NULL, 200,
                   json_pack("{s:s}", "status", "revoked"));
}

static enum MHD_Result api_admin_audit(struct sb_server *srv, struct MHD_Connection *c,
                                       struct http_req *r, const char *params[2])
{
    const char *lim = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    long limit = lim ? strtol(lim, NULL, 10) : 100;
    (void)r;
    (void)params;
    if (limit < 1 || limit > 1000) limit = 100;
    return http_json(srv, c, 200,
                     json_pack("{s:o}", "entries", sb_audit_list(srv->store, (int)limit)));
}

/* The routes this file answers and who may call them (core/server/routes.c
 * lists every file's table; http.c dispatches them in that order). */
const struct route api_admin_routes[] = {
    /* admins */
    {"GET", "/api/v1/admin/users", api_admin_users, ROUTE_ADMIN, false},
    {"POST", "/api/v1/admin/users", api_admin_user_add, ROUTE_ADMIN, false},
    {"POST", "/api/v1/admin/users/{}/disable", api_admin_user_disable, ROUTE_ADMIN, false},
    {"POST", "/api/v1/admin/users/{}/enable", api_admin_user_enable, ROUTE_ADMIN, false},
    {"POST", "/api/v1/admin/users/{}/password", api_admin_user_password, ROUTE_ADMIN, false},
    {"GET", "/api/v1/admin/tokens", api_admin_tokens, ROUTE_ADMIN, false},
    {"POST", "/api/v1/admin/tokens", api_admin_token_add, ROUTE_ADMIN, false},
    {"DELETE", "/api/v1/admin/tokens/{}", api_admin_token_revoke, ROUTE_ADMIN, false},
    {"GET", "/api/v1/admin/audit", api_admin_audit, ROUTE_ADMIN, false},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};
