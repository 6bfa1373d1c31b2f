/*
 * lua_settings.c - a channel plugin's settings: the schema it declares in
 * sb.channel{settings = {...}}, checked at load against the channel's
 * entry in the config file's "channels" object and the environment; the
 * read-only sb.config the plugin reads them from; and its secrets, which
 * never reach a log line or an API answer.
 *
 *   settings = {
 *     bot_token = { type = "string", required = true, secret = true },
 *     mode      = { type = "string", default = "webhook", one_of = {"webhook", "poll"} },
 *     max_attempts = { type = "integer", default = 20, min = 1, max = 100 },
 *   }
 *
 * Types: string, integer, number, boolean, array, object. A channel with
 * no entry in "channels" is not active: it gets its defaults and nothing
 * is required. SWITCHBOARD_CHANNEL_<CHANNEL>_<KEY> overrides the file for
 * an active channel, so a token need not sit in a file (a string as is,
 * the other types as JSON text).
 *
 * What the host needs later lives in the plugin state's registry, under
 * light-userdata keys (a lookup that never allocates): the secret values,
 * for lua_settings_scrub(), and each channel's public view, for
 * sb_host_channels_json().
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_host.h"

#define MAX_SETTINGS 64
#define MAX_KEY 63
#define MIN_SECRET 4 /* shorter values would scrub ordinary words */
#define SCRUBBED "[secret]"

static char secrets_key; /* registry: array of secret strings */
static char views_key;   /* registry: {channel = JSON text of {active, settings}} */

enum setting_type { T_STRING, T_INTEGER, T_NUMBER, T_BOOLEAN, T_ARRAY, T_OBJECT };

static const char *const type_names[] = {"string",  "integer", "number",
                                         "boolean", "array",   "object"};
static const char *const type_articles[] = {"a string",  "an integer", "a number",
                                            "a boolean", "an array",   "an object"};

/* One declared setting, read from the plugin's schema. */
struct setting {
    char key[MAX_KEY + 1];
    enum setting_type type;
    bool required, secret, has_min, has_max;
    double min, max;
    json_t *def;    /* owned, NULL: no default */
    json_t *one_of; /* owned array, NULL: any value */
};

struct schema {
    struct setting s[MAX_SETTINGS];
    int n;
};

static void schema_cleanup(struct schema *sc)
{
    for (int i = 0; i < sc->n; i++) {
        json_decref(sc->s[i].def);
        json_decref(sc->s[i].one_of);
    }
    sc->n = 0;
}

static bool key_valid(const char *k, size_t len)
{
    if (len == 0 || len > MAX_KEY) return false;
    for (size_t i = 0; i < len; i++)
        if (!(islower((unsigned char)k[i]) || isdigit((unsigned char)k[i]) || k[i] == '_'))
            return false;
    return true;
}

static bool type_fits(enum setting_type t, json_t *v)
{
    switch (t) {
    case T_STRING:
        return json_is_string(v);
    case T_INTEGER:
        return json_is_integer(v);
    case T_NUMBER:
        return json_is_number(v);
    case T_BOOLEAN:
        return json_is_boolean(v);
    case T_ARRAY:
        return json_is_array(v);
    case T_OBJECT:
        return json_is_object(v);
    }
    return false;
}

/* ---------- the schema ---------- */

