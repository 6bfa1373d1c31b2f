/*
 * test_lua_compat.c - what the sandbox redefines for issue 14 against
 * stock Lua 5.4: string.find/match/gmatch/gsub (core/lua/lua_pattern.c) give
 * the same results for written cases and for thousands of generated
 * patterns, and a backtracking pattern stops within the call's budget;
 * coroutine.create/wrap/resume/close (core/lua/lua_coroutine.c) behave the same.
 */
#include <stdio.h>
#include <string.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua_host.h"

/* run(code, S, P) evaluates `return <code>` with S and P bound and gives
 * its results as text ("error" when it raised: messages may differ). */
static const char harness[] =
    "function run(code, S, P)\n"
    "  local f = load('local S, P = ... return ' .. code, '=case')\n"
    "  local t = table.pack(pcall(f, S, P))\n"
    "  if not t[1] then return 'error' end\n"
    "  local out = {}\n"
    "  for i = 2, t.n do out[#out + 1] = type(t[i]) .. ':' .. tostring(t[i]) end\n"
    "  return table.concat(out, ',')\n"
    "end\n";

struct pair {
    struct lua_budget budget;
    lua_State *sandbox, *stock;
};

static void pair_open(struct pair *p)
{
    struct sb_errbuf eb = {{0}};
    memset(p, 0, sizeof(*p));
    p->budget.mem_limit = 64 * 1024 * 1024;
    p->budget.instr_limit = 1000ULL * 1000 * 1000;
    p->budget.deadline_ms = 60000;
    p->sandbox = sandbox_new(&p->budget);
    assert_non_null(p->sandbox);
    assert_int_equal(sandbox_run(p->sandbox, harness, strlen(harness), "=harness", &eb), SB_OK);
    p->stock = luaL_newstate();
    luaL_openlibs(p->stock);
    assert_int_equal(luaL_dostring(p->stock, harness), LUA_OK);
}

static void pair_close(struct pair *p)
{
    lua_close(p->sandbox);
    lua_close(p->stock);
}

/* The result of code in the sandbox, in buf. */
static const char *run_sandbox(struct pair *p, const char *code, const char *s, const char *pat,
                               char *buf, size_t cap)
{
    struct sb_errbuf eb = {{0}};
    lua_getglobal(p->sandbox, "run");
    lua_pushstring(p->sandbox, code);
    lua_pushstring(p->sandbox, s);
    lua_pushstring(p->sandbox, pat);
    if (sandbox_call(p->sandbox, 3, 1, &eb)) fail_msg("%s: %s", code, eb.msg);
    snprintf(buf, cap, "%s", lua_tostring(p->sandbox, -1));
    lua_pop(p->sandbox, 1);
    return buf;
}

static const char *run_stock(struct pair *p, const char *code, const char *s, const char *pat,
                             char *buf, size_t cap)
{
    lua_getglobal(p->stock, "run");
    lua_pushstring(p->stock, code);
    lua_pushstring(p->stock, s);
    lua_pushstring(p->stock, pat);
    if (lua_pcall(p->stock, 3, 1, 0) != LUA_OK)
        fail_msg("%s: %s", code, lua_tostring(p->stock, -1));
    snprintf(buf, cap, "%s", lua_tostring(p->stock, -1));
    lua_pop(p->stock, 1);
    return buf;
}

static void same(struct pair *p, const char *code, const char *s, const char *pat)
{
    char mine[2048], theirs[2048];
    run_sandbox(p, code, s, pat, mine, sizeof(mine));
    run_stock(p, code, s, pat, theirs, sizeof(theirs));
    if (strcmp(mine, theirs) != 0)
        fail_msg("%s with S=[%s] P=[%s]: sandbox %s, stock %s", code, s, pat, mine, theirs);
}

/* Each function, as plugins call it. */
static const char *const uses[] = {
    "string.find(S, P)",
    "string.find(S, P, 3)",
    "string.find(S, P, -4)",
    "string.match(S, P)",
    "string.match(S, P, 2)",
    ("(function() local r = {} for a, b in string.gmatch(S, P) do"
     " r[#r + 1] = tostring(a) .. '|' .. tostring(b) end return table.concat(r, ';') end)()"),
    "string.gsub(S, P, '<%0>')",
    "string.gsub(S, P, '[%1]', 2)",
    "string.gsub(S, P, function(a, b) return a and tostring(a) .. '/' .. tostring(b) end)",
    "string.gsub(S, P, { a = 'A', ['1'] = false, b = 7 })",
};

