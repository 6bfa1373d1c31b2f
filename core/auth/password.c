/*
 * password.c - scrypt password hashes (OpenSSL libcrypto), with the cost
 * parameters stored beside the salt and key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth.h"

#define SALT_BYTES 16
#define KEY_BYTES 32
#define SCRYPT_R 8
#define SCRYPT_P 1

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static bool from_hex(const char *in, size_t len, unsigned char *out, size_t n)
{
    if (len != 2 * n) return false;
    for (size_t i = 0; i < n; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = in[2 * i + (size_t)k];
            int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
            if (d < 0) return false;
            v = v * 16 + d;
        }
        out[i] = (unsigned char)v;
    }
    return true;
}

static bool derive(const char *password, const unsigned char *salt, int log2_n, int r, int p,
                   unsigned char key[KEY_BYTES])
{
    uint64_t n = (uint64_t)1 << log2_n;
    /* scrypt needs 128 * N * r bytes; allow that plus slack. */
    uint64_t maxmem = 128 * n * (uint64_t)r * (uint64_t)p + (1 << 20);
    return EVP_PBE_scrypt(password, strlen(password), salt, SALT_BYTES, n, (uint64_t)r, (uint64_t)p,
                          maxmem, key, KEY_BYTES) == 1;
}

enum sb_err sb_password_hash(const char *password, int log2_n, char out[SB_PASSWORD_HASH_MAX])
{
    unsigned char salt[SALT_BYTES], key[KEY_BYTES];
    char salt_hex[2 * SALT_BYTES + 1], key_hex[2 * KEY_BYTES + 1];

    if (log2_n < 10 || log2_n > 22) return SB_ERR_INVAL;
    if (RAND_bytes(salt, SALT_BYTES) != 1) return SB_ERR_IO;
    if (!derive(password, salt, log2_n, SCRYPT_R, SCRYPT_P, key)) return SB_ERR_NOMEM;
    to_hex(salt, SALT_BYTES, salt_hex);
    to_hex(key, KEY_BYTES, key_hex);
    OPENSSL_cleanse(key, sizeof(key));
    snprintf(out, SB_PASSWORD_HASH_MAX, "$scrypt$ln=%d,r=%d,p=%d$%s$%s", log2_n, SCRYPT_R, SCRYPT_P,
             salt_hex, key_hex);
    return SB_OK;
}

/* Parses "$scrypt$ln=L,r=R,p=P$salt$key". */
static bool parse(const char *stored, int *ln, int *r, int *p, unsigned char *salt,
                  unsigned char *key)
{
    const char *salt_at, *key_at;
    int used = 0;

    if (!stored || strncmp(stored, "$scrypt$", 8) != 0) return false;
    if (sscanf(stored + 8, "ln=%d,r=%d,p=%d$%n", ln, r, p, &used) != 3 || used == 0) return false;
    if (*ln < 10 || *ln > 22 || *r < 1 || *r > 32 || *p < 1 || *p > 16) return false;
    salt_at = stored + 8 + used;
    key_at = strchr(salt_at, '$');
    if (!key_at) return false;
    return from_hex(salt_at, (size_t)(key_at - salt_at), salt, SALT_BYTES) &&
           from_hex(key_at + 1, strlen(key_at + 1), key, KEY_BYTES);
}

bool sb_password_verify(const char *password, const char *stored)
{
    unsigned char salt[SALT_BYTES], want[KEY_BYTES], got[KEY_BYTES];
    int ln, r, p;
    bool ok;

    if (!password || !parse(stored, &ln, &r, &p, salt, want)) return false;
    if (!derive(password, salt, ln, r, p, got)) return false;
    ok = CRYPTO_memcmp(want, got, KEY_BYTES) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    return ok;
}

bool sb_password_needs_rehash(const char *stored, int log2_n)
{
    unsigned char salt[SALT_BYTES], key[KEY_BYTES];
    int ln, r, p;
    if (!parse(stored, &ln, &r, &p, salt, key)) return true;
    return ln < log2_n;
}
