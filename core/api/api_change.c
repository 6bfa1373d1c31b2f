/*
 * api_change.c - the start and the end of an audited admin change (see
 * api_change.h).
 *
 * Uses: the store's unit of work, sb_audit (auth.h), http_error.
 */
#include "api_change.h"
#include "server.h"

bool api_change_begin(struct sb_server *srv, struct MHD_Connection *c, enum sb_err rc_check,
                      const struct sb_errbuf *eb, json_t *checked, const char *not_stored,
                      enum MHD_Result *ret)
{
    if (rc_check) {
        json_decref(checked);
        *ret = http_error(srv, c, 400, "invalid_field", "%s", eb->msg);
        return false;
    }
    if (sb_store_begin(srv->store)) {
        json_decref(checked);
        *ret = http_error(srv, c, 503, "not_stored", "%s", not_stored);
        return false;
    }
    return true;
}

bool api_change_begin_body(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                           api_check_fn check, json_t **out, struct sb_errbuf *eb,
                           const char *not_stored, enum MHD_Result *ret)
{
    json_t *body = http_body_object(srv, c, r, ret);
    enum sb_err rc;

    *out = NULL;
    if (!body) return false;
    rc = check(body, out, eb);
    json_decref(body);
    if (api_change_begin(srv, c, rc, eb, *out, not_stored, ret)) return true;
    *out = NULL; /* dropped */
    return false;
}

enum sb_err api_change_end(struct sb_server *srv, struct http_req *r, enum sb_err rc,
                           const char *action, const char *target, const char *detail)
{
    if (!rc) rc = sb_audit(srv->store, r->who.actor, action, target, r->ip, detail);
    if (!rc) rc = sb_store_commit(srv->store);
    if (rc) sb_store_rollback(srv->store);
    return rc;
}
