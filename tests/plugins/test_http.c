/*
 * test_http.c - sb.http in the real host: plugin calls that wait for
 * outbound HTTP (lua_async.c, lua_http.c) against a real server on
 * 127.0.0.1 (http_stub.h), the fetcher driven by an epoll set as the
 * server's loop drives it. The calls are fixtures/http_calls.lua's
 * sb.test functions, run as the host runs route handlers and deliver.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <sys/epoll.h>

#include "../unit/http_stub.h"
#include "fetch.h"
#include "plugin_env.h"

#define FIXTURE SB_FIXTURES "/http_calls.lua"
#define PLUGIN SB_FIXTURES "/http_calls"

struct env {
    struct plugin_env pe;
    int epfd;
    struct sb_fetch *fetch;
    struct http_stub stub;
};

/* What done() reported. */
struct outcome {
    int calls;
    bool ended;
    enum sb_err rc;
    json_t *results;
    char err[512];
};

static void on_done(void *arg, enum sb_err rc, json_t *results, const char *err)
{
    struct outcome *o = arg;
    o->calls++;
    o->ended = true;
    o->rc = rc;
    o->results = results ? json_incref(results) : NULL;
    snprintf(o->err, sizeof(o->err), "%s", err ? err : "");
}

/* The plugin env with a fetcher in the host's deps and the fixture loaded;
 * deadline_ms is the plugin's per-slice deadline. */
static void env_open(struct env *e, int deadline_ms)
{
    struct sb_errbuf eb = {{0}};
    struct sb_host_deps deps;

    assert_int_equal(plugin_env_open(&e->pe, "en"), 0);
    e->pe.cfg.lua_deadline_ms = deadline_ms;
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    assert_true(e->epfd >= 0);
    assert_int_equal(sb_fetch_new(e->epfd, &e->fetch), SB_OK);
    assert_int_equal(http_stub_start(&e->stub), 0);
    /* plugin_env makes a host without one: make it again with the fetcher */
    deps = *host_deps(e->pe.host);
    deps.fetch = e->fetch;
    sb_host_free(e->pe.host);
    assert_int_equal(sb_host_new(&deps, &e->pe.host), SB_OK);
    if (sb_host_load_file(e->pe.host, FIXTURE, &eb)) fail_msg("fixture: %s", eb.msg);
}

static void env_close(struct env *e)
{
    plugin_env_close(&e->pe); /* frees the host: ends waiting calls first */
    sb_fetch_free(e->fetch);
    http_stub_stop(&e->stub);
    close(e->epfd);
}

/* A registry reference to sb.test[name] in the plugin's state. */
static int test_fn(struct env *e, struct sb_plugin **p, const char *name)
{
    lua_State *L;
    int ref;
    *p = host_find_plugin(e->pe.host, PLUGIN);
    assert_non_null(*p);
    L = plugin_lua(*p);
    lua_getglobal(L, "sb");
    lua_getfield(L, -1, "test");
    lua_getfield(L, -1, name);
    assert_true(lua_isfunction(L, -1));
    ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 2);
    return ref;
}

/* Starts sb.test[name]{base=, n=} as an async call. */
static void start(struct env *e, const char *name, long long n, struct outcome *o)
{
    struct sb_plugin *p;
    int ref = test_fn(e, &p, name);
    json_t *arg = json_pack("{s:s, s:I}", "base", e->stub.base, "n", (json_int_t)n);
    assert_int_equal(host_call_async(e->pe.host, p, ref, arg, on_done, o), SB_OK);
    json_decref(arg);
    luaL_unref(plugin_lua(p), LUA_REGISTRYINDEX, ref);
}

/* Runs the loop until the call ended (at most 30 s: a hang fails). */
static void run_until_done(struct env *e, struct outcome *o)
{
    for (int i = 0; i < 300 && o->calls == 0; i++)
        sb_fetch_run(e->fetch, 100);
    assert_int_equal(o->calls, 1);
}

static const char *result_str(const struct outcome *o, size_t i)
{
    return json_string_value(json_array_get(o->results, i));
}

