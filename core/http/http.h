/*
 * http.h - the HTTP layer (core/http/): per-request state, the routing
 * table's types, the answers a handler queues, the checks of a request's
 * head, CORS and who is calling (principal). Handlers (core/api/,
 * core/help/) register routes of these types; struct sb_server is in
 * server.h.
 *
 * Everything here runs on the event loop thread; nothing locks.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "auth.h"
#include "sb.h"
#include "sb_util.h"

struct sb_server;

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

#endif
