/*
 * api_agent_events.c - GET /api/v1/agent/events: one Server-Sent Events
 * stream per console. Like sse.c, the store is the truth: a stream
 * remembers the last global event id (events.id) it sent and reads what
 * follows, filtered to what the agent may see (offers to them, events of
 * queued conversations of their teams and of conversations assigned or
 * offered to them; supervisors see all), so Last-Event-ID resumes
 * without loss. Each event's data is the stored one with "conversation"
 * (the public id) added. Typing is pushed, never stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_feed.h"
#include "handoff_int.h"
#include "agent_events.h"
#include "api.h"
#include "http.h"
#include "server.h"
#include "store_agent.h"
#include "sse_out.h"
#include "sb_log.h"

#define AGENT_BATCH 64
#define AGENT_BUF_LIMIT (4 * 1024 * 1024)
#define AGENT_EPHEMERAL_LIMIT (16 * 1024)
/* libmicrohttpd sends at most one block per connection per loop turn, so
 * a block must hold a whole batch: at 1 KiB a busy console got a batch
 * over ten turns, tens of milliseconds late. Consoles are few; the
 * customers' streams keep their small blocks (sse.c). */
#define AGENT_BLOCK (64 * 1024)

struct agent_stream {
    struct agent_stream *next, *prev;
    struct sb_server *srv;
    struct agent_reader who;
    int64_t last_id;
    struct sse_out o;
    bool teams_stale;
};

static void load_teams(struct agent_stream *s)
{
    s->who.nteams =
        sb_store_agent_teams(s->srv->store, s->who.user, s->who.teams, AGENT_READER_TEAMS);
    s->teams_stale = false;
}

/* Catching up from the table: a console resuming from further back than
 * the feed holds. */
static void read_table(struct agent_stream *s);

static void refill(void *arg)
{
    struct agent_stream *s = arg;
    sse_out_begin(&s->o);
    if (s->teams_stale) load_teams(s);
    if (agent_feed_covers(s->srv->handoff->feed, s->last_id)) {
        s->srv->metrics.sse_events += (uint64_t)agent_feed_read(
            s->srv->handoff->feed, &s->who, &s->last_id, &s->o.out, AGENT_BATCH);
        return;
    }
    read_table(s);
}

/* One event of the table read into the stream; true when the buffer is
 * full (the rest waits for the next read). */
static bool table_event(void *arg, const struct sb_agent_event *e)
{
    struct agent_stream *s = arg;
    /* data is a compact JSON object: add the conversation's id */
    if (sb_buf_printf(&s->o.out, "id: %lld\nevent: %s\ndata: {\"conversation\":\"%s\"%s%s\n\n",
                      (long long)e->id, e->type, e->conversation, e->data[1] == '}' ? "" : ",",
                      e->data + 1))
        return true;
    s->last_id = e->id;
    s->srv->metrics.sse_events++;
    return false;
}

static void read_table(struct agent_stream *s)
{
    const struct agent_feed *feed = s->srv->handoff->feed;
    bool done = false;
    /* Inside an open batch the read stops at the last durable event; the
     * batch's own events wake the streams after its flush. */
    if (sb_store_agent_events_for(s->srv->store, s->who.user, s->who.supervisor, s->last_id,
                                  sb_store_committed_event_id(s->srv->store), AGENT_BATCH,
                                  table_event, s, &done))
        return;
    /* Fewer than a batch: every durable event up to now was looked at, so
     * the stream may go on from the feed, which holds only durable ones. */
    if (done && agent_feed_top(feed) > s->last_id) s->last_id = agent_feed_top(feed);
}

static ssize_t agent_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct agent_stream *s = cls;
    (void)pos;
    return sse_out_read(&s->o, s->srv->stopping, refill, s, buf, max);
}

static void agent_free(void *cls)
{
    struct agent_stream *s = cls;
    if (s->prev)
        s->prev->next = s->next;
    else
        s->srv->agent_streams = s->next;
    if (s->next) s->next->prev = s->prev;
    s->srv->metrics.sse_open--;
    sse_out_cleanup(&s->o);
    free(s);
}

/* The batch is durable: the feed reads its events once, then every
 * console's stream is woken to filter them. */
static void agent_wake(void *arg, int64_t unused)
{
    struct sb_server *srv = arg;
    (void)unused;
    if (!srv->agent_streams) return;
    agent_feed_committed(srv->store, srv->handoff->feed, true);
    for (struct agent_stream *s = srv->agent_streams; s; s = s->next)
        sse_out_wake(&s->o);
}

static void agent_wake_done(void *arg)
{
    ((struct sb_server *)arg)->agent_notify = false;
}

