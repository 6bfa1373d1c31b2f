/*
 * auth.h - password hashing and the password policy for staff accounts
 * (the accounts themselves are the store's: store_users.h).
 */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "sb.h"
#include "sb_store.h"
#include "store_users.h"

/* ------- Interface to code in password.c ------- */

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

#endif
