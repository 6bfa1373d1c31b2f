/*
 * lua_channel.c - the channel seam on the Lua side: reading what
 * sb.channel{} declares (routes, deliver, poll, commands, window,
 * settings), calling those functions as calls that may wait
 * (lua_async.c), and sb.accept / sb.status, which hand the core what a
 * provider sent. The core's side of those two is struct sb_channel_ops,
 * given by the server (core/channels/), so this layer does not know it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_channel.h"
#include "sb_log.h"

/* ---------- reading the spec ---------- */

static enum sb_err ref_function(lua_State *L, int spec, const char *key, bool required, int *ref,
                                struct sb_errbuf *eb)
{
    *ref = LUA_NOREF;
    lua_getfield(L, spec, key);
    if (lua_isnil(L, -1) && !required) {
        lua_pop(L, 1);
        return SB_OK;
    }
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1);
        return sb_fail(eb, SB_ERR_INVAL, "%s must be a function", key);
    }
    *ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return SB_OK;
}

static bool path_ok(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

/* routes = {{method=, path=, handler=}, ...} */
static enum sb_err read_routes(lua_State *L, int spec, struct channel *ch, struct sb_errbuf *eb)
{
    enum sb_err rc = SB_OK;
    lua_Integer n;

    lua_getfield(L, spec, "routes");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return SB_OK;
    }
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return sb_fail(eb, SB_ERR_INVAL, "routes must be a list of {method, path, handler}");
    }
    n = luaL_len(L, -1);
    for (lua_Integer i = 1; !rc && i <= n; i++) {
        struct channel_route *r = &ch->routes[ch->nroutes];
        const char *method, *path;
        if (ch->nroutes >= CHANNEL_MAX_ROUTES) {
            rc = sb_fail(eb, SB_ERR_LIMIT, "at most %d routes", CHANNEL_MAX_ROUTES);
            break;
        }
        lua_rawgeti(L, -1, i);
        if (!lua_istable(L, -1)) {
            lua_pop(L, 1);
            rc = sb_fail(eb, SB_ERR_INVAL, "routes[%lld] must be a table", (long long)i);
            break;
        }
        lua_getfield(L, -1, "method");
        lua_getfield(L, -2, "path");
        method = lua_tostring(L, -2);
        path = lua_tostring(L, -1);
        if (!method || (strcmp(method, "GET") && strcmp(method, "POST")))
            rc = sb_fail(eb, SB_ERR_INVAL, "routes[%lld].method must be GET or POST", (long long)i);
        else if (!path || strlen(path) >= sizeof(r->path) || !path_ok(path))
            rc = sb_fail(eb, SB_ERR_INVAL,
                         "routes[%lld].path must be one segment of letters, digits, - _ .",
                         (long long)i);
        if (!rc) {
            snprintf(r->method, sizeof(r->method), "%s", method);
            snprintf(r->path, sizeof(r->path), "%s", path);
        }
        lua_pop(L, 2);
        if (!rc) rc = ref_function(L, lua_gettop(L), "handler", true, &r->ref, eb);
        if (!rc) ch->nroutes++;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return rc;
}

/* commands = {["set-webhook"] = function(args) ... end} */
static enum sb_err read_commands(lua_State *L, int spec, struct channel *ch, struct sb_errbuf *eb)
{
    enum sb_err rc = SB_OK;
    lua_getfield(L, spec, "commands");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return SB_OK;
    }
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return sb_fail(eb, SB_ERR_INVAL, "commands must map names to functions");
    }
    lua_pushnil(L);
    while (!rc && lua_next(L, -2)) {
        struct channel_command *c = &ch->commands[ch->ncommands];
        if (ch->ncommands >= CHANNEL_MAX_COMMANDS)
            rc = sb_fail(eb, SB_ERR_LIMIT, "at most %d commands", CHANNEL_MAX_COMMANDS);
        else if (lua_type(L, -2) != LUA_TSTRING || !lua_isfunction(L, -1) ||
                 lua_rawlen(L, -2) >= sizeof(c->name))
            rc = sb_fail(eb, SB_ERR_INVAL, "commands must map names (< 32 bytes) to functions");
        if (rc) {
            lua_pop(L, 2);
            break;
        }
        snprintf(c->name, sizeof(c->name), "%s", lua_tostring(L, -2));
        c->ref = luaL_ref(L, LUA_REGISTRYINDEX); /* pops the function */
        ch->ncommands++;
    }
    lua_pop(L, 1);
    return rc;
}

