/*
 * test_send.c - core/conv/send.c, the one send path: a message sent is one
 * row (reply_to linking it to the message it answers, or none) and one
 * event "message/outbound" whose "message" is byte for byte the text the
 * caller answers with; the row reads back as that same message; sends
 * into one answer are comma-separated and are what a retry finds again;
 * an agent's message carries who wrote it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb_log.h"
#include "send.h"

#define MESSAGE_MEMBER "{\"message\":"

struct env {
    char dir[64];
    char path[128];
    struct sb_store *st;
    struct sb_conv conv;
    int64_t inbound; /* a customer message to answer */
    uint64_t messages_out;
    struct sb_sender send;
};

static int setup(void **state)
{
    struct sb_errbuf eb = {{0}};
    struct env *e = calloc(1, sizeof(*e));
    struct sb_msg_in in = {.direction = "in",
                           .author = "customer",
                           .channel = "web",
                           .text = "hello",
                           .client_id = "c1"};
    bool dup;

    if (!e) return -1;
    sb_log_set_level(SB_LOG_WARN);
    snprintf(e->dir, sizeof(e->dir), "/tmp/sb-send-test-XXXXXX");
    if (!mkdtemp(e->dir)) return -1;
    snprintf(e->path, sizeof(e->path), "%s/test.db", e->dir);
    if (sb_store_open(e->path, "NORMAL", &e->st, &eb)) {
        fprintf(stderr, "open: %s\n", eb.msg);
        return -1;
    }
    if (sb_store_begin(e->st) ||
        sb_store_conv_create(e->st, "web", "visitor-1", "en", NULL, &e->conv))
        return -1;
    in.conv_id = e->conv.id;
    if (sb_store_msg_add(e->st, &in, &e->inbound, &dup)) return -1;
    e->send = (struct sb_sender){.store = e->st, .messages_out = &e->messages_out};
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    struct env *e = *state;
    char p[160];

    sb_store_rollback(e->st);
    sb_conv_cleanup(&e->conv);
    sb_store_close(e->st);
    for (size_t i = 0; i < SB_ARRAY_LEN(suffix); i++) {
        snprintf(p, sizeof(p), "%s%s", e->path, suffix[i]);
        unlink(p);
    }
    rmdir(e->dir);
    free(e);
    return 0;
}

