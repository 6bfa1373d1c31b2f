/*
 * plugin_env.h - a real plugin host for tests: a fresh SQLite store in a
 * temporary directory, the knowledge base, the regex cache and the host,
 * exactly as the server wires them.
 */
#ifndef PLUGIN_ENV_H
#define PLUGIN_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua_host.h"
#include "sb_log.h"
#include "words.h"

struct plugin_env {
    char dir[64];
    struct sb_config cfg;
    struct sb_store *store;
    struct sb_kb *kb;
    struct sb_re_cache *re;
    struct sb_words *words; /* the real catalogues, web/locales */
    struct sb_host *host;
    struct sb_conv conv;
};

static inline int plugin_env_open(struct plugin_env *e, const char *locale)
{
    struct sb_errbuf eb = {{0}};
    char db[128];
    struct sb_host_deps deps;

    memset(e, 0, sizeof(*e));
    snprintf(e->dir, sizeof(e->dir), "/tmp/sb-plugin-test-XXXXXX");
    if (!mkdtemp(e->dir)) return -1;
    sb_config_defaults(&e->cfg);
    e->cfg.lua_memory = 8 * 1024 * 1024;
    e->cfg.lua_deadline_ms = 100;
    e->cfg.lua_instructions = 5 * 1000 * 1000;
    snprintf(db, sizeof(db), "%s/test.db", e->dir);
    if (sb_store_open(db, "NORMAL", &e->store, &eb) ||
        sb_kb_open(sb_store_db(e->store), &e->kb, &eb) || sb_re_cache_new(64, 10000, &e->re) ||
        sb_words_load(SB_SOURCE_DIR "/web/locales", &e->words, &eb)) {
        fprintf(stderr, "plugin_env: %s\n", eb.msg);
        return -1;
    }
    deps = (struct sb_host_deps){.store = e->store,
                                 .kb = e->kb,
                                 .re = e->re,
                                 .cfg = &e->cfg,
                                 .public_url = "http://help.example",
                                 .words = e->words};
    if (sb_host_new(&deps, &e->host)) return -1;
    if (sb_store_conv_create(e->store, "web", "visitor-1", locale, NULL, &e->conv)) return -1;
    return 0;
}

static inline void plugin_env_close(struct plugin_env *e)
{
    char path[160];
    sb_conv_cleanup(&e->conv);
    sb_host_free(e->host);
    sb_kb_close(e->kb);
    sb_re_cache_free(e->re);
    sb_words_free(e->words);
    sb_store_close(e->store);
    const char *files[] = {"test.db", "test.db-wal", "test.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", e->dir, files[i]);
        unlink(path);
    }
    rmdir(e->dir);
}

/* Runs one turn; the caller cleans up turn. */
static inline void plugin_env_turn(struct plugin_env *e, struct sb_turn *t, const char *text,
                                   const char *payload)
{
    sb_turn_init(t);
    t->conv = &e->conv;
    t->text = text;
    t->payload = payload;
    t->locale = e->conv.locale;
    t->channel = "web";
    sb_host_run_intents(e->host, t);
}

static inline const char *first_reply(const struct sb_turn *t)
{
    return json_string_value(json_object_get(json_array_get(t->replies, 0), "text"));
}

#endif
