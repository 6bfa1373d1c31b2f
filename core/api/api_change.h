/*
 * api_change.h - the two halves every admin change shares (api_admin.c,
 * api_admin_agents.c, api_sites.c): the checked body and the start of its
 * unit of work; then the audit entry and the commit, or the rollback.
 * What an error is called stays with each handler.
 */
#ifndef API_CHANGE_H
#define API_CHANGE_H

#include <stdbool.h>

#include <jansson.h>

#include "http.h"

/* Begins the unit of work of a change whose request was checked: rc_check
 * and eb are the check's result, checked (owned) what it made. True when
 * the unit is begun; checked stays the caller's. Otherwise false with *ret
 * answered and checked dropped: 400 invalid_field with eb's text when the
 * check failed, 503 not_stored with the message not_stored ("the team was
 * not stored; retry") when the store could not begin. */
bool api_change_begin(struct sb_server *srv, struct MHD_Connection *c, enum sb_err rc_check,
                      const struct sb_errbuf *eb, json_t *checked, const char *not_stored,
                      enum MHD_Result *ret);

/* A check of a request body: *out (new) is what is stored, eb names the
 * field on error (agent_profile_validate, routing_rules_validate, ...). */
typedef enum sb_err (*api_check_fn)(const json_t *in, json_t **out, struct sb_errbuf *eb);

/* Reads r's body (a JSON object), checks it with check into *out and
 * begins the unit of work, as api_change_begin; false with *ret answered
 * (the body's own error too). */
bool api_change_begin_body(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                           api_check_fn check, json_t **out, struct sb_errbuf *eb,
                           const char *not_stored, enum MHD_Result *ret);

/* Ends the unit begun for a change: when rc is SB_OK writes the audit
 * entry (r's actor and address; target and detail may be NULL) and
 * commits; on rc, or on an error of its own, rolls back. Returns rc, or
 * the error that stopped the commit. Answers nothing. */
enum sb_err api_change_end(struct sb_server *srv, struct http_req *r, enum sb_err rc,
                           const char *action, const char *target, const char *detail);

#endif
