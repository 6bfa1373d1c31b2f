/*
 * test_handoff.c - the live-agent state machine (core/agents/handoff.c,
 * core/agents/handoff_ops.c; docs/agents.md): queued -> offered -> assigned ->
 * resolved, decline and offer expiry, capacity, claim, transfer, return
 * to the bot, reopening, ratings, SLA due times, warnings and breaches,
 * and a team outside its business hours. Each transition is checked by
 * the conversation's row and its events; refused transitions change
 * nothing. The server runs without HTTP (server_env.h); customers speak
 * through the pipeline, agents through the transitions the agent API
 * calls, time through the test clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "server_env.h"

#define MINUTE_MS (60 * 1000)

/* "human" hands off; anything else is echoed by the bot. */
static const char *const plugins =
    "sb.intent{ name='human', priority=10, match='^human', handler=function(ctx)\n"
    "  ctx:handoff{reason='asked'} end }\n"
    "sb.intent{ name='echo', handler=function(ctx) ctx:reply('echo: ' .. ctx.text) end }\n";

static const char *const online = "{\"status\": \"online\", \"teams\": [\"default\"]}";

static int setup(void **state)
{
    struct server_env *e = calloc(1, sizeof(*e));
    if (!e || server_env_open(e) || server_env_plugin(e, plugins)) return -1;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    server_env_close(*state);
    free(*state);
    return 0;
}

/* The conversation's column col (an integer; 0 for NULL). */
static int64_t col(struct server_env *e, int64_t conv_id, const char *column)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT ifnull(%s, 0) FROM conversations WHERE id = ?1", column);
    return server_env_int(e, sql, conv_id);
}

static const char *status_of(struct server_env *e, int64_t conv_id)
{
    static char buf[16];
    return server_env_text(e, "SELECT status FROM conversations WHERE id = ?1", conv_id, buf,
                           sizeof(buf));
}

static const char *team_of(struct server_env *e, int64_t conv_id)
{
    static char buf[64];
    return server_env_text(e, "SELECT team FROM conversations WHERE id = ?1", conv_id, buf,
                           sizeof(buf));
}

/* A new conversation whose customer asks for a person; result dropped. */
static void handed_off(struct server_env *e, const char *locale, struct sb_conv *conv)
{
    json_t *r;
    assert_int_equal(server_env_conv(e, locale, conv), 0);
    r = server_env_say(e, conv, "human please", NULL);
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "queued");
    json_decref(r);
}

static const char *types_after(struct server_env *e, int64_t conv_id, int64_t seq)
{
    static char buf[512];
    return server_env_types(e, conv_id, seq, buf, sizeof(buf));
}

static json_int_t ev_int(json_t *ev, const char *key)
{
    return json_integer_value(json_object_get(ev, key));
}

static const char *ev_str(json_t *ev, const char *key)
{
    return json_string_value(json_object_get(ev, key));
}

/* ---- queued, offered, accepted ---- */

static void test_queued_with_sla_due_times_when_nobody_is_online(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *ev;
    int64_t before, after, due;

    before = sb_now_ms();
    handed_off(e, "en", &conv);
    after = sb_now_ms();
    assert_string_equal(status_of(e, conv.id), "queued");
    assert_string_equal(team_of(e, conv.id), "default");
    assert_int_equal(col(e, conv.id, "offered_to"), 0);
    assert_int_equal(col(e, conv.id, "priority"), 0);
    assert_true(col(e, conv.id, "queued_at") >= before);
    assert_true(col(e, conv.id, "queued_at") <= after);
    /* the defaults from the hand-off on: first response 5 min, resolution
     * 24 h, warnings at 0.8 of the time */
    due = col(e, conv.id, "first_response_due");
    assert_true(due >= before + 5 * MINUTE_MS && due <= after + 5 * MINUTE_MS);
    assert_int_equal(col(e, conv.id, "first_response_warn"), due - MINUTE_MS);
    assert_int_equal(col(e, conv.id, "resolution_due"), due - 5 * MINUTE_MS + 24 * 60 * MINUTE_MS);
    assert_int_equal(col(e, conv.id, "resolution_warn"),
                     due - 5 * MINUTE_MS + 24 * 60 * MINUTE_MS * 8 / 10);
    assert_int_equal(col(e, conv.id, "next_response_due"), 0);
    ev = server_env_last_event(e, conv.id, "conversation/queued");
    assert_non_null(ev);
    assert_string_equal(ev_str(ev, "team"), "default");
    assert_int_equal(ev_int(ev, "priority"), 0);
    assert_int_equal(ev_int(ev, "position"), 1);
    json_decref(ev);
    assert_null(server_env_last_event(e, conv.id, "conversation/offered"));
    sb_conv_cleanup(&conv);
}

static void test_queue_positions_follow_arrival(void **state)
{
    struct server_env *e = *state;
    struct sb_conv a, b;
    json_t *ev;

    handed_off(e, "en", &a);
    handed_off(e, "en", &b);
    ev = server_env_last_event(e, b.id, "conversation/queued");
    assert_int_equal(ev_int(ev, "position"), 2);
    json_decref(ev);
    sb_conv_cleanup(&a);
    sb_conv_cleanup(&b);
}

