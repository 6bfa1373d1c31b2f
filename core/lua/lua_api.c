/*
 * lua_api.c - the sb.* API that plugins call, and the ctx object intents
 * act through. Only the l_* functions here raise Lua errors.
 *
 *   sb.intent{...}  sb.channel{...}  sb.hook{...}   declarations (while loading)
 *   sb.re.match/find/test                    PCRE2, cached, match-limited
 *   sb.json.encode/decode, sb.json.null      jansson
 *   sb.kb.search(text, {locale, limit})      knowledge-base search and the
 *                                            engine's decision (sb_kb_decide)
 *   sb.kb.vote(id, helpful) sb.kb.choose(id) the customer's feedback
 *   sb.kb.threshold sb.kb.clarify_threshold sb.kb.choice_floor  the answer policy
 *   sb.store.get/set(key[, value])           per-plugin key/value store, with a
 *                                            quota (host_store_set)
 *   sb.log(level, message)
 *   sb.crypto.*                              lua_crypto.c; sb.config: lua_settings.c
 *   ctx.text ctx.payload ctx.locale ctx.channel ctx.conversation ctx.status
 *   ctx.captures ctx.intent  ctx:reply{} ctx:handoff{} ctx:set(k,v)
 *   ctx:get(k)  ctx:pick{en=..., pt=..., ro=...}  ctx:t(key, {var=...})
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_channel.h"
#include "lua_host.h"
#include "sb_log.h"
#include "sb_util.h"
#include "words.h"

#define MAX_JSON_DEPTH 32
#define MAX_REPLIES 10
#define MAX_REPLY_TEXT 4096
#define MAX_ITEMS 10
#define CTX_META "sb.ctx"

/* The null sentinel: a light userdata with a fixed address. */
static char json_null_marker;

static struct sb_host *host_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

static struct sb_plugin *plugin_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(2));
}

/* ---------- JSON <-> Lua ---------- */

void lua_api_push_json(lua_State *L, json_t *v, int depth)
{
    luaL_checkstack(L, 4, "json too deep");
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        lua_createtable(L, 0, (int)json_object_size(v));
        if (depth >= MAX_JSON_DEPTH) return;
        json_object_foreach(v, k, x)
        {
            lua_api_push_json(L, x, depth + 1);
            lua_setfield(L, -2, k);
        }
        return;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        lua_createtable(L, (int)json_array_size(v), 0);
        if (depth >= MAX_JSON_DEPTH) return;
        json_array_foreach(v, i, x)
        {
            lua_api_push_json(L, x, depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        return;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(v));
        return;
    case JSON_REAL:
        lua_pushnumber(L, json_real_value(v));
        return;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        return;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        return;
    case JSON_NULL:
        lua_pushlightuserdata(L, &json_null_marker);
        return;
    }
    lua_pushnil(L);
}

/* A table is an array when its keys are exactly 1..n; empty tables encode
 * as objects. */
static bool is_array(lua_State *L, int idx, size_t *n)
{
    lua_Integer count = 0;
    *n = (size_t)lua_rawlen(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1)) {
            lua_pop(L, 1);
            return false;
        }
        count++;
    }
    return count > 0 && (size_t)count == *n;
}