static void test_two_requests_in_a_row_get_both_responses(void **state)
{
    struct env e;
    struct outcome o = {0};
    (void)state;
    env_open(&e, 100);
    start(&e, "two_in_a_row", 0, &o);
    if (o.calls) fail_msg("ended at once: %s", o.err); /* it waits */
    run_until_done(&e, &o);
    assert_int_equal(o.rc, SB_OK);
    assert_int_equal(json_integer_value(json_array_get(o.results, 0)), 200);
    assert_string_equal(result_str(&o, 1), "hello");
    assert_string_equal(result_str(&o, 2), "two"); /* repeated header: the last */
    assert_string_equal(result_str(&o, 3), "text/plain");
    assert_string_equal(result_str(&o, 4), "POST|abc|ping");
    assert_int_equal(e.stub.requests, 2);
    json_decref(o.results);
    env_close(&e);
}

static void test_waiting_does_not_count_against_the_deadline(void **state)
{
    struct env e;
    struct outcome o = {0};
    (void)state;
    env_open(&e, 200); /* the server answers after 500 ms */
    start(&e, "slow", 0, &o);
    run_until_done(&e, &o);
    assert_int_equal(o.rc, SB_OK);
    assert_string_equal(result_str(&o, 0), "slow");
    json_decref(o.results);
    env_close(&e);
}

static void test_a_transport_failure_is_nil_and_a_reason(void **state)
{
    struct env e;
    struct outcome o = {0};
    (void)state;
    env_open(&e, 100);
    snprintf(e.stub.base, sizeof(e.stub.base), "http://127.0.0.1:%d", http_stub_closed_port());
    start(&e, "refused", 0, &o);
    run_until_done(&e, &o);
    assert_int_equal(o.rc, SB_OK);
    assert_true(json_is_true(json_array_get(o.results, 0)));
    assert_true(strlen(result_str(&o, 1)) > 0);
    json_decref(o.results);
    env_close(&e);
}

static void test_a_loop_after_a_response_is_stopped_by_the_budget(void **state)
{
    struct env e;
    struct outcome o = {0};
    (void)state;
    env_open(&e, 100);
    start(&e, "spin_after_response", 0, &o);
    run_until_done(&e, &o);
    assert_int_equal(o.rc, SB_ERR_TIMEOUT);
    assert_null(o.results);
    assert_int_equal(sb_host_stats(e.pe.host)->timeouts, 1);
    env_close(&e);
}

static void test_no_request_starts_once_the_timeout_was_caught(void **state)
{
    struct env e;
    struct outcome o = {0};
    (void)state;
    env_open(&e, 100);
    start(&e, "catch_the_timeout_then_wait", 0, &o);
    run_until_done(&e, &o);
    assert_int_equal(o.rc, SB_ERR_TIMEOUT);
    assert_int_equal(e.stub.requests, 1);
    env_close(&e);
}

static void test_instructions_add_up_over_the_whole_call(void **state)
{
    struct env e;
    struct outcome o = {0}, half = {0};
    long long n;
    (void)state;
    env_open(&e, 60000); /* only the instruction count can stop it */
    /* A loop step is two or three instructions: n steps before and after
     * the wait use 0.6 to 0.9 of the budget each, so the call is stopped
     * in its second slice though neither slice is over on its own. */
    n = (long long)e.pe.cfg.lua_instructions * 3 / 10;
    start(&e, "burn_wait_burn", n, &o);
    run_until_done(&e, &o);
    assert_int_equal(o.rc, SB_ERR_TIMEOUT);
    assert_int_equal(e.stub.requests, 1); /* the first slice ran to its wait */
    /* a quarter of that fits */
    start(&e, "burn_wait_burn", n / 4, &half);
    run_until_done(&e, &half);
    assert_int_equal(half.rc, SB_OK);
    json_decref(half.results);
    env_close(&e);
}

