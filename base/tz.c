/*
 * tz.c - TZif reader (RFC 8536, versions 1 to 3) and the POSIX TZ rule of
 * its footer (tz.h). Uses POSIX open/read for the files; nothing else.
 *
 * Version 2+ files carry the data twice, with 32-bit and then 64-bit
 * times; only the second is used when present, because 32-bit times end
 * in 2038. After the last transition the footer's rule
 * ("WET0WEST,M3.5.0/1,M10.5.0") gives the offset, so zones stay right
 * for instants the table does not list.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tz.h"

#define TZIF_MAX_BYTES (1 << 20)
#define MAX_ZONES 512 /* a cache bound: every IANA zone fits */
#define DAY_S 86400

/* ------- the civil calendar (H. Hinnant's algorithms) ------- */

int64_t sb_days_from_civil(int year, int month, int day)
{
    int64_t y = (int64_t)year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void sb_civil_from_days(int64_t days, int *year, int *month, int *day)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = (int)(yoe + era * 400 + (m <= 2));
    *month = m;
    *day = d;
}

int sb_weekday(int64_t days)
{
    return (int)(days >= -4 ? (days + 4) % 7 : (days + 5) % 7 + 6);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static bool leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* ------- zones ------- */

/* A date rule of the POSIX TZ string: Mm.w.d, Jn (1-365, no Feb 29) or n
 * (0-365), at time seconds of local time. */
struct tz_date {
    char kind; /* 'M', 'J' or 'n' */
    int m, w, d, n;
    int32_t time;
};

struct tz_rule {
    int32_t std_off, dst_off; /* seconds east of UTC */
    bool has_dst;
    struct tz_date start, end;
};

struct tz_type {
    int32_t off;
    bool dst;
};

struct sb_tz {
    char name[SB_TZ_NAME_MAX];
    int64_t *trans; /* seconds, ascending */
    uint8_t *idx;   /* type of each transition */
    int ntrans;
    struct tz_type *types;
    int ntypes;
    bool has_rule;
    struct tz_rule rule;
};

struct sb_tzdb {
    char *dir;
    struct sb_tz **zones;
    int nzones;
};

enum sb_err sb_tzdb_new(const char *dir, struct sb_tzdb **out)
{
    struct sb_tzdb *db = calloc(1, sizeof(*db));
    if (!db) return SB_ERR_NOMEM;
    db->dir = strdup(dir ? dir : SB_TZ_DEFAULT_DIR);
    db->zones = calloc(MAX_ZONES, sizeof(*db->zones));
    if (!db->dir || !db->zones) {
        sb_tzdb_free(db);
        return SB_ERR_NOMEM;
    }
    *out = db;
    return SB_OK;
}

static void zone_free(struct sb_tz *z)
{
    if (!z) return;
    free(z->trans);
    free(z->idx);
    free(z->types);
    free(z);
}

void sb_tzdb_free(struct sb_tzdb *db)
{
    if (!db) return;
    for (int i = 0; i < db->nzones; i++)
        zone_free(db->zones[i]);
    free(db->zones);
    free(db->dir);
    free(db);
}

const char *sb_tz_name(const struct sb_tz *z)
{
    return z->name;
}

/* Zone names are paths under the directory: letters, digits and "/_+-."
 * only, never absolute, never "..". */
static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= SB_TZ_NAME_MAX || name[0] == '/' || strstr(name, "..")) return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_+-.", *p)) return false;
    return true;
}

/* ------- the POSIX TZ string ------- */

static bool parse_name(const char **s)
{
    const char *p = *s;
    if (*p == '<') {
        while (*p && *p != '>')
            p++;
        if (*p != '>') return false;
        *s = p + 1;
        return true;
    }
    while (isalpha((unsigned char)*p))
        p++;
    if (p - *s < 3) return false;
    *s = p;
    return true;
}

