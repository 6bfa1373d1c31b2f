/*
 * hours.h - a team's business hours: weekly opening spans and holidays in
 * the team's time zone (docs/agents.md, "Teams"). Is the team open at an
 * instant, when does it next open, and business-time arithmetic for SLA
 * due times (only open time counts: nights, weekends, holidays and DST
 * changes are stepped over).
 *
 * Instants are milliseconds since the epoch (UTC).
 */
#ifndef HOURS_H
#define HOURS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "sb.h"
#include "tz.h"

#define SB_HOURS_SPANS_PER_DAY 8
#define SB_HOURS_MAX_HOLIDAYS 1000
/* next_open and add look this far ahead before they give up. */
#define SB_HOURS_SEARCH_DAYS 400

struct sb_hours;

/* Parses hours ({"mon": [["09:00","18:00"]], ..., "sun": []}: days
 * "mon".."sun", each a list of ["HH:MM","HH:MM"] spans, end after start,
 * "24:00" allowed as an end, spans of a day not overlapping; a missing day
 * is closed) and holidays (["2026-12-25", ...], dates in the team's zone,
 * closed all day). hours NULL or JSON null means open around the clock
 * (holidays still close). tz is borrowed and must outlive the result; NULL
 * means UTC. Both JSON values are borrowed.
 * SB_ERR_INVAL with eb naming the field, e.g.
 *   hours.mon[0]: "25:00" is not a time (HH:MM)
 * Free with sb_hours_free (NULL-safe). */
enum sb_err sb_hours_new(const json_t *hours, const json_t *holidays, const struct sb_tz *tz,
                         struct sb_hours **out, struct sb_errbuf *eb);
void sb_hours_free(struct sb_hours *h);

/* Open at instant t? */
bool sb_hours_is_open(const struct sb_hours *h, int64_t t);

/* The first instant >= t when the team is open (t itself when open) into
 * *out. SB_ERR_NOT_FOUND when it does not open within
 * SB_HOURS_SEARCH_DAYS (no spans at all, or every day a holiday). */
enum sb_err sb_hours_next_open(const struct sb_hours *h, int64_t t, int64_t *out);

/* The first instant >= t when an open period ends (the team closes) into
 * *out; SB_ERR_NOT_FOUND when it is open throughout the search window. */
enum sb_err sb_hours_next_close(const struct sb_hours *h, int64_t t, int64_t *out);

/* The instant when ms of open time have passed since start (for an SLA
 * due time): time while closed does not count, so starting while closed
 * counts from the next opening. ms <= 0 gives start. SB_ERR_NOT_FOUND when
 * the team stops opening within the search window; SB_ERR_LIMIT when the
 * answer would be more than ten years after start. */
enum sb_err sb_hours_add(const struct sb_hours *h, int64_t start, int64_t ms, int64_t *out);

#endif