/* Reads one field of a setting's table (value at -1, name at -2). */
static enum sb_err read_field(lua_State *L, const char *channel, struct setting *st,
                              const char *field, struct sb_errbuf *eb)
{
    struct sb_errbuf why = {{0}};
    int t = lua_type(L, -1);

    if (strcmp(field, "type") == 0) {
        const char *name = lua_tostring(L, -1);
        for (size_t i = 0; name && t == LUA_TSTRING && i < SB_ARRAY_LEN(type_names); i++)
            if (strcmp(name, type_names[i]) == 0) {
                st->type = (enum setting_type)i;
                return SB_OK;
            }
        return sb_fail(eb, SB_ERR_INVAL,
                       "channel %s: settings.%s.type must be string, integer, number, boolean, "
                       "array or object",
                       channel, st->key);
    }
    if (strcmp(field, "required") == 0 || strcmp(field, "secret") == 0) {
        if (t != LUA_TBOOLEAN)
            return sb_fail(eb, SB_ERR_INVAL, "channel %s: settings.%s.%s must be a boolean",
                           channel, st->key, field);
        *(field[0] == 'r' ? &st->required : &st->secret) = lua_toboolean(L, -1);
        return SB_OK;
    }
    if (strcmp(field, "min") == 0 || strcmp(field, "max") == 0) {
        if (t != LUA_TNUMBER)
            return sb_fail(eb, SB_ERR_INVAL, "channel %s: settings.%s.%s must be a number", channel,
                           st->key, field);
        if (field[1] == 'i') {
            st->has_min = true;
            st->min = lua_tonumber(L, -1);
        } else {
            st->has_max = true;
            st->max = lua_tonumber(L, -1);
        }
        return SB_OK;
    }
    if (strcmp(field, "default") == 0 || strcmp(field, "one_of") == 0) {
        json_t *v = lua_api_to_json(L, -1, 0, &why);
        if (!v)
            return sb_fail(eb, SB_ERR_INVAL, "channel %s: settings.%s.%s: %s", channel, st->key,
                           field, why.msg);
        if (field[0] == 'd') {
            st->def = v;
        } else if (!json_is_array(v) || json_array_size(v) == 0) {
            json_decref(v);
            return sb_fail(eb, SB_ERR_INVAL, "channel %s: settings.%s.one_of must be a list",
                           channel, st->key);
        } else {
            st->one_of = v;
        }
        return SB_OK;
    }
    if (strcmp(field, "description") == 0) {
        if (t != LUA_TSTRING)
            return sb_fail(eb, SB_ERR_INVAL, "channel %s: settings.%s.description must be a string",
                           channel, st->key);
        return SB_OK;
    }
    return sb_fail(eb, SB_ERR_INVAL,
                   "channel %s: settings.%s has an unknown field '%.32s' (type, required, "
                   "default, secret, one_of, min, max, description)",
                   channel, st->key, field);
}

/* Checks value v (borrowed) of st; where says where it came from. The
 * message names the key, never the value: it may be a secret. */
static enum sb_err check_value(const char *channel, const struct setting *st, json_t *v,
                               const char *where, struct sb_errbuf *eb)
{
    size_t i;
    json_t *x;

    if (!type_fits(st->type, v))
        return sb_fail(eb, SB_ERR_INVAL, "channel %s: setting %s must be %s (%s)", channel, st->key,
                       type_articles[st->type], where);
    if (json_is_number(v)) {
        double d = json_number_value(v);
        if ((st->has_min && d < st->min) || (st->has_max && d > st->max)) {
            if (st->has_min && st->has_max)
                return sb_fail(eb, SB_ERR_INVAL, "channel %s: setting %s must be %g..%g (%s)",
                               channel, st->key, st->min, st->max, where);
            return sb_fail(eb, SB_ERR_INVAL, "channel %s: setting %s must be at %s %g (%s)",
                           channel, st->key, st->has_min ? "least" : "most",
                           st->has_min ? st->min : st->max, where);
        }
    }
    if (st->one_of) {
        char list[128] = "";
        size_t n = 0;
        json_array_foreach(st->one_of, i, x)
        {
            if (json_equal(x, v)) return SB_OK;
        }
        /* The choices are the plugin's words, safe to show. */
        json_array_foreach(st->one_of, i, x)
        {
            char *t = json_dumps(x, JSON_ENCODE_ANY | JSON_COMPACT);
            if (t && n < sizeof(list))
                n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", t);
            free(t);
        }
        return sb_fail(eb, SB_ERR_INVAL, "channel %s: setting %s must be one of %s (%s)", channel,
                       st->key, list, where);
    }
    return SB_OK;
}

/* Reads the setting whose table is at -1 and whose key is at -2. */
static enum sb_err read_setting(lua_State *L, const char *channel, struct setting *st,
                                struct sb_errbuf *eb)
{
    enum sb_err rc = SB_OK;
    bool typed = false;
    int tbl = lua_gettop(L);