json_t *lua_api_to_json(lua_State *L, int idx, int depth, struct sb_errbuf *eb)
{
    idx = lua_absindex(L, idx);
    if (depth > MAX_JSON_DEPTH) {
        sb_fail(eb, SB_ERR_LIMIT, "value nested deeper than %d", MAX_JSON_DEPTH);
        return NULL;
    }
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return json_null();
    case LUA_TBOOLEAN:
        return json_boolean(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) return json_integer((json_int_t)lua_tointeger(L, idx));
        return json_real(lua_tonumber(L, idx));
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (!sb_utf8_valid(s, len)) {
            sb_fail(eb, SB_ERR_INVAL, "string is not valid UTF-8");
            return NULL;
        }
        return json_stringn(s, len);
    }
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == &json_null_marker) return json_null();
        break;
    case LUA_TTABLE: {
        size_t n;
        json_t *out;
        luaL_checkstack(L, 4, "json too deep");
        if (is_array(L, idx, &n)) {
            out = json_array();
            for (size_t i = 1; i <= n; i++) {
                json_t *x;
                lua_rawgeti(L, idx, (lua_Integer)i);
                x = lua_api_to_json(L, -1, depth + 1, eb);
                lua_pop(L, 1);
                if (!x) {
                    json_decref(out);
                    return NULL;
                }
                json_array_append_new(out, x);
            }
            return out;
        }
        out = json_object();
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            json_t *x;
            if (lua_type(L, -2) != LUA_TSTRING) {
                lua_pop(L, 2);
                json_decref(out);
                sb_fail(eb, SB_ERR_INVAL, "object keys must be strings");
                return NULL;
            }
            x = lua_api_to_json(L, -1, depth + 1, eb);
            if (!x) {
                lua_pop(L, 2);
                json_decref(out);
                return NULL;
            }
            json_object_set_new(out, lua_tostring(L, -2), x);
            lua_pop(L, 1);
        }
        return out;
    }
    default:
        break;
    }
    sb_fail(eb, SB_ERR_INVAL, "cannot encode a %s as JSON", luaL_typename(L, idx));
    return NULL;
}

static int l_json_encode(lua_State *L)
{
    struct sb_errbuf eb = {{0}};
    json_t *v;
    char *text;

    luaL_checkany(L, 1);
    v = lua_api_to_json(L, 1, 0, &eb);
    if (!v) return luaL_error(L, "sb.json.encode: %s", eb.msg);
    text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    if (!text) return luaL_error(L, "sb.json.encode: out of memory");
    lua_pushstring(L, text);
    free(text);
    return 1;
}

static int l_json_decode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    json_error_t err;
    json_t *v = json_loadb(s, len, JSON_DECODE_ANY, &err);

    if (!v) {
        lua_pushnil(L);
        lua_pushfstring(L, "invalid JSON at %d: %s", err.position, err.text);
        return 2;
    }
    lua_api_push_json(L, v, 0);
    json_decref(v);
    return 1;
}

/* ---------- sb.re ---------- */

static int re_run(lua_State *L, size_t *from_out, struct sb_re_match *m)
{
    size_t len, plen;
    const char *subject = luaL_checklstring(L, 1, &len);
    const char *pattern = luaL_checklstring(L, 2, &plen);
    const char *flag_text = luaL_optstring(L, 3, "");
    lua_Integer init = luaL_optinteger(L, 4, 1);
    struct sb_errbuf eb = {{0}};
    uint32_t flags;
    pcre2_code *code;
    enum sb_err rc;
    size_t from;

    if (init < 1) init = 1;
    from = (size_t)init - 1;
    if (from > len) {
        m->ncap = 0;
        return 0;
    }
    if (sb_re_flags(flag_text, &flags, &eb)) return luaL_error(L, "sb.re: %s", eb.msg);
    rc = sb_re_get(host_deps(host_of(L))->re, pattern, plen, flags, &code, &eb);
    if (rc) return luaL_error(L, "sb.re: %s", eb.msg);
    rc = sb_re_exec(host_deps(host_of(L))->re, code, subject, len, from, m);
    if (rc == SB_ERR_LIMIT) return luaL_error(L, "sb.re: match limit exceeded");
    if (rc) return luaL_error(L, "sb.re: subject is not valid UTF-8");
    *from_out = from;
    return 0;
}

/* sb.re.match(s, pattern, flags, init) -> whole match, captures... | nil */
static int l_re_match(lua_State *L)
{
    struct sb_re_match m;
    size_t from = 0;
    const char *s = lua_tostring(L, 1);

    re_run(L, &from, &m);
    if (m.ncap == 0) {
        lua_pushnil(L);
        return 1;
    }
    luaL_checkstack(L, m.ncap, "too many captures");
    for (int i = 0; i < m.ncap; i++) {
        if (m.start[i] == SIZE_MAX)
            lua_pushboolean(L, 0);
        else
            lua_pushlstring(L, s + m.start[i], m.end[i] - m.start[i]);
    }
    return m.ncap;
}

