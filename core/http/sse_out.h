/*
 * sse_out.h - the part of a Server-Sent Events stream that the customers'
 * streams (sse.c) and the agents' (api_agent_events.c) share: what waits
 * to go out, the hello, keep-alives and pushed events that are not stored,
 * and suspending the connection while there is nothing to send.
 */
#ifndef SB_SSE_OUT_H
#define SB_SSE_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <microhttpd.h>

#include "sb_util.h"

struct sse_out {
    struct MHD_Connection *conn;
    struct sb_buf out;       /* the refill being handed to libmicrohttpd */
    size_t sent;             /* bytes of out already handed over */
    struct sb_buf ephemeral; /* pushed events waiting for the next refill */
    bool suspended, keepalive_due, hello_sent;
};

void sse_out_init(struct sse_out *o, struct MHD_Connection *conn, size_t limit,
                  size_t ephemeral_limit);
void sse_out_cleanup(struct sse_out *o);

/* Starts a refill: empties out, then adds the hello (the reconnect delay,
 * once), a due keep-alive and the pushed events. The caller appends the
 * stored events after. */
void sse_out_begin(struct sse_out *o);

/* The body of a libmicrohttpd content reader: once out is handed over,
 * refill(arg) fills it again; if that adds nothing the connection is
 * suspended until sse_out_wake. Ends the stream when stopping. */
ssize_t sse_out_read(struct sse_out *o, bool stopping, void (*refill)(void *), void *arg, char *buf,
                     size_t max);

/* Resumes a suspended connection, so its reader runs again. */
void sse_out_wake(struct sse_out *o);

#endif
