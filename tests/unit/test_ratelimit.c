/*
 * test_ratelimit.c - core/http/ratelimit.c: token buckets refill at their rate
 * and say when to retry; login lockouts start at the limit, double, cap at
 * 900 s, forgive after a quiet quarter hour, and clear on success.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "ratelimit.h"

static int setup(void **state)
{
    struct sb_limits *l;
    if (sb_limits_new(1024, &l)) return -1;
    *state = l;
    return 0;
}

static int teardown(void **state)
{
    sb_limits_free(*state);
    return 0;
}

static void test_bucket_allows_burst_then_refuses_then_refills(void **state)
{
    struct sb_limits *l = *state;
    int retry = 0;
    for (int i = 0; i < 5; i++)
        assert_true(sb_limits_take(l, "ip:a", 1.0, 5, 1000, &retry));
    assert_false(sb_limits_take(l, "ip:a", 1.0, 5, 1000, &retry));
    assert_int_equal(retry, 1);
    /* other keys are independent */
    assert_true(sb_limits_take(l, "ip:b", 1.0, 5, 1000, &retry));
    /* 1 token per second: after 2 s two more pass, the third does not */
    assert_true(sb_limits_take(l, "ip:a", 1.0, 5, 3000, &retry));
    assert_true(sb_limits_take(l, "ip:a", 1.0, 5, 3000, &retry));
    assert_false(sb_limits_take(l, "ip:a", 1.0, 5, 3000, &retry));
}

static void test_slow_rate_reports_a_longer_retry(void **state)
{
    struct sb_limits *l = *state;
    int retry = 0;
    assert_true(sb_limits_take(l, "v:x", 0.25, 1, 0, &retry));
    assert_false(sb_limits_take(l, "v:x", 0.25, 1, 0, &retry));
    assert_int_equal(retry, 4);
}

static void test_lockout_starts_at_the_limit_and_doubles(void **state)
{
    struct sb_limits *l = *state;
    int retry = 0;
    int64_t t = 1000000;
    for (int i = 0; i < 4; i++) {
        sb_limits_fail(l, "acct:a", 5, 30, t);
        assert_false(sb_limits_locked(l, "acct:a", t, &retry));
    }
    sb_limits_fail(l, "acct:a", 5, 30, t);
    assert_true(sb_limits_locked(l, "acct:a", t, &retry));
    assert_int_equal(retry, 30);
    assert_false(sb_limits_locked(l, "acct:a", t + 30000, &retry));
    sb_limits_fail(l, "acct:a", 5, 30, t + 30000);
    assert_true(sb_limits_locked(l, "acct:a", t + 30000, &retry));
    assert_int_equal(retry, 60);
    for (int i = 0; i < 20; i++)
        sb_limits_fail(l, "acct:a", 5, 30, t + 90000);
    assert_true(sb_limits_locked(l, "acct:a", t + 90000, &retry));
    assert_int_equal(retry, 900);
}

static void test_success_clears_and_quiet_time_forgives(void **state)
{
    struct sb_limits *l = *state;
    int retry = 0;
    for (int i = 0; i < 4; i++)
        sb_limits_fail(l, "acct:b", 5, 30, 0);
    sb_limits_clear(l, "acct:b");
    sb_limits_fail(l, "acct:b", 5, 30, 1000);
    assert_false(sb_limits_locked(l, "acct:b", 1000, &retry));
    for (int i = 0; i < 3; i++)
        sb_limits_fail(l, "acct:b", 5, 30, 2000);
    /* 4 failures, then 16 quiet minutes: the next failure counts as one */
    sb_limits_fail(l, "acct:b", 5, 30, 2000 + 16 * 60 * 1000);
    assert_false(sb_limits_locked(l, "acct:b", 2000 + 16 * 60 * 1000, &retry));
}

static void test_table_stays_bounded_under_many_keys(void **state)
{
    struct sb_limits *l = *state;
    int retry = 0;
    char key[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "ip:%d", i);
        assert_true(sb_limits_take(l, key, 1, 1, i, &retry));
    }
    /* a fresh lockout is still remembered after the flood */
    sb_limits_fail(l, "acct:c", 1, 30, 200000);
    assert_true(sb_limits_locked(l, "acct:c", 200000, &retry));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bucket_allows_burst_then_refuses_then_refills, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_slow_rate_reports_a_longer_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lockout_starts_at_the_limit_and_doubles, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_success_clears_and_quiet_time_forgives, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_table_stays_bounded_under_many_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
