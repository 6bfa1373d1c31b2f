/*
 * tz.h - time zones from the system's TZif files (RFC 8536), so a team's
 * local time can be computed without setenv("TZ") and localtime(): the UTC
 * offset and broken-down local time for an instant, and the instant of a
 * local wall-clock time. Plus the civil-calendar helpers hours.c shares.
 *
 * Instants are milliseconds since the epoch (UTC); offsets are seconds
 * east of UTC. Leap seconds (the "right/" zones) are ignored.
 * Not thread-safe: one struct sb_tzdb per thread (the event loop's).
 */
#ifndef TZ_H
#define TZ_H

#include <stdbool.h>
#include <stdint.h>

#include "sb.h"

#define SB_TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define SB_TZ_NAME_MAX 128

struct sb_tzdb; /* a directory of zones and the ones loaded from it */
struct sb_tz;   /* one loaded zone, owned by its sb_tzdb */

struct sb_tm {
    int year, month, day; /* month 1-12, day 1-31 */
    int hour, min, sec, ms;
    int wday;       /* 0 = Sunday */
    int yday;       /* 0-365 */
    int32_t offset; /* seconds east of UTC */
    bool dst;
};

/* A zone cache over dir (borrowed, copied; NULL = SB_TZ_DEFAULT_DIR).
 * Free with sb_tzdb_free (NULL-safe), which frees every zone it gave. */
enum sb_err sb_tzdb_new(const char *dir, struct sb_tzdb **out);
void sb_tzdb_free(struct sb_tzdb *db);

/* The zone called name ("Europe/Lisbon", "UTC"), loaded on first use and
 * cached; *out is borrowed from db. SB_ERR_INVAL for a name that is empty,
 * absolute, contains "..", or has characters zone names never use;
 * SB_ERR_NOT_FOUND for no such file; SB_ERR_INVAL for a file that is not
 * TZif. eb (may be NULL) says which. */
enum sb_err sb_tz_get(struct sb_tzdb *db, const char *name, const struct sb_tz **out,
                      struct sb_errbuf *eb);

const char *sb_tz_name(const struct sb_tz *z);

/* Seconds east of UTC at instant t_ms: the transitions in the file, then
 * the footer's POSIX TZ rule after the last one. */
int32_t sb_tz_offset(const struct sb_tz *z, int64_t t_ms);

/* Local broken-down time at t_ms. */
void sb_tz_local(const struct sb_tz *z, int64_t t_ms, struct sb_tm *out);

/* The instant when local clocks in z show ms_of_day (0 .. 86,400,000) on
 * year-month-day. A time skipped by a DST change maps to the instant it
 * would be with the offset before the change (02:30 on a spring-forward
 * night in New York is 03:30 EDT); a repeated time maps to its first
 * occurrence. */
int64_t sb_tz_from_local(const struct sb_tz *z, int year, int month, int day, int64_t ms_of_day);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t sb_days_from_civil(int year, int month, int day);
void sb_civil_from_days(int64_t days, int *year, int *month, int *day);
/* 0 = Sunday. */
int sb_weekday(int64_t days);

#endif
