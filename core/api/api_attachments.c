/*
 * api_attachments.c - uploading a file to a conversation and reading it
 * back (docs/widget.md, "attachments"). The upload is the raw body, capped
 * at max_attachment by http.c before it is read; the type must be one of
 * the accepted ones and the bytes must say so. The file is on disk and its
 * record committed before the answer; on any error nothing is recorded.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_access.h"
#include "attachments.h"
#include "sb_log.h"
#include "api.h"
#include "http.h"
#include "server.h"

json_t *api_attachment_json(const char *conv_public_id, const struct sb_attachment *a)
{
    char url[160];
    snprintf(url, sizeof(url), "/api/v1/conversations/%s/attachments/%s", conv_public_id, a->id);
    return json_pack("{s:s, s:s, s:s, s:I, s:s}", "id", a->id, "name", a->name, "type", a->type,
                     "size", (json_int_t)a->size, "url", url);
}

static enum MHD_Result api_attachment_upload(struct sb_server *srv, struct MHD_Connection *c,
                                             struct http_req *r, const char *params[2])
{
    const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    const char *fname = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Filename");
    struct sb_errbuf eb = {{0}};
    struct sb_attachment a;
    struct sb_conv conv;
    enum MHD_Result ret;
    const char *type;
    enum sb_err rc;

    if (!api_visitor_conv(srv, c, params[0], false, &conv, &ret)) return ret;
    memset(&a, 0, sizeof(a));
    type = attachment_type(ctype);
    if (!type) {
        ret = http_error(srv, c, 415, "unsupported_type",
                         "Content-Type must be image/png, image/jpeg, image/gif, image/webp or "
                         "application/pdf");
        goto out;
    }
    if (r->body.len == 0) {
        ret = http_error(srv, c, 400, "invalid_field", "the body must be the file");
        goto out;
    }
    if (!attachment_sniff(type, r->body.data, r->body.len)) {
        ret = http_error(srv, c, 415, "unsupported_type", "the file is not the %s it claims to be",
                         type);
        goto out;
    }
    if (fname && !attachment_name_decode(fname, a.name, sizeof(a.name))) {
        ret = http_error(srv, c, 400, "invalid_field",
                         "X-Filename: must be URL-encoded UTF-8 of at most %d bytes",
                         ATTACHMENT_NAME_MAX);
        goto out;
    }
    if (!fname) snprintf(a.name, sizeof(a.name), "attachment");
    snprintf(a.type, sizeof(a.type), "%s", type);
    a.size = (int64_t)r->body.len;
    memcpy(a.id, "att_", 4);
    rc = sb_random_hex(a.id + 4, 16);
    if (!rc) rc = attachment_store(srv->cfg.data_dir, r->body.data, r->body.len, a.sha256, &eb);
    if (rc) {
        sb_error("attachment for %s not stored: %s", conv.public_id, eb.msg);
        ret = http_error(srv, c, 503, "not_stored", "the file could not be stored; retry");
        goto out;
    }
    rc = sb_store_begin(srv->store);
    if (!rc) rc = sb_store_att_add(srv->store, conv.id, &a);
    if (!rc) rc = sb_store_commit(srv->store);
    if (rc) {
        /* The file stays: it is named by its content, so a retry or another
         * upload of the same bytes reuses it. */
        sb_store_rollback(srv->store);
        ret = http_error(srv, c, 503, "not_stored", "the file could not be recorded; retry");
        goto out;
    }
    ret = http_json(srv, c, 201, api_attachment_json(conv.public_id, &a));
out:
    sb_conv_cleanup(&conv);
    return ret;
}

/* name as a Content-Disposition filename*: RFC 5987 percent-encoding. */
static void disposition(const struct sb_attachment *a, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    struct sb_buf b;
    sb_buf_init(&b, cap);
    sb_buf_printf(&b, "%s; filename*=UTF-8''",
                  attachment_inline(a->type) ? "inline" : "attachment");
    for (const unsigned char *p = (const unsigned char *)a->name; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("!#$&+-.^_`|~", *p))
            sb_buf_printf(&b, "%c", *p);
        else
            sb_buf_printf(&b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
    snprintf(out, cap, "%s", b.data ? b.data : "attachment");
    sb_buf_cleanup(&b);
}

/* Answers the bytes of attachment id of conv (already allowed). */
static enum MHD_Result serve(struct sb_server *srv, struct MHD_Connection *c,
                             const struct sb_conv *conv, const char *id)
{
    char path[SB_PATH_MAX + 120], disp[700];
    struct sb_attachment a;
    struct stat sb;
    int fd;

    if (strlen(id) > 39 || sb_store_att_get(srv->store, conv->id, id, &a))
        return http_error(srv, c, 404, "not_found", "no such attachment");
    attachment_path(srv->cfg.data_dir, a.sha256, path, sizeof(path));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size != a.size) {
        sb_error("attachment %s: %s is missing or not %lld bytes", a.id, path, (long long)a.size);
        if (fd >= 0) close(fd);
        return http_error(srv, c, 500, "internal", "the file is missing");
    }
    disposition(&a, disp, sizeof(disp));
    /* Never let a browser run or reinterpret what a customer uploaded. */
    http_add_header(srv, "Content-Security-Policy", "sandbox");
    http_add_header(srv, "Content-Disposition", disp);
    http_add_header(srv, "Cache-Control", "private, max-age=86400");
    return http_fd(srv, c, 200, a.type, fd, (uint64_t)a.size);
}

static enum MHD_Result api_attachment_get(struct sb_server *srv, struct MHD_Connection *c,
                                          struct http_req *r, const char *params[2])
{
    struct sb_conv conv;
    enum MHD_Result ret;
    (void)r;

    if (!api_visitor_conv(srv, c, params[0], true, &conv, &ret)) return ret;
    ret = serve(srv, c, &conv, params[1]);
    sb_conv_cleanup(&conv);
    return ret;
}

/* The same file for agents (docs/agents.md): a customer's attachment on any
 * channel, in a conversation the caller may see (agent_access.h); one they
 * may not see is as unknown as one that does not exist. */
static enum MHD_Result api_agent_attachment_get(struct sb_server *srv, struct MHD_Connection *c,
                                                struct http_req *r, const char *params[2])
{
    struct agent_viewer v = agent_viewer_of(r);
    struct sb_conv conv;
    enum MHD_Result ret;

    if (strlen(params[0]) > 64 || sb_store_conv_get(srv->store, params[0], &conv))
        return http_error(srv, c, 404, "not_found", "no such conversation");
    if (!agent_sees_conv(srv->store, &v, conv.id))
        ret = http_error(srv, c, 404, "not_found", "no such conversation");
    else
        ret = serve(srv, c, &conv, params[1]);
    sb_conv_cleanup(&conv);
    return ret;
}

/* The routes this file answers and who may call them (core/server/routes.c
 * lists every file's table; http.c dispatches them in that order). */
const struct route api_attachments_routes[] = {
    {"POST", "/api/v1/conversations/{}/attachments", api_attachment_upload, ROUTE_VISITOR_TOKEN,
     true},
    {"GET", "/api/v1/conversations/{}/attachments/{}", api_attachment_get, ROUTE_VISITOR_TOKEN,
     true},
    {"GET", "/api/v1/agent/conversations/{}/attachments/{}", api_agent_attachment_get, ROUTE_AGENT,
     false},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};
