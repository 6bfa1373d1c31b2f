/*
 * test_sla.c - core/agents/sla.c: which policy applies (explicit for the
 * priority, else halved per level from the closest lower one, else the
 * defaults), due and warning instants in business time (the contract's
 * chat queued at 17:55 with a 10-minute target), and the state at t.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <unistd.h>

#include "sla.h"

#define MIN 60000LL

static void test_defaults_and_halving_per_priority_level(void **state)
{
    struct sb_sla_targets t;
    assert_int_equal(sb_sla_targets_for(NULL, 0, "web", 0, &t), SB_OK);
    assert_int_equal(t.ms[SB_SLA_FIRST_RESPONSE], 5 * MIN);
    assert_int_equal(t.ms[SB_SLA_NEXT_RESPONSE], 15 * MIN);
    assert_int_equal(t.ms[SB_SLA_RESOLUTION], 24 * 60 * MIN);
    assert_int_equal(sb_sla_targets_for(NULL, 0, "web", 1, &t), SB_OK);
    assert_int_equal(t.ms[SB_SLA_FIRST_RESPONSE], 150000);
    assert_int_equal(t.ms[SB_SLA_RESOLUTION], 12 * 60 * MIN);
    assert_int_equal(sb_sla_targets_for(NULL, 0, "web", 2, &t), SB_OK);
    assert_int_equal(t.ms[SB_SLA_FIRST_RESPONSE], 75000); /* 75 s, not rounded to minutes */
    assert_int_equal(sb_sla_targets_for(NULL, 0, "web", -1, &t), SB_ERR_INVAL);
}

static void test_explicit_policies_win_and_the_channel_before_star(void **state)
{
    struct sb_sla_policy p[] = {
        {"*", 0, {10, 30, 2880}},        {"email", 0, {60, 240, SB_SLA_NONE}},
        {"*", 1, {3, SB_SLA_NONE, 600}}, {"*", 2, {1, 2, 3}},
        {"email", 1, {20, 40, 80}},
    };
    struct sb_sla_targets t;
    assert_int_equal(sb_sla_targets_for(p, 5, "web", 0, &t), SB_OK);
    assert_int_equal(t.ms[SB_SLA_FIRST_RESPONSE], 10 * MIN);
    assert_int_equal(sb_sla_targets_for(p, 5, "email", 0, &t), SB_OK);
    assert_int_equal(t.ms[SB_SLA_FIRST_RESPONSE], 60 * MIN);
    assert_int_equal(t.ms[SB_SLA_RESOLUTION], -1); /* null: no target */
    /* explicit for priority 1: not halved */
    assert_int_equal(sb_sla_targets_for(p, 5, "web", 1, &t), SB_OK);
    assert_int_equal(t.ms[SB_SLA_FIRST_RESPONSE], 3 * MIN);
    assert_int_equal(t.ms[SB_SLA_NEXT_RESPONSE], -1);
    assert_int_equal(sb_sla_targets_for(p, 5, "email", 1, &t), SB_OK);
    assert_int_equal(t.ms[SB_SLA_FIRST_RESPONSE], 20 * MIN);
    /* "*" for priority 2 is explicit: it beats email's priority-1 policy halved */
    assert_int_equal(sb_sla_targets_for(p, 5, "email", 2, &t), SB_OK);
    assert_int_equal(t.ms[SB_SLA_FIRST_RESPONSE], 1 * MIN);
    /* priority 3: halved once from priority 2 */
    assert_int_equal(sb_sla_targets_for(p, 5, "web", 3, &t), SB_OK);
    assert_int_equal(t.ms[SB_SLA_FIRST_RESPONSE], 30000);
    /* only a priority-0 policy: priority 2 gets a quarter of it */
    assert_int_equal(sb_sla_targets_for(p, 2, "email", 2, &t), SB_OK);
    assert_int_equal(t.ms[SB_SLA_FIRST_RESPONSE], 15 * MIN);
    assert_int_equal(t.ms[SB_SLA_NEXT_RESPONSE], 60 * MIN);
    assert_int_equal(t.ms[SB_SLA_RESOLUTION], -1);
}

