/*
 * test_password.c - core/auth/password.c: scrypt hashes carry their cost,
 * verify the right password only, and refuse malformed input; and
 * core/auth/password_policy.c: which new passwords are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "auth.h"

static void test_hash_verifies_only_the_right_password(void **state)
{
    char h[SB_PASSWORD_HASH_MAX];
    (void)state;
    assert_int_equal(sb_password_hash("correct horse", 10, h), SB_OK);
    assert_true(strncmp(h, "$scrypt$ln=10,r=8,p=1$", 22) == 0);
    assert_true(sb_password_verify("correct horse", h));
    assert_false(sb_password_verify("correct horsE", h));
    assert_false(sb_password_verify("", h));
    assert_false(sb_password_verify(NULL, h));
}

static void test_same_password_gets_a_different_salt(void **state)
{
    char a[SB_PASSWORD_HASH_MAX], b[SB_PASSWORD_HASH_MAX];
    (void)state;
    assert_int_equal(sb_password_hash("same", 10, a), SB_OK);
    assert_int_equal(sb_password_hash("same", 10, b), SB_OK);
    assert_string_not_equal(a, b);
    assert_true(sb_password_verify("same", a) && sb_password_verify("same", b));
}

static void test_cost_is_stored_and_can_be_raised(void **state)
{
    char h[SB_PASSWORD_HASH_MAX];
    (void)state;
    assert_int_equal(sb_password_hash("pw-12345", 10, h), SB_OK);
    assert_false(sb_password_needs_rehash(h, 10));
    assert_true(sb_password_needs_rehash(h, 11));
    /* a hash made at one cost still verifies when the default is higher */
    assert_true(sb_password_verify("pw-12345", h));
}

static void test_out_of_range_cost_is_refused(void **state)
{
    char h[SB_PASSWORD_HASH_MAX];
    (void)state;
    assert_int_equal(sb_password_hash("x", 9, h), SB_ERR_INVAL);
    assert_int_equal(sb_password_hash("x", 23, h), SB_ERR_INVAL);
}

static void test_malformed_hashes_never_match(void **state)
{
    static const char *const bad[] = {
        "",
        "plain",
        "$scrypt$",
        "$scrypt$ln=10,r=8,p=1$",
        "$scrypt$ln=10,r=8,p=1$00$00",
        "$scrypt$ln=40,r=8,p=1$000102030405060708090a0b0c0d0e0f$"
        "0000000000000000000000000000000000000000000000000000000000000000",
        "$scrypt$ln=10,r=8,p=1$zz0102030405060708090a0b0c0d0e0f$"
        "0000000000000000000000000000000000000000000000000000000000000000",
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(sb_password_verify("anything", bad[i]));
        assert_true(sb_password_needs_rehash(bad[i], 10));
    }
}

/* Regression (issue 14): "password" and "12345678" were accepted. */
static void test_short_and_common_passwords_are_refused(void **state)
{
    static const char *const weak[] = {
        "password",      "12345678",     "123456789",    "1234567890",  "password123",
        "Password2024!", "P@ssw0rd!!",   "qwertyuiop",   "QWERTYUIOP1", "iloveyou12",
        "letmein!!!",    "aaaaaaaaaaaa", "abababababab", "welcome2026", "!!!!2026!!!!",
        "switchboard1",  "changeme123",  "ãããã", /* four characters, eight bytes */
    };
    static const char *const fine[] = {
        "correct horse battery", "editor-pass-123",        "zebrafoil on Tuesdays",
        "N3w password!",         "Lisbon tram 28 at dawn", "ãããããããããã x",
    };
    char why[SB_PASSWORD_WHY];
    (void)state;
    for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
        why[0] = '\0';
        if (sb_password_acceptable(weak[i], why)) fail_msg("accepted \"%s\"", weak[i]);
        assert_true(strlen(why) > 10);
    }
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
        if (!sb_password_acceptable(fine[i], why)) fail_msg("refused \"%s\": %s", fine[i], why);
    assert_false(sb_password_acceptable("short pw", why));
    assert_non_null(strstr(why, "at least 10"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_verifies_only_the_right_password),
        cmocka_unit_test(test_same_password_gets_a_different_salt),
        cmocka_unit_test(test_cost_is_stored_and_can_be_raised),
        cmocka_unit_test(test_out_of_range_cost_is_refused),
        cmocka_unit_test(test_malformed_hashes_never_match),
        cmocka_unit_test(test_short_and_common_passwords_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
