/*
 * api_auth.c - staff sign-in: login with lockouts, logout, who am I, and
 * changing one's own password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "sb_log.h"
#include "api.h"
#include "http.h"
#include "server.h"
#include "worker.h"

/* A fixed hash to verify against when the e-mail is unknown, so a wrong
 * e-mail costs the same time as a wrong password and reveals nothing. */
static const char *dummy_hash(struct sb_server *srv)
{
    static char hash[SB_PASSWORD_HASH_MAX];
    static int made_with = -1;
    if (made_with != srv->cfg.kdf_log2_n &&
        sb_password_hash("not a password", srv->cfg.kdf_log2_n, hash) == SB_OK)
        made_with = srv->cfg.kdf_log2_n;
    return hash;
}

static const char *string_field(json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static enum MHD_Result refuse_locked(struct sb_server *srv, struct MHD_Connection *c, int retry)
{
    char v[16];
    snprintf(v, sizeof(v), "%d", retry);
    http_add_header(srv, "Retry-After", v);
    return http_error(srv, c, 429, "rate_limited", "too many failed sign-ins; retry in %d s",
                      retry);
}

static enum MHD_Result session_answer(struct sb_server *srv, struct MHD_Connection *c,
                                      const struct sb_user *u, const char *csrf, int status)
{
    return http_json(srv, c, (unsigned)status,
                     json_pack("{s:o, s:s?}", "user", sb_user_json(u), "csrf_token", csrf));
}

/* A sign-in in flight: scrypt runs on the worker thread (about 0.1 s at
 * the default cost), so the loop keeps serving everyone else. */
struct login_job {
    struct sb_job job;
    struct MHD_Connection *conn;
    struct http_req *r;
    char password[SB_PASSWORD_MAX + 1];
    char stored[SB_PASSWORD_HASH_MAX];
    int log2_n;
    bool found;
    struct sb_user user;
    char email[256];
    bool remember_device;
    struct login_guard guard;
    /* results */
    bool ok;
    bool have_rehash;
    char rehash[SB_PASSWORD_HASH_MAX];
};

static void login_work(struct sb_job *job)
{
    struct login_job *j = (struct login_job *)job;
    j->ok = sb_password_verify(j->password, j->stored) && j->found && j->user.active;
    /* Raise old hashes to today's cost while we hold the password. */
    if (j->ok && sb_password_needs_rehash(j->stored, j->log2_n))
        j->have_rehash = sb_password_hash(j->password, j->log2_n, j->rehash) == SB_OK;
    OPENSSL_cleanse(j->password, sizeof(j->password));
}

static void login_done(struct sb_job *job)
{
    struct login_job *j = (struct login_job *)job;
    j->r->rerun = true;
    MHD_resume_connection(j->conn);
}

static void login_free(void *p)
{
    struct login_job *j = p;
    OPENSSL_cleanse(j, sizeof(*j));
    free(j);
}

/* Login CSRF: a foreign page can post a form (text/plain, no preflight)
 * that signs the browser into the attacker's account, and everything the
 * victim then types lands there. A JSON body cannot be sent cross-site
 * without a preflight, which fails; the Origin check stops it outright.
 * No Origin is a client that is not a browser (curl, scripts): fine. */
static bool login_request_ok(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                             enum MHD_Result *ret)
{
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    size_t n = strlen("application/json");

    if (!type || strncasecmp(type, "application/json", n) != 0 ||
        (type[n] != '\0' && type[n] != ';' && type[n] != ' ')) {
        *ret = http_error(srv, c, 415, "unsupported_media_type",
                          "sign in with a JSON body (Content-Type: application/json)");
        return false;
    }
    if (r->origin[0] && !r->origin_own) {
        *ret = http_error(srv, c, 403, "origin_not_allowed",
                          "sign in from this server's own pages (Origin %s is not)", r->origin);
        return false;
    }
    return true;
}

/* First pass: checks and lockouts on the loop, then hand scrypt to the
 * worker and suspend the connection until it is done. */
static enum MHD_Result login_start(struct sb_server *srv, struct MHD_Connection *c,
                                   struct http_req *r)
{
    const char *email, *password;
    struct login_job *j;
    enum MHD_Result ret;
    int64_t now = sb_now_ms();
    int retry = 0;
    json_t *body;

    if (!login_request_ok(srv, c, r, &ret)) return ret;
    body = http_body_object(srv, c, r, &ret);
    if (!body) return ret;
    email = string_field(body, "email");
    password = string_field(body, "password");
    if (!email || !password || strlen(email) > 254 || strlen(password) > SB_PASSWORD_MAX) {
        json_decref(body);
        return http_error(srv, c, 400, "invalid_field", "email and password must be strings");
    }
    j = calloc(1, sizeof(*j));
    if (!j) {
        json_decref(body);
        return http_error(srv, c, 503, "busy", "out of memory; retry");
    }
    snprintf(j->email, sizeof(j->email), "%s", email);
    snprintf(j->password, sizeof(j->password), "%s", password);
    j->remember_device = json_is_true(json_object_get(body, "remember_device"));
    json_decref(body);
    j->found = sb_user_by_email(srv->store, j->email, &j->user) == SB_OK;
    login_guard_init(srv, c, r->ip, j->email, j->found ? j->user.id : 0, &j->guard);
    if (login_guard_locked(srv, &j->guard, now, &retry)) {
        login_free(j);
        return refuse_locked(srv, c, retry);
    }
    snprintf(j->stored, sizeof(j->stored), "%s",
             j->found ? j->user.password_hash : dummy_hash(srv));
    j->log2_n = srv->cfg.kdf_log2_n;
    j->conn = c;
    j->r = r;
    j->job.work = login_work;
    j->job.done = login_done;
    r->job = j;
    r->job_free = login_free;
    MHD_suspend_connection(c);
    sb_worker_submit(srv->worker, &j->job);
    return MHD_YES;
}

/* Second pass, back on the loop: count the failure or open the session. */
static enum MHD_Result login_finish(struct sb_server *srv, struct MHD_Connection *c,
                                    struct http_req *r, struct login_job *j)
{
    char token[65], hash[65], csrf[33], cookie[320];
    int64_t now = sb_now_ms();

    if (sb_store_begin(srv->store)) {
        /* a failure counts against the guessing limit even unrecorded */
        if (!j->ok) login_guard_failed(srv, &j->guard, now);
        return http_error(srv, c, 503, "not_stored", "the sign-in could not be recorded; retry");
    }
    if (!j->ok) {
        login_guard_failed(srv, &j->guard, now);
        sb_audit(srv->store, j->email, "auth.login_failed", j->email, r->ip, NULL);
        sb_store_commit(srv->store);
        return http_error(srv, c, 401, "invalid_credentials", "wrong e-mail or password");
    }
    /* Same password, new cost: sessions stay. */
    if (j->have_rehash) sb_user_set_password(srv->store, j->user.id, j->rehash, false);
    if (sb_random_hex(token, 32) || sb_random_hex(csrf, 16)) {
        sb_store_rollback(srv->store);
        return http_error(srv, c, 500, "internal", "no randomness available");
    }
    sb_sha256_hex(token, 64, hash);
    if (sb_session_add(srv->store, hash, j->user.id, csrf,
                       now + (int64_t)srv->cfg.session_max_s * 1000, r->ip) ||
        sb_audit(srv->store, j->user.email, "auth.login", j->user.email, r->ip, NULL) ||
        sb_store_commit(srv->store)) {
        sb_store_rollback(srv->store);
        return http_error(srv, c, 503, "not_stored", "could not start a session; retry");
    }
    snprintf(cookie, sizeof(cookie),
             "sb_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", token,
             srv->cfg.session_max_s, principal_https(srv, c) ? "; Secure" : "");
    http_add_header(srv, "Set-Cookie", cookie);
    login_guard_succeeded(srv, c, &j->guard, j->user.id, j->remember_device);
    return session_answer(srv, c, &j->user, csrf, 200);
}

static enum MHD_Result api_login(struct sb_server *srv, struct MHD_Connection *c,
                                 struct http_req *r, const char *params[2])
{
    (void)params;
    if (!r->job) return login_start(srv, c, r);
    return login_finish(srv, c, r, r->job);
}

static enum MHD_Result api_logout(struct sb_server *srv, struct MHD_Connection *c,
                                  struct http_req *r, const char *params[2])
{
    (void)params;
    if (r->who.kind == PRINCIPAL_SESSION) {
        if (sb_store_begin(srv->store) || sb_session_delete(srv->store, r->who.session_hash) ||
            sb_store_commit(srv->store)) {
            sb_store_rollback(srv->store);
            return http_error(srv, c, 503, "not_stored", "could not end the session; retry");
        }
    }
    http_add_header(srv, "Set-Cookie", "sb_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return http_json(srv, c, 200, json_pack("{s:s}", "status", "logged_out"));
}

static enum MHD_Result api_me(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                              const char *params[2])
{
    char roles[64];
    (void)params;
    if (r->who.kind == PRINCIPAL_SESSION)
        return session_answer(srv, c, &r->who.user, r->who.csrf, 200);
    sb_roles_format(r->who.roles & SB_ROLE_ADMIN ? SB_ROLE_ADMIN : r->who.roles, roles,
                    sizeof(roles));
    return http_json(srv, c, 200,
                     json_pack("{s:{s:s, s:s}}", "token", "name", r->who.actor + 6, "role", roles));
}

static enum MHD_Result api_change_password(struct sb_server *srv, struct MHD_Connection *c,
                                           struct http_req *r, const char *params[2])
{
    char hash[SB_PASSWORD_HASH_MAX], why[SB_PASSWORD_WHY];
    const char *current, *fresh;
    enum MHD_Result ret;
    json_t *body;
    (void)params;

    if (r->who.kind != PRINCIPAL_SESSION)
        return http_error(srv, c, 403, "forbidden", "API tokens have no password to change");
    body = http_body_object(srv, c, r, &ret);
    if (!body) return ret;
    current = string_field(body, "current_password");
    fresh = string_field(body, "new_password");
    if (!current || !fresh) {
        json_decref(body);
        return http_error(srv, c, 400, "invalid_field",
                          "current_password and new_password (at least %d characters) are needed",
                          SB_PASSWORD_MIN);
    }
    if (!sb_password_acceptable(fresh, why)) {
        json_decref(body);
        return http_error(srv, c, 400, "weak_password", "new_password: %s", why);
    }
    if (!sb_password_verify(current, r->who.user.password_hash)) {
        json_decref(body);
        return http_error(srv, c, 403, "wrong_password", "the current password is wrong");
    }
    if (sb_password_hash(fresh, srv->cfg.kdf_log2_n, hash)) {
        json_decref(body);
        return http_error(srv, c, 500, "internal", "could not hash the password");
    }
    json_decref(body);
    if (sb_store_begin(srv->store) ||
        sb_user_set_password(srv->store, r->who.user.id, hash, true) ||
        sb_audit(srv->store, r->who.actor, "user.password", r->who.user.email, r->ip, "self") ||
        sb_store_commit(srv->store)) {
        sb_store_rollback(srv->store);
        return http_error(srv, c, 503, "not_stored", "could not change the password; retry");
    }
    http_add_header(srv, "Set-Cookie", "sb_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return http_json(srv, c, 200, json_pack("{s:s}", "status", "password_changed"));
}

/* The routes this file answers and who may call them (core/server/routes.c
 * lists every file's table; http.c dispatches them in that order). */
const struct route api_auth_routes[] = {
    /* staff sign-in; login has its own lockouts */
    {"POST", "/api/v1/auth/login", api_login, ROUTE_PUBLIC, false},
    {"POST", "/api/v1/auth/logout", api_logout, ROUTE_USER, false},
    {"GET", "/api/v1/auth/me", api_me, ROUTE_USER, false},
    {"POST", "/api/v1/auth/password", api_change_password, ROUTE_USER, false},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};
