/*
 * test_hours.c - core/agents/hours.c: a Lisbon team open Mon-Fri 09:00-18:00
 * with Christmas off is open and closed when its clocks say so; next_open
 * on a Friday evening is Monday 09:00 local; business time skips nights,
 * weekends, holidays, and counts a DST day as the hours it really has;
 * parse errors name the field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "hours.h"

#define MIN 60000LL
#define HOUR (60 * MIN)

static const char *weekdays =
    "{\"mon\": [[\"09:00\",\"18:00\"]], \"tue\": [[\"09:00\",\"18:00\"]], "
    "\"wed\": [[\"09:00\",\"18:00\"]], \"thu\": [[\"09:00\",\"18:00\"]], "
    "\"fri\": [[\"09:00\",\"18:00\"]], \"sat\": [], \"sun\": []}";

struct env {
    struct sb_tzdb *db;
    const struct sb_tz *lisbon, *new_york;
};

static int setup(void **state)
{
    static struct env e;
    if (access(SB_TZ_DEFAULT_DIR "/Europe/Lisbon", R_OK) != 0) {
        print_message("no " SB_TZ_DEFAULT_DIR "/Europe/Lisbon: install tzdata\n");
        return -1;
    }
    if (sb_tzdb_new(NULL, &e.db) || sb_tz_get(e.db, "Europe/Lisbon", &e.lisbon, NULL) ||
        sb_tz_get(e.db, "America/New_York", &e.new_york, NULL))
        return -1;
    *state = &e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    sb_tzdb_free(e->db);
    return 0;
}

static struct sb_hours *hours(const char *hours_json, const char *holidays_json,
                              const struct sb_tz *tz)
{
    json_t *h = hours_json ? json_loads(hours_json, JSON_DECODE_ANY, NULL) : NULL;
    json_t *d = holidays_json ? json_loads(holidays_json, JSON_DECODE_ANY, NULL) : NULL;
    struct sb_hours *out = NULL;
    struct sb_errbuf eb = {""};
    if (sb_hours_new(h, d, tz, &out, &eb)) fail_msg("%s", eb.msg);
    json_decref(h);
    json_decref(d);
    return out;
}

static void test_open_on_weekdays_closed_on_weekends_and_holidays(void **state)
{
    struct env *e = *state;
    struct sb_hours *h = hours(weekdays, "[\"2026-12-25\"]", e->lisbon);
    assert_true(sb_hours_is_open(h, 1796032800000));  /* Mon 2026-11-30 10:00 */
    assert_false(sb_hours_is_open(h, 1796029140000)); /* Mon 08:59 */
    assert_false(sb_hours_is_open(h, 1796061600000)); /* Mon 18:00: the end is not open */
    assert_true(sb_hours_is_open(h, 1796061600000 - 1));
    assert_false(sb_hours_is_open(h, 1795867200000)); /* Sat 12:00 */
    assert_false(sb_hours_is_open(h, 1798192800000)); /* Fri 2026-12-25 10:00, holiday */
    assert_true(sb_hours_is_open(h, 1798106400000));  /* Thu 12-24 10:00 */
    int64_t t;
    assert_int_equal(sb_hours_next_close(h, 1796032800000, &t), SB_OK);
    assert_int_equal(t, 1796061600000);
    sb_hours_free(h);
}

static void test_next_open_on_friday_evening_is_monday_0900_local(void **state)
{
    struct env *e = *state;
    struct sb_hours *h = hours(weekdays, NULL, e->new_york);
    int64_t t;
    assert_int_equal(sb_hours_next_open(h, 1795824000000, &t), SB_OK); /* Fri 19:00 EST */
    assert_int_equal(t, 1796047200000);                                /* Mon 09:00 EST */
    /* open already: now */
    assert_int_equal(sb_hours_next_open(h, 1796047200000 + HOUR, &t), SB_OK);
    assert_int_equal(t, 1796047200000 + HOUR);
    sb_hours_free(h);
}

