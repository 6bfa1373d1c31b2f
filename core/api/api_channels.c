/*
 * api_channels.c - /channels/<name>/<path>: a channel plugin's own routes
 * (a provider's webhook, Meta's verification handshake). The plugin gets
 * the request as it came (method, headers, query, the exact body bytes,
 * for signatures) and answers with a status, headers and a body; it may
 * wait (sb.http) before it answers.
 *
 * The answer goes out only once what the plugin stored is durable (the
 * group commit): a provider that got its 200 never has to send again. A
 * channel that is not configured, or has no such route, is a 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "http.h"
#include "lua_host.h"
#include "sb_log.h"
#include "server.h"

#define ROUTE_BODY_MAX (1024 * 1024) /* what a plugin may answer */

/* One request to a plugin route, shared by the request (r->job), the
 * plugin call and the wait for the flush: freed by the last of them. */
struct route_job {
    struct sb_server *srv;
    struct MHD_Connection *conn;
    struct http_req *r;
    int refs;
    bool orphan;     /* the client went away */
    bool in_handler; /* the plugin call is being started */
    bool finished;   /* the plugin answered */
    bool durable;    /* and its writes are on disk (or failed: status 503) */
    unsigned status;
    json_t *headers; /* {name: value} */
    char *body;
    size_t len;
};

static void job_unref(struct route_job *j)
{
    if (--j->refs > 0) return;
    json_decref(j->headers);
    free(j->body);
    free(j);
}

static void job_release(void *p) /* r->job_free */
{
    struct route_job *j = p;
    j->orphan = true;
    j->r = NULL;
    job_unref(j);
}

static void job_resume(struct route_job *j)
{
    if (j->orphan) return;
    j->r->rerun = true;
    MHD_resume_connection(j->conn);
}

/* The durable effect: the batch holding the plugin's writes is on disk. */
static void job_durable(void *arg, int64_t key)
{
    struct route_job *j = arg;
    (void)key;
    j->durable = true;
    job_resume(j);
}

/* Called after job_durable ran, or instead of it when the flush failed:
 * then the provider is told to send again. */
static void job_effect_end(void *arg)
{
    struct route_job *j = arg;
    if (!j->durable) {
        free(j->body);
        j->body = strdup("{\"error\":{\"code\":\"not_stored\",\"message\":\"retry\"}}");
        j->len = j->body ? strlen(j->body) : 0;
        json_decref(j->headers);
        j->headers = NULL;
        j->status = 503;
        j->durable = true;
        job_resume(j);
    }
    job_unref(j);
}

/* Waits for the open batch (at once when none is open). */
static void wait_durable(struct route_job *j)
{
    j->refs++;
    if (sb_store_effect(j->srv->store, SB_EFFECT_DURABLE, job_durable, j, 0, job_effect_end))
        sb_error("channels: cannot wait for the flush");
}

/* The plugin's answer: {status=, headers=, body=} or a bare status. */
static void take_answer(struct route_job *j, enum sb_err rc, json_t *results, const char *err)
{
    json_t *a = json_array_get(results, 0), *body;

    j->status = 200;
    if (rc) {
        sb_warn("channel route failed: %s", err ? err : sb_strerror(rc));
        j->status = 500;
        j->body =
            strdup("{\"error\":{\"code\":\"plugin_error\",\"message\":\"the channel failed\"}}");
    } else if (json_is_integer(a)) {
        j->status = (unsigned)json_integer_value(a);
    } else if (json_is_object(a)) {
        json_t *st = json_object_get(a, "status");
        if (json_is_integer(st)) j->status = (unsigned)json_integer_value(st);
        if (json_is_object(json_object_get(a, "headers")))
            j->headers = json_incref(json_object_get(a, "headers"));
        body = json_object_get(a, "body");
        if (json_is_string(body) && json_string_length(body) <= ROUTE_BODY_MAX) {
            j->len = json_string_length(body);
            j->body = malloc(j->len + 1);
            if (j->body) memcpy(j->body, json_string_value(body), j->len + 1);
        }
    }
    if (j->status < 100 || j->status > 599) j->status = 500;
    if (j->body && !j->len) j->len = strlen(j->body);
    j->finished = true;
}

static void route_done(void *arg, enum sb_err rc, json_t *results, const char *err)
{
    struct route_job *j = arg;
    if (!j->orphan) {
        take_answer(j, rc, results, err);
        /* started from the handler, which answers itself */
        if (!j->in_handler) wait_durable(j);
    }
    job_unref(j);
}

