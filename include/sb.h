/*
 * sb.h - project-wide error codes and small helpers every part relies on.
 *
 * Fallible functions return enum sb_err; results travel through
 * out-parameters. Detail text goes into a caller-owned struct sb_errbuf so
 * error paths never allocate.
 */
#ifndef SB_H
#define SB_H

#include <stddef.h>
#include <stdint.h>

enum sb_err {
    SB_OK = 0,
    SB_ERR_NOMEM,
    SB_ERR_INVAL,
    SB_ERR_NOT_FOUND,
    SB_ERR_DB,
    SB_ERR_LUA,
    SB_ERR_TIMEOUT,
    SB_ERR_LIMIT,
    SB_ERR_IO,
    SB_ERR_EXISTS,
    SB_ERR_AUTH,
    SB_ERR_FORBIDDEN,
    SB_ERR_CONFLICT,  /* someone else changed it first */
    SB_ERR_CANCELLED, /* stopped before it finished (a plugin reloaded under a call) */
};

/* Static text for an error code; never NULL. */
const char *sb_strerror(enum sb_err err);

#define SB_ERRBUF_SIZE 256
struct sb_errbuf {
    char msg[SB_ERRBUF_SIZE];
};

/* Formats detail text into eb (may be NULL) and returns err, so callers can
 * write `return sb_fail(eb, SB_ERR_INVAL, "bad %s", x);`. */
enum sb_err sb_fail(struct sb_errbuf *eb, enum sb_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Milliseconds since the Unix epoch (wall clock), for stored timestamps. */
int64_t sb_now_ms(void);
/* Moves sb_now_ms() by ms (may be negative): the test clock only. */
void sb_clock_advance_ms(int64_t ms);
/* Monotonic nanoseconds, for deadlines and latency. */
int64_t sb_mono_ns(void);

#define SB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
