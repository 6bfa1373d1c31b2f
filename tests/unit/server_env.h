/*
 * server_env.h - a server without HTTP, for the tests of the message
 * pipeline and the hand-off state machine (test_pipeline.c,
 * test_handoff.c): a fresh SQLite store in a temporary directory, the
 * knowledge base, the plugin host and the hand-off state, wired as
 * server.c wires them, plus small helpers that drive the server through
 * its entry points (sb_pipeline_*, handoff.h, the agent transitions the
 * agent API calls) and read back what is observable: the rows in the
 * SQLite file and the conversation's event log.
 *
 * The transitions are called the way api_agent.c calls them (one unit,
 * the conversation made current, commit or rollback and rebuild), then
 * the batch is flushed as the event loop does after each turn. Those
 * wrappers are the one place that knows the transitions' C names, so a
 * refactoring of handoff_ops.c changes this file, not the tests.
 *
 * Header-only: each test is its own program.
 */
#ifndef SERVER_ENV_H
#define SERVER_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_admin.h"
#include "auth.h"
#include "handoff.h"
#include "handoff_int.h"
#include "lua_host.h"
#include "words.h"
#include "sb_kb.h"
#include "sb_log.h"
#include "sb_re.h"
#include "pipeline.h"
#include "server.h"
#include "server_run.h"
#include "store_agent_admin.h"

struct server_env {
    char dir[64];
    struct sb_server srv;
    int next_visitor; /* external ids of the conversations made here */
};

/* The live-agent state machine and the pipeline over srv's parts, as
 * server.c starts them. */
static inline enum sb_err server_env_handoff_start(struct sb_server *srv, struct sb_errbuf *eb)
{
    return sb_server_start_handoff(srv, eb);
}

/* Opens everything; 0 on success, -1 with the reason on stderr. The
 * configuration is sb_config_defaults(); tests change srv.cfg after. */
static inline int server_env_open(struct server_env *e)
{
    struct sb_errbuf eb = {{0}};
    struct sb_server *srv = &e->srv;
    char db[128];
    struct sb_host_deps deps;

    memset(e, 0, sizeof(*e));
    sb_log_set_level(SB_LOG_ERROR);
    snprintf(e->dir, sizeof(e->dir), "/tmp/sb-server-test-XXXXXX");
    if (!mkdtemp(e->dir)) return -1;
    sb_config_defaults(&srv->cfg);
    srv->cfg.lua_memory = 8 * 1024 * 1024;
    srv->cfg.lua_deadline_ms = 1000;
    snprintf(srv->public_url, sizeof(srv->public_url), "http://help.example");
    snprintf(db, sizeof(db), "%s/switchboard.db", e->dir);
    if (sb_store_open(db, "NORMAL", &srv->store, &eb) ||
        sb_kb_open(sb_store_db(srv->store), &srv->kb, &eb) ||
        sb_re_cache_new(64, 10000, &srv->re) ||
        sb_words_load(SB_SOURCE_DIR "/web/locales", &srv->words, &eb)) {
        fprintf(stderr, "server_env: %s\n", eb.msg);
        return -1;
    }
    deps = (struct sb_host_deps){.store = srv->store,
                                 .kb = srv->kb,
                                 .re = srv->re,
                                 .cfg = &srv->cfg,
                                 .public_url = srv->public_url,
                                 .words = srv->words};
    if (sb_host_new(&deps, &srv->host) || server_env_handoff_start(srv, &eb)) {
        fprintf(stderr, "server_env: %s\n", eb.msg);
        return -1;
    }
    return 0;
}

static inline void server_env_close(struct server_env *e)
{
    static const char *const files[] = {"switchboard.db", "switchboard.db-wal",
                                        "switchboard.db-shm", "plugin.lua"};
    struct sb_server *srv = &e->srv;
    char path[160];

    sb_host_free(srv->host);
    handoff_stop(srv->handoff);
    sb_re_cache_free(srv->re);
    sb_kb_close(srv->kb);
    sb_store_close(srv->store);
    sb_words_free(srv->words);
    for (size_t i = 0; i < SB_ARRAY_LEN(files); i++) {
        snprintf(path, sizeof(path), "%s/%s", e->dir, files[i]);
        unlink(path);
    }
    rmdir(e->dir);
}

/* What the event loop does after a turn: the batch becomes durable. */
static inline void server_env_flush(struct server_env *e)
{
    if (sb_store_pending(e->srv.store) && sb_store_flush(e->srv.store)) {
        fprintf(stderr, "server_env: flush failed\n");
        abort();
    }
}

