/*
 * server.h - the running server's state, struct sb_server: its parts (the
 * store, the knowledge base, the plugin host, the hand-off state), the
 * HTTP layer's requests and event streams, the metrics. It lives in
 * core/http/, the lowest layer whose code reads it: every handler gets the
 * server; the layers below get only the parts they use (handoff_deps,
 * pipeline_deps). core/server/server.c fills it and runs the loop
 * (server_run.h).
 *
 * Everything here runs on the event loop thread; nothing locks.
 */
#ifndef SERVER_H
#define SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "channels.h"
#include "ipaddr.h"
#include "pipeline.h"
#include "sb_config.h"

struct agent_stream;
struct conn_table;
struct handoff_state;
struct http_req;
struct MHD_Daemon;
struct route;
struct sb_host;
struct sb_kb;
struct sb_limits;
struct sb_re_cache;
struct sb_store;
struct sb_words;
struct sb_worker;
struct sse_stream;

#define SSE_BUCKETS 1024

struct sb_metrics {
    uint64_t http_requests, http_4xx, http_5xx;
    uint64_t messages_in, messages_out, duplicates, handoffs, kb_answers, kb_misses;
    uint64_t sse_opened, sse_events;
    uint64_t store_flushes, deferred_answers;
    int64_t sse_open;
    uint64_t sla_warnings[3], sla_breaches[3]; /* by enum sb_sla_kind */
    struct channel_metrics channels;           /* core/channels/ */
};

struct sb_server {
    struct sb_config cfg;
    char public_url[512];
    int port;
    struct sb_store *store;
    struct sb_kb *kb;
    struct sb_re_cache *re;
    struct sb_words *words; /* the customer's words: web_dir/locales (words.h) */
    /* What api_widget.c fills into widget.js, made from words once, at its
     * first request (the catalogues do not change while the server runs). */
    char *widget_words, *widget_locales;
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
    struct pipeline_deps pipeline;      /* the parts the message pipeline uses (pipeline.h) */
    struct sb_channels *channels;       /* channel plugins' seam: turns, outbox (channels.h) */
    struct agent_stream *agent_streams; /* GET /api/v1/agent/events (api_agent_events.c) */
    bool agent_notify;                  /* an agent-stream wake is queued in the store */
    struct ipnet_list proxies;          /* cfg.trusted_proxies, parsed */
    struct conn_table *conns;           /* per-address caps, header deadlines (connections.c) */
    char help_view_key[65];             /* signs help-center page views (help_view.c) */
    char device_key[65];                /* login_guard.c: "" until read from the data dir */
};

#endif