static void test_offered_to_the_online_agent_then_accepted(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    json_t *ev, *r;
    int64_t ana, before, seq;

    ana = server_env_agent(e, "ana", online);
    assert_true(ana > 0);
    before = sb_now_ms();
    handed_off(e, "en", &conv);
    /* offered: still "queued" to the customer, offered_to set */
    assert_string_equal(status_of(e, conv.id), "queued");
    assert_int_equal(col(e, conv.id, "offered_to"), ana);
    assert_true(col(e, conv.id, "offer_expires_at") >= before + 30 * 1000);
    assert_true(col(e, conv.id, "offer_expires_at") <= sb_now_ms() + 30 * 1000);
    assert_string_equal(types_after(e, conv.id, 1),
                        "message/inbound conversation/handoff message/outbound "
                        "conversation/queued conversation/offered message/delivered");
    ev = server_env_last_event(e, conv.id, "conversation/offered");
    assert_int_equal(ev_int(json_object_get(ev, "agent"), "id"), ana);
    assert_string_equal(ev_str(json_object_get(ev, "agent"), "name"), "ana");
    assert_int_equal(ev_int(ev, "expires_at"), col(e, conv.id, "offer_expires_at"));
    json_decref(ev);

    seq = server_env_last_seq(e, conv.id);
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_ACCEPT, &eb), SB_OK);
    assert_string_equal(status_of(e, conv.id), "assigned");
    assert_int_equal(col(e, conv.id, "assignee"), ana);
    assert_int_equal(col(e, conv.id, "last_assignee"), ana);
    assert_int_equal(col(e, conv.id, "offered_to"), 0);
    assert_int_equal(col(e, conv.id, "offer_expires_at"), 0);
    assert_string_equal(types_after(e, conv.id, seq), "conversation/assigned");
    ev = server_env_last_event(e, conv.id, "conversation/assigned");
    assert_int_equal(ev_int(json_object_get(ev, "agent"), "id"), ana);
    assert_string_equal(ev_str(json_object_get(ev, "agent"), "name"), "ana");
    json_decref(ev);

    /* the customer sees an assigned conversation and no bot */
    r = server_env_say(e, &conv, "hi ana", NULL);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "assigned");
    assert_int_equal(json_array_size(json_object_get(r, "replies")), 0);
    json_decref(r);
    sb_conv_cleanup(&conv);
}

static void test_accept_is_refused_to_another_agent_and_twice(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    int64_t ana, bo, seq;

    ana = server_env_agent(e, "ana", online);
    bo = server_env_agent(e, "bo", NULL);
    handed_off(e, "en", &conv);
    assert_int_equal(col(e, conv.id, "offered_to"), ana);
    seq = server_env_last_seq(e, conv.id);
    assert_int_equal(server_env_act(e, conv.id, bo, ENV_ACCEPT, &eb), SB_ERR_CONFLICT);
    assert_string_equal(eb.msg, "this conversation is not offered to you");
    assert_int_equal(server_env_act(e, conv.id, bo, ENV_DECLINE, &eb), SB_ERR_CONFLICT);
    assert_string_equal(status_of(e, conv.id), "queued");
    assert_int_equal(col(e, conv.id, "offered_to"), ana);
    assert_int_equal(server_env_last_seq(e, conv.id), seq);

    assert_int_equal(server_env_act(e, conv.id, ana, ENV_ACCEPT, &eb), SB_OK);
    seq = server_env_last_seq(e, conv.id);
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_ACCEPT, &eb), SB_ERR_CONFLICT);
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_DECLINE, &eb), SB_ERR_CONFLICT);
    assert_string_equal(status_of(e, conv.id), "assigned");
    assert_int_equal(server_env_last_seq(e, conv.id), seq);
    sb_conv_cleanup(&conv);
}

static void test_accept_after_the_offer_expired_is_refused(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    int64_t ana;

    ana = server_env_agent(e, "ana", online);
    handed_off(e, "en", &conv);
    /* the timers have not run yet: the offer is there but past its time */
    sb_clock_advance_ms(31 * 1000);
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_ACCEPT, &eb), SB_ERR_CONFLICT);
    assert_string_equal(eb.msg, "the offer expired");
    assert_string_equal(status_of(e, conv.id), "queued");
    assert_int_equal(col(e, conv.id, "assignee"), 0);
    sb_conv_cleanup(&conv);
}

/* ---- decline, expiry, capacity, going offline ---- */

static void test_decline_skips_the_agent_and_offers_the_next(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    json_t *ev;
    int64_t ana, bo, first, second, seq;

    ana = server_env_agent(e, "ana", online);
    bo = server_env_agent(e, "bo", online);
    handed_off(e, "en", &conv);
    first = col(e, conv.id, "offered_to");
    assert_true(first == ana || first == bo);
    second = first == ana ? bo : ana;
    seq = server_env_last_seq(e, conv.id);
    assert_int_equal(server_env_act(e, conv.id, first, ENV_DECLINE, &eb), SB_OK);
    assert_string_equal(types_after(e, conv.id, seq), "conversation/queued conversation/offered");
    ev = server_env_last_event(e, conv.id, "conversation/queued");
    assert_string_equal(ev_str(ev, "reason"), "declined");
    assert_string_equal(ev_str(ev, "team"), "default");
    json_decref(ev);
    assert_int_equal(col(e, conv.id, "offered_to"), second);
    assert_int_equal(
        server_env_int(e, "SELECT user_id FROM offer_skips WHERE conversation_id = ?1", conv.id),
        first);

    /* the second declines too: nobody left, it waits, never offered again
     * to either */
    seq = server_env_last_seq(e, conv.id);
    assert_int_equal(server_env_act(e, conv.id, second, ENV_DECLINE, &eb), SB_OK);
    assert_string_equal(types_after(e, conv.id, seq), "conversation/queued");
    assert_int_equal(col(e, conv.id, "offered_to"), 0);
    assert_string_equal(status_of(e, conv.id), "queued");
    assert_int_equal(
        server_env_int(e, "SELECT count(*) FROM offer_skips WHERE conversation_id = ?1", conv.id),
        2);
    /* also after a restart of the routing state */
    handoff_rebuild(e->srv.handoff);
    sb_agents_config_changed(e->srv.handoff, "agents");
    server_env_flush(e);
    assert_int_equal(col(e, conv.id, "offered_to"), 0);
    sb_conv_cleanup(&conv);
}