/* Loads a plugin from source; -1 when it does not load. */
static inline int server_env_plugin(struct server_env *e, const char *src)
{
    struct sb_errbuf eb = {{0}};
    char path[128];
    FILE *f;
    int rc;

    snprintf(path, sizeof(path), "%s/plugin.lua", e->dir);
    f = fopen(path, "w");
    if (!f) return -1;
    fputs(src, f);
    fclose(f);
    rc = sb_host_load_file(e->srv.host, path, &eb) ? -1 : 0;
    if (rc) fprintf(stderr, "server_env: plugin: %s\n", eb.msg);
    unlink(path);
    return rc;
}

/* A new web conversation in locale, as POST /api/v1/conversations makes
 * it (conversation/started is its first event). */
static inline int server_env_conv(struct server_env *e, const char *locale, struct sb_conv *out)
{
    char visitor[32];
    enum sb_err rc;
    snprintf(visitor, sizeof(visitor), "visitor-%d", ++e->next_visitor);
    rc = sb_pipeline_start(&e->srv.pipeline, "web", visitor, locale, NULL, NULL, out);
    server_env_flush(e);
    return rc ? -1 : 0;
}

/* Reloads conv from the store (status and last_seq as they are now), as
 * each API request does. */
static inline void server_env_reload(struct server_env *e, struct sb_conv *conv)
{
    int64_t id = conv->id;
    sb_conv_cleanup(conv);
    if (sb_store_conv_get_by_id(e->srv.store, id, conv)) abort();
}

/* One customer message as POST .../messages passes it to the pipeline
 * (client_id becomes the provider id "<public id>:<client_id>"); the
 * result (owned) or NULL when the pipeline failed. payload may be NULL. */
static inline json_t *server_env_say_payload(struct server_env *e, struct sb_conv *conv,
                                             const char *text, const char *client_id,
                                             const char *payload)
{
    struct sb_errbuf eb = {{0}};
    char provider_id[200];
    struct sb_inbound in = {
        .channel = conv->channel, .text = text, .client_id = client_id, .payload = payload};
    json_t *result = NULL;
    char *text_result = NULL;

    if (client_id) {
        snprintf(provider_id, sizeof(provider_id), "%s:%s", conv->public_id, client_id);
        in.provider_id = provider_id;
    }
    server_env_reload(e, conv);
    /* The answer is text (serialized once); tests read it as JSON. */
    if (sb_pipeline_handle(&e->srv.pipeline, conv, &in, &text_result, &eb)) {
        fprintf(stderr, "server_env: pipeline: %s\n", eb.msg);
    } else {
        result = json_loads(text_result, 0, NULL);
        if (!result) fprintf(stderr, "server_env: the answer is not JSON: %s\n", text_result);
    }
    free(text_result);
    server_env_flush(e);
    return result;
}

static inline json_t *server_env_say(struct server_env *e, struct sb_conv *conv, const char *text,
                                     const char *client_id)
{
    return server_env_say_payload(e, conv, text, client_id, NULL);
}

/* ---- what is observable ---- */

/* One integer the SQL (with ?1 bound to arg) reads; -1 when no row,
 * 0 for NULL. */
static inline int64_t server_env_int(struct server_env *e, const char *sql, int64_t arg)
{
    sqlite3_stmt *s;
    int64_t v = -1;
    if (sqlite3_prepare_v2(sb_store_db(e->srv.store), sql, -1, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "server_env: %s: %s\n", sql, sqlite3_errmsg(sb_store_db(e->srv.store)));
        abort();
    }
    if (sqlite3_bind_parameter_count(s) > 0) sqlite3_bind_int64(s, 1, arg);
    if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* One text the SQL reads into out[cap] ("" for no row or NULL). */
static inline const char *server_env_text(struct server_env *e, const char *sql, int64_t arg,
                                          char *out, size_t cap)
{
    sqlite3_stmt *s;
    out[0] = '\0';
    if (sqlite3_prepare_v2(sb_store_db(e->srv.store), sql, -1, &s, NULL) != SQLITE_OK) abort();
    if (sqlite3_bind_parameter_count(s) > 0) sqlite3_bind_int64(s, 1, arg);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return out;
}

static inline int collect_event(void *arg, int64_t seq, const char *type, const char *data)
{
    json_t *ev = json_loads(data, 0, NULL);
    (void)type;
    if (!ev || json_integer_value(json_object_get(ev, "seq")) != seq) abort();
    json_array_append_new(arg, ev);
    return 0;
}

/* The stored events of conv_id after after_seq, oldest first, as the
 * stream sends their data ({..., seq, type, at}); owned. */
static inline json_t *server_env_events(struct server_env *e, int64_t conv_id, int64_t after_seq)
{
    json_t *out = json_array();
    if (sb_store_events_since(e->srv.store, conv_id, after_seq, 1000, collect_event, out)) abort();
    return out;
}

/* The types of those events joined by spaces, into out[cap]: the order
 * of a transition's events in one string to compare. */
static inline const char *server_env_types(struct server_env *e, int64_t conv_id, int64_t after_seq,
                                           char *out, size_t cap)
{
    json_t *evs = server_env_events(e, conv_id, after_seq), *ev;
    size_t i, n = 0;
    out[0] = '\0';
    json_array_foreach(evs, i, ev)
    {
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", i ? " " : "",
                              json_string_value(json_object_get(ev, "type")));
    }
    json_decref(evs);
    return out;
}