void agent_events_notify(struct sb_server *srv)
{
    /* One wake per batch however many events it holds: the flag stays set
     * while the effect is queued and is cleared when it ran or was
     * dropped (a rollback). */
    if (!srv->agent_streams || srv->agent_notify) return;
    srv->agent_notify = true;
    sb_store_effect(srv->store, SB_EFFECT_DURABLE, agent_wake, srv, 0, agent_wake_done);
}

void agent_events_keepalive(struct sb_server *srv, unsigned tick)
{
    unsigned every = (unsigned)srv->cfg.sse_keepalive_s;
    if (every && tick % every) return;
    for (struct agent_stream *s = srv->agent_streams; s; s = s->next) {
        s->o.keepalive_due = true;
        sse_out_wake(&s->o);
    }
}

void agent_events_teams_changed(struct sb_server *srv)
{
    for (struct agent_stream *s = srv->agent_streams; s; s = s->next)
        s->teams_stale = true;
}

void agent_events_close_all(struct sb_server *srv)
{
    for (struct agent_stream *s = srv->agent_streams; s; s = s->next)
        sse_out_wake(&s->o);
}

/* Typing of conv to the streams that may see it (not stored). */
void agent_events_push(struct sb_server *srv, int64_t conv_id, const char *type, json_t *data)
{
    struct sb_conv conv;
    struct sb_handoff_row row;
    char *text;
    if (!srv->agent_streams || sb_store_conv_get_by_id(srv->store, conv_id, &conv)) return;
    if (ho_conv_row(srv->handoff, conv_id, &row)) {
        sb_conv_cleanup(&conv);
        return;
    }
    json_object_set_new(data, "conversation", json_string(conv.public_id));
    text = json_dumps(data, JSON_COMPACT);
    sb_conv_cleanup(&conv);
    if (!text) return;
    for (struct agent_stream *s = srv->agent_streams; s; s = s->next) {
        if (!s->who.supervisor && row.assignee != s->who.user && row.offered_to != s->who.user)
            continue;
        if (sb_buf_printf(&s->o.ephemeral, "event: %s\ndata: %s\n\n", type, text) == SB_OK) {
            srv->metrics.sse_events++;
            sse_out_wake(&s->o);
        }
    }
    free(text);
}

static enum MHD_Result api_agent_events(struct sb_server *srv, struct MHD_Connection *c,
                                        struct http_req *r, const char *params[2])
{
    const char *last = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
    const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "last_event_id");
    struct agent_viewer viewer = agent_viewer_of(r);
    struct agent_stream *s;
    struct MHD_Response *resp;
    enum MHD_Result ret;
    int64_t after = -1;
    (void)params;
    if (r->who.kind != PRINCIPAL_SESSION || r->who.user.id <= 0)
        return http_error(srv, c, 400, "not_a_person",
                          "this acts as a signed-in agent; an API token is not one");
    if (!last) last = q;
    if (last) {
        char *end;
        long long v = strtoll(last, &end, 10);
        if (*last == 0 || *end || v < 0)
            return http_error(srv, c, 400, "invalid_field", "Last-Event-ID: must be an event id");
        after = v;
    }
    if (after < 0) {
        /* a new console starts from now */
        after = sb_store_event_top(srv->store);
        if (after > sb_store_committed_event_id(srv->store))
            after = sb_store_committed_event_id(srv->store);
    }
    s = calloc(1, sizeof(*s));
    if (!s) return MHD_NO;
    s->srv = srv;
    /* who sees everything is agent_access.c's to say, as for every read */
    s->who.user = viewer.user;
    s->who.supervisor = viewer.all;
    s->last_id = after;
    load_teams(s);
    /* the feed is not kept while no console is open: start it afresh */
    if (!srv->agent_streams) agent_feed_committed(srv->store, srv->handoff->feed, false);
    sse_out_init(&s->o, c, AGENT_BUF_LIMIT, AGENT_EPHEMERAL_LIMIT);
    resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, AGENT_BLOCK, agent_read, s, agent_free);
    if (!resp) {
        sse_out_cleanup(&s->o);
        free(s);
        return MHD_NO;
    }
    s->next = srv->agent_streams;
    if (s->next) s->next->prev = s;
    srv->agent_streams = s;
    srv->metrics.sse_open++;
    srv->metrics.sse_opened++;
    http_common_headers(resp, "text/event-stream; charset=utf-8");
    http_apply_headers(srv, c, resp);
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* The routes this file answers and who may call them (core/server/routes.c
 * lists every file's table; http.c dispatches them in that order). */
const struct route api_agent_events_routes[] = {
    {"GET", "/api/v1/agent/events", api_agent_events, ROUTE_AGENT, false},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};
