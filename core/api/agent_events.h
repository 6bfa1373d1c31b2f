/*
 * agent_events.h - the agents' event streams (api_agent_events.c,
 * GET /api/v1/agent/events): the consoles follow every stored event of
 * the conversations their agent may see, through the agents' feed
 * (agent_feed.h).
 */
#ifndef AGENT_EVENTS_H
#define AGENT_EVENTS_H

#include <stdint.h>

#include <jansson.h>

struct sb_server;

/* Wakes the agents' streams once the open unit's batch is durable (an
 * after-commit effect, one per batch; the store's event hook calls it for
 * every stored event, server.c); keep-alives; team memberships
 * changed (the streams read them again). */
void agent_events_notify(struct sb_server *srv);
void agent_events_keepalive(struct sb_server *srv, unsigned tick);
void agent_events_teams_changed(struct sb_server *srv);
/* Typing (not stored) to the agent streams that may see conv_id; data
 * borrowed (gets "conversation" added). */
void agent_events_push(struct sb_server *srv, int64_t conv_id, const char *type, json_t *data);
void agent_events_close_all(struct sb_server *srv);

#endif