/* sb.re.find(s, pattern, flags, init) -> start, end (1-based) | nil */
static int l_re_find(lua_State *L)
{
    struct sb_re_match m;
    size_t from = 0;
    re_run(L, &from, &m);
    if (m.ncap == 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)m.start[0] + 1);
    lua_pushinteger(L, (lua_Integer)m.end[0]);
    return 2;
}

static int l_re_test(lua_State *L)
{
    struct sb_re_match m;
    size_t from = 0;
    re_run(L, &from, &m);
    lua_pushboolean(L, m.ncap > 0);
    return 1;
}

/* ---------- sb.kb ---------- */

static void push_hit(lua_State *L, const struct sb_host_deps *d, const struct sb_kb_hit *h)
{
    lua_createtable(L, 0, 11);
    lua_pushinteger(L, (lua_Integer)h->id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, h->title);
    lua_setfield(L, -2, "title");
    lua_pushstring(L, h->slug);
    lua_setfield(L, -2, "slug");
    lua_pushstring(L, h->locale);
    lua_setfield(L, -2, "locale");
    lua_pushstring(L, h->summary ? h->summary : "");
    lua_setfield(L, -2, "summary");
    lua_pushfstring(L, "%s/help/%s/%s", d->public_url, h->locale, h->slug);
    lua_setfield(L, -2, "url");
    lua_pushnumber(L, h->confidence);
    lua_setfield(L, -2, "confidence");
    lua_pushnumber(L, h->coverage);
    lua_setfield(L, -2, "coverage");
    lua_pushnumber(L, h->bm25);
    lua_setfield(L, -2, "score");
    lua_pushnumber(L, sb_kb_threshold(d->kb, h->id));
    lua_setfield(L, -2, "threshold");
}

/* Remembers what the turn's first search found, so the pipeline can log
 * the question with its outcome. */
static void note_search(struct sb_kb *kb, struct sb_turn *t, const struct sb_kb_result *res)
{
    if (!t || t->kb_searched) return;
    t->kb_searched = true;
    t->kb_hits = res->n;
    t->kb_article_id = res->n ? res->hit[0].id : 0;
    t->kb_confidence = res->n ? res->hit[0].confidence : 0;
    t->kb_threshold = res->n ? sb_kb_threshold(kb, res->hit[0].id) : 1;
}

/* sb.kb.vote(article_id, helpful): the customer's "did this help?" for an
 * article, counted in the editors' helpfulness report. Only inside an
 * intent handler (it needs the conversation). Returns true when stored:
 * false for an article the bot did not answer this conversation with, or
 * a second vote on it (sb_kb_vote). */
static int l_kb_vote(lua_State *L)
{
    const struct sb_host_deps *d = host_deps(host_of(L));
    struct sb_turn *t = host_turn(host_of(L));
    lua_Integer id = luaL_checkinteger(L, 1);
    bool helpful = lua_toboolean(L, 2);
    struct sb_errbuf eb = {{0}};

    if (!t) return luaL_error(L, "sb.kb.vote: only inside an intent handler");
    if (host_store_write(host_of(L), &eb)) return luaL_error(L, "sb.kb.vote: %s", eb.msg);
    lua_pushboolean(L, sb_kb_vote(d->kb, (int64_t)id, "bot", helpful, t->conv->id, NULL) == SB_OK);
    return 1;
}

/* sb.kb.choose(id): the customer chose article id from the choices the
 * bot offered when unsure. Records the choice (the question becomes one
 * answered by that article, see sb_kb_log_choice) and returns the article
 * as a hit without scores ({id, title, slug, locale, summary, url,
 * threshold}), or nil when it is not published. Only inside an intent
 * handler. */