static void test_a_failing_slice_undoes_its_store_writes_only(void **state)
{
    struct env e;
    struct outcome o = {0};
    char *v = NULL;
    size_t len;
    (void)state;
    env_open(&e, 100);
    start(&e, "write_wait_write_fail", 0, &o);
    run_until_done(&e, &o);
    assert_int_equal(o.rc, SB_ERR_LUA);
    assert_non_null(strstr(o.err, "failing after the wait"));
    /* the slice before the wait ended well: its write stays */
    assert_int_equal(sb_store_kv_get(e.pe.store, PLUGIN, "before_wait", &v, &len), SB_OK);
    free(v);
    assert_int_equal(sb_store_kv_get(e.pe.store, PLUGIN, "after_wait", &v, &len), SB_ERR_NOT_FOUND);
    env_close(&e);
}

static void test_a_reload_ends_a_waiting_call(void **state)
{
    struct env e;
    struct outcome o = {0}, after = {0};
    struct sb_errbuf eb = {{0}};
    (void)state;
    env_open(&e, 100);
    start(&e, "wait_forever", 0, &o);
    for (int i = 0; i < 50 && e.stub.requests == 0; i++)
        sb_fetch_run(e.fetch, 100); /* until the server has it */
    assert_int_equal(e.stub.requests, 1);
    assert_int_equal(sb_host_load_file(e.pe.host, FIXTURE, &eb), SB_OK);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.rc, SB_ERR_CANCELLED);
    assert_string_equal(o.err, "plugin reloaded");
    assert_int_equal(sb_fetch_pending(e.fetch), 0); /* its request was cancelled */
    /* the new version works */
    start(&e, "two_in_a_row", 0, &after);
    run_until_done(&e, &after);
    assert_int_equal(after.rc, SB_OK);
    json_decref(after.results);
    assert_int_equal(o.calls, 1);
    env_close(&e);
}

static void test_a_detached_call_runs_on_without_calling_back(void **state)
{
    struct env e;
    struct outcome gone = {0}, kept = {0};
    char *v = NULL;
    size_t len;
    (void)state;
    env_open(&e, 100);
    start(&e, "write_after_wait", 0, &gone);
    start(&e, "write_after_wait", 0, &kept);
    host_call_detach(host_find_plugin(e.pe.host, PLUGIN), &gone);
    run_until_done(&e, &kept);
    while (sb_fetch_pending(e.fetch) > 0)
        sb_fetch_run(e.fetch, 100);
    assert_int_equal(gone.calls, 0);
    assert_int_equal(kept.rc, SB_OK);
    json_decref(kept.results);
    /* both ran to their end */
    assert_int_equal(sb_store_kv_get(e.pe.store, PLUGIN, "count", &v, &len), SB_OK);
    assert_string_equal(v, "2");
    free(v);
    env_close(&e);
}

static void test_freeing_the_host_ends_a_waiting_call(void **state)
{
    struct env e;
    struct outcome o = {0};
    (void)state;
    env_open(&e, 100);
    start(&e, "wait_forever", 0, &o);
    sb_fetch_run(e.fetch, 50);
    env_close(&e);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.rc, SB_ERR_CANCELLED);
}

static void test_a_call_may_wait_inside_pcall_and_xpcall(void **state)
{
    struct env e;
    struct outcome o = {0};
    (void)state;
    env_open(&e, 100);
    start(&e, "wait_inside_pcalls", 0, &o);
    run_until_done(&e, &o);
    if (o.rc) fail_msg("%s", o.err);
    assert_true(json_is_true(json_array_get(o.results, 0)));
    assert_string_equal(result_str(&o, 1), "hello");
    assert_true(json_is_true(json_array_get(o.results, 2)));
    assert_int_equal(json_integer_value(json_array_get(o.results, 3)), 500);
    assert_true(json_is_false(json_array_get(o.results, 4)));
    assert_string_equal(result_str(&o, 5), "handler: after the wait");
    assert_int_equal(e.stub.requests, 3);
    json_decref(o.results);
    env_close(&e);
}

