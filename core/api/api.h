/*
 * api.h - what the request handlers of core/api/ share: the customer's
 * access to a conversation, the widget's caller, attachments, site
 * secrets, static files, the sign-in guard and the viewer of an agent
 * request. Each handler file registers its own routes (core/server/routes.c).
 */
#ifndef API_H
#define API_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "http.h"
#include "sb.h"
#include "sb_store.h"
#include "store_agent.h"

struct sb_attachment;
struct sb_server;

/* ------- Interface to code in api_customer.c ------- */
/* Loads the conversation named by id and checks the visitor token from the
 * Authorization header (or ?token= for EventSource). Answers the error
 * itself and returns false when access is refused. */
bool api_visitor_conv(struct sb_server *srv, struct MHD_Connection *c, const char *id,
                      bool allow_query_token, struct sb_conv *conv, enum MHD_Result *ret);

/* The "up_to" of a POST .../read body: a message of conversation conv_id.
 * Answers the 400 itself and returns false on bad input. */
bool api_read_up_to(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                    int64_t conv_id, int64_t *up_to, enum MHD_Result *ret);

/* ------- Interface to code in api_widget.c ------- */

/* GET /widget.js, also what /static/widget/widget.js answers: the script
 * with the customer's words filled in. */
enum MHD_Result api_widget_js(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                              const char *params[2]);

/* Who a widget request speaks for: the site it names and, when user_id
 * and user_hash check out against the site's secret, a verified user. */
struct widget_who {
    json_t *site; /* owned, secret included; NULL when no site was named */
    char site_id[48];
    bool verified;
    char external_id[256]; /* "<site>:<user_id>" when verified */
};
/* Reads "site", "user_id" and "user_hash" of body. need_identity: all
 * three are required (widget/session). Answers 400 invalid_field (unknown
 * site, bad fields), 403 origin_not_allowed (the Origin is not the site's)
 * or 403 identity_invalid (wrong hash) itself and returns false. A user_id
 * without a hash is ignored. Free with widget_who_cleanup(). */
bool widget_who_read(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                     json_t *body, bool need_identity, struct widget_who *w, enum MHD_Result *ret);
void widget_who_cleanup(struct widget_who *w);

/* ------- Interface to code in api_attachments.c ------- */
/* {id, name, type, size, url} of an attachment of conversation conv_public_id. */
json_t *api_attachment_json(const char *conv_public_id, const struct sb_attachment *a);

/* ------- Interface to code in api_sites.c ------- */

/* A validated site without "secret" gets the stored one, or a new random
 * one, which is also copied to fresh (else fresh is ""). */
enum sb_err site_secret_fill(struct sb_store *st, json_t *site, char fresh[65]);

/* ------- Interface to code in api_static.c ------- */

/* Answers web_dir/dir/name (a plain name of a known type), or 404 JSON. */
enum MHD_Result api_static_file(struct sb_server *srv, struct MHD_Connection *c, const char *dir,
                                const char *name);

/* ------- Interface to code in login_guard.c ------- */

/* The counters one sign-in attempt is checked against: the account from
 * this client address (or, from a browser that signed in to the account
 * before, that device alone), and the address across every account. */
struct login_guard {
    char acct_key[80];
    char ip_key[80]; /* "" for a known device */
    bool known_device;
};

/* email as typed (case is ignored), user_id the account's or 0 when the
 * e-mail is unknown; ip from principal_client_ip(). */
void login_guard_init(struct sb_server *srv, struct MHD_Connection *c, const char *ip,
                      const char *email, int64_t user_id, struct login_guard *g);
/* True (with *retry_after_s) while g is locked out. */
bool login_guard_locked(struct sb_server *srv, const struct login_guard *g, int64_t now_ms,
                        int *retry_after_s);
void login_guard_failed(struct sb_server *srv, const struct login_guard *g, int64_t now_ms);
/* Forgets g's failures and, when remember and the browser is not known
 * already, adds the Set-Cookie of a device cookie for user_id to the
 * answer (opt-in: a second Set-Cookie confuses simple API clients). */
void login_guard_succeeded(struct sb_server *srv, struct MHD_Connection *c,
                           const struct login_guard *g, int64_t user_id, bool remember);

/* ------- Interface to code in agent_viewer.c ------- */

/* The viewer of a request admitted to an agent route. */
struct agent_viewer agent_viewer_of(const struct http_req *r);

#endif
