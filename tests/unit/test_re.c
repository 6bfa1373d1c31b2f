/*
 * test_re.c - base/re.c: regex flags from text, compile errors, the
 * compiled-pattern cache (hits, flags as part of the key, eviction),
 * captures and unset groups, UTF-8 caseless matching, the match limit
 * against catastrophic backtracking, and invalid subjects.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sb_re.h"

static int setup_cache(void **state)
{
    struct sb_re_cache *c = NULL;
    if (sb_re_cache_new(64, 10000, &c) != SB_OK) return -1;
    *state = c;
    return 0;
}

static int teardown_cache(void **state)
{
    sb_re_cache_free(*state);
    return 0;
}

/* ---- flags ---- */

static void flags_parses_each_letter(void **state)
{
    struct sb_errbuf eb = {{0}};
    uint32_t f = 0xFFFFFFFFu;
    (void)state;

    assert_int_equal(sb_re_flags("", &f, &eb), SB_OK);
    assert_int_equal(f, 0);
    assert_int_equal(sb_re_flags(NULL, &f, &eb), SB_OK);
    assert_int_equal(f, 0);
    assert_int_equal(sb_re_flags("i", &f, &eb), SB_OK);
    assert_int_equal(f, PCRE2_CASELESS);
    assert_int_equal(sb_re_flags("mx", &f, &eb), SB_OK);
    assert_int_equal(f, PCRE2_MULTILINE | PCRE2_EXTENDED);
    assert_int_equal(sb_re_flags("s", &f, &eb), SB_OK);
    assert_int_equal(f, PCRE2_DOTALL);
    assert_int_equal(sb_re_flags("imsx", &f, &eb), SB_OK);
    assert_int_equal(f, PCRE2_CASELESS | PCRE2_MULTILINE | PCRE2_DOTALL | PCRE2_EXTENDED);
    assert_int_equal(sb_re_flags("ii", &f, &eb), SB_OK);
    assert_int_equal(f, PCRE2_CASELESS);
}

static void flags_rejects_unknown_letter(void **state)
{
    struct sb_errbuf eb = {{0}};
    uint32_t f;
    (void)state;

    assert_int_equal(sb_re_flags("q", &f, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "'q'"));
    assert_int_equal(sb_re_flags("iq", &f, &eb), SB_ERR_INVAL);
    assert_int_equal(sb_re_flags("I", &f, &eb), SB_ERR_INVAL);
    assert_int_equal(sb_re_flags("g", &f, &eb), SB_ERR_INVAL);
}

/* ---- compile ---- */

static void compile_error_reports_message_and_offset(void **state)
{
    struct sb_re_cache *c = *state;
    struct sb_errbuf eb = {{0}};
    pcre2_code *code = NULL;

    assert_int_equal(sb_re_get(c, "(", 1, 0, &code, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "pattern error at 1"));
    assert_non_null(strstr(eb.msg, "missing closing parenthesis"));
    assert_int_equal(sb_re_get(c, "a[b", 3, 0, &code, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "pattern error"));
}

static void compile_error_through_search(void **state)
{
    struct sb_re_cache *c = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_re_match m;

    assert_int_equal(sb_re_search(c, "(", 0, "x", 1, &m, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "pattern error"));
}

static void pattern_longer_than_limit_is_refused(void **state)
{
    struct sb_re_cache *c = *state;
    struct sb_errbuf eb = {{0}};
    pcre2_code *code = NULL;
    static char big[SB_RE_MAX_PATTERN + 2];

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(sb_re_get(c, big, SB_RE_MAX_PATTERN + 1, 0, &code, &eb), SB_ERR_LIMIT);
    assert_int_equal(sb_re_get(c, big, SB_RE_MAX_PATTERN, 0, &code, &eb), SB_OK);
    assert_non_null(code);
}

/* ---- cache ---- */

