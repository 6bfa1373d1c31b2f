/*
 * test_pipeline.c - core/inbound/pipeline.c through its entry points
 * (sb_pipeline_start, sb_pipeline_handle), with small intent plugins in
 * the real host: what a customer message leaves in the store (the
 * message once, the bot's replies, the events in order), deduplication,
 * the bot's silence while a person owns the conversation, hand-offs, a
 * failing plugin, and a failed write leaving nothing behind.
 * docs/api.md, docs/plugins.md and docs/agents.md are the contract.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "server_env.h"

/* Replies "echo: <text>" to everything, with a quick reply. */
static const char *const echo_plugin =
    "sb.intent{ name='echo', handler=function(ctx)\n"
    "  ctx:reply{text='echo: ' .. ctx.text, quick_replies={{title='More', payload='/more'}}}\n"
    "end }\n";

/* "human" hands off (with a team hint when it says "billing"), anything
 * else is echoed. */
static const char *const human_plugin =
    "sb.intent{ name='human', priority=10, match='human', handler=function(ctx)\n"
    "  ctx:handoff{reason='asked', team=ctx.text:find('billing') and 'billing' or nil}\n"
    "end }\n"
    "sb.intent{ name='echo', handler=function(ctx) ctx:reply('echo: ' .. ctx.text) end }\n";

static int setup(void **state)
{
    struct server_env *e = calloc(1, sizeof(*e));
    if (!e || server_env_open(e)) return -1;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    server_env_close(*state);
    free(*state);
    return 0;
}

static int64_t count_messages(struct server_env *e, int64_t conv_id)
{
    return server_env_int(e, "SELECT count(*) FROM messages WHERE conversation_id = ?1", conv_id);
}

static const char *reply_text(json_t *result, size_t i)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(result, "replies"), i), "text"));
}

static void test_start_records_the_conversation_and_its_first_event(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *evs, *ev;
    char status[16];

    assert_int_equal(server_env_conv(e, "pt-BR", &conv), 0);
    assert_string_equal(conv.status, SB_STATUS_BOT);
    assert_string_equal(server_env_text(e, "SELECT status FROM conversations WHERE id = ?1",
                                        conv.id, status, sizeof(status)),
                        "bot");
    evs = server_env_events(e, conv.id, 0);
    assert_int_equal(json_array_size(evs), 1);
    ev = json_array_get(evs, 0);
    assert_string_equal(json_string_value(json_object_get(ev, "type")), "conversation/started");
    assert_int_equal(json_integer_value(json_object_get(ev, "seq")), 1);
    assert_string_equal(json_string_value(json_object_get(ev, "channel")), "web");
    assert_string_equal(json_string_value(json_object_get(ev, "locale")), "pt-BR");
    assert_string_equal(json_string_value(json_object_get(ev, "status")), "bot");
    assert_int_equal(conv.last_seq, 1);
    json_decref(evs);
    sb_conv_cleanup(&conv);
}

