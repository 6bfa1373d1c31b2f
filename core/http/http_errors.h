/*
 * http_errors.h - the one table from SB_ERR_* to an HTTP status and error
 * code, and the answer {"error": {"code", "message"}} built from it.
 *
 * Routes that answer an error differently on purpose (an agent's resolve
 * answers an unknown article 422; a vote answers 404 "not_shown") pass
 * their own rows, which are looked at before the table.
 */
#ifndef SB_HTTP_ERRORS_H
#define SB_HTTP_ERRORS_H

#include <microhttpd.h>

#include "sb.h"

struct sb_server;

/* What one error answers. A route's own list ends with a row of status 0. */
struct http_err_row {
    enum sb_err err;
    unsigned status;
    const char *code;
};

/* The row for rc (not SB_OK): the first of over (may be NULL) with that
 * error, else the table's. Errors the client cannot fix (the store, memory,
 * a plugin) are 503 "not_stored": the change was not made, retry. Never
 * NULL; the row is borrowed (static or the caller's). */
const struct http_err_row *http_err_row(enum sb_err rc, const struct http_err_row *over);

/* Answers rc from its row. detail (borrowed, may be NULL or empty) is the
 * message of a client error; a 5xx says retry_msg instead (NULL: "not
 * stored (<sb_strerror>); retry"), since a store's detail is for the log,
 * not for the client. An empty detail says sb_strerror(rc). */
enum MHD_Result http_error_of(struct sb_server *srv, struct MHD_Connection *c, enum sb_err rc,
                              const char *detail, const char *retry_msg,
                              const struct http_err_row *over);

#endif