static int l_kb_choose(lua_State *L)
{
    const struct sb_host_deps *d = host_deps(host_of(L));
    struct sb_turn *t = host_turn(host_of(L));
    lua_Integer id = luaL_checkinteger(L, 1);
    struct sb_kb_hit h = {0};
    struct sb_errbuf eb = {{0}};
    json_t *a;

    if (!t) return luaL_error(L, "sb.kb.choose: only inside an intent handler");
    a = sb_kb_article_json(d->kb, (int64_t)id);
    if (!a || strcmp(json_string_value(json_object_get(a, "status")), "published") != 0) {
        json_decref(a);
        lua_pushnil(L);
        return 1;
    }
    h.id = (int64_t)id;
    sb_utf8_copy(h.slug, sizeof(h.slug), json_string_value(json_object_get(a, "slug")));
    sb_utf8_copy(h.locale, sizeof(h.locale), json_string_value(json_object_get(a, "locale")));
    sb_utf8_copy(h.title, sizeof(h.title), json_string_value(json_object_get(a, "title")));
    h.summary = (char *)json_string_value(json_object_get(a, "summary")); /* borrowed from a */
    /* a miss is no error; without a savepoint the choice is not logged,
     * as when the log fails */
    if (host_store_write(host_of(L), &eb) == SB_OK) sb_kb_log_choice(d->kb, t->conv->id, h.id);
    push_hit(L, d, &h);
    json_decref(a);
    return 1;
}

/* sb.kb.search(text, {locale=, limit=}) -> array of hits (best first), the
 * number of search terms the text gave (0: nothing to search for), and the
 * engine's decision on these hits ("answer", "clarify" or "handoff") with
 * how many of the first hits to offer as choices: sb_kb_decide, so the
 * bot and "try a question" can never disagree. */