static void test_due_and_warning_in_calendar_time_without_hours(void **state)
{
    int64_t warn, due;
    assert_int_equal(sb_sla_deadline(NULL, 1000, 10 * MIN, 0.8, &warn, &due), SB_OK);
    assert_int_equal(warn, 1000 + 8 * MIN);
    assert_int_equal(due, 1000 + 10 * MIN);
    assert_int_equal(sb_sla_deadline(NULL, 1000, -1, 0.8, &warn, &due), SB_ERR_INVAL);
    assert_int_equal(sb_sla_deadline(NULL, 1000, MIN, 1.5, &warn, &due), SB_ERR_INVAL);
    assert_int_equal(sb_sla_deadline(NULL, 1000, MIN, 0, &warn, &due), SB_ERR_INVAL);
}

static void test_due_counts_business_time_of_the_team(void **state)
{
    if (access(SB_TZ_DEFAULT_DIR "/Europe/Lisbon", R_OK) != 0) {
        print_message("no " SB_TZ_DEFAULT_DIR "/Europe/Lisbon: install tzdata\n");
        skip();
    }
    struct sb_tzdb *db;
    const struct sb_tz *lisbon;
    struct sb_hours *h;
    assert_int_equal(sb_tzdb_new(NULL, &db), SB_OK);
    assert_int_equal(sb_tz_get(db, "Europe/Lisbon", &lisbon, NULL), SB_OK);
    json_t *hours =
        json_loads("{\"mon\": [[\"09:00\",\"18:00\"]], \"tue\": [[\"09:00\",\"18:00\"]]}", 0, NULL);
    assert_int_equal(sb_hours_new(hours, NULL, lisbon, &h, NULL), SB_OK);
    json_decref(hours);
    /* queued Mon 2026-11-30 17:55, a 10-minute first response: 5 minutes
     * count today, the rest after Tuesday's opening; the warning at 8
     * minutes of business time is Tue 09:03 */
    int64_t start = 1796061300000, tue0900 = 1796115600000, warn, due;
    assert_int_equal(sb_sla_deadline(h, start, 10 * MIN, SB_SLA_WARN_RATIO, &warn, &due), SB_OK);
    assert_int_equal(warn, tue0900 + 3 * MIN);
    assert_int_equal(due, tue0900 + 5 * MIN);
    /* within the day */
    assert_int_equal(sb_sla_deadline(h, start - 2 * 60 * MIN, 10 * MIN, 0.8, &warn, &due), SB_OK);
    assert_int_equal(warn, start - 2 * 60 * MIN + 8 * MIN);
    assert_int_equal(due, start - 2 * 60 * MIN + 10 * MIN);
    sb_hours_free(h);
    sb_tzdb_free(db);
}

static void test_state_at_t(void **state)
{
    int64_t warn = 800, due = 1000;
    assert_int_equal(sb_sla_state_at(warn, due, 0, 799), SB_SLA_OK);
    assert_int_equal(sb_sla_state_at(warn, due, 0, 800), SB_SLA_WARNING);
    assert_int_equal(sb_sla_state_at(warn, due, 0, 999), SB_SLA_WARNING);
    assert_int_equal(sb_sla_state_at(warn, due, 0, 1000), SB_SLA_BREACHED);
    /* met in time: ok from then on, even past the due time */
    assert_int_equal(sb_sla_state_at(warn, due, 900, 5000), SB_SLA_OK);
    /* met late: it was breached */
    assert_int_equal(sb_sla_state_at(warn, due, 1200, 5000), SB_SLA_BREACHED);
    /* a met time in the future of t does not count yet */
    assert_int_equal(sb_sla_state_at(warn, due, 900, 850), SB_SLA_WARNING);
    /* no target */
    assert_int_equal(sb_sla_state_at(0, 0, 0, 5000), SB_SLA_OK);
    assert_string_equal(sb_sla_state_name(SB_SLA_WARNING), "warning");
    assert_string_equal(sb_sla_kind_name(SB_SLA_NEXT_RESPONSE), "next_response");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_halving_per_priority_level),
        cmocka_unit_test(test_explicit_policies_win_and_the_channel_before_star),
        cmocka_unit_test(test_due_and_warning_in_calendar_time_without_hours),
        cmocka_unit_test(test_due_counts_business_time_of_the_team),
        cmocka_unit_test(test_state_at_t),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