/* [+-]hh[:mm[:ss]] into seconds; hours up to 167 (RFC 8536 extension). */
static bool parse_hms(const char **s, int32_t *out)
{
    const char *p = *s;
    int sign = 1;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*p)) return false;
    long h = strtol(p, (char **)&p, 10), m = 0, sec = 0;
    if (h > 167) return false;
    if (*p == ':') {
        p++;
        if (!isdigit((unsigned char)*p)) return false;
        m = strtol(p, (char **)&p, 10);
        if (*p == ':') {
            p++;
            if (!isdigit((unsigned char)*p)) return false;
            sec = strtol(p, (char **)&p, 10);
        }
    }
    if (m > 59 || sec > 59) return false;
    *out = (int32_t)(sign * (h * 3600 + m * 60 + sec));
    *s = p;
    return true;
}

static bool parse_date(const char **s, struct tz_date *d)
{
    const char *p = *s;
    memset(d, 0, sizeof(*d));
    d->time = 2 * 3600; /* POSIX default: 02:00 */
    if (*p == 'M') {
        d->kind = 'M';
        p++;
        d->m = (int)strtol(p, (char **)&p, 10);
        if (*p++ != '.') return false;
        d->w = (int)strtol(p, (char **)&p, 10);
        if (*p++ != '.') return false;
        d->d = (int)strtol(p, (char **)&p, 10);
        if (d->m < 1 || d->m > 12 || d->w < 1 || d->w > 5 || d->d < 0 || d->d > 6) return false;
    } else if (*p == 'J' || isdigit((unsigned char)*p)) {
        d->kind = *p == 'J' ? 'J' : 'n';
        if (*p == 'J') p++;
        if (!isdigit((unsigned char)*p)) return false;
        d->n = (int)strtol(p, (char **)&p, 10);
        if (d->n > 365 || (d->kind == 'J' && d->n < 1)) return false;
    } else {
        return false;
    }
    if (*p == '/' && (p++, !parse_hms(&p, &d->time))) return false;
    *s = p;
    return true;
}

/* "STDoff[DST[off][,start[/time],end[/time]]]"; false when it is not one
 * this reader understands (the zone then keeps its last table offset). */
static bool parse_rule(const char *s, struct tz_rule *r)
{
    int32_t off;
    memset(r, 0, sizeof(*r));
    if (!parse_name(&s) || !parse_hms(&s, &off)) return false;
    r->std_off = -off; /* POSIX offsets are west of UTC */
    if (!*s) return true;
    if (!parse_name(&s)) return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*s && *s != ',') {
        if (!parse_hms(&s, &off)) return false;
        r->dst_off = -off;
    }
    /* No dates: POSIX leaves the default to the implementation; the tz
     * project's is the US rule. */
    if (!*s) s = ",M3.2.0,M11.1.0";
    if (*s++ != ',' || !parse_date(&s, &r->start) || *s++ != ',' || !parse_date(&s, &r->end))
        return false;
    return *s == '\0';
}

/* Seconds since the epoch of local midnight (as if UTC) of d's day in y. */
static int64_t rule_day(int y, const struct tz_date *d)
{
    int64_t jan1 = sb_days_from_civil(y, 1, 1);
    if (d->kind == 'J') /* 1-365, February 29 never counted */
        return (jan1 + d->n - 1 + (leap_year(y) && d->n >= 60)) * DAY_S;
    if (d->kind == 'n') return (jan1 + d->n) * DAY_S;
    int64_t first = sb_days_from_civil(y, d->m, 1);
    int day = 1 + (d->d - sb_weekday(first) + 7) % 7 + 7 * (d->w - 1);
    while (day > month_days(y, d->m))
        day -= 7; /* week 5 = the last one */
    return (first + day - 1) * DAY_S;
}

static struct tz_type rule_type(const struct tz_rule *r, int64_t t)
{
    struct tz_type std = {r->std_off, false}, dst = {r->dst_off, true};
    if (!r->has_dst) return std;
    int y, m, d;
    sb_civil_from_days(floor_div(t + r->std_off, DAY_S), &y, &m, &d);
    /* The start is given in standard time, the end in daylight time. */
    int64_t start = rule_day(y, &r->start) + r->start.time - r->std_off;
    int64_t end = rule_day(y, &r->end) + r->end.time - r->dst_off;
    if (start < end) return t >= start && t < end ? dst : std;
    return t >= end && t < start ? std : dst; /* southern hemisphere */
}

