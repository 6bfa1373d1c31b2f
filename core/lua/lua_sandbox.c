/*
 * lua_sandbox.c - what a plugin's Lua state may do, and for how long.
 *
 * Only base (minus file and bytecode loaders), string (minus dump), table,
 * math, utf8, coroutine and a cut-down os are opened. The allocator caps
 * memory per state. A count hook enforces an instruction budget and a
 * wall-clock deadline; once over, it re-arms itself to fire on every
 * instruction, so a plugin's own pcall cannot swallow the timeout: the
 * next instruction after the catch raises again (Redis does the same).
 * The budget is the call's, shared by every coroutine the call creates
 * (lua_coroutine.c), and charged by the pattern matcher (lua_strlib.c),
 * by the allocator (bytes allocated) and after every string, table and
 * utf8 library call (a look at the clock).
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua_host.h"
#include "sb_log.h"

#define HOOK_EVERY SANDBOX_HOOK_EVERY
#define TIMEOUT_MSG "plugin exceeded its time or instruction budget"
/* Bytes allocated per instruction charged, and between two looks at the
 * clock from the allocator. */
#define ALLOC_BYTES_PER_INSTR 64
#define ALLOC_CHECK_EVERY (1u << 20)

struct lua_budget *sandbox_budget(lua_State *L)
{
    return *(struct lua_budget **)lua_getextraspace(L);
}

/* Instructions or wall-clock time used up (the clock is read only when the
 * count is not over). */
static bool budget_spent(const struct lua_budget *b)
{
    return b->instr_used > b->instr_limit || sb_mono_ns() > b->deadline_ns;
}

static void *budget_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct lua_budget *b = ud;
    /* When ptr is NULL, osize encodes the object type, not a size. */
    size_t old = ptr ? osize : 0;

    if (nsize == 0) {
        free(ptr);
        b->mem_used -= old;
        return NULL;
    }
    if (nsize > old && b->mem_used - old + nsize > b->mem_limit) return NULL;
    if (nsize > old && b->in_call) {
        /* One VM instruction can copy megabytes (s .. s, s:upper(), load),
         * so bytes allocated count as work, and once the call is over its
         * budget nothing grows: it fails at once instead of finishing a
         * loop of big copies before the next hook. */
        if (b->over) return NULL;
        b->instr_used += (nsize - old) / ALLOC_BYTES_PER_INSTR;
        b->alloc_unchecked += nsize - old;
        if (b->alloc_unchecked >= ALLOC_CHECK_EVERY) {
            b->alloc_unchecked = 0;
            if (budget_spent(b)) {
                b->over = true;
                return NULL;
            }
        }
    }
    void *p = realloc(ptr, nsize);
    if (p) b->mem_used = b->mem_used - old + nsize;
    return p;
}

static void budget_hook(lua_State *L, lua_Debug *ar);

bool sandbox_charge(lua_State *L, uint64_t n)
{
    struct lua_budget *b = sandbox_budget(L);
    b->instr_used += n;
    if (!b->over && b->in_call && budget_spent(b)) b->over = true;
    return b->over;
}

void sandbox_charge_later(lua_State *L, uint64_t n)
{
    sandbox_budget(L)->instr_used += n;
}

int sandbox_raise_timeout(lua_State *L)
{
    return luaL_error(L, TIMEOUT_MSG);
}

void sandbox_arm_thread(lua_State *co)
{
    lua_sethook(co, budget_hook, LUA_MASKCOUNT, sandbox_budget(co)->over ? 1 : HOOK_EVERY);
}

void sandbox_rearm(lua_State *co)
{
    /* Only when over: setting the hook restarts the thread's count, which
     * would otherwise hand it part of a period for free. */
    if (sandbox_budget(co)->over) lua_sethook(co, budget_hook, LUA_MASKCOUNT, 1);
}

/* Charges the period that just ran on this thread (lua_gethookcount is the
 * thread's period: 1 once over). A thread left firing on every instruction
 * by an earlier call goes back to the normal period. */
static void budget_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    if (sandbox_charge(L, (uint64_t)lua_gethookcount(L))) {
        if (lua_gethookcount(L) != 1) lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
        luaL_error(L, TIMEOUT_MSG);
    } else if (lua_gethookcount(L) != HOOK_EVERY) {
        lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
    }
}