static void test_an_offer_expires_back_to_the_queue(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *ev;
    int64_t ana, bo, seq;

    ana = server_env_agent(e, "ana", online);
    handed_off(e, "en", &conv);
    assert_int_equal(col(e, conv.id, "offered_to"), ana);
    bo = server_env_agent(e, "bo", NULL); /* offline: not offered while ana's offer runs */
    assert_int_equal(server_env_profile(e, bo, online), 0);
    assert_int_equal(col(e, conv.id, "offered_to"), ana);

    seq = server_env_last_seq(e, conv.id);
    server_env_advance(e, 29 * 1000); /* not yet */
    assert_int_equal(col(e, conv.id, "offered_to"), ana);
    assert_int_equal(server_env_last_seq(e, conv.id), seq);
    server_env_advance(e, 2 * 1000);
    assert_string_equal(types_after(e, conv.id, seq), "conversation/queued conversation/offered");
    ev = server_env_last_event(e, conv.id, "conversation/queued");
    assert_string_equal(ev_str(ev, "reason"), "offer_expired");
    assert_int_equal(ev_int(ev, "agent"), ana);
    json_decref(ev);
    assert_int_equal(col(e, conv.id, "offered_to"), bo);
    assert_int_equal(
        server_env_int(e, "SELECT user_id FROM offer_skips WHERE conversation_id = ?1", conv.id),
        ana);
    sb_conv_cleanup(&conv);
}

static void test_capacity_is_never_exceeded(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv a, b;
    int64_t ana;

    ana = server_env_agent(e, "ana",
                           "{\"status\": \"online\", \"capacity\": 1,"
                           " \"teams\": [\"default\"]}");
    handed_off(e, "en", &a);
    handed_off(e, "en", &b);
    assert_int_equal(col(e, a.id, "offered_to"), ana);
    assert_int_equal(col(e, b.id, "offered_to"), 0); /* the offer counts as load */
    assert_int_equal(server_env_act(e, a.id, ana, ENV_ACCEPT, &eb), SB_OK);
    assert_int_equal(col(e, b.id, "offered_to"), 0);
    /* a claim beyond capacity is refused too */
    assert_int_equal(server_env_act(e, b.id, ana, ENV_CLAIM, &eb), SB_ERR_CONFLICT);
    assert_string_equal(status_of(e, b.id), "queued");
    /* resolving the first frees the room: the second is offered */
    assert_int_equal(server_env_act(e, a.id, ana, ENV_RESOLVE, &eb), SB_OK);
    assert_int_equal(col(e, b.id, "offered_to"), ana);
    sb_conv_cleanup(&a);
    sb_conv_cleanup(&b);
}

static void test_going_offline_withdraws_offers(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    int64_t ana;

    ana = server_env_agent(e, "ana", online);
    handed_off(e, "en", &conv);
    assert_int_equal(col(e, conv.id, "offered_to"), ana);
    assert_int_equal(server_env_profile(e, ana, "{\"status\": \"offline\"}"), 0);
    assert_int_equal(col(e, conv.id, "offered_to"), 0);
    assert_string_equal(status_of(e, conv.id), "queued");
    /* withdrawn, not skipped: back online, offered again */
    assert_int_equal(
        server_env_int(e, "SELECT count(*) FROM offer_skips WHERE conversation_id = ?1", conv.id),
        0);
    assert_int_equal(server_env_profile(e, ana, "{\"status\": \"online\"}"), 0);
    assert_int_equal(col(e, conv.id, "offered_to"), ana);
    sb_conv_cleanup(&conv);
}

/* ---- claim ---- */

static void test_claim_from_the_queue(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv a, b;
    int64_t ana, bo, seq;

    ana = server_env_agent(e, "ana", online);
    handed_off(e, "en", &a); /* offered to ana */
    bo = server_env_agent(e, "bo", online);
    handed_off(e, "en", &b); /* offered to bo, the less loaded */
    assert_int_equal(col(e, b.id, "offered_to"), bo);

    /* someone else's offer cannot be claimed */
    seq = server_env_last_seq(e, a.id);
    assert_int_equal(server_env_act(e, a.id, bo, ENV_CLAIM, &eb), SB_ERR_CONFLICT);
    assert_string_equal(eb.msg, "someone else has this conversation");
    assert_int_equal(server_env_last_seq(e, a.id), seq);
    /* one's own offer can */
    assert_int_equal(server_env_act(e, a.id, ana, ENV_CLAIM, &eb), SB_OK);
    assert_string_equal(status_of(e, a.id), "assigned");
    assert_int_equal(col(e, a.id, "assignee"), ana);
    assert_string_equal(types_after(e, a.id, seq), "conversation/assigned");
    /* an assigned one cannot */
    assert_int_equal(server_env_act(e, a.id, bo, ENV_CLAIM, &eb), SB_ERR_CONFLICT);
    assert_int_equal(col(e, a.id, "assignee"), ana);
    sb_conv_cleanup(&a);
    sb_conv_cleanup(&b);
}

static void test_claim_needs_a_team_that_allows_picking(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    int64_t ana;

    assert_int_equal(
        server_env_team(e, "default", "{\"name\": \"Default\", \"allow_pick\": false}"), 0);
    ana = server_env_agent(e, "ana", NULL); /* offline: no offer */
    handed_off(e, "en", &conv);
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_CLAIM, &eb), SB_ERR_FORBIDDEN);
    assert_string_equal(status_of(e, conv.id), "queued");
    /* a supervisor may, also without room */
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_CLAIM_SUPERVISOR, &eb), SB_OK);
    assert_string_equal(status_of(e, conv.id), "assigned");
    assert_int_equal(col(e, conv.id, "assignee"), ana);
    sb_conv_cleanup(&conv);
}

/* ---- resolve, ratings, reopening ---- */

/* A conversation assigned to a new online agent "ana"; her id. */
static int64_t assigned(struct server_env *e, struct sb_conv *conv)
{
    struct sb_errbuf eb = {{0}};
    int64_t ana = server_env_agent(e, "ana", online);
    handed_off(e, "en", conv);
    assert_int_equal(server_env_act(e, conv->id, ana, ENV_ACCEPT, &eb), SB_OK);
    return ana;
}