static void cache_returns_same_code_for_same_pattern_and_flags(void **state)
{
    struct sb_re_cache *c = *state;
    struct sb_errbuf eb = {{0}};
    pcre2_code *a = NULL, *b = NULL, *ci = NULL, *other = NULL;

    assert_int_equal(sb_re_get(c, "order\\s+(\\d+)", 13, 0, &a, &eb), SB_OK);
    assert_int_equal(sb_re_get(c, "order\\s+(\\d+)", 13, 0, &b, &eb), SB_OK);
    assert_non_null(a);
    assert_ptr_equal(a, b);
    assert_int_equal(sb_re_get(c, "order\\s+(\\d+)", 13, PCRE2_CASELESS, &ci, &eb), SB_OK);
    assert_ptr_not_equal(a, ci);
    assert_int_equal(sb_re_get(c, "order\\s+(\\d+)", 13, PCRE2_CASELESS, &b, &eb), SB_OK);
    assert_ptr_equal(ci, b);
    /* A prefix of the pattern (same bytes, shorter len) is a different key. */
    assert_int_equal(sb_re_get(c, "order\\s+(\\d+)", 5, 0, &other, &eb), SB_OK);
    assert_ptr_not_equal(a, other);
}

static void cache_eviction_keeps_matching_correctly(void **state)
{
    struct sb_re_cache *c = NULL;
    struct sb_errbuf eb = {{0}};
    struct sb_re_match m;
    char pat[64], subj[64];
    (void)state;

    assert_int_equal(sb_re_cache_new(4, 10000, &c), SB_OK);
    for (int i = 0; i < 200; i++) {
        snprintf(pat, sizeof(pat), "^id-%d-(\\w+)$", i);
        snprintf(subj, sizeof(subj), "id-%d-x%d", i, i);
        assert_int_equal(sb_re_search(c, pat, 0, subj, strlen(subj), &m, &eb), SB_OK);
        assert_int_equal(m.ncap, 2);
        assert_int_equal(m.end[1] - m.start[1], strlen(subj) - m.start[1]);
        /* A pattern seen before (and maybe evicted) is still right. */
        snprintf(pat, sizeof(pat), "^id-%d-(\\w+)$", i / 2);
        assert_int_equal(sb_re_search(c, pat, 0, subj, strlen(subj), &m, &eb), SB_OK);
        assert_int_equal(m.ncap, i / 2 == i ? 2 : 0);
    }
    assert_int_equal(sb_re_search(c, "^id-7-(\\w+)$", 0, "id-7-z", 6, &m, &eb), SB_OK);
    assert_int_equal(m.ncap, 2);
    assert_int_equal(m.start[1], 5);
    sb_re_cache_free(c);
}

static void cache_with_zero_max_entries_still_works(void **state)
{
    struct sb_re_cache *c = NULL;
    struct sb_errbuf eb = {{0}};
    struct sb_re_match m;
    (void)state;

    assert_int_equal(sb_re_cache_new(0, 10000, &c), SB_OK);
    assert_int_equal(sb_re_search(c, "a", 0, "cat", 3, &m, &eb), SB_OK);
    assert_int_equal(m.ncap, 1);
    assert_int_equal(sb_re_search(c, "t$", 0, "cat", 3, &m, &eb), SB_OK);
    assert_int_equal(m.ncap, 1);
    assert_int_equal(m.start[0], 2);
    sb_re_cache_free(c);
    sb_re_cache_free(NULL);
}

/* ---- matching ---- */

static void exec_reports_captures_with_byte_offsets(void **state)
{
    struct sb_re_cache *c = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_re_match m;
    const char *s = "my order 12345 is late";

    assert_int_equal(sb_re_search(c, "order\\s+(\\d+)\\s+(is)", 0, s, strlen(s), &m, &eb), SB_OK);
    assert_int_equal(m.ncap, 3);
    assert_int_equal(m.start[0], 3);
    assert_int_equal(m.end[0], 17);
    assert_int_equal(m.start[1], 9);
    assert_int_equal(m.end[1], 14);
    assert_int_equal(m.start[2], 15);
    assert_int_equal(m.end[2], 17);
}

