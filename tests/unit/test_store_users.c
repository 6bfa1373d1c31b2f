/*
 * test_store_users.c - core/store/store_users.c: accounts, sessions (idle and
 * absolute expiry, revocation on disable and password change), API tokens
 * and the audit log, on a real SQLite file.
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

struct env {
    char dir[64];
    struct sb_store *st;
    int64_t uid;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    char path[128];
    struct sb_errbuf eb = {{0}};
    snprintf(e->dir, sizeof(e->dir), "/tmp/sb-users-XXXXXX");
    if (!mkdtemp(e->dir)) return -1;
    snprintf(path, sizeof(path), "%s/t.db", e->dir);
    if (sb_store_open(path, "NORMAL", &e->st, &eb)) return -1;
    if (sb_user_add(e->st, "Ana@Example.com", "Ana", "pt-BR", SB_ROLE_AGENT | SB_ROLE_EDITOR,
                    "$scrypt$x", &e->uid))
        return -1;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    char path[160];
    sb_store_close(e->st);
    const char *files[] = {"t.db", "t.db-wal", "t.db-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", e->dir, files[i]);
        unlink(path);
    }
    rmdir(e->dir);
    free(e);
    return 0;
}

static void exec(struct env *e, const char *sql)
{
    assert_int_equal(sqlite3_exec(sb_store_db(e->st), sql, NULL, NULL, NULL), SQLITE_OK);
}

static void test_users_are_found_by_email_ignoring_case(void **state)
{
    struct env *e = *state;
    struct sb_user u;
    int64_t id;
    assert_int_equal(sb_user_by_email(e->st, "ana@example.COM", &u), SB_OK);
    assert_int_equal(u.id, e->uid);
    assert_string_equal(u.locale, "pt-BR");
    assert_int_equal(u.roles, SB_ROLE_AGENT | SB_ROLE_EDITOR);
    assert_int_equal(sb_user_add(e->st, "ANA@example.com", "Dup", "en", SB_ROLE_ADMIN, "h", &id),
                     SB_ERR_EXISTS);
    assert_int_equal(sb_user_by_email(e->st, "nobody@example.com", &u), SB_ERR_NOT_FOUND);
}

static void test_roles_parse_and_format(void **state)
{
    char out[64];
    (void)state;
    assert_int_equal(sb_role_parse("admin"), SB_ROLE_ADMIN);
    assert_int_equal(sb_role_parse("Admin"), 0);
    assert_int_equal(sb_role_parse("root"), 0);
    sb_roles_format(SB_ROLE_AGENT | SB_ROLE_ADMIN, out, sizeof(out));
    assert_string_equal(out, "agent,admin");
}

static void test_session_lives_until_idle_or_absolute_expiry(void **state)
{
    struct env *e = *state;
    struct sb_user u;
    char csrf[65];
    int64_t far = sb_now_ms() + 3600 * 1000;

    assert_int_equal(sb_session_add(e->st, "h1", e->uid, "c1", far, "127.0.0.1"), SB_OK);
    assert_int_equal(sb_session_get(e->st, "h1", 60, &u, csrf), SB_OK);
    assert_string_equal(csrf, "c1");
    assert_int_equal(u.id, e->uid);
    /* idle: last use two minutes ago with a one-minute idle limit */
    exec(e, "UPDATE sessions SET last_seen_at = last_seen_at - 120000 WHERE id_hash = 'h1'");
    assert_int_equal(sb_session_get(e->st, "h1", 60, &u, csrf), SB_ERR_NOT_FOUND);
    /* and it is gone for good, not just refused */
    assert_int_equal(sb_session_get(e->st, "h1", 100000, &u, csrf), SB_ERR_NOT_FOUND);
    /* absolute: expired even though just used */
    assert_int_equal(sb_session_add(e->st, "h2", e->uid, "c2", sb_now_ms() - 1, "ip"), SB_OK);
    assert_int_equal(sb_session_get(e->st, "h2", 60, &u, csrf), SB_ERR_NOT_FOUND);
}

static void test_disable_and_password_change_revoke_sessions(void **state)
{
    struct env *e = *state;
    struct sb_user u;
    char csrf[65];
    int64_t far = sb_now_ms() + 3600 * 1000;

    assert_int_equal(sb_session_add(e->st, "a", e->uid, "c", far, "ip"), SB_OK);
    assert_int_equal(sb_session_add(e->st, "b", e->uid, "c", far, "ip"), SB_OK);
    assert_int_equal(sb_user_set_password(e->st, e->uid, "new", true), SB_OK);
    assert_int_equal(sb_session_get(e->st, "a", 60, &u, csrf), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_session_get(e->st, "b", 60, &u, csrf), SB_ERR_NOT_FOUND);

    /* re-hashing the same password keeps sessions */
    assert_int_equal(sb_session_add(e->st, "c", e->uid, "c", far, "ip"), SB_OK);
    assert_int_equal(sb_user_set_password(e->st, e->uid, "rehash", false), SB_OK);
    assert_int_equal(sb_session_get(e->st, "c", 60, &u, csrf), SB_OK);

    assert_int_equal(sb_user_set_active(e->st, e->uid, false), SB_OK);
    assert_int_equal(sb_session_get(e->st, "c", 60, &u, csrf), SB_ERR_NOT_FOUND);
    /* a session made for a disabled user does not work either */
    assert_int_equal(sb_session_add(e->st, "d", e->uid, "c", far, "ip"), SB_OK);
    assert_int_equal(sb_session_get(e->st, "d", 60, &u, csrf), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_user_set_active(e->st, 9999, true), SB_ERR_NOT_FOUND);
}

static void test_tokens_are_found_by_hash_until_revoked(void **state)
{
    struct env *e = *state;
    char name[64];
    int64_t id, got;
    unsigned role;
    json_t *list;

    assert_int_equal(sb_token_add(e->st, "th", "deploy", SB_ROLE_EDITOR, e->uid, &id), SB_OK);
    assert_int_equal(sb_token_get(e->st, "th", &got, name, sizeof(name), &role), SB_OK);
    assert_int_equal(got, id);
    assert_string_equal(name, "deploy");
    assert_int_equal(role, SB_ROLE_EDITOR);
    list = sb_token_list(e->st);
    assert_int_equal(json_array_size(list), 1);
    assert_null(json_object_get(json_array_get(list, 0), "token"));
    json_decref(list);
    assert_int_equal(sb_token_revoke(e->st, id), SB_OK);
    assert_int_equal(sb_token_get(e->st, "th", &got, name, sizeof(name), &role), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_token_revoke(e->st, id), SB_ERR_NOT_FOUND);
}

static void test_audit_log_lists_newest_first(void **state)
{
    struct env *e = *state;
    json_t *list;
    assert_int_equal(sb_audit(e->st, "a@x", "user.add", "b@x", "10.0.0.1", "agent"), SB_OK);
    assert_int_equal(sb_audit(e->st, "a@x", "token.create", "ci", NULL, NULL), SB_OK);
    list = sb_audit_list(e->st, 10);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "action")),
                        "token.create");
    assert_true(json_is_null(json_object_get(json_array_get(list, 0), "ip")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "ip")),
                        "10.0.0.1");
    json_decref(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_users_are_found_by_email_ignoring_case, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_roles_parse_and_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_lives_until_idle_or_absolute_expiry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_disable_and_password_change_revoke_sessions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tokens_are_found_by_hash_until_revoked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_log_lists_newest_first, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