static void test_resolve_asks_for_a_rating(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    json_t *ev, *msg, *qr;
    int64_t ana, seq, before;
    char by[32];

    ana = assigned(e, &conv);
    seq = server_env_last_seq(e, conv.id);
    before = sb_now_ms();
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_RESOLVE, &eb), SB_OK);
    assert_string_equal(status_of(e, conv.id), "resolved");
    assert_true(col(e, conv.id, "resolved_at") >= before);
    snprintf(by, sizeof(by), "agent:%lld", (long long)ana);
    {
        char got[32];
        assert_string_equal(server_env_text(e,
                                            "SELECT resolved_by FROM conversations WHERE id = ?1",
                                            conv.id, got, sizeof(got)),
                            by);
    }
    assert_string_equal(types_after(e, conv.id, seq), "conversation/resolved message/outbound");
    ev = server_env_last_event(e, conv.id, "conversation/resolved");
    assert_string_equal(ev_str(ev, "by"), by);
    assert_null(json_object_get(ev, "article_id"));
    json_decref(ev);
    ev = server_env_last_event(e, conv.id, "message/outbound");
    msg = json_object_get(ev, "message");
    assert_string_equal(ev_str(msg, "author"), "system");
    assert_string_equal(ev_str(msg, "text"),
                        "Your conversation was resolved. How did we do? Rate us from 1 to 5.");
    qr = json_object_get(msg, "quick_replies");
    assert_int_equal(json_array_size(qr), 5);
    assert_string_equal(ev_str(json_array_get(qr, 0), "title"), "1");
    assert_string_equal(ev_str(json_array_get(qr, 4), "payload"), "/rate 5");
    json_decref(ev);

    /* resolved is an end: resolving or returning it again is refused */
    seq = server_env_last_seq(e, conv.id);
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_RESOLVE, &eb), SB_ERR_CONFLICT);
    assert_string_equal(eb.msg, "the conversation is resolved");
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_RETURN, &eb), SB_ERR_CONFLICT);
    assert_int_equal(server_env_last_seq(e, conv.id), seq);
    sb_conv_cleanup(&conv);
}

static void test_resolve_and_return_refused_while_with_the_bot(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    int64_t ana;

    ana = server_env_agent(e, "ana", online);
    assert_int_equal(server_env_conv(e, "en", &conv), 0);
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_RESOLVE, &eb), SB_ERR_CONFLICT);
    assert_string_equal(eb.msg, "the conversation is bot");
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_RETURN, &eb), SB_ERR_CONFLICT);
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_ACCEPT, &eb), SB_ERR_CONFLICT);
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_CLAIM, &eb), SB_ERR_CONFLICT);
    assert_string_equal(status_of(e, conv.id), "bot");
    assert_int_equal(server_env_last_seq(e, conv.id), 1);
    sb_conv_cleanup(&conv);
}

static void test_a_rating_is_stored_and_does_not_reopen(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    json_t *r, *ev;
    int64_t ana, seq;

    ana = assigned(e, &conv);
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_RESOLVE, &eb), SB_OK);
    seq = server_env_last_seq(e, conv.id);
    r = server_env_say(e, &conv, "/rate 4", NULL);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "resolved");
    assert_int_equal(json_array_size(json_object_get(r, "replies")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "replies"), 0), "text")),
                        "Thank you for your rating!");
    assert_int_equal(col(e, conv.id, "csat"), 4);
    assert_string_equal(status_of(e, conv.id), "resolved");
    assert_string_equal(types_after(e, conv.id, seq), "message/inbound csat message/outbound");
    ev = server_env_last_event(e, conv.id, "csat");
    assert_int_equal(ev_int(ev, "rating"), 4);
    json_decref(ev);
    json_decref(r);

    /* the widget's payload form, a second time: the new rating counts */
    r = server_env_say_payload(e, &conv, "5", NULL, "/rate:5");
    assert_int_equal(col(e, conv.id, "csat"), 5);
    assert_string_equal(status_of(e, conv.id), "resolved");
    json_decref(r);
    sb_conv_cleanup(&conv);
}

static void test_writing_within_the_window_reopens_to_the_last_agent(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    json_t *r, *ev;
    int64_t ana, seq;

    ana = assigned(e, &conv);
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_RESOLVE, &eb), SB_OK);
    server_env_advance(e, 60 * MINUTE_MS);
    seq = server_env_last_seq(e, conv.id);
    r = server_env_say(e, &conv, "it broke again", NULL);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "queued");
    assert_int_equal(json_array_size(json_object_get(r, "replies")), 0); /* no bot */
    assert_string_equal(status_of(e, conv.id), "queued");
    assert_int_equal(col(e, conv.id, "reopen_count"), 1);
    assert_int_equal(col(e, conv.id, "resolved_at"), 0);
    assert_int_equal(col(e, conv.id, "offered_to"), ana);
    assert_string_equal(types_after(e, conv.id, seq),
                        "message/inbound conversation/reopened conversation/offered "
                        "message/delivered");
    ev = server_env_last_event(e, conv.id, "conversation/reopened");
    assert_string_equal(ev_str(ev, "status"), "queued");
    json_decref(ev);
    /* the SLA clock starts again */
    assert_true(col(e, conv.id, "first_response_due") > col(e, conv.id, "queued_at"));
    assert_int_equal(col(e, conv.id, "first_response_due") - 5 * MINUTE_MS,
                     col(e, conv.id, "first_response_warn") - 4 * MINUTE_MS);
    /* a rating is no longer one once it is open again */
    json_decref(r);
    r = server_env_say(e, &conv, "/rate 1", NULL);
    assert_int_equal(col(e, conv.id, "csat"), 0);
    json_decref(r);
    sb_conv_cleanup(&conv);
}

static void test_reopened_goes_to_the_queue_when_the_last_agent_is_away(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    json_t *r;
    int64_t ana, seq;

    ana = assigned(e, &conv);
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_RESOLVE, &eb), SB_OK);
    assert_int_equal(server_env_profile(e, ana, "{\"status\": \"away\"}"), 0);
    seq = server_env_last_seq(e, conv.id);
    r = server_env_say(e, &conv, "it broke again", NULL);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "queued");
    assert_int_equal(col(e, conv.id, "offered_to"), 0);
    assert_string_equal(types_after(e, conv.id, seq),
                        "message/inbound conversation/reopened conversation/queued "
                        "message/delivered");
    json_decref(r);
    sb_conv_cleanup(&conv);
}

