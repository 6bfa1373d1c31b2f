/*
 * test_sandbox.c - hostile plugins in the real host. Each fixture in
 * fixtures/ tries one escape or one way to hang; it must be stopped,
 * logged, counted and skipped, and the well-behaved plugin behind it must
 * still answer the same turn.
 */
#include <time.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "plugin_env.h"

static void load(struct plugin_env *e, const char *fixture)
{
    struct sb_errbuf eb = {{0}};
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", SB_FIXTURES, fixture);
    if (sb_host_load_file(e->host, path, &eb)) fail_msg("%s did not load: %s", fixture, eb.msg);
}

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Loads fixture in front of good.lua, runs a turn and checks that the
 * hostile plugin was skipped and good.lua answered alone. */
static const struct sb_host_stats *run_hostile(struct plugin_env *e, const char *fixture)
{
    struct sb_turn t;
    int64_t start;

    assert_int_equal(plugin_env_open(e, "en"), 0);
    load(e, "good.lua");
    load(e, fixture);
    assert_true(sb_host_intent_count(e->host) >= 2);
    start = thread_cpu_ns();
    plugin_env_turn(e, &t, "hello", NULL);
    /* The deadline is 100 ms; allow for a slow machine. CPU time, not wall
     * time: on a shared machine at a load of 10 the wall clock of the
     * memory bomb passed 3 s while it was waiting for a CPU. */
    assert_true(thread_cpu_ns() - start < 3000000000LL);
    assert_int_equal(json_array_size(t.replies), 1);
    assert_string_equal(first_reply(&t), "ok from good");
    assert_string_equal(t.answered_by, "good");
    assert_false(t.handoff);
    sb_turn_cleanup(&t);
    assert_int_equal(sb_host_stats(e->host)->errors, 1);
    return sb_host_stats(e->host);
}

static void test_infinite_loop_is_stopped_and_its_partial_reply_dropped(void **state)
{
    struct plugin_env e;
    (void)state;
    assert_int_equal(run_hostile(&e, "infinite_loop.lua")->timeouts, 1);
    plugin_env_close(&e);
}

static void test_pcall_cannot_swallow_the_timeout(void **state)
{
    struct plugin_env e;
    (void)state;
    assert_int_equal(run_hostile(&e, "pcall_loop.lua")->timeouts, 1);
    plugin_env_close(&e);
}

static void test_xpcall_handler_and_coroutine_cannot_swallow_the_timeout(void **state)
{
    struct plugin_env e;
    (void)state;
    assert_int_equal(run_hostile(&e, "xpcall_loop.lua")->timeouts, 1);
    plugin_env_close(&e);
}

static void test_nested_coroutines_share_one_budget(void **state)
{
    struct plugin_env e;
    (void)state;
    assert_int_equal(run_hostile(&e, "nested_coroutines.lua")->timeouts, 1);
    plugin_env_close(&e);
}

/* The fixture's handler fails on its budget; on a later turn its "report"
 * intent tells how many steps its `<close>` handler ran: once over budget,
 * a handler must be stopped at its first instructions, not run its loop. */
static void check_close_handler_is_metered(const char *fixture)
{
    struct plugin_env e;
    struct sb_turn t;
    assert_int_equal(run_hostile(&e, fixture)->timeouts, 1);
    plugin_env_turn(&e, &t, "hello", "report");
    assert_string_equal(t.answered_by, "report");
    print_message("%s: the close handler ran %s steps\n", fixture, first_reply(&t));
    assert_true(strtol(first_reply(&t), NULL, 10) < 1000);
    sb_turn_cleanup(&t);
    plugin_env_close(&e);
}

static void test_close_handler_of_a_coroutine_killed_by_the_budget_is_metered(void **state)
{
    (void)state;
    check_close_handler_is_metered("close_after_timeout.lua");
}

static void test_close_handler_run_by_wrap_after_the_budget_is_metered(void **state)
{
    (void)state;
    check_close_handler_is_metered("wrap_close_after_timeout.lua");
}

static void test_backtracking_lua_pattern_is_stopped_by_the_budget(void **state)
{
    struct plugin_env e;
    (void)state;
    assert_int_equal(run_hostile(&e, "pattern_bomb.lua")->timeouts, 1);
    plugin_env_close(&e);
}

