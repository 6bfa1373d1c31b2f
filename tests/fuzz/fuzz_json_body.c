/*
 * fuzz_json_body.c - a request body as the HTTP API parses it:
 * http_body_parse() (core/http/http.c: UTF-8 check, jansson with duplicate
 * keys rejected, an object required), within the default body limit
 * (max_body, 64 KiB; larger bodies are refused with 413 before parsing)
 * and jansson's nesting limit. An accepted body then goes where plugin
 * calls take it: into a Lua table (lua_api_push_json, cut at its depth
 * limit) and back to JSON (lua_api_to_json), both in core/lua/lua_api.c.
 *
 * Besides crashes it checks that an accepted body is an object that
 * survives a dump and a reload unchanged, and that a refused one says
 * why with one of the documented error codes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>

#include "lua_host.h"
#include "http.h"

#define DEFAULT_MAX_BODY (64 * 1024) /* base/config.c, max_body */

static void broken(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_json_body: %s: %s\n", what, detail);
    abort();
}

/* The object into a fresh Lua state and back, as a plugin call does. */
static void through_lua(json_t *v)
{
    lua_State *L = luaL_newstate();
    struct sb_errbuf eb = {{0}};
    json_t *back;

    if (!L) return;
    lua_api_push_json(L, v, 0);
    back = lua_api_to_json(L, -1, 0, &eb);
    if (!back && !eb.msg[0]) broken("lua_api_to_json failed without a reason", "");
    json_decref(back);
    lua_close(L);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *code = NULL;
    char msg[256] = "";
    json_t *v, *again;
    char *text;

    if (size > DEFAULT_MAX_BODY) return 0;
    v = http_body_parse((const char *)data, size, &code, msg, sizeof(msg));
    if (!v) {
        if (!msg[0] || !code || (strcmp(code, "invalid_json") && strcmp(code, "invalid_utf8")))
            broken("refused without a documented code and a message", msg);
        return 0;
    }
    if (!json_is_object(v)) broken("accepted a body that is not an object", "");
    text = json_dumps(v, JSON_COMPACT);
    if (!text) broken("could not dump an accepted body", "");
    again = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (!again || !json_equal(v, again))
        broken("an accepted body did not survive a round trip", text);
    json_decref(again);
    free(text);
    through_lua(v);
    json_decref(v);
    return 0;
}
