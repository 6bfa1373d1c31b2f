/*
 * test_handoff_state.c - core/agents/handoff.c and core/agents/handoff_ops.c without a server:
 * the state machine over a real store and the routing core. A hand-off
 * offers to the online agent of the team; accepting assigns; declining
 * skips the agent; resolving frees the agent's capacity; a rolled-back
 * unit leaves neither rows nor router changes behind (the router follows
 * a unit only when it commits); every event wakes its followers once,
 * after commit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "handoff_int.h"
#include "sb_log.h"
#include "store_agent.h"

struct env {
    char dir[64];
    char path[128];
    struct sb_store *st;
    struct sb_config cfg;
    uint64_t messages_out, warnings[3], breaches[3];
    struct handoff_state *ho;
    int64_t agent, agent2;
    int wakes; /* conversations woken after commit */
};

static void exec(struct sb_store *st, const char *sql)
{
    assert_int_equal(sqlite3_exec(sb_store_db(st), sql, NULL, NULL, NULL), SQLITE_OK);
}

static void woken(void *arg, int64_t conv)
{
    (void)conv;
    ((struct env *)arg)->wakes++;
}

/* What the server's event hook does: a durable effect per stored event. */
static void on_event(void *arg, int64_t conv)
{
    struct env *e = arg;
    sb_store_effect(e->st, SB_EFFECT_DURABLE, woken, e, conv, NULL);
}

static int64_t add_agent(struct env *e, const char *email, const char *status)
{
    int64_t id = 0;
    char sql[160];
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    assert_int_equal(sb_user_add(e->st, email, email, "en", SB_ROLE_AGENT, "x", &id), SB_OK);
    assert_int_equal(sb_store_agent_status_set(e->st, id, status, 1), SB_OK);
    snprintf(sql, sizeof(sql), "INSERT INTO team_members(team_id, user_id) VALUES('default', %lld)",
             (long long)id);
    exec(e->st, sql);
    assert_int_equal(sb_store_commit(e->st), SB_OK);
    assert_int_equal(sb_store_flush(e->st), SB_OK);
    return id;
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    struct sb_errbuf eb = {{0}};
    if (!e) return -1;
    sb_log_set_level(SB_LOG_ERROR + 1);
    snprintf(e->dir, sizeof(e->dir), "/tmp/sb-handoff-test-XXXXXX");
    if (!mkdtemp(e->dir)) return -1;
    snprintf(e->path, sizeof(e->path), "%s/test.db", e->dir);
    if (sb_store_open(e->path, "NORMAL", &e->st, &eb) != SB_OK) return -1;
    sb_config_defaults(&e->cfg);
    e->agent = add_agent(e, "a@example.com", "online");
    e->agent2 = add_agent(e, "b@example.com", "offline");
    if (handoff_start(&(struct handoff_deps){.store = e->st,
                                             .cfg = &e->cfg,
                                             .messages_out = &e->messages_out,
                                             .sla_warnings = e->warnings,
                                             .sla_breaches = e->breaches},
                      &e->ho, &eb) != SB_OK)
        return -1;
    sb_store_on_event(e->st, on_event, e);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[160];
    handoff_stop(e->ho);
    sb_store_close(e->st);
    for (size_t i = 0; i < SB_ARRAY_LEN(suffix); i++) {
        snprintf(p, sizeof(p), "%s%s", e->path, suffix[i]);
        unlink(p);
    }
    rmdir(e->dir);
    free(e);
    return 0;
}

/* A conversation the bot handed off: status queued, not yet in a team. */
static void handed_off(struct env *e, const char *who, struct sb_conv *c)
{
    assert_int_equal(sb_store_conv_create(e->st, "web", who, "en", NULL, c), SB_OK);
    assert_int_equal(sb_store_conv_set_status(e->st, c->id, SB_STATUS_QUEUED), SB_OK);
    snprintf(c->status, sizeof(c->status), "%s", SB_STATUS_QUEUED);
}

static int64_t load(struct env *e, int64_t agent)
{
    return sb_router_agent_load(ho_router_view(e->ho), agent);
}

static void test_a_handoff_is_offered_to_the_online_agent(void **state)
{
    struct env *e = *state;
    struct sb_conv c;
    struct sb_handoff_row row;
    handed_off(e, "c1", &c);
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    assert_int_equal(handoff_queue(e->ho, &c, NULL, NULL), SB_OK);
    assert_int_equal(sb_store_commit(e->st), SB_OK);
    assert_int_equal(sb_store_flush(e->st), SB_OK);
    assert_int_equal(sb_store_handoff_row(e->st, c.id, &row), SB_OK);
    assert_string_equal(row.team, "default");
    assert_int_equal(row.offered_to, e->agent);
    assert_int_equal(load(e, e->agent), 1000); /* an offer counts like a hold */
    assert_int_equal(load(e, e->agent2), 0);
    sb_conv_cleanup(&c);
}

