/*
 * test_tz.c - base/tz.c against the system's zoneinfo: offsets around the
 * 2026 DST changes in Lisbon and New York, fixed zones, the footer rule
 * far past the table, local -> UTC across gaps and overlaps, agreement with
 * glibc's localtime_r over many instants, and names or files that must be
 * refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tz.h"

#define S 1000LL /* ms per second */

static int setup(void **state)
{
    struct sb_tzdb *db;
    if (access(SB_TZ_DEFAULT_DIR "/Europe/Lisbon", R_OK) != 0) {
        print_message("no " SB_TZ_DEFAULT_DIR "/Europe/Lisbon: install tzdata\n");
        return -1;
    }
    if (sb_tzdb_new(NULL, &db)) return -1;
    *state = db;
    return 0;
}

static int teardown(void **state)
{
    sb_tzdb_free(*state);
    return 0;
}

static const struct sb_tz *zone(void **state, const char *name)
{
    const struct sb_tz *z = NULL;
    struct sb_errbuf eb = {""};
    assert_int_equal(sb_tz_get(*state, name, &z, &eb), SB_OK);
    assert_string_equal(sb_tz_name(z), name);
    return z;
}

static void test_lisbon_changes_at_01_utc_on_the_last_sundays(void **state)
{
    const struct sb_tz *z = zone(state, "Europe/Lisbon");
    assert_int_equal(sb_tz_offset(z, 1774745999 * S), 0); /* 2026-03-29 00:59:59Z */
    assert_int_equal(sb_tz_offset(z, 1774746000 * S), 3600);
    assert_int_equal(sb_tz_offset(z, 1792889999 * S), 3600); /* 2026-10-25 00:59:59Z */
    assert_int_equal(sb_tz_offset(z, 1792890000 * S), 0);
    struct sb_tm tm;
    sb_tz_local(z, 1774746000 * S, &tm); /* clocks jump to 02:00 WEST */
    assert_int_equal(tm.year, 2026);
    assert_int_equal(tm.month, 3);
    assert_int_equal(tm.day, 29);
    assert_int_equal(tm.hour, 2);
    assert_int_equal(tm.min, 0);
    assert_int_equal(tm.wday, 0);
    assert_true(tm.dst);
}

static void test_new_york_changes_at_02_local_on_the_us_sundays(void **state)
{
    const struct sb_tz *z = zone(state, "America/New_York");
    assert_int_equal(sb_tz_offset(z, 1772953199 * S), -18000); /* 2026-03-08 01:59:59 EST */
    assert_int_equal(sb_tz_offset(z, 1772953200 * S), -14400);
    assert_int_equal(sb_tz_offset(z, 1793512799 * S), -14400); /* 2026-11-01 01:59:59 EDT */
    assert_int_equal(sb_tz_offset(z, 1793512800 * S), -18000);
    struct sb_tm tm;
    sb_tz_local(z, 1793512800 * S, &tm); /* back to 01:00 EST */
    assert_int_equal(tm.hour, 1);
    assert_int_equal(tm.day, 1);
    assert_int_equal(tm.month, 11);
    assert_false(tm.dst);
}

static void test_fixed_zones(void **state)
{
    const struct sb_tz *k = zone(state, "Asia/Kolkata");
    assert_int_equal(sb_tz_offset(k, 1774746000 * S), 19800);
    assert_int_equal(sb_tz_offset(k, 4118126400 * S), 19800);
    struct sb_tm tm;
    sb_tz_local(k, 0, &tm);
    assert_int_equal(tm.year, 1970);
    assert_int_equal(tm.hour, 5);
    assert_int_equal(tm.min, 30);
    const struct sb_tz *u = zone(state, "UTC");
    assert_int_equal(sb_tz_offset(u, 1774746000 * S), 0);
    sb_tz_local(u, -1, &tm); /* one ms before the epoch */
    assert_int_equal(tm.year, 1969);
    assert_int_equal(tm.month, 12);
    assert_int_equal(tm.day, 31);
    assert_int_equal(tm.ms, 999);
    assert_int_equal(tm.wday, 3);
}

static void test_far_future_uses_the_footer_rule(void **state)
{
    const struct sb_tz *z = zone(state, "Europe/Lisbon");
    assert_int_equal(sb_tz_offset(z, 4109878799 * S), 0); /* 2100-03-28 00:59:59Z */
    assert_int_equal(sb_tz_offset(z, 4109878800 * S), 3600);
    assert_int_equal(sb_tz_offset(z, 4118126400 * S), 3600); /* 2100-07-01 */
    const struct sb_tz *ny = zone(state, "America/New_York");
    assert_int_equal(sb_tz_offset(ny, 4118126400 * S), -14400);
    assert_int_equal(sb_tz_offset(ny, 4102444800 * S), -18000); /* 2100-01-01 */
}

