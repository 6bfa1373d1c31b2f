/*
 * lua_http.c - sb.http.request{method, url, headers, body, timeout_ms}:
 * outbound HTTP for plugin calls that may wait (lua_async.c). The call's
 * thread yields until the response comes, through the host's fetcher
 * (fetch.h) on the server's loop, and gets
 *   { status = 200, headers = { ["content-type"] = "..." }, body = "..." }
 * (header names lower-case; a repeated header: the last one), or
 * nil, "reason" when no response came (refused, timeout, too big).
 * Anywhere else (intents, hooks, loading, a coroutine of the plugin's
 * own) it raises "sb.http: this call cannot wait".
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "lua_host.h"

#define HTTP_MAX_URL 8192
#define HTTP_MAX_BODY (4 * 1024 * 1024)
#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_HEADER_LEN 8192
#define HTTP_MAX_TIMEOUT_MS 120000
#define HTTP_MAX_RESPONSE (16 * 1024 * 1024)

/* ---------- the request ---------- */

static const char *opt_field(lua_State *L, const char *key, const char *def, size_t *len)
{
    int t = lua_getfield(L, 1, key);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        if (len) *len = def ? strlen(def) : 0;
        return def;
    }
    if (t != LUA_TSTRING) luaL_error(L, "sb.http.request: %s must be a string", key);
    return lua_tolstring(L, -1, len); /* stays on the stack */
}

static bool token(const char *s, size_t len)
{
    if (len == 0) return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("!#$%&'*+-.^_`|~", s[i])) return false;
    return true;
}

static bool clean_value(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') return false;
    return true;
}

/* Reads req.headers into out ("Name: value" strings left on the stack,
 * which keeps them alive until the request starts); returns how many. */
static int read_headers(lua_State *L, const char **out)
{
    int n = 0, tbl;

    out[0] = NULL;
    if (lua_getfield(L, 1, "headers") == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    luaL_argexpected(L, lua_istable(L, -1), 1, "headers as a table");
    tbl = lua_gettop(L);
    luaL_checkstack(L, HTTP_MAX_HEADERS + 4, "sb.http.request: headers");
    lua_pushnil(L);
    while (lua_next(L, tbl)) {
        size_t nlen, vlen;
        const char *name, *value;
        if (lua_type(L, -2) != LUA_TSTRING ||
            (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER))
            return luaL_error(L, "sb.http.request: headers must map names to strings");
        if (n == HTTP_MAX_HEADERS)
            return luaL_error(L, "sb.http.request: more than %d headers", HTTP_MAX_HEADERS);
        name = lua_tolstring(L, -2, &nlen);
        value = luaL_tolstring(L, -1, &vlen); /* a copy: the key must stay as it is */
        if (!token(name, nlen) || !clean_value(value, vlen) || nlen + vlen > HTTP_MAX_HEADER_LEN)
            return luaL_error(L, "sb.http.request: bad header '%s'", name);
        out[n++] = lua_pushfstring(L, "%s: %s", name, value);
        lua_replace(L, -3); /* over the value: name, "Name: value", copy */
        lua_pop(L, 1);
        lua_insert(L, -2); /* "Name: value" below the key lua_next needs */
    }
    out[n] = NULL;
    return n;
}

/* timeout_ms: whole milliseconds, for the whole request; 0 when absent. */
static int read_timeout(lua_State *L)
{
    lua_Integer ms;
    int isnum;
    lua_getfield(L, 1, "timeout_ms");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    ms = lua_tointegerx(L, -1, &isnum);
    lua_pop(L, 1);
    if (!isnum || ms < 1 || ms > HTTP_MAX_TIMEOUT_MS)
        luaL_error(L, "sb.http.request: timeout_ms must be 1..%d", HTTP_MAX_TIMEOUT_MS);
    return (int)ms;
}

/* ---------- the response ---------- */

static const char *skip_blanks(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

/* Pushes a table of the raw "Name: value\r\n" lines, names lower-case; a
 * repeated name keeps its last value. */
static void push_headers(lua_State *L, const char *raw, size_t len)
{
    const char *p = raw, *end = raw + len;

    lua_newtable(L);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *colon, *v, *vend;
        char name[256];
        size_t nlen;

        if (!eol) eol = end;
        colon = memchr(p, ':', (size_t)(eol - p));
        /* a folded continuation line (leading blank) or no colon: skipped */
        if (colon && p[0] != ' ' && p[0] != '\t' && (size_t)(colon - p) < sizeof(name)) {
            nlen = (size_t)(colon - p);
            for (size_t i = 0; i < nlen; i++)
                name[i] = (char)tolower((unsigned char)p[i]);
            v = skip_blanks(colon + 1, eol);
            vend = eol;
            while (vend > v && (vend[-1] == '\r' || vend[-1] == ' ' || vend[-1] == '\t'))
                vend--;
            lua_pushlstring(L, name, nlen);
            lua_pushlstring(L, v, (size_t)(vend - v));
            lua_rawset(L, -3);
        }
        p = eol + 1;
    }
}

static int push_response(lua_State *L, const struct sb_fetch_res *res)
{
    if (res->error) {
        lua_pushnil(L);
        lua_pushstring(L, res->error);
        return 2;
    }
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, (lua_Integer)res->status);
    lua_setfield(L, -2, "status");
    push_headers(L, res->headers, res->headers_len);
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, res->body, res->body_len);
    lua_setfield(L, -2, "body");
    return 1;
}

/* ---------- sb.http.request ---------- */

static int l_request(lua_State *L)
{
    struct async_call *c = async_current(L);
    const char *headers[HTTP_MAX_HEADERS + 1];
    struct sb_fetch_req req = {.max_response = HTTP_MAX_RESPONSE};
    size_t url_len;

    if (!c) return luaL_error(L, "sb.http: this call cannot wait");
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    req.method = opt_field(L, "method", "GET", NULL);
    req.url = opt_field(L, "url", NULL, &url_len);
    req.body = opt_field(L, "body", NULL, &req.body_len);
    if (!req.url) return luaL_error(L, "sb.http.request: url is required");
    if (url_len > HTTP_MAX_URL || strlen(req.url) != url_len ||
        (strncasecmp(req.url, "http://", 7) != 0 && strncasecmp(req.url, "https://", 8) != 0))
        return luaL_error(L, "sb.http.request: url must be an http:// or https:// URL");
    if (!sb_fetch_method_ok(req.method)) return luaL_error(L, "sb.http.request: bad method");
    if (req.body_len > HTTP_MAX_BODY)
        return luaL_error(L, "sb.http.request: body over %d bytes", HTTP_MAX_BODY);
    req.timeout_ms = read_timeout(L);
    read_headers(L, headers);
    req.headers = headers;
    return async_wait_fetch(L, c, &req, push_response);
}

void lua_http_install(lua_State *L, struct sb_host *h, struct sb_plugin *p)
{
    (void)h;
    (void)p;
    lua_newtable(L);
    lua_pushcfunction(L, l_request);
    lua_setfield(L, -2, "request");
    lua_setfield(L, -2, "http");
}
