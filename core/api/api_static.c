/*
 * api_static.c - the static files of the editor, the agent console, the
 * help center, the widget, the demo shop and the staff pages' shared CSS
 * (web/shared/), read from web_dir. Only a fixed
 * set of folders and plain file names are served, so no request can reach
 * outside web_dir.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "http.h"
#include "server.h"

#define MAX_STATIC_BYTES (4 * 1024 * 1024)

static const char *const served_dirs[] = {"editor", "help", "widget", "console", "demo", "shared"};

static bool plain_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 100 || s[0] == '.') return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '-' || *s == '_'))
            return false;
    return true;
}

static const char *content_type_of(const char *name)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".json", "application/json"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < SB_ARRAY_LEN(types); i++)
        if (strcmp(dot, types[i][0]) == 0) return types[i][1];
    return NULL;
}

enum MHD_Result api_static_file(struct sb_server *srv, struct MHD_Connection *c, const char *dir,
                                const char *name)
{
    const char *type = content_type_of(name);
    char path[SB_PATH_MAX + 256];
    struct sb_errbuf eb;
    enum MHD_Result ret;
    char *data = NULL;
    size_t len = 0;

    if (!type) return http_error(srv, c, 404, "not_found", "no such file");
    snprintf(path, sizeof(path), "%s/%s/%s", srv->cfg.web_dir, dir, name);
    if (sb_read_file(path, MAX_STATIC_BYTES, &data, &len, &eb))
        return http_error(srv, c, 404, "not_found", "no such file");
    ret = http_text(srv, c, 200, type, data, len);
    free(data);
    return ret;
}

static enum MHD_Result api_static(struct sb_server *srv, struct MHD_Connection *c,
                                  struct http_req *r, const char *params[2])
{
    bool known = false;
    for (size_t i = 0; i < SB_ARRAY_LEN(served_dirs); i++)
        if (strcmp(params[0], served_dirs[i]) == 0) known = true;
    if (!known || !plain_name(params[1]))
        return http_error(srv, c, 404, "not_found", "no such file");
    /* the widget's words are filled in by the server wherever it is loaded from */
    if (strcmp(params[0], "widget") == 0 && strcmp(params[1], "widget.js") == 0)
        return api_widget_js(srv, c, r, params);
    return api_static_file(srv, c, params[0], params[1]);
}

static enum MHD_Result api_editor_page(struct sb_server *srv, struct MHD_Connection *c,
                                       struct http_req *r, const char *params[2])
{
    (void)r;
    (void)params;
    return api_static_file(srv, c, "editor", "index.html");
}

/* The live-agent console (docs/agents.md): one page, its modules under /static/console/. */
static enum MHD_Result api_console_page(struct sb_server *srv, struct MHD_Connection *c,
                                        struct http_req *r, const char *params[2])
{
    (void)r;
    (void)params;
    return api_static_file(srv, c, "console", "index.html");
}

/* The routes this file answers and who may call them (core/server/routes.c
 * lists every file's table; http.c dispatches them in that order). */
const struct route api_static_routes[] = {
    {"GET", "/static/{}/{}", api_static, ROUTE_PUBLIC, false},
    {"GET", "/editor/", api_editor_page, ROUTE_PUBLIC, false},
    {"GET", "/editor", api_editor_page, ROUTE_PUBLIC, false},
    {"GET", "/console/", api_console_page, ROUTE_PUBLIC, false},
    {"GET", "/console", api_console_page, ROUTE_PUBLIC, false},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};