static void test_written_cases_match_stock_lua(void **state)
{
    static const char *const cases[][2] = {
        {"hello world from Lua", "(%w+) (%w+)"},
        {"key = value", "^(%w+)%s*=%s*(%w+)$"},
        {"  trim me  ", "^%s*(.-)%s*$"},
        {"THE (quick) fox", "%((%a+)%)"},
        {"f(a(b)c) g()", "%b()"},
        {"THE (quick) fox", "%f[%a]%a+"},
        {"hello", "()ll()"},
        {"abcabc", "(a)(b)c%1%2"},
        {"x = 10, y = 20", "(%a)%s*=%s*(%d+)"},
        {"a.b.c", "%."},
        {"a.b.c", "."},
        {"[]]", "[]]"},
        {"a^b", "a^b"},
        {"a$b", "a$b"},
        {"price: $30", "%$(%d+)"},
        {"aaa", "a-b"},
        {"aaab", "a-b"},
        {"", ""},
        {"", "x*"},
        {"abc", ""},
        {"hello", "l+"},
        {"hello", "[^l]+"},
        {"2024-05-01", "(%d+)-(%d+)-(%d+)"},
        {"one two  three", "%S+"},
        {"UPPER lower 123", "[%u%d]+"},
        {"a,b,,c", "([^,]*)"},
        {"abc", "((a)(b))"},
        {"abc", "(a"},
        {"abc", "a)"},
        {"abc", "%"},
        {"abc", "[a"},
        {"abc", "%f"},
        {"abc", "%b"},
        {"abc", "%1"},
        {"abc", "a?b?c?d?"},
        {"track my order 12345", "order%s+(%d+)"},
        {"héllo wörld", "[\x80-\xff]+"},
    };
    struct pair p;
    (void)state;
    pair_open(&p);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (size_t u = 0; u < sizeof(uses) / sizeof(uses[0]); u++)
            same(&p, uses[u], cases[i][0], cases[i][1]);
    /* plain find, and replacement edge cases */
    same(&p, "string.find(S, P, 1, true)", "a.b(c", "(c");
    same(&p, "string.find(S, P, 10)", "abc", "b");
    same(&p, "string.gsub(S, P, '%2')", "abc", "b");
    same(&p, "string.gsub(S, P, '100%')", "abc", "b");
    same(&p, "string.gsub(S, P, {})", "abc", "b");
    same(&p, "string.gsub(S, P, function() return {} end)", "abc", "b");
    same(&p, "string.gsub(S, P, '%1')", "abc", "()b");
    same(&p, "string.gsub(S, P, '-', 0)", "abc", "b");
    same(&p, "(S):gsub(P, '%%')", "a b", "%s");
    same(&p, "(S):match(P)", "  x  ", "^%s*(.-)%s*$");
    /* argument errors name the function, as Lua's do */
    same(&p, "select(2, pcall(string.find))", "", "");
    same(&p, "select(2, pcall(string.gsub, 'x', 'x', true))", "", "");
    same(&p, "select(2, pcall(function() return string.rep() end))", "", "");
    same(&p, "select(2, pcall(function() return ('x'):rep({}) end))", "", "");
    same(&p, "select(2, pcall(table.concat, {{}}))", "", "");
    same(&p, "select(2, pcall(function() return utf8.char(-1) end))", "", "");
    same(&p, "select(2, pcall(function() return string.match() end))", "", "");
    pair_close(&p);
}

