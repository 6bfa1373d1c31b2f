/*
 * store_users.h - staff accounts and their roles, sessions, API tokens and
 * the audit log, as the store keeps them (store_users.c). Secrets are
 * stored hashed: sessions and tokens by SHA-256, passwords by scrypt
 * (auth.h makes and checks those hashes).
 */
#ifndef STORE_USERS_H
#define STORE_USERS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "sb.h"
#include "sb_store.h"

#define SB_PASSWORD_HASH_MAX 256

enum sb_role { SB_ROLE_AGENT = 1, SB_ROLE_EDITOR = 2, SB_ROLE_ADMIN = 4, SB_ROLE_SUPERVISOR = 8 };

/* "agent" -> SB_ROLE_AGENT; 0 when unknown. */
unsigned sb_role_parse(const char *name);
/* Comma-separated names of the roles in mask, into out[cap]. */
void sb_roles_format(unsigned mask, char *out, size_t cap);

struct sb_user {
    int64_t id;
    char email[256];
    char name[128];
    char locale[36];
    unsigned roles;
    bool active;
    char password_hash[SB_PASSWORD_HASH_MAX];
};

enum sb_err sb_user_add(struct sb_store *st, const char *email, const char *name,
                        const char *locale, unsigned roles, const char *password_hash, int64_t *id);
enum sb_err sb_user_by_email(struct sb_store *st, const char *email, struct sb_user *out);
enum sb_err sb_user_by_id(struct sb_store *st, int64_t id, struct sb_user *out);
enum sb_err sb_user_set_active(struct sb_store *st, int64_t id, bool active);
/* revoke_sessions: false only when re-hashing the same password. */
enum sb_err sb_user_set_password(struct sb_store *st, int64_t id, const char *password_hash,
                                 bool revoke_sessions);
/* All users as a JSON array of {id, email, name, locale, roles, active}. */
json_t *sb_user_list(struct sb_store *st);
json_t *sb_user_json(const struct sb_user *u);

/* Sessions: only SHA-256 of the cookie value is stored. */
enum sb_err sb_session_add(struct sb_store *st, const char *id_hash, int64_t user_id,
                           const char *csrf, int64_t expires_at_ms, const char *ip);
/* Finds a live session; SB_ERR_NOT_FOUND when unknown, expired (idle or
 * absolute) or its user is disabled. Touches last use at most once a
 * minute. */
enum sb_err sb_session_get(struct sb_store *st, const char *id_hash, int idle_s,
                           struct sb_user *user, char csrf[65]);
enum sb_err sb_session_delete(struct sb_store *st, const char *id_hash);
enum sb_err sb_sessions_revoke_user(struct sb_store *st, int64_t user_id);

/* API tokens: scoped to one role, stored hashed. */
enum sb_err sb_token_add(struct sb_store *st, const char *token_hash, const char *name,
                         unsigned role, int64_t created_by, int64_t *id);
enum sb_err sb_token_get(struct sb_store *st, const char *token_hash, int64_t *id, char *name,
                         size_t name_cap, unsigned *role);
enum sb_err sb_token_revoke(struct sb_store *st, int64_t id);
json_t *sb_token_list(struct sb_store *st);

/* The audit log of admin and editor actions. */
enum sb_err sb_audit(struct sb_store *st, const char *actor, const char *action, const char *target,
                     const char *ip, const char *detail);
json_t *sb_audit_list(struct sb_store *st, int limit);

#endif
