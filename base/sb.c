/*
 * sb.c - error strings, clocks and logging shared by every part.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "sb.h"
#include "sb_log.h"

static const char *const err_text[] = {
    [SB_OK] = "ok",
    [SB_ERR_NOMEM] = "out of memory",
    [SB_ERR_INVAL] = "invalid argument",
    [SB_ERR_NOT_FOUND] = "not found",
    [SB_ERR_DB] = "database error",
    [SB_ERR_LUA] = "plugin error",
    [SB_ERR_TIMEOUT] = "timed out",
    [SB_ERR_LIMIT] = "limit exceeded",
    [SB_ERR_IO] = "i/o error",
    [SB_ERR_EXISTS] = "already exists",
    [SB_ERR_AUTH] = "not authenticated",
    [SB_ERR_FORBIDDEN] = "forbidden",
    [SB_ERR_CONFLICT] = "conflict",
    [SB_ERR_CANCELLED] = "cancelled",
};

const char *sb_strerror(enum sb_err err)
{
    if ((unsigned)err < SB_ARRAY_LEN(err_text) && err_text[err]) return err_text[err];
    return "unknown error";
}

enum sb_err sb_fail(struct sb_errbuf *eb, enum sb_err err, const char *fmt, ...)
{
    if (eb) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
        va_end(ap);
    }
    return err;
}

/* Added to the system clock: only the test clock (--test-clock with
 * SWITCHBOARD_TEST=1) moves it. Read and written on the loop thread. */
static int64_t clock_offset_ms;

int64_t sb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + clock_offset_ms;
}

void sb_clock_advance_ms(int64_t ms)
{
    clock_offset_ms += ms;
}

int64_t sb_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static enum sb_log_level log_level = SB_LOG_INFO;

void sb_log_set_level(enum sb_log_level level)
{
    log_level = level;
}

void sb_log(enum sb_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    char line[1024];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    int n;

    if (level < log_level) return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 ts.tv_nsec / 1000000, names[level]);
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(line)) vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    /* One fprintf per record so concurrent writers (import tool vs server)
     * never interleave within a line. */
    fprintf(stderr, "%s\n", line);
}