static uint32_t next_random(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

/* Thousands of small random patterns over a small alphabet, so every
 * item meets every other: any difference from stock Lua fails. */
static void test_generated_patterns_match_stock_lua(void **state)
{
    static const char *const items[] = {
        "a", "b",  ".",      "%a", "%d", "%s", "[ab]", "[^a]", "[a-c]", "*",      "+",
        "-", "?",  "(",      ")",  "()", "%1", "^",    "$",    "%b()",  "%f[%w]", "%%",
        "x", "1",  "[%d]",   "%W", "(a", "b)", "[]a]", " ",    "%b",    "%f[",    "[a",
        "%", "%2", "[^%s]-", "%.", "((", "))", "[a-]", "%z"};
    static const char subj_chars[] = "ab1 ().x";
    struct pair p;
    uint32_t seed = 14;
    (void)state;
    pair_open(&p);
    for (int n = 0; n < 20000; n++) {
        char pat[64] = "", subj[24];
        int items_n = 1 + (int)(next_random(&seed) % 6);
        int len = (int)(next_random(&seed) % 16);
        for (int i = 0; i < items_n; i++) {
            const char *it = items[next_random(&seed) % (sizeof(items) / sizeof(items[0]))];
            if (strlen(pat) + strlen(it) < sizeof(pat)) strncat(pat, it, sizeof(pat) - 1);
        }
        for (int i = 0; i < len; i++)
            subj[i] = subj_chars[next_random(&seed) % (sizeof(subj_chars) - 1)];
        subj[len] = '\0';
        same(&p, uses[(size_t)n % (sizeof(uses) / sizeof(uses[0]))], subj, pat);
    }
    pair_close(&p);
}

/* Issue 14: stock Lua spends minutes on this one; here it is stopped by
 * the call's instruction budget (deadline set far away, so the outcome
 * does not depend on the machine's speed). */
static void test_backtracking_pattern_stops_within_the_budget(void **state)
{
    static const char code[] = "local ok, err = pcall(string.find, ('a'):rep(300), '.-.-.-.-b')\n"
                               "return ok, err\n";
    struct lua_budget b = {
        .mem_limit = 8 * 1024 * 1024, .instr_limit = 1000 * 1000, .deadline_ms = 600000};
    struct sb_errbuf eb = {{0}};
    lua_State *L = sandbox_new(&b);
    (void)state;
    assert_non_null(L);
    assert_int_equal(sandbox_run(L, code, strlen(code), "=bomb", &eb), SB_ERR_TIMEOUT);
    assert_non_null(strstr(eb.msg, "budget"));
    /* it charged about its budget's worth of steps, not the pattern's */
    assert_true(b.instr_used >= b.instr_limit);
    assert_true(b.instr_used < 2 * b.instr_limit);
    lua_close(L);
}

/* The coroutine library, S and P unused. The one documented difference
 * (a failed coroutine's <close> variables close when it fails) is not
 * visible in results. */
static void test_coroutines_behave_like_stock_lua(void **state)
{
    static const char *const cases[] = {
        "(function() local f = coroutine.wrap(function() error('boom') end)"
        " local a, b = pcall(f) local c, d = pcall(f) return a, b, c, d end)()",
        "(function() local g = coroutine.wrap(function(a) local b = coroutine.yield(a + 1)"
        " return b * 2 end) return g(1), g(5), pcall(g) end)()",
        "(function() local h; h = coroutine.wrap(function() return h() end) return pcall(h) end)()",
        "(function() local co = coroutine.create(function(...) local x, y = coroutine.yield(...)"
        " return x + y end) local r = {coroutine.resume(co, 1, 2)}"
        " local s = {coroutine.resume(co, 3, 4)}"
        " return #r, r[2], r[3], s[2], coroutine.status(co), coroutine.resume(co) end)()",
        "(function() local co = coroutine.create(function() error({code = 7}) end)"
        " local ok, e = coroutine.resume(co)"
        " local st = coroutine.status(co) local c1, c2 = coroutine.close(co)"
        " return ok, e.code, st, c1, c2 == e end)()",
        "(function() local co = coroutine.create(function() local t <close> = setmetatable({},"
        " {__close = function() error('in close') end}) coroutine.yield(1) end)"
        " coroutine.resume(co) return coroutine.close(co) end)()",
        "(function() local co = coroutine.create(function() return coroutine.running() end)"
        " local ok, th, main = coroutine.resume(co) return ok, th == co, main,"
        " coroutine.isyieldable() end)()",
        "select('#', coroutine.wrap(function(...) return ... end)(1, nil, 3, nil))",
        "pcall(coroutine.create, 42)",
        "pcall(coroutine.wrap(function() local x = nil; return x.y end))",
        "coroutine.resume(coroutine.create(function() return pcall(error, 'e') end))",
    };
    struct pair p;
    (void)state;
    pair_open(&p);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        same(&p, cases[i], "", "");
    pair_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_written_cases_match_stock_lua),
        cmocka_unit_test(test_generated_patterns_match_stock_lua),
        cmocka_unit_test(test_backtracking_pattern_stops_within_the_budget),
        cmocka_unit_test(test_coroutines_behave_like_stock_lua),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