static void test_from_local_maps_gaps_forward_and_overlaps_to_the_first(void **state)
{
    const struct sb_tz *ny = zone(state, "America/New_York");
    /* 09:00 on an ordinary day */
    assert_int_equal(sb_tz_from_local(ny, 2026, 7, 1, 9 * 3600 * S), 1782910800 * S);
    /* 02:30 does not exist on 2026-03-08: 03:30 EDT = 07:30Z */
    assert_int_equal(sb_tz_from_local(ny, 2026, 3, 8, 9000 * S), 1772955000 * S);
    /* 01:30 happens twice on 2026-11-01: the EDT one, 05:30Z */
    assert_int_equal(sb_tz_from_local(ny, 2026, 11, 1, 5400 * S), 1793511000 * S);
    const struct sb_tz *li = zone(state, "Europe/Lisbon");
    assert_int_equal(sb_tz_from_local(li, 2026, 1, 15, 9 * 3600 * S), 1768467600 * S);
}

/* glibc reads the same files: both must agree on every instant. */
static void test_agrees_with_localtime_r(void **state)
{
    const char *zones[] = {"Europe/Lisbon",     "America/New_York", "Australia/Sydney",
                           "America/Sao_Paulo", "Europe/Bucharest", "Asia/Kolkata",
                           "Pacific/Chatham",   "Europe/Dublin"};
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < SB_ARRAY_LEN(zones); i++) {
        const struct sb_tz *z = zone(state, zones[i]);
        setenv("TZ", zones[i], 1);
        tzset();
        for (int k = 0; k < 3000; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            /* 1950 .. 2150 */
            time_t t = (time_t)(-631152000LL + (int64_t)(x % 6311520000ull));
            struct tm lt;
            localtime_r(&t, &lt);
            struct sb_tm mine;
            sb_tz_local(z, (int64_t)t * S, &mine);
            if (mine.offset != lt.tm_gmtoff || mine.hour != lt.tm_hour || mine.day != lt.tm_mday ||
                mine.wday != lt.tm_wday)
                fail_msg("%s at %lld: %d, glibc %ld", zones[i], (long long)t, mine.offset,
                         lt.tm_gmtoff);
        }
    }
    unsetenv("TZ");
}

