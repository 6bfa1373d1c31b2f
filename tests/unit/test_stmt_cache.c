/*
 * test_stmt_cache.c - core/store/stmt_cache.c: a literal is prepared once
 * and handed out again after release, reset and with its bindings
 * cleared; a nested use of the same literal gets a one-off statement; SQL
 * built at run time is never cached.
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
#include "store_int.h"

struct env {
    char dir[64];
    char path[128];
    struct sb_store *st;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    struct sb_errbuf eb = {{0}};
    if (!e) return -1;
    sb_log_set_level(SB_LOG_ERROR + 1);
    snprintf(e->dir, sizeof(e->dir), "/tmp/sb-cache-test-XXXXXX");
    if (!mkdtemp(e->dir)) return -1;
    snprintf(e->path, sizeof(e->path), "%s/test.db", e->dir);
    if (sb_store_open(e->path, "NORMAL", &e->st, &eb) != SB_OK) return -1;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    char p[160];
    sb_store_close(e->st);
    snprintf(p, sizeof(p), "%s-wal", e->path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", e->path);
    unlink(p);
    unlink(e->path);
    rmdir(e->dir);
    free(e);
    return 0;
}

static const char *const ECHO = "SELECT ?1";

static void test_a_literal_is_prepared_once_and_comes_back_reset(void **state)
{
    struct sb_store *st = ((struct env *)*state)->st;
    sqlite3_stmt *a = store_prep(st, ECHO), *b;
    assert_non_null(a);
    sqlite3_bind_int(a, 1, 42);
    assert_int_equal(sqlite3_step(a), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(a, 0), 42);
    store_release(st, a);
    b = store_prep(st, ECHO);
    assert_ptr_equal(a, b);
    /* reset, bindings cleared: an unbound parameter is NULL */
    assert_int_equal(sqlite3_step(b), SQLITE_ROW);
    assert_int_equal(sqlite3_column_type(b, 0), SQLITE_NULL);
    store_release(st, b);
}

static void test_a_nested_use_gets_its_own_statement(void **state)
{
    struct sb_store *st = ((struct env *)*state)->st;
    sqlite3_stmt *outer = store_prep(st, ECHO), *inner, *again;
    sqlite3_bind_int(outer, 1, 1);
    assert_int_equal(sqlite3_step(outer), SQLITE_ROW);
    inner = store_prep(st, ECHO);
    assert_non_null(inner);
    assert_ptr_not_equal(inner, outer);
    sqlite3_bind_int(inner, 1, 2);
    assert_int_equal(sqlite3_step(inner), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(inner, 0), 2);
    store_release(st, inner); /* finalized: a one-off */
    assert_int_equal(sqlite3_column_int(outer, 0), 1);
    store_release(st, outer);
    again = store_prep(st, ECHO);
    assert_ptr_equal(again, outer);
    store_release(st, again);
}

static void test_built_sql_and_errors(void **state)
{
    struct sb_store *st = ((struct env *)*state)->st;
    char sql[32];
    sqlite3_stmt *s;
    snprintf(sql, sizeof(sql), "SELECT %d", 7);
    s = store_prep_built(st, sql);
    assert_non_null(s);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 7);
    store_release(st, s);
    assert_null(store_prep(st, "SELECT FROM nowhere"));
    assert_int_equal(store_done(st, NULL), SB_ERR_DB);
}

/* More literals than the first table holds: it grows and keeps them. */
static void test_many_literals(void **state)
{
    struct sb_store *st = ((struct env *)*state)->st;
    static char texts[300][24];
    sqlite3_stmt *first[300];
    for (int i = 0; i < 300; i++) {
        snprintf(texts[i], sizeof(texts[i]), "SELECT %d", i);
        first[i] = store_prep(st, texts[i]);
        assert_non_null(first[i]);
        store_release(st, first[i]);
    }
    for (int i = 0; i < 300; i++) {
        sqlite3_stmt *s = store_prep(st, texts[i]);
        assert_ptr_equal(s, first[i]);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(s, 0), i);
        store_release(st, s);
    }
}

#define U(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        U(test_a_literal_is_prepared_once_and_comes_back_reset),
        U(test_a_nested_use_gets_its_own_statement),
        U(test_built_sql_and_errors),
        U(test_many_literals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