    if (!lua_istable(L, tbl))
        return sb_fail(eb, SB_ERR_INVAL, "channel %s: settings.%s must be a table", channel,
                       st->key);
    lua_pushnil(L);
    while (!rc && lua_next(L, tbl)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            rc = sb_fail(eb, SB_ERR_INVAL, "channel %s: settings.%s has a field that is not a name",
                         channel, st->key);
        } else {
            const char *field = lua_tostring(L, -2);
            typed |= strcmp(field, "type") == 0;
            rc = read_field(L, channel, st, field, eb);
        }
        lua_pop(L, 1);
    }
    lua_settop(L, tbl);
    if (rc) return rc;
    if (!typed)
        return sb_fail(eb, SB_ERR_INVAL, "channel %s: settings.%s needs a type", channel, st->key);
    if ((st->has_min || st->has_max) && st->type != T_INTEGER && st->type != T_NUMBER)
        return sb_fail(eb, SB_ERR_INVAL, "channel %s: settings.%s: min/max are for numbers",
                       channel, st->key);
    if (st->one_of) {
        size_t i;
        json_t *x;
        json_array_foreach(st->one_of, i, x)
        {
            if (!type_fits(st->type, x))
                return sb_fail(eb, SB_ERR_INVAL, "channel %s: settings.%s.one_of[%zu] must be %s",
                               channel, st->key, i + 1, type_articles[st->type]);
        }
    }
    if (st->def) return check_value(channel, st, st->def, "its default", eb);
    return SB_OK;
}

/* Reads spec.settings into sc (nil: no settings). */
static enum sb_err read_schema(lua_State *L, int spec_idx, const char *channel, struct schema *sc,
                               struct sb_errbuf *eb)
{
    enum sb_err rc = SB_OK;
    int tbl;

    lua_getfield(L, spec_idx, "settings");
    tbl = lua_gettop(L);
    if (lua_isnil(L, tbl)) {
        lua_pop(L, 1);
        return SB_OK;
    }
    if (!lua_istable(L, tbl)) {
        lua_pop(L, 1);
        return sb_fail(eb, SB_ERR_INVAL, "channel %s: settings must be a table", channel);
    }
    lua_pushnil(L);
    while (!rc && lua_next(L, tbl)) {
        size_t len = 0;
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &len) : NULL;
        if (!key || !key_valid(key, len)) {
            rc = sb_fail(eb, SB_ERR_INVAL,
                         "channel %s: settings keys must be names of a-z, 0-9 and _ "
                         "(at most %d bytes)",
                         channel, MAX_KEY);
        } else if (sc->n >= MAX_SETTINGS) {
            rc = sb_fail(eb, SB_ERR_LIMIT, "channel %s: more than %d settings", channel,
                         MAX_SETTINGS);
        } else {
            struct setting *st = &sc->s[sc->n++];
            memset(st, 0, sizeof(*st));
            memcpy(st->key, key, len + 1);
            rc = read_setting(L, channel, st, eb);
        }
        lua_pop(L, 1);
    }
    lua_settop(L, tbl - 1);
    return rc;
}

/* ---------- the values ---------- */

/* SWITCHBOARD_CHANNEL_<CHANNEL>_<KEY>, upper-case, other bytes as '_'. */
static void env_name(const char *channel, const char *key, char *out, size_t cap)
{
    int n = snprintf(out, cap, "SWITCHBOARD_CHANNEL_%s_%s", channel, key);
    for (int i = 0; n > 0 && i < n && (size_t)i < cap - 1; i++) {
        unsigned char c = (unsigned char)out[i];
        out[i] = isalnum(c) ? (char)toupper(c) : '_';
    }
}

/* The value from the environment, or NULL (none, or an error in eb). */
static json_t *env_value(const struct setting *st, const char *channel, const char *name,
                         enum sb_err *rc, struct sb_errbuf *eb)
{
    const char *text = getenv(name);
    json_t *v;

    if (!text) return NULL;
    if (st->type == T_STRING)
        v = json_string(text); /* NULL when not UTF-8 */
    else
        v = json_loads(text, JSON_DECODE_ANY, NULL);
    if (!v)
        *rc = sb_fail(eb, SB_ERR_INVAL, "channel %s: setting %s must be %s (%s)", channel, st->key,
                      type_articles[st->type], name);
    return v;
}

