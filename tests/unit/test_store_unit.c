/*
 * test_store_unit.c - core/store/unit.c: the unit of work and its
 * after-commit effects. A rollback leaves no effect behind; effects run
 * once, after commit, in order; a failed commit runs none; a plugin call
 * that is undone drops only its own effects; the event hook sees every
 * stored event.
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

#include "sb_log.h"
#include "sb_store.h"

struct env {
    char dir[64];
    char path[128];
    struct sb_store *st;
};

/* What the effects did: the keys of the effects that ran, in order, and
 * how many args were released. */
struct trace {
    int64_t ran[32];
    int nran;
    int freed;
    int lost;
};

static struct trace T;

static void record(void *arg, int64_t key)
{
    (void)arg;
    if (T.nran < 32) T.ran[T.nran++] = key;
}

static void release(void *arg)
{
    (void)arg;
    T.freed++;
}

static void lost(void *arg)
{
    (void)arg;
    T.lost++;
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    struct sb_errbuf eb = {{0}};
    if (!e) return -1;
    sb_log_set_level(SB_LOG_ERROR + 1);
    snprintf(e->dir, sizeof(e->dir), "/tmp/sb-unit-test-XXXXXX");
    if (!mkdtemp(e->dir)) return -1;
    snprintf(e->path, sizeof(e->path), "%s/test.db", e->dir);
    if (sb_store_open(e->path, "NORMAL", &e->st, &eb) != SB_OK) {
        fprintf(stderr, "open: %s\n", eb.msg);
        return -1;
    }
    memset(&T, 0, sizeof(T));
    sb_store_on_batch_lost(e->st, lost, NULL);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[160];
    sb_store_close(e->st);
    for (size_t i = 0; i < SB_ARRAY_LEN(suffix); i++) {
        snprintf(p, sizeof(p), "%s%s", e->path, suffix[i]);
        unlink(p);
    }
    rmdir(e->dir);
    free(e);
    return 0;
}

static void effect(struct sb_store *st, enum sb_effect_when when, int64_t key)
{
    assert_int_equal(sb_store_effect(st, when, record, NULL, key, release), SB_OK);
}

static void test_durable_effects_run_after_flush_in_order(void **state)
{
    struct sb_store *st = ((struct env *)*state)->st;
    assert_int_equal(sb_store_begin(st), SB_OK);
    effect(st, SB_EFFECT_DURABLE, 1);
    effect(st, SB_EFFECT_DURABLE, 2);
    assert_int_equal(sb_store_commit(st), SB_OK);
    assert_int_equal(T.nran, 0); /* committed, not yet durable */
    assert_int_equal(sb_store_begin(st), SB_OK);
    effect(st, SB_EFFECT_DURABLE, 3);
    assert_int_equal(sb_store_commit(st), SB_OK);
    assert_int_equal(T.nran, 0);
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(T.nran, 3);
    assert_int_equal(T.ran[0], 1);
    assert_int_equal(T.ran[1], 2);
    assert_int_equal(T.ran[2], 3);
    assert_int_equal(T.freed, 3);
    /* once: a second flush has nothing to run */
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(T.nran, 3);
    assert_int_equal(T.freed, 3);
}

static void test_unit_commit_effects_run_at_commit(void **state)
{
    struct sb_store *st = ((struct env *)*state)->st;
    assert_int_equal(sb_store_begin(st), SB_OK);
    effect(st, SB_EFFECT_DURABLE, 1);
    effect(st, SB_EFFECT_UNIT_COMMIT, 2);
    assert_int_equal(T.nran, 0);
    assert_int_equal(sb_store_commit(st), SB_OK);
    assert_int_equal(T.nran, 1);
    assert_int_equal(T.ran[0], 2);
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(T.nran, 2);
    assert_int_equal(T.ran[1], 1);
    assert_int_equal(T.freed, 2);
}

static void test_rollback_leaves_no_effect(void **state)
{
    struct sb_store *st = ((struct env *)*state)->st;
    assert_int_equal(sb_store_begin(st), SB_OK);
    effect(st, SB_EFFECT_DURABLE, 1);
    assert_int_equal(sb_store_commit(st), SB_OK);
    assert_int_equal(sb_store_begin(st), SB_OK);
    effect(st, SB_EFFECT_DURABLE, 2);
    effect(st, SB_EFFECT_UNIT_COMMIT, 3);
    sb_store_rollback(st);
    assert_int_equal(T.freed, 2); /* dropped, released */
    assert_int_equal(sb_store_flush(st), SB_OK);
    /* only the committed unit's effect ran */
    assert_int_equal(T.nran, 1);
    assert_int_equal(T.ran[0], 1);
    assert_int_equal(T.freed, 3);
}

