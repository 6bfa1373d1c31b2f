/*
 * lua_channel.h - private to core/lua/: what a channel plugin declares
 * with sb.channel{} (its routes, deliver, poll, commands, settings) and the
 * sb.accept / sb.status calls by which it hands the core what a provider
 * sent (lua_channel.c). The host keeps the declarations (lua_host.c) and
 * drops them with the plugin.
 */
#ifndef LUA_CHANNEL_H
#define LUA_CHANNEL_H

#include <stdbool.h>

#include <jansson.h>
#include <lua.h>

#include "lua_host.h"

#define CHANNEL_MAX_ROUTES 8
#define CHANNEL_MAX_COMMANDS 8

struct channel_route {
    char method[8];
    char path[64]; /* below /channels/<name>/ */
    int ref;
};

struct channel_command {
    char name[32];
    int ref;
};

struct channel {
    struct sb_plugin *plugin;
    char name[32];
    int inbound_ref; /* the web channel's normaliser; LUA_NOREF for others */
    int deliver_ref;
    int poll_ref; /* LUA_NOREF: the channel does not poll */
    int window_s; /* free-form replies only this long after the customer wrote; 0: always */
    bool active;  /* configured (or nothing to configure): routes, deliveries, polls run */
    struct channel_route routes[CHANNEL_MAX_ROUTES];
    int nroutes;
    struct channel_command commands[CHANNEL_MAX_COMMANDS];
    int ncommands;
    json_t *settings_view; /* the settings with secrets as "set" (owned), or NULL */
};

/* Reads the sb.channel{} spec at index spec of plugin p's state into ch
 * (name already set): functions, routes, commands, window, settings. On
 * error nothing is kept. */
enum sb_err channel_read(struct sb_host *h, struct sb_plugin *p, lua_State *L, int spec,
                         struct channel *ch, struct sb_errbuf *eb);
/* Releases what channel_read kept (the state may be closed after). */
void channel_forget(struct channel *ch);

/* ------- Interface to code in lua_async.c ------- */

enum sb_err host_call_async(struct sb_host *h, struct sb_plugin *p, int fn_ref, json_t *arg,
                            sb_host_done done, void *done_arg);

/* Installs sb.accept and sb.status into the sb table at the top of L. */
void lua_channel_api_install(lua_State *L, struct sb_host *h, struct sb_plugin *p);

/* ------- Interface to code in lua_host.c, for lua_channel.c ------- */

/* The i-th channel (0..), NULL past the last. */
const struct channel *host_channel_at(struct sb_host *h, int i);
/* The channel named name, or the one plugin p provides; NULL when none. */
struct channel *host_channel_named(struct sb_host *h, const char *name);
struct channel *host_channel_of(struct sb_host *h, struct sb_plugin *p);
/* The core's side of sb.accept / sb.status (sb_host_set_channel_ops). */
const struct sb_channel_ops *host_channel_ops(struct sb_host *h);

#endif
