/*
 * lua_async.c - plugin calls that may wait (route handlers, deliver, poll,
 * commands): the function runs in a thread of its own in the plugin's
 * state, sb.http yields it, and the loop resumes it when the response
 * comes (lua_host.h, "Interface to code in lua_async.c").
 *
 * A call is a chain of slices: from its start or a resume to its next wait
 * or its end. Each slice
 *  - runs under the plugin's budget with the call's instructions so far
 *    (they add up over the call) and a fresh deadline (the wait is free);
 *  - is one plugin call for the store (its sb.store writes are undone when
 *    it fails) and runs outside any customer turn (no ctx, no sb.kb.vote).
 * The calls waiting in a state are listed in a userdata in its registry,
 * so reloading the plugin can end them before the state is closed.
 *
 * Everything that allocates Lua memory outside a running slice (the first
 * push, the response, the results) runs under lua_pcall: the plugin's
 * memory cap makes any allocation fail, and an unprotected error would
 * abort the process.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_host.h"
#include "sb_log.h"

/* The registry key of a state's list: an address, so that reading it
 * never allocates (reading a string key may have to make the string, and
 * an allocation that fails outside a protected call aborts). */
static const char calls_key;
#define TIMEOUT_MSG "plugin exceeded its time or instruction budget"

struct async_list {
    struct async_call *head;
};

struct async_call {
    struct async_call *next; /* in list */
    struct async_list *list; /* the state's, in its registry */
    struct sb_host *h;
    struct sb_plugin *p;
    lua_State *co; /* the call's thread, kept alive by co_ref */
    int co_ref;
    sb_host_done done;
    void *done_arg;
    uint64_t instr_used; /* by every slice so far */
    uint64_t fetch_id;   /* the request it waits for; 0: none */
    async_push_fn push;  /* makes the values the request returns */
    bool running;        /* in a slice */
    bool armed;          /* its budget hook is set */
};

/* The state's list of calls, or NULL before its first call; no allocation. */
static struct async_list *list_of(lua_State *L)
{
    struct async_list *list;
    if (!lua_checkstack(L, 1)) return NULL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &calls_key);
    list = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return list;
}

struct async_call *async_current(lua_State *L)
{
    struct async_list *list = list_of(L);
    for (struct async_call *c = list ? list->head : NULL; c; c = c->next)
        if (c->running && c->co == L) return c;
    return NULL;
}

bool async_owns_thread(lua_State *co)
{
    struct async_list *list = list_of(co);
    for (struct async_call *c = list ? list->head : NULL; c; c = c->next)
        if (c->co == co) return true;
    return false;
}

/* ---------- the end of a call ---------- */

/* Takes c out of its list, releases its thread and request, reports to
 * done() and frees c. */
static void end_call(struct async_call *c, enum sb_err rc, json_t *results, const char *err)
{
    struct sb_fetch *f = host_deps(c->h)->fetch;

    if (c->fetch_id && f) sb_fetch_cancel(f, c->fetch_id);
    for (struct async_call **link = &c->list->head; *link; link = &(*link)->next) {
        if (*link == c) {
            *link = c->next;
            break;
        }
    }
    luaL_unref(plugin_lua(c->p), LUA_REGISTRYINDEX, c->co_ref);
    /* A call cut short by a reload is not the plugin's failure. */
    host_count_call(c->h, rc == SB_ERR_CANCELLED ? SB_OK : rc);
    if (rc) {
        json_decref(results);
        results = NULL;
    }
    if (c->done) c->done(c->done_arg, rc, results, rc ? (err ? err : sb_strerror(rc)) : NULL);
    json_decref(results);
    free(c);
}

void host_call_detach(struct sb_plugin *p, void *done_arg)
{
    struct async_list *list = list_of(plugin_lua(p));
    for (struct async_call *c = list ? list->head : NULL; c; c = c->next)
        if (c->done_arg == done_arg) c->done = NULL;
}

void async_plugin_closing(struct sb_host *h, struct sb_plugin *p)
{
    struct async_list *list = list_of(plugin_lua(p));
    (void)h;
    while (list) {
        struct async_call *c = list->head;
        /* A running slice cannot reload its own plugin; skip it anyway
         * rather than free what is on the C stack. */
        while (c && c->running)
            c = c->next;
        if (!c) break;
        end_call(c, SB_ERR_CANCELLED, NULL, "plugin reloaded");
    }
}