static void test_message_and_reply_are_stored_with_events_in_order(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *r, *evs, *in_msg, *out_msg, *reply;
    int64_t in_id;
    char types[256], buf[64];

    assert_int_equal(server_env_plugin(e, echo_plugin), 0);
    assert_int_equal(server_env_conv(e, "en", &conv), 0);
    r = server_env_say(e, &conv, "hello there", "m1");
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "bot");
    assert_false(json_is_true(json_object_get(r, "duplicate")));
    in_id = json_integer_value(json_object_get(r, "message_id"));
    assert_true(in_id > 0);
    assert_int_equal(json_array_size(json_object_get(r, "replies")), 1);
    assert_string_equal(reply_text(r, 0), "echo: hello there");
    reply = json_array_get(json_object_get(r, "replies"), 0);
    assert_string_equal(json_string_value(json_object_get(reply, "author")), "bot");
    assert_string_equal(json_string_value(json_object_get(reply, "direction")), "out");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(reply, "quick_replies"), 0), "payload")),
                        "/more");

    /* the rows: the customer's message and the bot's answer to it */
    assert_int_equal(count_messages(e, conv.id), 2);
    assert_string_equal(
        server_env_text(e, "SELECT author FROM messages WHERE id = ?1", in_id, buf, sizeof(buf)),
        "customer");
    assert_int_equal(server_env_int(e,
                                    "SELECT reply_to FROM messages WHERE direction = 'out'"
                                    " AND conversation_id = ?1",
                                    conv.id),
                     in_id);
    assert_int_equal(server_env_int(e,
                                    "SELECT id FROM messages WHERE direction = 'out'"
                                    " AND conversation_id = ?1",
                                    conv.id),
                     json_integer_value(json_object_get(reply, "id")));

    /* the events, numbered without a gap, in the order they happened */
    assert_string_equal(server_env_types(e, conv.id, 0, types, sizeof(types)),
                        "conversation/started message/inbound message/outbound message/delivered");
    evs = server_env_events(e, conv.id, 0);
    for (size_t i = 0; i < json_array_size(evs); i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(evs, i), "seq")),
                         (json_int_t)i + 1);
    in_msg = json_object_get(json_array_get(evs, 1), "message");
    assert_int_equal(json_integer_value(json_object_get(in_msg, "id")), in_id);
    assert_string_equal(json_string_value(json_object_get(in_msg, "text")), "hello there");
    assert_string_equal(json_string_value(json_object_get(in_msg, "client_id")), "m1");
    out_msg = json_object_get(json_array_get(evs, 2), "message");
    assert_true(json_equal(out_msg, reply)); /* the event carries what the answer carries */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(evs, 3), "up_to")), in_id);
    /* conv follows the log: its next event is numbered after these */
    assert_int_equal(conv.last_seq, 4);
    json_decref(evs);
    json_decref(r);
    sb_conv_cleanup(&conv);
}

static void test_replies_keep_their_order(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *r, *evs;
    char types[256];

    assert_int_equal(server_env_plugin(e, "sb.intent{ name='two', handler=function(ctx)\n"
                                          "  ctx:reply('first') ctx:reply('second') end }\n"),
                     0);
    assert_int_equal(server_env_conv(e, "en", &conv), 0);
    r = server_env_say(e, &conv, "hi", NULL);
    assert_int_equal(json_array_size(json_object_get(r, "replies")), 2);
    assert_string_equal(reply_text(r, 0), "first");
    assert_string_equal(reply_text(r, 1), "second");
    assert_string_equal(server_env_types(e, conv.id, 1, types, sizeof(types)),
                        "message/inbound message/outbound message/outbound message/delivered");
    evs = server_env_events(e, conv.id, 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(evs, 0), "message"), "text")),
                        "first");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(evs, 1), "message"), "text")),
                        "second");
    json_decref(evs);
    json_decref(r);
    sb_conv_cleanup(&conv);
}

static void test_repeated_client_id_is_stored_once_and_answered_the_same(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv, other;
    json_t *first, *again, *elsewhere;
    int64_t seq;

    assert_int_equal(server_env_plugin(e, echo_plugin), 0);
    assert_int_equal(server_env_conv(e, "en", &conv), 0);
    first = server_env_say(e, &conv, "where is my order?", "m-42");
    seq = server_env_last_seq(e, conv.id);
    again = server_env_say(e, &conv, "where is my order?", "m-42");
    assert_non_null(again);
    assert_true(json_is_true(json_object_get(again, "duplicate")));
    assert_int_equal(json_integer_value(json_object_get(again, "message_id")),
                     json_integer_value(json_object_get(first, "message_id")));
    assert_string_equal(json_string_value(json_object_get(again, "status")), "bot");
    assert_true(json_equal(json_object_get(again, "replies"), json_object_get(first, "replies")));
    /* nothing new: no message, no event, the bot did not run again */
    assert_int_equal(count_messages(e, conv.id), 2);
    assert_int_equal(server_env_last_seq(e, conv.id), seq);
    assert_int_equal(e->srv.metrics.duplicates, 1);

    /* the same client id in another conversation is another message */
    assert_int_equal(server_env_conv(e, "en", &other), 0);
    elsewhere = server_env_say(e, &other, "where is my order?", "m-42");
    assert_false(json_is_true(json_object_get(elsewhere, "duplicate")));
    assert_int_equal(count_messages(e, other.id), 2);
    /* and without a client id nothing is deduplicated */
    json_decref(again);
    again = server_env_say(e, &conv, "where is my order?", NULL);
    assert_false(json_is_true(json_object_get(again, "duplicate")));
    assert_int_equal(count_messages(e, conv.id), 4);
    json_decref(first);
    json_decref(again);
    json_decref(elsewhere);
    sb_conv_cleanup(&conv);
    sb_conv_cleanup(&other);
}

