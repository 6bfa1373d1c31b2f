/*
 * sb_util.h - text and crypto helpers: UTF-8 validation, random ids,
 * token hashing, HMAC, locale tags, and a size-capped growable buffer.
 */
#ifndef SB_UTIL_H
#define SB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb.h"

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates,
 * no code points above U+10FFFF) and holds no NUL byte. */
bool sb_utf8_valid(const char *s, size_t len);

/* How many bytes of s[0..len) to keep so that at most max remain and the
 * cut falls between characters: len when it fits, else max less the bytes
 * of a character max would split. s must hold a byte at s[max]. */
size_t sb_utf8_cut(const char *s, size_t len, size_t max);

/* Copies the string src (NULL: "") into dst[cap] (cap >= 1), cut with
 * sb_utf8_cut when it is longer, so what is copied stays valid UTF-8. */
void sb_utf8_copy(char *dst, size_t cap, const char *src);

/* A positive decimal id as ids appear in paths and query strings: 1 to 18
 * ASCII digits, nothing else (no sign, no spaces, never a parse of a
 * prefix). False for anything else, NULL included, and for 0. */
bool sb_parse_id(const char *text, int64_t *id);

/* Fills out with `nbytes` of CSPRNG output rendered as lowercase hex;
 * out must hold 2*nbytes+1 bytes. */
enum sb_err sb_random_hex(char *out, size_t nbytes);

/* SHA-256 of s as 64 lowercase hex chars plus NUL in out[65]. */
void sb_sha256_hex(const char *s, size_t len, char out[65]);

/* Constant-time equality of two equal-length strings. */
bool sb_secure_equal(const char *a, const char *b, size_t len);

/* HMAC-SHA256 of msg keyed with key, as 64 lowercase hex chars plus NUL in
 * out[65] (RFC 2104 / FIPS 198 over SHA-256; RFC 4231 has test vectors). */
void sb_hmac_sha256_hex(const void *key, size_t keylen, const void *msg, size_t len, char out[65]);

/* Accepts "en", "pt-BR", "pt-br", "zh-Hant-TW"; writes the normalised form
 * (language lowercase, 2-letter region uppercase) into out[cap]. False for
 * anything that is not a language tag of at most 35 bytes. */
bool sb_locale_normalise(const char *in, char *out, size_t cap);

/* A growable byte buffer with a hard cap fixed at creation (curl's dynbuf):
 * appends past the cap fail with SB_ERR_LIMIT and leave the buffer intact. */
struct sb_buf {
    char *data; /* owned; always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t limit;
};

void sb_buf_init(struct sb_buf *b, size_t limit);
enum sb_err sb_buf_append(struct sb_buf *b, const void *data, size_t len);
enum sb_err sb_buf_printf(struct sb_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sb_buf_reset(struct sb_buf *b);
void sb_buf_cleanup(struct sb_buf *b);

/* Reads a whole file of at most limit bytes into *out (owned by the caller,
 * NUL-terminated; *len excludes the NUL). */
enum sb_err sb_read_file(const char *path, size_t limit, char **out, size_t *len,
                         struct sb_errbuf *eb);

#endif
