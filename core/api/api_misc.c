/*
 * api_misc.c - health and metrics (token or loopback only: the counters
 * tell an outsider how busy the server is and how its plugins fail). The landing page is the demo
 * shop (api_widget.c); the help-article pages the bot links to are in help_center.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sb_log.h"
#include "http.h"
#include "server.h"
#include "sla.h"
#include "lua_host.h"

static enum MHD_Result api_healthz(struct sb_server *srv, struct MHD_Connection *c,
                                   struct http_req *r, const char *params[2])
{
    (void)r;
    (void)params;
    return http_json(srv, c, srv->stopping ? 503 : 200,
                     json_pack("{s:s}", "status", srv->stopping ? "stopping" : "ok"));
}

/* The Bearer token matches metrics_token. Both sides are hashed first, so
 * the comparison takes the same time whatever the length or the first
 * differing byte of what was sent. */
static bool metrics_token_ok(struct sb_server *srv, struct MHD_Connection *c)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    char want[65], got[65];

    if (!srv->cfg.metrics_token[0] || !auth || strncasecmp(auth, "Bearer ", 7) != 0) return false;
    sb_sha256_hex(srv->cfg.metrics_token, strlen(srv->cfg.metrics_token), want);
    sb_sha256_hex(auth + 7, strlen(auth + 7), got);
    return sb_secure_equal(want, got, 64);
}

/* metrics_access: "token" wants the token; "loopback" a client on this
 * machine (the client address, so a trusted proxy on loopback does not
 * make the world local); "auto" is token when one is set. */
static bool metrics_allowed(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                            enum MHD_Result *ret)
{
    const char *mode = srv->cfg.metrics_access;
    struct ipaddr client;

    if (strcmp(mode, "token") == 0 || (strcmp(mode, "auto") == 0 && srv->cfg.metrics_token[0])) {
        if (metrics_token_ok(srv, c)) return true;
        http_add_header(srv, "WWW-Authenticate", "Bearer");
        *ret = http_error(srv, c, 401, "unauthorized", "/metrics needs its bearer token");
        return false;
    }
    if (ipaddr_parse(r->ip, strlen(r->ip), &client) && ipaddr_is_loopback(&client)) return true;
    *ret = http_error(srv, c, 403, "forbidden",
                      "/metrics is served to this machine only (see metrics_access)");
    return false;
}

static enum MHD_Result api_metrics(struct sb_server *srv, struct MHD_Connection *c,
                                   struct http_req *r, const char *params[2])
{
    const struct sb_host_stats *hs = sb_host_stats(srv->host);
    const struct sb_metrics *m = &srv->metrics;
    struct sb_buf b;
    enum MHD_Result ret;
    (void)params;

    if (!metrics_allowed(srv, c, r, &ret)) return ret;

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
    COUNTER("channel_messages_accepted_total", "Messages stored from channel plugins.",
            m->channels.accepted);
    COUNTER("channel_messages_duplicate_total", "Provider retries of a stored message.",
            m->channels.duplicates);
    COUNTER("channel_messages_refused_total", "Channel messages refused (bad field, too big).",
            m->channels.refused);
    COUNTER("channel_turns_total", "Bot turns run after a channel message.", m->channels.turns);
    COUNTER("outbox_sent_total", "Messages a channel's provider accepted.", m->channels.sent);
    COUNTER("outbox_retries_total", "Delivery attempts that will be tried again.",
            m->channels.retries);
    COUNTER("outbox_dead_letters_total", "Messages given up on (shown to agents).",
            m->channels.dead);
    COUNTER("channel_receipts_total", "Delivery and read receipts applied.", m->channels.receipts);
#undef COUNTER
    {
        int64_t pending = 0, dead = 0;
        channels_outbox_counts(srv->channels, &pending, &dead);
        sb_buf_printf(&b,
                      "# HELP switchboard_outbox_pending Messages waiting for delivery.\n"
                      "# TYPE switchboard_outbox_pending gauge\nswitchboard_outbox_pending %lld\n"
                      "# HELP switchboard_outbox_dead Dead letters kept.\n"
                      "# TYPE switchboard_outbox_dead gauge\nswitchboard_outbox_dead %lld\n",
                      (long long)pending, (long long)dead);
    }
    sb_buf_printf(&b, "# HELP switchboard_sla_warnings_total SLA warnings fired, by kind.\n"
                      "# TYPE switchboard_sla_warnings_total counter\n");
    for (int k = 0; k < 3; k++)
        sb_buf_printf(&b, "switchboard_sla_warnings_total{kind=\"%s\"} %llu\n",
                      sb_sla_kind_name((enum sb_sla_kind)k),
                      (unsigned long long)m->sla_warnings[k]);
    sb_buf_printf(&b, "# HELP switchboard_sla_breaches_total SLA due times missed, by kind.\n"
                      "# TYPE switchboard_sla_breaches_total counter\n");
    for (int k = 0; k < 3; k++)
        sb_buf_printf(&b, "switchboard_sla_breaches_total{kind=\"%s\"} %llu\n",
                      sb_sla_kind_name((enum sb_sla_kind)k),
                      (unsigned long long)m->sla_breaches[k]);
    sb_buf_printf(&b,
                  "# HELP switchboard_sse_streams Open event streams.\n"
                  "# TYPE switchboard_sse_streams gauge\nswitchboard_sse_streams %lld\n",
                  (long long)m->sse_open);
    ret = http_text(srv, c, 200, "text/plain; version=0.0.4", b.data ? b.data : "", b.len);
    sb_buf_cleanup(&b);
    return ret;
}

/* The routes this file answers and who may call them (core/server/routes.c
 * lists every file's table; http.c dispatches them in that order). */
const struct route api_misc_routes[] = {
    {"GET", "/healthz", api_healthz, ROUTE_PUBLIC, false},
    {"GET", "/metrics", api_metrics, ROUTE_PUBLIC, false},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};