static int l_kb_search(lua_State *L)
{
    const struct sb_host_deps *d = host_deps(host_of(L));
    const char *text = luaL_checkstring(L, 1);
    const char *locale = d->cfg->default_locale;
    lua_Integer limit = 3;
    struct sb_kb_result res;
    int nchoices = 0;

    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "locale");
        if (lua_isstring(L, -1)) locale = lua_tostring(L, -1);
        lua_getfield(L, 2, "limit");
        if (lua_isinteger(L, -1)) limit = lua_tointeger(L, -1);
        lua_pop(L, 1); /* keep locale string anchored on the stack */
    }
    if (limit < 1 || limit > SB_KB_MAX_HITS) limit = 3;
    /* A failed search is a miss, never a plugin error. */
    sb_kb_search(d->kb, text, locale, (int)limit, &res);
    note_search(d->kb, host_turn(host_of(L)), &res);
    lua_createtable(L, res.n, 0);
    for (int i = 0; i < res.n; i++) {
        push_hit(L, d, &res.hit[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushinteger(L, res.terms);
    lua_pushstring(L, sb_kb_decision_name(sb_kb_decide(d->kb, &res, &nchoices)));
    lua_pushinteger(L, nchoices);
    sb_kb_result_cleanup(&res);
    return 4;
}

/* ---------- sb.store (per plugin) ---------- */

static int l_store_get(lua_State *L)
{
    const char *key = luaL_checkstring(L, 1);
    char *value = NULL;
    size_t len = 0;
    json_t *v;
    enum sb_err rc =
        sb_store_kv_get(host_deps(host_of(L))->store, plugin_name(plugin_of(L)), key, &value, &len);

    if (rc == SB_ERR_NOT_FOUND) {
        lua_pushnil(L);
        return 1;
    }
    if (rc) return luaL_error(L, "sb.store.get: %s", sb_strerror(rc));
    v = json_loadb(value, len, JSON_DECODE_ANY, NULL);
    free(value);
    if (!v) {
        lua_pushnil(L);
        return 1;
    }
    lua_api_push_json(L, v, 0);
    json_decref(v);
    return 1;
}

static int l_store_set(lua_State *L)
{
    const char *key = luaL_checkstring(L, 1);
    struct sb_errbuf eb = {{0}};
    char *text = NULL;
    enum sb_err rc;

    if (!lua_isnoneornil(L, 2)) {
        json_t *v = lua_api_to_json(L, 2, 0, &eb);
        if (!v) return luaL_error(L, "sb.store.set: %s", eb.msg);
        text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(v);
        if (!text) return luaL_error(L, "sb.store.set: out of memory");
        if (strlen(text) > 64 * 1024) {
            free(text);
            return luaL_error(L, "sb.store.set: value larger than 64 KiB");
        }
    }
    rc = host_store_set(host_of(L), plugin_of(L), key, text, text ? strlen(text) : 0, &eb);
    free(text);
    if (rc) return luaL_error(L, "sb.store.set: %s", eb.msg);
    return 0;
}

/* ---------- sb.log ---------- */

static int l_log(lua_State *L)
{
    static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
    int level = luaL_checkoption(L, 1, "info", levels);
    char msg[800]; /* fits a log line after its prefix: nothing cut after the scrub */
    snprintf(msg, sizeof(msg), "%s", luaL_checkstring(L, 2));
    lua_settings_scrub(L, msg, sizeof(msg)); /* never a secret in the log */
    sb_log((enum sb_log_level)level, "plugin %s: %s", plugin_name(plugin_of(L)), msg);
    return 0;
}

/* ---------- declarations ---------- */

static int l_intent(lua_State *L)
{
    struct sb_errbuf eb = {{0}};
    luaL_checktype(L, 1, LUA_TTABLE);
    if (host_add_intent(host_of(L), plugin_of(L), L, 1, &eb))
        return luaL_error(L, "sb.intent: %s", eb.msg);
    return 0;
}

static int l_hook(lua_State *L)
{
    struct sb_errbuf eb = {{0}};
    luaL_checktype(L, 1, LUA_TTABLE);
    if (host_add_hook(host_of(L), plugin_of(L), L, 1, &eb))
        return luaL_error(L, "sb.hook: %s", eb.msg);
    return 0;
}

static int l_channel(lua_State *L)
{
    struct sb_errbuf eb = {{0}};
    luaL_checktype(L, 1, LUA_TTABLE);
    if (host_add_channel(host_of(L), plugin_of(L), L, 1, &eb))
        return luaL_error(L, "sb.channel: %s", eb.msg);
    return 0;
}

/* ---------- ctx ---------- */

struct ctx_ud {
    struct sb_host *host;
    struct sb_turn *turn; /* NULL once the call is over */
    char intent[64];
    int captures_ref;
};

static struct ctx_ud *check_ctx(lua_State *L)
{
    struct ctx_ud *c = luaL_checkudata(L, 1, CTX_META);
    if (!c->turn) luaL_error(L, "ctx used after its turn ended");
    return c;
}

#define PICK_MAX 32 /* locales a ctx:pick table may offer */

/* Picks the entry for the turn's locale from {en=..., pt=..., ["pt-BR"]=...}
 * by the one fallback rule (words.h: exact, language, the language's other
 * locales in name order, en), else any entry. */
static void push_pick(lua_State *L, int tidx, const char *locale)
{
    const char *have[PICK_MAX];
    size_t n = 0, best;

    lua_pushnil(L);
    while (lua_next(L, tidx)) {
        /* string keys stay anchored in the table while it is on the stack */
        if (lua_type(L, -2) == LUA_TSTRING && n < PICK_MAX) have[n++] = lua_tostring(L, -2);
        lua_pop(L, 1);
    }
    if (sb_locale_pick(have, n, locale, NULL, &best)) {
        lua_getfield(L, tidx, have[best]);
        return;
    }
    lua_pushnil(L);
    if (lua_next(L, tidx)) {
        lua_remove(L, -2);
        return;
    }
    lua_pushnil(L);
}

#define T_VARS_MAX 8

/* ctx:t(key [, vars]) -> the catalogue's text (web/locales) for the turn's
 * locale by the fallback rule, with {name} filled from vars (strings or
 * numbers); the key itself when no catalogue has it. */
static int l_ctx_t(lua_State *L)
{
    struct ctx_ud *c = check_ctx(L);
    const char *key = luaL_checkstring(L, 2);
    char names[T_VARS_MAX][32], values[T_VARS_MAX][256], out[MAX_REPLY_TEXT + 1];
    const char *np[T_VARS_MAX], *vp[T_VARS_MAX];
    size_t n = 0;

    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, 3)) {
            int vt = lua_type(L, -1);
            if (lua_type(L, -2) == LUA_TSTRING && (vt == LUA_TSTRING || vt == LUA_TNUMBER) &&
                n < T_VARS_MAX) {
                /* copied: a number's string form lives only on the stack */
                snprintf(names[n], sizeof(names[n]), "%s", lua_tostring(L, -2));
                snprintf(values[n], sizeof(values[n]), "%s", luaL_tolstring(L, -1, NULL));
                lua_pop(L, 1);
                np[n] = names[n];
                vp[n] = values[n];
                n++;
            }
            lua_pop(L, 1);
        }
    }
    lua_pushstring(L, sb_words_format(host_deps(c->host)->words, c->turn->locale, key, np, vp, n,
                                      out, sizeof(out)));
    return 1;
}

