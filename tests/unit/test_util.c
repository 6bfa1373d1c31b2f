/*
 * test_util.c - base/util.c: UTF-8 validation (overlongs, surrogates, range,
 * truncation, stray continuation bytes, NUL), the size-capped sb_buf,
 * random hex ids, SHA-256 hex, constant-time comparison, HMAC-SHA256
 * (RFC 4231) and locale tags.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "sb_util.h"

#define VALID(lit) assert_true(sb_utf8_valid((lit), sizeof(lit) - 1))
#define INVALID(lit) assert_false(sb_utf8_valid((lit), sizeof(lit) - 1))

/* ---- sb_utf8_valid ---- */

static void utf8_accepts_ascii_and_empty(void **state)
{
    (void)state;
    VALID("");
    VALID("hello, world 123 ~!@#$%^&*()");
    VALID("\x01\x7f");
}

static void utf8_accepts_two_three_and_four_byte_sequences(void **state)
{
    (void)state;
    VALID("\xC2\x80");          /* U+0080, smallest 2-byte */
    VALID("\xC3\xA7\xC3\xA3o"); /* "ção" */
    VALID("\xDF\xBF");          /* U+07FF */
    VALID("\xE0\xA0\x80");      /* U+0800, smallest 3-byte */
    VALID("\xE2\x82\xAC");      /* U+20AC euro sign */
    VALID("\xED\x9F\xBF");      /* U+D7FF, just below the surrogates */
    VALID("\xEE\x80\x80");      /* U+E000, just above the surrogates */
    VALID("\xEF\xBF\xBF");      /* U+FFFF */
    VALID("\xF0\x90\x80\x80");  /* U+10000, smallest 4-byte */
    VALID("\xF0\x9F\x98\x80");  /* U+1F600 emoji */
    VALID("\xF4\x8F\xBF\xBF");  /* U+10FFFF, the last code point */
    VALID("a\xC3\xA9z\xE2\x82\xAC!\xF0\x9F\x98\x80.");
}

static void utf8_rejects_overlong_encodings(void **state)
{
    (void)state;
    INVALID("\xC0\x80");         /* overlong NUL */
    INVALID("\xC1\xBF");         /* overlong U+007F */
    INVALID("\xE0\x80\x80");     /* overlong NUL, 3 bytes */
    INVALID("\xE0\x9F\xBF");     /* overlong U+07FF */
    INVALID("\xF0\x80\x80\x80"); /* overlong NUL, 4 bytes */
    INVALID("\xF0\x8F\xBF\xBF"); /* overlong U+FFFF */
}

static void utf8_rejects_surrogates(void **state)
{
    (void)state;
    INVALID("\xED\xA0\x80");             /* U+D800 */
    INVALID("\xED\xAF\xBF");             /* U+DBFF */
    INVALID("\xED\xB0\x80");             /* U+DC00 */
    INVALID("\xED\xBF\xBF");             /* U+DFFF */
    INVALID("\xED\xA0\xBD\xED\xB8\x80"); /* CESU-8 style surrogate pair */
}

static void utf8_rejects_code_points_above_10ffff(void **state)
{
    (void)state;
    INVALID("\xF4\x90\x80\x80"); /* U+110000 */
    INVALID("\xF5\x80\x80\x80");
    INVALID("\xF7\xBF\xBF\xBF");
    INVALID("\xF8\x88\x80\x80\x80"); /* old 5-byte form */
    INVALID("\xFC\x84\x80\x80\x80\x80");
    INVALID("\xFE");
    INVALID("\xFF");
}

static void utf8_rejects_sequences_truncated_at_end(void **state)
{
    (void)state;
    INVALID("\xC3");
    INVALID("abc\xC3");
    INVALID("\xE2\x82");
    INVALID("abc\xE2");
    INVALID("\xF0\x9F\x98");
    INVALID("ok\xF0\x9F");
    INVALID("ok\xF0");
    /* A valid sequence cut by len is rejected too. */
    assert_false(sb_utf8_valid("\xE2\x82\xAC", 2));
    assert_true(sb_utf8_valid("\xE2\x82\xAC", 3));
}

static void utf8_rejects_truncated_sequence_followed_by_ascii(void **state)
{
    (void)state;
    INVALID("\xC3"
            "a");
    INVALID("\xE2\x82"
            "a");
    INVALID("\xF0\x9F\x98"
            "a");
}

static void utf8_rejects_stray_continuation_bytes(void **state)
{
    (void)state;
    INVALID("\x80");
    INVALID("\xBF");
    INVALID("a\x80z");
    INVALID("\xC3\xA7\xA7"); /* one continuation too many */
    INVALID("\xE2\x82\xAC\x80");
}