static void test_plugin_storage_has_a_quota(void **state)
{
    struct plugin_env e;
    struct sb_turn t;
    uint64_t used = 0;
    (void)state;
    assert_int_equal(plugin_env_open(&e, "en"), 0);
    /* About the quota, not the clock: 17 writes of 60 KB may take more
     * than the usual 100 ms on a loaded machine under the sanitizers. */
    e.cfg.lua_deadline_ms = 10000;
    load(&e, "store_quota.lua");
    plugin_env_turn(&e, &t, "hello", NULL);
    assert_non_null(first_reply(&t));
    print_message("%s\n", first_reply(&t));
    /* 1 MiB by default: 17 values of 60 KB (and their keys) fit, not 18 */
    assert_int_equal(strtol(first_reply(&t), NULL, 10), 17);
    assert_non_null(strstr(first_reply(&t), "quota exceeded"));
    assert_null(strstr(first_reply(&t), "2 MB key: stored"));
    sb_turn_cleanup(&t);
    /* loaded by path, so the plugin is named by its path */
    assert_int_equal(sb_store_kv_usage(e.store, SB_FIXTURES "/store_quota", NULL, &used), SB_OK);
    assert_true(used <= e.cfg.plugin_store_quota);
    plugin_env_close(&e);
}

/* Writes of failed calls are undone; a later successful call keeps its
 * own, and the quota counts only what is really stored. */
static void test_a_failed_calls_store_writes_roll_back(void **state)
{
    struct plugin_env e;
    struct sb_turn t;
    uint64_t used = 0;
    (void)state;
    assert_int_equal(plugin_env_open(&e, "en"), 0);
    e.cfg.lua_deadline_ms = 10000; /* about rollback, not the clock */
    load(&e, "good.lua");
    load(&e, "store_rollback.lua");
    plugin_env_turn(&e, &t, "hello", NULL);
    assert_string_equal(t.answered_by, "good");
    sb_turn_cleanup(&t);
    assert_int_equal(sb_host_stats(e.host)->errors, 2);
    assert_int_equal(sb_host_stats(e.host)->timeouts, 1);
    plugin_env_turn(&e, &t, "hello", "keep");
    assert_string_equal(first_reply(&t), "stored");
    sb_turn_cleanup(&t);
    plugin_env_turn(&e, &t, "hello", "report");
    assert_string_equal(first_reply(&t), "error:nil timeout:nil bulk:nil success:kept");
    sb_turn_cleanup(&t);
    assert_int_equal(sb_store_kv_usage(e.store, SB_FIXTURES "/store_rollback", NULL, &used), SB_OK);
    assert_int_equal(used, strlen("after_success") + strlen("\"kept\""));
    plugin_env_close(&e);
}

static void test_a_loop_of_big_library_calls_is_stopped(void **state)
{
    struct plugin_env e;
    (void)state;
    assert_int_equal(run_hostile(&e, "sort_loop.lua")->timeouts, 1);
    plugin_env_close(&e);
}

static void test_a_loop_of_big_copies_is_stopped(void **state)
{
    struct plugin_env e;
    (void)state;
    assert_int_equal(run_hostile(&e, "concat_loop.lua")->timeouts, 1);
    plugin_env_close(&e);
}

static void test_memory_bomb_hits_the_cap(void **state)
{
    struct plugin_env e;
    const struct sb_host_stats *s;
    (void)state;
    s = run_hostile(&e, "memory_bomb.lua");
    /* It catches each allocation failure with pcall, so it ends on the
     * budget; either way it is stopped. */
    assert_int_equal(s->timeouts + s->memory_errors, 1);
    plugin_env_close(&e);
}

static void test_string_rep_bomb_hits_the_cap(void **state)
{
    struct plugin_env e;
    (void)state;
    assert_int_equal(run_hostile(&e, "string_rep_bomb.lua")->memory_errors, 1);
    plugin_env_close(&e);
}

static void test_no_escape_through_libraries(void **state)
{
    static const char *const fixtures[] = {
        "io_open.lua",        "require_os.lua",    "os_execute.lua",
        "string_dump.lua",    "load_bytecode.lua", "global_write.lua",
        "unlock_globals.lua", "debug_lib.lua",     "gc_loop.lua"};
    (void)state;
    unlink("/tmp/switchboard-sandbox-escaped");
    for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
        struct plugin_env e;
        print_message("hostile fixture %s\n", fixtures[i]);
        assert_int_equal(run_hostile(&e, fixtures[i])->timeouts, 0);
        plugin_env_close(&e);
    }
    assert_int_not_equal(access("/tmp/switchboard-sandbox-escaped", F_OK), 0);
}