/* The last stored event of conv_id of type, or NULL; owned. */
static inline json_t *server_env_last_event(struct server_env *e, int64_t conv_id, const char *type)
{
    json_t *evs = server_env_events(e, conv_id, 0), *ev, *found = NULL;
    size_t i;
    json_array_foreach(evs, i, ev)
    {
        if (strcmp(json_string_value(json_object_get(ev, "type")), type) == 0) found = ev;
    }
    if (found) json_incref(found);
    json_decref(evs);
    return found;
}

static inline int64_t server_env_last_seq(struct server_env *e, int64_t conv_id)
{
    return server_env_int(e, "SELECT ifnull(max(seq), 0) FROM events WHERE conversation_id = ?1",
                          conv_id);
}

/* ---- teams and agents, as the admin API writes them ---- */

/* Creates or replaces team id from its admin-API JSON (team_validate
 * fills the defaults); the router reloads as after an admin change. */
static inline int server_env_team(struct server_env *e, const char *id, const char *json)
{
    struct sb_errbuf eb = {{0}};
    json_t *in = json_loads(json, 0, NULL), *team = NULL;
    bool created;
    int rc = -1;
    if (in && !team_validate(in, id, NULL, &team, &eb) && !sb_store_begin(e->srv.store)) {
        if (!agent_store_team_put(e->srv.store, team, &created) && !sb_store_commit(e->srv.store))
            rc = 0;
        else
            sb_store_rollback(e->srv.store);
    }
    if (rc) fprintf(stderr, "server_env: team %s: %s\n", id, eb.msg);
    json_decref(in);
    json_decref(team);
    server_env_flush(e);
    sb_agents_config_changed(e->srv.handoff, "teams");
    server_env_flush(e);
    return rc;
}

/* Changes agent user_id's profile ({status, capacity, skills, teams},
 * each optional) as PUT /api/v1/admin/agents/{id} does (also what
 * PUT /api/v1/agent/me/status does to the routing). */
static inline int server_env_profile(struct server_env *e, int64_t user_id, const char *json)
{
    struct sb_errbuf eb = {{0}};
    json_t *in = json_loads(json, 0, NULL), *change = NULL;
    int rc = -1;
    if (in && !agent_profile_validate(in, &change, &eb) && !sb_store_begin(e->srv.store)) {
        /* in the same unit, as the admin API: offers to an agent no
         * longer online go back to the queue, routing runs */
        if (!agent_store_profile_put(e->srv.store, user_id, change, &eb) &&
            !handoff_agent_changed(e->srv.handoff, user_id) && !sb_store_commit(e->srv.store))
            rc = 0;
        else
            sb_store_rollback(e->srv.store);
    }
    if (rc) fprintf(stderr, "server_env: profile %lld: %s\n", (long long)user_id, eb.msg);
    json_decref(in);
    json_decref(change);
    server_env_flush(e);
    sb_agents_config_changed(e->srv.handoff, "agents");
    server_env_flush(e);
    return rc;
}

/* A user with the agent role named name; its id, or -1. profile as for
 * server_env_profile (NULL: the defaults, offline). */