/* Column col of the message row id as text (malloc'd; NULL for SQL NULL). */
static char *msg_col(struct env *e, int64_t id, const char *col)
{
    char sql[128];
    sqlite3_stmt *s;
    char *out = NULL;

    snprintf(sql, sizeof(sql), "SELECT %s FROM messages WHERE id = ?", col);
    assert_int_equal(sqlite3_prepare_v2(sb_store_db(e->st), sql, -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_int64(s, 1, id);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    if (sqlite3_column_type(s, 0) != SQLITE_NULL)
        out = strdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return out;
}

/* The event of seq in the conversation: its type and data (malloc'd). */
static char *event_data(struct env *e, int64_t seq, char type[64])
{
    sqlite3_stmt *s;
    char *out;

    assert_int_equal(sqlite3_prepare_v2(sb_store_db(e->st),
                                        "SELECT type, data FROM events"
                                        " WHERE conversation_id = ? AND seq = ?",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(s, 1, e->conv.id);
    sqlite3_bind_int64(s, 2, seq);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    snprintf(type, 64, "%s", (const char *)sqlite3_column_text(s, 0));
    out = strdup((const char *)sqlite3_column_text(s, 1));
    sqlite3_finalize(s);
    return out;
}

/* The event's "message" member is exactly text (len bytes). */
static void assert_event_carries(const char *data, const char *text, size_t len)
{
    size_t prefix = sizeof(MESSAGE_MEMBER) - 1;
    assert_memory_equal(data, MESSAGE_MEMBER, prefix);
    assert_memory_equal(data + prefix, text, len);
    assert_memory_equal(data + prefix + len, ",\"seq\":", 7);
}

static void a_bot_reply_is_one_row_and_one_event_with_the_answer_s_text(void **state)
{
    struct env *e = *state;
    json_t *links = json_pack("[{s:s, s:s, s:I}]", "title", "Refunds", "url",
                              "https://help.example/refunds", "article_id", (json_int_t)7);
    json_t *qr = json_pack("[{s:s, s:s}]", "title", "Yes", "payload", "/helped");
    struct sb_outgoing m = {
        .author = "bot", .text = "Refunds take \"5\" days.\n", .links = links, .quick_replies = qr};
    struct sb_replies r;
    int64_t seq = e->conv.last_seq, id = 0;
    char type[64], *data, *col;
    json_t *answer, *row;

    sb_replies_init(&r, e->inbound);
    assert_int_equal(sb_conv_send(&e->send, &e->conv, &m, &r, &id), SB_OK);
    assert_true(id > e->inbound);
    assert_int_equal(r.n, 1);
    assert_int_equal(e->messages_out, 1);

    /* the row: outbound, by the bot, on the conversation's channel,
     * answering the customer's message */
    col = msg_col(e, id, "direction");
    assert_string_equal(col, "out");
    free(col);
    col = msg_col(e, id, "author");
    assert_string_equal(col, "bot");
    free(col);
    col = msg_col(e, id, "channel");
    assert_string_equal(col, "web");
    free(col);
    col = msg_col(e, id, "reply_to");
    assert_non_null(col);
    assert_int_equal(strtoll(col, NULL, 10), e->inbound);
    free(col);

    /* one event, the next in sequence, carrying the answer's very text */
    assert_int_equal(e->conv.last_seq, seq + 1);
    data = event_data(e, seq + 1, type);
    assert_string_equal(type, "message/outbound");
    assert_event_carries(data, r.text.data, r.text.len);
    free(data);

    /* the answer's text is the message, and the row reads back as it */
    answer = json_loads(r.text.data, 0, NULL);
    assert_non_null(answer);
    assert_int_equal(json_integer_value(json_object_get(answer, "id")), id);
    assert_string_equal(json_string_value(json_object_get(answer, "text")), m.text);
    assert_true(json_equal(json_object_get(answer, "links"), links));
    assert_true(json_equal(json_object_get(answer, "quick_replies"), qr));
    assert_true(json_is_null(json_object_get(answer, "client_id")));
    row = sb_store_msg_json(e->st, id);
    assert_true(json_equal(row, answer));

    json_decref(row);
    json_decref(answer);
    json_decref(links);
    json_decref(qr);
    sb_replies_cleanup(&r);
}

/* A notice of the agents' doing (the rating question) answers nothing:
 * no reply_to, so no retry of a customer's message brings it back. */
static void a_message_without_an_answer_has_no_reply_to(void **state)
{
    struct env *e = *state;
    struct sb_outgoing m = {.author = "system", .text = "How did we do?"};
    int64_t id = 0;
    char type[64], *data, *col;
    json_t *replies;

    assert_int_equal(sb_conv_send(&e->send, &e->conv, &m, NULL, &id), SB_OK);
    assert_null(msg_col(e, id, "reply_to"));
    col = msg_col(e, id, "author");
    assert_string_equal(col, "system");
    free(col);
    data = event_data(e, e->conv.last_seq, type);
    assert_string_equal(type, "message/outbound");
    assert_non_null(strstr(data, "\"How did we do?\""));
    free(data);
    replies = sb_store_replies(e->st, e->conv.id, e->inbound);
    assert_int_equal(json_array_size(replies), 0);
    json_decref(replies);
    assert_int_equal(e->messages_out, 1);
}

/* Everything sent while answering one message is what a retry of it is
 * answered with again (sb_store_replies), in order. */
static void sends_into_one_answer_are_what_a_retry_finds(void **state)
{
    struct env *e = *state;
    struct sb_outgoing bot = {.author = "bot", .text = "One moment."};
    struct sb_outgoing notice = {.author = "system", .text = "We open at 09:00."};
    struct sb_replies r;
    json_t *first, *again;
    struct sb_buf wrapped;

    sb_replies_init(&r, e->inbound);
    assert_int_equal(sb_conv_send(&e->send, &e->conv, &bot, &r, NULL), SB_OK);
    assert_int_equal(sb_conv_send(&e->send, &e->conv, &notice, &r, NULL), SB_OK);
    assert_int_equal(r.n, 2);
    assert_int_equal(e->messages_out, 2);

    sb_buf_init(&wrapped, 1 << 20);
    assert_int_equal(sb_buf_printf(&wrapped, "[%s]", r.text.data), SB_OK);
    first = json_loads(wrapped.data, 0, NULL);
    assert_int_equal(json_array_size(first), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(first, 1), "author")),
                        "system");
    again = sb_store_replies(e->st, e->conv.id, e->inbound);
    assert_true(json_equal(again, first));

    json_decref(first);
    json_decref(again);
    sb_buf_cleanup(&wrapped);
    sb_replies_cleanup(&r);
}

/* An agent's message says who wrote it and keeps the agent's client id
 * (a retried send finds it) and the canned response it came from. */
static void an_agent_reply_carries_its_author_client_id_and_canned_id(void **state)
{
    struct env *e = *state;
    struct sb_outgoing m = {.author = "agent",
                            .text = "Done!",
                            .client_id = "a-1",
                            .agent_name = "Ana \"the\" agent",
                            .agent_id = 42,
                            .canned_id = 3};
    struct sb_replies r;
    int64_t id = 0;
    char type[64], *data, *col;
    json_t *answer, *row, *extra;

    sb_replies_init(&r, 0);
    assert_int_equal(sb_conv_send(&e->send, &e->conv, &m, &r, &id), SB_OK);
    assert_null(msg_col(e, id, "reply_to"));
    col = msg_col(e, id, "client_id");
    assert_string_equal(col, "a-1");
    free(col);
    col = msg_col(e, id, "extra");
    extra = json_loads(col, 0, NULL);
    free(col);
    assert_int_equal(json_integer_value(json_object_get(extra, "canned_id")), 3);
    json_decref(extra);

    data = event_data(e, e->conv.last_seq, type);
    assert_event_carries(data, r.text.data, r.text.len);
    free(data);

    answer = json_loads(r.text.data, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(answer, "client_id")), "a-1");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(answer, "agent"), "id")),
                     42);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(answer, "agent"), "name")),
        "Ana \"the\" agent");
    row = sb_store_msg_json(e->st, id);
    assert_true(json_equal(row, answer));
    json_decref(row);
    json_decref(answer);
    sb_replies_cleanup(&r);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(a_bot_reply_is_one_row_and_one_event_with_the_answer_s_text),
        T(a_message_without_an_answer_has_no_reply_to),
        T(sends_into_one_answer_are_what_a_retry_finds),
        T(an_agent_reply_carries_its_author_client_id_and_canned_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
