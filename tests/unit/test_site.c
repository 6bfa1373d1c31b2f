/*
 * test_site.c - core/conv/site.c: site ids, origins (normalised, refused with
 * paths, other schemes, bad ports), whole sites with defaults filled in,
 * each error naming its field, and what browsers and staff get to see.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "site.h"

static void ids_are_lowercase_digits_and_dashes_up_to_40(void **state)
{
    char id41[42];
    (void)state;
    assert_true(site_id_valid("demo"));
    assert_true(site_id_valid("shop-2"));
    memset(id41, 'a', 41);
    id41[41] = '\0';
    assert_false(site_id_valid(id41));
    id41[40] = '\0';
    assert_true(site_id_valid(id41));
    assert_false(site_id_valid(""));
    assert_false(site_id_valid("Demo"));
    assert_false(site_id_valid("a_b"));
    assert_false(site_id_valid("../x"));
    assert_false(site_id_valid("a b"));
}

static void origins_are_normalised_or_refused(void **state)
{
    static const char *const bad[] = {
        "shop.example",
        "ftp://shop.example",
        "https://",
        "https://shop.example/",
        "https://shop.example/x",
        "https://shop.example:0",
        "https://shop.example:65536",
        "https://shop.example:",
        "https://shop.example:08",
        "https://user@shop.example",
        "https://sh op.example",
        "https://.example",
        "https://shop.example.",
        "https://shop.example?x",
        "null",
        "javascript://x",
    };
    char out[256];
    (void)state;

    assert_true(site_origin_normalise("HTTPS://Shop.Example:8443", out, sizeof(out)));
    assert_string_equal(out, "https://shop.example:8443");
    assert_true(site_origin_normalise("http://127.0.0.1:8080", out, sizeof(out)));
    assert_string_equal(out, "http://127.0.0.1:8080");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (site_origin_normalise(bad[i], out, sizeof(out))) fail_msg("accepted %s", bad[i]);
    }
    assert_true(site_origin_of_url("http://127.0.0.1:8080/help/x?y", out, sizeof(out)));
    assert_string_equal(out, "http://127.0.0.1:8080");
    assert_false(site_origin_of_url("/relative", out, sizeof(out)));
}

static json_t *validate(const char *text, const char *id, char *msg)
{
    struct sb_errbuf eb = {{0}};
    json_t *in = json_loads(text, 0, NULL), *out = NULL;
    assert_non_null(in);
    if (site_validate(in, id, "pt-br", &out, &eb) != SB_OK) {
        snprintf(msg, SB_ERRBUF_SIZE, "%s", eb.msg);
        out = NULL;
    }
    json_decref(in);
    return out;
}

static void a_minimal_site_gets_the_defaults(void **state)
{
    char msg[SB_ERRBUF_SIZE] = "";
    json_t *s =
        validate("{\"name\": \"Shop\", \"origins\": [\"https://Shop.example\"]}", "shop", msg);
    (void)state;
    assert_non_null(s);
    assert_string_equal(json_string_value(json_object_get(s, "id")), "shop");
    assert_string_equal(json_string_value(json_object_get(s, "title")), "Support");
    assert_string_equal(json_string_value(json_object_get(s, "color")), "#2457d6");
    assert_string_equal(json_string_value(json_object_get(s, "position")), "right");
    assert_string_equal(json_string_value(json_object_get(s, "locale")), "pt-BR");
    assert_string_equal(json_string_value(json_array_get(json_object_get(s, "origins"), 0)),
                        "https://shop.example");
    assert_true(json_is_object(json_object_get(s, "greeting")));
    assert_int_equal(json_array_size(json_object_get(s, "proactive")), 0);
    assert_null(json_object_get(s, "secret"));
    json_decref(s);
}

static void errors_name_the_field(void **state)
{
    static const struct {
        const char *json, *field;
    } cases[] = {
        {"[]", "the site"},
        {"{\"origins\": []}", "name:"},
        {"{\"name\": \"\", \"origins\": []}", "name:"},
        {"{\"name\": \"a\\u0001b\", \"origins\": []}", "name:"},
        {"{\"name\": \"N\"}", "origins:"},
        {"{\"name\": \"N\", \"origins\": [\"https://a.example\", 7]}", "origins[1]:"},
        {"{\"name\": \"N\", \"origins\": [\"https://a.example\", \"https://A.example\"]}",
         "origins[1]:"},
        {"{\"name\": \"N\", \"origins\": [], \"secret\": \"short\"}", "secret:"},
        {"{\"name\": \"N\", \"origins\": [], \"color\": \"#12345g\"}", "color:"},
        {"{\"name\": \"N\", \"origins\": [], \"position\": \"up\"}", "position:"},
        {"{\"name\": \"N\", \"origins\": [], \"locale\": \"x\"}", "locale:"},
        {"{\"name\": \"N\", \"origins\": [], \"greeting\": []}", "greeting:"},
        {"{\"name\": \"N\", \"origins\": [], \"greeting\": {\"en\": \"\"}}", "greeting.en:"},
        {"{\"name\": \"N\", \"origins\": [], \"proactive\": {}}", "proactive:"},
        {"{\"name\": \"N\", \"origins\": [], \"proactive\": [{\"url\": \"*\", \"after_s\": 3601,"
         " \"message\": {\"en\": \"m\"}}]}",
         "proactive[0].after_s:"},
        {"{\"name\": \"N\", \"origins\": [], \"proactive\": [{\"url\": \"\", \"after_s\": 3,"
         " \"message\": {\"en\": \"m\"}}]}",
         "proactive[0].url:"},
        {"{\"name\": \"N\", \"origins\": [], \"proactive\": [{\"url\": \"*\", \"after_s\": 3,"
         " \"message\": {\"en\": \"m\"}, \"when\": 1}]}",
         "proactive[0].when:"},
        {"{\"name\": \"N\", \"origins\": [], \"extra\": 1}", "extra:"},
        {"{\"id\": \"other\", \"name\": \"N\", \"origins\": []}", "id:"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char msg[SB_ERRBUF_SIZE] = "";
        json_t *s = validate(cases[i].json, "shop", msg);
        if (s) fail_msg("accepted %s", cases[i].json);
        if (strncmp(msg, cases[i].field, strlen(cases[i].field)) != 0)
            fail_msg("%s: message '%s' does not start with '%s'", cases[i].json, msg,
                     cases[i].field);
    }
}

static void public_view_has_no_secret_and_masked_view_hides_it(void **state)
{
    char msg[SB_ERRBUF_SIZE] = "";
    json_t *s = validate("{\"name\": \"N\", \"origins\": [], \"secret\":"
                         " \"0123456789abcdef0123456789abcdefWXYZ\"}",
                         "shop", msg);
    json_t *pub, *masked;
    (void)state;
    assert_non_null(s);
    pub = site_public_json(s);
    assert_null(json_object_get(pub, "secret"));
    assert_null(json_object_get(pub, "name"));
    assert_null(json_object_get(pub, "origins"));
    assert_int_equal(json_array_size(json_object_get(pub, "locales")), 4);
    masked = site_masked_json(s);
    assert_null(strstr(json_string_value(json_object_get(masked, "secret")), "0123"));
    assert_non_null(strstr(json_string_value(json_object_get(masked, "secret")), "WXYZ"));
    json_decref(pub);
    json_decref(masked);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ids_are_lowercase_digits_and_dashes_up_to_40),
        cmocka_unit_test(origins_are_normalised_or_refused),
        cmocka_unit_test(a_minimal_site_gets_the_defaults),
        cmocka_unit_test(errors_name_the_field),
        cmocka_unit_test(public_view_has_no_secret_and_masked_view_hides_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
