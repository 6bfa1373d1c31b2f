/*
 * auth.h - private to core/: password hashing, staff sessions and API
 * tokens, who is calling (struct sb_principal), and the rate limits.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "sb.h"
#include "sb_store.h"

/* ------- Interface to code in password.c ------- */

#define SB_PASSWORD_HASH_MAX 256
#define SB_PASSWORD_MIN 10
#define SB_PASSWORD_MAX 1024

/* Hashes password with scrypt (N = 2^log2_n, r = 8, p = 1) and a random
 * 16-byte salt into out as "$scrypt$ln=15,r=8,p=1$<salt>$<key>", so the
 * parameters travel with the hash and can be raised later. */
enum sb_err sb_password_hash(const char *password, int log2_n, char out[SB_PASSWORD_HASH_MAX]);

/* True when password matches stored (constant-time comparison of keys).
 * A malformed stored hash never matches. */
bool sb_password_verify(const char *password, const char *stored);

/* True when stored was made with a smaller cost than log2_n. */
bool sb_password_needs_rehash(const char *stored, int log2_n);

/* ------- Interface to code in password_policy.c ------- */

#define SB_PASSWORD_WHY 160

/* True when password may be set as a staff password: at least
 * SB_PASSWORD_MIN characters, at most SB_PASSWORD_MAX bytes, and not one
 * of the common passwords (with digits or symbols around it, or digits
 * for look-alike letters). Otherwise why says so, for the user. */
bool sb_password_acceptable(const char *password, char why[SB_PASSWORD_WHY]);

/* ------- Interface to code in store_users.c ------- */

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

/* ------- Interface to code in ratelimit.c ------- */

struct sb_limits;

enum sb_err sb_limits_new(size_t capacity, struct sb_limits **out);
void sb_limits_free(struct sb_limits *l);

/* Token bucket for key: true when a request may pass now; otherwise
 * *retry_after_s says when one token will be back (at least 1). */
bool sb_limits_take(struct sb_limits *l, const char *key, double per_s, double burst,
                    int64_t now_ms, int *retry_after_s);

/* Login failures for key (an account or an IP): locked tells whether key
 * is locked out now, and for how long; fail counts a failure and, from
 * max_failures on, locks it for lockout_s doubled per further failure
 * (at most 900 s); clear forgets it after a success. */
bool sb_limits_locked(struct sb_limits *l, const char *key, int64_t now_ms, int *retry_after_s);
void sb_limits_fail(struct sb_limits *l, const char *key, int max_failures, int lockout_s,
                    int64_t now_ms);
void sb_limits_clear(struct sb_limits *l, const char *key);

#endif
