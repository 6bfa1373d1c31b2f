/*
 * test_http_errors.c - core/http/http_errors.c: the one table from SB_ERR_*
 * to an HTTP status and code, and a route's own rows taking precedence.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "http_errors.h"

static void expect_row(enum sb_err rc, const struct http_err_row *over, unsigned status,
                       const char *code)
{
    const struct http_err_row *row = http_err_row(rc, over);
    assert_non_null(row);
    assert_int_equal(row->status, status);
    assert_string_equal(row->code, code);
}

static void client_errors_have_the_documented_status(void **state)
{
    (void)state;
    /* docs/api.md, docs/kb-api.md: a bad field is 400 everywhere */
    expect_row(SB_ERR_INVAL, NULL, 400, "invalid_field");
    expect_row(SB_ERR_AUTH, NULL, 401, "unauthorized");
    expect_row(SB_ERR_FORBIDDEN, NULL, 403, "forbidden");
    expect_row(SB_ERR_NOT_FOUND, NULL, 404, "not_found");
    expect_row(SB_ERR_EXISTS, NULL, 409, "exists");
    expect_row(SB_ERR_CONFLICT, NULL, 409, "conflict");
}

static void failures_to_store_are_503_not_stored(void **state)
{
    (void)state;
    const enum sb_err server_side[] = {SB_ERR_NOMEM,   SB_ERR_DB,    SB_ERR_LUA,
                                       SB_ERR_TIMEOUT, SB_ERR_LIMIT, SB_ERR_IO};
    for (size_t i = 0; i < SB_ARRAY_LEN(server_side); i++)
        expect_row(server_side[i], NULL, 503, "not_stored");
}

static void a_routes_own_rows_come_first_and_the_rest_is_the_table(void **state)
{
    (void)state;
    static const struct http_err_row mine[] = {
        {SB_ERR_INVAL, 422, "invalid_field"},
        {SB_ERR_NOT_FOUND, 404, "not_shown"},
        {SB_OK, 0, NULL},
    };
    expect_row(SB_ERR_INVAL, mine, 422, "invalid_field");
    expect_row(SB_ERR_NOT_FOUND, mine, 404, "not_shown");
    expect_row(SB_ERR_CONFLICT, mine, 409, "conflict");
    expect_row(SB_ERR_DB, mine, 503, "not_stored");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(client_errors_have_the_documented_status),
        cmocka_unit_test(failures_to_store_are_503_not_stored),
        cmocka_unit_test(a_routes_own_rows_come_first_and_the_rest_is_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