static int l_ctx_pick(lua_State *L)
{
    struct ctx_ud *c = check_ctx(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    push_pick(L, 2, c->turn->locale);
    return 1;
}

/* Checks an array of {title=, url=} or {title=, payload=} tables (a plain
 * string is shorthand for a quick reply with title = payload). Raises the
 * Lua error before anything is allocated, so a bad item leaks nothing. */
static void check_items(lua_State *L, int idx, const char *what, const char *k2)
{
    if (lua_isnil(L, idx)) return;
    luaL_checktype(L, idx, LUA_TTABLE);
    for (lua_Integer i = 1; i <= MAX_ITEMS; i++) {
        int t = lua_rawgeti(L, idx, i);
        if (t == LUA_TNIL) {
            lua_pop(L, 1);
            return;
        }
        if (t == LUA_TSTRING && strcmp(k2, "payload") == 0) {
            lua_pop(L, 1);
            continue;
        }
        if (t != LUA_TTABLE) luaL_error(L, "ctx:reply: %s[%d] must be a table", what, (int)i);
        lua_getfield(L, -1, "title");
        lua_getfield(L, -2, k2);
        if (!lua_isstring(L, -2) || !lua_isstring(L, -1))
            luaL_error(L, "ctx:reply: %s[%d] needs title and %s strings", what, (int)i, k2);
        if (strcmp(k2, "url") == 0 && strncmp(lua_tostring(L, -1), "https://", 8) != 0 &&
            strncmp(lua_tostring(L, -1), "http://", 7) != 0)
            luaL_error(L, "ctx:reply: links must be http(s) URLs");
        lua_pop(L, 3);
    }
}

/* Builds the JSON array of items already checked by check_items(). */
static json_t *build_items(lua_State *L, int idx, const char *k2)
{
    json_t *arr = json_array();
    if (lua_isnil(L, idx)) return arr;
    for (lua_Integer i = 1; i <= MAX_ITEMS; i++) {
        int t = lua_rawgeti(L, idx, i);
        if (t == LUA_TNIL) {
            lua_pop(L, 1);
            break;
        }
        if (t == LUA_TSTRING) {
            json_array_append_new(arr, json_pack("{s:s, s:s}", "title", lua_tostring(L, -1), k2,
                                                 lua_tostring(L, -1)));
        } else {
            json_t *item;
            lua_getfield(L, -1, "title");
            lua_getfield(L, -2, k2);
            item = json_pack("{s:s, s:s}", "title", lua_tostring(L, -2), k2, lua_tostring(L, -1));
            /* A link to an article may name it, so a widget can send the
             * customer's "did this help?" for that article. */
            if (lua_getfield(L, -3, "article_id") == LUA_TNUMBER && lua_isinteger(L, -1))
                json_object_set_new(item, "article_id", json_integer(lua_tointeger(L, -1)));
            json_array_append_new(arr, item);
            lua_pop(L, 3);
        }
        lua_pop(L, 1);
    }
    return arr;
}

/* ctx:reply("text") or ctx:reply{text=, links={...}, quick_replies={...}} */
static int l_ctx_reply(lua_State *L)
{
    struct ctx_ud *c = check_ctx(L);
    const char *text;
    size_t len;
    json_t *links, *qr, *reply;

    if (json_array_size(c->turn->replies) >= MAX_REPLIES)
        return luaL_error(L, "ctx:reply: at most %d replies per turn", MAX_REPLIES);
    if (lua_type(L, 2) == LUA_TSTRING) {
        lua_newtable(L);
        lua_pushvalue(L, 2);
        lua_setfield(L, -2, "text");
        lua_replace(L, 2);
    }
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "text");
    text = lua_tolstring(L, -1, &len);
    if (!text || len == 0) return luaL_error(L, "ctx:reply: text must be a non-empty string");
    if (len > MAX_REPLY_TEXT || !sb_utf8_valid(text, len))
        return luaL_error(L, "ctx:reply: text must be UTF-8 of at most %d bytes", MAX_REPLY_TEXT);
    lua_getfield(L, 2, "links");
    lua_getfield(L, 2, "quick_replies");
    check_items(L, -2, "links", "url");
    check_items(L, -1, "quick_replies", "payload");
    links = build_items(L, -2, "url");
    qr = build_items(L, -1, "payload");
    reply = json_pack("{s:s%, s:o, s:o}", "text", text, len, "links", links, "quick_replies", qr);
    json_array_append_new(c->turn->replies, reply);
    if (!c->turn->answered_by[0])
        snprintf(c->turn->answered_by, sizeof(c->turn->answered_by), "%s", c->intent);
    return 0;
}