static void test_unknown_and_hostile_names_are_refused(void **state)
{
    const struct sb_tz *z = NULL;
    struct sb_errbuf eb = {""};
    assert_int_equal(sb_tz_get(*state, "Mars/Olympus_Mons", &z, &eb), SB_ERR_NOT_FOUND);
    assert_non_null(strstr(eb.msg, "Mars/Olympus_Mons"));
    assert_int_equal(sb_tz_get(*state, "../../etc/passwd", &z, &eb), SB_ERR_INVAL);
    assert_int_equal(sb_tz_get(*state, "Europe/../../../etc/passwd", &z, &eb), SB_ERR_INVAL);
    assert_int_equal(sb_tz_get(*state, "/etc/localtime", &z, &eb), SB_ERR_INVAL);
    assert_int_equal(sb_tz_get(*state, "", &z, &eb), SB_ERR_INVAL);
    assert_int_equal(sb_tz_get(*state, "Europe/Lisbon\n", &z, &eb), SB_ERR_INVAL);
    assert_int_equal(sb_tz_get(*state, "Europe", &z, &eb), SB_ERR_NOT_FOUND); /* a directory */
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void test_files_that_are_not_tzif_are_refused(void **state)
{
    char dir[] = "/tmp/sb_tz_XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/Text", dir);
    write_file(path, "hello, not a zone\n", 18);
    /* a real zone cut short, and one with absurd counts */
    FILE *f = fopen(SB_TZ_DEFAULT_DIR "/Europe/Lisbon", "rb");
    assert_non_null(f);
    unsigned char buf[200];
    assert_int_equal(fread(buf, 1, sizeof(buf), f), sizeof(buf));
    fclose(f);
    snprintf(path, sizeof(path), "%s/Short", dir);
    write_file(path, buf, sizeof(buf));
    memset(buf + 32, 0xff, 4); /* timecnt = 4 billion */
    snprintf(path, sizeof(path), "%s/Huge", dir);
    write_file(path, buf, 44);

    struct sb_tzdb *db;
    const struct sb_tz *z;
    struct sb_errbuf eb;
    assert_int_equal(sb_tzdb_new(dir, &db), SB_OK);
    assert_int_equal(sb_tz_get(db, "Text", &z, &eb), SB_ERR_INVAL);
    assert_int_equal(sb_tz_get(db, "Short", &z, &eb), SB_ERR_INVAL);
    assert_int_equal(sb_tz_get(db, "Huge", &z, &eb), SB_ERR_INVAL);
    assert_int_equal(sb_tz_get(db, "Europe/Lisbon", &z, &eb), SB_ERR_NOT_FOUND);
    sb_tzdb_free(db);
    const char *names[] = {"Text", "Short", "Huge"};
    for (size_t i = 0; i < SB_ARRAY_LEN(names); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* A TZif v2 file with no transitions: only the footer's rule decides. */
static void write_footer_only_zone(const char *path, const char *rule)
{
    unsigned char buf[256];
    size_t n = 0;
    for (int part = 0; part < 2; part++) {
        memset(buf + n, 0, 44);
        memcpy(buf + n, "TZif2", 5);
        buf[n + 39] = 1; /* typecnt */
        buf[n + 43] = 4; /* charcnt */
        n += 44;
        const unsigned char type[6] = {0xff, 0xff, 0xd5, 0xd0, 0, 0}; /* -10800, std */
        memcpy(buf + n, type, 6);
        memcpy(buf + n + 6, "XXX", 4);
        n += 10;
    }
    n += (size_t)snprintf((char *)buf + n, sizeof(buf) - n, "\n%s\n", rule);
    write_file(path, buf, n);
}

/* Julian-day rules (Jn skips February 29, n counts it) and times past
 * 24:00, against glibc reading the same rule as a TZ string. */
static void test_footer_rules_agree_with_glibc(void **state)
{
    const char *rules[] = {"XXX3YYY,J60/2,300/2", "XXX3YYY,59/26,J365/-1",
                           "XXX3YYY2,M4.1.0/0,M9.5.6/167", "<-03>3<+01>-1,M10.1.0,M3.3.0/3"};
    char dir[] = "/tmp/sb_tzr_XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < SB_ARRAY_LEN(rules); i++) {
        struct sb_tzdb *db;
        const struct sb_tz *z;
        struct sb_errbuf eb;
        snprintf(path, sizeof(path), "%s/Rule", dir);
        write_footer_only_zone(path, rules[i]);
        assert_int_equal(sb_tzdb_new(dir, &db), SB_OK);
        assert_int_equal(sb_tz_get(db, "Rule", &z, &eb), SB_OK);
        setenv("TZ", rules[i], 1);
        tzset();
        for (time_t t = 1735689600; t < 1861920000; t += 1800) { /* 2025 .. 2028, a leap year */
            struct tm lt;
            localtime_r(&t, &lt);
            if (sb_tz_offset(z, (int64_t)t * S) != lt.tm_gmtoff)
                fail_msg("%s at %lld: %d, glibc %ld", rules[i], (long long)t,
                         sb_tz_offset(z, (int64_t)t * S), lt.tm_gmtoff);
        }
        sb_tzdb_free(db);
        unlink(path);
    }
    unsetenv("TZ");
    rmdir(dir);
}

static void test_zones_are_cached(void **state)
{
    const struct sb_tz *a = zone(state, "Europe/Lisbon"), *b = zone(state, "Europe/Lisbon");
    assert_ptr_equal(a, b);
}

static void test_civil_calendar_round_trips(void **state)
{
    for (int64_t d = -800000; d < 800000; d += 37) {
        int y, m, dd;
        sb_civil_from_days(d, &y, &m, &dd);
        assert_int_equal(sb_days_from_civil(y, m, dd), d);
    }
    assert_int_equal(sb_weekday(sb_days_from_civil(2026, 11, 30)), 1); /* a Monday */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lisbon_changes_at_01_utc_on_the_last_sundays),
        cmocka_unit_test(test_new_york_changes_at_02_local_on_the_us_sundays),
        cmocka_unit_test(test_fixed_zones),
        cmocka_unit_test(test_far_future_uses_the_footer_rule),
        cmocka_unit_test(test_from_local_maps_gaps_forward_and_overlaps_to_the_first),
        cmocka_unit_test(test_agrees_with_localtime_r),
        cmocka_unit_test(test_unknown_and_hostile_names_are_refused),
        cmocka_unit_test(test_files_that_are_not_tzif_are_refused),
        cmocka_unit_test(test_footer_rules_agree_with_glibc),
        cmocka_unit_test(test_zones_are_cached),
        cmocka_unit_test(test_civil_calendar_round_trips),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
