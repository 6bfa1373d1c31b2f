/*
 * store_users.c - staff accounts, sessions, API tokens and the audit log.
 * Secrets are never stored: sessions and tokens by SHA-256, passwords by
 * scrypt (password.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_users.h"
#include "sb_log.h"
#include "store_int.h"

static const char *const user_sql[US__COUNT] = {
    [US_USER_ADD] = "INSERT INTO users(email, name, locale, roles, password_hash, active,"
                    " created_at, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, 1, ?6, ?6)",
    [US_USER_BY_EMAIL] = "SELECT id, email, name, locale, roles, active, password_hash"
                         " FROM users WHERE email = ?1",
    [US_USER_BY_ID] = "SELECT id, email, name, locale, roles, active, password_hash"
                      " FROM users WHERE id = ?1",
    [US_USER_ACTIVE] = "UPDATE users SET active = ?2, updated_at = ?3 WHERE id = ?1",
    [US_USER_PASSWORD] = "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
    [US_USER_LIST] = "SELECT id, email, name, locale, roles, active, '' FROM users ORDER BY id",
    [US_SESSION_ADD] = "INSERT INTO sessions(id_hash, user_id, csrf, created_at, last_seen_at,"
                       " expires_at, ip) VALUES(?1, ?2, ?3, ?4, ?4, ?5, ?6)",
    [US_SESSION_GET] = "SELECT u.id, u.email, u.name, u.locale, u.roles, u.active, u.password_hash,"
                       " s.csrf, s.last_seen_at, s.expires_at"
                       " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?1",
    [US_SESSION_TOUCH] = "UPDATE sessions SET last_seen_at = ?2 WHERE id_hash = ?1",
    [US_SESSION_DELETE] = "DELETE FROM sessions WHERE id_hash = ?1",
    [US_SESSION_REVOKE_USER] = "DELETE FROM sessions WHERE user_id = ?1",
    [US_TOKEN_ADD] = "INSERT INTO api_tokens(token_hash, name, role, created_by, created_at)"
                     " VALUES(?1, ?2, ?3, ?4, ?5)",
    [US_TOKEN_GET] = "SELECT id, name, role FROM api_tokens"
                     " WHERE token_hash = ?1 AND revoked_at IS NULL",
    [US_TOKEN_REVOKE] =
        "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
    [US_TOKEN_LIST] = "SELECT id, name, role, created_at, revoked_at IS NOT NULL FROM api_tokens"
                      " ORDER BY id",
    [US_AUDIT_ADD] = "INSERT INTO audit_log(at, actor, action, target, ip, detail)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [US_AUDIT_LIST] = "SELECT id, at, actor, action, target, ip, detail FROM audit_log"
                      " ORDER BY id DESC LIMIT ?1",
};

enum sb_err store_users_prepare(struct sb_store *st, struct sb_errbuf *eb)
{
    return store_prep_table(st, user_sql, US__COUNT, st->ustmt, eb);
}

static sqlite3_stmt *ustmt(struct sb_store *st, enum user_stmt_id id)
{
    sqlite3_stmt *s = st->ustmt[id];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

static const char *const role_names[] = {"agent", "editor", "admin", "supervisor"};

unsigned sb_role_parse(const char *name)
{
    for (unsigned i = 0; i < SB_ARRAY_LEN(role_names); i++)
        if (strcmp(name, role_names[i]) == 0) return 1u << i;
    return 0;
}

void sb_roles_format(unsigned mask, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < SB_ARRAY_LEN(role_names); i++) {
        if (!(mask & (1u << i))) continue;
        int w = snprintf(out + o, cap - o, "%s%s", o ? "," : "", role_names[i]);
        if (w < 0 || (size_t)w >= cap - o) break;
        o += (size_t)w;
    }
}

static json_t *roles_json(unsigned mask)
{
    json_t *arr = json_array();
    for (unsigned i = 0; i < SB_ARRAY_LEN(role_names); i++)
        if (mask & (1u << i)) json_array_append_new(arr, json_string(role_names[i]));
    return arr;
}

static void copy_col(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

/* Row layout: id, email, name, locale, roles, active, password_hash. */
static void read_user(sqlite3_stmt *s, struct sb_user *u)
{
    memset(u, 0, sizeof(*u));
    u->id = sqlite3_column_int64(s, 0);
    copy_col(u->email, sizeof(u->email), s, 1);
    copy_col(u->name, sizeof(u->name), s, 2);
    copy_col(u->locale, sizeof(u->locale), s, 3);
    u->roles = (unsigned)sqlite3_column_int(s, 4);
    u->active = sqlite3_column_int(s, 5) != 0;
    copy_col(u->password_hash, sizeof(u->password_hash), s, 6);
}

json_t *sb_user_json(const struct sb_user *u)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:b}", "id", (json_int_t)u->id, "email", u->email,
                     "name", u->name, "locale", u->locale, "roles", roles_json(u->roles), "active",
                     u->active);
}

