/*
 * sse.h - the event streams of a conversation (sse.c): customers follow
 * their conversation's stored events; ephemeral ones (typing) go to the
 * streams open at that moment.
 */
#ifndef SSE_H
#define SSE_H

#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

struct sb_server;

/* ------- Interface to code in sse.c ------- */

/* Starts an event stream for conversation conv_id after after_seq. */
enum MHD_Result sse_start(struct sb_server *srv, struct MHD_Connection *c, int64_t conv_id,
                          int64_t after_seq);
/* Wakes the streams of a conversation once its new events are durable:
 * an after-commit effect of the open unit, at once when nothing is
 * pending. Called from the store's event hook (server.c), so every stored
 * event wakes its followers after commit and no caller has to. */
void sse_notify(struct sb_server *srv, int64_t conv_id);
/* Called on every one-second tick: marks the streams whose turn it is (each
 * once per sse_keepalive_s) for a keep-alive comment and wakes them. */
void sse_keepalive(struct sb_server *srv, unsigned tick);
/* Wakes every stream so it ends (shutdown). */
void sse_close_all(struct sb_server *srv);
/* Sends an event that is not stored (no id: not replayed on resume) to the
 * streams of a conversation open now. data is borrowed. */
void sse_push(struct sb_server *srv, int64_t conv_id, const char *type, json_t *data);

#endif
