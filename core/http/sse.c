/*
 * sse.c - Server-Sent Events streams of a conversation's event log.
 *
 * The store is the source of truth: a stream remembers the last sequence
 * number it sent and reads what follows from the events table, so a
 * reconnect with Last-Event-ID, a restart or a burst never skips or repeats
 * an event. With nothing to send, the stream's connection is suspended
 * (no thread is parked); every stored event queues its wake-up as an
 * after-commit effect of the store's unit of work (sse_notify(), from the
 * store's event hook that the server sets).
 *
 * Ephemeral events (typing) are the exception: they are not stored, carry
 * no id and go only to the streams open at that moment (sse_push()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "sb_log.h"
#include "sb_store.h"
#include "server.h"
#include "sse.h"
#include "sse_out.h"

#define SSE_BATCH 64
#define SSE_BUF_LIMIT (4 * 1024 * 1024)
/* libmicrohttpd allocates (calloc) a buffer of this size with each stream's
 * response, for the stream's whole life, but reads into it only for
 * HTTP/1.0 clients; HTTP/1.1 chunks go straight to the connection's pool.
 * sse_read() hands over longer events in several calls, so a small block
 * costs nothing and saves 15 KiB per open stream against 16 KiB
 * (BENCHMARKS.md, "Chat widget"). */
#define SSE_BLOCK 1024
#define SSE_EPHEMERAL_LIMIT (16 * 1024)

struct sse_stream {
    struct sse_stream *next, *prev;
    struct sb_server *srv;
    int64_t conv_id;
    int64_t last_seq;
    struct sse_out o;
};

static struct sse_stream **bucket_of(struct sb_server *srv, int64_t conv_id)
{
    return &srv->sse[(uint64_t)conv_id % SSE_BUCKETS];
}

static void link_stream(struct sse_stream *s)
{
    struct sse_stream **b = bucket_of(s->srv, s->conv_id);
    s->prev = NULL;
    s->next = *b;
    if (*b) (*b)->prev = s;
    *b = s;
}

static void unlink_stream(struct sse_stream *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        *bucket_of(s->srv, s->conv_id) = s->next;
    if (s->next) s->next->prev = s->prev;
}

static int append_event(void *arg, int64_t seq, const char *type, const char *data)
{
    struct sse_stream *s = arg;
    /* offers and internal notes are for the agents' streams only */
    if (strcmp(type, "conversation/offered") == 0 || strcmp(type, "note/added") == 0) {
        s->last_seq = seq;
        return 0;
    }
    /* data is compact JSON: it has no raw newlines, so one data: line. */
    if (sb_buf_printf(&s->o.out, "id: %lld\nevent: %s\ndata: %s\n\n", (long long)seq, type, data))
        return 1;
    s->last_seq = seq;
    s->srv->metrics.sse_events++;
    return 0;
}

static void refill(void *arg)
{
    struct sse_stream *s = arg;
    sse_out_begin(&s->o);
    /* Inside an open batch the read stops at the last durable event; what
     * the batch adds wakes this stream again after its flush (sse_notify). */
    sb_store_events_since(s->srv->store, s->conv_id, s->last_seq, SSE_BATCH, append_event, s);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sse_stream *s = cls;
    (void)pos;
    return sse_out_read(&s->o, s->srv->stopping, refill, s, buf, max);
}

static void sse_free(void *cls)
{
    struct sse_stream *s = cls;
    unlink_stream(s);
    s->srv->metrics.sse_open--;
    sse_out_cleanup(&s->o);
    free(s);
}

enum MHD_Result sse_start(struct sb_server *srv, struct MHD_Connection *c, int64_t conv_id,
                          int64_t after_seq)
{
    struct sse_stream *s = calloc(1, sizeof(*s));
    struct MHD_Response *resp;
    enum MHD_Result ret;

    if (!s) return MHD_NO;
    s->srv = srv;
    s->conv_id = conv_id;
    s->last_seq = after_seq;
    sse_out_init(&s->o, c, SSE_BUF_LIMIT, SSE_EPHEMERAL_LIMIT);
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK, sse_read, s, sse_free);
    if (!resp) {
        sse_out_cleanup(&s->o);
        free(s);
        return MHD_NO;
    }
    link_stream(s);
    srv->metrics.sse_open++;
    srv->metrics.sse_opened++;
    http_common_headers(resp, "text/event-stream; charset=utf-8");
    http_apply_headers(srv, c, resp); /* CORS */
    /* Proxies must not buffer the stream. */
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void wake_conversation(struct sb_server *srv, int64_t conv_id)
{
    for (struct sse_stream *s = *bucket_of(srv, conv_id); s; s = s->next)
        if (s->conv_id == conv_id) sse_out_wake(&s->o);
}

static void wake_effect(void *srv, int64_t conv_id)
{
    wake_conversation(srv, conv_id);
}

void sse_notify(struct sb_server *srv, int64_t conv_id)
{
    if (!*bucket_of(srv, conv_id)) return; /* nobody listens */
    /* After the unit's batch is durable; a wake lost to a full memory is
     * made up by the keep-alive tick. */
    sb_store_effect(srv->store, SB_EFFECT_DURABLE, wake_effect, srv, conv_id, NULL);
}

/* Called every second: wakes the streams of one bucket out of every
 * sse_keepalive_s, a different slice each second. Every stream still gets a
 * keep-alive every sse_keepalive_s seconds, but the loop pays for them a
 * slice at a time: waking all at once stalled it for about 0.3 s at 10,000
 * idle streams (a store read and a resume each; BENCHMARKS.md). */
void sse_keepalive(struct sb_server *srv, unsigned tick)
{
    unsigned every = (unsigned)srv->cfg.sse_keepalive_s;
    for (unsigned i = tick % every; i < SSE_BUCKETS; i += every) {
        for (struct sse_stream *s = srv->sse[i]; s; s = s->next) {
            s->o.keepalive_due = true;
            sse_out_wake(&s->o);
        }
    }
}

void sse_close_all(struct sb_server *srv)
{
    for (int i = 0; i < SSE_BUCKETS; i++)
        for (struct sse_stream *s = srv->sse[i]; s; s = s->next)
            sse_out_wake(&s->o);
}

void sse_push(struct sb_server *srv, int64_t conv_id, const char *type, json_t *data)
{
    char *text = json_dumps(data, JSON_COMPACT);
    if (!text) return;
    for (struct sse_stream *s = *bucket_of(srv, conv_id); s; s = s->next) {
        if (s->conv_id != conv_id) continue;
        /* A stream that cannot keep up loses typing hints, nothing else. */
        if (sb_buf_printf(&s->o.ephemeral, "event: %s\ndata: %s\n\n", type, text) == SB_OK) {
            srv->metrics.sse_events++;
            sse_out_wake(&s->o);
        }
    }
    free(text);
}
