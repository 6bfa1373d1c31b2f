/*
 * lua_host.h - the Lua 5.4 plugin host: loading plugins as text into
 * sandboxed states, the sb.* API, and calling intents and channels.
 *
 * One lua_State per plugin file, so a plugin's memory cap, instruction
 * budget and globals are its own, and unloading is lua_close(). The host
 * owns every hook a plugin declares and drops them with the plugin.
 */
#ifndef LUA_HOST_H
#define LUA_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <lua.h>

#include "sb.h"
#include "sb_config.h"
#include "sb_kb.h"
#include "sb_re.h"
#include "sb_store.h"

struct sb_host;
struct sb_plugin;

/* What plugins may reach; all borrowed, owned by the server. */
struct sb_host_deps {
    struct sb_store *store;
    struct sb_kb *kb;
    struct sb_re_cache *re;
    const struct sb_config *cfg;
    const char *public_url;       /* base for help-center links */
    const struct sb_words *words; /* ctx:t's catalogues (words.h); NULL: none */
};

/* Counters for /metrics and tests. */
struct sb_host_stats {
    uint64_t calls, errors, timeouts, memory_errors, load_failures;
};

enum sb_err sb_host_new(const struct sb_host_deps *deps, struct sb_host **out);
void sb_host_free(struct sb_host *h); /* NULL-safe */

/* Loads every *.lua under dir (except lib/), in name order. A plugin that
 * fails to load is logged and counted; the others still load. Returns the
 * number loaded in *loaded. */
enum sb_err sb_host_load_dir(struct sb_host *h, const char *dir, int *loaded);

/* Loads or hot-reloads one file: the new version is compiled and run in a
 * fresh state beside the old, and replaces it only if it loads. */
enum sb_err sb_host_load_file(struct sb_host *h, const char *path, struct sb_errbuf *eb);

/* Reloads every loaded plugin from its file (SIGHUP). */
void sb_host_reload_all(struct sb_host *h);

const struct sb_host_stats *sb_host_stats(const struct sb_host *h);
int sb_host_intent_count(const struct sb_host *h);

/* One customer turn handed to the intent plugins. Inputs are borrowed;
 * outputs are owned by the turn and released by sb_turn_cleanup(). */
struct sb_turn {
    /* in */
    struct sb_conv *conv; /* its attrs may be changed by ctx:set() */
    const char *text;
    const char *payload; /* quick-reply payload, or NULL */
    const char *locale;
    const char *channel;
    /* out */
    json_t *replies; /* array of {text, links, quick_replies} */
    bool handoff;
    char handoff_reason[128];
    char handoff_team[64];
    bool attrs_changed;
    char answered_by[64]; /* intent name, "" when none answered */
    /* the first sb.kb.search of the turn, for the content-gap report */
    bool kb_searched;
    int kb_hits;
    int64_t kb_article_id; /* best hit, 0 when none */
    double kb_confidence;
    double kb_threshold; /* the best hit's answer threshold */
};

void sb_turn_init(struct sb_turn *t);
void sb_turn_cleanup(struct sb_turn *t);

/* Runs intents in priority order until one answers (replies or hands off).
 * Failing or over-budget plugins are skipped. */
enum sb_err sb_host_run_intents(struct sb_host *h, struct sb_turn *turn);

/* Hooks (sb.hook{event=, priority=, handler=}): the handlers of event in
 * priority order get arg (borrowed) as a table; the first that returns a
 * table decides, and it comes back as a new JSON object. NULL when no hook
 * answered (nil, failed, or none declared). */
bool sb_host_has_hook(const struct sb_host *h, const char *event);
json_t *sb_host_run_hook(struct sb_host *h, const char *event, json_t *arg);

/* Normalises an inbound request with the channel plugin `channel`:
 * request (borrowed) is passed to its inbound(req) function; the result is
 * a new JSON object {text, client_id?, payload?, locale?} in *out.
 * SB_ERR_NOT_FOUND when no such channel; SB_ERR_INVAL with the plugin's
 * message when it rejects the request. */
enum sb_err sb_host_channel_inbound(struct sb_host *h, const char *channel, json_t *request,
                                    json_t **out, struct sb_errbuf *eb);

/* ------- Interface to code in lua_channel.c: channel plugins ------- */

/* The core's side of sb.accept and sb.status (core/channels/ fills it;
 * the host only passes it on). msg / st are the plugin's tables as JSON
 * (attachments' data as byte strings). */