static void unref_all(lua_State *L, struct channel *ch)
{
    luaL_unref(L, LUA_REGISTRYINDEX, ch->inbound_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, ch->deliver_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, ch->poll_ref);
    for (int i = 0; i < ch->nroutes; i++)
        luaL_unref(L, LUA_REGISTRYINDEX, ch->routes[i].ref);
    for (int i = 0; i < ch->ncommands; i++)
        luaL_unref(L, LUA_REGISTRYINDEX, ch->commands[i].ref);
    ch->nroutes = ch->ncommands = 0;
    ch->inbound_ref = ch->deliver_ref = ch->poll_ref = LUA_NOREF;
}

enum sb_err channel_read(struct sb_host *h, struct sb_plugin *p, lua_State *L, int spec,
                         struct channel *ch, struct sb_errbuf *eb)
{
    enum sb_err rc;
    bool has_settings;

    ch->plugin = p;
    ch->inbound_ref = ch->deliver_ref = ch->poll_ref = LUA_NOREF;
    rc = ref_function(L, spec, "inbound", false, &ch->inbound_ref, eb);
    if (!rc) rc = ref_function(L, spec, "deliver", true, &ch->deliver_ref, eb);
    if (!rc) rc = ref_function(L, spec, "poll", false, &ch->poll_ref, eb);
    if (!rc) rc = read_routes(L, spec, ch, eb);
    if (!rc) rc = read_commands(L, spec, ch, eb);
    if (!rc) {
        lua_getfield(L, spec, "window_s");
        if (!lua_isnil(L, -1) && (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0 ||
                                  lua_tointeger(L, -1) > 30 * 86400))
            rc = sb_fail(eb, SB_ERR_INVAL, "window_s must be a number of seconds (0 to 30 days)");
        else
            ch->window_s = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
    }
    if (!rc) {
        /* A channel with settings runs only once the operator configured
         * it; one with nothing to configure (the web) always runs. */
        lua_getfield(L, spec, "settings");
        has_settings = !lua_isnil(L, -1);
        lua_pop(L, 1);
        ch->active = !has_settings;
        if (has_settings)
            rc = lua_settings_apply(L, spec, ch->name, host_deps(h)->cfg, &ch->active,
                                    &ch->settings_view, eb);
    }
    if (rc) {
        unref_all(L, ch);
        json_decref(ch->settings_view);
        ch->settings_view = NULL;
    }
    return rc;
}

void channel_forget(struct channel *ch)
{
    /* the references die with the state */
    json_decref(ch->settings_view);
    ch->settings_view = NULL;
}

/* ---------- calling the channel ---------- */

static const struct channel *active_channel(struct sb_host *h, const char *name)
{
    const struct channel *ch = host_channel_named(h, name);
    return ch && ch->active ? ch : NULL;
}

enum sb_err sb_host_channel_route(struct sb_host *h, const char *channel, const char *method,
                                  const char *path, json_t *req, sb_host_done done, void *arg)
{
    const struct channel *ch = active_channel(h, channel);
    for (int i = 0; ch && i < ch->nroutes; i++)
        if (strcmp(ch->routes[i].method, method) == 0 && strcmp(ch->routes[i].path, path) == 0)
            return host_call_async(h, ch->plugin, ch->routes[i].ref, req, done, arg);
    return SB_ERR_NOT_FOUND;
}

bool sb_host_channel_has_path(struct sb_host *h, const char *channel, const char *path)
{
    const struct channel *ch = active_channel(h, channel);
    for (int i = 0; ch && i < ch->nroutes; i++)
        if (strcmp(ch->routes[i].path, path) == 0) return true;
    return false;
}

enum sb_err sb_host_channel_deliver(struct sb_host *h, const char *channel, json_t *msg,
                                    sb_host_done done, void *arg)
{
    const struct channel *ch = active_channel(h, channel);
    if (!ch) return SB_ERR_NOT_FOUND;
    return host_call_async(h, ch->plugin, ch->deliver_ref, msg, done, arg);
}