static void test_attributes_set_by_a_plugin_are_saved(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *r;

    assert_int_equal(server_env_plugin(e, "sb.intent{ name='count', handler=function(ctx)\n"
                                          "  local n = (ctx:get('n') or 0) + 1\n"
                                          "  ctx:set('n', n) ctx:reply('n=' .. n) end }\n"),
                     0);
    assert_int_equal(server_env_conv(e, "en", &conv), 0);
    json_decref(server_env_say(e, &conv, "a", NULL));
    r = server_env_say(e, &conv, "b", NULL);
    assert_string_equal(reply_text(r, 0), "n=2");
    assert_int_equal(server_env_int(e,
                                    "SELECT json_extract(attrs, '$.n') FROM conversations"
                                    " WHERE id = ?1",
                                    conv.id),
                     2);
    json_decref(r);
    sb_conv_cleanup(&conv);
}

static void test_failing_plugin_is_skipped_and_leaves_nothing(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *r;
    char types[256];

    /* the first intent replies and sets an attribute, then fails: what it
     * did is discarded and the next intent answers (docs/plugins.md) */
    assert_int_equal(server_env_plugin(e, "sb.intent{ name='broken', priority=10,"
                                          " handler=function(ctx)\n"
                                          "  ctx:reply('half an answer') ctx:set('bad', true)\n"
                                          "  error('boom') end }\n"
                                          "sb.intent{ name='next', handler=function(ctx)\n"
                                          "  ctx:reply('the next one') end }\n"),
                     0);
    assert_int_equal(server_env_conv(e, "en", &conv), 0);
    r = server_env_say(e, &conv, "hello", "c1");
    assert_non_null(r);
    assert_int_equal(json_array_size(json_object_get(r, "replies")), 1);
    assert_string_equal(reply_text(r, 0), "the next one");
    assert_int_equal(count_messages(e, conv.id), 2);
    assert_int_equal(server_env_int(e,
                                    "SELECT json_type(attrs, '$.bad') IS NULL FROM conversations"
                                    " WHERE id = ?1",
                                    conv.id),
                     1);
    assert_string_equal(server_env_types(e, conv.id, 1, types, sizeof(types)),
                        "message/inbound message/outbound message/delivered");
    json_decref(r);
    sb_conv_cleanup(&conv);
}

static void test_when_every_plugin_fails_a_person_takes_over(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *r;
    char types[256], reason[32], status[16];

    assert_int_equal(server_env_plugin(e, "sb.intent{ name='broken', handler=function(ctx)\n"
                                          "  error('boom') end }\n"),
                     0);
    assert_int_equal(server_env_conv(e, "en", &conv), 0);
    r = server_env_say(e, &conv, "hello", "c1");
    assert_non_null(r);
    /* the customer's message is stored, and silence is not an answer */
    assert_int_equal(server_env_int(e,
                                    "SELECT count(*) FROM messages WHERE conversation_id = ?1"
                                    " AND author = 'customer'",
                                    conv.id),
                     1);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "queued");
    assert_string_equal(server_env_text(e, "SELECT reason FROM handoffs WHERE conversation_id = ?1",
                                        conv.id, reason, sizeof(reason)),
                        "no_handler");
    assert_string_equal(server_env_text(e, "SELECT status FROM conversations WHERE id = ?1",
                                        conv.id, status, sizeof(status)),
                        "queued");
    assert_int_equal(json_array_size(json_object_get(r, "replies")), 1);
    assert_string_equal(reply_text(r, 0),
                        "I'm passing your conversation to a person on our team. They will reply "
                        "right here, and you won't need to repeat anything.");
    assert_string_equal(server_env_types(e, conv.id, 1, types, sizeof(types)),
                        "message/inbound conversation/handoff message/outbound "
                        "conversation/queued message/delivered");
    json_decref(r);
    sb_conv_cleanup(&conv);
}

