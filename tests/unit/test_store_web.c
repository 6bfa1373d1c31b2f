/*
 * test_store_web.c - core/store/store_sites.c and core/store/store_web.c: sites and
 * their origins, several visitor tokens per conversation, read marks that
 * only move forward, the queue order and the median wait kept by the
 * migration-6 trigger, and migration 6 itself carrying old tokens and
 * queued conversations over.
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
#include "store_undo.h"
#include "sb_util.h"
#include <sqlite3.h>

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
    sb_log_set_level(SB_LOG_WARN);
    snprintf(e->dir, sizeof(e->dir), "/tmp/sb-web-test-XXXXXX");
    if (!mkdtemp(e->dir)) return -1;
    snprintf(e->path, sizeof(e->path), "%s/test.db", e->dir);
    if (sb_store_open(e->path, "NORMAL", &e->st, &eb)) return -1;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    struct env *e = *state;
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

static void conv_with_token(struct sb_store *st, const char *visitor, const char *token,
                            struct sb_conv *c)
{
    char hash[65];
    sb_sha256_hex(token, strlen(token), hash);
    assert_int_equal(sb_store_conv_create(st, "web", visitor, "en", hash, c), SB_OK);
}

/* What a customer request asks: the conversation and whether the token
 * (NULL: none sent) grants access to it. */
static bool token_ok(struct sb_store *st, const struct sb_conv *conv, const char *token)
{
    struct sb_conv got;
    char hash[65];
    bool ok = true;
    if (token) sb_sha256_hex(token, strlen(token), hash);
    assert_int_equal(sb_store_conv_get_visitor(st, conv->public_id, token ? hash : NULL, &got, &ok),
                     SB_OK);
    assert_int_equal(got.id, conv->id);
    sb_conv_cleanup(&got);
    return ok;
}

static void sites_put_get_list_delete_and_origins(void **state)
{
    struct env *e = *state;
    json_t *site = json_pack("{s:s, s:s, s:s, s:[s, s], s:s}", "id", "shop", "name", "Shop",
                             "secret", "0123456789abcdef0123456789abcdef", "origins",
                             "https://a.example", "https://b.example", "title", "Help");
    json_t *got = NULL, *list;
    bool created = false;

    assert_int_equal(sb_store_site_put(e->st, site, &created), SB_OK);
    assert_true(created);
    assert_true(sb_store_origin_allowed(e->st, "https://b.example", NULL));
    assert_true(sb_store_origin_allowed(e->st, "https://b.example", "shop"));
    assert_false(sb_store_origin_allowed(e->st, "https://b.example", "other"));
    assert_false(sb_store_origin_allowed(e->st, "https://c.example", NULL));
    /* replacing replaces the origins too */
    json_object_set_new(site, "origins", json_pack("[s]", "https://c.example"));
    assert_int_equal(sb_store_site_put(e->st, site, &created), SB_OK);
    assert_false(created);
    assert_false(sb_store_origin_allowed(e->st, "https://a.example", NULL));
    assert_true(sb_store_origin_allowed(e->st, "https://c.example", NULL));
    assert_int_equal(sb_store_site_get(e->st, "shop", &got), SB_OK);
    assert_string_equal(json_string_value(json_object_get(got, "title")), "Help");
    assert_string_equal(json_string_value(json_object_get(got, "secret")),
                        "0123456789abcdef0123456789abcdef");
    assert_int_equal(json_array_size(json_object_get(got, "origins")), 1);
    json_decref(got);
    list = sb_store_site_list(e->st);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    list = sb_store_origins_all(e->st);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    assert_int_equal(sb_store_site_delete(e->st, "shop"), SB_OK);
    assert_int_equal(sb_store_site_delete(e->st, "shop"), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_store_site_get(e->st, "shop", &got), SB_ERR_NOT_FOUND);
    assert_false(sb_store_origin_allowed(e->st, "https://c.example", NULL));
    json_decref(site);
}

