/*
 * server_run.h - the running server (server.c): opens its parts, serves
 * until it is told to stop, closes them.
 */
#ifndef SERVER_RUN_H
#define SERVER_RUN_H

#include "sb.h"
#include "sb_config.h"

struct sb_server;

/* Runs the server until SIGTERM/SIGINT; returns the process exit code. */
int sb_server_run(const struct sb_config *cfg);

/* Starts the live-agent state machine over srv's parts (store, kb, host,
 * words, cfg: open already) and gives the message pipeline its parts,
 * the hand-off state among them: srv->handoff and srv->pipeline. Also what
 * the tests' server without HTTP runs (tests/unit/server_env.h).
 * SB_ERR_NOMEM / SB_ERR_DB with detail in eb; free with handoff_stop(). */
enum sb_err sb_server_start_handoff(struct sb_server *srv, struct sb_errbuf *eb);

#endif