/* Fills values with every setting that has one (entry: the channel's
 * object from "channels", NULL when not active). */
static enum sb_err collect(const struct schema *sc, const char *channel, json_t *entry,
                           json_t *values, struct sb_errbuf *eb)
{
    const char *key;
    json_t *v;

    /* a typo in the file must not fall back to a default silently */
    json_object_foreach(entry, key, v)
    {
        bool known = false;
        for (int i = 0; i < sc->n && !known; i++)
            known = strcmp(sc->s[i].key, key) == 0;
        if (!known)
            return sb_fail(eb, SB_ERR_INVAL, "channel %s: unknown setting '%.64s' in \"channels\"",
                           channel, key);
    }
    for (int i = 0; i < sc->n; i++) {
        const struct setting *st = &sc->s[i];
        char name[160], where[200];
        enum sb_err rc = SB_OK;

        env_name(channel, st->key, name, sizeof(name));
        v = entry ? env_value(st, channel, name, &rc, eb) : NULL;
        if (rc) return rc;
        if (v) {
            snprintf(where, sizeof(where), "%s", name);
        } else if ((v = json_object_get(entry, st->key))) {
            json_incref(v);
            snprintf(where, sizeof(where), "\"channels\".\"%s\"", channel);
        } else if (st->def) {
            v = json_incref(st->def);
            snprintf(where, sizeof(where), "its default");
        } else if (entry && st->required) {
            return sb_fail(eb, SB_ERR_INVAL,
                           "channel %s: setting %s is required (\"channels\".\"%s\" or %s)",
                           channel, st->key, channel, name);
        } else {
            continue;
        }
        rc = check_value(channel, st, v, where, eb);
        if (rc) {
            json_decref(v);
            return rc;
        }
        json_object_set_new(values, st->key, v);
    }
    return SB_OK;
}

/* ---------- sb.config ---------- */

static int l_readonly(lua_State *L)
{
    return luaL_error(L, "sb.config is read-only");
}

static int l_ro_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, lua_upvalueindex(1)));
    return 1;
}

static int l_ro_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

static int l_ro_pairs(lua_State *L)
{
    lua_pushcfunction(L, l_ro_next);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushnil(L);
    return 3;
}

/* Pushes v as Lua; objects and arrays as read-only proxies of their
 * contents (reads, #, pairs and ipairs work; writes raise). */
static void push_readonly(lua_State *L, json_t *v, int depth)
{
    const char *k;
    size_t i;
    json_t *x;

    if (!json_is_object(v) && !json_is_array(v)) {
        lua_api_push_json(L, v, depth);
        return;
    }
    luaL_checkstack(L, 6, "sb.config too deep");
    lua_newtable(L); /* the proxy */
    lua_newtable(L); /* the contents */
    if (depth < 32) {
        json_object_foreach(v, k, x)
        {
            push_readonly(L, x, depth + 1);
            lua_setfield(L, -2, k);
        }
        json_array_foreach(v, i, x)
        {
            push_readonly(L, x, depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
    }
    lua_createtable(L, 0, 5); /* its metatable */
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_readonly);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, l_ro_len, 1);
    lua_setfield(L, -2, "__len");
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, l_ro_pairs, 1);
    lua_setfield(L, -2, "__pairs");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -3);
    lua_pop(L, 1);
}

/* Sets sb.config (creating sb if a bare state has none), raw: the
 * globals may be locked. */
static void set_config(lua_State *L, json_t *values)
{
    lua_pushglobaltable(L);
    lua_pushliteral(L, "sb");
    if (lua_rawget(L, -2) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushliteral(L, "sb");
        lua_pushvalue(L, -2);
        lua_rawset(L, -4);
    }
    push_readonly(L, values, 0);
    lua_setfield(L, -2, "config");
    lua_pop(L, 2);
}

/* The registry table under key, created on first use. */
static void push_registry_table(lua_State *L, const void *key)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) == LUA_TTABLE) return;
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