static void a_conversation_takes_several_tokens_and_only_its_own(void **state)
{
    struct env *e = *state;
    struct sb_conv a, b;
    char hash[65];

    conv_with_token(e->st, "v1", "token-a", &a);
    conv_with_token(e->st, "v2", "token-b", &b);
    assert_true(token_ok(e->st, &a, "token-a"));
    assert_false(token_ok(e->st, &a, "token-b"));
    assert_false(token_ok(e->st, &b, "token-a"));
    assert_false(token_ok(e->st, &a, NULL));
    sb_sha256_hex("token-a2", 8, hash);
    assert_int_equal(sb_store_conv_token_add(e->st, a.id, hash), SB_OK);
    assert_true(token_ok(e->st, &a, "token-a2"));
    assert_true(token_ok(e->st, &a, "token-a"));
    assert_false(token_ok(e->st, &b, "token-a2"));
    sb_conv_cleanup(&a);
    sb_conv_cleanup(&b);
}

static void read_marks_only_move_forward(void **state)
{
    struct env *e = *state;
    struct sb_conv_web w;
    struct sb_conv c;
    bool moved;

    conv_with_token(e->st, "v", "t", &c);
    assert_int_equal(sb_store_read_mark(e->st, c.id, "customer", 10, &moved), SB_OK);
    assert_true(moved);
    assert_int_equal(sb_store_read_mark(e->st, c.id, "customer", 7, &moved), SB_OK);
    assert_false(moved);
    assert_int_equal(sb_store_read_mark(e->st, c.id, "agent", 3, &moved), SB_OK);
    assert_true(moved);
    assert_int_equal(sb_store_conv_web(e->st, c.id, &w), SB_OK);
    assert_int_equal(w.read_customer, 10);
    assert_int_equal(w.read_agent, 3);
    assert_int_equal(w.queue_position, 0);
    assert_int_equal(w.expected_wait_ms, -1);
    sb_conv_cleanup(&c);
}

static void queue_order_is_priority_then_time_and_waits_are_recorded(void **state)
{
    struct env *e = *state;
    sqlite3 *db = sb_store_db(e->st);
    struct sb_conv c[3];
    struct sb_conv_web w;
    char sql[160];

    for (int i = 0; i < 3; i++) {
        char v[8];
        snprintf(v, sizeof(v), "v%d", i);
        conv_with_token(e->st, v, v, &c[i]);
        assert_int_equal(sb_store_conv_set_status(e->st, c[i].id, SB_STATUS_QUEUED), SB_OK);
    }
    /* the same millisecond is possible: ties go by id */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sb_store_conv_web(e->st, c[i].id, &w), SB_OK);
        assert_int_equal(w.queue_position, i + 1);
        assert_int_equal(w.expected_wait_ms, -1);
    }
    snprintf(sql, sizeof(sql), "UPDATE conversations SET priority = 5 WHERE id = %lld",
             (long long)c[2].id);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sb_store_conv_web(e->st, c[2].id, &w), SB_OK);
    assert_int_equal(w.queue_position, 1);
    assert_int_equal(sb_store_conv_web(e->st, c[0].id, &w), SB_OK);
    assert_int_equal(w.queue_position, 2);
    /* leaving the queue records the wait (the trigger), whatever set it */
    snprintf(sql, sizeof(sql),
             "UPDATE conversations SET queued_at = updated_at - 4000 WHERE id = %lld",
             (long long)c[2].id);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sb_store_conv_set_status(e->st, c[2].id, SB_STATUS_ASSIGNED), SB_OK);
    assert_int_equal(sb_store_conv_web(e->st, c[0].id, &w), SB_OK);
    assert_int_equal(w.queue_position, 1);
    assert_true(w.expected_wait_ms >= 4000 && w.expected_wait_ms < 60000);
    assert_int_equal(sb_store_conv_web(e->st, c[2].id, &w), SB_OK);
    assert_int_equal(w.queue_position, 0);
    for (int i = 0; i < 3; i++)
        sb_conv_cleanup(&c[i]);
}

/* A database at schema 5 (before the widget) with a conversation and its
 * token, queued: after migration 6 the token still opens it and it has a
 * place in the queue. */