static inline int64_t server_env_agent(struct server_env *e, const char *name, const char *profile)
{
    char email[128];
    int64_t id = -1;
    snprintf(email, sizeof(email), "%s@example.test", name);
    if (sb_store_begin(e->srv.store)) return -1;
    if (sb_user_add(e->srv.store, email, name, "en", SB_ROLE_AGENT, "x", &id) ||
        sb_store_commit(e->srv.store)) {
        sb_store_rollback(e->srv.store);
        return -1;
    }
    server_env_flush(e);
    if (profile && server_env_profile(e, id, profile)) return -1;
    return id;
}

/* ---- the agents' transitions, as api_agent.c runs them ---- */

enum server_env_act {
    ENV_ACCEPT,
    ENV_DECLINE,
    ENV_CLAIM,
    ENV_CLAIM_SUPERVISOR,
    ENV_RESOLVE,
    ENV_RETURN,
};

/* Runs one transition of conv_id by agent in its own unit; the unit is
 * committed when it succeeds and rolled back (and the router rebuilt)
 * when it is refused. Returns its result; why in eb. */
static inline enum sb_err server_env_act(struct server_env *e, int64_t conv_id, int64_t agent,
                                         enum server_env_act a, struct sb_errbuf *eb)
{
    struct sb_server *srv = &e->srv;
    struct sb_conv conv;
    char by[64];
    enum sb_err rc = sb_store_conv_get_by_id(srv->store, conv_id, &conv);
    if (rc) return rc;
    snprintf(by, sizeof(by), "agent:%lld", (long long)agent);
    eb->msg[0] = '\0';
    rc = sb_store_begin(srv->store);
    srv->handoff->current = &conv;
    if (!rc) switch (a) {
        case ENV_ACCEPT:
            rc = ho_accept(srv->handoff, &conv, agent, eb);
            break;
        case ENV_DECLINE:
            rc = ho_decline(srv->handoff, &conv, agent, eb);
            break;
        case ENV_CLAIM:
        case ENV_CLAIM_SUPERVISOR:
            rc = ho_claim(srv->handoff, &conv, agent, a == ENV_CLAIM_SUPERVISOR, eb);
            break;
        case ENV_RESOLVE:
            rc = ho_resolve(srv->handoff, &conv, by, 0, eb);
            break;
        case ENV_RETURN:
            rc = ho_return_to_bot(srv->handoff, &conv, by, eb);
            break;
        }
    srv->handoff->current = NULL;
    if (!rc) rc = sb_store_commit(srv->store);
    if (rc) sb_store_rollback(srv->store); /* the router follows commits only */
    sb_conv_cleanup(&conv);
    server_env_flush(e);
    return rc;
}

/* POST .../transfer {"team"} or {"agent_id"} by agent from. */
static inline enum sb_err server_env_transfer(struct server_env *e, int64_t conv_id, int64_t from,
                                              const char *team, int64_t to_agent, const char *note,
                                              struct sb_errbuf *eb)
{
    struct sb_server *srv = &e->srv;
    struct sb_conv conv;
    enum sb_err rc = sb_store_conv_get_by_id(srv->store, conv_id, &conv);
    if (rc) return rc;
    eb->msg[0] = '\0';
    rc = sb_store_begin(srv->store);
    srv->handoff->current = &conv;
    if (!rc) rc = ho_transfer(srv->handoff, &conv, from, team, to_agent, note, eb);
    srv->handoff->current = NULL;
    if (!rc) rc = sb_store_commit(srv->store);
    if (rc) sb_store_rollback(srv->store); /* the router follows commits only */
    sb_conv_cleanup(&conv);
    server_env_flush(e);
    return rc;
}

/* The SLA side of an agent's reply (POST .../messages by the agent):
 * first and next response met. */
static inline enum sb_err server_env_agent_replied(struct server_env *e, int64_t conv_id)
{
    enum sb_err rc = sb_store_begin(e->srv.store);
    if (!rc) rc = ho_replied(e->srv.handoff, conv_id);
    if (!rc) rc = sb_store_commit(e->srv.store);
    if (rc) sb_store_rollback(e->srv.store);
    server_env_flush(e);
    return rc;
}

/* Moves the clock by ms and fires what fell due, as POST
 * /api/v1/test/clock does. */
static inline void server_env_advance(struct server_env *e, int64_t ms)
{
    sb_clock_advance_ms(ms);
    handoff_timers(e->srv.handoff);
    server_env_flush(e);
}

/* Sets the clock to at (ms since the epoch) and fires what fell due. */
static inline void server_env_clock_set(struct server_env *e, int64_t at)
{
    server_env_advance(e, at - sb_now_ms());
}

#endif