/* ---------- slices ---------- */

struct saved_budget {
    uint64_t instr_used;
    size_t alloc_unchecked;
    int64_t deadline_ns;
    bool over, in_call;
};

/* Puts the call's budget in place (and keeps what was there: a slice may
 * run inside another call of the same state). */
static void slice_arm(struct async_call *c, struct lua_budget *b, struct saved_budget *s)
{
    *s = (struct saved_budget){b->instr_used, b->alloc_unchecked, b->deadline_ns, b->over,
                               b->in_call};
    b->instr_used = c->instr_used;
    b->alloc_unchecked = 0;
    b->over = false;
    b->in_call = true;
    b->deadline_ns = sb_mono_ns() + (int64_t)b->deadline_ms * 1000000;
    if (!c->armed) {
        /* Once: the thread's hook count then carries over its waits, so
         * the work between its last hook and a yield is charged in the
         * next slice; only the tail after its last hook is not, and that
         * was paid up front (SANDBOX_COROUTINE_COST). */
        sandbox_arm_thread(c->co);
        c->armed = true;
    }
}

/* Restores the state's budget; true when the slice went over its own. */
static bool slice_disarm(struct async_call *c, struct lua_budget *b, const struct saved_budget *s)
{
    bool over = b->over;
    c->instr_used = b->instr_used;
    b->instr_used = s->instr_used;
    b->alloc_unchecked = s->alloc_unchecked;
    b->deadline_ns = s->deadline_ns;
    b->over = s->over;
    b->in_call = s->in_call;
    return over;
}

struct collect {
    json_t *out;
    struct sb_errbuf *eb;
};

/* Protected, on the finished thread: its return values (below the
 * lightuserdata argument) as a JSON array. */
static int l_collect(lua_State *L)
{
    struct collect *cl = lua_touserdata(L, -1);
    int n;

    lua_pop(L, 1);
    n = lua_gettop(L);
    cl->out = json_array();
    for (int i = 1; i <= n; i++) {
        json_t *x = lua_api_to_json_bytes(L, i, 0, cl->eb);
        if (!x) {
            json_decref(cl->out);
            cl->out = NULL;
            return 0;
        }
        json_array_append_new(cl->out, x);
    }
    return 0;
}

static enum sb_err collect_results(lua_State *co, json_t **out, struct sb_errbuf *eb)
{
    struct sb_errbuf why = {{0}};
    struct collect cl = {NULL, &why};

    if (!lua_checkstack(co, 2)) return sb_fail(eb, SB_ERR_NOMEM, "no stack for the results");
    lua_pushcfunction(co, l_collect);
    lua_insert(co, 1);
    lua_pushlightuserdata(co, &cl);
    if (lua_pcall(co, lua_gettop(co) - 1, 0, 0) != LUA_OK) {
        json_decref(cl.out);
        return sb_fail(eb, SB_ERR_NOMEM, "plugin exceeded its memory limit");
    }
    if (!cl.out)
        return sb_fail(eb, SB_ERR_LUA, "plugin returned a value that is not JSON: %s", why.msg);
    *out = cl.out;
    return SB_OK;
}

/* What ended a slice that did not yield to wait. */
static enum sb_err slice_outcome(lua_State *co, int status, bool over, json_t **results,
                                 struct sb_errbuf *eb)
{
    if (over) return sb_fail(eb, SB_ERR_TIMEOUT, TIMEOUT_MSG);
    if (status == LUA_OK) return collect_results(co, results, eb);
    if (status == LUA_YIELD)
        return sb_fail(eb, SB_ERR_LUA, "coroutine.yield outside a coroutine of the plugin");
    if (status == LUA_ERRMEM) return sb_fail(eb, SB_ERR_NOMEM, "plugin exceeded its memory limit");
    if (lua_type(co, -1) == LUA_TSTRING) return sb_fail(eb, SB_ERR_LUA, "%s", lua_tostring(co, -1));
    return sb_fail(eb, SB_ERR_LUA, "error (the error object is not a string)");
}

/* Runs the call's thread with the nargs values on its stack until it
 * waits or ends; at its end, done() is called and c is gone. */