/* ctx:handoff{reason=, team=} */
static int l_ctx_handoff(lua_State *L)
{
    struct ctx_ud *c = check_ctx(L);
    const char *reason = "requested", *team = "";

    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "reason");
        if (lua_isstring(L, -1)) reason = lua_tostring(L, -1);
        lua_getfield(L, 2, "team");
        if (lua_isstring(L, -1)) team = lua_tostring(L, -1);
    }
    c->turn->handoff = true;
    snprintf(c->turn->handoff_reason, sizeof(c->turn->handoff_reason), "%s", reason);
    snprintf(c->turn->handoff_team, sizeof(c->turn->handoff_team), "%s", team);
    if (!c->turn->answered_by[0])
        snprintf(c->turn->answered_by, sizeof(c->turn->answered_by), "%s", c->intent);
    return 0;
}

/* ctx:set(key, value) stores a conversation attribute (nil removes). */
static int l_ctx_set(lua_State *L)
{
    struct ctx_ud *c = check_ctx(L);
    const char *key = luaL_checkstring(L, 2);
    struct sb_errbuf eb = {{0}};
    json_t *v;

    if (strlen(key) > 64) return luaL_error(L, "ctx:set: key longer than 64 bytes");
    /* Only a real change costs a write of the conversation row. */
    if (lua_isnoneornil(L, 3)) {
        if (json_object_del(c->turn->conv->attrs, key) == 0) c->turn->attrs_changed = true;
        return 0;
    }
    v = lua_api_to_json(L, 3, 0, &eb);
    if (!v) return luaL_error(L, "ctx:set: %s", eb.msg);
    if (json_equal(json_object_get(c->turn->conv->attrs, key), v)) {
        json_decref(v);
        return 0;
    }
    json_object_set_new(c->turn->conv->attrs, key, v);
    c->turn->attrs_changed = true;
    return 0;
}

static int l_ctx_get(lua_State *L)
{
    struct ctx_ud *c = check_ctx(L);
    json_t *v = json_object_get(c->turn->conv->attrs, luaL_checkstring(L, 2));
    if (!v || json_is_null(v))
        lua_pushnil(L);
    else
        lua_api_push_json(L, v, 0);
    return 1;
}

static int l_ctx_index(lua_State *L)
{
    struct ctx_ud *c = check_ctx(L);
    const char *k = luaL_checkstring(L, 2);
    struct sb_turn *t = c->turn;

    if (strcmp(k, "text") == 0)
        lua_pushstring(L, t->text);
    else if (strcmp(k, "payload") == 0)
        t->payload ? lua_pushstring(L, t->payload) : lua_pushnil(L);
    else if (strcmp(k, "locale") == 0)
        lua_pushstring(L, t->locale);
    else if (strcmp(k, "channel") == 0)
        lua_pushstring(L, t->channel);
    else if (strcmp(k, "conversation") == 0)
        lua_pushstring(L, t->conv->public_id);
    else if (strcmp(k, "status") == 0)
        lua_pushstring(L, t->conv->status);
    else if (strcmp(k, "intent") == 0)
        lua_pushstring(L, c->intent);
    else if (strcmp(k, "captures") == 0)
        lua_rawgeti(L, LUA_REGISTRYINDEX, c->captures_ref);
    else {
        /* methods */
        luaL_getmetatable(L, CTX_META);
        lua_getfield(L, -1, "methods");
        lua_getfield(L, -1, k);
    }
    return 1;
}