/* ---------- the request as the plugin sees it ---------- */

static enum MHD_Result add_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    json_t *obj = cls;
    char name[128];
    size_t i;
    (void)kind;
    if (!key) return MHD_YES;
    for (i = 0; key[i] && i < sizeof(name) - 1; i++)
        name[i] = (char)(kind == MHD_HEADER_KIND && key[i] >= 'A' && key[i] <= 'Z' ? key[i] + 32
                                                                                   : key[i]);
    name[i] = 0;
    json_object_set_new(obj, name, json_string(value ? value : ""));
    return MHD_YES;
}

/* Percent-encodes s onto b (RFC 3986 unreserved kept). */
static void url_encode(struct sb_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p))
            sb_buf_printf(b, "%c", *p);
        else
            sb_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
}

/* The URL the provider called: the public URL, the path and the query
 * (Twilio signs it). */
static json_t *request_url(struct sb_server *srv, struct http_req *r, json_t *query)
{
    struct sb_buf b;
    const char *k;
    json_t *v, *out;
    bool first = true;

    sb_buf_init(&b, 16384);
    sb_buf_printf(&b, "%s%s", srv->public_url, r->path);
    json_object_foreach(query, k, v)
    {
        sb_buf_printf(&b, "%c", first ? '?' : '&');
        url_encode(&b, k);
        sb_buf_printf(&b, "=");
        url_encode(&b, json_string_value(v));
        first = false;
    }
    out = json_string(b.data ? b.data : "");
    sb_buf_cleanup(&b);
    return out;
}

static json_t *request_json(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                            const char *path)
{
    json_t *headers = json_object(), *query = json_object();
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_value, headers);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_value, query);
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:s}", "method", r->method, "path", path,
                     "headers", headers, "query", query, "url", request_url(srv, r, query), "body",
                     json_stringn_nocheck(r->body.data ? r->body.data : "", r->body.len), "remote",
                     r->ip);
}

/* ---------- the answer ---------- */

static enum MHD_Result answer(struct sb_server *srv, struct MHD_Connection *c, struct route_job *j)
{
    const char *type = NULL, *k;
    json_t *v;

    json_object_foreach(j->headers, k, v)
    {
        if (!json_is_string(v)) continue;
        if (strcasecmp(k, "Content-Type") == 0)
            type = json_string_value(v);
        else
            http_add_header(srv, k, json_string_value(v));
    }
    if (!type)
        type = j->len && j->body[0] == '{' ? "application/json" : "text/plain; charset=utf-8";
    return http_bytes(srv, c, j->status, type, j->body ? j->body : "", j->len);
}

static enum MHD_Result api_channel_route(struct sb_server *srv, struct MHD_Connection *c,
                                         struct http_req *r, const char *params[2])
{
    struct route_job *j = r->job;
    json_t *req;
    enum sb_err rc;

    if (j) /* the rerun: the plugin answered and its writes are durable */
        return answer(srv, c, j);
    if (!sb_host_channel_has_path(srv->host, params[0], params[1]))
        return http_error(srv, c, 404, "not_found", "no channel route %s", r->path);
    j = calloc(1, sizeof(*j));
    if (!j) return MHD_NO;
    j->srv = srv;
    j->conn = c;
    j->r = r;
    j->refs = 2; /* the request and the call */
    r->job = j;
    r->job_free = job_release;
    req = request_json(srv, c, r, params[1]);
    j->in_handler = true;
    rc = sb_host_channel_route(srv->host, params[0], r->method, params[1], req, route_done, j);
    j->in_handler = false;
    json_decref(req);
    if (rc) {
        job_unref(j); /* no call */
        if (rc == SB_ERR_NOT_FOUND)
            return http_error(srv, c, 405, "method_not_allowed", "%s is not answered on %s",
                              r->method, r->path);
        return http_error(srv, c, 503, "channel_unavailable", "the channel cannot take it now");
    }
    if (j->finished && !sb_store_pending(srv->store)) return answer(srv, c, j);
    /* the plugin waits, or its writes wait for the flush: resumed by them */
    MHD_suspend_connection(c);
    if (j->finished) wait_durable(j);
    return MHD_YES;
}

/* The routes this file answers (core/server/routes.c lists every file's
 * table). Providers sign their requests; the plugin checks them. */
const struct route api_channels_routes[] = {
    {"POST", "/channels/{}/{}", api_channel_route, ROUTE_PUBLIC, false},
    {"GET", "/channels/{}/{}", api_channel_route, ROUTE_PUBLIC, false},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};