static void remember_secrets(lua_State *L, const struct schema *sc, json_t *values)
{
    push_registry_table(L, &secrets_key);
    for (int i = 0; i < sc->n; i++) {
        json_t *v = json_object_get(values, sc->s[i].key);
        if (!sc->s[i].secret || !json_is_string(v) || json_string_length(v) < MIN_SECRET) continue;
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    }
    lua_pop(L, 1);
}

/* {key: value} with every secret "set" or null, and unset keys null. */
static json_t *public_of(const struct schema *sc, json_t *values)
{
    json_t *out = json_object();
    for (int i = 0; out && i < sc->n; i++) {
        json_t *v = json_object_get(values, sc->s[i].key);
        if (!v)
            v = json_null();
        else if (sc->s[i].secret)
            v = json_string("set");
        else
            v = json_deep_copy(v);
        json_object_set_new(out, sc->s[i].key, v);
    }
    return out;
}

static void remember_view(lua_State *L, const char *channel, bool active, json_t *pub)
{
    json_t *view = json_pack("{s:b, s:O}", "active", active, "settings", pub);
    char *text = view ? json_dumps(view, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(view);
    if (!text) return;
    push_registry_table(L, &views_key);
    lua_pushstring(L, text);
    lua_setfield(L, -2, channel);
    lua_pop(L, 1);
    free(text);
}

/* The channel's object in cfg->channels (new reference) or NULL. */
static enum sb_err entry_of(const struct sb_config *cfg, const char *channel, json_t **entry,
                            struct sb_errbuf *eb)
{
    json_t *all;

    *entry = NULL;
    if (!cfg || !cfg->channels[0]) return SB_OK;
    all = json_loads(cfg->channels, 0, NULL);
    if (!json_is_object(all)) {
        json_decref(all);
        return sb_fail(eb, SB_ERR_INVAL, "config channels: not a JSON object");
    }
    *entry = json_incref(json_object_get(all, channel));
    json_decref(all);
    if (*entry && !json_is_object(*entry)) {
        json_decref(*entry);
        *entry = NULL;
        return sb_fail(eb, SB_ERR_INVAL, "config channels: '%s' must be an object", channel);
    }
    return SB_OK;
}

/* One lua_settings_apply(): what it allocates in C, so that it is freed
 * whether the Lua part ends normally or by an error (out of memory, a
 * plugin's __index on its spec table). */
struct apply {
    const char *channel;
    const struct sb_config *cfg;
    struct schema sc;
    json_t *entry, *values, *pub;
    struct sb_errbuf *eb;
    enum sb_err rc;
};

/* The work, in a protected call: arguments the struct apply and the spec. */
static int l_apply(lua_State *L)
{
    struct apply *a = lua_touserdata(L, 1);

    a->rc = read_schema(L, 2, a->channel, &a->sc, a->eb);
    if (!a->rc) a->rc = entry_of(a->cfg, a->channel, &a->entry, a->eb);
    if (!a->rc) a->rc = collect(&a->sc, a->channel, a->entry, a->values, a->eb);
    if (a->rc) return 0;
    a->pub = public_of(&a->sc, a->values);
    if (!a->pub) {
        a->rc = SB_ERR_NOMEM;
        return 0;
    }
    set_config(L, a->values);
    remember_secrets(L, &a->sc, a->values);
    remember_view(L, a->channel, a->entry != NULL, a->pub);
    return 0;
}

enum sb_err lua_settings_apply(lua_State *L, int spec_idx, const char *channel,
                               const struct sb_config *cfg, bool *active, json_t **public_view,
                               struct sb_errbuf *eb)
{
    struct apply *a = calloc(1, sizeof(*a));
    enum sb_err rc;
    int status;

    if (public_view) *public_view = NULL;
    if (!a) return SB_ERR_NOMEM;
    a->channel = channel;
    a->cfg = cfg;
    a->eb = eb;
    a->values = json_object();
    if (!a->values) {
        free(a);
        return SB_ERR_NOMEM;
    }
    spec_idx = lua_absindex(L, spec_idx);
    lua_pushcfunction(L, l_apply); /* light C functions and userdata: no allocation */
    lua_pushlightuserdata(L, a);
    lua_pushvalue(L, spec_idx);
    status = lua_pcall(L, 2, 0, 0);
    rc = a->rc;
    if (status != LUA_OK) {
        rc = status == LUA_ERRMEM
                 ? sb_fail(eb, SB_ERR_NOMEM, "channel %s: out of memory reading settings", channel)
                 : sb_fail(eb, SB_ERR_LUA, "channel %s: settings: %s", channel,
                           lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error");
        lua_pop(L, 1);
    } else if (!rc) {
        *active = a->entry != NULL;
        if (public_view) *public_view = json_incref(a->pub);
    }
    schema_cleanup(&a->sc);
    json_decref(a->entry);
    json_decref(a->values);
    json_decref(a->pub);
    free(a);
    return rc;
}

json_t *lua_settings_view(lua_State *L, const char *channel)
{
    json_t *view = NULL;

    if (!lua_checkstack(L, 3)) return NULL;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &views_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        return NULL;
    }
    /* a walk with strcmp, not lua_getfield: that may intern the name,
     * an allocation that could fail outside a protected call */
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (!view && lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), channel) == 0)
            view = json_loads(lua_tostring(L, -1), 0, NULL);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return view;
}