static void test_business_time_skips_nights_weekends_and_holidays(void **state)
{
    struct env *e = *state;
    struct sb_hours *h = hours(weekdays, "[\"2026-12-25\"]", e->lisbon);
    int64_t t;
    /* a night: Mon 17:55 + 10 min -> Tue 09:05 */
    assert_int_equal(sb_hours_add(h, 1796061300000, 10 * MIN, &t), SB_OK);
    assert_int_equal(t, 1796115900000);
    /* exactly to closing time stays at closing time */
    assert_int_equal(sb_hours_add(h, 1796061300000, 5 * MIN, &t), SB_OK);
    assert_int_equal(t, 1796061600000);
    /* a weekend: Fri 17:00 + 2 h -> Mon 10:00 */
    assert_int_equal(sb_hours_add(h, 1795798800000, 2 * HOUR, &t), SB_OK);
    assert_int_equal(t, 1796032800000);
    /* a holiday and a weekend: Thu 12-24 17:30 + 1 h -> Mon 12-28 09:30 */
    assert_int_equal(sb_hours_add(h, 1798133400000, HOUR, &t), SB_OK);
    assert_int_equal(t, 1798450200000);
    /* queued while closed: counts from the opening (Sat + 5 min -> Mon 09:05) */
    assert_int_equal(sb_hours_add(h, 1795867200000, 5 * MIN, &t), SB_OK);
    assert_int_equal(t, 1796032800000 - HOUR + 5 * MIN);
    /* a full week of open time is 45 hours */
    assert_int_equal(sb_hours_add(h, 1796032800000, 45 * HOUR, &t), SB_OK);
    assert_int_equal(t, 1796032800000 + 7 * 24 * HOUR);
    sb_hours_free(h);
}

static void test_business_time_across_dst_changes(void **state)
{
    struct env *e = *state;
    /* Lisbon springs forward on Sunday 2026-03-29: Fri 17:00 WET + 2 h is
     * Mon 10:00 WEST, 09:00Z */
    struct sb_hours *h = hours(weekdays, NULL, e->lisbon);
    int64_t t;
    assert_int_equal(sb_hours_add(h, 1774630800000, 2 * HOUR, &t), SB_OK);
    assert_int_equal(t, 1774861200000);
    sb_hours_free(h);
    /* New York's 2026-03-08 has 23 hours: a team open only on Sundays,
     * around the clock, has spent all of them by Monday 00:00 EDT */
    h = hours("{\"sun\": [[\"00:00\",\"24:00\"]]}", NULL, e->new_york);
    assert_int_equal(sb_hours_add(h, 1772946000000, 23 * HOUR, &t), SB_OK);
    assert_int_equal(t, 1773028800000);
    assert_false(sb_hours_is_open(h, 1773028800000));
    sb_hours_free(h);
    /* no hours: open around the clock, business time is elapsed time */
    h = hours(NULL, NULL, e->new_york);
    assert_int_equal(sb_hours_add(h, 1772946000000, 24 * HOUR, &t), SB_OK);
    assert_int_equal(t, 1773032400000); /* 2026-03-09 01:00 EDT */
    assert_true(sb_hours_is_open(h, 1772946000000));
    assert_int_equal(sb_hours_next_close(h, 1772946000000, &t), SB_ERR_NOT_FOUND);
    sb_hours_free(h);
}

/* add agrees with counting open minutes one by one, over a year of
 * starts (both DST changes, weekends, holidays) and spans of 0-3 days. */
