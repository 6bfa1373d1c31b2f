/*
 * util.c - UTF-8 validation, random ids, hashing, HMAC, locale tags and the
 * capped buffer.
 * Uses OpenSSL libcrypto for randomness and SHA-256.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "sb_util.h"

bool sb_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i];
        size_t n;
        uint32_t cp;

        if (c == 0) return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n) return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

size_t sb_utf8_cut(const char *s, size_t len, size_t max)
{
    size_t n = max;

    if (len <= max) return len;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) /* a continuation byte */
        n--;
    return n;
}

void sb_utf8_copy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? sb_utf8_cut(src, strlen(src), cap - 1) : 0;

    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

bool sb_parse_id(const char *text, int64_t *id)
{
    int64_t v = 0;
    size_t n = text ? strlen(text) : 0;

    if (n == 0 || n > 18) return false; /* 18 digits never overflow int64_t */
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9') return false;
        v = v * 10 + (text[i] - '0');
    }
    if (v <= 0) return false;
    *id = v;
    return true;
}

enum sb_err sb_random_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[64];

    if (nbytes > sizeof(raw)) return SB_ERR_INVAL;
    if (RAND_bytes(raw, (int)nbytes) != 1) return SB_ERR_IO;
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return SB_OK;
}

void sb_sha256_hex(const char *s, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;

    /* Fetched once: OpenSSL 3 would otherwise look the algorithm up on
     * every call, and this runs on every authenticated request. */
    static EVP_MD *sha256;
    if (!sha256) sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_Digest(s, len, md, &mdlen, sha256 ? sha256 : EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

bool sb_secure_equal(const char *a, const char *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

void sb_hmac_sha256_hex(const void *key, size_t keylen, const void *msg, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (!HMAC(EVP_sha256(), key, (int)keylen, msg, len, md, &mdlen) || mdlen != 32) {
        /* Never a valid signature: callers compare 64 hex digits. */
        memset(out, 'x', 64);
        out[64] = '\0';
        return;
    }
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

bool sb_locale_normalise(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in), seg = 0, seglen = 0;

    if (n < 2 || n >= cap || n > 35) return false;
    for (size_t i = 0; i <= n; i++) {
        char ch = in[i];
        if (ch == '-' || ch == '_' || ch == '\0') {
            if (seg == 0 && (seglen < 2 || seglen > 3)) return false;
            if (seg > 0 && (seglen < 2 || seglen > 8)) return false;
            if (seg > 0 && seglen == 2) {
                out[i - 1] = (char)toupper((unsigned char)out[i - 1]);
                out[i - 2] = (char)toupper((unsigned char)out[i - 2]);
            }
            out[i] = ch ? '-' : '\0';
            seg++;
            seglen = 0;
            if (seg > 3) return false;
            continue;
        }
        if (!isalnum((unsigned char)ch) || (seg == 0 && !isalpha((unsigned char)ch))) return false;
        out[i] = seg == 0 ? (char)tolower((unsigned char)ch) : ch;
        seglen++;
    }
    return true;
}

void sb_buf_init(struct sb_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

static enum sb_err buf_reserve(struct sb_buf *b, size_t extra)
{
    size_t need, ncap;
    char *p;

    if (extra > b->limit || b->len > b->limit - extra) return SB_ERR_LIMIT;
    need = b->len + extra + 1;
    if (need <= b->cap) return SB_OK;
    ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    p = realloc(b->data, ncap);
    if (!p) return SB_ERR_NOMEM;
    b->data = p;
    b->cap = ncap;
    return SB_OK;
}

enum sb_err sb_buf_append(struct sb_buf *b, const void *data, size_t len)
{
    enum sb_err rc = buf_reserve(b, len);
    if (rc) return rc;
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return SB_OK;
}

enum sb_err sb_buf_printf(struct sb_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    enum sb_err rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return SB_ERR_INVAL;
    rc = buf_reserve(b, (size_t)n);
    if (rc) return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return SB_OK;
}

void sb_buf_reset(struct sb_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void sb_buf_cleanup(struct sb_buf *b)
{
    free(b->data);
    sb_buf_init(b, b->limit);
}

enum sb_err sb_read_file(const char *path, size_t limit, char **out, size_t *len,
                         struct sb_errbuf *eb)
{
    FILE *f = fopen(path, "rb");
    struct sb_buf b;
    char chunk[8192];
    size_t n;
    enum sb_err rc = SB_OK;

    if (!f) return sb_fail(eb, SB_ERR_IO, "%s: %s", path, strerror(errno));
    sb_buf_init(&b, limit);
    while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = sb_buf_append(&b, chunk, n);
    if (!rc && ferror(f)) rc = SB_ERR_IO;
    fclose(f);
    if (!rc && !b.data) rc = sb_buf_append(&b, "", 0);
    if (rc) {
        sb_buf_cleanup(&b);
        if (rc == SB_ERR_LIMIT) return sb_fail(eb, rc, "%s: larger than %zu bytes", path, limit);
        return sb_fail(eb, rc, "%s: cannot read", path);
    }
    *out = b.data;
    *len = b.len;
    return SB_OK;
}