/* A library C function (upvalue 1) followed by a look at the clock: C
 * functions run to their end without the count hook, and a loop of a few
 * hundred big ones (table.sort, string.rep, utf8.len over megabytes) fits
 * in one hook period, seconds of work the budget never saw. */
static int l_metered(lua_State *L)
{
    /* Called in this frame, not through lua_call, so its argument errors
     * still name it ("bad argument #1 to 'rep'"); these libraries' own
     * functions use no upvalues. */
    lua_CFunction f = lua_tocfunction(L, lua_upvalueindex(1));
    int n = f(L);
    if (sandbox_charge(L, 1)) return sandbox_raise_timeout(L);
    return n;
}

/* A C function without upvalues: l_metered may call it in its own frame. */
static bool plain_cfunction(lua_State *L, int idx)
{
    if (!lua_tocfunction(L, idx)) return false;
    if (lua_getupvalue(L, idx, 1)) {
        lua_pop(L, 1);
        return false;
    }
    return true;
}

static void meter_lib(lua_State *L, const char *lib)
{
    lua_getglobal(L, lib);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (plain_cfunction(L, lua_gettop(L))) {
            lua_pushcclosure(L, l_metered, 1);
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, -4); /* an existing key: allowed during lua_next */
        } else {
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

static int l_print(lua_State *L)
{
    /* print() goes to the server log, never to stdout. */
    char line[800]; /* fits a log line after its prefix: nothing cut after the scrub */
    luaL_Buffer buf;
    int n = lua_gettop(L);
    luaL_buffinit(L, &buf);
    for (int i = 1; i <= n; i++) {
        if (i > 1) luaL_addchar(&buf, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&buf);
    }
    luaL_pushresult(&buf);
    lua_getfield(L, LUA_REGISTRYINDEX, "sb.plugin_name");
    snprintf(line, sizeof(line), "%s", lua_tostring(L, -2));
    lua_settings_scrub(L, line, sizeof(line)); /* never a secret in the log */
    sb_info("plugin %s: %s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?", line);
    return 0;
}

/* load() for text chunks only: no bytecode, no reader functions. */
static int l_load(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, "=(load)");
    int has_env = !lua_isnoneornil(L, 4);

    if (luaL_loadbufferx(L, s, len, name, "t") != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    /* compiling a big chunk is C work too (see l_metered) */
    if (sandbox_charge(L, len / ALLOC_BYTES_PER_INSTR)) return sandbox_raise_timeout(L);
    if (has_env) {
        lua_pushvalue(L, 4);
        if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
    }
    return 1;
}

/* xpcall(f, msgh, ...) that runs msgh after the stack unwinds, not as a
 * Lua message handler: Lua calls a message handler with hooks disabled when
 * the error came from our count hook, so a looping handler could never be
 * stopped. The handler still receives the error object and its result is
 * returned; only the traceback position differs. */
static int l_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 1);
    for (int i = 3; i <= n; i++)
        lua_pushvalue(L, i);
    if (lua_pcall(L, n - 2, LUA_MULTRET, 0) == LUA_OK) {
        lua_pushboolean(L, 1);
        lua_insert(L, n + 1);
        return lua_gettop(L) - n;
    }
    lua_pushvalue(L, 2);
    lua_insert(L, -2);
    lua_call(L, 1, 1);
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
}

/* setmetatable() without __gc: finalizers run inside the garbage
 * collector with hooks disabled, where no budget could stop them. */
