/*
 * lua_strlib.c - the plugins' string.find/match/gmatch/gsub, on the
 * step-counted matcher of lua_pattern.c, charged to the call's budget.
 *
 * Same arguments and results as Lua 5.4's; the difference is that a
 * pattern that backtracks too long fails with the budget error like any
 * other plugin work, instead of holding the server (issue 14). Uses
 * sandbox_charge() of lua_sandbox.c.
 */
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua_host.h"
#include "lua_pattern.h"

static bool charge_call(void *ud, uint64_t steps)
{
    return !sandbox_charge(ud, steps);
}

static void start(lua_State *L, struct pat_state *ms, const char *s, size_t ls, const char *p,
                  size_t lp)
{
    pat_init(ms, s, ls, p, lp, charge_call, L);
}

/* Raises what stopped the matcher: a pattern error or the budget. */
static int raise_stop(lua_State *L, struct pat_state *ms)
{
    if (ms->status == PAT_STOPPED) return sandbox_raise_timeout(L);
    return luaL_error(L, "%s", ms->errmsg);
}

/* After each pat_match: raises when it stopped on an error or the budget. */
static void check(lua_State *L, struct pat_state *ms)
{
    if (ms->status != PAT_OK) raise_stop(L, ms);
}

/* Before returning: adds the steps not charged yet (fewer than
 * PAT_CHARGE_EVERY) without reading the clock, which costs as much as a
 * short match; the next hook or charge checks them. */
static void done(lua_State *L, struct pat_state *ms)
{
    sandbox_charge_later(L, ms->steps);
    ms->steps = 0;
}

/* Capture i of a match s..e (the whole match stands for capture 0 when
 * the pattern has none). */
static void push_capture(lua_State *L, const struct pat_state *ms, int i, const char *s,
                         const char *e)
{
    if (i >= ms->ncap) {
        if (i != 0) luaL_error(L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(L, s, (size_t)(e - s));
    } else if (ms->cap[i].len == PAT_CAP_UNFINISHED) {
        luaL_error(L, "unfinished capture");
    } else if (ms->cap[i].len == PAT_CAP_POSITION) {
        lua_pushinteger(L, (ms->cap[i].start - ms->src) + 1);
    } else {
        lua_pushlstring(L, ms->cap[i].start, (size_t)ms->cap[i].len);
    }
}

/* Pushes every capture, or the whole match when none (and whole is set). */
static int push_captures(lua_State *L, const struct pat_state *ms, const char *s, const char *e,
                         bool whole)
{
    int n = ms->ncap == 0 && whole ? 1 : ms->ncap;
    luaL_checkstack(L, n, "too many captures");
    for (int i = 0; i < n; i++)
        push_capture(L, ms, i, s, e);
    return n;
}

/* A 1-based start position (negative counts from the end) as an offset;
 * may be past the end. */
static size_t start_offset(lua_Integer pos, size_t len)
{
    if (pos > 0) return (size_t)pos - 1;
    if (pos == 0 || pos < -(lua_Integer)len) return 0;
    return (size_t)((lua_Integer)len + pos);
}

static const char *find_plain(const char *s, size_t ls, const char *p, size_t lp)
{
    if (lp == 0) return s;
    while (lp <= ls) {
        const char *hit = memchr(s, *p, ls - lp + 1);
        if (!hit) return NULL;
        if (memcmp(hit + 1, p + 1, lp - 1) == 0) return hit;
        ls -= (size_t)(hit + 1 - s);
        s = hit + 1;
    }
    return NULL;
}

static int find_or_match(lua_State *L, bool find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
    struct pat_state ms;
    bool anchor;

    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || pat_is_plain(p, lp))) {
        const char *hit = find_plain(s + init, ls - init, p, lp);
        if (!hit) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (hit - s) + 1);
        lua_pushinteger(L, (lua_Integer)((size_t)(hit - s) + lp));
        return 2;
    }
    anchor = lp > 0 && *p == '^';
    start(L, &ms, s, ls, p, lp);
    for (const char *at = s + init;; at++) {
        const char *e = pat_match(&ms, at, p + anchor);
        check(L, &ms);
        if (e) {
            done(L, &ms);
            if (!find) return push_captures(L, &ms, at, e, true);
            lua_pushinteger(L, (at - s) + 1);
            lua_pushinteger(L, e - s);
            return push_captures(L, &ms, NULL, NULL, false) + 2;
        }
        if (anchor || at >= ms.src_end) break;
    }
    done(L, &ms);
    luaL_pushfail(L);
    return 1;
}

static int l_find(lua_State *L)
{
    return find_or_match(L, true);
}

