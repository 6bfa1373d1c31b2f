/*
 * http.c - libmicrohttpd glue: request bodies with a size cap, the route
 * table and its dispatch, and response helpers that always answer JSON
 * errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "connections.h"
#include "sb_log.h"
#include "http.h"
#include "server.h"
#include "ratelimit.h"

const char *route_access_name(enum route_access a)
{
    static const char *const names[] = {"public", "visitor", "user",      "agent",
                                        "editor", "admin",   "supervisor"};
    return (unsigned)a < SB_ARRAY_LEN(names) ? names[a] : "?";
}

void http_req_header(struct http_req *r, const char *name, const char *value)
{
    size_t at;
    if (!r || r->nhdr >= HTTP_MAX_EXTRA_HEADERS) return;
    at = r->hdrs.len;
    if (sb_buf_append(&r->hdrs, name, strnlen(name, 31)) || sb_buf_append(&r->hdrs, "", 1) ||
        sb_buf_append(&r->hdrs, value, strnlen(value, 767)) || sb_buf_append(&r->hdrs, "", 1)) {
        r->hdrs.len = at; /* out of memory: the header is left out */
        return;
    }
    r->nhdr++;
}

void http_add_header(struct sb_server *srv, const char *name, const char *value)
{
    http_req_header(srv->current, name, value);
}

/* The headers a handler asked for, on the answer of its own request; each
 * replaces a common header of the same name. */
static void add_extra_headers(const struct http_req *r, struct MHD_Connection *c,
                              struct MHD_Response *resp)
{
    const char *name = r ? r->hdrs.data : NULL;
    if (!r || r->conn != c) return;
    if (r->hsts_max_age > 0) {
        char v[32];
        snprintf(v, sizeof(v), "max-age=%d", r->hsts_max_age);
        MHD_add_response_header(resp, "Strict-Transport-Security", v);
    }
    /* The rest of this connection's bytes cannot be trusted to start a
     * request; libmicrohttpd closes after the answer. */
    if (r->close_after) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    for (int i = 0; i < r->nhdr; i++) {
        const char *value = name + strlen(name) + 1;
        const char *old = MHD_get_response_header(resp, name);
        if (old && strcasecmp(name, "Set-Cookie") != 0) {
            char copy[256];
            snprintf(copy, sizeof(copy), "%s", old);
            MHD_del_response_header(resp, name, copy);
        }
        MHD_add_response_header(resp, name, value);
        name = value + strlen(value) + 1;
    }
}

void http_apply_headers(struct sb_server *srv, struct MHD_Connection *c, struct MHD_Response *resp)
{
    add_extra_headers(srv->current, c, resp);
}

void http_common_headers(struct MHD_Response *resp, const char *content_type)
{
    if (content_type) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "strict-origin-when-cross-origin");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
}

static void count_status(struct sb_server *srv, unsigned status)
{
    if (status >= 500)
        srv->metrics.http_5xx++;
    else if (status >= 400)
        srv->metrics.http_4xx++;
}

