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
#include "ratelimit.h"
#include "ipaddr.h"
#include "lua_host.h"
#include "worker.h"
#include "sb.h"
#include "sb_config.h"
#include "sb_kb.h"
#include "sb_re.h"
#include "sb_store.h"
#include "sb_util.h"

struct sse_stream;
struct conn_table;

#define SSE_BUCKETS 1024

struct sb_metrics {
    uint64_t http_requests, http_4xx, http_5xx;
    uint64_t messages_in, messages_out, duplicates, handoffs, kb_answers, kb_misses;
    uint64_t sse_opened, sse_events;
    uint64_t store_flushes, deferred_answers;
    int64_t sse_open;
    uint64_t sla_warnings[3], sla_breaches[3]; /* by enum sb_sla_kind */
};

struct sb_server {
    struct sb_config cfg;
    char public_url[512];
    int port;
    struct sb_store *store;
    struct sb_kb *kb;
    struct sb_re_cache *re;
    struct sb_words *words; /* the customer's words: web_dir/locales (words.h) */
    struct sb_host *host;
    struct MHD_Daemon *mhd;
    const struct route *const *routes; /* NULL-terminated tables (core/server/routes.c) */
    int epfd, sigfd, tickfd;
    bool stopping;
    bool reload_requested;
    int active_requests;
    struct http_req *current;   /* the request being routed, for http_json */
    struct http_req *requests;  /* every request between dispatch and completion */
    struct http_req **deferred; /* answers waiting for sb_store_flush() */
    size_t ndeferred, deferred_cap;
    int64_t started_ns;
    struct sse_stream *sse[SSE_BUCKETS]; /* by conversation id */
    struct sb_metrics metrics;
    struct sb_limits *limits;           /* rate limits and login lockouts */
    struct sb_worker *worker;           /* password hashing, off the loop */
    struct handoff_state *handoff;      /* live agents: routing mirror, teams (handoff.c) */
    struct agent_stream *agent_streams; /* GET /api/v1/agent/events (api_agent_events.c) */
    bool agent_notify;                  /* an agent-stream wake is queued in the store */
    struct ipnet_list proxies;          /* cfg.trusted_proxies, parsed */
    struct conn_table *conns;           /* per-address caps, header deadlines (connections.c) */
    char help_view_key[65];             /* signs help-center page views (help_view.c) */
    char device_key[65];                /* login_guard.c: "" until read from the data dir */
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

#define HTTP_MAX_EXTRA_HEADERS 8
/* Our limits on a request head (http_head.c), below libmicrohttpd's. */
#define HTTP_MAX_PATH 512          /* struct http_req's path */
#define HTTP_MAX_TARGET 4096       /* path and query string */
#define HTTP_MAX_HEADER_BYTES 8192 /* every header line together */
#define HTTP_MAX_HEADERS 100

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
    char *deferred_body; /* compact JSON, owned */
    bool deferred_ready;
    bool too_large;
    bool responded;
    bool after_stop;  /* arrived after shutdown began */
    bool close_after; /* answer with Connection: close (a refused head) */
    int hsts_max_age; /* > 0: came over HTTPS through a trusted proxy */
    char method[8];
    char path[HTTP_MAX_PATH];
    char ip[64];
    /* The browser's Origin, normalised ("" without one, "null" when
     * unusable), whether it is this server's own (public URL or the Host
     * asked for) and whether CORS allows it on this path (cors.c). */
    char origin[204];
    bool origin_own;
    bool origin_allowed;
    struct sb_principal who;
    /* headers for the answer, e.g. Set-Cookie, Retry-After, CORS; they
     * replace a common header of the same name (Cache-Control). Kept as
     * nhdr "name\0value\0" pairs (names cut at 31 bytes, values at 767),
     * only as long as they are: an event stream keeps its request for its
     * whole life, and fixed arrays cost every stream 6 KiB. */
    struct sb_buf hdrs;
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
    ROUTE_SUPERVISOR, /* supervisors and admins: the supervisor view (docs/agents.md) */
};

struct route {
    const char *method;
    const char *pattern; /* segments; "{}" matches one segment */
    route_fn fn;
    enum route_access access;
    bool customer_limit; /* counts against the customer API rate limits */
};

const char *route_access_name(enum route_access a);

enum MHD_Result http_dispatch(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls);
void http_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                    enum MHD_RequestTerminationCode toe);

