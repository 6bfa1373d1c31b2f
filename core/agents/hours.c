/*
 * hours.c - business hours (hours.h). Uses jansson for the JSON form and
 * tz.c for local time.
 *
 * Everything is built on one question: the first open interval that ends
 * after t. A span is kept in local minutes and turned into instants for a
 * given local date when asked, so a span on a DST day is as long as the
 * clocks make it (09:00-18:00 is 9 hours of wall time, 00:00-24:00 on a
 * spring-forward day is 23 hours of open time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hours.h"

#define DAY_MS 86400000LL
#define TEN_YEARS_MS (3653 * DAY_MS)

struct span {
    int start_min, end_min; /* local minutes of the day, end <= 1440 */
};

struct sb_hours {
    const struct sb_tz *tz;                       /* NULL = UTC */
    struct span spans[7][SB_HOURS_SPANS_PER_DAY]; /* by weekday, 0 = Sunday */
    int nspans[7];
    int64_t *holidays; /* local day numbers, sorted */
    int nholidays;
};

static const char *const day_keys[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

void sb_hours_free(struct sb_hours *h)
{
    if (!h) return;
    free(h->holidays);
    free(h);
}

/* "HH:MM" into minutes; "24:00" only when end is set. -1 when not a time. */
static int parse_time(const char *s, bool end)
{
    if (strlen(s) != 5 || s[2] != ':') return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9')) return -1;
    int hh = (s[0] - '0') * 10 + (s[1] - '0'), mm = (s[3] - '0') * 10 + (s[4] - '0');
    if (mm > 59 || hh > 24 || (hh == 24 && (mm != 0 || !end))) return -1;
    return hh * 60 + mm;
}

/* "YYYY-MM-DD" into a day number; false when not a real date. */
static bool parse_date(const char *s, int64_t *out)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
    int y = (int)strtol(s, NULL, 10), m = (s[5] - '0') * 10 + (s[6] - '0'),
        d = (s[8] - '0') * 10 + (s[9] - '0');
    if (m < 1 || m > 12 || d < 1) return false;
    int y2, m2, d2;
    int64_t days = sb_days_from_civil(y, m, d);
    sb_civil_from_days(days, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d) return false; /* 2026-02-30 */
    *out = days;
    return true;
}