struct sb_channel_ops {
    void *arg;
    enum sb_err (*accept)(void *arg, const char *channel, json_t *msg, int64_t *id, bool *dup,
                          struct sb_errbuf *eb);
    enum sb_err (*status)(void *arg, const char *channel, json_t *st, bool *known,
                          struct sb_errbuf *eb);
};
/* ops is borrowed for the host's life; NULL: plugins cannot accept. */
void sb_host_set_channel_ops(struct sb_host *h, const struct sb_channel_ops *ops);

/* The end of a call that may wait (lua_async.c): rc SB_OK with results,
 * the JSON array of what the function returned, or an error and its
 * message. results is borrowed for the callback. */
typedef void (*sb_host_done)(void *arg, enum sb_err rc, json_t *results, const char *err);

/* Calls a channel's route handler / deliver / poll / command with arg (a
 * table made of the JSON, borrowed) as a call that may wait; done runs
 * once, maybe before these return. SB_ERR_NOT_FOUND when the channel is
 * not loaded or not active (commands: not loaded), or has no such route,
 * poll or command; done is then not called. */
enum sb_err sb_host_channel_route(struct sb_host *h, const char *channel, const char *method,
                                  const char *path, json_t *req, sb_host_done done, void *arg);
enum sb_err sb_host_channel_deliver(struct sb_host *h, const char *channel, json_t *msg,
                                    sb_host_done done, void *arg);
enum sb_err sb_host_channel_poll(struct sb_host *h, const char *channel, sb_host_done done,
                                 void *arg);
enum sb_err sb_host_channel_command(struct sb_host *h, const char *channel, const char *command,
                                    json_t *args, sb_host_done done, void *arg);
/* True when an active channel has a route at path (any method): a wrong
 * method is then 405, not 404. */
bool sb_host_channel_has_path(struct sb_host *h, const char *channel, const char *path);
/* The names of the active channels (only those that poll), at most max;
 * borrowed until the next reload. */
int sb_host_channel_names(struct sb_host *h, const char **names, int max, bool pollers_only);
/* Replaces the channel's secrets in msg (cap bytes) by "[secret]": for
 * what its plugin returned that the core keeps or shows (a delivery's
 * failure reason). */
void sb_host_channel_scrub(struct sb_host *h, const char *channel, char *msg, size_t cap);
/* The channel's window_s (0: none or no such channel). */
int sb_host_channel_window_s(struct sb_host *h, const char *channel);
/* Every declared channel for the admin API, in load order: a new array of
 * {name, active, settings}; settings is the public view of
 * lua_settings_apply() (secrets "set" or null), {} for a channel with
 * nothing to configure (the web widget), which is always active. */
json_t *sb_host_channels_json(struct sb_host *h);

/* ------- Interface to code in lua_sandbox.c ------- */

/* Per-state bookkeeping reachable from the Lua extra space. */
struct lua_budget {
    size_t mem_used, mem_limit;
    uint64_t instr_limit, instr_used;
    size_t alloc_unchecked; /* bytes allocated since the allocator read the clock */
    int64_t deadline_ns;
    int deadline_ms;
    bool over; /* budget or deadline exceeded in the current call */
    bool in_call;
};

/* A new sandboxed state: safe libraries only, undeclared globals are
 * errors once sandbox_lock_globals() is called. b must outlive it. */
lua_State *sandbox_new(struct lua_budget *b);
void sandbox_lock_globals(lua_State *L);
struct lua_budget *sandbox_budget(lua_State *L);

/* Loads text-only source and runs it, or calls the function below nargs
 * arguments on the stack, under the budget. On error the message is in eb
 * and nothing is left on the stack. */
enum sb_err sandbox_run(lua_State *L, const char *chunk, size_t len, const char *name,
                        struct sb_errbuf *eb);
enum sb_err sandbox_call(lua_State *L, int nargs, int nresults, struct sb_errbuf *eb);

/* The count hook's period: instructions between two budget checks. */
#define SANDBOX_HOOK_EVERY 1000
/* What creating a coroutine costs: one period, the most a thread can run
 * uncounted (between its last hook and its end). */
#define SANDBOX_COROUTINE_COST SANDBOX_HOOK_EVERY

/* Charges n instruction-units to the current call of L's plugin (any of
 * its threads) and checks the deadline; true once the call is over budget
 * (then it stays over until the call ends). */
bool sandbox_charge(lua_State *L, uint64_t n);
/* Adds n (small: under a hook period) without checking, so without
 * reading the clock; the next hook or sandbox_charge() checks it. */
void sandbox_charge_later(lua_State *L, uint64_t n);
/* Raises the budget error in L (for l_ functions). */
int sandbox_raise_timeout(lua_State *L);
/* Arms the budget hook on a new thread; re-arms a thread to fire on every
 * instruction when the call is over budget (before it runs again). */
void sandbox_arm_thread(lua_State *co);
void sandbox_rearm(lua_State *co);