enum sb_err sb_host_channel_poll(struct sb_host *h, const char *channel, sb_host_done done,
                                 void *arg)
{
    const struct channel *ch = active_channel(h, channel);
    json_t *none;
    enum sb_err rc;
    if (!ch || ch->poll_ref == LUA_NOREF) return SB_ERR_NOT_FOUND;
    none = json_object();
    rc = host_call_async(h, ch->plugin, ch->poll_ref, none, done, arg);
    json_decref(none);
    return rc;
}

enum sb_err sb_host_channel_command(struct sb_host *h, const char *channel, const char *command,
                                    json_t *args, sb_host_done done, void *arg)
{
    const struct channel *ch = host_channel_named(h, channel);
    for (int i = 0; ch && i < ch->ncommands; i++)
        if (strcmp(ch->commands[i].name, command) == 0)
            return host_call_async(h, ch->plugin, ch->commands[i].ref, args, done, arg);
    return SB_ERR_NOT_FOUND;
}

int sb_host_channel_names(struct sb_host *h, const char **names, int max, bool pollers_only)
{
    int n = 0;
    for (int i = 0; n < max; i++) {
        const struct channel *ch = host_channel_at(h, i);
        if (!ch) break;
        if (!ch->active || (pollers_only && ch->poll_ref == LUA_NOREF)) continue;
        names[n++] = ch->name;
    }
    return n;
}

void sb_host_channel_scrub(struct sb_host *h, const char *channel, char *msg, size_t cap)
{
    const struct channel *ch = host_channel_named(h, channel);
    if (ch) lua_settings_scrub(plugin_state(ch->plugin), msg, cap);
}

int sb_host_channel_window_s(struct sb_host *h, const char *channel)
{
    const struct channel *ch = host_channel_named(h, channel);
    return ch ? ch->window_s : 0;
}

json_t *sb_host_channels_json(struct sb_host *h)
{
    json_t *arr = json_array();
    for (int i = 0;; i++) {
        const struct channel *ch = host_channel_at(h, i);
        if (!ch) break;
        json_t *view = ch->settings_view ? json_incref(ch->settings_view) : json_object();
        json_array_append_new(arr, json_pack("{s:s, s:b, s:o}", "name", ch->name, "active",
                                             ch->active, "settings", view));
    }
    return arr;
}

/* ---------- sb.accept and sb.status ---------- */

static struct sb_host *host_up(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

static struct sb_plugin *plugin_up(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(2));
}

/* attachments = {{name=, content_type=, data=<bytes>}, ...}: the data may
 * be any bytes, so it is read here rather than by lua_api_to_json. */
static json_t *attachments_json(lua_State *L, int idx, struct sb_errbuf *eb)
{
    json_t *arr = json_array();
    lua_Integer n = luaL_len(L, idx);
    for (lua_Integer i = 1; i <= n; i++) {
        const char *name, *type, *data;
        size_t len = 0;
        lua_rawgeti(L, idx, i);
        if (!lua_istable(L, -1)) {
            lua_pop(L, 1);
            json_decref(arr);
            sb_fail(eb, SB_ERR_INVAL, "attachments[%lld] must be a table", (long long)i);
            return NULL;
        }
        lua_getfield(L, -1, "name");
        lua_getfield(L, -2, "content_type");
        lua_getfield(L, -3, "data");
        name = lua_type(L, -3) == LUA_TSTRING ? lua_tostring(L, -3) : "attachment";
        type = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        data = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (!type || !data) {
            lua_pop(L, 4);
            json_decref(arr);
            sb_fail(eb, SB_ERR_INVAL, "attachments[%lld] needs content_type and data",
                    (long long)i);
            return NULL;
        }
        json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "name", name, "content_type", type,
                                             "data", json_stringn_nocheck(data, len)));
        lua_pop(L, 4);
    }
    return arr;
}

