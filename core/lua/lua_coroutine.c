/*
 * lua_coroutine.c - the plugins' coroutine library: one budget per plugin
 * call, however many coroutines the call creates and however deep.
 *
 * Uses the count hook and charging of lua_sandbox.c. Stock coroutines
 * escape the budget in two ways, both fixed here:
 *  - Each thread has its own hook counter, and what a thread ran since its
 *    last hook is never charged when it dies. A coroutine that does less
 *    than one hook period of work and dies was free, and nesting multiplied
 *    that (about 100x per level). create() and wrap() charge a full hook
 *    period up front, so a thread's uncounted tail is already paid for.
 *  - An error raised by the count hook leaves the thread's hooks disabled
 *    (Lua 5.4 restores them only where a pcall catches the error), so the
 *    `<close>` handlers of a coroutine killed by the budget ran unmetered
 *    on coroutine.close() or from wrap(). Every coroutine body runs inside
 *    a pcall of ours: the error is caught there with hooks back on, the
 *    handlers run (metered) at once, then the error goes on to the resumer
 *    unchanged. The difference a plugin can see: a failed coroutine's
 *    `<close>` handlers run when it fails, not when it is closed.
 * Once a call is over budget, resume/close/wrap re-arm the thread they run
 * to fire on every instruction, so no thread runs on.
 */
#include <lauxlib.h>
#include <lualib.h>

#include "lua_host.h"

/* Continuation of co_body: results pass through, errors go on. */
static int co_body_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)ctx;
    if (status != LUA_OK && status != LUA_YIELD) return lua_error(L);
    return lua_gettop(L);
}

/* The function every plugin coroutine starts in: the plugin's function
 * (upvalue 1) under a yieldable pcall. */
static int co_body(lua_State *L)
{
    int status;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    status = lua_pcallk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, 0, co_body_k);
    return co_body_k(L, status, 0);
}

/* Pushes a new thread that will run the function at index 1. */
static lua_State *new_coroutine(lua_State *L)
{
    lua_State *co;
    luaL_checktype(L, 1, LUA_TFUNCTION);
    if (sandbox_charge(L, SANDBOX_COROUTINE_COST)) sandbox_raise_timeout(L);
    co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_pushcclosure(L, co_body, 1);
    lua_xmove(L, co, 1);
    sandbox_arm_thread(co);
    return co;
}

static int l_create(lua_State *L)
{
    new_coroutine(L);
    return 1;
}

/* The function coroutine.wrap() returns: resumes its thread (upvalue 1);
 * an error closes the thread and is raised in the caller, with the
 * caller's position prefixed to a string message, as stock wrap does. */
static int l_wrap_call(lua_State *L)
{
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    int narg = lua_gettop(L), nres = 0, status;

    if (!lua_checkstack(co, narg)) return luaL_error(L, "too many arguments to resume");
    /* lua_resume itself refuses a dead or running coroutine */
    sandbox_rearm(co);
    lua_xmove(L, co, narg);
    status = lua_resume(co, L, narg, &nres);
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            return luaL_error(L, "too many results to resume");
        }
        lua_xmove(co, L, nres);
        return nres;
    }
    lua_xmove(co, L, 1); /* the error object */
    if (lua_status(co) != LUA_OK && lua_status(co) != LUA_YIELD) {
        /* Dead: release what it holds (its handlers ran in co_body). The
         * reset leaves the error object on co, to be raised instead (it is
         * the same one unless a handler failed), so a later call finds co
         * empty and says it is dead. */
        sandbox_rearm(co);
#if LUA_VERSION_RELEASE_NUM >= 50406
        lua_closethread(co, L);
#else
        lua_resetthread(co);
#endif
        lua_pop(L, 1);
        lua_xmove(co, L, 1);
    }
    if (lua_type(L, -1) == LUA_TSTRING) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

static int l_wrap(lua_State *L)
{
    new_coroutine(L);
    lua_pushcclosure(L, l_wrap_call, 1);
    return 1;
}

/* coroutine.resume/close: the stock function (upvalue 1), after re-arming
 * the thread when the call is already over budget. */
static int l_rearm_then_stock(lua_State *L)
{
    lua_State *co = lua_tothread(L, 1);
    /* A waiting plugin call's thread (coroutine.running() in it) is the
     * host's to resume, with the response it waits for. */
    if (co && async_owns_thread(co))
        return luaL_error(L, "cannot resume or close the thread of a waiting plugin call");
    if (co) sandbox_rearm(co);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

void sandbox_open_coroutines(lua_State *L)
{
    static const char *const rearmed[] = {"resume", "close"};
    luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1);
    lua_pushcfunction(L, l_create);
    lua_setfield(L, -2, "create");
    lua_pushcfunction(L, l_wrap);
    lua_setfield(L, -2, "wrap");
    for (size_t i = 0; i < SB_ARRAY_LEN(rearmed); i++) {
        lua_getfield(L, -1, rearmed[i]);
        lua_pushcclosure(L, l_rearm_then_stock, 1);
        lua_setfield(L, -2, rearmed[i]);
    }
    lua_pop(L, 1);
}