static void test_regex_bomb_stops_at_match_limit(void **state)
{
    struct plugin_env e;
    (void)state;
    assert_int_equal(run_hostile(&e, "regex_bomb.lua")->timeouts, 0);
    plugin_env_close(&e);
}

static void test_global_write_while_loading_refuses_the_plugin(void **state)
{
    struct plugin_env e;
    struct sb_errbuf eb = {{0}};
    char path[512];
    (void)state;
    assert_int_equal(plugin_env_open(&e, "en"), 0);
    snprintf(path, sizeof(path), "%s/global_write_at_load.lua", SB_FIXTURES);
    assert_int_not_equal(sb_host_load_file(e.host, path, &eb), SB_OK);
    assert_non_null(strstr(eb.msg, "undeclared global"));
    assert_int_equal(sb_host_intent_count(e.host), 0);
    assert_int_equal(sb_host_stats(e.host)->load_failures, 1);
    plugin_env_close(&e);
}

static void test_bytecode_file_is_refused(void **state)
{
    struct plugin_env e;
    struct sb_errbuf eb = {{0}};
    char path[512];
    (void)state;
    assert_int_equal(plugin_env_open(&e, "en"), 0);
    snprintf(path, sizeof(path), "%s/bytecode_file.lua.bin", SB_FIXTURES);
    assert_int_not_equal(sb_host_load_file(e.host, path, &eb), SB_OK);
    assert_non_null(strstr(eb.msg, "binary"));
    plugin_env_close(&e);
}

static void test_ctx_kept_past_its_turn_is_dead(void **state)
{
    struct plugin_env e;
    struct sb_turn t;
    (void)state;
    assert_int_equal(plugin_env_open(&e, "en"), 0);
    load(&e, "good.lua");
    load(&e, "ctx_escape.lua");
    plugin_env_turn(&e, &t, "first", NULL);
    assert_string_equal(first_reply(&t), "ok from good");
    sb_turn_cleanup(&t);
    plugin_env_turn(&e, &t, "second", NULL);
    assert_int_equal(json_array_size(t.replies), 1);
    assert_string_equal(first_reply(&t), "ok from good");
    sb_turn_cleanup(&t);
    assert_int_equal(sb_host_stats(e.host)->errors, 1);
    plugin_env_close(&e);
}