static void test_a_rolled_back_handoff_leaves_nothing_behind(void **state)
{
    struct env *e = *state;
    struct sb_conv c;
    struct sb_handoff_row row;
    const struct sb_router *before = e->ho->router;
    handed_off(e, "c2", &c);
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    assert_int_equal(handoff_queue(e->ho, &c, NULL, NULL), SB_OK);
    /* inside the unit its own copy of the router has the offer */
    assert_int_equal(load(e, e->agent), 1000);
    assert_ptr_equal(e->ho->router, before);
    sb_store_rollback(e->st);
    assert_int_equal(sb_store_flush(e->st), SB_OK);
    assert_null(e->ho->staged);
    assert_ptr_equal(e->ho->router, before);
    assert_int_equal(load(e, e->agent), 0);
    assert_int_equal(sb_router_queued(e->ho->router), 0);
    assert_int_equal(sb_store_handoff_row(e->st, c.id, &row), SB_OK);
    assert_int_equal(row.offered_to, 0);
    assert_int_equal(e->wakes, 0); /* its events were never published */
    sb_conv_cleanup(&c);
}

static void test_accept_assigns_and_resolve_frees_the_agent(void **state)
{
    struct env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv c;
    struct sb_handoff_row row;
    handed_off(e, "c3", &c);
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    assert_int_equal(handoff_queue(e->ho, &c, NULL, NULL), SB_OK);
    assert_int_equal(sb_store_commit(e->st), SB_OK);
    /* someone else may not accept it */
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    assert_int_equal(ho_accept(e->ho, &c, e->agent2, &eb), SB_ERR_CONFLICT);
    sb_store_rollback(e->st);
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    assert_int_equal(ho_accept(e->ho, &c, e->agent, &eb), SB_OK);
    assert_int_equal(sb_store_commit(e->st), SB_OK);
    assert_int_equal(sb_store_handoff_row(e->st, c.id, &row), SB_OK);
    assert_string_equal(row.status, SB_STATUS_ASSIGNED);
    assert_int_equal(row.assignee, e->agent);
    assert_int_equal(load(e, e->agent), 1000);
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    assert_int_equal(ho_resolve(e->ho, &c, "agent", 0, &eb), SB_OK);
    assert_int_equal(sb_store_commit(e->st), SB_OK);
    assert_int_equal(sb_store_flush(e->st), SB_OK);
    assert_int_equal(sb_store_handoff_row(e->st, c.id, &row), SB_OK);
    assert_string_equal(row.status, SB_STATUS_RESOLVED);
    assert_int_equal(load(e, e->agent), 0);
    assert_int_equal(e->messages_out, 1); /* the rating question */
    sb_conv_cleanup(&c);
}

static void test_decline_skips_the_agent(void **state)
{
    struct env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv c;
    struct sb_handoff_row row;
    handed_off(e, "c4", &c);
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    assert_int_equal(handoff_queue(e->ho, &c, NULL, NULL), SB_OK);
    assert_int_equal(ho_decline(e->ho, &c, e->agent, &eb), SB_OK);
    assert_int_equal(sb_store_commit(e->st), SB_OK);
    assert_int_equal(sb_store_handoff_row(e->st, c.id, &row), SB_OK);
    assert_string_equal(row.status, SB_STATUS_QUEUED);
    assert_int_equal(row.offered_to, 0); /* nobody else is online */
    assert_int_equal(load(e, e->agent), 0);
    assert_int_equal(sb_router_queued(e->ho->router), 1);
    /* the second agent comes online: it is offered to them, not again to
     * the one who declined */
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    assert_int_equal(sb_store_agent_status_set(e->st, e->agent2, "online", 2), SB_OK);
    assert_int_equal(handoff_agent_changed(e->ho, e->agent2), SB_OK);
    assert_int_equal(sb_store_commit(e->st), SB_OK);
    assert_int_equal(sb_store_handoff_row(e->st, c.id, &row), SB_OK);
    assert_int_equal(row.offered_to, e->agent2);
    sb_conv_cleanup(&c);
}

/* One wake per conversation per unit, and only once durable (the agents'
 * streams used to be told twice per hand-off event). */
static void test_events_wake_their_followers_once_after_commit(void **state)
{
    struct env *e = *state;
    struct sb_conv c;
    handed_off(e, "c5", &c);
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    assert_int_equal(handoff_queue(e->ho, &c, NULL, NULL), SB_OK); /* queued + offered */
    assert_int_equal(sb_store_commit(e->st), SB_OK);
    assert_int_equal(e->wakes, 0);
    assert_int_equal(sb_store_flush(e->st), SB_OK);
    assert_int_equal(e->wakes, 1);
    sb_conv_cleanup(&c);
}

#define U(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        U(test_a_handoff_is_offered_to_the_online_agent),
        U(test_a_rolled_back_handoff_leaves_nothing_behind),
        U(test_accept_assigns_and_resolve_frees_the_agent),
        U(test_decline_skips_the_agent),
        U(test_events_wake_their_followers_once_after_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