/* ---------- scrubbing ---------- */

static char *find(char *hay, size_t n, const char *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0) return hay + i;
    return NULL;
}

/* Replaces each whole occurrence of secret in msg (len bytes, cap), and
 * returns the new length. The replacement may be longer than a short
 * secret: what no longer fits is cut, never the other way round. */
static size_t replace_all(char *msg, size_t len, size_t cap, const char *secret, size_t slen)
{
    const size_t rlen = sizeof(SCRUBBED) - 1;
    size_t at = 0;

    while (at + slen <= len) {
        char *hit = find(msg + at, len - at, secret, slen);
        size_t pos, tail, keep;
        if (!hit) break;
        pos = (size_t)(hit - msg);
        tail = len - pos - slen;
        if (pos + rlen >= cap) { /* only part of the marker fits */
            memcpy(msg + pos, SCRUBBED, cap - 1 - pos);
            len = cap - 1;
            break;
        }
        keep = pos + rlen + tail < cap ? tail : cap - 1 - pos - rlen;
        memmove(msg + pos + rlen, hit + slen, keep);
        memcpy(msg + pos, SCRUBBED, rlen);
        len = pos + rlen + keep;
        at = pos + rlen;
    }
    msg[len] = '\0';
    return len;
}

/* A full buffer may have been cut inside a secret: a start of one (4
 * bytes or more) at the very end goes too. */
static size_t cut_tail(char *msg, size_t len, size_t cap, const char *secret, size_t slen)
{
    for (size_t k = slen - 1 < len ? slen - 1 : len; k >= MIN_SECRET; k--) {
        if (memcmp(msg + len - k, secret, k) == 0) {
            size_t pos = len - k;
            snprintf(msg + pos, cap - pos, "%s", SCRUBBED);
            return strlen(msg);
        }
    }
    return len;
}

/* Calls f for each remembered secret of L (on its stack: the table). */
static size_t each_secret(lua_State *L, char *msg, size_t len, size_t cap,
                          size_t (*f)(char *, size_t, size_t, const char *, size_t))
{
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
        size_t slen;
        const char *s;
        lua_rawgeti(L, -1, i);
        s = lua_tolstring(L, -1, &slen); /* a string already: no conversion */
        if (s && slen >= MIN_SECRET) len = f(msg, len, cap, s, slen);
        lua_pop(L, 1);
    }
    return len;
}

void lua_settings_scrub(lua_State *L, char *msg, size_t cap)
{
    size_t len;
    bool full;

    if (!msg || cap == 0) return;
    len = strnlen(msg, cap - 1);
    msg[len] = '\0';
    full = len == cap - 1;
    if (!lua_checkstack(L, 2)) {
        /* cannot look: hide it rather than risk a secret */
        snprintf(msg, cap, "(message hidden: its secrets could not be checked)");
        return;
    }
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &secrets_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    len = each_secret(L, msg, len, cap, replace_all);
    /* cut before (by the caller's buffer) or now (a longer marker) */
    if (full || len == cap - 1) each_secret(L, msg, len, cap, cut_tail);
    lua_pop(L, 1);
}