static int cmp_span(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    return (x->start_min > y->start_min) - (x->start_min < y->start_min);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static enum sb_err parse_day(struct sb_hours *h, int wday, const json_t *list, struct sb_errbuf *eb)
{
    const char *key = day_keys[wday];
    if (!json_is_array(list))
        return sb_fail(eb, SB_ERR_INVAL, "hours.%s: not a list of [\"HH:MM\", \"HH:MM\"] spans",
                       key);
    if (json_array_size(list) > SB_HOURS_SPANS_PER_DAY)
        return sb_fail(eb, SB_ERR_INVAL, "hours.%s: more than %d spans", key,
                       SB_HOURS_SPANS_PER_DAY);
    size_t i;
    const json_t *span;
    json_array_foreach(list, i, span)
    {
        const json_t *a = json_array_get(span, 0), *b = json_array_get(span, 1);
        if (!json_is_array(span) || json_array_size(span) != 2 || !json_is_string(a) ||
            !json_is_string(b))
            return sb_fail(eb, SB_ERR_INVAL, "hours.%s[%zu]: not a [\"HH:MM\", \"HH:MM\"] span",
                           key, i);
        int from = parse_time(json_string_value(a), false);
        int to = parse_time(json_string_value(b), true);
        if (from < 0)
            return sb_fail(eb, SB_ERR_INVAL, "hours.%s[%zu]: \"%.16s\" is not a time (HH:MM)", key,
                           i, json_string_value(a));
        if (to < 0)
            return sb_fail(eb, SB_ERR_INVAL, "hours.%s[%zu]: \"%.16s\" is not a time (HH:MM)", key,
                           i, json_string_value(b));
        if (to <= from)
            return sb_fail(eb, SB_ERR_INVAL,
                           "hours.%s[%zu]: ends before it starts (a span past midnight is "
                           "two spans, one on each day)",
                           key, i);
        h->spans[wday][i] = (struct span){from, to};
    }
    h->nspans[wday] = (int)json_array_size(list);
    qsort(h->spans[wday], (size_t)h->nspans[wday], sizeof(struct span), cmp_span);
    for (int k = 1; k < h->nspans[wday]; k++)
        if (h->spans[wday][k].start_min < h->spans[wday][k - 1].end_min)
            return sb_fail(eb, SB_ERR_INVAL, "hours.%s: spans overlap", key);
    return SB_OK;
}

static enum sb_err parse_holidays(struct sb_hours *h, const json_t *holidays, struct sb_errbuf *eb)
{
    if (!json_is_array(holidays))
        return sb_fail(eb, SB_ERR_INVAL, "holidays: not a list of \"YYYY-MM-DD\" dates");
    size_t n = json_array_size(holidays), i;
    if (n > SB_HOURS_MAX_HOLIDAYS)
        return sb_fail(eb, SB_ERR_INVAL, "holidays: more than %d dates", SB_HOURS_MAX_HOLIDAYS);
    if (n && !(h->holidays = malloc(n * sizeof(*h->holidays)))) return SB_ERR_NOMEM;
    const json_t *d;
    json_array_foreach(holidays, i, d)
    {
        if (!json_is_string(d) || !parse_date(json_string_value(d), &h->holidays[i]))
            return sb_fail(eb, SB_ERR_INVAL, "holidays[%zu]: \"%.16s\" is not a date (YYYY-MM-DD)",
                           i, json_is_string(d) ? json_string_value(d) : "");
    }
    h->nholidays = (int)n;
    if (n) qsort(h->holidays, n, sizeof(*h->holidays), cmp_i64); /* NULL when n is 0 */
    return SB_OK;
}

enum sb_err sb_hours_new(const json_t *hours, const json_t *holidays, const struct sb_tz *tz,
                         struct sb_hours **out, struct sb_errbuf *eb)
{
    struct sb_hours *h = calloc(1, sizeof(*h));
    enum sb_err rc = SB_OK;
    if (!h) return SB_ERR_NOMEM;
    h->tz = tz;
    if (!hours || json_is_null(hours)) {
        for (int d = 0; d < 7; d++) { /* around the clock */
            h->spans[d][0] = (struct span){0, 1440};
            h->nspans[d] = 1;
        }
    } else if (!json_is_object(hours)) {
        rc = sb_fail(eb, SB_ERR_INVAL, "hours: not an object of days (\"mon\" .. \"sun\")");
    } else {
        const char *key;
        const json_t *list;
        json_object_foreach((json_t *)hours, key, list)
        {
            int d = 0;
            while (d < 7 && strcmp(key, day_keys[d]) != 0)
                d++;
            if (d == 7) {
                rc = sb_fail(eb, SB_ERR_INVAL, "hours.%.16s: not a day (mon, tue, ... sun)", key);
                break;
            }
            if ((rc = parse_day(h, d, list, eb))) break;
        }
    }
    if (!rc && holidays && !json_is_null(holidays)) rc = parse_holidays(h, holidays, eb);
    if (rc) {
        sb_hours_free(h);
        return rc;
    }
    *out = h;
    return SB_OK;
}

/* ------- open intervals ------- */

static int64_t local_day(const struct sb_hours *h, int64_t t)
{
    int64_t off = h->tz ? (int64_t)sb_tz_offset(h->tz, t) * 1000 : 0;
    int64_t local = t + off;
    return local / DAY_MS - (local % DAY_MS < 0);
}

/* The instant of minute min (0-1440) of local day number day. */
static int64_t instant(const struct sb_hours *h, int64_t day, int min)
{
    if (min == 1440) {
        day++;
        min = 0;
    }
    if (!h->tz) return day * DAY_MS + (int64_t)min * 60000;
    int y, m, d;
    sb_civil_from_days(day, &y, &m, &d);
    return sb_tz_from_local(h->tz, y, m, d, (int64_t)min * 60000);
}

static bool holiday(const struct sb_hours *h, int64_t day)
{
    return h->nholidays &&
           bsearch(&day, h->holidays, (size_t)h->nholidays, sizeof(int64_t), cmp_i64);
}

/* The first open interval [*from, *to) with *to > t; with merge, joined
 * with the intervals that follow it without a gap (24:00 then 00:00 the
 * next day), up to SB_HOURS_SEARCH_DAYS. false when none starts within
 * SB_HOURS_SEARCH_DAYS. */
static bool open_interval(const struct sb_hours *h, int64_t t, bool merge, int64_t *from,
                          int64_t *to)
{
    int64_t first = local_day(h, t) - 1; /* a span of yesterday may still run */
    bool found = false;
    for (int64_t day = first; day <= first + SB_HOURS_SEARCH_DAYS + 1; day++) {
        if (holiday(h, day)) {
            if (found) return true;
            continue;
        }
        int wd = sb_weekday(day);
        for (int i = 0; i < h->nspans[wd]; i++) {
            int64_t a = instant(h, day, h->spans[wd][i].start_min);
            int64_t b = instant(h, day, h->spans[wd][i].end_min);
            if (b <= t || b <= a) continue;
            if (!found) {
                *from = a;
                *to = b;
                found = true;
                if (!merge) return true;
            } else if (a <= *to) {
                if (b > *to) *to = b; /* continues without a gap */
            } else {
                return true;
            }
        }
        /* An interval that ends before the next midnight cannot join
         * tomorrow's. */
        if (found && *to < instant(h, day, 1440)) return true;
    }
    return found;
}

bool sb_hours_is_open(const struct sb_hours *h, int64_t t)
{
    int64_t from, to;
    return open_interval(h, t, false, &from, &to) && from <= t;
}

enum sb_err sb_hours_next_open(const struct sb_hours *h, int64_t t, int64_t *out)
{
    int64_t from, to;
    if (!open_interval(h, t, false, &from, &to)) return SB_ERR_NOT_FOUND;
    *out = from > t ? from : t;
    return SB_OK;
}

enum sb_err sb_hours_next_close(const struct sb_hours *h, int64_t t, int64_t *out)
{
    int64_t from, to;
    if (!open_interval(h, t, true, &from, &to)) return SB_ERR_NOT_FOUND;
    if (from > t) {
        *out = t; /* closed now */
        return SB_OK;
    }
    if (to - t > (int64_t)SB_HOURS_SEARCH_DAYS * DAY_MS) return SB_ERR_NOT_FOUND;
    *out = to;
    return SB_OK;
}

enum sb_err sb_hours_add(const struct sb_hours *h, int64_t start, int64_t ms, int64_t *out)
{
    int64_t cur = start, left = ms;
    while (left > 0) {
        int64_t from, to;
        if (cur - start > TEN_YEARS_MS) return SB_ERR_LIMIT;
        if (!open_interval(h, cur, false, &from, &to)) return SB_ERR_NOT_FOUND;
        if (from > cur) cur = from;
        if (to - cur >= left) {
            cur += left;
            break;
        }
        left -= to - cur;
        cur = to;
    }
    if (cur - start > TEN_YEARS_MS) return SB_ERR_LIMIT;
    *out = cur;
    return SB_OK;
}