enum sb_err sb_user_add(struct sb_store *st, const char *email, const char *name,
                        const char *locale, unsigned roles, const char *password_hash, int64_t *id)
{
    sqlite3_stmt *s = ustmt(st, US_USER_ADD);
    int r;

    sqlite3_bind_text(s, 1, email, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, locale, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, (int)roles);
    sqlite3_bind_text(s, 5, password_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, sb_now_ms());
    r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r == SQLITE_CONSTRAINT_UNIQUE || (r & 0xff) == SQLITE_CONSTRAINT) return SB_ERR_EXISTS;
    if (r != SQLITE_DONE) return SB_ERR_DB;
    *id = sqlite3_last_insert_rowid(st->db);
    return SB_OK;
}

static enum sb_err one_user(sqlite3_stmt *s, struct sb_user *out)
{
    int r = sqlite3_step(s);
    enum sb_err rc = SB_ERR_NOT_FOUND;
    if (r == SQLITE_ROW) {
        read_user(s, out);
        rc = SB_OK;
    } else if (r != SQLITE_DONE) {
        rc = SB_ERR_DB;
    }
    sqlite3_reset(s);
    return rc;
}

enum sb_err sb_user_by_email(struct sb_store *st, const char *email, struct sb_user *out)
{
    sqlite3_stmt *s = ustmt(st, US_USER_BY_EMAIL);
    sqlite3_bind_text(s, 1, email, -1, SQLITE_STATIC);
    return one_user(s, out);
}

enum sb_err sb_user_by_id(struct sb_store *st, int64_t id, struct sb_user *out)
{
    sqlite3_stmt *s = ustmt(st, US_USER_BY_ID);
    sqlite3_bind_int64(s, 1, id);
    return one_user(s, out);
}

enum sb_err sb_user_set_active(struct sb_store *st, int64_t id, bool active)
{
    sqlite3_stmt *s = ustmt(st, US_USER_ACTIVE);
    enum sb_err rc;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, active);
    sqlite3_bind_int64(s, 3, sb_now_ms());
    rc = store_step_done(st, s);
    if (!rc && sqlite3_changes(st->db) == 0) rc = SB_ERR_NOT_FOUND;
    /* A disabled account loses every session at once. */
    if (!rc && !active) rc = sb_sessions_revoke_user(st, id);
    return rc;
}

enum sb_err sb_user_set_password(struct sb_store *st, int64_t id, const char *password_hash,
                                 bool revoke_sessions)
{
    sqlite3_stmt *s = ustmt(st, US_USER_PASSWORD);
    enum sb_err rc;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, password_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, sb_now_ms());
    rc = store_step_done(st, s);
    if (!rc && sqlite3_changes(st->db) == 0) rc = SB_ERR_NOT_FOUND;
    /* A new password ends every session made with the old one. */
    if (!rc && revoke_sessions) rc = sb_sessions_revoke_user(st, id);
    return rc;
}

json_t *sb_user_list(struct sb_store *st)
{
    sqlite3_stmt *s = ustmt(st, US_USER_LIST);
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct sb_user u;
        read_user(s, &u);
        json_array_append_new(arr, sb_user_json(&u));
    }
    sqlite3_reset(s);
    return arr;
}

enum sb_err sb_session_add(struct sb_store *st, const char *id_hash, int64_t user_id,
                           const char *csrf, int64_t expires_at_ms, const char *ip)
{
    sqlite3_stmt *s = ustmt(st, US_SESSION_ADD);
    sqlite3_bind_text(s, 1, id_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, user_id);
    sqlite3_bind_text(s, 3, csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, sb_now_ms());
    sqlite3_bind_int64(s, 5, expires_at_ms);
    sqlite3_bind_text(s, 6, ip, -1, SQLITE_STATIC);
    return store_step_done(st, s);
}

enum sb_err sb_session_get(struct sb_store *st, const char *id_hash, int idle_s,
                           struct sb_user *user, char csrf[65])
{
    sqlite3_stmt *s = ustmt(st, US_SESSION_GET);
    int64_t now = sb_now_ms(), last_seen, expires;
    int r;

    sqlite3_bind_text(s, 1, id_hash, -1, SQLITE_STATIC);
    r = sqlite3_step(s);
    if (r != SQLITE_ROW) {
        sqlite3_reset(s);
        return r == SQLITE_DONE ? SB_ERR_NOT_FOUND : SB_ERR_DB;
    }
    read_user(s, user);
    copy_col(csrf, 65, s, 7);
    last_seen = sqlite3_column_int64(s, 8);
    expires = sqlite3_column_int64(s, 9);
    sqlite3_reset(s);
    if (!user->active || now >= expires || now - last_seen >= (int64_t)idle_s * 1000) {
        sb_session_delete(st, id_hash);
        return SB_ERR_NOT_FOUND;
    }
    /* Writing on every request would cost a commit per page view; a
     * minute of slack on the idle clock is fine. Short idle limits (tests)
     * touch sooner. */
    if (now - last_seen >= (idle_s > 120 ? 60000 : (int64_t)idle_s * 250)) {
        s = ustmt(st, US_SESSION_TOUCH);
        sqlite3_bind_text(s, 1, id_hash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, now);
        store_step_done(st, s);
    }
    return SB_OK;
}