static void test_handoff_intent_queues_the_conversation(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *r, *ev;
    char types[256], buf[64];
    int64_t in_id;

    assert_int_equal(server_env_plugin(e, human_plugin), 0);
    assert_int_equal(server_env_conv(e, "pt-BR", &conv), 0);
    r = server_env_say(e, &conv, "quero um human, billing", "h1");
    assert_non_null(r);
    in_id = json_integer_value(json_object_get(r, "message_id"));
    assert_string_equal(json_string_value(json_object_get(r, "status")), "queued");
    assert_string_equal(conv.status, "queued");
    /* the notice in the customer's language, as a system message that
     * answers the customer's */
    assert_int_equal(json_array_size(json_object_get(r, "replies")), 1);
    assert_string_equal(reply_text(r, 0),
                        "Vou passar sua conversa para uma pessoa da nossa equipe. Ela vai "
                        "responder aqui mesmo, e você não precisa repetir nada.");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "replies"), 0), "author")),
                        "system");
    assert_int_equal(server_env_int(e,
                                    "SELECT reply_to FROM messages WHERE author = 'system'"
                                    " AND conversation_id = ?1",
                                    conv.id),
                     in_id);
    /* the hand-off row with its reason, the hint and the transcript */
    assert_string_equal(server_env_text(e, "SELECT reason FROM handoffs WHERE conversation_id = ?1",
                                        conv.id, buf, sizeof(buf)),
                        "asked");
    assert_string_equal(server_env_text(e, "SELECT team FROM handoffs WHERE conversation_id = ?1",
                                        conv.id, buf, sizeof(buf)),
                        "billing");
    assert_int_equal(server_env_int(e,
                                    "SELECT instr(transcript, 'quero um human') > 0 FROM handoffs"
                                    " WHERE conversation_id = ?1",
                                    conv.id),
                     1);
    /* no team "billing" exists: queued in the default team */
    assert_string_equal(server_env_text(e, "SELECT team FROM conversations WHERE id = ?1", conv.id,
                                        buf, sizeof(buf)),
                        "default");
    assert_string_equal(server_env_types(e, conv.id, 1, types, sizeof(types)),
                        "message/inbound conversation/handoff message/outbound "
                        "conversation/queued message/delivered");
    ev = server_env_last_event(e, conv.id, "conversation/handoff");
    assert_string_equal(json_string_value(json_object_get(ev, "reason")), "asked");
    assert_string_equal(json_string_value(json_object_get(ev, "team")), "billing");
    assert_string_equal(json_string_value(json_object_get(ev, "status")), "queued");
    json_decref(ev);
    assert_int_equal(e->srv.metrics.handoffs, 1);
    json_decref(r);
    sb_conv_cleanup(&conv);
}

static void test_bot_is_silent_while_a_person_owns_the_conversation(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    json_t *r;
    int64_t agent, seq;
    char types[256];

    assert_int_equal(server_env_plugin(e, human_plugin), 0);
    agent = server_env_agent(e, "ana", NULL); /* offline: nobody is offered it */
    assert_true(agent > 0);
    assert_int_equal(server_env_conv(e, "en", &conv), 0);
    json_decref(server_env_say(e, &conv, "human please", NULL));

    /* queued: stored, evented, delivered to the queue; the bot says nothing */
    seq = server_env_last_seq(e, conv.id);
    r = server_env_say(e, &conv, "hello?", "q1");
    assert_string_equal(json_string_value(json_object_get(r, "status")), "queued");
    assert_int_equal(json_array_size(json_object_get(r, "replies")), 0);
    assert_string_equal(server_env_types(e, conv.id, seq, types, sizeof(types)),
                        "message/inbound message/delivered");
    json_decref(r);

    /* assigned (a supervisor takes it): the same */
    assert_int_equal(server_env_act(e, conv.id, agent, ENV_CLAIM_SUPERVISOR, &eb), SB_OK);
    seq = server_env_last_seq(e, conv.id);
    r = server_env_say(e, &conv, "anyone there?", "q2");
    assert_string_equal(json_string_value(json_object_get(r, "status")), "assigned");
    assert_int_equal(json_array_size(json_object_get(r, "replies")), 0);
    assert_string_equal(server_env_types(e, conv.id, seq, types, sizeof(types)),
                        "message/inbound message/delivered");
    assert_int_equal(server_env_int(e,
                                    "SELECT count(*) FROM messages WHERE conversation_id = ?1"
                                    " AND author = 'bot'",
                                    conv.id),
                     0);
    json_decref(r);
    sb_conv_cleanup(&conv);
}