static void utf8_rejects_embedded_nul(void **state)
{
    (void)state;
    INVALID("\0");
    INVALID("abc\0def");
    INVALID("\xC3\xA7\0");
    /* The length, not a NUL, ends the input. */
    assert_true(sb_utf8_valid("abc\0def", 3));
}

/* ---- sb_buf ---- */

static void buf_append_grows_and_keeps_nul_terminated(void **state)
{
    struct sb_buf b;
    char big[1000];
    (void)state;

    sb_buf_init(&b, 4096);
    assert_null(b.data);
    assert_int_equal(sb_buf_append(&b, "abc", 3), SB_OK);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");
    memset(big, 'x', sizeof(big));
    assert_int_equal(sb_buf_append(&b, big, sizeof(big)), SB_OK);
    assert_int_equal(b.len, 1003);
    assert_true(b.cap >= b.len + 1);
    assert_int_equal(b.data[1003], '\0');
    assert_memory_equal(b.data, "abcxxx", 6);
    sb_buf_cleanup(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void buf_append_empty_allocates_an_empty_string(void **state)
{
    struct sb_buf b;
    (void)state;

    sb_buf_init(&b, 16);
    assert_int_equal(sb_buf_append(&b, "", 0), SB_OK);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    sb_buf_cleanup(&b);
}

static void buf_append_up_to_limit_succeeds(void **state)
{
    struct sb_buf b;
    (void)state;

    sb_buf_init(&b, 10);
    assert_int_equal(sb_buf_append(&b, "0123456789", 10), SB_OK);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    sb_buf_cleanup(&b);
}

static void buf_append_past_limit_fails_and_leaves_content_intact(void **state)
{
    struct sb_buf b;
    (void)state;

    sb_buf_init(&b, 10);
    assert_int_equal(sb_buf_append(&b, "hello", 5), SB_OK);
    assert_int_equal(sb_buf_append(&b, "worlds", 6), SB_ERR_LIMIT);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "hello");
    /* A single append larger than the whole limit. */
    assert_int_equal(sb_buf_append(&b, "0123456789abcdef", 16), SB_ERR_LIMIT);
    assert_string_equal(b.data, "hello");
    /* SIZE_MAX must not wrap the check around. */
    assert_int_equal(sb_buf_append(&b, "x", SIZE_MAX), SB_ERR_LIMIT);
    assert_string_equal(b.data, "hello");
    /* Exactly filling the rest still works. */
    assert_int_equal(sb_buf_append(&b, "12345", 5), SB_OK);
    assert_string_equal(b.data, "hello12345");
    assert_int_equal(sb_buf_append(&b, "!", 1), SB_ERR_LIMIT);
    assert_string_equal(b.data, "hello12345");
    sb_buf_cleanup(&b);
}

static void buf_printf_formats_and_appends(void **state)
{
    struct sb_buf b;
    (void)state;

    sb_buf_init(&b, 1024);
    assert_int_equal(sb_buf_printf(&b, "%s=%d", "n", 42), SB_OK);
    assert_int_equal(sb_buf_printf(&b, ";%05.1f;%c", 3.14159, 'z'), SB_OK);
    assert_string_equal(b.data, "n=42;003.1;z");
    assert_int_equal(b.len, strlen("n=42;003.1;z"));
    assert_int_equal(sb_buf_printf(&b, "%s", ""), SB_OK);
    assert_string_equal(b.data, "n=42;003.1;z");
    sb_buf_cleanup(&b);
}

static void buf_printf_past_limit_fails_and_leaves_content_intact(void **state)
{
    struct sb_buf b;
    (void)state;

    sb_buf_init(&b, 8);
    assert_int_equal(sb_buf_printf(&b, "%d", 12345), SB_OK);
    assert_int_equal(sb_buf_printf(&b, "%s", "abcd"), SB_ERR_LIMIT);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "12345");
    assert_int_equal(sb_buf_printf(&b, "%s", "abc"), SB_OK);
    assert_string_equal(b.data, "12345abc");
    sb_buf_cleanup(&b);
}

static void buf_reset_empties_but_keeps_memory(void **state)
{
    struct sb_buf b;
    (void)state;

    sb_buf_init(&b, 64);
    assert_int_equal(sb_buf_append(&b, "data", 4), SB_OK);
    sb_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    assert_int_equal(sb_buf_append(&b, "again", 5), SB_OK);
    assert_string_equal(b.data, "again");
    sb_buf_cleanup(&b);
    /* reset and cleanup on a never-used buffer are harmless */
    sb_buf_init(&b, 64);
    sb_buf_reset(&b);
    sb_buf_cleanup(&b);
    assert_int_equal(b.limit, 64);
}