enum MHD_Result http_text(struct sb_server *srv, struct MHD_Connection *c, unsigned status,
                          const char *content_type, const char *text, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (!resp) return MHD_NO;
    http_common_headers(resp, content_type);
    add_extra_headers(srv->current, c, resp);
    /* No inline script anywhere; pages may be framed only by our own
     * origin (the console) and the sites the widget runs on. */
    if (strncmp(content_type, "text/html", 9) == 0) {
        struct sb_buf csp;
        size_t base;
        sb_buf_init(&csp, 64 * 1024);
        sb_buf_printf(&csp, "default-src 'self'; script-src 'self'; object-src 'none';"
                            " frame-ancestors ");
        base = csp.len;
        cors_frame_ancestors(srv, &csp);
        /* X-Frame-Options cannot name other origins; browsers that know
         * frame-ancestors ignore it, older ones would refuse the sites. */
        if (csp.len == base + 6) MHD_add_response_header(resp, "X-Frame-Options", "SAMEORIGIN");
        sb_buf_printf(&csp, "; base-uri 'none'; form-action 'self'");
        MHD_add_response_header(resp, "Content-Security-Policy", csp.data ? csp.data : "");
        sb_buf_cleanup(&csp);
    }
    count_status(srv, status);
    ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result http_bytes(struct sb_server *srv, struct MHD_Connection *c, unsigned status,
                           const char *content_type, const void *data, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (!resp) return MHD_NO;
    http_common_headers(resp, content_type);
    add_extra_headers(srv->current, c, resp);
    count_status(srv, status);
    ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result http_fd(struct sb_server *srv, struct MHD_Connection *c, unsigned status,
                        const char *content_type, int fd, uint64_t size)
{
    struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);
    enum MHD_Result ret;

    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    http_common_headers(resp, content_type);
    add_extra_headers(srv->current, c, resp);
    count_status(srv, status);
    ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result http_empty(struct sb_server *srv, struct MHD_Connection *c, unsigned status)
{
    return http_bytes(srv, c, status, NULL, "", 0);
}

/* text: compact JSON from malloc, freed here */
static enum MHD_Result queue_text(struct sb_server *srv, struct MHD_Connection *c,
                                  const struct http_req *r, unsigned status, char *text)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    if (!text) return MHD_NO;
    resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    http_common_headers(resp, "application/json; charset=utf-8");
    add_extra_headers(r, c, resp);
    count_status(srv, status);
    ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result queue_json(struct sb_server *srv, struct MHD_Connection *c,
                                  const struct http_req *r, unsigned status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return queue_text(srv, c, r, status, text);
}

static char *not_stored_text(const char *message)
{
    json_t *e = json_pack("{s:{s:s, s:s}}", "error", "code", "not_stored", "message", message);
    char *text = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    return text;
}

static enum sb_err push_deferred(struct sb_server *srv, struct http_req *r)
{
    if (srv->ndeferred == srv->deferred_cap) {
        size_t cap = srv->deferred_cap ? srv->deferred_cap * 2 : 64;
        struct http_req **p = realloc(srv->deferred, cap * sizeof(*p));
        if (!p) return SB_ERR_NOMEM;
        srv->deferred = p;
        srv->deferred_cap = cap;
    }
    srv->deferred[srv->ndeferred++] = r;
    return SB_OK;
}

enum MHD_Result http_json_text(struct sb_server *srv, struct MHD_Connection *c, unsigned status,
                               char *text)
{
    struct http_req *r = srv->current;

    if (!text) return MHD_NO;
    /* Group commit: the answer waits until what it acknowledges is on
     * disk. The loop flushes once per turn and then resumes us. */
    if (r && r->conn == c && sb_store_pending(srv->store) && push_deferred(srv, r) == SB_OK) {
        r->deferred_status = status;
        r->deferred_body = text;
        MHD_suspend_connection(c);
        return MHD_YES;
    }
    if (sb_store_pending(srv->store) && sb_store_flush(srv->store)) {
        free(text);
        return queue_text(srv, c, r, 503, not_stored_text("the change could not be stored; retry"));
    }
    return queue_text(srv, c, r, status, text);
}

enum MHD_Result http_json(struct sb_server *srv, struct MHD_Connection *c, unsigned status,
                          json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return http_json_text(srv, c, status, text);
}

void http_release_deferred(struct sb_server *srv, bool stored)
{
    for (size_t i = 0; i < srv->ndeferred; i++) {
        struct http_req *r = srv->deferred[i];
        if (!stored) {
            free(r->deferred_body);
            r->deferred_status = 503;
            r->deferred_body =
                not_stored_text("the change could not be stored; retry with the same client_id");
        }
        r->deferred_ready = true;
        MHD_resume_connection(r->conn);
    }
    srv->ndeferred = 0;
}

bool http_idle(struct sb_server *srv)
{
    int64_t now = sb_mono_ns();
    for (struct http_req *r = srv->requests; r; r = r->next) {
        if (!r->uploading) return false;
        if (now - r->last_progress_ns < 1000000000LL) return false;
    }
    return srv->ndeferred == 0;
}

enum MHD_Result http_error(struct sb_server *srv, struct MHD_Connection *c, unsigned status,
                           const char *code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return http_json(srv, c, status,
                     json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg));
}

/* An error answered before routing (nothing was written, so nothing to
 * wait for), with the headers already added to r (CORS). */
static enum MHD_Result early_error(struct sb_server *srv, struct MHD_Connection *c,
                                   struct http_req *r, unsigned status, const char *code,
                                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static enum MHD_Result early_error(struct sb_server *srv, struct MHD_Connection *c,
                                   struct http_req *r, unsigned status, const char *code,
                                   const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return queue_json(srv, c, r, status,
                      json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg));
}

json_t *http_body_parse(const char *data, size_t len, const char **code, char *msg, size_t cap)
{
    json_error_t err;
    json_t *v;

    *code = "invalid_json";
    if (len == 0) {
        snprintf(msg, cap, "the request body must be a JSON object");
        return NULL;
    }
    if (!sb_utf8_valid(data, len)) {
        *code = "invalid_utf8";
        snprintf(msg, cap, "the request body is not valid UTF-8");
        return NULL;
    }
    v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
    if (!v) {
        snprintf(msg, cap, "malformed JSON at byte %d: %s", err.position, err.text);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        snprintf(msg, cap, "the request body must be a JSON object");
        return NULL;
    }
    return v;
}

json_t *http_body_object(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                         enum MHD_Result *ret)
{
    const char *code;
    char msg[256];
    json_t *v = http_body_parse(r->body.data, r->body.len, &code, msg, sizeof(msg));

    if (!v) *ret = http_error(srv, c, 400, code, "%s", msg);
    return v;
}

/* Matches path against pattern; captures up to two "{}" segments into
 * params (pointers into buf, which holds a copy of path). */
static bool route_match(const char *pattern, const char *path, char *buf, size_t cap,
                        const char *params[2])
{
    int np = 0;
    size_t bl = 0;

    params[0] = params[1] = NULL;
    while (*pattern && *path) {
        if (pattern[0] == '{' && pattern[1] == '}') {
            size_t n = strcspn(path, "/");
            if (n == 0 || np >= 2 || bl + n + 1 > cap) return false;
            memcpy(buf + bl, path, n);
            buf[bl + n] = '\0';
            params[np++] = buf + bl;
            bl += n + 1;
            path += n;
            pattern += 2;
        } else if (*pattern == *path) {
            pattern++;
            path++;
        } else {
            return false;
        }
    }
    return *pattern == '\0' && *path == '\0';
}

static bool state_changing(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static enum MHD_Result too_many(struct sb_server *srv, struct MHD_Connection *c, int retry_after)
{
    char v[16];
    snprintf(v, sizeof(v), "%d", retry_after);
    http_add_header(srv, "Retry-After", v);
    return http_error(srv, c, 429, "rate_limited", "too many requests; retry in %d s", retry_after);
}

/* The one place that decides who may call a route: rate limits for the
 * customer API, then the principal, its role and the CSRF token for staff
 * routes. Answers the refusal itself and returns false. */
static bool admit(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                  const struct route *rt, enum MHD_Result *ret)
{
    static const unsigned need[] = {
        [ROUTE_USER] = SB_ROLE_AGENT | SB_ROLE_EDITOR | SB_ROLE_ADMIN | SB_ROLE_SUPERVISOR,
        [ROUTE_AGENT] = SB_ROLE_AGENT,
        [ROUTE_EDITOR] = SB_ROLE_EDITOR,
        [ROUTE_ADMIN] = SB_ROLE_ADMIN,
        [ROUTE_SUPERVISOR] = SB_ROLE_SUPERVISOR | SB_ROLE_ADMIN,
    };
    int64_t now = sb_now_ms();
    int retry = 0;

    if (rt->customer_limit) {
        char key[96];
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        const char *qtok = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
        const char *tok = auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : qtok;
        snprintf(key, sizeof(key), "ip:%s", r->ip);
        if (!sb_limits_take(srv->limits, key, srv->cfg.rate_ip_per_s, srv->cfg.rate_ip_burst, now,
                            &retry)) {
            *ret = too_many(srv, c, retry);
            return false;
        }
        if (tok && *tok) {
            snprintf(key, sizeof(key), "visitor:%.64s", tok);
            if (!sb_limits_take(srv->limits, key, srv->cfg.rate_visitor_per_s,
                                srv->cfg.rate_visitor_burst, now, &retry)) {
                *ret = too_many(srv, c, retry);
                return false;
            }
        }
    }
    if (rt->access < ROUTE_USER) return true;
    if (principal_resolve(srv, c, &r->who) != SB_OK) {
        *ret = http_error(srv, c, 401, "unauthorized", "sign in, or send an API token");
        return false;
    }
    if (!(r->who.roles & need[rt->access])) {
        *ret = http_error(srv, c, 403, "forbidden", "this needs the %s role",
                          route_access_name(rt->access));
        return false;
    }
    /* A cookie rides along on cross-site requests; the CSRF token in a
     * header cannot. API tokens are sent on purpose, so they need none. */
    if (r->who.kind == PRINCIPAL_SESSION && state_changing(r->method)) {
        const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
        if (!t || strlen(t) != strlen(r->who.csrf) ||
            !sb_secure_equal(t, r->who.csrf, strlen(r->who.csrf))) {
            *ret = http_error(srv, c, 403, "csrf", "missing or wrong X-CSRF-Token header");
            return false;
        }
    }
    return true;
}

static enum MHD_Result route(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r)
{
    char buf[512];
    const char *params[2];
    bool path_known = false;

    for (const struct route *const *t = srv->routes; *t; t++)
        for (const struct route *rt = *t; rt->method; rt++) {
            if (!route_match(rt->pattern, r->path, buf, sizeof(buf), params)) continue;
            path_known = true;
            if (strcmp(rt->method, r->method) == 0 ||
                (strcmp(r->method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0)) {
                enum MHD_Result ret;
                if (!admit(srv, c, r, rt, &ret)) return ret;
                return rt->fn(srv, c, r, params);
            }
        }
    /* Browsers ask before a cross-origin call with a body or an
     * Authorization header. */
    if (path_known && strcmp(r->method, "OPTIONS") == 0 && cors_path(r->path))
        return cors_preflight(srv, c, r);
    if (path_known)
        return http_error(srv, c, 405, "method_not_allowed", "%s is not allowed on %s", r->method,
                          r->path);
    return http_error(srv, c, 404, "not_found", "no such endpoint");
}

/* POST /api/v1/conversations/{id}/attachments: the raw file. */
static bool attachment_upload(const char *method, const char *url)
{
    const char *rest, *tail = "/attachments";
    size_t n;

    if (strcmp(method, "POST") != 0 || strncmp(url, "/api/v1/conversations/", 22) != 0)
        return false;
    rest = url + 22;
    n = strcspn(rest, "/");
    return n > 0 && strcmp(rest + n, tail) == 0;
}

/* Knowledge-base writes carry whole articles (64 KiB bodies, bulk
 * imports), attachment uploads a file; everything else, customers
 * included, keeps the small cap. */
static size_t body_limit(struct sb_server *srv, const char *method, const char *url)
{
    if (attachment_upload(method, url)) return srv->cfg.max_attachment;
    if (strncmp(url, "/api/v1/kb/", 11) == 0 && srv->cfg.max_kb_body > srv->cfg.max_body)
        return srv->cfg.max_kb_body;
    return srv->cfg.max_body;
}

enum MHD_Result http_dispatch(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
    struct sb_server *srv = cls;
    struct http_req *r = *req_cls;
    enum MHD_Result ret;
    (void)version;

    if (!r) {
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        bool nul_in_url = conn_head_done(c, url);
        struct http_head_refusal refusal;
        r = calloc(1, sizeof(*r));
        if (!r) return MHD_NO;
        sb_buf_init(&r->hdrs, HTTP_MAX_EXTRA_HEADERS * 800);
        r->conn = c;
        r->uploading = true;
        r->last_progress_ns = sb_mono_ns();
        r->next = srv->requests;
        if (r->next) r->next->prev = r;
        srv->requests = r;
        r->max_body = body_limit(srv, method, url);
        sb_buf_init(&r->body, r->max_body);
        snprintf(r->method, sizeof(r->method), "%s", method);
        snprintf(r->path, sizeof(r->path), "%s", url);
        *req_cls = r;
        r->after_stop = srv->stopping;
        principal_client_ip(srv, c, r->ip);
        if (principal_https(srv, c)) r->hsts_max_age = srv->cfg.hsts_max_age_s;
        cors_request(srv, c, r);
        srv->active_requests++;
        srv->metrics.http_requests++;
        if (http_head_refused(c, url, nul_in_url, &refusal)) {
            r->responded = true;
            r->close_after = true;
            return early_error(srv, c, r, refusal.status, refusal.code, "%s", refusal.message);
        }
        /* Refuse an announced oversized body before reading any of it;
         * libmicrohttpd closes the connection after this answer. */
        if (cl && strtoull(cl, NULL, 10) > r->max_body) {
            r->responded = true;
            r->close_after = true;
            return early_error(srv, c, r, 413, "too_large",
                               "the request body is larger than %zu bytes", r->max_body);
        }
        return MHD_YES;
    }
    if (r->deferred_ready) {
        char *body = r->deferred_body;
        r->deferred_body = NULL;
        r->deferred_ready = false;
        return queue_text(srv, c, r, r->deferred_status, body);
    }
    if (r->rerun) {
        r->rerun = false;
        srv->current = r;
        ret = route(srv, c, r);
        srv->current = NULL;
        return ret;
    }
    if (r->responded) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        r->last_progress_ns = sb_mono_ns();
        if (!r->too_large && sb_buf_append(&r->body, upload_data, *upload_data_size))
            r->too_large = true; /* keep reading and dropping; answer at the end */
        *upload_data_size = 0;
        return MHD_YES;
    }
    r->responded = true;
    r->uploading = false;
    if (r->too_large)
        return early_error(srv, c, r, 413, "too_large", "the request body is larger than %zu bytes",
                           r->max_body);
    /* Requests that began before SIGTERM are finished; new ones on kept-alive
     * connections are turned away so the drain ends. */
    if (r->after_stop && strcmp(r->path, "/healthz") != 0)
        return early_error(srv, c, r, 503, "shutting_down", "the server is shutting down");
    srv->current = r;
    ret = route(srv, c, r);
    srv->current = NULL;
    return ret;
}

void http_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                    enum MHD_RequestTerminationCode toe)
{
    struct sb_server *srv = cls;
    struct http_req *r = *req_cls;
    (void)toe;

    conn_request_done(srv->conns, c);
    if (!r) return;
    srv->active_requests--;
    if (r->prev)
        r->prev->next = r->next;
    else
        srv->requests = r->next;
    if (r->next) r->next->prev = r->prev;
    /* A client that hung up while its answer was held back: forget it. */
    for (size_t i = 0; i < srv->ndeferred; i++) {
        if (srv->deferred[i] == r) srv->deferred[i] = srv->deferred[--srv->ndeferred];
    }
    free(r->deferred_body);
    if (r->job && r->job_free) r->job_free(r->job);
    sb_buf_cleanup(&r->body);
    sb_buf_cleanup(&r->hdrs);
    free(r);
    *req_cls = NULL;
}