static void run_slice(struct async_call *c, int nargs)
{
    lua_State *co = c->co;
    struct lua_budget *b = sandbox_budget(co);
    struct saved_budget saved;
    struct sb_errbuf eb = {{0}};
    struct sb_turn *turn;
    json_t *results = NULL;
    enum sb_err rc;
    int status, nres = 0;
    bool over;

    rc = host_store_call_begin(c->h, &eb);
    if (rc) {
        end_call(c, rc, NULL, eb.msg); /* the thread and its arguments go with it */
        return;
    }
    turn = host_swap_turn(c->h, NULL);
    slice_arm(c, b, &saved);
    c->running = true;
    status = lua_resume(co, NULL, nargs, &nres);
    c->running = false;
    over = slice_disarm(c, b, &saved);
    host_swap_turn(c->h, turn);
    if (status == LUA_YIELD && !over && c->fetch_id) {
        lua_pop(co, nres);
        host_store_call_end(c->h, c->p, SB_OK);
        return; /* waits for its request */
    }
    rc = slice_outcome(co, status, over, &results, &eb);
    host_store_call_end(c->h, c->p, rc);
    end_call(c, rc, results, eb.msg);
}

/* ---------- waiting for a request ---------- */

struct push_args {
    async_push_fn push;
    const struct sb_fetch_res *res;
    const char *error; /* instead of res: push nil, error */
};

static int l_push(lua_State *L)
{
    struct push_args *pa = lua_touserdata(L, 1);
    lua_settop(L, 0);
    if (pa->error) {
        lua_pushnil(L);
        lua_pushstring(L, pa->error);
        return 2;
    }
    return pa->push(L, pa->res);
}

/* Makes the values on the state's main thread, protected, and moves them
 * to the call's thread; how many, or -1. */
static int push_protected(lua_State *L, lua_State *co, struct push_args *pa)
{
    int top = lua_gettop(L), n;
    if (!lua_checkstack(L, 4)) return -1;
    lua_pushcfunction(L, l_push);
    lua_pushlightuserdata(L, pa);
    if (lua_pcall(L, 1, LUA_MULTRET, 0) != LUA_OK) {
        lua_settop(L, top);
        return -1;
    }
    n = lua_gettop(L) - top;
    if (!lua_checkstack(co, n)) {
        lua_settop(L, top);
        return -1;
    }
    lua_xmove(L, co, n);
    return n;
}

static void fetch_done(void *arg, const struct sb_fetch_res *res)
{
    struct async_call *c = arg;
    lua_State *L = plugin_lua(c->p);
    struct push_args pa = {c->push, res, NULL};
    int n;

    c->fetch_id = 0;
    n = push_protected(L, c->co, &pa);
    if (n < 0) {
        /* The response did not fit in the plugin's memory: it gets the
         * reason instead, as for any failed request. */
        pa.error = "response too big for the plugin's memory limit";
        n = push_protected(L, c->co, &pa);
    }
    if (n < 0) {
        end_call(c, SB_ERR_NOMEM, NULL, "plugin exceeded its memory limit");
        return;
    }
    run_slice(c, n);
}

int async_wait_fetch(lua_State *L, struct async_call *c, const struct sb_fetch_req *req,
                     async_push_fn push)
{
    struct sb_fetch *f = host_deps(c->h)->fetch;
    enum sb_err rc;

    if (!f) return luaL_error(L, "outbound HTTP is not available here");
    if (!lua_isyieldable(L))
        return luaL_error(L, "cannot wait here (inside a metamethod, an iterator or a sort?)");
    if (sandbox_charge(L, 1)) return sandbox_raise_timeout(L);
    rc = sb_fetch_start(f, req, fetch_done, c, &c->fetch_id);
    if (rc == SB_ERR_INVAL) return luaL_error(L, "invalid request (url, method or a header)");
    if (rc) return luaL_error(L, "%s", sb_strerror(rc));
    c->push = push;
    return lua_yield(L, 0);
}

/* ---------- starting a call ---------- */

struct prepare {
    int fn_ref;
    json_t *arg;
    lua_State *co;
    int co_ref, nargs;
    struct async_list *list;
};

/* Protected, on the main thread: the list, the thread with the function
 * and its argument on it, and a reference that keeps the thread alive. */