static int l_setmetatable(lua_State *L)
{
    if (lua_istable(L, 2) && lua_getfield(L, 2, "__gc") != LUA_TNIL)
        return luaL_error(L, "__gc metamethods are not allowed in plugins");
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

static int l_global_index(lua_State *L)
{
    return luaL_error(L, "read of undeclared global '%s'", lua_tostring(L, 2));
}

static int l_global_newindex(lua_State *L)
{
    return luaL_error(L, "assignment to undeclared global '%s' (use local, or sb.store for state)",
                      lua_tostring(L, 2));
}

static void open_lib(lua_State *L, const char *name, lua_CFunction fn)
{
    luaL_requiref(L, name, fn, 1);
    lua_pop(L, 1);
}

static void remove_fields(lua_State *L, const char *table, const char *const *names)
{
    if (table)
        lua_getglobal(L, table);
    else
        lua_pushglobaltable(L);
    for (; *names; names++) {
        lua_pushnil(L);
        lua_setfield(L, -2, *names);
    }
    lua_pop(L, 1);
}

lua_State *sandbox_new(struct lua_budget *b)
{
    static const char *const base_cut[] = {"dofile", "loadfile", "collectgarbage",
                                           "rawset", "require",  NULL};
    static const char *const string_cut[] = {"dump", NULL};
    static const char *const os_keep[] = {"time", "clock", "date", "difftime"};
    lua_State *L = lua_newstate(budget_alloc, b);

    if (!L) return NULL;
    *(struct lua_budget **)lua_getextraspace(L) = b;
    open_lib(L, LUA_GNAME, luaopen_base);
    open_lib(L, LUA_STRLIBNAME, luaopen_string);
    open_lib(L, LUA_TABLIBNAME, luaopen_table);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math);
    open_lib(L, LUA_UTF8LIBNAME, luaopen_utf8);
    sandbox_open_coroutines(L);

    /* os: only the clock and calendar functions. */
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
    lua_newtable(L);
    for (size_t i = 0; i < SB_ARRAY_LEN(os_keep); i++) {
        lua_getfield(L, -2, os_keep[i]);
        lua_setfield(L, -2, os_keep[i]);
    }
    lua_setglobal(L, "os");
    lua_pop(L, 1);

    remove_fields(L, NULL, base_cut);
    remove_fields(L, LUA_STRLIBNAME, string_cut);
    meter_lib(L, LUA_STRLIBNAME);
    meter_lib(L, LUA_TABLIBNAME);
    meter_lib(L, LUA_UTF8LIBNAME);
    sandbox_open_patterns(L); /* charge themselves, per match step */
    lua_pushcfunction(L, l_load);
    lua_setglobal(L, "load");
    lua_pushcfunction(L, l_print);
    lua_setglobal(L, "print");
    lua_pushcfunction(L, l_xpcall);
    lua_setglobal(L, "xpcall");
    lua_getglobal(L, "setmetatable");
    lua_pushcclosure(L, l_setmetatable, 1);
    lua_setglobal(L, "setmetatable");

    lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
    return L;
}

void sandbox_lock_globals(lua_State *L)
{
    lua_pushglobaltable(L);
    lua_newtable(L);
    lua_pushcfunction(L, l_global_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_global_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
}

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
    return 1;
}

static void arm(lua_State *L, struct lua_budget *b)
{
    b->instr_used = 0;
    b->alloc_unchecked = 0;
    b->over = false;
    b->in_call = true;
    b->deadline_ns = sb_mono_ns() + (int64_t)b->deadline_ms * 1000000;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

static enum sb_err finish(lua_State *L, struct lua_budget *b, int status, int base,
                          struct sb_errbuf *eb)
{
    enum sb_err rc = SB_OK;

    b->in_call = false;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
    /* Over budget is a failed call even when the plugin caught every error
     * and returned: its results are dropped. */
    if (status != LUA_OK || b->over) {
        const char *msg = status != LUA_OK ? lua_tostring(L, -1) : NULL;
        if (b->over)
            rc = sb_fail(eb, SB_ERR_TIMEOUT, "%s", TIMEOUT_MSG);
        else if (status == LUA_ERRMEM)
            rc = sb_fail(eb, SB_ERR_NOMEM, "plugin exceeded its memory limit");
        else
            rc = sb_fail(eb, SB_ERR_LUA, "%s", msg ? msg : "error");
        if (eb) lua_settings_scrub(L, eb->msg, sizeof(eb->msg)); /* every caller logs it */
        lua_settop(L, base - 1);
    } else {
        lua_remove(L, base); /* the traceback handler */
    }
    b->over = false;
    return rc;
}

enum sb_err sandbox_call(lua_State *L, int nargs, int nresults, struct sb_errbuf *eb)
{
    struct lua_budget *b = sandbox_budget(L);
    int base = lua_gettop(L) - nargs; /* index of the function */
    int status;

    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    arm(L, b);
    status = lua_pcall(L, nargs, nresults, base);
    return finish(L, b, status, base, eb);
}

enum sb_err sandbox_run(lua_State *L, const char *chunk, size_t len, const char *name,
                        struct sb_errbuf *eb)
{
    /* "t": text only, so precompiled bytecode can never be loaded. */
    if (luaL_loadbufferx(L, chunk, len, name, "t") != LUA_OK) {
        sb_fail(eb, SB_ERR_LUA, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return SB_ERR_LUA;
    }
    return sandbox_call(L, 0, 0, eb);
}