static int l_match(lua_State *L)
{
    return find_or_match(L, false);
}

/* gmatch's iterator: upvalues subject, pattern, and {next offset, end of
 * the last match + 1 or 0} so an empty match right after a match is
 * skipped. '^' is an ordinary character here (it cannot anchor a loop). */
static int l_gmatch_next(lua_State *L)
{
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    size_t *pos = lua_touserdata(L, lua_upvalueindex(3));
    struct pat_state ms;

    start(L, &ms, s, ls, p, lp);
    for (const char *at = s + pos[0]; at <= ms.src_end; at++) {
        const char *e = pat_match(&ms, at, p);
        check(L, &ms);
        if (e && (size_t)(e - s) + 1 != pos[1]) {
            pos[0] = pos[1] = (size_t)(e - s);
            pos[1]++;
            done(L, &ms);
            return push_captures(L, &ms, at, e, true);
        }
    }
    pos[0] = ls + 1;
    done(L, &ms);
    return 0;
}

static int l_gmatch(lua_State *L)
{
    size_t ls;
    size_t *pos;
    luaL_checklstring(L, 1, &ls);
    luaL_checkstring(L, 2);
    lua_settop(L, 3);
    pos = lua_newuserdatauv(L, 2 * sizeof(size_t), 0);
    pos[0] = start_offset(luaL_optinteger(L, 3, 1), ls);
    if (pos[0] > ls) pos[0] = ls + 1;
    pos[1] = 0;
    lua_remove(L, 3);
    lua_pushcclosure(L, l_gmatch_next, 3);
    return 1;
}

/* Appends the replacement string (argument 3) with %0-%9 and %%. */
static void add_template(lua_State *L, luaL_Buffer *b, const struct pat_state *ms, const char *s,
                         const char *e)
{
    size_t len;
    const char *r = lua_tolstring(L, 3, &len), *end = r + len;
    while (r < end) {
        const char *pct = memchr(r, '%', (size_t)(end - r));
        if (!pct) {
            luaL_addlstring(b, r, (size_t)(end - r));
            return;
        }
        luaL_addlstring(b, r, (size_t)(pct - r));
        r = pct + 1;
        if (r < end && *r == '%') {
            luaL_addchar(b, '%');
        } else if (r < end && *r >= '0' && *r <= '9') {
            if (*r == '0') {
                luaL_addlstring(b, s, (size_t)(e - s));
            } else {
                push_capture(L, ms, *r - '1', s, e);
                luaL_tolstring(L, -1, NULL); /* a position capture is a number */
                lua_remove(L, -2);
                luaL_addvalue(b);
            }
        } else {
            luaL_error(L, "invalid use of '%%' in replacement string");
        }
        r++;
    }
}

/* Appends the replacement of match s..e; false when the match was kept
 * (the table or function gave false or nil). */
static bool add_replacement(lua_State *L, luaL_Buffer *b, const struct pat_state *ms, const char *s,
                            const char *e, int kind)
{
    if (kind == LUA_TFUNCTION) {
        int n;
        lua_pushvalue(L, 3);
        n = push_captures(L, ms, s, e, true);
        lua_call(L, n, 1);
    } else if (kind == LUA_TTABLE) {
        push_capture(L, ms, 0, s, e);
        lua_gettable(L, 3);
    } else {
        add_template(L, b, ms, s, e);
        return true;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return false;
    }
    if (!lua_isstring(L, -1))
        return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return true;
}

static int l_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    const char *at = s, *last = NULL;
    int kind = lua_type(L, 3);
    lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1), n = 0;
    bool anchor = lp > 0 && *p == '^', changed = false;
    struct pat_state ms;
    luaL_Buffer b;

    luaL_argexpected(L,
                     kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION ||
                         kind == LUA_TTABLE,
                     3, "string/function/table");
    luaL_buffinit(L, &b);
    start(L, &ms, s, ls, p, lp);
    while (n < max_n) {
        const char *e = pat_match(&ms, at, p + anchor);
        check(L, &ms);
        if (e && e != last) {
            n++;
            changed = add_replacement(L, &b, &ms, at, e, kind) || changed;
            at = last = e;
        } else if (at < ms.src_end) {
            luaL_addchar(&b, *at++);
        } else {
            break;
        }
        if (anchor) break;
    }
    done(L, &ms);
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, at, (size_t)(ms.src_end - at));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

void sandbox_open_patterns(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"find", l_find}, {"match", l_match}, {"gmatch", l_gmatch}, {"gsub", l_gsub}, {NULL, NULL}};
    lua_getglobal(L, LUA_STRLIBNAME);
    luaL_setfuncs(L, fns, 0);
    lua_pop(L, 1);
}