static int l_prepare(lua_State *L)
{
    struct prepare *pr = lua_touserdata(L, 1);

    lua_rawgetp(L, LUA_REGISTRYINDEX, &calls_key);
    pr->list = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!pr->list) {
        pr->list = lua_newuserdatauv(L, sizeof(*pr->list), 0);
        pr->list->head = NULL;
        lua_rawsetp(L, LUA_REGISTRYINDEX, &calls_key);
    }
    pr->co = lua_newthread(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, pr->fn_ref);
    if (!lua_isfunction(L, -1)) return luaL_error(L, "not a function");
    pr->nargs = 0;
    if (pr->arg) {
        lua_api_push_json(L, pr->arg, 0);
        pr->nargs = 1;
    }
    lua_xmove(L, pr->co, pr->nargs + 1);
    pr->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

enum sb_err host_call_async(struct sb_host *h, struct sb_plugin *p, int fn_ref, json_t *arg,
                            sb_host_done done, void *done_arg)
{
    lua_State *L = plugin_lua(p);
    struct prepare pr = {.fn_ref = fn_ref, .arg = arg};
    struct async_call *c;
    int status;

    if (!lua_checkstack(L, 3)) return SB_ERR_NOMEM;
    c = calloc(1, sizeof(*c));
    if (!c) return SB_ERR_NOMEM;
    lua_pushcfunction(L, l_prepare);
    lua_pushlightuserdata(L, &pr);
    status = lua_pcall(L, 1, 0, 0);
    if (status != LUA_OK) {
        lua_pop(L, 1);
        free(c);
        return status == LUA_ERRMEM ? SB_ERR_NOMEM : SB_ERR_INVAL;
    }
    *c = (struct async_call){.next = pr.list->head,
                             .list = pr.list,
                             .h = h,
                             .p = p,
                             .co = pr.co,
                             .co_ref = pr.co_ref,
                             .done = done,
                             .done_arg = done_arg,
                             .instr_used = SANDBOX_COROUTINE_COST};
    pr.list->head = c;
    run_slice(c, pr.nargs);
    return SB_OK;
}

/* ---------- without the loop ---------- */

struct blocking {
    bool ended;
    enum sb_err rc;
    json_t *results;
    struct sb_errbuf *eb;
};

static void blocking_done(void *arg, enum sb_err rc, json_t *results, const char *err)
{
    struct blocking *bl = arg;
    bl->ended = true;
    bl->rc = rc;
    if (rc)
        sb_fail(bl->eb, rc, "%s", err);
    else
        bl->results = json_incref(results);
}

enum sb_err sb_host_run_until(struct sb_host *h, const bool *ended, int timeout_ms)
{
    struct sb_fetch *f = host_deps(h)->fetch;
    int64_t deadline = sb_mono_ns() + (int64_t)timeout_ms * 1000000;

    while (!*ended) {
        int64_t left_ms = (deadline - sb_mono_ns()) / 1000000;
        /* Requests are all a call can wait for: none in flight, it is stuck. */
        if (left_ms <= 0 || !f || sb_fetch_pending(f) == 0) return SB_ERR_TIMEOUT;
        sb_fetch_run(f, left_ms > 1000 ? 1000 : (int)left_ms + 1);
    }
    return SB_OK;
}

enum sb_err host_call_blocking(struct sb_host *h, struct sb_plugin *p, int fn_ref, json_t *arg,
                               int timeout_ms, json_t **results, struct sb_errbuf *eb)
{
    struct blocking bl = {.eb = eb};
    enum sb_err rc = host_call_async(h, p, fn_ref, arg, blocking_done, &bl);

    if (rc) return sb_fail(eb, rc, "cannot start the plugin call: %s", sb_strerror(rc));
    if (sb_host_run_until(h, &bl.ended, timeout_ms)) {
        struct async_list *list = list_of(plugin_lua(p));
        for (struct async_call *c = list ? list->head : NULL; c; c = c->next) {
            if (c->done_arg == &bl) {
                end_call(c, SB_ERR_TIMEOUT, NULL, "the command took too long");
                break;
            }
        }
    }
    if (!bl.ended) return sb_fail(eb, SB_ERR_TIMEOUT, "the command took too long");
    if (bl.rc == SB_OK && results)
        *results = bl.results;
    else
        json_decref(bl.results);
    return bl.rc;
}