static void test_writing_after_the_window_goes_back_to_the_bot(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    json_t *r, *ev;
    int64_t ana, seq;

    ana = assigned(e, &conv);
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_RESOLVE, &eb), SB_OK);
    server_env_advance(e, ((int64_t)e->srv.cfg.reopen_window_s + 1) * 1000);
    seq = server_env_last_seq(e, conv.id);
    /* too late for a rating as well: the bot answers it */
    r = server_env_say(e, &conv, "/rate 5", NULL);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "bot");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "replies"), 0), "text")),
                        "echo: /rate 5");
    assert_int_equal(col(e, conv.id, "csat"), 0);
    assert_string_equal(status_of(e, conv.id), "bot");
    assert_string_equal(types_after(e, conv.id, seq),
                        "message/inbound conversation/reopened message/outbound "
                        "message/delivered");
    ev = server_env_last_event(e, conv.id, "conversation/reopened");
    assert_string_equal(ev_str(ev, "status"), "bot");
    json_decref(ev);
    json_decref(r);
    sb_conv_cleanup(&conv);
}

/* ---- return to the bot, transfer ---- */

static void test_return_to_bot(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    json_t *r, *ev;
    int64_t ana, seq;

    ana = assigned(e, &conv);
    seq = server_env_last_seq(e, conv.id);
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_RETURN, &eb), SB_OK);
    assert_string_equal(status_of(e, conv.id), "bot");
    assert_int_equal(col(e, conv.id, "assignee"), 0);
    assert_string_equal(types_after(e, conv.id, seq), "conversation/returned_to_bot");
    ev = server_env_last_event(e, conv.id, "conversation/returned_to_bot");
    assert_string_equal(ev_str(ev, "status"), "bot");
    assert_true(strncmp(ev_str(ev, "by"), "agent:", 6) == 0);
    json_decref(ev);
    r = server_env_say(e, &conv, "thanks", NULL);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "replies"), 0), "text")),
                        "echo: thanks");
    json_decref(r);
    /* ana's room is free again: a new hand-off is offered to her */
    json_decref(server_env_say(e, &conv, "human again", NULL));
    assert_int_equal(col(e, conv.id, "offered_to"), ana);
    sb_conv_cleanup(&conv);
}

static void test_return_to_bot_from_the_queue(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    int64_t ana;

    ana = server_env_agent(e, "ana", online);
    handed_off(e, "en", &conv);
    assert_int_equal(col(e, conv.id, "offered_to"), ana);
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_RETURN, &eb), SB_OK);
    assert_string_equal(status_of(e, conv.id), "bot");
    assert_int_equal(col(e, conv.id, "offered_to"), 0);
    assert_int_equal(col(e, conv.id, "offer_expires_at"), 0);
    /* no offer left to expire */
    server_env_advance(e, 31 * 1000);
    assert_null(server_env_last_event(e, conv.id, "sla/warning"));
    assert_string_equal(status_of(e, conv.id), "bot");
    sb_conv_cleanup(&conv);
}

static void test_transfer_to_a_team(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    json_t *ev;
    int64_t ana, cy, seq;

    assert_int_equal(server_env_team(e, "billing", "{\"name\": \"Billing\"}"), 0);
    ana = assigned(e, &conv);
    cy = server_env_agent(e, "cy", "{\"status\": \"online\", \"teams\": [\"billing\"]}");
    seq = server_env_last_seq(e, conv.id);
    assert_int_equal(server_env_transfer(e, conv.id, ana, "billing", 0, "invoice question", &eb),
                     SB_OK);
    assert_string_equal(status_of(e, conv.id), "queued");
    assert_string_equal(team_of(e, conv.id), "billing");
    assert_int_equal(col(e, conv.id, "assignee"), 0);
    assert_int_equal(col(e, conv.id, "offered_to"), cy); /* not ana: she is not in billing */
    assert_string_equal(types_after(e, conv.id, seq),
                        "conversation/transferred conversation/queued conversation/offered");
    ev = server_env_last_event(e, conv.id, "conversation/transferred");
    assert_int_equal(ev_int(ev, "from"), ana);
    assert_string_equal(ev_str(ev, "to_team"), "billing");
    assert_string_equal(ev_str(ev, "note"), "invoice question");
    assert_true(json_is_null(json_object_get(ev, "to_agent")));
    json_decref(ev);
    ev = server_env_last_event(e, conv.id, "conversation/queued");
    assert_string_equal(ev_str(ev, "team"), "billing");
    json_decref(ev);
    sb_conv_cleanup(&conv);
}

static void test_transfer_to_an_agent(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    json_t *ev;
    int64_t ana, bo, seq;

    ana = assigned(e, &conv);
    bo = server_env_agent(e, "bo", online);
    seq = server_env_last_seq(e, conv.id);
    assert_int_equal(server_env_transfer(e, conv.id, ana, NULL, bo, NULL, &eb), SB_OK);
    assert_string_equal(status_of(e, conv.id), "queued");
    assert_int_equal(col(e, conv.id, "offered_to"), bo);
    assert_string_equal(types_after(e, conv.id, seq),
                        "conversation/transferred conversation/offered");
    ev = server_env_last_event(e, conv.id, "conversation/transferred");
    assert_int_equal(ev_int(ev, "to_agent"), bo);
    assert_true(json_is_null(json_object_get(ev, "to_team")));
    json_decref(ev);
    assert_int_equal(server_env_act(e, conv.id, bo, ENV_ACCEPT, &eb), SB_OK);
    assert_int_equal(col(e, conv.id, "assignee"), bo);
    sb_conv_cleanup(&conv);
}

