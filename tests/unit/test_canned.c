/*
 * test_canned.c - core/agents/canned.c: the variables of a canned response filled
 * for a conversation (spaces inside braces, unknown names left visible and
 * reported once, the localised fallback for a customer without a name)
 * and the checks that name the field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "agent_admin.h"

static char *render(const char *text, const struct canned_vars *v, json_t *missing)
{
    static char out[1024];
    struct sb_buf b;
    sb_buf_init(&b, sizeof(out) - 1);
    assert_int_equal(canned_render(text, v, &b, missing), SB_OK);
    snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
    sb_buf_cleanup(&b);
    return out;
}

static void test_variables_are_filled(void **state)
{
    struct canned_vars v = {"Maria", "Ana Agent", "c0ffee", "pt-BR"};
    json_t *missing = json_array();
    (void)state;
    assert_string_equal(
        render("Hi {{customer.name}}, I am {{ agent.name }} ({{conversation.id}}).", &v, missing),
        "Hi Maria, I am Ana Agent (c0ffee).");
    assert_int_equal(json_array_size(missing), 0);
    assert_string_equal(render("no variables", &v, missing), "no variables");
    assert_string_equal(render("", &v, missing), "");
    json_decref(missing);
}

static void test_unknown_variables_stay_visible_and_are_reported_once(void **state)
{
    struct canned_vars v = {"Bob", "Ann", "x1", "en"};
    json_t *missing = json_array();
    (void)state;
    assert_string_equal(
        render("{{order.id}} and {{ order.id }} and {{x}}; {{customer.name}}", &v, missing),
        "{{order.id}} and {{ order.id }} and {{x}}; Bob");
    assert_int_equal(json_array_size(missing), 2);
    assert_string_equal(json_string_value(json_array_get(missing, 0)), "order.id");
    assert_string_equal(json_string_value(json_array_get(missing, 1)), "x");
    /* an unclosed brace is text */
    assert_string_equal(render("a {{customer.name", &v, missing), "a {{customer.name");
    json_decref(missing);
}

static void test_nameless_customer_gets_the_fallback(void **state)
{
    struct canned_vars v = {NULL, "Ann", "x1", "cliente"};
    json_t *missing = json_array();
    (void)state;
    /* the words per locale are the catalogue's (test_words.c) */
    assert_string_equal(render("Olá {{customer.name}}", &v, missing), "Olá cliente");
    v.customer_fallback = "there";
    v.customer_name = "";
    assert_string_equal(render("Hi {{customer.name}}", &v, missing), "Hi there");
    assert_int_equal(json_array_size(missing), 0);
    /* no agent name: left visible and reported */
    v.agent_name = NULL;
    assert_string_equal(render("{{agent.name}}", &v, missing), "{{agent.name}}");
    assert_string_equal(json_string_value(json_array_get(missing, 0)), "agent.name");
    json_decref(missing);
}

static void test_render_is_bounded(void **state)
{
    struct canned_vars v = {"a very long customer name", "Ann", "x1", "en"};
    struct sb_buf b;
    (void)state;
    sb_buf_init(&b, 10);
    assert_int_equal(canned_render("Hi {{customer.name}}", &v, &b, NULL), SB_ERR_LIMIT);
    sb_buf_cleanup(&b);
}

static enum sb_err check(const char *json, char *msg, size_t cap)
{
    struct sb_errbuf eb = {{0}};
    json_t *in = json_loads(json, 0, NULL), *out = NULL;
    enum sb_err rc;
    assert_non_null(in);
    rc = canned_validate(in, NULL, &out, &eb);
    snprintf(msg, cap, "%s", eb.msg);
    json_decref(in);
    json_decref(out);
    return rc;
}

static void test_validation_names_the_field(void **state)
{
    char msg[256], big[5200];
    (void)state;
    assert_int_equal(check("{\"shortcut\":\"greet\",\"locale\":\"en\",\"title\":\"Hi\","
                           "\"text\":\"Hello {{customer.name}}\"}",
                           msg, sizeof(msg)),
                     SB_OK);
    assert_int_equal(
        check("{\"shortcut\":\"Greet!\",\"locale\":\"en\",\"title\":\"t\",\"text\":\"x\"}", msg,
              sizeof(msg)),
        SB_ERR_INVAL);
    assert_true(strncmp(msg, "shortcut:", 9) == 0);
    assert_int_equal(
        check("{\"shortcut\":\"a\",\"locale\":\"english\",\"title\":\"t\",\"text\":\"x\"}", msg,
              sizeof(msg)),
        SB_ERR_INVAL);
    assert_true(strncmp(msg, "locale:", 7) == 0);
    assert_int_equal(
        check("{\"shortcut\":\"a\",\"locale\":\"en\",\"text\":\"x\"}", msg, sizeof(msg)),
        SB_ERR_INVAL);
    assert_true(strncmp(msg, "title:", 6) == 0);
    snprintf(big, sizeof(big),
             "{\"shortcut\":\"a\",\"locale\":\"en\",\"title\":\"t\",\"text\":\"%04001d\"}", 0);
    assert_int_equal(check(big, msg, sizeof(msg)), SB_ERR_INVAL);
    assert_true(strncmp(msg, "text:", 5) == 0);
    /* 4000 characters of two bytes each are fine: characters, not bytes */
    {
        char text[8200] = "", *p = text;
        for (int i = 0; i < 4000; i++)
            p += snprintf(p, 3, "\xc3\xa9");
        json_t *in = json_pack("{s:s, s:s, s:s, s:s}", "shortcut", "e", "locale", "pt-BR", "title",
                               "t", "text", text),
               *out = NULL;
        struct sb_errbuf eb = {{0}};
        assert_int_equal(canned_validate(in, NULL, &out, &eb), SB_OK);
        json_decref(in);
        json_decref(out);
    }
    assert_int_equal(check("{\"shortcut\":\"a\",\"locale\":\"en\",\"title\":\"t\",\"text\":\"x\","
                           "\"team\":\"Not A Team\"}",
                           msg, sizeof(msg)),
                     SB_ERR_INVAL);
    assert_true(strncmp(msg, "team:", 5) == 0);
    assert_false(canned_shortcut_valid(""));
    assert_true(canned_shortcut_valid("refund-30"));
    assert_false(canned_shortcut_valid("0123456789012345678901234567890123456789x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variables_are_filled),
        cmocka_unit_test(test_unknown_variables_stay_visible_and_are_reported_once),
        cmocka_unit_test(test_nameless_customer_gets_the_fallback),
        cmocka_unit_test(test_render_is_bounded),
        cmocka_unit_test(test_validation_names_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