/* ---- random, hashing, comparison ---- */

static void random_hex_has_right_length_and_lowercase_hex_charset(void **state)
{
    char out[2 * 64 + 1];
    (void)state;

    for (size_t n = 0; n <= 64; n += 8) {
        memset(out, 'Z', sizeof(out));
        assert_int_equal(sb_random_hex(out, n), SB_OK);
        assert_int_equal(strlen(out), 2 * n);
        for (size_t i = 0; i < 2 * n; i++)
            assert_non_null(strchr("0123456789abcdef", out[i]));
    }
}

static void random_hex_two_calls_differ(void **state)
{
    char a[33], b[33];
    (void)state;

    assert_int_equal(sb_random_hex(a, 16), SB_OK);
    assert_int_equal(sb_random_hex(b, 16), SB_OK);
    assert_string_not_equal(a, b);
}

static void random_hex_rejects_more_than_64_bytes(void **state)
{
    char out[2 * 65 + 1];
    (void)state;
    assert_int_equal(sb_random_hex(out, 65), SB_ERR_INVAL);
}

static void sha256_hex_matches_known_vectors(void **state)
{
    char out[65];
    (void)state;

    sb_sha256_hex("abc", 3, out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sb_sha256_hex("", 0, out);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sb_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, out);
    assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    assert_int_equal(strlen(out), 64);
}

static void secure_equal_compares_exactly_len_bytes(void **state)
{
    (void)state;
    assert_true(sb_secure_equal("secret-token", "secret-token", 12));
    assert_false(sb_secure_equal("secret-token", "secret-tokem", 12));
    assert_false(sb_secure_equal("Xecret-token", "secret-token", 12));
    assert_true(sb_secure_equal("abcX", "abcY", 3));
    assert_true(sb_secure_equal("", "", 0));
}