static void test_transfer_refusals_change_nothing(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv, bot;
    int64_t ana, seq;

    ana = assigned(e, &conv);
    seq = server_env_last_seq(e, conv.id);
    assert_int_equal(server_env_transfer(e, conv.id, ana, "nope", 0, NULL, &eb), SB_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "no such team");
    assert_int_equal(server_env_transfer(e, conv.id, ana, NULL, 999, NULL, &eb), SB_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "no such agent");
    assert_string_equal(status_of(e, conv.id), "assigned");
    assert_int_equal(col(e, conv.id, "assignee"), ana);
    assert_int_equal(server_env_last_seq(e, conv.id), seq);

    assert_int_equal(server_env_conv(e, "en", &bot), 0);
    assert_int_equal(server_env_transfer(e, bot.id, ana, "default", 0, NULL, &eb), SB_ERR_CONFLICT);
    assert_string_equal(status_of(e, bot.id), "bot");
    sb_conv_cleanup(&conv);
    sb_conv_cleanup(&bot);
}

/* ---- SLAs ---- */

static void test_first_response_warning_then_breach_once_each(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *ev;
    int64_t seq, due, warned0, breached0;

    handed_off(e, "en", &conv);
    due = col(e, conv.id, "first_response_due");
    warned0 = (int64_t)e->srv.metrics.sla_warnings[SB_SLA_FIRST_RESPONSE];
    breached0 = (int64_t)e->srv.metrics.sla_breaches[SB_SLA_FIRST_RESPONSE];
    seq = server_env_last_seq(e, conv.id);
    server_env_clock_set(e, col(e, conv.id, "first_response_warn") - 1000);
    assert_int_equal(server_env_last_seq(e, conv.id), seq);
    server_env_clock_set(e, col(e, conv.id, "first_response_warn"));
    assert_string_equal(types_after(e, conv.id, seq), "sla/warning");
    ev = server_env_last_event(e, conv.id, "sla/warning");
    assert_string_equal(ev_str(ev, "kind"), "first_response");
    assert_int_equal(ev_int(ev, "due_at"), due);
    json_decref(ev);
    assert_int_equal(col(e, conv.id, "sla_warned") & 1, 1);
    server_env_advance(e, 1000); /* fires once */
    assert_int_equal(server_env_last_seq(e, conv.id), seq + 1);

    server_env_clock_set(e, due);
    assert_string_equal(types_after(e, conv.id, seq + 1), "sla/breached");
    ev = server_env_last_event(e, conv.id, "sla/breached");
    assert_string_equal(ev_str(ev, "kind"), "first_response");
    json_decref(ev);
    assert_int_equal(col(e, conv.id, "sla_breached") & 1, 1);
    server_env_advance(e, MINUTE_MS);
    assert_int_equal(server_env_last_seq(e, conv.id), seq + 2);
    assert_int_equal((int64_t)e->srv.metrics.sla_warnings[SB_SLA_FIRST_RESPONSE], warned0 + 1);
    assert_int_equal((int64_t)e->srv.metrics.sla_breaches[SB_SLA_FIRST_RESPONSE], breached0 + 1);
    sb_conv_cleanup(&conv);
}

static void test_an_agent_reply_meets_the_first_and_next_response(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *r;
    int64_t seq, now;

    assigned(e, &conv);
    assert_int_equal(server_env_agent_replied(e, conv.id), SB_OK);
    assert_true(col(e, conv.id, "first_response_at") > 0);
    /* met: no first-response warning when its time comes */
    seq = server_env_last_seq(e, conv.id);
    server_env_clock_set(e, col(e, conv.id, "first_response_due") + 1000);
    assert_int_equal(server_env_last_seq(e, conv.id), seq);

    /* the customer writes: the next response is due in 15 minutes */
    now = sb_now_ms();
    r = server_env_say(e, &conv, "and another thing", NULL);
    json_decref(r);
    assert_true(col(e, conv.id, "next_response_due") >= now + 15 * MINUTE_MS);
    assert_true(col(e, conv.id, "next_response_due") <= sb_now_ms() + 15 * MINUTE_MS);
    /* a second message before the reply does not move it */
    {
        int64_t due = col(e, conv.id, "next_response_due");
        server_env_advance(e, MINUTE_MS);
        json_decref(server_env_say(e, &conv, "hello?", NULL));
        assert_int_equal(col(e, conv.id, "next_response_due"), due);
    }
    assert_int_equal(server_env_agent_replied(e, conv.id), SB_OK);
    assert_int_equal(col(e, conv.id, "next_response_due"), 0);
    seq = server_env_last_seq(e, conv.id);
    server_env_advance(e, 20 * MINUTE_MS);
    assert_null(server_env_last_event(e, conv.id, "sla/breached"));
    sb_conv_cleanup(&conv);
}

static void test_no_sla_events_once_resolved(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    int64_t ana, seq, due;

    ana = assigned(e, &conv);
    due = col(e, conv.id, "resolution_due");
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_RESOLVE, &eb), SB_OK);
    seq = server_env_last_seq(e, conv.id);
    server_env_clock_set(e, due + 1000);
    assert_int_equal(server_env_last_seq(e, conv.id), seq);
    sb_conv_cleanup(&conv);
}

static void test_a_routing_rule_sets_team_and_priority(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv pt, en;
    json_t *rules = json_loads("[{\"match\": {\"locale\": \"pt\"}, \"team\": \"brasil\","
                               " \"priority\": 1, \"skills\": []}]",
                               0, NULL),
           *clean = NULL;
    json_t *ev;

    assert_int_equal(server_env_team(e, "brasil", "{\"name\": \"Brasil\"}"), 0);
    assert_int_equal(routing_rules_validate(rules, &clean, &eb), SB_OK);
    assert_int_equal(sb_store_begin(e->srv.store), SB_OK);
    assert_int_equal(agent_store_rules_put(e->srv.store, clean, &eb), SB_OK);
    assert_int_equal(sb_store_commit(e->srv.store), SB_OK);
    server_env_flush(e);
    sb_agents_config_changed(e->srv.handoff, "rules");
    json_decref(rules);
    json_decref(clean);

    handed_off(e, "pt-BR", &pt);
    handed_off(e, "en", &en);
    assert_string_equal(team_of(e, pt.id), "brasil");
    assert_int_equal(col(e, pt.id, "priority"), 1);
    /* priority 1 without its own policy: the defaults halved */
    assert_int_equal(col(e, pt.id, "resolution_due") - col(e, pt.id, "first_response_due"),
                     12 * 60 * MINUTE_MS - 5 * MINUTE_MS / 2);
    assert_int_equal(col(e, pt.id, "first_response_due") - col(e, pt.id, "first_response_warn"),
                     5 * MINUTE_MS / 2 / 5);
    assert_int_equal(col(e, en.id, "resolution_due") - col(e, en.id, "first_response_due"),
                     24 * 60 * MINUTE_MS - 5 * MINUTE_MS);
    ev = server_env_last_event(e, pt.id, "conversation/queued");
    assert_string_equal(ev_str(ev, "team"), "brasil");
    assert_int_equal(ev_int(ev, "priority"), 1);
    json_decref(ev);
    assert_string_equal(team_of(e, en.id), "default");
    assert_int_equal(col(e, en.id, "priority"), 0);
    sb_conv_cleanup(&pt);
    sb_conv_cleanup(&en);
}

