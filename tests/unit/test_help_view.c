/*
 * test_help_view.c - the help center's signed page-view tokens (issue 14):
 * a token names one view of one article, a forged, altered, other
 * article's or stale one is refused; and the voter digest is one per
 * IPv4 address and per IPv6 /64.
 */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "help_view.h"

static const char KEY[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
#define NOW 1800000000

static void a_token_checks_out_for_its_article_only(void **state)
{
    char tok[HELP_VIEW_TOKEN_CAP], tok2[HELP_VIEW_TOKEN_CAP], view[HELP_VIEW_ID_CAP],
        view2[HELP_VIEW_ID_CAP];
    (void)state;

    assert_int_equal(help_view_make(KEY, 42, NOW, tok), SB_OK);
    assert_int_equal(help_view_check(KEY, tok, 42, NOW + 60, view), SB_OK);
    assert_int_equal(strncmp(view, "1800000000.", 11), 0);
    /* every page view is its own */
    assert_int_equal(help_view_make(KEY, 42, NOW, tok2), SB_OK);
    assert_int_equal(help_view_check(KEY, tok2, 42, NOW, view2), SB_OK);
    assert_string_not_equal(view, view2);
    /* another article, another key */
    assert_int_equal(help_view_check(KEY, tok, 43, NOW, view), SB_ERR_INVAL);
    assert_int_equal(help_view_check("other key", tok, 42, NOW, view), SB_ERR_INVAL);
}

static void forged_and_stale_tokens_are_refused(void **state)
{
    char tok[HELP_VIEW_TOKEN_CAP], bad[HELP_VIEW_TOKEN_CAP + 8], view[HELP_VIEW_ID_CAP];
    const char *junk[] = {"",
                          "x",
                          "1.2.3",
                          "..",
                          "1800000000.0123456789abcdef.",
                          "1800000000.0123456789abcdef.0123456789abcdef0123456789abcdef",
                          "-1.0123456789abcdef.0123456789abcdef0123456789abcdef",
                          "99999999999999999999.0123456789abcdef.0123456789abcdef0123456789abcdef"};
    (void)state;

    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        assert_int_equal(help_view_check(KEY, junk[i], 42, NOW, view), SB_ERR_INVAL);
    assert_int_equal(help_view_check(KEY, NULL, 42, NOW, view), SB_ERR_INVAL);
    assert_int_equal(help_view_make(KEY, 42, NOW, tok), SB_OK);
    /* a later issue time with the old MAC */
    snprintf(bad, sizeof(bad), "1900000000%s", tok + 10);
    assert_int_equal(help_view_check(KEY, bad, 42, 1900000000, view), SB_ERR_INVAL);
    /* one MAC digit changed */
    snprintf(bad, sizeof(bad), "%s", tok);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
    assert_int_equal(help_view_check(KEY, bad, 42, NOW, view), SB_ERR_INVAL);
    /* a day old, or from the future */
    assert_int_equal(help_view_check(KEY, tok, 42, NOW + HELP_VIEW_MAX_AGE_S + 1, view),
                     SB_ERR_TIMEOUT);
    assert_int_equal(help_view_check(KEY, tok, 42, NOW - 3600, view), SB_ERR_TIMEOUT);
}

static void one_voter_per_ipv4_address_and_ipv6_64(void **state)
{
    char a[HELP_VIEW_VOTER_CAP], b[HELP_VIEW_VOTER_CAP];
    (void)state;

    help_view_voter("203.0.113.9", a);
    help_view_voter("203.0.113.10", b);
    assert_string_not_equal(a, b);
    assert_int_equal(strlen(a), HELP_VIEW_VOTER_CAP - 1);
    help_view_voter("2001:db8:1:2::1", a);
    help_view_voter("2001:db8:1:2:ffff:ffff:ffff:ffff", b);
    assert_string_equal(a, b);
    help_view_voter("2001:db8:1:3::1", b);
    assert_string_not_equal(a, b);
    help_view_voter("unknown", a);
    help_view_voter("unknown", b);
    assert_string_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_token_checks_out_for_its_article_only),
        cmocka_unit_test(forged_and_stale_tokens_are_refused),
        cmocka_unit_test(one_voter_per_ipv4_address_and_ipv6_64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