/* RFC 4231, test cases 1-4, 6 and 7 (5 truncates the output). */
static void hmac_sha256_matches_rfc4231_vectors(void **state)
{
    unsigned char k20[20], d50[50], k25[25], k131[131];
    char out[65];
    (void)state;

    memset(k20, 0x0b, sizeof(k20));
    sb_hmac_sha256_hex(k20, sizeof(k20), "Hi There", 8, out);
    assert_string_equal(out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    sb_hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, out);
    assert_string_equal(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(k20, 0xaa, sizeof(k20));
    memset(d50, 0xdd, sizeof(d50));
    sb_hmac_sha256_hex(k20, sizeof(k20), d50, sizeof(d50), out);
    assert_string_equal(out, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    for (int i = 0; i < 25; i++)
        k25[i] = (unsigned char)(i + 1);
    memset(d50, 0xcd, sizeof(d50));
    sb_hmac_sha256_hex(k25, sizeof(k25), d50, sizeof(d50), out);
    assert_string_equal(out, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    /* keys longer than the block are hashed first */
    memset(k131, 0xaa, sizeof(k131));
    sb_hmac_sha256_hex(k131, sizeof(k131), "Test Using Larger Than Block-Size Key - Hash Key First",
                       54, out);
    assert_string_equal(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    {
        static const char data[] =
            "This is a test using a larger than block-size key and a larger than block-size "
            "data. The key needs to be hashed before being used by the HMAC algorithm.";
        sb_hmac_sha256_hex(k131, sizeof(k131), data, sizeof(data) - 1, out);
        assert_string_equal(out,
                            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
    }
}

static void locale_normalise_cases_and_refusals(void **state)
{
    char out[36];
    (void)state;

    assert_true(sb_locale_normalise("pt-br", out, sizeof(out)));
    assert_string_equal(out, "pt-BR");
    assert_true(sb_locale_normalise("EN", out, sizeof(out)));
    assert_string_equal(out, "en");
    assert_true(sb_locale_normalise("zh_Hant_tw", out, sizeof(out)));
    assert_string_equal(out, "zh-Hant-TW");
    assert_false(sb_locale_normalise("e", out, sizeof(out)));
    assert_false(sb_locale_normalise("english!", out, sizeof(out)));
    assert_false(sb_locale_normalise("1a", out, sizeof(out)));
    assert_false(sb_locale_normalise("pt--BR", out, sizeof(out)));
    assert_false(sb_locale_normalise("pt-BR", out, 5)); /* no room for the NUL */
}

/* "não" is n, 0xC3 0xA3, o: a cut at 2 would split the ã. */
static void utf8_cut_never_splits_a_character(void **state)
{
    const char *s = "n\xc3\xa3o";
    (void)state;
    assert_int_equal(sb_utf8_cut(s, 4, 10), 4); /* fits */
    assert_int_equal(sb_utf8_cut(s, 4, 4), 4);
    assert_int_equal(sb_utf8_cut(s, 4, 3), 3); /* "nã" */
    assert_int_equal(sb_utf8_cut(s, 4, 2), 1); /* "n", not half of ã */
    assert_int_equal(sb_utf8_cut(s, 4, 1), 1);
    assert_int_equal(sb_utf8_cut(s, 4, 0), 0);
    /* a four-byte emoji cut anywhere inside goes whole */
    assert_int_equal(sb_utf8_cut("a\xf0\x9f\x98\x80", 5, 4), 1);
}

static void utf8_copy_fits_the_buffer_and_stays_valid(void **state)
{
    char out[3];
    (void)state;
    sb_utf8_copy(out, sizeof(out), "n\xc3\xa3o");
    assert_string_equal(out, "n"); /* room for 2 bytes: "n" and half an ã would not do */
    sb_utf8_copy(out, sizeof(out), "ab");
    assert_string_equal(out, "ab");
    sb_utf8_copy(out, sizeof(out), NULL);
    assert_string_equal(out, "");
    sb_utf8_copy(out, 1, "abc");
    assert_string_equal(out, "");
}

static void parse_id_takes_positive_decimal_digits_only(void **state)
{
    static const char *const bad[] = {"",
                                      "0",
                                      "00",
                                      "-5",
                                      "+5",
                                      " 5",
                                      "5 ",
                                      "5a",
                                      "0x10",
                                      "1e3",
                                      "5.0",
                                      "٣",
                                      "1234567890123456789"};
    int64_t id = -1;
    (void)state;
    assert_true(sb_parse_id("42", &id));
    assert_int_equal(id, 42);
    assert_true(sb_parse_id("007", &id));
    assert_int_equal(id, 7);
    assert_true(sb_parse_id("999999999999999999", &id)); /* 18 digits */
    assert_int_equal(id, 999999999999999999LL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        id = -1;
        if (sb_parse_id(bad[i], &id)) fail_msg("'%s' was taken as id %lld", bad[i], (long long)id);
        assert_int_equal(id, -1); /* untouched */
    }
    assert_false(sb_parse_id(NULL, &id));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_accepts_ascii_and_empty),
        cmocka_unit_test(utf8_accepts_two_three_and_four_byte_sequences),
        cmocka_unit_test(utf8_rejects_overlong_encodings),
        cmocka_unit_test(utf8_rejects_surrogates),
        cmocka_unit_test(utf8_rejects_code_points_above_10ffff),
        cmocka_unit_test(utf8_rejects_sequences_truncated_at_end),
        cmocka_unit_test(utf8_rejects_truncated_sequence_followed_by_ascii),
        cmocka_unit_test(utf8_rejects_stray_continuation_bytes),
        cmocka_unit_test(utf8_rejects_embedded_nul),
        cmocka_unit_test(buf_append_grows_and_keeps_nul_terminated),
        cmocka_unit_test(buf_append_empty_allocates_an_empty_string),
        cmocka_unit_test(buf_append_up_to_limit_succeeds),
        cmocka_unit_test(buf_append_past_limit_fails_and_leaves_content_intact),
        cmocka_unit_test(buf_printf_formats_and_appends),
        cmocka_unit_test(buf_printf_past_limit_fails_and_leaves_content_intact),
        cmocka_unit_test(buf_reset_empties_but_keeps_memory),
        cmocka_unit_test(random_hex_has_right_length_and_lowercase_hex_charset),
        cmocka_unit_test(random_hex_two_calls_differ),
        cmocka_unit_test(random_hex_rejects_more_than_64_bytes),
        cmocka_unit_test(sha256_hex_matches_known_vectors),
        cmocka_unit_test(secure_equal_compares_exactly_len_bytes),
        cmocka_unit_test(hmac_sha256_matches_rfc4231_vectors),
        cmocka_unit_test(locale_normalise_cases_and_refusals),
        cmocka_unit_test(utf8_cut_never_splits_a_character),
        cmocka_unit_test(utf8_copy_fits_the_buffer_and_stays_valid),
        cmocka_unit_test(parse_id_takes_positive_decimal_digits_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