static void test_the_route_hook_has_the_last_word(void **state)
{
    struct server_env *e = *state;
    struct sb_conv vip, other;
    char src[1024], skills[128];

    assert_int_equal(server_env_team(e, "vip", "{\"name\": \"VIP\"}"), 0);
    /* the same intents, and a hook: "vip" customers to team vip, urgent,
     * with a skill; a team that does not exist is ignored */
    snprintf(src, sizeof(src),
             "%s"
             "sb.hook{ event='route', handler=function(c)\n"
             "  if c.locale == 'ro' then return {team='vip', priority=2,"
             " skills={'topic:gold'}} end\n"
             "  return {team='nope'} end }\n",
             plugins);
    assert_int_equal(server_env_plugin(e, src), 0);
    handed_off(e, "ro", &vip);
    handed_off(e, "en", &other);
    assert_string_equal(team_of(e, vip.id), "vip");
    assert_int_equal(col(e, vip.id, "priority"), 2);
    assert_string_equal(server_env_text(e, "SELECT skills FROM conversations WHERE id = ?1", vip.id,
                                        skills, sizeof(skills)),
                        "[\"topic:gold\"]");
    assert_string_equal(team_of(e, other.id), "default");
    assert_int_equal(col(e, other.id, "priority"), 0);
    sb_conv_cleanup(&vip);
    sb_conv_cleanup(&other);
}

static void test_a_team_that_requires_the_language(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    char skills[128];
    int64_t ana, bo;

    assert_int_equal(
        server_env_team(e, "default", "{\"name\": \"Default\", \"require_language\": true}"), 0);
    ana = server_env_agent(e, "ana", online);
    handed_off(e, "pt-BR", &conv);
    assert_string_equal(server_env_text(e, "SELECT skills FROM conversations WHERE id = ?1",
                                        conv.id, skills, sizeof(skills)),
                        "[\"lang:pt-BR\"]");
    assert_int_equal(col(e, conv.id, "offered_to"), 0); /* ana lacks the skill */
    assert_true(ana > 0);
    bo = server_env_agent(e, "bo",
                          "{\"status\": \"online\", \"teams\": [\"default\"],"
                          " \"skills\": [\"lang:pt-BR\"]}");
    assert_int_equal(col(e, conv.id, "offered_to"), bo);
    sb_conv_cleanup(&conv);
}

static void test_next_response_breach(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *ev;
    int64_t seq;

    assigned(e, &conv);
    assert_int_equal(server_env_agent_replied(e, conv.id), SB_OK);
    json_decref(server_env_say(e, &conv, "one more question", NULL));
    seq = server_env_last_seq(e, conv.id);
    server_env_clock_set(e, col(e, conv.id, "next_response_due"));
    assert_string_equal(types_after(e, conv.id, seq), "sla/warning sla/breached");
    ev = server_env_last_event(e, conv.id, "sla/breached");
    assert_string_equal(ev_str(ev, "kind"), "next_response");
    assert_int_equal(ev_int(ev, "due_at"), col(e, conv.id, "next_response_due"));
    json_decref(ev);
    assert_int_equal(col(e, conv.id, "sla_breached"), 2);
    sb_conv_cleanup(&conv);
}

/* The routing state is rebuilt from the store at start: an offer in
 * flight still counts against the agent's capacity, and a skip is kept. */
static void test_the_routing_state_survives_a_restart(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv a, b;
    int64_t ana;

    ana = server_env_agent(e, "ana",
                           "{\"status\": \"online\", \"capacity\": 1,"
                           " \"teams\": [\"default\"]}");
    handed_off(e, "en", &a);
    assert_int_equal(col(e, a.id, "offered_to"), ana);
    handoff_stop(e->srv.handoff);
    assert_int_equal(server_env_handoff_start(&e->srv, &eb), SB_OK);
    handed_off(e, "en", &b);
    assert_int_equal(col(e, b.id, "offered_to"), 0);
    /* and a's offer stands as it was: not made a second time */
    assert_int_equal(server_env_int(e,
                                    "SELECT count(*) FROM events WHERE conversation_id = ?1"
                                    " AND type = 'conversation/offered'",
                                    a.id),
                     1);
    /* ana declines a after the restart: b is hers, a never again */
    assert_int_equal(server_env_act(e, a.id, ana, ENV_DECLINE, &eb), SB_OK);
    assert_int_equal(col(e, b.id, "offered_to"), ana);
    handoff_stop(e->srv.handoff);
    assert_int_equal(server_env_handoff_start(&e->srv, &eb), SB_OK);
    assert_int_equal(server_env_act(e, b.id, ana, ENV_DECLINE, &eb), SB_OK);
    assert_int_equal(col(e, a.id, "offered_to"), 0);
    assert_int_equal(col(e, b.id, "offered_to"), 0);
    sb_conv_cleanup(&a);
    sb_conv_cleanup(&b);
}

/* ---- business hours ---- */

/* Monday 2027-01-04 08:00 UTC: an hour before the team opens. */
#define MONDAY_8AM 1799049600000LL
#define HOUR_MS (60 * MINUTE_MS)