static void exec_no_match_is_ok_with_zero_captures(void **state)
{
    struct sb_re_cache *c = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_re_match m;

    m.ncap = 99;
    assert_int_equal(sb_re_search(c, "refund", 0, "where is my order", 17, &m, &eb), SB_OK);
    assert_int_equal(m.ncap, 0);
}

static void exec_marks_unset_groups_with_size_max(void **state)
{
    struct sb_re_cache *c = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_re_match m;

    assert_int_equal(sb_re_search(c, "(a)?(b)", 0, "xb", 2, &m, &eb), SB_OK);
    assert_int_equal(m.ncap, 3);
    assert_true(m.start[1] == SIZE_MAX);
    assert_true(m.end[1] == SIZE_MAX);
    assert_int_equal(m.start[2], 1);
    assert_int_equal(m.end[2], 2);

    assert_int_equal(sb_re_search(c, "(x)|(y)(z)?", 0, "y", 1, &m, &eb), SB_OK);
    assert_true(m.ncap >= 3);
    assert_true(m.start[1] == SIZE_MAX);
    assert_int_equal(m.start[2], 0);
}

static void exec_from_offset_skips_earlier_matches(void **state)
{
    struct sb_re_cache *c = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_re_match m;
    pcre2_code *code = NULL;
    const char *s = "a1 b2 c3";

    assert_int_equal(sb_re_get(c, "[a-z](\\d)", 9, 0, &code, &eb), SB_OK);
    assert_int_equal(sb_re_exec(c, code, s, strlen(s), 1, &m), SB_OK);
    assert_int_equal(m.ncap, 2);
    assert_int_equal(m.start[0], 3);
    assert_int_equal(sb_re_exec(c, code, s, strlen(s), 7, &m), SB_OK);
    assert_int_equal(m.ncap, 0);
    assert_int_equal(sb_re_exec(c, code, s, strlen(s), 100, &m), SB_ERR_INVAL);
}

static void caseless_flag_matches_non_ascii_letters(void **state)
{
    struct sb_re_cache *c = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_re_match m;
    const char *subject = "INFORMA\xC3\x87\xC3\x83O"; /* "INFORMAÇÃO" */

    assert_int_equal(
        sb_re_search(c, "\xC3\xA7\xC3\xA3o", PCRE2_CASELESS, subject, strlen(subject), &m, &eb),
        SB_OK);
    assert_int_equal(m.ncap, 1);
    assert_int_equal(m.start[0], 7);
    assert_int_equal(m.end[0], strlen(subject));
    /* Without the flag it does not match. */
    assert_int_equal(sb_re_search(c, "\xC3\xA7\xC3\xA3o", 0, subject, strlen(subject), &m, &eb),
                     SB_OK);
    assert_int_equal(m.ncap, 0);
}

static void patterns_are_unicode_aware(void **state)
{
    struct sb_re_cache *c = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_re_match m;
    const char *s = "pre\xC8\x9B"
                    "ul"; /* "preţul" with U+021B, 7 bytes */

    /* \w covers non-ASCII letters (UCP); . is one character, not one byte. */
    assert_int_equal(sb_re_search(c, "^\\w+$", 0, s, strlen(s), &m, &eb), SB_OK);
    assert_int_equal(m.ncap, 1);
    assert_int_equal(sb_re_search(c, "^pre.ul$", 0, s, strlen(s), &m, &eb), SB_OK);
    assert_int_equal(m.ncap, 1);
}