static void test_a_response_over_the_memory_cap_is_nil_and_a_reason(void **state)
{
    struct env e;
    struct outcome o = {0};
    (void)state;
    env_open(&e, 100);
    /* under the 16 MiB response cap, over the plugin's 8 MiB of memory */
    start(&e, "too_big_for_memory", (long long)e.pe.cfg.lua_memory + 1024 * 1024, &o);
    run_until_done(&e, &o);
    if (o.rc) fail_msg("%s", o.err);
    assert_true(json_is_true(json_array_get(o.results, 0)));
    assert_non_null(strstr(result_str(&o, 1), "memory"));
    json_decref(o.results);
    env_close(&e);
}

static void test_results_may_hold_any_bytes(void **state)
{
    struct env e;
    struct outcome o = {0};
    json_t *s;
    (void)state;
    env_open(&e, 100);
    start(&e, "bytes", 0, &o);
    run_until_done(&e, &o);
    assert_int_equal(o.rc, SB_OK);
    s = json_array_get(o.results, 0);
    assert_int_equal(json_string_length(s), 4);
    assert_memory_equal(json_string_value(s), "\x00\xff\xfe\x41", 4);
    json_decref(o.results);
    env_close(&e);
}

static void test_a_call_that_never_waits_ends_at_once(void **state)
{
    struct env e;
    struct outcome o = {0};
    (void)state;
    env_open(&e, 100);
    start(&e, "no_wait", 21, &o);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.rc, SB_OK);
    assert_int_equal(json_array_size(o.results), 3);
    assert_int_equal(json_integer_value(json_array_get(o.results, 0)), 42);
    assert_int_equal(json_integer_value(
                         json_array_get(json_object_get(json_array_get(o.results, 1), "list"), 1)),
                     2);
    assert_true(json_is_null(json_array_get(o.results, 2)));
    json_decref(o.results);
    env_close(&e);
}

static void test_only_the_calls_own_thread_may_wait(void **state)
{
    struct env e;
    struct outcome in_co = {0}, around = {0}, self = {0}, bad = {0};
    (void)state;
    env_open(&e, 100);
    start(&e, "wait_in_a_coroutine", 0, &in_co);
    assert_int_equal(in_co.rc, SB_ERR_LUA);
    assert_non_null(strstr(in_co.err, "sb.http: this call cannot wait"));
    start(&e, "coroutines_around_a_wait", 0, &around);
    run_until_done(&e, &around);
    assert_int_equal(around.rc, SB_OK);
    assert_int_equal(json_integer_value(json_array_get(around.results, 0)), 6);
    assert_string_equal(result_str(&around, 1), "hello");
    start(&e, "resume_itself", 0, &self);
    assert_int_equal(self.rc, SB_OK);
    assert_true(json_is_false(json_array_get(self.results, 0)));
    assert_non_null(strstr(result_str(&self, 1), "cannot resume"));
    start(&e, "bad_url", 0, &bad);
    assert_int_equal(bad.rc, SB_ERR_LUA);
    assert_non_null(strstr(bad.err, "http:// or https://"));
    json_decref(around.results);
    json_decref(self.results);
    env_close(&e);
}

static void test_another_call_cannot_resume_a_waiting_thread(void **state)
{
    struct env e;
    struct outcome o = {0};
    struct sb_turn t;
    (void)state;
    env_open(&e, 100);
    start(&e, "save_thread_and_wait", 0, &o);
    plugin_env_turn(&e.pe, &t, "hello", "resume");
    assert_string_equal(t.answered_by, "resume_saved");
    assert_non_null(strstr(first_reply(&t), "cannot resume"));
    sb_turn_cleanup(&t);
    run_until_done(&e, &o);
    assert_int_equal(o.rc, SB_OK);
    assert_string_equal(result_str(&o, 0), "slow"); /* the real response, not the forged one */
    json_decref(o.results);
    env_close(&e);
}

static void test_an_intent_cannot_wait(void **state)
{
    struct env e;
    struct sb_turn t;
    (void)state;
    env_open(&e, 100);
    plugin_env_turn(&e.pe, &t, "hello", NULL);
    assert_non_null(first_reply(&t));
    assert_non_null(strstr(first_reply(&t), "sb.http: this call cannot wait"));
    sb_turn_cleanup(&t);
    assert_int_equal(e.stub.requests, 0);
    env_close(&e);
}