static void test_blank_text_is_stored_but_not_answered(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *r;
    char types[256];

    assert_int_equal(server_env_plugin(e, echo_plugin), 0);
    assert_int_equal(server_env_conv(e, "en", &conv), 0);
    r = server_env_say(e, &conv, " \n\t", NULL);
    assert_int_equal(json_array_size(json_object_get(r, "replies")), 0);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "bot");
    assert_int_equal(count_messages(e, conv.id), 1);
    assert_string_equal(server_env_types(e, conv.id, 1, types, sizeof(types)),
                        "message/inbound message/delivered");
    json_decref(r);
    sb_conv_cleanup(&conv);
}

static void test_payload_reaches_the_plugin_and_is_kept(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *r;
    char extra[128];

    assert_int_equal(server_env_plugin(e, "sb.intent{ name='p', payload='/more',"
                                          " handler=function(ctx)\n"
                                          "  ctx:reply('more for ' .. ctx.payload) end }\n"),
                     0);
    assert_int_equal(server_env_conv(e, "en", &conv), 0);
    r = server_env_say_payload(e, &conv, "More", NULL, "/more");
    assert_string_equal(reply_text(r, 0), "more for /more");
    assert_string_equal(server_env_text(e,
                                        "SELECT json_extract(extra, '$.payload') FROM messages"
                                        " WHERE conversation_id = ?1 AND direction = 'in'",
                                        conv.id, extra, sizeof(extra)),
                        "/more");
    json_decref(r);
    sb_conv_cleanup(&conv);
}

/* What the bot searched and showed is recorded with the turn: the
 * search for the content-gap report (outcome "handoff" when the turn
 * ended with a person), the articles a reply linked to for the
 * conversation's one "did this help?" vote. */
static void test_the_bots_search_and_shown_articles_are_recorded(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_kb_saved saved;
    struct sb_kb_article a = {.slug = "track-order",
                              .locale = "en",
                              .title = "Track your order",
                              .summary = "Use the tracking link in your e-mail.",
                              .status = "published"};
    struct sb_conv conv, other;
    json_t *r;
    char outcome[16];

    assert_int_equal(sb_kb_save(e->srv.kb, &a, 0, 0, &saved, &eb), SB_OK);
    assert_int_equal(
        server_env_plugin(e, "sb.intent{ name='kb', handler=function(ctx)\n"
                             "  local hits = sb.kb.search(ctx.text, {locale='en'})\n"
                             "  local h = hits[1]\n"
                             "  if not h then ctx:handoff{reason='kb_none'} return end\n"
                             "  ctx:reply{text=h.summary, links={{title=h.title, url=h.url,"
                             " article_id=h.id}}} end }\n"),
        0);
    assert_int_equal(server_env_conv(e, "en", &conv), 0);
    assert_int_equal(server_env_conv(e, "en", &other), 0);
    r = server_env_say(e, &conv, "how do I track my order", NULL);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "replies"), 0), "text")),
                        "Use the tracking link in your e-mail.");
    json_decref(r);
    assert_int_equal(
        server_env_int(e, "SELECT article_id FROM kb_queries WHERE conversation_id = ?1", conv.id),
        saved.id);
    server_env_text(e, "SELECT outcome FROM kb_queries WHERE conversation_id = ?1", conv.id,
                    outcome, sizeof(outcome));
    assert_true(strcmp(outcome, "answered") == 0 || strcmp(outcome, "unsure") == 0);
    /* shown here, so this conversation may vote on it, another may not */
    assert_int_equal(sb_kb_vote(e->srv.kb, saved.id, "bot", false, other.id, &eb),
                     SB_ERR_NOT_FOUND);
    assert_int_equal(sb_kb_vote(e->srv.kb, saved.id, "bot", true, conv.id, &eb), SB_OK);

    /* nothing found: a hand-off, and the question counts as handed off */
    r = server_env_say(e, &conv, "zzyzx qwertyuiop", NULL);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "queued");
    json_decref(r);
    assert_string_equal(server_env_text(e,
                                        "SELECT outcome FROM kb_queries WHERE conversation_id = ?1"
                                        " ORDER BY id DESC LIMIT 1",
                                        conv.id, outcome, sizeof(outcome)),
                        "handoff");
    assert_int_equal(
        server_env_int(e, "SELECT count(*) FROM kb_queries WHERE conversation_id = ?1", conv.id),
        2);
    sb_conv_cleanup(&conv);
    sb_conv_cleanup(&other);
}