void lua_api_push_ctx(lua_State *L, struct sb_host *h, struct sb_turn *t, const char *intent,
                      json_t *captures)
{
    struct ctx_ud *c = lua_newuserdatauv(L, sizeof(*c), 0);
    c->host = h;
    c->turn = t;
    snprintf(c->intent, sizeof(c->intent), "%s", intent);
    if (captures)
        lua_api_push_json(L, captures, 0);
    else
        lua_newtable(L);
    c->captures_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    luaL_setmetatable(L, CTX_META);
}

void lua_api_ctx_close(lua_State *L, int idx)
{
    struct ctx_ud *c = luaL_testudata(L, idx, CTX_META);
    if (!c) return;
    c->turn = NULL;
    luaL_unref(L, LUA_REGISTRYINDEX, c->captures_ref);
    c->captures_ref = LUA_NOREF;
}

/* ---------- installation ---------- */

static void set_funcs(lua_State *L, const luaL_Reg *fns, struct sb_host *h, struct sb_plugin *p)
{
    lua_pushlightuserdata(L, h);
    lua_pushlightuserdata(L, p);
    luaL_setfuncs(L, fns, 2);
}

void lua_api_install(lua_State *L, struct sb_host *h, struct sb_plugin *p)
{
    static const luaL_Reg top[] = {{"intent", l_intent},
                                   {"channel", l_channel},
                                   {"hook", l_hook},
                                   {"log", l_log},
                                   {NULL, NULL}};
    static const luaL_Reg re[] = {
        {"match", l_re_match}, {"find", l_re_find}, {"test", l_re_test}, {NULL, NULL}};
    static const luaL_Reg json[] = {
        {"encode", l_json_encode}, {"decode", l_json_decode}, {NULL, NULL}};
    static const luaL_Reg kb[] = {
        {"search", l_kb_search}, {"vote", l_kb_vote}, {"choose", l_kb_choose}, {NULL, NULL}};
    static const luaL_Reg store[] = {{"get", l_store_get}, {"set", l_store_set}, {NULL, NULL}};
    static const luaL_Reg ctx_methods[] = {{"reply", l_ctx_reply},
                                           {"handoff", l_ctx_handoff},
                                           {"set", l_ctx_set},
                                           {"get", l_ctx_get},
                                           {"pick", l_ctx_pick},
                                           {"t", l_ctx_t},
                                           {NULL, NULL}};

    luaL_newmetatable(L, CTX_META);
    lua_pushcfunction(L, l_ctx_index);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_newtable(L);
    luaL_setfuncs(L, ctx_methods, 0);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);

    lua_pushstring(L, plugin_name(p));
    lua_setfield(L, LUA_REGISTRYINDEX, "sb.plugin_name");

    lua_newtable(L);
    set_funcs(L, top, h, p);
    lua_newtable(L);
    set_funcs(L, re, h, p);
    lua_setfield(L, -2, "re");
    lua_newtable(L);
    set_funcs(L, json, h, p);
    lua_pushlightuserdata(L, &json_null_marker);
    lua_setfield(L, -2, "null");
    lua_setfield(L, -2, "json");
    lua_newtable(L);
    set_funcs(L, kb, h, p);
    lua_pushnumber(L, h ? host_deps(h)->cfg->kb_answer_threshold : 0.5);
    lua_setfield(L, -2, "threshold");
    lua_pushnumber(L, h ? host_deps(h)->cfg->kb_clarify_threshold : 0.25);
    lua_setfield(L, -2, "clarify_threshold");
    lua_pushnumber(L, SB_KB_CHOICE_FLOOR);
    lua_setfield(L, -2, "choice_floor");
    lua_setfield(L, -2, "kb");
    lua_newtable(L);
    set_funcs(L, store, h, p);
    lua_setfield(L, -2, "store");
    lua_crypto_open(L);
    lua_pushstring(L, plugin_name(p));
    lua_setfield(L, -2, "plugin");
    lua_channel_api_install(L, h, p);
    lua_setglobal(L, "sb");
}
