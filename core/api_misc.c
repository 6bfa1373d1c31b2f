/*
 * api_misc.c - health, metrics, the landing page and the help-article page
 * that the bot's links point to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "server.h"

enum MHD_Result api_healthz(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                            const char *params[2])
{
    (void)r;
    (void)params;
    return http_json(srv, c, srv->stopping ? 503 : 200,
                     json_pack("{s:s}", "status", srv->stopping ? "stopping" : "ok"));
}

enum MHD_Result api_metrics(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                            const char *params[2])
{
    const struct sb_host_stats *hs = sb_host_stats(srv->host);
    const struct sb_metrics *m = &srv->metrics;
    struct sb_buf b;
    enum MHD_Result ret;
    (void)r;
    (void)params;

    sb_buf_init(&b, 64 * 1024);
#define COUNTER(name, help, v)                                                                     \
    sb_buf_printf(&b,                                                                              \
                  "# HELP switchboard_" name " " help "\n# TYPE switchboard_" name                 \
                  " counter\nswitchboard_" name " %llu\n",                                         \
                  (unsigned long long)(v))
    COUNTER("http_requests_total", "HTTP requests received.", m->http_requests);
    COUNTER("http_client_errors_total", "Responses with a 4xx status.", m->http_4xx);
    COUNTER("http_server_errors_total", "Responses with a 5xx status.", m->http_5xx);
    COUNTER("messages_inbound_total", "Customer messages stored.", m->messages_in);
    COUNTER("messages_outbound_total", "Replies stored.", m->messages_out);
    COUNTER("messages_duplicate_total", "Retried deliveries answered from the store.",
            m->duplicates);
    COUNTER("handoffs_total", "Conversations handed to a person.", m->handoffs);
    COUNTER("plugin_calls_total", "Calls into Lua plugins.", hs->calls);
    COUNTER("plugin_errors_total", "Plugin calls that failed and were skipped.", hs->errors);
    COUNTER("plugin_timeouts_total", "Plugin calls stopped by the time or instruction budget.",
            hs->timeouts);
    COUNTER("plugin_memory_errors_total", "Plugin calls stopped by the memory cap.",
            hs->memory_errors);
    COUNTER("plugin_load_failures_total", "Plugin files that failed to load.", hs->load_failures);
    COUNTER("sse_streams_opened_total", "Event streams opened.", m->sse_opened);
    COUNTER("sse_events_sent_total", "Events written to streams.", m->sse_events);
    COUNTER("store_flushes_total", "Group commits of the store (one per busy loop turn).",
            m->store_flushes);
    COUNTER("store_deferred_answers_total", "Answers held until their group commit.",
            m->deferred_answers);
#undef COUNTER
    sb_buf_printf(&b,
                  "# HELP switchboard_sse_streams Open event streams.\n"
                  "# TYPE switchboard_sse_streams gauge\nswitchboard_sse_streams %lld\n",
                  (long long)m->sse_open);
    ret = http_text(srv, c, 200, "text/plain; version=0.0.4", b.data ? b.data : "", b.len);
    sb_buf_cleanup(&b);
    return ret;
}

/* Appends s with &<>"' escaped, so article text can never become markup. */
static void html_escape(struct sb_buf *b, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (s[i]) {
        case '&':
            sb_buf_append(b, "&amp;", 5);
            break;
        case '<':
            sb_buf_append(b, "&lt;", 4);
            break;
        case '>':
            sb_buf_append(b, "&gt;", 4);
            break;
        case '"':
            sb_buf_append(b, "&quot;", 6);
            break;
        case '\'':
            sb_buf_append(b, "&#39;", 5);
            break;
        default:
            sb_buf_append(b, s + i, 1);
        }
    }
}

static void html_escape_str(struct sb_buf *b, const char *s)
{
    html_escape(b, s ? s : "", s ? strlen(s) : 0);
}

/* A plain reading of the Markdown body until the CommonMark renderer of the
 * knowledge-base issue lands: "## " lines become headings, "- " lines list
 * items, other lines paragraphs. Everything is escaped. */