static void test_the_host_keeps_answering_after_many_failures(void **state)
{
    struct plugin_env e;
    (void)state;
    assert_int_equal(plugin_env_open(&e, "en"), 0);
    load(&e, "good.lua");
    load(&e, "infinite_loop.lua");
    for (int i = 0; i < 5; i++) {
        struct sb_turn t;
        plugin_env_turn(&e, &t, "again", NULL);
        assert_string_equal(first_reply(&t), "ok from good");
        sb_turn_cleanup(&t);
    }
    assert_int_equal(sb_host_stats(e.host)->timeouts, 5);
    plugin_env_close(&e);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_hot_reload_keeps_the_old_version_when_the_new_one_fails(void **state)
{
    struct plugin_env e;
    struct sb_errbuf eb = {{0}};
    struct sb_turn t;
    char path[160];
    (void)state;
    assert_int_equal(plugin_env_open(&e, "en"), 0);
    snprintf(path, sizeof(path), "%s/reloadable.lua", e.dir);
    write_file(path, "sb.intent{ name = 'v', handler = function(ctx) ctx:reply('version 1') end }");
    assert_int_equal(sb_host_load_file(e.host, path, &eb), SB_OK);
    write_file(path, "sb.intent{ name = 'v', handler = function(ctx) ctx:reply('version 2'");
    assert_int_not_equal(sb_host_load_file(e.host, path, &eb), SB_OK);
    plugin_env_turn(&e, &t, "x", NULL);
    assert_string_equal(first_reply(&t), "version 1");
    sb_turn_cleanup(&t);
    write_file(path, "sb.intent{ name = 'v', handler = function(ctx) ctx:reply('version 3') end }");
    assert_int_equal(sb_host_load_file(e.host, path, &eb), SB_OK);
    assert_int_equal(sb_host_intent_count(e.host), 1);
    plugin_env_turn(&e, &t, "x", NULL);
    assert_string_equal(first_reply(&t), "version 3");
    sb_turn_cleanup(&t);
    unlink(path);
    plugin_env_close(&e);
}

/* Route hooks (sb.hook): the first that returns a table decides; a reload
 * replaces a plugin's hooks, a failed reload keeps the old ones. */
static void test_route_hooks_run_by_priority_and_follow_reloads(void **state)
{
    struct plugin_env e;
    struct sb_errbuf eb = {{0}};
    char path[160], low[160];
    json_t *arg = json_pack("{s:s, s:s}", "locale", "ro", "team", "default"), *out;
    (void)state;
    assert_int_equal(plugin_env_open(&e, "en"), 0);
    snprintf(path, sizeof(path), "%s/route.lua", e.dir);
    snprintf(low, sizeof(low), "%s/route_low.lua", e.dir);
    write_file(low, "sb.hook{ event = 'route', priority = 1,"
                    " handler = function(c) return { team = 'low' } end }");
    write_file(path, "sb.hook{ event = 'route', priority = 10, handler = function(c)"
                     " if c.locale == 'ro' then return { team = 'v1' } end end }");
    assert_int_equal(sb_host_load_file(e.host, low, &eb), SB_OK);
    assert_int_equal(sb_host_load_file(e.host, path, &eb), SB_OK);
    assert_true(sb_host_has_hook(e.host, "route"));
    out = sb_host_run_hook(e.host, "route", arg);
    assert_string_equal(json_string_value(json_object_get(out, "team")), "v1");
    json_decref(out);
    /* nil from the first: the next one decides */
    json_object_set_new(arg, "locale", json_string("en"));
    out = sb_host_run_hook(e.host, "route", arg);
    assert_string_equal(json_string_value(json_object_get(out, "team")), "low");
    json_decref(out);
    json_object_set_new(arg, "locale", json_string("ro"));
    /* a broken new version keeps the old hook; a good one replaces it */
    write_file(path, "sb.hook{ event = 'route', handler = function(c) return {");
    assert_int_not_equal(sb_host_load_file(e.host, path, &eb), SB_OK);
    out = sb_host_run_hook(e.host, "route", arg);
    assert_string_equal(json_string_value(json_object_get(out, "team")), "v1");
    json_decref(out);
    write_file(path, "sb.hook{ event = 'route', priority = 10,"
                     " handler = function(c) return { team = 'v2' } end }");
    assert_int_equal(sb_host_load_file(e.host, path, &eb), SB_OK);
    out = sb_host_run_hook(e.host, "route", arg);
    assert_string_equal(json_string_value(json_object_get(out, "team")), "v2");
    json_decref(out);
    /* an unknown event is refused at load */
    write_file(path, "sb.hook{ event = 'nope', handler = function() end }");
    assert_int_not_equal(sb_host_load_file(e.host, path, &eb), SB_OK);
    json_decref(arg);
    unlink(path);
    unlink(low);
    plugin_env_close(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_infinite_loop_is_stopped_and_its_partial_reply_dropped),
        cmocka_unit_test(test_pcall_cannot_swallow_the_timeout),
        cmocka_unit_test(test_xpcall_handler_and_coroutine_cannot_swallow_the_timeout),
        cmocka_unit_test(test_nested_coroutines_share_one_budget),
        cmocka_unit_test(test_close_handler_of_a_coroutine_killed_by_the_budget_is_metered),
        cmocka_unit_test(test_close_handler_run_by_wrap_after_the_budget_is_metered),
        cmocka_unit_test(test_backtracking_lua_pattern_is_stopped_by_the_budget),
        cmocka_unit_test(test_plugin_storage_has_a_quota),
        cmocka_unit_test(test_a_failed_calls_store_writes_roll_back),
        cmocka_unit_test(test_a_loop_of_big_library_calls_is_stopped),
        cmocka_unit_test(test_a_loop_of_big_copies_is_stopped),
        cmocka_unit_test(test_memory_bomb_hits_the_cap),
        cmocka_unit_test(test_string_rep_bomb_hits_the_cap),
        cmocka_unit_test(test_no_escape_through_libraries),
        cmocka_unit_test(test_regex_bomb_stops_at_match_limit),
        cmocka_unit_test(test_global_write_while_loading_refuses_the_plugin),
        cmocka_unit_test(test_bytecode_file_is_refused),
        cmocka_unit_test(test_ctx_kept_past_its_turn_is_dead),
        cmocka_unit_test(test_the_host_keeps_answering_after_many_failures),
        cmocka_unit_test(test_hot_reload_keeps_the_old_version_when_the_new_one_fails),
        cmocka_unit_test(test_route_hooks_run_by_priority_and_follow_reloads),
    };
    sb_log_set_level(getenv("SB_TEST_LOG") ? SB_LOG_DEBUG : SB_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
