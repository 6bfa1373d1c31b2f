/*
 * test_reply_window.c - core/api/reply_window.c: a template's text with its
 * positional parameters filled in, and the send the channel gets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "reply_window.h"

/* As reply_window_templates() lists them: params is how many the text takes. */
static json_t *templates(void)
{
    return json_pack("[{s:s, s:s, s:s, s:i}, {s:s, s:s, s:s, s:i}, {s:s, s:s, s:s, s:i}]", "name",
                     "order_update", "language", "en_US", "text",
                     "Hi {{1}}, order {{2}} is on its way, {{1}}.", "params", 2, "name", "plain",
                     "language", "pt_BR", "text", "Olá! {{x}} {{ 1}} {{0}} {{", "params", 0, "name",
                     "tail", "language", "en", "text", "Code: {{1}}", "params", 1);
}

static void fills_every_placeholder_once_without_looking_into_params(void **state)
{
    json_t *list = templates(), *params = json_pack("[s, s]", "Ann {{2}}", "#1042"), *tpl = NULL;
    struct sb_errbuf eb = {{0}};
    char *text = NULL;
    (void)state;

    assert_int_equal(reply_window_render(list, "order_update", params, &text, &tpl, &eb), SB_OK);
    assert_string_equal(text, "Hi Ann {{2}}, order #1042 is on its way, Ann {{2}}.");
    assert_string_equal(json_string_value(json_object_get(tpl, "name")), "order_update");
    assert_string_equal(json_string_value(json_object_get(tpl, "language")), "en_US");
    assert_true(json_equal(json_object_get(tpl, "params"), params));
    free(text);
    json_decref(tpl);
    json_decref(params);
    json_decref(list);
}

static void text_that_is_not_a_placeholder_stays(void **state)
{
    json_t *list = templates(), *tpl = NULL;
    struct sb_errbuf eb = {{0}};
    char *text = NULL;
    (void)state;

    /* no params given is none; only {{digits}} counts, as Meta writes them */
    assert_int_equal(reply_window_render(list, "plain", NULL, &text, &tpl, &eb), SB_OK);
    assert_string_equal(text, "Olá! {{x}} {{ 1}} {{0}} {{");
    assert_int_equal(json_array_size(json_object_get(tpl, "params")), 0);
    free(text);
    json_decref(tpl);
    json_decref(list);
}

static void expect_refused(const char *name, json_t *params, enum sb_err want, const char *msg)
{
    json_t *list = templates(), *tpl = (json_t *)1;
    struct sb_errbuf eb = {{0}};
    char *text = (char *)1;

    assert_int_equal(reply_window_render(list, name, params, &text, &tpl, &eb), want);
    assert_null(text);
    assert_null(tpl);
    assert_non_null(strstr(eb.msg, msg));
    json_decref(params);
    json_decref(list);
}

static void wrong_templates_and_params_are_refused(void **state)
{
    (void)state;
    expect_refused("no_such", NULL, SB_ERR_NOT_FOUND, "no template 'no_such'");
    expect_refused("order_update", json_pack("[s]", "Ann"), SB_ERR_INVAL, "takes 2, got 1");
    expect_refused("tail", json_pack("[s, s]", "a", "b"), SB_ERR_INVAL, "takes 1, got 2");
    expect_refused("tail", json_pack("[i]", 7), SB_ERR_INVAL, "params[0]");
    expect_refused("tail", json_pack("[s]", ""), SB_ERR_INVAL, "params[0]");
    expect_refused("tail", json_pack("{s:s}", "1", "a"), SB_ERR_INVAL, "array of strings");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fills_every_placeholder_once_without_looking_into_params),
        cmocka_unit_test(text_that_is_not_a_placeholder_stays),
        cmocka_unit_test(wrong_templates_and_params_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
