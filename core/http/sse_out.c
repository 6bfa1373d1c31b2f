/*
 * sse_out.c - the shared half of an event stream (sse_out.h).
 */
#include <string.h>

#include "sse_out.h"

void sse_out_init(struct sse_out *o, struct MHD_Connection *conn, size_t limit,
                  size_t ephemeral_limit)
{
    memset(o, 0, sizeof(*o));
    o->conn = conn;
    sb_buf_init(&o->out, limit);
    sb_buf_init(&o->ephemeral, ephemeral_limit);
}

void sse_out_cleanup(struct sse_out *o)
{
    sb_buf_cleanup(&o->out);
    sb_buf_cleanup(&o->ephemeral);
}

void sse_out_begin(struct sse_out *o)
{
    sb_buf_reset(&o->out);
    o->sent = 0;
    if (!o->hello_sent) {
        /* Tell EventSource how soon to reconnect after a drop. */
        sb_buf_printf(&o->out, "retry: 2000\n\n");
        o->hello_sent = true;
    }
    if (o->keepalive_due) {
        sb_buf_printf(&o->out, ": keep-alive\n\n");
        o->keepalive_due = false;
    }
    if (o->ephemeral.len) {
        sb_buf_append(&o->out, o->ephemeral.data, o->ephemeral.len);
        sb_buf_reset(&o->ephemeral);
    }
}

ssize_t sse_out_read(struct sse_out *o, bool stopping, void (*refill)(void *), void *arg, char *buf,
                     size_t max)
{
    size_t n;
    if (o->sent >= o->out.len) {
        if (stopping) return MHD_CONTENT_READER_END_OF_STREAM;
        refill(arg);
        if (o->out.len == 0) {
            o->suspended = true;
            MHD_suspend_connection(o->conn);
            return 0;
        }
    }
    n = o->out.len - o->sent;
    if (n > max) n = max;
    memcpy(buf, o->out.data + o->sent, n);
    o->sent += n;
    return (ssize_t)n;
}

void sse_out_wake(struct sse_out *o)
{
    if (!o->suspended) return;
    o->suspended = false;
    MHD_resume_connection(o->conn);
}