/* A deferred foreign key is checked at COMMIT: the batch's COMMIT fails. */
static void test_failed_commit_runs_none(void **state)
{
    struct sb_store *st = ((struct env *)*state)->st;
    sqlite3 *db = sb_store_db(st);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
                                  "CREATE TABLE child(pid INTEGER REFERENCES parent(id)"
                                  " DEFERRABLE INITIALLY DEFERRED)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sb_store_begin(st), SB_OK);
    effect(st, SB_EFFECT_DURABLE, 1);
    assert_int_equal(sb_store_commit(st), SB_OK);
    assert_int_equal(sb_store_begin(st), SB_OK);
    assert_int_equal(sqlite3_exec(db, "INSERT INTO child VALUES(99)", NULL, NULL, NULL), SQLITE_OK);
    effect(st, SB_EFFECT_DURABLE, 2);
    assert_int_equal(sb_store_commit(st), SB_OK);
    assert_int_not_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(T.nran, 0);
    assert_int_equal(T.freed, 2);
    assert_int_equal(T.lost, 1);
    assert_false(sb_store_pending(st));
    /* the store goes on: the next batch's effects run */
    assert_int_equal(sb_store_begin(st), SB_OK);
    effect(st, SB_EFFECT_DURABLE, 3);
    assert_int_equal(sb_store_commit(st), SB_OK);
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(T.nran, 1);
    assert_int_equal(T.ran[0], 3);
    assert_int_equal(T.lost, 1);
}

static void test_undone_plugin_call_drops_its_effects(void **state)
{
    struct sb_store *st = ((struct env *)*state)->st;
    assert_int_equal(sb_store_begin(st), SB_OK);
    effect(st, SB_EFFECT_DURABLE, 1);
    assert_int_equal(sb_store_plugin_call_begin(st), SB_OK);
    effect(st, SB_EFFECT_DURABLE, 2);
    sb_store_plugin_call_end(st, false);
    assert_int_equal(sb_store_plugin_call_begin(st), SB_OK);
    effect(st, SB_EFFECT_DURABLE, 3);
    sb_store_plugin_call_end(st, true);
    assert_int_equal(sb_store_commit(st), SB_OK);
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(T.nran, 2);
    assert_int_equal(T.ran[0], 1);
    assert_int_equal(T.ran[1], 3);
    assert_int_equal(T.freed, 3);
}

static void test_same_effect_twice_in_a_unit_runs_once(void **state)
{
    struct sb_store *st = ((struct env *)*state)->st;
    assert_int_equal(sb_store_begin(st), SB_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sb_store_effect(st, SB_EFFECT_DURABLE, record, NULL, 7, NULL), SB_OK);
    assert_int_equal(sb_store_effect(st, SB_EFFECT_DURABLE, record, NULL, 8, NULL), SB_OK);
    assert_int_equal(sb_store_commit(st), SB_OK);
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(T.nran, 2);
    assert_int_equal(T.ran[0], 7);
    assert_int_equal(T.ran[1], 8);
}

static void test_outside_a_unit_runs_at_once_or_after_the_batch(void **state)
{
    struct sb_store *st = ((struct env *)*state)->st;
    effect(st, SB_EFFECT_DURABLE, 1); /* nothing open: already durable */
    assert_int_equal(T.nran, 1);
    assert_int_equal(T.freed, 1);
    assert_int_equal(sb_store_begin(st), SB_OK);
    assert_int_equal(sb_store_commit(st), SB_OK);
    effect(st, SB_EFFECT_DURABLE, 2); /* a batch is open: waits for it */
    effect(st, SB_EFFECT_UNIT_COMMIT, 3);
    assert_int_equal(T.nran, 2);
    assert_int_equal(T.ran[1], 3);
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(T.nran, 3);
    assert_int_equal(T.ran[2], 2);
}

static void on_event(void *arg, int64_t conv_id)
{
    struct sb_store *st = arg;
    /* what the server does: wake the conversation's followers later */
    sb_store_effect(st, SB_EFFECT_DURABLE, record, NULL, conv_id, NULL);
}

static void test_event_hook_queues_wakes_that_follow_the_unit(void **state)
{
    struct sb_store *st = ((struct env *)*state)->st;
    struct sb_conv a, b;
    sb_store_on_event(st, on_event, st);
    assert_int_equal(sb_store_conv_create(st, "web", "a", "en", NULL, &a), SB_OK);
    assert_int_equal(sb_store_conv_create(st, "web", "b", "en", NULL, &b), SB_OK);
    assert_int_equal(sb_store_begin(st), SB_OK);
    assert_int_equal(sb_store_event_add(st, &a, "x/one", NULL), SB_OK);
    assert_int_equal(sb_store_event_add(st, &a, "x/two", NULL), SB_OK);
    assert_int_equal(sb_store_commit(st), SB_OK);
    assert_int_equal(sb_store_begin(st), SB_OK);
    assert_int_equal(sb_store_event_add(st, &b, "x/one", NULL), SB_OK);
    sb_store_rollback(st);
    assert_int_equal(sb_store_flush(st), SB_OK);
    /* a once (two events, one wake); b's event was rolled back */
    assert_int_equal(T.nran, 1);
    assert_int_equal(T.ran[0], a.id);
    sb_conv_cleanup(&a);
    sb_conv_cleanup(&b);
}