static struct tz_type type_at(const struct sb_tz *z, int64_t t)
{
    if (z->ntrans == 0 || t < z->trans[0]) {
        if (z->ntrans == 0 && z->has_rule) return rule_type(&z->rule, t);
        return z->types[0];
    }
    if (t >= z->trans[z->ntrans - 1] && z->has_rule) return rule_type(&z->rule, t);
    int lo = 0, hi = z->ntrans - 1; /* the last transition at or before t */
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        if (z->trans[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return z->types[z->idx[lo]];
}

int32_t sb_tz_offset(const struct sb_tz *z, int64_t t_ms)
{
    return type_at(z, floor_div(t_ms, 1000)).off;
}

void sb_tz_local(const struct sb_tz *z, int64_t t_ms, struct sb_tm *out)
{
    struct tz_type ty = type_at(z, floor_div(t_ms, 1000));
    int64_t local = t_ms + (int64_t)ty.off * 1000;
    int64_t days = floor_div(local, (int64_t)DAY_S * 1000);
    int64_t ms = local - days * DAY_S * 1000;
    sb_civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(ms / 3600000);
    out->min = (int)(ms / 60000 % 60);
    out->sec = (int)(ms / 1000 % 60);
    out->ms = (int)(ms % 1000);
    out->wday = sb_weekday(days);
    out->yday = (int)(days - sb_days_from_civil(out->year, 1, 1));
    out->offset = ty.off;
    out->dst = ty.dst;
}

int64_t sb_tz_from_local(const struct sb_tz *z, int year, int month, int day, int64_t ms_of_day)
{
    int64_t local = sb_days_from_civil(year, month, day) * DAY_S * 1000 + ms_of_day;
    /* The offsets a day before and after: a wall time maps through one of
     * them (DST changes are months apart). */
    int64_t before = (int64_t)sb_tz_offset(z, local - (int64_t)DAY_S * 1000) * 1000;
    int64_t after = (int64_t)sb_tz_offset(z, local + (int64_t)DAY_S * 1000) * 1000;
    int64_t t1 = local - before, t2 = local - after;
    bool ok1 = (int64_t)sb_tz_offset(z, t1) * 1000 == before;
    bool ok2 = (int64_t)sb_tz_offset(z, t2) * 1000 == after;
    if (ok1 && ok2) return t1 < t2 ? t1 : t2; /* repeated: the first */
    if (ok2) return t2;
    return t1; /* valid, or skipped: with the offset before the change */
}

/* ------- reading TZif ------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chr;
};

static bool read_header(const unsigned char *p, size_t len, struct tzif_counts *c, int *version)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0) return false;
    *version = p[4] ? p[4] - '0' : 1;
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chr = be32(p + 40);
    /* Bounds that keep every size below computable without overflow. */
    return c->type >= 1 && c->type <= 256 && c->time <= 1000000 && c->leap <= 100000 &&
           c->chr <= 100000 && (c->isut == 0 || c->isut == c->type) &&
           (c->isstd == 0 || c->isstd == c->type);
}

static size_t block_size(const struct tzif_counts *c, size_t time_size)
{
    return c->time * time_size + c->time + c->type * 6 + c->chr + c->leap * (time_size + 4) +
           c->isstd + c->isut;
}

static enum sb_err parse_tzif(const unsigned char *buf, size_t len, struct sb_tz *z,
                              struct sb_errbuf *eb)
{
    struct tzif_counts c;
    int version;
    if (!read_header(buf, len, &c, &version))
        return sb_fail(eb, SB_ERR_INVAL, "%s: not a TZif file", z->name);
    size_t time_size = 4;
    const unsigned char *p = buf + 44, *end = buf + len;
    if (version >= 2) {
        /* Skip the 32-bit block and read the second header. */
        size_t skip = block_size(&c, 4);
        if ((size_t)(end - p) < skip ||
            !read_header(p + skip, (size_t)(end - p) - skip, &c, &version))
            return sb_fail(eb, SB_ERR_INVAL, "%s: truncated TZif file", z->name);
        p += skip + 44;
        time_size = 8;
    }
    if ((size_t)(end - p) < block_size(&c, time_size))
        return sb_fail(eb, SB_ERR_INVAL, "%s: truncated TZif file", z->name);
    z->ntrans = (int)c.time;
    z->ntypes = (int)c.type;
    z->trans = malloc((c.time + 1) * sizeof(*z->trans));
    z->idx = malloc(c.time + 1);
    z->types = malloc(c.type * sizeof(*z->types));
    if (!z->trans || !z->idx || !z->types) return SB_ERR_NOMEM;
    for (uint32_t i = 0; i < c.time; i++, p += time_size) {
        z->trans[i] = time_size == 8 ? be64(p) : (int32_t)be32(p);
        if (i && z->trans[i] <= z->trans[i - 1])
            return sb_fail(eb, SB_ERR_INVAL, "%s: transitions out of order", z->name);
    }
    for (uint32_t i = 0; i < c.time; i++, p++) {
        if (*p >= c.type) return sb_fail(eb, SB_ERR_INVAL, "%s: bad type index", z->name);
        z->idx[i] = *p;
    }
    for (uint32_t i = 0; i < c.type; i++, p += 6) {
        z->types[i].off = (int32_t)be32(p);
        z->types[i].dst = p[4] != 0;
        if (z->types[i].off <= -25 * 3600 || z->types[i].off >= 26 * 3600)
            return sb_fail(eb, SB_ERR_INVAL, "%s: bad UTC offset", z->name);
    }
    p += c.chr + c.leap * (time_size + 4) + c.isstd + c.isut;
    /* The footer: "\n<POSIX TZ string>\n". An empty or unknown one means
     * the last transition's type stays. */
    if (version >= 2 && p < end && *p == '\n') {
        const unsigned char *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
        char tzstr[128];
        if (nl && (size_t)(nl - p - 1) < sizeof(tzstr)) {
            memcpy(tzstr, p + 1, (size_t)(nl - p - 1));
            tzstr[nl - p - 1] = '\0';
            if (tzstr[0]) z->has_rule = parse_rule(tzstr, &z->rule);
        }
    }
    return SB_OK;
}

static enum sb_err load_zone(const char *dir, const char *name, struct sb_tz **out,
                             struct sb_errbuf *eb)
{
    char path[4096];
    unsigned char *buf = NULL;
    struct sb_tz *z = NULL;
    enum sb_err rc;
    struct stat st;
    int fd = -1;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return sb_fail(eb, SB_ERR_INVAL, "time zone name too long");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = sb_fail(eb, SB_ERR_NOT_FOUND, "unknown time zone \"%s\"", name);
        goto out;
    }
    if (st.st_size > TZIF_MAX_BYTES) {
        rc = sb_fail(eb, SB_ERR_INVAL, "%s: file too large for a time zone", name);
        goto out;
    }
    size_t len = (size_t)st.st_size, got = 0;
    rc = SB_ERR_NOMEM;
    if (!(buf = malloc(len + 1)) || !(z = calloc(1, sizeof(*z)))) goto out;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0) {
            rc = sb_fail(eb, SB_ERR_IO, "%s: read error", name);
            goto out;
        }
        got += (size_t)n;
    }
    snprintf(z->name, sizeof(z->name), "%s", name);
    rc = parse_tzif(buf, len, z, eb);
    if (rc == SB_OK) {
        *out = z;
        z = NULL;
    }
out:
    if (fd >= 0) close(fd);
    free(buf);
    zone_free(z);
    return rc;
}

enum sb_err sb_tz_get(struct sb_tzdb *db, const char *name, const struct sb_tz **out,
                      struct sb_errbuf *eb)
{
    if (!name || !name_ok(name)) return sb_fail(eb, SB_ERR_INVAL, "bad time zone name");
    for (int i = 0; i < db->nzones; i++)
        if (strcmp(db->zones[i]->name, name) == 0) {
            *out = db->zones[i];
            return SB_OK;
        }
    if (db->nzones == MAX_ZONES) return sb_fail(eb, SB_ERR_LIMIT, "too many time zones");
    struct sb_tz *z;
    enum sb_err rc = load_zone(db->dir, name, &z, eb);
    if (rc) return rc;
    db->zones[db->nzones++] = z;
    *out = z;
    return SB_OK;
}