static void body_html(struct sb_buf *b, const char *md)
{
    bool in_list = false;
    while (md && *md) {
        size_t n = strcspn(md, "\n");
        const char *line = md;
        md += n + (md[n] == '\n');
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' '))
            n--;
        bool item = n > 2 && (line[0] == '-' || line[0] == '*') && line[1] == ' ';
        if (in_list && !item) {
            sb_buf_printf(b, "</ul>\n");
            in_list = false;
        }
        if (n == 0) continue;
        if (item) {
            if (!in_list) sb_buf_printf(b, "<ul>\n");
            in_list = true;
            sb_buf_printf(b, "<li>");
            html_escape(b, line + 2, n - 2);
            sb_buf_printf(b, "</li>\n");
        } else if (n > 3 && strncmp(line, "## ", 3) == 0) {
            sb_buf_printf(b, "<h2>");
            html_escape(b, line + 3, n - 3);
            sb_buf_printf(b, "</h2>\n");
        } else if (n > 2 && strncmp(line, "# ", 2) == 0) {
            sb_buf_printf(b, "<h2>");
            html_escape(b, line + 2, n - 2);
            sb_buf_printf(b, "</h2>\n");
        } else {
            sb_buf_printf(b, "<p>");
            html_escape(b, line, n);
            sb_buf_printf(b, "</p>\n");
        }
    }
    if (in_list) sb_buf_printf(b, "</ul>\n");
}

enum MHD_Result api_help_article(struct sb_server *srv, struct MHD_Connection *c,
                                 struct http_req *r, const char *params[2])
{
    json_t *a;
    struct sb_buf b;
    enum MHD_Result ret;
    (void)r;

    if (strlen(params[0]) > 35 || strlen(params[1]) > 120)
        return http_error(srv, c, 404, "not_found", "no such article");
    a = sb_kb_article_get(srv->kb, params[0], params[1]);
    if (!a) return http_error(srv, c, 404, "not_found", "no such article");
    sb_buf_init(&b, 4 * 1024 * 1024);
    sb_buf_printf(&b, "<!doctype html>\n<html lang=\"");
    html_escape_str(&b, json_string_value(json_object_get(a, "locale")));
    sb_buf_printf(&b, "\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                      "<title>");
    html_escape_str(&b, json_string_value(json_object_get(a, "title")));
    sb_buf_printf(&b, "</title>\n<meta name=\"description\" content=\"");
    html_escape_str(&b, json_string_value(json_object_get(a, "summary")));
    sb_buf_printf(&b, "\">\n</head>\n<body>\n<main>\n<article>\n<h1>");
    html_escape_str(&b, json_string_value(json_object_get(a, "title")));
    sb_buf_printf(&b, "</h1>\n<p><strong>");
    html_escape_str(&b, json_string_value(json_object_get(a, "summary")));
    sb_buf_printf(&b, "</strong></p>\n");
    body_html(&b, json_string_value(json_object_get(a, "body")));
    sb_buf_printf(&b, "</article>\n</main>\n</body>\n</html>\n");
    json_decref(a);
    ret = b.data ? http_text(srv, c, 200, "text/html; charset=utf-8", b.data, b.len)
                 : http_error(srv, c, 500, "internal", "could not render the article");
    sb_buf_cleanup(&b);
    return ret;
}

enum MHD_Result api_home(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                         const char *params[2])
{
    static const char page[] =
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>Switchboard</title>\n</head>\n<body>\n<main>\n<h1>Switchboard is running</h1>\n"
        "<ul>\n<li><a href=\"/healthz\">/healthz</a></li>\n<li><a "
        "href=\"/metrics\">/metrics</a></li>\n"
        "<li><a href=\"/help/en/track-order\">A help article</a></li>\n</ul>\n"
        "<p>Customer API: <code>POST /api/v1/conversations</code> (see docs/api.md).</p>\n"
        "</main>\n</body>\n</html>\n";
    (void)r;
    (void)params;
    return http_text(srv, c, 200, "text/html; charset=utf-8", page, sizeof(page) - 1);
}