static void test_business_time_agrees_with_counting_open_minutes(void **state)
{
    struct env *e = *state;
    struct sb_hours *h =
        hours("{\"mon\": [[\"09:00\",\"12:30\"], [\"13:30\",\"18:00\"]], "
              "\"tue\": [[\"09:00\",\"18:00\"]], \"wed\": [[\"00:00\",\"24:00\"]], "
              "\"thu\": [[\"00:00\",\"03:00\"], [\"22:00\",\"24:00\"]], "
              "\"fri\": [[\"09:00\",\"18:00\"]], \"sun\": [[\"01:00\",\"03:00\"]]}",
              "[\"2026-04-03\", \"2026-12-25\"]", e->lisbon);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int k = 0; k < 60; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t start = 1767225600000 + (int64_t)(x % 525600) * MIN; /* 2026, by minute */
        int64_t want = (int64_t)(x >> 32) % (3 * 24 * 60) * MIN, t;
        assert_int_equal(sb_hours_add(h, start, want, &t), SB_OK);
        int64_t cur = start, got = 0;
        while (got < want) {
            if (sb_hours_is_open(h, cur)) got += MIN;
            cur += MIN;
        }
        if (want) /* the due instant is the end of the last open minute */
            assert_int_equal(t, cur);
        else
            assert_int_equal(t, start);
    }
    sb_hours_free(h);
}

static void test_never_open_is_a_clear_answer(void **state)
{
    struct env *e = *state;
    struct sb_hours *h = hours("{}", NULL, e->lisbon);
    int64_t t = 0;
    assert_false(sb_hours_is_open(h, 1796032800000));
    assert_int_equal(sb_hours_next_open(h, 1796032800000, &t), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_hours_add(h, 1796032800000, MIN, &t), SB_ERR_NOT_FOUND);
    sb_hours_free(h);
}

static void expect_error(const char *hours_json, const char *holidays_json, const char *msg)
{
    json_t *h = hours_json ? json_loads(hours_json, JSON_DECODE_ANY, NULL) : NULL;
    json_t *d = holidays_json ? json_loads(holidays_json, JSON_DECODE_ANY, NULL) : NULL;
    struct sb_hours *out = NULL;
    struct sb_errbuf eb = {""};
    assert_int_equal(sb_hours_new(h, d, NULL, &out, &eb), SB_ERR_INVAL);
    assert_null(out);
    assert_string_equal(eb.msg, msg);
    json_decref(h);
    json_decref(d);
}

static void test_parse_errors_name_the_field(void **state)
{
    expect_error("{\"mon\": [[\"25:00\",\"26:00\"]]}", NULL,
                 "hours.mon[0]: \"25:00\" is not a time (HH:MM)");
    expect_error("{\"tue\": [[\"09:00\",\"18:00\"], [\"19:00\",\"9pm\"]]}", NULL,
                 "hours.tue[1]: \"9pm\" is not a time (HH:MM)");
    expect_error("{\"wed\": [[\"18:00\",\"09:00\"]]}", NULL,
                 "hours.wed[0]: ends before it starts (a span past midnight is two spans, one "
                 "on each day)");
    expect_error("{\"thu\": [[\"09:00\",\"13:00\"], [\"12:00\",\"18:00\"]]}", NULL,
                 "hours.thu: spans overlap");
    expect_error("{\"monday\": []}", NULL, "hours.monday: not a day (mon, tue, ... sun)");
    expect_error("{\"fri\": \"09:00-18:00\"}", NULL,
                 "hours.fri: not a list of [\"HH:MM\", \"HH:MM\"] spans");
    expect_error("{\"sat\": [[\"24:00\",\"24:00\"]]}", NULL,
                 "hours.sat[0]: \"24:00\" is not a time (HH:MM)");
    expect_error("[]", NULL, "hours: not an object of days (\"mon\" .. \"sun\")");
    expect_error(NULL, "[\"2026-12-25\", \"2026-02-30\"]",
                 "holidays[1]: \"2026-02-30\" is not a date (YYYY-MM-DD)");
    expect_error(NULL, "\"2026-12-25\"", "holidays: not a list of \"YYYY-MM-DD\" dates");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_on_weekdays_closed_on_weekends_and_holidays),
        cmocka_unit_test(test_next_open_on_friday_evening_is_monday_0900_local),
        cmocka_unit_test(test_business_time_skips_nights_weekends_and_holidays),
        cmocka_unit_test(test_business_time_across_dst_changes),
        cmocka_unit_test(test_business_time_agrees_with_counting_open_minutes),
        cmocka_unit_test(test_never_open_is_a_clear_answer),
        cmocka_unit_test(test_parse_errors_name_the_field),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
