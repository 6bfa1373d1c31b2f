/*
 * bench_patterns.c - what the sandbox's own pattern matcher (core/
 * lua_pattern.c, issue 14) costs against Lua's, on string work a plugin
 * does: trimming, splitting into words, pulling an order number and a
 * date, a keyword find, filling a template. The same Lua function runs in
 * one sandboxed state (same budget hook) with S = the sandbox's string
 * table and with S = a stock one; prints one JSON line with thread CPU ns per
 * workload pass for each, best of 5 rounds.
 *
 *   build/bench_patterns [passes]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua_host.h"

static const char workload[] =
    "local S, passes = ...\n"
    "local text = '  Hello, I would like to track my order #12345 placed on 2024-05-01, thanks!  "
    "'\n"
    "local n = 0\n"
    "for _ = 1, passes do\n"
    "  local s = S.match(text, '^%s*(.-)%s*$')\n"
    "  for _ in S.gmatch(s, '%a+') do n = n + 1 end\n"
    "  local id = S.match(s, '#(%d+)')\n"
    "  local y, m, d = S.match(s, '(%d+)-(%d+)-(%d+)')\n"
    "  if S.find(s, 'track', 1, true) then n = n + 1 end\n"
    "  if S.find(S.lower(s), 'order%s+#%d+') then n = n + 1 end\n"
    "  local t = S.gsub('Hi {name}, order {id} ships {when}', '{(%w+)}',\n"
    "                   { name = 'Ana', id = id, when = y .. m .. d })\n"
    "  n = n + #t\n"
    "end\n"
    "return n\n";

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Best time of 5 runs of the workload with S = the table in registry key. */
static double run(lua_State *L, const char *key, long passes)
{
    double best = 0;
    for (int round = 0; round < 5; round++) {
        struct sb_errbuf eb = {{0}};
        double t0;
        if (luaL_loadbufferx(L, workload, strlen(workload), "=workload", "t") != LUA_OK) {
            fprintf(stderr, "%s\n", lua_tostring(L, -1));
            exit(1);
        }
        lua_getfield(L, LUA_REGISTRYINDEX, key);
        lua_pushinteger(L, passes);
        t0 = now_ns();
        if (sandbox_call(L, 2, 1, &eb)) {
            fprintf(stderr, "%s: %s\n", key, eb.msg);
            exit(1);
        }
        t0 = now_ns() - t0;
        lua_pop(L, 1);
        if (round == 0 || t0 < best) best = t0;
    }
    return best / (double)passes;
}

int main(int argc, char **argv)
{
    long passes = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    struct lua_budget b = {.mem_limit = 64 << 20, .instr_limit = 1ULL << 62, .deadline_ms = 600000};
    lua_State *L = sandbox_new(&b);
    double ours, stock;

    if (!L || passes <= 0) return 1;
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_setfield(L, LUA_REGISTRYINDEX, "bench.ours");
    /* a stock string table; it also takes over the string metatable, which
     * the workload does not use (it calls S.* only) */
    luaL_requiref(L, "bench.stock", luaopen_string, 0);
    lua_setfield(L, LUA_REGISTRYINDEX, "bench.stock");
    stock = run(L, "bench.stock", passes);
    ours = run(L, "bench.ours", passes);
    printf("{\"passes\": %ld, \"stock_ns\": %.0f, \"sandbox_ns\": %.0f, \"ratio\": %.2f}\n", passes,
           stock, ours, ours / stock);
    lua_close(L);
    return 0;
}