/* Adds a header to the answer of the request being routed. */
void http_add_header(struct sb_server *srv, const char *name, const char *value);
/* Adds a header to the answer of request r (also before it is routed). */
void http_req_header(struct http_req *r, const char *name, const char *value);

/* Queues a JSON response; takes ownership of body. While the store holds
 * writes that are not yet durable, the answer is held back (the connection
 * is suspended) until the event loop has flushed them. */
/* http_json with the body already written: text is compact JSON from
 * malloc, owned from here on (NULL answers nothing: out of memory). */
enum MHD_Result http_json_text(struct sb_server *srv, struct MHD_Connection *c, unsigned status,
                               char *text);
enum MHD_Result http_json(struct sb_server *srv, struct MHD_Connection *c, unsigned status,
                          json_t *body);
/* Queues {"error":{"code","message"}}. */
enum MHD_Result http_error(struct sb_server *srv, struct MHD_Connection *c, unsigned status,
                           const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
enum MHD_Result http_text(struct sb_server *srv, struct MHD_Connection *c, unsigned status,
                          const char *content_type, const char *text, size_t len);
/* Queues len bytes of data (borrowed, copied) as they are: no HTML policy,
 * only the common and the added headers. */
enum MHD_Result http_bytes(struct sb_server *srv, struct MHD_Connection *c, unsigned status,
                           const char *content_type, const void *data, size_t len);
/* Queues the size bytes of the open file fd (owned: libmicrohttpd closes
 * it), sent by the kernel without passing through our memory. */
enum MHD_Result http_fd(struct sb_server *srv, struct MHD_Connection *c, unsigned status,
                        const char *content_type, int fd, uint64_t size);
/* Queues an answer without a body (204, 304). */
enum MHD_Result http_empty(struct sb_server *srv, struct MHD_Connection *c, unsigned status);
/* Puts the added headers of the request being routed on resp (for
 * handlers that build their own response, such as the event stream). */
void http_apply_headers(struct sb_server *srv, struct MHD_Connection *c, struct MHD_Response *resp);
/* Adds the headers every response carries. */
void http_common_headers(struct MHD_Response *resp, const char *content_type);

/* After a flush: answers every held-back response, or replaces them with
 * 503 not_stored when the flush failed. */
void http_release_deferred(struct sb_server *srv, bool stored);
/* True when no request is being handled, apart from uploads that stalled
 * for a second or more (clients that went away mid-body). */
bool http_idle(struct sb_server *srv);

/* Parses a request body (data[0..len), borrowed) as a JSON object: the
 * object (owned), or NULL with the error's code ("invalid_json",
 * "invalid_utf8") and message in msg[cap]. No server needed, so
 * tests/fuzz/fuzz_json_body.c calls it directly. */
json_t *http_body_parse(const char *data, size_t len, const char **code, char *msg, size_t cap);

/* Parses the request body as a JSON object: answers the error itself and
 * returns NULL when it is not one. */
json_t *http_body_object(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                         enum MHD_Result *ret);

/* ------- Interface to code in http_head.c ------- */

struct http_head_refusal {
    unsigned status;
    const char *code, *message; /* static */
};

/* Checks the head of a request (url: the decoded path; nul_in_url: it held
 * %00). True, with the answer in out, when it must be refused: 414 or 431
 * past our limits, 400 for Content-Length given twice or malformed, both
 * Content-Length and Transfer-Encoding, or a control character in the
 * path. The connection must close after such an answer. */
bool http_head_refused(struct MHD_Connection *c, const char *url, bool nul_in_url,
                       struct http_head_refusal *out);

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

/* ------- Interface to code in cors.c ------- */

/* True for the paths CORS applies to: /api/v1/conversations... and
 * /api/v1/widget/... */
bool cors_path(const char *path);
/* True when origin (normalised) is the server's own public URL's. */
bool cors_own_origin(struct sb_server *srv, const char *origin);
/* Reads the Origin header into r and, on a CORS path, adds
 * Access-Control-Allow-Origin and Vary for an allowed origin. Called once
 * per request, before its body is read, so every answer carries them. */
void cors_request(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r);
/* True when the request may act for site_id: no Origin (not a browser),
 * the server's own origin (its public URL, or the Host the browser asked
 * for), or one of that site's origins. */
bool cors_site_allows(struct sb_server *srv, struct http_req *r, const char *site_id);
/* Answers an OPTIONS preflight on a CORS path: 204 with the allowed
 * methods and headers, or 403 origin_not_allowed. */
enum MHD_Result cors_preflight(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r);
/* Appends the frame-ancestors sources of our HTML pages: 'self' and every
 * site origin. */
void cors_frame_ancestors(struct sb_server *srv, struct sb_buf *out);

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

/* ------- Interface to code in principal.c ------- */

/* The client's address into out: the direct peer, or, when trust_proxy is
 * on and the peer is one of trusted_proxies, the right-most
 * X-Forwarded-For entry that is not a trusted proxy. */
void principal_client_ip(struct sb_server *srv, struct MHD_Connection *c, char out[64]);
/* True when trust_proxy is on and the direct peer is a trusted proxy. */
bool principal_peer_trusted(struct sb_server *srv, struct MHD_Connection *c);
/* Reads the session cookie or the Bearer API token; p->kind says which,
 * PRINCIPAL_NONE when neither is valid. */
enum sb_err principal_resolve(struct sb_server *srv, struct MHD_Connection *c,
                              struct sb_principal *p);
/* True when the request came over TLS according to a trusted proxy: the
 * peer is trusted and the last X-Forwarded-Proto value is https. */
bool principal_https(struct sb_server *srv, struct MHD_Connection *c);

/* ------- Interface to code in sse.c ------- */

/* Starts an event stream for conversation conv_id after after_seq. */
enum MHD_Result sse_start(struct sb_server *srv, struct MHD_Connection *c, int64_t conv_id,
                          int64_t after_seq);
/* Wakes the streams of a conversation (and the agents') once its new
 * events are durable: an after-commit effect of the open unit, at once
 * when nothing is pending. */
void sse_notify(struct sb_server *srv, int64_t conv_id);
/* The store's event hook (sb_store_on_event; arg is the server): every
 * stored event wakes its followers after commit, so no caller has to. */
void sse_event_stored(void *srv, int64_t conv_id);
/* Called on every one-second tick: marks the streams whose turn it is (each
 * once per sse_keepalive_s) for a keep-alive comment and wakes them. */
void sse_keepalive(struct sb_server *srv, unsigned tick);
/* Wakes every stream so it ends (shutdown). */
void sse_close_all(struct sb_server *srv);
/* Sends an event that is not stored (no id: not replayed on resume) to the
 * streams of a conversation open now. data is borrowed. */
void sse_push(struct sb_server *srv, int64_t conv_id, const char *type, json_t *data);

/* ------- Interface to code in pipeline.c ------- */

/* One normalised inbound message for an existing conversation. */
struct sb_inbound {
    const char *channel;
    const char *text;
    const char *provider_id; /* dedupe key, unique per channel, or NULL */
    const char *client_id;
    const char *payload;
    const char *locale;  /* overrides the conversation's for this turn, or NULL */
    json_t *attachments; /* borrowed array of attachment objects, or NULL */
};

/* Persists the message, runs the bot unless a person owns the
 * conversation, persists the replies, commits, then publishes. *result is
 * the answer's JSON text (malloc'd), {status, message_id, duplicate,
 * replies}, each reply the text of its event's message. conv is updated in
 * place. */
enum sb_err sb_pipeline_handle(struct sb_server *srv, struct sb_conv *conv,
                               const struct sb_inbound *in, char **result, struct sb_errbuf *eb);

/* What the website widget knows about a new conversation. */
struct sb_web_start {
    const char *site_id;  /* or NULL */
    const char *page_url; /* or NULL */
    bool verified;        /* external_id is "<site>:<user_id>", checked by HMAC */
};

/* Creates a conversation and records its first event; web may be NULL. */
enum sb_err sb_pipeline_start(struct sb_server *srv, const char *channel, const char *external_id,
                              const char *locale, const char *token_hash,
                              const struct sb_web_start *web, struct sb_conv *out);

/* Wakes the agents' streams once the open unit's batch is durable (an
 * after-commit effect, one per batch); keep-alives; team memberships
 * changed (the streams read them again). */
void agent_events_notify(struct sb_server *srv);
void agent_events_keepalive(struct sb_server *srv, unsigned tick);
void agent_events_teams_changed(struct sb_server *srv);
/* Typing (not stored) to the agent streams that may see conv_id; data
 * borrowed (gets "conversation" added). */
void agent_events_push(struct sb_server *srv, int64_t conv_id, const char *type, json_t *data);
void agent_events_close_all(struct sb_server *srv);

#endif