static void test_begin_inside_a_unit_is_refused(void **state)
{
    struct sb_store *st = ((struct env *)*state)->st;
    assert_int_equal(sb_store_begin(st), SB_OK);
    assert_true(sb_store_in_unit(st));
    assert_int_equal(sb_store_begin(st), SB_ERR_INVAL);
    sb_store_rollback(st);
    assert_false(sb_store_in_unit(st));
}

/* Closing drops what is queued without running it: whoever it would
 * tell is gone. */
static void test_close_drops_queued_effects(void **state)
{
    struct env *e = *state;
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    effect(e->st, SB_EFFECT_DURABLE, 1);
    assert_int_equal(sb_store_commit(e->st), SB_OK);
    sb_store_close(e->st);
    e->st = NULL;
    assert_int_equal(T.nran, 0);
    assert_int_equal(T.freed, 1);
}

static bool kv_has(struct sb_store *st, const char *key)
{
    char *v = NULL;
    size_t len = 0;
    enum sb_err rc = sb_store_kv_get(st, "p", key, &v, &len);
    free(v);
    return rc == SB_OK;
}

static void kv_write(struct sb_store *st, const char *key)
{
    assert_int_equal(sb_store_plugin_write(st), SB_OK);
    assert_int_equal(sb_store_kv_set(st, "p", key, "1", 1), SB_OK);
}

/* A plugin call's savepoint opens at its first write, and then the
 * savepoints of the calls around it open first: an undone outer call
 * takes an inner call's kept writes with it, an undone inner call only
 * its own. */
static void test_plugin_call_savepoints_open_at_the_first_write(void **state)
{
    struct sb_store *st = ((struct env *)*state)->st;
    assert_int_equal(sb_store_begin(st), SB_OK);
    assert_int_equal(sb_store_plugin_call_begin(st), SB_OK); /* outer: reads only */
    assert_int_equal(sb_store_plugin_call_begin(st), SB_OK);
    kv_write(st, "inner_failed");
    sb_store_plugin_call_end(st, false);
    assert_false(kv_has(st, "inner_failed"));
    assert_int_equal(sb_store_plugin_call_begin(st), SB_OK);
    kv_write(st, "inner_kept");
    sb_store_plugin_call_end(st, true);
    assert_true(kv_has(st, "inner_kept"));
    sb_store_plugin_call_end(st, false); /* the outer call fails */
    assert_false(kv_has(st, "inner_kept"));
    /* a call that wrote and succeeded keeps its write, in the unit */
    assert_int_equal(sb_store_plugin_call_begin(st), SB_OK);
    kv_write(st, "kept");
    sb_store_plugin_call_end(st, true);
    assert_int_equal(sb_store_commit(st), SB_OK);
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_true(kv_has(st, "kept"));
    /* outside a unit and a batch: the call's savepoint opens the batch
     * (so a unit begun inside the call could nest), and is undone alone */
    assert_false(sb_store_pending(st));
    assert_int_equal(sb_store_plugin_call_begin(st), SB_OK);
    kv_write(st, "alone_failed");
    assert_true(sb_store_pending(st));
    sb_store_plugin_call_end(st, false);
    assert_false(kv_has(st, "alone_failed"));
    /* a kept one is durable with the batch's flush */
    assert_int_equal(sb_store_plugin_call_begin(st), SB_OK);
    kv_write(st, "alone_kept");
    assert_int_equal(sb_store_begin(st), SB_OK); /* a unit inside the call nests */
    assert_int_equal(sb_store_commit(st), SB_OK);
    sb_store_plugin_call_end(st, true);
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_false(sb_store_pending(st));
    assert_true(kv_has(st, "alone_kept"));
}

#define U(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        U(test_durable_effects_run_after_flush_in_order),
        U(test_unit_commit_effects_run_at_commit),
        U(test_rollback_leaves_no_effect),
        U(test_failed_commit_runs_none),
        U(test_undone_plugin_call_drops_its_effects),
        U(test_plugin_call_savepoints_open_at_the_first_write),
        U(test_same_effect_twice_in_a_unit_runs_once),
        U(test_outside_a_unit_runs_at_once_or_after_the_batch),
        U(test_event_hook_queues_wakes_that_follow_the_unit),
        U(test_begin_inside_a_unit_is_refused),
        U(test_close_drops_queued_effects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