/* The message table at index 1 as JSON, attachments' bytes kept. */
static json_t *accept_json(lua_State *L, struct sb_errbuf *eb)
{
    json_t *msg = json_object();
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        json_t *v;
        if (!key) {
            lua_pop(L, 2);
            json_decref(msg);
            sb_fail(eb, SB_ERR_INVAL, "keys must be strings");
            return NULL;
        }
        if (strcmp(key, "attachments") == 0 && lua_istable(L, -1))
            v = attachments_json(L, lua_gettop(L), eb);
        else
            v = lua_api_to_json(L, -1, 1, eb);
        lua_pop(L, 1);
        if (!v) {
            lua_pop(L, 1);
            json_decref(msg);
            sb_fail(eb, SB_ERR_INVAL, "%s: %s", key, eb->msg);
            return NULL;
        }
        json_object_set_new(msg, key, v);
    }
    return msg;
}

static const struct channel *caller_channel(lua_State *L, const char *fn)
{
    const struct channel *ch = host_channel_of(host_up(L), plugin_up(L));
    if (!ch) luaL_error(L, "%s: only a channel plugin may call it", fn);
    return ch;
}

/* local id, dup = sb.accept{from=, provider_id=, text=, ...} */
static int l_accept(lua_State *L)
{
    struct sb_host *h = host_up(L);
    const struct sb_channel_ops *ops = host_channel_ops(h);
    const struct channel *ch = caller_channel(L, "sb.accept");
    struct sb_errbuf eb = {{0}};
    int64_t id = 0;
    bool dup = false;
    enum sb_err rc;
    json_t *msg;

    luaL_checktype(L, 1, LUA_TTABLE);
    if (!ops || !ops->accept) return luaL_error(L, "sb.accept: the core accepts no messages here");
    msg = accept_json(L, &eb);
    if (!msg) {
        lua_pushnil(L);
        lua_pushstring(L, eb.msg);
        return 2;
    }
    rc = host_store_write(h, &eb);
    if (!rc) rc = ops->accept(ops->arg, ch->name, msg, &id, &dup, &eb);
    json_decref(msg);
    if (rc) {
        lua_pushnil(L);
        lua_pushstring(L, eb.msg[0] ? eb.msg : sb_strerror(rc));
        return 2;
    }
    lua_pushinteger(L, id);
    lua_pushboolean(L, dup);
    return 2;
}

/* sb.status{provider_id=, status="delivered"|"read"|"failed", reason=} */
static int l_status(lua_State *L)
{
    struct sb_host *h = host_up(L);
    const struct sb_channel_ops *ops = host_channel_ops(h);
    const struct channel *ch = caller_channel(L, "sb.status");
    struct sb_errbuf eb = {{0}};
    bool known = false;
    enum sb_err rc;
    json_t *st;

    luaL_checktype(L, 1, LUA_TTABLE);
    if (!ops || !ops->status) return luaL_error(L, "sb.status: the core takes no receipts here");
    st = lua_api_to_json(L, 1, 0, &eb);
    if (!st) {
        lua_pushnil(L);
        lua_pushstring(L, eb.msg);
        return 2;
    }
    rc = host_store_write(h, &eb);
    if (!rc) rc = ops->status(ops->arg, ch->name, st, &known, &eb);
    json_decref(st);
    if (rc) {
        lua_pushnil(L);
        lua_pushstring(L, eb.msg[0] ? eb.msg : sb_strerror(rc));
        return 2;
    }
    lua_pushboolean(L, known);
    return 1;
}

void lua_channel_api_install(lua_State *L, struct sb_host *h, struct sb_plugin *p)
{
    static const luaL_Reg fns[] = {{"accept", l_accept}, {"status", l_status}, {NULL, NULL}};
    lua_pushlightuserdata(L, h);
    lua_pushlightuserdata(L, p);
    luaL_setfuncs(L, fns, 2);
}

/* TEMPORARY until the async part is merged (issue 16). */
__attribute__((weak)) enum sb_err host_call_async(struct sb_host *h, struct sb_plugin *p,
                                                  int fn_ref, json_t *arg, sb_host_done done,
                                                  void *done_arg)
{
    (void)h, (void)p, (void)fn_ref, (void)arg, (void)done, (void)done_arg;
    return SB_ERR_INVAL;
}
