/*
 * server.h - private to core/: the running server, its HTTP layer, routes,
 * the SSE hub and the message pipeline.
 *
 * Everything here runs on the event loop thread; nothing locks.
 */
#ifndef SERVER_H
#define SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "auth.h"
#include "lua_host.h"
#include "worker.h"
#include "sb.h"
#include "sb_config.h"
#include "sb_kb.h"
#include "sb_re.h"
#include "sb_store.h"
#include "sb_util.h"

struct sse_stream;

#define SSE_BUCKETS 1024

struct sb_metrics {
    uint64_t http_requests, http_4xx, http_5xx;
    uint64_t messages_in, messages_out, duplicates, handoffs, kb_answers, kb_misses;
    uint64_t sse_opened, sse_events;
    uint64_t store_flushes, deferred_answers;
    int64_t sse_open;
};

struct sb_server {
    struct sb_config cfg;
    char public_url[512];
    int port;
    struct sb_store *store;
    struct sb_kb *kb;
    struct sb_re_cache *re;
    struct sb_host *host;
    struct MHD_Daemon *mhd;
    int epfd, sigfd, tickfd;
    bool stopping;
    bool reload_requested;
    int active_requests;
    struct http_req *current;   /* the request being routed, for http_json */
    struct http_req *requests;  /* every request between dispatch and completion */
    struct http_req **deferred; /* answers waiting for sb_store_flush() */
    size_t ndeferred, deferred_cap;
    int64_t *notify; /* conversations to wake after the flush */
    size_t nnotify, notify_cap;
    int64_t started_ns;
    struct sse_stream *sse[SSE_BUCKETS]; /* by conversation id */
    struct sb_metrics metrics;
    struct sb_limits *limits; /* rate limits and login lockouts */
    struct sb_worker *worker; /* password hashing, off the loop */
};

/* Runs the server until SIGTERM/SIGINT; returns the process exit code. */
int sb_server_run(const struct sb_config *cfg);

/* ------- Interface to code in http.c ------- */

/* Who is calling: a staff session (cookie), an API token (Bearer), or
 * nobody. Customers are not principals: their visitor token is checked
 * against one conversation by the customer routes. */
struct sb_principal {
    enum { PRINCIPAL_NONE, PRINCIPAL_SESSION, PRINCIPAL_TOKEN } kind;
    struct sb_user user; /* sessions only */
    unsigned roles;      /* effective: admin holds every role */
    char actor[300];     /* for the audit log: e-mail or "token:<name>" */
    char csrf[65];
    char session_hash[65];
};

#define HTTP_MAX_EXTRA_HEADERS 2

/* Per-request state, kept in libmicrohttpd's req_cls and freed in the
 * completion callback. */
struct http_req {
    struct http_req *prev, *next; /* srv->requests */
    struct MHD_Connection *conn;
    struct sb_buf body;
    size_t max_body;          /* the cap for this route */
    bool uploading;           /* the body is still arriving */
    int64_t last_progress_ns; /* when bytes last arrived */
    /* A response held back until the batch it depends on is durable. */
    unsigned deferred_status;
    json_t *deferred_body;
    bool deferred_ready;
    bool too_large;
    bool responded;
    bool after_stop; /* arrived after shutdown began */
    char method[8];
    char path[512];
    char ip[64];
    struct sb_principal who;
    /* headers for the answer, e.g. Set-Cookie, Retry-After */
    char hdr_name[HTTP_MAX_EXTRA_HEADERS][32];
    char hdr_value[HTTP_MAX_EXTRA_HEADERS][320];
    int nhdr;
    /* Work handed to the worker thread (login): the route runs again when
     * it is done, with the result in job. */
    void *job;
    void (*job_free)(void *job);
    bool rerun;
};

typedef enum MHD_Result (*route_fn)(struct sb_server *srv, struct MHD_Connection *c,
                                    struct http_req *r, const char *params[2]);