static void catastrophic_backtracking_hits_match_limit_quickly(void **state)
{
    struct sb_re_cache *c = *state; /* created with match_limit 10000 */
    struct sb_errbuf eb = {{0}};
    struct sb_re_match m;
    char subject[64];
    int64_t t0, elapsed;

    memset(subject, 'a', 30);
    subject[30] = 'b';
    subject[31] = '\0';
    t0 = sb_mono_ns();
    assert_int_equal(sb_re_search(c, "(a+)+$", 0, subject, 31, &m, &eb), SB_ERR_LIMIT);
    elapsed = sb_mono_ns() - t0;
    assert_true(elapsed < 1000000000LL);
    assert_int_equal(m.ncap, 0);
    /* The cache and match data stay usable afterwards. */
    assert_int_equal(sb_re_search(c, "(a+)+$", 0, "aaa", 3, &m, &eb), SB_OK);
    assert_int_equal(m.ncap, 2);
}

static void invalid_utf8_subject_is_rejected(void **state)
{
    struct sb_re_cache *c = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_re_match m;

    assert_int_equal(sb_re_search(c, "a", 0, "a\xC3", 2, &m, &eb), SB_ERR_INVAL);
    assert_int_equal(m.ncap, 0);
    assert_int_equal(sb_re_search(c, "a", 0,
                                  "\xFF"
                                  "a",
                                  2, &m, &eb),
                     SB_ERR_INVAL);
    assert_int_equal(sb_re_search(c, "a", 0,
                                  "\xED\xA0\x80"
                                  "a",
                                  4, &m, &eb),
                     SB_ERR_INVAL);
    assert_int_equal(sb_re_search(c, "a", 0,
                                  "\xC0\x80"
                                  "a",
                                  3, &m, &eb),
                     SB_ERR_INVAL);
}

static void invalid_utf8_pattern_is_a_compile_error(void **state)
{
    struct sb_re_cache *c = *state;
    struct sb_errbuf eb = {{0}};
    pcre2_code *code = NULL;

    assert_int_equal(sb_re_get(c, "ab\xFF", 3, 0, &code, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "pattern error"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flags_parses_each_letter),
        cmocka_unit_test(flags_rejects_unknown_letter),
        cmocka_unit_test_setup_teardown(compile_error_reports_message_and_offset, setup_cache,
                                        teardown_cache),
        cmocka_unit_test_setup_teardown(compile_error_through_search, setup_cache, teardown_cache),
        cmocka_unit_test_setup_teardown(pattern_longer_than_limit_is_refused, setup_cache,
                                        teardown_cache),
        cmocka_unit_test_setup_teardown(cache_returns_same_code_for_same_pattern_and_flags,
                                        setup_cache, teardown_cache),
        cmocka_unit_test(cache_eviction_keeps_matching_correctly),
        cmocka_unit_test(cache_with_zero_max_entries_still_works),
        cmocka_unit_test_setup_teardown(exec_reports_captures_with_byte_offsets, setup_cache,
                                        teardown_cache),
        cmocka_unit_test_setup_teardown(exec_no_match_is_ok_with_zero_captures, setup_cache,
                                        teardown_cache),
        cmocka_unit_test_setup_teardown(exec_marks_unset_groups_with_size_max, setup_cache,
                                        teardown_cache),
        cmocka_unit_test_setup_teardown(exec_from_offset_skips_earlier_matches, setup_cache,
                                        teardown_cache),
        cmocka_unit_test_setup_teardown(caseless_flag_matches_non_ascii_letters, setup_cache,
                                        teardown_cache),
        cmocka_unit_test_setup_teardown(patterns_are_unicode_aware, setup_cache, teardown_cache),
        cmocka_unit_test_setup_teardown(catastrophic_backtracking_hits_match_limit_quickly,
                                        setup_cache, teardown_cache),
        cmocka_unit_test_setup_teardown(invalid_utf8_subject_is_rejected, setup_cache,
                                        teardown_cache),
        cmocka_unit_test_setup_teardown(invalid_utf8_pattern_is_a_compile_error, setup_cache,
                                        teardown_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
