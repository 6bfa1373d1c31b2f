/*
 * lua_crypto.c - sb.crypto: what a channel plugin needs to check a
 * provider's signature over the raw request bytes, from the libcrypto the
 * server already links.
 *
 *   sb.crypto.hmac_sha256(key, data) sb.crypto.hmac_sha1(key, data)  raw MAC
 *   sb.crypto.sha256(data)                                       raw digest
 *   sb.crypto.equal(a, b)               constant-time comparison, a boolean
 *   sb.crypto.hex(bytes) sb.crypto.unhex(s)        lower-case hex; nil if bad
 *   sb.crypto.base64(bytes) sb.crypto.unbase64(s)  RFC 4648 standard; nil if bad
 *   sb.crypto.random(n)                       n (0..1024) bytes of CSPRNG output
 *
 * Strings are bytes: every length comes from lua_tolstring, so NULs and
 * non-UTF-8 pass through. C work is not seen by the count hook, so each
 * function charges its bytes to the call's budget (sandbox_charge) before
 * it works: hashing megabytes in a loop ends like any other long loop.
 */
#include <string.h>

#include <lauxlib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "lua_host.h"

#define RANDOM_MAX 1024
/* Bytes of input per instruction charged: the allocator's rate
 * (lua_sandbox.c), so hashing a string costs about what copying it does. */
#define BYTES_PER_INSTR 64

/* Charges the work on `bytes` to the call; raises the budget error when
 * the call is over it (so: only from the l_ functions below). */
static void charge(lua_State *L, size_t bytes)
{
    if (sandbox_charge(L, 1 + bytes / BYTES_PER_INSTR)) sandbox_raise_timeout(L);
}

static int push_hmac(lua_State *L, const EVP_MD *md)
{
    size_t klen, dlen;
    const char *key = luaL_checklstring(L, 1, &klen);
    const char *data = luaL_checklstring(L, 2, &dlen);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int olen = 0;

    charge(L, klen + dlen);
    /* HMAC() wants an int key length; a longer key is hashed anyway. */
    if (klen > INT32_MAX) return luaL_error(L, "sb.crypto: key too long");
    if (!HMAC(md, key, (int)klen, (const unsigned char *)data, dlen, out, &olen))
        return luaL_error(L, "sb.crypto: HMAC failed");
    lua_pushlstring(L, (const char *)out, olen);
    return 1;
}

static int l_hmac_sha256(lua_State *L)
{
    return push_hmac(L, EVP_sha256());
}

static int l_hmac_sha1(lua_State *L)
{
    return push_hmac(L, EVP_sha1());
}

static int l_sha256(lua_State *L)
{
    size_t len;
    const char *data = luaL_checklstring(L, 1, &len);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int olen = 0;

    charge(L, len);
    if (!EVP_Digest(data, len, out, &olen, EVP_sha256(), NULL))
        return luaL_error(L, "sb.crypto: SHA-256 failed");
    lua_pushlstring(L, (const char *)out, olen);
    return 1;
}

/* A signature check must not tell an attacker how many leading bytes were
 * right. Lengths may differ (a truncated header): then a's own bytes are
 * compared with themselves, so the time depends on a's length only, never
 * on where the contents differ. */
static int l_equal(lua_State *L)
{
    size_t alen, blen;
    const char *a = luaL_checklstring(L, 1, &alen);
    const char *b = luaL_checklstring(L, 2, &blen);
    int diff;

    charge(L, alen);
    diff = CRYPTO_memcmp(a, alen == blen ? b : a, alen);
    lua_pushboolean(L, alen == blen && diff == 0);
    return 1;
}

static int l_hex(lua_State *L)
{
    static const char digits[] = "0123456789abcdef";
    size_t len;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    char *out;

    charge(L, 3 * len);
    out = luaL_buffinitsize(L, &b, 2 * len);
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[s[i] >> 4];
        out[2 * i + 1] = digits[s[i] & 15];
    }
    luaL_pushresultsize(&b, 2 * len);
    return 1;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* unhex(s): either case; nil for an odd length or a non-hex character. */