static void test_outside_business_hours(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *r;
    int64_t ana, seq;

    server_env_clock_set(e, MONDAY_8AM);
    assert_int_equal(server_env_team(e, "default",
                                     "{\"name\": \"Default\", \"timezone\": \"UTC\","
                                     " \"hours\": {\"mon\": [[\"09:00\", \"18:00\"]]},"
                                     " \"outside_hours\": {\"en\": \"Urgent? Call us.\"}}"),
                     0);
    ana = server_env_agent(e, "ana", online);
    assert_int_equal(server_env_conv(e, "en", &conv), 0);
    r = server_env_say(e, &conv, "human please", "h1");
    /* the customer hears when the team is back, after the hand-off notice */
    assert_string_equal(json_string_value(json_object_get(r, "status")), "queued");
    assert_int_equal(json_array_size(json_object_get(r, "replies")), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "replies"), 1), "text")),
                        "Our team is back on Monday at 09:00 (UTC). We'll answer here. "
                        "Urgent? Call us.");
    json_decref(r);
    /* nobody is offered it while the team is closed */
    assert_int_equal(col(e, conv.id, "offered_to"), 0);
    /* SLA minutes count business time: due five minutes after opening */
    assert_int_equal(col(e, conv.id, "first_response_due"), MONDAY_8AM + HOUR_MS + 5 * MINUTE_MS);
    assert_int_equal(col(e, conv.id, "first_response_warn"), MONDAY_8AM + HOUR_MS + 4 * MINUTE_MS);

    seq = server_env_last_seq(e, conv.id);
    server_env_clock_set(e, MONDAY_8AM + HOUR_MS - 1000);
    assert_int_equal(col(e, conv.id, "offered_to"), 0);
    server_env_clock_set(e, MONDAY_8AM + HOUR_MS);
    assert_int_equal(col(e, conv.id, "offered_to"), ana);
    assert_string_equal(types_after(e, conv.id, seq), "conversation/offered");
    sb_conv_cleanup(&conv);
}

/* Regression, issue 15: the system messages handoff.c sends while
 * answering a customer's message (the closed-hours notice, the thank-you
 * for a rating) were stored without reply_to, so a retried message,
 * answered from sb_store_replies(), missed them. Every message sent while
 * answering one is now linked to it by the send path (conv/send.c). */
static void same_replies(json_t *first, json_t *again)
{
    size_t want = json_array_size(json_object_get(first, "replies"));
    size_t got = json_array_size(json_object_get(again, "replies"));
    assert_true(json_is_true(json_object_get(again, "duplicate")));
    assert_int_equal(got, want);
    assert_true(json_equal(json_object_get(again, "replies"), json_object_get(first, "replies")));
}

/* A retried message gets the answer the first delivery got (docs/api.md:
 * "the same client_id again stores nothing and returns the first answer").
 * Outside business hours the first answer carried the closed notice. */
static void test_a_retried_handoff_message_is_answered_the_same(void **state)
{
    struct server_env *e = *state;
    struct sb_conv conv;
    json_t *first, *again;

    server_env_clock_set(e, MONDAY_8AM);
    assert_int_equal(server_env_team(e, "default",
                                     "{\"name\": \"Default\", \"timezone\": \"UTC\","
                                     " \"hours\": {\"mon\": [[\"09:00\", \"18:00\"]]}}"),
                     0);
    assert_int_equal(server_env_conv(e, "en", &conv), 0);
    first = server_env_say(e, &conv, "human please", "h1");
    again = server_env_say(e, &conv, "human please", "h1");
    sb_conv_cleanup(&conv);
    same_replies(first, again);
    json_decref(first);
    json_decref(again);
}

/* The same for a rating: the first answer thanked the customer. */
static void test_a_retried_rating_is_answered_the_same(void **state)
{
    struct server_env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv conv;
    json_t *first, *again;
    int64_t ana;

    ana = assigned(e, &conv);
    assert_int_equal(server_env_act(e, conv.id, ana, ENV_RESOLVE, &eb), SB_OK);
    first = server_env_say(e, &conv, "/rate 4", "r1");
    again = server_env_say(e, &conv, "/rate 4", "r1");
    sb_conv_cleanup(&conv);
    same_replies(first, again);
    json_decref(first);
    json_decref(again);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_queued_with_sla_due_times_when_nobody_is_online),
        T(test_queue_positions_follow_arrival),
        T(test_offered_to_the_online_agent_then_accepted),
        T(test_accept_is_refused_to_another_agent_and_twice),
        T(test_accept_after_the_offer_expired_is_refused),
        T(test_decline_skips_the_agent_and_offers_the_next),
        T(test_an_offer_expires_back_to_the_queue),
        T(test_capacity_is_never_exceeded),
        T(test_going_offline_withdraws_offers),
        T(test_claim_from_the_queue),
        T(test_claim_needs_a_team_that_allows_picking),
        T(test_resolve_asks_for_a_rating),
        T(test_resolve_and_return_refused_while_with_the_bot),
        T(test_a_rating_is_stored_and_does_not_reopen),
        T(test_writing_within_the_window_reopens_to_the_last_agent),
        T(test_reopened_goes_to_the_queue_when_the_last_agent_is_away),
        T(test_writing_after_the_window_goes_back_to_the_bot),
        T(test_return_to_bot),
        T(test_return_to_bot_from_the_queue),
        T(test_transfer_to_a_team),
        T(test_transfer_to_an_agent),
        T(test_transfer_refusals_change_nothing),
        T(test_first_response_warning_then_breach_once_each),
        T(test_an_agent_reply_meets_the_first_and_next_response),
        T(test_no_sla_events_once_resolved),
        T(test_a_routing_rule_sets_team_and_priority),
        T(test_the_route_hook_has_the_last_word),
        T(test_a_team_that_requires_the_language),
        T(test_next_response_breach),
        T(test_the_routing_state_survives_a_restart),
        T(test_outside_business_hours),
        T(test_a_retried_handoff_message_is_answered_the_same),
        T(test_a_retried_rating_is_answered_the_same),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
