/*
 * test_message_json.c - core/conv/message_json.c: the one serializer of a
 * message writes the bytes jansson wrote before it (events and answers
 * keep their exact text), escapes strings as jansson does, and stops at
 * its buffer's cap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "message_json.h"

/* jansson's text for a string */
static char *jansson_string(const char *s)
{
    json_t *v = json_string(s);
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    return text;
}

static void strings_are_escaped_as_jansson_escapes_them(void **state)
{
    static const char *cases[] = {
        "",
        "plain words",
        "quote \" and backslash \\ and slash /",
        "new\nline, tab\t, return\r, bell\a, backspace\b, feed\f",
        "\x01\x1f\x7f",
        "ol\xC3\xA1, \xC8\x99i \xE2\x82\xAC \xF0\x9F\x98\x80", /* UTF-8 stays as it is */
        "\\u0041 is not an escape here",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sb_buf b;
        char *want = jansson_string(cases[i]);
        sb_buf_init(&b, 1 << 20);
        assert_int_equal(sb_json_string(&b, cases[i]), SB_OK);
        assert_non_null(want);
        assert_string_equal(b.data, want);
        free(want);
        sb_buf_cleanup(&b);
    }
}

/* The message as the pipeline built it with jansson before the serializer. */
static char *jansson_message(int64_t id, const char *direction, const char *author,
                             const char *text, json_t *links, json_t *qr, json_t *attachments,
                             const char *client_id, int64_t created_at)
{
    json_t *m =
        json_pack("{s:I, s:s, s:s, s:s, s:O, s:O, s:s?, s:I}", "id", (json_int_t)id, "direction",
                  direction, "author", author, "text", text, "links", links, "quick_replies", qr,
                  "client_id", client_id, "created_at", (json_int_t)created_at);
    char *out;
    json_object_set_new(m, "attachments", attachments ? json_incref(attachments) : json_array());
    out = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    return out;
}

static char *dump(json_t *v)
{
    struct sb_buf b;
    sb_buf_init(&b, 1 << 20);
    assert_int_equal(sb_json_append(&b, v, "[]"), SB_OK);
    return b.data;
}

static void a_bot_reply_is_written_as_jansson_wrote_it(void **state)
{
    json_t *links = json_pack("[{s:s, s:s, s:I}]", "title", "Refunds \"fast\"", "url",
                              "https://help.example/refunds", "article_id", (json_int_t)7);
    json_t *qr = json_pack("[{s:s, s:s}, {s:s, s:s}]", "title", "Sim, ajudou", "payload", "/helped",
                           "title", "N\xC3\xA3o", "payload", "/not_helped");
    char *lt = dump(links), *qt = dump(qr), *want;
    struct sb_message_view v = {.id = 42,
                                .direction = "out",
                                .author = "bot",
                                .text = "Line one\nline \"two\"",
                                .links = lt,
                                .quick_replies = qt,
                                .created_at = 1765000000123LL};
    struct sb_buf b;
    (void)state;

    sb_buf_init(&b, 1 << 20);
    assert_int_equal(sb_message_json(&b, &v), SB_OK);
    want = jansson_message(42, "out", "bot", v.text, links, qr, NULL, NULL, v.created_at);
    assert_string_equal(b.data, want);
    free(want);
    free(lt);
    free(qt);
    json_decref(links);
    json_decref(qr);
    sb_buf_cleanup(&b);
}

static void a_customer_message_keeps_client_id_and_attachments(void **state)
{
    json_t *att = json_pack("[{s:s, s:s, s:I}]", "id", "att_1", "name", "r\xC3\xA9\x63ibo.pdf",
                            "size", (json_int_t)1234);
    json_t *empty = json_array();
    char *at = dump(att), *want;
    struct sb_message_view v = {.id = 1,
                                .direction = "in",
                                .author = "customer",
                                .text = "where is my card?",
                                .attachments = at,
                                .client_id = "c-\t1",
                                .created_at = 5};
    struct sb_buf b;
    json_t *parsed;
    (void)state;

    sb_buf_init(&b, 1 << 20);
    assert_int_equal(sb_message_json(&b, &v), SB_OK);
    want = jansson_message(1, "in", "customer", v.text, empty, empty, att, "c-\t1", 5);
    assert_string_equal(b.data, want);
    parsed = json_loads(b.data, 0, NULL);
    assert_non_null(parsed);
    assert_string_equal(json_string_value(json_object_get(parsed, "client_id")), "c-\t1");
    assert_int_equal(json_array_size(json_object_get(parsed, "attachments")), 1);
    assert_int_equal(json_array_size(json_object_get(parsed, "links")), 0);
    json_decref(parsed);
    free(want);
    free(at);
    json_decref(att);
    json_decref(empty);
    sb_buf_cleanup(&b);
}

static void missing_arrays_are_empty_and_client_id_null(void **state)
{
    struct sb_message_view v = {
        .id = 3, .direction = "out", .author = "system", .text = "", .created_at = 9};
    struct sb_buf b;
    (void)state;
    sb_buf_init(&b, 1 << 20);
    assert_int_equal(sb_message_json(&b, &v), SB_OK);
    assert_string_equal(b.data,
                        "{\"id\":3,\"direction\":\"out\",\"author\":\"system\",\"text\":\"\","
                        "\"links\":[],\"quick_replies\":[],\"client_id\":null,"
                        "\"created_at\":9,\"attachments\":[]}");
    sb_buf_cleanup(&b);
}

/* The agent API wrote an agent's reply with jansson, "agent" last. */
static void an_agent_reply_is_written_as_jansson_wrote_it(void **state)
{
    struct sb_message_view v = {.id = 8,
                                .direction = "out",
                                .author = "agent",
                                .text = "Done \"now\"",
                                .client_id = "a-1",
                                .created_at = 77,
                                .agent_id = 5,
                                .agent_name = "Ana \"A\"\n"};
    json_t *m =
        json_pack("{s:I, s:s, s:s, s:s, s:[], s:[], s:s, s:I, s:[], s:{s:I, s:s}}", "id",
                  (json_int_t)8, "direction", "out", "author", "agent", "text", v.text, "links",
                  "quick_replies", "client_id", "a-1", "created_at", (json_int_t)77, "attachments",
                  "agent", "id", (json_int_t)5, "name", v.agent_name);
    char *want = json_dumps(m, JSON_COMPACT);
    struct sb_buf b;
    (void)state;

    sb_buf_init(&b, 1 << 20);
    assert_int_equal(sb_message_json(&b, &v), SB_OK);
    assert_string_equal(b.data, want);
    free(want);
    json_decref(m);
    sb_buf_cleanup(&b);
}

static void a_full_buffer_fails_the_message(void **state)
{
    struct sb_message_view v = {
        .id = 3, .direction = "out", .author = "bot", .text = "a longer text than fits"};
    struct sb_buf b;
    (void)state;
    sb_buf_init(&b, 40);
    assert_int_equal(sb_message_json(&b, &v), SB_ERR_LIMIT);
    sb_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strings_are_escaped_as_jansson_escapes_them),
        cmocka_unit_test(a_bot_reply_is_written_as_jansson_wrote_it),
        cmocka_unit_test(a_customer_message_keeps_client_id_and_attachments),
        cmocka_unit_test(missing_arrays_are_empty_and_client_id_null),
        cmocka_unit_test(an_agent_reply_is_written_as_jansson_wrote_it),
        cmocka_unit_test(a_full_buffer_fails_the_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