static void migration_6_keeps_tokens_and_queue(void **state)
{
    struct env *e = *state;
    struct sb_errbuf eb = {{0}};
    struct sb_conv_web w;
    struct sb_conv c;

    conv_with_token(e->st, "old", "old-token", &c);
    assert_int_equal(sb_store_conv_set_status(e->st, c.id, SB_STATUS_QUEUED), SB_OK);
    assert_int_equal(sqlite3_exec(sb_store_db(e->st),
                                  UNDO_MIGRATION_7
                                  "DROP TRIGGER conversations_queue_time;"
                                  "DROP INDEX conversations_site;"
                                  "DROP TABLE attachments; DROP TABLE queue_waits;"
                                  "DROP TABLE conversation_tokens; DROP TABLE site_origins;"
                                  "DROP TABLE sites;"
                                  "ALTER TABLE conversations DROP COLUMN site_id;"
                                  "ALTER TABLE conversations DROP COLUMN page_url;"
                                  "ALTER TABLE conversations DROP COLUMN verified;"
                                  "ALTER TABLE conversations DROP COLUMN priority;"
                                  "ALTER TABLE conversations DROP COLUMN queued_at;"
                                  "ALTER TABLE conversations DROP COLUMN read_customer;"
                                  "ALTER TABLE conversations DROP COLUMN read_agent;"
                                  "PRAGMA user_version = 5;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sb_store_close(e->st);
    e->st = NULL;
    assert_int_equal(sb_store_open(e->path, "NORMAL", &e->st, &eb), SB_OK);
    assert_true(token_ok(e->st, &c, "old-token"));
    assert_int_equal(sb_store_conv_web(e->st, c.id, &w), SB_OK);
    assert_int_equal(w.queue_position, 1);
    assert_string_equal(w.site_id, "");
    assert_false(w.verified);
    sb_conv_cleanup(&c);
}

static int count_rows(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    int n = -1;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return n;
}

/* A database at schema 7 with customers' votes: after migration 8 the
 * votes are all there, an agent's resolution can be stored, and the
 * old CHECK would have refused it. */
static void migration_8_keeps_votes_and_takes_agent_resolutions(void **state)
{
    struct env *e = *state;
    struct sb_errbuf eb = {{0}};
    sqlite3 *db = sb_store_db(e->st);
    assert_int_equal(
        sqlite3_exec(db, UNDO_MIGRATION_8 "PRAGMA user_version = 7;", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "INSERT INTO kb_articles(id, slug, locale, title, summary, body,"
                     " created_at, updated_at) VALUES(5, 'a', 'en', 'A', '', '', 0, 0);"
                     "INSERT INTO kb_feedback(article_id, source, helpful, created_at)"
                     " VALUES(5, 'bot', 1, 1), (5, 'help', 0, 2);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db,
                                      "INSERT INTO kb_feedback(article_id, source, helpful,"
                                      " created_at) VALUES(5, 'agent', 1, 3);",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    sb_store_close(e->st);
    e->st = NULL;
    assert_int_equal(sb_store_open(e->path, "NORMAL", &e->st, &eb), SB_OK);
    db = sb_store_db(e->st);
    assert_int_equal(count_rows(db, "PRAGMA user_version"), SB_STORE_SCHEMA_VERSION);
    assert_int_equal(count_rows(db, "SELECT count(*) FROM kb_feedback WHERE article_id = 5"), 2);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO kb_feedback(article_id, source, helpful,"
                                  " conversation_id, created_at) VALUES(5, 'agent', 1, 9, 3);"
                                  "UPDATE conversations SET resolved_article = 5;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(count_rows(db, "SELECT count(*) FROM kb_feedback WHERE source = 'agent'"), 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(sites_put_get_list_delete_and_origins),
        T(a_conversation_takes_several_tokens_and_only_its_own),
        T(read_marks_only_move_forward),
        T(queue_order_is_priority_then_time_and_waits_are_recorded),
        T(migration_6_keeps_tokens_and_queue),
        T(migration_8_keeps_votes_and_takes_agent_resolutions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