static int l_unhex(lua_State *L)
{
    size_t len;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    char *out;

    charge(L, len + len / 2);
    if (len % 2) {
        lua_pushnil(L);
        return 1;
    }
    out = luaL_buffinitsize(L, &b, len / 2);
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            lua_pushnil(L);
            return 1;
        }
        out[i] = (char)(hi << 4 | lo);
    }
    luaL_pushresultsize(&b, len / 2);
    return 1;
}

static int l_base64(lua_State *L)
{
    size_t len, outlen;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    unsigned char *out;

    if (len > (SIZE_MAX / 4) * 3 - 3) return luaL_error(L, "sb.crypto.base64: input too long");
    outlen = (len + 2) / 3 * 4;
    charge(L, len + outlen);
    /* EVP_EncodeBlock takes an int length: feed it whole groups of 3 in
     * slices (a slice boundary on a multiple of 3 changes nothing). */
    out = (unsigned char *)luaL_buffinitsize(L, &b, outlen + 1);
    for (size_t done = 0, w = 0; done < len;) {
        size_t n = len - done > (size_t)3 << 28 ? (size_t)3 << 28 : len - done;
        w += (size_t)EVP_EncodeBlock(out + w, s + done, (int)n);
        done += n;
    }
    luaL_pushresultsize(&b, outlen);
    return 1;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Strict RFC 4648 base64 (standard alphabet): padding optional but only at
 * the end, no whitespace, no stray bits in the last character. OpenSSL's
 * EVP_DecodeBlock skips whitespace and counts padding as data, so a
 * signature check would accept texts that are not the provider's. Returns
 * the decoded length, or -1. */
static long long b64_decode(const unsigned char *s, size_t len, char *out)
{
    size_t o = 0, i;
    unsigned acc = 0;
    int bits = 0;

    size_t pad = 0;
    if (len >= 1 && s[len - 1] == '=') pad = len >= 2 && s[len - 2] == '=' ? 2 : 1;
    if (pad) {
        if (len % 4 != 0) return -1;
        len -= pad;
    }
    if (len % 4 == 1) return -1;
    for (i = 0; i < len; i++) {
        int v = b64_value(s[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (acc & ((1u << bits) - 1)) return -1; /* leftover bits must be zero */
    return (long long)o;
}

static int l_unbase64(lua_State *L)
{
    size_t len;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    long long n;
    char *out;

    charge(L, len + len);
    out = luaL_buffinitsize(L, &b, len / 4 * 3 + 3);
    n = b64_decode(s, len, out);
    if (n < 0) {
        lua_pushnil(L);
        return 1;
    }
    luaL_pushresultsize(&b, (size_t)n);
    return 1;
}

static int l_random(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    unsigned char buf[RANDOM_MAX];

    luaL_argcheck(L, n >= 0 && n <= RANDOM_MAX, 1, "must be 0..1024");
    charge(L, (size_t)n);
    if (n > 0 && RAND_bytes(buf, (int)n) != 1)
        return luaL_error(L, "sb.crypto.random: no random bytes available");
    lua_pushlstring(L, (const char *)buf, (size_t)n);
    return 1;
}

void lua_crypto_open(lua_State *L)
{
    static const luaL_Reg fns[] = {{"hmac_sha256", l_hmac_sha256},
                                   {"hmac_sha1", l_hmac_sha1},
                                   {"sha256", l_sha256},
                                   {"equal", l_equal},
                                   {"hex", l_hex},
                                   {"unhex", l_unhex},
                                   {"base64", l_base64},
                                   {"unbase64", l_unbase64},
                                   {"random", l_random},
                                   {NULL, NULL}};
    luaL_newlib(L, fns);
    lua_setfield(L, -2, "crypto");
}
