/*
 * http_errors.c - SB_ERR_* to HTTP, once (http_errors.h). Uses http_error()
 * (http.c) to answer; the statuses are the ones docs/api.md, docs/kb-api.md
 * and docs/agents.md list.
 */
#include <stddef.h>

#include "http_errors.h"
#include "http.h"

/* Client errors; everything else is a failure to store (the last row). */
static const struct http_err_row table[] = {
    {SB_ERR_INVAL, 400, "invalid_field"}, {SB_ERR_AUTH, 401, "unauthorized"},
    {SB_ERR_FORBIDDEN, 403, "forbidden"}, {SB_ERR_NOT_FOUND, 404, "not_found"},
    {SB_ERR_EXISTS, 409, "exists"},       {SB_ERR_CONFLICT, 409, "conflict"},
};
static const struct http_err_row not_stored = {SB_ERR_DB, 503, "not_stored"};

const struct http_err_row *http_err_row(enum sb_err rc, const struct http_err_row *over)
{
    for (const struct http_err_row *o = over; o && o->status; o++)
        if (o->err == rc) return o;
    for (size_t i = 0; i < SB_ARRAY_LEN(table); i++)
        if (table[i].err == rc) return &table[i];
    return &not_stored;
}

enum MHD_Result http_error_of(struct sb_server *srv, struct MHD_Connection *c, enum sb_err rc,
                              const char *detail, const char *retry_msg,
                              const struct http_err_row *over)
{
    const struct http_err_row *row = http_err_row(rc, over);

    if (row->status >= 500) {
        if (retry_msg) return http_error(srv, c, row->status, row->code, "%s", retry_msg);
        return http_error(srv, c, row->status, row->code, "not stored (%s); retry",
                          sb_strerror(rc));
    }
    return http_error(srv, c, row->status, row->code, "%s",
                      detail && *detail ? detail : sb_strerror(rc));
}