/* ------- Interface to code in lua_coroutine.c ------- */

/* Opens the coroutine library with create/wrap/resume/close that keep
 * every thread of a call on the call's budget. */
void sandbox_open_coroutines(lua_State *L);

/* ------- Interface to code in lua_strlib.c ------- */

/* Replaces string.find/match/gmatch/gsub with versions on a step-counted
 * matcher charged to the call's budget (lua_pattern.h). */
void sandbox_open_patterns(lua_State *L);

/* ------- Interface to code in lua_crypto.c ------- */

/* Sets sb.crypto (hashes, HMACs, constant-time compare, hex, base64,
 * random bytes; charged to the call's budget) on the table at the top. */
void lua_crypto_open(lua_State *L);

/* ------- Interface to code in lua_settings.c ------- */

/* A channel's settings: reads spec.settings (the schema, in the sb.channel
 * table at spec_idx) and the channel's entry in cfg->channels (borrowed),
 * with SWITCHBOARD_CHANNEL_<CHANNEL>_<KEY> environment overrides; checks
 * them (unknown keys, types, required, one_of, min/max) and sets the
 * state's sb.config to a read-only table with the defaults filled in.
 * *active: the channel has an entry in "channels" (an inactive channel
 * gets its defaults and nothing is required). *public_view (NULL: not
 * wanted) is a new object {key: value} with every secret as "set" or null.
 * Remembers the secrets for lua_settings_scrub() and the view for
 * lua_settings_view(). SB_ERR_INVAL with a message naming the channel and
 * the key, never a secret's value. */
enum sb_err lua_settings_apply(lua_State *L, int spec_idx, const char *channel,
                               const struct sb_config *cfg, bool *active, json_t **public_view,
                               struct sb_errbuf *eb);

/* Replaces every secret value (4 bytes or longer) of L's channel settings
 * in msg (NUL-terminated, cap bytes) by "[secret]", and a secret's start
 * of 4 bytes or more cut off at the end of a full buffer. Never raises,
 * never allocates: for log lines and error messages of the plugin. */
void lua_settings_scrub(lua_State *L, char *msg, size_t cap);

/* What lua_settings_apply() recorded for channel in L: a new object
 * {"active": bool, "settings": public view}, or NULL when it never ran. */
json_t *lua_settings_view(lua_State *L, const char *channel);

/* ------- Interface to code in lua_api.c ------- */

/* Installs the sb table into L for plugin p. */
void lua_api_install(lua_State *L, struct sb_host *h, struct sb_plugin *p);

/* Pushes v as a Lua value / converts the value at idx to JSON (NULL and a
 * message in eb when it cannot be represented). */
void lua_api_push_json(lua_State *L, json_t *v, int depth);
json_t *lua_api_to_json(lua_State *L, int idx, int depth, struct sb_errbuf *eb);

/* Pushes a ctx userdata for turn t; lua_api_ctx_close() invalidates it so a
 * plugin that keeps ctx cannot act on a later turn. */
void lua_api_push_ctx(lua_State *L, struct sb_host *h, struct sb_turn *t, const char *intent,
                      json_t *captures);
void lua_api_ctx_close(lua_State *L, int idx);

/* ------- Interface to code in lua_host.c, for lua_api.c ------- */

const struct sb_host_deps *host_deps(struct sb_host *h);
/* The turn being run by sb_host_run_intents, or NULL outside one. */
struct sb_turn *host_turn(struct sb_host *h);
const char *plugin_name(struct sb_plugin *p);
lua_State *plugin_state(struct sb_plugin *p);
/* Before a plugin call's first write: opens its store savepoint (and
 * those of the calls around it), so a failed call's writes are undone. */
enum sb_err host_store_write(struct sb_host *h, struct sb_errbuf *eb);
/* sb.store.set for plugin p, within its plugin_store_quota (SB_ERR_LIMIT
 * with the figures in eb when over). value NULL deletes key. */
enum sb_err host_store_set(struct sb_host *h, struct sb_plugin *p, const char *key,
                           const char *value, size_t len, struct sb_errbuf *eb);
/* Registration while a plugin's body loads; the function is at fn_idx. */
enum sb_err host_add_intent(struct sb_host *h, struct sb_plugin *p, lua_State *L, int spec_idx,
                            struct sb_errbuf *eb);
enum sb_err host_add_hook(struct sb_host *h, struct sb_plugin *p, lua_State *L, int spec_idx,
                          struct sb_errbuf *eb);
enum sb_err host_add_channel(struct sb_host *h, struct sb_plugin *p, lua_State *L, int spec_idx,
                             struct sb_errbuf *eb);

#endif