enum sb_err sb_session_delete(struct sb_store *st, const char *id_hash)
{
    sqlite3_stmt *s = ustmt(st, US_SESSION_DELETE);
    sqlite3_bind_text(s, 1, id_hash, -1, SQLITE_STATIC);
    return store_step_done(st, s);
}

enum sb_err sb_sessions_revoke_user(struct sb_store *st, int64_t user_id)
{
    sqlite3_stmt *s = ustmt(st, US_SESSION_REVOKE_USER);
    sqlite3_bind_int64(s, 1, user_id);
    return store_step_done(st, s);
}

enum sb_err sb_token_add(struct sb_store *st, const char *token_hash, const char *name,
                         unsigned role, int64_t created_by, int64_t *id)
{
    sqlite3_stmt *s = ustmt(st, US_TOKEN_ADD);
    enum sb_err rc;
    sqlite3_bind_text(s, 1, token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, (int)role);
    if (created_by)
        sqlite3_bind_int64(s, 4, created_by);
    else
        sqlite3_bind_null(s, 4);
    sqlite3_bind_int64(s, 5, sb_now_ms());
    rc = store_step_done(st, s);
    if (!rc) *id = sqlite3_last_insert_rowid(st->db);
    return rc;
}

enum sb_err sb_token_get(struct sb_store *st, const char *token_hash, int64_t *id, char *name,
                         size_t name_cap, unsigned *role)
{
    sqlite3_stmt *s = ustmt(st, US_TOKEN_GET);
    int r;
    sqlite3_bind_text(s, 1, token_hash, -1, SQLITE_STATIC);
    r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        copy_col(name, name_cap, s, 1);
        *role = (unsigned)sqlite3_column_int(s, 2);
    }
    sqlite3_reset(s);
    if (r == SQLITE_ROW) return SB_OK;
    return r == SQLITE_DONE ? SB_ERR_NOT_FOUND : SB_ERR_DB;
}

enum sb_err sb_token_revoke(struct sb_store *st, int64_t id)
{
    sqlite3_stmt *s = ustmt(st, US_TOKEN_REVOKE);
    enum sb_err rc;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, sb_now_ms());
    rc = store_step_done(st, s);
    if (!rc && sqlite3_changes(st->db) == 0) rc = SB_ERR_NOT_FOUND;
    return rc;
}

json_t *sb_token_list(struct sb_store *st)
{
    sqlite3_stmt *s = ustmt(st, US_TOKEN_LIST);
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW) {
        char role[32];
        sb_roles_format((unsigned)sqlite3_column_int(s, 2), role, sizeof(role));
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:I, s:b}", "id",
                                             (json_int_t)sqlite3_column_int64(s, 0), "name",
                                             (const char *)sqlite3_column_text(s, 1), "role", role,
                                             "created_at", (json_int_t)sqlite3_column_int64(s, 3),
                                             "revoked", sqlite3_column_int(s, 4)));
    }
    sqlite3_reset(s);
    return arr;
}

static void bind_opt(sqlite3_stmt *s, int col, const char *v)
{
    if (v)
        sqlite3_bind_text(s, col, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, col);
}

enum sb_err sb_audit(struct sb_store *st, const char *actor, const char *action, const char *target,
                     const char *ip, const char *detail)
{
    sqlite3_stmt *s = ustmt(st, US_AUDIT_ADD);
    sqlite3_bind_int64(s, 1, sb_now_ms());
    sqlite3_bind_text(s, 2, actor ? actor : "?", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, action, -1, SQLITE_STATIC);
    bind_opt(s, 4, target);
    bind_opt(s, 5, ip);
    bind_opt(s, 6, detail);
    return store_step_done(st, s);
}

json_t *sb_audit_list(struct sb_store *st, int limit)
{
    sqlite3_stmt *s = ustmt(st, US_AUDIT_LIST);
    json_t *arr = json_array();
    sqlite3_bind_int(s, 1, limit);
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *e = json_pack("{s:I, s:I, s:s, s:s}", "id", (json_int_t)sqlite3_column_int64(s, 0),
                              "at", (json_int_t)sqlite3_column_int64(s, 1), "actor",
                              (const char *)sqlite3_column_text(s, 2), "action",
                              (const char *)sqlite3_column_text(s, 3));
        const char *keys[] = {"target", "ip", "detail"};
        for (int k = 0; k < 3; k++) {
            const char *v = (const char *)sqlite3_column_text(s, 4 + k);
            json_object_set_new(e, keys[k], v ? json_string(v) : json_null());
        }
        json_array_append_new(arr, e);
    }
    sqlite3_reset(s);
    return arr;
}