/* A write that fails half-way (here: the store refuses the bot's reply
 * event) undoes the whole message: no customer message, no reply, no
 * event, no hand-off; the next message goes through. */
static void test_failed_write_leaves_nothing_behind(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *r;
    char *err = NULL;
    int64_t seq;

    assert_int_equal(server_env_plugin(e, echo_plugin), 0);
    assert_int_equal(server_env_conv(e, "en", &conv), 0);
    seq = server_env_last_seq(e, conv.id);
    assert_int_equal(sqlite3_exec(sb_store_db(e->srv.store),
                                  "CREATE TEMP TRIGGER refuse BEFORE INSERT ON events"
                                  " WHEN NEW.type = 'message/outbound'"
                                  " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
                                  NULL, NULL, &err),
                     SQLITE_OK);
    r = server_env_say(e, &conv, "hello", "f1");
    assert_null(r);
    assert_int_equal(count_messages(e, conv.id), 0);
    assert_int_equal(server_env_last_seq(e, conv.id), seq);

    assert_int_equal(
        sqlite3_exec(sb_store_db(e->srv.store), "DROP TRIGGER refuse", NULL, NULL, &err),
        SQLITE_OK);
    /* the retry with the same client id is a first delivery, not a duplicate */
    r = server_env_say(e, &conv, "hello", "f1");
    assert_non_null(r);
    assert_false(json_is_true(json_object_get(r, "duplicate")));
    assert_string_equal(reply_text(r, 0), "echo: hello");
    assert_int_equal(count_messages(e, conv.id), 2);
    assert_int_equal(server_env_last_seq(e, conv.id), seq + 3);
    json_decref(r);
    sb_conv_cleanup(&conv);
}

/* A hand-off whose queueing fails is undone in the store and in the
 * router: an agent coming online later is offered nothing. */
static void test_failed_handoff_leaves_no_queue_entry(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *r;
    char *err = NULL, status[16];
    int64_t agent;

    assert_int_equal(server_env_plugin(e, human_plugin), 0);
    agent = server_env_agent(e, "bo", NULL);
    assert_int_equal(server_env_conv(e, "en", &conv), 0);
    assert_int_equal(sqlite3_exec(sb_store_db(e->srv.store),
                                  "CREATE TEMP TRIGGER refuse BEFORE INSERT ON events"
                                  " WHEN NEW.type = 'conversation/queued'"
                                  " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
                                  NULL, NULL, &err),
                     SQLITE_OK);
    r = server_env_say(e, &conv, "human", NULL);
    assert_null(r);
    assert_int_equal(
        sqlite3_exec(sb_store_db(e->srv.store), "DROP TRIGGER refuse", NULL, NULL, &err),
        SQLITE_OK);
    assert_string_equal(server_env_text(e, "SELECT status FROM conversations WHERE id = ?1",
                                        conv.id, status, sizeof(status)),
                        "bot");
    assert_int_equal(server_env_int(e, "SELECT count(*) FROM handoffs", 0), 0);
    assert_int_equal(count_messages(e, conv.id), 0);
    /* the router forgot it too */
    assert_int_equal(
        server_env_profile(e, agent, "{\"status\": \"online\", \"teams\": [\"default\"]}"), 0);
    assert_int_equal(server_env_int(e,
                                    "SELECT count(*) FROM conversations"
                                    " WHERE offered_to IS NOT NULL",
                                    0),
                     0);
    sb_conv_cleanup(&conv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_records_the_conversation_and_its_first_event,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_message_and_reply_are_stored_with_events_in_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_replies_keep_their_order, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_repeated_client_id_is_stored_once_and_answered_the_same, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attributes_set_by_a_plugin_are_saved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_plugin_is_skipped_and_leaves_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_when_every_plugin_fails_a_person_takes_over, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_handoff_intent_queues_the_conversation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bot_is_silent_while_a_person_owns_the_conversation,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_blank_text_is_stored_but_not_answered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_payload_reaches_the_plugin_and_is_kept, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_the_bots_search_and_shown_articles_are_recorded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_leaves_nothing_behind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_handoff_leaves_no_queue_entry, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