static void test_a_blocking_call_drives_the_fetcher_itself(void **state)
{
    struct env e;
    struct sb_errbuf eb = {{0}};
    struct sb_plugin *p;
    json_t *arg, *results = NULL;
    int ref;
    (void)state;
    env_open(&e, 100);
    ref = test_fn(&e, &p, "two_in_a_row");
    arg = json_pack("{s:s}", "base", e.stub.base);
    assert_int_equal(host_call_blocking(e.pe.host, p, ref, arg, 10000, &results, &eb), SB_OK);
    assert_string_equal(json_string_value(json_array_get(results, 4)), "POST|abc|ping");
    json_decref(results);
    /* and gives up after its timeout */
    luaL_unref(plugin_lua(p), LUA_REGISTRYINDEX, ref);
    ref = test_fn(&e, &p, "wait_forever");
    assert_int_equal(host_call_blocking(e.pe.host, p, ref, arg, 200, &results, &eb),
                     SB_ERR_TIMEOUT);
    assert_int_equal(sb_fetch_pending(e.fetch), 0);
    luaL_unref(plugin_lua(p), LUA_REGISTRYINDEX, ref);
    json_decref(arg);
    env_close(&e);
}

static void test_run_until_drives_a_call_to_its_end_or_gives_up(void **state)
{
    struct env e;
    struct outcome o = {0}, stuck = {0};
    bool never = false;
    (void)state;
    env_open(&e, 100);
    start(&e, "two_in_a_row", 0, &o);
    /* a flag nothing sets: gives up (in time, or once nothing is in flight) */
    assert_int_equal(sb_host_run_until(e.pe.host, &never, 100), SB_ERR_TIMEOUT);
    assert_int_equal(sb_host_run_until(e.pe.host, &o.ended, 10000), SB_OK);
    assert_int_equal(o.rc, SB_OK);
    json_decref(o.results);
    start(&e, "wait_forever", 0, &stuck);
    assert_int_equal(sb_host_run_until(e.pe.host, &stuck.ended, 200), SB_ERR_TIMEOUT);
    assert_int_equal(stuck.calls, 0);
    env_close(&e); /* ends it */
    assert_int_equal(stuck.calls, 1);
    assert_int_equal(stuck.rc, SB_ERR_CANCELLED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_requests_in_a_row_get_both_responses),
        cmocka_unit_test(test_waiting_does_not_count_against_the_deadline),
        cmocka_unit_test(test_a_transport_failure_is_nil_and_a_reason),
        cmocka_unit_test(test_a_loop_after_a_response_is_stopped_by_the_budget),
        cmocka_unit_test(test_no_request_starts_once_the_timeout_was_caught),
        cmocka_unit_test(test_instructions_add_up_over_the_whole_call),
        cmocka_unit_test(test_a_failing_slice_undoes_its_store_writes_only),
        cmocka_unit_test(test_a_reload_ends_a_waiting_call),
        cmocka_unit_test(test_a_detached_call_runs_on_without_calling_back),
        cmocka_unit_test(test_freeing_the_host_ends_a_waiting_call),
        cmocka_unit_test(test_a_call_may_wait_inside_pcall_and_xpcall),
        cmocka_unit_test(test_a_response_over_the_memory_cap_is_nil_and_a_reason),
        cmocka_unit_test(test_results_may_hold_any_bytes),
        cmocka_unit_test(test_a_call_that_never_waits_ends_at_once),
        cmocka_unit_test(test_only_the_calls_own_thread_may_wait),
        cmocka_unit_test(test_another_call_cannot_resume_a_waiting_thread),
        cmocka_unit_test(test_an_intent_cannot_wait),
        cmocka_unit_test(test_a_blocking_call_drives_the_fetcher_itself),
        cmocka_unit_test(test_run_until_drives_a_call_to_its_end_or_gives_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