/* Who may call a route. Customer routes check the conversation token
 * inside the handler (it is per conversation); every other class is
 * checked by http.c before the handler runs, so a route cannot forget. */
enum route_access {
    ROUTE_PUBLIC,
    ROUTE_VISITOR_TOKEN,
    ROUTE_USER, /* any signed-in staff member or API token */
    ROUTE_AGENT,
    ROUTE_EDITOR,
    ROUTE_ADMIN,
};

struct route {
    const char *method;
    const char *pattern; /* segments; "{}" matches one segment */
    route_fn fn;
    enum route_access access;
    bool customer_limit; /* counts against the customer API rate limits */
};

const char *route_access_name(enum route_access a);

extern const struct route sb_routes[];

enum MHD_Result http_dispatch(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls);
void http_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                    enum MHD_RequestTerminationCode toe);

/* Adds a header to the answer of the request being routed. */
void http_add_header(struct sb_server *srv, const char *name, const char *value);

/* Queues a JSON response; takes ownership of body. While the store holds
 * writes that are not yet durable, the answer is held back (the connection
 * is suspended) until the event loop has flushed them. */
enum MHD_Result http_json(struct sb_server *srv, struct MHD_Connection *c, unsigned status,
                          json_t *body);
/* Queues {"error":{"code","message"}}. */
enum MHD_Result http_error(struct sb_server *srv, struct MHD_Connection *c, unsigned status,
                           const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
enum MHD_Result http_text(struct sb_server *srv, struct MHD_Connection *c, unsigned status,
                          const char *content_type, const char *text, size_t len);
/* Adds the headers every response carries. */
void http_common_headers(struct MHD_Response *resp, const char *content_type);

/* After a flush: answers every held-back response, or replaces them with
 * 503 not_stored when the flush failed. */
void http_release_deferred(struct sb_server *srv, bool stored);
/* True when no request is being handled, apart from uploads that stalled
 * for a second or more (clients that went away mid-body). */
bool http_idle(struct sb_server *srv);

/* Parses the request body as a JSON object: answers the error itself and
 * returns NULL when it is not one. */
json_t *http_body_object(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                         enum MHD_Result *ret);

/* ------- Interface to code in api_customer.c ------- */

enum MHD_Result api_conversation_create(struct sb_server *, struct MHD_Connection *,
                                        struct http_req *, const char *params[2]);
enum MHD_Result api_message_post(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                 const char *params[2]);
enum MHD_Result api_transcript(struct sb_server *, struct MHD_Connection *, struct http_req *,
                               const char *params[2]);
enum MHD_Result api_events(struct sb_server *, struct MHD_Connection *, struct http_req *,
                           const char *params[2]);
/* POST .../feedback: the customer's "did this help?" on a bot answer. */
enum MHD_Result api_feedback(struct sb_server *, struct MHD_Connection *, struct http_req *,
                             const char *params[2]);
/* Loads the conversation named by id and checks the visitor token from the
 * Authorization header (or ?token= for EventSource). Answers the error
 * itself and returns false when access is refused. */
bool api_visitor_conv(struct sb_server *srv, struct MHD_Connection *c, const char *id,
                      bool allow_query_token, struct sb_conv *conv, enum MHD_Result *ret);

/* ------- Interface to code in api_kb.c ------- */

/* The editors' knowledge-base API (docs/kb-api.md). */
enum MHD_Result api_kb_list(struct sb_server *, struct MHD_Connection *, struct http_req *,
                            const char *params[2]);
enum MHD_Result api_kb_create(struct sb_server *, struct MHD_Connection *, struct http_req *,
                              const char *params[2]);
enum MHD_Result api_kb_get(struct sb_server *, struct MHD_Connection *, struct http_req *,
                           const char *params[2]);
enum MHD_Result api_kb_update(struct sb_server *, struct MHD_Connection *, struct http_req *,
                              const char *params[2]);
enum MHD_Result api_kb_delete(struct sb_server *, struct MHD_Connection *, struct http_req *,
                              const char *params[2]);
enum MHD_Result api_kb_publish(struct sb_server *, struct MHD_Connection *, struct http_req *,
                               const char *params[2]);
enum MHD_Result api_kb_unpublish(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                 const char *params[2]);
enum MHD_Result api_kb_revisions(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                 const char *params[2]);
enum MHD_Result api_kb_revision(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                const char *params[2]);
enum MHD_Result api_kb_diff(struct sb_server *, struct MHD_Connection *, struct http_req *,
                            const char *params[2]);
enum MHD_Result api_kb_revert(struct sb_server *, struct MHD_Connection *, struct http_req *,
                              const char *params[2]);
enum MHD_Result api_kb_put_by_key(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                  const char *params[2]);
enum MHD_Result api_kb_categories(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                  const char *params[2]);
enum MHD_Result api_kb_category_put(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                    const char *params[2]);
enum MHD_Result api_kb_synonyms(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                const char *params[2]);
enum MHD_Result api_kb_synonyms_put(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                    const char *params[2]);
enum MHD_Result api_kb_locales(struct sb_server *, struct MHD_Connection *, struct http_req *,
                               const char *params[2]);
enum MHD_Result api_kb_preview(struct sb_server *, struct MHD_Connection *, struct http_req *,
                               const char *params[2]);
enum MHD_Result api_kb_try(struct sb_server *, struct MHD_Connection *, struct http_req *,
                           const char *params[2]);
enum MHD_Result api_kb_gaps(struct sb_server *, struct MHD_Connection *, struct http_req *,
                            const char *params[2]);
enum MHD_Result api_kb_helpfulness(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                   const char *params[2]);
/* Customers' phrasings that found an article, and adopting one as an
 * example question. */
enum MHD_Result api_kb_suggestions(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                   const char *params[2]);
enum MHD_Result api_kb_suggestion_accept(struct sb_server *, struct MHD_Connection *,
                                         struct http_req *, const char *params[2]);
enum MHD_Result api_kb_export(struct sb_server *, struct MHD_Connection *, struct http_req *,
                              const char *params[2]);
enum MHD_Result api_kb_import(struct sb_server *, struct MHD_Connection *, struct http_req *,
                              const char *params[2]);

/* ------- Interface to code in api_static.c ------- */

/* GET /static/{editor|help|widget|console}/{file} from web_dir. */
enum MHD_Result api_static(struct sb_server *, struct MHD_Connection *, struct http_req *,
                           const char *params[2]);
/* GET /editor/: web/editor/index.html. */
enum MHD_Result api_editor_page(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                const char *params[2]);

/* ------- Interface to code in principal.c ------- */

/* The client's address (X-Forwarded-For's first hop with trust_proxy). */
void principal_client_ip(struct sb_server *srv, struct MHD_Connection *c, char out[64]);
/* Reads the session cookie or the Bearer API token; p->kind says which,
 * PRINCIPAL_NONE when neither is valid. */
enum sb_err principal_resolve(struct sb_server *srv, struct MHD_Connection *c,
                              struct sb_principal *p);
/* True when the request came over TLS according to a trusted proxy. */
bool principal_https(struct sb_server *srv, struct MHD_Connection *c);

/* ------- Interface to code in api_auth.c, api_admin.c, api_staff.c ------- */

enum MHD_Result api_login(struct sb_server *, struct MHD_Connection *, struct http_req *,
                          const char *params[2]);
enum MHD_Result api_logout(struct sb_server *, struct MHD_Connection *, struct http_req *,
                           const char *params[2]);
enum MHD_Result api_me(struct sb_server *, struct MHD_Connection *, struct http_req *,
                       const char *params[2]);
enum MHD_Result api_change_password(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                    const char *params[2]);
enum MHD_Result api_admin_users(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                const char *params[2]);
enum MHD_Result api_admin_user_add(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                   const char *params[2]);
enum MHD_Result api_admin_user_disable(struct sb_server *, struct MHD_Connection *,
                                       struct http_req *, const char *params[2]);
enum MHD_Result api_admin_user_enable(struct sb_server *, struct MHD_Connection *,
                                      struct http_req *, const char *params[2]);
enum MHD_Result api_admin_user_password(struct sb_server *, struct MHD_Connection *,
                                        struct http_req *, const char *params[2]);
enum MHD_Result api_admin_tokens(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                 const char *params[2]);
enum MHD_Result api_admin_token_add(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                    const char *params[2]);
enum MHD_Result api_admin_token_revoke(struct sb_server *, struct MHD_Connection *,
                                       struct http_req *, const char *params[2]);
enum MHD_Result api_admin_audit(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                const char *params[2]);
enum MHD_Result api_agent_conversations(struct sb_server *, struct MHD_Connection *,
                                        struct http_req *, const char *params[2]);
enum MHD_Result api_agent_conversation(struct sb_server *, struct MHD_Connection *,
                                       struct http_req *, const char *params[2]);

/* ------- Interface to code in api_misc.c ------- */

enum MHD_Result api_healthz(struct sb_server *, struct MHD_Connection *, struct http_req *,
                            const char *params[2]);
enum MHD_Result api_metrics(struct sb_server *, struct MHD_Connection *, struct http_req *,
                            const char *params[2]);
enum MHD_Result api_home(struct sb_server *, struct MHD_Connection *, struct http_req *,
                         const char *params[2]);

/* ------- Interface to code in help_center.c ------- */

/* The public help center (docs/kb-api.md): HTML pages of the published
 * articles. GET /help redirects to the visitor's locale; the GET pages
 * redirect other spellings and regions of a locale to the known one and
 * answer HTML error pages, never JSON. */
enum MHD_Result help_center_root(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                 const char *params[2]);
enum MHD_Result help_center_home(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                 const char *params[2]);
enum MHD_Result help_center_search(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                   const char *params[2]);
enum MHD_Result help_center_category(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                     const char *params[2]);
enum MHD_Result help_center_article(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                    const char *params[2]);
/* POST: form field helpful=yes|no; 303 back to the article with ?voted=1. */
enum MHD_Result help_center_feedback(struct sb_server *, struct MHD_Connection *, struct http_req *,
                                     const char *params[2]);

/* ------- Interface to code in sse.c ------- */

/* Starts an event stream for conversation conv_id after after_seq. */
enum MHD_Result sse_start(struct sb_server *srv, struct MHD_Connection *c, int64_t conv_id,
                          int64_t after_seq);
/* Wakes the streams of a conversation once its new events are durable:
 * at once when nothing is pending, else after the loop's next flush. */
void sse_notify(struct sb_server *srv, int64_t conv_id);
/* Marks every stream for a keep-alive comment and wakes it. */
void sse_keepalive(struct sb_server *srv);
/* Wakes every stream so it ends (shutdown). */
void sse_close_all(struct sb_server *srv);
/* Wakes the streams whose conversations were queued by sse_notify(). */
void sse_notify_flushed(struct sb_server *srv);

/* ------- Interface to code in pipeline.c ------- */

/* One normalised inbound message for an existing conversation. */
struct sb_inbound {
    const char *channel;
    const char *text;
    const char *provider_id; /* dedupe key, unique per channel, or NULL */
    const char *client_id;
    const char *payload;
    const char *locale; /* overrides the conversation's for this turn, or NULL */
};

/* Persists the message, runs the bot unless a person owns the
 * conversation, persists the replies, commits, then publishes. *result is
 * {status, message_id, duplicate, replies}. conv is updated in place. */
enum sb_err sb_pipeline_handle(struct sb_server *srv, struct sb_conv *conv,
                               const struct sb_inbound *in, json_t **result, struct sb_errbuf *eb);

/* Creates a conversation and records its first event. */
enum sb_err sb_pipeline_start(struct sb_server *srv, const char *channel, const char *external_id,
                              const char *locale, const char *token_hash, struct sb_conv *out);

#endif
